/*
 * tests/unit/auth_test_util.h: helpers for the auth unit tests.
 *
 * Test keys are generated at test time with OpenSSL; tokens are minted with libjwt or,
 * where a test needs a header libjwt will not write (alg none, typ, crit, an ES256
 * signature made outside libjwt), assembled and signed here with OpenSSL directly.
 * None of this uses tsunagi_auth's own code, so the tests do not check the library
 * against itself. Header-only with static functions because each test is one file.
 */
#ifndef TSUNAGI_AUTH_TEST_UTIL_H
#define TSUNAGI_AUTH_TEST_UTIL_H

#include "auth/auth.h"

#include <criterion/criterion.h>
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEST_UNUSED __attribute__((unused))

/* A 32-byte HS256 secret, the shortest the library accepts. */
#define TEST_SECRET "0123456789abcdef0123456789abcdef"

TEST_UNUSED static char *t_strdup(const char *s)
{
    char *d = strdup(s);
    cr_assert_not_null(d);
    return d;
}

/* A fresh directory under /tmp. Returns a new string (free()). */
TEST_UNUSED static char *t_tmpdir(void)
{
    char tmpl[] = "/tmp/tsunagi-auth-XXXXXX";
    cr_assert_not_null(mkdtemp(tmpl));
    return t_strdup(tmpl);
}

/* dir/name. Returns a new string (free()). */
TEST_UNUSED static char *t_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    cr_assert_not_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

TEST_UNUSED static void t_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    cr_assert_eq(fclose(f), 0);
}

/* Writes text to path atomically (write a temporary file, rename it over path), the way
 * operators are told to rotate key files. */
TEST_UNUSED static void t_replace(const char *path, const char *text)
{
    size_t n = strlen(path) + 5;
    char *tmp = malloc(n);
    cr_assert_not_null(tmp);
    snprintf(tmp, n, "%s.new", path);
    t_write(tmp, text);
    cr_assert_eq(rename(tmp, path), 0);
    free(tmp);
}

/* Removes dir and the files in it (tests create no subdirectories). */
TEST_UNUSED static void t_rmdir(char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    free(dir);
}

/* ---- keys ---- */

TEST_UNUSED static EVP_PKEY *t_rsa_key(int bits)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    cr_assert_not_null(k);
    return k;
}

TEST_UNUSED static EVP_PKEY *t_ec_key(const char *curve)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    cr_assert_not_null(k);
    return k;
}

/* PEM of the private (PKCS#8) or public part. Returns a new string (free()). */
TEST_UNUSED static char *t_pem(EVP_PKEY *k, bool private_part)
{
    BIO *bio = BIO_new(BIO_s_mem());
    cr_assert_not_null(bio);
    int ok = private_part ? PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL)
                          : PEM_write_bio_PUBKEY(bio, k);
    cr_assert_eq(ok, 1);
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *out = malloc((size_t)n + 1);
    cr_assert_not_null(out);
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    BIO_free(bio);
    return out;
}

