/*
 * broker/h_tsunagi.c: Tsunagi's own endpoints for residents and the town (auth on).
 *
 *   POST   /tsunagi/consents            a resident grants a service consent
 *   GET    /tsunagi/consents            the resident's consents
 *   GET    /tsunagi/consents/{id}       one of them
 *   DELETE /tsunagi/consents/{id}       revoke it (effective from the next request)
 *   GET    /tsunagi/provisions          the resident's provision records
 *   GET    /tsunagi/provisions/counts   town: how many records, per service and type
 *
 * Every consent and record belongs to the resident whose token made or caused it (the
 * token's sub, their common ID); a resident never sees another's. Records are
 * appended by reads only (authz_entities.c): there is no endpoint to change or delete
 * them. The town sees counts, never contents. Replies follow the NGSI style: JSON
 * arrays, limit/offset paging, options=count for Fiware-Total-Count, errors as
 * {"error","description"}.
 */
#include "authz_private.h"

#include <stdlib.h>
#include <string.h>

/* Bounds of a consent: a service's client id, how many types and categories one
 * consent names, and its purpose text. Generous for real consents, small enough that
 * a consent stays one short document. */
#define CONSENT_SERVICE_MAX 256
#define CONSENT_ITEMS_MAX   64
#define CONSENT_PURPOSE_MAX 1000

/* ------------------------------------------------------------- helpers */

static void add_date(json_t *o, const char *key, const json_t *t)
{
    char buf[NGSI_DATETIME_MAX];
    if (!json_is_number(t))
        return;
    ngsi_datetime_format(json_number_value(t), buf);
    json_object_set_new(o, key, json_string(buf));
}

/* {"sort":..., "skip":..., "limit":...} from limit/offset (already checked
 * with the other URI parameters); count asked with options=count. New
 * reference. */
static json_t *page_opts(call *c, const char *sort_field, int order, ngsi_error *err)
{
    size_t offset, limit;
    call_paging(c, &offset, &limit);
    return json_pack("{s:{s:i,s:i},s:I,s:I}", "sort", sort_field, order, "_id", order, "skip",
                     (json_int_t)offset, "limit", (json_int_t)limit);
}

/* Find with paging and Fiware-Total-Count. New array in *out. */
static int find_page(call *c, const char *collection, json_t *filter, const char *sort_field,
                     int order, json_t **out, ngsi_error *err)
{
    json_t *opts = page_opts(c, sort_field, order, err);
    int rc = opts ? 0 : -1;
    if (rc == 0 && (c->options & OPT_COUNT)) {
        long long n = store_docs_count(c->b->store, c->tenant, collection, filter, err);
        rc = n < 0 ? -1 : 0;
        c->total_count = n;
    }
    if (rc == 0)
        rc = store_docs_find(c->b->store, c->tenant, collection, filter, opts, out, err);
    json_decref(opts);
    return rc;
}

static const char *resident_of(call *c)
{
    return auth_principal_sub(authz_principal(c));
}

/* ------------------------------------------------------- consent input */

static int string_member(const json_t *body, const char *key, size_t max, bool required,
                         const char **out, ngsi_error *err)
{
    const json_t *v = json_object_get(body, key);
    *out = NULL;
    if (v == NULL && !required)
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max)
        return ngsi_bad_request(err, "consent: %s must be a string of 1 to %zu characters", key,
                                max);
    *out = json_string_value(v);
    return 0;
}

/* types or categories: an array of names. New array in *out. */
static int names_member(const json_t *body, const char *key, json_t **out, ngsi_error *err)
{
    const json_t *v = json_object_get(body, key);
    size_t i;
    json_t *item;
    *out = json_array();
    if (v == NULL)
        return 0;
    if (!json_is_array(v) || json_array_size(v) > CONSENT_ITEMS_MAX)
        return ngsi_bad_request(err, "consent: %s must be an array of at most %d names", key,
                                CONSENT_ITEMS_MAX);
    json_array_foreach(v, i, item)
    {
        const char *s = json_string_value(item);
        if (s == NULL || ngsi_check_name(s, NGSI_F_ENTITY_TYPE, err) < 0)
            return ngsi_bad_request(err, "consent: %s must hold valid names", key);
        json_array_append(*out, item);
    }
    return 0;
}

static int check_members(const json_t *body, ngsi_error *err)
{
    static const char *const known[] = {"service", "types", "categories", "purpose", "expires"};
    const char *key;
    json_t *v;
    if (!json_is_object(body))
        return ngsi_bad_request(err, "consent: the payload must be a JSON object");
    json_object_foreach((json_t *)body, key, v)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof known / sizeof *known && !ok; i++)
            ok = strcmp(key, known[i]) == 0;
        if (!ok)
            return ngsi_bad_request(err, "consent: unknown field /%s/", key);
    }
    return 0;
}

