/*
 * schemas/compile.c: turning indexed schema documents into a node graph.
 *
 * Each schema object becomes one `struct schema` with its keywords decoded:
 * numbers into schema_number, "type" into a bit set, "properties" into a
 * table sorted for binary search, patterns into compiled PCRE2 code, and
 * every subschema into a pointer to its node. Nodes are memoised by the
 * address of their JSON object, so a subschema reached twice (directly and
 * through "$ref") is compiled once, and recursive schemas become cycles in
 * the graph instead of infinite recursion here.
 *
 * "$ref" is resolved in a second step, after the document that holds it is
 * compiled: the reference is made absolute against the base URI indexing
 * recorded for its schema object (index.c), the document is found by id
 * (never fetched), and the fragment is followed as a percent-decoded RFC 6901
 * pointer or looked up as an anchor. Targets are compiled on demand, which
 * may queue more references; the queue runs until empty.
 *
 * Finally the graph is checked for cycles made only of keywords that apply
 * to the same instance location ("$ref", "allOf", "anyOf", "oneOf", "not",
 * and "if" when it has "then" or "else"): such a schema would recurse forever on any instance, so
 * it is a compile error. Cycles through "properties", "items" and the like are normal recursive
 * schemas (trees, the meta-schema) and are fine, because the instance gets smaller on each turn.
 * Cycles only reachable through "then", "else" or "dependencies" are left to the validator's depth
 * limit.
 *
 * Every keyword value is checked here (type, range, syntax), so a schema
 * that compiles cannot surprise the validator.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_private.h"

/* Where a keyword or subschema is: parent, then object key or array index.
 * The root holds the URI compilation started from. Used for messages. */
typedef struct cpath {
    const struct cpath *up;
    const char *key; /* NULL for an array index */
    size_t index;
} cpath;

typedef struct ref_job {
    schema *node;
    const char *target; /* absolute URI, owned by the registry */
    const char *where;  /* location of the "$ref", owned by the registry */
} ref_job;

typedef struct compiler {
    schema_registry *reg;
    schema_error *err;
    ref_job *jobs;
    size_t njobs, jobs_cap;
    schema **nodes;
    size_t nnodes, nodes_cap;
} compiler;

/* What a keyword handler sees. */
typedef struct kw {
    compiler *c;
    schema *s;
    const json_t *obj; /* the schema object */
    const json_t *v;   /* the keyword's value */
    const cpath *path; /* the keyword's location */
    const schema_site *site;
    int depth;
    size_t offset; /* field for the generic handlers */
    unsigned flag;
} kw;

/* The node for schema `js` (owned by the registry, compiled once); NULL
 * with c->err set on error. */
static schema *compile_schema(compiler *c, const json_t *js, const cpath *path,
                              const schema_site *parent_site, int depth);

/* ---- messages ---------------------------------------------------------- */

static void append(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
    for (size_t i = 0; i < n && *len + 1 < size; i++)
        buf[(*len)++] = s[i];
    buf[*len < size ? *len : size - 1] = '\0';
}

static void format_path(const cpath *p, char *buf, size_t size, size_t *len)
{
    if (!p->up) {
        append(buf, size, len, p->key, uri_fragment_at(p->key));
        const char *frag = strchr(p->key, '#');
        append(buf, size, len, "#", 1);
        if (frag)
            append(buf, size, len, frag + 1, strlen(frag + 1));
        return;
    }
    format_path(p->up, buf, size, len);
    append(buf, size, len, "/", 1);
    if (!p->key) {
        char num[24];
        int n = snprintf(num, sizeof num, "%zu", p->index);
        append(buf, size, len, num, (size_t)n);
        return;
    }
    for (const char *k = p->key; *k; k++) {
        const char *esc = *k == '~' ? "~0" : *k == '/' ? "~1" : NULL;
        append(buf, size, len, esc ? esc : k, esc ? 2 : 1);
    }
}

