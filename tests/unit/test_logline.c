/*
 * tests/unit/test_logline.c: ngsi_log_line, the log record shared by the
 * broker and the adapter host.
 */
#include "ngsi.h"

#include <criterion/criterion.h>
#include <regex.h>
#include <stdarg.h>
#include <string.h>

static size_t fmt_line(char *line, size_t cap, const char *prefix, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = ngsi_log_line(line, cap, "WARN", prefix, fmt, ap);
    va_end(ap);
    return n;
}

Test(logline, orion_shape_with_prefix)
{
    char line[512];
    size_t n = fmt_line(line, sizeof line, "comp=adapters | ", "poll %s took %d ms", "fhir", 12);
    line[n] = '\0';
    regex_t re;
    cr_assert_eq(regcomp(&re,
                         "^time=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
                         "\\| lvl=WARN \\| comp=adapters \\| poll fhir took 12 ms\n$",
                         REG_EXTENDED),
                 0);
    cr_expect_eq(regexec(&re, line, 0, NULL, 0), 0, "got: %s", line);
    regfree(&re);
}

Test(logline, newlines_in_the_message_stay_on_one_line)
{
    char line[512];
    size_t n = fmt_line(line, sizeof line, NULL, "bad\r\nvalue\n%s", "x\ny");
    cr_assert_eq(line[n - 1], '\n');
    cr_expect_null(memchr(line, '\n', n - 1), "a newline before the end");
    cr_expect_null(memchr(line, '\r', n));
    line[n - 1] = '\0';
    cr_expect_str_eq(strstr(line, "bad"), "bad  value x y");
}

Test(logline, a_long_message_is_cut_and_still_ends_the_line)
{
    char big[1000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char line[100];
    size_t n = fmt_line(line, sizeof line, NULL, "%s", big);
    cr_expect_eq(n, sizeof line - 1);
    cr_expect_eq(line[n - 1], '\n');
    cr_expect_eq(line[n - 2], 'a');
}
