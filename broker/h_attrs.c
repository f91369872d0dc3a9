/*
 * broker/h_attrs.c: /v2/entities/{id}/attrs, /attrs/{name} and /value.
 *
 * Every attribute write reads the stored entity first: Orion's answers
 * depend on which attributes exist (404, Unprocessable, PartialUpdate) and
 * metadata are merged with the stored ones unless overrideMetadata is
 * given. The store then writes only the attributes that change.
 */
#include "authz.h"
#include "broker_private.h"

#include <stdlib.h>
#include <string.h>

/* "E - [ A, B ]", or "E/T - [ A, B ]" when the request named the type. */
static int describe_names(call *c, const ngsi_entity *e, const ngsi_buf *names, ngsi_error *err,
                          const char *what, bool partial)
{
    const char *type = call_arg(c, "type");
    return ngsi_fail(err, 422, partial ? "PartialUpdate" : "Unprocessable", "%s%s%s%s - [ %s ]",
                     what, e->id, type ? "/" : "", type ? type : "", names->data);
}

int attrs_merge_and_save(call *c, const ngsi_entity *stored, ngsi_entity *incoming,
                         enum store_attrs_mode mode, ngsi_error *err)
{
    store_update u;
    ngsi_buf failed = {0};
    bool override_md = (c->options & OPT_OVERRIDE_METADATA) != 0;
    ngsi_attr *set = store_plan_attrs(stored, incoming, mode, override_md, ngsi_now(), &u, &failed);
    bool changes = store_update_changes(&u); /* dateExpires alone is a change */
    int rc = changes ? call_save(c, &u, err) : 0;
    if (rc == 0 && failed.len > 0)
        rc = describe_names(c, stored, &failed, err,
                            mode == STORE_ATTRS_UPDATE
                                ? "do not exist: "
                                : "one or more of the attributes in the request already exist: ",
                            changes);
    ngsi_buf_free(&failed);
    free(set);
    return rc;
}

/* POST, PATCH and PUT on .../attrs: parse, load, merge, save. */
static int write_attrs(call *c, enum store_attrs_mode mode, ngsi_error *err)
{
    json_t *body = call_json_body(c, err);
    if (body == NULL)
        return -1;
    ngsi_entity *incoming = ngsi_entity_new(), *stored = NULL;
    int rc = ngsi_attrs_parse(body, call_input(c), incoming, err);
    json_decref(body);
    if (rc == 0)
        rc = call_load_entity(c, &stored, err);
    if (rc == 0)
        rc = attrs_merge_and_save(c, stored, incoming, mode, err);
    if (rc == 0)
        reply_empty(c, 204);
    ngsi_entity_free(incoming);
    ngsi_entity_free(stored);
    return rc;
}

int h_attrs_post(call *c, ngsi_error *err)
{
    return write_attrs(
        c, (c->options & OPT_APPEND) ? STORE_ATTRS_APPEND_STRICT : STORE_ATTRS_UPSERT, err);
}

int h_attrs_patch(call *c, ngsi_error *err)
{
    return write_attrs(c, STORE_ATTRS_UPDATE, err);
}

int h_attrs_put(call *c, ngsi_error *err)
{
    return write_attrs(c, STORE_ATTRS_REPLACE, err);
}

/* ------------------------------------------------------ one attribute */

/* The attribute name in the path; Orion refuses an empty one. */
static int path_attr(call *c, const char **name, ngsi_error *err)
{
    *name = c->nparams > 1 ? c->param[1] : "";
    if (**name == '\0')
        return ngsi_bad_request(err, "attribute name length: 0, min length supported: 1");
    return 0;
}

#define EXPIRES "dateExpires"

/* Load the entity and find the named attribute in it. dateExpires is the
 * entity's expiry rather than a stored attribute, but Orion serves it at
 * this URL too, so it is built into tmp (cleared by the caller). */
static int load_attr(call *c, ngsi_entity **e, ngsi_attr **a, ngsi_attr *tmp, ngsi_error *err)
{
    const char *name;
    *e = NULL;
    if (path_attr(c, &name, err) < 0 || call_load_entity(c, e, err) < 0)
        return -1;
    *a = ngsi_entity_find(*e, name);
    if (*a == NULL && strcmp(name, EXPIRES) == 0)
        *a = (ngsi_attr *)ngsi_entity_lookup(*e, name, tmp);
    if (*a == NULL)
        return ngsi_not_found(err, NGSI_TXT_ATTR_NOT_FOUND);
    return 0;
}

