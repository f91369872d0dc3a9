/*
 * ngsi/q_eval.c: whether an entity satisfies a q/mq expression.
 *
 * The answer must be the one MongoDB gives for the filter Orion builds,
 * because GET /v2/entities hands most of the work to the database and the
 * broker must agree with it whenever it decides in C (see q_mongo.c). So a
 * value is seen as it is stored:
 *   - DateTime (and ISO8601) attribute and metadata values are numbers of
 *     seconds, like the store writes them; inside compound values dates
 *     stay text;
 *   - comparisons only hold between the same kind of value: a number never
 *     equals or exceeds a string, strings compare bytewise (UTF-8 order,
 *     as MongoDB without collation), booleans and null only by equality;
 *   - a path walks objects, the objects inside arrays, and with a numeric
 *     token an array index; a value reached that is an array matches when
 *     the array itself or one of its elements does;
 *   - each bound of a range and each operator is tested on its own, so
 *     [1, 30] is in 10..20 (1 <= 20 and 30 >= 10), as in MongoDB;
 *   - != (and a negated list or range) needs the target to exist and then
 *     is the negation of the == test.
 * Regular expressions are POSIX extended, as Orion validates them, run in
 * the C.UTF-8 locale so that they work on characters like MongoDB's; the
 * regex_t is shared read-only, which glibc's regexec allows across threads.
 * Subscriptions in Orion match in memory with slightly different rules (no
 * array elements, >= as "not <"); Tsunagi uses these rules everywhere.
 */
#include "q_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A value as the database sees it: its kind and payload. */
enum q_kind { K_NUMBER, K_STRING, K_BOOL, K_NULL, K_OTHER };

typedef struct cand {
    enum q_kind kind;
    double num;
    const char *str;
    size_t len;
    bool b;
} cand;

static cand cand_of(const json_t *v, bool datetime)
{
    cand c = {.kind = K_OTHER};
    switch (json_typeof(v)) {
    case JSON_INTEGER:
    case JSON_REAL:
        c.kind = K_NUMBER;
        c.num = json_number_value(v);
        break;
    case JSON_STRING:
        if (datetime && ngsi_datetime_parse(json_string_value(v), &c.num) == 0) {
            c.kind = K_NUMBER;
            break;
        }
        c.kind = K_STRING;
        c.str = json_string_value(v);
        c.len = json_string_length(v);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        c.kind = K_BOOL;
        c.b = json_is_true(v);
        break;
    case JSON_NULL:
        c.kind = K_NULL;
        break;
    default:
        break;
    }
    return c;
}

/* One test applied to candidate values. */
enum q_test { T_ANY, T_EQ, T_GT, T_GE, T_LT, T_LE, T_REGEX };

typedef struct probe {
    enum q_test test;
    const q_value *v;
    const regex_t *re;
} probe;

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);
    if (r != 0)
        return r;
    return (alen > blen) - (alen < blen);
}

/* Compare c with v when they are of one kind: -1, 0, 1 into *r. */
static bool same_kind_cmp(const cand *c, const q_value *v, int *r)
{
    switch (v->type) {
    case Q_NUMBER:
    case Q_DATE:
        if (c->kind != K_NUMBER || isnan(v->num))
            return false;
        *r = (c->num > v->num) - (c->num < v->num);
        return true;
    case Q_STRING:
        if (c->kind != K_STRING)
            return false;
        *r = bytes_cmp(c->str, c->len, v->str, v->len);
        return true;
    case Q_BOOL:
        if (c->kind != K_BOOL)
            return false;
        *r = c->b == v->b ? 0 : 1;
        return true;
    case Q_NULL:
        *r = 0;
        return c->kind == K_NULL;
    }
    return false;
}

static bool test_cand(const cand *c, const probe *p)
{
    int r;
    if (p->test == T_ANY)
        return true;
    if (p->test == T_REGEX)
        return c->kind == K_STRING && regexec(p->re, c->str, 0, NULL, 0) == 0;
    if (!same_kind_cmp(c, p->v, &r))
        return false;
    switch (p->test) {
    case T_EQ:
        return r == 0;
    case T_GT:
        return r > 0;
    case T_GE:
        return r >= 0;
    case T_LT:
        return r < 0;
    case T_LE:
        return r <= 0;
    default:
        return false;
    }
}

/* The value reached, or one of its elements when it is an array. */
static bool test_leaf(const json_t *v, bool datetime, const probe *p)
{
    cand c = cand_of(v, datetime);
    if (test_cand(&c, p))
        return true;
    for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++) {
        c = cand_of(json_array_get(v, i), false);
        if (test_cand(&c, p))
            return true;
    }
    return false;
}

/* Digits in an array position: no stored array comes near 10^9 elements
 * (a MongoDB document is at most 16 MB), and 9 digits fit any size_t. */
#define Q_INDEX_DIGITS_MAX 9

/* A canonical array index ("0", "12"); MongoDB reads such a token as a
 * position when it meets an array. */
