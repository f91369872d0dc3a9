/*
 * ngsi/subs_render.c: a subscription as GET /v2/subscriptions shows it.
 *
 * Orion's clients compare Content-Length, so every member appears exactly
 * when Orion renders it and in Orion's order (Subscription.cpp, HttpInfo.cpp,
 * MqttInfo.cpp): some members always ("attrs": [], "covered": false), some
 * only when set ("throttling" above 0, "expires" unless permanent). jansson
 * keeps insertion order, so the order here is the order on the wire. Times
 * are whole seconds and render with Orion's ".000Z".
 */
#include "subs_private.h"

#include <stdlib.h>
#include <string.h>

static json_t *time_value(long long t)
{
    char text[NGSI_DATETIME_MAX];
    ngsi_datetime_format((double)t, text);
    return json_string(text);
}

static json_t *string_array(const ngsi_list *l)
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(a, json_string(l->item[i]));
    return a;
}

static json_t *render_entity(const subs_entity *e)
{
    json_t *o = json_object();
    json_object_set_new(o, e->id_pattern ? "idPattern" : "id", json_string(e->id));
    if (e->type != NULL)
        json_object_set_new(o, e->type_pattern ? "typePattern" : "type", json_string(e->type));
    return o;
}

static const char *alt_name(unsigned char bit)
{
    switch (bit) {
    case SUBS_ALT_CREATE:
        return "entityCreate";
    case SUBS_ALT_UPDATE:
        return "entityUpdate";
    case SUBS_ALT_DELETE:
        return "entityDelete";
    case SUBS_ALT_CHANGE:
    default:
        return "entityChange";
    }
}

/* Orion's order: q, mq, geometry, coords, georel; only the given ones. */
static void render_expression(const subs_sub *s, json_t *cond)
{
    const char *keys[] = {"q", "mq", "geometry", "coords", "georel"};
    const char *vals[] = {s->q, s->mq, s->geometry, s->coords, s->georel};
    json_t *e = json_object();
    for (size_t i = 0; i < 5; i++)
        if (vals[i] != NULL && *vals[i])
            json_object_set_new(e, keys[i], json_string(vals[i]));
    if (json_object_size(e) > 0)
        json_object_set_new(cond, "expression", e);
    else
        json_decref(e);
}

static json_t *render_subject(const subs_sub *s)
{
    json_t *subject = json_object(), *entities = json_array(), *cond = json_object();
    for (size_t i = 0; i < s->nentities; i++)
        json_array_append_new(entities, render_entity(&s->entities[i]));
    json_object_set_new(subject, "entities", entities);
    json_object_set_new(cond, "attrs", string_array(&s->cond_attrs));
    render_expression(s, cond);
    if (s->nalt > 0) {
        json_t *alt = json_array();
        for (size_t i = 0; i < s->nalt; i++)
            json_array_append_new(alt, json_string(alt_name(s->alt[i])));
        json_object_set_new(cond, "alterationTypes", alt);
    }
    json_object_set_new(cond, "notifyOnMetadataChange", json_boolean(s->notify_on_md));
    json_object_set_new(subject, "condition", cond);
    return subject;
}

static void render_custom_payload(const subs_sub *s, json_t *o)
{
    switch (s->payload_kind) {
    case SUBS_PAYLOAD_NONE:
        json_object_set_new(o, "payload", json_null());
        break;
    case SUBS_PAYLOAD_TEXT:
        json_object_set_new(o, "payload", json_string(s->payload));
        break;
    case SUBS_PAYLOAD_JSON:
        json_object_set(o, "json", s->json);
        break;
    case SUBS_PAYLOAD_NGSI:
        json_object_set(o, "ngsi", s->ngsi);
        break;
    case SUBS_PAYLOAD_DEFAULT:
    default:
        break;
    }
}

/* Objects whose keys Orion keeps in a std::map come out sorted. */
static json_t *sorted(const json_t *o)
{
    const char **keys = calloc(json_object_size(o) + 1, sizeof *keys);
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) keys[n++] = k;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    json_t *out = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set(out, keys[i], json_object_get(o, keys[i]));
    free((void *)keys);
    return out;
}

