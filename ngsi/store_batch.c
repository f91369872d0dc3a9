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

#include <stdint.h>
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
        return store_fail(err, e);
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

/* Read every entity q selects (one unbounded page), so the deletion can
 * report them. */
static int select_all(store *s, const char *tenant, const store_query *q, store_result *out,
                      ngsi_error *err)
{
    store_query all = *q;
    all.offset = 0;
    all.limit = SIZE_MAX / 2;
    all.count = false;
    return store_entity_query(s, tenant, &all, out, err);
}

long long store_entity_delete_where(store *s, const char *tenant, const store_query *q,
                                    store_result *deleted, ngsi_error *err)
{
    if (select_all(s, tenant, q, deleted, err) < 0)
        return -1;
    if (deleted->n == 0)
        return 0;
    /* Delete exactly what was read, by primary key, in one bulk. */
    store_bulk *b = store_bulk_new(s, tenant);
    int rc = 0;
    for (size_t i = 0; i < deleted->n && rc == 0; i++)
        rc = store_bulk_delete(b, deleted->items[i], err);
    if (rc == 0)
        rc = store_bulk_execute(b, err);
    store_bulk_free(b);
    if (rc < 0) {
        store_result_clear(deleted);
        return -1;
    }
    return (long long)deleted->n;
}
