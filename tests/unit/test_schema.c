/*
 * tests/unit/test_schema.c: tsunagi_schema, keyword group by keyword group,
 * with exact violation texts (pointer, keyword, reason), plus the registry
 * API, $ref resolution, load-time errors, result bounds and concurrent use.
 *
 * Schemas and instances are written with single quotes for readability;
 * parse() turns them into double quotes (no test needs a literal ').
 * check() validates in both modes and compares schema_result_describe()
 * with the expected text ("" means valid), so each expectation pins every
 * violation's pointer, keyword and reason and their order.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schemas/schema.h"

#define TEST_URI "https://test.example/schemas/s.json"

static json_t *parse(const char *text)
{
    char *copy = strdup(text);
    for (char *p = copy; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t err;
    json_t *v = json_loads(copy, JSON_DECODE_ANY, &err);
    cr_assert_not_null(v, "bad test JSON %s: %s", copy, err.text);
    free(copy);
    return v;
}

static void add(schema_registry *reg, const char *schema_text, const char *uri)
{
    json_t *doc = parse(schema_text);
    schema_error err;
    cr_assert_eq(schema_registry_add(reg, doc, uri, &err), 0, "%s", err.text);
    json_decref(doc);
}

static schema_registry *compiled(const char *schema_text)
{
    schema_registry *reg = schema_registry_new();
    add(reg, schema_text, TEST_URI);
    schema_error err;
    cr_assert_eq(schema_registry_compile(reg, &err), 0, "%s", err.text);
    return reg;
}

/* Validate `instance` against the schema at `uri` of `reg` in both modes;
 * the description must equal `expected` ("" when valid). */
static void expect_at(const schema_registry *reg, const char *uri, const char *instance,
                      const char *expected)
{
    const schema *s = schema_registry_get(reg, uri);
    cr_assert_not_null(s, "no schema %s", uri);
    json_t *inst = parse(instance);
    schema_result res = SCHEMA_RESULT_INIT;
    int rc = schema_validate(s, inst, &res);
    cr_expect_str_eq(schema_result_describe(&res), expected, "instance %s", instance);
    cr_expect_eq(rc, expected[0] ? 1 : 0, "instance %s", instance);
    cr_expect_eq(schema_validate(s, inst, NULL), rc, "quiet mode disagrees on %s", instance);
    schema_result_free(&res);
    json_decref(inst);
}

static void check(const char *schema_text, const char *instance, const char *expected)
{
    schema_registry *reg = compiled(schema_text);
    expect_at(reg, TEST_URI, instance, expected);
    schema_registry_free(reg);
}

/* Adding or compiling `schema_text` must fail with exactly `expected`. */
static void compile_fails(const char *schema_text, const char *expected)
{
    schema_registry *reg = schema_registry_new();
    json_t *doc = parse(schema_text);
    schema_error err;
    int rc = schema_registry_add(reg, doc, TEST_URI, &err);
    if (rc == 0)
        rc = schema_registry_compile(reg, &err);
    cr_expect_eq(rc, -1, "schema %s compiled", schema_text);
    if (rc == -1)
        cr_expect_str_eq(err.text, expected);
    json_decref(doc);
    schema_registry_free(reg);
}

/* ---- type, enum, const ------------------------------------------------- */

Test(types, single_and_union)
{
    const char *s = "{'type':'string'}";
    check(s, "'x'", "");
    check(s, "1", "(root): type: must be string");
    check("{'type':['integer','null']}", "null", "");
    check("{'type':['integer','null']}", "1.5", "(root): type: must be integer or null");
    check("{'type':['null','array','object']}", "true",
          "(root): type: must be object, array or null");
}

Test(types, integer_means_mathematical_integer)
{
    check("{'type':'integer'}", "1.0", "");
    check("{'type':'integer'}", "-3", "");
    check("{'type':'integer'}", "1.5", "(root): type: must be integer");
    check("{'type':'number'}", "7", "");
    check("{'type':'boolean'}", "0", "(root): type: must be boolean");
}

Test(enum_const, numbers_compare_by_value)
{
    check("{'enum':[1,'a',{'k':[1,2]}]}", "1.0", "");
    check("{'enum':[1,'a',{'k':[1,2]}]}", "{'k':[1.0,2]}", "");
    check("{'enum':[1,'a',{'k':[1,2]}]}", "{'k':[2,1]}",
          "(root): enum: must be one of 1, \"a\", {\"k\":[1,2]}");
    check("{'const':{'a':1,'b':null}}", "{'b':null,'a':1}", "");
    check("{'const':'PointOfInterest'}", "'Store'",
          "(root): const: must be equal to \"PointOfInterest\"");
    check("{'const':false}", "0", "(root): const: must be equal to false");
}

Test(enum_const, long_lists_are_summarised)
{
    char schema_text[2048] = "{'enum':[";
    for (int i = 0; i < 40; i++)
        snprintf(schema_text + strlen(schema_text), 64, "%s'value-%02d'", i ? "," : "", i);
    strcat(schema_text, "]}");
    check(schema_text, "'value-07'", "");
    check(schema_text, "'value-99'", "(root): enum: must be one of the 40 allowed values");
}

