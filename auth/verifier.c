/*
 * auth/verifier.c: verifying bearer tokens against the configured keys and policy.
 *
 * The order of checks matters:
 *   1. cache: a token verified before with the current key set and still inside its
 *      validity window costs one SHA-256 and a locked lookup;
 *   2. structure (token_parse.c), then the header: alg "none" is refused, the kid picks
 *      the key, and the token's alg must equal the key's alg. libjwt 1.10 verifies with
 *      whatever alg the token names (an HS256 token checked against a PEM public key
 *      would be HMAC'ed with the PEM text as secret), so this comparison is what stops
 *      alg confusion. jwt_decode() is never called with a NULL key: libjwt 1.10 then
 *      accepts any signature unchecked;
 *   3. the signature (libjwt);
 *   4. only then the claims: exp (required), nbf, iss, aud, and the principal's claims.
 *      Reporting claim errors only for correctly signed tokens gives nobody a way to
 *      probe the policy with forged tokens.
 *
 * Key rotation: the current key set is an immutable, reference-counted auth_keyset.
 * A verification takes a reference under a mutex held only to read the pointer and
 * bump its count; a reload builds the new set without any lock readers need, then
 * swaps the pointer. Reloads
 * happen on auth_verifier_reload() (SIGHUP) and when a watched file's device, inode,
 * size or mtime changed; that check runs at most once per second of the clock the
 * caller passes, and only one thread does it (compare-and-swap on the last second
 * checked; a failed trylock skips it while another reload runs). Files are stat'ed
 * before they are read, so a change during a reload is noticed by the next check. A
 * failed automatic reload keeps the old keys and is retried at the next check; its
 * error is kept for auth_verifier_reload_status().
 */
#include "auth/auth_private.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

/* What identifies a version of a watched file. */
typedef struct file_sig {
    bool present;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} file_sig;

struct auth_verifier {
    /* configuration, immutable after creation */
    char *issuer;
    char *audience;
    long skew;
    unsigned char *secret;
    size_t secret_len;
    char *secret_file;
    char *secret_kid;
    char *key_file;
    char *key_kid;
    EVP_MD *sha256;
    auth_token_cache *cache; /* NULL when disabled */

    pthread_mutex_t keys_lock; /* guards the keys pointer */
    auth_keyset *keys;

    pthread_mutex_t reload_lock; /* serialises reloads; guards the fields below */
    file_sig key_sig;
    file_sig secret_sig;
    unsigned long generation;
    bool reload_failed;
    auth_error reload_error;

    atomic_llong last_check; /* the second of the last file check */
};

void auth_config_init(auth_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->clock_skew = AUTH_DEFAULT_CLOCK_SKEW;
    cfg->cache_entries = AUTH_DEFAULT_CACHE_ENTRIES;
}

/* ---- key set swapping and file watching ---- */

