/*
 * tests/unit/test_auth_cache.c: the cache of verified tokens: hits, expiry at the
 * token's exp, invalidation on key reload, the size bound, failures not cached, and
 * many threads verifying while the keys are reloaded.
 */
#include "auth_test_util.h"

#include <pthread.h>

static auth_verifier *cached_verifier(size_t entries)
{
    auth_config cfg;
    auth_config_init(&cfg);
    cfg.secret = TEST_SECRET;
    cfg.cache_entries = entries;
    auth_verifier *v = auth_verifier_new(&cfg, NULL);
    cr_assert_not_null(v);
    return v;
}

static auth_cache_stats stats_of(auth_verifier *v)
{
    auth_cache_stats s;
    auth_verifier_cache_stats(v, &s);
    return s;
}

/* A token for subject sub, valid until now + lifetime. Returns a new string. */
static char *token_for(const char *sub, time_t now, long lifetime)
{
    json_t *c = t_claims(now);
    json_object_set_new(c, "sub", json_string(sub));
    json_object_set_new(c, "exp", json_integer(now + lifetime));
    char *token = t_mint_hs(NULL, c);
    json_decref(c);
    return token;
}

Test(auth_cache, second_verification_is_a_hit)
{
    time_t now = time(NULL);
    auth_verifier *v = cached_verifier(64);
    char *token = token_for("c-001", now, 600);
    auth_principal *first = t_accept(v, token, now);
    auth_principal *second = t_accept(v, token, now);
    auth_cache_stats s = stats_of(v);
    cr_assert_eq(s.misses, 1);
    cr_assert_eq(s.hits, 1);
    cr_assert_eq(s.entries, 1);
    /* The cached principal itself is shared. */
    cr_assert_eq(first, second);
    auth_principal_decref(first);
    auth_principal_decref(second);
    free(token);
    auth_verifier_free(v);
}

Test(auth_cache, entries_expire_at_the_token_exp)
{
    time_t now = time(NULL);
    auth_verifier *v = cached_verifier(64);
    char *token = token_for("c-001", now, 100);
    auth_principal_decref(t_accept(v, token, now));
    auth_principal_decref(t_accept(v, token, now + 99));
    cr_assert_eq(stats_of(v).hits, 1);
    /* At exp the entry is gone; the full check still allows the clock skew... */
    auth_principal_decref(t_accept(v, token, now + 100));
    cr_assert_eq(stats_of(v).hits, 1);
    cr_assert_eq(stats_of(v).misses, 2);
    /* ...and refuses the token once exp + skew has passed. */
    t_assert_rejected(v, token, now + 130, AUTH_E_EXPIRED);
    cr_assert_eq(stats_of(v).hits, 1);
    free(token);
    auth_verifier_free(v);
}

Test(auth_cache, entries_respect_nbf_when_the_clock_goes_back)
{
    time_t now = time(NULL);
    auth_verifier *v = cached_verifier(64);
    json_t *c = t_claims(now);
    json_object_set_new(c, "nbf", json_integer(now + 10));
    char *token = t_mint_hs(NULL, c);
    auth_principal_decref(t_accept(v, token, now));
    t_assert_rejected(v, token, now - 100, AUTH_E_NOT_YET_VALID);
    free(token);
    json_decref(c);
    auth_verifier_free(v);
}

Test(auth_cache, reload_invalidates_entries)
{
    time_t now = time(NULL);
    auth_verifier *v = cached_verifier(64);
    char *token = token_for("c-001", now, 600);
    auth_principal *before = t_accept(v, token, now);
    cr_assert_eq(auth_verifier_reload(v, NULL), 0);
    auth_principal *after = t_accept(v, token, now);
    auth_cache_stats s = stats_of(v);
    cr_assert_eq(s.hits, 0);
    cr_assert_eq(s.misses, 2);
    cr_assert_neq(before, after);
    /* The principal from before the reload stays usable by its holder. */
    cr_assert_str_eq(auth_principal_sub(before), "c-001");
    auth_principal_decref(before);
    auth_principal_decref(after);
    free(token);
    auth_verifier_free(v);
}

