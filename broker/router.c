/*
 * broker/router.c: the route table and path matching.
 *
 * The table is data, in the spirit of Redis's command table: method, path
 * pattern, handler, flags and the permission the route needs. Routes for one path are listed in the
 * order Orion's Allow header names their methods, so a 405 can build Allow by walking the table.
 */
#include "authz.h"
#include "broker_private.h"

#include <string.h>

static const route ROUTES[] = {
    {"GET", "/version", h_version, 0, PERM_NONE},
    {"GET", "/v2", h_v2_root, 0, PERM_NONE},
    {"GET", "/v2/entities", h_entities_list, 0, PERM_ENTITY_READ},
    {"POST", "/v2/entities", h_entities_create, ROUTE_WRITE, PERM_ENTITY_WRITE},
    {"GET", "/v2/entities/{}", h_entity_get, 0, PERM_ENTITY_READ},
    {"DELETE", "/v2/entities/{}", h_entity_delete, ROUTE_WRITE, PERM_ENTITY_WRITE},
    {"GET", "/v2/entities/{}/attrs", h_attrs_get, 0, PERM_ENTITY_READ},
    {"PATCH", "/v2/entities/{}/attrs", h_attrs_patch, ROUTE_WRITE, PERM_ENTITY_WRITE},
    {"POST", "/v2/entities/{}/attrs", h_attrs_post, ROUTE_WRITE, PERM_ENTITY_WRITE},
    {"PUT", "/v2/entities/{}/attrs", h_attrs_put, ROUTE_WRITE, PERM_ENTITY_WRITE},
    {"GET", "/v2/entities/{}/attrs/{}", h_attr_get, 0, PERM_ENTITY_READ},
    {"PUT", "/v2/entities/{}/attrs/{}", h_attr_put, ROUTE_WRITE, PERM_ENTITY_WRITE},
    {"DELETE", "/v2/entities/{}/attrs/{}", h_attr_delete, ROUTE_WRITE, PERM_ENTITY_WRITE},
    {"GET", "/v2/entities/{}/attrs/{}/value", h_value_get, ROUTE_TEXT_REPLY, PERM_ENTITY_READ},
    {"PUT", "/v2/entities/{}/attrs/{}/value", h_value_put,
     ROUTE_WRITE | ROUTE_TEXT_BODY | ROUTE_TEXT_REPLY, PERM_ENTITY_WRITE},
    {"GET", "/v2/types", h_types_list, 0, PERM_ENTITY_READ},
    {"GET", "/v2/types/{}", h_type_get, 0, PERM_ENTITY_READ},
    {"POST", "/v2/op/update", h_op_update, ROUTE_WRITE, PERM_ENTITY_WRITE},
    {"POST", "/v2/op/query", h_op_query, 0, PERM_ENTITY_READ},
    /* id links: residents and the town maintain them, adapters read them. */
    {"GET", "/tsunagi/idlinks/{}/{}", h_idlink_get, 0, PERM_IDLINK_READ},
    {"PUT", "/tsunagi/idlinks/{}/{}", h_idlink_put, 0, PERM_IDLINK_WRITE},
    {"DELETE", "/tsunagi/idlinks/{}/{}", h_idlink_delete, 0, PERM_IDLINK_WRITE},
    {"GET", "/tsunagi/schemas", h_schemas_list, 0, PERM_NONE},
    {"GET", "/tsunagi/schemas/{}", h_schema_get, 0, PERM_NONE},
    /* consents and provision records: with auth on only (authz.h, docs/auth.md) */
    {"GET", "/tsunagi/consents", h_consents_list, ROUTE_AUTH_ONLY, PERM_RESIDENT},
    {"POST", "/tsunagi/consents", h_consent_create, ROUTE_AUTH_ONLY, PERM_RESIDENT},
    {"GET", "/tsunagi/consents/{}", h_consent_get, ROUTE_AUTH_ONLY, PERM_RESIDENT},
    {"DELETE", "/tsunagi/consents/{}", h_consent_revoke, ROUTE_AUTH_ONLY, PERM_RESIDENT},
    {"GET", "/tsunagi/provisions", h_provisions_list, ROUTE_AUTH_ONLY, PERM_RESIDENT},
    {"GET", "/tsunagi/provisions/counts", h_provision_counts, ROUTE_AUTH_ONLY, PERM_TOWN},
    {"GET", "/v2/subscriptions", h_subs_list, 0, PERM_SUB_READ},
    {"POST", "/v2/subscriptions", h_subs_create, 0, PERM_SUB_WRITE},
    {"GET", "/v2/subscriptions/{}", h_sub_get, 0, PERM_SUB_READ},
    {"DELETE", "/v2/subscriptions/{}", h_sub_delete, 0, PERM_SUB_WRITE},
    {"PATCH", "/v2/subscriptions/{}", h_sub_patch, 0, PERM_SUB_WRITE},
    {"GET", "/statistics", h_statistics_get, 0, PERM_NONE},
    {"DELETE", "/statistics", h_statistics_delete, 0, PERM_STATS_RESET},
    {"GET", "/cache/statistics", h_cache_statistics_get, 0, PERM_NONE},
    {"DELETE", "/cache/statistics", h_statistics_delete, 0, PERM_STATS_RESET},
};

