/*
 * tests/integration/receiver.c: a notification receiver for tests and
 * benchmarks, in the spirit of Orion's accumulator-server.
 *
 * It records every request (method, path, query, headers, body, arrival
 * time) and serves the record back:
 *   GET /dump[?wait=N&timeout=MS]   the records as a JSON array, in arrival
 *                                   order, once there are at least N
 *   DELETE /dump                    forget them
 *   GET /count[?wait=N&timeout=MS]  {"count":N}
 *   GET /stats, DELETE /stats       count, rate and, with --latency-field F,
 *                                   the delay from the time in the
 *                                   notification's F (an ISO 8601 date, in
 *                                   data[0] or at the top) to arrival
 * Any other path is a notification, answered 200 unless its path starts
 * with a mode:
 *   /status/<code>/...   answer <code>
 *   /slow/<ms>/...       wait <ms> before answering 200
 *   /close/...           close the connection without answering
 *   /flaky/<n>/...       answer 500 to the first <n> requests to that path
 * With --mqtt-port it also subscribes to --mqtt-topic (default '#') on that
 * MQTT broker and records each message as method "MQTT", path = topic.
 *
 * usage: receiver --port P [--port2 P2] [--mqtt-port M] [--mqtt-topic T]
 *                 [--latency-field F] [--no-store] [--threads N]
 * --threads N serves with an epoll pool of N threads instead of a thread
 * per connection (for benchmarks: /slow/ and ?wait= would hold a pool
 * thread).
 * A JSON body (by Content-Type for HTTP, by parsing for MQTT) is embedded in
 * the dump as JSON, byte for byte; any other body as a string. Header
 * names are as received, sorted; Connection is left out as Orion's harness
 * leaves it out.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <mosquitto.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ngsi.h"

/* Longest a /dump or /count wait may last, whatever the request asks. */
#define WAIT_MAX_MS 60000
/* Largest body kept; notifications are far smaller. */
#define BODY_MAX (8 * 1024 * 1024)

typedef struct record {
    char *method, *path, *query;
    json_t *headers;
    char *body;
    size_t body_len;
    bool json_body;
    double at;
} record;

typedef struct flaky {
    char *path;
    int seen;
} flaky;

typedef struct server {
    pthread_mutex_t lock;
    pthread_cond_t grew;
    record *recs;
    size_t n, cap;
    size_t count; /* also when not storing */
    double first, last;
    double *lat;
    size_t nlat, lat_cap;
    flaky *flaky;
    size_t nflaky;
    const char *latency_field;
    bool store;
} server;

typedef struct conn_ctx {
    ngsi_buf body;
    bool too_large;
} conn_ctx;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------- records */

static void latency_of(server *s, const char *body, size_t len, double at)
{
    json_t *v = json_loadb(body, len, JSON_DECODE_ANY, NULL);
    json_t *item = json_object_get(v, "data");
    item = json_is_array(item) ? json_array_get(item, 0) : v;
    json_t *f = json_object_get(item, s->latency_field);
    double t;
    if (json_is_object(f)) /* normalized: {"type":"DateTime","value":...} */
        f = json_object_get(f, "value");
    if (json_is_string(f) && ngsi_datetime_parse(json_string_value(f), &t) == 0) {
        if (s->nlat == s->lat_cap) {
            s->lat_cap = s->lat_cap ? s->lat_cap * 2 : 1024;
            s->lat = realloc(s->lat, s->lat_cap * sizeof *s->lat);
        }
        s->lat[s->nlat++] = (at - t) * 1000.0;
    }
    json_decref(v);
}

/* Takes the strings and headers. */
static void add(server *s, record *r)
{
    pthread_mutex_lock(&s->lock);
    if (s->count == 0)
        s->first = r->at;
    s->last = r->at;
    s->count++;
    if (s->latency_field != NULL && r->body != NULL)
        latency_of(s, r->body, r->body_len, r->at);
    if (s->store) {
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 64;
            s->recs = realloc(s->recs, s->cap * sizeof *s->recs);
        }
        s->recs[s->n++] = *r;
    } else {
        free(r->method);
        free(r->path);
        free(r->query);
        free(r->body);
        json_decref(r->headers);
    }
    pthread_cond_broadcast(&s->grew);
    pthread_mutex_unlock(&s->lock);
}

