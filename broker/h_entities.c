/*
 * broker/h_entities.c: /v2/entities and /v2/entities/{id}.
 *
 * Handlers follow one shape: read parameters, load or build the entity,
 * call the store, render. Attribute merging (shared with the /attrs routes)
 * lives in h_attrs.c; the load/save helpers here are used by both.
 */
#include "authz.h"
#include "broker_private.h"

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
    if (store_entity_get(c->b->store, c->tenant, id, type, &c->paths, out, err) < 0)
        return -1;
    auth_action action = c->route->perm == PERM_ENTITY_WRITE ? AUTH_WRITE : AUTH_READ;
    if (authz_entity(c, *out, action, err) < 0) {
        ngsi_entity_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

int call_save(call *c, store_update *u, ngsi_error *err)
{
    if (u->mod_date == 0)
        u->mod_date = ngsi_now();
    u->correlator = c->correlator_root;
    ngsi_entity *after = store_apply_update(u);
    int rc = authz_entity_after(c, after, err);
    if (rc == 0)
        rc = call_validate_entity(c, after, err);
    if (rc == 0)
        rc = store_entity_update(c->b->store, c->tenant, u, err);
    if (rc == 0)
        broker_changed(c, &(change){.kind = CHANGE_UPDATE, .before = u->key, .after = after});
    ngsi_entity_free(after);
    return rc;
}

static void set_location(call *c, const ngsi_entity *e)
{
    snprintf(c->location, sizeof c->location, "/v2/entities/%s?type=%s", e->id, e->type);
}

/* ----------------------------------------------------------- create */

static int check_key_length(const ngsi_entity *e, ngsi_error *err)
{
    if (strlen(e->id) + strlen(e->type) + strlen(e->service_path) + 10 >= ENTITY_KEY_MAX)
        return ngsi_bad_request(err, "Too long entity id/type/servicePath combination");
    return 0;
}

/* options=upsert on an existing entity: update-or-append its attributes. */
static int upsert_existing(call *c, ngsi_entity *incoming, ngsi_error *err)
{
    ngsi_entity *stored = NULL;
    int rc = store_entity_get(c->b->store, c->tenant, incoming->id, incoming->type, &c->paths,
                              &stored, err);
    if (rc == 0)
        rc = authz_entity(c, stored, AUTH_WRITE, err);
    if (rc == 0)
        rc = attrs_merge_and_save(c, stored, incoming, STORE_ATTRS_UPSERT, err);
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
    e->last_correlator = strdup(c->correlator_root);
    ngsi_entity_stamp(e, ngsi_now());
    int rc = check_key_length(e, err);
    if (rc == 0)
        rc = authz_entity_after(c, e, err);
    if (rc == 0)
        rc = call_validate_entity(c, e, err);
    if (rc == 0)
        rc = store_entity_create(c->b->store, c->tenant, e, err);
    /* An upsert of an existing entity is an update: it is validated as the
     * entity will be after the merge, not as the request body alone. */
    bool exists = rc < 0 && err->status == 422;
    if (rc < 0 && err->status == 400 && (c->options & OPT_UPSERT)) {
        ngsi_entity *stored = NULL;
        exists =
            store_entity_get(c->b->store, c->tenant, e->id, e->type, &c->paths, &stored, NULL) == 0;
        ngsi_entity_free(stored);
    }
    bool upserted = exists && (c->options & OPT_UPSERT);
    if (upserted) {
        ngsi_error_clear(err);
        rc = upsert_existing(c, e, err);
    }
    if (rc == 0) {
        if (!upserted) /* an upsert reported its update through call_save */
            broker_changed(c, &(change){.kind = CHANGE_CREATE, .after = e});
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
        rc = authz_disclose(c, &e, 1, &attrs, NULL, err);
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
    if (rc == 0) {
        broker_changed(c, &(change){.kind = CHANGE_DELETE, .before = e});
        reply_empty(c, 204);
    }
    ngsi_entity_free(e);
    return rc;
}
