/*
 * tests/unit/test_loadgen.c: the testable parts of tsunagi-loadgen (request
 * templates, random numbers, percentiles, --expect status lists and /proc
 * parsing), from bench/loadgen_private.h.
 */
#include "bench/loadgen_private.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Expands text for counter i with a fixed seed; the caller frees the result. */
static char *expand(const char *text, uint64_t i)
{
    lg_error err = {{0}};
    lg_rng rng;
    lg_rng_seed(&rng, 42);
    lg_template *t = lg_template_compile(text, &err);
    cr_assert_not_null(t, "compile '%s': %s", text, err.text);
    lg_buf out = {0};
    cr_assert_eq(lg_template_expand(t, i, &rng, &out, &err), 0, "%s", err.text);
    lg_template_free(t);
    return out.data;
}

static void assert_expands(const char *text, uint64_t i, const char *want)
{
    char *got = expand(text, i);
    cr_assert_str_eq(got, want, "'%s' with i=%llu", text, (unsigned long long)i);
    free(got);
}

static void assert_compile_fails(const char *text, const char *why)
{
    lg_error err = {{0}};
    lg_template *t = lg_template_compile(text, &err);
    cr_assert_null(t, "'%s' should not compile", text);
    cr_assert(strstr(err.text, why), "'%s': error '%s' should mention '%s'", text, err.text, why);
}

Test(template, literal_text_is_copied)
{
    assert_expands("http://127.0.0.1:1026/version", 7, "http://127.0.0.1:1026/version");
    assert_expands("", 7, "");
}

Test(template, counter)
{
    assert_expands("/v2/entities/bench-c-{i}", 0, "/v2/entities/bench-c-0");
    assert_expands("/v2/entities/bench-c-{i}", 18446744073709551615ULL,
                   "/v2/entities/bench-c-18446744073709551615");
    assert_expands("{i}-{i}", 12, "12-12");
}

Test(template, counter_modulo)
{
    assert_expands("/v2/entities/bench-{i%1000}?type=BenchRoom", 1234,
                   "/v2/entities/bench-234?type=BenchRoom");
    assert_expands("bench-{i%1000}", 999, "bench-999");
    assert_expands("bench-{i%1000}", 1000, "bench-0");
    assert_expands("{i%1}", 55, "0");
}

Test(template, json_braces_stay_literal)
{
    assert_expands("{\"id\":\"bench-c-{i}\",\"type\":\"BenchRoom\",\"t\":{\"value\":21.5}}", 3,
                   "{\"id\":\"bench-c-3\",\"type\":\"BenchRoom\",\"t\":{\"value\":21.5}}");
    assert_expands("{ii} {i {x} {rand} {}", 1, "{ii} {i {x} {rand} {}");
}

Test(template, random_is_in_range_and_seeded)
{
    lg_error err = {{0}};
    lg_template *t = lg_template_compile("{rand:7}", &err);
    cr_assert_not_null(t);
    lg_rng a, b;
    lg_rng_seed(&a, 9);
    lg_rng_seed(&b, 9);
    bool seen[7] = {false};
    for (int k = 0; k < 1000; k++) {
        lg_buf x = {0}, y = {0};
        cr_assert_eq(lg_template_expand(t, 0, &a, &x, &err), 0);
        cr_assert_eq(lg_template_expand(t, 0, &b, &y, &err), 0);
        cr_assert_str_eq(x.data, y.data, "same seed, same sequence");
        long v = strtol(x.data, NULL, 10);
        cr_assert(v >= 0 && v < 7, "got %ld", v);
        seen[v] = true;
        lg_buf_free(&x);
        lg_buf_free(&y);
    }
    for (int v = 0; v < 7; v++)
        cr_assert(seen[v], "value %d never drawn in 1000 tries", v);
    lg_template_free(t);
}

Test(template, constant_or_not)
{
    lg_error err = {{0}};
    lg_template *c = lg_template_compile("{\"value\":22}", &err);
    lg_template *v = lg_template_compile("x{i%3}", &err);
    cr_assert(lg_template_is_constant(c));
    cr_assert_not(lg_template_is_constant(v));
    lg_template_free(c);
    lg_template_free(v);
}

Test(template, expansion_appends)
{
    lg_error err = {{0}};
    lg_rng rng;
    lg_rng_seed(&rng, 1);
    lg_template *t = lg_template_compile("<{i}>", &err);
    lg_buf out = {0};
    for (uint64_t i = 0; i < 200; i++)
        cr_assert_eq(lg_template_expand(t, i, &rng, &out, &err), 0);
    cr_assert(strncmp(out.data, "<0><1><2>", 9) == 0);
    cr_assert(strstr(out.data, "<198><199>") != NULL);
    cr_assert_eq(strlen(out.data), out.len, "length tracks the text across regrowth");
    lg_buf_clear(&out);
    cr_assert_eq(lg_template_expand(t, 5, &rng, &out, &err), 0);
    cr_assert_str_eq(out.data, "<5>");
    lg_buf_free(&out);
    lg_template_free(t);
}

