/*
 * broker/mqtt.c: MQTT notifications through libmosquitto.
 *
 * One worker thread takes publishes from a queue, so connecting to an MQTT
 * broker (a blocking call in libmosquitto) never holds up HTTP
 * notifications or requests. Connections are kept per broker and user
 * ("host:port|user") and reused; each runs libmosquitto's own network thread
 * (mosquitto_loop_start), which also reconnects after a drop. A publish
 * succeeds when the library accepts it on a connected client (for QoS 1 and
 * 2 the library then handles acknowledgements); a refused connection or a
 * lost one is a failure, which the notifier may retry.
 */
#include "subs_private.h"

#include <mosquitto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Keep-alive interval announced to MQTT brokers, libmosquitto's usual. */
#define MQTT_KEEPALIVE_S 60
/* How long to wait for the broker's CONNACK. */
#define MQTT_CONNACK_WAIT_MS 5000
/* Connections kept open at once; the oldest idle one goes beyond that. */
#define MQTT_CONNS_MAX 64

typedef struct conn {
    char key[400];
    struct mosquitto *m;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    bool answered; /* CONNACK seen */
    int connack;
    bool connected;
    struct conn *next;
} conn;

/* A queued publish; its strings and payload stay the submitter's until
 * done (subs_private.h), so nothing is copied. */
typedef struct item {
    struct item *next;
    void *tag;
    mqtt_publish p;
} item;

struct mqtt_pool {
    mqtt_done_fn done;
    void *ud;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    item *head, *tail;
    bool stopping;
    conn *conns; /* worker thread only */
    size_t nconns;
};

/* --------------------------------------------------------- connections */

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
    conn *c = obj;
    (void)m;
    pthread_mutex_lock(&c->lock);
    c->answered = true;
    c->connack = rc;
    c->connected = rc == 0;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
    conn *c = obj;
    (void)m;
    (void)rc;
    pthread_mutex_lock(&c->lock);
    c->connected = false;
    pthread_mutex_unlock(&c->lock);
}

static void conn_free(conn *c)
{
    mosquitto_disconnect(c->m);
    mosquitto_loop_stop(c->m, true);
    mosquitto_destroy(c->m);
    pthread_cond_destroy(&c->changed);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Wait for CONNACK; 0 when accepted. */
static int wait_connack(conn *c, const char **reason)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += MQTT_CONNACK_WAIT_MS / 1000;
    pthread_mutex_lock(&c->lock);
    while (!c->answered)
        if (pthread_cond_timedwait(&c->changed, &c->lock, &until) != 0)
            break;
    int rc = !c->answered ? -1 : c->connack;
    pthread_mutex_unlock(&c->lock);
    if (rc < 0)
        *reason = "Timeout waiting for CONNACK";
    else if (rc > 0)
        *reason = mosquitto_connack_string(rc);
    return rc;
}

