/*
 * ngsi/subs_message.c: the notification a matching subscription sends.
 *
 * The notified entity is built first, as its own ngsi_entity holding exactly
 * the attributes to show, in order: notification.attrs (or every attribute
 * but exceptAttrs), narrowed to the written ones with onlyChangedAttrs, the
 * builtins dateCreated, dateModified, dateExpires and alterationType when
 * listed, "None"/null stand-ins for missing listed attributes with covered,
 * and the metadata builtins previousValue and actionType when listed. The
 * ordinary renderer then gives every attrsFormat.
 *
 * Custom notifications follow Orion's rules without JEXL: ${name} is an
 * attribute's value (attributes first), else id, type, service,
 * servicePath or authToken, else "null". A text payload is expanded and then
 * URL-decoded; a json payload is expanded inside string values only, and a
 * string that is exactly one macro takes the value with its JSON type; an
 * ngsi payload patches the entity (update or append) before the attribute
 * filter. qs pairs are expanded, empty ones dropped, and appended sorted by
 * key; header values are expanded and URL-decoded, an empty value removes
 * the header, and Fiware-Correlator and Ngsiv2-AttrsFormat cannot be
 * replaced.
 */
#include "subs_private.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------- macros */

/* The value ${name} stands for: borrowed from e, or a new string in *tmp
 * (json_decref). NULL when nothing has that name. */
static json_t *macro_value(const char *name, const ngsi_entity *e, const subs_notify_ctx *ctx,
                           json_t **tmp)
{
    const ngsi_attr *a = ngsi_entity_find(e, name);
    const char *text = NULL;
    *tmp = NULL;
    if (a != NULL)
        return a->value;
    if (strcmp(name, "id") == 0)
        text = e->id;
    else if (strcmp(name, "type") == 0)
        text = e->type;
    else if (strcmp(name, "service") == 0)
        text = ctx->tenant;
    else if (strcmp(name, "servicePath") == 0)
        text = e->service_path;
    else if (strcmp(name, "authToken") == 0)
        text = ctx->auth_token;
    if (text == NULL)
        return NULL;
    return *tmp = json_string(text);
}

void subs_value_text(ngsi_buf *out, const json_t *v)
{
    char num[NGSI_NUMBER_MAX];
    if (json_is_string(v)) {
        ngsi_buf_append(out, json_string_value(v), json_string_length(v));
    } else if (json_is_number(v)) {
        ngsi_number_format(json_number_value(v), num);
        ngsi_buf_puts(out, num);
    } else {
        ngsi_json_write(out, v);
    }
}

char *subs_expand(const char *text, const ngsi_entity *e, const subs_notify_ctx *ctx)
{
    ngsi_buf b = {0};
    ngsi_buf_puts(&b, "");
    for (const char *p = text; *p;) {
        const char *end = strncmp(p, "${", 2) == 0 ? strchr(p + 2, '}') : NULL;
        if (end == NULL) {
            size_t n = strcspn(p + 1, "$") + 1;
            ngsi_buf_append(&b, p, n);
            p += n;
            continue;
        }
        char *name = strndup(p + 2, (size_t)(end - p - 2));
        json_t *tmp, *v = macro_value(name, e, ctx, &tmp);
        if (v != NULL)
            subs_value_text(&b, v);
        else
            ngsi_buf_puts(&b, "null");
        json_decref(tmp);
        free(name);
        p = end + 1;
    }
    return ngsi_buf_steal(&b);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

char *subs_url_decode(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        int hi, lo;
        if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0) {
            *w++ = (char)(hi * 16 + lo);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return s;
}

/* A JSON template with its strings expanded. New reference. */
static json_t *expand_json(const json_t *t, const ngsi_entity *e, const subs_notify_ctx *ctx)
{
    if (json_is_string(t)) {
        const char *s = json_string_value(t);
        size_t n = strlen(s);
        if (n > 3 && strncmp(s, "${", 2) == 0 && s[n - 1] == '}' &&
            strchr(s + 2, '}') == s + n - 1) {
            char *name = strndup(s + 2, n - 3);
            json_t *tmp, *v = macro_value(name, e, ctx, &tmp);
            json_t *out = v ? json_incref(v) : json_null();
            json_decref(tmp);
            free(name);
            return out;
        }
        char *x = subs_expand(s, e, ctx);
        json_t *out = json_string(x);
        free(x);
        return out;
    }
    if (json_is_object(t)) {
        json_t *out = json_object();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)t, k, v) json_object_set_new(out, k, expand_json(v, e, ctx));
        return out;
    }
    if (json_is_array(t)) {
        json_t *out = json_array();
        for (size_t i = 0; i < json_array_size(t); i++)
            json_array_append_new(out, expand_json(json_array_get(t, i), e, ctx));
        return out;
    }
    return json_incref((json_t *)t);
}

