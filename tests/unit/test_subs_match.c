/*
 * tests/unit/test_subs_match.c: which changes trigger a subscription, and
 * the notification it builds (ngsi/subs.h: subs_change, subs_match,
 * subs_message_build).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "subs.h"

#define NOW 1700000000.0

static subs_sub *sub(const char *text)
{
    json_error_t je;
    json_t *body = json_loads(text, 0, &je);
    cr_assert_not_null(body, "bad test JSON: %s", je.text);
    ngsi_error err = {0};
    unsigned given;
    subs_sub *s = subs_parse(body, false, &given, &err);
    json_decref(body);
    cr_assert_not_null(s, "%s", err.description);
    snprintf(s->id, sizeof s->id, "%s", "5f8d0b6c1c9d440000a1b2c3");
    s->service_path = strdup("/#");
    return s;
}

static ngsi_entity *entity(const char *text, double mod)
{
    json_t *body = json_loads(text, 0, NULL);
    ngsi_error err = {0};
    ngsi_entity *e = ngsi_entity_parse(body, NGSI_IN_NORMALIZED, &err);
    json_decref(body);
    cr_assert_not_null(e, "%s", err.description);
    e->service_path = strdup("/");
    e->cre_date = 1000;
    e->mod_date = mod;
    for (size_t i = 0; i < e->nattrs; i++)
        e->attrs[i].cre_date = e->attrs[i].mod_date = 1000;
    return e;
}

/* Mark attribute name of e as written by the last request. */
static void written(ngsi_entity *e, const char *name)
{
    ngsi_attr *a = ngsi_entity_find(e, name);
    cr_assert_not_null(a);
    a->mod_date = e->mod_date;
}

#define HTTP         "\"notification\":{\"http\":{\"url\":\"http://h:1/n\"}"
#define SUB(subject) "{\"subject\":" subject "," HTTP "}}"

/* ------------------------------------------------------------ changes */

Test(subs_change, classifies_written_changed_and_metadata)
{
    ngsi_entity *b =
        entity("{\"id\":\"E\",\"type\":\"T\",\"A\":{\"value\":1},\"B\":{\"value\":1},"
               "\"C\":{\"value\":1,\"metadata\":{\"m\":{\"value\":1}}},\"D\":{\"value\":1}}",
               1000);
    ngsi_entity *a =
        entity("{\"id\":\"E\",\"type\":\"T\",\"A\":{\"value\":2},\"B\":{\"value\":1},"
               "\"C\":{\"value\":1,\"metadata\":{\"m\":{\"value\":2}}},\"N\":{\"value\":0}}",
               2000);
    written(a, "A");
    written(a, "B");
    written(a, "C");
    written(a, "N");
    subs_change ch;
    subs_change_init(&ch, SUBS_ALT_UPDATE, b, a, false);
    cr_assert_eq(ch.alt, SUBS_ALT_CHANGE);
    cr_assert_eq(ch.touched.n, 5, "A, B, C, N written and D removed");
    cr_assert(ngsi_list_has(&ch.changed, "A") && ngsi_list_has(&ch.changed, "N") &&
              ngsi_list_has(&ch.changed, "D"));
    cr_assert(!ngsi_list_has(&ch.changed, "B") && !ngsi_list_has(&ch.changed, "C"));
    cr_assert(ngsi_list_has(&ch.md_changed, "C"));
    cr_assert(!ch.md_only);
    subs_change_clear(&ch);
    ngsi_entity_free(a);
    ngsi_entity_free(b);
}

