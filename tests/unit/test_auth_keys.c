/*
 * tests/unit/test_auth_keys.c: key configuration and rotation: secrets, PEM files,
 * JWKS files (which entries are used, skipped or refused), choosing keys by kid, and
 * replacing the key file while the verifier runs (explicit reload and change
 * detection).
 */
#include "auth_test_util.h"

#include <sys/stat.h>

/* A verifier over key_file (and kid for a PEM); asserts it loads. */
static auth_verifier *file_verifier(const char *key_file, const char *kid)
{
    auth_config cfg;
    auth_config_init(&cfg);
    cfg.key_file = key_file;
    cfg.key_kid = kid;
    auth_error err;
    auth_verifier *v = auth_verifier_new(&cfg, &err);
    cr_assert_not_null(v, "verifier: %s", err.description);
    return v;
}

/* Asserts that a verifier over key_file fails to load, with text in the error. */
static void assert_load_fails(const char *key_file, const char *text)
{
    auth_config cfg;
    auth_config_init(&cfg);
    cfg.key_file = key_file;
    auth_error err;
    cr_assert_null(auth_verifier_new(&cfg, &err), "loaded, expected: %s", text);
    cr_assert_eq(err.code, AUTH_E_CONFIG);
    cr_assert_eq(err.status, 500);
    cr_assert(strstr(err.description, text) != NULL, "error '%s' lacks '%s'", err.description,
              text);
}

/* Writes a JWKS with the given JWKs (references stolen) to path. */
static void write_jwks(const char *path, size_t n, json_t **jwks)
{
    char *text = t_jwks(n, jwks);
    t_replace(path, text);
    free(text);
}

/* ---- secrets ---- */

Test(auth_keys, secret_file_without_final_newline_equals_inline_secret)
{
    time_t now = time(NULL);
    char *dir = t_tmpdir();
    char *path = t_path(dir, "secret");
    t_write(path, TEST_SECRET "\n");
    auth_config cfg;
    auth_config_init(&cfg);
    cfg.secret_file = path;
    auth_verifier *v = auth_verifier_new(&cfg, NULL);
    cr_assert_not_null(v);
    json_t *c = t_claims(now);
    char *token = t_mint_hs(NULL, c);
    auth_principal_decref(t_accept(v, token, now));
    free(token);
    json_decref(c);
    auth_verifier_free(v);
    free(path);
    t_rmdir(dir);
}

Test(auth_keys, short_secret_and_conflicting_config_are_refused)
{
    auth_config cfg;
    auth_config_init(&cfg);
    auth_error err;
    cr_assert_null(auth_verifier_new(&cfg, &err));
    cr_assert_eq(err.code, AUTH_E_CONFIG);
    cfg.secret = "too-short";
    cr_assert_null(auth_verifier_new(&cfg, &err));
    cr_assert(strstr(err.description, "at least 32") != NULL, "%s", err.description);
    cfg.secret = TEST_SECRET;
    cfg.secret_file = "/nonexistent";
    cr_assert_null(auth_verifier_new(&cfg, &err));
    cfg.secret_file = NULL;
    cfg.clock_skew = -1;
    cr_assert_null(auth_verifier_new(&cfg, &err));
    cr_assert_eq(err.code, AUTH_E_CONFIG);
}

/* ---- PEM ---- */

Test(auth_keys, pem_key_with_configured_kid)
{
    time_t now = time(NULL);
    char *dir = t_tmpdir();
    char *path = t_path(dir, "ec.pem");
    EVP_PKEY *k = t_ec_key("P-256");
    char *pem = t_pem(k, false);
    t_write(path, pem);
    auth_verifier *v = file_verifier(path, "ec-1");
    json_t *c = t_claims(now);
    char *right = t_mint_pkey(JWT_ALG_ES256, k, "ec-1", c);
    char *wrong = t_mint_pkey(JWT_ALG_ES256, k, "ec-2", c);
    char *none = t_mint_pkey(JWT_ALG_ES256, k, NULL, c);
    auth_principal_decref(t_accept(v, right, now));
    t_assert_rejected(v, wrong, now, AUTH_E_UNKNOWN_KID);
    auth_principal_decref(t_accept(v, none, now));
    free(right);
    free(wrong);
    free(none);
    json_decref(c);
    auth_verifier_free(v);
    free(pem);
    EVP_PKEY_free(k);
    free(path);
    t_rmdir(dir);
}

