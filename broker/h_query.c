/*
 * broker/h_query.c: GET /v2/entities and POST /v2/op/query.
 *
 * Both read a selection (ids, types, patterns), q and mq, a geo-query,
 * attrs/metadata, orderBy and paging into one query_ctx, run it through the
 * store's planner (ngsi/store_query.c) and render the page the same way.
 * They differ only in where the selection comes from: URI parameters, or the
 * request body's entities[] and expression.
 */
#include "authz.h"
#include "broker_private.h"

#include <stdlib.h>
#include <string.h>

#include "geo.h"
#include "q.h"

/* orderBy keys: as many as a request can sensibly name. */
#define ORDER_KEYS_MAX 16

typedef struct query_ctx {
    ngsi_list ids, types, attrs, metadata;
    store_selector *sel;
    size_t nsel;
    q_expr *q, *mq;
    geo_query *geo;
    ngsi_list order_names;
    store_order order[ORDER_KEYS_MAX];
    store_query sq;
    char *q_text, *mq_text; /* copies as given, for the auth check */
    authz_vis vis;
} query_ctx;

static void query_ctx_clear(query_ctx *x)
{
    ngsi_list_clear(&x->ids);
    ngsi_list_clear(&x->types);
    ngsi_list_clear(&x->attrs);
    ngsi_list_clear(&x->metadata);
    ngsi_list_clear(&x->order_names);
    for (size_t i = 0; i < x->nsel; i++) {
        free(x->sel[i].id);
        free(x->sel[i].type);
        free(x->sel[i].id_pattern);
        free(x->sel[i].type_pattern);
    }
    free(x->sel);
    q_free(x->q);
    q_free(x->mq);
    geo_query_free(x->geo);
    authz_vis_clear(&x->vis);
    free(x->q_text);
    free(x->mq_text);
}

/* orderBy=a,!b: keys in order, no empty or repeated key. */
static int parse_order(call *c, query_ctx *x, ngsi_error *err)
{
    const char *s = call_arg(c, "orderBy");
    if (s == NULL)
        return 0;
    if (ngsi_list_parse(s, "orderBy", &x->order_names, err) < 0)
        return -1;
    if (x->order_names.n > ORDER_KEYS_MAX)
        return ngsi_bad_request(err, "too many keys in orderBy (max %d)", ORDER_KEYS_MAX);
    for (size_t i = 0; i < x->order_names.n; i++) {
        const char *name = x->order_names.item[i];
        bool desc = name[0] == '!';
        if (desc)
            name++;
        if (*name == '\0')
            return ngsi_bad_request(err, "empty key in orderBy");
        for (size_t k = 0; k < i; k++)
            if (strcmp(x->order[k].name, name) == 0)
                return ngsi_bad_request(err, "duplicated key in orderBy: %s", name);
        if (strcmp(name, "geo:distance") == 0 && i > 0)
            return ngsi_bad_request(err, "geo:distance must be the first key of orderBy");
        x->order[i] = (store_order){.name = name, .desc = desc};
    }
    x->sq.order = x->order;
    x->sq.norder = x->order_names.n;
    return 0;
}

/* geo:distance orders only what a near query measured. */
static int check_order_geo(const query_ctx *x, ngsi_error *err)
{
    bool by_distance = x->sq.norder > 0 && strcmp(x->order[0].name, "geo:distance") == 0;
    if (by_distance && (x->geo == NULL || geo_query_georel(x->geo) != GEO_NEAR))
        return ngsi_bad_request(err, "orderBy=geo:distance needs georel=near");
    return 0;
}

static int parse_q(const char *q, const char *mq, query_ctx *x, ngsi_error *err)
{
    if (q != NULL && (x->q = q_parse(q, false, err)) == NULL)
        return -1;
    if (mq != NULL && (x->mq = q_parse(mq, true, err)) == NULL)
        return -1;
    x->sq.q = x->q;
    x->sq.mq = x->mq;
    x->q_text = q ? strdup(q) : NULL; /* op/query's body is gone before the query runs */
    x->mq_text = mq ? strdup(mq) : NULL;
    return 0;
}

/* georel/geometry/coords; prefix goes before the geo library's text. */
static int parse_geo(const char *georel, const char *geometry, const char *coords,
                     const char *prefix, query_ctx *x, ngsi_error *err)
{
    geo_error ge = {0};
    if (geo_query_parse(georel, geometry, coords, &x->geo, &ge) < 0)
        return ngsi_bad_request(err, "%s%s", prefix, ge.description);
    x->sq.geo = x->geo;
    return 0;
}

/* ------------------------------------------------------ from the URI */

