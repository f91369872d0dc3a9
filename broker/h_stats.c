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
 */
#include "broker_private.h"
#include "subs_private.h"

#include <stdlib.h>
#include <string.h>

/* /cache/statistics lists ids only while the list stays readable. */
#define CACHE_IDS_SHOWN_MAX 1000

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
