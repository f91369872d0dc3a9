/*
 * bench/loadgen.c: tsunagi-loadgen, the HTTP load generator behind bench/run.
 *
 * Design decisions:
 * - One thread, the libcurl multi interface, N easy handles. Each handle runs
 *   one request at a time and is re-added as soon as it finishes (closed loop),
 *   so N is both the concurrency and the number of keep-alive connections:
 *   CURLMOPT_MAX_HOST_CONNECTIONS and CURLMOPT_MAXCONNECTS are N, and the run
 *   reports how many connections were actually opened so reuse can be checked.
 * - HTTP/1.1 only, TCP_NODELAY on, "Expect: 100-continue" suppressed: the
 *   broker is reached directly, and a 100-continue round trip would measure
 *   curl rather than the server.
 * - A request belongs to the phase in which it was *started*. Warm-up requests
 *   are never counted. The measured window runs from the end of the warm-up to
 *   the completion of the last measured request; with --duration no request is
 *   started after the duration, and those in flight are waited for (drained),
 *   so every started request is counted exactly once.
 * - Latency is taken around the whole request as the client sees it (from
 *   adding the handle to the multi to its completion message), kept for every
 *   request that got an HTTP response, and sorted at the end (exact
 *   percentiles). Transport failures count as errors but carry no latency.
 * - The server's CPU time is utime+stime from /proc/PID/stat read at the two
 *   ends of the window; its peak RSS is VmHWM from /proc/PID/status at the end
 *   (a lifetime peak: the kernel keeps no per-window peak).
 * - Results go out as one human line and, with --json, one JSON object built
 *   with jansson (so error bodies are escaped correctly).
 */
#include "bench/loadgen_private.h"

#include <curl/curl.h>
#include <jansson.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Keeps N sockets under the common default limit of 1024 open files. */
#define LG_MAX_CONNECTIONS     1000
#define LG_DEFAULT_CONNECTIONS 32
#define LG_DEFAULT_DURATION_S  10.0
/* Long enough for a loaded broker, short enough that a hung one ends the run. */
#define LG_DEFAULT_TIMEOUT_MS 30000
/* Enough to read an NGSI error object ({"error":...,"description":...}). */
#define LG_ERROR_BODY_MAX 512
/* The loop wakes at least this often even when nothing happens. */
#define LG_POLL_MAX_MS 1000
#define LG_NS_PER_S    1000000000ULL
#define LG_NS_PER_MS   1000000ULL
/* jansson prints reals with %.17g by default; 12 digits hides binary noise. */
#define LG_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(12))

/* LG_EXIT_HELP is internal: --help was answered, end with status 0. */
enum lg_exit { LG_EXIT_OK = 0, LG_EXIT_FAILED = 1, LG_EXIT_USAGE = 2, LG_EXIT_HELP = -1 };

typedef struct lg_options {
    const char *url;
    const char *method;
    const char *body;
    const char *label;
    struct curl_slist *headers; /* owned */
    long connections;
    double duration_s; /* 0 in --requests mode */
    double warmup_s;
    uint64_t requests; /* 0 in --duration mode */
    uint64_t start;
    uint64_t seed;
    long timeout_ms;
    pid_t pid; /* 0: no server to measure */
    bool have_expect;
    lg_status_set expect;
    bool json;
} lg_options;

typedef enum lg_phase { LG_PHASE_WARMUP, LG_PHASE_MEASURE, LG_PHASE_DRAIN } lg_phase;

typedef struct lg_slot {
    CURL *easy;
    lg_buf url;
    lg_buf body;
    lg_buf resp; /* the first LG_ERROR_BODY_MAX bytes of the response */
    uint64_t started_ns;
    bool measured;
    bool busy;
    char curl_error[CURL_ERROR_SIZE];
} lg_slot;

typedef struct lg_results {
    uint64_t requests;
    uint64_t errors;
    uint64_t transport_errors;
    uint64_t window_ns;
    uint64_t connects;
    uint64_t statuses[LG_STATUS_MAX + 1];
    lg_latencies lat;
    bool have_first_error;
    long first_error_status; /* 0: transport error */
    lg_buf first_error;
    double client_cpu_s;
    bool server_cpu_ok;
    double server_cpu_s;
    bool server_mem_ok;
    uint64_t server_hwm_kb;
    uint64_t server_rss_kb;
    lg_error server_note; /* why a server figure is missing */
} lg_results;