static void clear_records(server *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->recs[i].method);
        free(s->recs[i].path);
        free(s->recs[i].query);
        free(s->recs[i].body);
        json_decref(s->recs[i].headers);
    }
    s->n = 0;
    s->count = 0;
    s->nlat = 0;
    for (size_t i = 0; i < s->nflaky; i++)
        free(s->flaky[i].path);
    s->nflaky = 0;
}

/* Wait until at least want records; under lock. */
static void wait_for(server *s, long want, long timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    long ms = timeout_ms > WAIT_MAX_MS ? WAIT_MAX_MS : timeout_ms;
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while ((long)s->count < want)
        if (pthread_cond_timedwait(&s->grew, &s->lock, &until) != 0)
            break;
}

static void write_json_string(ngsi_buf *b, const char *s, size_t n)
{
    json_t *v = json_stringn(s, n);
    char *text = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("\"\"");
    ngsi_buf_puts(b, text);
    free(text);
    json_decref(v);
}

static void dump(server *s, ngsi_buf *b)
{
    ngsi_buf_puts(b, "[");
    for (size_t i = 0; i < s->n; i++) {
        record *r = &s->recs[i];
        char *hdrs = json_dumps(r->headers, JSON_COMPACT | JSON_SORT_KEYS);
        ngsi_buf_puts(b, i ? ",{\"method\":" : "{\"method\":");
        write_json_string(b, r->method, strlen(r->method));
        ngsi_buf_puts(b, ",\"path\":");
        write_json_string(b, r->path, strlen(r->path));
        ngsi_buf_puts(b, ",\"query\":");
        write_json_string(b, r->query, strlen(r->query));
        ngsi_buf_printf(b, ",\"headers\":%s,\"body\":", hdrs);
        if (r->json_body)
            ngsi_buf_append(b, r->body, r->body_len);
        else
            write_json_string(b, r->body ? r->body : "", r->body ? r->body_len : 0);
        ngsi_buf_puts(b, "}");
        free(hdrs);
    }
    ngsi_buf_puts(b, "]");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t k = (size_t)((p / 100.0) * (double)n + 0.999999);
    return v[k == 0 ? 0 : (k > n ? n - 1 : k - 1)];
}

static void stats(server *s, ngsi_buf *b)
{
    double *v = malloc((s->nlat + 1) * sizeof *v);
    memcpy(v, s->lat, s->nlat * sizeof *v);
    qsort(v, s->nlat, sizeof *v, cmp_double);
    double span = s->count > 1 ? s->last - s->first : 0;
    ngsi_buf_printf(b,
                    "{\"count\":%zu,\"first\":%.6f,\"last\":%.6f,\"rate\":%.1f,\"latency_ms\":{"
                    "\"samples\":%zu,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f}}",
                    s->count, s->first, s->last, span > 0 ? (double)(s->count - 1) / span : 0,
                    s->nlat, pct(v, s->nlat, 50), pct(v, s->nlat, 90), pct(v, s->nlat, 99),
                    s->nlat ? v[s->nlat - 1] : 0);
    free(v);
}

/* ---------------------------------------------------------------- HTTP */

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    if (strcasecmp(key, "Connection") != 0)
        json_object_set_new(cls, key, json_string(value ? value : ""));
    return MHD_YES;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    ngsi_buf *b = cls;
    ngsi_buf_printf(b, "%s%s%s%s", b->len ? "&" : "", key, value ? "=" : "", value ? value : "");
    return MHD_YES;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *type,
                              const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (type != NULL)
        MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static long arg_long(struct MHD_Connection *c, const char *name, long dflt)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    return v ? atol(v) : dflt;
}

