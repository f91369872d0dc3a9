/*
 * adapters/adapter.h: the Tsunagi adapter SDK, the one header an adapter needs.
 *
 * An adapter is a shared object loaded by the host process tsunagi-adapters
 * (never by the broker). Its life, in the manner of Mosquitto's plugins:
 *
 *   1. tsunagi_adapter_version(n, versions): the host lists the SDK versions
 *      it speaks; the adapter returns the one it was written for, or -1.
 *   2. tsunagi_adapter_init(ctx, host, options, &userdata): the adapter reads
 *      its options (the "options" object of its config entry) and registers
 *      its poll callback and default interval with host->set_poll().
 *   3. The host calls the poll callback every interval. A run either
 *      succeeds (0) or fails (-1, after host->fail()); a failed run is
 *      retried with exponential backoff.
 *   4. tsunagi_adapter_cleanup(ctx, userdata) at the end.
 *
 * Everything an adapter does goes through the function table `host` and the
 * opaque context `ctx`; adapters never see the host's internals, so the host
 * can change without rebuilding adapters of the same API version. The table
 * only grows: a new function is added at the end and raises
 * TSUNAGI_ADAPTER_API_VERSION.
 *
 * What the host guarantees for a run:
 * - Entities put during the run are written to the broker in batches
 *   (POST /v2/op/update, actionType append) with the adapter's token,
 *   tenant and service path. Entities the broker refuses (schema or
 *   syntax) are counted as skipped records; the run goes on.
 * - State set during the run (host->state_set) is saved only if the run
 *   succeeds and every entity was written, so a cursor never moves past
 *   data that did not reach the broker. A failed run leaves the state as
 *   it was and the next run starts again from there: writes are upserts, so
 *   rewriting is harmless.
 * - Adapters run one at a time in their own process, so the callbacks need
 *   no locking, and a crash takes down only that adapter (the host restarts
 *   it with backoff).
 *
 * JSON values are jansson's (link the adapter with -ljansson).
 */
#ifndef TSUNAGI_ADAPTER_H
#define TSUNAGI_ADAPTER_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The SDK version this header describes. */
#define TSUNAGI_ADAPTER_API_VERSION 1

/* The running adapter, as the host knows it. Opaque. */
typedef struct adapter_ctx adapter_ctx;

enum adapter_log_level {
    ADAPTER_LOG_DEBUG,
    ADAPTER_LOG_INFO,
    ADAPTER_LOG_WARN,
    ADAPTER_LOG_ERROR,
};

/* Longest URL a paging callback may hand back (host->http_pages). */
#define ADAPTER_URL_MAX 8192
/* Longest common resident ID host->link_lookup returns (the entity id limit). */
#define ADAPTER_ID_MAX 256

typedef struct adapter_header {
    const char *name;
    const char *value;
} adapter_header;

/* One HTTP request to an upstream system. Zeroed fields take the defaults of
 * the adapter's config entry ("http": timeout, retries, retryDelay). */
typedef struct adapter_request {
    const char *url;
    const char *method;            /* NULL: GET */
    const adapter_header *headers; /* extra headers (e.g. Authorization); may be NULL */
    size_t nheaders;
    const char *body; /* request body, or NULL */
    size_t body_len;
    const char *content_type; /* of body; NULL: application/json */
    /* Send If-None-Match / If-Modified-Since with the validators the last
     * successful run got for this URL; a 304 sets not_modified. */
    bool conditional;
    int timeout_ms; /* whole request; 0: the configured default */
    int retries;    /* retries after timeouts, transport errors, 429 and 5xx;
                       0: the configured default, -1: none */
} adapter_request;

/* The answer. Every pointer is owned by the response (host->response_free). */
typedef struct adapter_response {
    long status; /* HTTP status of the last attempt; 0 when no answer came */
    char *body;  /* NUL-terminated (the NUL is not counted in len); never NULL */
    size_t len;
    char *content_type;  /* or NULL */
    char *etag;          /* or NULL */
    char *last_modified; /* or NULL */
    char *next;          /* the Link header's rel="next" URL, or NULL */
    bool not_modified;   /* 304 to a conditional request */
    char error[256];     /* why the request failed, when it did */
} adapter_response;

/* The poll callback: one run. Return 0, or -1 through host->fail(). */
typedef int (*adapter_poll_fn)(adapter_ctx *ctx, void *userdata);

/* Called for each page by host->http_pages. `next` holds the URL of the
 * following page as the Link header gave it (or ""); the callback may
 * overwrite it (e.g. from a FHIR Bundle's link "next") or empty it to stop.
 * Return 0 to go on, -1 (through host->fail) to stop with an error. */
typedef int (*adapter_page_fn)(adapter_ctx *ctx, const adapter_response *page, char *next,
                               size_t nextsz, void *arg);

