/*
 * tests/unit/test_model.c: parsing requests into entities and rendering them.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ngsi.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_INT_AS_REAL | JSON_DECODE_ANY, &e);
    cr_assert_not_null(v, "bad test JSON: %s (%s)", text, e.text);
    return v;
}

static ngsi_entity *parse(const char *text, enum ngsi_input in, ngsi_error *err)
{
    json_t *body = J(text);
    ngsi_entity *e = ngsi_entity_parse(body, in, err);
    json_decref(body);
    return e;
}

static void expect_render(const ngsi_entity *e, const ngsi_render_opts *o, const char *want)
{
    json_t *out = ngsi_entity_render(e, o);
    char *s = ngsi_json_dumps(out);
    cr_expect_str_eq(s, want);
    free(s);
    json_decref(out);
}

Test(parse, normalized_entity_with_defaults)
{
    ngsi_error err = {0};
    ngsi_entity *e = parse("{\"id\":\"Room1\",\"temperature\":{\"value\":23},"
                           "\"name\":{\"value\":\"A\",\"metadata\":{\"unit\":{\"value\":\"x\"}}}}",
                           NGSI_IN_NORMALIZED, &err);
    cr_assert_not_null(e, "%s", err.description);
    cr_expect_str_eq(e->type, "Thing");
    cr_assert_eq(e->nattrs, 2);
    cr_expect_str_eq(e->attrs[0].name, "temperature");
    cr_expect_str_eq(e->attrs[0].type, "Number");
    cr_expect_str_eq(e->attrs[1].type, "Text");
    cr_assert_eq(e->attrs[1].nmd, 1);
    cr_expect_str_eq(e->attrs[1].md[0].type, "Text");
    ngsi_render_opts o = {.mode = NGSI_NORMALIZED};
    expect_render(e, &o,
                  "{\"id\":\"Room1\",\"type\":\"Thing\",\"temperature\":{\"type\":\"Number\","
                  "\"value\":23,\"metadata\":{}},\"name\":{\"type\":\"Text\",\"value\":\"A\","
                  "\"metadata\":{\"unit\":{\"type\":\"Text\",\"value\":\"x\"}}}}");
    ngsi_entity_free(e);
}

Test(parse, keyvalues_infers_types)
{
    ngsi_error err = {0};
    ngsi_entity *e = parse("{\"id\":\"E\",\"type\":\"T\",\"s\":\"x\",\"n\":1.5,\"b\":false,"
                           "\"o\":{\"k\":[1]},\"z\":null}",
                           NGSI_IN_KEYVALUES, &err);
    cr_assert_not_null(e, "%s", err.description);
    const char *want[] = {"Text", "Number", "Boolean", "StructuredValue", "None"};
    cr_assert_eq(e->nattrs, 5);
    for (size_t i = 0; i < 5; i++)
        cr_expect_str_eq(e->attrs[i].type, want[i]);
    ngsi_render_opts o = {.mode = NGSI_KEYVALUES};
    expect_render(
        e, &o,
        "{\"id\":\"E\",\"type\":\"T\",\"s\":\"x\",\"n\":1.5,\"b\":false,\"o\":{\"k\":[1]},"
        "\"z\":null}");
    ngsi_entity_free(e);
}

Test(parse, datetime_values_are_normalised)
{
    ngsi_error err = {0};
    ngsi_entity *e = parse("{\"id\":\"E\",\"t\":{\"type\":\"DateTime\",\"value\":\"2024-01-02T09:00"
                           "+09:00\"}}",
                           NGSI_IN_NORMALIZED, &err);
    cr_assert_not_null(e, "%s", err.description);
    cr_expect_str_eq(json_string_value(e->attrs[0].value), "2024-01-02T00:00:00.000Z");
    ngsi_entity_free(e);
    e = parse("{\"id\":\"E\",\"t\":{\"type\":\"DateTime\",\"value\":\"soon\"}}", NGSI_IN_NORMALIZED,
              &err);
    cr_expect_null(e);
    cr_expect_eq(err.status, 400);
}

Test(parse, date_expires_becomes_expiry_not_attribute)
{
    ngsi_error err = {0};
    ngsi_entity *e = parse("{\"id\":\"E\",\"dateExpires\":{\"type\":\"DateTime\",\"value\":"
                           "\"2030-01-01T00:00:00Z\"}}",
                           NGSI_IN_NORMALIZED, &err);
    cr_assert_not_null(e, "%s", err.description);
    cr_expect_eq(e->nattrs, 0);
    cr_expect_float_eq(e->exp_date, 1893456000.0, 1e-6);
    ngsi_entity_free(e);
}

Test(parse, refusals_with_orions_texts)
{
    static const struct {
        const char *body, *error, *description;
    } cases[] = {
        {"[1]", "ParseError", "Errors found in incoming JSON buffer"},
        {"{}", "BadRequest", "empty payload"},
        {"{\"type\":\"T\"}", "BadRequest", "entity id length: 0, min length supported: 1"},
        {"{\"id\":3}", "BadRequest", "Invalid JSON type for entity id"},
        {"{\"id\":\"E\",\"type\":[]}", "BadRequest", "Invalid JSON type for entity type"},
        {"{\"id\":\"a b\"}", "BadRequest", "Invalid characters in entity id"},
        {"{\"id\":\"a/b\"}", "BadRequest", "Invalid characters in entity id"},
        {"{\"id\":\"a#b\"}", "BadRequest", "Invalid characters in entity id"},
        {"{\"id\":\"E\",\"type\":\"T?\"}", "BadRequest", "Invalid characters in entity type"},
        {"{\"id\":\"E\",\"type\":\"\"}", "BadRequest",
         "entity type length: 0, min length supported: 1"},
        {"{\"id\":\"E\",\"a<\":{\"value\":1}}", "BadRequest",
         "Invalid characters in attribute name"},
        {"{\"id\":\"E\",\"a\":{\"value\":\"<script>\"}}", "BadRequest",
         "Invalid characters in attribute value"},
        {"{\"id\":\"E\",\"a\":{\"value\":{\"k\":\"x;y\"}}}", "BadRequest",
         "Invalid characters in attribute value"},
        {"{\"id\":\"E\",\"a\":{\"value\":1,\"foo\":2}}", "BadRequest",
         "unrecognized property for context attribute"},
        {"{\"id\":\"E\",\"a\":{\"type\":7,\"value\":1}}", "BadRequest",
         "invalid JSON type for attribute type"},
        {"{\"id\":\"E\",\"a\":5}", "BadRequest",
         "attribute must be a JSON object, unless keyValues option is used"},
        {"{\"id\":\"E\",\"geo:distance\":{\"value\":5}}", "BadRequest",
         "attribute name is reserved: geo:distance"},
        {"{\"id\":\"E\",\"a\":{\"value\":1,\"metadata\":{\"m\":3}}}", "BadRequest",
         "metadata must be a JSON object"},
        {"{\"id\":\"E\",\"a\":{\"value\":1,\"metadata\":{\"m\":{\"value\":\"(\"}}}}", "BadRequest",
         "Invalid characters in metadata value"},
        {"{\"id\":\"E\",\"a\":{\"value\":\"x\",\"type\":\"DateTime\"}}", "BadRequest",
         "date has invalid format"},
        {"{\"id\":\"E\",\"dateExpires\":{\"value\":\"2030-01-01\",\"type\":\"Text\"}}",
         "BadRequest", "error processing date expiration attribute, see log traces"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ngsi_error err = {0};
        ngsi_entity *e = parse(cases[i].body, NGSI_IN_NORMALIZED, &err);
        cr_expect_null(e, "accepted %s", cases[i].body);
        cr_expect_eq(err.status, 400, "%s gave status %d", cases[i].body, err.status);
        cr_expect_str_eq(err.name, cases[i].error, "%s", cases[i].body);
        cr_expect_str_eq(err.description, cases[i].description, "%s", cases[i].body);
        ngsi_entity_free(e);
    }
}

Test(parse, text_unrestricted_allows_any_character)
{
    ngsi_error err = {0};
    ngsi_entity *e = parse("{\"id\":\"E\",\"a\":{\"value\":\"<b>\",\"type\":\"TextUnrestricted\"}}",
                           NGSI_IN_NORMALIZED, &err);
    cr_expect_not_null(e, "%s", err.description);
    ngsi_entity_free(e);
}

Test(parse, attrs_payload_refuses_entity_keys)
{
    ngsi_error err = {0};
    ngsi_entity *e = ngsi_entity_new();
    json_t *b = J("{\"id\":\"x\",\"a\":{\"value\":1}}");
    cr_expect_eq(ngsi_attrs_parse(b, NGSI_IN_NORMALIZED, e, &err), -1);
    cr_expect_str_eq(err.description, "entity id specified in payload");
    json_decref(b);
    b = J("{}");
    cr_expect_eq(ngsi_attrs_parse(b, NGSI_IN_NORMALIZED, e, &err), -1);
    cr_expect_str_eq(err.description, "empty payload");
    json_decref(b);
    ngsi_entity_free(e);
}

Test(error, descriptions_html_escaped_like_orion)
{
    ngsi_error err = {0};
    ngsi_bad_request(&err, "Bad pagination offset: /<2/ [it's (bad) a=b; \"q\" & more]");
    json_t *j = ngsi_error_json(&err);
    char *s = ngsi_json_dumps(j);
    cr_expect_str_eq(s, "{\"error\":\"BadRequest\",\"description\":\"Bad pagination offset: "
                        "/&lt;2/ [it&#39;s &#40;bad&#41; a&#61;b&#59; &quot;q&quot; & more]\"}");
    free(s);
    json_decref(j);
}

/* A description quoting bytes that are not UTF-8 keeps them, as Orion
 * does, instead of being dropped from the reply. */
