/*
 * broker/notify.c: the notification sender.
 *
 * Request threads only queue (notifier_submit); one thread of our own does
 * all the network work through libcurl's multi interface, so a request never
 * waits for a receiver. Design decisions:
 *   - Bounded. Every notification counts against notifQueueSize from the
 *     moment it is accepted until its last attempt ends (queued, waiting for
 *     a retry or in flight). When full, the new one is dropped, counted and
 *     logged; memory stays bounded whatever the receivers do.
 *   - Fair. Notifications are queued per destination (scheme, host and
 *     port). Transfers start round-robin over destinations, at most
 *     notifMaxPerHost at once to one destination and notifMaxConns in all,
 *     and one destination may hold at most DEST_SHARE of the queue. A slow
 *     or dead receiver therefore occupies its own slots and its own share,
 *     never the others'; each transfer ends at its subscription's timeout.
 *   - Keep-alive. Connections live in the multi handle's cache and are
 *     reused by every later transfer to the same receiver; easy handles are
 *     pooled too.
 *   - Retries. A transport error (refused, reset, timeout, DNS) or a 5xx is
 *     retried up to notifRetries times after base * 2^n milliseconds (capped
 *     at notifRetryMax), with jitter of up to half the delay so that retries
 *     of many notifications do not arrive together. Only the final outcome
 *     is reported: a response of any status is a success as Orion counts
 *     it; a transport error is a failure.
 *   - MQTT jobs take the same queue, fairness and retries; their transfer is
 *     a publish done by the MQTT pool's worker (mqtt.c), whose completion
 *     comes back here.
 */
#include "subs_private.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* One destination may hold at most this fraction of the queue, so that a
 * dead receiver filling its share leaves the other half to everyone else. */
#define DEST_SHARE_NUM 1
#define DEST_SHARE_DEN 2
/* Longest poll: the thread looks at the queues at least this often. */
#define POLL_MAX_MS 1000
/* On stop, transfers in flight get this long to finish. */
#define DRAIN_MS 2000
/* Connect timeout ceiling: a dead host fails fast even with a long
 * subscription timeout, since the connect is the part that hangs. */
#define CONNECT_TIMEOUT_MAX_MS 5000
/* While notifications flow the thread naps this long between passes and
 * handles what came meanwhile in one go, so neither submissions nor
 * responses wake it: at thousands of notifications a second, a wakeup (a
 * syscall and a context switch) per notification and per response would
 * cost more than the notifications. An idle sender waits for events and
 * is woken by the next submission. */
#define BATCH_US 500
/* Keep this many idle easy handles for reuse. */
#define EASY_POOL_MAX 256
/* Destination keys: "scheme://host:port|user". */
#define DEST_KEY_MAX 600

typedef struct dest dest;

typedef struct job {
    struct job *next;
    struct job *fprev, *fnext; /* HTTP transfers in flight */
    dest *d;
    char tenant[NGSI_SERVICE_MAX + 1];
    char sub_id[SUBS_ID_LEN + 1];
    enum subs_channel channel;
    subs_message m;
    struct curl_slist *headers;
    long timeout_ms;
    /* mqtt */
    char host[256];
    int port;
    int qos;
    bool retain;
    char *user, *passwd;
    /* progress */
    double accepted;
    double due; /* retry time */
    int attempt;
    CURL *easy;
    char errbuf[CURL_ERROR_SIZE];
    /* mqtt completion */
    int mqtt_rc;
    char mqtt_reason[128];
} job;

struct dest {
    char key[DEST_KEY_MAX];
    job *head, *tail; /* ready to start */
    size_t live;      /* ready + waiting + in flight */
    int in_flight;
};

