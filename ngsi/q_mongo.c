/*
 * ngsi/q_mongo.c: a q/mq expression as a MongoDB filter on Orion's layout.
 *
 * The filter must never be narrower than q_match, and it is "exact" only
 * when it is equal to it for every document the store can hold, so that the
 * broker can leave count, offset and limit to the database. Each statement
 * becomes one element of a "$and" array (a field may be tested twice, and a
 * document with a repeated key is read differently by different servers):
 *   - exact: the condition Orion itself sends (attrNames for existence,
 *     $eq/$in/$gte+$lte/$gt.../$type:10/$regex on attrs.<A>.value[.path]),
 *     whose meaning q_eval.c reproduces, except that negations are spelled
 *     with $nor (see push_field);
 *   - wide: only "the attribute exists" (attrNames), which every binary
 *     statement implies, when the statement cannot be said exactly;
 *   - nothing, for a negative test that cannot be said exactly.
 * What cannot be said exactly, and why:
 *   - a path token that MongoDB cannot address or reads differently: empty,
 *     starting with '$', holding a '.' (a quoted token; value keys are
 *     stored unencoded), or numeric (MongoDB also reads it as an array
 *     position, in ways servers differ on);
 *   - text that is not valid UTF-8 (the server refuses it) and NaN;
 *   - ordering tests on strings holding characters from U+E000 up: servers
 *     written in Java compare UTF-16 units, which orders those characters
 *     differently from UTF-8 bytes (MongoDB, and q_eval.c);
 *   - regular expressions outside a subset on which POSIX ERE (q_eval.c),
 *     PCRE (MongoDB) and Java (mongo-java-server) agree (translate_regex),
 *     or any regex when the C.UTF-8 locale is missing;
 *   - dateExpires, stored as a BSON date in milliseconds while q_eval.c
 *     compares seconds: only its existence is pushed.
 * It also relies on what the store writes: every attribute has its name in
 * attrNames and a value field, every metadata item a value field, numbers
 * are doubles and DateTime values numbers of seconds.
 */
#include "q_private.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Repetition counts above this are not pushed: POSIX only promises 255
 * (RE_DUP_MAX) and every engine accepts that much. */
#define Q_REGEX_REPEAT_MAX 255
/* $type code of null in BSON. */
#define BSON_TYPE_CODE_NULL 10

/* The "$and" array being built. */
typedef struct conds {
    bson_t arr;
    uint32_t n;
} conds;

static void cond_begin(conds *c, bson_t *child)
{
    char idx[16];
    const char *key;
    bson_uint32_to_string(c->n++, &key, idx, sizeof idx);
    bson_append_document_begin(&c->arr, key, -1, child);
}

static bool valid_utf8(const char *s, size_t len)
{
    return bson_utf8_validate(s, len, false);
}

/* ------------------------------------------------------------ field paths */

/* An attribute or metadata name as a path component: Orion's encoding of
 * '.' as '='. */
static bool put_name(ngsi_buf *b, const char *name)
{
    if (name[0] == '\0' || name[0] == '$' || !valid_utf8(name, strlen(name)))
        return false;
    for (const char *p = name; *p; p++)
        ngsi_buf_append(b, *p == '.' ? "=" : p, 1);
    return true;
}

/* A token of a path into a value: keys inside values are stored as they
 * are, so the token must be addressable as it is. */
static bool put_token(ngsi_buf *b, const char *tok)
{
    size_t n = strlen(tok);
    if (n == 0 || tok[0] == '$' || strchr(tok, '.') != NULL || !valid_utf8(tok, n) ||
        strspn(tok, "0123456789") == n)
        return false;
    ngsi_buf_puts(b, ".");
    ngsi_buf_puts(b, tok);
    return true;
}

static bool put_value_path(ngsi_buf *b, const q_item *it)
{
    ngsi_buf_puts(b, ".value");
    for (size_t i = 0; i < it->npath; i++)
        if (!put_token(b, it->path[i]))
            return false;
    return true;
}

/* The field a binary statement compares, or false when it cannot be
 * addressed exactly. */