Test(error, json_keeps_description_with_raw_bytes)
{
    ngsi_error err = {0};
    ngsi_bad_request(&err, "Bad pagination offset: /%s/ [must be a decimal number]", "\xff");
    json_t *j = ngsi_error_json(&err);
    char *s = ngsi_json_dumps(j);
    cr_expect_str_eq(s, "{\"error\":\"BadRequest\",\"description\":\"Bad pagination offset: "
                        "/\xff/ [must be a decimal number]\"}");
    free(s);
    json_decref(j);
}

Test(parse, name_length_limits)
{
    char id[300];
    memset(id, 'x', sizeof id);
    id[256] = '\0';
    ngsi_error err = {0};
    cr_expect_eq(ngsi_check_name(id, NGSI_F_ENTITY_ID, &err), 0);
    id[256] = 'x';
    id[257] = '\0';
    cr_expect_eq(ngsi_check_name(id, NGSI_F_ENTITY_ID, &err), -1);
    cr_expect_str_eq(err.description, "entity id length: 257, max length supported: 256");
    cr_expect_eq(ngsi_check_name("", NGSI_F_ATTR_NAME, &err), -1);
    cr_expect_str_eq(err.description, "attribute name length: 0, min length supported: 1");
}

Test(parse, deep_compound_refused)
{
    ngsi_buf b = {0};
    ngsi_buf_puts(&b, "{\"id\":\"E\",\"a\":{\"value\":");
    for (int i = 0; i < NGSI_COMPOUND_DEPTH_MAX + 2; i++)
        ngsi_buf_puts(&b, "[");
    for (int i = 0; i < NGSI_COMPOUND_DEPTH_MAX + 2; i++)
        ngsi_buf_puts(&b, "]");
    ngsi_buf_puts(&b, "}}");
    ngsi_error err = {0};
    ngsi_entity *e = parse(b.data, NGSI_IN_NORMALIZED, &err);
    cr_expect_null(e);
    cr_expect_eq(err.status, 400);
    cr_expect_str_eq(err.name, "ParseError");
    cr_expect_str_eq(err.description, "max nesting level of compound value exceeded [max: 64]");
    ngsi_buf_free(&b);
}

