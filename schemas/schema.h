/*
 * schemas/schema.h: Tsunagi's JSON Schema validator (library tsunagi_schema).
 *
 * Validates JSON instances (jansson values) against JSON Schema draft-07,
 * plus the 2019-09/2020-12 keywords that FIWARE Smart Data Models use
 * ($defs, $anchor, prefixItems, dependentRequired, dependentSchemas, $ref
 * beside other keywords). docs/schemas.md lists the keywords, formats, the
 * regex dialect, the $ref rules and the error format.
 *
 * Life cycle:
 *
 *   schema_registry *reg = schema_registry_new();
 *   schema_registry_load_dir(reg, "schemas/models", &err);   (and/or _add)
 *   schema_registry_compile(reg, &err);      resolve $refs, compile regexes
 *   const schema *s = schema_registry_get(reg, "https://.../Store.json");
 *   schema_result res = SCHEMA_RESULT_INIT;
 *   if (schema_validate(s, entity, &res) != 0)
 *       reply_400(schema_result_describe(&res));
 *   schema_result_free(&res);
 *   ...
 *   schema_registry_free(reg);
 *
 * $ref never goes to the network: every reference, http(s) or not, resolves
 * against the schemas added to the registry, keyed by their $id. A reference
 * that does not resolve is an error of schema_registry_compile().
 *
 * Thread-safety: building a registry (new, add, load_dir, compile) is
 * single-threaded. After schema_registry_compile() has returned 0 the
 * registry is read-only: schema_registry_get() and schema_validate() may be
 * called from any number of threads at once on the same registry and the
 * same schema, each thread with its own schema_result. schema_registry_free()
 * must not race with them.
 */
#ifndef TSUNAGI_SCHEMA_H
#define TSUNAGI_SCHEMA_H

#include <stddef.h>

#include <jansson.h>

/* Room for one load or compile error: "<where>: <what>". Enough for a long
 * URI plus a JSON pointer into the schema and a one-line reason. */
#define SCHEMA_ERROR_TEXT_MAX 512

/* A schema_result keeps at most this many violations (the rest are counted
 * in `dropped`): a 400 reply lists a few, and an array of 100k bad items must
 * not make 100k allocations. */
#define SCHEMA_RESULT_MAX_VIOLATIONS 64

/* schema_result_describe() output, terminator included. Fits an HTTP 400
 * description and one log line. */
#define SCHEMA_DESCRIPTION_MAX 512

/* A load or compile error. text is always NUL-terminated. */
typedef struct schema_error {
    char text[SCHEMA_ERROR_TEXT_MAX];
} schema_error;

typedef struct schema_registry schema_registry;
typedef struct schema schema;

/* One failed assertion. */
typedef struct schema_violation {
    char *instance_path; /* RFC 6901 pointer to the failing value; "" is the instance itself */
    const char *keyword; /* static string: "minimum", "required", ... */
    char *reason;        /* short human text: "must be >= 0" */
} schema_violation;

/* The violations of one schema_validate() call. Declare it with
 * SCHEMA_RESULT_INIT; free its content with schema_result_free(). */
typedef struct schema_result {
    schema_violation *items; /* `count` violations, in the order they were found */
    size_t count;
    size_t dropped; /* violations found beyond SCHEMA_RESULT_MAX_VIOLATIONS */
    size_t cap;
    char *description; /* cache of schema_result_describe() */
} schema_result;

#define SCHEMA_RESULT_INIT                                                                         \
    {                                                                                              \
        0                                                                                          \
    }

/* A new, empty registry. Caller frees with schema_registry_free().
 * Returns NULL only when out of memory. */
schema_registry *schema_registry_new(void);

/* Add one schema document. The registry keeps its own deep copy of `doc`
 * (borrowed; the caller keeps ownership). `uri` is the document's retrieval
 * URI: it is the base against which a relative "$id" is resolved, and the
 * document's id when it has no "$id". It may be NULL when the document has an
 * absolute "$id". Every "$id" and "$anchor" in the document is indexed.
 * Returns 0, or -1 with `err` filled in. When the document has no usable id
 * nothing changed; after any other error (duplicate id, schema nested too
 * deep, out of memory) the registry can only be freed. */
int schema_registry_add(schema_registry *reg, const json_t *doc, const char *uri,
                        schema_error *err);

/* Parse the JSON file at `path` (duplicate keys rejected) and add it like
 * schema_registry_add(), with `uri` as above. Returns 0 or -1 with `err`. */
int schema_registry_add_file(schema_registry *reg, const char *path, const char *uri,
                             schema_error *err);

/* Add every regular file named *.json directly inside `dir` (not in
 * subdirectories), in name order. Each file must carry an absolute "$id".
 * Returns the number of files added, or -1 with `err` naming the file. */
int schema_registry_load_dir(schema_registry *reg, const char *dir, schema_error *err);

/* Compile every added document: resolve all $refs, compile all patterns,
 * check every keyword's value, and reject $ref cycles that would never
 * consume the instance (e.g. {"$ref": "#"} or {"allOf": [{"$ref": "#"}]}).
 * After success the registry is read-only and can be shared by threads.
 * Returns 0, or -1 with `err` filled in; after -1 the registry can only be
 * freed. */
int schema_registry_compile(schema_registry *reg, schema_error *err);

/* The compiled schema whose URI is `uri`: a document or subschema "$id",
 * optionally followed by "#" plus a JSON pointer or an anchor name
 * ("https://tsunagi.example/schemas/common.json#/definitions/Address").
 * Borrowed: valid until schema_registry_free(). NULL when unknown or before
 * schema_registry_compile(). Thread-safe after compile. */
const schema *schema_registry_get(const schema_registry *reg, const char *uri);

/* Number of documents added, and the id of the i-th (in order of addition).
 * The string is borrowed from the registry. NULL when i is out of range. */
size_t schema_registry_size(const schema_registry *reg);
const char *schema_registry_id(const schema_registry *reg, size_t i);
/* The document added under uri, as added (the registry's own copy; borrowed,
 * read-only), or NULL. For serving schemas to clients. */
const json_t *schema_registry_document(const schema_registry *reg, const char *uri);

/* Validate `instance` against `s`. Returns 0 when the instance is valid and
 * 1 when it is not. With `res` non-NULL, every violation is collected in it
 * (its previous content is freed first, so `res` must be SCHEMA_RESULT_INIT
 * or a result of an earlier call); with `res` NULL validation stops at the
 * first violation, which is faster when only yes/no is needed.
 * Thread-safe: no state is shared between calls. Never modifies `instance`. */
int schema_validate(const schema *s, const json_t *instance, schema_result *res);

/* The violations as one line, "<pointer>: <keyword>: <reason>" joined by
 * "; ", e.g. "/temperature: minimum: must be >= -50; /name: type: must be
 * string". The instance itself is written "(root)". At most
 * SCHEMA_DESCRIPTION_MAX - 1 bytes: violations that do not fit are counted
 * as "(and N more)". "" when there are none. Borrowed: valid until `res` is
 * freed or reused. */
const char *schema_result_describe(schema_result *res);

/* Free the content of `res` and leave it as SCHEMA_RESULT_INIT. */
void schema_result_free(schema_result *res);

/* Free the registry, its documents and every compiled schema. NULL is a
 * no-op. */
void schema_registry_free(schema_registry *reg);

#endif
