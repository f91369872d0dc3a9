/*
 * ngsi/subs_parse.c: the body of POST and PATCH /v2/subscriptions.
 *
 * Orion answers the first fault it finds, and clients see which one wins,
 * so the checks run in Orion's fixed order (parseSubscription.cpp):
 * description, subject, notification, expires, status, throttling, and
 * inside each member in the order Orion's parser visits them, whatever the
 * order of the members in the request. The texts are Orion's, word for word,
 * including its oddities ("...it has to be either active or inactive" also
 * refuses typos of "oneshot"). Unknown members are ignored, as Orion ignores
 * them.
 *
 * Integers must arrive as JSON integers: a 5.0 is "not an int" to Orion's
 * rapidjson, so the caller parses without JSON_DECODE_INT_AS_REAL.
 */
#include "subs_private.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------- Orion's getters */

/* getStringOpt: absent is fine (*out NULL); label names it in the error. */
static int string_opt(const json_t *o, const char *key, const char *label, const char **out,
                      ngsi_error *err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return ngsi_bad_request(err, "%s is not a string", label);
    *out = json_string_value(v);
    return 0;
}

/* getStringMust: "<label> is missing" when absent. */
static int string_must(const json_t *o, const char *key, const char *label, const char **out,
                       ngsi_error *err)
{
    if (json_object_get(o, key) == NULL)
        return ngsi_bad_request(err, "%s is missing", label);
    return string_opt(o, key, label, out, err);
}

static int bool_opt(const json_t *o, const char *key, bool *out, ngsi_error *err)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v))
        return ngsi_bad_request(err, "%s is not a bool", key);
    *out = json_is_true(v);
    return 0;
}

static int int_opt(const json_t *o, const char *key, long long *out, bool *given, ngsi_error *err)
{
    json_t *v = json_object_get(o, key);
    if (given != NULL)
        *given = v != NULL;
    if (v == NULL)
        return 0;
    if (!json_is_integer(v))
        return ngsi_bad_request(err, "%s is not an int", key);
    *out = (long long)json_integer_value(v);
    return 0;
}

/* parseStringVector: no empty strings, duplicates dropped. */
static int string_vector(const json_t *v, const char *field, ngsi_list *out, ngsi_error *err)
{
    ngsi_list_clear(out);
    if (!json_is_array(v))
        return ngsi_bad_request(err, "the field /%s/ must be a JSON array", field);
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *item = json_array_get(v, i);
        if (!json_is_string(item))
            return ngsi_bad_request(err, "only JSON Strings allowed in string vector /%s/", field);
        if (*json_string_value(item) == '\0')
            return ngsi_bad_request(err, "empty string found in string vector /%s/", field);
        if (!ngsi_list_has(out, json_string_value(item)))
            subs_list_push(out, json_string_value(item));
    }
    return 0;
}

/* ------------------------------------------------------------- subject */

static int entity_id(const json_t *o, subs_entity *e, ngsi_error *err)
{
    const char *id, *pattern;
    if (string_opt(o, "id", "/entities/ vector item /id/", &id, err) < 0)
        return -1;
    if (id != NULL) {
        if (*id == '\0')
            return ngsi_bad_request(err, "/entities/ element id is empty");
        if (ngsi_has_forbidden_id_char(id))
            return ngsi_bad_request(err, "forbidden characters in /entities/ vector item /id/");
        if (strlen(id) > NGSI_NAME_MAX)
            return ngsi_bad_request(err, "max id length exceeded in /entities/ vector item /id/");
        e->id = subs_strdup(id);
    }
    if (string_opt(o, "idPattern", "/entities/ vector item /idPattern/", &pattern, err) < 0)
        return -1;
    if (pattern != NULL) {
        if (*pattern == '\0')
            return ngsi_bad_request(err, "/entities/ vector item /idPattern/ is empty");
        if (ngsi_check_pattern(pattern, "idPattern", err) < 0)
            return -1;
        e->id = subs_strdup(pattern);
        e->id_pattern = true;
    }
    return 0;
}