static bool value_field(const q_item *it, ngsi_buf *b)
{
    switch (it->target) {
    case Q_ENT_CREATED:
        ngsi_buf_puts(b, "creDate");
        return true;
    case Q_ENT_MODIFIED:
        ngsi_buf_puts(b, "modDate");
        return true;
    case Q_ENT_EXPIRES:
        return false;
    default:
        break;
    }
    ngsi_buf_puts(b, "attrs.");
    if (!put_name(b, it->attr))
        return false;
    switch (it->target) {
    case Q_ATTR_CREATED:
        ngsi_buf_puts(b, ".creDate");
        return true;
    case Q_ATTR_MODIFIED:
        ngsi_buf_puts(b, ".modDate");
        return true;
    case Q_MD:
        ngsi_buf_puts(b, ".md.");
        return put_name(b, it->md) && put_value_path(b, it);
    default:
        return put_value_path(b, it);
    }
}

/* The field whose existence a unary statement with a path (or on metadata)
 * tests. A metadata item is tested as a whole, so that one stored without a
 * value still exists, as q_eval.c sees it. */
static bool exists_field(const q_item *it, ngsi_buf *b)
{
    ngsi_buf_puts(b, "attrs.");
    if (!put_name(b, it->attr))
        return false;
    if (it->target != Q_MD)
        return put_value_path(b, it);
    ngsi_buf_puts(b, ".md.");
    if (!put_name(b, it->md))
        return false;
    return it->npath == 0 || put_value_path(b, it);
}

/* ------------------------------------------------------------- conditions */

/* What goes inside {field: {...}}. */
typedef void (*ops_fn)(bson_t *ops, const void *arg);

/* One condition {field: {ops}}, or {"$nor": [{field: {ops}}]} for its
 * negation. Negations are spelled with $nor rather than $ne, $nin, $not or
 * $exists:false because servers disagree on those when the path crosses an
 * array (mongo-java-server reads {"a.b": {$exists: false}} per element, so
 * {a: [{b: 1}, {c: 1}]} passes), while $nor is plain negation everywhere. */
static void push_field(conds *c, const char *field, bool negate, ops_fn fill, const void *arg)
{
    bson_t cond, nor, alt, ops, *parent = &cond;
    cond_begin(c, &cond);
    if (negate) {
        bson_append_array_begin(&cond, "$nor", -1, &nor);
        bson_append_document_begin(&nor, "0", -1, &alt);
        parent = &alt;
    }
    bson_append_document_begin(parent, field, -1, &ops);
    fill(&ops, arg);
    bson_append_document_end(parent, &ops);
    if (negate) {
        bson_append_document_end(&nor, &alt);
        bson_append_array_end(&cond, &nor);
    }
    bson_append_document_end(&c->arr, &cond);
}

static void fill_exists(bson_t *ops, const void *arg)
{
    (void)arg;
    BSON_APPEND_BOOL(ops, "$exists", true);
}

/* attrNames holds the names as they are (not encoded); an array of strings
 * at the top of the document, where $ne means "does not contain". */
static bool push_attr_names(conds *c, const char *attr, bool want)
{
    bson_t cond, ne;
    if (!valid_utf8(attr, strlen(attr)))
        return false;
    cond_begin(c, &cond);
    if (want) {
        BSON_APPEND_UTF8(&cond, "attrNames", attr);
    } else {
        bson_append_document_begin(&cond, "attrNames", -1, &ne);
        BSON_APPEND_UTF8(&ne, "$ne", attr);
        bson_append_document_end(&cond, &ne);
    }
    bson_append_document_end(&c->arr, &cond);
    return true;
}

static void append_value(bson_t *b, const char *key, const q_value *v)
{
    switch (v->type) {
    case Q_NUMBER:
    case Q_DATE:
        bson_append_double(b, key, -1, v->num);
        break;
    case Q_STRING:
        bson_append_utf8(b, key, -1, v->str, (int)v->len);
        break;
    case Q_BOOL:
        bson_append_bool(b, key, -1, v->b);
        break;
    case Q_NULL:
        bson_append_null(b, key, -1);
        break;
    }
}

/* The == test: $eq (or $type null), $in, or $gte with $lte. */
static void fill_equals(bson_t *ops, const void *arg)
{
    const q_item *it = arg;
    bson_t arr;
    char idx[16];
    const char *key;
    if (it->rhs == Q_RHS_LIST) {
        bson_append_array_begin(ops, "$in", -1, &arr);
        for (size_t i = 0; i < it->nvals; i++) {
            bson_uint32_to_string((uint32_t)i, &key, idx, sizeof idx);
            append_value(&arr, key, &it->vals[i]);
        }
        bson_append_array_end(ops, &arr);
    } else if (it->rhs == Q_RHS_RANGE) {
        append_value(ops, "$gte", &it->vals[0]);
        append_value(ops, "$lte", &it->vals[1]);
    } else if (it->vals[0].type == Q_NULL) {
        BSON_APPEND_INT32(ops, "$type", BSON_TYPE_CODE_NULL);
    } else {
        append_value(ops, "$eq", &it->vals[0]);
    }
}