typedef struct lg_run {
    const lg_options *opt;
    CURLM *multi;
    lg_slot *slots;
    lg_template *url_t;
    lg_template *body_t;
    lg_rng rng;
    uint64_t next_i;
    lg_phase phase;
    uint64_t t_begin, t_measure, t_stop, t_last_done;
    uint64_t issued_measured;
    long in_flight;
    uint64_t server_ticks0;
    double client_cpu0;
    lg_results res;
} lg_run;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * LG_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double ticks_to_s(uint64_t ticks)
{
    return (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

/* ---- options ------------------------------------------------------------ */

static void usage(FILE *to)
{
    fputs("usage: tsunagi-loadgen --url URL [options]\n"
          "  --url TEMPLATE       request URL; {i}, {i%K}, {rand:K} are expanded per request\n"
          "  -X, --method M       HTTP method (default GET)\n"
          "  -H, --header 'K: V'  request header (repeatable)\n"
          "  --body TEMPLATE      request body (Content-Type defaults to application/json)\n"
          "  --connections N      concurrent keep-alive connections (default 32)\n"
          "  --duration S         measure for S seconds (default 10)\n"
          "  --requests N         measure exactly N requests instead of a duration\n"
          "  --warmup S           run S seconds first, not counted (default 0)\n"
          "  --expect LIST        statuses that count as success, e.g. 200 or 201,204\n"
          "  --pid PID            server process whose CPU time and peak RSS to report\n"
          "  --timeout MS         per-request timeout (default 30000)\n"
          "  --start N            first value of {i} (default 0)\n"
          "  --seed N             seed for {rand:K} (default 1)\n"
          "  --label NAME         name to print with the results\n"
          "  --json               print one JSON object on stdout (human line on stderr)\n",
          to);
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !isfinite(v) || v < 0)
        return -1;
    *out = v;
    return 0;
}

static int add_header(lg_options *o, const char *h, lg_error *err)
{
    struct curl_slist *l = curl_slist_append(o->headers, h);
    if (!l)
        return lg_fail(err, "out of memory adding header");
    o->headers = l;
    return 0;
}

static bool has_content_type(const struct curl_slist *h)
{
    static const char name[] = "content-type:";
    for (; h; h = h->next)
        if (strncasecmp(h->data, name, strlen(name)) == 0)
            return true;
    return false;
}

enum {
    OPT_URL = 256,
    OPT_BODY,
    OPT_CONNECTIONS,
    OPT_DURATION,
    OPT_REQUESTS,
    OPT_WARMUP,
    OPT_EXPECT,
    OPT_PID,
    OPT_TIMEOUT,
    OPT_START,
    OPT_SEED,
    OPT_LABEL,
    OPT_JSON,
    OPT_HELP,
};

static const struct option long_options[] = {
    {"url", required_argument, NULL, OPT_URL},
    {"method", required_argument, NULL, 'X'},
    {"header", required_argument, NULL, 'H'},
    {"body", required_argument, NULL, OPT_BODY},
    {"connections", required_argument, NULL, OPT_CONNECTIONS},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"requests", required_argument, NULL, OPT_REQUESTS},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"expect", required_argument, NULL, OPT_EXPECT},
    {"pid", required_argument, NULL, OPT_PID},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"start", required_argument, NULL, OPT_START},
    {"seed", required_argument, NULL, OPT_SEED},
    {"label", required_argument, NULL, OPT_LABEL},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Applies one option; returns -1 with err filled in when its value is bad. */
