/*
 * auth/jwk.c: JSON Web Keys (RFC 7517/7518) to OpenSSL keys and back.
 *
 * libjwt 1.10 has no JWK support; it verifies RS256/ES256 only with a PEM public key.
 * So a JWKS entry is turned into an EVP_PKEY here (OpenSSL 3 EVP_PKEY_fromdata) and
 * then into PEM (auth_pkey_public_pem) for libjwt. The other direction (EVP_PKEY to
 * JWK, and the RFC 7638 thumbprint used as a default kid) serves tsunagi-token keygen.
 *
 * Only what Tsunagi verifies with is accepted: RSA of at least 2048 bits (RS256) and EC
 * keys on P-256 (ES256). EC points are checked to lie on the curve, so that a crafted
 * JWKS cannot hand OpenSSL an invalid point.
 */
#include "auth/auth_private.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

/* Bytes in one P-256 coordinate. */
#define P256_COORD_LEN 32
/* Uncompressed point: 0x04 || x || y (SEC 1 section 2.3.3). */
#define P256_POINT_LEN (1 + 2 * P256_COORD_LEN)

jwt_alg_t auth_pkey_alg(EVP_PKEY *pkey, auth_error *err)
{
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        if (EVP_PKEY_get_bits(pkey) < AUTH_RSA_MIN_BITS) {
            auth_fail(err, AUTH_E_CONFIG, "RSA key has %d bits; at least %d are required",
                      EVP_PKEY_get_bits(pkey), AUTH_RSA_MIN_BITS);
            return JWT_ALG_INVAL;
        }
        return JWT_ALG_RS256;
    }
    if (EVP_PKEY_is_a(pkey, "EC")) {
        char group[64] = "";
        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                           NULL) != 1 ||
            strcmp(group, SN_X9_62_prime256v1) != 0) {
            auth_fail(err, AUTH_E_CONFIG, "EC key is not on curve P-256 (ES256)");
            return JWT_ALG_INVAL;
        }
        return JWT_ALG_ES256;
    }
    auth_fail(err, AUTH_E_CONFIG, "unsupported key type: use RSA (RS256) or EC P-256 (ES256)");
    return JWT_ALG_INVAL;
}

/* ---- JWK to EVP_PKEY ---- */

/* Decodes base64url member `name` of jwk. Returns a new buffer (free()) or NULL. */
static unsigned char *member_bytes(const json_t *jwk, const char *name, size_t *len,
                                   auth_error *err)
{
    const char *s = json_string_value(json_object_get(jwk, name));
    if (s == NULL) {
        auth_fail(err, AUTH_E_CONFIG, "JWK has no \"%s\" string", name);
        return NULL;
    }
    unsigned char *bytes = auth_b64url_decode(s, strlen(s), len);
    if (bytes == NULL || *len == 0) {
        free(bytes);
        auth_fail(err, AUTH_E_CONFIG, "JWK member \"%s\" is not base64url", name);
        return NULL;
    }
    return bytes;
}

/* Builds a public key of type from params. Returns a new key or NULL. */
static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld, auth_error *err)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        auth_fail(err, AUTH_E_CONFIG, "JWK does not describe a valid %s public key", type);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *rsa_from_jwk(const json_t *jwk, auth_error *err)
{
    size_t n_len = 0, e_len = 0;
    unsigned char *n = member_bytes(jwk, "n", &n_len, err);
    unsigned char *e = n != NULL ? member_bytes(jwk, "e", &e_len, err) : NULL;
    BIGNUM *bn_n = e != NULL ? BN_bin2bn(n, (int)n_len, NULL) : NULL;
    BIGNUM *bn_e = bn_n != NULL ? BN_bin2bn(e, (int)e_len, NULL) : NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    if (bn_e != NULL && bld != NULL && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
        pkey = pkey_from_params("RSA", bld, err);
    else if (e != NULL)
        auth_fail(err, AUTH_E_INTERNAL, "out of memory building an RSA key");
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    free(n);
    free(e);
    return pkey;
}

/* Reads coordinate `name` of an EC JWK into out (exactly P256_COORD_LEN bytes). */
static int ec_coord(const json_t *jwk, const char *name, unsigned char *out, auth_error *err)
{
    size_t len = 0;
    unsigned char *bytes = member_bytes(jwk, name, &len, err);
    if (bytes == NULL)
        return -1;
    if (len != P256_COORD_LEN) {
        free(bytes);
        return auth_fail(err, AUTH_E_CONFIG, "JWK member \"%s\" is not a P-256 coordinate", name);
    }
    memcpy(out, bytes, len);
    free(bytes);
    return 0;
}

static int ec_point_valid(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static EVP_PKEY *ec_from_jwk(const json_t *jwk, auth_error *err)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    if (crv == NULL || strcmp(crv, "P-256") != 0) {
        auth_fail(err, AUTH_E_CONFIG, "EC JWK is not on curve P-256 (ES256)");
        return NULL;
    }
    unsigned char point[P256_POINT_LEN] = {0x04};
    if (ec_coord(jwk, "x", point + 1, err) < 0 ||
        ec_coord(jwk, "y", point + 1 + P256_COORD_LEN, err) < 0)
        return NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    if (bld != NULL &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, SN_X9_62_prime256v1, 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)))
        pkey = pkey_from_params("EC", bld, err);
    else
        auth_fail(err, AUTH_E_INTERNAL, "out of memory building an EC key");
    OSSL_PARAM_BLD_free(bld);
    if (pkey != NULL && !ec_point_valid(pkey)) {
        EVP_PKEY_free(pkey);
        auth_fail(err, AUTH_E_CONFIG, "EC JWK point is not on curve P-256");
        return NULL;
    }
    return pkey;
}

