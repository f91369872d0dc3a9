/*
 * tests/unit/test_adapter_host.c: the adapter host's configuration, state
 * store, backoff and Link header parsing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_private.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    cr_assert_not_null(v, "bad test JSON: %s (%s)", text, e.text);
    return v;
}

/* Parse text; returns the rc and leaves msg. */
static int parse(const char *text, host_conf *c, char *msg, size_t n)
{
    return host_conf_parse(J(text), "/etc/tsunagi", c, msg, n);
}

#define MINIMAL "\"broker\":{\"url\":\"http://127.0.0.1:1026\"},\"stateDir\":\"/var/lib/t\""

Test(config, minimal_config_gets_the_defaults)
{
    host_conf c;
    char msg[256] = "";
    int rc = parse("{" MINIMAL ",\"adapters\":[{\"name\":\"clinic-a\",\"plugin\":\"fhir.so\"}]}",
                   &c, msg, sizeof msg);
    cr_assert_eq(rc, 0, "%s", msg);
    cr_expect_eq(c.n, 1);
    const adapter_conf *a = host_conf_find(&c, "clinic-a");
    cr_assert_not_null(a);
    cr_expect_str_eq(a->plugin, "/etc/tsunagi/fhir.so",
                     "relative plugins are found next to the config");
    cr_expect_str_eq(a->service, "");
    cr_expect_str_eq(a->subservice, "/");
    cr_expect(a->enabled);
    cr_expect_eq(a->interval_s, 0);
    cr_expect(json_is_object(a->options) && json_object_size(a->options) == 0);
    cr_expect_eq(a->http.timeout_ms, 30000);
    cr_expect_eq(a->http.retries, 2);
    cr_expect_eq(c.batch_size, 100);
    cr_expect_eq(c.status_port, 1028);
    cr_expect_str_eq(c.status_bind, "127.0.0.1");
    cr_expect_null(c.token_file);
    cr_expect_str_eq(c.owner_attr, "ownerId");
    cr_expect_not(c.owner_list);
    cr_expect_null(host_conf_find(&c, "other"));
    host_conf_free(&c);
}

Test(config, adapter_settings_override_the_top_level_ones)
{
    host_conf c;
    char msg[256] = "";
    int rc =
        parse("{" MINIMAL ",\"http\":{\"timeout\":5,\"retries\":4},\"retry\":{\"initial\":2,"
              "\"max\":8},\"adapters\":[{\"name\":\"a\",\"plugin\":\"/x/a.so\",\"service\":"
              "\"town1\",\"subservice\":\"/health\",\"interval\":60,\"http\":{\"retries\":0},"
              "\"options\":{\"k\":1}},{\"name\":\"b\",\"plugin\":\"b.so\",\"enabled\":false}]}",
              &c, msg, sizeof msg);
    cr_assert_eq(rc, 0, "%s", msg);
    const adapter_conf *a = &c.adapters[0], *b = &c.adapters[1];
    cr_expect_str_eq(a->plugin, "/x/a.so");
    cr_expect_str_eq(a->service, "town1");
    cr_expect_str_eq(a->subservice, "/health");
    cr_expect_eq(a->interval_s, 60);
    cr_expect_eq(a->http.timeout_ms, 5000);
    cr_expect_eq(a->http.retries, 0);
    cr_expect_eq(b->http.retries, 4);
    cr_expect_eq(a->retry.initial_s, 2);
    cr_expect_eq(a->retry.max_s, 8);
    cr_expect_eq(json_integer_value(json_object_get(a->options, "k")), 1);
    cr_expect_not(b->enabled);
    host_conf_free(&c);
}

static void expect_refused(const char *text, const char *want)
{
    host_conf c;
    char msg[256] = "";
    cr_expect_eq(parse(text, &c, msg, sizeof msg), -1, "accepted: %s", text);
    cr_expect_str_eq(msg, want);
}