struct notifier {
    notify_cfg cfg;
    notify_done_fn done;
    void *ud;
    CURLM *multi;
    mqtt_pool *mqtt;
    pthread_t thread;
    pthread_mutex_t lock;
    /* under lock */
    dest **dests;
    size_t ndests, dests_cap, rr;
    job *waiting; /* retries, unsorted (few) */
    job *mqtt_done;
    size_t live;
    int in_flight;
    bool stopping;
    bool wake_pending;
    bool sleeping_long; /* the thread waits for events: submissions must wake it */
    bool backlog;       /* notifications wait for a free transfer slot */
    uint64_t submits;   /* accepted so far; the thread compares it per pass */
    uint64_t submits_seen;
    notify_stats stats;
    /* thread only */
    CURL *easy_pool[EASY_POOL_MAX];
    size_t neasy;
    job *flying;
    uint64_t rng;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xorshift64*: jitter needs no quality, only no shared state. */
static double random_unit(notifier *n)
{
    n->rng ^= n->rng >> 12;
    n->rng ^= n->rng << 25;
    n->rng ^= n->rng >> 27;
    return (double)((n->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static void wake(notifier *n)
{
    /* under lock: one wakeup per sleep is enough */
    if (!n->wake_pending) {
        n->wake_pending = true;
        curl_multi_wakeup(n->multi);
    }
}

/* ----------------------------------------------------------- destinations */

/* The destination named key; created when absent. Under lock. */
static dest *dest_get(notifier *n, const char *key)
{
    for (size_t i = 0; i < n->ndests; i++)
        if (strcmp(n->dests[i]->key, key) == 0)
            return n->dests[i];
    if (n->ndests == n->dests_cap) {
        n->dests_cap = n->dests_cap ? n->dests_cap * 2 : 16;
        n->dests = realloc(n->dests, n->dests_cap * sizeof *n->dests);
        if (n->dests == NULL)
            abort();
    }
    dest *d = calloc(1, sizeof *d);
    if (d == NULL)
        abort();
    snprintf(d->key, sizeof d->key, "%s", key);
    n->dests[n->ndests++] = d;
    return d;
}

/* Forget destinations with nothing to do, so the table follows the
 * receivers in use. Under lock. */
static void dest_prune(notifier *n)
{
    size_t w = 0;
    for (size_t i = 0; i < n->ndests; i++) {
        if (n->dests[i]->live == 0)
            free(n->dests[i]);
        else
            n->dests[w++] = n->dests[i];
    }
    n->ndests = w;
    if (n->rr >= w)
        n->rr = 0;
}

static void dest_push(dest *d, job *j, bool front)
{
    j->next = NULL;
    if (d->head == NULL) {
        d->head = d->tail = j;
    } else if (front) {
        j->next = d->head;
        d->head = j;
    } else {
        d->tail->next = j;
        d->tail = j;
    }
}

static job *dest_pop(dest *d)
{
    job *j = d->head;
    if (j != NULL) {
        d->head = j->next;
        if (d->head == NULL)
            d->tail = NULL;
        j->next = NULL;
    }
    return j;
}

/* ----------------------------------------------------------------- jobs */

static void job_free(job *j)
{
    subs_message_clear(&j->m);
    curl_slist_free_all(j->headers);
    free(j->user);
    free(j->passwd);
    free(j);
}

static void dest_key(const subs_sub *s, const subs_url *u, char *out)
{
    snprintf(out, DEST_KEY_MAX, "%s://%s:%d|%s", u->scheme, u->host, u->port,
             s->channel == SUBS_MQTT && s->user ? s->user : "");
}

static job *job_new(notifier *n, const char *tenant, const subs_sub *s, subs_message *m,
                    const subs_url *u)
{
    job *j = calloc(1, sizeof *j);
    if (j == NULL)
        abort();
    snprintf(j->tenant, sizeof j->tenant, "%s", tenant);
    snprintf(j->sub_id, sizeof j->sub_id, "%s", s->id);
    j->channel = s->channel;
    j->m = *m;
    memset(m, 0, sizeof *m);
    bool has_ct = false, has_accept = false;
    for (size_t i = 0; i < j->m.headers.n; i++) {
        j->headers = curl_slist_append(j->headers, j->m.headers.item[i]);
        has_ct = has_ct || strncasecmp(j->m.headers.item[i], "Content-Type:", 13) == 0;
        has_accept = has_accept || strncasecmp(j->m.headers.item[i], "Accept:", 7) == 0;
    }
    /* curl would add its own defaults for these; a header the template
     * removed must stay removed */
    j->headers = curl_slist_append(j->headers, "Expect:");
    if (!has_ct)
        j->headers = curl_slist_append(j->headers, "Content-Type:");
    if (!has_accept)
        j->headers = curl_slist_append(j->headers, "Accept:");
    j->timeout_ms = s->timeout_ms > 0 ? (long)s->timeout_ms : n->cfg.default_timeout_ms;
    snprintf(j->host, sizeof j->host, "%s", u->host);
    j->port = u->port;
    j->qos = s->qos;
    j->retain = s->retain;
    j->user = s->user ? strdup(s->user) : NULL;
    j->passwd = s->passwd ? strdup(s->passwd) : NULL;
    j->accepted = now_s();
    return j;
}

bool notifier_submit(notifier *n, const char *tenant, const subs_sub *s, subs_message *m)
{
    subs_url u;
    char key[DEST_KEY_MAX];
    if (subs_url_parse(m->url, &u) < 0)
        return false;
    dest_key(s, &u, key);
    size_t share = (size_t)n->cfg.queue_size * DEST_SHARE_NUM / DEST_SHARE_DEN;
    pthread_mutex_lock(&n->lock);
    dest *d = dest_get(n, key);
    if (n->stopping || n->live >= (size_t)n->cfg.queue_size || d->live >= (share ? share : 1)) {
        n->stats.dropped++;
        if (d->live == 0)
            dest_prune(n);
        pthread_mutex_unlock(&n->lock);
        return false;
    }
    job *j = job_new(n, tenant, s, m, &u);
    j->d = d;
    d->live++;
    n->live++;
    n->stats.queued++;
    n->submits++;
    dest_push(d, j, false);
    if (n->sleeping_long)
        wake(n);
    pthread_mutex_unlock(&n->lock);
    return true;
}

/* ------------------------------------------------------------ transfers */

static size_t discard(char *p, size_t size, size_t nmemb, void *ud)
{
    (void)p;
    (void)ud;
    return size * nmemb;
}

static CURL *easy_get(notifier *n)
{
    if (n->neasy > 0) {
        CURL *h = n->easy_pool[--n->neasy];
        curl_easy_reset(h);
        return h;
    }
    return curl_easy_init();
}

static void easy_put(notifier *n, CURL *h)
{
    if (n->neasy < EASY_POOL_MAX)
        n->easy_pool[n->neasy++] = h;
    else
        curl_easy_cleanup(h);
}

static bool method_sends_body(const char *m)
{
    return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0;
}

static void start_http(notifier *n, job *j)
{
    CURL *h = j->easy = easy_get(n);
    long connect_ms =
        j->timeout_ms < CONNECT_TIMEOUT_MAX_MS ? j->timeout_ms : CONNECT_TIMEOUT_MAX_MS;
    curl_easy_setopt(h, CURLOPT_URL, j->m.url);
    curl_easy_setopt(h, CURLOPT_PRIVATE, j);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, j->headers);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, j->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, j->errbuf);
    j->errbuf[0] = '\0';
    if (j->m.body != NULL || method_sends_body(j->m.method)) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, j->m.body ? j->m.body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(j->m.body ? j->m.body_len : 0));
    }
    if (strcmp(j->m.method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, j->m.method);
    j->fprev = NULL;
    j->fnext = n->flying;
    if (n->flying != NULL)
        n->flying->fprev = j;
    n->flying = j;
    curl_multi_add_handle(n->multi, h);
}

static void start_mqtt(notifier *n, job *j)
{
    mqtt_publish p = {.host = j->host,
                      .port = j->port,
                      .user = j->user,
                      .passwd = j->passwd,
                      .topic = j->m.topic,
                      .payload = j->m.body ? j->m.body : "",
                      .len = j->m.body ? j->m.body_len : 0,
                      .qos = j->qos,
                      .retain = j->retain};
    mqtt_pool_submit(n->mqtt, j, &p);
}

/* Start what the limits allow, round-robin over destinations. Under lock;
 * returns the jobs to start (started outside the lock). */
static job *pick_ready(notifier *n, double now)
{
    job *out = NULL, **tail = &out;
    for (job **p = &n->waiting; *p;) { /* due retries go first in their queue */
        job *j = *p;
        if (j->due <= now) {
            *p = j->next;
            dest_push(j->d, j, true);
        } else {
            p = &j->next;
        }
    }
    bool progress = true;
    while (progress && n->in_flight < n->cfg.max_conns) {
        progress = false;
        for (size_t k = 0; k < n->ndests && n->in_flight < n->cfg.max_conns; k++) {
            dest *d = n->dests[(n->rr + k) % n->ndests];
            if (d->head == NULL || d->in_flight >= n->cfg.per_host)
                continue;
            job *j = dest_pop(d);
            d->in_flight++;
            n->in_flight++;
            n->stats.attempts++;
            if (j->attempt == 0)
                n->stats.time_in_queue += now - j->accepted;
            *tail = j;
            tail = &j->next;
            progress = true;
        }
        if (n->ndests > 0)
            n->rr = (n->rr + 1) % n->ndests;
    }
    n->stats.in_flight = (uint64_t)n->in_flight;
    n->backlog = false;
    for (size_t k = 0; k < n->ndests && !n->backlog; k++)
        n->backlog = n->dests[k]->head != NULL;
    return out;
}

static void start_jobs(notifier *n, job *list)
{
    while (list != NULL) {
        job *j = list;
        list = list->next;
        j->next = NULL;
        if (j->channel == SUBS_MQTT)
            start_mqtt(n, j);
        else
            start_http(n, j);
    }
}

/* ------------------------------------------------------------- outcomes */

static double backoff_s(notifier *n, int attempt)
{
    double ms = n->cfg.retry_base_ms * pow(2.0, attempt);
    if (ms > n->cfg.retry_max_ms)
        ms = n->cfg.retry_max_ms;
    return ms * (0.5 + 0.5 * random_unit(n)) / 1000.0;
}

/* One attempt ended. retryable: worth another attempt if any remain. */
static void finish(notifier *n, job *j, bool retryable, const notify_result *r)
{
    pthread_mutex_lock(&n->lock);
    j->d->in_flight--;
    n->in_flight--;
    if (retryable && j->attempt < n->cfg.retries && !n->stopping) {
        j->due = now_s() + backoff_s(n, j->attempt);
        j->attempt++;
        j->next = n->waiting;
        n->waiting = j;
        n->stats.retried++;
        pthread_mutex_unlock(&n->lock);
        return;
    }
    if (r->responded)
        n->stats.sent++;
    else
        n->stats.failed++;
    j->d->live--;
    n->live--;
    pthread_mutex_unlock(&n->lock);
    if (n->done != NULL)
        n->done(n->ud, r);
    job_free(j);
}

static void http_done(notifier *n, CURL *h, CURLcode rc)
{
    job *j;
    long status = 0, connects = 0;
    curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&j);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    if (connects > 0) {
        pthread_mutex_lock(&n->lock);
        n->stats.connects += (uint64_t)connects;
        pthread_mutex_unlock(&n->lock);
    }
    curl_multi_remove_handle(n->multi, h);
    easy_put(n, h);
    j->easy = NULL;
    if (j->fprev != NULL)
        j->fprev->fnext = j->fnext;
    else
        n->flying = j->fnext;
    if (j->fnext != NULL)
        j->fnext->fprev = j->fprev;
    notify_result r = {.tenant = j->tenant,
                       .sub_id = j->sub_id,
                       .responded = rc == CURLE_OK,
                       .status = status,
                       .reason = curl_easy_strerror(rc),
                       .attempts = j->attempt + 1};
    bool retryable = rc != CURLE_OK || status >= 500;
    finish(n, j, retryable, &r);
}

