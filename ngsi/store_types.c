/*
 * ngsi/store_types.c: entity types (GET /v2/types) and the expiry purge.
 *
 * Orion builds the type list with an aggregation pipeline. Aggregation is
 * among what not every MongoDB-compatible server does well, so Tsunagi reads
 * the matching documents with a projection and folds them here; the cost is
 * proportional to the entities in scope, which is what Orion's pipeline
 * costs the database too.
 */
#include "store_private.h"

#include <stdlib.h>
#include <string.h>

/* Add the stored type of each attribute of one entity document into attrs
 * ({"name":{"types":[...]}}), keeping the first-seen order of types. */
static void fold_attrs(const bson_t *doc, json_t *attrs, bool with_types)
{
    bson_iter_t it, a, f;
    char name[NGSI_NAME_MAX + 1];
    if (!bson_iter_init_find(&it, doc, with_types ? "attrs" : "attrNames") ||
        !bson_iter_recurse(&it, &a))
        return;
    while (bson_iter_next(&a)) {
        const char *n = with_types ? bson_iter_key(&a) : bson_iter_utf8(&a, NULL);
        if (n == NULL)
            continue;
        store_bson_decode_name(n, name);
        json_t *entry = json_object_get(attrs, name);
        if (entry == NULL) {
            entry = json_pack("{s:[]}", "types");
            json_object_set_new(attrs, name, entry);
        }
        if (!with_types || !bson_iter_recurse(&a, &f) || !bson_iter_find(&f, "type") ||
            !BSON_ITER_HOLDS_UTF8(&f))
            continue;
        json_t *types = json_object_get(entry, "types");
        const char *t = bson_iter_utf8(&f, NULL);
        bool seen = false;
        for (size_t i = 0; i < json_array_size(types) && !seen; i++)
            seen = strcmp(json_string_value(json_array_get(types, i)), t) == 0;
        if (!seen)
            json_array_append_new(types, json_string(t));
    }
}

/* The type name of an entity document, or NULL. Borrowed from doc. */
static const char *doc_type(const bson_t *doc)
{
    bson_iter_t it;
    if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, "_id.type", &it) &&
        BSON_ITER_HOLDS_UTF8(&it))
        return bson_iter_utf8(&it, NULL);
    return NULL;
}

static int cmp_type(const void *a, const void *b)
{
    return strcmp(((const store_type_info *)a)->type, ((const store_type_info *)b)->type);
}

/* Turn the {"type":{"count":n,"attrs":{...}}} fold into sorted items. */
static void collect_items(json_t *fold, store_types *out)
{
    const char *type;
    json_t *v;
    out->items = calloc(json_object_size(fold) + 1, sizeof *out->items);
    if (out->items == NULL)
        abort();
    json_object_foreach(fold, type, v)
    {
        store_type_info *t = &out->items[out->n++];
        t->type = strdup(type);
        t->count = json_integer_value(json_object_get(v, "count"));
        t->attrs = json_incref(json_object_get(v, "attrs"));
    }
    qsort(out->items, out->n, sizeof *out->items, cmp_type);
}

static void fold_doc(const bson_t *doc, json_t *fold, bool with_attrs)
{
    const char *type = doc_type(doc);
    if (type == NULL)
        return;
    json_t *entry = json_object_get(fold, type);
    if (entry == NULL) {
        entry = json_pack("{s:I,s:{}}", "count", (json_int_t)0, "attrs");
        json_object_set_new(fold, type, entry);
    }
    json_t *count = json_object_get(entry, "count");
    json_integer_set(count, json_integer_value(count) + 1);
    fold_attrs(doc, json_object_get(entry, "attrs"), with_attrs);
}

int store_types_collect(store *s, const char *tenant, const ngsi_paths *paths,
                        const char *only_type, bool with_attrs, store_types *out, ngsi_error *err)
{
    store_conn c;
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, proj;
    const bson_t *doc;
    bson_error_t e;
    memset(out, 0, sizeof *out);
    if (only_type != NULL)
        BSON_APPEND_UTF8(&filter, "_id.type", only_type);
    store_bson_append_paths(&filter, paths);
    store_bson_append_not_expired(&filter, ngsi_now());
    bson_append_document_begin(&opts, "projection", -1, &proj);
    BSON_APPEND_INT32(&proj, "_id", 1);
    BSON_APPEND_INT32(&proj, with_attrs ? "attrs" : "attrNames", 1);
    bson_append_document_end(&opts, &proj);
    json_t *fold = json_object();
    store_acquire(s, tenant, STORE_COL_ENTITIES, &c);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c.col, &filter, &opts, NULL);
    while (mongoc_cursor_next(cur, &doc))
        fold_doc(doc, fold, with_attrs);
    bool failed = mongoc_cursor_error(cur, &e);
    mongoc_cursor_destroy(cur);
    store_release(s, &c);
    bson_destroy(&filter);
    bson_destroy(&opts);
    if (!failed)
        collect_items(fold, out);
    json_decref(fold);
    return failed ? store_fail(err, &e) : 0;
}

void store_types_clear(store_types *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->items[i].type);
        json_decref(t->items[i].attrs);
    }
    free(t->items);
    memset(t, 0, sizeof *t);
}

/* Whether db is one of ours: the prefix itself or "<prefix>-<tenant>". */
static bool our_database(const store *s, const char *db)
{
    size_t n = strlen(s->db);
    return strncmp(db, s->db, n) == 0 && (db[n] == '\0' || db[n] == '-');
}

static long long purge_db(mongoc_client_t *client, const char *db, double now, ngsi_error *err)
{
    bson_t filter = BSON_INITIALIZER, cond, reply;
    bson_error_t e;
    bson_iter_t it;
    bson_append_document_begin(&filter, "expDate", -1, &cond);
    BSON_APPEND_DATE_TIME(&cond, "$lte", (int64_t)(now * 1000.0));
    bson_append_document_end(&filter, &cond);
    mongoc_collection_t *col = mongoc_client_get_collection(client, db, STORE_COL_ENTITIES);
    bool ok = mongoc_collection_delete_many(col, &filter, NULL, &reply, &e);
    long long n = 0;
    if (ok && bson_iter_init_find(&it, &reply, "deletedCount"))
        n = bson_iter_as_int64(&it);
    mongoc_collection_destroy(col);
    bson_destroy(&reply);
    bson_destroy(&filter);
    return ok ? n : store_fail(err, &e);
}

long long store_purge_expired(store *s, double now, ngsi_error *err)
{
    bson_error_t e;
    mongoc_client_t *client = mongoc_client_pool_pop(s->pool);
    char **names = mongoc_client_get_database_names_with_opts(client, NULL, &e);
    long long total = 0;
    if (names == NULL) {
        mongoc_client_pool_push(s->pool, client);
        return store_fail(err, &e);
    }
    for (size_t i = 0; names[i] != NULL && total >= 0; i++) {
        if (!our_database(s, names[i]))
            continue;
        long long n = purge_db(client, names[i], now, err);
        total = n < 0 ? -1 : total + n;
    }
    bson_strfreev(names);
    mongoc_client_pool_push(s->pool, client);
    return total;
}