/* ---- numbers ----------------------------------------------------------- */

Test(numbers, limits_and_messages)
{
    const char *s = "{'properties':{'temperature':{'minimum':-50,'maximum':60.5}}}";
    check(s, "{'temperature':-50}", "");
    check(s, "{'temperature':60.5}", "");
    check(s, "{'temperature':-50.1}", "/temperature: minimum: must be >= -50");
    check(s, "{'temperature':61}", "/temperature: maximum: must be <= 60.5");
    check("{'exclusiveMinimum':0,'exclusiveMaximum':1}", "0",
          "(root): exclusiveMinimum: must be > 0");
    check("{'exclusiveMinimum':0,'exclusiveMaximum':1}", "1",
          "(root): exclusiveMaximum: must be < 1");
    check("{'exclusiveMinimum':0,'exclusiveMaximum':1}", "0.25", "");
    check("{'minimum':0.1}", "0.09999999999999999", "(root): minimum: must be >= 0.1");
}

Test(numbers, large_integers_are_exact)
{
    /* 2^53 + 1 is not representable as a double; the comparison must not
     * round it down to the limit. */
    check("{'maximum':9007199254740992}", "9007199254740993",
          "(root): maximum: must be <= 9007199254740992");
    check("{'maximum':9007199254740992}", "9007199254740992", "");
    check("{'minimum':-9223372036854775807}", "-9223372036854775808",
          "(root): minimum: must be >= -9223372036854775807");
}

Test(numbers, multiple_of)
{
    check("{'multipleOf':0.01}", "19.99", "");
    check("{'multipleOf':0.01}", "19.995", "(root): multipleOf: must be a multiple of 0.01");
    check("{'multipleOf':3}", "9", "");
    check("{'multipleOf':3}", "10", "(root): multipleOf: must be a multiple of 3");
    check("{'multipleOf':0.5}", "4", "");
    check("{'multipleOf':0.123456789}", "1e308",
          "(root): multipleOf: must be a multiple of 0.123456789");
    check("{'multipleOf':3}", "'nine'", ""); /* numeric keywords ignore non-numbers */
}

/* ---- strings ----------------------------------------------------------- */

Test(strings, length_counts_code_points)
{
    const char *s = "{'minLength':2,'maxLength':3}";
    check(s, "'日本語'", "");
    check(s, "'😀😀'", "");
    check(s, "'a'", "(root): minLength: must be at least 2 characters long");
    check(s, "'なまえです'", "(root): maxLength: must be at most 3 characters long");
}

Test(strings, pattern_is_a_search)
{
    check("{'pattern':'^[a-z]+$'}", "'abc'", "");
    check("{'pattern':'^[a-z]+$'}", "'abC'", "(root): pattern: must match pattern \"^[a-z]+$\"");
    check("{'pattern':'b'}", "'abc'", "");
    check("{'pattern':'^\\\\p{Han}+$'}", "'東京'", "");
}

Test(strings, ecma_flavoured_regexes)
{
    /* \uXXXX escapes */
    check("{'pattern':'^\\\\u00e9$'}", "'é'", "");
    /* "$" only at the very end, not before a final newline */
    check("{'pattern':'^a$'}", "'a\\n'", "(root): pattern: must match pattern \"^a$\"");
    /* "[^]" matches anything, "[]" nothing */
    check("{'pattern':'^[^]$'}", "'\\n'", "");
    check("{'pattern':'[]'}", "'x'", "(root): pattern: must match pattern \"[]\"");
    /* "." stops at line terminators, including U+2028 */
    check("{'pattern':'^.$'}", "'\\r'", "(root): pattern: must match pattern \"^.$\"");
    check("{'pattern':'^.$'}", "'\\u2028'", "(root): pattern: must match pattern \"^.$\"");
    check("{'pattern':'^.$'}", "'😀'", ""); /* one code point, as with the u flag */
    /* \d and \w are ASCII-only, as in ECMA-262 */
    check("{'pattern':'^\\\\d$'}", "'٣'", "(root): pattern: must match pattern \"^\\d$\"");
    check("{'pattern':'^\\\\w$'}", "'é'", "(root): pattern: must match pattern \"^\\w$\"");
    /* a back-reference to a group that did not take part matches "" */
    check("{'pattern':'^(a)?\\\\1b$'}", "'b'", "");
}

Test(strings, catastrophic_backtracking_hits_the_match_limit)
{
    /* Exponential in the input length without a limit; with it, the match
     * gives up quickly and the value is reported, not accepted. */
    check("{'pattern':'^(a|a)*$'}", "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'",
          "(root): pattern: cannot be checked: pattern match limit reached");
}

