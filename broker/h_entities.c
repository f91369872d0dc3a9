/*
 * broker/h_entities.c: /v2/entities and /v2/entities/{id}.
 *
 * Handlers follow one shape: read parameters, load or build the entity,
 * call the store, render. Attribute merging (shared with the /attrs routes)
 * lives in h_attrs.c; the load/save helpers here are used by both.
 */
#include "broker_private.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

/* Orion refuses entity keys whose parts add up to this much, because
 * MongoDB's index keys are limited to 1024 bytes. */
#define ENTITY_KEY_MAX 1024

/* The id in the path, refused when empty as Orion refuses it. */
static int path_id(call *c, const char **id, ngsi_error *err)
{
    *id = c->nparams > 0 ? c->param[0] : "";
    if (**id == '\0')
        return ngsi_bad_request(err, "entity id length: 0, min length supported: 1");
    return 0;
}

int call_load_entity(call *c, ngsi_entity **out, ngsi_error *err)
{
    const char *id;
    const char *type = call_arg(c, "type");
    if (path_id(c, &id, err) < 0)
        return -1;
    return store_entity_get(c->b->store, c->tenant, id, type, &c->paths, out, err);
}

int call_save(call *c, store_update *u, ngsi_error *err)
{
    u->mod_date = ngsi_now();
    u->correlator = c->correlator;
    return store_entity_update(c->b->store, c->tenant, u, err);
}

static void set_location(call *c, const ngsi_entity *e)
{
    snprintf(c->location, sizeof c->location, "/v2/entities/%s?type=%s", e->id, e->type);
}

/* --------------------------------------------------------- GET list */

static int check_pattern(const char *pattern, const char *what, ngsi_error *err)
{
    regex_t re;
    if (pattern == NULL)
        return 0;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return ngsi_bad_request(err, "Invalid regex for entity %s", what);
    regfree(&re);
    return 0;
}

typedef struct list_params {
    ngsi_list ids, types, attrs, metadata;
    store_query q;
} list_params;

static void list_params_clear(list_params *p)
{
    ngsi_list_clear(&p->ids);
    ngsi_list_clear(&p->types);
    ngsi_list_clear(&p->attrs);
    ngsi_list_clear(&p->metadata);
}

static int read_list_params(call *c, list_params *p, ngsi_error *err)
{
    const char *id_pattern = call_arg(c, "idPattern");
    const char *type_pattern = call_arg(c, "typePattern");
    static const char *const later[] = {"q", "mq", "georel", "geometry", "coords", "orderBy"};
    for (size_t i = 0; i < sizeof later / sizeof *later; i++)
        if (call_arg(c, later[i]) != NULL)
            return ngsi_fail(err, 501, "NotImplemented", "URI param /%s/ is not supported yet",
                             later[i]);
    if (call_list_arg(c, "id", &p->ids, err) < 0 || call_list_arg(c, "type", &p->types, err) < 0 ||
        call_list_arg(c, "attrs", &p->attrs, err) < 0 ||
        call_list_arg(c, "metadata", &p->metadata, err) < 0)
        return -1;
    if (p->ids.n > 0 && id_pattern != NULL)
        return ngsi_bad_request(err, "Incompatible parameters: id, IdPattern");
    if (p->types.n > 0 && type_pattern != NULL)
        return ngsi_bad_request(err, "Incompatible parameters: type, typePattern");
    if (check_pattern(id_pattern, "idPattern", err) < 0 ||
        check_pattern(type_pattern, "typePattern", err) < 0)
        return -1;
    p->q = (store_query){.ids = &p->ids,
                         .id_pattern = id_pattern,
                         .types = &p->types,
                         .type_pattern = type_pattern,
                         .paths = &c->paths,
                         .count = (c->options & OPT_COUNT) != 0};
    call_paging(c, &p->q.offset, &p->q.limit);
    return 0;
}

/* In unique mode rows that render identically are sent once. */
static bool seen_row(json_t *seen, json_t *row)
{
    char *key = ngsi_json_dumps(row);
    bool dup = json_object_get(seen, key) != NULL;
    if (!dup)
        json_object_set_new(seen, key, json_true());
    free(key);
    return dup;
}

