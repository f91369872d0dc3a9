/*
 * tests/unit/test_subs_parse.c: subscription bodies, GET rendering and the
 * csubs layout (ngsi/subs.h).
 *
 * Error texts and rendered bytes are Orion's; the expected strings come from
 * Orion's parser and its functional tests (see
 * /work/notes/orion-subscriptions.md in the project notes).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "subs.h"

#define ID "5f8d0b6c1c9d440000a1b2c3"

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    cr_assert_not_null(v, "bad test JSON: %s", e.text);
    return v;
}

static subs_sub *parse_as(const char *text, bool update, unsigned *given)
{
    json_t *body = load(text);
    ngsi_error err = {0};
    unsigned g;
    subs_sub *s = subs_parse(body, update, given ? given : &g, &err);
    json_decref(body);
    cr_assert_not_null(s, "refused %s: %s", text, err.description);
    snprintf(s->id, sizeof s->id, "%s", ID);
    free(s->service_path);
    s->service_path = strdup("/#");
    return s;
}

static subs_sub *parse_ok(const char *text)
{
    return parse_as(text, false, NULL);
}

static void refused_as(const char *text, bool update, const char *error, const char *description)
{
    json_t *body = load(text);
    ngsi_error err = {0};
    unsigned g;
    subs_sub *s = subs_parse(body, update, &g, &err);
    json_decref(body);
    cr_assert_null(s, "accepted %s", text);
    cr_assert_eq(err.status, 400);
    cr_assert_str_eq(err.name, error);
    cr_assert_str_eq(err.description, description, "for %s", text);
}

static void refused(const char *text, const char *description)
{
    refused_as(text, false, "BadRequest", description);
}

static char *rendered(const subs_sub *s, double now)
{
    json_t *j = subs_render(s, now);
    char *text = ngsi_json_dumps(j);
    json_decref(j);
    return text;
}

#define HTTP    "\"http\":{\"url\":\"http://127.0.0.1:9997/notify\"}"
#define SUBJECT "\"subject\":{\"entities\":[{\"idPattern\":\".*\",\"type\":\"T\"}]}"
#define NOTIF   "\"notification\":{" HTTP "}"
#define MINIMAL "{" SUBJECT "," NOTIF "}"
#define WITH(n) "{" SUBJECT ",\"notification\":{" n "}}"
#define SUBJ(s) "{\"subject\":" s "," NOTIF "}"

Test(subs_parse, minimal_renders_like_orion)
{
    subs_sub *s = parse_ok(MINIMAL);
    char *text = rendered(s, 0);
    cr_assert_str_eq(
        text, "{\"id\":\"" ID "\",\"status\":\"active\",\"subject\":{\"entities\":[{\"idPattern\":"
              "\".*\",\"type\":\"T\"}],\"condition\":{\"attrs\":[],\"notifyOnMetadataChange\":"
              "true}},\"notification\":{\"attrs\":[],\"onlyChangedAttrs\":false,\"attrsFormat\":"
              "\"normalized\",\"http\":{\"url\":\"http://127.0.0.1:9997/notify\"},\"covered\":"
              "false}}");
    /* Orion's basic_crud test measures this rendering at 303 bytes */
    cr_assert_eq(strlen(text), 303);
    free(text);
    subs_free(s);
}

Test(subs_parse, alteration_types_render_in_given_order)
{
    subs_sub *s = parse_ok("{\"subject\":{\"entities\":[{\"idPattern\":\".*\",\"type\":\"T\"}],"
                           "\"condition\":{\"alterationTypes\":[\"entityDelete\",\"entityCreate\","
                           "\"entityDelete\"]}}," NOTIF "}");
    char *text = rendered(s, 0);
    cr_assert(strstr(text, "\"condition\":{\"attrs\":[],\"alterationTypes\":[\"entityDelete\","
                           "\"entityCreate\"],\"notifyOnMetadataChange\":true}") != NULL,
              "%s", text);
    cr_assert_eq(strlen(text), 353); /* Orion's test: 353 with these two types */
    free(text);
    subs_free(s);
}

