/*
 * schemas/schema_private.h: what the files of tsunagi_schema share.
 *
 * A compiled schema is a graph of `struct schema` nodes owned by the
 * registry. Each node holds its keywords decoded into C values (numbers,
 * sorted property tables, compiled regexes, pointers to subschema nodes), so
 * validation reads no keyword names and resolves no URIs. Strings and JSON
 * values that a node keeps (property names, enum/const values) are borrowed
 * from the registry's copies of the documents, which never change after
 * schema_registry_add().
 */
#ifndef TSUNAGI_SCHEMA_PRIVATE_H
#define TSUNAGI_SCHEMA_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "schema.h"

/* Nesting allowed in a schema document and in validation (instance depth
 * plus $ref hops). Bounds the C stack used by the recursive compiler and
 * validator: well above any real entity (NGSI attributes nest a few levels)
 * and far below what a worker thread's stack holds. */
#define SCHEMA_MAX_DEPTH 256

/* ---- hash map (map.c) ------------------------------------------------- */

/* Open-addressing map from byte strings to pointers. Keys are copied. Used
 * with string keys (URIs) and with pointer keys (the bytes of a json_t *). */
typedef struct schema_map {
    struct schema_map_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t used;
} schema_map;

/* 64-bit FNV-1a of len bytes: the map's hash, and value.c's for JSON
 * values. */
uint64_t map_hash(const void *key, size_t len);
void *map_get(const schema_map *m, const void *key, size_t len);
/* 0 when added, 1 when the key was already there (nothing changed), -1 when
 * out of memory. */
int map_put(schema_map *m, const void *key, size_t len, void *value);
void map_free(schema_map *m);

static inline void *map_get_str(const schema_map *m, const char *s)
{
    return map_get(m, s, strlen(s));
}

static inline void *map_get_ptr(const schema_map *m, const void *p)
{
    return map_get(m, &p, sizeof p);
}

/* ---- URIs (uri.c) ----------------------------------------------------- */

/* RFC 3986 section 5.2: resolve `ref` against `base` (base may be NULL when
 * ref is absolute). New string, caller frees; NULL when the result would
 * have no scheme (no absolute base) or when out of memory. */
char *uri_resolve(const char *base, const char *ref);
/* Length of the part of `uri` before '#'. */
size_t uri_fragment_at(const char *uri);
/* Percent-decode s[0..len) into a new NUL-terminated string (caller frees);
 * NULL when an escape is malformed or decodes to NUL. */
char *uri_percent_decode(const char *s, size_t len);

/* ---- regexes (regex.c) ------------------------------------------------ */

typedef struct schema_regex {
    pcre2_code *code;
    const pcre2_match_context *mctx; /* borrowed from the registry */
    const char *source;              /* borrowed from the schema document */
} schema_regex;

/* Compile an ECMA-262 pattern. New regex, caller frees with regex_free();
 * NULL with `why` filled in on a syntax error. */
schema_regex *regex_compile(const char *source, size_t len, const pcre2_match_context *mctx,
                            char *why, size_t why_size);
/* 1 when `s` contains a match, 0 when not, -1 when the match hit a resource
 * limit. *md is created on first use (one per validation call) and freed by
 * the caller with pcre2_match_data_free(). */
int regex_search(const schema_regex *re, const char *s, size_t len, pcre2_match_data **md);
void regex_free(schema_regex *re);
/* The shared match context with Tsunagi's limits; caller frees it with
 * pcre2_match_context_free(). */
pcre2_match_context *regex_match_context_new(void);

/* ---- formats (format.c) ----------------------------------------------- */

enum schema_format {
    FORMAT_NONE = 0, /* unknown formats are annotations and not checked */
    FORMAT_DATE_TIME,
    FORMAT_DATE,
    FORMAT_TIME,
    FORMAT_EMAIL,
    FORMAT_URI,
    FORMAT_URI_REFERENCE,
    FORMAT_IPV4,
    FORMAT_IPV6,
};

