/*
 * ngsi/store_docs.c: plain JSON documents in a tenant's database.
 *
 * The broker keeps a few records of its own next to the entities (consents and
 * provision records, in collections of the tenant's database). They are small flat
 * documents that the broker builds as JSON, so this file moves JSON in and out of
 * MongoDB through JSON text (libbson reads and writes it) instead of a second document
 * model. Only plain values are used: strings, numbers (times are epoch seconds as
 * doubles), booleans, arrays and objects.
 *
 * Indexes are ensured before the first insert into a tenant's collection and
 * rechecked every STORE_INDEX_RECHECK_S, sharing the entity indexes' bookkeeping, so
 * the steady state costs no extra round trip.
 */
#include "store_private.h"

#include <stdlib.h>
#include <string.h>

/* JSON to BSON. Returns 0, or -1 with err filled in (500: our JSON is always valid,
 * so this is a programming error). */
static int to_bson(const json_t *j, bson_t *out, ngsi_error *err)
{
    bson_error_t e;
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    bool ok = text != NULL && bson_init_from_json(out, text, -1, &e);
    free(text);
    if (!ok) {
        bson_init(out);
        return ngsi_internal(err, "cannot convert a document to BSON");
    }
    return 0;
}

/* BSON to JSON, leaving out an ObjectId _id. New reference, or NULL. */
static json_t *to_json(const bson_t *doc)
{
    size_t len;
    char *text = bson_as_relaxed_extended_json(doc, &len);
    json_t *j = text ? json_loadb(text, len, 0, NULL) : NULL;
    bson_free(text);
    json_t *id = json_object_get(j, "_id");
    if (json_is_object(id) && json_object_get(id, "$oid") != NULL)
        json_object_del(j, "_id");
    return j;
}

static void ensure_doc_indexes(store *s, store_conn *c, const char *tenant, const char *collection,
                               const store_doc_index *indexes)
{
    char db[STORE_DB_NAME_MAX], key[STORE_INDEX_KEY_MAX];
    if (indexes == NULL || indexes[0].name == NULL)
        return;
    snprintf(key, sizeof key, "%s/%s", store_db_name(s, tenant, db, sizeof db), collection);
    if (store_recently_indexed(s, key, ngsi_now()))
        return;
    bson_t cmd = BSON_INITIALIZER, arr, spec, keys;
    char idx[16];
    const char *k;
    BSON_APPEND_UTF8(&cmd, "createIndexes", collection);
    bson_append_array_begin(&cmd, "indexes", -1, &arr);
    for (uint32_t i = 0; indexes[i].name != NULL; i++) {
        bson_error_t e;
        bson_uint32_to_string(i, &k, idx, sizeof idx);
        bson_append_document_begin(&arr, k, -1, &spec);
        if (bson_init_from_json(&keys, indexes[i].keys, -1, &e)) {
            BSON_APPEND_DOCUMENT(&spec, "key", &keys);
            bson_destroy(&keys);
        }
        BSON_APPEND_UTF8(&spec, "name", indexes[i].name);
        bson_append_document_end(&arr, &spec);
    }
    bson_append_array_end(&cmd, &arr);
    /* A failure costs speed, not correctness; the next insert retries. */
    if (!mongoc_collection_write_command_with_opts(c->col, &cmd, NULL, NULL, NULL))
        store_forget_indexed(s, key);
    bson_destroy(&cmd);
}

int store_docs_insert(store *s, const char *tenant, const char *collection,
                      const store_doc_index *indexes, json_t *const *docs, size_t n,
                      ngsi_error *err)
{
    if (n == 0)
        return 0;
    bson_t *b = calloc(n, sizeof *b);
    const bson_t **ptrs = calloc(n, sizeof *ptrs);
    if (b == NULL || ptrs == NULL)
        abort();
    int rc = 0;
    size_t made = 0;
    for (; made < n && rc == 0; made++) {
        rc = to_bson(docs[made], &b[made], err);
        ptrs[made] = &b[made];
    }
    if (rc == 0) {
        store_conn c;
        bson_error_t e;
        store_acquire(s, tenant, collection, &c);
        ensure_doc_indexes(s, &c, tenant, collection, indexes);
        bool ok = mongoc_collection_insert_many(c.col, ptrs, n, NULL, NULL, &e);
        store_release(s, &c);
        rc = ok ? 0 : store_fail(err, &e);
    }
    for (size_t i = 0; i < made; i++)
        bson_destroy(&b[i]);
    free(b);
    free(ptrs);
    return rc;
}

int store_docs_find(store *s, const char *tenant, const char *collection, const json_t *filter,
                    const json_t *opts, json_t **out, ngsi_error *err)
{
    bson_t f, o = BSON_INITIALIZER;
    const bson_t *doc;
    bson_error_t e;
    *out = NULL;
    if (to_bson(filter, &f, err) < 0)
        return -1;
    if (opts != NULL) {
        bson_destroy(&o);
        if (to_bson(opts, &o, err) < 0) {
            bson_destroy(&f);
            return -1;
        }
    }
    store_conn c;
    json_t *arr = json_array();
    store_acquire(s, tenant, collection, &c);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c.col, &f, &o, NULL);
    while (mongoc_cursor_next(cur, &doc)) {
        json_t *j = to_json(doc);
        if (j != NULL)
            json_array_append_new(arr, j);
    }
    bool failed = mongoc_cursor_error(cur, &e);
    mongoc_cursor_destroy(cur);
    store_release(s, &c);
    bson_destroy(&f);
    bson_destroy(&o);
    if (failed) {
        json_decref(arr);
        return store_fail(err, &e);
    }
    *out = arr;
    return 0;
}

long long store_docs_count(store *s, const char *tenant, const char *collection,
                           const json_t *filter, ngsi_error *err)
{
    bson_t f;
    if (to_bson(filter, &f, err) < 0)
        return -1;
    store_conn c;
    store_acquire(s, tenant, collection, &c);
    long long n = store_count(&c, &f, err);
    store_release(s, &c);
    bson_destroy(&f);
    return n;
}

long long store_docs_update(store *s, const char *tenant, const char *collection,
                            const json_t *filter, const json_t *update, ngsi_error *err)
{
    bson_t f, u, reply;
    bson_error_t e;
    bson_iter_t it;
    if (to_bson(filter, &f, err) < 0)
        return -1;
    if (to_bson(update, &u, err) < 0) {
        bson_destroy(&f);
        return -1;
    }
    store_conn c;
    store_acquire(s, tenant, collection, &c);
    bool ok = mongoc_collection_update_one(c.col, &f, &u, NULL, &reply, &e);
    store_release(s, &c);
    long long matched = 0;
    if (ok && bson_iter_init_find(&it, &reply, "matchedCount") && BSON_ITER_HOLDS_NUMBER(&it))
        matched = bson_iter_as_int64(&it);
    bson_destroy(&reply);
    bson_destroy(&f);
    bson_destroy(&u);
    return ok ? matched : store_fail(err, &e);
}
