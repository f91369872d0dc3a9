/*
 * ngsi/store_query.c: the query planner and executor behind GET
 * /v2/entities and POST /v2/op/query.
 *
 * The planner pushes down to MongoDB what every compatible server evaluates
 * well: id/type/servicePath selection, expiry, the parts of q and mq that
 * tsunagi_q can express exactly, and a bounding-box prefilter for geo. When
 * the pushed filter decides the whole query, the database also counts,
 * sorts and pages. Otherwise the database returns the candidates in the
 * requested order and C decides the rest exactly (q_match, geo_query_match),
 * counting every match and keeping only the requested page; the result is
 * the same either way, which tests/db/test_query.c checks.
 *
 * Visibility (auth) is one more item of the same $and: an $or of the ways a
 * caller may see an entity, always pushed down, so that counts and pages
 * hold only what the caller may see.
 *
 * Order: orderBy keys map to stored fields; creDate then _id always follow
 * as tie-breakers, so pages never overlap or skip. geo:distance is the one
 * key the database cannot sort by: it is applied in C (only as the first
 * key), with the database's order breaking ties.
 */
#include "store_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "q.h"

/* The stored field an orderBy key sorts on, written into out. */
static void order_field(const char *name, char *out, size_t n)
{
    static const struct {
        const char *name, *field;
    } BUILTIN[] = {
        {"id", "_id.id"},           {"type", "_id.type"},        {"servicePath", "_id.servicePath"},
        {"dateCreated", "creDate"}, {"dateModified", "modDate"}, {"dateExpires", "expDate"},
    };
    for (size_t i = 0; i < sizeof BUILTIN / sizeof *BUILTIN; i++)
        if (strcmp(name, BUILTIN[i].name) == 0) {
            snprintf(out, n, "%s", BUILTIN[i].field);
            return;
        }
    char enc[NGSI_NAME_MAX + 1];
    store_bson_encode_name(name, enc);
    snprintf(out, n, "attrs.%s.value", enc);
}

static bool has_key(const bson_t *doc, const char *key)
{
    bson_iter_t it;
    return bson_iter_init_find(&it, doc, key);
}

static void append_sort(const store_query *q, bson_t *opts)
{
    bson_t sort;
    char field[sizeof "attrs..value" + NGSI_NAME_MAX];
    bson_append_document_begin(opts, "sort", -1, &sort);
    for (size_t i = 0; i < q->norder; i++) {
        if (strcmp(q->order[i].name, "geo:distance") == 0)
            continue; /* decided in C */
        order_field(q->order[i].name, field, sizeof field);
        if (!has_key(&sort, field))
            BSON_APPEND_INT32(&sort, field, q->order[i].desc ? -1 : 1);
    }
    if (!has_key(&sort, "creDate"))
        BSON_APPEND_INT32(&sort, "creDate", 1);
    BSON_APPEND_INT32(&sort, "_id", 1);
    bson_append_document_end(opts, &sort);
}

static bool by_distance(const store_query *q)
{
    return q->norder > 0 && strcmp(q->order[0].name, "geo:distance") == 0;
}

/* Entities with a location, narrowed by the query's box when it has one. */
static void append_geo(const geo_query *g, bson_t *doc)
{
    bson_t cond;
    geo_bbox box;
    bson_append_document_begin(doc, "location", -1, &cond);
    BSON_APPEND_BOOL(&cond, "$exists", true);
    bson_append_document_end(doc, &cond);
    if (geo_query_bbox(g, &box))
        store_bson_append_bbox_filter(doc, &box);
}

/* Move the items of part's "$and" array (what q_to_bson writes) into the
 * array being built; *n counts items. */
static void splice_and(const bson_t *part, bson_t *and, uint32_t *n)
{
    bson_iter_t it, items;
    char idx[16];
    const char *k;
    if (!bson_iter_init_find(&it, part, "$and") || !bson_iter_recurse(&it, &items))
        return;
    while (bson_iter_next(&items)) {
        bson_uint32_to_string((*n)++, &k, idx, sizeof idx);
        bson_append_iter(and, k, -1, &items);
    }
}

static void append_in(bson_t *doc, const char *field, const ngsi_list *l, bool excluded)
{
    bson_t cond, arr;
    char idx[16];
    const char *k;
    bson_append_document_begin(doc, field, -1, &cond);
    bson_append_array_begin(&cond, excluded ? "$nin" : "$in", -1, &arr);
    for (size_t i = 0; l != NULL && i < l->n; i++) {
        bson_uint32_to_string((uint32_t)i, &k, idx, sizeof idx);
        bson_append_utf8(&arr, k, -1, l->item[i], -1);
    }
    bson_append_array_end(&cond, &arr);
    bson_append_document_end(doc, &cond);
}

/* What the caller may see, as one condition: {"$or": [clause, ...]}, or a
 * condition nothing matches when there is no clause. */
