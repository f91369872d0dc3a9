/*
 * auth/keyset.c: loading verification keys into an immutable, reference-counted key
 * set.
 *
 * Sources: an HS256 secret (inline or from a file), and one key file holding either a
 * PEM public key (RSA or EC P-256) or a JWKS. The file's format is recognised from its
 * first character ('{' is a JWKS), so operators cannot get a format switch wrong.
 *
 * Every key carries the one alg it verifies (HS256 for secrets, RS256 for RSA, ES256
 * for P-256). The verifier accepts a token only if its alg equals its key's alg: the
 * key decides, never the token, which rules out alg confusion.
 *
 * JWKS entries that are not for us (RFC 7517 section 5: unknown kty; "use" other than
 * "sig"; an "alg" we do not verify; EC curves other than P-256) are skipped, so an
 * identity provider's full JWKS can be used as is. Entries that are meant for us but
 * broken fail the whole load: a reload then keeps the previous keys instead of silently
 * losing one. Duplicate kids are refused because a kid must pick exactly one key.
 *
 * A key set is never changed after loading; readers take a reference for the duration
 * of one verification, and the last reference frees it.
 */
#include "auth/auth_private.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

char *auth_read_file(const char *path, size_t *len, auth_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        auth_fail(err, AUTH_E_CONFIG, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    char *buf = NULL;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > AUTH_KEY_FILE_MAX) {
        auth_fail(err, AUTH_E_CONFIG, "%s is not a regular file of at most %d bytes", path,
                  AUTH_KEY_FILE_MAX);
    } else if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
        auth_fail(err, AUTH_E_INTERNAL, "out of memory reading %s", path);
    } else {
        *len = fread(buf, 1, (size_t)st.st_size, f);
        buf[*len] = '\0';
        if (ferror(f)) {
            auth_fail(err, AUTH_E_CONFIG, "cannot read %s", path);
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

/* ---- key sets ---- */

static void key_clear(auth_key *k)
{
    free(k->kid);
    if (k->material != NULL)
        OPENSSL_cleanse(k->material, (size_t)k->material_len);
    free(k->material);
}

static void keyset_free(auth_keyset *ks)
{
    for (size_t i = 0; i < ks->count; i++)
        key_clear(&ks->keys[i]);
    free(ks->keys);
    free(ks);
}

void auth_keyset_incref(auth_keyset *ks)
{
    atomic_fetch_add_explicit(&ks->refs, 1, memory_order_relaxed);
}

void auth_keyset_decref(auth_keyset *ks)
{
    if (ks != NULL && atomic_fetch_sub_explicit(&ks->refs, 1, memory_order_acq_rel) == 1)
        keyset_free(ks);
}

static bool kid_taken(const auth_keyset *ks, const char *kid)
{
    for (size_t i = 0; kid != NULL && i < ks->count; i++)
        if (ks->keys[i].kid != NULL && strcmp(ks->keys[i].kid, kid) == 0)
            return true;
    return false;
}

int auth_keyset_add(auth_keyset *ks, char *kid, jwt_alg_t alg, unsigned char *material,
                    size_t material_len, auth_error *err)
{
    auth_key key = {kid, alg, material, (int)material_len};
    if (kid_taken(ks, kid)) {
        key_clear(&key);
        return auth_fail(err, AUTH_E_CONFIG, "two keys have the same kid");
    }
    auth_key *keys = realloc(ks->keys, (ks->count + 1) * sizeof(*keys));
    if (keys == NULL) {
        key_clear(&key);
        return auth_fail(err, AUTH_E_INTERNAL, "out of memory loading keys");
    }
    keys[ks->count++] = key;
    ks->keys = keys;
    return 0;
}

/* Copies kid (NULL allowed). Returns 0, or -1 if memory ran out. */
static int dup_kid(const char *kid, char **out)
{
    *out = kid != NULL ? strdup(kid) : NULL;
    return kid != NULL && *out == NULL ? -1 : 0;
}

/* ---- HS256 secrets ---- */

static int add_secret(auth_keyset *ks, const unsigned char *secret, size_t len, const char *kid,
                      auth_error *err)
{
    if (len < AUTH_HS256_SECRET_MIN)
        return auth_fail(err, AUTH_E_CONFIG, "HS256 secret has %zu bytes; at least %d are required",
                         len, AUTH_HS256_SECRET_MIN);
    unsigned char *copy = malloc(len);
    char *kid_copy = NULL;
    if (copy == NULL || dup_kid(kid, &kid_copy) < 0) {
        free(copy);
        return auth_fail(err, AUTH_E_INTERNAL, "out of memory loading the secret");
    }
    memcpy(copy, secret, len);
    return auth_keyset_add(ks, kid_copy, JWT_ALG_HS256, copy, len, err);
}

char *auth_read_secret_file(const char *path, size_t *len, auth_error *err)
{
    char *text = auth_read_file(path, len, err);
    /* Editors and `echo` add a final newline; it is not part of the secret. */
    if (text != NULL && *len > 0 && text[*len - 1] == '\n')
        text[--*len] = '\0';
    if (text != NULL && *len > 0 && text[*len - 1] == '\r')
        text[--*len] = '\0';
    return text;
}

static int load_secret_file(const auth_key_source *src, auth_keyset *ks, auth_error *err)
{
    size_t len = 0;
    char *text = auth_read_secret_file(src->secret_file, &len, err);
    if (text == NULL)
        return -1;
    int rc = add_secret(ks, (unsigned char *)text, len, src->secret_kid, err);
    OPENSSL_cleanse(text, len);
    free(text);
    return rc;
}

/* ---- PEM public keys ---- */

static int add_pkey(auth_keyset *ks, EVP_PKEY *pkey, const char *kid, auth_error *err)
{
    jwt_alg_t alg = auth_pkey_alg(pkey, err);
    if (alg == JWT_ALG_INVAL)
        return -1;
    size_t len = 0;
    char *pem = auth_pkey_public_pem(pkey, &len, err);
    if (pem == NULL)
        return -1;
    char *kid_copy = NULL;
    if (dup_kid(kid, &kid_copy) < 0) {
        free(pem);
        return auth_fail(err, AUTH_E_INTERNAL, "out of memory loading keys");
    }
    return auth_keyset_add(ks, kid_copy, alg, (unsigned char *)pem, len, err);
}

static int load_pem(const char *path, const char *text, size_t len, const char *kid,
                    auth_keyset *ks, auth_error *err)
{
    BIO *bio = BIO_new_mem_buf(text, (int)len);
    EVP_PKEY *pkey = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    /* OpenSSL queues an error per failed parse; this failure is reported here. */
    ERR_clear_error();
    if (pkey == NULL) {
        if (strstr(text, "PRIVATE KEY-----") != NULL)
            return auth_fail(err, AUTH_E_CONFIG,
                             "%s holds a private key; configure the public key instead", path);
        return auth_fail(err, AUTH_E_CONFIG, "%s is neither a PEM public key nor a JWKS", path);
    }
    int rc = add_pkey(ks, pkey, kid, err);
    EVP_PKEY_free(pkey);
    return rc;
}

/* ---- JWKS ---- */

/* The one alg Tsunagi verifies with keys of type kty, or NULL if none. */
static const char *alg_for_kty(const char *kty)
{
    if (strcmp(kty, "RSA") == 0)
        return "RS256";
    if (strcmp(kty, "EC") == 0)
        return "ES256";
    if (strcmp(kty, "oct") == 0)
        return "HS256";
    return NULL;
}

/* True if the JWK is meant for verifying the algs we accept (see the file comment). */
static bool jwk_is_for_us(const json_t *jwk, const char *kty)
{
    const char *want = alg_for_kty(kty);
    const char *use = json_string_value(json_object_get(jwk, "use"));
    const char *alg = json_string_value(json_object_get(jwk, "alg"));
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    if (want == NULL || (use != NULL && strcmp(use, "sig") != 0))
        return false;
    if (alg != NULL && strcmp(alg, want) != 0)
        return false;
    return strcmp(kty, "EC") != 0 || crv == NULL || strcmp(crv, "P-256") == 0;
}

static int add_oct_jwk(const json_t *jwk, const char *kid, auth_keyset *ks, auth_error *err)
{
    const char *k = json_string_value(json_object_get(jwk, "k"));
    size_t len = 0;
    unsigned char *secret = k != NULL ? auth_b64url_decode(k, strlen(k), &len) : NULL;
    if (secret == NULL)
        return auth_fail(err, AUTH_E_CONFIG, "oct JWK has no base64url \"k\"");
    int rc = add_secret(ks, secret, len, kid, err);
    OPENSSL_cleanse(secret, len);
    free(secret);
    return rc;
}

static int add_jwk(const json_t *jwk, auth_keyset *ks, auth_error *err)
{
    if (!json_is_object(jwk))
        return auth_fail(err, AUTH_E_CONFIG, "not an object");
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const json_t *kid_json = json_object_get(jwk, "kid");
    if (kty == NULL)
        return auth_fail(err, AUTH_E_CONFIG, "no \"kty\" string");
    if (kid_json != NULL && !json_is_string(kid_json))
        return auth_fail(err, AUTH_E_CONFIG, "\"kid\" is not a string");
    if (!jwk_is_for_us(jwk, kty))
        return 0;
    const char *kid = json_string_value(kid_json);
    if (strcmp(kty, "oct") == 0)
        return add_oct_jwk(jwk, kid, ks, err);
    EVP_PKEY *pkey = auth_jwk_to_pkey(jwk, err);
    if (pkey == NULL)
        return -1;
    int rc = add_pkey(ks, pkey, kid, err);
    EVP_PKEY_free(pkey);
    return rc;
}

/* Puts "JWKS key <i>: " in front of err's description. */
static int fail_at_key(auth_error *err, size_t index)
{
    if (err != NULL) {
        char why[AUTH_ERROR_TEXT_MAX];
        snprintf(why, sizeof(why), "%s", err->description);
        auth_fail(err, err->code, "JWKS key %zu: %s", index, why);
    }
    return -1;
}

int auth_jwks_parse(const char *text, size_t len, auth_keyset *ks, auth_error *err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL)
        return auth_fail(err, AUTH_E_CONFIG, "JWKS is not valid JSON (line %d: %s)", jerr.line,
                         jerr.text);
    const json_t *keys = json_object_get(doc, "keys");
    int rc = json_is_array(keys) ? 0 : auth_fail(err, AUTH_E_CONFIG, "JWKS has no \"keys\" array");
    for (size_t i = 0; rc == 0 && i < json_array_size(keys); i++) {
        ERR_clear_error();
        if (add_jwk(json_array_get(keys, i), ks, err) < 0)
            rc = fail_at_key(err, i);
    }
    ERR_clear_error();
    json_decref(doc);
    return rc;
}

static int load_key_file(const auth_key_source *src, auth_keyset *ks, auth_error *err)
{
    size_t len = 0;
    char *text = auth_read_file(src->key_file, &len, err);
    if (text == NULL)
        return -1;
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    /* Counted from here: a secret loaded before must not hide a key file that gives
     * nothing, such as a JWKS whose entries are all skipped. */
    size_t before = ks->count;
    int rc = *p == '{' ? auth_jwks_parse(text, len, ks, err)
                       : load_pem(src->key_file, text, len, src->key_kid, ks, err);
    if (rc == 0 && ks->count == before)
        rc = auth_fail(err, AUTH_E_CONFIG, "%s holds no RS256, ES256 or HS256 signing key",
                       src->key_file);
    free(text);
    return rc;
}

auth_keyset *auth_keyset_load(const auth_key_source *src, unsigned long generation, auth_error *err)
{
    auth_keyset *ks = calloc(1, sizeof(*ks));
    if (ks == NULL) {
        auth_fail(err, AUTH_E_INTERNAL, "out of memory loading keys");
        return NULL;
    }
    atomic_init(&ks->refs, 1);
    ks->generation = generation;
    int rc = 0;
    if (src->secret != NULL)
        rc = add_secret(ks, src->secret, src->secret_len, src->secret_kid, err);
    else if (src->secret_file != NULL)
        rc = load_secret_file(src, ks, err);
    if (rc == 0 && src->key_file != NULL)
        rc = load_key_file(src, ks, err);
    if (rc == 0 && ks->count == 0)
        rc = auth_fail(err, AUTH_E_CONFIG, "no keys configured: give a secret or a key file");
    if (rc != 0) {
        keyset_free(ks);
        return NULL;
    }
    return ks;
}

const auth_key *auth_keyset_find(const auth_keyset *ks, const char *kid, auth_error *err)
{
    if (kid != NULL) {
        for (size_t i = 0; i < ks->count; i++)
            if (ks->keys[i].kid != NULL && strcmp(ks->keys[i].kid, kid) == 0)
                return &ks->keys[i];
        auth_fail(err, AUTH_E_UNKNOWN_KID, "no key matches the token's kid");
        return NULL;
    }
    if (ks->count == 1)
        return &ks->keys[0];
    auth_fail(err, AUTH_E_UNKNOWN_KID, "token has no kid and %zu keys are configured", ks->count);
    return NULL;
}
