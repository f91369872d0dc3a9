/*
 * broker/broker.h: public surface of tsunagi_broker, the HTTP side.
 *
 * The broker owns the process-wide pieces: configuration (read-only once
 * parsed), the logger and the metrics counters. Everything per request
 * lives in a struct call (broker_private.h) and is gone when the reply is
 * sent.
 */
#ifndef TSUNAGI_BROKER_H
#define TSUNAGI_BROKER_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "ngsi.h"
#include "store.h"

/* ---------------------------------------------------------------- config */

/* Orion's default request body limit; -inReqPayloadMaxSize changes it. */
#define CONFIG_DEFAULT_MAX_BODY (1024 * 1024)
#define CONFIG_DEFAULT_PORT     1026
/* Room for file paths, an inline secret, key ids and issuer/audience URIs:
 * generous for real values, bounded so the config stays a flat struct. */
#define CONFIG_PATH_MAX   1024
#define CONFIG_SECRET_MAX 512
#define CONFIG_KID_MAX    128
#define CONFIG_URI_MAX    512

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_NONE };

typedef struct broker_config {
    int port;
    char bind[64];    /* address to listen on; "" for all */
    char db_uri[512]; /* MongoDB URI */
    char db_name[65]; /* database name prefix, Orion's "orion" */
    enum log_level log_level;
    size_t max_body;      /* bytes; larger bodies get 413 */
    int threads;          /* HTTP worker threads; 0: one per core */
    int db_pool;          /* most MongoDB connections */
    int conn_limit;       /* most concurrent HTTP connections */
    int conn_timeout;     /* seconds an idle keep-alive connection lives */
    int db_timeout_ms;    /* give up on the database after this long */
    int purge_interval;   /* seconds between expired-entity purges; 0 off */
    char schema_dir[512]; /* JSON Schemas to load ($id keys); "" for none */
    char schema_map[512]; /* JSON file: {"EntityType": "<schema $id>"} */
    /* auth (docs/auth.md); off: Orion's behaviour, no checks at all */
    bool auth;
    char auth_secret[CONFIG_SECRET_MAX]; /* HS256 secret, inline */
    char auth_secret_file[CONFIG_PATH_MAX];
    char auth_secret_kid[CONFIG_KID_MAX];
    char auth_key_file[CONFIG_PATH_MAX]; /* PEM public key or JWKS */
    char auth_key_kid[CONFIG_KID_MAX];
    char auth_issuer[CONFIG_URI_MAX];
    char auth_audience[CONFIG_URI_MAX];
    int auth_clock_skew; /* seconds */
    int auth_cache;      /* verified tokens kept */
    char pseudonym_secret_file[CONFIG_PATH_MAX];
    char config_file[CONFIG_PATH_MAX]; /* JSON: entity-type classes */
    /* subscriptions and notifications (docs/subscriptions.md) */
    int sub_cache_interval;  /* seconds between reloads of csubs; 0 off */
    int notif_queue_size;    /* notifications queued or in flight, at most */
    int notif_max_conns;     /* notification transfers in flight */
    int notif_per_host;      /* ... to one destination */
    int notif_retries;       /* extra attempts on transport errors and 5xx */
    int notif_retry_base_ms; /* first backoff, doubling */
    int notif_retry_max_ms;  /* backoff cap */
    int http_timeout_ms;     /* notification timeout when the subscription sets none */
    /* tsunagi-adapters' GET /status URL, shown in /statistics; "" for none */
    char adapter_status[CONFIG_URI_MAX];
} broker_config;

/* Defaults, then environment (TSUNAGI_*), then command-line flags. On a bad
 * value returns -1 with a message in msg. --help prints usage and returns 1. */
int config_load(broker_config *c, int argc, char **argv, char *msg, size_t msgsz);
void config_usage(FILE *out);

/* ---------------------------------------------------------------- logging */

/* Thread-safe; one line per call on stderr. */
void log_init(enum log_level level);
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *log_level_name(enum log_level level);
int log_level_parse(const char *s, enum log_level *out);

/* --------------------------------------------------------------- metrics */

/* Process-wide counters, updated with atomics from any thread. */
typedef struct broker_metrics {
    uint64_t requests;
    uint64_t errors_4xx;
    uint64_t errors_5xx;
    uint64_t expired_purged;
} broker_metrics;

void metrics_count_request(int status);
void metrics_add_purged(uint64_t n);
void metrics_snapshot(broker_metrics *out);

/* ---------------------------------------------------------------- server */

typedef struct broker broker;

/* Start listening. New broker (broker_stop frees it), or NULL with err. The
 * store is borrowed and must outlive the broker. */
broker *broker_start(const broker_config *c, store *st, ngsi_error *err);
/* Stop accepting, finish in-flight requests, free everything. */
void broker_stop(broker *b);
/* The port actually bound (useful with port 0). */
int broker_port(const broker *b);
/* Re-read what may change without a restart (the token keys; SIGHUP).
 * Returns 0, or -1 with err (the old keys stay in use). Thread-safe. */
int broker_reload(broker *b, ngsi_error *err);
/* Whether the broker checks tokens (auth on). */
bool broker_auth_on(const broker *b);

#endif