Test(subs_parse, full_rendering_order)
{
    subs_sub *s = parse_ok(
        "{\"description\":\"d\",\"expires\":\"2040-01-01T00:00:00Z\",\"throttling\":5,"
        "\"subject\":{\"entities\":[{\"id\":\"E\"}],\"condition\":{\"attrs\":[\"A\"],"
        "\"expression\":{\"georel\":\"near;maxDistance:10\",\"coords\":\"1,2\","
        "\"geometry\":\"point\",\"mq\":\"A.m==1\",\"q\":\"A>1\"},\"notifyOnMetadataChange\":"
        "false}},\"notification\":{\"httpCustom\":{\"url\":\"http://h/x\",\"method\":\"PUT\","
        "\"headers\":{\"b\":\"2\",\"a\":\"1\"},\"qs\":{\"z\":\"1\",\"y\":\"${A}\"},\"payload\":"
        "\"x${A}\",\"timeout\":1000},\"attrs\":[\"A\",\"B\"],\"metadata\":[\"m\"],"
        "\"attrsFormat\":\"keyValues\",\"maxFailsLimit\":3,\"covered\":true}}");
    s->counters.times_sent = 2;
    s->counters.last_notification = 1700000000;
    s->counters.last_success = 1700000000;
    s->counters.last_success_code = 200;
    s->counters.fails_counter = 0;
    char *text = rendered(s, 1700000000.0);
    cr_assert_str_eq(
        text,
        "{\"id\":\"" ID "\",\"description\":\"d\",\"expires\":\"2040-01-01T00:00:00.000Z\","
        "\"status\":\"active\",\"subject\":{\"entities\":[{\"id\":\"E\"}],\"condition\":{"
        "\"attrs\":[\"A\"],\"expression\":{\"q\":\"A>1\",\"mq\":\"A.m==1\",\"geometry\":"
        "\"point\",\"coords\":\"1,2\",\"georel\":\"near;maxDistance:10\"},"
        "\"notifyOnMetadataChange\":false}},\"notification\":{\"timesSent\":2,"
        "\"lastNotification\":\"2023-11-14T22:13:20.000Z\",\"attrs\":[\"A\",\"B\"],"
        "\"onlyChangedAttrs\":false,\"attrsFormat\":\"keyValues\",\"httpCustom\":{\"url\":"
        "\"http://h/x\",\"timeout\":1000,\"payload\":\"x${A}\",\"method\":\"PUT\",\"qs\":{\"y\":"
        "\"${A}\",\"z\":\"1\"},\"headers\":{\"a\":\"1\",\"b\":\"2\"}},\"metadata\":[\"m\"],"
        "\"lastSuccess\":\"2023-11-14T22:13:20.000Z\",\"lastSuccessCode\":200,"
        "\"maxFailsLimit\":3,\"covered\":true},\"throttling\":5}");
    free(text);
    subs_free(s);
}

Test(subs_parse, expired_replaces_any_status)
{
    subs_sub *s = parse_ok("{\"expires\":\"2020-01-01T00:00:00Z\",\"status\":\"inactive\"," SUBJECT
                           "," NOTIF "}");
    char *text = rendered(s, 1700000000.0);
    cr_assert(strstr(text, "\"status\":\"expired\"") != NULL, "%s", text);
    free(text);
    text = rendered(s, 1500000000.0);
    cr_assert(strstr(text, "\"status\":\"inactive\"") != NULL, "%s", text);
    free(text);
    subs_free(s);
}