Test(subs_change, unchanged_write_is_an_update_unless_forced)
{
    ngsi_entity *b = entity("{\"id\":\"E\",\"type\":\"T\",\"A\":{\"value\":1}}", 1000);
    ngsi_entity *a = entity("{\"id\":\"E\",\"type\":\"T\",\"A\":{\"value\":1}}", 2000);
    written(a, "A");
    subs_change ch;
    subs_change_init(&ch, SUBS_ALT_UPDATE, b, a, false);
    cr_assert_eq(ch.alt, SUBS_ALT_UPDATE);
    cr_assert_eq(ch.changed.n, 0);
    subs_change_clear(&ch);
    subs_change_init(&ch, SUBS_ALT_UPDATE, b, a, true);
    cr_assert_eq(ch.alt, SUBS_ALT_CHANGE);
    cr_assert(ngsi_list_has(&ch.changed, "A"));
    subs_change_clear(&ch);
    ngsi_entity_free(a);
    ngsi_entity_free(b);
}

/* ------------------------------------------------------------- match */

typedef struct fixture {
    ngsi_entity *before, *after;
    subs_change update, unchanged, create, del;
} fixture;

static void fixture_init(fixture *f)
{
    f->before = entity("{\"id\":\"Room1\",\"type\":\"Room\",\"t\":{\"value\":20},\"h\":{\"value\":"
                       "50,\"metadata\":{\"u\":{\"value\":\"%\"}}}}",
                       1000);
    f->after = entity("{\"id\":\"Room1\",\"type\":\"Room\",\"t\":{\"value\":25},\"h\":{\"value\":"
                      "50,\"metadata\":{\"u\":{\"value\":\"%\"}}}}",
                      2000);
    written(f->after, "t");
    subs_change_init(&f->update, SUBS_ALT_UPDATE, f->before, f->after, false);
    subs_change_init(&f->unchanged, SUBS_ALT_UPDATE, f->before, f->before, false);
    subs_change_init(&f->create, SUBS_ALT_CREATE, NULL, f->after, false);
    subs_change_init(&f->del, SUBS_ALT_DELETE, f->before, NULL, false);
}

static void fixture_fini(fixture *f)
{
    subs_change_clear(&f->update);
    subs_change_clear(&f->unchanged);
    subs_change_clear(&f->create);
    subs_change_clear(&f->del);
    ngsi_entity_free(f->before);
    ngsi_entity_free(f->after);
}

static bool fires(const char *text, const subs_change *ch)
{
    subs_sub *s = sub(text);
    bool r = subs_match(s, ch, NOW);
    subs_free(s);
    return r;
}

Test(subs_match, alteration_types)
{
    fixture f;
    fixture_init(&f);
    const char *dflt = SUB("{\"entities\":[{\"id\":\"Room1\"}]}");
    cr_assert(fires(dflt, &f.update));
    cr_assert(fires(dflt, &f.create));
    cr_assert(!fires(dflt, &f.del));
    cr_assert(!fires(dflt, &f.unchanged), "the default is create + change");
    const char *upd = SUB("{\"entities\":[{\"id\":\"Room1\"}],\"condition\":{\"alterationTypes\":["
                          "\"entityUpdate\"]}}");
    cr_assert(fires(upd, &f.unchanged));
    cr_assert(fires(upd, &f.update), "entityUpdate covers changes");
    cr_assert(!fires(upd, &f.create));
    const char *del = SUB("{\"entities\":[{\"id\":\"Room1\"}],\"condition\":{\"alterationTypes\":["
                          "\"entityDelete\"],\"attrs\":[\"none\"]}}");
    cr_assert(fires(del, &f.del), "condition.attrs does not apply to deletes");
    cr_assert(!fires(del, &f.update));
    fixture_fini(&f);
}

Test(subs_match, condition_attrs)
{
    fixture f;
    fixture_init(&f);
    cr_assert(fires(SUB("{\"entities\":[{\"id\":\"Room1\"}],\"condition\":{\"attrs\":[\"t\"]}}"),
                    &f.update));
    cr_assert(!fires(SUB("{\"entities\":[{\"id\":\"Room1\"}],\"condition\":{\"attrs\":[\"h\"]}}"),
                     &f.update));
    cr_assert(fires(SUB("{\"entities\":[{\"id\":\"Room1\"}],\"condition\":{\"attrs\":[\"h\"]}}"),
                    &f.create));
    fixture_fini(&f);
}