static void append_visibility(const store_visibility *v, bson_t *doc)
{
    bson_t or, item;
    char idx[16], owner[sizeof "attrs..value" + NGSI_NAME_MAX];
    const char *k;
    if (v->n == 0) {
        append_in(doc, "_id.type", NULL, false);
        return;
    }
    store_bson_encode_name(v->owner_attr, owner + 6);
    memcpy(owner, "attrs.", 6);
    strcat(owner, ".value");
    bson_append_array_begin(doc, "$or", -1, & or);
    for (size_t i = 0; i < v->n; i++) {
        const store_vis_clause *c = &v->clauses[i];
        bson_uint32_to_string((uint32_t)i, &k, idx, sizeof idx);
        bson_append_document_begin(& or, k, -1, &item);
        if (c->types != NULL)
            append_in(&item, "_id.type", c->types, c->types_excluded);
        if (c->owners != NULL)
            append_in(&item, owner, c->owners, false);
        bson_append_document_end(& or, &item);
    }
    bson_append_array_end(doc, & or);
}

/* The filter: selection, then q, mq and geo as the items of one flat $and,
 * so their operators cannot collide and the database is not handed empty
 * clauses to evaluate for every document. *exact tells whether it decides
 * the whole query. */
static void build_filter(const store_query *q, bson_t *filter, bool *exact)
{
    bson_t and, qpart = BSON_INITIALIZER, mqpart = BSON_INITIALIZER, geo = BSON_INITIALIZER;
    bool qx = true, mqx = true, pushed = !q->decide_in_c;
    uint32_t n = 0;
    char idx[16];
    const char *k;
    store_query_filter(q, ngsi_now(), filter);
    if (q->q != NULL && pushed)
        q_to_bson(q->q, &qpart, &qx);
    if (q->mq != NULL && pushed)
        q_to_bson(q->mq, &mqpart, &mqx);
    if (q->geo != NULL && pushed)
        append_geo(q->geo, &geo);
    bson_t tmp = BSON_INITIALIZER;
    bson_append_array_begin(&tmp, "$and", -1, &and);
    if (q->vis != NULL) {
        bson_t vis;
        bson_uint32_to_string(n++, &k, idx, sizeof idx);
        bson_append_document_begin(&and, k, -1, &vis);
        append_visibility(q->vis, &vis);
        bson_append_document_end(&and, &vis);
    }
    splice_and(&qpart, &and, &n);
    splice_and(&mqpart, &and, &n);
    if (!bson_empty(&geo)) {
        bson_uint32_to_string(n++, &k, idx, sizeof idx);
        bson_append_document(&and, k, -1, &geo);
    }
    bson_append_array_end(&tmp, &and);
    if (n > 0)
        bson_concat(filter, &tmp);
    bson_destroy(&tmp);
    bson_destroy(&qpart);
    bson_destroy(&mqpart);
    bson_destroy(&geo);
    *exact = qx && mqx && q->geo == NULL && pushed;
}

/* Whether ent passes the parts of q decided in C; *dist gets its distance
 * for near queries. */
static bool matches(const store_query *q, const ngsi_entity *ent, double *dist)
{
    *dist = NAN;
    if (q->q != NULL && !q_match(q->q, ent))
        return false;
    if (q->mq != NULL && !q_match(q->mq, ent))
        return false;
    if (q->geo == NULL)
        return true;
    geo_shape *shape;
    if (!store_entity_shape(ent, &shape))
        return false;
    bool ok = geo_query_match(q->geo, shape, dist) == 1;
    geo_shape_free(shape);
    return ok;
}

/* ------------------------------------------------ exact: DB does it all */

static int run_exact(store_conn *c, const store_query *q, const bson_t *filter, store_result *out,
                     ngsi_error *err)
{
    bson_t opts = BSON_INITIALIZER;
    const bson_t *doc;
    bson_error_t e;
    if (q->count && (out->total = store_count(c, filter, err)) < 0)
        return -1;
    if (q->limit == 0 || q->offset > STORE_SKIP_MAX)
        return 0;
    append_sort(q, &opts);
    if (q->offset > 0)
        BSON_APPEND_INT64(&opts, "skip", (int64_t)q->offset);
    BSON_APPEND_INT64(&opts, "limit", (int64_t)q->limit);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c->col, filter, &opts, NULL);
    while (mongoc_cursor_next(cur, &doc)) {
        ngsi_entity *ent = store_bson_to_entity(doc);
        if (ent != NULL)
            store_result_push(out, ent);
    }
    bool failed = mongoc_cursor_error(cur, &e);
    mongoc_cursor_destroy(cur);
    bson_destroy(&opts);
    return failed ? store_fail(err, &e) : 0;
}

/* ------------------------------------------- inexact: C decides the rest */

/* A match kept for ordering by distance: a bounded max-heap on (distance,
 * arrival) holds the best offset+limit, so memory stays proportional to the
 * page however many entities match. It grows with the matches, never past
 * them: offset alone may be far larger than anything stored. */