typedef struct adapter_host {
    int api_version; /* the version agreed, TSUNAGI_ADAPTER_API_VERSION */
    size_t size;     /* sizeof(adapter_host) of the host */

    /* ------------------------------------------------------------ identity */

    /* The adapter's configured name ("clinic-a"). Borrowed, lives as ctx. */
    const char *(*name)(adapter_ctx *ctx);

    /* ---------------------------------------------------------- scheduling */

    /* Register the poll callback, with the interval in seconds to use when
     * the config entry gives none. Call once, from init. Returns 0 or -1. */
    int (*set_poll)(adapter_ctx *ctx, adapter_poll_fn fn, double default_interval_s);

    /* ---------------------------------------------------------------- HTTP */

    /* Perform req with timeouts and retries (exponential backoff). Returns 0
     * when an HTTP answer arrived, whatever its status (check resp->status;
     * 304 for a conditional request sets not_modified), -1 when none did
     * (resp->error says why). resp is always filled: free it with
     * response_free. */
    int (*http)(adapter_ctx *ctx, const adapter_request *req, adapter_response *resp);
    void (*response_free)(adapter_response *resp);
    /* GET first, then each following page until the callback leaves `next`
     * empty. Any status other than 2xx stops with an error (the run's last
     * error says which). Returns 0 or -1. */
    int (*http_pages)(adapter_ctx *ctx, const adapter_request *first, adapter_page_fn fn,
                      void *arg);

    /* ------------------------------------------------------------ entities */

    /* Queue an NGSI-v2 entity (normalized form: {"id","type","attr":{"type",
     * "value"}}) for writing; takes the reference. Batches are sent when
     * full and at the end of the run. Returns 0, or -1 when a batch could
     * not be written (the run should then fail). */
    int (*put_entity)(adapter_ctx *ctx, json_t *entity);
    /* Send what is queued now. Returns 0 or -1. */
    int (*flush)(adapter_ctx *ctx);
    /* Make entity a personal entity of common_id: sets the owner attribute
     * the broker's access control reads ("ownerId"; docs/adapters.md). Put
     * the common ID nowhere else in an entity. */
    void (*set_owner)(adapter_ctx *ctx, json_t *entity, const char *common_id);

    /* ------------------------------------------------------------ id links */

    /* The common resident ID linked to value in the id-link namespace
     * system (the broker's /tsunagi/idlinks). Returns 1 and fills out,
     * 0 when nobody linked it, -1 when the lookup failed (do not treat as
     * unlinked: fail the run). Answers are cached for the run. */
    int (*link_lookup)(adapter_ctx *ctx, const char *system, const char *value, char *out,
                       size_t outsz);

    /* --------------------------------------------------------------- state */

    /* A value saved by an earlier successful run (or set in this one), or
     * NULL. Borrowed: valid until the next state_set of key or the run's end. */
    const char *(*state_get)(adapter_ctx *ctx, const char *key);
    /* Set (value NULL: remove) key; saved when the run succeeds. Keys
     * starting with "http." are the host's own. Returns 0 or -1. */
    int (*state_set)(adapter_ctx *ctx, const char *key, const char *value);

    /* ------------------------------------------------------- observability */

    void (*log)(adapter_ctx *ctx, enum adapter_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
    /* Record why this run fails (shown as the adapter's last error) and
     * return -1, so that callbacks can `return host->fail(ctx, ...)`. */
    int (*fail)(adapter_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
    /* Count one upstream record that was not written, and why (malformed,
     * unlinked person...). Logged, counted in the status as recordsSkipped. */
    void (*skip)(adapter_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
    /* Add delta to the adapter's own counter name (shown in the status). */
    void (*count)(adapter_ctx *ctx, const char *name, long long delta);

    /* --------------------------------------------------------------- JSON */

    /* The value at a dotted path ("data.items", "location.lat", "a.0.b":
     * digits index arrays) in root, or NULL. Borrowed from root. Used to
     * apply field mappings a town configures. */
    json_t *(*json_path)(const json_t *root, const char *path);
} adapter_host;

/* ------------------------------------------------------- entity helpers */

/* A new entity {"id": id, "type": type}. New reference (give it to
 * host->put_entity, or json_decref it). */
static inline json_t *adapter_entity_new(const char *id, const char *type)
{
    return json_pack("{s:s,s:s}", "id", id, "type", type);
}

/* Set attribute name of entity to {"type": type, "value": value}, taking
 * value's reference. A NULL value (a failed json_* constructor) sets
 * nothing. */
static inline void adapter_attr_set(json_t *entity, const char *name, const char *type,
                                    json_t *value)
{
    if (value != NULL)
        json_object_set_new(entity, name, json_pack("{s:s,s:o}", "type", type, "value", value));
}

/* ------------------------------------------------- what an adapter exports */

/* Marks the three entry points as exported even when the plugin is built
 * with -fvisibility=hidden (as it should be). */
#define TSUNAGI_ADAPTER_EXPORT __attribute__((visibility("default")))

/* Pick the SDK version to use among the host's `versions`; -1 for none. */
TSUNAGI_ADAPTER_EXPORT int tsunagi_adapter_version(int nversions, const int *versions);
/* Read options (borrowed, lives until cleanup), register the poll. host
 * lives until cleanup. Returns 0, or -1 after host->fail() to refuse to
 * start (bad options). */
TSUNAGI_ADAPTER_EXPORT int tsunagi_adapter_init(adapter_ctx *ctx, const adapter_host *host,
                                                const json_t *options, void **userdata);
TSUNAGI_ADAPTER_EXPORT void tsunagi_adapter_cleanup(adapter_ctx *ctx, void *userdata);

#ifdef __cplusplus
}
#endif

#endif