static int fail_at(compiler *c, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(compiler *c, const char *where, const char *fmt, ...)
{
    char what[SCHEMA_ERROR_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    schema_error_set(c->err, "%.*s: %s", SCHEMA_ERROR_TEXT_MAX / 2, where, what);
    return -1;
}

static int fail(compiler *c, const cpath *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(compiler *c, const cpath *p, const char *fmt, ...)
{
    char where[SCHEMA_ERROR_TEXT_MAX], what[SCHEMA_ERROR_TEXT_MAX];
    size_t len = 0;
    format_path(p, where, sizeof where, &len);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return fail_at(c, where, "%s", what);
}

static int oom(compiler *c)
{
    schema_error_set(c->err, "out of memory");
    return -1;
}

/* ---- nodes ------------------------------------------------------------- */

/* A zeroed node with no limits, owned by the registry; NULL when out of
 * memory. */
static schema *new_node(compiler *c, enum schema_kind kind)
{
    schema *s = registry_calloc(c->reg, 1, sizeof *s);
    if (!s)
        return NULL;
    if (c->nnodes == c->nodes_cap) {
        size_t cap = c->nodes_cap ? c->nodes_cap * 2 : 64;
        schema **nodes = realloc(c->nodes, cap * sizeof *nodes);
        if (!nodes)
            return NULL;
        c->nodes = nodes;
        c->nodes_cap = cap;
    }
    c->nodes[c->nnodes++] = s;
    s->kind = kind;
    s->min_length = s->max_length = SCHEMA_NO_LIMIT;
    s->min_items = s->max_items = SCHEMA_NO_LIMIT;
    s->min_props = s->max_props = SCHEMA_NO_LIMIT;
    return s;
}

/* A subschema of the keyword being compiled (registry-owned node). */
static schema *sub(kw *k, const json_t *v, const cpath *path)
{
    return compile_schema(k->c, v, path, k->site, k->depth + 1);
}

/* The keyword's value as one subschema. */
static int one_schema(kw *k, schema **out)
{
    *out = sub(k, k->v, k->path);
    return *out ? 0 : -1;
}

/* The keyword's value as an array of subschemas. */
static int schema_array(kw *k, schema ***out, size_t *n, bool nonempty)
{
    if (!json_is_array(k->v) || (nonempty && json_array_size(k->v) == 0))
        return fail(k->c, k->path, "must be a%s array of schemas", nonempty ? " non-empty" : "n");
    *n = json_array_size(k->v);
    *out = registry_calloc(k->c->reg, *n, sizeof **out);
    if (!*out)
        return oom(k->c);
    for (size_t i = 0; i < *n; i++) {
        cpath p = {k->path, NULL, i};
        if (!((*out)[i] = sub(k, json_array_get(k->v, i), &p)))
            return -1;
    }
    return 0;
}

/* ---- keyword handlers -------------------------------------------------- */

static const struct {
    const char *name;
    unsigned bit;
} type_names[] = {
    {"null", TYPE_NULL},     {"boolean", TYPE_BOOLEAN}, {"object", TYPE_OBJECT},
    {"array", TYPE_ARRAY},   {"number", TYPE_NUMBER},   {"integer", TYPE_INTEGER},
    {"string", TYPE_STRING},
};

static unsigned type_bit(const json_t *name)
{
    const char *s = json_string_value(name);
    for (size_t i = 0; s && i < sizeof type_names / sizeof type_names[0]; i++)
        if (strcmp(s, type_names[i].name) == 0)
            return type_names[i].bit;
    return 0;
}

static int kw_type(kw *k)
{
    if (json_is_string(k->v)) {
        k->s->types = type_bit(k->v);
    } else if (json_is_array(k->v) && json_array_size(k->v) > 0) {
        for (size_t i = 0; i < json_array_size(k->v); i++) {
            unsigned bit = type_bit(json_array_get(k->v, i));
            if (!bit || (k->s->types & bit))
                return fail(k->c, k->path, "must list distinct type names");
            k->s->types |= bit;
        }
    }
    if (!k->s->types)
        return fail(k->c, k->path, "must be a type name or an array of type names");
    return 0;
}

static int kw_enum(kw *k)
{
    if (!json_is_array(k->v))
        return fail(k->c, k->path, "must be an array");
    k->s->enum_values = k->v;
    return 0;
}

static int kw_const(kw *k)
{
    k->s->const_value = k->v;
    k->s->has_const = true;
    return 0;
}

/* minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf */
static int kw_number(kw *k)
{
    if (!json_is_number(k->v))
        return fail(k->c, k->path, "must be a number");
    schema_number *n = (schema_number *)((char *)k->s + k->offset);
    n->is_int = json_is_integer(k->v);
    n->i = n->is_int ? json_integer_value(k->v) : 0;
    n->d = json_number_value(k->v);
    if (k->flag == NUM_MULTIPLE_OF && n->d <= 0)
        return fail(k->c, k->path, "must be greater than 0");
    k->s->number_flags |= k->flag;
    return 0;
}

/* minLength, maxLength, minItems, maxItems, minProperties, maxProperties */
static int kw_count(kw *k)
{
    /* 2^53: beyond it a double no longer holds every integer. */
    const double limit = 9007199254740992.0;
    if (!value_is_integral(k->v) || json_number_value(k->v) < 0 || json_number_value(k->v) > limit)
        return fail(k->c, k->path, "must be a non-negative integer");
    *(long long *)((char *)k->s + k->offset) = (long long)json_number_value(k->v);
    return 0;
}

static int push_regex(compiler *c, schema_regex *re)
{
    schema_registry *reg = c->reg;
    if (reg->nregexes == reg->regexes_cap) {
        size_t cap = reg->regexes_cap ? reg->regexes_cap * 2 : 16;
        schema_regex **all = realloc(reg->regexes, cap * sizeof *all);
        if (!all) {
            regex_free(re);
            return oom(c);
        }
        reg->regexes = all;
        reg->regexes_cap = cap;
    }
    reg->regexes[reg->nregexes++] = re;
    return 0;
}

/* A compiled pattern, owned (and freed) by the registry; NULL with the error
 * set. */
static schema_regex *regex(kw *k, const char *src, size_t len, const cpath *where)
{
    char why[256];
    schema_regex *re = regex_compile(src, len, k->c->reg->mctx, why, sizeof why);
    if (!re) {
        fail(k->c, where, "%s", why);
        return NULL;
    }
    return push_regex(k->c, re) < 0 ? NULL : re;
}

static int kw_pattern(kw *k)
{
    if (!json_is_string(k->v))
        return fail(k->c, k->path, "must be a string");
    k->s->pattern = regex(k, json_string_value(k->v), json_string_length(k->v), k->path);
    return k->s->pattern ? 0 : -1;
}

static int kw_format(kw *k)
{
    if (!json_is_string(k->v))
        return fail(k->c, k->path, "must be a string");
    k->s->format = format_lookup(json_string_value(k->v));
    return 0;
}

static int kw_items(kw *k)
{
    if (!json_is_array(k->v)) {
        k->s->rest_keyword = "items";
        return one_schema(k, &k->s->rest);
    }
    if (json_object_get(k->obj, "prefixItems"))
        return fail(k->c, k->path, "must be a schema when \"prefixItems\" is present");
    k->s->tuple_keyword = "items";
    return schema_array(k, &k->s->tuple, &k->s->ntuple, false);
}

static int kw_prefix_items(kw *k)
{
    k->s->tuple_keyword = "prefixItems";
    return schema_array(k, &k->s->tuple, &k->s->ntuple, true);
}

static int kw_additional_items(kw *k)
{
    schema *s;
    if (one_schema(k, &s) < 0)
        return -1;
    /* Only meaningful after an array-form "items". */
    if (json_is_array(json_object_get(k->obj, "items")) &&
        !json_object_get(k->obj, "prefixItems")) {
        k->s->rest = s;
        k->s->rest_keyword = "additionalItems";
    }
    return 0;
}

static int kw_contains(kw *k)
{
    return one_schema(k, &k->s->contains);
}

static int kw_unique_items(kw *k)
{
    if (!json_is_boolean(k->v))
        return fail(k->c, k->path, "must be a boolean");
    k->s->unique_items = json_is_true(k->v);
    return 0;
}

static int by_name_len(const void *a, const void *b)
{
    const schema_prop *x = a, *y = b;
    return schema_prop_compare(x, y->name, y->len);
}

static int kw_properties(kw *k)
{
    if (!json_is_object(k->v))
        return fail(k->c, k->path, "must be an object of schemas");
    size_t n = json_object_size(k->v), i = 0;
    schema_prop *props = registry_calloc(k->c->reg, n, sizeof *props);
    if (!props)
        return oom(k->c);
    for (void *it = json_object_iter((json_t *)k->v); it;
         it = json_object_iter_next((json_t *)k->v, it)) {
        cpath p = {k->path, json_object_iter_key(it), 0};
        props[i] = (schema_prop){json_object_iter_key(it), json_object_iter_key_len(it), NULL};
        if (!(props[i++].sub = sub(k, json_object_iter_value(it), &p)))
            return -1;
    }
    qsort(props, n, sizeof *props, by_name_len);
    k->s->props = props;
    k->s->nprops = n;
    return 0;
}

static int kw_pattern_properties(kw *k)
{
    if (!json_is_object(k->v))
        return fail(k->c, k->path, "must be an object of schemas");
    size_t n = json_object_size(k->v), i = 0;
    schema_pattern_prop *pp = registry_calloc(k->c->reg, n, sizeof *pp);
    if (!pp)
        return oom(k->c);
    for (void *it = json_object_iter((json_t *)k->v); it;
         it = json_object_iter_next((json_t *)k->v, it)) {
        cpath p = {k->path, json_object_iter_key(it), 0};
        pp[i].re = regex(k, json_object_iter_key(it), json_object_iter_key_len(it), &p);
        if (!pp[i].re || !(pp[i].sub = sub(k, json_object_iter_value(it), &p)))
            return -1;
        i++;
    }
    k->s->pattern_props = pp;
    k->s->npattern_props = n;
    return 0;
}

static int kw_additional_properties(kw *k)
{
    return one_schema(k, &k->s->additional_props);
}

static int kw_property_names(kw *k)
{
    return one_schema(k, &k->s->property_names);
}

static bool is_string_array(const json_t *v)
{
    if (!json_is_array(v))
        return false;
    for (size_t i = 0; i < json_array_size(v); i++)
        if (!json_is_string(json_array_get(v, i)))
            return false;
    return true;
}

static int kw_required(kw *k)
{
    if (!is_string_array(k->v))
        return fail(k->c, k->path, "must be an array of strings");
    k->s->required = k->v;
    return 0;
}

/* Append the entries of a "dependencies"-like object to s->deps. */
static int dependency_entries(kw *k, bool arrays, bool schemas)
{
    if (!json_is_object(k->v))
        return fail(k->c, k->path, "must be an object");
    size_t old = k->s->ndeps, n = old + json_object_size(k->v);
    schema_dependency *deps = registry_calloc(k->c->reg, n, sizeof *deps);
    if (!deps)
        return oom(k->c);
    if (old)
        memcpy(deps, k->s->deps, old * sizeof *deps);
    size_t i = old;
    for (void *it = json_object_iter((json_t *)k->v); it;
         it = json_object_iter_next((json_t *)k->v, it)) {
        const json_t *v = json_object_iter_value(it);
        cpath p = {k->path, json_object_iter_key(it), 0};
        schema_dependency *d = &deps[i++];
        d->name = json_object_iter_key(it);
        d->keyword = k->path->key; /* the static name from the keyword table */
        if (arrays && is_string_array(v)) {
            d->required = v;
        } else if (schemas && !json_is_array(v)) {
            if (!(d->sub = sub(k, v, &p)))
                return -1;
        } else {
            return fail(k->c, &p, "must be %s", arrays ? "an array of strings" : "a schema");
        }
    }
    k->s->deps = deps;
    k->s->ndeps = n;
    return 0;
}

static int kw_dependencies(kw *k)
{
    return dependency_entries(k, true, true);
}

static int kw_dependent_required(kw *k)
{
    return dependency_entries(k, true, false);
}

static int kw_dependent_schemas(kw *k)
{
    return dependency_entries(k, false, true);
}

static int kw_all_of(kw *k)
{
    return schema_array(k, &k->s->all_of, &k->s->nall_of, true);
}

static int kw_any_of(kw *k)
{
    return schema_array(k, &k->s->any_of, &k->s->nany_of, true);
}

static int kw_one_of(kw *k)
{
    return schema_array(k, &k->s->one_of, &k->s->none_of, true);
}

static int kw_not(kw *k)
{
    return one_schema(k, &k->s->not_schema);
}

static int kw_if(kw *k)
{
    return one_schema(k, &k->s->if_schema);
}

static int kw_then(kw *k)
{
    return one_schema(k, &k->s->then_schema);
}

static int kw_else(kw *k)
{
    return one_schema(k, &k->s->else_schema);
}

/* "definitions" / "$defs": compiled so that errors surface at load time and
 * "$ref"s into them find their nodes; nothing is stored in the node. */
static int kw_definitions(kw *k)
{
    if (!json_is_object(k->v))
        return fail(k->c, k->path, "must be an object of schemas");
    for (void *it = json_object_iter((json_t *)k->v); it;
         it = json_object_iter_next((json_t *)k->v, it)) {
        cpath p = {k->path, json_object_iter_key(it), 0};
        if (!sub(k, json_object_iter_value(it), &p))
            return -1;
    }
    return 0;
}

static int kw_unsupported(kw *k)
{
    return fail(k->c, k->path, "keyword not supported by Tsunagi's validator");
}

#define FIELD(f) offsetof(schema, f)

static const struct keyword {
    const char *name;
    int (*fn)(kw *);
    size_t offset;
    unsigned flag;
} keywords[] = {
    {"type", kw_type, 0, 0},
    {"enum", kw_enum, 0, 0},
    {"const", kw_const, 0, 0},
    {"minimum", kw_number, FIELD(minimum), NUM_MINIMUM},
    {"maximum", kw_number, FIELD(maximum), NUM_MAXIMUM},
    {"exclusiveMinimum", kw_number, FIELD(exclusive_minimum), NUM_EXCLUSIVE_MINIMUM},
    {"exclusiveMaximum", kw_number, FIELD(exclusive_maximum), NUM_EXCLUSIVE_MAXIMUM},
    {"multipleOf", kw_number, FIELD(multiple_of), NUM_MULTIPLE_OF},
    {"minLength", kw_count, FIELD(min_length), 0},
    {"maxLength", kw_count, FIELD(max_length), 0},
    {"pattern", kw_pattern, 0, 0},
    {"format", kw_format, 0, 0},
    {"items", kw_items, 0, 0},
    {"prefixItems", kw_prefix_items, 0, 0},
    {"additionalItems", kw_additional_items, 0, 0},
    {"contains", kw_contains, 0, 0},
    {"minItems", kw_count, FIELD(min_items), 0},
    {"maxItems", kw_count, FIELD(max_items), 0},
    {"uniqueItems", kw_unique_items, 0, 0},
    {"properties", kw_properties, 0, 0},
    {"patternProperties", kw_pattern_properties, 0, 0},
    {"additionalProperties", kw_additional_properties, 0, 0},
    {"propertyNames", kw_property_names, 0, 0},
    {"required", kw_required, 0, 0},
    {"dependencies", kw_dependencies, 0, 0},
    {"dependentRequired", kw_dependent_required, 0, 0},
    {"dependentSchemas", kw_dependent_schemas, 0, 0},
    {"minProperties", kw_count, FIELD(min_props), 0},
    {"maxProperties", kw_count, FIELD(max_props), 0},
    {"allOf", kw_all_of, 0, 0},
    {"anyOf", kw_any_of, 0, 0},
    {"oneOf", kw_one_of, 0, 0},
    {"not", kw_not, 0, 0},
    {"if", kw_if, 0, 0},
    {"then", kw_then, 0, 0},
    {"else", kw_else, 0, 0},
    {"definitions", kw_definitions, 0, 0},
    {"$defs", kw_definitions, 0, 0},
    /* Known keywords whose semantics are not implemented: refusing them is
     * better than silently accepting what they would reject. */
    {"$recursiveRef", kw_unsupported, 0, 0},
    {"$dynamicRef", kw_unsupported, 0, 0},
    {"unevaluatedProperties", kw_unsupported, 0, 0},
    {"unevaluatedItems", kw_unsupported, 0, 0},
    {"minContains", kw_unsupported, 0, 0},
    {"maxContains", kw_unsupported, 0, 0},
};

/* ---- $ref -------------------------------------------------------------- */

/* The text of location `p`, owned by the registry; NULL when out of memory. */
static char *owned_location(compiler *c, const cpath *p)
{
    char where[SCHEMA_ERROR_TEXT_MAX];
    size_t len = 0;
    format_path(p, where, sizeof where, &len);
    return registry_own(c->reg, strdup(where));
}

static int kw_ref(kw *k)
{
    if (!json_is_string(k->v))
        return fail(k->c, k->path, "must be a string");
    char *target = registry_own(k->c->reg, uri_resolve(k->site->base, json_string_value(k->v)));
    if (!target)
        return fail(k->c, k->path, "cannot make \"%s\" absolute against \"%s\"",
                    json_string_value(k->v), k->site->base);
    compiler *c = k->c;
    if (c->njobs == c->jobs_cap) {
        size_t cap = c->jobs_cap ? c->jobs_cap * 2 : 32;
        ref_job *jobs = realloc(c->jobs, cap * sizeof *jobs);
        if (!jobs)
            return oom(c);
        c->jobs = jobs;
        c->jobs_cap = cap;
    }
    const char *where = owned_location(c, k->path);
    if (!where)
        return oom(c);
    c->jobs[c->njobs++] = (ref_job){k->s, target, where};
    return 0;
}

static int compile_keywords(kw *k, const cpath *path)
{
    const json_t *ref = json_object_get(k->obj, "$ref");
    if (ref) {
        cpath p = {path, "$ref", 0};
        k->v = ref;
        k->path = &p;
        if (kw_ref(k) < 0)
            return -1;
        k->s->ref_only = k->site->dialect == DIALECT_DRAFT7;
    }
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
        const struct keyword *kd = &keywords[i];
        k->v = json_object_get(k->obj, kd->name);
        if (!k->v)
            continue;
        /* draft-07 ignores the siblings of "$ref"; definitions stay
         * reachable by pointer. */
        if (k->s->ref_only && kd->fn != kw_definitions)
            continue;
        cpath p = {path, kd->name, 0};
        k->path = &p;
        k->offset = kd->offset;
        k->flag = kd->flag;
        if (kd->fn(k) < 0)
            return -1;
    }
    return 0;
}

static schema *compile_schema(compiler *c, const json_t *js, const cpath *path,
                              const schema_site *parent_site, int depth)
{
    schema *s = map_get_ptr(&c->reg->nodes, js);
    if (s)
        return s;
    if (depth > SCHEMA_MAX_DEPTH) {
        fail(c, path, "schema nested deeper than %d levels", SCHEMA_MAX_DEPTH);
        return NULL;
    }
    if (!json_is_object(js) && !json_is_boolean(js)) {
        fail(c, path, "a schema must be an object or a boolean");
        return NULL;
    }
    s = new_node(c, json_is_object(js) ? SCHEMA_OBJECT
                    : json_is_true(js) ? SCHEMA_TRUE
                                       : SCHEMA_FALSE);
    if (!s || map_put(&c->reg->nodes, &js, sizeof js, s) < 0) {
        oom(c);
        return NULL;
    }
    if (s->kind != SCHEMA_OBJECT)
        return s;
    const schema_site *site = map_get_ptr(&c->reg->sites, js);
    kw k = {.c = c, .s = s, .obj = js, .site = site ? site : parent_site, .depth = depth};
    return compile_keywords(&k, path) < 0 ? NULL : s;
}

/* ---- resolving references ---------------------------------------------- */

/* RFC 6901 reference token s[0..n) unescaped into a new string (caller
 * frees); NULL when "~" is followed by anything but 0 or 1. */
static char *pointer_token(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '~') {
            *o++ = s[i];
        } else if (i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1')) {
            *o++ = s[++i] == '0' ? '~' : '/';
        } else {
            free(out);
            return NULL;
        }
    }
    *o = '\0';
    return out;
}

