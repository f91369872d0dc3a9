/*
 * schemas/validate.c: checking an instance against a compiled schema.
 *
 * A recursive walk over schema nodes and instance values. It allocates
 * nothing on the happy path: the instance location is a chain of stack
 * frames (vpath) turned into an RFC 6901 pointer only when a violation is
 * reported, and PCRE2 match data is created on the first pattern match of
 * the call. Nothing is shared between calls, so any number of threads can
 * validate against the same compiled schema.
 *
 * Two modes: collecting (a schema_result is given: every keyword is checked
 * and every violation recorded) and quiet (no result: return at the first
 * violation). Subschemas whose failure is not itself an error, the branches
 * of anyOf/oneOf, "not", "if" and "contains", always run quiet; their
 * outcome is reported as one summarising violation at the instance
 * location, instead of dumping every branch's errors.
 *
 * Recursion is bounded by SCHEMA_MAX_DEPTH (instance nesting plus $ref hops):
 * a schema that loops without consuming the instance ends with a "depth"
 * violation, never a stack overflow. Compile-time checks already reject the
 * loops that would always happen.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_private.h"

/* Longest reason text; a longer one (a huge pattern or property name) is
 * cut at a UTF-8 boundary. */
#define REASON_MAX 256

/* Values quoted in "enum"/"const" messages are shown up to this size, else
 * summarised ("one of the 12 allowed values"). */
#define QUOTED_VALUES_MAX 120

/* The instance location: parent frame plus object key or array index. The
 * root frame has no parent. */
typedef struct vpath {
    const struct vpath *up;
    const char *key; /* NULL for an array index */
    size_t keylen;
    size_t index;
} vpath;

typedef struct vctx {
    schema_result *res; /* NULL: quiet, stop at the first violation */
    pcre2_match_data **md;
    int depth;
} vctx;

static int validate(vctx *c, const schema *s, const json_t *inst, const vpath *path);

/* Accumulate a verdict; in quiet mode the first failure ends the check. */
#define STEP(expr)                                                                                 \
    do {                                                                                           \
        bad |= (expr);                                                                             \
        if (bad && !c->res)                                                                        \
            return 1;                                                                              \
    } while (0)

/* ---- reporting --------------------------------------------------------- */

typedef struct strbuf {
    char *p;
    size_t len, cap;
    bool failed;
} strbuf;

