/*
 * tests/unit/test_adapter_util.c: helpers of the shipped adapters: CSV
 * records, Shift_JIS and UTF-8 decoding, dates, ids and text clean-up.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "util.h"

/* All records of text, each as "f1|f2|...". */
static void expect_records(const char *text, const char *const *want, size_t n)
{
    csv_reader r;
    csv_record rec = {0};
    size_t i = 0;
    csv_init(&r, text, strlen(text));
    int rc;
    while ((rc = csv_next(&r, &rec)) == 1) {
        char joined[512] = "";
        for (size_t k = 0; k < rec.n; k++) {
            if (k)
                strcat(joined, "|");
            strcat(joined, rec.field[k]);
        }
        cr_assert_lt(i, n, "extra record %s", joined);
        cr_expect_str_eq(joined, want[i]);
        i++;
    }
    cr_expect_eq(rc, 0);
    cr_expect_eq(i, n);
    csv_record_free(&rec);
}

Test(csv, quoting_line_ends_and_empty_fields)
{
    const char *const want[] = {"a|b|c", "1,5|say \"hi\"|", "line\r\nbreak||x", "|", "last"};
    expect_records("a,b,c\r\n\"1,5\",\"say \"\"hi\"\"\",\r\n\"line\r\nbreak\",,x\n,\r\n\r\nlast",
                   want, 5);
}

Test(csv, japanese_fields)
{
    const char *const want[] = {"名称|住所", "上川の滝|長野県つなぎ町、大字上川"};
    expect_records("名称,住所\r\n上川の滝,\"長野県つなぎ町、大字上川\"\r\n", want, 2);
}

Test(csv, an_unclosed_quote_is_an_error)
{
    csv_reader r;
    csv_record rec = {0};
    const char *text = "a,b\n\"open,c\n";
    csv_init(&r, text, strlen(text));
    cr_expect_eq(csv_next(&r, &rec), 1);
    cr_expect_eq(csv_next(&r, &rec), -1);
    csv_record_free(&rec);
}

Test(decode, shift_jis_utf8_and_bom)
{
    /* "観光①" in CP932: 8a cf 8c f5 87 40 (① is an NEC extension). */
    const char sjis[] = "\x8a\xcf\x8c\xf5\x87\x40";
    char msg[128] = "";
    size_t n;
    char *s = text_decode(sjis, sizeof sjis - 1, "auto", &n, msg, sizeof msg);
    cr_assert_not_null(s, "%s", msg);
    cr_expect_str_eq(s, "観光①");
    cr_expect_eq(n, strlen("観光①"));
    free(s);
    s = text_decode("\xef\xbb\xbf観光", strlen("\xef\xbb\xbf観光"), "auto", &n, msg, sizeof msg);
    cr_expect_str_eq(s, "観光", "the BOM is dropped");
    free(s);
    s = text_decode("観光", strlen("観光"), "auto", &n, msg, sizeof msg);
    cr_expect_str_eq(s, "観光");
    free(s);
    cr_expect_null(text_decode(sjis, sizeof sjis - 1, "UTF-8", &n, msg, sizeof msg));
    cr_expect_str_eq(msg, "not valid UTF-8");
    cr_expect_null(text_decode("x", 1, "EUC-JP", &n, msg, sizeof msg));
    cr_expect_str_eq(msg, "unknown encoding EUC-JP (auto, UTF-8 or Shift_JIS)");
    cr_expect_null(text_decode("\x8a", 1, "Shift_JIS", &n, msg, sizeof msg), "half a character");
}

Test(decode, utf8_validation)
{
    cr_expect(text_is_utf8("つなぎ", strlen("つなぎ")));
    cr_expect_not(text_is_utf8("\xc0\x80", 2), "overlong");
    cr_expect_not(text_is_utf8("\xe3\x81", 2), "cut short");
    cr_expect_not(text_is_utf8("\x8a\xcf", 2), "Shift_JIS");
}

Test(util, instants)
{
    double t;
    cr_assert_eq(util_parse_instant("2024-05-01T09:00:00+09:00", &t), 0);
    cr_expect_eq(t, 1714521600);
    cr_assert_eq(util_parse_instant("2024-05-01T00:00:00.250Z", &t), 0);
    cr_expect_eq(t, 1714521600.25);
    cr_assert_eq(util_parse_instant("2024-05-01", &t), 0);
    cr_expect_eq(t, 1714521600);
    cr_assert_eq(util_parse_instant("2024-05-01T00:00-0130", &t), 0);
    cr_expect_eq(t, 1714521600 + 5400);
    cr_expect_eq(util_parse_instant("2024-13-01", &t), -1);
    cr_expect_eq(util_parse_instant("yesterday", &t), -1);
    cr_expect_eq(util_parse_instant("2024-05-01T09:00:00+9", &t), -1);
    cr_expect(util_is_date("2024-05-01"));
    cr_expect_not(util_is_date("2024-05-01T00:00Z"));
}

Test(util, numbers_in_text)
{
    double x;
    cr_assert(util_parse_number("125400", &x));
    cr_expect_eq(x, 125400);
    cr_assert(util_parse_number("-3.5e2", &x));
    cr_expect_eq(x, -350);
    cr_expect_not(util_parse_number("", &x));
    cr_expect_not(util_parse_number("12 yen", &x));
    cr_expect_not(util_parse_number("inf", &x), "no JSON number is infinite");
    cr_expect_not(util_parse_number("nan", &x));
    cr_expect_not(util_parse_number("1e999", &x), "overflow");
}

Test(util, ids_and_text)
{
    cr_expect(util_id_safe("urn:ngsi-ld:Store:S-101"));
    cr_expect_not(util_id_safe("a b"));
    cr_expect_not(util_id_safe("a/b"));
    cr_expect_not(util_id_safe("上川"));
    cr_expect_not(util_id_safe(""));
    char *s = util_clean_text("駐車場(無料); \"a\"=<b>'");
    cr_expect_str_eq(s, "駐車場（無料）； ＂a＂＝＜b＞＇");
    cr_expect_not(util_has_forbidden(s));
    free(s);
    cr_expect(util_has_forbidden("x=y"));
    json_t *t = util_text("(有)つなぎ");
    cr_expect_str_eq(json_string_value(t), "（有）つなぎ");
    json_decref(t);
    cr_expect_null(util_text(""));
    cr_expect_null(util_text(NULL));
    char d1[17], d2[17];
    util_digest("abc", 3, d1);
    util_digest("abd", 3, d2);
    cr_expect_eq(strlen(d1), 16);
    cr_expect_str_neq(d1, d2);
}

Test(util, entity_ids_that_do_not_fit)
{
    char id[ADAPTER_ID_MAX + 1], part[ADAPTER_ID_MAX + 1];
    memset(part, 'x', ADAPTER_ID_MAX - 2);
    part[ADAPTER_ID_MAX - 2] = '\0';
    cr_expect(util_format_id(id, "a:%s", part), "exactly ADAPTER_ID_MAX");
    cr_expect_eq(strlen(id), ADAPTER_ID_MAX);
    cr_expect_not(util_format_id(id, "ab:%s", part), "one byte too long");
}