Test(strings, documented_regex_difference_whitespace)
{
    /* docs/schemas.md: with PCRE2 older than 10.43, \s is ASCII-only, while
     * ECMA-262's \s also matches U+3000 (ideographic space). */
    schema_registry *reg = compiled("{'pattern':'^\\\\s$'}");
    const schema *s = schema_registry_get(reg, TEST_URI);
    json_t *ideographic_space = json_string("\xe3\x80\x80");
#if PCRE2_MAJOR > 10 || (PCRE2_MAJOR == 10 && PCRE2_MINOR >= 43)
    cr_expect_eq(schema_validate(s, ideographic_space, NULL), 0);
#else
    cr_expect_eq(schema_validate(s, ideographic_space, NULL), 1);
#endif
    json_decref(ideographic_space);
    schema_registry_free(reg);
}

/* ---- formats ----------------------------------------------------------- */

static void format_case(const char *format, const char *value, bool valid)
{
    char schema_text[128], expected[128];
    snprintf(schema_text, sizeof schema_text, "{'format':'%s'}", format);
    snprintf(expected, sizeof expected, "(root): format: must be a valid %s", format);
    json_t *v = json_string(value);
    char *instance = json_dumps(v, JSON_ENCODE_ANY);
    check(schema_text, instance, valid ? "" : expected);
    free(instance);
    json_decref(v);
}

Test(formats, date_time_date_time)
{
    format_case("date-time", "2025-04-01T09:30:00+09:00", true);
    format_case("date-time", "2024-02-29T00:00:00.123456Z", true);
    format_case("date-time", "2023-02-29T00:00:00Z", false);
    format_case("date-time", "2025-04-01 09:30:00+09:00", false);
    format_case("date-time", "2025-04-01T09:30:00", false);
    format_case("date-time", "2016-12-31T23:59:60Z", true);
    format_case("date-time", "2017-01-01T08:59:60+09:00", true);
    format_case("date-time", "2016-12-31T22:59:60Z", false);
    format_case("date-time", "2025-04-01T24:00:00Z", false);
    format_case("date", "2000-02-29", true);
    format_case("date", "1900-02-29", false);
    format_case("date", "2025-4-01", false);
    format_case("time", "08:30:06.283185Z", true);
    format_case("time", "08:30:06", false);
    format_case("time", "08:30:06+25:00", false);
}

Test(formats, email)
{
    format_case("email", "taro.yamada@example.jp", true);
    format_case("email", "\"taro yamada\"@example.jp", true);
    format_case("email", "user+tag@[192.168.0.1]", true);
    format_case("email", "a..b@example.jp", false);
    format_case("email", ".a@example.jp", false);
    format_case("email", "a@-example.jp", false);
    format_case("email", "no-at-sign", false);
    format_case("email", "a@b@example.jp", false);
}

Test(formats, uri_and_uri_reference)
{
    format_case("uri", "https://tsunagi.example/schemas/Store.json#/definitions/x", true);
    format_case("uri", "urn:ngsi-ld:PointOfInterest:001", true);
    format_case("uri", "http://[2001:db8::1]:8080/path?q=1", true);
    format_case("uri", "http://example.jp/%E6%9D%B1", true);
    format_case("uri", "http://example.jp/東京", false);
    format_case("uri", "http://example.jp/%zz", false);
    format_case("uri", "//example.jp/x", false);
    format_case("uri", "http://example.jp:80a/", false);
    format_case("uri-reference", "//example.jp/x", true);
    format_case("uri-reference", "../a/b?c#d", true);
    format_case("uri-reference", "", true);
    format_case("uri-reference", "a:b:c/d", true);
    format_case("uri-reference", "a b", false);
}

Test(formats, ip_addresses)
{
    format_case("ipv4", "192.168.0.1", true);
    format_case("ipv4", "192.168.000.001", false);
    format_case("ipv4", "1.2.3", false);
    format_case("ipv6", "2001:db8::8a2e:370:7334", true);
    format_case("ipv6", "::ffff:192.0.2.128", true);
    format_case("ipv6", "2001:db8::1::1", false);
    format_case("ipv6", "fe80::1%eth0", false);
}

Test(formats, unknown_formats_and_non_strings_are_not_checked)
{
    check("{'format':'hostname'}", "'-not a hostname-'", "");
    check("{'format':'date'}", "20250401", "");
}

/* ---- objects ----------------------------------------------------------- */

Test(objects, required_and_properties)
{
    const char *s = "{'type':'object','required':['id','type','name'],"
                    "'properties':{'name':{'type':'string'},'age':{'minimum':0}}}";
    check(s, "{'id':'a','type':'T','name':'n','age':3}", "");
    check(s, "{'id':'a','name':7,'age':-1}",
          "(root): required: missing required property \"type\"; /name: type: must be string; "
          "/age: minimum: must be >= 0");
}

Test(objects, additional_and_pattern_properties)
{
    const char *s = "{'properties':{'id':true},'patternProperties':{'^x-':{'type':'string'}},"
                    "'additionalProperties':false}";
    check(s, "{'id':1,'x-note':'ok'}", "");
    check(s, "{'id':1,'x-note':2,'extra':true}",
          "/x-note: type: must be string; /extra: additionalProperties: property is not allowed");
    check("{'additionalProperties':{'type':'number'}}", "{'a':1,'b':'2'}",
          "/b: type: must be number");
}

