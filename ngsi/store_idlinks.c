/*
 * ngsi/store_idlinks.c: the id-link table, upstream person ids to common IDs.
 *
 * A link document is {_id: {system, value}, commonId, creDate, modDate} in
 * the tenant's STORE_COL_IDLINKS collection. The pair lives in _id so that
 * MongoDB's always-present unique _id index enforces one link per pair and
 * answers every lookup, on real MongoDB and on servers that index nothing
 * else alike. The key's fields are always written in the same order, since
 * MongoDB compares embedded documents field by field in order.
 *
 * A put is one upsert: $set the common ID and modDate, $setOnInsert creDate,
 * so concurrent puts of the same pair never duplicate it.
 */
#include "store_private.h"

#include <stdlib.h>
#include <string.h>

static void append_key(bson_t *b, const char *system, const char *value)
{
    bson_t key;
    bson_append_document_begin(b, "_id", -1, &key);
    BSON_APPEND_UTF8(&key, "system", system);
    BSON_APPEND_UTF8(&key, "value", value);
    bson_append_document_end(b, &key);
}

/* How many documents the write reply says field counts (0 when absent). */
static long long reply_count(const bson_t *reply, const char *field)
{
    bson_iter_t it;
    return bson_iter_init_find(&it, reply, field) ? bson_iter_as_int64(&it) : 0;
}

int store_idlink_put(store *s, const char *tenant, const char *system, const char *value,
                     const char *common_id, double now, bool *created, ngsi_error *err)
{
    store_conn c;
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    bson_t set, on_insert, reply;
    bson_error_t e;
    append_key(&filter, system, value);
    bson_append_document_begin(&update, "$set", -1, &set);
    BSON_APPEND_UTF8(&set, "commonId", common_id);
    BSON_APPEND_DOUBLE(&set, "modDate", now);
    bson_append_document_end(&update, &set);
    bson_append_document_begin(&update, "$setOnInsert", -1, &on_insert);
    BSON_APPEND_DOUBLE(&on_insert, "creDate", now);
    bson_append_document_end(&update, &on_insert);
    BSON_APPEND_BOOL(&opts, "upsert", true);
    store_acquire(s, tenant, STORE_COL_IDLINKS, &c);
    bool ok = mongoc_collection_update_one(c.col, &filter, &update, &opts, &reply, &e);
    store_release(s, &c);
    if (ok)
        *created = reply_count(&reply, "upsertedCount") > 0;
    bson_destroy(&reply);
    bson_destroy(&filter);
    bson_destroy(&update);
    bson_destroy(&opts);
    return ok ? 0 : store_fail(err, &e);
}

static char *dup_utf8(const bson_t *doc, const char *path)
{
    bson_iter_t it;
    if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, path, &it) &&
        BSON_ITER_HOLDS_UTF8(&it))
        return strdup(bson_iter_utf8(&it, NULL));
    return NULL;
}

static double get_double(const bson_t *doc, const char *field)
{
    bson_iter_t it;
    return bson_iter_init_find(&it, doc, field) && BSON_ITER_HOLDS_NUMBER(&it)
               ? bson_iter_as_double(&it)
               : 0;
}

int store_idlink_get(store *s, const char *tenant, const char *system, const char *value,
                     store_idlink *out, ngsi_error *err)
{
    store_conn c;
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    const bson_t *doc;
    bson_error_t e;
    memset(out, 0, sizeof *out);
    append_key(&filter, system, value);
    BSON_APPEND_INT64(&opts, "limit", 1);
    store_acquire(s, tenant, STORE_COL_IDLINKS, &c);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c.col, &filter, &opts, NULL);
    bool found = mongoc_cursor_next(cur, &doc);
    if (found) {
        out->system = dup_utf8(doc, "_id.system");
        out->value = dup_utf8(doc, "_id.value");
        out->common_id = dup_utf8(doc, "commonId");
        out->cre_date = get_double(doc, "creDate");
        out->mod_date = get_double(doc, "modDate");
    }
    bool failed = mongoc_cursor_error(cur, &e);
    mongoc_cursor_destroy(cur);
    store_release(s, &c);
    bson_destroy(&filter);
    bson_destroy(&opts);
    if (failed) {
        store_idlink_clear(out);
        return store_fail(err, &e);
    }
    if (!found || out->system == NULL || out->value == NULL || out->common_id == NULL) {
        store_idlink_clear(out);
        return ngsi_not_found(err, "No id link for this system and value");
    }
    return 0;
}

int store_idlink_delete(store *s, const char *tenant, const char *system, const char *value,
                        ngsi_error *err)
{
    store_conn c;
    bson_t filter = BSON_INITIALIZER, reply;
    bson_error_t e;
    append_key(&filter, system, value);
    store_acquire(s, tenant, STORE_COL_IDLINKS, &c);
    bool ok = mongoc_collection_delete_one(c.col, &filter, NULL, &reply, &e);
    store_release(s, &c);
    long long n = ok ? reply_count(&reply, "deletedCount") : 0;
    bson_destroy(&reply);
    bson_destroy(&filter);
    if (!ok)
        return store_fail(err, &e);
    return n > 0 ? 0 : ngsi_not_found(err, "No id link for this system and value");
}

void store_idlink_clear(store_idlink *l)
{
    free(l->system);
    free(l->value);
    free(l->common_id);
    memset(l, 0, sizeof *l);
}
