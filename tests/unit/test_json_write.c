/*
 * tests/unit/test_json_write.c: Orion-compatible number and JSON output.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "ngsi.h"

static void expect_number(double v, const char *want)
{
    char out[NGSI_NUMBER_MAX];
    ngsi_number_format(v, out);
    cr_expect_str_eq(out, want, "%.17g printed as %s, want %s", v, out, want);
}

Test(number, integral_values_print_as_integers)
{
    expect_number(2.0, "2");
    expect_number(-17.0, "-17");
    expect_number(0.0, "0");
    expect_number(-0.0, "0");
    expect_number(1e15, "1000000000000000");
}

Test(number, within_1e9_of_an_integer_rounds_to_it)
{
    expect_number(7.9999999996, "8");
    expect_number(8.0000000004, "8");
    expect_number(-2.0000000009, "-2");
}

Test(number, fractions_keep_up_to_nine_decimals_trimmed)
{
    expect_number(3.3, "3.3");
    expect_number(0.000000001 + 0.5, "0.500000001");
    expect_number(21.75, "21.75");
    expect_number(-0.125, "-0.125");
    expect_number(1.0 / 3.0, "0.333333333");
}

Test(number, beyond_int64_uses_17_significant_digits)
{
    expect_number(1e19, "1e+19");
    expect_number(-3.5e20, "-3.5e+20");
    expect_number(1.2345678901234567e30, "1.2345678901234567e+30");
}

static void expect_json(const char *in, const char *want)
{
    json_error_t e;
    json_t *v = json_loads(in, JSON_DECODE_INT_AS_REAL | JSON_DECODE_ANY, &e);
    cr_assert_not_null(v, "bad test input %s", in);
    char *out = ngsi_json_dumps(v);
    cr_expect_str_eq(out, want);
    free(out);
    json_decref(v);
}

Test(json, compact_with_insertion_order)
{
    expect_json("{ \"id\" : \"R1\", \"type\": \"Room\", \"a\": [1, 2.50, true, null] }",
                "{\"id\":\"R1\",\"type\":\"Room\",\"a\":[1,2.5,true,null]}");
}

Test(json, utf8_raw_and_slash_unescaped)
{
    expect_json("\"\\u3064\\u306a\\u304e / http://x\"", "\"つなぎ / http://x\"");
}

Test(json, control_characters_escaped)
{
    expect_json("\"a\\\"b\\\\c\\nd\\te\\u0001\"", "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
}

Test(json, empty_containers)
{
    expect_json("{\"a\":{},\"b\":[]}", "{\"a\":{},\"b\":[]}");
}
