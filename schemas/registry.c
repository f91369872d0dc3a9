/*
 * schemas/registry.c: the schema registry: documents in, compiled schemas
 * out.
 *
 * The registry owns deep copies of the documents added to it (so compiled
 * nodes can borrow their strings and values for as long as the registry
 * lives, whatever the caller does with its own json_t), the indexes built
 * from them, and every allocation the compiler makes, all freed together by
 * schema_registry_free(). Building is single-threaded; after a successful
 * schema_registry_compile() nothing in it changes again, which is what makes
 * concurrent schema_registry_get() and schema_validate() safe without locks.
 *
 * Schemas are never fetched: a document is known by its "$id" (or by the URI
 * given when adding it), and a "$ref" to anything else fails at compile time.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schema_private.h"

/* Longest path accepted for a schema file: longer ones are refused rather
 * than truncated into a different file name. */
#define SCHEMA_PATH_MAX 4096

schema_registry *schema_registry_new(void)
{
    schema_registry *reg = calloc(1, sizeof *reg);
    if (!reg)
        return NULL;
    reg->mctx = regex_match_context_new();
    if (!reg->mctx) {
        free(reg);
        return NULL;
    }
    return reg;
}

void *registry_own(schema_registry *reg, void *p)
{
    if (!p)
        return NULL;
    if (reg->nowned == reg->owned_cap) {
        size_t cap = reg->owned_cap ? reg->owned_cap * 2 : 64;
        void **owned = realloc(reg->owned, cap * sizeof *owned);
        if (!owned) {
            free(p);
            return NULL;
        }
        reg->owned = owned;
        reg->owned_cap = cap;
    }
    reg->owned[reg->nowned++] = p;
    return p;
}

void *registry_calloc(schema_registry *reg, size_t n, size_t size)
{
    return registry_own(reg, calloc(n ? n : 1, size));
}

const char *registry_intern(schema_registry *reg, const char *s, size_t len)
{
    const char *found = map_get(&reg->strings, s, len);
    if (found)
        return found;
    char *copy = registry_own(reg, malloc(len + 1));
    if (!copy)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    return map_put(&reg->strings, s, len, copy) < 0 ? NULL : copy;
}

static int push_doc(schema_registry *reg, json_t *doc, char *id)
{
    if (reg->ndocs == reg->docs_cap) {
        size_t cap = reg->docs_cap ? reg->docs_cap * 2 : 16;
        json_t **docs = realloc(reg->docs, cap * sizeof *docs);
        if (!docs)
            return -1;
        reg->docs = docs;
        char **ids = realloc(reg->doc_ids, cap * sizeof *ids);
        if (!ids)
            return -1;
        reg->doc_ids = ids;
        reg->docs_cap = cap;
    }
    reg->docs[reg->ndocs] = doc;
    reg->doc_ids[reg->ndocs++] = id;
    return 0;
}

/* The document's own id: its "$id" resolved against `uri`, else `uri`,
 * without fragment. New string, caller frees; NULL when there is none. */
static char *document_id(const json_t *doc, const char *uri)
{
    const char *id = NULL;
    if (json_is_object(doc) &&
        !(index_dialect(json_object_get(doc, "$schema"), DIALECT_DRAFT7) == DIALECT_DRAFT7 &&
          json_object_get(doc, "$ref")))
        id = json_string_value(json_object_get(doc, "$id"));
    char *abs = id ? uri_resolve(uri, id) : uri ? uri_resolve(NULL, uri) : NULL;
    if (abs)
        abs[uri_fragment_at(abs)] = '\0';
    return abs;
}

/* Make the retrieval URI find the document too (a remote without "$id"). */
static int register_retrieval_uri(schema_registry *reg, const json_t *doc, const char *uri,
                                  schema_error *err)
{
    size_t len = uri_fragment_at(uri);
    int rc = map_put(&reg->ids, uri, len, (void *)doc);
    if (rc == 1 && map_get(&reg->ids, uri, len) != doc) {
        schema_error_set(err, "duplicate schema id \"%.*s\"", (int)len, uri);
        return -1;
    }
    return rc < 0 ? -1 : 0;
}

