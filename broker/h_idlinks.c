/*
 * broker/h_idlinks.c: /tsunagi/idlinks/{system}/{value}, the id-link table.
 *
 * Adapters read upstream systems whose records name a person by that
 * system's own identifier (a clinic's patient number, a wallet's user id).
 * Residents or the town link such an identifier to the resident's common ID
 * here; an adapter looks the link up before it writes the person's data, and
 * skips records of people nobody has linked, so personal data is never
 * stored without an owner.
 *
 * The system is a short name for the upstream namespace chosen by the town
 * ("clinic-a", "wallet"), not a URI: libmicrohttpd decodes %2F before
 * routing, so a path segment cannot carry '/'. Both parts and the common ID
 * follow the entity id rules, since the common ID ends up as the value of
 * personal entities' owner attribute. Links are per tenant and not scoped
 * by service path.
 */
#include "authz.h"
#include "broker_private.h"

#include <string.h>

/* One id rule for system, value and common ID, with the field named. */
static int check_part(const char *s, const char *what, ngsi_error *err)
{
    size_t len = strlen(s);
    if (len == 0 || len > NGSI_NAME_MAX)
        return ngsi_bad_request(err, "%s length: %zu, allowed 1 to %d", what, len, NGSI_NAME_MAX);
    if (ngsi_check_name(s, NGSI_F_ENTITY_ID, NULL) < 0)
        return ngsi_bad_request(err, "Invalid characters in %s", what);
    return 0;
}

static int path_parts(call *c, const char **system, const char **value, ngsi_error *err)
{
    *system = c->nparams > 0 ? c->param[0] : "";
    *value = c->nparams > 1 ? c->param[1] : "";
    if (check_part(*system, "id link system", err) < 0)
        return -1;
    return check_part(*value, "id link value", err);
}

/* The commonId of a PUT body. Borrowed from body. */
static const char *body_common_id(const json_t *body, ngsi_error *err)
{
    const json_t *v = json_object_get(body, "commonId");
    if (!json_is_object(body) || !json_is_string(v)) {
        ngsi_bad_request(err, "body must be {\"commonId\": \"<common resident ID>\"}");
        return NULL;
    }
    if (json_object_size(body) != 1) {
        ngsi_bad_request(err, "unknown field in id link: only commonId is accepted");
        return NULL;
    }
    if (check_part(json_string_value(v), "commonId", err) < 0)
        return NULL;
    return json_string_value(v);
}

/* With auth on, a resident (not the town) may link only their own common ID. */
static int own_link_only(call *c, const char *common_id, ngsi_error *err)
{
    const auth_principal *p = authz_principal(c);
    if (p == NULL || auth_principal_has_role(p, AUTH_ROLE_TOWN))
        return 0;
    if (strcmp(auth_principal_sub(p), common_id) != 0)
        return ngsi_fail(err, 403, "Forbidden", "a resident may link only their own common ID");
    return 0;
}

/* ... and may replace or remove only a link that already names them, else a resident
 * could take over another's upstream id (and so their personal data). A link that
 * does not exist passes when absent_ok, else 404. The check and the write after it are
 * two database requests, so a change between them is not seen; closing that needs a
 * conditional write in the store (filter on commonId). */
static int own_existing_link(call *c, const char *system, const char *value, bool absent_ok,
                             ngsi_error *err)
{
    const auth_principal *p = authz_principal(c);
    if (p == NULL || auth_principal_has_role(p, AUTH_ROLE_TOWN))
        return 0;
    store_idlink l;
    ngsi_error why = {0};
    if (store_idlink_get(c->b->store, c->tenant, system, value, &l, &why) < 0) {
        if (why.status == 404 && absent_ok)
            return 0;
        *err = why;
        return -1;
    }
    int rc = own_link_only(c, l.common_id, err);
    store_idlink_clear(&l);
    return rc;
}

int h_idlink_put(call *c, ngsi_error *err)
{
    const char *system, *value, *common_id;
    bool created = false;
    if (path_parts(c, &system, &value, err) < 0)
        return -1;
    json_t *body = call_json_body(c, err);
    if (body == NULL)
        return -1;
    common_id = body_common_id(body, err);
    bool allowed = common_id != NULL && own_link_only(c, common_id, err) == 0 &&
                   own_existing_link(c, system, value, true, err) == 0;
    int rc = allowed ? store_idlink_put(c->b->store, c->tenant, system, value, common_id,
                                        ngsi_now(), &created, err)
                     : -1;
    json_decref(body);
    if (rc < 0)
        return -1;
    if (created)
        snprintf(c->location, sizeof c->location, "/tsunagi/idlinks/%s/%s", system, value);
    reply_empty(c, created ? 201 : 204);
    return 0;
}

int h_idlink_get(call *c, ngsi_error *err)
{
    const char *system, *value;
    store_idlink l;
    char cre[NGSI_DATETIME_MAX], mod[NGSI_DATETIME_MAX];
    if (path_parts(c, &system, &value, err) < 0 ||
        store_idlink_get(c->b->store, c->tenant, system, value, &l, err) < 0)
        return -1;
    ngsi_datetime_format(l.cre_date, cre);
    ngsi_datetime_format(l.mod_date, mod);
    reply_json(c, 200,
               json_pack("{s:s,s:s,s:s,s:s,s:s}", "system", l.system, "value", l.value, "commonId",
                         l.common_id, "dateCreated", cre, "dateModified", mod));
    store_idlink_clear(&l);
    return 0;
}

int h_idlink_delete(call *c, ngsi_error *err)
{
    const char *system, *value;
    if (path_parts(c, &system, &value, err) < 0 ||
        own_existing_link(c, system, value, false, err) < 0 ||
        store_idlink_delete(c->b->store, c->tenant, system, value, err) < 0)
        return -1;
    reply_empty(c, 204);
    return 0;
}
