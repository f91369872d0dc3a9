/*
 * adapters/http.c: HTTP to upstream systems for adapters (libcurl).
 *
 * One easy handle per adapter process, reused so that connections stay
 * open between requests and pages. Every request gets a total and a connect
 * timeout; timeouts, transport errors, 429 and 5xx are retried with
 * exponential backoff (the delay doubles from retryDelay), because vendors'
 * APIs fail briefly far more often than for long. Other statuses are
 * answers, returned as they are.
 *
 * Conditional requests: the validators (ETag, Last-Modified) of a 200 are
 * kept in the adapter's state under "http.etag:<url>" and
 * "http.lm:<url>", so they are saved only when the run succeeds; the next
 * conditional request of the same URL sends them and a 304 comes back as
 * not_modified with an empty body.
 *
 * Transfers check for a pending stop signal (the child blocks SIGTERM and
 * takes it synchronously), so that shutdown does not wait for a slow
 * upstream to time out.
 */
#include "host_private.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Upstream answers larger than this are refused: a 10,000-row CSV is a few
 * MB and a FHIR page far less; anything bigger is a mistake or an attack. */
#define HTTP_BODY_MAX (256u << 20)
/* Redirects followed, as a browser would, but not forever. */
#define HTTP_REDIRECTS_MAX 5
/* Pages followed by http_pages: a guard against a server whose "next" never
 * ends. 100,000 pages of 100 records is ten million records. */
#define HTTP_PAGES_MAX  100000
#define HTTP_USER_AGENT "tsunagi-adapters/" TSUNAGI_VERSION

typedef struct transfer {
    ngsi_buf body;
    adapter_response *resp;
    adapter_ctx *ctx;
    bool too_large;
    char *link;
} transfer;

bool host_stop_requested(adapter_ctx *ctx)
{
    sigset_t pending;
    if (ctx->stopping)
        return true;
    if (ctx->stop_signals == NULL || sigpending(&pending) != 0)
        return false;
    for (int sig = 1; sig < NSIG; sig++)
        if (sigismember(ctx->stop_signals, sig) == 1 && sigismember(&pending, sig) == 1) {
            ctx->stopping = true;
            return true;
        }
    return false;
}

bool host_sleep(adapter_ctx *ctx, double seconds)
{
    if (seconds <= 0)
        return !host_stop_requested(ctx);
    if (ctx->stop_signals == NULL) {
        struct timespec ts = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
        nanosleep(&ts, NULL);
        return true;
    }
    struct timespec ts = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
    int sig = sigtimedwait(ctx->stop_signals, NULL, &ts);
    if (sig > 0) {
        ctx->stopping = true;
        return false;
    }
    return true;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    transfer *t = arg;
    size_t len = size * n;
    if (t->body.len + len > HTTP_BODY_MAX) {
        t->too_large = true;
        return 0; /* aborts the transfer */
    }
    ngsi_buf_append(&t->body, data, len);
    return len;
}

/* A header value without surrounding blanks and CRLF. New string. */
static char *header_value(const char *p, size_t n)
{
    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n > 0 && isspace((unsigned char)p[n - 1]))
        n--;
    return strndup(p, n);
}

/* Keep the value of n bytes at p in *slot; p NULL empties it. */
static void keep_header(char **slot, const char *p, size_t n)
{
    free(*slot);
    *slot = p != NULL ? header_value(p, n) : NULL;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    transfer *t = arg;
    size_t len = size * n;
    const char *colon = memchr(data, ':', len);
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* The status line of each response, redirects and 1xx included:
         * only the headers of the last one describe the answer. */
        keep_header(&t->resp->etag, NULL, 0);
        keep_header(&t->resp->last_modified, NULL, 0);
        keep_header(&t->resp->content_type, NULL, 0);
        keep_header(&t->link, NULL, 0);
        return len;
    }
    if (colon == NULL)
        return len;
    size_t name = (size_t)(colon - data), rest = len - name - 1;
    if (name == 4 && strncasecmp(data, "etag", 4) == 0)
        keep_header(&t->resp->etag, colon + 1, rest);
    else if (name == 13 && strncasecmp(data, "last-modified", 13) == 0)
        keep_header(&t->resp->last_modified, colon + 1, rest);
    else if (name == 12 && strncasecmp(data, "content-type", 12) == 0)
        keep_header(&t->resp->content_type, colon + 1, rest);
    else if (name == 4 && strncasecmp(data, "link", 4) == 0)
        keep_header(&t->link, colon + 1, rest);
    return len;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    transfer *t = arg;
    return host_stop_requested(t->ctx) ? 1 : 0;
}

