/*
 * auth/token_cache.c: a bounded, thread-safe cache of verified tokens, so that an
 * authenticated request costs a SHA-256 and a short locked lookup instead of a JSON
 * parse and a signature check.
 *
 * Keyed by the SHA-256 of the token string: the cache never holds tokens themselves
 * (they are credentials), and a 32-byte key compares quickly. The table is
 * set-associative (CACHE_WAYS slots per set, chosen by the digest) and has a fixed
 * size, so memory stays bounded without an LRU list; a full set replaces the entry
 * that expires first. Sets are guarded by striped mutexes.
 *
 * Every entry remembers the generation of the key set that verified it and its
 * validity window [valid_from, expires), where expires is the token's exp: a lookup
 * only hits for the current generation inside that window. So a key reload
 * invalidates everything at once without walking the table, and a cached token never
 * outlives its exp. Failed verifications are not cached.
 */
#include "auth/auth_private.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Slots per set: a few hot tokens that land in one set can coexist, and a lookup
 * still scans only four slots. */
#define CACHE_WAYS 4
/* Lock stripes: enough that a few dozen request threads rarely wait for each other. */
#define CACHE_STRIPES 16

typedef struct cache_entry {
    unsigned char digest[AUTH_DIGEST_LEN];
    unsigned long generation;
    time_t valid_from;
    time_t expires;
    auth_principal *principal; /* NULL: the slot is free */
} cache_entry;

struct auth_token_cache {
    size_t sets;
    size_t stripes;
    cache_entry *entries; /* sets * CACHE_WAYS */
    pthread_mutex_t locks[CACHE_STRIPES];
    atomic_size_t used;
    atomic_ulong hits;
    atomic_ulong misses;
};

auth_token_cache *auth_token_cache_new(size_t entries)
{
    auth_token_cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->sets = entries > CACHE_WAYS ? (entries + CACHE_WAYS - 1) / CACHE_WAYS : 1;
    c->stripes = c->sets < CACHE_STRIPES ? c->sets : CACHE_STRIPES;
    c->entries = calloc(c->sets * CACHE_WAYS, sizeof(*c->entries));
    if (c->entries == NULL) {
        free(c);
        return NULL;
    }
    for (size_t i = 0; i < c->stripes; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    atomic_init(&c->used, 0);
    atomic_init(&c->hits, 0);
    atomic_init(&c->misses, 0);
    return c;
}

void auth_token_cache_free(auth_token_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->sets * CACHE_WAYS; i++)
        auth_principal_decref(c->entries[i].principal);
    for (size_t i = 0; i < c->stripes; i++)
        pthread_mutex_destroy(&c->locks[i]);
    free(c->entries);
    free(c);
}

static size_t set_of(const auth_token_cache *c, const unsigned char *digest)
{
    uint64_t h = 0;
    memcpy(&h, digest, sizeof(h));
    return (size_t)(h % c->sets);
}

static pthread_mutex_t *lock_of(auth_token_cache *c, size_t set)
{
    return &c->locks[set % c->stripes];
}

auth_principal *auth_token_cache_get(auth_token_cache *c, const unsigned char *digest,
                                     unsigned long generation, time_t now)
{
    size_t set = set_of(c, digest);
    cache_entry *ways = &c->entries[set * CACHE_WAYS];
    auth_principal *found = NULL;
    pthread_mutex_lock(lock_of(c, set));
    for (size_t w = 0; w < CACHE_WAYS; w++) {
        cache_entry *e = &ways[w];
        if (e->principal != NULL && memcmp(e->digest, digest, AUTH_DIGEST_LEN) == 0) {
            if (e->generation == generation && now >= e->valid_from && now < e->expires)
                found = auth_principal_incref(e->principal);
            break;
        }
    }
    pthread_mutex_unlock(lock_of(c, set));
    atomic_fetch_add_explicit(found != NULL ? &c->hits : &c->misses, 1, memory_order_relaxed);
    return found;
}

/* The slot to (re)use in a set: the token's own, a free one, one from an old key set,
 * or else the one that expires first. */
static cache_entry *victim(cache_entry *ways, const unsigned char *digest, unsigned long generation)
{
    cache_entry *best = &ways[0];
    for (size_t w = 0; w < CACHE_WAYS; w++) {
        cache_entry *e = &ways[w];
        if (e->principal == NULL || memcmp(e->digest, digest, AUTH_DIGEST_LEN) == 0)
            return e;
        if (e->generation != generation)
            best = e;
        else if (best->generation == generation && e->expires < best->expires)
            best = e;
    }
    return best;
}

void auth_token_cache_put(auth_token_cache *c, const unsigned char *digest,
                          unsigned long generation, time_t valid_from, time_t expires,
                          auth_principal *p)
{
    size_t set = set_of(c, digest);
    auth_principal_incref(p);
    pthread_mutex_lock(lock_of(c, set));
    cache_entry *e = victim(&c->entries[set * CACHE_WAYS], digest, generation);
    auth_principal *old = e->principal;
    memcpy(e->digest, digest, AUTH_DIGEST_LEN);
    e->generation = generation;
    e->valid_from = valid_from;
    e->expires = expires;
    e->principal = p;
    pthread_mutex_unlock(lock_of(c, set));
    if (old == NULL)
        atomic_fetch_add_explicit(&c->used, 1, memory_order_relaxed);
    /* Outside the lock: freeing a principal need not hold up other threads. */
    auth_principal_decref(old);
}

void auth_token_cache_stats(auth_token_cache *c, auth_cache_stats *stats)
{
    stats->hits = atomic_load_explicit(&c->hits, memory_order_relaxed);
    stats->misses = atomic_load_explicit(&c->misses, memory_order_relaxed);
    stats->entries = atomic_load_explicit(&c->used, memory_order_relaxed);
    stats->capacity = c->sets * CACHE_WAYS;
}
