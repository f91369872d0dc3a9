/*
 * ngsi/store_entity.c: entity create, read, update, delete and list.
 *
 * Reads that name one entity by its full key (id, type, one exact service
 * path) use an exact match on _id, which every MongoDB-compatible server
 * answers from its primary index; other reads filter on _id.id and friends.
 * Updates touch only the attributes they change ($set/$unset on attrs.<name>
 * with $addToSet/$pull on attrNames), so two brokers updating different
 * attributes of one entity at once do not overwrite each other.
 */
#include "store_private.h"

#include <stdint.h>
#include <string.h>

/* MongoDB's duplicate key error code. */
#define MONGO_DUPLICATE_KEY 11000
static bool single_exact_path(const ngsi_paths *paths)
{
    return paths != NULL && paths->n == 1 && strchr(paths->path[0], '#') == NULL;
}

int store_entity_create(store *s, const char *tenant, const ngsi_entity *e, ngsi_error *err)
{
    store_conn c;
    bson_t doc = BSON_INITIALIZER;
    bson_error_t e2;
    store_location loc;
    if (store_location_of(e, &loc, err) < 0)
        return -1;
    store_bson_from_entity(e, &loc, &doc);
    store_location_clear(&loc);
    store_acquire(s, tenant, STORE_COL_ENTITIES, &c);
    store_ensure_indexes(s, &c, tenant);
    bool ok = mongoc_collection_insert_one(c.col, &doc, NULL, NULL, &e2);
    store_release(s, &c);
    bson_destroy(&doc);
    if (ok)
        return 0;
    if (e2.code == MONGO_DUPLICATE_KEY)
        return ngsi_fail(err, 422, "Unprocessable", NGSI_TXT_ALREADY_EXISTS);
    return store_fail(err, &e2);
}

/* Filter for one id (and type) under paths, hiding expired entities. */
static void one_entity_filter(const char *id, const char *type, const ngsi_paths *paths,
                              bson_t *filter)
{
    BSON_APPEND_UTF8(filter, "_id.id", id);
    if (type != NULL)
        BSON_APPEND_UTF8(filter, "_id.type", type);
    store_bson_append_paths(filter, paths);
    store_bson_append_not_expired(filter, ngsi_now());
}

/* Read up to two matches of filter into found[]; returns how many or -1. */
static int find_two(store_conn *c, const bson_t *filter, ngsi_entity *found[2], ngsi_error *err)
{
    bson_t opts = BSON_INITIALIZER;
    const bson_t *doc;
    bson_error_t e;
    int n = 0;
    BSON_APPEND_INT64(&opts, "limit", 2);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c->col, filter, &opts, NULL);
    while (n < 2 && mongoc_cursor_next(cur, &doc)) {
        found[n] = store_bson_to_entity(doc);
        if (found[n] != NULL)
            n++;
    }
    bool failed = mongoc_cursor_error(cur, &e);
    mongoc_cursor_destroy(cur);
    bson_destroy(&opts);
    if (failed) {
        for (int i = 0; i < n; i++)
            ngsi_entity_free(found[i]);
        return store_fail(err, &e);
    }
    return n;
}

int store_entity_get(store *s, const char *tenant, const char *id, const char *type,
                     const ngsi_paths *paths, ngsi_entity **out, ngsi_error *err)
{
    store_conn c;
    bson_t filter = BSON_INITIALIZER;
    ngsi_entity *found[2] = {NULL, NULL};
    *out = NULL;
    if (type != NULL && single_exact_path(paths)) {
        ngsi_entity key = {.id = (char *)id, .type = (char *)type, .service_path = paths->path[0]};
        store_bson_append_key(&filter, "_id", &key);
    } else {
        one_entity_filter(id, type, paths, &filter);
    }
    store_acquire(s, tenant, STORE_COL_ENTITIES, &c);
    int n = find_two(&c, &filter, found, err);
    store_release(s, &c);
    bson_destroy(&filter);
    if (n == 1 && found[0]->exp_date != 0 && found[0]->exp_date <= ngsi_now()) {
        ngsi_entity_free(found[0]); /* expired: invisible until purged */
        n = 0;
    }
    if (n < 0)
        return -1;
    if (n == 0)
        return ngsi_not_found(err, NGSI_TXT_ENTITY_NOT_FOUND);
    if (n == 2) {
        ngsi_entity_free(found[0]);
        ngsi_entity_free(found[1]);
        return ngsi_fail(err, 409, "TooManyResults", NGSI_TXT_TOO_MANY);
    }
    *out = found[0];
    return 0;
}

/* ------------------------------------------------------------- updates */