enum schema_format format_lookup(const char *name);
const char *format_name(enum schema_format f);
bool format_check(enum schema_format f, const char *s, size_t len);

/* ---- instance values (value.c) ---------------------------------------- */

/* JSON Schema equality: numbers compare by mathematical value (1 == 1.0),
 * objects ignore key order. */
bool value_equal(const json_t *a, const json_t *b);
/* Index pair of the first two equal items of `array`, or false when all
 * items are distinct. */
bool value_find_duplicate(const json_t *array, size_t *first, size_t *second);
/* Number of Unicode code points in the UTF-8 string s[0..len). */
size_t value_utf8_length(const char *s, size_t len);
/* True for integers and for reals with no fractional part. */
bool value_is_integral(const json_t *v);

/* A number from a schema keyword, kept exactly. */
typedef struct schema_number {
    bool is_int;
    json_int_t i;
    double d;
} schema_number;

/* Compare instance number `v` with `n`: <0, 0, >0. */
int value_compare(const json_t *v, const schema_number *n);
/* True when `v` is a multiple of `n` (n > 0). */
bool value_is_multiple(const json_t *v, const schema_number *n);
/* Write `n` the way it appears in messages ("-50", "0.5"). */
void value_format_number(const schema_number *n, char *buf, size_t size);

/* ---- compiled schema nodes -------------------------------------------- */

enum schema_kind { SCHEMA_TRUE, SCHEMA_FALSE, SCHEMA_OBJECT };

enum schema_type_bit {
    TYPE_NULL = 1 << 0,
    TYPE_BOOLEAN = 1 << 1,
    TYPE_OBJECT = 1 << 2,
    TYPE_ARRAY = 1 << 3,
    TYPE_NUMBER = 1 << 4,
    TYPE_INTEGER = 1 << 5,
    TYPE_STRING = 1 << 6,
};

enum schema_number_bit {
    NUM_MINIMUM = 1 << 0,
    NUM_MAXIMUM = 1 << 1,
    NUM_EXCLUSIVE_MINIMUM = 1 << 2,
    NUM_EXCLUSIVE_MAXIMUM = 1 << 3,
    NUM_MULTIPLE_OF = 1 << 4,
};

/* "No limit" for the count keywords (minLength, maxItems, ...). */
#define SCHEMA_NO_LIMIT (-1)

typedef struct schema_prop {
    const char *name; /* borrowed key of the schema document */
    size_t len;
    schema *sub;
} schema_prop;

/* Order of the property table: by length, then first byte, then bytes.
 * Length and first byte settle most comparisons without calling memcmp,
 * which showed up in profiles of entity validation. */
static inline int schema_prop_compare(const schema_prop *p, const char *key, size_t len)
{
    if (p->len != len)
        return p->len < len ? -1 : 1;
    if (len == 0)
        return 0;
    if (p->name[0] != key[0])
        return (unsigned char)p->name[0] < (unsigned char)key[0] ? -1 : 1;
    return memcmp(p->name, key, len);
}

typedef struct schema_pattern_prop {
    schema_regex *re;
    schema *sub;
} schema_pattern_prop;

/* One entry of "dependencies" / "dependentRequired" / "dependentSchemas":
 * when property `name` is present, the properties in `required` must be,
 * or the instance must match `sub`. */
typedef struct schema_dependency {
    const char *name;
    const json_t *required; /* array of strings, or NULL */
    schema *sub;            /* or NULL */
    const char *keyword;
} schema_dependency;

struct schema {
    enum schema_kind kind;
    unsigned char mark;  /* compile-time cycle check state */
    const char *ref_uri; /* the resolved "$ref", for messages */
    bool ref_only;       /* draft-07: "$ref" makes the other keywords ignored */
    schema *ref;

    unsigned types; /* schema_type_bit set; 0 when no "type" */
    const json_t *enum_values;
    const json_t *const_value;
    bool has_const;