static int entity_type(const json_t *o, subs_entity *e, ngsi_error *err)
{
    const char *type, *pattern;
    if (string_opt(o, "type", "/entities/ vector item type", &type, err) < 0)
        return -1;
    if (type != NULL) {
        if (ngsi_has_forbidden_id_char(type))
            return ngsi_bad_request(err, "forbidden characters in /entities/ vector item /type/");
        if (strlen(type) > NGSI_NAME_MAX)
            return ngsi_bad_request(err,
                                    "max type length exceeded in /entities/ vector item /type/");
        if (*type == '\0')
            return ngsi_bad_request(err, "entity type length: 0, min length supported: 1");
        e->type = subs_strdup(type);
    }
    if (string_opt(o, "typePattern", "/entities/ vector item /typePattern/", &pattern, err) < 0)
        return -1;
    if (pattern != NULL) {
        if (*pattern == '\0')
            return ngsi_bad_request(err, "/entities/ vector item /typePattern/ is empty");
        if (ngsi_check_pattern(pattern, "typePattern", err) < 0)
            return -1;
        e->type = subs_strdup(pattern);
        e->type_pattern = true;
    }
    return 0;
}

static int entity_item(const json_t *o, subs_entity *e, ngsi_error *err)
{
    if (!json_is_object(o))
        return ngsi_bad_request(err, "/entities/ vector item is not an object");
    bool id = json_object_get(o, "id") != NULL, idp = json_object_get(o, "idPattern") != NULL;
    if (!id && !idp)
        return ngsi_bad_request(err, "/entities/ vector item does not have /id/ nor /idPattern/");
    if (id && idp)
        return ngsi_bad_request(err, "/entities/ vector item has both /id/ and /idPattern/");
    if (json_object_get(o, "type") != NULL && json_object_get(o, "typePattern") != NULL)
        return ngsi_bad_request(err, "/entities/ element has both /type/ and /typePattern/");
    if (entity_id(o, e, err) < 0)
        return -1;
    return entity_type(o, e, err);
}

static bool same_entity(const subs_entity *a, const subs_entity *b)
{
    bool types = (a->type == NULL && b->type == NULL) ||
                 (a->type != NULL && b->type != NULL && strcmp(a->type, b->type) == 0 &&
                  a->type_pattern == b->type_pattern);
    return types && a->id_pattern == b->id_pattern && strcmp(a->id, b->id) == 0;
}

static int parse_entities(const json_t *v, subs_sub *s, ngsi_error *err)
{
    if (!json_is_array(v))
        return ngsi_bad_request(err, "/entities/ is not an array");
    s->entities = calloc(json_array_size(v) + 1, sizeof *s->entities);
    if (s->entities == NULL)
        abort();
    for (size_t i = 0; i < json_array_size(v); i++) {
        subs_entity *e = &s->entities[s->nentities];
        int rc = entity_item(json_array_get(v, i), e, err);
        bool dup = false;
        for (size_t k = 0; rc == 0 && k < s->nentities && !dup; k++)
            dup = same_entity(&s->entities[k], e);
        if (rc < 0 || dup) {
            free(e->id);
            free(e->type);
            memset(e, 0, sizeof *e);
            if (rc < 0)
                return -1;
            continue;
        }
        s->nentities++;
    }
    return 0;
}

/* One string member of expression: absent, or a non-empty string. */
static int expr_string(const json_t *e, const char *key, char **out, ngsi_error *err)
{
    json_t *v = json_object_get(e, key);
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return ngsi_bad_request(err, "%s is not a string", key);
    if (*json_string_value(v) == '\0')
        return ngsi_bad_request(err, "%s is empty", key);
    *out = subs_strdup(json_string_value(v));
    return 0;
}

static int parse_expression(const json_t *e, subs_sub *s, ngsi_error *err)
{
    if (!json_is_object(e))
        return ngsi_bad_request(err, "expression is not an object");
    if (json_object_size(e) == 0)
        return ngsi_bad_request(err, "expression is empty");
    if (expr_string(e, "q", &s->q, err) < 0 || expr_string(e, "mq", &s->mq, err) < 0 ||
        expr_string(e, "georel", &s->georel, err) < 0 ||
        expr_string(e, "geometry", &s->geometry, err) < 0 ||
        expr_string(e, "coords", &s->coords, err) < 0)
        return -1;
    /* Orion parses the expression here, so its errors come before any later
     * member's; the compiled forms are built again at the end. */
    return subs_compile(s, err);
}