/* Orion checks which geo parameters are present before parsing them. */
static int uri_geo(call *c, query_ctx *x, ngsi_error *err)
{
    const char *georel = call_arg(c, "georel"), *geometry = call_arg(c, "geometry");
    const char *coords = call_arg(c, "coords");
    if (coords != NULL && geometry == NULL)
        return ngsi_bad_request(err, "Invalid query: URI param /coords/ used without /geometry/");
    if (geometry != NULL && coords == NULL)
        return ngsi_bad_request(err, "Invalid query: URI param /geometry/ used without /coords/");
    if (georel != NULL && geometry == NULL)
        return ngsi_bad_request(err, "Invalid query: URI param /georel/ used without /geometry/");
    if (geometry != NULL && georel == NULL)
        return ngsi_bad_request(err, "Invalid query: empty georel");
    return parse_geo(georel, geometry, coords, "Invalid query: ", x, err);
}

static int query_from_uri(call *c, query_ctx *x, ngsi_error *err)
{
    const char *id_pattern = call_arg(c, "idPattern");
    const char *type_pattern = call_arg(c, "typePattern");
    if (call_list_arg(c, "id", &x->ids, err) < 0 || call_list_arg(c, "type", &x->types, err) < 0)
        return -1;
    if (x->ids.n > 0 && id_pattern != NULL)
        return ngsi_bad_request(err, "Incompatible parameters: id, IdPattern");
    if (x->types.n > 0 && type_pattern != NULL)
        return ngsi_bad_request(err, "Incompatible parameters: type, typePattern");
    if (uri_geo(c, x, err) < 0 || parse_q(call_arg(c, "q"), call_arg(c, "mq"), x, err) < 0)
        return -1;
    if (ngsi_check_pattern(id_pattern, "idPattern", err) < 0 ||
        ngsi_check_pattern(type_pattern, "typePattern", err) < 0)
        return -1;
    x->sq.ids = &x->ids;
    x->sq.types = &x->types;
    x->sq.id_pattern = id_pattern;
    x->sq.type_pattern = type_pattern;
    return 0;
}

/* ------------------------------------------------------ from the body */

static int body_string(const json_t *o, const char *key, const char *what, char **out,
                       ngsi_error *err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return ngsi_bad_request(err, "Invalid JSON type for entity %s", what);
    *out = strdup(json_string_value(v));
    return 0;
}

static int body_selector(const json_t *o, store_selector *s, ngsi_error *err)
{
    if (!json_is_object(o))
        return ngsi_bad_request(err, "entity is not a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        if (strcmp(key, "id") && strcmp(key, "idPattern") && strcmp(key, "type") &&
            strcmp(key, "typePattern"))
            return ngsi_bad_request(err, "no attributes allowed in Entity in this payload");
    }
    if (body_string(o, "id", "id", &s->id, err) < 0 ||
        body_string(o, "idPattern", "idPattern", &s->id_pattern, err) < 0 ||
        body_string(o, "type", "type", &s->type, err) < 0 ||
        body_string(o, "typePattern", "typePattern", &s->type_pattern, err) < 0)
        return -1;
    if (s->id && s->id_pattern)
        return ngsi_bad_request(err, "both /id/ and /idPattern/ present");
    if (!s->id && !s->id_pattern)
        return ngsi_bad_request(err, "nor /id/ nor /idPattern/ present");
    if (s->id && ngsi_check_name(s->id, NGSI_F_ENTITY_ID, err) < 0)
        return -1;
    if (s->type && ngsi_check_name(s->type, NGSI_F_ENTITY_TYPE, err) < 0)
        return -1;
    return ngsi_check_pattern(s->id_pattern, "idPattern", err) < 0 ||
                   ngsi_check_pattern(s->type_pattern, "typePattern", err) < 0
               ? -1
               : 0;
}

static int body_entities(const json_t *arr, query_ctx *x, ngsi_error *err)
{
    if (!json_is_array(arr))
        return ngsi_bad_request(err, "not a JSON array");
    x->sel = calloc(json_array_size(arr) + 1, sizeof *x->sel);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        x->nsel++;
        if (body_selector(json_array_get(arr, i), &x->sel[i], err) < 0)
            return -1;
    }
    x->sq.sel = x->sel;
    x->sq.nsel = x->nsel;
    return 0;
}

/* A list of strings in the body into a list parameter. */
static int body_list(const json_t *arr, const char *field, ngsi_list *out, ngsi_error *err)
{
    if (!json_is_array(arr))
        return ngsi_bad_request(err, "the field /%s/ must be a JSON array", field);
    out->item = calloc(json_array_size(arr) + 1, sizeof *out->item);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *v = json_array_get(arr, i);
        if (!json_is_string(v))
            return ngsi_bad_request(err, "only JSON Strings allowed in string list");
        out->item[out->n++] = strdup(json_string_value(v));
    }
    return 0;
}

static const char *expr_string(const json_t *e, const char *key, bool *bad, ngsi_error *err)
{
    json_t *v = json_object_get(e, key);
    if (v == NULL || *bad)
        return NULL;
    if (!json_is_string(v)) {
        *bad = true;
        ngsi_bad_request(err, "%s is not a string", key);
        return NULL;
    }
    if (*json_string_value(v) == '\0') {
        *bad = true;
        ngsi_bad_request(err, "%s is empty", key);
    }
    return json_string_value(v);
}