static void sb_add(strbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void build_pointer(const vpath *p, strbuf *b)
{
    if (!p->up)
        return;
    build_pointer(p->up, b);
    sb_add(b, "/", 1);
    if (!p->key) {
        char num[24];
        sb_add(b, num, (size_t)snprintf(num, sizeof num, "%zu", p->index));
        return;
    }
    for (size_t i = 0; i < p->keylen; i++) {
        const char *esc = p->key[i] == '~' ? "~0" : p->key[i] == '/' ? "~1" : NULL;
        sb_add(b, esc ? esc : p->key + i, esc ? 2 : 1);
    }
}

/* Cut a possibly truncated UTF-8 sequence off the end of s. */
static void utf8_trim(char *s)
{
    size_t len = strlen(s), i = len;
    while (i > 0 && len - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (len - (i - 1) < need)
        s[i - 1] = '\0';
}

static void report(vctx *c, const vpath *path, const char *keyword, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void report(vctx *c, const vpath *path, const char *keyword, const char *fmt, ...)
{
    if (!c->res)
        return;
    char reason[REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof reason)
        utf8_trim(reason);
    strbuf b = {0};
    build_pointer(path, &b);
    if (b.failed)
        c->res->dropped++;
    else
        result_add(c->res, b.p ? b.p : "", b.len, keyword, reason);
    free(b.p);
}

/* The compact JSON of v (or of every item of an enum), or NULL when longer
 * than QUOTED_VALUES_MAX. New string, caller frees. */
static char *quote_values(const json_t *v, bool items)
{
    strbuf b = {0};
    size_t n = items ? json_array_size(v) : 1;
    for (size_t i = 0; i < n && !b.failed && b.len <= QUOTED_VALUES_MAX; i++) {
        char *one = json_dumps(items ? json_array_get(v, i) : v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!one)
            b.failed = true;
        else if (i > 0)
            sb_add(&b, ", ", 2);
        if (one)
            sb_add(&b, one, strlen(one));
        free(one);
    }
    if (b.failed || b.len > QUOTED_VALUES_MAX || !b.p) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- generic keywords -------------------------------------------------- */

static bool type_matches(unsigned types, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return types & TYPE_OBJECT;
    case JSON_ARRAY:
        return types & TYPE_ARRAY;
    case JSON_STRING:
        return types & TYPE_STRING;
    case JSON_INTEGER:
        return types & (TYPE_NUMBER | TYPE_INTEGER);
    case JSON_REAL:
        return (types & TYPE_NUMBER) || ((types & TYPE_INTEGER) && value_is_integral(v));
    case JSON_TRUE:
    case JSON_FALSE:
        return types & TYPE_BOOLEAN;
    case JSON_NULL:
        return types & TYPE_NULL;
    }
    return false;
}

/* "string", "string or null", "object, array or null" */
static void type_list(unsigned types, char *buf, size_t size)
{
    static const char *const names[] = {"null",   "boolean", "object", "array",
                                        "number", "integer", "string"};
    static const unsigned order[] = {TYPE_OBJECT,  TYPE_ARRAY,   TYPE_STRING, TYPE_NUMBER,
                                     TYPE_INTEGER, TYPE_BOOLEAN, TYPE_NULL};
    size_t len = 0, total = (size_t)__builtin_popcount(types), done = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (!(types & order[i]))
            continue;
        const char *sep = done == 0 ? "" : done + 1 == total ? " or " : ", ";
        len += (size_t)snprintf(buf + len, size - len, "%s%s", sep, names[__builtin_ctz(order[i])]);
        done++;
    }
}

static int check_enum(vctx *c, const schema *s, const json_t *inst, const vpath *path)
{
    for (size_t i = 0; i < json_array_size(s->enum_values); i++)
        if (value_equal(inst, json_array_get(s->enum_values, i)))
            return 0;
    if (c->res) {
        char *values = quote_values(s->enum_values, true);
        if (values)
            report(c, path, "enum", "must be one of %s", values);
        else
            report(c, path, "enum", "must be one of the %zu allowed values",
                   json_array_size(s->enum_values));
        free(values);
    }
    return 1;
}

static int check_const(vctx *c, const schema *s, const json_t *inst, const vpath *path)
{
    if (value_equal(inst, s->const_value))
        return 0;
    if (c->res) {
        char *value = quote_values(s->const_value, false);
        report(c, path, "const", "must be equal to %s", value ? value : "the constant value");
        free(value);
    }
    return 1;
}

static int check_generic(vctx *c, const schema *s, const json_t *inst, const vpath *path)
{
    int bad = 0;
    if (s->types && !type_matches(s->types, inst)) {
        char names[96];
        type_list(s->types, names, sizeof names);
        report(c, path, "type", "must be %s", names);
        STEP(1);
    }
    if (s->enum_values)
        STEP(check_enum(c, s, inst, path));
    if (s->has_const)
        STEP(check_const(c, s, inst, path));
    return bad;
}

/* ---- subschemas -------------------------------------------------------- */

/* Static text. */
static const char *false_reason(const char *keyword)
{
    if (strstr(keyword, "roperties"))
        return "property is not allowed";
    if (strstr(keyword, "tems"))
        return "item is not allowed";
    return "no value is allowed here";
}

/* Validate with a subschema that applies to a child or to this location;
 * a `false` subschema is reported under the keyword that holds it. */
static int validate_child(vctx *c, const schema *sub, const json_t *inst, const vpath *path,
                          const char *keyword)
{
    if (sub->kind == SCHEMA_FALSE) {
        report(c, path, keyword, "%s", false_reason(keyword));
        return 1;
    }
    return validate(c, sub, inst, path);
}

/* Does `inst` match `sub`? Asked without collecting anything. */
static bool matches(vctx *c, const schema *sub, const json_t *inst, const vpath *path)
{
    vctx quiet = {NULL, c->md, c->depth};
    return validate(&quiet, sub, inst, path) == 0;
}

/* ---- objects ----------------------------------------------------------- */

/* Binary search in the sorted property table; borrowed entry or NULL. */
static const schema_prop *find_prop(const schema *s, const char *key, size_t len)
{
    size_t lo = 0, hi = s->nprops;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = schema_prop_compare(&s->props[mid], key, len);
        if (cmp == 0)
            return &s->props[mid];
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int check_name(vctx *c, const schema *names, const char *key, size_t len, const vpath *path)
{
    json_t *name = json_stringn(key, len);
    bool ok = name && matches(c, names, name, path);
    json_decref(name);
    if (ok)
        return 0;
    report(c, path, "propertyNames", "property name \"%.*s\" is not allowed", (int)len, key);
    return 1;
}

static int check_pattern_props(vctx *c, const schema *s, const vpath *child, const json_t *val,
                               bool *seen)
{
    int bad = 0;
    for (size_t i = 0; i < s->npattern_props; i++) {
        int m = regex_search(s->pattern_props[i].re, child->key, child->keylen, c->md);
        if (m < 0) {
            report(c, child, "patternProperties", "cannot be checked: pattern match limit reached");
            STEP(1);
        } else if (m > 0) {
            *seen = true;
            STEP(validate_child(c, s->pattern_props[i].sub, val, child, "patternProperties"));
        }
    }
    return bad;
}

static int check_members(vctx *c, const schema *s, const json_t *obj, const vpath *path)
{
    int bad = 0;
    json_t *o = (json_t *)obj; /* jansson's iterators are not const; nothing is modified */
    for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
        const json_t *val = json_object_iter_value(it);
        vpath child = {path, json_object_iter_key(it), json_object_iter_key_len(it), 0};
        bool seen = false;
        const schema_prop *prop = s->nprops ? find_prop(s, child.key, child.keylen) : NULL;
        if (prop) {
            seen = true;
            STEP(validate_child(c, prop->sub, val, &child, "properties"));
        }
        if (s->npattern_props)
            STEP(check_pattern_props(c, s, &child, val, &seen));
        if (!seen && s->additional_props)
            STEP(validate_child(c, s->additional_props, val, &child, "additionalProperties"));
        if (s->property_names)
            STEP(check_name(c, s->property_names, child.key, child.keylen, path));
    }
    return bad;
}

static int check_dependency(vctx *c, const schema_dependency *d, const json_t *obj,
                            const vpath *path)
{
    int bad = 0;
    for (size_t i = 0; d->required && i < json_array_size(d->required); i++) {
        const char *need = json_string_value(json_array_get(d->required, i));
        if (!json_object_get(obj, need)) {
            report(c, path, d->keyword, "property \"%s\" requires property \"%s\"", d->name, need);
            STEP(1);
        }
    }
    if (d->sub && d->sub->kind == SCHEMA_FALSE) {
        report(c, path, d->keyword, "property \"%s\" is not allowed", d->name);
        STEP(1);
    } else if (d->sub) {
        STEP(validate(c, d->sub, obj, path));
    }
    return bad;
}

static int check_object(vctx *c, const schema *s, const json_t *obj, const vpath *path)
{
    int bad = 0;
    long long n = (long long)json_object_size(obj);
    if (s->min_props != SCHEMA_NO_LIMIT && n < s->min_props) {
        report(c, path, "minProperties", "must have at least %lld properties", s->min_props);
        STEP(1);
    }
    if (s->max_props != SCHEMA_NO_LIMIT && n > s->max_props) {
        report(c, path, "maxProperties", "must have at most %lld properties", s->max_props);
        STEP(1);
    }
    for (size_t i = 0; s->required && i < json_array_size(s->required); i++) {
        const char *name = json_string_value(json_array_get(s->required, i));
        if (!json_object_get(obj, name)) {
            report(c, path, "required", "missing required property \"%s\"", name);
            STEP(1);
        }
    }
    for (size_t i = 0; i < s->ndeps; i++)
        if (json_object_get(obj, s->deps[i].name))
            STEP(check_dependency(c, &s->deps[i], obj, path));
    if (s->nprops || s->npattern_props || s->additional_props || s->property_names)
        STEP(check_members(c, s, obj, path));
    return bad;
}

/* ---- arrays ------------------------------------------------------------ */

static int check_items(vctx *c, const schema *s, const json_t *arr, const vpath *path)
{
    int bad = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        bool in_tuple = i < s->ntuple;
        const schema *sub = in_tuple ? s->tuple[i] : s->rest;
        if (!sub)
            break; /* past the tuple, nothing applies */
        vpath child = {path, NULL, 0, i};
        STEP(validate_child(c, sub, json_array_get(arr, i), &child,
                            in_tuple ? s->tuple_keyword : s->rest_keyword));
    }
    return bad;
}

static int check_contains(vctx *c, const schema *s, const json_t *arr, const vpath *path)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        vpath child = {path, NULL, 0, i};
        if (matches(c, s->contains, json_array_get(arr, i), &child))
            return 0;
    }
    report(c, path, "contains", "must contain at least one matching item");
    return 1;
}