static int parse_alterations(const json_t *v, subs_sub *s, ngsi_error *err)
{
    static const struct {
        const char *name;
        unsigned char bit;
    } NAMES[] = {{"entityCreate", SUBS_ALT_CREATE},
                 {"entityUpdate", SUBS_ALT_UPDATE},
                 {"entityChange", SUBS_ALT_CHANGE},
                 {"entityDelete", SUBS_ALT_DELETE}};
    ngsi_list names = {0};
    int rc = string_vector(v, "alterationTypes", &names, err);
    for (size_t i = 0; rc == 0 && i < names.n; i++) {
        size_t k = 0;
        while (k < 4 && strcmp(NAMES[k].name, names.item[i]) != 0)
            k++;
        if (k == 4)
            rc = ngsi_bad_request(err, "unknown subscription alterationType: %s", names.item[i]);
        else
            s->alt[s->nalt++] = NAMES[k].bit;
    }
    ngsi_list_clear(&names);
    return rc;
}

static int parse_condition(const json_t *c, subs_sub *s, ngsi_error *err)
{
    if (!json_is_object(c))
        return ngsi_bad_request(err, "condition is not an object");
    if (json_object_size(c) == 0)
        return ngsi_bad_request(err, "condition is empty");
    json_t *v;
    if ((v = json_object_get(c, "attrs")) != NULL &&
        string_vector(v, "attrs", &s->cond_attrs, err) < 0)
        return -1;
    if ((v = json_object_get(c, "expression")) != NULL && parse_expression(v, s, err) < 0)
        return -1;
    if ((v = json_object_get(c, "alterationTypes")) != NULL && parse_alterations(v, s, err) < 0)
        return -1;
    return bool_opt(c, "notifyOnMetadataChange", &s->notify_on_md, err);
}

static int parse_subject(const json_t *subject, subs_sub *s, ngsi_error *err)
{
    if (!json_is_object(subject))
        return ngsi_bad_request(err, "subject is not an object");
    json_t *entities = json_object_get(subject, "entities");
    if (entities == NULL)
        return ngsi_bad_request(err, "no subject entities specified");
    if (parse_entities(entities, s, err) < 0)
        return -1;
    if (s->nentities == 0)
        return ngsi_bad_request(err, "subject entities is empty");
    json_t *c = json_object_get(subject, "condition");
    return c != NULL ? parse_condition(c, s, err) : 0;
}

/* ------------------------------------------------------- notification */

static int parse_timeout(const json_t *o, subs_sub *s, ngsi_error *err)
{
    s->timeout_ms = 0;
    if (int_opt(o, "timeout", &s->timeout_ms, NULL, err) < 0)
        return -1;
    if (s->timeout_ms < 0 || s->timeout_ms > SUBS_TIMEOUT_MAX_MS)
        return ngsi_bad_request(err, "timeout field must be an integer between 0 and %d",
                                SUBS_TIMEOUT_MAX_MS);
    return 0;
}

static int parse_http(const json_t *http, subs_sub *s, ngsi_error *err)
{
    const char *url;
    subs_url u;
    if (!json_is_object(http))
        return ngsi_bad_request(err, "http notification is not an object");
    if (string_must(http, "url", "url http notification", &url, err) < 0)
        return -1;
    if (ngsi_has_forbidden_char(url))
        return ngsi_bad_request(err, "forbidden characters in http field /url/");
    if (parse_timeout(http, s, err) < 0)
        return -1;
    if (subs_url_parse(url, &u) < 0)
        return ngsi_bad_request(err, "Invalid URL parsing notification url");
    if (strcmp(u.scheme, "mqtt") == 0)
        return ngsi_bad_request(err, "mqtt URL cannot be used in http notifications");
    s->url = subs_strdup(url);
    return 0;
}

/* parseDictionary for qs and headers. */
static int parse_dict(const json_t *o, const char *name, json_t **out, ngsi_error *err)
{
    if (!json_is_object(o))
        return ngsi_bad_request(err, "%s is not an object", name);
    if (json_object_size(o) == 0)
        return ngsi_bad_request(err, "%s is empty", name);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        if (!json_is_string(v))
            return ngsi_bad_request(err, "%s element is not a string", name);
        if (ngsi_has_forbidden_char(json_string_value(v)) || ngsi_has_forbidden_char(key))
            return ngsi_bad_request(err, "forbidden characters in custom %s", name);
    }
    *out = json_deep_copy(o);
    return 0;
}