    unsigned number_flags; /* schema_number_bit set */
    schema_number minimum, maximum, exclusive_minimum, exclusive_maximum, multiple_of;

    long long min_length, max_length;
    schema_regex *pattern;
    enum schema_format format;

    schema **tuple; /* draft-07 array "items", or "prefixItems" */
    size_t ntuple;
    const char *tuple_keyword;
    schema *rest; /* items after the tuple, or all items */
    const char *rest_keyword;
    schema *contains;
    long long min_items, max_items;
    bool unique_items;

    schema_prop *props; /* sorted by (len, bytes) for bsearch */
    size_t nprops;
    schema_pattern_prop *pattern_props;
    size_t npattern_props;
    schema *additional_props;
    schema *property_names;
    const json_t *required; /* array of strings, or NULL */
    schema_dependency *deps;
    size_t ndeps;
    long long min_props, max_props;

    schema **all_of, **any_of, **one_of;
    size_t nall_of, nany_of, none_of;
    schema *not_schema;
    schema *if_schema, *then_schema, *else_schema;
};

/* ---- registry internals shared by registry.c and compile.c ------------ */

enum schema_dialect {
    DIALECT_DRAFT7,  /* draft-04..07 and unknown: "$ref" overrides siblings */
    DIALECT_2019_UP, /* 2019-09 and 2020-12: "$ref" is one keyword among others */
};

/* What indexing learnt about one schema object of a document. */
typedef struct schema_site {
    const char *base; /* base URI in effect for the object (interned) */
    enum schema_dialect dialect;
} schema_site;

struct schema_registry {
    json_t **docs; /* deep copies, owned */
    char **doc_ids;
    size_t ndocs, docs_cap;

    schema_map ids;     /* absolute URI (no fragment, or "#anchor") -> json_t * */
    schema_map sites;   /* json_t * -> schema_site * for every indexed schema object */
    schema_map nodes;   /* json_t * -> schema * */
    schema_map strings; /* interned base URIs: string -> its copy */

    void **owned; /* every allocation made at load time, freed together */
    size_t nowned, owned_cap;
    schema_regex **regexes; /* every compiled pattern, freed with regex_free */
    size_t nregexes, regexes_cap;

    pcre2_match_context *mctx;
    int state; /* 0 building, 1 compiled, -1 failed */
};

/* Keep `p` until the registry is freed; returns p, or NULL (and frees p)
 * when out of memory. */
void *registry_own(schema_registry *reg, void *p);
/* calloc(n, size) kept by the registry; NULL when out of memory. */
void *registry_calloc(schema_registry *reg, size_t n, size_t size);
/* An interned copy of s[0..len), owned by the registry; NULL when out of
 * memory. */
const char *registry_intern(schema_registry *reg, const char *s, size_t len);

/* index.c: index one document at add time: record the base URI and dialect
 * of every schema object, register every "$id" and "$anchor". */
int index_document(schema_registry *reg, const json_t *doc, const char *base, schema_error *err);
/* The dialect a "$schema" value selects. */
enum schema_dialect index_dialect(const json_t *schema_keyword, enum schema_dialect inherited);

/* compile.c: build the node graph of every added document. */
int compile_registry(schema_registry *reg, schema_error *err);
/* compile.c: the JSON value (borrowed) that the decoded JSON pointer
 * `pointer` names inside `root`, or NULL; *site gets the site in effect
 * there. Read-only. */
const json_t *compile_follow_pointer(const schema_registry *reg, const json_t *root,
                                     const char *pointer, const schema_site **site);
/* compile.c: look up a "<uri>#<fragment>" in a compiled registry; the
 * node is borrowed from the registry. */
const schema *compile_lookup(const schema_registry *reg, const char *uri);

/* result.c */
void result_reset(schema_result *res);
/* Record a violation; `path` is built by the caller. */
void result_add(schema_result *res, const char *path, size_t path_len, const char *keyword,
                const char *reason);

/* error helper shared by registry.c and compile.c */
void schema_error_set(schema_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