static int check_array(vctx *c, const schema *s, const json_t *arr, const vpath *path)
{
    int bad = 0;
    long long n = (long long)json_array_size(arr);
    if (s->min_items != SCHEMA_NO_LIMIT && n < s->min_items) {
        report(c, path, "minItems", "must have at least %lld items", s->min_items);
        STEP(1);
    }
    if (s->max_items != SCHEMA_NO_LIMIT && n > s->max_items) {
        report(c, path, "maxItems", "must have at most %lld items", s->max_items);
        STEP(1);
    }
    size_t first, second;
    if (s->unique_items && value_find_duplicate(arr, &first, &second)) {
        report(c, path, "uniqueItems", "must not contain duplicates (items %zu and %zu are equal)",
               first, second);
        STEP(1);
    }
    if (s->ntuple || s->rest)
        STEP(check_items(c, s, arr, path));
    if (s->contains)
        STEP(check_contains(c, s, arr, path));
    return bad;
}

/* ---- strings and numbers ----------------------------------------------- */

static int check_string(vctx *c, const schema *s, const json_t *str, const vpath *path)
{
    int bad = 0;
    const char *v = json_string_value(str);
    size_t len = json_string_length(str);
    if (s->min_length != SCHEMA_NO_LIMIT || s->max_length != SCHEMA_NO_LIMIT) {
        long long chars = (long long)value_utf8_length(v, len);
        if (s->min_length != SCHEMA_NO_LIMIT && chars < s->min_length) {
            report(c, path, "minLength", "must be at least %lld characters long", s->min_length);
            STEP(1);
        }
        if (s->max_length != SCHEMA_NO_LIMIT && chars > s->max_length) {
            report(c, path, "maxLength", "must be at most %lld characters long", s->max_length);
            STEP(1);
        }
    }
    if (s->pattern) {
        int m = regex_search(s->pattern, v, len, c->md);
        if (m == 0)
            report(c, path, "pattern", "must match pattern \"%s\"", s->pattern->source);
        else if (m < 0)
            report(c, path, "pattern", "cannot be checked: pattern match limit reached");
        STEP(m <= 0);
    }
    if (s->format != FORMAT_NONE && !format_check(s->format, v, len)) {
        report(c, path, "format", "must be a valid %s", format_name(s->format));
        STEP(1);
    }
    return bad;
}