int h_attr_get(call *c, ngsi_error *err)
{
    ngsi_entity *e;
    ngsi_attr *a, tmp = {0};
    ngsi_list attrs, md;
    ngsi_render_opts o;
    if (call_render_list_args(c, &attrs, &md, &o, err) < 0)
        return -1;
    int rc = load_attr(c, &e, &a, &tmp, err);
    if (rc == 0)
        rc = authz_disclose(c, &e, 1, NULL, a->name, err);
    if (rc == 0)
        reply_json(c, 200, ngsi_attr_render(e, a, &o));
    ngsi_attr_clear(&tmp);
    ngsi_entity_free(e);
    ngsi_list_clear(&attrs);
    ngsi_list_clear(&md);
    return rc;
}

/* A new dateExpires goes through the payload parser, so the type and date
 * checks (and texts) are those of any request carrying it. */
static int save_expiry(call *c, const ngsi_entity *e, const ngsi_attr *a, ngsi_error *err)
{
    json_t *body = json_pack("{s:{s:s,s:O}}", EXPIRES, "type", a->type, "value", a->value);
    ngsi_entity *parsed = ngsi_entity_new();
    int rc = ngsi_attrs_parse(body, NGSI_IN_NORMALIZED, parsed, err);
    if (rc == 0) {
        store_update u = {.key = e, .expires = 1, .exp_date = parsed->exp_date};
        rc = call_save(c, &u, err);
    }
    ngsi_entity_free(parsed);
    json_decref(body);
    return rc;
}

/* Save one attribute a (already merged) of e. */
static int save_one(call *c, const ngsi_entity *e, const ngsi_attr *a, ngsi_error *err)
{
    store_update u = {.key = e, .set = a, .nset = 1};
    int rc = strcmp(a->name, EXPIRES) == 0 ? save_expiry(c, e, a, err) : call_save(c, &u, err);
    if (rc == 0)
        reply_empty(c, 204);
    return rc;
}

/* The body of PUT .../attrs/{name}: parsed before the entity is read, as
 * Orion does, so a bad body is 400 even for a missing attribute. */
static int parse_attr_body(call *c, const char *name, ngsi_attr *out, ngsi_error *err)
{
    json_t *body = call_json_body(c, err);
    if (body == NULL)
        return -1;
    int rc = json_is_object(body) ? ngsi_attr_parse(name, body, NGSI_IN_NORMALIZED, out, err)
                                  : ngsi_fail(err, 400, "ParseError", NGSI_TXT_PARSE_ERROR);
    json_decref(body);
    return rc;
}

int h_attr_put(call *c, ngsi_error *err)
{
    const char *name;
    ngsi_entity *e = NULL;
    ngsi_attr *old, incoming = {0}, tmp = {0};
    int rc = path_attr(c, &name, err);
    if (rc == 0)
        rc = parse_attr_body(c, name, &incoming, err);
    if (rc == 0)
        rc = load_attr(c, &e, &old, &tmp, err);
    if (rc == 0) {
        store_merge_attr(&incoming, old, (c->options & OPT_OVERRIDE_METADATA) != 0, ngsi_now());
        rc = save_one(c, e, &incoming, err);
    }
    ngsi_attr_clear(&tmp);
    ngsi_attr_clear(&incoming);
    ngsi_entity_free(e);
    return rc;
}

int h_attr_delete(call *c, ngsi_error *err)
{
    const char *name;
    ngsi_entity *e = NULL;
    if (path_attr(c, &name, err) < 0 || call_load_entity(c, &e, err) < 0)
        return -1;
    int rc;
    if (strcmp(name, EXPIRES) == 0 && e->exp_date != 0) {
        /* Removing the expiry makes a transient entity permanent again. */
        store_update u = {.key = e, .expires = -1};
        rc = call_save(c, &u, err);
    } else if (ngsi_entity_find(e, name) == NULL) {
        rc = ngsi_not_found(err, NGSI_TXT_ATTR_NOT_FOUND);
    } else {
        const char *unset[] = {name};
        store_update u = {.key = e, .unset = unset, .nunset = 1};
        rc = call_save(c, &u, err);
    }
    if (rc == 0)
        reply_empty(c, 204);
    ngsi_entity_free(e);
    return rc;
}

/* ------------------------------------------------------------- /value */

/* A scalar as text/plain the way Orion writes it: strings quoted but not
 * escaped, DateTime values bare, numbers in Orion's format. */