/* ---------------------------------------------------- notified entity */

static const char *alt_text(int alt)
{
    switch (alt) {
    case SUBS_ALT_CREATE:
        return "entityCreate";
    case SUBS_ALT_DELETE:
        return "entityDelete";
    case SUBS_ALT_UPDATE:
        return "entityUpdate";
    default:
        return "entityChange";
    }
}

static bool is_builtin(const char *name)
{
    return strcmp(name, "dateCreated") == 0 || strcmp(name, "dateModified") == 0 ||
           strcmp(name, "dateExpires") == 0 || strcmp(name, "alterationType") == 0;
}

static void add_md(ngsi_attr *a, const char *name, const char *type, json_t *value)
{
    ngsi_md m = {.name = subs_strdup(name), .type = subs_strdup(type), .value = value};
    ngsi_attr_put_md(a, &m);
}

/* previousValue and actionType, when notification.metadata asks for them. */
static void add_builtin_md(const subs_sub *s, const subs_change *ch, ngsi_attr *a)
{
    if (!ngsi_list_has(&ch->touched, a->name))
        return;
    const ngsi_attr *old = ch->before ? ngsi_entity_find(ch->before, a->name) : NULL;
    if (ngsi_list_has(&s->metadata, "previousValue") && old != NULL && ch->alt != SUBS_ALT_DELETE)
        add_md(a, "previousValue", old->type, json_incref(old->value));
    if (ngsi_list_has(&s->metadata, "actionType")) {
        const char *action = ch->alt == SUBS_ALT_DELETE ? "delete"
                             : old == NULL              ? "append"
                                                        : "update";
        add_md(a, "actionType", "Text", json_string(action));
    }
}

/* Put the attribute called name (from base, a builtin, or covered's
 * stand-in) into out. */
static void put_named(const subs_sub *s, const subs_change *ch, const ngsi_entity *base,
                      const char *name, ngsi_entity *out)
{
    ngsi_attr tmp = {0}, copy;
    if (ngsi_entity_find(out, name) != NULL)
        return;
    if (strcmp(name, "alterationType") == 0) {
        copy = (ngsi_attr){.name = subs_strdup(name),
                           .type = subs_strdup("Text"),
                           .value = json_string(alt_text(subs_target_alt(s, ch)))};
        ngsi_entity_put(out, &copy);
        return;
    }
    const ngsi_attr *a = ngsi_entity_lookup(base, name, &tmp);
    if (a != NULL) {
        ngsi_attr_copy(&copy, a);
        if (!is_builtin(name))
            add_builtin_md(s, ch, &copy);
        ngsi_entity_put(out, &copy);
    } else if (s->covered) {
        copy = (ngsi_attr){
            .name = subs_strdup(name), .type = subs_strdup("None"), .value = json_null()};
        ngsi_entity_put(out, &copy);
    }
    ngsi_attr_clear(&tmp);
}