Test(subs_parse, mqtt_rendering)
{
    subs_sub *s = parse_ok(WITH("\"mqttCustom\":{\"url\":\"mqtt://localhost:1883\",\"topic\":"
                                "\"t/${id}\",\"user\":\"u\",\"passwd\":\"p\",\"qos\":1,"
                                "\"json\":{\"a\":\"${A}\"}}"));
    s->counters.last_failure_reason = strdup("nope");
    s->counters.last_success_code = 200;
    char *text = rendered(s, 0);
    cr_assert(strstr(text, "\"mqttCustom\":{\"url\":\"mqtt://localhost:1883\",\"topic\":"
                           "\"t/${id}\",\"qos\":1,\"retain\":false,\"user\":\"u\",\"passwd\":"
                           "\"*****\",\"json\":{\"a\":\"${A}\"}}") != NULL,
              "%s", text);
    cr_assert(strstr(text, "lastFailureReason") == NULL, "%s", text);
    cr_assert(strstr(text, "lastSuccessCode") == NULL, "%s", text);
    free(text);
    subs_free(s);
}

Test(subs_parse, payload_null_and_ngsi_render)
{
    subs_sub *s = parse_ok(WITH("\"httpCustom\":{\"url\":\"http://h/x\",\"payload\":null}"));
    char *text = rendered(s, 0);
    cr_assert(strstr(text, "\"httpCustom\":{\"url\":\"http://h/x\",\"payload\":null}") != NULL,
              "%s", text);
    free(text);
    subs_free(s);
    s = parse_ok(WITH("\"httpCustom\":{\"url\":\"http://h/x\",\"ngsi\":{\"id\":\"X\","
                      "\"A\":{\"value\":\"${B}\"}}}"));
    text = rendered(s, 0);
    cr_assert(strstr(text, "\"ngsi\":{\"id\":\"X\",\"A\":{\"type\":\"Text\",\"value\":\"${B}\","
                           "\"metadata\":{}}}") != NULL,
              "%s", text);
    free(text);
    subs_free(s);
}

Test(subs_parse, duplicates_dropped)
{
    subs_sub *s = parse_ok("{\"subject\":{\"entities\":[{\"id\":\"E\"},{\"id\":\"E\"},"
                           "{\"id\":\"E\",\"type\":\"T\"}],\"condition\":{\"attrs\":[\"A\",\"A\","
                           "\"B\"]}}," NOTIF "}");
    cr_assert_eq(s->nentities, 2);
    cr_assert_eq(s->cond_attrs.n, 2);
    subs_free(s);
}

Test(subs_parse, top_level_errors)
{
    refused_as("[]", false, "ParseError", "Errors found in incoming JSON buffer");
    refused("{}", "empty payload");
    refused("{\"description\":1}", "description is not a string");
    refused("{\"description\":\"a<b\"}", "forbidden characters in description");
    refused("{" NOTIF "}", "no subject for subscription specified");
    refused("{" SUBJECT "}", "no notification for subscription specified");
    refused("{" SUBJECT "," NOTIF ",\"expires\":1}", "expires is not a string");
    refused("{" SUBJECT "," NOTIF ",\"expires\":\"tomorrow\"}", "expires has an invalid format");
    refused("{" SUBJECT "," NOTIF ",\"status\":true}", "status is not a string");
    refused("{" SUBJECT "," NOTIF ",\"status\":\"expired\"}",
            "status is not valid: it has to be either active or inactive");
    refused("{" SUBJECT "," NOTIF ",\"throttling\":1.5}", "throttling is not an int");
    refused("{" SUBJECT "," NOTIF ",\"throttling\":\"1\"}", "throttling is not an int");
}

Test(subs_parse, long_description)
{
    char body[2200];
    char d[1100];
    memset(d, 'x', 1025);
    d[1025] = '\0';
    snprintf(body, sizeof body, "{\"description\":\"%s\"}", d);
    refused(body, "max description length exceeded");
}

