/*
 * broker/authz.c: auth in the request lifecycle: configuration, the caller, the
 * route's permission, and writing the provision records a request made.
 *
 * Design decisions (docs/auth.md):
 * - One decision point per request, right after routing and the syntax checks Orion
 *   makes (dispatch in http.c): a bad request is still a 400 whoever sends it, and no
 *   handler runs for a caller the route does not admit.
 * - A request without a token is anonymous, not refused: it may read open data. Routes
 *   that need more answer 401 with WWW-Authenticate (RFC 6750).
 * - The token decides the tenant. A Fiware-Service naming another tenant is a 403;
 *   none means the token's tenant.
 * - Provision records are written after the handler succeeded and before the reply
 *   leaves: if they cannot be written, the caller gets the error instead of the data
 *   (nothing is disclosed unrecorded).
 * - With auth off there is no authz at all (NULL), and every entry point returns at
 *   once: Orion's behaviour, byte for byte.
 */
#include "authz_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const store_doc_index AUTHZ_PROVISION_INDEXES[] = {
    {"resident_1_time_-1", "{\"resident\":1,\"time\":-1}"},
    {"service_1_time_-1", "{\"service\":1,\"time\":-1}"},
    {"time_1", "{\"time\":1}"},
    {NULL, NULL},
};

/* ---------------------------------------------------------- configuration */

/* Top-level members of the -config file. */
static const char *const CONFIG_KEYS[] = {"entityTypes", NULL};

