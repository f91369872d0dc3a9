/*
 * tests/adapters/crash_adapter.c: an adapter that crashes on purpose, to
 * show that a crashing plugin takes down only its own process.
 *
 * Each run writes one CrashProbe entity (so the crash comes after real
 * work), then, on run number crashOnRun of its process (option, default 1),
 * raises SIGSEGV as a stray pointer would.
 */
#include "adapter.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct crash {
    const adapter_host *h;
    long crash_on, runs;
} crash;

static int poll_crash(adapter_ctx *ctx, void *userdata)
{
    crash *c = userdata;
    char id[64];
    snprintf(id, sizeof id, "crash-probe-%d", (int)getpid());
    json_t *e = adapter_entity_new(id, "CrashProbe");
    adapter_attr_set(e, "run", "Number", json_integer(++c->runs));
    if (c->h->put_entity(ctx, e) < 0 || c->h->flush(ctx) < 0)
        return -1;
    if (c->runs == c->crash_on) {
        c->h->log(ctx, ADAPTER_LOG_WARN, "crashing on purpose (run %ld)", c->runs);
        raise(SIGSEGV);
    }
    return 0;
}

int tsunagi_adapter_version(int n, const int *versions)
{
    for (int i = 0; i < n; i++)
        if (versions[i] == TSUNAGI_ADAPTER_API_VERSION)
            return TSUNAGI_ADAPTER_API_VERSION;
    return -1;
}

int tsunagi_adapter_init(adapter_ctx *ctx, const adapter_host *h, const json_t *options,
                         void **userdata)
{
    json_t *v = json_object_get(options, "crashOnRun");
    crash *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -1;
    c->h = h;
    c->crash_on = v ? (long)json_integer_value(v) : 1;
    *userdata = c;
    return h->set_poll(ctx, poll_crash, 1.0);
}

void tsunagi_adapter_cleanup(adapter_ctx *ctx, void *userdata)
{
    free(userdata);
}