Test(subs_parse, subject_errors)
{
    refused(SUBJ("1"), "subject is not an object");
    refused(SUBJ("{}"), "no subject entities specified");
    refused(SUBJ("{\"entities\":{}}"), "/entities/ is not an array");
    refused(SUBJ("{\"entities\":[]}"), "subject entities is empty");
    refused(SUBJ("{\"entities\":[1]}"), "/entities/ vector item is not an object");
    refused(SUBJ("{\"entities\":[{\"type\":\"T\"}]}"),
            "/entities/ vector item does not have /id/ nor /idPattern/");
    refused(SUBJ("{\"entities\":[{\"id\":\"E\",\"idPattern\":\"E\"}]}"),
            "/entities/ vector item has both /id/ and /idPattern/");
    refused(SUBJ("{\"entities\":[{\"id\":\"E\",\"type\":\"T\",\"typePattern\":\"T\"}]}"),
            "/entities/ element has both /type/ and /typePattern/");
    refused(SUBJ("{\"entities\":[{\"id\":1}]}"), "/entities/ vector item /id/ is not a string");
    refused(SUBJ("{\"entities\":[{\"id\":\"\"}]}"), "/entities/ element id is empty");
    refused(SUBJ("{\"entities\":[{\"id\":\"a b\"}]}"),
            "forbidden characters in /entities/ vector item /id/");
    refused(SUBJ("{\"entities\":[{\"idPattern\":\"\"}]}"),
            "/entities/ vector item /idPattern/ is empty");
    refused(SUBJ("{\"entities\":[{\"idPattern\":\"(\"}]}"), "Invalid regex for entity idPattern");
    refused(SUBJ("{\"entities\":[{\"id\":\"E\",\"type\":2}]}"),
            "/entities/ vector item type is not a string");
    refused(SUBJ("{\"entities\":[{\"id\":\"E\",\"type\":\"\"}]}"),
            "entity type length: 0, min length supported: 1");
    refused(SUBJ("{\"entities\":[{\"id\":\"E\",\"type\":\"a/b\"}]}"),
            "forbidden characters in /entities/ vector item /type/");
    refused(SUBJ("{\"entities\":[{\"id\":\"E\",\"typePattern\":\"[\"}]}"),
            "Invalid regex for entity typePattern");
}

#define COND(c) SUBJ("{\"entities\":[{\"id\":\"E\"}],\"condition\":" c "}")

Test(subs_parse, condition_errors)
{
    refused(COND("[]"), "condition is not an object");
    refused(COND("{}"), "condition is empty");
    refused(COND("{\"attrs\":\"A\"}"), "the field /attrs/ must be a JSON array");
    refused(COND("{\"attrs\":[1]}"), "only JSON Strings allowed in string vector /attrs/");
    refused(COND("{\"attrs\":[\"\"]}"), "empty string found in string vector /attrs/");
    refused(COND("{\"alterationTypes\":[\"entityFoo\"]}"),
            "unknown subscription alterationType: entityFoo");
    refused(COND("{\"notifyOnMetadataChange\":1}"), "notifyOnMetadataChange is not a bool");
    refused(COND("{\"expression\":1}"), "expression is not an object");
    refused(COND("{\"expression\":{}}"), "expression is empty");
    refused(COND("{\"expression\":{\"q\":1}}"), "q is not a string");
    refused(COND("{\"expression\":{\"q\":\"\"}}"), "q is empty");
    refused(COND("{\"expression\":{\"q\":\"a==\"}}"), "empty right-hand-side in q-item");
    refused(COND("{\"expression\":{\"mq\":\"A\"}}"), "no metadata in right-hand-side of q-item");
    refused(COND("{\"expression\":{\"georel\":\"near\"}}"),
            "partial geo expression: geometry, georel and coords have to be provided together");
    refused(COND("{\"expression\":{\"georel\":\"near;maxDistance:10\",\"geometry\":\"circle\","
                 "\"coords\":\"1,2\"}}"),
            "error parsing geo-query fields: error parsing geometry: Invalid selector in geometry "
            "specification");
}