static int eval_priority(const json_t *md, ngsi_error *err)
{
    json_t *v = json_is_object(md) ? json_object_get(md, "value") : NULL;
    if (!json_is_number(v))
        return ngsi_bad_request(err, "evalPriority metadata must be a number");
    if (json_number_value(v) < SUBS_PRIORITY_MIN)
        return ngsi_bad_request(err, "evalPriority metadata minimum priority is %d",
                                SUBS_PRIORITY_MIN);
    if (json_number_value(v) > SUBS_PRIORITY_MAX)
        return ngsi_bad_request(err, "evalPriority metadata maximum priority is %d",
                                SUBS_PRIORITY_MAX);
    return 0;
}

/* One attribute of an ngsi payload, normalized; values may hold characters
 * Orion otherwise forbids (templates need them). New reference or NULL. */
static json_t *ngsi_patch_attr(const char *name, const json_t *v, ngsi_error *err)
{
    if (ngsi_check_name(name, NGSI_F_ATTR_NAME, err) < 0)
        return NULL;
    if (!json_is_object(v)) {
        ngsi_bad_request(err, "attribute must be a JSON object, unless keyValues option is used");
        return NULL;
    }
    json_t *type = json_object_get(v, "type"), *value = json_object_get(v, "value");
    json_t *md = json_object_get(v, "metadata");
    if (type != NULL && !json_is_string(type)) {
        ngsi_bad_request(err, "invalid JSON type for attribute type");
        return NULL;
    }
    if (type != NULL && ngsi_check_name(json_string_value(type), NGSI_F_ATTR_TYPE, err) < 0)
        return NULL;
    if (md != NULL && !json_is_object(md)) {
        ngsi_bad_request(err, "metadata must be a JSON object");
        return NULL;
    }
    const char *mname;
    json_t *item;
    json_object_foreach(md, mname, item)
    {
        if (strcmp(mname, "evalPriority") != 0) {
            ngsi_bad_request(err, "only evalPriority metadata is allowed in ngsi custom payloads");
            return NULL;
        }
        if (eval_priority(item, err) < 0)
            return NULL;
    }
    json_t *out = json_object();
    value = value ? value : json_null();
    json_object_set_new(out, "type",
                        json_string(type ? json_string_value(type) : ngsi_default_type(value)));
    json_object_set(out, "value", value);
    json_object_set_new(out, "metadata", md ? json_deep_copy(md) : json_object());
    return out;
}

static int parse_ngsi(const json_t *o, subs_sub *s, ngsi_error *err)
{
    if (!json_is_object(o))
        return ngsi_bad_request(err, "ngsi field in httpCustom or mqttCustom must be an object");
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        json_t *item = NULL;
        if (strcmp(key, "id") == 0 || strcmp(key, "type") == 0) {
            if (!json_is_string(v)) {
                json_decref(out);
                return ngsi_bad_request(err, "Invalid JSON type for entity %s", key);
            }
            item = json_incref(v);
        } else if ((item = ngsi_patch_attr(key, v, err)) == NULL) {
            json_decref(out);
            return -1;
        }
        json_object_set_new(out, key, item);
    }
    s->ngsi = out;
    return 0;
}

/* payload, json or ngsi of httpCustom and mqttCustom. */
static int parse_custom_payload(const json_t *o, subs_sub *s, ngsi_error *err)
{
    json_t *payload = json_object_get(o, "payload"), *js = json_object_get(o, "json");
    json_t *ngsi = json_object_get(o, "ngsi");
    s->payload_kind = SUBS_PAYLOAD_DEFAULT;
    if ((payload != NULL) + (js != NULL) + (ngsi != NULL) > 1)
        return ngsi_bad_request(err, "only one of payload, json or ngsi fields accepted at the "
                                     "same time in httpCustom or mqttCustom");
    if (payload != NULL && json_is_null(payload)) {
        s->payload_kind = SUBS_PAYLOAD_NONE;
    } else if (payload != NULL) {
        const char *text;
        if (string_opt(o, "payload", "payload custom notification", &text, err) < 0)
            return -1;
        if (ngsi_has_forbidden_char(text))
            return ngsi_bad_request(err, "forbidden characters in custom /payload/");
        if (*text != '\0') {
            s->payload_kind = SUBS_PAYLOAD_TEXT;
            s->payload = subs_strdup(text);
        }
    } else if (js != NULL) {
        if (!json_is_object(js) && !json_is_array(js))
            return ngsi_bad_request(
                err, "json fields in httpCustom or mqttCustom must be object or array");
        s->payload_kind = SUBS_PAYLOAD_JSON;
        s->json = json_deep_copy(js);
    } else if (ngsi != NULL) {
        if (parse_ngsi(ngsi, s, err) < 0)
            return -1;
        s->payload_kind = SUBS_PAYLOAD_NGSI;
    }
    return 0;
}