Test(template, malformed_placeholders_are_errors)
{
    assert_compile_fails("/x/{i%0}", "> 0");
    assert_compile_fails("/x/{rand:0}", "> 0");
    assert_compile_fails("/x/{i%}", "decimal number");
    assert_compile_fails("/x/{i%12", "decimal number");
    assert_compile_fails("/x/{rand:abc}", "decimal number");
    assert_compile_fails("/x/{i%99999999999999999999999}", "too large");
    assert_compile_fails("ok {i} then {i%-3}", "offset 12");
}

Test(rng, below_one_is_zero_and_zero_seed_works)
{
    lg_rng r;
    lg_rng_seed(&r, 0);
    cr_assert_neq(lg_rng_next(&r), 0, "a zero seed must not stall xorshift");
    for (int k = 0; k < 100; k++)
        cr_assert_eq(lg_rng_below(&r, 1), 0);
}

/* ---- percentiles -------------------------------------------------------- */

static void fill(lg_latencies *l, const uint64_t *v, size_t n)
{
    lg_error err;
    for (size_t k = 0; k < n; k++)
        cr_assert_eq(lg_latencies_add(l, v[k], &err), 0);
    lg_latencies_sort(l);
}

Test(percentile, one_to_hundred_in_any_order)
{
    uint64_t v[100];
    for (int k = 0; k < 100; k++)
        v[k] = (uint64_t)((k * 37) % 100 + 1); /* 1..100 shuffled */
    lg_latencies l = {0};
    fill(&l, v, 100);
    cr_assert_eq(lg_latencies_percentile(&l, 0), 1);
    cr_assert_eq(lg_latencies_percentile(&l, 50), 50);
    cr_assert_eq(lg_latencies_percentile(&l, 90), 90);
    cr_assert_eq(lg_latencies_percentile(&l, 99), 99);
    cr_assert_eq(lg_latencies_percentile(&l, 99.5), 100);
    cr_assert_eq(lg_latencies_percentile(&l, 100), 100);
    lg_latencies_free(&l);
}

Test(percentile, nearest_rank_on_small_sets)
{
    uint64_t three[] = {30, 10, 20};
    lg_latencies l = {0};
    fill(&l, three, 3);
    cr_assert_eq(lg_latencies_percentile(&l, 33.3), 10, "rank ceil(0.999) = 1");
    cr_assert_eq(lg_latencies_percentile(&l, 34), 20, "rank ceil(1.02) = 2");
    cr_assert_eq(lg_latencies_percentile(&l, 50), 20);
    cr_assert_eq(lg_latencies_percentile(&l, 67), 30);
    lg_latencies_free(&l);

    uint64_t one[] = {7};
    fill(&l, one, 1);
    cr_assert_eq(lg_latencies_percentile(&l, 0), 7);
    cr_assert_eq(lg_latencies_percentile(&l, 99), 7);
    lg_latencies_free(&l);
}

Test(percentile, empty_set_is_zero)
{
    lg_latencies l = {0};
    lg_latencies_sort(&l);
    cr_assert_eq(lg_latencies_percentile(&l, 50), 0);
    cr_assert_eq(lg_latencies_percentile(&l, 100), 0);
}

Test(percentile, large_set_tail)
{
    lg_latencies l = {0};
    lg_error err;
    /* 100 000 values 0..99 999 added in reverse, crossing several regrowths. */
    for (uint64_t k = 100000; k-- > 0;)
        cr_assert_eq(lg_latencies_add(&l, k, &err), 0);
    lg_latencies_sort(&l);
    cr_assert_eq(l.len, 100000);
    cr_assert_eq(lg_latencies_percentile(&l, 50), 49999);
    cr_assert_eq(lg_latencies_percentile(&l, 99), 98999);
    cr_assert_eq(lg_latencies_percentile(&l, 99.9), 99899);
    cr_assert_eq(lg_latencies_percentile(&l, 100), 99999);
    lg_latencies_free(&l);
}

/* ---- status sets -------------------------------------------------------- */