static int check_number(vctx *c, const schema *s, const json_t *num, const vpath *path)
{
    static const struct {
        unsigned flag;
        size_t offset;
        const char *keyword, *op;
    } limits[] = {
        {NUM_MINIMUM, offsetof(schema, minimum), "minimum", ">="},
        {NUM_MAXIMUM, offsetof(schema, maximum), "maximum", "<="},
        {NUM_EXCLUSIVE_MINIMUM, offsetof(schema, exclusive_minimum), "exclusiveMinimum", ">"},
        {NUM_EXCLUSIVE_MAXIMUM, offsetof(schema, exclusive_maximum), "exclusiveMaximum", "<"},
    };
    int bad = 0;
    char text[40];
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        if (!(s->number_flags & limits[i].flag))
            continue;
        const schema_number *n = (const schema_number *)((const char *)s + limits[i].offset);
        int cmp = value_compare(num, n);
        const char *op = limits[i].op;
        bool ok = op[0] == '>' ? (op[1] ? cmp >= 0 : cmp > 0) : (op[1] ? cmp <= 0 : cmp < 0);
        if (!ok) {
            value_format_number(n, text, sizeof text);
            report(c, path, limits[i].keyword, "must be %s %s", op, text);
            STEP(1);
        }
    }
    if ((s->number_flags & NUM_MULTIPLE_OF) && !value_is_multiple(num, &s->multiple_of)) {
        value_format_number(&s->multiple_of, text, sizeof text);
        report(c, path, "multipleOf", "must be a multiple of %s", text);
        STEP(1);
    }
    return bad;
}