Test(config, mistakes_are_named)
{
    expect_refused("[]", "the configuration must be a JSON object");
    expect_refused("{\"adapters\":[]}", "broker: required, an object with at least \"url\"");
    expect_refused("{" MINIMAL ",\"adapter\":[]}", "config: unknown key \"adapter\"");
    expect_refused("{" MINIMAL "}", "adapters: required, a list");
    expect_refused("{\"broker\":{\"url\":\"u\"},\"adapters\":[]}",
                   "stateDir: required (where adapters keep their cursors)");
    expect_refused("{" MINIMAL ",\"adapters\":[{\"name\":\"a b\",\"plugin\":\"x.so\"}]}",
                   "adapters[0].name: required, 1 to 64 letters, digits, - or _");
    expect_refused("{" MINIMAL ",\"adapters\":[{\"name\":\"a\"}]}",
                   "adapters[a].plugin: required (path of the adapter's .so)");
    expect_refused("{" MINIMAL
                   ",\"adapters\":[{\"name\":\"a\",\"plugin\":\"x.so\",\"intervall\":5}]}",
                   "adapters[0]: unknown key \"intervall\"");
    expect_refused("{" MINIMAL
                   ",\"adapters\":[{\"name\":\"a\",\"plugin\":\"x.so\",\"interval\":0}]}",
                   "adapters[0].interval: must be a number of seconds >= 0.01");
    expect_refused("{" MINIMAL ",\"adapters\":[{\"name\":\"a\",\"plugin\":\"x.so\",\"subservice\":"
                   "\"health\"}]}",
                   "adapters[a].subservice: Only /absolute/ Service Paths allowed [a service path "
                   "must begin with /]");
    expect_refused("{" MINIMAL
                   ",\"adapters\":[{\"name\":\"a\",\"plugin\":\"x.so\"},{\"name\":\"a\","
                   "\"plugin\":\"y.so\"}]}",
                   "adapters: the name a is used twice");
    expect_refused("{" MINIMAL ",\"retry\":{\"initial\":5,\"max\":1},\"adapters\":[{\"name\":\"a\","
                   "\"plugin\":\"x.so\"}]}",
                   "retry: max is below initial");
    expect_refused(
        "{\"broker\":{\"url\":\"u\",\"batchSize\":0},\"stateDir\":\"s\",\"adapters\":[]}",
        "broker.batchSize: must be an integer from 1 to 1000");
}

/* Timeouts become int milliseconds: a huge one would overflow. */
Test(config, seconds_have_an_upper_bound)
{
    expect_refused(
        "{\"broker\":{\"url\":\"u\",\"timeout\":3e6},\"stateDir\":\"s\",\"adapters\":[]}",
        "broker.timeout: must be at most 2000000 seconds");
    expect_refused("{" MINIMAL ",\"http\":{\"timeout\":1e300},\"adapters\":[{\"name\":\"a\","
                   "\"plugin\":\"x.so\"}]}",
                   "http.timeout: must be at most 2000000 seconds");
    expect_refused("{" MINIMAL ",\"restart\":{\"max\":1e10},\"adapters\":[]}",
                   "restart.max: must be at most 2000000 seconds");
    expect_refused("{" MINIMAL
                   ",\"adapters\":[{\"name\":\"a\",\"plugin\":\"x.so\",\"interval\":1e9}]}",
                   "adapters[0].interval: must be at most 31622400 seconds");
    host_conf c;
    char msg[256] = "";
    cr_assert_eq(parse("{" MINIMAL ",\"http\":{\"timeout\":2000000},\"adapters\":[{\"name\":"
                       "\"a\",\"plugin\":\"x.so\"}]}",
                       &c, msg, sizeof msg),
                 0, "%s", msg);
    cr_expect_eq(c.adapters[0].http.timeout_ms, 2000000000, "the bound itself");
    host_conf_free(&c);
}

Test(backoff, doubles_up_to_the_cap)
{
    host_backoff b = {0.5, 3};
    cr_expect_eq(host_backoff_delay(&b, 1), 0.5);
    cr_expect_eq(host_backoff_delay(&b, 2), 1);
    cr_expect_eq(host_backoff_delay(&b, 3), 2);
    cr_expect_eq(host_backoff_delay(&b, 4), 3);
    cr_expect_eq(host_backoff_delay(&b, 1000), 3);
}

Test(http, link_header_next)
{
    char *n = host_link_next("<https://a.example/p?page=1>; rel=\"prev\", "
                             "<https://a.example/p?page=3>; rel=\"next\"");
    cr_expect_str_eq(n, "https://a.example/p?page=3");
    free(n);
    n = host_link_next("<https://a.example/x>; rel=next");
    cr_expect_str_eq(n, "https://a.example/x");
    free(n);
    cr_expect_null(host_link_next("<https://a.example/p?page=1>; rel=\"prev\""));
    cr_expect_null(host_link_next("garbage"));
}

/* ------------------------------------------------------------ state */

static char *temp_dir(void)
{
    char tmpl[] = "/tmp/tsunagi-state-XXXXXX";
    char *d = mkdtemp(tmpl);
    cr_assert_not_null(d);
    return strdup(d);
}

static void remove_dir(char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
    free(dir);
}