/* An array index token: "0" or digits without a leading zero. */
static bool array_index(const char *tok, size_t *index)
{
    if (!*tok || (tok[0] == '0' && tok[1]) || strspn(tok, "0123456789") != strlen(tok) ||
        strlen(tok) > 18)
        return false;
    *index = (size_t)strtoull(tok, NULL, 10);
    return true;
}

/* The member or item `tok` of js (borrowed), or NULL. */
static const json_t *pointer_step(const json_t *js, const char *tok)
{
    size_t index;
    if (json_is_object(js))
        return json_object_get(js, tok);
    if (json_is_array(js) && array_index(tok, &index))
        return json_array_get(js, index);
    return NULL;
}

const json_t *compile_follow_pointer(const schema_registry *reg, const json_t *root,
                                     const char *pointer, const schema_site **site)
{
    const schema_site *cur = map_get_ptr(&reg->sites, root);
    const json_t *js = root;
    const char *p = pointer;
    while (js && *p == '/') {
        size_t n = strcspn(++p, "/");
        char *tok = pointer_token(p, n);
        js = tok ? pointer_step(js, tok) : NULL;
        free(tok);
        const schema_site *here = js ? map_get_ptr(&reg->sites, js) : NULL;
        cur = here ? here : cur;
        p += n;
    }
    if (!js || *p)
        return NULL;
    *site = cur;
    return js;
}