Test(objects, pointers_escape_tilde_and_slash)
{
    check("{'additionalProperties':{'type':'string'}}", "{'a/b':1,'m~n':2,'東京':3}",
          "/a~1b: type: must be string; /m~0n: type: must be string; /東京: type: must be string");
}

Test(objects, property_names_and_counts)
{
    const char *s = "{'propertyNames':{'maxLength':3},'minProperties':1,'maxProperties':2}";
    check(s, "{'abc':1}", "");
    check(s, "{}", "(root): minProperties: must have at least 1 properties");
    check(s, "{'a':1,'b':2,'long':3}",
          "(root): maxProperties: must have at most 2 properties; "
          "(root): propertyNames: property name \"long\" is not allowed");
}

Test(objects, dependencies_forms)
{
    const char *s = "{'dependencies':{'refStore':['dateObserved'],"
                    "'price':{'required':['currency']}}}";
    check(s, "{'refStore':'s','dateObserved':'d'}", "");
    check(s, "{'refStore':'s','price':3}",
          "(root): dependencies: property \"refStore\" requires property \"dateObserved\"; "
          "(root): required: missing required property \"currency\"");
    check("{'$schema':'https://json-schema.org/draft/2020-12/schema',"
          "'dependentRequired':{'a':['b']},'dependentSchemas':{'c':false}}",
          "{'a':1,'c':2}",
          "(root): dependentRequired: property \"a\" requires property \"b\"; "
          "(root): dependentSchemas: property \"c\" is not allowed");
}

/* ---- arrays ------------------------------------------------------------ */

Test(arrays, items_forms)
{
    check("{'items':{'type':'integer'}}", "[1,2,'x',4.5]",
          "/2: type: must be integer; /3: type: must be integer");
    const char *tuple = "{'items':[{'type':'number'},{'type':'number'}],'additionalItems':false}";
    check(tuple, "[139.7, 35.6]", "");
    check(tuple, "[139.7, '35.6', 0]",
          "/1: type: must be number; /2: additionalItems: item is not allowed");
    check("{'$schema':'https://json-schema.org/draft/2020-12/schema',"
          "'prefixItems':[{'const':'a'}],'items':{'type':'integer'}}",
          "['b', 1, 'c']", "/0: const: must be equal to \"a\"; /2: type: must be integer");
}

Test(arrays, counts_contains_unique)
{
    const char *s = "{'minItems':1,'maxItems':3,'contains':{'const':'x'},'uniqueItems':true}";
    check(s, "['a','x']", "");
    check(s, "[]",
          "(root): minItems: must have at least 1 items; "
          "(root): contains: must contain at least one matching item");
    check(s, "['x',1,{'a':1},1.0]",
          "(root): maxItems: must have at most 3 items; "
          "(root): uniqueItems: must not contain duplicates (items 1 and 3 are equal)");
}

Test(arrays, unique_items_on_large_arrays)
{
    json_t *arr = json_array();
    for (int i = 0; i < 200; i++)
        json_array_append_new(arr, json_integer(i));
    schema_registry *reg = compiled("{'uniqueItems':true}");
    const schema *s = schema_registry_get(reg, TEST_URI);
    cr_expect_eq(schema_validate(s, arr, NULL), 0);
    json_array_set_new(arr, 150, json_real(40.0)); /* equal to item 40 */
    json_array_set_new(arr, 170, parse("{'b':[1],'a':2}"));
    json_array_set_new(arr, 120, parse("{'a':2,'b':[1.0]}"));
    schema_result res = SCHEMA_RESULT_INIT;
    cr_expect_eq(schema_validate(s, arr, &res), 1);
    cr_expect_str_eq(
        schema_result_describe(&res),
        "(root): uniqueItems: must not contain duplicates (items 40 and 150 are equal)");
    schema_result_free(&res);
    json_decref(arr);
    schema_registry_free(reg);
}

/* ---- applicators ------------------------------------------------------- */

Test(applicators, all_of_reports_every_branch)
{
    check("{'allOf':[{'type':'object','required':['a']},{'properties':{'b':{'maxLength':1}}}]}",
          "{'b':'xyz'}",
          "(root): required: missing required property \"a\"; "
          "/b: maxLength: must be at most 1 characters long");
}

Test(applicators, any_of_one_of_not_are_summarised)
{
    check("{'anyOf':[{'type':'string'},{'type':'integer','minimum':0}]}", "-1",
          "(root): anyOf: must match at least one of the 2 schemas");
    check("{'anyOf':[{'type':'string'},{'type':'integer','minimum':0}]}", "3", "");
    const char *one = "{'oneOf':[{'type':'integer'},{'minimum':2},{'const':'z'}]}";
    check(one, "1", "");
    check(one, "3", "(root): oneOf: must match exactly one of the 3 schemas, but matched 0 and 1");
    check(one, "1.5", "(root): oneOf: must match exactly one of the 3 schemas, but matched none");
    check("{'properties':{'x':{'not':{'type':'null'}}}}", "{'x':null}",
          "/x: not: must not match the schema in \"not\"");
}