Test(subs_parse, notification_errors)
{
    refused("{" SUBJECT ",\"notification\":1}", "notification is not an object");
    refused(WITH("\"attrs\":[]"), "http, httpCustom, mqtt or mqttCustom is missing");
    refused(WITH(HTTP ",\"httpCustom\":{}"),
            "only one of http, httpCustom, mqtt or mqttCustom is allowed");
    refused(WITH("\"http\":1"), "http notification is not an object");
    refused(WITH("\"http\":{}"), "url http notification is missing");
    refused(WITH("\"http\":{\"url\":1}"), "url http notification is not a string");
    refused(WITH("\"http\":{\"url\":\"http://h/a=b\"}"),
            "forbidden characters in http field /url/");
    refused(WITH("\"http\":{\"url\":\"http://h/\",\"timeout\":\"1\"}"), "timeout is not an int");
    refused(WITH("\"http\":{\"url\":\"nope\",\"timeout\":-1}"),
            "timeout field must be an integer between 0 and 1800000");
    refused(WITH("\"http\":{\"url\":\"nope\"}"), "Invalid URL parsing notification url");
    refused(WITH("\"http\":{\"url\":\"mqtt://h:1883\"}"),
            "mqtt URL cannot be used in http notifications");
    refused(WITH(HTTP ",\"attrs\":[],\"exceptAttrs\":[]"),
            "http notification has attrs and exceptAttrs");
    refused(WITH(HTTP ",\"exceptAttrs\":[]"), "http notification has exceptAttrs is empty");
    refused(WITH(HTTP ",\"onlyChangedAttrs\":1"), "onlyChangedAttrs is not a bool");
    refused(WITH(HTTP ",\"covered\":\"yes\""), "covered is not a bool");
    refused(WITH(HTTP ",\"covered\":true"),
            "covered true cannot be used if notification attributes list is empty");
    refused(WITH(HTTP ",\"metadata\":[1]"),
            "only JSON Strings allowed in string vector /metadata/");
    refused(WITH(HTTP ",\"attrsFormat\":1"), "attrsFormat is not a string");
    refused(WITH(HTTP ",\"attrsFormat\":\"json\""),
            "invalid attrsFormat, accepted values: legacy, normalized, keyValues, values");
    refused(WITH(HTTP ",\"maxFailsLimit\":\"1\""), "maxFailsLimit is not an int");
    refused(WITH(HTTP ",\"maxFailsLimit\":0"), "maxFailsLimit must be greater than zero");
}

#define CUSTOM(c) WITH("\"httpCustom\":{\"url\":\"http://h/x\"," c "}")

Test(subs_parse, http_custom_errors)
{
    refused(WITH("\"httpCustom\":[]"), "httpCustom notification is not an object");
    refused(WITH("\"httpCustom\":{}"), "url httpCustom notification is missing");
    refused(WITH("\"httpCustom\":{\"url\":\"x(\"}"), "forbidden characters in custom /url/");
    refused(WITH("\"httpCustom\":{\"url\":\"x\"}"), "invalid custom /url/");
    refused(CUSTOM("\"method\":1"), "method httpCustom notification is not a string");
    refused(CUSTOM("\"method\":\"FETCH\""), "unknown method httpCustom notification");
    refused(CUSTOM("\"payload\":\"a\",\"json\":{}"),
            "only one of payload, json or ngsi fields accepted at the same time in httpCustom "
            "or mqttCustom");
    refused(CUSTOM("\"payload\":1"), "payload custom notification is not a string");
    refused(CUSTOM("\"payload\":\"a<b\""), "forbidden characters in custom /payload/");
    refused(CUSTOM("\"json\":1"),
            "json fields in httpCustom or mqttCustom must be object or array");
    refused(CUSTOM("\"ngsi\":{\"id\":1}"), "Invalid JSON type for entity id");
    refused(CUSTOM("\"ngsi\":{\"type\":[]}"), "Invalid JSON type for entity type");
    refused(CUSTOM("\"qs\":1"), "notification httpCustom qs is not an object");
    refused(CUSTOM("\"qs\":{}"), "notification httpCustom qs is empty");
    refused(CUSTOM("\"qs\":{\"a\":1}"), "notification httpCustom qs element is not a string");
    refused(CUSTOM("\"qs\":{\"a\":\"b;c\"}"),
            "forbidden characters in custom notification httpCustom qs");
    refused(CUSTOM("\"headers\":{}"), "notification httpCustom headers is empty");
    refused(CUSTOM("\"headers\":{\"a=\":\"b\"}"),
            "forbidden characters in custom notification httpCustom headers");
    refused(CUSTOM("\"timeout\":1800001"),
            "timeout field must be an integer between 0 and 1800000");
    /* URLs with macros are checked once expanded */
    subs_sub *s = parse_ok(WITH("\"httpCustom\":{\"url\":\"${url}\"}"));
    subs_free(s);
}