static bool wanted(const subs_sub *s, const subs_change *ch, const char *name)
{
    if (s->only_changed && !is_builtin(name) && !ngsi_list_has(&ch->touched, name))
        return false;
    return true;
}

/* The entity to render: base's attributes as the subscription selects them.
 * New entity. */
static ngsi_entity *notified_entity(const subs_sub *s, const subs_change *ch,
                                    const ngsi_entity *base)
{
    ngsi_entity *out = ngsi_entity_new();
    out->id = subs_strdup(base->id);
    out->type = subs_strdup(base->type);
    out->service_path = subs_strdup(base->service_path);
    out->cre_date = base->cre_date;
    out->mod_date = base->mod_date;
    out->exp_date = base->exp_date;
    if (!s->blacklist && s->attrs.n > 0) {
        for (size_t i = 0; i < s->attrs.n; i++)
            if (wanted(s, ch, s->attrs.item[i]))
                put_named(s, ch, base, s->attrs.item[i], out);
        return out;
    }
    for (size_t i = 0; i < base->nattrs; i++) {
        const char *name = base->attrs[i].name;
        if ((!s->blacklist || !ngsi_list_has(&s->attrs, name)) && wanted(s, ch, name))
            put_named(s, ch, base, name, out);
    }
    return out;
}

/* ------------------------------------------------------------- bodies */

static bool simplified(enum subs_format f)
{
    return f == SUBS_FMT_SIMPLIFIED_NORMALIZED || f == SUBS_FMT_SIMPLIFIED_KEYVALUES;
}

static enum ngsi_render_mode render_mode(enum subs_format f)
{
    if (f == SUBS_FMT_KEYVALUES || f == SUBS_FMT_SIMPLIFIED_KEYVALUES)
        return NGSI_KEYVALUES;
    return f == SUBS_FMT_VALUES ? NGSI_VALUES : NGSI_NORMALIZED;
}

/* The body in the subscription's attrsFormat; mode forces normalized for
 * ngsi payloads. New reference. */
static json_t *format_body(const subs_sub *s, const ngsi_entity *n, enum ngsi_render_mode mode)
{
    ngsi_render_opts o = {.mode = mode, .attrs = NULL, .metadata = &s->metadata};
    json_t *ent = ngsi_entity_render(n, &o);
    if (simplified(s->format))
        return ent;
    json_t *body = json_object(), *data = json_array();
    json_object_set_new(body, "subscriptionId", json_string(s->id));
    json_array_append_new(data, ent);
    json_object_set_new(body, "data", data);
    return body;
}

/* One attribute of an ngsi patch, its value expanded. */
static void patch_attr(const char *name, const json_t *spec, const ngsi_entity *e,
                       const subs_notify_ctx *ctx, ngsi_entity *out)
{
    ngsi_attr a = {.name = subs_strdup(name),
                   .type = subs_strdup(json_string_value(json_object_get(spec, "type"))),
                   .value = expand_json(json_object_get(spec, "value"), e, ctx)};
    if (a.type == NULL)
        a.type = subs_strdup(ngsi_default_type(a.value));
    ngsi_entity_put(out, &a);
}

/* The entity after the ngsi patch. New entity. */
static ngsi_entity *patched(const subs_sub *s, const ngsi_entity *e, const subs_notify_ctx *ctx)
{
    ngsi_entity *p = ngsi_entity_copy(e);
    const char *k;
    json_t *v;
    json_object_foreach(s->ngsi, k, v)
    {
        char **key = strcmp(k, "id") == 0 ? &p->id : strcmp(k, "type") == 0 ? &p->type : NULL;
        if (key != NULL) {
            json_t *x = expand_json(v, e, ctx);
            ngsi_buf b = {0};
            subs_value_text(&b, x);
            json_decref(x);
            free(*key);
            *key = b.data ? ngsi_buf_steal(&b) : subs_strdup("");
        } else {
            patch_attr(k, v, e, ctx, p);
        }
    }
    return p;
}

