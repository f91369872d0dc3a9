/*
 * schemas/index.c: indexing a schema document when it is added.
 *
 * Before any "$ref" can be resolved, every identifier in every document must
 * be known: "$id" (absolute or relative to the enclosing base, which it then
 * replaces for its subschemas), draft-07 plain-name fragments ("$id":
 * "#foo") and "$anchor". Indexing walks the schema positions of a document
 * (the values of applicator keywords such as "properties", "items", "allOf",
 * "definitions" and "$defs", never the values of "enum", "const" or unknown
 * keywords, which are data) and records, for every schema object, the base
 * URI and the dialect in effect there. The compiler uses those records for
 * every subschema it meets, and $ref targets reached by JSON pointer inherit
 * from the nearest indexed ancestor.
 *
 * Dialect: documents whose "$schema" names 2019-09 or 2020-12 treat "$ref"
 * as one keyword among others; anything else (draft-07, older drafts, no
 * "$schema") follows draft-07, where "$ref" makes its sibling keywords (and
 * a sibling "$id") ignored.
 */
#include <stdlib.h>
#include <string.h>

#include "schema_private.h"

/* Where subschemas sit: one schema, an array of schemas, or an object whose
 * values are schemas. */
enum sub_kind { SUB_ONE, SUB_ARRAY, SUB_MAP, SUB_ONE_OR_ARRAY, SUB_MAP_OF_SCHEMA_OR_ARRAY };

static const struct {
    const char *keyword;
    enum sub_kind kind;
} subschema_keywords[] = {
    {"additionalProperties", SUB_ONE},
    {"propertyNames", SUB_ONE},
    {"additionalItems", SUB_ONE},
    {"contains", SUB_ONE},
    {"not", SUB_ONE},
    {"if", SUB_ONE},
    {"then", SUB_ONE},
    {"else", SUB_ONE},
    {"items", SUB_ONE_OR_ARRAY},
    {"prefixItems", SUB_ARRAY},
    {"allOf", SUB_ARRAY},
    {"anyOf", SUB_ARRAY},
    {"oneOf", SUB_ARRAY},
    {"properties", SUB_MAP},
    {"patternProperties", SUB_MAP},
    {"dependentSchemas", SUB_MAP},
    {"dependencies", SUB_MAP_OF_SCHEMA_OR_ARRAY},
    {"definitions", SUB_MAP},
    {"$defs", SUB_MAP},
};

typedef struct indexer {
    schema_registry *reg;
    schema_error *err;
} indexer;

static int walk(indexer *ix, const json_t *js, const char *base, enum schema_dialect dialect,
                int depth);

enum schema_dialect index_dialect(const json_t *schema_keyword, enum schema_dialect inherited)
{
    const char *s = json_string_value(schema_keyword);
    if (!s)
        return inherited;
    if (strstr(s, "/draft/2019-09/") || strstr(s, "/draft/2020-12/"))
        return DIALECT_2019_UP;
    return DIALECT_DRAFT7;
}

static int register_id(indexer *ix, const char *uri, size_t len, const json_t *js)
{
    int rc = map_put(&ix->reg->ids, uri, len, (void *)js);
    if (rc == 0)
        return 0;
    if (rc > 0)
        schema_error_set(ix->err, "duplicate schema id \"%.*s\"", (int)len, uri);
    else
        schema_error_set(ix->err, "out of memory");
    return -1;
}

/* "<base without fragment>#<name>" for a plain-name fragment. */
static int register_anchor(indexer *ix, const char *base, const char *name, const json_t *js)
{
    size_t blen = uri_fragment_at(base), nlen = strlen(name);
    char *uri = malloc(blen + nlen + 2);
    if (!uri) {
        schema_error_set(ix->err, "out of memory");
        return -1;
    }
    memcpy(uri, base, blen);
    uri[blen] = '#';
    memcpy(uri + blen + 1, name, nlen + 1);
    int rc = register_id(ix, uri, blen + 1 + nlen, js);
    free(uri);
    return rc;
}

/* Apply "$id": register it and return the new base (interned), or NULL on
 * error. */
