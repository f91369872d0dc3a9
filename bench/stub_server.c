/*
 * bench/stub_server.c: tsunagi-stub-server, a trivial HTTP server that answers
 * the requests of bench/run the way an NGSI-v2 broker would, without doing any
 * work. It exists to test tsunagi-loadgen and bench/run end to end and to
 * measure the load generator's own ceiling (how many requests a second it can
 * drive when the server costs almost nothing).
 *
 * Design decisions:
 * - libmicrohttpd with one internal epoll thread by default (--threads for a
 *   pool), so that on a small machine the load generator keeps a core.
 * - Fixed responses are created once and shared (MHD reference-counts them);
 *   a request costs a routing decision and a queued response.
 * - Routes mimic the broker's statuses, not its behaviour: GET /version 200,
 *   POST /v2/op/update 204 (404 with --no-op-update, to exercise bench/run's
 *   fallback), other POST 201, PATCH/PUT/DELETE 204, other GET 200. Any
 *   method on /status/NNN answers NNN with a small NGSI-style error body, for
 *   testing --expect.
 * - --port 0 binds any free port; the chosen port is printed on stdout as
 *   "port N" so that scripts can start it without guessing.
 * - It runs until SIGINT or SIGTERM, taken with sigwait() in the main thread
 *   (no handler, no global flag).
 */
#include <microhttpd.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Enough for bench runs with hundreds of connections, under 1024 open files. */
#define STUB_CONNECTION_LIMIT 1000
/* MHD's pool is one epoll loop per thread; more than a few buys nothing here. */
#define STUB_MAX_THREADS   64
#define STUB_STATUS_PREFIX "/status/"

typedef struct stub_responses {
    struct MHD_Response *version;
    struct MHD_Response *created;
    struct MHD_Response *empty;
    struct MHD_Response *object;
    struct MHD_Response *list;
    struct MHD_Response *not_found;
} stub_responses;

typedef struct stub_options {
    unsigned port;
    unsigned threads;
    bool no_op_update;
} stub_options;

typedef struct stub_server {
    stub_options opt;
    stub_responses resp;
} stub_server;

/* Marks a request whose headers were seen, so the next calls carry its body. */
static const char stub_request_started = 1;

/* New response over a static body; the caller destroys it (MHD_destroy_response). */
static struct MHD_Response *fixed(const char *body, const char *content_type)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (r && content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    return r;
}

static int responses_create(stub_responses *r)
{
    static const char json[] = "application/json";
    r->version = fixed("{\"orion\":{\"version\":\"0.0.0-stub\"}}", json);
    r->created = fixed("", NULL);
    r->empty = fixed("", NULL);
    r->object = fixed("{}", json);
    r->list = fixed("[]", json);
    r->not_found = fixed("{\"error\":\"NotFound\",\"description\":\"stub\"}", json);
    if (r->created)
        MHD_add_response_header(r->created, MHD_HTTP_HEADER_LOCATION, "/v2/entities/stub");
    return r->version && r->created && r->empty && r->object && r->list && r->not_found ? 0 : -1;
}

static void responses_destroy(stub_responses *r)
{
    struct MHD_Response *all[] = {r->version, r->created, r->empty,
                                  r->object,  r->list,    r->not_found};
    for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
        if (all[k])
            MHD_destroy_response(all[k]);
}

/* Answers /status/NNN with status NNN and a small error body. */
static enum MHD_Result reply_status(struct MHD_Connection *c, const char *code)
{
    char *end;
    long status = strtol(code, &end, 10);
    if (*end || status < 100 || status > 599)
        status = MHD_HTTP_BAD_REQUEST;
    char body[96];
    int n =
        snprintf(body, sizeof(body), "{\"error\":\"Stub\",\"description\":\"status %ld\"}", status);
    struct MHD_Response *r =
        MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result route(const stub_server *s, struct MHD_Connection *c, const char *url,
                             const char *method)
{
    const stub_responses *r = &s->resp;
    if (strncmp(url, STUB_STATUS_PREFIX, strlen(STUB_STATUS_PREFIX)) == 0)
        return reply_status(c, url + strlen(STUB_STATUS_PREFIX));
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        if (strcmp(url, "/version") == 0)
            return MHD_queue_response(c, MHD_HTTP_OK, r->version);
        return MHD_queue_response(c, MHD_HTTP_OK,
                                  strcmp(url, "/v2/entities") == 0 ? r->list : r->object);
    }
    if (strcmp(method, "POST") == 0) {
        if (strcmp(url, "/v2/op/update") != 0)
            return MHD_queue_response(c, MHD_HTTP_CREATED, r->created);
        if (s->opt.no_op_update)
            return MHD_queue_response(c, MHD_HTTP_NOT_FOUND, r->not_found);
    }
    return MHD_queue_response(c, MHD_HTTP_NO_CONTENT, r->empty);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    if (*req_cls == NULL) {
        *req_cls = (void *)&stub_request_started;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0; /* the body is read and dropped */
        return MHD_YES;
    }
    return route(cls, c, url, method);
}

static int parse_options(int argc, char **argv, stub_options *o)
{
    static const struct option longs[] = {{"port", required_argument, NULL, 'p'},
                                          {"threads", required_argument, NULL, 't'},
                                          {"no-op-update", no_argument, NULL, 'n'},
                                          {NULL, 0, NULL, 0}};
    *o = (stub_options){.port = 0, .threads = 1};
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        char *end = NULL;
        unsigned long v = optarg ? strtoul(optarg, &end, 10) : 0;
        bool bad_number = optarg && (*end || end == optarg);
        if (c == 'p' && !bad_number && v <= 65535)
            o->port = (unsigned)v;
        else if (c == 't' && !bad_number && v >= 1 && v <= STUB_MAX_THREADS)
            o->threads = (unsigned)v;
        else if (c == 'n')
            o->no_op_update = true;
        else
            goto usage;
    }
    if (optind == argc)
        return 0;
usage:
    fprintf(stderr,
            "usage: tsunagi-stub-server [--port P (0: any)] [--threads N] [--no-op-update]\n");
    return -1;
}

/* New running daemon, or NULL; the caller stops it (MHD_stop_daemon). */
static struct MHD_Daemon *start(stub_server *s)
{
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    /* MHD warns about a pool of one, so a single thread is asked for without a pool. */
    struct MHD_OptionItem pool[] = {
        {s->opt.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, s->opt.threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    return MHD_start_daemon(flags, (uint16_t)s->opt.port, NULL, NULL, on_request, s,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)STUB_CONNECTION_LIMIT,
                            MHD_OPTION_ARRAY, pool, MHD_OPTION_END);
}

/* Blocks until SIGINT or SIGTERM. The mask is set before MHD starts its threads. */
static void wait_for_signal(const sigset_t *set)
{
    int sig;
    while (sigwait(set, &sig) != 0)
        ;
}

int main(int argc, char **argv)
{
    stub_server s = {0};
    if (parse_options(argc, argv, &s.opt) < 0)
        return 2;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (responses_create(&s.resp) < 0) {
        fprintf(stderr, "tsunagi-stub-server: out of memory\n");
        responses_destroy(&s.resp);
        return 1;
    }
    struct MHD_Daemon *d = start(&s);
    if (!d) {
        fprintf(stderr, "tsunagi-stub-server: cannot listen on port %u\n", s.opt.port);
        responses_destroy(&s.resp);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("port %u\n", info ? (unsigned)info->port : s.opt.port);
    fflush(stdout);
    wait_for_signal(&set);
    MHD_stop_daemon(d);
    responses_destroy(&s.resp);
    return 0;
}