static json_t *render_http(const subs_sub *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "url", json_string(s->url));
    if (s->timeout_ms > 0)
        json_object_set_new(o, "timeout", json_integer(s->timeout_ms));
    if (!s->custom)
        return o;
    render_custom_payload(s, o);
    if (s->method != NULL)
        json_object_set_new(o, "method", json_string(s->method));
    /* std::map in Orion: keys sorted */
    if (s->qs != NULL && json_object_size(s->qs) > 0)
        json_object_set_new(o, "qs", sorted(s->qs));
    if (s->headers != NULL && json_object_size(s->headers) > 0)
        json_object_set_new(o, "headers", sorted(s->headers));
    return o;
}

static json_t *render_mqtt(const subs_sub *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "url", json_string(s->url));
    json_object_set_new(o, "topic", json_string(s->topic));
    json_object_set_new(o, "qos", json_integer(s->qos));
    json_object_set_new(o, "retain", json_boolean(s->retain));
    if (s->user != NULL) {
        json_object_set_new(o, "user", json_string(s->user));
        json_object_set_new(o, "passwd", json_string("*****"));
    }
    if (s->custom)
        render_custom_payload(s, o);
    return o;
}

static const char *channel_name(const subs_sub *s)
{
    if (s->channel == SUBS_MQTT)
        return s->custom ? "mqttCustom" : "mqtt";
    return s->custom ? "httpCustom" : "http";
}

static void render_counters_before(const subs_counters *c, json_t *n)
{
    if (c->times_sent > 0)
        json_object_set_new(n, "timesSent", json_integer(c->times_sent));
    if (c->last_notification > 0)
        json_object_set_new(n, "lastNotification", time_value(c->last_notification));
}

static void render_counters_after(const subs_sub *s, json_t *n)
{
    const subs_counters *c = &s->counters;
    bool mqtt = s->channel == SUBS_MQTT;
    if (c->last_failure > 0)
        json_object_set_new(n, "lastFailure", time_value(c->last_failure));
    if (!mqtt && c->last_failure_reason != NULL && *c->last_failure_reason)
        json_object_set_new(n, "lastFailureReason", json_string(c->last_failure_reason));
    if (c->last_success > 0)
        json_object_set_new(n, "lastSuccess", time_value(c->last_success));
    if (!mqtt && c->last_success_code > 0)
        json_object_set_new(n, "lastSuccessCode", json_integer(c->last_success_code));
    if (s->max_fails_limit > 0)
        json_object_set_new(n, "maxFailsLimit", json_integer(s->max_fails_limit));
    if (c->fails_counter > 0)
        json_object_set_new(n, "failsCounter", json_integer(c->fails_counter));
}

static json_t *render_notification(const subs_sub *s)
{
    json_t *n = json_object();
    render_counters_before(&s->counters, n);
    json_object_set_new(n, s->blacklist ? "exceptAttrs" : "attrs", string_array(&s->attrs));
    json_object_set_new(n, "onlyChangedAttrs", json_boolean(s->only_changed));
    json_object_set_new(n, "attrsFormat", json_string(subs_format_name(s->format)));
    json_object_set_new(n, channel_name(s),
                        s->channel == SUBS_MQTT ? render_mqtt(s) : render_http(s));
    if (s->metadata.n > 0)
        json_object_set_new(n, "metadata", string_array(&s->metadata));
    render_counters_after(s, n);
    json_object_set_new(n, "covered", json_boolean(s->covered));
    return n;
}

json_t *subs_render(const subs_sub *s, double now)
{
    json_t *o = json_object();
    bool expired = s->expires < SUBS_EXPIRES_SHOWN && (double)s->expires < now;
    json_object_set_new(o, "id", json_string(s->id));
    if (s->description != NULL && *s->description)
        json_object_set_new(o, "description", json_string(s->description));
    if (s->expires < SUBS_EXPIRES_SHOWN)
        json_object_set_new(o, "expires", time_value(s->expires));
    json_object_set_new(o, "status",
                        json_string(expired ? "expired" : subs_status_name(s->status)));
    json_object_set_new(o, "subject", render_subject(s));
    json_object_set_new(o, "notification", render_notification(s));
    if (s->throttling > 0)
        json_object_set_new(o, "throttling", json_integer(s->throttling));
    return o;
}