static void set_body(subs_message *m, json_t *body)
{
    ngsi_buf b = {0};
    ngsi_json_write(&b, body);
    json_decref(body);
    m->body_len = b.len;
    m->body = ngsi_buf_steal(&b);
}

static const char *build_body(const subs_sub *s, const subs_change *ch, const subs_notify_ctx *ctx,
                              subs_message *m)
{
    const ngsi_entity *e = ch->entity;
    ngsi_entity *n;
    char *text;
    switch (s->custom ? s->payload_kind : SUBS_PAYLOAD_DEFAULT) {
    case SUBS_PAYLOAD_NONE:
        m->format = "custom";
        return NULL;
    case SUBS_PAYLOAD_TEXT:
        m->format = "custom";
        text = subs_url_decode(subs_expand(s->payload, e, ctx));
        m->body_len = strlen(text);
        m->body = text;
        return "text/plain; charset=utf-8";
    case SUBS_PAYLOAD_JSON:
        m->format = "custom";
        set_body(m, expand_json(s->json, e, ctx));
        return "application/json; charset=utf-8";
    case SUBS_PAYLOAD_NGSI: {
        ngsi_entity *p = patched(s, e, ctx);
        n = notified_entity(s, ch, p);
        ngsi_entity_free(p);
        bool kv = s->format == SUBS_FMT_SIMPLIFIED_KEYVALUES;
        set_body(m, format_body(s, n, kv ? NGSI_KEYVALUES : NGSI_NORMALIZED));
        break;
    }
    case SUBS_PAYLOAD_DEFAULT:
    default:
        n = notified_entity(s, ch, e);
        set_body(m, format_body(s, n, render_mode(s->format)));
        break;
    }
    ngsi_entity_free(n);
    m->format = subs_format_name(s->format);
    return "application/json; charset=utf-8";
}

/* ------------------------------------------------------ URL and headers */

/* qs values are URL parts: keep what needs no escaping, escape the rest. */
static void append_query_part(ngsi_buf *b, const char *s)
{
    static const char SAFE[] = "-._~!$'()*+,;:@/";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || strchr(SAFE, *p) != NULL)
            ngsi_buf_append(b, (const char *)p, 1);
        else
            ngsi_buf_printf(b, "%%%02X", *p);
    }
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The custom URL with macros replaced and qs appended. */
static int build_url(const subs_sub *s, const ngsi_entity *e, const subs_notify_ctx *ctx,
                     subs_message *m, ngsi_error *err)
{
    subs_url u;
    char *url = s->custom ? subs_expand(s->url, e, ctx) : subs_strdup(s->url);
    if (subs_url_parse(url, &u) < 0 || (s->channel == SUBS_HTTP && strcmp(u.scheme, "mqtt") == 0)) {
        ngsi_bad_request(err, "invalid notification URL after macro replacement: %s", url);
        free(url);
        return -1;
    }
    /* a query needs a path before it ("http://h:1" + qs is "http://h:1/?..."),
     * or the sender could not take the URL apart again */
    bool bare = strchr(strstr(url, "://") + 3, '/') == NULL;
    ngsi_buf b = {0};
    ngsi_buf_puts(&b, url);
    free(url);
    size_t n = s->qs ? json_object_size(s->qs) : 0;
    char **pairs = calloc(n + 1, sizeof *pairs);
    size_t np = 0;
    const char *k;
    json_t *v;
    json_object_foreach(s->qs, k, v)
    {
        char *key = subs_expand(k, e, ctx), *val = subs_expand(json_string_value(v), e, ctx);
        if (*key && *val) {
            ngsi_buf pair = {0};
            append_query_part(&pair, key);
            ngsi_buf_puts(&pair, "=");
            append_query_part(&pair, val);
            pairs[np++] = ngsi_buf_steal(&pair);
        }
        free(key);
        free(val);
    }
    qsort(pairs, np, sizeof *pairs, cmp_keys);
    for (size_t i = 0; i < np; i++) {
        ngsi_buf_puts(&b, i > 0 ? "&" : bare ? "/?" : strchr(b.data, '?') ? "&" : "?");
        ngsi_buf_puts(&b, pairs[i]);
        free(pairs[i]);
    }
    free(pairs);
    m->url = ngsi_buf_steal(&b);
    return 0;
}