CURL *host_curl_new(void)
{
    CURL *h = curl_easy_init();
    if (h == NULL)
        abort();
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, HTTP_USER_AGENT);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)HTTP_REDIRECTS_MAX);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    return h;
}

/* Link: <url>; rel="next", <url2>; rel="prev" */
char *host_link_next(const char *link)
{
    for (const char *p = link; p != NULL && *p;) {
        const char *lt = strchr(p, '<'), *gt = lt ? strchr(lt, '>') : NULL;
        if (gt == NULL)
            return NULL;
        const char *end = strchr(gt, ',');
        size_t params = end ? (size_t)(end - gt) : strlen(gt);
        char *pv = strndup(gt + 1, params > 0 ? params - 1 : 0);
        bool next =
            pv != NULL && (strstr(pv, "rel=\"next\"") != NULL || strstr(pv, "rel=next") != NULL);
        free(pv);
        if (next)
            return strndup(lt + 1, (size_t)(gt - lt - 1));
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

static char *validator_key(const char *kind, const char *url)
{
    char *k;
    if (asprintf(&k, "http.%s:%s", kind, url) < 0)
        abort();
    return k;
}

static struct curl_slist *request_headers(adapter_ctx *ctx, const adapter_request *req)
{
    struct curl_slist *h = NULL;
    char line[ADAPTER_URL_MAX];
    for (size_t i = 0; i < req->nheaders; i++) {
        snprintf(line, sizeof line, "%s: %s", req->headers[i].name, req->headers[i].value);
        h = curl_slist_append(h, line);
    }
    if (req->body != NULL) {
        snprintf(line, sizeof line, "Content-Type: %s",
                 req->content_type ? req->content_type : "application/json");
        h = curl_slist_append(h, line);
    }
    h = curl_slist_append(h, "Expect:");
    if (!req->conditional)
        return h;
    char *k = validator_key("etag", req->url);
    const char *etag = host_state_get(&ctx->state, k);
    free(k);
    k = validator_key("lm", req->url);
    const char *lm = host_state_get(&ctx->state, k);
    free(k);
    if (etag != NULL) {
        snprintf(line, sizeof line, "If-None-Match: %s", etag);
        h = curl_slist_append(h, line);
    }
    if (lm != NULL) {
        snprintf(line, sizeof line, "If-Modified-Since: %s", lm);
        h = curl_slist_append(h, line);
    }
    return h;
}

static void response_reset(adapter_response *r)
{
    free(r->body);
    free(r->content_type);
    free(r->etag);
    free(r->last_modified);
    free(r->next);
    memset(r, 0, sizeof *r);
}

/* One attempt. Returns the curl result; fills resp. */
static CURLcode attempt(adapter_ctx *ctx, const adapter_request *req, struct curl_slist *hdrs,
                        int timeout_ms, adapter_response *resp)
{
    CURL *h = ctx->upstream;
    transfer t = {.resp = resp, .ctx = ctx};
    response_reset(resp);
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)ctx->ac->http.connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    const char *method = req->method ? req->method : (req->body ? "POST" : "GET");
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") == 0 ? NULL : method);
    if (req->body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    if (rc != CURLE_OK) {
        snprintf(resp->error, sizeof resp->error, "%s: %s", req->url,
                 t.too_large                       ? "answer larger than the host accepts"
                 : rc == CURLE_ABORTED_BY_CALLBACK ? "stopping"
                                                   : curl_easy_strerror(rc));
        resp->status = 0;
    }
    resp->len = t.body.len;
    resp->body = t.body.data ? ngsi_buf_steal(&t.body) : strdup("");
    if (resp->body == NULL)
        abort();
    resp->next = t.link ? host_link_next(t.link) : NULL;
    free(t.link);
    return rc;
}

static bool retryable(CURLcode rc, long status)
{
    if (rc == CURLE_ABORTED_BY_CALLBACK || rc == CURLE_WRITE_ERROR)
        return false; /* stopping, or an oversized answer */
    return rc != CURLE_OK || status == 429 || status >= 500;
}

/* Keep a 200's validators for the next conditional request. */
static void remember_validators(adapter_ctx *ctx, const adapter_request *req,
                                const adapter_response *resp)
{
    char *k = validator_key("etag", req->url);
    host_state_set(&ctx->state, k, resp->etag);
    free(k);
    k = validator_key("lm", req->url);
    host_state_set(&ctx->state, k, resp->last_modified);
    free(k);
}

int host_http(adapter_ctx *ctx, const adapter_request *req, adapter_response *resp)
{
    const host_http_conf *conf = &ctx->ac->http;
    int retries = req->retries > 0 ? req->retries : req->retries < 0 ? 0 : conf->retries;
    int timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : conf->timeout_ms;
    struct curl_slist *hdrs = request_headers(ctx, req);
    double delay = conf->retry_delay_s;
    CURLcode rc = CURLE_OK;
    memset(resp, 0, sizeof *resp);
    for (int i = 0;; i++) {
        rc = attempt(ctx, req, hdrs, timeout_ms, resp);
        if (!retryable(rc, resp->status) || i >= retries)
            break;
        char what[300];
        if (rc != CURLE_OK)
            snprintf(what, sizeof what, "%s", resp->error);
        else
            snprintf(what, sizeof what, "%s answered %ld", req->url, resp->status);
        host_log(ADAPTER_LOG_WARN, "adapter=%s | %s; retry %d of %d in %.1f s", ctx->ac->name, what,
                 i + 1, retries, delay);
        if (!host_sleep(ctx, delay))
            break;
        delay *= 2;
    }
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK)
        return -1;
    if (resp->status == 304 && req->conditional)
        resp->not_modified = true;
    else if (req->conditional && resp->status >= 200 && resp->status < 300)
        remember_validators(ctx, req, resp);
    if (resp->status >= 400)
        snprintf(resp->error, sizeof resp->error, "%s answered %ld", req->url, resp->status);
    return 0;
}

void host_response_free(adapter_response *resp)
{
    response_reset(resp);
}

int host_http_pages(adapter_ctx *ctx, const adapter_request *first, adapter_page_fn fn, void *arg)
{
    adapter_request req = *first;
    char *url = strdup(first->url), *next = malloc(ADAPTER_URL_MAX);
    int rc = 0;
    if (url == NULL || next == NULL)
        abort();
    for (unsigned page = 0; rc == 0; page++) {
        adapter_response resp;
        if (page == HTTP_PAGES_MAX) {
            rc = host_fail(ctx, "more than %d pages from %s", HTTP_PAGES_MAX, first->url);
            break;
        }
        req.url = url;
        if (host_http(ctx, &req, &resp) < 0)
            rc = host_fail(ctx, "%s", resp.error);
        else if (resp.not_modified)
            next[0] = '\0'; /* nothing changed since the last run */
        else if (resp.status < 200 || resp.status >= 300)
            rc = host_fail(ctx, "%s", resp.error);
        else {
            snprintf(next, ADAPTER_URL_MAX, "%s", resp.next ? resp.next : "");
            rc = fn(ctx, &resp, next, ADAPTER_URL_MAX, arg);
        }
        host_response_free(&resp);
        if (rc < 0 || next[0] == '\0')
            break;
        if (strcmp(next, url) == 0) {
            rc = host_fail(ctx, "page %s names itself as the next page", url);
            break;
        }
        free(url);
        url = strdup(next);
        if (url == NULL)
            abort();
    }
    free(url);
    free(next);
    return rc < 0 ? -1 : 0;
}