static void fill_order(bson_t *ops, const void *arg)
{
    const q_item *it = arg;
    const char *op = it->op == Q_GT   ? "$gt"
                     : it->op == Q_GE ? "$gte"
                     : it->op == Q_LT ? "$lt"
                                      : "$lte";
    append_value(ops, op, &it->vals[0]);
}

static void fill_regex(bson_t *ops, const void *arg)
{
    BSON_APPEND_UTF8(ops, "$regex", (const char *)arg);
    /* POSIX '.' matches a newline too. */
    BSON_APPEND_UTF8(ops, "$options", "s");
}

/* != is "exists and not ==", as two conditions. */
static void push_binary(conds *c, const char *field, const q_item *it, const char *regex)
{
    switch (it->op) {
    case Q_EQ:
        push_field(c, field, false, fill_equals, it);
        break;
    case Q_NE:
        push_field(c, field, false, fill_exists, NULL);
        push_field(c, field, true, fill_equals, it);
        break;
    case Q_MATCH:
        push_field(c, field, false, fill_regex, regex);
        break;
    default:
        push_field(c, field, false, fill_order, it);
        break;
    }
}

/* ---------------------------------------------------------- pushable text */

/* Characters from U+E000 up: lead bytes EE, EF (to U+FFFF) and F0..F4. */
static bool has_high_chars(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0xEE)
            return true;
    return false;
}

static bool value_pushable(const q_value *v, bool ordered)
{
    switch (v->type) {
    case Q_NUMBER:
    case Q_DATE:
        return !isnan(v->num);
    case Q_STRING:
        return valid_utf8(v->str, v->len) && !(ordered && has_high_chars(v->str, v->len));
    default:
        return true;
    }
}

static bool rhs_pushable(const q_item *it)
{
    bool ordered = it->rhs == Q_RHS_RANGE || (it->op != Q_EQ && it->op != Q_NE);
    for (size_t i = 0; i < it->nvals; i++)
        if (!value_pushable(&it->vals[i], ordered))
            return false;
    return true;
}

/* ------------------------------------------------------ regex translation */

/* A bracket expression of ASCII members and alphanumeric ranges, with '-'
 * only first or last: the part of the syntax all three engines read the
 * same (no backslashes, nested '[' classes, '&&', or leading ']'). Returns
 * the end, or NULL. */
static const char *scan_class(const char *p)
{
    const char *q = p + 1;
    q += *q == '^';
    if (*q == ']')
        return NULL;
    for (bool first = true; *q != ']'; first = false) {
        unsigned char ch = (unsigned char)*q;
        if (ch < 0x20 || ch >= 0x7f || ch == '\\' || ch == '[' || ch == '&')
            return NULL;
        if (ch == '-' && !first && q[1] != ']')
            return NULL;
        if (ch != '-' && q[1] == '-' && q[2] != ']') {
            if (!isalnum(ch) || !isalnum((unsigned char)q[2]) || (unsigned char)q[2] < ch)
                return NULL;
            q += 2;
        }
        q++;
    }
    return q + 1;
}

/* "{n}", "{n,}" or "{n,m}" with small counts; returns the end or NULL. */
static const char *scan_interval(const char *p)
{
    char *end;
    if (!isdigit((unsigned char)p[1]))
        return NULL;
    unsigned long lo = strtoul(p + 1, &end, 10), hi = lo;
    if (*end == ',') {
        end++;
        hi = isdigit((unsigned char)*end) ? strtoul(end, &end, 10) : lo;
    }
    if (*end != '}' || lo > Q_REGEX_REPEAT_MAX || hi > Q_REGEX_REPEAT_MAX || hi < lo)
        return NULL;
    return end + 1;
}

/* The end of the pattern element at s, or NULL when it is outside the
 * common subset. *atom says whether a quantifier may follow. */
