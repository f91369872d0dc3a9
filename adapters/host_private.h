/*
 * adapters/host_private.h: what the files of tsunagi-adapters share.
 *
 * The host is two kinds of process. The supervisor (supervisor.c) reads the
 * configuration, serves the status endpoint (status.c) and keeps one child
 * process per adapter running, restarting crashed ones with backoff. Each
 * child (runner.c) loads one plugin and runs it on its schedule; it talks to
 * upstream systems and to the broker over HTTP (http.c, sink.c), keeps its
 * state in a file (state.c) and reports every run to the supervisor as one
 * JSON line on a pipe.
 */
#ifndef TSUNAGI_ADAPTER_HOST_PRIVATE_H
#define TSUNAGI_ADAPTER_HOST_PRIVATE_H

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>

#include "adapter.h"
#include "ngsi.h"

/* Adapter names become file names, log fields and parts of entity ids. */
#define HOST_NAME_MAX_LEN 64
/* A last-error text; longer ones are cut. */
#define HOST_ERROR_MAX 512
/* The file descriptor on which a child writes its reports (set up by the
 * supervisor before exec). */
#define HOST_REPORT_FD 3

/* ---------------------------------------------------------------- config */

/* HTTP defaults for requests to upstream systems. */
typedef struct host_http_conf {
    int timeout_ms;
    int connect_timeout_ms;
    int retries;
    double retry_delay_s; /* first retry; doubles each time */
} host_http_conf;

/* Exponential backoff: initial, doubling, capped at max (seconds). */
typedef struct host_backoff {
    double initial_s;
    double max_s;
} host_backoff;

typedef struct adapter_conf {
    const char *name;
    char *plugin; /* resolved path */
    const char *service;
    const char *subservice;
    double interval_s; /* 0: the plugin's default */
    bool enabled;
    const json_t *options; /* borrowed from the config root; {} when absent */
    host_http_conf http;
    host_backoff retry; /* after a failed run */
} adapter_conf;

typedef struct host_conf {
    json_t *root; /* owned; the strings below are borrowed from it */
    const char *broker_url;
    const char *token_file; /* or NULL */
    const char *token_env;  /* or NULL */
    const char *owner_attr; /* the owner attribute (the common ID as a string) */
    bool owner_list;        /* also write the models' owner list (exposes the ID) */
    int batch_size;
    size_t batch_bytes_max;
    int broker_timeout_ms;
    const char *state_dir;
    const char *status_bind;
    int status_port; /* -1: no status endpoint */
    enum adapter_log_level log_level;
    host_backoff restart; /* after a crash */
    adapter_conf *adapters;
    size_t n;
} host_conf;

/* Parse root (takes the reference). base_dir resolves relative plugin
 * paths. On error returns -1 with a message naming the key. */
int host_conf_parse(json_t *root, const char *base_dir, host_conf *out, char *msg, size_t msgsz);
int host_conf_load(const char *path, host_conf *out, char *msg, size_t msgsz);
void host_conf_free(host_conf *c);
/* The entry named name, or NULL. Borrowed. */
const adapter_conf *host_conf_find(const host_conf *c, const char *name);

/* Delay before retry number attempt (1, 2, ...). */
double host_backoff_delay(const host_backoff *b, unsigned attempt);

/* ------------------------------------------------------------------- log */

/* One line on stderr per call, the broker's "key=value | ..." shape;
 * written with one write(2) so lines of different processes never mix. */
