/*
 * broker/http.c: libmicrohttpd glue, the request lifecycle and replies.
 *
 * libmicrohttpd calls the access handler several times per request: first
 * with the headers, then with each piece of the body, then once more with
 * no data. Checks that need only headers (413 on an oversized
 * Content-Length, 411 on a missing one) answer on the first call so the body
 * is never read; everything else waits for the whole body and goes through
 * dispatch() in the order Orion applies its checks, because clients see
 * which error wins when a request has several faults.
 *
 * Replies add headers in Orion's wire order: Fiware-Correlator, then
 * Location / Fiware-Total-Count / Allow, then Content-Type; libmicrohttpd
 * puts Date first and Content-Length last.
 */
#include "authz.h"
#include "broker_private.h"
#include "subs_private.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

/* ------------------------------------------------------------- replies */

void reply_json(call *c, int status, json_t *body)
{
    c->status = status;
    ngsi_buf_reset(&c->out);
    ngsi_json_write(&c->out, body);
    json_decref(body);
    c->out_type = "application/json";
}

void reply_text(call *c, int status, const char *text, size_t len)
{
    c->status = status;
    ngsi_buf_reset(&c->out);
    ngsi_buf_append(&c->out, text, len);
    c->out_type = "text/plain";
}

void reply_empty(call *c, int status)
{
    c->status = status;
    ngsi_buf_reset(&c->out);
    c->out_type = NULL;
}

static void reply_error(call *c, const ngsi_error *err)
{
    if (err->status == 0) { /* a failure that forgot to say why: still answer */
        ngsi_error internal = {0};
        ngsi_internal(&internal, "an error without a status (a bug): %s", err->description);
        log_msg(LOG_ERROR, "%s %s: %s", c->method, c->url, internal.description);
        reply_json(c, 500, ngsi_error_json(&internal));
        return;
    }
    reply_json(c, err->status, ngsi_error_json(err));
}

static enum MHD_Result queue_reply(call *c)
{
    size_t len = c->out.len;
    char *body = ngsi_buf_steal(&c->out);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Fiware-Correlator", c->correlator);
    if (c->location[0])
        MHD_add_response_header(r, "Location", c->location);
    if (c->total_count >= 0) {
        char n[32];
        snprintf(n, sizeof n, "%lld", c->total_count);
        MHD_add_response_header(r, "Fiware-Total-Count", n);
    }
    if (c->allow[0] && c->status == 405) /* other faults may be found first */
        MHD_add_response_header(r, "Allow", c->allow);
    if (c->www_authenticate[0])
        MHD_add_response_header(r, "WWW-Authenticate", c->www_authenticate);
    if (c->out_type != NULL)
        MHD_add_response_header(r, "Content-Type", c->out_type);
    enum MHD_Result rc = MHD_queue_response(c->conn, (unsigned)c->status, r);
    MHD_destroy_response(r);
    c->answered = true;
    return rc;
}

/* ------------------------------------------------------- request start */

/* A random (version 4) UUID for requests that bring no correlator. */
static void new_correlator(char *out, size_t n)
{
    unsigned char u[16];
    if (getrandom(u, sizeof u, 0) != (ssize_t)sizeof u)
        memset(u, 0, sizeof u);
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
    snprintf(out, n, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
             u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
             u[14], u[15]);
}

static bool method_has_body(const char *m)
{
    return strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
}

/* The checks Orion makes before reading the body. */
static int header_checks(call *c, ngsi_error *err)
{
    const char *cl = call_header(c, "Content-Length");
    unsigned long long n = cl ? strtoull(cl, NULL, 10) : 0;
    if (cl != NULL && n > c->b->cfg.max_body)
        return ngsi_fail(err, 413, "RequestEntityTooLarge",
                         "payload size: %llu, max size supported: %zu", n, c->b->cfg.max_body);
    if (method_has_body(c->method) && n == 0)
        return ngsi_fail(err, 411, "ContentLengthRequired",
                         "Zero/No Content-Length in PUT/POST/PATCH request");
    return 0;
}

static call *call_new(broker *b, struct MHD_Connection *conn, const char *url, const char *method)
{
    call *c = calloc(1, sizeof *c);
    if (c == NULL)
        abort();
    c->conn = conn;
    c->b = b;
    c->url = url;
    c->method = method;
    c->t0 = ngsi_now();
    c->total_count = -1;
    c->status = 500;
    const char *corr = call_header(c, "Fiware-Correlator");
    if (corr != NULL && *corr != '\0')
        snprintf(c->correlator, sizeof c->correlator, "%s", corr);
    else
        new_correlator(c->correlator, sizeof c->correlator);
    broker_correlator_root(c->correlator, c->correlator_root, sizeof c->correlator_root);
    return c;
}

/* ------------------------------------------------------------ dispatch */

