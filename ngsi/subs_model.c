/*
 * ngsi/subs_model.c: the subscription model's life cycle, ids and URLs.
 *
 * A subscription keeps the strings it was given (q, mq, georel, ...) as the
 * truth, because GET renders them back verbatim and csubs stores them; the
 * compiled forms are derived by subs_compile and rebuilt whenever the strings
 * change. A copy goes through the csubs layout (subs_to_bson then
 * subs_from_bson), so the one mapping that must be complete anyway is also
 * the one that copies.
 */
#include "subs_private.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

char *subs_strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    char *p = strdup(s);
    if (p == NULL)
        abort();
    return p;
}

void subs_list_push(ngsi_list *l, const char *s)
{
    char **items = realloc(l->item, (l->n + 1) * sizeof *l->item);
    if (items == NULL)
        abort();
    l->item = items;
    l->item[l->n++] = subs_strdup(s);
}

void subs_list_copy(ngsi_list *dst, const ngsi_list *src)
{
    ngsi_list_clear(dst);
    for (size_t i = 0; i < src->n; i++)
        subs_list_push(dst, src->item[i]);
}

const char *subs_format_name(enum subs_format f)
{
    switch (f) {
    case SUBS_FMT_KEYVALUES:
        return "keyValues";
    case SUBS_FMT_VALUES:
        return "values";
    case SUBS_FMT_SIMPLIFIED_NORMALIZED:
        return "simplifiedNormalized";
    case SUBS_FMT_SIMPLIFIED_KEYVALUES:
        return "simplifiedKeyValues";
    case SUBS_FMT_NORMALIZED:
    default:
        return "normalized";
    }
}

const char *subs_status_name(enum subs_status s)
{
    switch (s) {
    case SUBS_INACTIVE:
        return "inactive";
    case SUBS_ONESHOT:
        return "oneshot";
    case SUBS_ACTIVE:
    default:
        return "active";
    }
}

/* ------------------------------------------------------------ compiling */

void subs_compiled_free(subs_compiled *c)
{
    if (c == NULL)
        return;
    q_free(c->q);
    q_free(c->mq);
    geo_query_free(c->geo);
    for (size_t i = 0; i < c->n; i++) {
        if (c->id_re_ok[i])
            regfree(&c->id_re[i]);
        if (c->type_re_ok[i])
            regfree(&c->type_re[i]);
    }
    free(c->id_re);
    free(c->type_re);
    free(c->id_re_ok);
    free(c->type_re_ok);
    free(c);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (p == NULL)
        abort();
    return p;
}

static int compile_patterns(const subs_sub *s, subs_compiled *c, ngsi_error *err)
{
    c->n = s->nentities;
    c->id_re = xcalloc(c->n, sizeof *c->id_re);
    c->type_re = xcalloc(c->n, sizeof *c->type_re);
    c->id_re_ok = xcalloc(c->n, sizeof *c->id_re_ok);
    c->type_re_ok = xcalloc(c->n, sizeof *c->type_re_ok);
    for (size_t i = 0; i < c->n; i++) {
        const subs_entity *e = &s->entities[i];
        if (e->id_pattern) {
            if (regcomp(&c->id_re[i], e->id, REG_EXTENDED | REG_NOSUB) != 0)
                return ngsi_bad_request(err, "Invalid regex for entity idPattern");
            c->id_re_ok[i] = true;
        }
        if (e->type != NULL && e->type_pattern) {
            if (regcomp(&c->type_re[i], e->type, REG_EXTENDED | REG_NOSUB) != 0)
                return ngsi_bad_request(err, "Invalid regex for entity typePattern");
            c->type_re_ok[i] = true;
        }
    }
    return 0;
}

static int compile_geo(const subs_sub *s, subs_compiled *c, ngsi_error *err)
{
    geo_error ge = {0};
    if (s->georel == NULL && s->geometry == NULL && s->coords == NULL)
        return 0;
    if (s->georel == NULL || s->geometry == NULL || s->coords == NULL)
        return ngsi_bad_request(err, "partial geo expression: geometry, georel and coords have to "
                                     "be provided together");
    if (geo_query_parse(s->georel, s->geometry, s->coords, &c->geo, &ge) < 0)
        return ngsi_bad_request(err, "error parsing geo-query fields: %s", ge.description);
    return 0;
}