void host_log_init(enum adapter_log_level min);
void host_log(enum adapter_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void host_vlog(enum adapter_log_level level, const char *prefix, const char *fmt, va_list ap);
int host_log_level_parse(const char *s, enum adapter_log_level *out);

/* ----------------------------------------------------------------- state */

/* The key-value state of one adapter: saved (on disk) plus what the current
 * run set (pending), saved together when the run succeeds. */
typedef struct host_state {
    char *path;
    json_t *saved;   /* {"key": "value"} */
    json_t *pending; /* {"key": "value" or null (removed)} */
} host_state;

/* Open (and read, if it exists) <dir>/<name>.json. -1 with msg on an
 * unreadable or corrupt file. */
int host_state_open(host_state *s, const char *dir, const char *name, char *msg, size_t msgsz);
/* Borrowed; see adapter_host.state_get. */
const char *host_state_get(const host_state *s, const char *key);
void host_state_set(host_state *s, const char *key, const char *value);
/* Merge pending into saved and write the file atomically (temporary file,
 * fsync, rename). -1 with msg when it cannot be written (pending kept). */
int host_state_commit(host_state *s, char *msg, size_t msgsz);
void host_state_discard(host_state *s);
void host_state_close(host_state *s);

/* ------------------------------------------------------- the running adapter */

/* One batch of entities waiting for the broker: their JSON texts, one after
 * the other in buf, with their extents. */
typedef struct host_batch {
    ngsi_buf buf;
    size_t *off, *len;
    size_t n, cap;
} host_batch;

/* What one run did. */
typedef struct host_run {
    double started;
    unsigned long long written, skipped;
    bool failed;
    char error[HOST_ERROR_MAX];
    unsigned skips_logged; /* skip reasons are logged up to a limit per run */
} host_run;

struct adapter_ctx {
    const host_conf *conf;
    const adapter_conf *ac;
    host_state state;
    CURL *upstream;   /* keep-alive connections to upstream systems */
    CURL *broker;     /* and to the broker */
    char *token;      /* the adapter token, read at the start of each run */
    json_t *links;    /* this run's id-link answers: "system\x1fvalue" -> id or null */
    json_t *counters; /* the adapter's own counters, for the status */
    host_batch batch;
    host_run run;
    adapter_poll_fn poll;
    double default_interval_s;
    const sigset_t *stop_signals; /* pending ones end transfers early */
    bool stopping;
};

/* ------------------------------------------------------------ http.c */

extern const adapter_host HOST_API;

int host_http(adapter_ctx *ctx, const adapter_request *req, adapter_response *resp);
void host_response_free(adapter_response *resp);
int host_http_pages(adapter_ctx *ctx, const adapter_request *first, adapter_page_fn fn, void *arg);
/* A CURL handle set up with the host's common options; the caller frees it
 * with curl_easy_cleanup. */
CURL *host_curl_new(void);
/* Parse a Link header value for rel="next". New string or NULL. */
char *host_link_next(const char *link);
/* Whether the run should stop now (a stop signal is pending). */
bool host_stop_requested(adapter_ctx *ctx);
/* Sleep up to seconds, returning early (false) on a stop signal. */
bool host_sleep(adapter_ctx *ctx, double seconds);

/* ------------------------------------------------------------ sink.c */

int host_put_entity(adapter_ctx *ctx, json_t *entity);
int host_flush(adapter_ctx *ctx);
void host_set_owner(adapter_ctx *ctx, json_t *entity, const char *common_id);
int host_link_lookup(adapter_ctx *ctx, const char *system, const char *value, char *out,
                     size_t outsz);
void host_batch_free(host_batch *b);
/* Read the token from token_env or token_file into ctx->token. */
int host_load_token(adapter_ctx *ctx);

/* ---------------------------------------------------------- runner.c */

/* Record the run's failure (first reason wins as the last error). */
int host_fail(adapter_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int host_vfail(adapter_ctx *ctx, const char *fmt, va_list ap);
/* The child process: run adapter name until a stop signal (once: one run).
 * Returns the process exit status. */
int host_child_main(const host_conf *c, const char *name, bool once);

/* ------------------------------------------------------ supervisor.c */

/* The supervisor: start every enabled adapter, keep them running, serve the
 * status; once: run each once and print a summary. Returns the exit status. */
int host_supervise(const host_conf *c, const char *self_exe, const char *config_path, bool once);

/* ---------------------------------------------------------- status.c */

enum host_adapter_state {
    HOST_STARTING, /* process started, plugin not yet ready */
    HOST_IDLE,     /* waiting for its next run */
    HOST_RUNNING,
    HOST_RESTARTING, /* crashed; restart pending */
    HOST_STOPPED,
    HOST_DISABLED,
};

/* The supervisor's view of one adapter, from the reports of its child. */
typedef struct host_status {
    const adapter_conf *ac;
    enum host_adapter_state state;
    int pid;
    double process_started, last_run, last_success, last_duration, next_run, restart_at;
    double backoff; /* seconds before the retry of a failed run; 0 after a success */
    unsigned long long runs, failures, written, skipped, last_written, last_skipped;
    unsigned restarts, crashes_in_row, failures_in_row;
    double interval_s;
    char last_error[HOST_ERROR_MAX];
    double last_error_at;
    json_t *counters; /* owned */
    int exit_code;    /* once mode: the child's exit status */
} host_status;

typedef struct host_status_table host_status_table;

/* A table for c's adapters (c must outlive it); host_status_free frees it. */
host_status_table *host_status_new(const host_conf *c);
void host_status_free(host_status_table *t);
/* Lock the table and get entry i, borrowed until host_status_unlock. */
host_status *host_status_lock(host_status_table *t, size_t i);
void host_status_unlock(host_status_table *t);
size_t host_status_count(const host_status_table *t);
/* Apply one JSON report line of adapter i. */
void host_status_report(host_status_table *t, size_t i, const char *line);
/* The whole table as JSON (new reference). */
json_t *host_status_json(host_status_table *t);
/* Serve GET /status and /status/{name} on bind:port (IPv4). Returns the
 * server, stopped and freed by host_status_stop, or NULL with msg. */
void *host_status_serve(host_status_table *t, const char *bind, int port, int *bound_port,
                        char *msg, size_t msgsz);
void host_status_stop(void *server);

#endif