static enum MHD_Result control(server *s, struct MHD_Connection *c, const char *method,
                               const char *url)
{
    ngsi_buf b = {0};
    ngsi_buf_puts(&b, "");
    pthread_mutex_lock(&s->lock);
    if (strcmp(method, "DELETE") == 0) {
        clear_records(s);
    } else {
        wait_for(s, arg_long(c, "wait", 0), arg_long(c, "timeout", 5000));
        if (strcmp(url, "/dump") == 0)
            dump(s, &b);
        else if (strcmp(url, "/count") == 0)
            ngsi_buf_printf(&b, "{\"count\":%zu}", s->count);
        else
            stats(s, &b);
    }
    pthread_mutex_unlock(&s->lock);
    enum MHD_Result rc = answer(c, 200, b.len ? "application/json" : NULL, b.data, b.len);
    ngsi_buf_free(&b);
    return rc;
}

/* /flaky/<n>/...: whether this request gets a 500. */
static bool flaky_fails(server *s, const char *url, int n)
{
    pthread_mutex_lock(&s->lock);
    flaky *f = NULL;
    for (size_t i = 0; i < s->nflaky && f == NULL; i++)
        if (strcmp(s->flaky[i].path, url) == 0)
            f = &s->flaky[i];
    if (f == NULL) {
        s->flaky = realloc(s->flaky, (s->nflaky + 1) * sizeof *s->flaky);
        f = &s->flaky[s->nflaky++];
        f->path = strdup(url);
        f->seen = 0;
    }
    bool fail = f->seen++ < n;
    pthread_mutex_unlock(&s->lock);
    return fail;
}

static enum MHD_Result mode_answer(server *s, struct MHD_Connection *c, const char *url)
{
    int n;
    if (sscanf(url, "/status/%d", &n) == 1)
        return answer(c, (unsigned)n, NULL, "", 0);
    if (sscanf(url, "/slow/%d", &n) == 1) {
        usleep((useconds_t)n * 1000);
        return answer(c, 200, NULL, "", 0);
    }
    if (strncmp(url, "/close/", 7) == 0)
        return MHD_NO;
    if (sscanf(url, "/flaky/%d", &n) == 1 && flaky_fails(s, url, n))
        return answer(c, 500, NULL, "", 0);
    return answer(c, 200, NULL, "", 0);
}

static void record_request(server *s, struct MHD_Connection *c, const char *method, const char *url,
                           conn_ctx *ctx)
{
    ngsi_buf q = {0};
    ngsi_buf_puts(&q, "");
    record r = {.method = strdup(method), .path = strdup(url), .at = now_s()};
    r.headers = json_object();
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, r.headers);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
    r.query = ngsi_buf_steal(&q);
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    r.body_len = ctx->body.len;
    r.body = ctx->body.len ? ngsi_buf_steal(&ctx->body) : NULL;
    if (r.body != NULL && ct != NULL && strncasecmp(ct, "application/json", 16) == 0) {
        json_t *v = json_loadb(r.body, r.body_len, JSON_DECODE_ANY, NULL);
        r.json_body = v != NULL;
        json_decref(v);
    }
    add(s, &r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    server *s = cls;
    conn_ctx *ctx = *con_cls;
    (void)version;
    if (ctx == NULL) {
        *con_cls = calloc(1, sizeof *ctx);
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (ctx->body.len + *upload_size > BODY_MAX)
            ctx->too_large = true;
        else
            ngsi_buf_append(&ctx->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/dump") == 0 || strcmp(url, "/count") == 0 || strcmp(url, "/stats") == 0)
        return control(s, c, method, url);
    record_request(s, c, method, url, ctx);
    return mode_answer(s, c, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    conn_ctx *ctx = *con_cls;
    (void)cls;
    (void)c;
    (void)why;
    if (ctx != NULL) {
        ngsi_buf_free(&ctx->body);
        free(ctx);
    }
    *con_cls = NULL;
}

/* threads 0: a thread per connection, so slow answers and waits block
 * nobody else; otherwise an epoll pool of that many threads, cheaper for
 * benchmarks (which use neither). */
static struct MHD_Daemon *listen_on(server *s, int port, unsigned threads)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = threads ? MHD_USE_EPOLL_INTERNAL_THREAD
                             : MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
    return MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, s,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_SOCK_ADDR, &a,
                            MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_THREAD_POOL_SIZE,
                            threads ? threads : 1u, MHD_OPTION_END);
}

/* ---------------------------------------------------------------- MQTT */

typedef struct mqtt_ctx {
    server *s;
    const char *topic;
} mqtt_ctx;

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    server *s = ((mqtt_ctx *)obj)->s;
    (void)m;
    record r = {.method = strdup("MQTT"), .path = strdup(msg->topic), .query = strdup("")};
    r.at = now_s();
    r.headers = json_pack("{s:s,s:s}", "qos",
                          msg->qos == 0   ? "0"
                          : msg->qos == 1 ? "1"
                                          : "2",
                          "retain", msg->retain ? "true" : "false");
    r.body_len = (size_t)msg->payloadlen;
    r.body = malloc(r.body_len + 1);
    memcpy(r.body, msg->payload, r.body_len);
    r.body[r.body_len] = '\0';
    json_t *v = json_loadb(r.body, r.body_len, JSON_DECODE_ANY, NULL);
    r.json_body = v != NULL;
    json_decref(v);
    add(s, &r);
}

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
    (void)rc;
    mosquitto_subscribe(m, NULL, ((mqtt_ctx *)obj)->topic, 2);
}