static int apply_option(lg_options *o, int c, const char *arg, lg_error *err)
{
    uint64_t v;
    switch (c) {
    case OPT_URL:
        o->url = arg;
        return 0;
    case 'X':
        o->method = arg;
        return 0;
    case 'H':
        return add_header(o, arg, err);
    case OPT_BODY:
        o->body = arg;
        return 0;
    case OPT_CONNECTIONS:
        if (parse_u64(arg, &v) < 0 || v < 1 || v > LG_MAX_CONNECTIONS)
            return lg_fail(err, "--connections wants 1..%d", LG_MAX_CONNECTIONS);
        o->connections = (long)v;
        return 0;
    case OPT_DURATION:
        if (parse_seconds(arg, &o->duration_s) < 0 || o->duration_s <= 0)
            return lg_fail(err, "--duration wants seconds > 0");
        return 0;
    case OPT_REQUESTS:
        if (parse_u64(arg, &o->requests) < 0 || o->requests == 0)
            return lg_fail(err, "--requests wants a count > 0");
        return 0;
    case OPT_WARMUP:
        if (parse_seconds(arg, &o->warmup_s) < 0)
            return lg_fail(err, "--warmup wants seconds >= 0");
        return 0;
    case OPT_EXPECT:
        o->have_expect = true;
        return lg_status_set_parse(arg, &o->expect, err);
    case OPT_PID:
        if (parse_u64(arg, &v) < 0 || v == 0 || v > INT32_MAX)
            return lg_fail(err, "--pid wants a process id");
        o->pid = (pid_t)v;
        return 0;
    case OPT_TIMEOUT:
        if (parse_u64(arg, &v) < 0 || v == 0 || v > INT32_MAX)
            return lg_fail(err, "--timeout wants milliseconds > 0");
        o->timeout_ms = (long)v;
        return 0;
    case OPT_START:
        return parse_u64(arg, &o->start) < 0 ? lg_fail(err, "--start wants a number") : 0;
    case OPT_SEED:
        return parse_u64(arg, &o->seed) < 0 ? lg_fail(err, "--seed wants a number") : 0;
    case OPT_LABEL:
        o->label = arg;
        return 0;
    case OPT_JSON:
        o->json = true;
        return 0;
    }
    return lg_fail(err, "unknown option (see --help)");
}

/* Checks the options as a whole and fills in defaults. */
static int finish_options(lg_options *o, lg_error *err)
{
    if (!o->url)
        return lg_fail(err, "--url is required");
    if (o->duration_s > 0 && o->requests > 0)
        return lg_fail(err, "give --duration or --requests, not both");
    if (o->duration_s == 0 && o->requests == 0)
        o->duration_s = LG_DEFAULT_DURATION_S;
    /* curl adds "Expect: 100-continue" to larger bodies; an empty header removes it. */
    if (add_header(o, "Expect:", err) < 0)
        return -1;
    if (o->body && !has_content_type(o->headers))
        return add_header(o, "Content-Type: application/json", err);
    return 0;
}

/* Returns LG_EXIT_OK to run, LG_EXIT_HELP, or LG_EXIT_USAGE. */
static int parse_options(int argc, char **argv, lg_options *o)
{
    *o = (lg_options){.method = "GET",
                      .label = "",
                      .connections = LG_DEFAULT_CONNECTIONS,
                      .timeout_ms = LG_DEFAULT_TIMEOUT_MS,
                      .seed = 1};
    lg_error err = {{0}};
    int c;
    while ((c = getopt_long(argc, argv, "X:H:", long_options, NULL)) != -1) {
        if (c == OPT_HELP) {
            usage(stdout);
            return LG_EXIT_HELP;
        }
        if (c == '?' || apply_option(o, c, optarg, &err) < 0)
            goto bad;
    }
    if (optind < argc) {
        lg_fail(&err, "unexpected argument '%s'", argv[optind]);
        goto bad;
    }
    if (finish_options(o, &err) < 0)
        goto bad;
    return LG_EXIT_OK;
bad:
    if (err.text[0])
        fprintf(stderr, "tsunagi-loadgen: %s\n", err.text);
    usage(stderr);
    return LG_EXIT_USAGE;
}

/* ---- requests ----------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    lg_slot *slot = userdata;
    size_t n = size * nmemb;
    size_t room = slot->resp.len < LG_ERROR_BODY_MAX ? LG_ERROR_BODY_MAX - slot->resp.len : 0;
    if (room && lg_buf_append(&slot->resp, data, n < room ? n : room, NULL) < 0)
        return 0; /* out of memory: fail the transfer */
    return n;
}

/* Options that stay the same for every request of a slot. */
static int slot_setup(lg_run *run, lg_slot *slot, lg_error *err)
{
    const lg_options *o = run->opt;
    CURL *e = slot->easy = curl_easy_init();
    if (!e)
        return lg_fail(err, "curl_easy_init failed");
    CURLcode rc = CURLE_OK;
    rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, slot);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, slot);
    rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, slot->curl_error);
    rc |= curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, o->headers);
    rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (strcmp(o->method, "HEAD") == 0)
        rc |= curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (strcmp(o->method, "POST") != 0 && (strcmp(o->method, "GET") != 0 || o->body))
        rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);
    else if (strcmp(o->method, "POST") == 0 && !o->body)
        rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
    if (rc != CURLE_OK)
        return lg_fail(err, "setting curl options failed");
    return 0;
}