static void append_names(bson_t *b, const char *key, const ngsi_attr *set, size_t nset,
                         const char *const *names, size_t nnames)
{
    bson_t arr;
    char idx[16];
    const char *k;
    uint32_t n = 0;
    bson_append_array_begin(b, key, -1, &arr);
    for (size_t i = 0; i < nset; i++) {
        bson_uint32_to_string(n++, &k, idx, sizeof idx);
        bson_append_utf8(&arr, k, -1, set[i].name, -1);
    }
    for (size_t i = 0; i < nnames; i++) {
        bson_uint32_to_string(n++, &k, idx, sizeof idx);
        bson_append_utf8(&arr, k, -1, names[i], -1);
    }
    bson_append_array_end(b, &arr);
}

static void build_set(const store_update *u, const store_location *loc, bson_t *update)
{
    bson_t set, attrs;
    char key[sizeof "attrs." + NGSI_NAME_MAX];
    bson_append_document_begin(update, "$set", -1, &set);
    if (u->replace) {
        bson_append_document_begin(&set, "attrs", -1, &attrs);
        for (size_t i = 0; i < u->nset; i++) {
            store_bson_encode_name(u->set[i].name, key);
            store_bson_append_attr(&attrs, key, &u->set[i]);
        }
        bson_append_document_end(&set, &attrs);
        append_names(&set, "attrNames", u->set, u->nset, NULL, 0);
    } else {
        for (size_t i = 0; i < u->nset; i++) {
            memcpy(key, "attrs.", 6);
            store_bson_encode_name(u->set[i].name, key + 6);
            store_bson_append_attr(&set, key, &u->set[i]);
        }
    }
    BSON_APPEND_DOUBLE(&set, "modDate", u->mod_date);
    if (u->correlator != NULL)
        BSON_APPEND_UTF8(&set, "lastCorrelator", u->correlator);
    if (u->expires > 0)
        BSON_APPEND_DATE_TIME(&set, "expDate", (int64_t)(u->exp_date * 1000.0));
    if (loc->attr != NULL)
        store_bson_append_location(&set, "location", loc);
    bson_append_document_end(update, &set);
}

static void build_unset(const store_update *u, const store_location *loc, bson_t *update)
{
    bson_t unset;
    char key[sizeof "attrs." + NGSI_NAME_MAX];
    if (u->nunset == 0 && u->expires >= 0 && loc->attr != NULL)
        return;
    bson_append_document_begin(update, "$unset", -1, &unset);
    for (size_t i = 0; i < u->nunset; i++) {
        memcpy(key, "attrs.", 6);
        store_bson_encode_name(u->unset[i], key + 6);
        BSON_APPEND_UTF8(&unset, key, "");
    }
    if (u->expires < 0)
        BSON_APPEND_UTF8(&unset, "expDate", "");
    if (loc->attr == NULL)
        BSON_APPEND_UTF8(&unset, "location", "");
    bson_append_document_end(update, &unset);
}

/* attrNames follows attrs: $addToSet for new names, $pull for removed ones.
 * MongoDB refuses both on one field in one update, and no caller needs it. */
static void build_names(const store_update *u, bson_t *update)
{
    bson_t op, each;
    if (u->replace)
        return;
    if (u->nset > 0) {
        bson_append_document_begin(update, "$addToSet", -1, &op);
        bson_append_document_begin(&op, "attrNames", -1, &each);
        append_names(&each, "$each", u->set, u->nset, NULL, 0);
        bson_append_document_end(&op, &each);
        bson_append_document_end(update, &op);
    } else if (u->nunset > 0) {
        bson_append_document_begin(update, "$pull", -1, &op);
        bson_append_document_begin(&op, "attrNames", -1, &each);
        append_names(&each, "$in", NULL, 0, u->unset, u->nunset);
        bson_append_document_end(&op, &each);
        bson_append_document_end(update, &op);
    }
}

int store_update_document(const store_update *u, bson_t *update, ngsi_error *err)
{
    store_location loc;
    if (store_location_after(u, &loc, err) < 0)
        return -1;
    build_set(u, &loc, update);
    build_unset(u, &loc, update);
    build_names(u, update);
    store_location_clear(&loc);
    return 0;
}

/* matchedCount of an update reply, or deletedCount of a delete reply. */
static int64_t reply_count(const bson_t *reply, const char *field)
{
    bson_iter_t it;
    if (bson_iter_init_find(&it, reply, field) && BSON_ITER_HOLDS_NUMBER(&it))
        return bson_iter_as_int64(&it);
    return 0;
}

int store_entity_update(store *s, const char *tenant, const store_update *u, ngsi_error *err)
{
    store_conn c;
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, reply;
    bson_error_t e;
    if (store_update_document(u, &update, err) < 0) {
        bson_destroy(&update);
        return -1;
    }
    store_bson_append_key(&filter, "_id", u->key);
    store_acquire(s, tenant, STORE_COL_ENTITIES, &c);
    bool ok = mongoc_collection_update_one(c.col, &filter, &update, NULL, &reply, &e);
    store_release(s, &c);
    int64_t matched = ok ? reply_count(&reply, "matchedCount") : 0;
    bson_destroy(&reply);
    bson_destroy(&filter);
    bson_destroy(&update);
    if (!ok)
        return store_fail(err, &e);
    if (matched == 0)
        return ngsi_not_found(err, NGSI_TXT_ENTITY_NOT_FOUND);
    return 0;
}

