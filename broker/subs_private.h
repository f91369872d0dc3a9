/*
 * broker/subs_private.h: the broker's subscription engine, shared by its
 * files (subs_cache.c, notify.c, mqtt.c, h_subs.c, h_stats.c, changes.c).
 *
 * Three parts, each with one thread of its own:
 *   - the engine (subs_cache.c): per-tenant caches of csubs, matching of
 *     stored changes on the request's thread, runtime state (throttling,
 *     oneshot, counters) and a housekeeping thread that writes counters back
 *     to csubs and reloads the caches from the database at an interval;
 *   - the notifier (notify.c): a bounded queue per destination feeding one
 *     thread that drives libcurl's multi interface, with retries;
 *   - MQTT (mqtt.c): libmosquitto connections, one per broker and user,
 *     driven by a worker thread the notifier hands MQTT jobs to.
 */
#ifndef TSUNAGI_BROKER_SUBS_PRIVATE_H
#define TSUNAGI_BROKER_SUBS_PRIVATE_H

#include <stdint.h>

#include "broker.h"
#include "subs.h"

/* --------------------------------------------------------------- notifier */

typedef struct notify_cfg {
    int queue_size;         /* notifications queued, waiting or in flight, at most */
    int max_conns;          /* transfers in flight at once */
    int per_host;           /* transfers in flight to one destination */
    int retries;            /* extra attempts after a transport error or a 5xx */
    int retry_base_ms;      /* first backoff; doubles with every attempt */
    int retry_max_ms;       /* backoff cap */
    int default_timeout_ms; /* when the subscription gives none */
} notify_cfg;

/* The final outcome of one notification. */
typedef struct notify_result {
    const char *tenant;
    const char *sub_id;
    bool responded;     /* an HTTP response (any status) or an MQTT publish */
    long status;        /* HTTP status when responded */
    const char *reason; /* transport error text otherwise */
    int attempts;
} notify_result;

/* Called on the notifier's thread once per notification, after retries. */
typedef void (*notify_done_fn)(void *ud, const notify_result *r);

typedef struct notify_stats {
    uint64_t queued;      /* accepted */
    uint64_t attempts;    /* transfers started, retries included */
    uint64_t sent;        /* ended with a response */
    uint64_t failed;      /* ended with a transport error, retries exhausted */
    uint64_t retried;     /* retries scheduled */
    uint64_t dropped;     /* refused because the queue (or the destination's share) was full */
    uint64_t size;        /* now queued, waiting for a retry or in flight */
    uint64_t in_flight;   /* now in flight */
    uint64_t connects;    /* connections opened (fewer than attempts when kept alive) */
    double time_in_queue; /* seconds from acceptance to first attempt, summed */
} notify_stats;

typedef struct notifier notifier;

/* Start the sender thread. New notifier (notifier_stop frees it), or NULL
 * with err. done may be NULL. */
notifier *notifier_start(const notify_cfg *cfg, notify_done_fn done, void *ud, ngsi_error *err);
/* Stop: notifications in flight get a short grace period, the rest are
 * dropped. NULL is fine. */
void notifier_stop(notifier *n);
/* Queue m for s (tenant's subscription). Takes m's contents when it returns
 * true; false when the queue is full (counted as dropped, m untouched).
 * Thread-safe. */
bool notifier_submit(notifier *n, const char *tenant, const subs_sub *s, subs_message *m);
/* Thread-safe snapshot; reset zeroes the counters (not the queue). */
void notifier_stats(notifier *n, notify_stats *out);
void notifier_stats_reset(notifier *n);

/* ------------------------------------------------------------------ MQTT */

typedef struct mqtt_pool mqtt_pool;

/* One publish: everything borrowed until done is called. */
typedef struct mqtt_publish {
    const char *host;
    int port;
    const char *user, *passwd; /* NULL: anonymous */
    const char *topic;
    const void *payload;
    size_t len;
    int qos;
    bool retain;
} mqtt_publish;

/* rc 0 on success, else reason holds libmosquitto's text. Called on the
 * pool's worker thread. */
typedef void (*mqtt_done_fn)(void *ud, void *tag, int rc, const char *reason);

/* New pool (mqtt_pool_stop frees it), or NULL with err. */
mqtt_pool *mqtt_pool_start(mqtt_done_fn done, void *ud, ngsi_error *err);
void mqtt_pool_stop(mqtt_pool *p);
/* Queue one publish; done(tag) follows. Thread-safe. */
void mqtt_pool_submit(mqtt_pool *p, void *tag, const mqtt_publish *pub);

/* ---------------------------------------------------------------- engine */

typedef struct subs_engine subs_engine;

/* Start the engine: notifier, MQTT pool and housekeeping thread. The store
 * is borrowed. New engine (subs_engine_stop frees it), or NULL with err. */
struct authz;
/* az: the broker's auth state, NULL with auth off; with it, a notification
 * goes out only when the subscription's owner may see the entity, and as
 * the owner may see it (authz_notify_entity). */
subs_engine *subs_engine_start(const broker_config *cfg, store *st, struct authz *az,
                               ngsi_error *err);
void subs_engine_stop(subs_engine *e);

/* A write through this broker: make the cache agree with csubs at once.
 * subs_engine_put copies s; status_given re-arms the runtime status. */
void subs_engine_put(subs_engine *e, const char *tenant, const subs_sub *s, bool status_given);
void subs_engine_remove(subs_engine *e, const char *tenant, const char *id);
/* Write this broker's pending counters to csubs now (GET reads them). */
void subs_engine_flush(subs_engine *e);

/* One stored change of one entity, as the request reports it. */
typedef struct subs_event {
    const char *tenant;
    int kind; /* SUBS_ALT_CREATE / UPDATE / DELETE */
    const ngsi_entity *before, *after;
    bool forced;
    const char *correlator; /* the request's, as received or generated */
    const char *auth_token; /* X-Auth-Token, or NULL */
    unsigned *sent;         /* notifications sent so far for this request (cbnotif) */
} subs_event;

/* Match ev against the tenant's subscriptions and queue notifications.
 * Never waits on the network. Thread-safe. */
void subs_engine_changed(subs_engine *e, const subs_event *ev);

/* Figures for GET /statistics and /cache/statistics. */
typedef struct subs_cache_stats {
    uint64_t refreshes, inserts, removes, updates;
    uint64_t items; /* counted from the cache when asked, never reset */
    double since;   /* when the counters were last reset (or the engine started) */
} subs_cache_stats;

void subs_engine_stats(subs_engine *e, notify_stats *notif, subs_cache_stats *cache);
void subs_engine_stats_reset(subs_engine *e);
/* Ids of the cached subscriptions, comma-separated (new string), as Orion's
 * /cache/statistics shows them. */
char *subs_engine_ids(subs_engine *e);

#endif
