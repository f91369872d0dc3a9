/*
 * ngsi/tenancy.c: Fiware-Service and Fiware-ServicePath, as Orion reads them.
 *
 * The service selects a database, so its characters are restricted to what
 * is safe in a database name and it is lowercased (Orion does the same).
 * Service paths scope entities inside a tenant: a read may name up to ten of
 * them, each optionally "/#" for a whole subtree; a write names exactly one.
 */
#include "ngsi.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int ngsi_service_parse(const char *hdr, char out[NGSI_SERVICE_MAX + 1], ngsi_error *err)
{
    out[0] = '\0';
    if (hdr == NULL || *hdr == '\0')
        return 0;
    size_t len = strlen(hdr);
    if (len > NGSI_SERVICE_MAX)
        return ngsi_bad_request(err, "bad length - a tenant name can be max %d characters long",
                                NGSI_SERVICE_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)hdr[i];
        if (!isalnum(c) && c != '_')
            return ngsi_bad_request(err, "bad character in tenant name - only underscore and "
                                         "alphanumeric characters are allowed");
        out[i] = (char)tolower(c);
    }
    out[len] = '\0';
    return 0;
}

/* Check one path ("/a/b" or "/a/#" when subtree is allowed). */
static int check_path(const char *p, bool for_write, ngsi_error *err)
{
    if (p[0] != '/')
        return ngsi_bad_request(err, "Only /absolute/ Service Paths allowed [a service path must "
                                     "begin with /]");
    size_t len = strlen(p);
    bool subtree = len >= 2 && strcmp(p + len - 2, "/#") == 0;
    /* Orion checks write paths against [A-Za-z0-9_/], so '#' fails there. */
    if (subtree && for_write)
        return ngsi_bad_request(err, "Bad Character in Service-Path");
    size_t end = subtree ? len - 2 : len;
    size_t levels = 0, level_len = 0;
    for (size_t i = 1; i <= end; i++) {
        char c = i < end ? p[i] : '/';
        if (c == '/') {
            if (level_len > 0)
                levels++;
            else if (i < end)
                return ngsi_bad_request(err, "empty component in ServicePath");
            level_len = 0;
            continue;
        }
        if (!isalnum((unsigned char)c) && c != '_')
            return ngsi_bad_request(err, "a component of ServicePath contains an illegal "
                                         "character");
        if (++level_len > NGSI_SERVICEPATH_LEVEL_MAX)
            return ngsi_bad_request(err, "component-name too long in ServicePath");
    }
    if (levels > NGSI_SERVICEPATH_LEVELS_MAX)
        return ngsi_bad_request(err, "too many components in ServicePath");
    return 0;
}

/* Copy p without surrounding blanks and without a trailing '/' ("/a/" is
 * "/a"; "/" stays "/"). New string. */
static char *trimmed(const char *p, size_t n)
{
    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    while (n > 1 && p[n - 1] == '/')
        n--;
    char *s = strndup(p, n);
    if (s == NULL)
        abort();
    return s;
}

int ngsi_paths_parse(const char *hdr, bool for_write, ngsi_paths *out, ngsi_error *err)
{
    memset(out, 0, sizeof *out);
    if (hdr == NULL || *hdr == '\0')
        hdr = for_write ? "/" : "/#";
    const char *p = hdr;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (out->n == NGSI_SERVICEPATHS_MAX)
            return ngsi_paths_clear(out),
                   ngsi_bad_request(err, "too many service paths - a maximum of ten service "
                                         "paths is allowed");
        out->path[out->n++] = trimmed(p, n);
        if (check_path(out->path[out->n - 1], for_write, err) < 0)
            return ngsi_paths_clear(out), -1;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    if (for_write && out->n > 1)
        return ngsi_paths_clear(out),
               ngsi_bad_request(err, "more than one service path in context update request");
    return 0;
}

void ngsi_paths_clear(ngsi_paths *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->path[i]);
    p->n = 0;
}
