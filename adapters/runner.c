/*
 * adapters/runner.c: the child process that runs one adapter.
 *
 * The supervisor starts `tsunagi-adapters --child NAME CONFIG` once per
 * adapter (fork + exec, so the child starts clean, without the supervisor's
 * threads). The child loads the plugin, agrees on the SDK version, calls
 * init, then runs the poll callback on schedule until SIGTERM:
 *
 * - A run that succeeds is followed by the next one `interval` seconds
 *   after it started; a run that fails is retried after an exponential
 *   backoff ("retry": initial, doubling to max), so a broken upstream is
 *   not hammered and a short outage costs little.
 * - Every run ends with a flush of the queued entities; the state set
 *   during the run is saved only if all of that succeeded.
 * - Each run is reported to the supervisor as one JSON line on
 *   HOST_REPORT_FD: counts, error, next run, the adapter's counters.
 *
 * Stop signals are blocked and taken synchronously (sigtimedwait while
 * waiting, sigpending inside transfers), so a stop never interrupts a run
 * halfway through a state save. The plugin is never unloaded: the process
 * ends instead, which keeps symbol names in leak reports.
 */
#include "host_private.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Skip reasons logged per run; the rest are only counted. */
#define SKIPS_LOGGED_MAX 20
/* The supervisor reads reports line by line; bound one report. */
#define REPORT_MAX 65536

enum { EXIT_RUN_FAILED = 1, EXIT_SETUP = 3 };

typedef int (*version_fn)(int, const int *);
typedef int (*init_fn)(adapter_ctx *, const adapter_host *, const json_t *, void **);
typedef void (*cleanup_fn)(adapter_ctx *, void *);

/* The versions this host speaks, newest first. */
static const int HOST_VERSIONS[] = {TSUNAGI_ADAPTER_API_VERSION};

typedef struct plugin {
    void *handle;
    version_fn version;
    init_fn init;
    cleanup_fn cleanup;
    void *userdata;
    bool initialised; /* init succeeded: cleanup is due */
} plugin;

/* ------------------------------------------------------- the host table */