static const char *scan_elem(const char *s, bool *atom, bool branch_used)
{
    unsigned char ch = (unsigned char)*s;
    bool was_atom = *atom;
    *atom = false;
    switch (ch) {
    case '*':
    case '+':
    case '?':
        return was_atom ? s + 1 : NULL;
    case '{':
        return was_atom ? scan_interval(s) : NULL;
    case '^':
        return branch_used ? NULL : s + 1;
    case '$':
        return s[1] == '\0' || s[1] == '|' ? s + 1 : NULL;
    case '[':
        *atom = true;
        return scan_class(s);
    case '\\':
        *atom = true;
        return s[1] != '\0' && strchr("\\.^$[]|?*+{}/-", s[1]) != NULL ? s + 2 : NULL;
    case ']':
    case '}':
    case '(':
    case ')':
        return NULL;
    default:
        *atom = true;
        return ch < 0x20 || ch == 0x7f ? NULL : s + 1;
    }
}

/* The pattern for $regex, or NULL when it leaves the subset on which POSIX
 * ERE in C.UTF-8 (q_eval.c), PCRE in UTF-8 mode (MongoDB) and Java
 * (mongo-java-server) accept the same strings: literals (any character),
 * '.', bracket expressions as scan_class allows, the escapes of punctuation,
 * * + ? and {n,m} after one of those, '^' starting a branch, '$' ending one,
 * and '|' between non-empty branches. Whether a match exists does not depend
 * on leftmost-longest versus leftmost-first, so only syntax and character
 * semantics need to agree. '$' becomes \z, because PCRE's and Java's '$'
 * also match before a final newline; '.' matching a newline is the "s"
 * option. New string (free). */
static char *translate_regex(const char *pat, bool utf8)
{
    ngsi_buf out = {0};
    bool atom = false, branch_used = false, ok = utf8 && valid_utf8(pat, strlen(pat));
    for (const char *p = pat; ok && *p != '\0';) {
        if (*p == '|') {
            ok = branch_used && p[1] != '\0';
            ngsi_buf_puts(&out, "|");
            atom = branch_used = false;
            p++;
            continue;
        }
        const char *end = scan_elem(p, &atom, branch_used);
        ok = end != NULL;
        if (!ok)
            break;
        if (*p == '$')
            ngsi_buf_puts(&out, "\\z");
        else
            ngsi_buf_append(&out, p, (size_t)(end - p));
        branch_used = true;
        p = end;
    }
    if (ok && branch_used)
        return ngsi_buf_steal(&out);
    ngsi_buf_free(&out);
    return NULL;
}

/* --------------------------------------------------------------- statements */

/* A statement that cannot be said exactly still implies its attribute. */
static void push_wide(conds *c, const q_item *it)
{
    if (it->target == Q_ENT_EXPIRES)
        push_field(c, "expDate", false, fill_exists, NULL);
    else if (it->target != Q_ENT_CREATED && it->target != Q_ENT_MODIFIED)
        push_attr_names(c, it->attr, true);
}

static bool push_unary(conds *c, const q_item *it)
{
    bool want = it->op == Q_EXISTS, exact = true;
    ngsi_buf field = {0};
    if (it->target == Q_ENT_EXPIRES) {
        push_field(c, "expDate", !want, fill_exists, NULL);
    } else if ((it->target == Q_ATTR && it->npath == 0) || it->target == Q_ATTR_CREATED ||
               it->target == Q_ATTR_MODIFIED) {
        exact = push_attr_names(c, it->attr, want);
    } else if (exists_field(it, &field)) {
        push_field(c, field.data, !want, fill_exists, NULL);
    } else {
        exact = false;
        if (want)
            push_attr_names(c, it->attr, true);
    }
    ngsi_buf_free(&field);
    return exact;
}

static bool push_item(conds *c, const q_item *it, bool utf8)
{
    if (it->op == Q_EXISTS || it->op == Q_NOT_EXISTS)
        return push_unary(c, it);
    ngsi_buf field = {0};
    char *regex = it->op == Q_MATCH ? translate_regex(it->pattern, utf8) : NULL;
    bool exact = value_field(it, &field) && rhs_pushable(it) && (it->op != Q_MATCH || regex);
    if (exact)
        push_binary(c, field.data, it, regex);
    else
        push_wide(c, it);
    free(regex);
    ngsi_buf_free(&field);
    return exact;
}

int q_to_bson(const q_expr *e, bson_t *filter, bool *exact)
{
    conds c = {.n = 0};
    bool all = true;
    bson_init(&c.arr);
    for (size_t i = 0; i < e->n; i++)
        all = push_item(&c, &e->items[i], e->utf8 != (locale_t)0) && all;
    if (c.n > 0)
        bson_append_array(filter, "$and", -1, &c.arr);
    bson_destroy(&c.arr);
    if (exact != NULL)
        *exact = all;
    return (int)c.n;
}