/* Expands the templates for counter i into the slot and hands them to curl. */
static int slot_prepare(lg_run *run, lg_slot *slot, uint64_t i, lg_error *err)
{
    bool first = slot->url.data == NULL;
    if (first || !lg_template_is_constant(run->url_t)) {
        lg_buf_clear(&slot->url);
        if (lg_template_expand(run->url_t, i, &run->rng, &slot->url, err) < 0)
            return -1;
        if (curl_easy_setopt(slot->easy, CURLOPT_URL, slot->url.data) != CURLE_OK)
            return lg_fail(err, "bad URL '%s'", slot->url.data);
    }
    if (run->body_t && (first || !lg_template_is_constant(run->body_t))) {
        lg_buf_clear(&slot->body);
        if (lg_template_expand(run->body_t, i, &run->rng, &slot->body, err) < 0)
            return -1;
        curl_easy_setopt(slot->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)slot->body.len);
        curl_easy_setopt(slot->easy, CURLOPT_POSTFIELDS, slot->body.data);
    }
    return 0;
}

static int slot_start(lg_run *run, lg_slot *slot, lg_error *err)
{
    if (slot_prepare(run, slot, run->next_i++, err) < 0)
        return -1;
    lg_buf_clear(&slot->resp);
    slot->curl_error[0] = '\0';
    slot->measured = run->phase == LG_PHASE_MEASURE;
    slot->started_ns = now_ns();
    if (curl_multi_add_handle(run->multi, slot->easy) != CURLM_OK)
        return lg_fail(err, "curl_multi_add_handle failed");
    slot->busy = true;
    run->in_flight++;
    if (slot->measured && ++run->issued_measured == run->opt->requests)
        run->phase = LG_PHASE_DRAIN; /* --requests: that was the last one */
    return 0;
}

/* ---- phases ------------------------------------------------------------- */

static void enter_measure(lg_run *run, uint64_t now)
{
    lg_error err;
    run->phase = LG_PHASE_MEASURE;
    run->t_measure = now;
    run->t_last_done = now;
    if (run->opt->duration_s > 0)
        run->t_stop = now + (uint64_t)(run->opt->duration_s * (double)LG_NS_PER_S);
    run->client_cpu0 = self_cpu_s();
    if (run->opt->pid) {
        run->res.server_cpu_ok = lg_proc_cpu_ticks(run->opt->pid, &run->server_ticks0, &err) == 0;
        if (!run->res.server_cpu_ok)
            run->res.server_note = err;
    }
}

static void advance_phase(lg_run *run, uint64_t now)
{
    uint64_t warmup_end = run->t_begin + (uint64_t)(run->opt->warmup_s * (double)LG_NS_PER_S);
    if (run->phase == LG_PHASE_WARMUP && now >= warmup_end)
        enter_measure(run, now);
    if (run->phase == LG_PHASE_MEASURE && run->opt->duration_s > 0 && now >= run->t_stop)
        run->phase = LG_PHASE_DRAIN;
}

/* How long the loop may sleep before the next phase change, in ms. */
static int poll_timeout_ms(const lg_run *run, uint64_t now)
{
    uint64_t until = 0;
    if (run->phase == LG_PHASE_WARMUP)
        until = run->t_begin + (uint64_t)(run->opt->warmup_s * (double)LG_NS_PER_S);
    else if (run->phase == LG_PHASE_MEASURE && run->opt->duration_s > 0)
        until = run->t_stop;
    if (until == 0)
        return LG_POLL_MAX_MS;
    if (until <= now)
        return 0;
    uint64_t ms = (until - now + LG_NS_PER_MS - 1) / LG_NS_PER_MS;
    return ms < LG_POLL_MAX_MS ? (int)ms : LG_POLL_MAX_MS;
}

/* ---- completions -------------------------------------------------------- */