int h_entities_list(call *c, ngsi_error *err)
{
    list_params p = {0};
    store_result r;
    if (read_list_params(c, &p, err) < 0 ||
        store_entity_query(c->b->store, c->tenant, &p.q, &r, err) < 0) {
        list_params_clear(&p);
        return -1;
    }
    ngsi_render_opts o = {.mode = call_render_mode(c), .attrs = &p.attrs, .metadata = &p.metadata};
    json_t *out = json_array(), *seen = json_object();
    for (size_t i = 0; i < r.n; i++) {
        json_t *row = ngsi_entity_render(r.items[i], &o);
        if (o.mode == NGSI_UNIQUE && seen_row(seen, row))
            json_decref(row);
        else
            json_array_append_new(out, row);
    }
    json_decref(seen);
    if (p.q.count)
        c->total_count = r.total;
    store_result_clear(&r);
    list_params_clear(&p);
    reply_json(c, 200, out);
    return 0;
}

/* ----------------------------------------------------------- create */

static int check_key_length(const ngsi_entity *e, ngsi_error *err)
{
    if (strlen(e->id) + strlen(e->type) + strlen(e->service_path) + 10 >= ENTITY_KEY_MAX)
        return ngsi_bad_request(err, "Too long entity id/type/servicePath combination");
    return 0;
}

static void stamp(ngsi_entity *e, double now)
{
    e->cre_date = e->mod_date = now;
    for (size_t i = 0; i < e->nattrs; i++)
        e->attrs[i].cre_date = e->attrs[i].mod_date = now;
}

/* options=upsert on an existing entity: update-or-append its attributes. */
static int upsert_existing(call *c, ngsi_entity *incoming, ngsi_error *err)
{
    ngsi_entity *stored = NULL;
    int rc = store_entity_get(c->b->store, c->tenant, incoming->id, incoming->type, &c->paths,
                              &stored, err);
    if (rc == 0)
        rc = attrs_merge_and_save(c, stored, incoming, ATTRS_UPSERT, err);
    ngsi_entity_free(stored);
    return rc;
}

int h_entities_create(call *c, ngsi_error *err)
{
    json_t *body = call_json_body(c, err);
    if (body == NULL)
        return -1;
    ngsi_entity *e = ngsi_entity_parse(body, call_input(c), err);
    json_decref(body);
    if (e == NULL)
        return -1;
    e->service_path = strdup(c->paths.path[0]);
    stamp(e, ngsi_now());
    int rc = check_key_length(e, err);
    if (rc == 0)
        rc = store_entity_create(c->b->store, c->tenant, e, err);
    bool upserted = rc < 0 && err->status == 422 && (c->options & OPT_UPSERT);
    if (upserted) {
        ngsi_error_clear(err);
        rc = upsert_existing(c, e, err);
    }
    if (rc == 0) {
        set_location(c, e);
        reply_empty(c, upserted ? 204 : 201);
    }
    ngsi_entity_free(e);
    return rc;
}

/* ------------------------------------------------------ GET/DELETE one */

int call_render_list_args(call *c, ngsi_list *attrs, ngsi_list *md, ngsi_render_opts *o,
                          ngsi_error *err)
{
    if (call_list_arg(c, "attrs", attrs, err) < 0)
        return -1;
    if (call_list_arg(c, "metadata", md, err) < 0) {
        ngsi_list_clear(attrs);
        return -1;
    }
    *o = (ngsi_render_opts){.mode = call_render_mode(c), .attrs = attrs, .metadata = md};
    return 0;
}

static int get_one(call *c, bool whole, ngsi_error *err)
{
    ngsi_list attrs, md;
    ngsi_render_opts o;
    ngsi_entity *e = NULL;
    if (call_render_list_args(c, &attrs, &md, &o, err) < 0)
        return -1;
    int rc = call_load_entity(c, &e, err);
    if (rc == 0)
        reply_json(c, 200, whole ? ngsi_entity_render(e, &o) : ngsi_attrs_render(e, &o));
    ngsi_entity_free(e);
    ngsi_list_clear(&attrs);
    ngsi_list_clear(&md);
    return rc;
}

int h_entity_get(call *c, ngsi_error *err)
{
    return get_one(c, true, err);
}

int h_attrs_get(call *c, ngsi_error *err)
{
    return get_one(c, false, err);
}

int h_entity_delete(call *c, ngsi_error *err)
{
    ngsi_entity *e = NULL;
    int rc = call_load_entity(c, &e, err);
    if (rc == 0)
        rc = store_entity_delete(c->b->store, c->tenant, e, err);
    if (rc == 0)
        reply_empty(c, 204);
    ngsi_entity_free(e);
    return rc;
}
