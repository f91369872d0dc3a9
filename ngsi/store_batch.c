/*
 * ngsi/store_batch.c: many entities in one round trip, for /v2/op/update.
 *
 * A batch reads every entity it names with one query on exact primary keys
 * ({_id: {$in: [...]}}, which any MongoDB-compatible server answers from its
 * primary index), plans each change in C, and writes them all with one
 * unordered bulk operation. Creates are upserts on the full document, so an
 * expired entity not yet purged is simply replaced.
 */
#include "store_private.h"

#include <string.h>

struct store_bulk {
    store *s;
    store_conn conn;
    mongoc_bulk_operation_t *op;
    size_t nops;
};

int store_entity_get_many(store *s, const char *tenant, const ngsi_entity *const *keys, size_t n,
                          store_result *out, ngsi_error *err)
{
    store_conn c;
    bson_t filter = BSON_INITIALIZER, cond, in;
    const bson_t *doc;
    bson_error_t e;
    char idx[16];
    const char *k;
    memset(out, 0, sizeof *out);
    bson_append_document_begin(&filter, "_id", -1, &cond);
    bson_append_array_begin(&cond, "$in", -1, &in);
    for (size_t i = 0; i < n; i++) {
        bson_uint32_to_string((uint32_t)i, &k, idx, sizeof idx);
        store_bson_append_key(&in, k, keys[i]);
    }
    bson_append_array_end(&cond, &in);
    bson_append_document_end(&filter, &cond);
    store_acquire(s, tenant, STORE_COL_ENTITIES, &c);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c.col, &filter, NULL, NULL);
    double now = ngsi_now();
    while (mongoc_cursor_next(cur, &doc)) {
        ngsi_entity *ent = store_bson_to_entity(doc);
        if (ent == NULL || (ent->exp_date != 0 && ent->exp_date <= now)) {
            ngsi_entity_free(ent); /* expired: as good as absent */
            continue;
        }
        store_result_push(out, ent);
    }
    bool failed = mongoc_cursor_error(cur, &e);
    mongoc_cursor_destroy(cur);
    store_release(s, &c);
    bson_destroy(&filter);
    if (failed) {
        store_result_clear(out);
        return store_fail(err, &e);
    }
    return 0;
}

store_bulk *store_bulk_new(store *s, const char *tenant)
{
    store_bulk *b = calloc(1, sizeof *b);
    bson_t opts = BSON_INITIALIZER;
    if (b == NULL)
        abort();
    b->s = s;
    store_acquire(s, tenant, STORE_COL_ENTITIES, &b->conn);
    store_ensure_indexes(s, &b->conn, tenant);
    BSON_APPEND_BOOL(&opts, "ordered", false);
    b->op = mongoc_collection_create_bulk_operation_with_opts(b->conn.col, &opts);
    bson_destroy(&opts);
    return b;
}

static int bulk_added(store_bulk *b, bool ok, const bson_error_t *e, ngsi_error *err)
{
    if (!ok)
        return ngsi_internal(err, "Database Error (%s)", e->message);
    b->nops++;
    return 0;
}

int store_bulk_create(store_bulk *b, const ngsi_entity *e, ngsi_error *err)
{
    bson_t filter = BSON_INITIALIZER, doc = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    bson_error_t be;
    store_location loc;
    if (store_location_of(e, &loc, err) < 0)
        return -1;
    store_bson_from_entity(e, &loc, &doc);
    store_location_clear(&loc);
    store_bson_append_key(&filter, "_id", e);
    BSON_APPEND_BOOL(&opts, "upsert", true);
    bool ok = mongoc_bulk_operation_replace_one_with_opts(b->op, &filter, &doc, &opts, &be);
    bson_destroy(&filter);
    bson_destroy(&doc);
    bson_destroy(&opts);
    return bulk_added(b, ok, &be, err);
}

int store_bulk_update(store_bulk *b, const store_update *u, ngsi_error *err)
{
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER;
    bson_error_t be;
    if (store_update_document(u, &update, err) < 0) {
        bson_destroy(&update);
        return -1;
    }
    store_bson_append_key(&filter, "_id", u->key);
    bool ok = mongoc_bulk_operation_update_one_with_opts(b->op, &filter, &update, NULL, &be);
    bson_destroy(&filter);
    bson_destroy(&update);
    return bulk_added(b, ok, &be, err);
}

int store_bulk_delete(store_bulk *b, const ngsi_entity *key, ngsi_error *err)
{
    bson_t filter = BSON_INITIALIZER;
    bson_error_t be;
    store_bson_append_key(&filter, "_id", key);
    bool ok = mongoc_bulk_operation_remove_one_with_opts(b->op, &filter, NULL, &be);
    bson_destroy(&filter);
    return bulk_added(b, ok, &be, err);
}

int store_bulk_execute(store_bulk *b, ngsi_error *err)
{
    bson_t reply;
    bson_error_t e;
    if (b->nops == 0)
        return 0;
    bool ok = mongoc_bulk_operation_execute(b->op, &reply, &e) != 0;
    bson_destroy(&reply);
    return ok ? 0 : store_fail(err, &e);
}

void store_bulk_free(store_bulk *b)
{
    if (b == NULL)
        return;
    mongoc_bulk_operation_destroy(b->op);
    store_release(b->s, &b->conn);
    free(b);
}

long long store_entity_delete_where(store *s, const char *tenant, const store_query *q,
                                    ngsi_error *err)
{
    store_conn c;
    bson_t filter = BSON_INITIALIZER, reply;
    bson_error_t e;
    bson_iter_t it;
    store_query_filter(q, ngsi_now(), &filter);
    store_acquire(s, tenant, STORE_COL_ENTITIES, &c);
    bool ok = mongoc_collection_delete_many(c.col, &filter, NULL, &reply, &e);
    store_release(s, &c);
    long long n = 0;
    if (ok && bson_iter_init_find(&it, &reply, "deletedCount"))
        n = bson_iter_as_int64(&it);
    bson_destroy(&reply);
    bson_destroy(&filter);
    return ok ? n : store_fail(err, &e);
}