static bool known_method(const char *m)
{
    static const char *const METHODS[] = {"GET",  "PUT",     "POST",  "DELETE", "PATCH",
                                          "HEAD", "OPTIONS", "TRACE", "CONNECT"};
    for (size_t i = 0; i < sizeof METHODS / sizeof *METHODS; i++)
        if (strcmp(m, METHODS[i]) == 0)
            return true;
    return false;
}

static int custom_url(const json_t *hc, subs_sub *s, ngsi_error *err)
{
    const char *url;
    subs_url u;
    if (string_must(hc, "url", "url httpCustom notification", &url, err) < 0)
        return -1;
    if (ngsi_has_forbidden_char(url))
        return ngsi_bad_request(err, "forbidden characters in custom /url/");
    /* A URL with macros can only be checked once they are replaced. */
    if (strstr(url, "${") == NULL) {
        if (subs_url_parse(url, &u) < 0)
            return ngsi_bad_request(err, "invalid custom /url/");
        if (strcmp(u.scheme, "mqtt") == 0)
            return ngsi_bad_request(err, "mqtt URL cannot be used in http notifications");
    }
    s->url = subs_strdup(url);
    return 0;
}

static int parse_http_custom(const json_t *hc, subs_sub *s, ngsi_error *err)
{
    const char *method;
    json_t *v;
    if (!json_is_object(hc))
        return ngsi_bad_request(err, "httpCustom notification is not an object");
    if (custom_url(hc, s, err) < 0)
        return -1;
    if (string_opt(hc, "method", "method httpCustom notification", &method, err) < 0)
        return -1;
    if (method != NULL && !known_method(method))
        return ngsi_bad_request(err, "unknown method httpCustom notification");
    s->method = subs_strdup(method);
    if (parse_custom_payload(hc, s, err) < 0)
        return -1;
    if ((v = json_object_get(hc, "qs")) != NULL &&
        parse_dict(v, "notification httpCustom qs", &s->qs, err) < 0)
        return -1;
    if ((v = json_object_get(hc, "headers")) != NULL &&
        parse_dict(v, "notification httpCustom headers", &s->headers, err) < 0)
        return -1;
    if (parse_timeout(hc, s, err) < 0)
        return -1;
    s->custom = true;
    return 0;
}

static int mqtt_url(const json_t *m, subs_sub *s, ngsi_error *err)
{
    const char *url;
    subs_url u;
    if (string_must(m, "url", "url mqtt notification", &url, err) < 0)
        return -1;
    if (ngsi_has_forbidden_char(url))
        return ngsi_bad_request(err, "forbidden characters in mqtt field /url/");
    if (subs_url_parse(url, &u) < 0)
        return ngsi_bad_request(err, "invalid mqtt /url/");
    if (strcmp(u.scheme, "mqtt") != 0)
        return ngsi_bad_request(err, "http or https URL cannot be used in mqtt notifications");
    if (strcmp(u.path, "/") != 0)
        return ngsi_bad_request(err, "path cannot be used in mqtt url, use topic instead");
    s->url = subs_strdup(url);
    return 0;
}

static int mqtt_auth(const json_t *m, subs_sub *s, ngsi_error *err)
{
    const char *user, *passwd;
    if (string_opt(m, "user", "user mqtt notification", &user, err) < 0)
        return -1;
    if (user != NULL && ngsi_has_forbidden_char(user))
        return ngsi_bad_request(err, "forbidden characters in mqtt /user/");
    if (string_opt(m, "passwd", "passwd mqtt notification", &passwd, err) < 0)
        return -1;
    if ((user != NULL) != (passwd != NULL))
        return ngsi_bad_request(err, "you must use user and passwd fields simultaneously");
    s->user = subs_strdup(user);
    s->passwd = subs_strdup(passwd);
    return 0;
}