static conn *conn_open(const mqtt_publish *p, const char *key, const char **reason)
{
    conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        abort();
    snprintf(c->key, sizeof c->key, "%s", key);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->changed, NULL);
    c->m = mosquitto_new(NULL, true, c);
    if (c->m == NULL) {
        *reason = "out of memory";
        pthread_cond_destroy(&c->changed);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    mosquitto_connect_callback_set(c->m, on_connect);
    mosquitto_disconnect_callback_set(c->m, on_disconnect);
    if (p->user != NULL)
        mosquitto_username_pw_set(c->m, p->user, p->passwd);
    int rc = mosquitto_connect(c->m, p->host, p->port, MQTT_KEEPALIVE_S);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_loop_start(c->m);
    if (rc != MOSQ_ERR_SUCCESS) {
        *reason =
            rc == MOSQ_ERR_ERRNO ? "Could not connect to MQTT broker" : mosquitto_strerror(rc);
        mosquitto_destroy(c->m);
        pthread_cond_destroy(&c->changed);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    if (wait_connack(c, reason) != 0) {
        conn_free(c);
        return NULL;
    }
    return c;
}

static void conn_drop(mqtt_pool *pool, conn *c)
{
    for (conn **p = &pool->conns; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            pool->nconns--;
            break;
        }
    conn_free(c);
}

static conn *conn_get(mqtt_pool *pool, const mqtt_publish *p, const char **reason)
{
    char key[400];
    snprintf(key, sizeof key, "%s:%d|%s", p->host, p->port, p->user ? p->user : "");
    for (conn *c = pool->conns; c; c = c->next)
        if (strcmp(c->key, key) == 0)
            return c;
    if (pool->nconns >= MQTT_CONNS_MAX) { /* the list is newest first */
        conn *last = pool->conns;
        while (last->next)
            last = last->next;
        conn_drop(pool, last);
    }
    conn *c = conn_open(p, key, reason);
    if (c != NULL) {
        c->next = pool->conns;
        pool->conns = c;
        pool->nconns++;
    }
    return c;
}

/* ---------------------------------------------------------------- work */

static int publish(mqtt_pool *pool, const mqtt_publish *p, const char **reason)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        conn *c = conn_get(pool, p, reason);
        if (c == NULL)
            return -1;
        int rc =
            mosquitto_publish(c->m, NULL, p->topic, (int)p->len, p->payload, p->qos, p->retain);
        if (rc == MOSQ_ERR_SUCCESS)
            return 0;
        *reason = mosquitto_strerror(rc);
        if (rc != MOSQ_ERR_NO_CONN && rc != MOSQ_ERR_CONN_LOST)
            return -1;
        conn_drop(pool, c); /* stale connection: one fresh try */
    }
    return -1;
}

static void *run(void *arg)
{
    mqtt_pool *pool = arg;
    for (;;) {
        pthread_mutex_lock(&pool->lock);
        while (pool->head == NULL && !pool->stopping)
            pthread_cond_wait(&pool->wake, &pool->lock);
        item *it = pool->head;
        bool stopping = pool->stopping;
        if (it != NULL) {
            pool->head = it->next;
            if (pool->head == NULL)
                pool->tail = NULL;
        }
        pthread_mutex_unlock(&pool->lock);
        if (it == NULL)
            break; /* stopping and nothing left */
        /* once stopping, what is left is reported, not attempted */
        const char *reason = "broker stopping";
        int rc = stopping ? -1 : publish(pool, &it->p, &reason);
        pool->done(pool->ud, it->tag, rc, rc == 0 ? NULL : reason);
        free(it);
    }
    return NULL;
}

void mqtt_pool_submit(mqtt_pool *pool, void *tag, const mqtt_publish *pub)
{
    item *it = calloc(1, sizeof *it);
    if (it == NULL)
        abort();
    it->tag = tag;
    it->p = *pub;
    pthread_mutex_lock(&pool->lock);
    if (pool->tail)
        pool->tail->next = it;
    else
        pool->head = it;
    pool->tail = it;
    pthread_cond_signal(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
}

mqtt_pool *mqtt_pool_start(mqtt_done_fn done, void *ud, ngsi_error *err)
{
    mqtt_pool *pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        abort();
    pool->done = done;
    pool->ud = ud;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    mosquitto_lib_init();
    if (pthread_create(&pool->thread, NULL, run, pool) != 0) {
        mosquitto_lib_cleanup();
        pthread_cond_destroy(&pool->wake);
        pthread_mutex_destroy(&pool->lock);
        free(pool);
        ngsi_internal(err, "cannot start the MQTT worker");
        return NULL;
    }
    return pool;
}

void mqtt_pool_stop(mqtt_pool *pool)
{
    if (pool == NULL)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stopping = true;
    pthread_cond_signal(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    pthread_join(pool->thread, NULL);
    while (pool->conns != NULL)
        conn_drop(pool, pool->conns);
    mosquitto_lib_cleanup();
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}