#define MQTT(m) WITH("\"mqtt\":{" m "}")

Test(subs_parse, mqtt_errors)
{
    refused(WITH("\"mqtt\":1"), "mqtt notification is not an object");
    refused(WITH("\"mqttCustom\":1"), "mqttCustom notification is not an object");
    refused(MQTT("\"topic\":\"t\""), "url mqtt notification is missing");
    refused(MQTT("\"url\":1"), "url mqtt notification is not a string");
    refused(MQTT("\"url\":\"x\""), "invalid mqtt /url/");
    refused(MQTT("\"url\":\"http://h\""), "http or https URL cannot be used in mqtt notifications");
    refused(MQTT("\"url\":\"mqtt://h:1883/p\""),
            "path cannot be used in mqtt url, use topic instead");
    refused(MQTT("\"url\":\"mqtt://h\",\"user\":1"), "user mqtt notification is not a string");
    refused(MQTT("\"url\":\"mqtt://h\",\"user\":\"u\""),
            "you must use user and passwd fields simultaneously");
    refused(MQTT("\"url\":\"mqtt://h\",\"qos\":3,\"topic\":\"t\""),
            "mqtt qos field must be an integer in the 0 to 2 range");
    refused(MQTT("\"url\":\"mqtt://h\",\"retain\":1,\"topic\":\"t\""), "retain is not a bool");
    refused(MQTT("\"url\":\"mqtt://h\""), "topic mqtt notification is missing");
    refused(MQTT("\"url\":\"mqtt://h\",\"topic\":\"\""), "empty mqtt field /topic/");
    refused(MQTT("\"url\":\"mqtt://h\",\"topic\":\"a/#\""),
            "+ and # are not allowed in mqtt field /topic/");
    refused(MQTT("\"url\":\"mqtt://h\",\"topic\":\"a;b\""),
            "forbidden characters in mqtt field /topic/");
}

Test(subs_parse, patch_replaces_groups)
{
    subs_sub *s =
        parse_ok("{\"subject\":{\"entities\":[{\"id\":\"E\"}],\"condition\":{\"alterationTypes\":["
                 "\"entityDelete\"]}},\"notification\":{" HTTP ",\"attrsFormat\":\"keyValues\"},"
                 "\"throttling\":9}");
    unsigned given;
    subs_sub *p = parse_as("{\"subject\":{\"entities\":[{\"id\":\"F\"}]},\"status\":\"oneshot\"}",
                           true, &given);
    cr_assert_eq(given, SUBS_GIVEN_SUBJECT | SUBS_GIVEN_STATUS);
    ngsi_error err = {0};
    cr_assert_eq(subs_apply_patch(s, p, given, &err), 0);
    cr_assert_str_eq(s->entities[0].id, "F");
    cr_assert_eq(s->nalt, 0, "alterationTypes go with the subject");
    cr_assert_eq(s->status, SUBS_ONESHOT);
    cr_assert_eq(s->throttling, 9);
    cr_assert_eq(s->format, SUBS_FMT_KEYVALUES);
    subs_free(p);
    p = parse_as("{\"notification\":{" HTTP "}}", true, &given);
    cr_assert_eq(subs_apply_patch(s, p, given, &err), 0);
    cr_assert_eq(s->format, SUBS_FMT_NORMALIZED, "a new notification resets attrsFormat");
    subs_free(p);
    subs_free(s);
    refused_as("{}", true, "BadRequest", "empty payload");
    refused_as("{\"notification\":{}}", true, "BadRequest",
               "http, httpCustom, mqtt or mqttCustom is missing");
}