static int parse_expires(const json_t *body, double now, double *out, ngsi_error *err)
{
    const json_t *v = json_object_get(body, "expires");
    *out = 0;
    if (v == NULL)
        return 0;
    if (!json_is_string(v) || ngsi_datetime_parse(json_string_value(v), out) < 0)
        return ngsi_bad_request(err, "consent: expires must be an ISO 8601 date and time");
    if (*out <= now)
        return ngsi_bad_request(err, "consent: expires must be in the future");
    return 0;
}

/* The stored consent document for a grant request. New reference, or NULL. */
static json_t *consent_doc(call *c, const json_t *body, ngsi_error *err)
{
    const char *service, *purpose;
    json_t *types = NULL, *categories = NULL;
    double now = ngsi_now(), expires;
    bson_oid_t oid;
    char id[25];
    int rc = check_members(body, err);
    if (rc == 0)
        rc = string_member(body, "service", CONSENT_SERVICE_MAX, true, &service, err);
    if (rc == 0)
        rc = string_member(body, "purpose", CONSENT_PURPOSE_MAX, true, &purpose, err);
    if (rc == 0)
        rc = names_member(body, "types", &types, err);
    if (rc == 0)
        rc = names_member(body, "categories", &categories, err);
    if (rc == 0 && json_array_size(types) + json_array_size(categories) == 0)
        rc = ngsi_bad_request(err, "consent: name at least one entity type or category");
    if (rc == 0)
        rc = parse_expires(body, now, &expires, err);
    if (rc < 0) {
        json_decref(types);
        json_decref(categories);
        return NULL;
    }
    bson_oid_init(&oid, NULL);
    bson_oid_to_string(&oid, id);
    json_t *doc = json_pack("{s:s,s:s,s:s,s:o,s:o,s:s,s:f}", "_id", id, "resident", resident_of(c),
                            "service", service, "types", types, "categories", categories, "purpose",
                            purpose, "created", now);
    if (expires > 0)
        json_object_set_new(doc, "expires", json_real(expires));
    return doc;
}

static const store_doc_index CONSENT_INDEXES[] = {
    {"resident_1_created_1", "{\"resident\":1,\"created\":1}"},
    {"service_1_resident_1", "{\"service\":1,\"resident\":1}"},
    {NULL, NULL},
};

/* ------------------------------------------------------------ consents */

static json_t *consent_render(const json_t *doc, double now)
{
    json_t *o = json_pack("{s:O,s:O,s:O,s:O,s:O}", "id", json_object_get(doc, "_id"), "service",
                          json_object_get(doc, "service"), "types", json_object_get(doc, "types"),
                          "categories", json_object_get(doc, "categories"), "purpose",
                          json_object_get(doc, "purpose"));
    if (o == NULL)
        return json_object(); /* a document not written by us; shown empty */
    add_date(o, "created", json_object_get(doc, "created"));
    add_date(o, "expires", json_object_get(doc, "expires"));
    add_date(o, "revoked", json_object_get(doc, "revoked"));
    json_object_set_new(o, "active", json_boolean(consent_active(doc, now)));
    return o;
}

int h_consent_create(call *c, ngsi_error *err)
{
    json_t *body = call_json_body(c, err);
    if (body == NULL)
        return -1;
    json_t *doc = consent_doc(c, body, err);
    json_decref(body);
    if (doc == NULL)
        return -1;
    int rc =
        store_docs_insert(c->b->store, c->tenant, AUTHZ_CONSENTS, CONSENT_INDEXES, &doc, 1, err);
    if (rc == 0) {
        snprintf(c->location, sizeof c->location, "/tsunagi/consents/%s",
                 json_string_value(json_object_get(doc, "_id")));
        reply_empty(c, 201);
    }
    json_decref(doc);
    return rc;
}

int h_consents_list(call *c, ngsi_error *err)
{
    json_t *filter = json_pack("{s:s}", "resident", resident_of(c)), *found = NULL;
    int rc = find_page(c, AUTHZ_CONSENTS, filter, "created", 1, &found, err);
    json_decref(filter);
    if (rc < 0)
        return -1;
    json_t *out = json_array(), *doc;
    size_t i;
    double now = ngsi_now();
    json_array_foreach(found, i, doc) json_array_append_new(out, consent_render(doc, now));
    json_decref(found);
    reply_json(c, 200, out);
    return 0;
}

/* The resident's consent named in the path. New reference, or NULL (404). */
static json_t *own_consent(call *c, ngsi_error *err)
{
    const char *id = c->nparams > 0 ? c->param[0] : "";
    json_t *filter = json_pack("{s:s,s:s}", "_id", id, "resident", resident_of(c)), *found = NULL;
    int rc = store_docs_find(c->b->store, c->tenant, AUTHZ_CONSENTS, filter, NULL, &found, err);
    json_decref(filter);
    if (rc < 0)
        return NULL;
    json_t *doc = json_incref(json_array_get(found, 0));
    json_decref(found);
    if (doc == NULL)
        ngsi_not_found(err, "consent not found");
    return doc;
}

int h_consent_get(call *c, ngsi_error *err)
{
    json_t *doc = own_consent(c, err);
    if (doc == NULL)
        return -1;
    reply_json(c, 200, consent_render(doc, ngsi_now()));
    json_decref(doc);
    return 0;
}