Test(applicators, if_then_else)
{
    const char *s = "{'if':{'properties':{'code':{'const':'8310-5'}}},"
                    "'then':{'properties':{'value':{'minimum':25,'maximum':45}}},"
                    "'else':{'required':['unit']}}";
    check(s, "{'code':'8310-5','value':36.5}", "");
    check(s, "{'code':'8310-5','value':99}", "/value: maximum: must be <= 45");
    check(s, "{'code':'8867-4','value':99}",
          "(root): required: missing required property \"unit\"");
    check("{'then':false}", "1", ""); /* then without if is ignored */
}

Test(applicators, boolean_schemas)
{
    check("true", "{'anything':[1]}", "");
    check("false", "1", "(root): false: no value is allowed here");
    check("{'properties':{'gone':false}}", "{'gone':1}",
          "/gone: properties: property is not allowed");
    check("{'items':false}", "[]", "");
    check("{'items':false}", "[1]", "/0: items: item is not allowed");
}

/* ---- $ref -------------------------------------------------------------- */

Test(refs, local_pointers_with_escapes)
{
    const char *s = "{'definitions':{'a/b':{'type':'integer'},'t~n':{'type':'string'},"
                    "'p%':{'type':'boolean'}},"
                    "'$defs':{'pos':{'minimum':0}},"
                    "'properties':{'x':{'$ref':'#/definitions/a~1b'},"
                    "'y':{'$ref':'#/definitions/t~0n'},'z':{'$ref':'#/definitions/p%25'},"
                    "'w':{'$ref':'#/$defs/pos'},'v':{'$ref':'#/properties/w'}}}";
    check(s, "{'x':1,'y':'s','z':true,'w':0,'v':1}", "");
    check(s, "{'x':'1','y':1,'z':0,'w':-1,'v':-2}",
          "/x: type: must be integer; /y: type: must be string; /z: type: must be boolean; "
          "/w: minimum: must be >= 0; /v: minimum: must be >= 0");
}

Test(refs, draft7_ref_overrides_siblings_2020_does_not)
{
    check("{'definitions':{'s':{'type':'string'}},'$ref':'#/definitions/s','maxLength':1}",
          "'long'", "");
    check("{'$schema':'https://json-schema.org/draft/2020-12/schema',"
          "'$defs':{'s':{'type':'string'}},'$ref':'#/$defs/s','maxLength':1}",
          "'long'", "(root): maxLength: must be at most 1 characters long");
}

Test(refs, ids_in_subschemas_change_the_base)
{
    schema_registry *reg = schema_registry_new();
    add(reg, "{'$id':'https://tsunagi.example/schemas/folder/item.json','type':'integer'}", NULL);
    add(reg,
        "{'$id':'https://tsunagi.example/schemas/root.json',"
        "'properties':{"
        "'a':{'$ref':'folder/item.json'},"
        "'b':{'$id':'folder/','items':{'$ref':'item.json'}},"
        "'c':{'$ref':'#named'},"
        "'d':{'$ref':'https://tsunagi.example/schemas/root.json#/definitions/d'}},"
        "'definitions':{'n':{'$id':'#named','type':'null'},'d':{'$anchor':'dee','const':1}}}",
        NULL);
    schema_error err;
    cr_assert_eq(schema_registry_compile(reg, &err), 0, "%s", err.text);
    const char *root = "https://tsunagi.example/schemas/root.json";
    expect_at(reg, root, "{'a':1,'b':[2],'c':null,'d':1}", "");
    expect_at(reg, root, "{'a':'1','b':['2'],'c':0,'d':2}",
              "/a: type: must be integer; /b/0: type: must be integer; /c: type: must be null; "
              "/d: const: must be equal to 1");
    expect_at(reg, "https://tsunagi.example/schemas/root.json#dee", "1", "");
    expect_at(reg, "https://tsunagi.example/schemas/root.json#/definitions/d", "2",
              "(root): const: must be equal to 1");
    expect_at(reg, "https://tsunagi.example/schemas/folder/", "['x']", "/0: type: must be integer");
    cr_expect_null(schema_registry_get(reg, "https://tsunagi.example/schemas/root.json#nope"));
    cr_expect_null(schema_registry_get(reg, "https://tsunagi.example/schemas/other.json"));
    schema_registry_free(reg);
}

Test(refs, recursive_schemas_work)
{
    const char *tree = "{'type':'object','required':['v'],"
                       "'properties':{'v':{'type':'integer'},'kids':{'items':{'$ref':'#'}}}}";
    check(tree, "{'v':1,'kids':[{'v':2,'kids':[{'v':3}]},{'v':4}]}", "");
    check(tree, "{'v':1,'kids':[{'v':2,'kids':[{'v':'3'}]},{}]}",
          "/kids/0/kids/0/v: type: must be integer; "
          "/kids/1: required: missing required property \"v\"");
}