static int note_first_error(lg_results *res, long status, const char *text, size_t len)
{
    if (res->have_first_error)
        return 0;
    res->have_first_error = true;
    res->first_error_status = status;
    return lg_buf_append(&res->first_error, text, len, NULL);
}

static int record(lg_run *run, lg_slot *slot, CURLcode rc, long status, uint64_t ns, lg_error *err)
{
    lg_results *res = &run->res;
    res->requests++;
    if (rc != CURLE_OK) {
        const char *why = slot->curl_error[0] ? slot->curl_error : curl_easy_strerror(rc);
        res->errors++;
        res->transport_errors++;
        return note_first_error(res, 0, why, strlen(why));
    }
    if (status >= LG_STATUS_MIN && status <= LG_STATUS_MAX)
        res->statuses[status]++;
    if (lg_latencies_add(&res->lat, ns, err) < 0)
        return -1;
    if (run->opt->have_expect && !lg_status_set_has(&run->opt->expect, status)) {
        res->errors++;
        return note_first_error(res, status, slot->resp.data ? slot->resp.data : "",
                                slot->resp.len);
    }
    return 0;
}

static int on_done(lg_run *run, CURLMsg *msg, lg_error *err)
{
    CURL *e = msg->easy_handle;
    CURLcode rc = msg->data.result;
    lg_slot *slot = NULL;
    long status = 0, connects = 0;
    uint64_t now = now_ns();
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&slot);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
    curl_multi_remove_handle(run->multi, e);
    slot->busy = false;
    run->in_flight--;
    run->res.connects += (uint64_t)connects;
    if (slot->measured) {
        run->t_last_done = now;
        if (record(run, slot, rc, status, now - slot->started_ns, err) < 0)
            return -1;
    }
    advance_phase(run, now);
    return run->phase == LG_PHASE_DRAIN ? 0 : slot_start(run, slot, err);
}

static int collect(lg_run *run, lg_error *err)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(run->multi, &left)))
        if (msg->msg == CURLMSG_DONE && on_done(run, msg, err) < 0)
            return -1;
    return 0;
}

/* ---- the run ------------------------------------------------------------ */

static int run_loop(lg_run *run, lg_error *err)
{
    run->t_begin = now_ns();
    run->phase = LG_PHASE_WARMUP;
    advance_phase(run, run->t_begin);
    for (long s = 0; s < run->opt->connections && run->phase != LG_PHASE_DRAIN; s++)
        if (slot_start(run, &run->slots[s], err) < 0)
            return -1;
    while (run->in_flight > 0) {
        int running;
        CURLMcode mc = curl_multi_perform(run->multi, &running);
        if (mc != CURLM_OK)
            return lg_fail(err, "curl_multi_perform: %s", curl_multi_strerror(mc));
        if (collect(run, err) < 0)
            return -1;
        uint64_t now = now_ns();
        advance_phase(run, now);
        if (run->in_flight == 0)
            break;
        mc = curl_multi_poll(run->multi, NULL, 0, poll_timeout_ms(run, now), NULL);
        if (mc != CURLM_OK)
            return lg_fail(err, "curl_multi_poll: %s", curl_multi_strerror(mc));
    }
    return 0;
}

static void finish_figures(lg_run *run)
{
    lg_results *res = &run->res;
    lg_error err;
    res->window_ns = run->t_last_done - run->t_measure;
    res->client_cpu_s = self_cpu_s() - run->client_cpu0;
    lg_latencies_sort(&res->lat);
    if (!run->opt->pid)
        return;
    uint64_t ticks1;
    if (res->server_cpu_ok) {
        res->server_cpu_ok = lg_proc_cpu_ticks(run->opt->pid, &ticks1, &err) == 0;
        if (res->server_cpu_ok)
            res->server_cpu_s = ticks_to_s(ticks1 - run->server_ticks0);
        else
            res->server_note = err;
    }
    /* RSS before the peak, so that the peak (monotonic) is never below it. */
    res->server_mem_ok =
        lg_proc_status_kb(run->opt->pid, "VmRSS", &res->server_rss_kb, &err) == 0 &&
        lg_proc_status_kb(run->opt->pid, "VmHWM", &res->server_hwm_kb, &err) == 0;
    if (!res->server_mem_ok)
        res->server_note = err;
}