/* base64url without padding. Returns a new string (free()). */
TEST_UNUSED static char *t_b64url(const unsigned char *in, size_t len)
{
    char *out = malloc((len + 2) / 3 * 4 + 1);
    cr_assert_not_null(out);
    int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    while (n > 0 && out[n - 1] == '=')
        out[--n] = '\0';
    for (char *p = out; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    return out;
}

TEST_UNUSED static char *t_bn_b64url(EVP_PKEY *k, const char *param, int pad)
{
    BIGNUM *bn = NULL;
    cr_assert_eq(EVP_PKEY_get_bn_param(k, param, &bn), 1);
    int len = pad > 0 ? pad : BN_num_bytes(bn);
    unsigned char buf[1024];
    cr_assert_eq(BN_bn2binpad(bn, buf, len), len);
    BN_free(bn);
    return t_b64url(buf, (size_t)len);
}

/* A public JWK (no alg, no use) of an RSA or P-256 key with kid (if not NULL). Returns a
 * new reference. */
TEST_UNUSED static json_t *t_jwk(EVP_PKEY *k, const char *kid)
{
    json_t *jwk = json_object();
    if (EVP_PKEY_is_a(k, "RSA")) {
        char *n = t_bn_b64url(k, OSSL_PKEY_PARAM_RSA_N, 0);
        char *e = t_bn_b64url(k, OSSL_PKEY_PARAM_RSA_E, 0);
        json_object_set_new(jwk, "kty", json_string("RSA"));
        json_object_set_new(jwk, "n", json_string(n));
        json_object_set_new(jwk, "e", json_string(e));
        free(n);
        free(e);
    } else {
        char *x = t_bn_b64url(k, OSSL_PKEY_PARAM_EC_PUB_X, 32);
        char *y = t_bn_b64url(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
        json_object_set_new(jwk, "kty", json_string("EC"));
        json_object_set_new(jwk, "crv", json_string("P-256"));
        json_object_set_new(jwk, "x", json_string(x));
        json_object_set_new(jwk, "y", json_string(y));
        free(x);
        free(y);
    }
    if (kid != NULL)
        json_object_set_new(jwk, "kid", json_string(kid));
    return jwk;
}

/* {"keys": [jwks...]} as text, stealing the references. Returns a new string (free()). */
TEST_UNUSED static char *t_jwks(size_t n, json_t **jwks)
{
    json_t *keys = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(keys, jwks[i]);
    json_t *doc = json_pack("{s:o}", "keys", keys);
    char *text = json_dumps(doc, JSON_INDENT(2));
    json_decref(doc);
    cr_assert_not_null(text);
    return text;
}

/* ---- tokens ---- */

/* Claims valid from an hour ago to an hour ahead of now, for subject "c-001". Returns a
 * new reference for the test to adjust. */
TEST_UNUSED static json_t *t_claims(time_t now)
{
    json_t *c = json_pack("{s:s, s:[s], s:s, s:s, s:I, s:I}", "sub", "c-001", "roles", "resident",
                          "tenant", "town_a", "scope", "entities:read:*", "iat",
                          (json_int_t)now - 3600, "exp", (json_int_t)now + 3600);
    cr_assert_not_null(c);
    return c;
}

/* Signs claims with libjwt. key is the secret (HS*) or a private PEM (RS*, ES*).
 * Returns a new string (free()). */
TEST_UNUSED static char *t_mint(jwt_alg_t alg, const void *key, size_t len, const char *kid,
                                const json_t *claims)
{
    jwt_t *jwt = NULL;
    char *grants = json_dumps(claims, JSON_COMPACT);
    cr_assert_eq(jwt_new(&jwt), 0);
    cr_assert_eq(jwt_add_grants_json(jwt, grants), 0);
    if (kid != NULL)
        cr_assert_eq(jwt_add_header(jwt, "kid", kid), 0);
    cr_assert_eq(jwt_set_alg(jwt, alg, key, (int)len), 0);
    char *token = jwt_encode_str(jwt);
    cr_assert_not_null(token);
    jwt_free(jwt);
    free(grants);
    return token;
}

TEST_UNUSED static char *t_mint_hs(const char *kid, const json_t *claims)
{
    return t_mint(JWT_ALG_HS256, TEST_SECRET, strlen(TEST_SECRET), kid, claims);
}

/* Signs with a private key, passed to libjwt as PEM. */
TEST_UNUSED static char *t_mint_pkey(jwt_alg_t alg, EVP_PKEY *k, const char *kid,
                                     const json_t *claims)
{
    char *pem = t_pem(k, true);
    char *token = t_mint(alg, pem, strlen(pem), kid, claims);
    free(pem);
    return token;
}

/* header_b64.payload_b64 for arbitrary JSON texts. Returns a new string (free()). */
TEST_UNUSED static char *t_signing_input(const char *header, const char *payload)
{
    char *h = t_b64url((const unsigned char *)header, strlen(header));
    char *p = t_b64url((const unsigned char *)payload, strlen(payload));
    size_t n = strlen(h) + strlen(p) + 2;
    char *out = malloc(n);
    cr_assert_not_null(out);
    snprintf(out, n, "%s.%s", h, p);
    free(h);
    free(p);
    return out;
}

/* input "." signature, taking input. Returns a new string (free()). */
TEST_UNUSED static char *t_join(char *input, const unsigned char *sig, size_t sig_len)
{
    char *s = t_b64url(sig, sig_len);
    size_t n = strlen(input) + strlen(s) + 2;
    char *out = malloc(n);
    cr_assert_not_null(out);
    snprintf(out, n, "%s.%s", input, s);
    free(input);
    free(s);
    return out;
}

/* A token with any header and payload text, HMAC-SHA256-signed with TEST_SECRET.
 * Returns a new string (free()). */
TEST_UNUSED static char *t_raw_hs(const char *header, const char *payload)
{
    char *input = t_signing_input(header, payload);
    unsigned char mac[32];
    unsigned int len = 0;
    cr_assert_not_null(HMAC(EVP_sha256(), TEST_SECRET, (int)strlen(TEST_SECRET),
                            (const unsigned char *)input, strlen(input), mac, &len));
    return t_join(input, mac, len);
}

/* An ES256 token signed by OpenSSL, with the signature as JWS wants it (R || S, 64
 * bytes; RFC 7518 section 3.4) or, if der, as OpenSSL emits it (ASN.1 DER). */
TEST_UNUSED static char *t_raw_es256(EVP_PKEY *k, const char *header, const char *payload, bool der)
{
    char *input = t_signing_input(header, payload);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char sig[128];
    size_t sig_len = sizeof(sig);
    cr_assert_eq(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k), 1);
    cr_assert_eq(EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)input, strlen(input)),
                 1);
    EVP_MD_CTX_free(ctx);
    if (der)
        return t_join(input, sig, sig_len);
    const unsigned char *p = sig;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sig_len);
    cr_assert_not_null(es);
    unsigned char rs[64];
    cr_assert_eq(BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 32), 32);
    cr_assert_eq(BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 32, 32), 32);
    ECDSA_SIG_free(es);
    return t_join(input, rs, sizeof(rs));
}