typedef struct ranked {
    double dist;
    size_t seq;
    ngsi_entity *ent;
} ranked;

/* Room for this many matches first; the heap doubles from there. */
#define STORE_HEAP_FIRST 64

typedef struct heap {
    ranked *v;
    size_t n, alloc, cap; /* cap: offset+limit, the most ever kept */
    int sign;             /* 1: nearest first; -1: farthest first */
} heap;

static bool worse(const heap *h, const ranked *a, const ranked *b)
{
    double da = a->dist * h->sign, db = b->dist * h->sign;
    return da > db || (da == db && a->seq > b->seq);
}

static void sift_down(heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && worse(h, &h->v[l], &h->v[m]))
            m = l;
        if (r < h->n && worse(h, &h->v[r], &h->v[m]))
            m = r;
        if (m == i)
            return;
        ranked t = h->v[i];
        h->v[i] = h->v[m];
        h->v[m] = t;
        i = m;
    }
}

/* Offer x; the heap keeps the cap best. Takes x.ent. */
static void heap_offer(heap *h, ranked x)
{
    if (h->cap == 0) {
        ngsi_entity_free(x.ent);
        return;
    }
    if (h->n == h->cap) {
        if (!worse(h, &h->v[0], &x)) {
            ngsi_entity_free(x.ent);
            return;
        }
        ngsi_entity_free(h->v[0].ent);
        h->v[0] = x;
        sift_down(h, 0);
        return;
    }
    if (h->n == h->alloc) {
        size_t want = h->alloc ? h->alloc * 2 : STORE_HEAP_FIRST;
        h->alloc = want < h->cap ? want : h->cap;
        h->v = realloc(h->v, h->alloc * sizeof *h->v);
        if (h->v == NULL)
            abort();
    }
    size_t i = h->n++;
    h->v[i] = x;
    while (i > 0 && worse(h, &h->v[i], &h->v[(i - 1) / 2])) {
        ranked t = h->v[i];
        h->v[i] = h->v[(i - 1) / 2];
        h->v[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static int cmp_ranked(const void *a, const void *b, void *arg)
{
    const heap *h = arg;
    return worse(h, a, b) ? 1 : worse(h, b, a) ? -1 : 0;
}

/* Move the heap's page [offset, offset+limit) into out, best first. */
static void heap_drain(heap *h, const store_query *q, store_result *out)
{
    if (h->n > 1)
        qsort_r(h->v, h->n, sizeof *h->v, cmp_ranked, h);
    for (size_t i = 0; i < h->n; i++) {
        if (i >= q->offset && i < q->offset + q->limit)
            store_result_push(out, h->v[i].ent);
        else
            ngsi_entity_free(h->v[i].ent);
    }
    free(h->v);
}

static int run_filtered(store_conn *c, const store_query *q, const bson_t *filter,
                        store_result *out, ngsi_error *err)
{
    bson_t opts = BSON_INITIALIZER;
    const bson_t *doc;
    bson_error_t e;
    heap h = {.sign = (q->norder > 0 && q->order[0].desc) ? -1 : 1};
    bool ranked_order = by_distance(q);
    size_t seen = 0;
    if (ranked_order)
        h.cap = q->offset + q->limit;
    append_sort(q, &opts);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c->col, filter, &opts, NULL);
    while (mongoc_cursor_next(cur, &doc)) {
        ngsi_entity *ent = store_bson_to_entity(doc);
        double dist;
        if (ent == NULL || !matches(q, ent, &dist)) {
            ngsi_entity_free(ent);
            continue;
        }
        if (ranked_order)
            heap_offer(&h, (ranked){.dist = dist, .seq = seen, .ent = ent});
        else if (seen >= q->offset && seen < q->offset + q->limit)
            store_result_push(out, ent);
        else
            ngsi_entity_free(ent);
        seen++;
    }
    bool failed = mongoc_cursor_error(cur, &e);
    mongoc_cursor_destroy(cur);
    bson_destroy(&opts);
    if (ranked_order)
        heap_drain(&h, q, out);
    out->total = (long long)seen;
    return failed ? store_fail(err, &e) : 0;
}

int store_entity_query(store *s, const char *tenant, const store_query *q, store_result *out,
                       ngsi_error *err)
{
    store_conn c;
    bson_t filter = BSON_INITIALIZER;
    bool exact;
    memset(out, 0, sizeof *out);
    build_filter(q, &filter, &exact);
    store_acquire(s, tenant, STORE_COL_ENTITIES, &c);
    int rc = exact && !by_distance(q) ? run_exact(&c, q, &filter, out, err)
                                      : run_filtered(&c, q, &filter, out, err);
    store_release(s, &c);
    bson_destroy(&filter);
    if (rc < 0)
        store_result_clear(out);
    return rc;
}