static ssize_t header_index(const ngsi_list *h, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < h->n; i++)
        if (strncasecmp(h->item[i], name, n) == 0 && h->item[i][n] == ':')
            return (ssize_t)i;
    return -1;
}

static void header_remove(ngsi_list *h, ssize_t i)
{
    free(h->item[i]);
    memmove(&h->item[i], &h->item[i + 1], (h->n - (size_t)i - 1) * sizeof *h->item);
    h->n--;
}

static void header_add(ngsi_list *h, const char *name, const char *value)
{
    ngsi_buf b = {0};
    ngsi_buf_printf(&b, "%s: %s", name, value);
    subs_list_push(h, b.data);
    ngsi_buf_free(&b);
}

static void custom_headers(const subs_sub *s, const ngsi_entity *e, const subs_notify_ctx *ctx,
                           ngsi_list *h)
{
    const char *k;
    json_t *v;
    json_object_foreach(s->headers, k, v)
    {
        char *name = subs_expand(k, e, ctx);
        char *value = subs_url_decode(subs_expand(json_string_value(v), e, ctx));
        bool fixed = strcasecmp(name, "Fiware-Correlator") == 0 ||
                     strcasecmp(name, "Ngsiv2-AttrsFormat") == 0;
        if (*name && !fixed) {
            ssize_t i = header_index(h, name);
            if (i >= 0)
                header_remove(h, i);
            if (*value)
                header_add(h, name, value);
        }
        free(name);
        free(value);
    }
}

static void build_headers(const subs_sub *s, const ngsi_entity *e, const subs_notify_ctx *ctx,
                          const char *content_type, subs_message *m)
{
    ngsi_list *h = &m->headers;
    if (content_type != NULL)
        header_add(h, "Content-Type", content_type);
    header_add(h, "Accept", "application/json");
    if (ctx->tenant != NULL && *ctx->tenant)
        header_add(h, "Fiware-Service", ctx->tenant);
    header_add(h, "Fiware-ServicePath", e->service_path ? e->service_path : "/");
    header_add(h, "Ngsiv2-AttrsFormat", m->format);
    header_add(h, "Fiware-Correlator", ctx->correlator ? ctx->correlator : "");
    if (ctx->user_agent != NULL)
        header_add(h, "User-Agent", ctx->user_agent);
    if (ctx->auth_token != NULL && *ctx->auth_token)
        header_add(h, "X-Auth-Token", ctx->auth_token);
    if (s->custom && s->headers != NULL)
        custom_headers(s, e, ctx, h);
}

int subs_message_build(const subs_sub *s, const subs_change *ch, const subs_notify_ctx *ctx,
                       subs_message *out, ngsi_error *err)
{
    const ngsi_entity *e = ch->entity;
    memset(out, 0, sizeof *out);
    if (build_url(s, e, ctx, out, err) < 0)
        return -1;
    out->method = subs_strdup(s->method && s->channel == SUBS_HTTP ? s->method : "POST");
    const char *ct = build_body(s, ch, ctx, out);
    if (s->channel == SUBS_MQTT)
        out->topic = s->custom ? subs_expand(s->topic, e, ctx) : subs_strdup(s->topic);
    else
        build_headers(s, e, ctx, ct, out);
    return 0;
}

void subs_message_clear(subs_message *m)
{
    free(m->url);
    free(m->method);
    ngsi_list_clear(&m->headers);
    free(m->body);
    free(m->topic);
    memset(m, 0, sizeof *m);
}
