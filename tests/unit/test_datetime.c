/*
 * tests/unit/test_datetime.c: ISO 8601 parsing and Orion's rendering.
 */
#include <criterion/criterion.h>

#include "ngsi.h"

static double parse_ok(const char *s)
{
    double t;
    cr_assert_eq(ngsi_datetime_parse(s, &t), 0, "%s should parse", s);
    return t;
}

static void expect_render(const char *in, const char *want)
{
    char out[NGSI_DATETIME_MAX];
    ngsi_datetime_format(parse_ok(in), out);
    cr_expect_str_eq(out, want, "%s rendered %s", in, out);
}

Test(datetime, forms_orion_accepts)
{
    expect_render("2024-03-01", "2024-03-01T00:00:00.000Z");
    expect_render("2024-03-01T10", "2024-03-01T10:00:00.000Z");
    expect_render("2024-03-01T10:20", "2024-03-01T10:20:00.000Z");
    expect_render("2024-03-01T10:20:30", "2024-03-01T10:20:30.000Z");
    expect_render("2024-03-01T10:20:30.5Z", "2024-03-01T10:20:30.500Z");
    expect_render("2024-03-01T10:20:30.123456Z", "2024-03-01T10:20:30.123Z");
    expect_render("2024-03-01T1020", "2024-03-01T10:20:00.000Z");
    expect_render("2024-03-01T102030.25+01", "2024-03-01T09:20:30.250Z");
}

Test(datetime, zones_shift_to_utc)
{
    expect_render("2024-03-01T09:00:00+09:00", "2024-03-01T00:00:00.000Z");
    expect_render("2024-03-01T09:00:00+0900", "2024-03-01T00:00:00.000Z");
    expect_render("2024-03-01T00:00:00-05", "2024-03-01T05:00:00.000Z");
}

Test(datetime, epoch_values)
{
    cr_expect_float_eq(parse_ok("1970-01-01T00:00:00Z"), 0.0, 1e-9);
    cr_expect_float_eq(parse_ok("2017-06-17T07:21:24.238Z"), 1497684084.238, 1e-6);
    expect_render("1969-12-31T23:59:59.500Z", "1969-12-31T23:59:59.500Z");
}

Test(datetime, invalid_dates_refused)
{
    const char *bad[] = {"",
                         "2024",
                         "2024-13-01",
                         "2024-02-30",
                         "2023-02-29",
                         "2024-01-01T",
                         "2024-01-01T25:00",
                         "2024-01-01T10:61",
                         "yesterday",
                         "2024-01-01X",
                         "2024-01-01T10:00:00.",
                         "2024-01-01T10:00+25",
                         "2024-01-01T10:2030",
                         "2024-01-01Z"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double t;
        cr_expect_eq(ngsi_datetime_parse(bad[i], &t), -1, "'%s' should be refused", bad[i]);
    }
}

Test(datetime, leap_day_accepted)
{
    expect_render("2024-02-29T12:00:00Z", "2024-02-29T12:00:00.000Z");
}
