/*
 * tests/unit/test_auth_verify.c: every token validation rule of auth_verify(), one test
 * per rule: missing, malformed (garbage, segments, base64url, JSON, size), alg none,
 * alg confusion, unknown kid, bad signature, exp, nbf and skew, iss, aud; plus RS256 and
 * ES256 (including an ES256 signature made by OpenSSL rather than libjwt).
 */
#include "auth_test_util.h"

/* ---- accepted tokens ---- */

Test(auth_verify, hs256_token_gives_its_principal)
{
    time_t now = time(NULL);
    auth_verifier *v = t_hs_verifier();
    json_t *c = t_good_claims(now);
    json_object_set_new(c, "roles", json_pack("[s,s]", "resident", "vendor"));
    json_object_set_new(c, "tenant", json_string("Town_A"));
    char *token = t_mint_hs(NULL, c);
    auth_principal *p = t_accept(v, token, now);
    cr_assert_str_eq(auth_principal_sub(p), "c-001");
    cr_assert_str_eq(auth_principal_tenant(p), "town_a");
    cr_assert_eq(auth_principal_roles(p), AUTH_ROLE_RESIDENT | AUTH_ROLE_VENDOR);
    cr_assert_eq(auth_principal_expires(p), now + 3600);
    cr_assert(auth_principal_has_scope(p, "entities", "read", "Anything"));
    auth_principal_decref(p);
    free(token);
    json_decref(c);
    auth_verifier_free(v);
}

Test(auth_verify, rs256_and_es256_tokens_verify_with_pem_public_keys)
{
    time_t now = time(NULL);
    char *dir = t_tmpdir();
    EVP_PKEY *keys[] = {t_rsa_key(2048), t_ec_key("P-256")};
    jwt_alg_t algs[] = {JWT_ALG_RS256, JWT_ALG_ES256};
    for (size_t i = 0; i < 2; i++) {
        char *path = t_path(dir, i == 0 ? "rsa.pem" : "ec.pem");
        char *pem = t_pem(keys[i], false);
        t_write(path, pem);
        auth_config cfg;
        auth_config_init(&cfg);
        cfg.key_file = path;
        auth_error err;
        auth_verifier *v = auth_verifier_new(&cfg, &err);
        cr_assert_not_null(v, "%s", err.description);
        json_t *c = t_claims(now);
        char *token = t_mint_pkey(algs[i], keys[i], NULL, c);
        auth_principal_decref(t_accept(v, token, now));
        auth_verifier_free(v);
        free(token);
        json_decref(c);
        free(pem);
        free(path);
        EVP_PKEY_free(keys[i]);
    }
    t_rmdir(dir);
}

/* libjwt 1.10 must read ES256 signatures as JWS defines them (R || S), so tokens from
 * other issuers verify; a DER signature (OpenSSL's native format) must not. */
Test(auth_verify, es256_signature_is_jws_r_s_format)
{
    time_t now = time(NULL);
    char *dir = t_tmpdir();
    char *path = t_path(dir, "ec.pem");
    EVP_PKEY *k = t_ec_key("P-256");
    char *pem = t_pem(k, false);
    t_write(path, pem);
    auth_config cfg;
    auth_config_init(&cfg);
    cfg.key_file = path;
    auth_verifier *v = auth_verifier_new(&cfg, NULL);
    cr_assert_not_null(v);
    char payload[128];
    snprintf(payload, sizeof(payload), "{\"sub\":\"x\",\"roles\":[\"town\"],\"exp\":%lld}",
             (long long)now + 60);
    char *rs = t_raw_es256(k, "{\"alg\":\"ES256\"}", payload, false);
    char *der = t_raw_es256(k, "{\"alg\":\"ES256\"}", payload, true);
    auth_principal_decref(t_accept(v, rs, now));
    t_assert_rejected(v, der, now, AUTH_E_SIGNATURE);
    /* And libjwt's own ES256 output is R || S too: 64 bytes, 86 base64url characters. */
    json_t *c = t_claims(now);
    char *minted = t_mint_pkey(JWT_ALG_ES256, k, NULL, c);
    cr_assert_eq(strlen(strrchr(minted, '.') + 1), 86);
    free(minted);
    json_decref(c);
    free(rs);
    free(der);
    auth_verifier_free(v);
    free(pem);
    EVP_PKEY_free(k);
    free(path);
    t_rmdir(dir);
}