static const char *apply_id(indexer *ix, const json_t *js, const char *id, const char *base)
{
    if (id[0] == '#') /* draft-07 location-independent identifier */
        return register_anchor(ix, base, id + 1, js) < 0 ? NULL : base;
    char *abs = uri_resolve(base, id);
    if (!abs) {
        schema_error_set(ix->err, "\"$id\" \"%s\" is not an absolute URI and has no base", id);
        return NULL;
    }
    size_t flen = uri_fragment_at(abs);
    const char *interned = registry_intern(ix->reg, abs, flen);
    int rc = interned ? register_id(ix, abs, flen, js) : -1;
    if (rc == 0 && abs[flen] == '#' && abs[flen + 1])
        rc = register_anchor(ix, interned, abs + flen + 1, js);
    if (!interned)
        schema_error_set(ix->err, "out of memory");
    free(abs);
    return rc < 0 ? NULL : interned;
}

static int record_site(indexer *ix, const json_t *js, const char *base, enum schema_dialect dialect)
{
    schema_site *site = registry_calloc(ix->reg, 1, sizeof *site);
    if (!site || map_put(&ix->reg->sites, &js, sizeof js, site) < 0) {
        schema_error_set(ix->err, "out of memory");
        return -1;
    }
    site->base = base;
    site->dialect = dialect;
    return 0;
}

static int walk_children(indexer *ix, const json_t *obj, const char *base,
                         enum schema_dialect dialect, int depth, bool ref_only)
{
    for (size_t k = 0; k < sizeof subschema_keywords / sizeof subschema_keywords[0]; k++) {
        const char *name = subschema_keywords[k].keyword;
        enum sub_kind kind = subschema_keywords[k].kind;
        const json_t *v = json_object_get(obj, name);
        /* draft-07 ignores the siblings of "$ref", but pointers may still
         * reach into its definitions. */
        if (!v || (ref_only && strcmp(name, "definitions") != 0 && strcmp(name, "$defs") != 0))
            continue;
        size_t i;
        const char *key;
        const json_t *sub;
        if (kind == SUB_ONE || (kind == SUB_ONE_OR_ARRAY && !json_is_array(v))) {
            if (walk(ix, v, base, dialect, depth + 1) < 0)
                return -1;
        } else if (kind == SUB_ARRAY || kind == SUB_ONE_OR_ARRAY) {
            json_array_foreach(v, i,
                               sub) if (walk(ix, sub, base, dialect, depth + 1) < 0) return -1;
        } else if (json_is_object(v)) {
            json_object_foreach((json_t *)v, key, sub)
            {
                if (kind == SUB_MAP_OF_SCHEMA_OR_ARRAY && json_is_array(sub))
                    continue;
                if (walk(ix, sub, base, dialect, depth + 1) < 0)
                    return -1;
            }
        }
    }
    return 0;
}

static int walk(indexer *ix, const json_t *js, const char *base, enum schema_dialect dialect,
                int depth)
{
    if (!json_is_object(js)) /* booleans carry no ids; bad values are compile errors */
        return 0;
    if (depth > SCHEMA_MAX_DEPTH) {
        schema_error_set(ix->err, "schema nested deeper than %d levels", SCHEMA_MAX_DEPTH);
        return -1;
    }
    dialect = index_dialect(json_object_get(js, "$schema"), dialect);
    bool ref_only = dialect == DIALECT_DRAFT7 && json_object_get(js, "$ref");
    const char *id = json_string_value(json_object_get(js, "$id"));
    if (id && !ref_only && !(base = apply_id(ix, js, id, base)))
        return -1;
    const char *anchor = json_string_value(json_object_get(js, "$anchor"));
    if (anchor && register_anchor(ix, base, anchor, js) < 0)
        return -1;
    if (record_site(ix, js, base, dialect) < 0)
        return -1;
    return walk_children(ix, js, base, dialect, depth, ref_only);
}

int index_document(schema_registry *reg, const json_t *doc, const char *base, schema_error *err)
{
    indexer ix = {reg, err};
    return walk(&ix, doc, base, DIALECT_DRAFT7, 0);
}