Test(refs, never_the_network_and_unknown_refs_fail_at_compile)
{
    compile_fails("{'$ref':'https://example.com/remote.json'}",
                  "https://test.example/schemas/s.json#/$ref: cannot resolve "
                  "\"https://example.com/remote.json\": no schema with that id in the registry");
    compile_fails("{'properties':{'a':{'$ref':'#/definitions/missing'}}}",
                  "https://test.example/schemas/s.json#/properties/a/$ref: cannot resolve "
                  "\"https://test.example/schemas/s.json#/definitions/missing\": nothing at that "
                  "location in the schema");
    compile_fails("{'$ref':'#/definitions/x~2'}",
                  "https://test.example/schemas/s.json#/$ref: cannot resolve "
                  "\"https://test.example/schemas/s.json#/definitions/x~2\": nothing at that "
                  "location in the schema");
}

Test(refs, loops_that_never_consume_the_instance_are_rejected)
{
    compile_fails("{'$ref':'#'}", "\"$ref\" \"https://test.example/schemas/s.json#\" forms a "
                                  "cycle that never consumes the instance");
    compile_fails("{'definitions':{'a':{'anyOf':[{'type':'string'},{'$ref':'#/definitions/b'}]},"
                  "'b':{'allOf':[{'$ref':'#/definitions/a'}]}}}",
                  "\"$ref\" \"https://test.example/schemas/s.json#/definitions/a\" forms a cycle "
                  "that never consumes the instance");
}

Test(refs, conditional_loops_stop_at_the_depth_limit)
{
    /* Only reachable through "then", so compile accepts it; validation must
     * end with a violation, not a stack overflow. */
    check("{'if':true,'then':{'$ref':'#'}}", "1",
          "(root): depth: schema or instance nested deeper than 256 levels");
}

Test(refs, deep_instances_stop_at_the_depth_limit)
{
    json_t *deep = json_array();
    for (int i = 0; i < 1000; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, deep);
        deep = outer;
    }
    schema_registry *reg = compiled("{'items':{'$ref':'#'}}");
    schema_result res = SCHEMA_RESULT_INIT;
    cr_expect_eq(schema_validate(schema_registry_get(reg, TEST_URI), deep, &res), 1);
    cr_expect_eq(res.count, 1);
    cr_expect_str_eq(res.items[0].keyword, "depth");
    schema_result_free(&res);
    json_decref(deep);
    schema_registry_free(reg);
}

/* ---- load-time errors -------------------------------------------------- */

Test(load_errors, bad_keyword_values_name_their_location)
{
    compile_fails("{'properties':{'a':{'minimum':'5'}}}",
                  "https://test.example/schemas/s.json#/properties/a/minimum: must be a number");
    compile_fails("{'items':[{'maxLength':-1}]}",
                  "https://test.example/schemas/s.json#/items/0/maxLength: must be a non-negative "
                  "integer");
    compile_fails("{'type':'text'}", "https://test.example/schemas/s.json#/type: must be a type "
                                     "name or an array of type names");
    compile_fails("{'multipleOf':0}",
                  "https://test.example/schemas/s.json#/multipleOf: must be greater than 0");
    compile_fails(
        "{'allOf':[]}",
        "https://test.example/schemas/s.json#/allOf: must be a non-empty array of schemas");
    compile_fails(
        "{'properties':{'a':3}}",
        "https://test.example/schemas/s.json#/properties/a: a schema must be an object or "
        "a boolean");
    compile_fails("{'pattern':'(unclosed'}",
                  "https://test.example/schemas/s.json#/pattern: invalid pattern at offset 9: "
                  "missing closing parenthesis");
    compile_fails("{'patternProperties':{'[':{}}}",
                  "https://test.example/schemas/s.json#/patternProperties/[: invalid pattern at "
                  "offset 1: missing terminating ] for character class");
    compile_fails("{'unevaluatedProperties':false}",
                  "https://test.example/schemas/s.json#/unevaluatedProperties: keyword not "
                  "supported by Tsunagi's validator");
    compile_fails("{'$schema':'https://json-schema.org/draft/2020-12/schema','minContains':2}",
                  "https://test.example/schemas/s.json#/minContains: keyword not supported by "
                  "Tsunagi's validator");
}

Test(load_errors, ids)
{
    schema_registry *reg = schema_registry_new();
    json_t *no_id = parse("{'type':'string'}");
    schema_error err;
    cr_expect_eq(schema_registry_add(reg, no_id, NULL, &err), -1);
    cr_expect_str_eq(err.text, "schema has no absolute \"$id\" and no URI was given for it");
    add(reg, "{'$id':'https://tsunagi.example/schemas/a.json'}", NULL);
    json_t *dup = parse("{'$id':'https://tsunagi.example/schemas/a.json#'}");
    cr_expect_eq(schema_registry_add(reg, dup, NULL, &err), -1);
    cr_expect_str_eq(err.text, "duplicate schema id \"https://tsunagi.example/schemas/a.json\"");
    cr_expect_eq(schema_registry_compile(reg, &err), -1, "a failed registry must not compile");
    json_decref(no_id);
    json_decref(dup);
    schema_registry_free(reg);
}

