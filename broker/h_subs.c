/*
 * broker/h_subs.c: /v2/subscriptions and /v2/subscriptions/{id}.
 *
 * The handlers parse and validate with tsunagi_subs, keep csubs (the truth,
 * shared with other brokers on the same database) and then tell this
 * broker's engine, so a subscription fires on the very next update here.
 * GET reads csubs after writing this broker's pending counters, so what it
 * shows includes every notification this broker has finished. Creating or
 * changing a subscription sends nothing: Orion removed the initial
 * notification in 3.2.0.
 *
 * With auth on, a subscription belongs to the token that made it (its
 * claims are stored as tsunagiOwner): only that principal and the town see,
 * change or delete it, and its notifications carry only what the owner may
 * see (subs_cache.c).
 */
#include "authz.h"
#include "broker_private.h"
#include "store_private.h"
#include "subs_private.h"

#include <stdlib.h>
#include <string.h>

#define COL_CSUBS "csubs"

/* The body with integers kept as integers, so "is not an int" can be told;
 * any parse failure is Orion's ParseError. New reference. */
static json_t *subs_body(call *c, ngsi_error *err)
{
    json_error_t jerr;
    if (c->body.len == 0) {
        ngsi_bad_request(err, NGSI_TXT_EMPTY_PAYLOAD);
        return NULL;
    }
    json_t *v = json_loadb(c->body.data, c->body.len, JSON_DECODE_ANY, &jerr);
    if (v == NULL)
        ngsi_fail(err, 400, "ParseError", NGSI_TXT_PARSE_ERROR);
    return v;
}

/* With auth on, everyone but the town works on their own subscriptions:
 * the condition on the stored owner. Nothing with auth off or for the town. */
static void owner_filter(call *c, bson_t *filter)
{
    const auth_principal *p = c->b->az ? authz_principal(c) : NULL;
    if (p == NULL || auth_principal_has_role(p, AUTH_ROLE_TOWN))
        return;
    BSON_APPEND_UTF8(filter, "tsunagiOwner.sub", auth_principal_sub(p));
}

static void id_filter(call *c, const char *id, bson_t *filter)
{
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, id);
    BSON_APPEND_OID(filter, "_id", &oid);
    owner_filter(c, filter);
}

/* The stored subscription with this id. New (subs_free), or NULL with 404
 * (or a database error). */
static subs_sub *load_one(call *c, const char *id, ngsi_error *err)
{
    store_conn sc;
    bson_error_t e;
    bson_t filter = BSON_INITIALIZER;
    const bson_t *doc;
    subs_sub *s = NULL;
    id_filter(c, id, &filter);
    store_acquire(c->b->store, c->tenant, COL_CSUBS, &sc);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(sc.col, &filter, NULL, NULL);
    if (mongoc_cursor_next(cur, &doc))
        s = subs_from_bson(doc);
    if (mongoc_cursor_error(cur, &e))
        store_fail(err, &e);
    else if (s == NULL)
        ngsi_not_found(err, SUBS_TXT_NOT_FOUND);
    mongoc_cursor_destroy(cur);
    store_release(c->b->store, &sc);
    bson_destroy(&filter);
    if (err->status != 0) {
        subs_free(s);
        return NULL;
    }
    return s;
}

static int path_id(call *c, const char **id, ngsi_error *err)
{
    *id = c->nparams > 0 ? c->param[0] : "";
    return subs_id_check(*id, err);
}

/* ---------------------------------------------------------------- create */

int h_subs_create(call *c, ngsi_error *err)
{
    unsigned given;
    json_t *body = subs_body(c, err);
    if (body == NULL)
        return -1;
    subs_sub *s = subs_parse(body, false, &given, err);
    json_decref(body);
    if (s == NULL)
        return -1;
    subs_id_new(s->id);
    s->service_path = strdup(c->paths.n > 0 ? c->paths.path[0] : "/#");
    if (c->b->az != NULL && authz_principal(c) != NULL)
        s->owner = authz_principal_claims(authz_principal(c));
    s->status_last_change = ngsi_now();
    bson_t doc = BSON_INITIALIZER;
    bson_error_t e;
    store_conn sc;
    subs_to_bson(s, &doc);
    store_acquire(c->b->store, c->tenant, COL_CSUBS, &sc);
    bool ok = mongoc_collection_insert_one(sc.col, &doc, NULL, NULL, &e);
    store_release(c->b->store, &sc);
    bson_destroy(&doc);
    if (ok) {
        subs_engine_put(c->b->subs, c->tenant, s, true);
        snprintf(c->location, sizeof c->location, "/v2/subscriptions/%s", s->id);
        reply_empty(c, 201);
    }
    subs_free(s);
    return ok ? 0 : store_fail(err, &e);
}

/* ------------------------------------------------------------------ read */

int h_sub_get(call *c, ngsi_error *err)
{
    const char *id;
    if (path_id(c, &id, err) < 0)
        return -1;
    subs_engine_flush(c->b->subs);
    subs_sub *s = load_one(c, id, err);
    if (s == NULL)
        return -1;
    reply_json(c, 200, subs_render(s, ngsi_now()));
    subs_free(s);
    return 0;
}

/* Orion scopes the list by the Fiware-ServicePath header unless it is
 * absent, empty or "/#". */