int subs_compile(subs_sub *s, ngsi_error *err)
{
    subs_compiled *c = xcalloc(1, sizeof *c);
    int rc = compile_patterns(s, c, err);
    if (rc == 0 && s->q != NULL && (c->q = q_parse(s->q, false, err)) == NULL)
        rc = -1;
    if (rc == 0 && s->mq != NULL && (c->mq = q_parse(s->mq, true, err)) == NULL)
        rc = -1;
    if (rc == 0)
        rc = compile_geo(s, c, err);
    if (rc < 0) {
        subs_compiled_free(c);
        return -1;
    }
    subs_compiled_free(s->compiled);
    s->compiled = c;
    return 0;
}

/* ----------------------------------------------------------- life cycle */

static void entities_free(subs_entity *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].id);
        free(e[i].type);
    }
    free(e);
}

void subs_free(subs_sub *s)
{
    if (s == NULL)
        return;
    free(s->description);
    free(s->service_path);
    entities_free(s->entities, s->nentities);
    ngsi_list_clear(&s->cond_attrs);
    free(s->q);
    free(s->mq);
    free(s->georel);
    free(s->geometry);
    free(s->coords);
    ngsi_list_clear(&s->attrs);
    ngsi_list_clear(&s->metadata);
    free(s->url);
    free(s->method);
    json_decref(s->headers);
    json_decref(s->qs);
    free(s->payload);
    json_decref(s->json);
    json_decref(s->ngsi);
    free(s->topic);
    free(s->user);
    free(s->passwd);
    free(s->counters.last_failure_reason);
    subs_compiled_free(s->compiled);
    json_decref(s->owner);
    free(s);
}

subs_sub *subs_copy(const subs_sub *s)
{
    bson_t doc = BSON_INITIALIZER;
    subs_to_bson(s, &doc);
    subs_sub *c = subs_from_bson(&doc);
    bson_destroy(&doc);
    return c;
}

/* ------------------------------------------------------------------- ids */

void subs_id_new(char out[SUBS_ID_LEN + 1])
{
    bson_oid_t oid;
    bson_oid_init(&oid, NULL);
    bson_oid_to_string(&oid, out);
}

int subs_id_check(const char *id, ngsi_error *err)
{
    if (strlen(id) != SUBS_ID_LEN)
        return ngsi_bad_request(err, "bad length - 24 chars expected");
    for (const char *p = id; *p; p++)
        if (!isxdigit((unsigned char)*p))
            return ngsi_bad_request(err, "invalid char in ID string");
    return 0;
}

/* ------------------------------------------------------------------ URLs */

static int default_port(const char *scheme)
{
    if (strcmp(scheme, "https") == 0)
        return 443;
    if (strcmp(scheme, "mqtt") == 0)
        return 1883;
    return 80;
}

/* host or [v6] then an optional :port; returns where the path starts. */
static const char *parse_authority(const char *p, subs_url *out)
{
    size_t n;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (close == NULL)
            return NULL;
        n = (size_t)(close - p - 1);
        if (n == 0 || n >= sizeof out->host)
            return NULL;
        memcpy(out->host, p + 1, n);
        p = close + 1;
    } else {
        n = strcspn(p, ":/");
        if (n == 0 || n >= sizeof out->host)
            return NULL;
        memcpy(out->host, p, n);
        p += n;
    }
    out->host[n] = '\0';
    if (*p != ':')
        return p;
    p++;
    long port = 0;
    size_t digits = 0;
    for (; isdigit((unsigned char)*p) && digits < 6; p++, digits++)
        port = port * 10 + (*p - '0');
    if (digits == 0 || port < 1 || port > 65535)
        return NULL;
    out->port = (int)port;
    return p;
}

int subs_url_parse(const char *url, subs_url *out)
{
    static const char *const SCHEMES[] = {"https", "http", "mqtt"};
    memset(out, 0, sizeof *out);
    const char *p = NULL;
    for (size_t i = 0; i < sizeof SCHEMES / sizeof *SCHEMES && p == NULL; i++) {
        size_t n = strlen(SCHEMES[i]);
        if (strncmp(url, SCHEMES[i], n) == 0 && strncmp(url + n, "://", 3) == 0) {
            snprintf(out->scheme, sizeof out->scheme, "%s", SCHEMES[i]);
            p = url + n + 3;
        }
    }
    if (p == NULL)
        return -1;
    out->port = default_port(out->scheme);
    p = parse_authority(p, out);
    if (p == NULL || (*p != '\0' && *p != '/'))
        return -1;
    for (const char *c = out->host; *c; c++)
        if (isspace((unsigned char)*c))
            return -1;
    out->path = *p ? p : "/";
    return 0;
}
