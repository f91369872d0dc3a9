/*
 * broker/h_stats.c: GET and DELETE /statistics, GET /cache/statistics.
 *
 * Orion's shape: blocks in Orion's order, then uptime_in_secs and
 * measuring_interval_in_secs. Tsunagi always has a notification queue, so
 * it always shows Orion's notifQueue block (in, out, reject, sentOk,
 * sentError, timeInQueue, avgTimeInQueue, size), followed by its own
 * "notifications" block with the figures Orion lacks (retried, in flight)
 * under plain names. DELETE resets the counters and the measuring interval;
 * what is state (queue size, cached items) is not reset, as in Orion.
 *
 * With -adapterStatus, GET /statistics also shows the adapters. They run in
 * their own process (tsunagi-adapters), which keeps their status; the broker
 * keeps none and asks the host on each request, so every broker of a town
 * shows the same figures. A host that does not answer is shown as
 * "adaptersError" beside the broker's own figures, not as a failed request.
 */
#include "authz.h"
#include "broker_private.h"
#include "subs_private.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

/* /cache/statistics lists ids only while the list stays readable. */
#define CACHE_IDS_SHOWN_MAX 1000
/* The host answers from memory, usually on loopback: a slow answer means
 * trouble, and a statistics request should not wait long for it. */
#define ADAPTER_STATUS_TIMEOUT_MS 2000
/* Far above any real status (about 600 bytes per adapter). */
#define ADAPTER_STATUS_MAX (4 << 20)

static json_t *notif_queue(const notify_stats *n)
{
    double avg = n->attempts > 0 ? n->time_in_queue / (double)n->attempts : 0;
    json_t *q = json_object();
    json_object_set_new(q, "in", json_integer((json_int_t)n->queued));
    json_object_set_new(q, "out", json_integer((json_int_t)n->attempts));
    json_object_set_new(q, "reject", json_integer((json_int_t)n->dropped));
    json_object_set_new(q, "sentOk", json_integer((json_int_t)n->sent));
    json_object_set_new(q, "sentError", json_integer((json_int_t)n->failed));
    json_object_set_new(q, "timeInQueue", json_real(n->time_in_queue));
    json_object_set_new(q, "avgTimeInQueue", json_real(avg));
    json_object_set_new(q, "size", json_integer((json_int_t)n->size));
    return q;
}

static json_t *notifications(const notify_stats *n)
{
    json_t *o = json_object();
    json_object_set_new(o, "queued", json_integer((json_int_t)n->queued));
    json_object_set_new(o, "sent", json_integer((json_int_t)n->sent));
    json_object_set_new(o, "failed", json_integer((json_int_t)n->failed));
    json_object_set_new(o, "retried", json_integer((json_int_t)n->retried));
    json_object_set_new(o, "dropped", json_integer((json_int_t)n->dropped));
    json_object_set_new(o, "inFlight", json_integer((json_int_t)n->in_flight));
    json_object_set_new(o, "connections", json_integer((json_int_t)n->connects));
    return o;
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    ngsi_buf *b = arg;
    if (b->len + size * n > ADAPTER_STATUS_MAX)
        return 0; /* curl fails the transfer */
    ngsi_buf_append(b, data, size * n);
    return size * n;
}

/* The host's list of adapters (new reference), or NULL with why filled in. */
static json_t *adapter_status_fetch(const char *url, char *why, size_t whysz)
{
    ngsi_buf body = {0};
    long status = 0;
    json_t *list = NULL;
    CURL *h = curl_easy_init();
    if (h == NULL)
        abort();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)ADAPTER_STATUS_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    json_t *doc = status == 200 ? json_loadb(body.data ? body.data : "", body.len, 0, NULL) : NULL;
    if (rc != CURLE_OK)
        snprintf(why, whysz, "%s: %s", url, curl_easy_strerror(rc));
    else if (status != 200)
        snprintf(why, whysz, "%s: answered %ld", url, status);
    else if (!json_is_array(json_object_get(doc, "adapters")))
        snprintf(why, whysz, "%s: not an adapter status (no \"adapters\" list)", url);
    else
        list = json_incref(json_object_get(doc, "adapters"));
    json_decref(doc);
    ngsi_buf_free(&body);
    return list;
}

/* With auth on, the adapters' errors name upstream systems: only the town
 * and adapters see them, as only they read id links. */
static bool may_see_adapters(const call *c)
{
    const auth_principal *p = authz_principal(c);
    return !broker_auth_on(c->b) ||
           (p != NULL && auth_principal_has_role(p, AUTH_ROLE_TOWN | AUTH_ROLE_ADAPTER));
}

static void add_adapters(call *c, json_t *o)
{
    char why[CONFIG_URI_MAX + 256]; /* the URL and the reason */
    const char *url = c->b->cfg.adapter_status;
    if (url[0] == '\0' || !may_see_adapters(c))
        return;
    json_t *list = adapter_status_fetch(url, why, sizeof why);
    if (list == NULL) {
        log_msg(LOG_WARN, "adapter status: %s", why);
        json_object_set_new(o, "adaptersError", json_string(why));
        list = json_array();
    }
    json_object_set_new(o, "adapters", list);
}

int h_statistics_get(call *c, ngsi_error *err)
{
    notify_stats n;
    subs_cache_stats cs;
    double now = ngsi_now();
    subs_engine_stats(c->b->subs, &n, &cs);
    json_t *o = json_object();
    json_object_set_new(o, "notifQueue", notif_queue(&n));
    json_object_set_new(o, "notifications", notifications(&n));
    json_object_set_new(o, "uptime_in_secs", json_integer((json_int_t)(now - c->b->started)));
    json_object_set_new(o, "measuring_interval_in_secs",
                        json_integer((json_int_t)(now - cs.since)));
    add_adapters(c, o);
    reply_json(c, 200, o);
    return 0;
}

int h_statistics_delete(call *c, ngsi_error *err)
{
    subs_engine_stats_reset(c->b->subs);
    reply_json(c, 200, json_pack("{s:s}", "message", "All statistics counter reset"));
    return 0;
}

int h_cache_statistics_get(call *c, ngsi_error *err)
{
    notify_stats n;
    subs_cache_stats cs;
    subs_engine_stats(c->b->subs, &n, &cs);
    char *ids = subs_engine_ids(c->b->subs);
    json_t *o = json_object();
    json_object_set_new(
        o, "ids", json_string(strlen(ids) > CACHE_IDS_SHOWN_MAX ? "too many subscriptions" : ids));
    json_object_set_new(o, "refresh", json_integer((json_int_t)cs.refreshes));
    json_object_set_new(o, "inserts", json_integer((json_int_t)cs.inserts));
    json_object_set_new(o, "removes", json_integer((json_int_t)cs.removes));
    json_object_set_new(o, "updates", json_integer((json_int_t)cs.updates));
    json_object_set_new(o, "items", json_integer((json_int_t)cs.items));
    free(ids);
    reply_json(c, 200, o);
    return 0;
}