/* ---- the registry API -------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static char *temp_dir(void)
{
    char *dir = strdup("/tmp/tsunagi-schema-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

static void remove_dir(const char *dir, const char *const *names, size_t n)
{
    char path[512];
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

Test(registry, load_dir_compile_get)
{
    char *dir = temp_dir();
    const char *names[] = {"b.json", "a.json", "notes.txt", "sub"};
    char path[512];
    snprintf(path, sizeof path, "%s/b.json", dir);
    write_file(path, "{\"$id\":\"https://tsunagi.example/schemas/b.json\","
                     "\"properties\":{\"a\":{\"$ref\":\"a.json\"}}}");
    snprintf(path, sizeof path, "%s/a.json", dir);
    write_file(path, "{\"$id\":\"https://tsunagi.example/schemas/a.json\",\"type\":\"integer\"}");
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    write_file(path, "not a schema");
    snprintf(path, sizeof path, "%s/sub", dir);
    mkdir(path, 0700);

    schema_registry *reg = schema_registry_new();
    schema_error err;
    cr_assert_eq(schema_registry_load_dir(reg, dir, &err), 2, "%s", err.text);
    cr_expect_eq(schema_registry_size(reg), 2);
    cr_expect_str_eq(schema_registry_id(reg, 0), "https://tsunagi.example/schemas/a.json");
    cr_expect_str_eq(schema_registry_id(reg, 1), "https://tsunagi.example/schemas/b.json");
    cr_expect_null(schema_registry_id(reg, 2));
    cr_expect_null(schema_registry_get(reg, "https://tsunagi.example/schemas/b.json"),
                   "nothing is usable before compile");
    cr_assert_eq(schema_registry_compile(reg, &err), 0, "%s", err.text);
    expect_at(reg, "https://tsunagi.example/schemas/b.json", "{'a':'x'}",
              "/a: type: must be integer");
    expect_at(reg, "https://tsunagi.example/schemas/b.json#", "{'a':1}", "");
    json_t *late = parse("{'$id':'https://tsunagi.example/schemas/c.json'}");
    cr_expect_eq(schema_registry_add(reg, late, NULL, &err), -1);
    cr_expect_str_eq(err.text, "registry already compiled: schemas can no longer be added");
    json_decref(late);
    schema_registry_free(reg);
    remove_dir(dir, names, 4);
    free(dir);
}

Test(registry, load_dir_errors_name_the_file)
{
    char *dir = temp_dir();
    const char *names[] = {"bad.json", "noid.json"};
    char path[512], expected[768];
    snprintf(path, sizeof path, "%s/bad.json", dir);
    write_file(path, "{\"type\": \"string\",\n \"type\": \"integer\"}");
    schema_registry *reg = schema_registry_new();
    schema_error err;
    cr_expect_eq(schema_registry_load_dir(reg, dir, &err), -1);
    snprintf(expected, sizeof expected, "%s:2:7: duplicate object key near '\"type\"'", path);
    cr_expect_str_eq(err.text, expected);
    schema_registry_free(reg);

    unlink(path);
    snprintf(path, sizeof path, "%s/noid.json", dir);
    write_file(path, "{\"type\": \"string\"}");
    reg = schema_registry_new();
    cr_expect_eq(schema_registry_load_dir(reg, dir, &err), -1);
    snprintf(expected, sizeof expected,
             "%s: schema has no absolute \"$id\" and no URI was given for it", path);
    cr_expect_str_eq(err.text, expected);
    schema_registry_free(reg);

    reg = schema_registry_new();
    cr_expect_eq(schema_registry_load_dir(reg, "/nonexistent/tsunagi", &err), -1);
    cr_expect_str_eq(err.text, "/nonexistent/tsunagi: cannot open directory");
    schema_registry_free(reg);
    remove_dir(dir, names, 2);
    free(dir);
}

Test(registry, keeps_its_own_copy_of_documents)
{
    schema_registry *reg = schema_registry_new();
    json_t *doc = parse("{'enum':['a','b']}");
    schema_error err;
    cr_assert_eq(schema_registry_add(reg, doc, TEST_URI, &err), 0);
    json_array_clear(json_object_get(doc, "enum"));
    json_decref(doc);
    cr_assert_eq(schema_registry_compile(reg, &err), 0, "%s", err.text);
    expect_at(reg, TEST_URI, "'a'", "");
    schema_registry_free(reg);
}

/* ---- results ----------------------------------------------------------- */