int h_consent_revoke(call *c, ngsi_error *err)
{
    json_t *doc = own_consent(c, err);
    if (doc == NULL)
        return -1;
    int rc = 0;
    if (json_object_get(doc, "revoked") == NULL) { /* revoking twice keeps the first time */
        json_t *filter =
            json_pack("{s:O,s:{s:b}}", "_id", json_object_get(doc, "_id"), "revoked", "$exists", 0);
        json_t *update = json_pack("{s:{s:f}}", "$set", "revoked", ngsi_now());
        rc = store_docs_update(c->b->store, c->tenant, AUTHZ_CONSENTS, filter, update, err) < 0 ? -1
                                                                                                : 0;
        json_decref(filter);
        json_decref(update);
    }
    json_decref(doc);
    if (rc == 0)
        reply_empty(c, 204);
    return rc;
}

/* ----------------------------------------------------------- provisions */

static json_t *record_render(const json_t *doc)
{
    static const char *const fields[] = {"service",     "role",  "entityId", "entityType",
                                         "servicePath", "attrs", "purpose",  "consent"};
    json_t *o = json_object();
    add_date(o, "time", json_object_get(doc, "time"));
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        json_t *v = json_object_get(doc, fields[i]);
        if (v != NULL)
            json_object_set(o, fields[i], v);
    }
    return o;
}

int h_provisions_list(call *c, ngsi_error *err)
{
    json_t *filter = json_pack("{s:s}", "resident", resident_of(c)), *found = NULL;
    int rc = find_page(c, AUTHZ_PROVISIONS, filter, "time", -1, &found, err);
    json_decref(filter);
    if (rc < 0)
        return -1;
    json_t *out = json_array(), *doc;
    size_t i;
    json_array_foreach(found, i, doc) json_array_append_new(out, record_render(doc));
    json_decref(found);
    reply_json(c, 200, out);
    return 0;
}

/* from= and to= (ISO 8601) as a condition on time into filter. */
static int time_range(call *c, json_t *filter, ngsi_error *err)
{
    static const char *const params[] = {"from", "to"}, *const ops[] = {"$gte", "$lt"};
    json_t *cond = json_object();
    for (size_t i = 0; i < 2; i++) {
        const char *s = call_arg(c, params[i]);
        double t;
        if (s == NULL)
            continue;
        if (ngsi_datetime_parse(s, &t) < 0) {
            json_decref(cond);
            return ngsi_bad_request(err, "%s must be an ISO 8601 date and time", params[i]);
        }
        json_object_set_new(cond, ops[i], json_real(t));
    }
    if (json_object_size(cond) > 0)
        json_object_set(filter, "time", cond);
    json_decref(cond);
    return 0;
}

static int cmp_count(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int r = strcmp(json_string_value(json_object_get(x, "service")),
                   json_string_value(json_object_get(y, "service")));
    return r ? r
             : strcmp(json_string_value(json_object_get(x, "entityType")),
                      json_string_value(json_object_get(y, "entityType")));
}

/* Records folded into [{"service","entityType","count"}], sorted. New reference. */
static json_t *fold_counts(const json_t *records)
{
    json_t *groups = json_object(), *doc, *g;
    size_t i;
    const char *key;
    json_array_foreach(records, i, doc)
    {
        const char *svc = json_string_value(json_object_get(doc, "service"));
        const char *type = json_string_value(json_object_get(doc, "entityType"));
        if (svc == NULL || type == NULL)
            continue;
        ngsi_buf k = {0};
        ngsi_buf_printf(&k, "%s\x1f%s", svc, type);
        g = json_object_get(groups, k.data);
        if (g == NULL)
            json_object_set_new(groups, k.data,
                                g = json_pack("{s:s,s:s,s:I}", "service", svc, "entityType", type,
                                              "count", (json_int_t)0));
        json_object_set_new(g, "count",
                            json_integer(json_integer_value(json_object_get(g, "count")) + 1));
        ngsi_buf_free(&k);
    }
    size_t n = json_object_size(groups), j = 0;
    json_t **items = calloc(n + 1, sizeof *items), *out = json_array();
    json_object_foreach(groups, key, g) items[j++] = g;
    qsort(items, n, sizeof *items, cmp_count);
    for (j = 0; j < n; j++)
        json_array_append(out, items[j]);
    free(items);
    json_decref(groups);
    return out;
}

int h_provision_counts(call *c, ngsi_error *err)
{
    json_t *filter = json_object(), *found = NULL;
    json_t *opts =
        json_pack("{s:{s:i,s:i,s:i}}", "projection", "service", 1, "entityType", 1, "_id", 0);
    int rc = time_range(c, filter, err);
    if (rc == 0)
        rc = store_docs_find(c->b->store, c->tenant, AUTHZ_PROVISIONS, filter, opts, &found, err);
    json_decref(filter);
    json_decref(opts);
    if (rc < 0)
        return -1;
    reply_json(c, 200, fold_counts(found));
    json_decref(found);
    return 0;
}