static void list_filter(call *c, bson_t *filter)
{
    owner_filter(c, filter);
    const char *hdr = call_header(c, "Fiware-ServicePath");
    if (hdr == NULL || *hdr == '\0' || strcmp(hdr, "/#") == 0)
        return;
    bson_t cond, arr;
    char idx[16];
    bson_append_document_begin(filter, "servicePath", -1, &cond);
    bson_append_array_begin(&cond, "$in", -1, &arr);
    for (size_t i = 0; i < c->paths.n; i++) {
        const char *k;
        bson_uint32_to_string((uint32_t)i, &k, idx, sizeof idx);
        bson_append_utf8(&arr, k, -1, c->paths.path[i], -1);
    }
    bson_append_array_end(&cond, &arr);
    bson_append_document_end(filter, &cond);
}

static int list_page(call *c, const bson_t *filter, size_t offset, size_t limit, json_t *out,
                     ngsi_error *err)
{
    store_conn sc;
    bson_error_t e;
    const bson_t *doc;
    bson_t opts = BSON_INITIALIZER, sort;
    double now = ngsi_now();
    bson_append_document_begin(&opts, "sort", -1, &sort);
    BSON_APPEND_INT32(&sort, "_id", 1);
    bson_append_document_end(&opts, &sort);
    BSON_APPEND_INT64(&opts, "skip", (int64_t)offset);
    BSON_APPEND_INT64(&opts, "limit", (int64_t)limit);
    store_acquire(c->b->store, c->tenant, COL_CSUBS, &sc);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(sc.col, filter, &opts, NULL);
    while (mongoc_cursor_next(cur, &doc)) {
        subs_sub *s = subs_from_bson(doc);
        if (s != NULL)
            json_array_append_new(out, subs_render(s, now));
        subs_free(s);
    }
    int rc = mongoc_cursor_error(cur, &e) ? store_fail(err, &e) : 0;
    if (rc == 0 && (c->options & OPT_COUNT)) {
        int64_t n = mongoc_collection_count_documents(sc.col, filter, NULL, NULL, NULL, &e);
        rc = n < 0 ? store_fail(err, &e) : 0;
        c->total_count = n;
    }
    mongoc_cursor_destroy(cur);
    store_release(c->b->store, &sc);
    bson_destroy(&opts);
    return rc;
}

int h_subs_list(call *c, ngsi_error *err)
{
    size_t offset, limit;
    call_paging(c, &offset, &limit);
    subs_engine_flush(c->b->subs);
    bson_t filter = BSON_INITIALIZER;
    json_t *out = json_array();
    list_filter(c, &filter);
    int rc = list_page(c, &filter, offset, limit, out, err);
    bson_destroy(&filter);
    if (rc < 0) {
        json_decref(out);
        return -1;
    }
    reply_json(c, 200, out);
    return 0;
}

/* ----------------------------------------------------------------- update */

/* A subscription deleted since it was loaded matches nothing: 404, so the
 * caller does not put it back into the cache. */
static int store_patch(call *c, const subs_sub *s, unsigned given, ngsi_error *err)
{
    store_conn sc;
    bson_error_t e;
    bson_iter_t it;
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, reply;
    id_filter(c, s->id, &filter);
    subs_bson_patch(s, given, &update);
    bool ok = true, found = true;
    if (!bson_empty(&update)) {
        store_acquire(c->b->store, c->tenant, COL_CSUBS, &sc);
        ok = mongoc_collection_update_one(sc.col, &filter, &update, NULL, &reply, &e);
        store_release(c->b->store, &sc);
        found =
            ok && bson_iter_init_find(&it, &reply, "matchedCount") && bson_iter_as_int64(&it) > 0;
        bson_destroy(&reply);
    }
    bson_destroy(&filter);
    bson_destroy(&update);
    if (!ok)
        return store_fail(err, &e);
    return found ? 0 : ngsi_not_found(err, SUBS_TXT_NOT_FOUND);
}

int h_sub_patch(call *c, ngsi_error *err)
{
    const char *id;
    unsigned given;
    if (path_id(c, &id, err) < 0)
        return -1;
    json_t *body = subs_body(c, err);
    if (body == NULL)
        return -1;
    subs_sub *patch = subs_parse(body, true, &given, err);
    json_decref(body);
    if (patch == NULL)
        return -1;
    subs_sub *s = load_one(c, id, err);
    int rc = s ? subs_apply_patch(s, patch, given, err) : -1;
    if (rc == 0 && (given & SUBS_GIVEN_STATUS))
        s->status_last_change = ngsi_now();
    if (rc == 0)
        rc = store_patch(c, s, given, err);
    if (rc == 0) {
        subs_engine_put(c->b->subs, c->tenant, s, (given & SUBS_GIVEN_STATUS) != 0);
        reply_empty(c, 204);
    }
    subs_free(patch);
    subs_free(s);
    return rc;
}

int h_sub_delete(call *c, ngsi_error *err)
{
    const char *id;
    store_conn sc;
    bson_error_t e;
    bson_t filter = BSON_INITIALIZER, reply;
    bson_iter_t it;
    if (path_id(c, &id, err) < 0)
        return -1;
    id_filter(c, id, &filter);
    store_acquire(c->b->store, c->tenant, COL_CSUBS, &sc);
    bool ok = mongoc_collection_delete_one(sc.col, &filter, NULL, &reply, &e);
    store_release(c->b->store, &sc);
    bson_destroy(&filter);
    bool gone =
        ok && bson_iter_init_find(&it, &reply, "deletedCount") && bson_iter_as_int64(&it) > 0;
    bson_destroy(&reply);
    if (!ok)
        return store_fail(err, &e);
    /* nothing deleted may also mean someone else's subscription (the owner
     * filter): the cache keeps it, and a reload drops one gone elsewhere */
    if (!gone)
        return ngsi_not_found(err, SUBS_TXT_NOT_FOUND);
    subs_engine_remove(c->b->subs, c->tenant, id);
    reply_empty(c, 204);
    return 0;
}