EVP_PKEY *auth_jwk_to_pkey(const json_t *jwk, auth_error *err)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    if (kty != NULL && strcmp(kty, "RSA") == 0)
        return rsa_from_jwk(jwk, err);
    if (kty != NULL && strcmp(kty, "EC") == 0)
        return ec_from_jwk(jwk, err);
    auth_fail(err, AUTH_E_CONFIG, "JWK kty must be \"RSA\" or \"EC\"");
    return NULL;
}

/* ---- EVP_PKEY to JWK ---- */

/* Sets member name of obj to the base64url of bn, left-padded to pad bytes (0: none). */
static int set_bn_member(json_t *obj, const char *name, const BIGNUM *bn, int pad)
{
    int len = pad > 0 ? pad : BN_num_bytes(bn);
    unsigned char *bytes = malloc(len > 0 ? (size_t)len : 1);
    if (bytes == NULL || BN_bn2binpad(bn, bytes, len) != len) {
        free(bytes);
        return -1;
    }
    char *s = auth_b64url_encode(bytes, (size_t)len);
    free(bytes);
    int rc = s != NULL ? json_object_set_new(obj, name, json_string(s)) : -1;
    free(s);
    return rc;
}

static int set_param_member(json_t *obj, EVP_PKEY *pkey, const char *param, const char *name,
                            int pad)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
        return -1;
    int rc = set_bn_member(obj, name, bn, pad);
    BN_free(bn);
    return rc;
}

/* The members RFC 7638 section 3.2 requires for the key type, kty first. Returns a new
 * reference or NULL. */
static json_t *public_members(EVP_PKEY *pkey, jwt_alg_t alg, auth_error *err)
{
    json_t *jwk = json_object();
    int rc = -1;
    if (jwk != NULL && alg == JWT_ALG_RS256) {
        rc = json_object_set_new(jwk, "kty", json_string("RSA"));
        rc = rc ? rc : set_param_member(jwk, pkey, OSSL_PKEY_PARAM_RSA_N, "n", 0);
        rc = rc ? rc : set_param_member(jwk, pkey, OSSL_PKEY_PARAM_RSA_E, "e", 0);
    } else if (jwk != NULL && alg == JWT_ALG_ES256) {
        rc = json_object_set_new(jwk, "kty", json_string("EC"));
        rc = rc ? rc : json_object_set_new(jwk, "crv", json_string("P-256"));
        rc = rc ? rc : set_param_member(jwk, pkey, OSSL_PKEY_PARAM_EC_PUB_X, "x", P256_COORD_LEN);
        rc = rc ? rc : set_param_member(jwk, pkey, OSSL_PKEY_PARAM_EC_PUB_Y, "y", P256_COORD_LEN);
    }
    if (rc != 0) {
        json_decref(jwk);
        auth_fail(err, AUTH_E_INTERNAL, "cannot export the public key as a JWK");
        return NULL;
    }
    return jwk;
}

json_t *auth_jwk_from_pkey(EVP_PKEY *pkey, const char *kid, auth_error *err)
{
    jwt_alg_t alg = auth_pkey_alg(pkey, err);
    if (alg == JWT_ALG_INVAL)
        return NULL;
    json_t *jwk = public_members(pkey, alg, err);
    if (jwk == NULL)
        return NULL;
    if ((kid != NULL && json_object_set_new(jwk, "kid", json_string(kid)) != 0) ||
        json_object_set_new(jwk, "use", json_string("sig")) != 0 ||
        json_object_set_new(jwk, "alg", json_string(jwt_alg_str(alg))) != 0) {
        json_decref(jwk);
        auth_fail(err, AUTH_E_INTERNAL, "out of memory building a JWK");
        return NULL;
    }
    return jwk;
}

char *auth_jwk_thumbprint(EVP_PKEY *pkey, auth_error *err)
{
    jwt_alg_t alg = auth_pkey_alg(pkey, err);
    json_t *jwk = alg != JWT_ALG_INVAL ? public_members(pkey, alg, err) : NULL;
    if (jwk == NULL)
        return NULL;
    /* Canonical form (RFC 7638 section 3.3): required members only, sorted, no spaces. */
    char *canon = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(jwk);
    unsigned char md[AUTH_DIGEST_LEN];
    unsigned int md_len = 0;
    char *out = NULL;
    if (canon != NULL && EVP_Digest(canon, strlen(canon), md, &md_len, EVP_sha256(), NULL) == 1)
        out = auth_b64url_encode(md, md_len);
    free(canon);
    if (out == NULL)
        auth_fail(err, AUTH_E_INTERNAL, "cannot compute the key thumbprint");
    return out;
}

char *auth_pkey_public_pem(EVP_PKEY *pkey, size_t *len, auth_error *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL;
    if (bio != NULL && PEM_write_bio_PUBKEY(bio, pkey) == 1) {
        char *data = NULL;
        long n = BIO_get_mem_data(bio, &data);
        out = n > 0 ? malloc((size_t)n + 1) : NULL;
        if (out != NULL) {
            memcpy(out, data, (size_t)n);
            out[n] = '\0';
            *len = (size_t)n;
        }
    }
    BIO_free(bio);
    if (out == NULL)
        auth_fail(err, AUTH_E_INTERNAL, "cannot write the public key as PEM");
    return out;
}