Test(state, saved_only_on_commit_and_read_back)
{
    char *dir = temp_dir(), msg[256] = "";
    host_state s;
    cr_assert_eq(host_state_open(&s, dir, "clinic-a", msg, sizeof msg), 0, "%s", msg);
    cr_expect_null(host_state_get(&s, "since"));
    host_state_set(&s, "since", "2024-05-01T00:00:00Z");
    host_state_set(&s, "page", "3");
    cr_expect_str_eq(host_state_get(&s, "since"), "2024-05-01T00:00:00Z", "pending reads back");
    host_state_discard(&s);
    cr_expect_null(host_state_get(&s, "since"), "a failed run's state is dropped");
    host_state_set(&s, "since", "2024-05-02T00:00:00Z");
    host_state_set(&s, "page", "4");
    cr_assert_eq(host_state_commit(&s, msg, sizeof msg), 0, "%s", msg);
    host_state_set(&s, "page", NULL);
    cr_expect_null(host_state_get(&s, "page"), "removed in this run");
    cr_assert_eq(host_state_commit(&s, msg, sizeof msg), 0, "%s", msg);
    host_state_close(&s);

    cr_assert_eq(host_state_open(&s, dir, "clinic-a", msg, sizeof msg), 0, "%s", msg);
    cr_expect_str_eq(host_state_get(&s, "since"), "2024-05-02T00:00:00Z", "survives a restart");
    cr_expect_null(host_state_get(&s, "page"));
    host_state_close(&s);
    char path[300];
    snprintf(path, sizeof path, "%s/clinic-a.json.tmp", dir);
    cr_expect_neq(access(path, F_OK), 0, "no temporary file is left behind");
    remove_dir(dir);
}

Test(state, a_corrupt_file_is_refused_not_reset)
{
    char *dir = temp_dir(), msg[256] = "", path[300];
    host_state s;
    snprintf(path, sizeof path, "%s/x.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"version\":1,\"state\":{\"since\":", f);
    fclose(f);
    cr_expect_eq(host_state_open(&s, dir, "x", msg, sizeof msg), -1);
    cr_expect(strstr(msg, "state file") != NULL, "%s", msg);
    f = fopen(path, "w");
    fputs("{\"version\":2,\"state\":{}}", f);
    fclose(f);
    cr_expect_eq(host_state_open(&s, dir, "x", msg, sizeof msg), -1);
    cr_expect(strstr(msg, "not a version 1 state file") != NULL, "%s", msg);
    remove_dir(dir);
}

/* ------------------------------------------------------------ status */

Test(status, reports_accumulate_into_the_table)
{
    host_conf c;
    char msg[256] = "";
    cr_assert_eq(parse("{" MINIMAL ",\"adapters\":[{\"name\":\"a\",\"plugin\":\"a.so\"},{\"name\":"
                       "\"b\",\"plugin\":\"b.so\",\"enabled\":false}]}",
                       &c, msg, sizeof msg),
                 0, "%s", msg);
    host_status_table *t = host_status_new(&c);
    host_status_report(t, 0, "{\"event\":\"ready\",\"interval\":60}");
    host_status_report(t, 0, "{\"event\":\"run-start\",\"at\":1714521600}");
    host_status_report(t, 0,
                       "{\"event\":\"run\",\"started\":1714521600,\"finished\":1714521602.5,"
                       "\"ok\":false,\"written\":3,\"skipped\":1,\"error\":\"upstream 500\","
                       "\"nextRun\":1714521632.5,\"backoff\":30,\"counters\":{\"x\":1}}");
    host_status_report(t, 0,
                       "{\"event\":\"run\",\"started\":1714521633,\"finished\":1714521634,"
                       "\"ok\":true,\"written\":5,\"skipped\":0,\"error\":null,"
                       "\"nextRun\":1714521693,\"backoff\":null,\"counters\":{\"x\":2}}");
    host_status_report(t, 0, "not json");
    json_t *all = host_status_json(t);
    json_t *a = json_array_get(json_object_get(all, "adapters"), 0);
    json_t *b = json_array_get(json_object_get(all, "adapters"), 1);
    char *text = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
    cr_expect_str_eq(
        text, "{\"backoff\":null,\"counters\":{\"x\":2},\"entitiesWritten\":8,\"failures\":1,"
              "\"failuresInRow\":0,\"interval\":60.0,\"lastDuration\":1.0,\"lastError\":"
              "\"upstream 500\",\"lastErrorAt\":\"2024-05-01T00:00:02.500Z\",\"lastRun\":"
              "\"2024-05-01T00:00:33.000Z\",\"lastRunSkipped\":0,\"lastRunWritten\":5,"
              "\"lastSuccess\":\"2024-05-01T00:00:33.000Z\",\"name\":\"a\",\"nextRun\":"
              "\"2024-05-01T00:01:33.000Z\",\"pid\":null,\"plugin\":\"/etc/tsunagi/a.so\","
              "\"recordsSkipped\":1,\"restarts\":0,\"runs\":2,\"service\":\"\",\"state\":"
              "\"idle\",\"subservice\":\"/\"}");
    cr_expect_str_eq(json_string_value(json_object_get(b, "state")), "disabled");
    free(text);
    json_decref(all);
    host_status_free(t);
    host_conf_free(&c);
}