static int mqtt_topic(const json_t *m, subs_sub *s, ngsi_error *err)
{
    const char *topic;
    if (string_must(m, "topic", "topic mqtt notification", &topic, err) < 0)
        return -1;
    if (*topic == '\0')
        return ngsi_bad_request(err, "empty mqtt field /topic/");
    if (strpbrk(topic, "+#") != NULL)
        return ngsi_bad_request(err, "+ and # are not allowed in mqtt field /topic/");
    if (ngsi_has_forbidden_char(topic))
        return ngsi_bad_request(err, "forbidden characters in mqtt field /topic/");
    s->topic = subs_strdup(topic);
    return 0;
}

static int parse_mqtt(const json_t *m, bool custom, subs_sub *s, ngsi_error *err)
{
    long long qos = 0;
    if (!json_is_object(m))
        return ngsi_bad_request(err, "%s notification is not an object",
                                custom ? "mqttCustom" : "mqtt");
    if (mqtt_url(m, s, err) < 0 || mqtt_auth(m, s, err) < 0)
        return -1;
    if (int_opt(m, "qos", &qos, NULL, err) < 0)
        return -1;
    if (qos < 0 || qos > 2)
        return ngsi_bad_request(err, "mqtt qos field must be an integer in the 0 to 2 range");
    s->qos = (int)qos;
    if (bool_opt(m, "retain", &s->retain, err) < 0 || mqtt_topic(m, s, err) < 0)
        return -1;
    if (custom && parse_custom_payload(m, s, err) < 0)
        return -1;
    s->channel = SUBS_MQTT;
    s->custom = custom;
    return 0;
}

static int parse_channel(const json_t *n, subs_sub *s, ngsi_error *err)
{
    json_t *http = json_object_get(n, "http"), *hc = json_object_get(n, "httpCustom");
    json_t *mqtt = json_object_get(n, "mqtt"), *mc = json_object_get(n, "mqttCustom");
    int count = (http != NULL) + (hc != NULL) + (mqtt != NULL) + (mc != NULL);
    if (count > 1)
        return ngsi_bad_request(err, "only one of http, httpCustom, mqtt or mqttCustom is allowed");
    if (count == 0)
        return ngsi_bad_request(err, "http, httpCustom, mqtt or mqttCustom is missing");
    if (http != NULL)
        return parse_http(http, s, err);
    if (hc != NULL)
        return parse_http_custom(hc, s, err);
    return parse_mqtt(mqtt ? mqtt : mc, mqtt == NULL, s, err);
}

static int parse_attrs(const json_t *n, subs_sub *s, ngsi_error *err)
{
    json_t *attrs = json_object_get(n, "attrs"), *except = json_object_get(n, "exceptAttrs");
    if (attrs != NULL && except != NULL)
        return ngsi_bad_request(err, "http notification has attrs and exceptAttrs");
    if (attrs != NULL)
        return string_vector(attrs, "attrs", &s->attrs, err);
    if (except == NULL)
        return 0;
    if (string_vector(except, "exceptAttrs", &s->attrs, err) < 0)
        return -1;
    if (s->attrs.n == 0)
        return ngsi_bad_request(err, "http notification has exceptAttrs is empty");
    s->blacklist = true;
    return 0;
}

static int parse_format(const json_t *n, subs_sub *s, ngsi_error *err)
{
    static const enum subs_format FORMATS[] = {SUBS_FMT_NORMALIZED, SUBS_FMT_KEYVALUES,
                                               SUBS_FMT_VALUES, SUBS_FMT_SIMPLIFIED_NORMALIZED,
                                               SUBS_FMT_SIMPLIFIED_KEYVALUES};
    const char *f;
    s->format = SUBS_FMT_NORMALIZED;
    if (string_opt(n, "attrsFormat", "attrsFormat", &f, err) < 0)
        return -1;
    if (f == NULL)
        return 0;
    for (size_t i = 0; i < sizeof FORMATS / sizeof *FORMATS; i++)
        if (strcmp(f, subs_format_name(FORMATS[i])) == 0) {
            s->format = FORMATS[i];
            return 0;
        }
    return ngsi_bad_request(err,
                            "invalid attrsFormat, accepted values: legacy, normalized, keyValues, "
                            "values");
}