Test(subs_ids, checks)
{
    ngsi_error err = {0};
    cr_assert_eq(subs_id_check(ID, &err), 0);
    cr_assert_eq(subs_id_check("5F8D0B6C1C9D440000A1B2C3", &err), 0);
    cr_assert_eq(subs_id_check("abc", &err), -1);
    cr_assert_str_eq(err.description, "bad length - 24 chars expected");
    cr_assert_eq(subs_id_check("5f8d0b6c1c9d440000a1b2cz", &err), -1);
    cr_assert_str_eq(err.description, "invalid char in ID string");
    char id[SUBS_ID_LEN + 1], id2[SUBS_ID_LEN + 1];
    subs_id_new(id);
    subs_id_new(id2);
    cr_assert_eq(subs_id_check(id, &err), 0);
    cr_assert_str_neq(id, id2);
}

Test(subs_url, parse)
{
    subs_url u;
    cr_assert_eq(subs_url_parse("http://127.0.0.1:9997/notify", &u), 0);
    cr_assert_str_eq(u.host, "127.0.0.1");
    cr_assert_eq(u.port, 9997);
    cr_assert_str_eq(u.path, "/notify");
    cr_assert_eq(subs_url_parse("https://example.org", &u), 0);
    cr_assert_eq(u.port, 443);
    cr_assert_str_eq(u.path, "/");
    cr_assert_eq(subs_url_parse("http://[::1]:80/x", &u), 0);
    cr_assert_str_eq(u.host, "::1");
    cr_assert_eq(subs_url_parse("mqtt://broker", &u), 0);
    cr_assert_eq(u.port, 1883);
    cr_assert_eq(subs_url_parse("ftp://h/x", &u), -1);
    cr_assert_eq(subs_url_parse("http://:80/x", &u), -1);
    cr_assert_eq(subs_url_parse("http://h:99999/x", &u), -1);
    cr_assert_eq(subs_url_parse("http://h:80x", &u), -1);
}

/* ------------------------------------------------------------- csubs */

static const char *doc_str(const bson_t *doc, const char *path)
{
    bson_iter_t it, f;
    if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, path, &f) &&
        BSON_ITER_HOLDS_UTF8(&f))
        return bson_iter_utf8(&f, NULL);
    return NULL;
}

Test(subs_bson, orion_layout)
{
    subs_sub *s = parse_ok("{\"subject\":{\"entities\":[{\"idPattern\":\"E.*\",\"type\":\"T\"}],"
                           "\"condition\":{\"attrs\":[\"A\"],\"expression\":{\"q\":\"A>1\"}}},"
                           "\"notification\":{" HTTP ",\"exceptAttrs\":[\"B\"]}}");
    bson_t doc = BSON_INITIALIZER;
    subs_to_bson(s, &doc);
    bson_iter_t it;
    cr_assert(bson_iter_init_find(&it, &doc, "_id") && BSON_ITER_HOLDS_OID(&it));
    cr_assert_str_eq(doc_str(&doc, "reference"), "http://127.0.0.1:9997/notify");
    cr_assert_str_eq(doc_str(&doc, "entities.0.isPattern"), "true");
    cr_assert_str_eq(doc_str(&doc, "expression.q"), "A>1");
    cr_assert_str_eq(doc_str(&doc, "expression.georel"), "");
    cr_assert_str_eq(doc_str(&doc, "conditions.0"), "A");
    cr_assert_str_eq(doc_str(&doc, "attrs.0"), "B");
    cr_assert(bson_iter_init_find(&it, &doc, "blacklist") && bson_iter_bool(&it));
    cr_assert(bson_iter_init_find(&it, &doc, "expiration") &&
              bson_iter_int64(&it) == SUBS_PERMANENT);
    cr_assert(bson_iter_init_find(&it, &doc, "entities") && BSON_ITER_HOLDS_ARRAY(&it));
    bson_destroy(&doc);
    subs_free(s);
}