#define NROUTES (sizeof ROUTES / sizeof *ROUTES)
/* Segments in the longest pattern. */
#define ROUTE_SEGMENTS_MAX 8

/* Split path on '/' in place; returns the number of segments or -1 when
 * there are more than max. "/a//b" has an empty middle segment. */
static int split(char *path, char **seg, int max)
{
    int n = 0;
    char *p = path;
    if (*p == '/')
        p++;
    for (;;) {
        if (n == max)
            return -1;
        seg[n++] = p;
        char *slash = strchr(p, '/');
        if (slash == NULL)
            return n;
        *slash = '\0';
        p = slash + 1;
    }
}

/* Whether pattern matches the split path; collects the {} segments. */
static bool matches(const char *pattern, char **seg, int nseg, char **params, size_t *nparams)
{
    char buf[128];
    char *pseg[ROUTE_SEGMENTS_MAX];
    snprintf(buf, sizeof buf, "%s", pattern);
    int n = split(buf, pseg, ROUTE_SEGMENTS_MAX);
    if (n != nseg)
        return false;
    size_t np = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(pseg[i], "{}") == 0) {
            if (np < CALL_PARAMS_MAX)
                params[np++] = seg[i];
        } else if (strcmp(pseg[i], seg[i]) != 0) {
            return false;
        }
    }
    *nparams = np;
    return true;
}

const route *router_match(const char *method, char *path, char **params, size_t *nparams,
                          char *allow, size_t allowsz, unsigned hidden)
{
    char *seg[ROUTE_SEGMENTS_MAX];
    int nseg = split(path, seg, ROUTE_SEGMENTS_MAX);
    allow[0] = '\0';
    *nparams = 0;
    if (nseg < 0)
        return NULL;
    size_t used = 0;
    for (size_t i = 0; i < NROUTES; i++) {
        char *p[CALL_PARAMS_MAX];
        size_t np;
        if ((ROUTES[i].flags & hidden) || !matches(ROUTES[i].pattern, seg, nseg, p, &np))
            continue;
        if (strcmp(ROUTES[i].method, method) == 0) {
            memcpy(params, p, np * sizeof *p);
            *nparams = np;
            allow[0] = '\0';
            return &ROUTES[i];
        }
        int w = snprintf(allow + used, allowsz - used, "%s%s", used ? ", " : "", ROUTES[i].method);
        if (w > 0 && (size_t)w < allowsz - used)
            used += (size_t)w;
    }
    return NULL;
}