/* The JSON value a URI names (borrowed from the registry), and the site in
 * effect there; NULL when the document is unknown or the fragment leads
 * nowhere. *why says which. */
static const json_t *locate(const schema_registry *reg, const char *uri, const schema_site **site,
                            const char **why)
{
    size_t rlen = uri_fragment_at(uri);
    const json_t *root = map_get(&reg->ids, uri, rlen);
    *why = "no schema with that id in the registry";
    if (!root)
        return NULL;
    *why = "nothing at that location in the schema";
    const char *frag = uri[rlen] ? uri + rlen + 1 : "";
    if (!*frag) {
        *site = map_get_ptr(&reg->sites, root);
        return root;
    }
    if (frag[0] == '/') {
        char *pointer = uri_percent_decode(frag, strlen(frag));
        const json_t *js = pointer ? compile_follow_pointer(reg, root, pointer, site) : NULL;
        free(pointer);
        return js;
    }
    const json_t *js = map_get_str(&reg->ids, uri); /* an anchor */
    *site = js ? map_get_ptr(&reg->sites, js) : NULL;
    return js;
}

/* `job` is a copy: compiling the target may grow (and move) c->jobs. */
static int resolve_job(compiler *c, ref_job job_copy)
{
    const ref_job *job = &job_copy;
    const schema_site *site = NULL;
    const char *why;
    const json_t *target = locate(c->reg, job->target, &site, &why);
    if (!target)
        return fail_at(c, job->where, "cannot resolve \"%s\": %s", job->target, why);
    cpath root = {NULL, job->target, 0};
    schema *node = compile_schema(c, target, &root, site, 0);
    if (!node)
        return -1;
    job->node->ref = node;
    job->node->ref_uri = job->target;
    return 0;
}