Test(parse, text_plain_values)
{
    ngsi_error err = {0};
    const char *in[] = {"true", "False", "NULL", "42", "-1.5 ", "\"hi\""};
    const char *out[] = {"true", "false", "null", "42", "-1.5", "\"hi\""};
    for (size_t i = 0; i < 6; i++) {
        json_t *v = ngsi_value_from_text(in[i], strlen(in[i]), &err);
        cr_assert_not_null(v, "%s", in[i]);
        char *s = ngsi_json_dumps(v);
        cr_expect_str_eq(s, out[i]);
        free(s);
        json_decref(v);
    }
    cr_expect_null(ngsi_value_from_text("hello", 5, &err));
    cr_expect_str_eq(err.description, "attribute value type not recognized");
    cr_expect_null(ngsi_value_from_text("12abc", 5, &err));
    cr_expect_null(ngsi_value_from_text(" ", 1, &err), "blanks are not a number");
    cr_expect_str_eq(err.description, "attribute value type not recognized");
    cr_expect_null(ngsi_value_from_text("\"abc", 4, &err));
    cr_expect_str_eq(err.description, "Missing citation-mark at end of string");
    cr_expect_null(ngsi_value_from_text("\"a=b\"", 5, &err));
    cr_expect_str_eq(err.description, "Invalid characters in attribute value");
    ngsi_error_clear(&err);
    cr_expect_null(ngsi_value_from_text("\"a\xff\"", 4, &err), "not UTF-8");
    cr_expect_eq(err.status, 400, "an error is told, not left empty");
    cr_expect_str_eq(err.description, "Invalid characters in attribute value");
}