static int body_expression(const json_t *e, query_ctx *x, ngsi_error *err)
{
    bool bad = false;
    if (!json_is_object(e))
        return ngsi_bad_request(err, "expression is not an object");
    if (json_object_size(e) == 0)
        return ngsi_bad_request(err, "expression is empty");
    const char *q = expr_string(e, "q", &bad, err), *mq = expr_string(e, "mq", &bad, err);
    const char *georel = expr_string(e, "georel", &bad, err);
    const char *geometry = expr_string(e, "geometry", &bad, err);
    const char *coords = expr_string(e, "coords", &bad, err);
    if (bad || parse_q(q, mq, x, err) < 0)
        return -1;
    if ((georel || geometry || coords) && !(georel && geometry && coords))
        return ngsi_bad_request(err, "partial geo expression: geometry, georel and coords have "
                                     "to be provided together");
    return parse_geo(georel, geometry, coords, "error parsing geo-query fields: ", x, err);
}

static int query_from_body(const json_t *body, query_ctx *x, ngsi_error *err)
{
    const char *key;
    json_t *v;
    if (!json_is_object(body))
        return ngsi_fail(err, 400, "ParseError", NGSI_TXT_PARSE_ERROR);
    if (json_object_size(body) == 0)
        return ngsi_bad_request(err, NGSI_TXT_EMPTY_PAYLOAD);
    json_object_foreach((json_t *)body, key, v)
    {
        int rc = 0;
        if (strcmp(key, "entities") == 0)
            rc = body_entities(v, x, err);
        else if (strcmp(key, "attrs") == 0)
            rc = body_list(v, "attrs", &x->attrs, err);
        else if (strcmp(key, "metadata") == 0)
            rc = body_list(v, "metadata", &x->metadata, err);
        else if (strcmp(key, "expression") == 0)
            rc = body_expression(v, x, err);
        else
            rc = ngsi_bad_request(err, "Unrecognized field in JSON payload: /%s/", key);
        if (rc < 0)
            return -1;
    }
    bool relevant = json_object_get(body, "entities") || json_object_get(body, "attrs") ||
                    json_object_get(body, "expression");
    return relevant ? 0 : ngsi_bad_request(err, "Invalid JSON payload, no relevant fields found");
}

/* ------------------------------------------------------- run, render */

/* What the caller may see (auth), and what a service may not filter on. */
static int restrict_query(call *c, query_ctx *x, ngsi_error *err)
{
    if (authz_check_query_text(c, "q", x->q_text, err) < 0 ||
        authz_check_query_text(c, "mq", x->mq_text, err) < 0 ||
        authz_check_query_text(c, "orderBy", call_arg(c, "orderBy"), err) < 0)
        return -1;
    const ngsi_list *types = x->sq.type_pattern || x->nsel ? NULL : x->sq.types;
    return authz_query(c, AUTH_READ, types, &x->vis, &x->sq.vis, err);
}

static int run_and_reply(call *c, query_ctx *x, ngsi_error *err)
{
    store_result r;
    x->sq.paths = &c->paths;
    x->sq.count = (c->options & OPT_COUNT) != 0;
    call_paging(c, &x->sq.offset, &x->sq.limit);
    if (parse_order(c, x, err) < 0 || check_order_geo(x, err) < 0 ||
        restrict_query(c, x, err) < 0 ||
        store_entity_query(c->b->store, c->tenant, &x->sq, &r, err) < 0)
        return -1;
    if (authz_disclose(c, r.items, r.n, &x->attrs, NULL, err) < 0) {
        store_result_clear(&r);
        return -1;
    }
    ngsi_render_opts o = {
        .mode = call_render_mode(c), .attrs = &x->attrs, .metadata = &x->metadata};
    json_t *out = json_array();
    for (size_t i = 0; i < r.n; i++)
        json_array_append_new(out, ngsi_entity_render(r.items[i], &o));
    if (x->sq.count)
        c->total_count = r.total;
    store_result_clear(&r);
    reply_json(c, 200, out);
    return 0;
}

int h_entities_list(call *c, ngsi_error *err)
{
    query_ctx x = {0};
    int rc = query_from_uri(c, &x, err);
    if (rc == 0)
        rc = call_list_arg(c, "attrs", &x.attrs, err);
    if (rc == 0)
        rc = call_list_arg(c, "metadata", &x.metadata, err);
    if (rc == 0)
        rc = run_and_reply(c, &x, err);
    query_ctx_clear(&x);
    return rc;
}

int h_op_query(call *c, ngsi_error *err)
{
    query_ctx x = {0};
    json_t *body = call_json_body(c, err);
    if (body == NULL)
        return -1;
    int rc = query_from_body(body, &x, err);
    json_decref(body);
    if (rc == 0)
        rc = run_and_reply(c, &x, err);
    query_ctx_clear(&x);
    return rc;
}
