/*
 * auth/principal.c: the principal a token names (sub, roles, tenant, scope) and the
 * policy questions asked about it (has role, has scope, which tenant).
 *
 * A principal is immutable after it is built and reference-counted with an atomic
 * counter, so the token cache can hand the same principal to many request threads
 * without copying.
 *
 * Claim rules (documented in docs/auth-tokens.md):
 * - sub: required non-empty string (a resident's common ID, or a service's client id).
 * - roles: required array of strings. Names Tsunagi does not know are ignored, since an
 *   identity provider may share its tokens with other applications and ignoring a role
 *   can never grant more; but at least one known role must remain, else the token is
 *   refused (it could not be allowed anything, and a clear error beats a later 403).
 * - tenant: optional; checked and lowercased like Orion checks Fiware-Service. Absent
 *   (or "") means the default tenant, the one a request without Fiware-Service uses.
 * - scope: optional space-separated string of resource:action[:type] items. The type
 *   is everything after the second colon, so types containing colons survive. Items
 *   without an action (OpenID Connect's "openid", "profile", ...) or with an empty part
 *   grant nothing here and are ignored.
 */
#include "auth/auth_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest sub: common IDs and client ids are far shorter; bounds what the cache holds. */
#define AUTH_SUB_MAX 256
/* Longest scope claim in bytes, and most items in it: real tokens carry a handful, and
 * the bound keeps has_scope() a short scan. */
#define AUTH_SCOPE_TEXT_MAX  4096
#define AUTH_SCOPE_ITEMS_MAX 128

struct auth_principal {
    atomic_uint refs;
    char *sub;
    char tenant[AUTH_TENANT_MAX + 1];
    unsigned roles;
    time_t expires;
    char *scope_text; /* copy of the scope claim, split in place; scopes point into it */
    size_t scope_count;
    auth_scope *scopes;
};

static const struct {
    const char *name;
    unsigned role;
} role_table[] = {
    {"resident", AUTH_ROLE_RESIDENT},
    {"vendor", AUTH_ROLE_VENDOR},
    {"adapter", AUTH_ROLE_ADAPTER},
    {"town", AUTH_ROLE_TOWN},
};

#define ROLE_COUNT (sizeof(role_table) / sizeof(role_table[0]))

unsigned auth_role_from_name(const char *name)
{
    for (size_t i = 0; name != NULL && i < ROLE_COUNT; i++)
        if (strcmp(role_table[i].name, name) == 0)
            return role_table[i].role;
    return 0;
}

const char *auth_role_name(unsigned role)
{
    for (size_t i = 0; i < ROLE_COUNT; i++)
        if (role_table[i].role == role)
            return role_table[i].name;
    return NULL;
}

/* ---- tenants ---- */

static bool tenant_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

int auth_tenant_normalize(const char *name, char out[AUTH_TENANT_MAX + 1], auth_error *err)
{
    size_t len = strnlen(name, AUTH_TENANT_MAX + 1);
    if (len > AUTH_TENANT_MAX)
        return auth_fail(err, AUTH_E_BAD_TENANT,
                         "bad length - a tenant name can be max %d characters long",
                         AUTH_TENANT_MAX);
    for (size_t i = 0; i < len; i++) {
        if (!tenant_char(name[i]))
            return auth_fail(err, AUTH_E_BAD_TENANT,
                             "bad character in tenant name - only underscore and alphanumeric "
                             "characters are allowed");
        out[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] - 'A' + 'a') : name[i];
    }
    out[len] = '\0';
    return 0;
}

const char *auth_tenant_decide(const auth_principal *p, const char *fiware_service, auth_error *err)
{
    if (fiware_service == NULL || *fiware_service == '\0')
        return p->tenant;
    char wanted[AUTH_TENANT_MAX + 1];
    if (auth_tenant_normalize(fiware_service, wanted, err) < 0)
        return NULL;
    if (strcmp(wanted, p->tenant) != 0) {
        auth_fail(err, AUTH_E_TENANT_MISMATCH,
                  "the token does not give access to the tenant in Fiware-Service");
        return NULL;
    }
    return p->tenant;
}

/* ---- building ---- */

static void principal_free(auth_principal *p)
{
    free(p->sub);
    free(p->scope_text);
    free(p->scopes);
    free(p);
}

static int parse_sub(auth_principal *p, const json_t *claims, auth_error *err)
{
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    if (sub == NULL || *sub == '\0')
        return auth_fail(err, AUTH_E_CLAIMS, "invalid claim: sub must be a non-empty string");
    if (strnlen(sub, AUTH_SUB_MAX + 1) > AUTH_SUB_MAX)
        return auth_fail(err, AUTH_E_CLAIMS, "invalid claim: sub is longer than %d bytes",
                         AUTH_SUB_MAX);
    p->sub = strdup(sub);
    return p->sub != NULL ? 0 : auth_fail(err, AUTH_E_INTERNAL, "out of memory");
}

static int parse_roles(auth_principal *p, const json_t *claims, auth_error *err)
{
    const json_t *roles = json_object_get(claims, "roles");
    if (!json_is_array(roles))
        return auth_fail(err, AUTH_E_CLAIMS, "invalid claim: roles must be an array of strings");
    for (size_t i = 0; i < json_array_size(roles); i++) {
        const char *name = json_string_value(json_array_get(roles, i));
        if (name == NULL)
            return auth_fail(err, AUTH_E_CLAIMS,
                             "invalid claim: roles must be an array of strings");
        p->roles |= auth_role_from_name(name);
    }
    if (p->roles == 0)
        return auth_fail(err, AUTH_E_CLAIMS,
                         "invalid claim: roles holds none of resident, vendor, adapter, town");
    return 0;
}