static json_t *load_config(const char *path, ngsi_error *err)
{
    json_error_t je;
    json_t *conf = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (conf == NULL) {
        ngsi_internal(err, "config %s: %s (line %d)", path, je.text, je.line);
        return NULL;
    }
    if (!json_is_object(conf)) {
        json_decref(conf);
        ngsi_internal(err, "config %s: not a JSON object", path);
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(conf, key, v)
    {
        bool known = false;
        for (size_t i = 0; CONFIG_KEYS[i] && !known; i++)
            known = strcmp(CONFIG_KEYS[i], key) == 0;
        if (!known) {
            ngsi_internal(err, "config %s: unknown member '%s'", path, key);
            json_decref(conf);
            return NULL;
        }
    }
    return conf;
}

/* The pseudonym secret: the file's bytes without one final newline. */
static int load_pseudonym_secret(authz *az, const char *path, ngsi_error *err)
{
    auth_error ae;
    size_t n = 0;
    char *text = auth_read_secret_file(path, &n, &ae);
    if (text == NULL)
        return ngsi_internal(err, "pseudonym secret: %s", ae.description);
    int rc = 0;
    if (n < AUTH_PSEUDONYM_SECRET_MIN || n > AUTHZ_PSEUDONYM_SECRET_MAX) {
        rc = ngsi_internal(err, "the pseudonym secret in %s must have %d to %d bytes", path,
                           AUTH_PSEUDONYM_SECRET_MIN, AUTHZ_PSEUDONYM_SECRET_MAX);
    } else {
        memcpy(az->pseudonym_secret, text, n);
        az->pseudonym_len = n;
    }
    explicit_bzero(text, n);
    free(text);
    return rc;
}

static const char *opt(const char *s)
{
    return s[0] ? s : NULL;
}

static int make_verifier(authz *az, const broker_config *cfg, ngsi_error *err)
{
    auth_config ac;
    auth_error ae;
    auth_config_init(&ac);
    ac.issuer = opt(cfg->auth_issuer);
    ac.audience = opt(cfg->auth_audience);
    ac.clock_skew = cfg->auth_clock_skew;
    ac.secret = opt(cfg->auth_secret);
    ac.secret_file = opt(cfg->auth_secret_file);
    ac.secret_kid = opt(cfg->auth_secret_kid);
    ac.key_file = opt(cfg->auth_key_file);
    ac.key_kid = opt(cfg->auth_key_kid);
    ac.cache_entries = (size_t)cfg->auth_cache;
    az->verifier = auth_verifier_new(&ac, &ae);
    if (az->verifier == NULL)
        return ngsi_internal(err, "auth: %s", ae.description);
    return 0;
}

static int make_policy(authz *az, const broker_config *cfg, ngsi_error *err)
{
    auth_error ae;
    json_t *conf = NULL;
    if (cfg->config_file[0] && (conf = load_config(cfg->config_file, err)) == NULL)
        return -1;
    az->policy = auth_policy_new(json_object_get(conf, "entityTypes"), &ae);
    json_decref(conf);
    if (az->policy == NULL)
        return ngsi_internal(err, "config %s: %s", cfg->config_file, ae.description);
    const char *const *names;
    bool personal = auth_policy_types(az->policy, AUTH_CLASS_PERSONAL, &names) > 0;
    if (cfg->pseudonym_secret_file[0])
        return load_pseudonym_secret(az, cfg->pseudonym_secret_file, err);
    if (personal)
        return ngsi_internal(err, "personal entity types need -pseudonymSecretFile (services "
                                  "see residents only through pseudonyms)");
    return 0;
}

authz *authz_new(const broker_config *cfg, ngsi_error *err)
{
    authz *az = calloc(1, sizeof *az);
    if (az == NULL)
        abort();
    if (make_verifier(az, cfg, err) < 0 || make_policy(az, cfg, err) < 0) {
        authz_free(az);
        return NULL;
    }
    return az;
}

void authz_free(authz *az)
{
    if (az == NULL)
        return;
    auth_verifier_free(az->verifier);
    auth_policy_free(az->policy);
    /* explicit_bzero: a memset just before free() may be optimised away. */
    explicit_bzero(az->pseudonym_secret, sizeof az->pseudonym_secret);
    free(az);
}

int authz_reload(authz *az, ngsi_error *err)
{
    auth_error ae;
    if (auth_verifier_reload(az->verifier, &ae) < 0)
        return ngsi_internal(err, "auth: %s", ae.description);
    return 0;
}

/* --------------------------------------------------------------- requests */

int authz_fail(call *c, const auth_error *ae, ngsi_error *err)
{
    if (ae->status == 401 && auth_error_www_authenticate(ae, AUTHZ_REALM, c->www_authenticate,
                                                         sizeof c->www_authenticate) < 0)
        c->www_authenticate[0] = '\0';
    return ngsi_fail(err, ae->status, ae->name, "%s", ae->description);
}

/* 401 for a route that needs a token and got none. */
static int need_token(call *c, ngsi_error *err)
{
    auth_error ae;
    auth_verify(c->b->az->verifier, NULL, &ae);
    return authz_fail(c, &ae, err);
}

static int forbid(ngsi_error *err, const char *text)
{
    return ngsi_fail(err, 403, "Forbidden", "%s", text);
}

/* What the route declares (router.c), checked against the caller. */
static int route_allowed(call *c, const auth_principal *p, ngsi_error *err)
{
    enum route_perm perm = c->route->perm;
    if (perm == PERM_NONE || perm == PERM_ENTITY_READ)
        return 0; /* entity reads are filtered per type, also for anonymous callers */
    if (p == NULL)
        return need_token(c, err);
    switch (perm) {
    case PERM_ENTITY_WRITE:
        return auth_principal_may(p, "entities", "write")
                   ? 0
                   : forbid(err, "the token has no scope to write entities, such as "
                                 "entities:write:TYPE");
    case PERM_SUB_READ:
        return auth_principal_may(p, "subscriptions", "read")
                   ? 0
                   : forbid(err, "the token has no scope subscriptions:read");
    case PERM_SUB_WRITE:
        return auth_principal_may(p, "subscriptions", "write")
                   ? 0
                   : forbid(err, "the token has no scope subscriptions:write");
    case PERM_RESIDENT:
        return auth_principal_has_role(p, AUTH_ROLE_RESIDENT)
                   ? 0
                   : forbid(err, "only a token of a resident may use this: consents and provision "
                                 "records belong to residents");
    case PERM_IDLINK_READ:
        return auth_principal_has_role(p, AUTH_ROLE_TOWN | AUTH_ROLE_ADAPTER)
                   ? 0
                   : forbid(err, "only the town and adapters may read id links");
    case PERM_IDLINK_WRITE:
        return auth_principal_has_role(p, AUTH_ROLE_TOWN | AUTH_ROLE_RESIDENT)
                   ? 0
                   : forbid(err, "only the town and residents may change id links");
    case PERM_TOWN:
    case PERM_STATS_RESET:
        return auth_principal_has_role(p, AUTH_ROLE_TOWN)
                   ? 0
                   : forbid(err, perm == PERM_TOWN ? "only a town token may see these figures"
                                                   : "only a town token may reset the statistics");
    default:
        return 0;
    }
}

int authz_request(call *c, ngsi_error *err)
{
    authz *az = c->b->az;
    auth_error ae;
    const char *token;
    if (az == NULL)
        return 0;
    c->az = calloc(1, sizeof *c->az);
    if (c->az == NULL)
        abort();
    if (auth_token_from_headers(call_header(c, "Authorization"), call_header(c, "X-Auth-Token"),
                                &token, &ae) < 0)
        return authz_fail(c, &ae, err);
    if (token != NULL) {
        c->az->p = auth_verify(az->verifier, token, &ae);
        if (c->az->p == NULL)
            return authz_fail(c, &ae, err);
        const char *tenant = auth_tenant_decide(c->az->p, call_header(c, "Fiware-Service"), &ae);
        if (tenant == NULL)
            return authz_fail(c, &ae, err);
        snprintf(c->tenant, sizeof c->tenant, "%s", tenant);
    }
    return route_allowed(c, c->az->p, err);
}

int authz_commit(call *c, ngsi_error *err)
{
    if (c->az == NULL || json_array_size(c->az->records) == 0)
        return 0;
    if (authz_write_records(c->b->store, c->tenant, c->az->records, err) < 0) {
        c->total_count = -1; /* the reply becomes the error */
        return -1;
    }
    return 0;
}

int authz_write_records(store *st, const char *tenant, json_t *records, ngsi_error *err)
{
    size_t n = json_array_size(records);
    json_t **docs = calloc(n + 1, sizeof *docs);
    if (docs == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        docs[i] = json_array_get(records, i);
    int rc = store_docs_insert(st, tenant, AUTHZ_PROVISIONS, AUTHZ_PROVISION_INDEXES, docs, n, err);
    free(docs);
    json_array_clear(records);
    return rc;
}

void authz_req_clear(struct authz_req *r)
{
    auth_principal_decref(r->p);
    json_decref(r->records);
    json_decref(r->consents);
    free(r->consents_owner);
    memset(r, 0, sizeof *r);
}

void authz_call_free(call *c)
{
    if (c->az == NULL)
        return;
    authz_req_clear(c->az);
    free(c->az);
    c->az = NULL;
}

const auth_principal *authz_principal(const call *c)
{
    return c->az ? c->az->p : NULL;
}

json_t *authz_principal_claims(const auth_principal *p)
{
    json_t *roles = json_array();
    ngsi_buf scope = {0};
    for (unsigned bit = 1; bit <= AUTH_ROLE_TOWN; bit <<= 1)
        if (auth_principal_roles(p) & bit)
            json_array_append_new(roles, json_string(auth_role_name(bit)));
    ngsi_buf_puts(&scope, "");
    for (size_t i = 0; i < auth_principal_scope_count(p); i++) {
        const auth_scope *s = auth_principal_scope_at(p, i);
        ngsi_buf_printf(&scope, "%s%s:%s%s%s", i ? " " : "", s->resource, s->action,
                        s->type ? ":" : "", s->type ? s->type : "");
    }
    json_t *claims = json_pack("{s:s,s:o,s:s,s:s}", "sub", auth_principal_sub(p), "roles", roles,
                               "tenant", auth_principal_tenant(p), "scope", scope.data);
    ngsi_buf_free(&scope);
    return claims;
}

/* ----------------------------------------------------------- broker glue */

int broker_reload(broker *b, ngsi_error *err)
{
    return b->az ? authz_reload(b->az, err) : 0;
}

bool broker_auth_on(const broker *b)
{
    return b->az != NULL;
}