int store_entity_delete(store *s, const char *tenant, const ngsi_entity *key, ngsi_error *err)
{
    store_conn c;
    bson_t filter = BSON_INITIALIZER, reply;
    bson_error_t e;
    store_bson_append_key(&filter, "_id", key);
    store_acquire(s, tenant, STORE_COL_ENTITIES, &c);
    bool ok = mongoc_collection_delete_one(c.col, &filter, NULL, &reply, &e);
    store_release(s, &c);
    int64_t deleted = ok ? reply_count(&reply, "deletedCount") : 0;
    bson_destroy(&reply);
    bson_destroy(&filter);
    if (!ok)
        return store_fail(err, &e);
    if (deleted == 0)
        return ngsi_not_found(err, NGSI_TXT_ENTITY_NOT_FOUND);
    return 0;
}

/* --------------------------------------------------------------- lists */

static void append_list_or_pattern(bson_t *filter, const char *field, const ngsi_list *list,
                                   const char *pattern)
{
    if (pattern != NULL) {
        bson_t cond;
        bson_append_document_begin(filter, field, -1, &cond);
        BSON_APPEND_UTF8(&cond, "$regex", pattern);
        bson_append_document_end(filter, &cond);
    } else if (list != NULL && list->n == 1) {
        BSON_APPEND_UTF8(filter, field, list->item[0]);
    } else if (list != NULL && list->n > 1) {
        bson_t cond, in;
        char idx[16];
        const char *k;
        bson_append_document_begin(filter, field, -1, &cond);
        bson_append_array_begin(&cond, "$in", -1, &in);
        for (size_t i = 0; i < list->n; i++) {
            bson_uint32_to_string((uint32_t)i, &k, idx, sizeof idx);
            bson_append_utf8(&in, k, -1, list->item[i], -1);
        }
        bson_append_array_end(&cond, &in);
        bson_append_document_end(filter, &cond);
    }
}

/* {"$or": [selector, ...]} for op/query's entities[]. */
static void append_selectors(bson_t *filter, const store_selector *sel, size_t n)
{
    bson_t or, item;
    char idx[16];
    const char *k;
    bson_append_array_begin(filter, "$or", -1, & or);
    for (size_t i = 0; i < n; i++) {
        ngsi_list id = {.n = 1, .item = (char **)&sel[i].id};
        ngsi_list type = {.n = 1, .item = (char **)&sel[i].type};
        bson_uint32_to_string((uint32_t)i, &k, idx, sizeof idx);
        bson_append_document_begin(& or, k, -1, &item);
        append_list_or_pattern(&item, "_id.id", sel[i].id ? &id : NULL, sel[i].id_pattern);
        append_list_or_pattern(&item, "_id.type", sel[i].type ? &type : NULL, sel[i].type_pattern);
        bson_append_document_end(& or, &item);
    }
    bson_append_array_end(filter, & or);
}

void store_query_filter(const store_query *q, double now, bson_t *filter)
{
    if (q->nsel > 0)
        append_selectors(filter, q->sel, q->nsel);
    append_list_or_pattern(filter, "_id.id", q->ids, q->id_pattern);
    append_list_or_pattern(filter, "_id.type", q->types, q->type_pattern);
    if (q->paths != NULL)
        store_bson_append_paths(filter, q->paths);
    store_bson_append_not_expired(filter, now);
}

long long store_count(store_conn *c, const bson_t *filter, ngsi_error *err)
{
    bson_t cmd = BSON_INITIALIZER, reply;
    bson_error_t e;
    bson_iter_t it;
    /* The count command, not countDocuments: the latter is an aggregation,
     * which not every MongoDB-compatible server runs well. */
    BSON_APPEND_UTF8(&cmd, "count", mongoc_collection_get_name(c->col));
    BSON_APPEND_DOCUMENT(&cmd, "query", filter);
    bool ok = mongoc_collection_command_simple(c->col, &cmd, NULL, &reply, &e);
    long long n = -1;
    if (ok && bson_iter_init_find(&it, &reply, "n") && BSON_ITER_HOLDS_NUMBER(&it))
        n = bson_iter_as_int64(&it);
    bson_destroy(&reply);
    bson_destroy(&cmd);
    if (!ok)
        return store_fail(err, &e);
    if (n < 0)
        return ngsi_internal(err, "Database Error (count reply without n)");
    return n;
}

void store_result_push(store_result *r, ngsi_entity *ent)
{
    ngsi_entity **items = realloc(r->items, (r->n + 1) * sizeof *items);
    if (items == NULL)
        abort();
    r->items = items;
    r->items[r->n++] = ent;
}

void store_result_clear(store_result *r)
{
    for (size_t i = 0; i < r->n; i++)
        ngsi_entity_free(r->items[i]);
    free(r->items);
    memset(r, 0, sizeof *r);
}