Test(auth_cache, size_is_bounded)
{
    time_t now = time(NULL);
    auth_verifier *v = cached_verifier(8);
    cr_assert_eq(stats_of(v).capacity, 8);
    for (int i = 0; i < 50; i++) {
        char sub[16];
        snprintf(sub, sizeof(sub), "c-%03d", i);
        char *token = token_for(sub, now, 600 + i);
        auth_principal_decref(t_accept(v, token, now));
        free(token);
    }
    auth_cache_stats s = stats_of(v);
    cr_assert_leq(s.entries, 8);
    cr_assert_eq(s.misses, 50);
    auth_verifier_free(v);
}

Test(auth_cache, failures_are_not_cached)
{
    time_t now = time(NULL);
    auth_verifier *v = cached_verifier(64);
    char *token = token_for("c-001", now, -100);
    t_assert_rejected(v, token, now, AUTH_E_EXPIRED);
    t_assert_rejected(v, token, now, AUTH_E_EXPIRED);
    cr_assert_eq(stats_of(v).hits, 0);
    cr_assert_eq(stats_of(v).entries, 0);
    free(token);
    auth_verifier_free(v);
}

Test(auth_cache, can_be_disabled)
{
    time_t now = time(NULL);
    auth_verifier *v = cached_verifier(0);
    char *token = token_for("c-001", now, 600);
    auth_principal *a = t_accept(v, token, now);
    auth_principal *b = t_accept(v, token, now);
    cr_assert_neq(a, b);
    auth_cache_stats s = stats_of(v);
    cr_assert_eq(s.hits + s.misses + s.entries + s.capacity, 0);
    auth_principal_decref(a);
    auth_principal_decref(b);
    free(token);
    auth_verifier_free(v);
}

Test(auth_cache, principal_outlives_the_verifier)
{
    time_t now = time(NULL);
    auth_verifier *v = cached_verifier(64);
    char *token = token_for("c-001", now, 600);
    auth_principal *p = t_accept(v, token, now);
    auth_verifier_free(v);
    cr_assert_str_eq(auth_principal_sub(p), "c-001");
    auth_principal_decref(p);
    free(token);
}

/* ---- threads ---- */

#define THREADS 8
#define ROUNDS  300
#define TOKENS  4

typedef struct worker {
    auth_verifier *v;
    char **tokens;
    time_t now;
    int failures;
} worker;

static void *verify_loop(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < ROUNDS; i++) {
        auth_error err;
        auth_principal *p = auth_verify_at(w->v, w->tokens[i % TOKENS], w->now, &err);
        if (p == NULL || strncmp(auth_principal_sub(p), "c-", 2) != 0)
            w->failures++;
        auth_principal_decref(p);
    }
    return NULL;
}

Test(auth_cache, concurrent_verification_during_reloads)
{
    time_t now = time(NULL);
    auth_verifier *v = cached_verifier(16);
    char *tokens[TOKENS];
    for (int i = 0; i < TOKENS; i++) {
        char sub[16];
        snprintf(sub, sizeof(sub), "c-%d", i);
        tokens[i] = token_for(sub, now, 600);
    }
    pthread_t threads[THREADS];
    worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (worker){v, tokens, now, 0};
        cr_assert_eq(pthread_create(&threads[i], NULL, verify_loop, &workers[i]), 0);
    }
    for (int i = 0; i < 50; i++)
        cr_assert_eq(auth_verifier_reload(v, NULL), 0);
    for (int i = 0; i < THREADS; i++) {
        cr_assert_eq(pthread_join(threads[i], NULL), 0);
        cr_assert_eq(workers[i].failures, 0);
    }
    auth_cache_stats s = stats_of(v);
    cr_assert_eq(s.hits + s.misses, THREADS * ROUNDS);
    cr_assert_eq(auth_verifier_generation(v), 51);
    for (int i = 0; i < TOKENS; i++)
        free(tokens[i]);
    auth_verifier_free(v);
}
