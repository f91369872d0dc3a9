/*
 * ngsi/q_parse.c: the text of a q or mq parameter into a q_expr.
 *
 * Clients compare Orion's 400 descriptions literally, so this follows
 * Orion's StringFilter step by step rather than a cleaner grammar: the query
 * is split at every ';' (quotes do not protect it), a trailing ';' is
 * dropped, the first operator found outside quotes wins, a right-hand side
 * containing ".." is a range before anything else (quotes do not protect
 * that either), then a ',' outside quotes makes a list, and a single value
 * is typed in the order quoted string, number (strtod), ISO 8601 date,
 * true/false, null, string. Errors are checked in Orion's order, statement
 * by statement, and the mq name checks come after every statement parsed,
 * as Orion does them while building its database filter.
 *
 * Two cases where Orion reads outside its buffer get a defined answer: a
 * lone "'" is a non-terminated forced string, and a query of only
 * whitespace is "empty q-item (only whitespace)".
 *
 * Patterns after ~= are compiled as POSIX extended regexes, as Orion
 * validates them, but in the C.UTF-8 locale (through uselocale, which
 * touches only the calling thread) so that they work on characters.
 */
#include "q_private.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TXT_EMPTY_Q        "empty q"
#define TXT_EMPTY_ITEM     "empty q-item"
#define TXT_ONLY_WS        "empty q-item (only whitespace)"
#define TXT_EMPTY_LHS      "empty left-hand-side in q-item"
#define TXT_EMPTY_RHS      "empty right-hand-side in q-item"
#define TXT_BAD_LHS_Q      "invalid character found in URI param /q/"
#define TXT_BAD_LHS_MQ     "invalid character found in URI param /mq/"
#define TXT_FORBIDDEN      "forbidden characters in String Filter"
#define TXT_NO_MD_UNARY    "no metadata in right-hand-side of q-item"
#define TXT_NONTERMINATED  "non-terminated forced string"
#define TXT_QUOTE_IN_FORCE "quote in forced string"
#define TXT_RANGE_OPS      "ranges only valid for equal and not equal ops"
#define TXT_RANGE_EMPTY    "empty item in range"
#define TXT_RANGE_FROM     "invalid data type for /range-from/"
#define TXT_RANGE_TO       "invalid data type for /range-to/"
#define TXT_RANGE_MIXED    "invalid range: types mixed"
#define TXT_LIST_OPS       "lists only valid for equal and not equal ops"
#define TXT_LIST_EMPTY     "empty item in list"
#define TXT_LIST_TYPE      "invalid JSON value type in list"
#define TXT_MQ_NO_ATTR     "no attribute name - not valid for metadata filters"
#define TXT_MQ_NO_MD       "no metadata name - not valid for metadata filters"

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p == NULL)
        abort();
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL)
        abort();
    return p;
}

static int fail(ngsi_error *err, const char *text)
{
    return ngsi_bad_request(err, "%s", text);
}

/* Orion strips only space, tab and newline. */
static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

