/*
 * auth/auth_private.h: helpers shared by the files of the auth module (the library and
 * the tsunagi-token tool). Nothing outside auth/ includes this.
 */
#ifndef TSUNAGI_AUTH_PRIVATE_H
#define TSUNAGI_AUTH_PRIVATE_H

#include "auth/auth.h"

#include <stdatomic.h>
#include <stdint.h>

#include <jwt.h>
#include <openssl/evp.h>

/* ---- errors (error.c) ---- */

/* Fills in err (if not NULL) for code with a printf-style description. Returns -1 so
 * that callers can `return auth_fail(...)`. */
int auth_fail(auth_error *err, auth_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- base64url without padding, RFC 7515 section 2 (b64url.c) ---- */

/* Decodes len characters of in. Returns a new buffer (free()) with a NUL after the
 * *out_len bytes, or NULL if in is not unpadded base64url or memory ran out. */
unsigned char *auth_b64url_decode(const char *in, size_t len, size_t *out_len);
/* Returns a new NUL-terminated string (free()), or NULL if memory ran out. */
char *auth_b64url_encode(const unsigned char *in, size_t len);

/* ---- files (keyset.c) ---- */

/* Largest key or secret file read: a JWKS with dozens of RSA-4096 keys fits easily. */
#define AUTH_KEY_FILE_MAX (1024 * 1024)

/* Reads a whole file. Returns a new NUL-terminated buffer (free()) holding *len bytes,
 * or NULL with err filled in (AUTH_E_CONFIG). */
char *auth_read_file(const char *path, size_t *len, auth_error *err);

/* ---- keys (jwk.c) ---- */

/* Smallest RSA modulus accepted, in bits (RFC 7518 section 3.3 requires 2048). */
#define AUTH_RSA_MIN_BITS 2048
/* Shortest HS256 secret, in bytes (RFC 7518 section 3.2: at least the hash size). */
#define AUTH_HS256_SECRET_MIN 32

/* The JWS alg a public or private key is used with: JWT_ALG_RS256 for RSA keys of at
 * least AUTH_RSA_MIN_BITS, JWT_ALG_ES256 for P-256 keys; else JWT_ALG_INVAL with err
 * filled in (AUTH_E_CONFIG). */
jwt_alg_t auth_pkey_alg(EVP_PKEY *pkey, auth_error *err);

/* Public key of an RSA or EC (P-256) JWK. Returns a new key (EVP_PKEY_free()), or
 * NULL with err filled in (AUTH_E_CONFIG). */
EVP_PKEY *auth_jwk_to_pkey(const json_t *jwk, auth_error *err);

/* Public JWK of pkey with kid, use "sig" and alg. Returns a new reference, or NULL with
 * err filled in. */
json_t *auth_jwk_from_pkey(EVP_PKEY *pkey, const char *kid, auth_error *err);

/* RFC 7638 thumbprint (base64url SHA-256 of the canonical public JWK) of pkey. Returns
 * a new string (free()), or NULL with err filled in. */
char *auth_jwk_thumbprint(EVP_PKEY *pkey, auth_error *err);

/* PEM ("PUBLIC KEY") of pkey's public part. Returns a new buffer (free()) of *len
 * bytes plus a NUL, or NULL with err filled in. */
char *auth_pkey_public_pem(EVP_PKEY *pkey, size_t *len, auth_error *err);

/* ---- key sets (keyset.c) ---- */

/* One verification key. material is what libjwt 1.10's jwt_decode() takes as key for
 * alg: the raw secret for HS256, a public-key PEM for RS256/ES256. */
typedef struct auth_key {
    char *kid; /* NULL if the key has none */
    jwt_alg_t alg;
    unsigned char *material;
    int material_len;
} auth_key;

/* An immutable, reference-counted set of keys: readers hold a reference while they
 * verify, a reload swaps in a new set and drops the old one's last reference. */
typedef struct auth_keyset {
    atomic_uint refs;
    unsigned long generation;
    size_t count;
    auth_key *keys;
} auth_keyset;

/* Where keys come from; the strings are borrowed. */
typedef struct auth_key_source {
    const unsigned char *secret; /* inline secret, or NULL */
    size_t secret_len;
    const char *secret_file;
    const char *secret_kid;
    const char *key_file;
    const char *key_kid;
} auth_key_source;

/* Loads every configured key. Returns a new set with one reference, or NULL with err
 * filled in (AUTH_E_CONFIG). */
auth_keyset *auth_keyset_load(const auth_key_source *src, unsigned long generation,
                              auth_error *err);
void auth_keyset_incref(auth_keyset *ks);
void auth_keyset_decref(auth_keyset *ks);

/* The key a token with header kid (NULL if absent) must be verified with. Returns a key
 * borrowed from ks, or NULL with err filled in (AUTH_E_UNKNOWN_KID). */
const auth_key *auth_keyset_find(const auth_keyset *ks, const char *kid, auth_error *err);

/* Parses the keys of a JWKS document into ks (appending). */
int auth_jwks_parse(const char *text, size_t len, auth_keyset *ks, auth_error *err);

/* Appends a key to ks, taking ownership of kid and material (freed on failure too). */
int auth_keyset_add(auth_keyset *ks, char *kid, jwt_alg_t alg, unsigned char *material,
                    size_t material_len, auth_error *err);

/* ---- tokens (token_parse.c) ---- */

/* Splits a compact JWS and decodes its JSON header and claims (objects, duplicate
 * names rejected). *sig_len gets the length of the signature segment. Returns 0 with
 * new references in *header and *claims, or -1 with err (AUTH_E_MALFORMED). */
int auth_token_parse(const char *token, json_t **header, json_t **claims, size_t *sig_len,
                     auth_error *err);

/* Latest NumericDate accepted: 9999-12-31T23:59:59Z, beyond any real expiry. */
#define AUTH_TIME_MAX 253402300799LL

/* Reads NumericDate claim `name` (integer or real seconds) of claims. Returns 1 with
 * *out set, 0 if absent, -1 with err (AUTH_E_CLAIMS) if not a valid date. */
int auth_claim_time(const json_t *claims, const char *name, time_t *out, auth_error *err);

/* ---- cache of verified tokens (token_cache.c) ---- */

#define AUTH_DIGEST_LEN 32 /* SHA-256 */

typedef struct auth_token_cache auth_token_cache;

/* Returns a new cache holding about `entries` tokens (free with
 * auth_token_cache_free()), or NULL if memory ran out. */
auth_token_cache *auth_token_cache_new(size_t entries);
void auth_token_cache_free(auth_token_cache *c);

/* The principal cached for digest, if it was verified with key set `generation` and
 * valid_from <= now < expires. Returns a new reference or NULL. */
auth_principal *auth_token_cache_get(auth_token_cache *c, const unsigned char *digest,
                                     unsigned long generation, time_t now);
/* Caches p (taking a new reference) for [valid_from, expires). */
void auth_token_cache_put(auth_token_cache *c, const unsigned char *digest,
                          unsigned long generation, time_t valid_from, time_t expires,
                          auth_principal *p);
void auth_token_cache_stats(auth_token_cache *c, auth_cache_stats *stats);

#endif
