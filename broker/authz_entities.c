/*
 * broker/authz_entities.c: who may see and change which entity, and what a reply
 * discloses.
 *
 * auth_access() (auth/policy.c) says per type whether a caller may access all
 * entities, only its own, or those whose owner consented; this file turns that into
 * checks on loaded entities, a visibility filter pushed into queries, pseudonyms in
 * replies and provision records.
 *
 * Design decisions (docs/auth.md):
 * - Lists and queries filter in the database (store_visibility), so counts and pages
 *   hold only visible entities; they never fail because something is hidden.
 * - A personal entity the caller may not see answers 404 as if it did not exist; a type
 *   the caller's token does not cover answers 401/403, which says what to ask for.
 * - Consents are read from the database for each request that needs them (once per
 *   request), never cached across requests: a revocation holds from the next request.
 * - The owner is shown as a pairwise pseudonym to everyone but the town and the owner.
 *   The owner attribute's value is replaced in the entity about to be rendered, so
 *   every output mode (normalized, keyValues, values, a single attribute) gets it.
 */
#include "authz_private.h"

#include <stdlib.h>
#include <string.h>

/* A caller in a tenant: what the checks need, from a call or from a subscription. */
typedef struct az_ctx {
    authz *az;
    store *st;
    const char *tenant;
    const auth_principal *p;
    struct authz_req *req;
    const char *purpose; /* a town's stated purpose (header), or NULL */
} az_ctx;

static az_ctx ctx_of(call *c)
{
    return (az_ctx){.az = c->b->az,
                    .st = c->b->store,
                    .tenant = c->tenant,
                    .p = c->az->p,
                    .req = c->az,
                    .purpose = call_header(c, AUTHZ_PURPOSE_HEADER)};
}

/* The owner's common ID held by e, or NULL. Borrowed from e. */
static const char *owner_of(const ngsi_entity *e)
{
    const ngsi_attr *a = ngsi_entity_find(e, AUTH_OWNER_ATTR);
    const char *v = a ? json_string_value(a->value) : NULL;
    return v != NULL && *v != '\0' ? v : NULL;
}

static bool is_owner(const auth_principal *p, const char *owner)
{
    return p != NULL && owner != NULL && auth_principal_has_role(p, AUTH_ROLE_RESIDENT) &&
           strcmp(auth_principal_sub(p), owner) == 0;
}

/* ---------------------------------------------------------------- consents */

/* The active consents to x's principal from owner (NULL: from every resident), loaded
 * once per request. Borrowed; NULL with err on a database failure. */
static json_t *consents_for(az_ctx *x, const char *owner, ngsi_error *err)
{
    struct authz_req *r = x->req;
    bool cached =
        r->consents != NULL && (r->consents_all || (owner != NULL && r->consents_owner != NULL &&
                                                    strcmp(owner, r->consents_owner) == 0));
    if (cached)
        return r->consents;
    json_decref(r->consents);
    free(r->consents_owner);
    r->consents = NULL;
    r->consents_owner = NULL;
    if (consent_find_active(x->st, x->tenant, auth_principal_sub(x->p), owner, ngsi_now(),
                            &r->consents, err) < 0)
        return NULL;
    r->consents_all = owner == NULL;
    r->consents_owner = owner ? strdup(owner) : NULL;
    return r->consents;
}

/* The first active consent of owner covering type for x's principal: 1 with *out
 * borrowed, 0 if none, -1 on a database failure. */