/* ---- missing and malformed ---- */

Test(auth_verify, missing_token_is_401)
{
    auth_verifier *v = t_hs_verifier();
    auth_error err;
    cr_assert_null(auth_verify(v, NULL, &err));
    cr_assert_eq(err.code, AUTH_E_MISSING);
    cr_assert_eq(err.status, 401);
    cr_assert_str_eq(err.name, "Unauthorized");
    t_assert_rejected(v, "", time(NULL), AUTH_E_MISSING);
    auth_verifier_free(v);
}

Test(auth_verify, garbage_is_malformed)
{
    auth_verifier *v = t_hs_verifier();
    time_t now = time(NULL);
    t_assert_rejected(v, "garbage", now, AUTH_E_MALFORMED);
    t_assert_rejected(v, "Bearer abc.def.ghi", now, AUTH_E_MALFORMED);
    t_assert_rejected(v, "...", now, AUTH_E_MALFORMED);
    auth_verifier_free(v);
}

Test(auth_verify, wrong_segment_count_is_malformed)
{
    time_t now = time(NULL);
    auth_verifier *v = t_hs_verifier();
    json_t *c = t_good_claims(now);
    char *token = t_mint_hs(NULL, c);
    char *two = t_strdup(token);
    *strrchr(two, '.') = '\0';
    t_assert_rejected(v, two, now, AUTH_E_MALFORMED);
    char four[4096];
    snprintf(four, sizeof(four), "%s.xyz", token);
    t_assert_rejected(v, four, now, AUTH_E_MALFORMED);
    auth_principal_decref(t_accept(v, token, now));
    free(two);
    free(token);
    json_decref(c);
    auth_verifier_free(v);
}

Test(auth_verify, bad_base64url_is_malformed)
{
    time_t now = time(NULL);
    auth_verifier *v = t_hs_verifier();
    json_t *c = t_good_claims(now);
    char *token = t_mint_hs(NULL, c);
    char *bad = t_strdup(token);
    bad[3] = '!';
    t_assert_rejected(v, bad, now, AUTH_E_MALFORMED);
    /* Padding and the standard alphabet are not base64url either. */
    char padded[4096];
    snprintf(padded, sizeof(padded), "%s=", token);
    t_assert_rejected(v, padded, now, AUTH_E_MALFORMED);
    char *plus = t_strdup(token);
    *(strchr(plus, '.') + 1) = '+';
    t_assert_rejected(v, plus, now, AUTH_E_MALFORMED);
    free(plus);
    free(bad);
    free(token);
    json_decref(c);
    auth_verifier_free(v);
}

Test(auth_verify, non_json_parts_are_malformed)
{
    time_t now = time(NULL);
    auth_verifier *v = t_hs_verifier();
    char *header_not_json = t_raw_hs("not json", "{\"sub\":\"x\"}");
    char *payload_not_json = t_raw_hs("{\"alg\":\"HS256\"}", "{\"sub\":");
    char *payload_array = t_raw_hs("{\"alg\":\"HS256\"}", "[1,2]");
    char *duplicate = t_raw_hs("{\"alg\":\"HS256\"}", "{\"sub\":\"a\",\"sub\":\"b\"}");
    t_assert_rejected(v, header_not_json, now, AUTH_E_MALFORMED);
    t_assert_rejected(v, payload_not_json, now, AUTH_E_MALFORMED);
    t_assert_rejected(v, payload_array, now, AUTH_E_MALFORMED);
    t_assert_rejected(v, duplicate, now, AUTH_E_MALFORMED);
    free(header_not_json);
    free(payload_not_json);
    free(payload_array);
    free(duplicate);
    auth_verifier_free(v);
}

