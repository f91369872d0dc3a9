/*
 * broker/metrics.c: process-wide counters for /statistics.
 *
 * Relaxed atomics: the counters are independent figures read for
 * reporting, so no ordering between them is needed and the hot path pays
 * one uncontended atomic add.
 */
#include "broker.h"

#include <stdatomic.h>

static _Atomic uint64_t requests, errors_4xx, errors_5xx, expired_purged;

void metrics_count_request(int status)
{
    atomic_fetch_add_explicit(&requests, 1, memory_order_relaxed);
    if (status >= 500)
        atomic_fetch_add_explicit(&errors_5xx, 1, memory_order_relaxed);
    else if (status >= 400)
        atomic_fetch_add_explicit(&errors_4xx, 1, memory_order_relaxed);
}

void metrics_add_purged(uint64_t n)
{
    atomic_fetch_add_explicit(&expired_purged, n, memory_order_relaxed);
}

void metrics_snapshot(broker_metrics *out)
{
    out->requests = atomic_load_explicit(&requests, memory_order_relaxed);
    out->errors_4xx = atomic_load_explicit(&errors_4xx, memory_order_relaxed);
    out->errors_5xx = atomic_load_explicit(&errors_5xx, memory_order_relaxed);
    out->expired_purged = atomic_load_explicit(&expired_purged, memory_order_relaxed);
}