static bool array_index(const char *tok, size_t *out)
{
    size_t n = strlen(tok);
    if (n == 0 || n > Q_INDEX_DIGITS_MAX || (tok[0] == '0' && n > 1) ||
        strspn(tok, "0123456789") != n)
        return false;
    *out = (size_t)strtoul(tok, NULL, 10);
    return true;
}

static bool walk(const json_t *node, char *const *path, size_t n, bool datetime, const probe *p);

/* Through an array: the element at a numeric token, and the field of that
 * name in every object element (elements that are arrays are not entered). */
static bool walk_array(const json_t *arr, char *const *path, size_t n, const probe *p)
{
    size_t idx;
    if (array_index(path[0], &idx) && idx < json_array_size(arr) &&
        walk(json_array_get(arr, idx), path + 1, n - 1, false, p))
        return true;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *child = json_object_get(json_array_get(arr, i), path[0]);
        if (child != NULL && walk(child, path + 1, n - 1, false, p))
            return true;
    }
    return false;
}

static bool walk(const json_t *node, char *const *path, size_t n, bool datetime, const probe *p)
{
    if (n == 0)
        return test_leaf(node, datetime, p);
    if (json_is_array(node))
        return walk_array(node, path, n, p);
    const json_t *child = json_object_get(node, path[0]);
    return child != NULL && walk(child, path + 1, n - 1, false, p);
}

/* Where a statement starts: a JSON value, or a date held as a number. */
typedef struct root {
    bool present;
    const json_t *json;
    bool datetime;
    bool is_num;
    double num;
} root;

static root num_root(bool present, double t)
{
    return (root){.present = present, .is_num = true, .num = t};
}

static root root_of(const q_item *it, const ngsi_entity *e)
{
    const ngsi_attr *a = NULL;
    const ngsi_md *m;
    if (it->target == Q_ENT_CREATED)
        return num_root(true, e->cre_date);
    if (it->target == Q_ENT_MODIFIED)
        return num_root(true, e->mod_date);
    if (it->target == Q_ENT_EXPIRES)
        return num_root(e->exp_date != 0, e->exp_date);
    a = ngsi_entity_find(e, it->attr);
    if (a == NULL)
        return (root){.present = false};
    switch (it->target) {
    case Q_ATTR_CREATED:
        return num_root(true, a->cre_date);
    case Q_ATTR_MODIFIED:
        return num_root(true, a->mod_date);
    case Q_MD:
        m = ngsi_attr_find_md(a, it->md);
        if (m == NULL)
            return (root){.present = false};
        return (root){.present = true, .json = m->value, .datetime = ngsi_datetime_type(m->type)};
    default:
        return (root){.present = true, .json = a->value, .datetime = ngsi_datetime_type(a->type)};
    }
}

/* Whether some value the statement's path reaches passes p. */
static bool reach(const root *r, const q_item *it, const probe *p)
{
    if (!r->present)
        return false;
    if (r->is_num) {
        cand c = {.kind = K_NUMBER, .num = r->num};
        return it->npath == 0 && test_cand(&c, p);
    }
    return r->json != NULL && walk(r->json, it->path, it->npath, r->datetime, p);
}

/* The == test of the statement's value, list or range. */
static bool equals(const q_item *it, const root *r)
{
    probe p = {.test = T_EQ};
    switch (it->rhs) {
    case Q_RHS_VALUE:
        p.v = &it->vals[0];
        return reach(r, it, &p);
    case Q_RHS_LIST:
        for (size_t i = 0; i < it->nvals; i++) {
            p.v = &it->vals[i];
            if (reach(r, it, &p))
                return true;
        }
        return false;
    case Q_RHS_RANGE: {
        probe lo = {.test = T_GE, .v = &it->vals[0]}, hi = {.test = T_LE, .v = &it->vals[1]};
        return reach(r, it, &lo) && reach(r, it, &hi);
    }
    default:
        return false;
    }
}

static bool item_match(const q_item *it, const ngsi_entity *e)
{
    root r = root_of(it, e);
    probe p = {.test = T_ANY, .v = it->vals, .re = &it->re};
    switch (it->op) {
    case Q_EXISTS:
        return reach(&r, it, &p);
    case Q_NOT_EXISTS:
        return !reach(&r, it, &p);
    case Q_EQ:
        return equals(it, &r);
    case Q_NE:
        return reach(&r, it, &p) && !equals(it, &r);
    case Q_GT:
        p.test = T_GT;
        break;
    case Q_GE:
        p.test = T_GE;
        break;
    case Q_LT:
        p.test = T_LT;
        break;
    case Q_LE:
        p.test = T_LE;
        break;
    case Q_MATCH:
        p.test = T_REGEX;
        break;
    }
    return reach(&r, it, &p);
}

bool q_match(const q_expr *e, const ngsi_entity *ent)
{
    /* uselocale changes only this thread's locale, and only until return. */
    locale_t old = e->utf8 ? uselocale(e->utf8) : (locale_t)0;
    bool ok = true;
    for (size_t i = 0; i < e->n && ok; i++)
        ok = item_match(&e->items[i], ent);
    if (e->utf8)
        uselocale(old);
    return ok;
}