static void reply_scalar(call *c, const ngsi_attr *a)
{
    ngsi_buf b = {0};
    char num[NGSI_NUMBER_MAX];
    const json_t *v = a->value;
    if (json_is_string(v) && strcmp(a->type, "DateTime") == 0)
        ngsi_buf_puts(&b, json_string_value(v));
    else if (json_is_string(v))
        ngsi_buf_printf(&b, "\"%s\"", json_string_value(v));
    else if (json_is_number(v)) {
        ngsi_number_format(json_number_value(v), num);
        ngsi_buf_puts(&b, num);
    } else
        ngsi_buf_puts(&b, json_is_true(v) ? "true" : json_is_false(v) ? "false" : "null");
    reply_text(c, 200, b.data, b.len);
    ngsi_buf_free(&b);
}

static int reply_value(call *c, const ngsi_attr *a, ngsi_error *err)
{
    bool compound = json_is_object(a->value) || json_is_array(a->value);
    if (!compound) {
        if (!(c->accept & ACCEPT_TEXT))
            return ngsi_fail(err, 406, "NotAcceptable", "accepted MIME types: text/plain");
        reply_scalar(c, a);
        return 0;
    }
    reply_json(c, 200, json_incref(a->value));
    if ((c->accept & ACCEPT_TEXT_FIRST) || !(c->accept & ACCEPT_JSON))
        c->out_type = "text/plain";
    return 0;
}

/* Orion checks the id and the attribute name of /value URLs for the
 * characters identifiers may not have (after the empty-component checks),
 * and answers as for a bad URL. */
static int value_url_check(call *c, ngsi_error *err)
{
    const char *name;
    if (*c->param[0] == '\0')
        return ngsi_bad_request(err, "entity id length: 0, min length supported: 1");
    if (path_attr(c, &name, err) < 0)
        return -1;
    if (ngsi_has_forbidden_id_char(c->param[0]) || ngsi_has_forbidden_id_char(name))
        return ngsi_bad_request(err, "invalid character in URI");
    return 0;
}

int h_value_get(call *c, ngsi_error *err)
{
    ngsi_entity *e = NULL;
    ngsi_attr *a, tmp = {0};
    if (value_url_check(c, err) < 0)
        return -1;
    int rc = load_attr(c, &e, &a, &tmp, err);
    if (rc == 0)
        rc = authz_disclose(c, &e, 1, NULL, a->name, err);
    if (rc == 0)
        rc = reply_value(c, a, err);
    ngsi_attr_clear(&tmp);
    ngsi_entity_free(e);
    return rc;
}

/* The new value from a text/plain or JSON body. New reference or NULL. */
static json_t *value_from_body(call *c, ngsi_error *err)
{
    if (c->body_text)
        return ngsi_value_from_text(c->body.data, c->body.len, err);
    json_t *v = call_json_body(c, err);
    if (v != NULL && !json_is_object(v) && !json_is_array(v)) {
        json_decref(v);
        ngsi_bad_request(err, "Neither JSON Object nor JSON Array for attribute::value");
        return NULL;
    }
    if (v != NULL && ngsi_value_check(v, NGSI_F_ATTR_VALUE, err) < 0) {
        json_decref(v);
        return NULL;
    }
    return v;
}

int h_value_put(call *c, ngsi_error *err)
{
    ngsi_entity *e = NULL;
    ngsi_attr *a, tmp = {0};
    json_t *v = value_from_body(c, err);
    if (v == NULL)
        return -1;
    int rc = value_url_check(c, err);
    if (rc == 0)
        rc = load_attr(c, &e, &a, &tmp, err);
    if (rc == 0) {
        /* The value changes; type and metadata stay as stored. Reparse
         * through the model so DateTime values are checked and normalised. */
        json_t *wrapped = json_pack("{s:s,s:O}", "type", a->type, "value", v);
        ngsi_attr fresh = {0};
        rc = ngsi_attr_parse(a->name, wrapped, NGSI_IN_NORMALIZED, &fresh, err);
        if (rc == 0) {
            json_decref(a->value);
            a->value = json_incref(fresh.value);
            a->mod_date = ngsi_now();
            rc = save_one(c, e, a, err);
        }
        ngsi_attr_clear(&fresh);
        json_decref(wrapped);
    }
    json_decref(v);
    ngsi_attr_clear(&tmp);
    ngsi_entity_free(e);
    return rc;
}