static int consent_of(az_ctx *x, const char *owner, const char *type, const char *category,
                      const json_t **out, ngsi_error *err)
{
    *out = NULL;
    json_t *all = consents_for(x, owner, err);
    if (all == NULL)
        return -1;
    double now = ngsi_now();
    size_t i;
    json_t *c;
    json_array_foreach(all, i, c)
    {
        const char *resident = json_string_value(json_object_get(c, "resident"));
        if (resident && strcmp(resident, owner) == 0 && consent_covers(c, type, category, now)) {
            *out = c;
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ checks */

/* 0 allowed; 1 denied with err filled in (ae too when auth speaks: 401/403); -1 on a
 * database failure. */
static int check(az_ctx *x, const ngsi_entity *e, auth_action action, auth_error *ae,
                 ngsi_error *err)
{
    const char *category;
    auth_class cls = auth_policy_class(x->az->policy, e->type, &category);
    unsigned access = auth_access(x->az->policy, x->p, action, e->type);
    ae->status = 0;
    if (access == 0) {
        auth_access_denied(x->az->policy, x->p, action, e->type, ae);
        ngsi_fail(err, ae->status, ae->name, "%s", ae->description);
        return 1;
    }
    if ((access & AUTH_ACCESS_ALL) || cls != AUTH_CLASS_PERSONAL)
        return 0;
    const char *owner = owner_of(e);
    if ((access & AUTH_ACCESS_OWN) && is_owner(x->p, owner))
        return 0;
    if ((access & AUTH_ACCESS_CONSENTED) && owner != NULL) {
        const json_t *consent;
        int rc = consent_of(x, owner, e->type, category, &consent, err);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    }
    ngsi_not_found(err, NGSI_TXT_ENTITY_NOT_FOUND);
    return 1;
}

int authz_entity(call *c, const ngsi_entity *e, auth_action action, ngsi_error *err)
{
    if (c->az == NULL)
        return 0;
    az_ctx x = ctx_of(c);
    auth_error ae;
    int rc = check(&x, e, action, &ae, err);
    if (rc == 1 && ae.status == 401)
        return authz_fail(c, &ae, err);
    return rc == 0 ? 0 : -1;
}

int authz_entity_after(call *c, const ngsi_entity *after, ngsi_error *err)
{
    if (c->az == NULL)
        return 0;
    authz *az = c->b->az;
    const auth_principal *p = c->az->p;
    unsigned access = auth_access(az->policy, p, AUTH_WRITE, after->type);
    if (access == 0) {
        auth_error ae;
        auth_access_denied(az->policy, p, AUTH_WRITE, after->type, &ae);
        return authz_fail(c, &ae, err);
    }
    if (auth_policy_class(az->policy, after->type, NULL) != AUTH_CLASS_PERSONAL)
        return 0;
    const char *owner = owner_of(after);
    if (owner == NULL)
        return ngsi_bad_request(err, "personal data: attribute " AUTH_OWNER_ATTR
                                     " must hold the common ID of its owner as a non-empty string");
    if ((access & AUTH_ACCESS_ALL) || is_owner(p, owner))
        return 0;
    return ngsi_fail(err, 403, "Forbidden",
                     "a resident writes only personal data they own: " AUTH_OWNER_ATTR
                     " must be their own ID");
}

/* -------------------------------------------------------------- disclosure */

/* Names of the attributes a reply gives of e. New reference. */
static json_t *record_attrs(const ngsi_entity *e, const ngsi_list *attrs, const char *one_attr)
{
    json_t *out = json_array();
    if (one_attr != NULL) {
        json_array_append_new(out, json_string(one_attr));
        return out;
    }
    bool all = attrs == NULL || attrs->n == 0 || ngsi_list_has(attrs, "*");
    for (size_t i = 0; i < e->nattrs; i++)
        if (all || ngsi_list_has(attrs, e->attrs[i].name))
            json_array_append_new(out, json_string(e->attrs[i].name));
    return out;
}

/* The role a record names: town, else the service role that read. */
static const char *record_role(const auth_principal *p)
{
    if (auth_principal_has_role(p, AUTH_ROLE_TOWN))
        return "town";
    return auth_principal_has_role(p, AUTH_ROLE_VENDOR) ? "vendor" : "adapter";
}

static int queue_record(az_ctx *x, const ngsi_entity *e, const char *owner, const char *category,
                        const ngsi_list *attrs, const char *one_attr, ngsi_error *err)
{
    const json_t *consent = NULL;
    unsigned access = auth_access(x->az->policy, x->p, AUTH_READ, e->type);
    if (!(access & AUTH_ACCESS_ALL) && owner != NULL &&
        consent_of(x, owner, e->type, category, &consent, err) < 0)
        return -1;
    json_t *r = json_pack(
        "{s:f,s:s,s:s,s:s,s:s,s:s,s:o}", "time", ngsi_now(), "service", auth_principal_sub(x->p),
        "role", record_role(x->p), "entityId", e->id, "entityType", e->type, "servicePath",
        e->service_path ? e->service_path : "/", "attrs", record_attrs(e, attrs, one_attr));
    if (owner != NULL)
        json_object_set_new(r, "resident", json_string(owner));
    const char *purpose =
        consent ? json_string_value(json_object_get(consent, "purpose")) : x->purpose;
    if (purpose != NULL && *purpose != '\0')
        json_object_set_new(r, "purpose", json_string(purpose));
    if (consent != NULL)
        json_object_set(r, "consent", json_object_get(consent, "_id"));
    if (x->req->records == NULL)
        x->req->records = json_array();
    json_array_append_new(x->req->records, r);
    return 0;
}

/* Replace the owner's ID in e with the caller's pseudonym for it. */
static int pseudonymise(az_ctx *x, ngsi_entity *e, const char *owner, ngsi_error *err)
{
    char out[AUTH_PSEUDONYM_LEN + 1];
    auth_error ae;
    if (auth_pseudonym(x->az->pseudonym_secret, x->az->pseudonym_len, owner,
                       auth_principal_sub(x->p), out, &ae) < 0)
        return ngsi_internal(err, "pseudonym: %s", ae.description);
    ngsi_attr *a = ngsi_entity_find(e, AUTH_OWNER_ATTR);
    json_decref(a->value);
    a->value = json_string(out);
    return 0;
}

static int disclose(az_ctx *x, ngsi_entity *const *items, size_t n, const ngsi_list *attrs,
                    const char *one_attr, ngsi_error *err)
{
    for (size_t i = 0; i < n; i++) {
        ngsi_entity *e = items[i];
        const char *category;
        if (auth_policy_class(x->az->policy, e->type, &category) != AUTH_CLASS_PERSONAL ||
            x->p == NULL)
            continue;
        const char *owner = owner_of(e);
        if (is_owner(x->p, owner))
            continue; /* one's own data: no record, no pseudonym */
        if (queue_record(x, e, owner, category, attrs, one_attr, err) < 0)
            return -1;
        if (owner != NULL && !auth_sees_common_id(x->p, owner) &&
            pseudonymise(x, e, owner, err) < 0)
            return -1;
    }
    return 0;
}

int authz_disclose(call *c, ngsi_entity *const *items, size_t n, const ngsi_list *attrs,
                   const char *one_attr, ngsi_error *err)
{
    if (c->az == NULL)
        return 0;
    az_ctx x = ctx_of(c);
    return disclose(&x, items, n, attrs, one_attr, err);
}

/* -------------------------------------------------------------- visibility */

static void push(ngsi_list *l, const char *s)
{
    char **item = realloc(l->item, (l->n + 1) * sizeof *item);
    if (item == NULL || (item[l->n] = strdup(s)) == NULL)
        abort();
    l->item = item;
    l->n++;
}

/* A list owned by v, for a clause to point to. */
static ngsi_list *new_list(authz_vis *v)
{
    return &v->lists[v->nlists++];
}

static void add_clause(authz_vis *v, const ngsi_list *types, bool excluded, const ngsi_list *owners)
{
    v->clauses[v->v.n++] =
        (store_vis_clause){.types = types, .types_excluded = excluded, .owners = owners};
}

/* Types the scope names for action that the policy does not class: visible whole. */
static void scoped_unconfigured(const az_ctx *x, const char *action, const ngsi_list *configured,
                                ngsi_list *out)
{
    size_t n = x->p ? auth_principal_scope_count(x->p) : 0;
    for (size_t i = 0; i < n; i++) {
        const auth_scope *s = auth_principal_scope_at(x->p, i);
        if (auth_scope_grants(s, "entities", action) && s->type != NULL &&
            strcmp(s->type, "*") != 0 && !ngsi_list_has(configured, s->type) &&
            !ngsi_list_has(out, s->type))
            push(out, s->type);
    }
}

/* Clauses for the personal types the caller reads by consent: the type, and the
 * residents whose active consent covers it. */
static int consented_clauses(az_ctx *x, const ngsi_list *types, authz_vis *v, ngsi_error *err)
{
    json_t *all = consents_for(x, NULL, err);
    if (all == NULL)
        return -1;
    double now = ngsi_now();
    for (size_t t = 0; t < types->n; t++) {
        const char *category;
        auth_policy_class(x->az->policy, types->item[t], &category);
        ngsi_list *type = new_list(v), *owners = new_list(v);
        json_t *seen = json_object(), *c;
        size_t i;
        push(type, types->item[t]);
        json_array_foreach(all, i, c)
        {
            const char *resident = json_string_value(json_object_get(c, "resident"));
            if (resident && !json_object_get(seen, resident) &&
                consent_covers(c, types->item[t], category, now)) {
                json_object_set_new(seen, resident, json_true());
                push(owners, resident);
            }
        }
        json_decref(seen);
        if (owners->n > 0)
            add_clause(v, type, false, owners);
    }
    return 0;
}

/* Whether the query may return entities of one of types (NULL or empty: any). */
static bool may_name(const ngsi_list *query_types, const ngsi_list *types)
{
    if (query_types == NULL || query_types->n == 0)
        return true;
    for (size_t i = 0; i < types->n; i++)
        if (ngsi_list_has(query_types, types->item[i]))
            return true;
    return false;
}

int authz_query(call *c, auth_action action, const ngsi_list *types, authz_vis *out,
                const store_visibility **vis, ngsi_error *err)
{
    memset(out, 0, sizeof *out);
    *vis = NULL;
    if (c->az == NULL)
        return 0;
    az_ctx x = ctx_of(c);
    const char *act = action == AUTH_READ ? "read" : "write";
    const char *const *names;
    size_t nt = auth_policy_all_types(x.az->policy, &names);
    out->lists = calloc(nt + 5, 2 * sizeof *out->lists);
    out->clauses = calloc(nt + 4, sizeof *out->clauses);
    if (out->lists == NULL || out->clauses == NULL)
        abort();
    ngsi_list *whole = new_list(out), *configured = new_list(out), *own = new_list(out);
    ngsi_list *me = new_list(out), *consented = new_list(out);
    for (size_t i = 0; i < nt; i++) {
        unsigned access = auth_access(x.az->policy, x.p, action, names[i]);
        push(configured, names[i]);
        if (access & AUTH_ACCESS_ALL)
            push(whole, names[i]);
        else if (access & AUTH_ACCESS_OWN)
            push(own, names[i]);
        if (!(access & AUTH_ACCESS_ALL) && (access & AUTH_ACCESS_CONSENTED))
            push(consented, names[i]);
    }
    scoped_unconfigured(&x, act, configured, whole);
    if (whole->n > 0)
        add_clause(out, whole, false, NULL);
    if (x.p != NULL && auth_principal_has_scope(x.p, "entities", act, NULL))
        add_clause(out, configured, true, NULL); /* every type not configured */
    if (own->n > 0) {
        push(me, auth_principal_sub(x.p));
        add_clause(out, own, false, me);
    }
    if (consented->n > 0 && may_name(types, consented) &&
        consented_clauses(&x, consented, out, err) < 0) {
        authz_vis_clear(out);
        return -1;
    }
    out->v =
        (store_visibility){.clauses = out->clauses, .n = out->v.n, .owner_attr = AUTH_OWNER_ATTR};
    *vis = &out->v;
    return 0;
}

void authz_vis_clear(authz_vis *v)
{
    for (size_t i = 0; i < v->nlists; i++)
        ngsi_list_clear(&v->lists[i]);
    free(v->lists);
    free(v->clauses);
    memset(v, 0, sizeof *v);
}

bool authz_type_listed(call *c, const char *type)
{
    if (c->az == NULL)
        return true;
    return (auth_access(c->b->az->policy, c->az->p, AUTH_READ, type) & AUTH_ACCESS_ALL) != 0;
}

int authz_type_denied(call *c, const char *type, ngsi_error *err)
{
    auth_error ae;
    if (auth_access(c->b->az->policy, c->az->p, AUTH_READ, type) == 0) {
        auth_access_denied(c->b->az->policy, c->az->p, AUTH_READ, type, &ae);
        return authz_fail(c, &ae, err);
    }
    return ngsi_fail(err, 403, "Forbidden",
                     "type details need read access to every entity of the type");
}

int authz_check_query_text(call *c, const char *what, const char *text, ngsi_error *err)
{
    const auth_principal *p = c->az ? c->az->p : NULL;
    if (p == NULL || text == NULL || auth_principal_has_role(p, AUTH_ROLE_TOWN) ||
        !auth_principal_has_role(p, AUTH_ROLE_VENDOR | AUTH_ROLE_ADAPTER) ||
        strstr(text, AUTH_OWNER_ATTR) == NULL)
        return 0;
    return ngsi_fail(err, 403, "Forbidden",
                     "services may not use " AUTH_OWNER_ATTR
                     " in %s: they see residents only as pseudonyms",
                     what);
}

/* ----------------------------------------------------------- subscriptions */

int authz_notify_entity(authz *az, store *st, const char *tenant, const auth_principal *p,
                        const ngsi_entity *e, const ngsi_list *attrs, ngsi_entity **out,
                        ngsi_error *err)
{
    *out = NULL;
    if (az == NULL) {
        *out = ngsi_entity_copy(e);
        return 1;
    }
    struct authz_req req = {0};
    az_ctx x = {.az = az, .st = st, .tenant = tenant, .p = p, .req = &req};
    auth_error ae;
    ngsi_error why = {0};
    int rc = check(&x, e, AUTH_READ, &ae, &why);
    if (rc < 0)
        *err = why;
    if (rc == 0) {
        ngsi_entity *copy = ngsi_entity_copy(e);
        rc = disclose(&x, &copy, 1, attrs, NULL, err);
        if (rc == 0 && json_array_size(req.records) > 0)
            rc = authz_write_records(st, tenant, req.records, err);
        if (rc == 0)
            *out = copy;
        else
            ngsi_entity_free(copy);
    }
    authz_req_clear(&req);
    return rc < 0 ? -1 : *out != NULL;
}