Test(subs_match, metadata_only_change)
{
    ngsi_entity *b = entity("{\"id\":\"E\",\"type\":\"T\",\"A\":{\"value\":1,\"metadata\":{\"m\":{"
                            "\"value\":1}}}}",
                            1000);
    ngsi_entity *a = entity("{\"id\":\"E\",\"type\":\"T\",\"A\":{\"value\":1,\"metadata\":{\"m\":{"
                            "\"value\":2}}}}",
                            2000);
    written(a, "A");
    subs_change ch;
    subs_change_init(&ch, SUBS_ALT_UPDATE, b, a, false);
    cr_assert(ch.md_only);
    cr_assert(fires(SUB("{\"entities\":[{\"id\":\"E\"}]}"), &ch));
    cr_assert(!fires(SUB("{\"entities\":[{\"id\":\"E\"}],\"condition\":{"
                         "\"notifyOnMetadataChange\":false}}"),
                     &ch));
    cr_assert(fires(SUB("{\"entities\":[{\"id\":\"E\"}],\"condition\":{\"notifyOnMetadataChange\":"
                        "false,\"alterationTypes\":[\"entityUpdate\"]}}"),
                    &ch),
              "downgraded to an update, which entityUpdate takes");
    subs_change_clear(&ch);
    ngsi_entity_free(a);
    ngsi_entity_free(b);
}

Test(subs_match, entities_and_patterns)
{
    fixture f;
    fixture_init(&f);
    cr_assert(fires(SUB("{\"entities\":[{\"id\":\"Room1\",\"type\":\"Room\"}]}"), &f.update));
    cr_assert(!fires(SUB("{\"entities\":[{\"id\":\"Room1\",\"type\":\"Hall\"}]}"), &f.update));
    cr_assert(!fires(SUB("{\"entities\":[{\"id\":\"Room2\"}]}"), &f.update));
    cr_assert(
        fires(SUB("{\"entities\":[{\"id\":\"X\"},{\"idPattern\":\"^Ro+m[0-9]$\"}]}"), &f.update));
    cr_assert(
        fires(SUB("{\"entities\":[{\"idPattern\":\".*\",\"typePattern\":\"^R\"}]}"), &f.update));
    cr_assert(
        !fires(SUB("{\"entities\":[{\"idPattern\":\".*\",\"typePattern\":\"^H\"}]}"), &f.update));
    fixture_fini(&f);
}

Test(subs_match, expressions_and_expiry)
{
    fixture f;
    fixture_init(&f);
    cr_assert(fires(SUB("{\"entities\":[{\"id\":\"Room1\"}],\"condition\":{\"expression\":{\"q\":"
                        "\"t>24\"}}}"),
                    &f.update));
    cr_assert(!fires(SUB("{\"entities\":[{\"id\":\"Room1\"}],\"condition\":{\"expression\":{\"q\":"
                         "\"t>30\"}}}"),
                     &f.update));
    cr_assert(fires(SUB("{\"entities\":[{\"id\":\"Room1\"}],\"condition\":{\"expression\":{\"mq\":"
                        "\"h.u==%\"}}}"),
                    &f.update));
    cr_assert(!fires(SUB("{\"entities\":[{\"id\":\"Room1\"}],\"condition\":{\"expression\":{"
                         "\"georel\":\"near;maxDistance:10\",\"geometry\":\"point\",\"coords\":"
                         "\"1,2\"}}}"),
                     &f.update),
              "an entity without location matches no geo expression");
    subs_sub *s = sub(SUB("{\"entities\":[{\"id\":\"Room1\"}]}"));
    s->expires = (long long)NOW - 1;
    cr_assert(!subs_match(s, &f.update, NOW));
    s->expires = (long long)NOW + 10;
    cr_assert(subs_match(s, &f.update, NOW));
    subs_free(s);
    fixture_fini(&f);
}