static void mqtt_done_cb(void *ud, void *tag, int rc, const char *reason)
{
    notifier *n = ud;
    job *j = tag;
    j->mqtt_rc = rc;
    snprintf(j->mqtt_reason, sizeof j->mqtt_reason, "%s", reason ? reason : "");
    pthread_mutex_lock(&n->lock);
    j->next = n->mqtt_done;
    n->mqtt_done = j;
    wake(n);
    pthread_mutex_unlock(&n->lock);
}

/* Finish the MQTT publishes that ended; returns how many. */
static int mqtt_finish_all(notifier *n)
{
    int count = 0;
    pthread_mutex_lock(&n->lock);
    job *list = n->mqtt_done;
    n->mqtt_done = NULL;
    pthread_mutex_unlock(&n->lock);
    while (list != NULL) {
        job *j = list;
        list = list->next;
        notify_result r = {.tenant = j->tenant,
                           .sub_id = j->sub_id,
                           .responded = j->mqtt_rc == 0,
                           .reason = j->mqtt_reason,
                           .attempts = j->attempt + 1};
        finish(n, j, j->mqtt_rc != 0, &r);
        count++;
    }
    return count;
}

/* Finish what ended; returns how many transfers did. */
static int read_completions(notifier *n)
{
    CURLMsg *msg;
    int left, done = 0;
    while ((msg = curl_multi_info_read(n->multi, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE) {
            http_done(n, msg->easy_handle, msg->data.result);
            done++;
        }
    return done + mqtt_finish_all(n);
}

/* ---------------------------------------------------------------- loop */

/* Milliseconds until something needs doing; batching means the thread
 * naps BATCH_US instead of waiting for events, so nobody need wake it.
 * Under lock. */
static int poll_timeout(notifier *n, double now, bool batching)
{
    double next = now + POLL_MAX_MS / 1000.0;
    for (job *j = n->waiting; j; j = j->next)
        if (j->due < next)
            next = j->due;
    int ms = (int)ceil((next - now) * 1000.0);
    n->sleeping_long = !batching && !n->backlog;
    return ms < 0 ? 0 : ms;
}

/* Wait for the next thing to do: a nap while batching, else socket events,
 * curl's own timers or the next retry (timeout ms). */
static void wait_for_work(notifier *n, bool batching, int timeout)
{
    long curl_ms = -1;
    if (batching) {
        struct timespec nap = {0, BATCH_US * 1000L};
        nanosleep(&nap, NULL);
        return;
    }
    curl_multi_timeout(n->multi, &curl_ms);
    if (curl_ms >= 0 && curl_ms < timeout)
        timeout = (int)curl_ms;
    curl_multi_poll(n->multi, NULL, 0, timeout, NULL);
}

/* Drop what never started when stopping. Under lock. */
static job *take_unstarted(notifier *n)
{
    job *out = n->waiting;
    n->waiting = NULL;
    for (size_t i = 0; i < n->ndests; i++) {
        job *j;
        while ((j = dest_pop(n->dests[i])) != NULL) {
            j->next = out;
            out = j;
        }
    }
    for (job *j = out; j; j = j->next) {
        j->d->live--;
        n->live--;
        n->stats.dropped++;
    }
    return out;
}

static void *run(void *arg)
{
    notifier *n = arg;
    double drain_until = 0;
    int completed = 0;
    for (;;) {
        double now = now_s();
        pthread_mutex_lock(&n->lock);
        n->wake_pending = false;
        job *gone = NULL;
        if (n->stopping && drain_until == 0) {
            drain_until = now + DRAIN_MS / 1000.0;
            gone = take_unstarted(n);
        }
        bool done = n->stopping && (n->live == 0 || now >= drain_until);
        job *ready = done ? NULL : pick_ready(n, now);
        dest_prune(n);
        /* while work flows, nap and take it in batches: one wakeup per
         * BATCH_US instead of one per notification and per response; but
         * when notifications wait for slots, react to every response */
        bool batching =
            !n->backlog && (completed > 0 || ready != NULL || n->submits != n->submits_seen);
        n->submits_seen = n->submits;
        int timeout = poll_timeout(n, now, batching);
        pthread_mutex_unlock(&n->lock);
        while (gone != NULL) {
            job *j = gone;
            gone = gone->next;
            job_free(j);
        }
        if (done)
            break;
        start_jobs(n, ready);
        int running;
        curl_multi_perform(n->multi, &running);
        completed = read_completions(n);
        if (completed > 0)
            continue; /* slots were freed: fill them before waiting */
        wait_for_work(n, batching, timeout);
        curl_multi_perform(n->multi, &running);
        completed = read_completions(n);
    }
    return NULL;
}

/* -------------------------------------------------------- start and stop */

notifier *notifier_start(const notify_cfg *cfg, notify_done_fn done, void *ud, ngsi_error *err)
{
    notifier *n = calloc(1, sizeof *n);
    if (n == NULL)
        abort();
    n->cfg = *cfg;
    n->done = done;
    n->ud = ud;
    n->rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)n;
    n->rng = n->rng ? n->rng : 1;
    pthread_mutex_init(&n->lock, NULL);
    n->multi = curl_multi_init();
    curl_multi_setopt(n->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)cfg->per_host);
    curl_multi_setopt(n->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)cfg->max_conns);
    curl_multi_setopt(n->multi, CURLMOPT_MAXCONNECTS, (long)cfg->max_conns * 2);
    n->mqtt = mqtt_pool_start(mqtt_done_cb, n, err);
    if (n->multi == NULL || n->mqtt == NULL || pthread_create(&n->thread, NULL, run, n) != 0) {
        if (err->status == 0)
            ngsi_internal(err, "cannot start the notification sender");
        mqtt_pool_stop(n->mqtt);
        curl_multi_cleanup(n->multi);
        pthread_mutex_destroy(&n->lock);
        free(n);
        return NULL;
    }
    return n;
}