Test(status_set, lists)
{
    lg_status_set s;
    lg_error err;
    cr_assert_eq(lg_status_set_parse("201", &s, &err), 0);
    cr_assert(lg_status_set_has(&s, 201));
    cr_assert_not(lg_status_set_has(&s, 204));
    cr_assert_eq(lg_status_set_parse("201,204", &s, &err), 0);
    cr_assert(lg_status_set_has(&s, 201) && lg_status_set_has(&s, 204));
    cr_assert_not(lg_status_set_has(&s, 200));
    cr_assert_not(lg_status_set_has(&s, 0), "transport failures are never expected");
    cr_assert_not(lg_status_set_has(&s, 1000));
}

Test(status_set, bad_lists)
{
    const char *bad[] = {"", "20x", "99", "600", "201,", ",201", "201;204", "abc"};
    lg_status_set s;
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        lg_error err = {{0}};
        cr_assert_eq(lg_status_set_parse(bad[k], &s, &err), -1, "'%s' should fail", bad[k]);
        cr_assert(strstr(err.text, "status list"), "%s", err.text);
    }
}

/* ---- /proc -------------------------------------------------------------- */

Test(proc, stat_line_with_awkward_command_name)
{
    /* A command name holding spaces and ')' ; tpgid is -1 as for daemons. */
    const char *stat = "4242 (tsu (nagi) x) S 1 4242 4242 0 -1 4194560 1538 0 0 0 "
                       "1234 567 0 0 20 0 3 0 12345 123456789 2000 18446744073709551615\n";
    uint64_t ticks = 0;
    lg_error err = {{0}};
    cr_assert_eq(lg_proc_parse_stat_ticks(stat, &ticks, &err), 0, "%s", err.text);
    cr_assert_eq(ticks, 1234 + 567);
}

Test(proc, bad_stat_lines)
{
    uint64_t ticks;
    lg_error err = {{0}};
    cr_assert_eq(lg_proc_parse_stat_ticks("4242 tsunagi S 1 2 3", &ticks, &err), -1);
    cr_assert(strstr(err.text, "')'"), "%s", err.text);
    cr_assert_eq(
        lg_proc_parse_stat_ticks("4242 (tsunagi) S 1 4242 4242 0 -1 0 0 0 0", &ticks, &err), -1);
    cr_assert(strstr(err.text, "fields"), "%s", err.text);
    cr_assert_eq(lg_proc_parse_stat_ticks("1 (t) S 1 1 1 0 -1 0 0 0 0 0 x 5 0 0", &ticks, &err),
                 -1);
    cr_assert(strstr(err.text, "numbers"), "%s", err.text);
}

static const char status_sample[] = "Name:\ttsunagi\n"
                                    "VmPeak:\t  123456 kB\n"
                                    "VmHWMX:\t       1 kB\n"
                                    "VmHWM:\t   45678 kB\n"
                                    "VmRSS:\t   40000 kB\n"
                                    "Threads:\t4\n";

Test(proc, status_values)
{
    uint64_t kb = 0;
    lg_error err = {{0}};
    cr_assert_eq(lg_proc_parse_status_kb(status_sample, "VmHWM", &kb, &err), 0, "%s", err.text);
    cr_assert_eq(kb, 45678, "the key must match up to the colon, not VmHWMX");
    cr_assert_eq(lg_proc_parse_status_kb(status_sample, "VmRSS", &kb, &err), 0);
    cr_assert_eq(kb, 40000);
    cr_assert_eq(lg_proc_parse_status_kb(status_sample, "VmSwap", &kb, &err), -1);
    cr_assert(strstr(err.text, "no VmSwap line"), "%s", err.text);
    cr_assert_eq(lg_proc_parse_status_kb(status_sample, "Threads", &kb, &err), -1);
    cr_assert(strstr(err.text, "kB"), "%s", err.text);
}

Test(proc, this_process)
{
    uint64_t ticks, hwm, rss;
    lg_error err = {{0}};
    cr_assert_eq(lg_proc_cpu_ticks(getpid(), &ticks, &err), 0, "%s", err.text);
    /* RSS first: the peak read afterwards covers it even if RSS grew in between. */
    cr_assert_eq(lg_proc_status_kb(getpid(), "VmRSS", &rss, &err), 0, "%s", err.text);
    cr_assert_eq(lg_proc_status_kb(getpid(), "VmHWM", &hwm, &err), 0, "%s", err.text);
    cr_assert(rss > 0);
    cr_assert_geq(hwm, rss, "the peak is never below an earlier RSS");
}

Test(proc, missing_process)
{
    uint64_t ticks;
    lg_error err = {{0}};
    /* Above the kernel's pid_max ceiling (4 194 304), so no process has it. */
    cr_assert_eq(lg_proc_cpu_ticks(2000000000, &ticks, &err), -1);
    cr_assert(strstr(err.text, "/proc/2000000000/stat"), "%s", err.text);
}