Test(auth_keys, unusable_pem_files_are_refused)
{
    char *dir = t_tmpdir();
    char *path = t_path(dir, "key.pem");
    EVP_PKEY *rsa = t_rsa_key(2048);
    char *priv = t_pem(rsa, true);
    t_write(path, priv);
    assert_load_fails(path, "private key");
    EVP_PKEY *weak = t_rsa_key(1024);
    char *weak_pem = t_pem(weak, false);
    t_write(path, weak_pem);
    assert_load_fails(path, "at least 2048");
    EVP_PKEY *p384 = t_ec_key("P-384");
    char *p384_pem = t_pem(p384, false);
    t_write(path, p384_pem);
    assert_load_fails(path, "P-256");
    t_write(path, "hello");
    assert_load_fails(path, "neither a PEM public key nor a JWKS");
    assert_load_fails("/nonexistent/key.pem", "cannot open");
    free(priv);
    free(weak_pem);
    free(p384_pem);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(weak);
    EVP_PKEY_free(p384);
    free(path);
    t_rmdir(dir);
}

/* ---- JWKS ---- */

Test(auth_keys, jwks_keys_are_chosen_by_kid)
{
    time_t now = time(NULL);
    char *dir = t_tmpdir();
    char *path = t_path(dir, "keys.json");
    EVP_PKEY *rsa = t_rsa_key(2048), *ec = t_ec_key("P-256");
    json_t *jwks[] = {t_jwk(rsa, "rsa-1"), t_jwk(ec, "ec-1"),
                      json_pack("{s:s, s:s, s:s}", "kty", "oct", "kid", "hs-1", "k",
                                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY")};
    write_jwks(path, 3, jwks);
    auth_verifier *v = file_verifier(path, NULL);
    cr_assert_eq(auth_verifier_key_count(v), 3);
    json_t *c = t_claims(now);
    char *by_rsa = t_mint_pkey(JWT_ALG_RS256, rsa, "rsa-1", c);
    char *by_ec = t_mint_pkey(JWT_ALG_ES256, ec, "ec-1", c);
    char *by_oct = t_mint_hs("hs-1", c);
    char *rsa_as_ec = t_mint_pkey(JWT_ALG_RS256, rsa, "ec-1", c);
    char *no_kid = t_mint_pkey(JWT_ALG_RS256, rsa, NULL, c);
    auth_principal_decref(t_accept(v, by_rsa, now));
    auth_principal_decref(t_accept(v, by_ec, now));
    auth_principal_decref(t_accept(v, by_oct, now));
    t_assert_rejected(v, rsa_as_ec, now, AUTH_E_ALG_MISMATCH);
    /* Several keys: a token must say which. */
    t_assert_rejected(v, no_kid, now, AUTH_E_UNKNOWN_KID);
    free(by_rsa);
    free(by_ec);
    free(by_oct);
    free(rsa_as_ec);
    free(no_kid);
    json_decref(c);
    auth_verifier_free(v);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    free(path);
    t_rmdir(dir);
}

/* An identity provider's JWKS may hold keys for other uses; those are skipped. */
Test(auth_keys, jwks_entries_not_for_signing_are_skipped)
{
    char *dir = t_tmpdir();
    char *path = t_path(dir, "keys.json");
    EVP_PKEY *rsa = t_rsa_key(2048), *p384 = t_ec_key("P-384");
    json_t *enc = t_jwk(rsa, "enc-1");
    json_object_set_new(enc, "use", json_string("enc"));
    json_t *rs384 = t_jwk(rsa, "rs384");
    json_object_set_new(rs384, "alg", json_string("RS384"));
    json_t *okp = json_pack("{s:s, s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "kid", "ed",
                            "x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
    json_t *ec384 = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-384", "kid",
                              "ec384", "x", "AA", "y", "AA");
    json_t *sig = t_jwk(rsa, "sig-1");
    json_object_set_new(sig, "use", json_string("sig"));
    json_object_set_new(sig, "alg", json_string("RS256"));
    json_t *jwks[] = {enc, rs384, okp, ec384, sig};
    write_jwks(path, 5, jwks);
    auth_verifier *v = file_verifier(path, NULL);
    cr_assert_eq(auth_verifier_key_count(v), 1);
    auth_verifier_free(v);
    /* Nothing left to verify with is an error. */
    json_t *only_enc[] = {t_jwk(rsa, "enc-2")};
    json_object_set_new(only_enc[0], "use", json_string("enc"));
    write_jwks(path, 1, only_enc);
    assert_load_fails(path, "no RS256, ES256 or HS256 signing key");
    /* ... also when a secret is configured beside it: the key file is still useless. */
    auth_config cfg;
    auth_config_init(&cfg);
    cfg.secret = TEST_SECRET;
    cfg.key_file = path;
    auth_error err;
    cr_assert_null(auth_verifier_new(&cfg, &err), "a key file without usable keys loaded");
    cr_assert_eq(err.code, AUTH_E_CONFIG);
    cr_assert(strstr(err.description, "no RS256, ES256 or HS256 signing key") != NULL, "error: %s",
              err.description);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(p384);
    free(path);
    t_rmdir(dir);
}

Test(auth_keys, broken_jwks_files_are_refused)
{
    char *dir = t_tmpdir();
    char *path = t_path(dir, "keys.json");
    EVP_PKEY *ec = t_ec_key("P-256");
    t_write(path, "{\"keys\": [");
    assert_load_fails(path, "not valid JSON");
    t_write(path, "{\"kty\": \"EC\"}");
    assert_load_fails(path, "no \"keys\" array");
    t_write(path,
            "{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"r\", \"n\": \"!!\", \"e\": \"AQAB\"}]}");
    assert_load_fails(path, "JWKS key 0: JWK member \"n\" is not base64url");
    /* An EC point that is not on the curve. */
    t_write(path, "{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-256\", \"kid\": \"e\", "
                  "\"x\": \"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\", "
                  "\"y\": \"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}");
    assert_load_fails(path, "JWKS key 0");
    json_t *dup[] = {t_jwk(ec, "same"), t_jwk(ec, "same")};
    write_jwks(path, 2, dup);
    assert_load_fails(path, "same kid");
    json_t *weak_oct[] = {json_pack("{s:s, s:s}", "kty", "oct", "k", "c2hvcnQ")};
    write_jwks(path, 1, weak_oct);
    assert_load_fails(path, "at least 32");
    EVP_PKEY_free(ec);
    free(path);
    t_rmdir(dir);
}

/* ---- rotation ---- */

typedef struct rotation {
    char *dir;
    char *path;
    EVP_PKEY *old_key, *new_key;
    char *old_token, *new_token;
    auth_verifier *v;
    time_t now;
} rotation;

/* A JWKS holding "old"; tokens for "old" and "new"; a verifier over the file. */
static void rotation_setup(rotation *r)
{
    r->now = time(NULL);
    r->dir = t_tmpdir();
    r->path = t_path(r->dir, "keys.json");
    r->old_key = t_ec_key("P-256");
    r->new_key = t_rsa_key(2048);
    json_t *jwks[] = {t_jwk(r->old_key, "old")};
    write_jwks(r->path, 1, jwks);
    json_t *c = t_claims(r->now);
    r->old_token = t_mint_pkey(JWT_ALG_ES256, r->old_key, "old", c);
    r->new_token = t_mint_pkey(JWT_ALG_RS256, r->new_key, "new", c);
    json_decref(c);
    r->v = file_verifier(r->path, NULL);
    auth_principal_decref(t_accept(r->v, r->old_token, r->now));
    t_assert_rejected(r->v, r->new_token, r->now, AUTH_E_UNKNOWN_KID);
}

static void rotate_file(rotation *r)
{
    json_t *jwks[] = {t_jwk(r->new_key, "new")};
    write_jwks(r->path, 1, jwks);
}

static void rotation_teardown(rotation *r)
{
    auth_verifier_free(r->v);
    free(r->old_token);
    free(r->new_token);
    EVP_PKEY_free(r->old_key);
    EVP_PKEY_free(r->new_key);
    free(r->path);
    t_rmdir(r->dir);
}

Test(auth_keys, rotation_by_explicit_reload)
{
    rotation r;
    rotation_setup(&r);
    unsigned long gen = auth_verifier_generation(r.v);
    rotate_file(&r);
    auth_error err;
    cr_assert_eq(auth_verifier_reload(r.v, &err), 0, "%s", err.description);
    cr_assert_eq(auth_verifier_generation(r.v), gen + 1);
    /* Same clock second as before: only the explicit reload can have changed things. */
    t_assert_rejected(r.v, r.old_token, r.now, AUTH_E_UNKNOWN_KID);
    auth_principal_decref(t_accept(r.v, r.new_token, r.now));
    cr_assert_eq(auth_verifier_reload_status(r.v, NULL), 0);
    rotation_teardown(&r);
}

Test(auth_keys, rotation_by_file_change_without_restart)
{
    rotation r;
    rotation_setup(&r);
    rotate_file(&r);
    /* Within the second already checked, the change is not looked for yet... */
    auth_principal_decref(t_accept(r.v, r.old_token, r.now));
    /* ...in a later second it is, without any reload call. */
    auth_principal_decref(t_accept(r.v, r.new_token, r.now + 2));
    t_assert_rejected(r.v, r.old_token, r.now + 2, AUTH_E_UNKNOWN_KID);
    rotation_teardown(&r);
}

Test(auth_keys, rewrite_in_place_is_detected)
{
    rotation r;
    rotation_setup(&r);
    /* Same inode, new content (an editor saving in place): size differs. */
    json_t *jwks[] = {t_jwk(r.new_key, "new")};
    char *text = t_jwks(1, jwks);
    t_write(r.path, text);
    free(text);
    auth_principal_decref(t_accept(r.v, r.new_token, r.now + 1));
    rotation_teardown(&r);
}

Test(auth_keys, failed_reload_keeps_the_old_keys)
{
    rotation r;
    rotation_setup(&r);
    unsigned long gen = auth_verifier_generation(r.v);
    t_replace(r.path, "{\"keys\": [");
    auth_error err;
    cr_assert_eq(auth_verifier_reload(r.v, &err), -1);
    cr_assert_eq(err.code, AUTH_E_CONFIG);
    cr_assert_eq(auth_verifier_reload_status(r.v, &err), -1);
    cr_assert(strstr(err.description, "not valid JSON") != NULL, "%s", err.description);
    /* The automatic check in a later second fails the same way; old keys stay. */
    auth_principal_decref(t_accept(r.v, r.old_token, r.now + 2));
    cr_assert_eq(auth_verifier_generation(r.v), gen);
    /* A deleted file keeps the old keys too. */
    cr_assert_eq(unlink(r.path), 0);
    auth_principal_decref(t_accept(r.v, r.old_token, r.now + 4));
    /* Once the file is good again, the next check loads it. */
    rotate_file(&r);
    auth_principal_decref(t_accept(r.v, r.new_token, r.now + 6));
    cr_assert_eq(auth_verifier_reload_status(r.v, NULL), 0);
    rotation_teardown(&r);
}