/* ---- applicators ------------------------------------------------------- */

static int check_any_of(vctx *c, const schema *s, const json_t *inst, const vpath *path)
{
    for (size_t i = 0; i < s->nany_of; i++)
        if (matches(c, s->any_of[i], inst, path))
            return 0;
    report(c, path, "anyOf", "must match at least one of the %zu schemas", s->nany_of);
    return 1;
}

static int check_one_of(vctx *c, const schema *s, const json_t *inst, const vpath *path)
{
    size_t hits = 0, first = 0, second = 0;
    for (size_t i = 0; i < s->none_of && hits < 2; i++) {
        if (!matches(c, s->one_of[i], inst, path))
            continue;
        *(hits++ ? &second : &first) = i;
    }
    if (hits == 1)
        return 0;
    if (hits == 0)
        report(c, path, "oneOf", "must match exactly one of the %zu schemas, but matched none",
               s->none_of);
    else
        report(c, path, "oneOf",
               "must match exactly one of the %zu schemas, but matched %zu and %zu", s->none_of,
               first, second);
    return 1;
}

static int check_applicators(vctx *c, const schema *s, const json_t *inst, const vpath *path)
{
    int bad = 0;
    for (size_t i = 0; i < s->nall_of; i++)
        STEP(validate_child(c, s->all_of[i], inst, path, "allOf"));
    if (s->nany_of)
        STEP(check_any_of(c, s, inst, path));
    if (s->none_of)
        STEP(check_one_of(c, s, inst, path));
    if (s->not_schema && matches(c, s->not_schema, inst, path)) {
        report(c, path, "not", "must not match the schema in \"not\"");
        STEP(1);
    }
    if (s->if_schema && (s->then_schema || s->else_schema)) { /* a lone "if" asserts nothing */
        bool cond = matches(c, s->if_schema, inst, path);
        const schema *branch = cond ? s->then_schema : s->else_schema;
        if (branch)
            STEP(validate_child(c, branch, inst, path, cond ? "then" : "else"));
    }
    return bad;
}

/* ---- driver ------------------------------------------------------------ */

static int check_by_type(vctx *c, const schema *s, const json_t *inst, const vpath *path)
{
    switch (json_typeof(inst)) {
    case JSON_OBJECT:
        return check_object(c, s, inst, path);
    case JSON_ARRAY:
        return check_array(c, s, inst, path);
    case JSON_STRING:
        return check_string(c, s, inst, path);
    case JSON_INTEGER:
    case JSON_REAL:
        return s->number_flags ? check_number(c, s, inst, path) : 0;
    default:
        return 0;
    }
}

static int validate_keywords(vctx *c, const schema *s, const json_t *inst, const vpath *path)
{
    int bad = 0;
    if (s->ref) {
        STEP(validate_child(c, s->ref, inst, path, "$ref"));
        if (s->ref_only)
            return bad;
    }
    STEP(check_generic(c, s, inst, path));
    STEP(check_by_type(c, s, inst, path));
    STEP(check_applicators(c, s, inst, path));
    return bad;
}

static int validate(vctx *c, const schema *s, const json_t *inst, const vpath *path)
{
    if (s->kind == SCHEMA_TRUE)
        return 0;
    if (s->kind == SCHEMA_FALSE) {
        report(c, path, "false", "no value is allowed here");
        return 1;
    }
    if (c->depth >= SCHEMA_MAX_DEPTH) {
        report(c, path, "depth", "schema or instance nested deeper than %d levels",
               SCHEMA_MAX_DEPTH);
        return 1;
    }
    c->depth++;
    int bad = validate_keywords(c, s, inst, path);
    c->depth--;
    return bad;
}

int schema_validate(const schema *s, const json_t *instance, schema_result *res)
{
    if (res)
        result_reset(res);
    pcre2_match_data *md = NULL;
    vctx c = {res, &md, 0};
    vpath root = {NULL, NULL, 0, 0};
    int bad;
    if (!s || !instance) {
        report(&c, &root, "schema", "no schema or no instance to validate");
        bad = 1;
    } else {
        bad = validate(&c, s, instance, &root);
    }
    pcre2_match_data_free(md);
    return bad ? 1 : 0;
}