static int parse_notification(const json_t *n, subs_sub *s, ngsi_error *err)
{
    json_t *v;
    bool given;
    if (!json_is_object(n))
        return ngsi_bad_request(err, "notification is not an object");
    if (parse_channel(n, s, err) < 0 || parse_attrs(n, s, err) < 0)
        return -1;
    if (bool_opt(n, "onlyChangedAttrs", &s->only_changed, err) < 0 ||
        bool_opt(n, "covered", &s->covered, err) < 0)
        return -1;
    if (s->covered && s->attrs.n == 0)
        return ngsi_bad_request(err,
                                "covered true cannot be used if notification attributes list is "
                                "empty");
    if ((v = json_object_get(n, "metadata")) != NULL &&
        string_vector(v, "metadata", &s->metadata, err) < 0)
        return -1;
    if (parse_format(n, s, err) < 0)
        return -1;
    if (int_opt(n, "maxFailsLimit", &s->max_fails_limit, &given, err) < 0)
        return -1;
    if (given && s->max_fails_limit <= 0)
        return ngsi_bad_request(err, "maxFailsLimit must be greater than zero");
    return 0;
}

/* ------------------------------------------------------------ top level */

static int parse_description(const json_t *body, subs_sub *s, unsigned *given, ngsi_error *err)
{
    const char *d;
    if (string_opt(body, "description", "description", &d, err) < 0)
        return -1;
    if (d == NULL)
        return 0;
    if (strlen(d) > SUBS_DESCRIPTION_MAX)
        return ngsi_bad_request(err, "max description length exceeded");
    if (ngsi_has_forbidden_char(d))
        return ngsi_bad_request(err, "forbidden characters in description");
    s->description = subs_strdup(d);
    *given |= SUBS_GIVEN_DESCRIPTION;
    return 0;
}

static int parse_expires(const json_t *body, subs_sub *s, unsigned *given, ngsi_error *err)
{
    const char *text;
    double t;
    if (string_opt(body, "expires", "expires", &text, err) < 0)
        return -1;
    if (text == NULL)
        return 0;
    if (*text == '\0')
        s->expires = SUBS_PERMANENT;
    else if (ngsi_datetime_parse(text, &t) < 0)
        return ngsi_bad_request(err, "expires has an invalid format");
    else
        s->expires = (long long)t;
    *given |= SUBS_GIVEN_EXPIRES;
    return 0;
}

static int parse_status(const json_t *body, subs_sub *s, unsigned *given, ngsi_error *err)
{
    const char *text;
    if (string_opt(body, "status", "status", &text, err) < 0)
        return -1;
    if (text == NULL)
        return 0;
    if (strcmp(text, "active") == 0)
        s->status = SUBS_ACTIVE;
    else if (strcmp(text, "inactive") == 0)
        s->status = SUBS_INACTIVE;
    else if (strcmp(text, "oneshot") == 0)
        s->status = SUBS_ONESHOT;
    else
        return ngsi_bad_request(err, "status is not valid: it has to be either active or inactive");
    *given |= SUBS_GIVEN_STATUS;
    return 0;
}

static int parse_members(const json_t *body, bool update, subs_sub *s, unsigned *given,
                         ngsi_error *err)
{
    json_t *v;
    bool throttling;
    if (parse_description(body, s, given, err) < 0)
        return -1;
    if ((v = json_object_get(body, "subject")) != NULL) {
        *given |= SUBS_GIVEN_SUBJECT;
        if (parse_subject(v, s, err) < 0)
            return -1;
    } else if (!update) {
        return ngsi_bad_request(err, "no subject for subscription specified");
    }
    if ((v = json_object_get(body, "notification")) != NULL) {
        *given |= SUBS_GIVEN_NOTIFICATION;
        if (parse_notification(v, s, err) < 0)
            return -1;
    } else if (!update) {
        return ngsi_bad_request(err, "no notification for subscription specified");
    }
    if (parse_expires(body, s, given, err) < 0 || parse_status(body, s, given, err) < 0)
        return -1;
    if (int_opt(body, "throttling", &s->throttling, &throttling, err) < 0)
        return -1;
    if (throttling)
        *given |= SUBS_GIVEN_THROTTLING;
    return subs_compile(s, err);
}