static char *strip(char *s)
{
    while (is_ws(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_ws(s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Orion's forbidden characters (<>"'=;()), except the one given. */
static bool has_forbidden(const char *s, char except)
{
    for (; *s; s++)
        if (*s != except && ngsi_forbidden_char(*s))
            return true;
    return false;
}

/* In a unary statement a quote may only open or close a token: first or
 * last, or next to a dot. */
static bool misplaced_quote(const char *s)
{
    for (size_t i = 1; s[0] != '\0' && s[i] != '\0'; i++)
        if (s[i] == '\'' && s[i - 1] != '.' && s[i + 1] != '.' && s[i + 1] != '\0')
            return true;
    return false;
}

/* --------------------------------------------------------------- operator */

/* The first operator outside quotes; a leading '!' makes the statement a
 * NotExists test. Cuts s at the operator; *lhs and *rhs point into s (both
 * at the name for unary statements). */
static enum q_op find_op(char *s, char **lhs, char **rhs)
{
    if (*s == '!') {
        *lhs = *rhs = s + 1;
        return Q_NOT_EXISTS;
    }
    bool quoted = false;
    for (char *p = s; *p; p++) {
        enum q_op op;
        size_t len = 2;
        if (*p == '\'') {
            quoted = !quoted;
            continue;
        }
        if (quoted)
            continue;
        if (p[1] == '=') {
            switch (*p) {
            case '=':
                op = Q_EQ;
                break;
            case '~':
                op = Q_MATCH;
                break;
            case '!':
                op = Q_NE;
                break;
            case '>':
                op = Q_GE;
                break;
            case '<':
                op = Q_LE;
                break;
            default:
                continue;
            }
        } else if (*p == '<' || *p == '>' || *p == ':') {
            op = *p == '<' ? Q_LT : *p == '>' ? Q_GT : Q_EQ;
            len = 1;
        } else {
            continue;
        }
        *p = '\0';
        *lhs = s;
        *rhs = p + len;
        return op;
    }
    *lhs = *rhs = s;
    return Q_EXISTS;
}

/* --------------------------------------------------------- left-hand side */

/* Tokens at dots outside quotes, quotes dropped: "'a.b'.c" is "a.b", "c".
 * The first is the attribute; with mq the second is the metadata name (""
 * when missing); the rest is the path into the value. */
static void split_lhs(const char *lhs, bool is_mq, q_item *it)
{
    size_t len = strlen(lhs), ntok = 1, w = 0;
    char *buf = xcalloc(len + 1, 1);
    bool quoted = false;
    for (const char *p = lhs; *p; p++) {
        if (*p == '\'')
            quoted = !quoted;
        else if (*p == '.' && !quoted)
            buf[w++] = '\0', ntok++;
        else
            buf[w++] = *p;
    }
    const char *tok = buf;
    size_t first_path = is_mq ? 2 : 1;
    it->attr = xstrdup(tok);
    it->md = is_mq ? xstrdup(ntok > 1 ? tok + strlen(tok) + 1 : "") : NULL;
    it->npath = ntok > first_path ? ntok - first_path : 0;
    it->path = xcalloc(it->npath + 1, sizeof *it->path);
    for (size_t i = 0; i < ntok; i++, tok += strlen(tok) + 1)
        if (i >= first_path)
            it->path[i - first_path] = xstrdup(tok);
    free(buf);
}

/* Builtins win over attributes and metadata of the same name, but only in
 * binary statements on q (the entity's dates) and in mq without a path (the
 * attribute's dates). `q=dateCreated` tests for a user attribute, as in
 * Orion; `q=dateExpires` tests for an expiry, which Orion keeps as an
 * attribute and the store keeps as the entity's expDate. */
static void resolve_target(q_item *it, const char *lhs, bool is_mq)
{
    bool unary = it->op == Q_EXISTS || it->op == Q_NOT_EXISTS;
    it->target = is_mq ? Q_MD : Q_ATTR;
    if (is_mq) {
        if (it->npath == 0 && strcmp(it->md, "dateCreated") == 0)
            it->target = Q_ATTR_CREATED;
        else if (it->npath == 0 && strcmp(it->md, "dateModified") == 0)
            it->target = Q_ATTR_MODIFIED;
        return;
    }
    if (strcmp(lhs, "dateExpires") == 0)
        it->target = Q_ENT_EXPIRES;
    else if (!unary && strcmp(lhs, "dateCreated") == 0)
        it->target = Q_ENT_CREATED;
    else if (!unary && strcmp(lhs, "dateModified") == 0)
        it->target = Q_ENT_MODIFIED;
}

/* -------------------------------------------------------- right-hand side */

static bool parse_number(const char *s, double *out)
{
    char *rest;
    errno = 0;
    double d = strtod(s, &rest);
    if (rest == s || errno == ERANGE)
        return false;
    while (isspace((unsigned char)*rest))
        rest++;
    if (*rest != '\0')
        return false;
    *out = d;
    return true;
}

/* One value, typed as Orion types it. Modifies s. Returns NULL or the error
 * text. */
static const char *value_get(char *s, enum q_op op, q_value *v)
{
    memset(v, 0, sizeof *v);
    if (*s == '\'') {
        size_t n = strlen(++s);
        if (n == 0 || s[n - 1] != '\'')
            return TXT_NONTERMINATED;
        s[n - 1] = '\0';
        if (strchr(s, '\'') != NULL)
            return TXT_QUOTE_IN_FORCE;
        v->type = Q_STRING;
    } else if (parse_number(s, &v->num)) {
        v->type = Q_NUMBER;
    } else if (ngsi_datetime_parse(s, &v->num) == 0) {
        v->type = Q_DATE;
    } else if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
        v->type = Q_BOOL;
        v->b = s[0] == 't';
    } else if (strcmp(s, "null") == 0) {
        v->type = Q_NULL;
    } else {
        v->type = Q_STRING;
    }
    if (v->type != Q_STRING)
        return NULL;
    if (op != Q_MATCH && has_forbidden(s, '\0'))
        return TXT_FORBIDDEN;
    v->str = xstrdup(s);
    v->len = strlen(s);
    return NULL;
}

static bool orderable(enum q_vtype t)
{
    return t == Q_STRING || t == Q_NUMBER || t == Q_DATE;
}

static const char *type_name(enum q_vtype t)
{
    static const char *const names[] = {"String", "Number", "Date", "Bool", "Null"};
    return names[t];
}

static const char *op_name(enum q_op op)
{
    static const char *const names[] = {"Exists",   "NotExists",       "Equals",
                                        "Differs",  "GreaterThan",     "GreaterThanOrEqual",
                                        "LessThan", "LessThanOrEqual", "MatchPattern"};
    return names[op];
}

static int parse_single(char *s, q_item *it, ngsi_error *err)
{
    it->rhs = Q_RHS_VALUE;
    it->vals = xcalloc(1, sizeof *it->vals);
    it->nvals = 1;
    const char *e = value_get(s, it->op, &it->vals[0]);
    if (e != NULL)
        return fail(err, e);
    bool ordering = it->op == Q_GT || it->op == Q_GE || it->op == Q_LT || it->op == Q_LE;
    if (ordering && !orderable(it->vals[0].type))
        return ngsi_bad_request(err, "values of type /%s/ not supported for operator /%s/",
                                type_name(it->vals[0].type), op_name(it->op));
    return 0;
}

static int parse_range(char *s, q_item *it, ngsi_error *err)
{
    if (it->op != Q_EQ && it->op != Q_NE)
        return fail(err, TXT_RANGE_OPS);
    char *dots = strstr(s, "..");
    *dots = '\0';
    char *from = strip(s), *to = strip(dots + 2);
    if (*from == '\0' || *to == '\0')
        return fail(err, TXT_RANGE_EMPTY);
    it->rhs = Q_RHS_RANGE;
    it->vals = xcalloc(2, sizeof *it->vals);
    it->nvals = 2;
    const char *e = value_get(from, it->op, &it->vals[0]);
    if (e == NULL && !orderable(it->vals[0].type))
        e = TXT_RANGE_FROM;
    if (e == NULL)
        e = value_get(to, it->op, &it->vals[1]);
    if (e == NULL && !orderable(it->vals[1].type))
        e = TXT_RANGE_TO;
    if (e == NULL && it->vals[0].type != it->vals[1].type)
        e = TXT_RANGE_MIXED;
    return e == NULL ? 0 : fail(err, e);
}

static const char *list_add(char *s, q_item *it, size_t *cap)
{
    s = strip(s);
    if (*s == '\0')
        return TXT_LIST_EMPTY;
    if (it->nvals == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        it->vals = realloc(it->vals, *cap * sizeof *it->vals);
        if (it->vals == NULL)
            abort();
    }
    q_value *v = &it->vals[it->nvals++];
    const char *e = value_get(s, it->op, v);
    if (e != NULL)
        return e;
    if (!orderable(v->type) || v->type != it->vals[0].type)
        return TXT_LIST_TYPE;
    return NULL;
}

static int parse_list(char *s, q_item *it, ngsi_error *err)
{
    if (it->op != Q_EQ && it->op != Q_NE)
        return fail(err, TXT_LIST_OPS);
    it->rhs = Q_RHS_LIST;
    size_t cap = 0;
    char *item = s, *p = s;
    bool quoted = false;
    const char *e = NULL;
    while (*p != '\0' && e == NULL) {
        if (*p == '\'')
            quoted = !quoted;
        if (*p != ',' || quoted) {
            p++;
            continue;
        }
        *p++ = '\0';
        e = list_add(item, it, &cap);
        item = p;
        if (e == NULL && *item == '\0')
            e = TXT_LIST_EMPTY;
    }
    if (e == NULL && item != p)
        e = list_add(item, it, &cap);
    return e == NULL ? 0 : fail(err, e);
}

static int parse_regex(char *s, q_expr *e, q_item *it, ngsi_error *err)
{
    if (has_forbidden(s, '\0'))
        return fail(err, TXT_FORBIDDEN);
    if (e->utf8 == (locale_t)0)
        e->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    locale_t old = e->utf8 ? uselocale(e->utf8) : (locale_t)0;
    /* REG_NOSUB: only whether it matches is asked, never where. */
    int rc = regcomp(&it->re, s, REG_EXTENDED | REG_NOSUB);
    if (e->utf8)
        uselocale(old);
    if (rc != 0)
        return ngsi_bad_request(err, "error compiling filter regex: '%s'", s);
    it->pattern = xstrdup(s);
    it->rhs = Q_RHS_REGEX;
    return 0;
}

/* ---------------------------------------------------------------- statement */

static int parse_unary(const char *rhs, bool is_mq, q_item *it, ngsi_error *err)
{
    if (misplaced_quote(rhs))
        return fail(err, TXT_FORBIDDEN);
    if (is_mq && it->md[0] == '\0')
        return fail(err, TXT_NO_MD_UNARY);
    it->rhs = Q_RHS_NONE;
    return 0;
}

/* One statement, s stripped and not empty. */
static int parse_item(char *s, q_expr *e, q_item *it, ngsi_error *err)
{
    bool is_mq = e->is_mq;
    char *lhs, *rhs;
    it->op = find_op(s, &lhs, &rhs);
    lhs = strip(lhs);
    rhs = strip(rhs);
    bool unary = it->op == Q_EXISTS || it->op == Q_NOT_EXISTS;
    if (*lhs == '\0' && !unary)
        return fail(err, TXT_EMPTY_LHS);
    if (has_forbidden(lhs, '\''))
        return fail(err, is_mq ? TXT_BAD_LHS_MQ : TXT_BAD_LHS_Q);
    split_lhs(lhs, is_mq, it);
    resolve_target(it, lhs, is_mq);
    if (*rhs == '\0')
        return fail(err, TXT_EMPTY_RHS);
    if (unary)
        return parse_unary(rhs, is_mq, it, err);
    if (it->op == Q_MATCH)
        return parse_regex(rhs, e, it, err);
    if (strstr(rhs, "..") != NULL)
        return parse_range(rhs, it, err);
    if (strchr(rhs, ',') != NULL)
        return parse_list(rhs, it, err);
    return parse_single(rhs, it, err);
}

/* Orion checks mq names only once every statement has parsed. */
static int check_mq_names(const q_expr *e, ngsi_error *err)
{
    for (size_t i = 0; i < e->n; i++) {
        if (e->items[i].attr[0] == '\0')
            return fail(err, TXT_MQ_NO_ATTR);
        if (e->items[i].md[0] == '\0')
            return fail(err, TXT_MQ_NO_MD);
    }
    return 0;
}

/* Split at ';' as strtok does (runs of ';' separate, a leading one is
 * skipped) and parse each statement into e. */
static int parse_items(char *text, q_expr *e, ngsi_error *err)
{
    size_t cap = 0;
    char *save = NULL;
    for (char *tok = strtok_r(text, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        char *s = strip(tok);
        if (*s == '\0')
            return fail(err, TXT_ONLY_WS);
        if (e->n == cap) {
            cap = cap ? cap * 2 : 4;
            e->items = realloc(e->items, cap * sizeof *e->items);
            if (e->items == NULL)
                abort();
        }
        q_item *it = &e->items[e->n++];
        memset(it, 0, sizeof *it);
        if (parse_item(s, e, it, err) < 0)
            return -1;
    }
    return e->n == 0 ? fail(err, TXT_EMPTY_Q) : 0;
}

q_expr *q_parse(const char *text, bool is_mq, ngsi_error *err)
{
    if (text[0] == '\0' || strcmp(text, ";") == 0) {
        fail(err, TXT_EMPTY_Q);
        return NULL;
    }
    if (strstr(text, ";;") != NULL) {
        fail(err, TXT_EMPTY_ITEM);
        return NULL;
    }
    char *copy = xstrdup(text);
    size_t n = strlen(copy);
    if (copy[n - 1] == ';')
        copy[--n] = '\0';
    char *s = strip(copy);
    q_expr *e = xcalloc(1, sizeof *e);
    e->is_mq = is_mq;
    int rc = *s != '\0' && s[strlen(s) - 1] == ';' ? fail(err, TXT_EMPTY_ITEM)
                                                   : parse_items(copy, e, err);
    if (rc == 0 && is_mq)
        rc = check_mq_names(e, err);
    free(copy);
    if (rc < 0) {
        q_free(e);
        return NULL;
    }
    return e;
}

static void item_clear(q_item *it)
{
    free(it->attr);
    free(it->md);
    for (size_t i = 0; i < it->npath; i++)
        free(it->path[i]);
    free(it->path);
    for (size_t i = 0; i < it->nvals; i++)
        free(it->vals[i].str);
    free(it->vals);
    if (it->pattern != NULL)
        regfree(&it->re);
    free(it->pattern);
}

void q_free(q_expr *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->n; i++)
        item_clear(&e->items[i]);
    free(e->items);
    if (e->utf8 != (locale_t)0)
        freelocale(e->utf8);
    free(e);
}