/* Orion refuses a body on a request whose Content-Type it cannot parse.
 * Sets c->body_text, so handlers read the body as it was accepted here. */
static int content_type_check(call *c, ngsi_error *err)
{
    if (c->body.len == 0)
        return 0;
    const char *ct = call_header(c, "Content-Type");
    if (ct == NULL)
        return ngsi_fail(err, 415, "UnsupportedMediaType",
                         "Content-Type header not used, default application/octet-stream is not "
                         "supported");
    size_t n = strcspn(ct, ";");
    while (n > 0 && ct[n - 1] == ' ')
        n--;
    bool json = n == 16 && strncasecmp(ct, "application/json", n) == 0;
    bool text = n == 10 && strncasecmp(ct, "text/plain", n) == 0;
    c->body_text = text && c->route && (c->route->flags & ROUTE_TEXT_BODY);
    if (json || c->body_text)
        return 0;
    return ngsi_fail(err, 415, "UnsupportedMediaType", "not supported content type: %.*s", (int)n,
                     ct);
}

/* Orion decides what a request may accept by the URL alone: only paths
 * ending in /value may answer text/plain. */
static bool value_url(const call *c)
{
    size_t n = strlen(c->path);
    return n >= 6 && strcmp(c->path + n - 6, "/value") == 0;
}

static int accept_check(call *c, ngsi_error *err)
{
    if (call_parse_accept(c, err) < 0)
        return -1;
    bool value = value_url(c);
    if ((c->accept & ACCEPT_JSON) || (value && (c->accept & ACCEPT_TEXT)))
        return 0;
    return ngsi_fail(err, 406, "NotAcceptable", "acceptable MIME types: application/json%s",
                     value ? ", text/plain" : "");
}

/* Strip one trailing '/', as Orion does before routing, and find the
 * route; a path Orion does not serve is answered later, after the checks
 * that Orion makes first. */
static void route_request(call *c)
{
    c->path = strdup(c->url);
    if (c->path == NULL)
        abort();
    size_t n = strlen(c->path);
    if (n > 1 && c->path[n - 1] == '/')
        c->path[n - 1] = '\0';
    char *scratch = strdup(c->path);
    if (scratch == NULL)
        abort();
    /* with auth off, the auth-only routes are unknown paths, as to Orion */
    c->route = router_match(c->method, scratch, c->param, &c->nparams, c->allow, sizeof c->allow,
                            c->b->az ? 0 : ROUTE_AUTH_ONLY);
    /* params point into scratch; keep it and the stripped path both */
    c->scratch = scratch;
}

static int route_check(call *c, ngsi_error *err)
{
    if (c->route != NULL) {
        c->allow[0] = '\0';
        return 0;
    }
    if (c->allow[0] == '\0')
        return ngsi_bad_request(err, "service not found");
    c->status = 405;
    return ngsi_fail(err, 405, "MethodNotAllowed", "method not allowed");
}

/* The request-level checks, in the order Orion makes them, because a
 * request with several faults gets the answer Orion would give. */
static int request_checks(call *c, ngsi_error *err)
{
    bool write = c->route != NULL && (c->route->flags & ROUTE_WRITE);
    if (ngsi_check_uri_chars(c->url, false, NULL, err) < 0 ||
        ngsi_paths_parse(call_header(c, "Fiware-ServicePath"), write, &c->paths, err) < 0 ||
        content_type_check(c, err) < 0 || call_check_args(c, err) < 0 || accept_check(c, err) < 0)
        return -1;
    bool bodiless = strcmp(c->method, "GET") == 0 || strcmp(c->method, "DELETE") == 0;
    if (bodiless && c->body.len == 0 && call_header(c, "Content-Type") != NULL)
        return ngsi_bad_request(err, "Orion accepts no payload for GET/DELETE requests. HTTP "
                                     "header Content-Type is thus forbidden");
    return route_check(c, err);
}

static int dispatch(call *c, ngsi_error *err)
{
    route_request(c);
    if (request_checks(c, err) < 0 ||
        ngsi_service_parse(call_header(c, "Fiware-Service"), c->tenant, err) < 0)
        return -1;
    if (authz_request(c, err) < 0 || c->route->handler(c, err) < 0)
        return -1;
    return authz_commit(c, err);
}