int host_vfail(adapter_ctx *ctx, const char *fmt, va_list ap)
{
    char msg[HOST_ERROR_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (!ctx->run.failed) {
        ctx->run.failed = true;
        snprintf(ctx->run.error, sizeof ctx->run.error, "%s", msg);
    }
    host_log(ADAPTER_LOG_ERROR, "adapter=%s | %s", ctx->ac->name, msg);
    return -1;
}

int host_fail(adapter_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    host_vfail(ctx, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *api_name(adapter_ctx *ctx)
{
    return ctx->ac->name;
}

static int api_set_poll(adapter_ctx *ctx, adapter_poll_fn fn, double interval_s)
{
    if (fn == NULL || ctx->poll != NULL)
        return -1;
    ctx->poll = fn;
    ctx->default_interval_s = interval_s;
    return 0;
}

static void api_log(adapter_ctx *ctx, enum adapter_log_level level, const char *fmt, ...)
{
    char prefix[HOST_NAME_MAX_LEN + 16];
    va_list ap;
    snprintf(prefix, sizeof prefix, "adapter=%s | ", ctx->ac->name);
    va_start(ap, fmt);
    host_vlog(level, prefix, fmt, ap);
    va_end(ap);
}

static void api_skip(adapter_ctx *ctx, const char *fmt, ...)
{
    char prefix[HOST_NAME_MAX_LEN + 32];
    va_list ap;
    ctx->run.skipped++;
    if (ctx->run.skips_logged++ >= SKIPS_LOGGED_MAX)
        return;
    snprintf(prefix, sizeof prefix, "adapter=%s | skipped: ", ctx->ac->name);
    va_start(ap, fmt);
    host_vlog(ADAPTER_LOG_WARN, prefix, fmt, ap);
    va_end(ap);
}

static void api_count(adapter_ctx *ctx, const char *name, long long delta)
{
    json_t *v = json_object_get(ctx->counters, name);
    json_object_set_new(ctx->counters, name,
                        json_integer((v ? json_integer_value(v) : 0) + (json_int_t)delta));
}

static const char *api_state_get(adapter_ctx *ctx, const char *key)
{
    return host_state_get(&ctx->state, key);
}

static int api_state_set(adapter_ctx *ctx, const char *key, const char *value)
{
    if (key == NULL || *key == '\0')
        return -1;
    host_state_set(&ctx->state, key, value);
    return 0;
}

/* "a.b.0.c": object members and array indexes. */
static json_t *api_json_path(const json_t *root, const char *path)
{
    json_t *v = (json_t *)root;
    char part[256];
    while (v != NULL && path != NULL && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof part)
            return NULL;
        memcpy(part, path, n);
        part[n] = '\0';
        char *end;
        unsigned long idx = strtoul(part, &end, 10);
        if (json_is_array(v) && *end == '\0' && end != part)
            v = json_array_get(v, idx);
        else
            v = json_object_get(v, part);
        path = path[n] ? path + n + 1 : NULL;
    }
    return v;
}

const adapter_host HOST_API = {
    .api_version = TSUNAGI_ADAPTER_API_VERSION,
    .size = sizeof(adapter_host),
    .name = api_name,
    .set_poll = api_set_poll,
    .http = host_http,
    .response_free = host_response_free,
    .http_pages = host_http_pages,
    .put_entity = host_put_entity,
    .flush = host_flush,
    .set_owner = host_set_owner,
    .link_lookup = host_link_lookup,
    .state_get = api_state_get,
    .state_set = api_state_set,
    .log = api_log,
    .fail = host_fail,
    .skip = api_skip,
    .count = api_count,
    .json_path = api_json_path,
};

/* ------------------------------------------------------------- reports */

static void report(json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (text == NULL)
        return;
    size_t n = strlen(text);
    if (n < REPORT_MAX) {
        text[n] = '\n'; /* overwrites the NUL; n + 1 bytes go out */
        const char *p = text;
        size_t left = n + 1;
        while (left > 0) {
            ssize_t w = write(HOST_REPORT_FD, p, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break; /* the supervisor is gone; PDEATHSIG will end us */
            p += w;
            left -= (size_t)w;
        }
    }
    free(text);
}

static json_t *time_or_null(double t)
{
    return t > 0 ? json_real(t) : json_null();
}

/* ------------------------------------------------------------- plugin */

static int load_plugin(const adapter_conf *ac, plugin *p, char *msg, size_t msgsz)
{
    memset(p, 0, sizeof *p);
    p->handle = dlopen(ac->plugin, RTLD_NOW | RTLD_LOCAL);
    if (p->handle == NULL) {
        snprintf(msg, msgsz, "cannot load %s: %s", ac->plugin, dlerror());
        return -1;
    }
    *(void **)&p->version = dlsym(p->handle, "tsunagi_adapter_version");
    *(void **)&p->init = dlsym(p->handle, "tsunagi_adapter_init");
    *(void **)&p->cleanup = dlsym(p->handle, "tsunagi_adapter_cleanup");
    if (p->version == NULL || p->init == NULL || p->cleanup == NULL) {
        snprintf(msg, msgsz,
                 "%s is not a Tsunagi adapter: it must export tsunagi_adapter_version, "
                 "tsunagi_adapter_init and tsunagi_adapter_cleanup",
                 ac->plugin);
        return -1;
    }
    int nv = (int)(sizeof HOST_VERSIONS / sizeof *HOST_VERSIONS);
    int v = p->version(nv, HOST_VERSIONS);
    for (int i = 0; i < nv; i++)
        if (v == HOST_VERSIONS[i])
            return 0;
    snprintf(msg, msgsz, "%s wants SDK version %d; this host speaks version %d", ac->plugin, v,
             TSUNAGI_ADAPTER_API_VERSION);
    return -1;
}

/* ---------------------------------------------------------------- runs */

static double interval_of(const adapter_ctx *ctx)
{
    if (ctx->ac->interval_s > 0)
        return ctx->ac->interval_s;
    return ctx->default_interval_s > 0 ? ctx->default_interval_s : 900.0;
}

/* One run; returns 0 when it succeeded. */
static int run_once(adapter_ctx *ctx, plugin *p)
{
    char msg[HOST_ERROR_MAX];
    memset(&ctx->run, 0, sizeof ctx->run);
    ctx->run.started = ngsi_now();
    json_object_clear(ctx->links);
    report(json_pack("{s:s,s:f}", "event", "run-start", "at", ctx->run.started));
    int rc = host_load_token(ctx);
    if (rc == 0)
        rc = ctx->poll(ctx, p->userdata);
    if (rc == 0 && !ctx->run.failed)
        rc = host_flush(ctx);
    if (rc == 0 && ctx->run.failed)
        rc = -1; /* a failure recorded but not returned still fails the run */
    if (rc != 0 && !ctx->run.failed)
        host_fail(ctx, "the poll callback failed without saying why");
    if (rc == 0 && host_state_commit(&ctx->state, msg, sizeof msg) < 0)
        rc = host_fail(ctx, "%s", msg);
    if (rc != 0) {
        host_state_discard(&ctx->state);
        host_batch_free(&ctx->batch); /* entities of a failed run are dropped */
    }
    if (ctx->run.skips_logged > SKIPS_LOGGED_MAX)
        host_log(ADAPTER_LOG_WARN, "adapter=%s | %u more records skipped (not logged)",
                 ctx->ac->name, ctx->run.skips_logged - SKIPS_LOGGED_MAX);
    return rc;
}

static void report_run(adapter_ctx *ctx, int rc, double next, double backoff)
{
    double finished = ngsi_now();
    host_log(rc == 0 ? ADAPTER_LOG_INFO : ADAPTER_LOG_WARN,
             "adapter=%s | run %s in %.3f s: %llu written, %llu skipped%s%s", ctx->ac->name,
             rc == 0 ? "succeeded" : "failed", finished - ctx->run.started, ctx->run.written,
             ctx->run.skipped, rc == 0 ? "" : ": ", rc == 0 ? "" : ctx->run.error);
    report(json_pack("{s:s,s:f,s:f,s:b,s:I,s:I,s:o,s:o,s:o,s:O}", "event", "run", "started",
                     ctx->run.started, "finished", finished, "ok", rc == 0, "written",
                     (json_int_t)ctx->run.written, "skipped", (json_int_t)ctx->run.skipped, "error",
                     rc == 0 ? json_null() : json_string(ctx->run.error), "nextRun",
                     time_or_null(next), "backoff", backoff > 0 ? json_real(backoff) : json_null(),
                     "counters", ctx->counters));
}

static int run_loop(adapter_ctx *ctx, plugin *p, bool once)
{
    unsigned failures = 0;
    for (;;) {
        int rc = run_once(ctx, p);
        failures = rc == 0 ? 0 : failures + 1;
        double backoff = rc == 0 || once ? 0 : host_backoff_delay(&ctx->ac->retry, failures);
        double next = rc == 0 ? ctx->run.started + interval_of(ctx) : ngsi_now() + backoff;
        report_run(ctx, rc, once ? 0 : next, backoff);
        if (once)
            return rc == 0 ? 0 : EXIT_RUN_FAILED;
        if (ctx->stopping || !host_sleep(ctx, next - ngsi_now()))
            return 0;
    }
}

/* ---------------------------------------------------------------- main */

static void child_signals(sigset_t *stop)
{
    sigemptyset(stop);
    sigaddset(stop, SIGTERM);
    sigaddset(stop, SIGINT);
    sigaddset(stop, SIGHUP);
    sigprocmask(SIG_SETMASK, stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* When the supervisor dies, so do we: no orphaned adapters. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static void ctx_close(adapter_ctx *ctx)
{
    host_batch_free(&ctx->batch);
    host_state_close(&ctx->state);
    if (ctx->upstream)
        curl_easy_cleanup(ctx->upstream);
    if (ctx->broker)
        curl_easy_cleanup(ctx->broker);
    json_decref(ctx->links);
    json_decref(ctx->counters);
    free(ctx->token);
}

static int setup(adapter_ctx *ctx, plugin *p, char *msg, size_t msgsz)
{
    if (host_state_open(&ctx->state, ctx->conf->state_dir, ctx->ac->name, msg, msgsz) < 0 ||
        load_plugin(ctx->ac, p, msg, msgsz) < 0)
        return -1;
    ctx->upstream = host_curl_new();
    ctx->broker = host_curl_new();
    ctx->links = json_object();
    ctx->counters = json_object();
    if (p->init(ctx, &HOST_API, ctx->ac->options, &p->userdata) != 0) {
        snprintf(msg, msgsz, "init refused to start: %.400s",
                 ctx->run.failed ? ctx->run.error : "no reason given");
        return -1;
    }
    p->initialised = true;
    if (ctx->poll == NULL) {
        snprintf(msg, msgsz, "init registered no poll callback (host->set_poll)");
        return -1;
    }
    return 0;
}

int host_child_main(const host_conf *c, const char *name, bool once)
{
    sigset_t stop;
    char msg[HOST_ERROR_MAX] = "";
    plugin p = {0};
    adapter_ctx ctx = {.conf = c, .ac = host_conf_find(c, name), .stop_signals = &stop};
    child_signals(&stop);
    if (ctx.ac == NULL) {
        host_log(ADAPTER_LOG_ERROR, "no adapter named %s in the configuration", name);
        return EXIT_SETUP;
    }
    int rc = setup(&ctx, &p, msg, sizeof msg);
    if (rc < 0) {
        host_log(ADAPTER_LOG_ERROR, "adapter=%s | %s", name, msg);
        report(json_pack("{s:s,s:s}", "event", "fatal", "error", msg));
        rc = EXIT_SETUP;
    } else {
        report(json_pack("{s:s,s:f}", "event", "ready", "interval", interval_of(&ctx)));
        rc = run_loop(&ctx, &p, once);
    }
    if (p.initialised)
        p.cleanup(&ctx, p.userdata);
    ctx_close(&ctx);
    return rc;
}