Test(subs_match, geo_near)
{
    ngsi_entity *e =
        entity("{\"id\":\"G\",\"type\":\"T\",\"loc\":{\"type\":\"geo:json\",\"value\":{\"type\":"
               "\"Point\",\"coordinates\":[139.001,35.001]}}}",
               2000);
    subs_change ch;
    subs_change_init(&ch, SUBS_ALT_CREATE, NULL, e, false);
    cr_assert(
        fires(SUB("{\"entities\":[{\"id\":\"G\"}],\"condition\":{\"expression\":{\"georel\":"
                  "\"near;maxDistance:1000\",\"geometry\":\"point\",\"coords\":\"35,139\"}}}"),
              &ch));
    cr_assert(!fires(SUB("{\"entities\":[{\"id\":\"G\"}],\"condition\":{\"expression\":{\"georel\":"
                         "\"near;maxDistance:10\",\"geometry\":\"point\",\"coords\":\"35,139\"}}}"),
                     &ch));
    subs_change_clear(&ch);
    ngsi_entity_free(e);
}

/* A geo attribute with a null value is no location (the store skips it), so
 * the next one is the entity's location. */
Test(subs_match, geo_skips_null_location)
{
    ngsi_entity *e = entity("{\"id\":\"G\",\"type\":\"T\",\"old\":{\"type\":\"geo:point\","
                            "\"value\":null},\"loc\":{\"type\":\"geo:point\",\"value\":"
                            "\"35.001,139.001\"}}",
                            2000);
    subs_change ch;
    subs_change_init(&ch, SUBS_ALT_CREATE, NULL, e, false);
    cr_assert(
        fires(SUB("{\"entities\":[{\"id\":\"G\"}],\"condition\":{\"expression\":{\"georel\":"
                  "\"near;maxDistance:1000\",\"geometry\":\"point\",\"coords\":\"35,139\"}}}"),
              &ch));
    subs_change_clear(&ch);
    ngsi_entity_free(e);
}

Test(subs_match, service_paths)
{
    cr_assert(subs_path_covers("/#", "/a/b"));
    cr_assert(subs_path_covers("/a/#", "/a"));
    cr_assert(subs_path_covers("/a/#", "/a/b/c"));
    cr_assert(!subs_path_covers("/a/#", "/ab"));
    cr_assert(subs_path_covers("/a", "/a"));
    cr_assert(!subs_path_covers("/a", "/a/b"));
}

/* ------------------------------------------------------------ messages */

static subs_notify_ctx CTX = {
    .tenant = "town", .correlator = "c-1; cbnotif=1", .auth_token = "tok", .user_agent = "orion/0"};

static subs_message build(const char *text, const subs_change *ch)
{
    subs_sub *s = sub(text);
    subs_message m;
    ngsi_error err = {0};
    cr_assert_eq(subs_message_build(s, ch, &CTX, &m, &err), 0, "%s", err.description);
    subs_free(s);
    return m;
}

static const char *header(const subs_message *m, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < m->headers.n; i++)
        if (strncmp(m->headers.item[i], name, n) == 0 && m->headers.item[i][n] == ':')
            return m->headers.item[i] + n + 2;
    return NULL;
}