Test(auth_verify, oversized_token_is_malformed)
{
    auth_verifier *v = t_hs_verifier();
    char *big = malloc(AUTH_TOKEN_MAX + 2);
    memset(big, 'a', AUTH_TOKEN_MAX + 1);
    big[AUTH_TOKEN_MAX + 1] = '\0';
    t_assert_rejected(v, big, time(NULL), AUTH_E_MALFORMED);
    free(big);
    auth_verifier_free(v);
}

Test(auth_verify, other_typ_and_crit_are_refused)
{
    time_t now = time(NULL);
    auth_verifier *v = t_hs_verifier();
    char payload[256];
    snprintf(payload, sizeof(payload),
             "{\"sub\":\"x\",\"roles\":[\"town\"],\"exp\":%lld,\"iss\":\"https://idp.example\","
             "\"aud\":\"tsunagi\"}",
             (long long)now + 60);
    char *ok = t_raw_hs("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload);
    char *at_jwt = t_raw_hs("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", payload);
    char *crit = t_raw_hs("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", payload);
    auth_principal_decref(t_accept(v, ok, now));
    t_assert_rejected(v, at_jwt, now, AUTH_E_MALFORMED);
    t_assert_rejected(v, crit, now, AUTH_E_MALFORMED);
    free(ok);
    free(at_jwt);
    free(crit);
    auth_verifier_free(v);
}

/* ---- algorithms ---- */

Test(auth_verify, alg_none_is_refused)
{
    time_t now = time(NULL);
    auth_verifier *v = t_hs_verifier();
    json_t *c = t_good_claims(now);
    char *payload = json_dumps(c, JSON_COMPACT);
    /* Unsigned, exactly as libjwt writes it, and with a signature tacked on. */
    char *unsigned_token = t_signing_input("{\"alg\":\"none\"}", payload);
    size_t n = strlen(unsigned_token);
    char *with_dot = malloc(n + 2);
    snprintf(with_dot, n + 2, "%s.", unsigned_token);
    char *with_sig = t_raw_hs("{\"alg\":\"none\"}", payload);
    char *upper = t_raw_hs("{\"alg\":\"NONE\"}", payload);
    t_assert_rejected(v, with_dot, now, AUTH_E_ALG_NONE);
    t_assert_rejected(v, with_sig, now, AUTH_E_ALG_NONE);
    t_assert_rejected(v, upper, now, AUTH_E_ALG_NONE);
    free(unsigned_token);
    free(with_dot);
    free(with_sig);
    free(upper);
    free(payload);
    json_decref(c);
    auth_verifier_free(v);
}

/* The classic confusion: an HS256 token whose HMAC key is the RSA public key PEM. libjwt
 * 1.10 alone would accept it (it HMACs with whatever key bytes it is given). */
Test(auth_verify, hs256_signed_with_public_pem_is_alg_confusion)
{
    time_t now = time(NULL);
    char *dir = t_tmpdir();
    EVP_PKEY *k = t_rsa_key(2048);
    char *pub = t_pem(k, false);
    char *pem_path = t_path(dir, "rsa.pem");
    char *jwks_path = t_path(dir, "keys.json");
    t_write(pem_path, pub);
    json_t *jwk = t_jwk(k, "rsa-1");
    char *jwks = t_jwks(1, &jwk);
    t_write(jwks_path, jwks);
    json_t *c = t_claims(now);
    const char *files[] = {pem_path, jwks_path};
    for (size_t i = 0; i < 2; i++) {
        auth_config cfg;
        auth_config_init(&cfg);
        cfg.key_file = files[i];
        auth_verifier *v = auth_verifier_new(&cfg, NULL);
        cr_assert_not_null(v);
        /* The key the verifier holds is the normalised PEM; use those exact bytes. */
        char *forged = t_mint(JWT_ALG_HS256, pub, strlen(pub), i == 0 ? NULL : "rsa-1", c);
        /* The forgery is real: libjwt on its own accepts it with the public key. */
        jwt_t *jwt = NULL;
        cr_assert_eq(jwt_decode(&jwt, forged, (const unsigned char *)pub, (int)strlen(pub)), 0);
        jwt_free(jwt);
        t_assert_rejected(v, forged, now, AUTH_E_ALG_MISMATCH);
        free(forged);
        auth_verifier_free(v);
    }
    json_decref(c);
    free(jwks);
    free(pub);
    free(pem_path);
    free(jwks_path);
    EVP_PKEY_free(k);
    t_rmdir(dir);
}

Test(auth_verify, rs256_token_against_a_secret_is_alg_mismatch)
{
    time_t now = time(NULL);
    auth_verifier *v = t_hs_verifier();
    EVP_PKEY *k = t_rsa_key(2048);
    json_t *c = t_good_claims(now);
    char *token = t_mint_pkey(JWT_ALG_RS256, k, NULL, c);
    t_assert_rejected(v, token, now, AUTH_E_ALG_MISMATCH);
    /* HS512 with the right secret is still not the key's alg (HS256). */
    char *hs512 = t_mint(JWT_ALG_HS512, TEST_SECRET, strlen(TEST_SECRET), NULL, c);
    t_assert_rejected(v, hs512, now, AUTH_E_ALG_MISMATCH);
    free(hs512);
    free(token);
    json_decref(c);
    EVP_PKEY_free(k);
    auth_verifier_free(v);
}

/* ---- keys and signatures ---- */

Test(auth_verify, unknown_kid_is_refused)
{
    time_t now = time(NULL);
    auth_config cfg;
    auth_config_init(&cfg);
    cfg.secret = TEST_SECRET;
    cfg.secret_kid = "hs-1";
    auth_verifier *v = auth_verifier_new(&cfg, NULL);
    cr_assert_not_null(v);
    json_t *c = t_claims(now);
    char *known = t_mint_hs("hs-1", c);
    char *unknown = t_mint_hs("hs-2", c);
    char *no_kid = t_mint_hs(NULL, c);
    auth_principal_decref(t_accept(v, known, now));
    t_assert_rejected(v, unknown, now, AUTH_E_UNKNOWN_KID);
    /* A single key is used for a token without kid. */
    auth_principal_decref(t_accept(v, no_kid, now));
    free(known);
    free(unknown);
    free(no_kid);
    json_decref(c);
    auth_verifier_free(v);
}

Test(auth_verify, bad_signature_is_refused)
{
    time_t now = time(NULL);
    auth_verifier *v = t_hs_verifier();
    json_t *c = t_good_claims(now);
    char *token = t_mint_hs(NULL, c);
    char *flipped = t_strdup(token);
    char *last = flipped + strlen(flipped) - 5;
    *last = *last == 'A' ? 'B' : 'A';
    t_assert_rejected(v, flipped, now, AUTH_E_SIGNATURE);
    const char other[] = "another-secret-of-at-least-32-bytes!!";
    char *wrong_key = t_mint(JWT_ALG_HS256, other, strlen(other), NULL, c);
    t_assert_rejected(v, wrong_key, now, AUTH_E_SIGNATURE);
    /* A changed payload under the old signature. */
    json_object_set_new(c, "sub", json_string("someone-else"));
    char *other_payload = t_mint_hs(NULL, c);
    char *spliced = t_strdup(other_payload);
    strcpy(strrchr(spliced, '.'), strrchr(token, '.'));
    t_assert_rejected(v, spliced, now, AUTH_E_SIGNATURE);
    char *no_sig = t_strdup(token);
    strrchr(no_sig, '.')[1] = '\0';
    t_assert_rejected(v, no_sig, now, AUTH_E_SIGNATURE);
    free(no_sig);
    free(spliced);
    free(other_payload);
    free(wrong_key);
    free(flipped);
    free(token);
    json_decref(c);
    auth_verifier_free(v);
}

/* Claims of a forged token are never looked at: an expired, wrongly signed token is a
 * signature failure, not "expired". */
Test(auth_verify, signature_is_checked_before_claims)
{
    time_t now = time(NULL);
    auth_verifier *v = t_hs_verifier();
    json_t *c = t_good_claims(now);
    json_object_set_new(c, "exp", json_integer(now - 1000));
    const char other[] = "another-secret-of-at-least-32-bytes!!";
    char *token = t_mint(JWT_ALG_HS256, other, strlen(other), NULL, c);
    t_assert_rejected(v, token, now, AUTH_E_SIGNATURE);
    free(token);
    json_decref(c);
    auth_verifier_free(v);
}

/* ---- time ---- */

Test(auth_verify, expired_token_is_refused)
{
    time_t now = time(NULL);
    auth_verifier *v = t_hs_verifier();
    json_t *c = t_good_claims(now);
    json_object_set_new(c, "exp", json_integer(now - 31));
    char *token = t_mint_hs(NULL, c);
    t_assert_rejected(v, token, now, AUTH_E_EXPIRED);
    free(token);
    json_decref(c);
    auth_verifier_free(v);
}

Test(auth_verify, expiry_allows_the_clock_skew)
{
    time_t now = time(NULL);
    json_t *c = t_good_claims(now);
    json_object_set_new(c, "exp", json_integer(now - 10));
    char *token = t_mint_hs(NULL, c);
    auth_verifier *v = t_hs_verifier();
    /* 10 s past exp is inside the default 30 s skew... */
    auth_principal_decref(t_accept(v, token, now));
    /* ...and at exp + skew it is over. */
    t_assert_rejected(v, token, now + 20, AUTH_E_EXPIRED);
    auth_verifier_free(v);
    auth_config cfg;
    auth_config_init(&cfg);
    cfg.secret = TEST_SECRET;
    cfg.clock_skew = 0;
    v = auth_verifier_new(&cfg, NULL);
    t_assert_rejected(v, token, now, AUTH_E_EXPIRED);
    auth_verifier_free(v);
    free(token);
    json_decref(c);
}

Test(auth_verify, missing_or_bad_exp_is_refused)
{
    time_t now = time(NULL);
    auth_verifier *v = t_hs_verifier();
    json_t *c = t_good_claims(now);
    json_object_del(c, "exp");
    char *no_exp = t_mint_hs(NULL, c);
    json_object_set_new(c, "exp", json_string("tomorrow"));
    char *string_exp = t_mint_hs(NULL, c);
    json_object_set_new(c, "exp", json_real((double)now + 100.5));
    char *real_exp = t_mint_hs(NULL, c);
    t_assert_rejected(v, no_exp, now, AUTH_E_CLAIMS);
    t_assert_rejected(v, string_exp, now, AUTH_E_CLAIMS);
    /* NumericDate may be fractional (RFC 7519 section 2). */
    auth_principal_decref(t_accept(v, real_exp, now));
    free(no_exp);
    free(string_exp);
    free(real_exp);
    json_decref(c);
    auth_verifier_free(v);
}

Test(auth_verify, not_yet_valid_token_is_refused)
{
    time_t now = time(NULL);
    auth_verifier *v = t_hs_verifier();
    json_t *c = t_good_claims(now);
    json_object_set_new(c, "nbf", json_integer(now + 31));
    char *token = t_mint_hs(NULL, c);
    t_assert_rejected(v, token, now, AUTH_E_NOT_YET_VALID);
    /* Once nbf minus the skew is reached, it is valid. */
    auth_principal_decref(t_accept(v, token, now + 1));
    free(token);
    json_decref(c);
    auth_verifier_free(v);
}

Test(auth_verify, nbf_allows_the_clock_skew)
{
    time_t now = time(NULL);
    json_t *c = t_good_claims(now);
    json_object_set_new(c, "nbf", json_integer(now + 20));
    char *token = t_mint_hs(NULL, c);
    auth_verifier *v = t_hs_verifier();
    auth_principal_decref(t_accept(v, token, now));
    auth_verifier_free(v);
    auth_config cfg;
    auth_config_init(&cfg);
    cfg.secret = TEST_SECRET;
    cfg.clock_skew = 5;
    v = auth_verifier_new(&cfg, NULL);
    t_assert_rejected(v, token, now, AUTH_E_NOT_YET_VALID);
    auth_verifier_free(v);
    free(token);
    json_decref(c);
}

/* ---- issuer and audience ---- */

Test(auth_verify, wrong_or_missing_issuer_is_refused)
{
    time_t now = time(NULL);
    auth_verifier *v = t_hs_verifier();
    json_t *c = t_good_claims(now);
    json_object_set_new(c, "iss", json_string("https://evil.example"));
    char *wrong = t_mint_hs(NULL, c);
    json_object_del(c, "iss");
    char *missing = t_mint_hs(NULL, c);
    t_assert_rejected(v, wrong, now, AUTH_E_ISSUER);
    t_assert_rejected(v, missing, now, AUTH_E_ISSUER);
    auth_verifier_free(v);
    /* Without a configured issuer, iss is not checked. */
    auth_config cfg;
    auth_config_init(&cfg);
    cfg.secret = TEST_SECRET;
    v = auth_verifier_new(&cfg, NULL);
    auth_principal_decref(t_accept(v, wrong, now));
    auth_verifier_free(v);
    free(wrong);
    free(missing);
    json_decref(c);
}

Test(auth_verify, audience_may_be_string_or_array)
{
    time_t now = time(NULL);
    auth_verifier *v = t_hs_verifier();
    json_t *c = t_good_claims(now);
    json_object_set_new(c, "aud", json_pack("[s,s]", "other-api", "tsunagi"));
    char *array = t_mint_hs(NULL, c);
    auth_principal_decref(t_accept(v, array, now));
    free(array);
    json_decref(c);
    auth_verifier_free(v);
}

Test(auth_verify, wrong_or_missing_audience_is_refused)
{
    time_t now = time(NULL);
    auth_verifier *v = t_hs_verifier();
    json_t *c = t_good_claims(now);
    json_object_set_new(c, "aud", json_string("other-api"));
    char *wrong = t_mint_hs(NULL, c);
    json_object_set_new(c, "aud", json_pack("[s,s]", "a", "tsunagi-x"));
    char *wrong_array = t_mint_hs(NULL, c);
    json_object_del(c, "aud");
    char *missing = t_mint_hs(NULL, c);
    t_assert_rejected(v, wrong, now, AUTH_E_AUDIENCE);
    t_assert_rejected(v, wrong_array, now, AUTH_E_AUDIENCE);
    t_assert_rejected(v, missing, now, AUTH_E_AUDIENCE);
    free(wrong);
    free(wrong_array);
    free(missing);
    json_decref(c);
    auth_verifier_free(v);
}

/* ---- error values ---- */

Test(auth_verify, www_authenticate_follows_rfc6750)
{
    auth_verifier *v = t_hs_verifier();
    auth_error err;
    char buf[512];
    cr_assert_null(auth_verify(v, NULL, &err));
    cr_assert_gt(auth_error_www_authenticate(&err, "town", buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, "Bearer realm=\"town\"");
    cr_assert_null(auth_verify(v, "a.b", &err));
    cr_assert_gt(auth_error_www_authenticate(&err, "town", buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, "Bearer realm=\"town\", error=\"invalid_token\", "
                          "error_description=\"malformed token: expected three dot-separated "
                          "parts\"");
    err.status = 403;
    cr_assert_eq(auth_error_www_authenticate(&err, "town", buf, sizeof(buf)), -1);
    cr_assert_str_eq(auth_code_name(AUTH_E_ALG_MISMATCH), "alg_mismatch");
    auth_verifier_free(v);
}