Test(subs_bson, round_trip_renders_identically)
{
    const char *bodies[] = {
        MINIMAL,
        "{\"description\":\"x\",\"expires\":\"2030-05-01T10:00:00Z\",\"status\":\"oneshot\","
        "\"throttling\":3,\"subject\":{\"entities\":[{\"id\":\"E\",\"typePattern\":\"T.*\"}],"
        "\"condition\":{\"attrs\":[\"a\"],\"alterationTypes\":[\"entityUpdate\"],"
        "\"notifyOnMetadataChange\":false,\"expression\":{\"mq\":\"a.m==2\"}}},\"notification\":{"
        "\"httpCustom\":{\"url\":\"http://h:1/${id}\",\"json\":[1,\"${a}\",{\"k\":true}],"
        "\"headers\":{\"h\":\"v\"},\"method\":\"PATCH\"},\"attrs\":[\"a\"],\"covered\":true,"
        "\"onlyChangedAttrs\":true,\"attrsFormat\":\"simplifiedKeyValues\",\"maxFailsLimit\":2}}",
        WITH("\"httpCustom\":{\"url\":\"http://h/x\",\"ngsi\":{\"type\":\"N\",\"a.b\":{\"value\":1,"
             "\"metadata\":{\"evalPriority\":{\"value\":5}}}}}"),
        WITH("\"mqtt\":{\"url\":\"mqtt://m:1\",\"topic\":\"a/b\",\"qos\":2,\"retain\":true}"),
        WITH("\"httpCustom\":{\"url\":\"http://h/x\",\"payload\":null}"),
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        subs_sub *s = parse_ok(bodies[i]);
        s->counters.times_sent = 4;
        s->counters.fails_counter = 2;
        s->counters.last_failure = 1600000000;
        s->counters.last_failure_reason = strdup("Timeout was reached");
        subs_sub *c = subs_copy(s);
        cr_assert_not_null(c, "body %zu did not survive", i);
        char *a = rendered(s, 0), *b = rendered(c, 0);
        cr_assert_str_eq(a, b);
        free(a);
        free(b);
        subs_free(c);
        subs_free(s);
    }
}

Test(subs_bson, patch_sets_and_unsets)
{
    unsigned given;
    subs_sub *p = parse_as("{\"notification\":{" HTTP "},\"throttling\":2}", true, &given);
    bson_t update = BSON_INITIALIZER;
    subs_bson_patch(p, given, &update);
    bson_iter_t it, f;
    cr_assert(bson_iter_init(&it, &update) && bson_iter_find_descendant(&it, "$set.reference", &f));
    cr_assert(bson_iter_init(&it, &update) &&
              bson_iter_find_descendant(&it, "$set.throttling", &f));
    cr_assert(bson_iter_init(&it, &update) && bson_iter_find_descendant(&it, "$unset.topic", &f));
    cr_assert(bson_iter_init(&it, &update) &&
              bson_iter_find_descendant(&it, "$unset.maxFailsLimit", &f));
    cr_assert(
        !(bson_iter_init(&it, &update) && bson_iter_find_descendant(&it, "$set.entities", &f)),
        "the subject was not given");
    bson_destroy(&update);
    subs_free(p);
}

Test(subs_bson, not_a_subscription)
{
    bson_t doc = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&doc, "_id", "x");
    cr_assert_null(subs_from_bson(&doc));
    bson_destroy(&doc);
}