/* After the thread ended: whatever is still in flight is abandoned. */
static void abandon_in_flight(notifier *n)
{
    while (n->flying != NULL) {
        job *j = n->flying;
        n->flying = j->fnext;
        curl_multi_remove_handle(n->multi, j->easy);
        curl_easy_cleanup(j->easy);
        job_free(j);
    }
}

void notifier_stop(notifier *n)
{
    if (n == NULL)
        return;
    pthread_mutex_lock(&n->lock);
    n->stopping = true;
    wake(n);
    pthread_mutex_unlock(&n->lock);
    pthread_join(n->thread, NULL);
    /* the MQTT worker finishes its publishes and reports them first */
    mqtt_pool_stop(n->mqtt);
    for (job *j = n->mqtt_done; j;) {
        job *next = j->next;
        job_free(j);
        j = next;
    }
    abandon_in_flight(n);
    for (size_t i = 0; i < n->neasy; i++)
        curl_easy_cleanup(n->easy_pool[i]);
    for (size_t i = 0; i < n->ndests; i++)
        free(n->dests[i]);
    free(n->dests);
    curl_multi_cleanup(n->multi);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

void notifier_stats(notifier *n, notify_stats *out)
{
    pthread_mutex_lock(&n->lock);
    *out = n->stats;
    out->size = n->live;
    out->in_flight = (uint64_t)n->in_flight;
    pthread_mutex_unlock(&n->lock);
}

void notifier_stats_reset(notifier *n)
{
    pthread_mutex_lock(&n->lock);
    memset(&n->stats, 0, sizeof n->stats);
    pthread_mutex_unlock(&n->lock);
}