Test(validate, forbidden_id_chars)
{
    cr_expect_not(ngsi_has_forbidden_id_char("Room_1-a.b:c"));
    cr_expect_not(ngsi_has_forbidden_id_char("部屋"), "UTF-8 is allowed");
    const char *bad[] = {"a b", "a\tb", "a&b", "a?b", "a/b", "a#b", "a(b", "a=b", "a\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect(ngsi_has_forbidden_id_char(bad[i]), "%s", bad[i]);
}

/* Updates clear metadata on "metadata":{} but keep them when it is absent,
 * so the parse must tell the two apart. */
Test(parse, metadata_given_or_not)
{
    ngsi_error err = {0};
    ngsi_entity *e = parse("{\"id\":\"E\",\"a\":{\"value\":1,\"metadata\":{}},\"b\":{\"value\":2}}",
                           NGSI_IN_NORMALIZED, &err);
    cr_assert_not_null(e, "%s", err.description);
    cr_expect(ngsi_entity_find(e, "a")->md_given);
    cr_expect_eq(ngsi_entity_find(e, "a")->nmd, 0);
    cr_expect_not(ngsi_entity_find(e, "b")->md_given);
    ngsi_entity_free(e);
    e = parse("{\"id\":\"E\",\"a\":{\"metadata\":{}}}", NGSI_IN_KEYVALUES, &err);
    cr_assert_not_null(e, "%s", err.description);
    cr_expect_not(ngsi_entity_find(e, "a")->md_given, "keyValues: a value, not metadata");
    ngsi_entity_free(e);
}

/* Orion takes a lone '"' as both the opening and the closing quote. */
Test(parse, text_plain_lone_quote_is_empty_string)
{
    ngsi_error err = {0};
    json_t *v = ngsi_value_from_text("\"", 1, &err);
    cr_assert_not_null(v, "%s", err.description);
    cr_expect(json_is_string(v));
    cr_expect_str_eq(json_string_value(v), "");
    json_decref(v);
    /* A NUL byte ends the text: only what precedes it is looked at. */
    v = ngsi_value_from_text("\"\0abc", 5, &err);
    cr_assert_not_null(v, "%s", err.description);
    cr_expect_str_eq(json_string_value(v), "");
    json_decref(v);
}

Test(render, attrs_list_orders_and_selects_builtins)
{
    ngsi_error err = {0};
    ngsi_entity *e = parse("{\"id\":\"E\",\"type\":\"T\",\"a\":{\"value\":1},\"b\":{\"value\":2},"
                           "\"c\":{\"value\":3}}",
                           NGSI_IN_NORMALIZED, &err);
    e->cre_date = 1700000000.0;
    e->mod_date = 1700000001.5;
    ngsi_list attrs;
    cr_assert_eq(ngsi_list_parse("c,a,dateModified", "attrs", &attrs, &err), 0);
    ngsi_render_opts o = {.mode = NGSI_KEYVALUES, .attrs = &attrs};
    expect_render(e, &o,
                  "{\"id\":\"E\",\"type\":\"T\",\"c\":3,\"a\":1,"
                  "\"dateModified\":\"2023-11-14T22:13:21.500Z\"}");
    o.mode = NGSI_VALUES;
    expect_render(e, &o, "[3,1,\"2023-11-14T22:13:21.500Z\"]");
    ngsi_list_clear(&attrs);
    cr_assert_eq(ngsi_list_parse("*,dateCreated", "attrs", &attrs, &err), 0);
    o.mode = NGSI_KEYVALUES;
    expect_render(e, &o,
                  "{\"id\":\"E\",\"type\":\"T\",\"a\":1,\"b\":2,\"c\":3,"
                  "\"dateCreated\":\"2023-11-14T22:13:20.000Z\"}");
    ngsi_list_clear(&attrs);
    ngsi_entity_free(e);
}

Test(render, star_keeps_entity_order_and_puts_builtins_last)
{
    ngsi_error err = {0};
    ngsi_entity *e = parse("{\"id\":\"E\",\"type\":\"T\",\"a\":{\"value\":1},\"b\":{\"value\":2}}",
                           NGSI_IN_NORMALIZED, &err);
    e->cre_date = 1700000000.0;
    e->mod_date = 1700000001.5;
    ngsi_list attrs;
    cr_assert_eq(ngsi_list_parse("dateModified,b,*,dateCreated", "attrs", &attrs, &err), 0);
    ngsi_render_opts o = {.mode = NGSI_VALUES, .attrs = &attrs};
    expect_render(e, &o, "[1,2,\"2023-11-14T22:13:20.000Z\",\"2023-11-14T22:13:21.500Z\"]");
    ngsi_list_clear(&attrs);
    ngsi_entity_free(e);
}

Test(render, user_attribute_named_like_a_builtin_wins)
{
    ngsi_error err = {0};
    ngsi_entity *e = parse("{\"id\":\"E\",\"type\":\"T\",\"dateCreated\":{\"value\":\"mine\"}}",
                           NGSI_IN_NORMALIZED, &err);
    e->cre_date = 1700000000.0;
    ngsi_list attrs;
    cr_assert_eq(ngsi_list_parse("dateCreated", "attrs", &attrs, &err), 0);
    ngsi_render_opts o = {.mode = NGSI_KEYVALUES, .attrs = &attrs};
    expect_render(e, &o, "{\"id\":\"E\",\"type\":\"T\",\"dateCreated\":\"mine\"}");
    ngsi_list_clear(&attrs);
    cr_assert_eq(ngsi_list_parse("*,dateCreated", "attrs", &attrs, &err), 0);
    expect_render(e, &o, "{\"id\":\"E\",\"type\":\"T\",\"dateCreated\":\"mine\"}");
    ngsi_list_clear(&attrs);
    o.attrs = NULL;
    expect_render(e, &o, "{\"id\":\"E\",\"type\":\"T\",\"dateCreated\":\"mine\"}");
    ngsi_entity_free(e);
}

Test(render, unique_drops_values_repeated_within_the_entity)
{
    ngsi_error err = {0};
    ngsi_entity *e = parse("{\"id\":\"E\",\"a\":1,\"b\":\"1\",\"c\":1.00000000001,\"d\":[1],"
                           "\"e\":[1],\"f\":\"1\"}",
                           NGSI_IN_KEYVALUES, &err);
    cr_assert_not_null(e);
    ngsi_render_opts o = {.mode = NGSI_UNIQUE};
    expect_render(e, &o, "[1,\"1\",[1]]");
    o.mode = NGSI_VALUES;
    expect_render(e, &o, "[1,\"1\",1,[1],[1],\"1\"]");
    ngsi_entity_free(e);
}

Test(render, metadata_filter_and_builtin_metadata)
{
    ngsi_error err = {0};
    ngsi_entity *e = parse("{\"id\":\"E\",\"type\":\"T\",\"a\":{\"value\":1,\"metadata\":{"
                           "\"m1\":{\"value\":1},\"m2\":{\"value\":2}}}}",
                           NGSI_IN_NORMALIZED, &err);
    e->attrs[0].cre_date = 1700000000.0;
    ngsi_list md;
    cr_assert_eq(ngsi_list_parse("m2,dateCreated", "metadata", &md, &err), 0);
    ngsi_render_opts o = {.mode = NGSI_NORMALIZED, .metadata = &md};
    expect_render(e, &o,
                  "{\"id\":\"E\",\"type\":\"T\",\"a\":{\"type\":\"Number\",\"value\":1,"
                  "\"metadata\":{\"m2\":{\"type\":\"Number\",\"value\":2},\"dateCreated\":{"
                  "\"type\":\"DateTime\",\"value\":\"2023-11-14T22:13:20.000Z\"}}}}");
    ngsi_list_clear(&md);
    ngsi_entity_free(e);
}

Test(render, metadata_filter_gives_the_order)
{
    ngsi_error err = {0};
    ngsi_entity *e = parse("{\"id\":\"E\",\"type\":\"T\",\"a\":{\"value\":1,\"metadata\":{"
                           "\"m1\":{\"value\":1},\"m2\":{\"value\":2}}}}",
                           NGSI_IN_NORMALIZED, &err);
    e->attrs[0].mod_date = 1700000000.0;
    ngsi_list md;
    cr_assert_eq(ngsi_list_parse("m2,m1", "metadata", &md, &err), 0);
    ngsi_render_opts o = {.mode = NGSI_NORMALIZED, .metadata = &md};
    expect_render(e, &o,
                  "{\"id\":\"E\",\"type\":\"T\",\"a\":{\"type\":\"Number\",\"value\":1,"
                  "\"metadata\":{\"m2\":{\"type\":\"Number\",\"value\":2},\"m1\":{"
                  "\"type\":\"Number\",\"value\":1}}}}");
    ngsi_list_clear(&md);
    cr_assert_eq(ngsi_list_parse("dateModified,*", "metadata", &md, &err), 0);
    expect_render(e, &o,
                  "{\"id\":\"E\",\"type\":\"T\",\"a\":{\"type\":\"Number\",\"value\":1,"
                  "\"metadata\":{\"m1\":{\"type\":\"Number\",\"value\":1},\"m2\":{"
                  "\"type\":\"Number\",\"value\":2},\"dateModified\":{\"type\":\"DateTime\","
                  "\"value\":\"2023-11-14T22:13:20.000Z\"}}}}");
    ngsi_list_clear(&md);
    ngsi_entity_free(e);
}

Test(list, empty_items_refused)
{
    ngsi_error err = {0};
    ngsi_list l;
    cr_expect_eq(ngsi_list_parse("a,,b", "attrs", &l, &err), -1);
    cr_expect_eq(ngsi_list_parse("", "attrs", &l, &err), -1);
    cr_expect_eq(ngsi_list_parse("a,b", "attrs", &l, &err), 0);
    cr_expect_eq(l.n, 2);
    cr_expect(ngsi_list_has(&l, "b"));
    ngsi_list_clear(&l);
}

Test(tenancy, service_lowercased_and_checked)
{
    char out[NGSI_SERVICE_MAX + 1];
    ngsi_error err = {0};
    cr_expect_eq(ngsi_service_parse("Town_01", out, &err), 0);
    cr_expect_str_eq(out, "town_01");
    cr_expect_eq(ngsi_service_parse(NULL, out, &err), 0);
    cr_expect_str_eq(out, "");
    cr_expect_eq(ngsi_service_parse("bad-name", out, &err), -1);
    cr_expect_eq(
        ngsi_service_parse("a123456789012345678901234567890123456789012345678901", out, &err), -1);
}

Test(tenancy, service_paths)
{
    ngsi_paths p;
    ngsi_error err = {0};
    cr_assert_eq(ngsi_paths_parse(NULL, false, &p, &err), 0);
    cr_expect_str_eq(p.path[0], "/#");
    ngsi_paths_clear(&p);
    cr_assert_eq(ngsi_paths_parse(NULL, true, &p, &err), 0);
    cr_expect_str_eq(p.path[0], "/");
    ngsi_paths_clear(&p);
    cr_assert_eq(ngsi_paths_parse("/a/b, /c/#", false, &p, &err), 0);
    cr_expect_eq(p.n, 2);
    cr_expect_str_eq(p.path[1], "/c/#");
    ngsi_paths_clear(&p);
    cr_expect_eq(ngsi_paths_parse("a/b", false, &p, &err), -1);
    cr_expect_eq(ngsi_paths_parse("/a/#", true, &p, &err), -1);
    cr_expect_eq(ngsi_paths_parse("/a,/b", true, &p, &err), -1);
    cr_expect_eq(ngsi_paths_parse("/a-b", false, &p, &err), -1);
    cr_expect_eq(ngsi_paths_parse("/1/2/3/4/5/6/7/8/9/10/11", false, &p, &err), -1);
    cr_expect_eq(ngsi_paths_parse("/a,/b,/c,/d,/e,/f,/g,/h,/i,/j,/k", false, &p, &err), -1);
}