/* -------------------------------------------------- libmicrohttpd hooks */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    broker *b = cls;
    call *c = *con_cls;
    ngsi_error err = {0};
    if (c == NULL) {
        *con_cls = c = call_new(b, conn, url, method);
        if (header_checks(c, &err) < 0) {
            reply_error(c, &err);
            return queue_reply(c);
        }
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (c->body.len + *upload_size > b->cfg.max_body)
            c->body_too_large = true; /* chunked bodies: no Content-Length to check */
        else if (!c->answered)
            ngsi_buf_append(&c->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (c->answered)
        return MHD_YES;
    if (c->body_too_large)
        ngsi_fail(&err, 413, "RequestEntityTooLarge", "payload size: %zu, max size supported: %zu",
                  c->body.len, b->cfg.max_body);
    if (err.status != 0 || dispatch(c, &err) < 0)
        reply_error(c, &err);
    return queue_reply(c);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    call *c = *con_cls;
    if (c == NULL)
        return;
    double ms = (ngsi_now() - c->t0) * 1000.0;
    metrics_count_request(c->status);
    if (log_enabled(LOG_INFO))
        log_msg(LOG_INFO, "corr=%s | srv=%s | op=%s %s | status=%d | ms=%.3f%s", c->correlator,
                c->tenant[0] ? c->tenant : "<none>", c->method, c->url, c->status, ms,
                why == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " | aborted");
    authz_call_free(c);
    ngsi_paths_clear(&c->paths);
    ngsi_buf_free(&c->body);
    ngsi_buf_free(&c->out);
    free(c->path);
    free(c->scratch);
    free(c);
    *con_cls = NULL;
}

/* ------------------------------------------------------ start and stop */

static int resolve_bind(const char *host, int port, struct sockaddr_storage *out, bool *v6,
                        ngsi_error *err)
{
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0)
        return ngsi_internal(err, "cannot resolve bind address %s: %s", host, gai_strerror(rc));
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return 0;
}

static void *purge_loop(void *arg);

broker *broker_start(const broker_config *cfg, store *st, ngsi_error *err)
{
    broker *b = calloc(1, sizeof *b);
    struct sockaddr_storage addr;
    bool v6 = false;
    b->cfg = *cfg;
    b->store = st;
    b->started = ngsi_now();
    if (cfg->auth && (b->az = authz_new(cfg, err)) == NULL)
        goto fail;
    if (broker_schemas_load(b, err) < 0)
        goto fail;
    if (cfg->bind[0] && resolve_bind(cfg->bind, cfg->port, &addr, &v6, err) < 0)
        goto fail;
    /* before the first request can arrive: handlers use it */
    b->subs = subs_engine_start(cfg, st, b->az, err);
    if (b->subs == NULL)
        goto fail;
    unsigned threads =
        cfg->threads > 0 ? (unsigned)cfg->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    b->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, b, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, b, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->conn_limit, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->conn_timeout,
        cfg->bind[0] ? MHD_OPTION_SOCK_ADDR : MHD_OPTION_END, &addr, MHD_OPTION_END);
    if (b->daemon == NULL) {
        ngsi_internal(err, "cannot listen on %s:%d", cfg->bind[0] ? cfg->bind : "*", cfg->port);
        goto fail;
    }
    pthread_mutex_init(&b->purge_lock, NULL);
    pthread_cond_init(&b->purge_wake, NULL);
    if (cfg->purge_interval > 0)
        b->purger_running = pthread_create(&b->purger, NULL, purge_loop, b) == 0;
    return b;
fail:
    subs_engine_stop(b->subs);
    broker_schemas_free(b);
    authz_free(b->az);
    free(b);
    return NULL;
}

int broker_port(const broker *b)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(b->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : -1;
}

void broker_stop(broker *b)
{
    if (b == NULL)
        return;
    pthread_mutex_lock(&b->purge_lock);
    b->stopping = true;
    pthread_cond_signal(&b->purge_wake);
    pthread_mutex_unlock(&b->purge_lock);
    if (b->purger_running)
        pthread_join(b->purger, NULL);
    MHD_stop_daemon(b->daemon);
    subs_engine_stop(b->subs); /* after the last request that could notify */
    broker_schemas_free(b);
    pthread_cond_destroy(&b->purge_wake);
    pthread_mutex_destroy(&b->purge_lock);
    authz_free(b->az);
    free(b);
}

/* Expired entities are invisible at once (queries filter them); this loop
 * deletes them for good, in place of the TTL index Orion relies on. */
static void *purge_loop(void *arg)
{
    broker *b = arg;
    pthread_mutex_lock(&b->purge_lock);
    while (!b->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += b->cfg.purge_interval;
        pthread_cond_timedwait(&b->purge_wake, &b->purge_lock, &until);
        if (b->stopping)
            break;
        pthread_mutex_unlock(&b->purge_lock);
        ngsi_error err = {0};
        long long n = store_purge_expired(b->store, ngsi_now(), &err);
        if (n < 0)
            log_msg(LOG_WARN, "expiry purge failed: %s", err.description);
        else if (n > 0) {
            metrics_add_purged((uint64_t)n);
            log_msg(LOG_INFO, "purged %lld expired entities", n);
        }
        pthread_mutex_lock(&b->purge_lock);
    }
    pthread_mutex_unlock(&b->purge_lock);
    return NULL;
}