static struct mosquitto *mqtt_listen(int port, mqtt_ctx *ctx)
{
    mosquitto_lib_init();
    struct mosquitto *m = mosquitto_new(NULL, true, ctx);
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_message_callback_set(m, on_message);
    if (mosquitto_connect(m, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "receiver: cannot connect to MQTT on port %d\n", port);
        exit(1);
    }
    mosquitto_loop_start(m);
    return m;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    server s = {.store = true};
    int port = 0, port2 = 0, mport = 0;
    unsigned threads = 0;
    mqtt_ctx mctx = {.s = &s, .topic = "#"};
    for (int i = 1; i + 1 < argc || (i < argc && strcmp(argv[i], "--no-store") == 0); i++) {
        if (strcmp(argv[i], "--no-store") == 0)
            s.store = false;
        else if (strcmp(argv[i], "--port") == 0)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--port2") == 0)
            port2 = atoi(argv[++i]);
        else if (strcmp(argv[i], "--mqtt-port") == 0)
            mport = atoi(argv[++i]);
        else if (strcmp(argv[i], "--mqtt-topic") == 0)
            mctx.topic = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0)
            threads = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--latency-field") == 0)
            s.latency_field = argv[++i];
    }
    if (port <= 0) {
        fprintf(stderr, "usage: receiver --port P [--port2 P2] [--mqtt-port M] [--mqtt-topic T] "
                        "[--latency-field F] [--no-store] [--threads N]\n");
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.grew, NULL);
    struct MHD_Daemon *d1 = listen_on(&s, port, threads);
    struct MHD_Daemon *d2 = port2 ? listen_on(&s, port2, threads) : NULL;
    if (d1 == NULL || (port2 && d2 == NULL)) {
        fprintf(stderr, "receiver: cannot listen on %d/%d\n", port, port2);
        return 1;
    }
    struct mosquitto *m = mport ? mqtt_listen(mport, &mctx) : NULL;
    printf("receiver listening on %d%s\n", port, port2 ? " and a second port" : "");
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    if (m != NULL) {
        mosquitto_disconnect(m);
        mosquitto_loop_stop(m, true);
        mosquitto_destroy(m);
        mosquitto_lib_cleanup();
    }
    MHD_stop_daemon(d1);
    if (d2 != NULL)
        MHD_stop_daemon(d2);
    pthread_mutex_lock(&s.lock);
    clear_records(&s);
    pthread_mutex_unlock(&s.lock);
    free(s.recs);
    free(s.lat);
    free(s.flaky);
    return 0;
}