Test(results, violations_carry_pointer_keyword_reason)
{
    schema_registry *reg = compiled("{'properties':{'temperature':{'minimum':-50}}}");
    json_t *inst = parse("{'temperature':-51}");
    schema_result res = SCHEMA_RESULT_INIT;
    cr_assert_eq(schema_validate(schema_registry_get(reg, TEST_URI), inst, &res), 1);
    cr_assert_eq(res.count, 1);
    cr_expect_str_eq(res.items[0].instance_path, "/temperature");
    cr_expect_str_eq(res.items[0].keyword, "minimum");
    cr_expect_str_eq(res.items[0].reason, "must be >= -50");
    /* Reusing the result replaces its content. */
    json_object_set_new(inst, "temperature", json_integer(0));
    cr_expect_eq(schema_validate(schema_registry_get(reg, TEST_URI), inst, &res), 0);
    cr_expect_eq(res.count, 0);
    cr_expect_str_eq(schema_result_describe(&res), "");
    schema_result_free(&res);
    json_decref(inst);
    schema_registry_free(reg);
}

Test(results, bounded_collection_and_description)
{
    json_t *arr = json_array();
    for (int i = 0; i < 100; i++)
        json_array_append_new(arr, json_string("x"));
    schema_registry *reg = compiled("{'items':{'type':'integer'}}");
    schema_result res = SCHEMA_RESULT_INIT;
    cr_assert_eq(schema_validate(schema_registry_get(reg, TEST_URI), arr, &res), 1);
    cr_expect_eq(res.count, SCHEMA_RESULT_MAX_VIOLATIONS);
    cr_expect_eq(res.dropped, 100 - SCHEMA_RESULT_MAX_VIOLATIONS);
    const char *d = schema_result_describe(&res);
    cr_expect_lt(strlen(d), SCHEMA_DESCRIPTION_MAX);
    cr_expect(strncmp(d, "/0: type: must be integer; /1: type: must be integer; ", 52) == 0, "%s",
              d);
    const char *more = strstr(d, " (and ");
    cr_assert_not_null(more, "%s", d);
    int shown = 0;
    for (const char *p = d; (p = strstr(p, "type: must be integer")); p++)
        shown++;
    char tail[32];
    snprintf(tail, sizeof tail, " (and %d more)", 100 - shown);
    cr_expect_str_eq(more, tail);
    schema_result_free(&res);
    json_decref(arr);
    schema_registry_free(reg);
}

Test(results, description_never_splits_utf8)
{
    /* One violation longer than the whole budget: cut, on a character
     * boundary, with "..." appended. */
    char name[1200] = "";
    for (int i = 0; i < 300; i++)
        strcat(name, "東");
    json_t *obj = json_object();
    json_object_set_new(obj, name, json_integer(1));
    schema_registry *reg = compiled("{'additionalProperties':false}");
    schema_result res = SCHEMA_RESULT_INIT;
    cr_assert_eq(schema_validate(schema_registry_get(reg, TEST_URI), obj, &res), 1);
    const char *d = schema_result_describe(&res);
    size_t len = strlen(d);
    cr_expect_lt(len, SCHEMA_DESCRIPTION_MAX);
    cr_expect_str_eq(d + len - 3, "...");
    json_t *as_json = json_string(d); /* NULL if not valid UTF-8 */
    cr_expect_not_null(as_json, "description is not valid UTF-8");
    json_decref(as_json);
    schema_result_free(&res);
    json_decref(obj);
    schema_registry_free(reg);
}

/* ---- concurrency ------------------------------------------------------- */

#define THREADS 4
#define ROUNDS  2000

typedef struct worker {
    const schema *s;
    const json_t *good, *bad;
    const char *expected;
    int mismatches;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < ROUNDS; i++) {
        schema_result res = SCHEMA_RESULT_INIT;
        if (schema_validate(w->s, w->good, &res) != 0)
            w->mismatches++;
        if (schema_validate(w->s, w->bad, &res) != 1 ||
            strcmp(schema_result_describe(&res), w->expected) != 0)
            w->mismatches++;
        schema_result_free(&res);
    }
    return NULL;
}

Test(concurrency, one_compiled_schema_many_threads)
{
    schema_registry *reg =
        compiled("{'properties':{'id':{'pattern':'^urn:[a-z]+:'},'n':{'maximum':5}},"
                 "'patternProperties':{'^x-':{'type':'string'}}}");
    json_t *good = parse("{'id':'urn:poi:1','n':1,'x-a':'s'}");
    json_t *bad = parse("{'id':'poi:1','n':6,'x-a':1}");
    const char *expected = "/id: pattern: must match pattern \"^urn:[a-z]+:\"; "
                           "/n: maximum: must be <= 5; /x-a: type: must be string";
    pthread_t threads[THREADS];
    worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (worker){schema_registry_get(reg, TEST_URI), good, bad, expected, 0};
        cr_assert_eq(pthread_create(&threads[i], NULL, work, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        cr_expect_eq(workers[i].mismatches, 0, "thread %d saw wrong results", i);
    }
    json_decref(good);
    json_decref(bad);
    schema_registry_free(reg);
}