/* ---- verifiers ---- */

/* A verifier for TEST_SECRET with iss "https://idp.example" and aud "tsunagi". */
TEST_UNUSED static auth_verifier *t_hs_verifier(void)
{
    auth_config cfg;
    auth_config_init(&cfg);
    cfg.secret = TEST_SECRET;
    cfg.issuer = "https://idp.example";
    cfg.audience = "tsunagi";
    auth_error err;
    auth_verifier *v = auth_verifier_new(&cfg, &err);
    cr_assert_not_null(v, "verifier: %s", err.description);
    return v;
}

/* Adds the iss and aud t_hs_verifier() expects. */
TEST_UNUSED static json_t *t_good_claims(time_t now)
{
    json_t *c = t_claims(now);
    json_object_set_new(c, "iss", json_string("https://idp.example"));
    json_object_set_new(c, "aud", json_string("tsunagi"));
    return c;
}

/* Verifies token at now and asserts it is rejected with code. */
#define t_assert_rejected(v, token, now, want)                                                     \
    do {                                                                                           \
        auth_error e_;                                                                             \
        memset(&e_, 0, sizeof(e_));                                                                \
        auth_principal *p_ = auth_verify_at((v), (token), (now), &e_);                             \
        cr_assert_null(p_, "token accepted, expected %s", auth_code_name(want));                   \
        cr_assert_eq(e_.code, (want), "got %s (%s), expected %s", auth_code_name(e_.code),         \
                     e_.description, auth_code_name(want));                                        \
    } while (0)

/* Verifies token at now, asserts success, returns the principal (decref it). */
TEST_UNUSED static auth_principal *t_accept(auth_verifier *v, const char *token, time_t now)
{
    auth_error err;
    memset(&err, 0, sizeof(err));
    auth_principal *p = auth_verify_at(v, token, now, &err);
    cr_assert_not_null(p, "rejected: %s (%s)", err.description, auth_code_name(err.code));
    return p;
}

#endif