static int run_init(lg_run *run, const lg_options *o, lg_error *err)
{
    run->opt = o;
    run->next_i = o->start;
    lg_rng_seed(&run->rng, o->seed);
    if (!(run->url_t = lg_template_compile(o->url, err)))
        return -1;
    if (o->body && !(run->body_t = lg_template_compile(o->body, err)))
        return -1;
    if (!(run->multi = curl_multi_init()))
        return lg_fail(err, "curl_multi_init failed");
    curl_multi_setopt(run->multi, CURLMOPT_MAX_HOST_CONNECTIONS, o->connections);
    curl_multi_setopt(run->multi, CURLMOPT_MAXCONNECTS, o->connections);
    curl_multi_setopt(run->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    if (!(run->slots = calloc((size_t)o->connections, sizeof(*run->slots))))
        return lg_fail(err, "out of memory");
    for (long s = 0; s < o->connections; s++)
        if (slot_setup(run, &run->slots[s], err) < 0)
            return -1;
    return 0;
}

static void run_free(lg_run *run)
{
    for (long s = 0; run->slots && s < run->opt->connections; s++) {
        lg_slot *slot = &run->slots[s];
        if (slot->busy)
            curl_multi_remove_handle(run->multi, slot->easy);
        if (slot->easy)
            curl_easy_cleanup(slot->easy);
        lg_buf_free(&slot->url);
        lg_buf_free(&slot->body);
        lg_buf_free(&slot->resp);
    }
    free(run->slots);
    if (run->multi)
        curl_multi_cleanup(run->multi);
    lg_template_free(run->url_t);
    lg_template_free(run->body_t);
    lg_latencies_free(&run->res.lat);
    lg_buf_free(&run->res.first_error);
}

/* ---- output ------------------------------------------------------------- */

static double ns_to_ms(uint64_t ns)
{
    return round((double)ns / 1e3) / 1e3; /* to the microsecond */
}

static double req_per_s(const lg_results *res)
{
    return res->window_ns ? (double)res->requests * 1e9 / (double)res->window_ns : 0;
}

static void print_human(const lg_run *run, FILE *to)
{
    const lg_results *res = &run->res;
    const lg_latencies *l = &res->lat;
    fprintf(to, "%s%s%" PRIu64 " requests in %.2f s: %.1f req/s, %" PRIu64 " errors",
            run->opt->label, run->opt->label[0] ? ": " : "", res->requests,
            (double)res->window_ns / 1e9, req_per_s(res), res->errors);
    fprintf(to, " | latency ms p50 %.3f p90 %.3f p99 %.3f max %.3f",
            ns_to_ms(lg_latencies_percentile(l, 50)), ns_to_ms(lg_latencies_percentile(l, 90)),
            ns_to_ms(lg_latencies_percentile(l, 99)), ns_to_ms(lg_latencies_percentile(l, 100)));
    fprintf(to, " | %ld connections (%" PRIu64 " opened) | client cpu %.2f s",
            run->opt->connections, res->connects, res->client_cpu_s);
    if (run->opt->pid) {
        if (res->server_cpu_ok)
            fprintf(to, " | server cpu %.2f s", res->server_cpu_s);
        else
            fprintf(to, " | server cpu ?");
        if (res->server_mem_ok)
            fprintf(to, ", peak rss %.1f MB", (double)res->server_hwm_kb / 1024.0);
        else
            fprintf(to, ", peak rss ?");
    }
    fputc('\n', to);
    if (res->have_first_error)
        fprintf(to, "first error (status %ld): %.*s\n", res->first_error_status,
                (int)res->first_error.len, res->first_error.data ? res->first_error.data : "");
    if (run->opt->pid && (!res->server_cpu_ok || !res->server_mem_ok))
        fprintf(to, "server figures missing: %s\n", res->server_note.text);
}

/* The JSON helpers below return new references (json_decref), or NULL on failure. */
static json_t *latency_json(const lg_latencies *l)
{
    uint64_t sum = 0;
    for (size_t k = 0; k < l->len; k++)
        sum += l->ns[k];
    return json_pack(
        "{s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "min", ns_to_ms(lg_latencies_percentile(l, 0)),
        "mean", l->len ? ns_to_ms(sum / l->len) : 0.0, "p50",
        ns_to_ms(lg_latencies_percentile(l, 50)), "p90", ns_to_ms(lg_latencies_percentile(l, 90)),
        "p99", ns_to_ms(lg_latencies_percentile(l, 99)), "p999",
        ns_to_ms(lg_latencies_percentile(l, 99.9)), "max",
        ns_to_ms(lg_latencies_percentile(l, 100)));
}

static json_t *statuses_json(const lg_results *res)
{
    json_t *o = json_object();
    for (long s = LG_STATUS_MIN; o && s <= LG_STATUS_MAX; s++) {
        char key[8];
        snprintf(key, sizeof(key), "%ld", s);
        if (res->statuses[s])
            json_object_set_new(o, key, json_integer((json_int_t)res->statuses[s]));
    }
    return o;
}

static json_t *nullable_real(bool ok, double v)
{
    return ok ? json_real(v) : json_null();
}

static json_t *results_json(const lg_run *run)
{
    const lg_options *o = run->opt;
    const lg_results *res = &run->res;
    json_t *first =
        res->have_first_error
            ? json_pack("{s:I, s:s%}", "status", (json_int_t)res->first_error_status, "body",
                        res->first_error.data ? res->first_error.data : "", res->first_error.len)
            : json_null();
    return json_pack(
        "{s:s, s:s, s:s, s:I, s:s, s:f, s:f, s:I, s:I, s:I, s:f, s:f, s:o, s:o, s:I, s:f, s:o, "
        "s:o, "
        "s:o, s:o, s:o}",
        "label", o->label, "method", o->method, "url", o->url, "connections",
        (json_int_t)o->connections, "mode", o->requests ? "requests" : "duration", "duration_s",
        o->duration_s, "warmup_s", o->warmup_s, "requests", (json_int_t)res->requests, "errors",
        (json_int_t)res->errors, "transport_errors", (json_int_t)res->transport_errors, "window_s",
        (double)res->window_ns / 1e9, "req_per_s", round(req_per_s(res) * 10) / 10, "latency_ms",
        latency_json(&res->lat), "statuses", statuses_json(res), "connections_opened",
        (json_int_t)res->connects, "client_cpu_s", round(res->client_cpu_s * 100) / 100,
        "server_pid", o->pid ? json_integer(o->pid) : json_null(), "server_cpu_s",
        nullable_real(o->pid && res->server_cpu_ok, res->server_cpu_s), "server_peak_rss_kb",
        o->pid && res->server_mem_ok ? json_integer((json_int_t)res->server_hwm_kb) : json_null(),
        "server_rss_kb",
        o->pid && res->server_mem_ok ? json_integer((json_int_t)res->server_rss_kb) : json_null(),
        "first_error", first);
}

static int print_json(const lg_run *run, lg_error *err)
{
    json_t *j = results_json(run);
    char *text = j ? json_dumps(j, LG_JSON_FLAGS) : NULL;
    json_decref(j);
    if (!text)
        return lg_fail(err, "could not render the results as JSON");
    puts(text);
    free(text);
    return 0;
}

/* ---- main --------------------------------------------------------------- */

static int check_pid(const lg_options *o, lg_error *err)
{
    uint64_t ticks;
    return o->pid ? lg_proc_cpu_ticks(o->pid, &ticks, err) : 0;
}

static int run_and_report(const lg_options *o, lg_error *err)
{
    lg_run run = {0};
    int rc = -1;
    if (check_pid(o, err) == 0 && run_init(&run, o, err) == 0 && run_loop(&run, err) == 0) {
        finish_figures(&run);
        print_human(&run, o->json ? stderr : stdout);
        rc = o->json ? print_json(&run, err) : 0;
        fflush(stdout);
    }
    run_free(&run);
    return rc;
}

int main(int argc, char **argv)
{
    lg_options o;
    int rc = parse_options(argc, argv, &o);
    if (rc == LG_EXIT_OK) {
        lg_error err = {{0}};
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            fprintf(stderr, "tsunagi-loadgen: curl_global_init failed\n");
            rc = LG_EXIT_FAILED;
        } else {
            if (run_and_report(&o, &err) < 0) {
                fprintf(stderr, "tsunagi-loadgen: %s\n", err.text);
                rc = LG_EXIT_FAILED;
            }
            curl_global_cleanup();
        }
    }
    curl_slist_free_all(o.headers);
    return rc == LG_EXIT_HELP ? LG_EXIT_OK : rc;
}