subs_sub *subs_parse(const json_t *body, bool update, unsigned *given, ngsi_error *err)
{
    *given = 0;
    if (!json_is_object(body)) {
        ngsi_fail(err, 400, "ParseError", NGSI_TXT_PARSE_ERROR);
        return NULL;
    }
    if (json_object_size(body) == 0) {
        ngsi_bad_request(err, NGSI_TXT_EMPTY_PAYLOAD);
        return NULL;
    }
    subs_sub *s = calloc(1, sizeof *s);
    if (s == NULL)
        abort();
    s->expires = SUBS_PERMANENT;
    s->status = SUBS_ACTIVE;
    s->notify_on_md = true;
    if (parse_members(body, update, s, given, err) < 0) {
        subs_free(s);
        return NULL;
    }
    return s;
}

/* ---------------------------------------------------------------- PATCH */

static void take_subject(subs_sub *s, const subs_sub *p)
{
    for (size_t i = 0; i < s->nentities; i++) {
        free(s->entities[i].id);
        free(s->entities[i].type);
    }
    free(s->entities);
    s->entities = calloc(p->nentities + 1, sizeof *s->entities);
    if (s->entities == NULL)
        abort();
    for (size_t i = 0; i < p->nentities; i++) {
        s->entities[i] = p->entities[i];
        s->entities[i].id = subs_strdup(p->entities[i].id);
        s->entities[i].type = subs_strdup(p->entities[i].type);
    }
    s->nentities = p->nentities;
    subs_list_copy(&s->cond_attrs, &p->cond_attrs);
    char **strs[] = {&s->q, &s->mq, &s->georel, &s->geometry, &s->coords};
    char *const srcs[] = {p->q, p->mq, p->georel, p->geometry, p->coords};
    for (size_t i = 0; i < 5; i++) {
        free(*strs[i]);
        *strs[i] = subs_strdup(srcs[i]);
    }
    memcpy(s->alt, p->alt, sizeof s->alt);
    s->nalt = p->nalt;
    s->notify_on_md = p->notify_on_md;
}

static void replace_str(char **dst, const char *src)
{
    free(*dst);
    *dst = subs_strdup(src);
}

static void replace_json(json_t **dst, json_t *src)
{
    json_decref(*dst);
    *dst = src ? json_incref(src) : NULL;
}

static void take_notification(subs_sub *s, const subs_sub *p)
{
    subs_list_copy(&s->attrs, &p->attrs);
    subs_list_copy(&s->metadata, &p->metadata);
    s->blacklist = p->blacklist;
    s->only_changed = p->only_changed;
    s->covered = p->covered;
    s->format = p->format;
    s->channel = p->channel;
    s->custom = p->custom;
    replace_str(&s->url, p->url);
    s->timeout_ms = p->timeout_ms;
    replace_str(&s->method, p->method);
    replace_json(&s->headers, p->headers);
    replace_json(&s->qs, p->qs);
    s->payload_kind = p->payload_kind;
    replace_str(&s->payload, p->payload);
    replace_json(&s->json, p->json);
    replace_json(&s->ngsi, p->ngsi);
    replace_str(&s->topic, p->topic);
    s->qos = p->qos;
    s->retain = p->retain;
    replace_str(&s->user, p->user);
    replace_str(&s->passwd, p->passwd);
    s->max_fails_limit = p->max_fails_limit;
}

int subs_apply_patch(subs_sub *s, const subs_sub *patch, unsigned given, ngsi_error *err)
{
    if (given & SUBS_GIVEN_DESCRIPTION)
        replace_str(&s->description, patch->description);
    if (given & SUBS_GIVEN_SUBJECT)
        take_subject(s, patch);
    if (given & SUBS_GIVEN_NOTIFICATION)
        take_notification(s, patch);
    if (given & SUBS_GIVEN_EXPIRES)
        s->expires = patch->expires;
    if (given & SUBS_GIVEN_STATUS)
        s->status = patch->status;
    if (given & SUBS_GIVEN_THROTTLING)
        s->throttling = patch->throttling;
    return subs_compile(s, err);
}