static int parse_tenant(auth_principal *p, const json_t *claims, auth_error *err)
{
    const json_t *tenant = json_object_get(claims, "tenant");
    if (tenant == NULL)
        return 0;
    if (!json_is_string(tenant))
        return auth_fail(err, AUTH_E_CLAIMS, "invalid claim: tenant must be a string");
    if (auth_tenant_normalize(json_string_value(tenant), p->tenant, err) < 0) {
        char why[AUTH_ERROR_TEXT_MAX];
        snprintf(why, sizeof(why), "%s", err != NULL ? err->description : "");
        return auth_fail(err, AUTH_E_CLAIMS, "invalid claim: tenant: %s", why);
    }
    return 0;
}

/* Splits one item "resource:action[:type]" in place. Returns false if it is not one. */
static bool split_scope_item(char *item, auth_scope *out)
{
    char *action = strchr(item, ':');
    if (action == NULL)
        return false;
    *action++ = '\0';
    char *type = strchr(action, ':');
    if (type != NULL)
        *type++ = '\0';
    if (*item == '\0' || *action == '\0' || (type != NULL && *type == '\0'))
        return false;
    *out = (auth_scope){item, action, type};
    return true;
}

/* Number of space-separated words in s: an upper bound of the scope items. */
static size_t count_words(const char *s)
{
    size_t n = 0;
    for (bool in_word = false; *s != '\0'; s++) {
        if (*s == ' ')
            in_word = false;
        else if (!in_word) {
            in_word = true;
            n++;
        }
    }
    return n;
}

static void split_scope(auth_principal *p)
{
    char *save = NULL;
    for (char *item = strtok_r(p->scope_text, " ", &save); item != NULL;
         item = strtok_r(NULL, " ", &save))
        if (split_scope_item(item, &p->scopes[p->scope_count]))
            p->scope_count++;
}

static int parse_scope(auth_principal *p, const json_t *claims, auth_error *err)
{
    const json_t *scope = json_object_get(claims, "scope");
    if (scope == NULL)
        return 0;
    if (!json_is_string(scope))
        return auth_fail(err, AUTH_E_CLAIMS, "invalid claim: scope must be a string");
    if (json_string_length(scope) > AUTH_SCOPE_TEXT_MAX)
        return auth_fail(err, AUTH_E_CLAIMS, "invalid claim: scope is longer than %d bytes",
                         AUTH_SCOPE_TEXT_MAX);
    size_t words = count_words(json_string_value(scope));
    if (words > AUTH_SCOPE_ITEMS_MAX)
        return auth_fail(err, AUTH_E_CLAIMS, "invalid claim: scope has more than %d items",
                         AUTH_SCOPE_ITEMS_MAX);
    p->scope_text = strdup(json_string_value(scope));
    p->scopes = calloc(words > 0 ? words : 1, sizeof(*p->scopes));
    if (p->scope_text == NULL || p->scopes == NULL)
        return auth_fail(err, AUTH_E_INTERNAL, "out of memory");
    split_scope(p);
    return 0;
}

auth_principal *auth_principal_from_claims(const json_t *claims, auth_error *err)
{
    auth_principal *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        auth_fail(err, AUTH_E_INTERNAL, "out of memory");
        return NULL;
    }
    atomic_init(&p->refs, 1);
    time_t exp = 0;
    if (!json_is_object(claims)) {
        auth_fail(err, AUTH_E_CLAIMS, "invalid claims: not a JSON object");
    } else if (parse_sub(p, claims, err) == 0 && parse_roles(p, claims, err) == 0 &&
               parse_tenant(p, claims, err) == 0 && parse_scope(p, claims, err) == 0 &&
               auth_claim_time(claims, "exp", &exp, err) >= 0) {
        p->expires = exp;
        return p;
    }
    principal_free(p);
    return NULL;
}

auth_principal *auth_principal_incref(auth_principal *p)
{
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return p;
}

void auth_principal_decref(auth_principal *p)
{
    if (p != NULL && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
        principal_free(p);
}

/* ---- accessors and policy ---- */

const char *auth_principal_sub(const auth_principal *p)
{
    return p->sub;
}

const char *auth_principal_tenant(const auth_principal *p)
{
    return p->tenant;
}

unsigned auth_principal_roles(const auth_principal *p)
{
    return p->roles;
}

bool auth_principal_has_role(const auth_principal *p, unsigned mask)
{
    return (p->roles & mask) != 0;
}

time_t auth_principal_expires(const auth_principal *p)
{
    return p->expires;
}

size_t auth_principal_scope_count(const auth_principal *p)
{
    return p->scope_count;
}

const auth_scope *auth_principal_scope_at(const auth_principal *p, size_t i)
{
    return i < p->scope_count ? &p->scopes[i] : NULL;
}

/* A granted part matches the wanted value if it is "*" or equal. */
static bool part_matches(const char *granted, const char *wanted)
{
    return strcmp(granted, "*") == 0 || (wanted != NULL && strcmp(granted, wanted) == 0);
}

bool auth_scope_grants(const auth_scope *s, const char *resource, const char *action)
{
    return part_matches(s->resource, resource) && part_matches(s->action, action);
}

bool auth_principal_has_scope(const auth_principal *p, const char *resource, const char *action,
                              const char *type)
{
    if (resource == NULL || action == NULL)
        return false;
    for (size_t i = 0; i < p->scope_count; i++) {
        const auth_scope *s = &p->scopes[i];
        if (auth_scope_grants(s, resource, action) &&
            (s->type == NULL || part_matches(s->type, type)))
            return true;
    }
    return false;
}

bool auth_principal_may(const auth_principal *p, const char *resource, const char *action)
{
    for (size_t i = 0; p != NULL && i < p->scope_count; i++)
        if (auth_scope_grants(&p->scopes[i], resource, action))
            return true;
    return false;
}