int schema_registry_add(schema_registry *reg, const json_t *doc, const char *uri, schema_error *err)
{
    if (reg->state != 0) {
        schema_error_set(err, reg->state > 0
                                  ? "registry already compiled: schemas can no longer be added"
                                  : "registry unusable after an earlier error");
        return -1;
    }
    char *id = document_id(doc, uri);
    if (!id) {
        schema_error_set(err, "schema has no absolute \"$id\" and no URI was given for it");
        return -1;
    }
    json_t *copy = json_deep_copy(doc);
    if (!copy || push_doc(reg, copy, id) < 0) {
        json_decref(copy);
        free(id);
        schema_error_set(err, "out of memory");
        return -1;
    }
    const char *base = uri ? registry_intern(reg, uri, uri_fragment_at(uri)) : NULL;
    if (uri && !base) {
        schema_error_set(err, "out of memory");
        reg->state = -1;
        return -1;
    }
    if (index_document(reg, copy, base, err) < 0 ||
        (uri && register_retrieval_uri(reg, copy, uri, err) < 0)) {
        reg->state = -1; /* half-indexed: only schema_registry_free() is safe now */
        return -1;
    }
    return 0;
}

int schema_registry_add_file(schema_registry *reg, const char *path, const char *uri,
                             schema_error *err)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        schema_error_set(err, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        return -1;
    }
    schema_error inner;
    int rc = schema_registry_add(reg, doc, uri, &inner);
    json_decref(doc);
    if (rc < 0)
        schema_error_set(err, "%s: %s", path, inner.text);
    return rc;
}

static bool is_json_file(const char *dir, const char *name, char *path, size_t size)
{
    size_t n = strlen(name);
    if (n < 6 || strcmp(name + n - 5, ".json") != 0 || name[0] == '.')
        return false;
    struct stat st;
    int len = snprintf(path, size, "%s/%s", dir, name);
    return len > 0 && (size_t)len < size && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.json names in `dir`, sorted. New array of new strings, caller frees
 * both; NULL with `err` on failure. */
static char **list_json_files(const char *dir, size_t *count, schema_error *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        schema_error_set(err, "%s: cannot open directory", dir);
        return NULL;
    }
    char **names = calloc(1, sizeof *names), path[SCHEMA_PATH_MAX];
    size_t n = 0, cap = 1;
    bool oom = !names;
    for (struct dirent *e; !oom && (e = readdir(d));) {
        if (!is_json_file(dir, e->d_name, path, sizeof path))
            continue;
        if (n == cap) {
            char **bigger = realloc(names, cap * 2 * sizeof *names);
            oom = !bigger;
            names = bigger ? bigger : names;
            cap = bigger ? cap * 2 : cap;
        }
        if (!oom && !(names[n++] = strdup(e->d_name)))
            oom = true;
    }
    closedir(d);
    if (oom) {
        for (size_t i = 0; names && i < n; i++)
            free(names[i]);
        free(names);
        schema_error_set(err, "%s: out of memory", dir);
        return NULL;
    }
    qsort(names, n, sizeof *names, by_name);
    *count = n;
    return names;
}

int schema_registry_load_dir(schema_registry *reg, const char *dir, schema_error *err)
{
    size_t n = 0;
    char **names = list_json_files(dir, &n, err);
    if (!names)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char path[SCHEMA_PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (rc == 0 && schema_registry_add_file(reg, path, NULL, err) < 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc < 0 ? -1 : (int)n;
}

int schema_registry_compile(schema_registry *reg, schema_error *err)
{
    if (reg->state != 0) {
        schema_error_set(err, reg->state > 0 ? "registry already compiled"
                                             : "registry failed to compile before");
        return -1;
    }
    int rc = compile_registry(reg, err);
    reg->state = rc < 0 ? -1 : 1;
    return rc;
}

const schema *schema_registry_get(const schema_registry *reg, const char *uri)
{
    if (!reg || reg->state != 1 || !uri)
        return NULL;
    return compile_lookup(reg, uri);
}

size_t schema_registry_size(const schema_registry *reg)
{
    return reg->ndocs;
}

const char *schema_registry_id(const schema_registry *reg, size_t i)
{
    return i < reg->ndocs ? reg->doc_ids[i] : NULL;
}

const json_t *schema_registry_document(const schema_registry *reg, const char *uri)
{
    for (size_t i = 0; i < reg->ndocs; i++)
        if (strcmp(reg->doc_ids[i], uri) == 0)
            return reg->docs[i];
    return NULL;
}

void schema_registry_free(schema_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->ndocs; i++) {
        json_decref(reg->docs[i]);
        free(reg->doc_ids[i]);
    }
    free(reg->docs);
    free(reg->doc_ids);
    for (size_t i = 0; i < reg->nregexes; i++)
        regex_free(reg->regexes[i]);
    free(reg->regexes);
    for (size_t i = 0; i < reg->nowned; i++)
        free(reg->owned[i]);
    free(reg->owned);
    map_free(&reg->ids);
    map_free(&reg->sites);
    map_free(&reg->nodes);
    map_free(&reg->strings);
    pcre2_match_context_free(reg->mctx);
    free(reg);
}