const schema *compile_lookup(const schema_registry *reg, const char *uri)
{
    const schema_site *site;
    const char *why;
    const json_t *js = locate(reg, uri, &site, &why);
    return js ? map_get_ptr(&reg->nodes, js) : NULL;
}

/* ---- cycles that never consume the instance ---------------------------- */

enum { MARK_NEW, MARK_ACTIVE, MARK_DONE };

static int visit(compiler *c, schema *s, int depth, const char *via);

static int visit_all(compiler *c, schema **list, size_t n, int depth, const char *via)
{
    for (size_t i = 0; i < n; i++)
        if (visit(c, list[i], depth, via) < 0)
            return -1;
    return 0;
}

/* The subschemas other than "$ref" that apply to the same instance value. */
static int visit_in_place(compiler *c, const schema *s, int depth, const char *via)
{
    if (visit_all(c, s->all_of, s->nall_of, depth, via) < 0 ||
        visit_all(c, s->any_of, s->nany_of, depth, via) < 0 ||
        visit_all(c, s->one_of, s->none_of, depth, via) < 0 ||
        visit(c, s->not_schema, depth, via) < 0)
        return -1;
    /* A lone "if" is never evaluated. */
    return s->then_schema || s->else_schema ? visit(c, s->if_schema, depth, via) : 0;
}