Test(subs_message, default_body_and_headers)
{
    fixture f;
    fixture_init(&f);
    subs_message m = build(SUB("{\"entities\":[{\"id\":\"Room1\"}]}"), &f.update);
    cr_assert_str_eq(m.url, "http://h:1/n");
    cr_assert_str_eq(m.method, "POST");
    cr_assert_str_eq(m.body,
                     "{\"subscriptionId\":\"5f8d0b6c1c9d440000a1b2c3\",\"data\":[{\"id\":"
                     "\"Room1\",\"type\":\"Room\",\"t\":{\"type\":\"Number\",\"value\":25,"
                     "\"metadata\":{}},\"h\":{\"type\":\"Number\",\"value\":50,\"metadata\":"
                     "{\"u\":{\"type\":\"Text\",\"value\":\"%\"}}}}]}");
    cr_assert_eq(m.body_len, strlen(m.body));
    cr_assert_str_eq(header(&m, "Content-Type"), "application/json; charset=utf-8");
    cr_assert_str_eq(header(&m, "Fiware-Service"), "town");
    cr_assert_str_eq(header(&m, "Fiware-ServicePath"), "/");
    cr_assert_str_eq(header(&m, "Ngsiv2-AttrsFormat"), "normalized");
    cr_assert_str_eq(header(&m, "Fiware-Correlator"), "c-1; cbnotif=1");
    cr_assert_str_eq(header(&m, "X-Auth-Token"), "tok");
    subs_message_clear(&m);
    fixture_fini(&f);
}

Test(subs_message, formats)
{
    fixture f;
    fixture_init(&f);
    subs_message m =
        build("{\"subject\":{\"entities\":[{\"id\":\"Room1\"}]},\"notification\":{\"http\":{"
              "\"url\":\"http://h:1/n\"},\"attrsFormat\":\"values\",\"attrs\":[\"h\",\"t\"]}}",
              &f.update);
    cr_assert_str_eq(m.body,
                     "{\"subscriptionId\":\"5f8d0b6c1c9d440000a1b2c3\",\"data\":[[50,25]]}");
    subs_message_clear(&m);
    m = build("{\"subject\":{\"entities\":[{\"id\":\"Room1\"}]},\"notification\":{\"http\":{"
              "\"url\":\"http://h:1/n\"},\"attrsFormat\":\"simplifiedKeyValues\","
              "\"onlyChangedAttrs\":true}}",
              &f.update);
    cr_assert_str_eq(m.body, "{\"id\":\"Room1\",\"type\":\"Room\",\"t\":25}");
    cr_assert_str_eq(header(&m, "Ngsiv2-AttrsFormat"), "simplifiedKeyValues");
    subs_message_clear(&m);
    m = build("{\"subject\":{\"entities\":[{\"id\":\"Room1\"}]},\"notification\":{\"http\":{"
              "\"url\":\"http://h:1/n\"},\"attrsFormat\":\"keyValues\",\"attrs\":[\"t\","
              "\"missing\",\"alterationType\"],\"covered\":true}}",
              &f.del);
    cr_assert_str_eq(m.body, "{\"subscriptionId\":\"5f8d0b6c1c9d440000a1b2c3\",\"data\":[{\"id\":"
                             "\"Room1\",\"type\":\"Room\",\"t\":20,\"missing\":null,"
                             "\"alterationType\":\"entityDelete\"}]}");
    subs_message_clear(&m);
    fixture_fini(&f);
}

#define CUSTOM(c) "{\"subject\":{\"entities\":[{\"id\":\"Room1\"}]},\"notification\":{" c "}}"

Test(subs_message, http_custom_templates)
{
    fixture f;
    fixture_init(&f);
    subs_message m = build(
        CUSTOM(
            "\"httpCustom\":{\"url\":\"http://h:1/${type}/${id}\",\"method\":\"PATCH\","
            "\"qs\":{\"z\":\"${t}\",\"a\":\"${nothing}\",\"s\":\"${service}\",\"e\":\"\"},"
            "\"headers\":{\"Accept\":\"\",\"Fiware-Correlator\":\"mine\",\"X-T\":\"%22${t}%22\"},"
            "\"payload\":\"t%3D${t} h%3D${h}\"}"),
        &f.update);
    cr_assert_str_eq(m.url, "http://h:1/Room/Room1?a=null&s=town&z=25");
    cr_assert_str_eq(m.method, "PATCH");
    cr_assert_str_eq(m.body, "t=25 h=50");
    cr_assert_str_eq(header(&m, "Content-Type"), "text/plain; charset=utf-8");
    cr_assert_str_eq(header(&m, "Ngsiv2-AttrsFormat"), "custom");
    cr_assert_null(header(&m, "Accept"), "an empty value removes the header");
    cr_assert_str_eq(header(&m, "Fiware-Correlator"), "c-1; cbnotif=1");
    cr_assert_str_eq(header(&m, "X-T"), "\"25\"");
    subs_message_clear(&m);
    fixture_fini(&f);
}