static file_sig sig_of(const char *path)
{
    file_sig sig = {0};
    struct stat st;
    if (path != NULL && stat(path, &st) == 0)
        sig = (file_sig){true, st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    return sig;
}

static bool sig_equal(const file_sig *a, const file_sig *b)
{
    return a->present == b->present && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static auth_keyset *keys_acquire(auth_verifier *v)
{
    pthread_mutex_lock(&v->keys_lock);
    auth_keyset *ks = v->keys;
    auth_keyset_incref(ks);
    pthread_mutex_unlock(&v->keys_lock);
    return ks;
}

/* Loads the keys and swaps them in. Called with reload_lock held. */
static int reload_locked(auth_verifier *v, auth_error *err)
{
    file_sig key_sig = sig_of(v->key_file);
    file_sig secret_sig = sig_of(v->secret_file);
    auth_key_source src = {v->secret,     v->secret_len, v->secret_file,
                           v->secret_kid, v->key_file,   v->key_kid};
    auth_error local;
    auth_keyset *ks = auth_keyset_load(&src, v->generation + 1, &local);
    v->reload_failed = ks == NULL;
    if (ks == NULL) {
        v->reload_error = local;
        if (err != NULL)
            *err = local;
        return -1;
    }
    v->generation++;
    v->key_sig = key_sig;
    v->secret_sig = secret_sig;
    pthread_mutex_lock(&v->keys_lock);
    auth_keyset *old = v->keys;
    v->keys = ks;
    pthread_mutex_unlock(&v->keys_lock);
    auth_keyset_decref(old);
    return 0;
}

int auth_verifier_reload(auth_verifier *v, auth_error *err)
{
    pthread_mutex_lock(&v->reload_lock);
    int rc = reload_locked(v, err);
    pthread_mutex_unlock(&v->reload_lock);
    return rc;
}

int auth_verifier_reload_status(auth_verifier *v, auth_error *err)
{
    pthread_mutex_lock(&v->reload_lock);
    bool failed = v->reload_failed;
    if (failed && err != NULL)
        *err = v->reload_error;
    pthread_mutex_unlock(&v->reload_lock);
    return failed ? -1 : 0;
}

/* True if a watched file exists and differs from the version last loaded. A file that
 * vanished does not count: keep the keys we have rather than fail every request. */
static bool files_changed(const auth_verifier *v)
{
    file_sig key_sig = sig_of(v->key_file);
    file_sig secret_sig = sig_of(v->secret_file);
    return (key_sig.present && !sig_equal(&key_sig, &v->key_sig)) ||
           (secret_sig.present && !sig_equal(&secret_sig, &v->secret_sig));
}

static void maybe_reload(auth_verifier *v, time_t now)
{
    if (v->key_file == NULL && v->secret_file == NULL)
        return;
    long long last = atomic_load_explicit(&v->last_check, memory_order_relaxed);
    /* "Differs" rather than "later": a clock stepped backwards must not stop checks. */
    if (last == (long long)now ||
        !atomic_compare_exchange_strong(&v->last_check, &last, (long long)now))
        return;
    if (pthread_mutex_trylock(&v->reload_lock) != 0)
        return;
    if (files_changed(v))
        reload_locked(v, NULL);
    pthread_mutex_unlock(&v->reload_lock);
}

size_t auth_verifier_key_count(auth_verifier *v)
{
    auth_keyset *ks = keys_acquire(v);
    size_t n = ks->count;
    auth_keyset_decref(ks);
    return n;
}

unsigned long auth_verifier_generation(auth_verifier *v)
{
    auth_keyset *ks = keys_acquire(v);
    unsigned long g = ks->generation;
    auth_keyset_decref(ks);
    return g;
}

void auth_verifier_cache_stats(auth_verifier *v, auth_cache_stats *stats)
{
    memset(stats, 0, sizeof(*stats));
    if (v->cache != NULL)
        auth_token_cache_stats(v->cache, stats);
}

/* ---- creation ---- */

static int copy_str(const char *in, char **out)
{
    *out = in != NULL ? strdup(in) : NULL;
    return in != NULL && *out == NULL ? -1 : 0;
}

static int copy_config(auth_verifier *v, const auth_config *cfg)
{
    if (cfg->secret != NULL) {
        v->secret_len = strlen(cfg->secret);
        v->secret = (unsigned char *)strdup(cfg->secret);
        if (v->secret == NULL)
            return -1;
    }
    v->skew = cfg->clock_skew;
    return copy_str(cfg->issuer, &v->issuer) | copy_str(cfg->audience, &v->audience) |
           copy_str(cfg->secret_file, &v->secret_file) | copy_str(cfg->secret_kid, &v->secret_kid) |
           copy_str(cfg->key_file, &v->key_file) | copy_str(cfg->key_kid, &v->key_kid);
}

static int check_config(const auth_config *cfg, auth_error *err)
{
    if (cfg->secret != NULL && cfg->secret_file != NULL)
        return auth_fail(err, AUTH_E_CONFIG, "give either an inline secret or a secret file");
    if (cfg->clock_skew < 0 || cfg->clock_skew > AUTH_MAX_CLOCK_SKEW)
        return auth_fail(err, AUTH_E_CONFIG, "clock skew must be 0 to %d seconds",
                         AUTH_MAX_CLOCK_SKEW);
    return 0;
}

auth_verifier *auth_verifier_new(const auth_config *cfg, auth_error *err)
{
    if (check_config(cfg, err) < 0)
        return NULL;
    auth_verifier *v = calloc(1, sizeof(*v));
    if (v == NULL) {
        auth_fail(err, AUTH_E_INTERNAL, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&v->keys_lock, NULL);
    pthread_mutex_init(&v->reload_lock, NULL);
    atomic_init(&v->last_check, (long long)time(NULL));
    if (copy_config(v, cfg) != 0 || (v->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
        (cfg->cache_entries > 0 && (v->cache = auth_token_cache_new(cfg->cache_entries)) == NULL)) {
        auth_fail(err, AUTH_E_INTERNAL, "out of memory");
        auth_verifier_free(v);
        return NULL;
    }
    if (auth_verifier_reload(v, err) < 0) {
        auth_verifier_free(v);
        return NULL;
    }
    return v;
}

void auth_verifier_free(auth_verifier *v)
{
    if (v == NULL)
        return;
    auth_keyset_decref(v->keys);
    auth_token_cache_free(v->cache);
    EVP_MD_free(v->sha256);
    if (v->secret != NULL)
        OPENSSL_cleanse(v->secret, v->secret_len);
    free(v->secret);
    free(v->issuer);
    free(v->audience);
    free(v->secret_file);
    free(v->secret_kid);
    free(v->key_file);
    free(v->key_kid);
    pthread_mutex_destroy(&v->keys_lock);
    pthread_mutex_destroy(&v->reload_lock);
    free(v);
}

/* ---- verification ---- */

/* Refuses headers we cannot or will not verify, whatever the key. */
static int check_header_fields(const json_t *header, auth_error *err)
{
    const char *alg = json_string_value(json_object_get(header, "alg"));
    const json_t *typ = json_object_get(header, "typ");
    const json_t *kid = json_object_get(header, "kid");
    if (alg == NULL)
        return auth_fail(err, AUTH_E_MALFORMED, "malformed token: header has no alg");
    if (strcasecmp(alg, "none") == 0)
        return auth_fail(err, AUTH_E_ALG_NONE, "unsigned tokens (alg none) are not accepted");
    /* libjwt 1.10 refuses any other typ, e.g. RFC 9068's "at+jwt". */
    if (typ != NULL && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT") != 0))
        return auth_fail(err, AUTH_E_MALFORMED, "malformed token: typ must be JWT");
    if (json_object_get(header, "crit") != NULL)
        return auth_fail(err, AUTH_E_MALFORMED, "malformed token: crit header is not supported");
    if (kid != NULL && !json_is_string(kid))
        return auth_fail(err, AUTH_E_MALFORMED, "malformed token: kid is not a string");
    return 0;
}

/* The key the token must verify with: chosen by kid, and its alg must be the token's. */
static const auth_key *key_for(const auth_keyset *ks, const json_t *header, size_t sig_len,
                               auth_error *err)
{
    if (check_header_fields(header, err) < 0)
        return NULL;
    const char *alg = json_string_value(json_object_get(header, "alg"));
    const auth_key *key =
        auth_keyset_find(ks, json_string_value(json_object_get(header, "kid")), err);
    if (key == NULL)
        return NULL;
    if (strcmp(alg, jwt_alg_str(key->alg)) != 0) {
        auth_fail(err, AUTH_E_ALG_MISMATCH, "token alg does not match its key, which is %s",
                  jwt_alg_str(key->alg));
        return NULL;
    }
    if (sig_len == 0) {
        auth_fail(err, AUTH_E_SIGNATURE, "token signature is missing");
        return NULL;
    }
    return key;
}

static int check_signature(const char *token, const auth_key *key, auth_error *err)
{
    jwt_t *jwt = NULL;
    int rc = jwt_decode(&jwt, token, key->material, key->material_len);
    jwt_free(jwt);
    if (rc == ENOMEM)
        return auth_fail(err, AUTH_E_INTERNAL, "out of memory verifying the token");
    return rc == 0 ? 0 : auth_fail(err, AUTH_E_SIGNATURE, "token signature is invalid");
}

static bool audience_contains(const json_t *aud, const char *want)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    for (size_t i = 0; i < json_array_size(aud); i++) {
        const char *s = json_string_value(json_array_get(aud, i));
        if (s != NULL && strcmp(s, want) == 0)
            return true;
    }
    return false;
}

/* Time window: fills *exp and *valid_from (the earliest time the token is accepted). */
static int check_times(const auth_verifier *v, const json_t *claims, time_t now, time_t *exp,
                       time_t *valid_from, auth_error *err)
{
    time_t nbf = 0;
    int has_exp = auth_claim_time(claims, "exp", exp, err);
    int has_nbf = has_exp >= 0 ? auth_claim_time(claims, "nbf", &nbf, err) : -1;
    if (has_exp < 0 || has_nbf < 0)
        return -1;
    if (has_exp == 0)
        return auth_fail(err, AUTH_E_CLAIMS, "invalid claim: exp is required");
    if (now >= *exp + v->skew)
        return auth_fail(err, AUTH_E_EXPIRED, "token has expired");
    if (has_nbf && now + v->skew < nbf)
        return auth_fail(err, AUTH_E_NOT_YET_VALID, "token is not valid yet (nbf)");
    *valid_from = has_nbf ? nbf - v->skew : 0;
    return 0;
}

static int check_iss_aud(const auth_verifier *v, const json_t *claims, auth_error *err)
{
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    if (v->issuer != NULL && (iss == NULL || strcmp(iss, v->issuer) != 0))
        return auth_fail(err, AUTH_E_ISSUER, "token issuer is not accepted");
    if (v->audience != NULL && !audience_contains(json_object_get(claims, "aud"), v->audience))
        return auth_fail(err, AUTH_E_AUDIENCE, "token audience does not include this broker");
    return 0;
}

/* Everything after the cache: returns a new principal or NULL with err. */
static auth_principal *verify_token(const auth_verifier *v, const auth_keyset *ks,
                                    const char *token, time_t now, time_t *valid_from,
                                    auth_error *err)
{
    json_t *header = NULL, *claims = NULL;
    size_t sig_len = 0;
    if (auth_token_parse(token, &header, &claims, &sig_len, err) < 0)
        return NULL;
    auth_principal *p = NULL;
    time_t exp = 0;
    const auth_key *key = key_for(ks, header, sig_len, err);
    /* The principal reads exp from the same claims that check_times() checked. */
    if (key != NULL && check_signature(token, key, err) == 0 &&
        check_times(v, claims, now, &exp, valid_from, err) == 0 &&
        check_iss_aud(v, claims, err) == 0)
        p = auth_principal_from_claims(claims, err);
    json_decref(header);
    json_decref(claims);
    return p;
}

auth_principal *auth_verify_at(auth_verifier *v, const char *token, time_t now, auth_error *err)
{
    if (token == NULL || *token == '\0') {
        auth_fail(err, AUTH_E_MISSING,
                  "no access token: send Authorization: Bearer <token> or X-Auth-Token");
        return NULL;
    }
    size_t len = strnlen(token, AUTH_TOKEN_MAX + 1);
    if (len > AUTH_TOKEN_MAX) {
        auth_fail(err, AUTH_E_MALFORMED, "malformed token: longer than %d bytes", AUTH_TOKEN_MAX);
        return NULL;
    }
    maybe_reload(v, now);
    auth_keyset *ks = keys_acquire(v);
    unsigned char digest[AUTH_DIGEST_LEN];
    bool cacheable = v->cache != NULL && EVP_Digest(token, len, digest, NULL, v->sha256, NULL) == 1;
    auth_principal *p =
        cacheable ? auth_token_cache_get(v->cache, digest, ks->generation, now) : NULL;
    if (p == NULL) {
        time_t valid_from = 0;
        p = verify_token(v, ks, token, now, &valid_from, err);
        if (p != NULL && cacheable)
            auth_token_cache_put(v->cache, digest, ks->generation, valid_from,
                                 auth_principal_expires(p), p);
    }
    auth_keyset_decref(ks);
    return p;
}

auth_principal *auth_verify(auth_verifier *v, const char *token, auth_error *err)
{
    return auth_verify_at(v, token, time(NULL), err);
}