static int visit(compiler *c, schema *s, int depth, const char *via)
{
    if (!s || s->mark == MARK_DONE)
        return 0;
    if (s->mark == MARK_ACTIVE) {
        schema_error_set(c->err, "\"$ref\" \"%s\" forms a cycle that never consumes the instance",
                         via ? via : "?");
        return -1;
    }
    if (depth > SCHEMA_MAX_DEPTH) {
        schema_error_set(c->err, "chain of \"$ref\"/allOf/anyOf/oneOf deeper than %d at \"%s\"",
                         SCHEMA_MAX_DEPTH, via ? via : "?");
        return -1;
    }
    s->mark = MARK_ACTIVE;
    int rc = visit(c, s->ref, depth + 1, s->ref_uri ? s->ref_uri : via);
    if (rc == 0 && !s->ref_only)
        rc = visit_in_place(c, s, depth + 1, via);
    s->mark = MARK_DONE;
    return rc;
}

/* ---- driver ------------------------------------------------------------ */

static int compile_all(compiler *c)
{
    schema_registry *reg = c->reg;
    for (size_t i = 0; i < reg->ndocs; i++) {
        cpath root = {NULL, reg->doc_ids[i], 0};
        const schema_site *site = map_get_ptr(&reg->sites, reg->docs[i]);
        if (!compile_schema(c, reg->docs[i], &root, site, 0))
            return -1;
    }
    /* Resolving may compile new targets, which may queue more jobs. */
    for (size_t i = 0; i < c->njobs; i++)
        if (resolve_job(c, c->jobs[i]) < 0)
            return -1;
    for (size_t i = 0; i < c->nnodes; i++)
        if (visit(c, c->nodes[i], 0, NULL) < 0)
            return -1;
    return 0;
}

int compile_registry(schema_registry *reg, schema_error *err)
{
    compiler c = {.reg = reg, .err = err};
    int rc = compile_all(&c);
    free(c.jobs);
    free(c.nodes);
    return rc;
}