Test(subs_message, json_ngsi_and_no_payload)
{
    fixture f;
    fixture_init(&f);
    subs_message m = build(CUSTOM("\"httpCustom\":{\"url\":\"http://h:1/j\",\"json\":{\"t\":"
                                  "\"${t}\",\"txt\":\"t is ${t}\",\"no\":\"${no}\"}}"),
                           &f.update);
    cr_assert_str_eq(m.body, "{\"t\":25,\"txt\":\"t is 25\",\"no\":null}");
    subs_message_clear(&m);
    m = build(CUSTOM("\"httpCustom\":{\"url\":\"http://h:1/n\",\"ngsi\":{\"id\":\"${id}:copy\","
                     "\"t\":{\"value\":\"${h}\",\"type\":\"Copied\"},\"k\":{\"value\":[\"${t}\"]}}"
                     "},\"attrsFormat\":\"simplifiedNormalized\",\"attrs\":[\"t\",\"k\"]"),
              &f.update);
    cr_assert_str_eq(m.body, "{\"id\":\"Room1:copy\",\"type\":\"Room\",\"t\":{\"type\":\"Copied\","
                             "\"value\":50,\"metadata\":{}},\"k\":{\"type\":\"StructuredValue\","
                             "\"value\":[25],\"metadata\":{}}}");
    subs_message_clear(&m);
    m = build(CUSTOM("\"httpCustom\":{\"url\":\"http://h:1/n\",\"payload\":null}"), &f.update);
    cr_assert_null(m.body);
    cr_assert_null(header(&m, "Content-Type"));
    subs_message_clear(&m);
    fixture_fini(&f);
}

Test(subs_message, bad_url_after_expansion_and_mqtt_topic)
{
    fixture f;
    fixture_init(&f);
    subs_sub *s = sub(CUSTOM("\"httpCustom\":{\"url\":\"${nope}\"}"));
    subs_message m;
    ngsi_error err = {0};
    cr_assert_eq(subs_message_build(s, &f.update, &CTX, &m, &err), -1);
    subs_free(s);
    m = build(CUSTOM("\"mqttCustom\":{\"url\":\"mqtt://b:1883\",\"topic\":\"rooms/${id}\","
                     "\"payload\":\"${t}\"}"),
              &f.update);
    cr_assert_str_eq(m.topic, "rooms/Room1");
    cr_assert_str_eq(m.body, "25");
    cr_assert_eq(m.headers.n, 0, "MQTT has no headers");
    subs_message_clear(&m);
    fixture_fini(&f);
}

Test(subs_message, expand_and_decode)
{
    ngsi_entity *e = entity("{\"id\":\"E\",\"type\":\"T\",\"o\":{\"value\":{\"k\":[1,true]}},"
                            "\"id2\":{\"value\":\"x\"}}",
                            1);
    char *s =
        subs_expand("${o}|${id}|${type}|${servicePath}|${authToken}|${x}|$${id2}|${", e, &CTX);
    cr_assert_str_eq(s, "{\"k\":[1,true]}|E|T|/|tok|null|$x|${");
    free(s);
    char buf[] = "%7B%22a%22%3a1%7D%zz%";
    cr_assert_str_eq(subs_url_decode(buf), "{\"a\":1}%zz%");
    ngsi_entity_free(e);
}
