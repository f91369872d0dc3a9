/*
 * auth/tsunagi_token.c: the tsunagi-token tool, for operators and support staff.
 *
 *   tsunagi-token mint    sign a token (HS256 from a secret, RS256/ES256 from a private
 *                         PEM key; the key type decides the alg)
 *   tsunagi-token keygen  write a development HS256 secret, or an RSA/EC key pair with
 *                         a JWKS holding the public part
 *   tsunagi-token verify  decode a token and check it exactly as the broker does (same
 *                         library, same rules), printing its header and claims
 *
 * Design decisions:
 * - verify prints the header and claims even when the token is rejected: a support
 *   person needs to see the exp of an expired token or the kid of an unknown one. They
 *   are labelled as unverified unless the check passed.
 * - mint refuses unknown roles and invalid tenants (the broker would ignore or refuse
 *   them), so a typo shows up when the token is made, not when it is used.
 * - keygen never overwrites a file unless --force is given, and writes private keys
 *   and secrets with mode 0600.
 * - Exit status: 0 success, 1 token rejected by verify, 2 usage or other error.
 */
#include "auth/auth_private.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#define EXIT_REJECTED 1
#define EXIT_USAGE    2

/* Default token lifetime: one hour, long enough for a session, short enough that a
 * leaked token is soon useless. */
#define DEFAULT_LIFETIME 3600
/* Random bytes in a generated HS256 secret: the SHA-256 block output size. */
#define SECRET_BYTES 32
/* Default RSA modulus for keygen. */
#define DEFAULT_RSA_BITS 2048
/* Most audiences accepted by mint. */
#define MAX_AUDIENCES 8

static const char usage_text[] =
    "usage:\n"
    "  tsunagi-token mint   (--secret S | --secret-file F | --key PRIVATE.pem) [--kid K]\n"
    "                       --sub SUB --roles ROLE[,ROLE...] [--tenant T] [--scope SCOPE]\n"
    "                       [--iss ISS] [--aud AUD]... [--lifetime SEC | --exp TIME]\n"
    "                       [--nbf TIME]\n"
    "  tsunagi-token keygen --type hs256|rs256|es256 --out PREFIX [--kid K] [--bits N]\n"
    "                       [--force]\n"
    "  tsunagi-token verify (--secret S | --secret-file F | --keys FILE)... [--kid K]\n"
    "                       [--iss ISS] [--aud AUD] [--skew SEC] [TOKEN | -]\n"
    "  tsunagi-token help\n"
    "\n"
    "mint prints a signed token. HS256 with --secret/--secret-file (32 bytes or more);\n"
    "RS256 or ES256 with --key, an unencrypted private key PEM (RSA >= 2048 bits or EC\n"
    "P-256). --roles: resident, vendor, adapter, town. --scope: space-separated items\n"
    "resource:action[:type], e.g. \"entities:read:PointOfInterest subscriptions:write\".\n"
    "--lifetime sets exp to now + SEC (default 3600). TIME is epoch seconds or +N/-N\n"
    "seconds from now.\n"
    "\n"
    "keygen writes PREFIX.secret (hs256: 64 hex characters, used as they are), or\n"
    "PREFIX.key.pem (private), PREFIX.pub.pem and PREFIX.jwks.json (rs256, es256). The\n"
    "kid defaults to the key's RFC 7638 thumbprint. Existing files are kept unless --force.\n"
    "\n"
    "verify checks the token (argument, or stdin with - or no argument) like the broker:\n"
    "signature, exp/nbf (skew default 30 s), iss and aud if given, claims. --keys takes a\n"
    "PEM public key or a JWKS; --kid names the PEM key (or the secret if no --keys).\n"
    "\n"
    "exit status: 0 ok, 1 token rejected (verify), 2 usage or other error\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "tsunagi-token: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nrun 'tsunagi-token help' for usage\n");
    return EXIT_USAGE;
}

static int fail_with(const auth_error *err)
{
    fprintf(stderr, "tsunagi-token: %s\n", err->description);
    return EXIT_USAGE;
}

/* Parses a whole decimal number. */
static int parse_long(const char *s, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

/* TIME: epoch seconds, or +N / -N seconds from now. */
static int parse_time(const char *s, time_t now, time_t *out)
{
    long v = 0;
    if (parse_long(s, &v) < 0)
        return -1;
    *out = (s[0] == '+' || s[0] == '-') ? now + v : (time_t)v;
    return *out >= 0 ? 0 : -1;
}

/* ---- mint ---- */

typedef struct mint_opts {
    const char *secret, *secret_file, *key_file, *kid;
    const char *sub, *roles, *tenant, *scope, *iss;
    const char *aud[MAX_AUDIENCES];
    size_t aud_count;
    const char *lifetime, *exp, *nbf;
} mint_opts;

/* The signing key's bytes: the secret, or the private key PEM's text. Returns a new
 * buffer (free()), or NULL with err filled in. */
static char *read_mint_key(const mint_opts *o, size_t *len, auth_error *err)
{
    if (o->secret_file != NULL)
        return auth_read_secret_file(o->secret_file, len, err);
    if (o->key_file != NULL)
        return auth_read_file(o->key_file, len, err);
    char *key = strdup(o->secret);
    *len = strlen(o->secret);
    if (key == NULL)
        auth_fail(err, AUTH_E_INTERNAL, "out of memory");
    return key;
}

/* The alg for the key: HS256 for a secret, else decided by the private key's type. */
static jwt_alg_t mint_alg(const mint_opts *o, const char *key, size_t len, auth_error *err)
{
    if (o->key_file == NULL) {
        if (len >= AUTH_HS256_SECRET_MIN)
            return JWT_ALG_HS256;
        auth_fail(err, AUTH_E_CONFIG, "HS256 secret needs at least %d bytes",
                  AUTH_HS256_SECRET_MIN);
        return JWT_ALG_INVAL;
    }
    BIO *bio = BIO_new_mem_buf(key, (int)len);
    EVP_PKEY *pkey = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    jwt_alg_t alg = pkey != NULL ? auth_pkey_alg(pkey, err) : JWT_ALG_INVAL;
    if (pkey == NULL)
        auth_fail(err, AUTH_E_CONFIG, "%s is not an unencrypted private key PEM", o->key_file);
    EVP_PKEY_free(pkey);
    return alg;
}

static int add_roles(json_t *claims, const char *list)
{
    json_t *roles = json_array();
    char *copy = strdup(list);
    char *save = NULL;
    int rc = roles != NULL && copy != NULL ? 0 : -1;
    for (char *r = copy != NULL ? strtok_r(copy, ",", &save) : NULL; rc == 0 && r != NULL;
         r = strtok_r(NULL, ",", &save)) {
        if (auth_role_from_name(r) == 0)
            rc = usage_error("unknown role '%s' (resident, vendor, adapter, town)", r);
        else
            json_array_append_new(roles, json_string(r));
    }
    if (rc == 0 && json_array_size(roles) == 0)
        rc = usage_error("%s", "--roles names no role");
    free(copy);
    if (rc == 0)
        return json_object_set_new(claims, "roles", roles) == 0 ? 0 : EXIT_USAGE;
    json_decref(roles);
    return rc;
}

static int add_times(json_t *claims, const mint_opts *o, time_t now)
{
    time_t exp = 0, nbf = 0;
    long lifetime = DEFAULT_LIFETIME;
    if (o->lifetime != NULL && o->exp != NULL)
        return usage_error("%s", "give --lifetime or --exp, not both");
    if (o->lifetime != NULL && (parse_long(o->lifetime, &lifetime) < 0 || lifetime <= 0))
        return usage_error("bad --lifetime '%s' (seconds > 0)", o->lifetime);
    if (o->exp != NULL && parse_time(o->exp, now, &exp) < 0)
        return usage_error("bad --exp '%s' (epoch seconds or +N/-N)", o->exp);
    if (o->nbf != NULL && parse_time(o->nbf, now, &nbf) < 0)
        return usage_error("bad --nbf '%s' (epoch seconds or +N/-N)", o->nbf);
    json_object_set_new(claims, "iat", json_integer(now));
    json_object_set_new(claims, "exp", json_integer(o->exp != NULL ? exp : now + lifetime));
    if (o->nbf != NULL)
        json_object_set_new(claims, "nbf", json_integer(nbf));
    return 0;
}

static int add_audience(json_t *claims, const mint_opts *o)
{
    if (o->aud_count == 1)
        return json_object_set_new(claims, "aud", json_string(o->aud[0]));
    if (o->aud_count == 0)
        return 0;
    json_t *aud = json_array();
    for (size_t i = 0; i < o->aud_count; i++)
        json_array_append_new(aud, json_string(o->aud[i]));
    return json_object_set_new(claims, "aud", aud);
}

/* The claims object, or NULL after printing why. Returns a new reference. */
static json_t *mint_claims(const mint_opts *o, time_t now)
{
    json_t *claims = json_object();
    char tenant[AUTH_TENANT_MAX + 1];
    auth_error err;
    int rc = json_object_set_new(claims, "sub", json_string(o->sub)) == 0 ? 0 : EXIT_USAGE;
    rc = rc != 0 ? rc : add_roles(claims, o->roles);
    if (rc == 0 && o->tenant != NULL) {
        rc = auth_tenant_normalize(o->tenant, tenant, &err) < 0 ? fail_with(&err) : 0;
        rc = rc != 0 ? rc : json_object_set_new(claims, "tenant", json_string(tenant));
    }
    if (rc == 0 && o->scope != NULL)
        rc = json_object_set_new(claims, "scope", json_string(o->scope));
    if (rc == 0 && o->iss != NULL)
        rc = json_object_set_new(claims, "iss", json_string(o->iss));
    rc = rc != 0 ? rc : add_audience(claims, o);
    rc = rc != 0 ? rc : add_times(claims, o, now);
    if (rc != 0) {
        json_decref(claims);
        return NULL;
    }
    return claims;
}

/* Signs claims. Returns a new string (free()) or NULL. */
static char *sign(json_t *claims, const char *kid, jwt_alg_t alg, const unsigned char *key,
                  size_t len)
{
    jwt_t *jwt = NULL;
    char *grants = json_dumps(claims, JSON_COMPACT);
    char *token = NULL;
    if (grants != NULL && jwt_new(&jwt) == 0 && jwt_add_grants_json(jwt, grants) == 0 &&
        (kid == NULL || jwt_add_header(jwt, "kid", kid) == 0) &&
        jwt_set_alg(jwt, alg, key, (int)len) == 0)
        token = jwt_encode_str(jwt);
    jwt_free(jwt);
    free(grants);
    return token;
}

static int mint_parse(int argc, char **argv, mint_opts *o)
{
    static const struct option opts[] = {
        {"secret", required_argument, NULL, 's'},   {"secret-file", required_argument, NULL, 'S'},
        {"key", required_argument, NULL, 'k'},      {"kid", required_argument, NULL, 'i'},
        {"sub", required_argument, NULL, 'u'},      {"roles", required_argument, NULL, 'r'},
        {"tenant", required_argument, NULL, 't'},   {"scope", required_argument, NULL, 'c'},
        {"iss", required_argument, NULL, 'I'},      {"aud", required_argument, NULL, 'a'},
        {"lifetime", required_argument, NULL, 'l'}, {"exp", required_argument, NULL, 'e'},
        {"nbf", required_argument, NULL, 'n'},      {NULL, 0, NULL, 0}};
    /* Where each option's value goes, indexed by its getopt code. */
    const char **slot[] = {
        ['s'] = &o->secret, ['S'] = &o->secret_file, ['k'] = &o->key_file, ['i'] = &o->kid,
        ['u'] = &o->sub,    ['r'] = &o->roles,       ['t'] = &o->tenant,   ['c'] = &o->scope,
        ['I'] = &o->iss,    ['l'] = &o->lifetime,    ['e'] = &o->exp,      ['n'] = &o->nbf};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'a' && o->aud_count < MAX_AUDIENCES)
            o->aud[o->aud_count++] = optarg;
        else if (c == 'a')
            return usage_error("%s", "too many --aud options (at most 8)");
        else if (c > 0 && (size_t)c < sizeof(slot) / sizeof(slot[0]) && slot[c] != NULL)
            *slot[c] = optarg;
        else
            return usage_error("%s", "bad option for mint");
    }
    if (optind != argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    int keys = (o->secret != NULL) + (o->secret_file != NULL) + (o->key_file != NULL);
    if (keys != 1)
        return usage_error("%s", "mint needs exactly one of --secret, --secret-file, --key");
    if (o->sub == NULL || *o->sub == '\0' || o->roles == NULL)
        return usage_error("%s", "mint needs --sub and --roles");
    return 0;
}

static int cmd_mint(int argc, char **argv)
{
    mint_opts o = {0};
    int rc = mint_parse(argc, argv, &o);
    if (rc != 0)
        return rc;
    auth_error err;
    size_t len = 0;
    char *key = read_mint_key(&o, &len, &err);
    if (key == NULL)
        return fail_with(&err);
    jwt_alg_t alg = mint_alg(&o, key, len, &err);
    json_t *claims = alg != JWT_ALG_INVAL ? mint_claims(&o, time(NULL)) : NULL;
    char *token = claims != NULL ? sign(claims, o.kid, alg, (unsigned char *)key, len) : NULL;
    if (alg == JWT_ALG_INVAL)
        fail_with(&err);
    else if (claims != NULL && token == NULL)
        fprintf(stderr, "tsunagi-token: signing failed (libjwt: %s)\n", strerror(errno));
    if (token != NULL)
        printf("%s\n", token);
    OPENSSL_cleanse(key, len);
    free(key);
    free(token);
    json_decref(claims);
    return token != NULL ? 0 : EXIT_USAGE;
}

/* ---- keygen ---- */

typedef struct keygen_opts {
    const char *type, *out, *kid, *bits;
    bool force;
} keygen_opts;

/* Writes len bytes to path with mode; refuses to replace a file unless force. */
static int write_file(const char *path, const void *data, size_t len, mode_t mode, bool force)
{
    int fd = open(path, O_WRONLY | O_CREAT | (force ? O_TRUNC : O_EXCL), mode);
    if (fd < 0) {
        fprintf(stderr, "tsunagi-token: cannot create %s: %s%s\n", path, strerror(errno),
                errno == EEXIST ? " (use --force to replace it)" : "");
        return -1;
    }
    ssize_t n = write(fd, data, len);
    int rc = close(fd);
    if (n != (ssize_t)len || rc != 0) {
        fprintf(stderr, "tsunagi-token: cannot write %s\n", path);
        return -1;
    }
    printf("wrote %s\n", path);
    return 0;
}

static char *path_with(const char *prefix, const char *suffix)
{
    size_t n = strlen(prefix) + strlen(suffix) + 1;
    char *path = malloc(n);
    if (path != NULL)
        snprintf(path, n, "%s%s", prefix, suffix);
    return path;
}

/* Writes data to PREFIX+suffix. */
static int write_output(const keygen_opts *o, const char *suffix, const void *data, size_t len,
                        mode_t mode)
{
    char *path = path_with(o->out, suffix);
    int rc = path != NULL ? write_file(path, data, len, mode, o->force) : -1;
    free(path);
    return rc;
}

static int keygen_secret(const keygen_opts *o)
{
    unsigned char raw[SECRET_BYTES];
    char hex[2 * SECRET_BYTES + 2];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        fprintf(stderr, "tsunagi-token: no random bytes available\n");
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    hex[2 * SECRET_BYTES] = '\n';
    int rc = write_output(o, ".secret", hex, 2 * SECRET_BYTES + 1, 0600);
    OPENSSL_cleanse(raw, sizeof(raw));
    OPENSSL_cleanse(hex, sizeof(hex));
    return rc == 0 ? 0 : EXIT_USAGE;
}

/* PEM of pkey's private (PKCS#8) or public part, written to PREFIX+suffix. */
static int write_pem(const keygen_opts *o, EVP_PKEY *pkey, bool private_part, const char *suffix)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int ok = bio != NULL &&
             (private_part ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
                           : PEM_write_bio_PUBKEY(bio, pkey));
    char *data = NULL;
    long n = ok ? BIO_get_mem_data(bio, &data) : 0;
    int rc = n > 0 ? write_output(o, suffix, data, (size_t)n, private_part ? 0600 : 0644) : -1;
    BIO_free(bio);
    return rc;
}

static int write_jwks(const keygen_opts *o, EVP_PKEY *pkey, const char *kid)
{
    auth_error err;
    json_t *jwk = auth_jwk_from_pkey(pkey, kid, &err);
    if (jwk == NULL)
        return fail_with(&err);
    json_t *doc = json_pack("{s:[o]}", "keys", jwk);
    char *text = doc != NULL ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    int rc = -1;
    if (text != NULL) {
        size_t n = strlen(text);
        text[n] = '\n';
        rc = write_output(o, ".jwks.json", text, n + 1, 0644);
    }
    free(text);
    json_decref(doc);
    return rc;
}

static EVP_PKEY *generate(const keygen_opts *o)
{
    long bits = DEFAULT_RSA_BITS;
    if (strcmp(o->type, "es256") == 0)
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (o->bits != NULL && (parse_long(o->bits, &bits) < 0 || bits < AUTH_RSA_MIN_BITS)) {
        usage_error("bad --bits '%s' (2048 or more)", o->bits);
        return NULL;
    }
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
}

static int keygen_pair(const keygen_opts *o)
{
    EVP_PKEY *pkey = generate(o);
    if (pkey == NULL)
        return EXIT_USAGE;
    auth_error err;
    char *kid = o->kid != NULL ? strdup(o->kid) : auth_jwk_thumbprint(pkey, &err);
    int rc = kid != NULL ? 0 : fail_with(&err);
    if (rc == 0 && (write_pem(o, pkey, true, ".key.pem") < 0 ||
                    write_pem(o, pkey, false, ".pub.pem") < 0 || write_jwks(o, pkey, kid) != 0))
        rc = EXIT_USAGE;
    if (rc == 0)
        printf("kid: %s\n", kid);
    free(kid);
    EVP_PKEY_free(pkey);
    return rc;
}

static int cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"type", required_argument, NULL, 't'}, {"out", required_argument, NULL, 'o'},
        {"kid", required_argument, NULL, 'i'},  {"bits", required_argument, NULL, 'b'},
        {"force", no_argument, NULL, 'f'},      {NULL, 0, NULL, 0}};
    keygen_opts o = {0};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 't')
            o.type = optarg;
        else if (c == 'o')
            o.out = optarg;
        else if (c == 'i')
            o.kid = optarg;
        else if (c == 'b')
            o.bits = optarg;
        else if (c == 'f')
            o.force = true;
        else
            return usage_error("%s", "bad option for keygen");
    }
    if (optind != argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (o.type == NULL || o.out == NULL)
        return usage_error("%s", "keygen needs --type and --out");
    if (strcmp(o.type, "hs256") == 0)
        return keygen_secret(&o);
    if (strcmp(o.type, "rs256") == 0 || strcmp(o.type, "es256") == 0)
        return keygen_pair(&o);
    return usage_error("unknown --type '%s' (hs256, rs256, es256)", o.type);
}

/* ---- verify ---- */

/* The token: argument, or first line of stdin. Returns a new string or NULL. */
static char *read_token(const char *arg)
{
    if (arg != NULL && strcmp(arg, "-") != 0)
        return strdup(arg);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = '\0';
    if (n <= 0) {
        free(line);
        return NULL;
    }
    return line;
}

static void print_json(const char *label, json_t *json)
{
    char *text = json_dumps(json, JSON_INDENT(2));
    printf("%s %s\n", label, text != NULL ? text : "?");
    free(text);
}

static void print_principal(const auth_principal *p, time_t now)
{
    printf("result: valid\n  sub: %s\n  roles:", auth_principal_sub(p));
    for (unsigned bit = 1; bit <= AUTH_ROLE_TOWN; bit <<= 1)
        if (auth_principal_has_role(p, bit))
            printf(" %s", auth_role_name(bit));
    const char *tenant = auth_principal_tenant(p);
    printf("\n  tenant: %s\n  scope:", *tenant != '\0' ? tenant : "(default tenant)");
    for (size_t i = 0; i < auth_principal_scope_count(p); i++) {
        const auth_scope *s = auth_principal_scope_at(p, i);
        printf(" %s:%s%s%s", s->resource, s->action, s->type != NULL ? ":" : "",
               s->type != NULL ? s->type : "");
    }
    time_t exp = auth_principal_expires(p);
    struct tm tm;
    char when[32] = "?";
    if (gmtime_r(&exp, &tm) != NULL)
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("\n  expires: %s (in %lld s)\n", when, (long long)(exp - now));
}

static int verify_token(auth_verifier *v, const char *token)
{
    json_t *header = NULL, *claims = NULL;
    auth_error err;
    time_t now = time(NULL);
    auth_principal *p = auth_verify_at(v, token, now, &err);
    if (auth_token_decode_unverified(token, &header, &claims, NULL) == 0) {
        print_json(p != NULL ? "header:" : "header (unverified):", header);
        print_json(p != NULL ? "claims:" : "claims (unverified):", claims);
    }
    if (p != NULL)
        print_principal(p, now);
    else
        printf("result: rejected: %d %s: %s [%s]\n", err.status, err.name, err.description,
               auth_code_name(err.code));
    json_decref(header);
    json_decref(claims);
    auth_principal_decref(p);
    return p != NULL ? 0 : EXIT_REJECTED;
}

static int verify_parse(int argc, char **argv, auth_config *cfg)
{
    static const struct option opts[] = {
        {"secret", required_argument, NULL, 's'}, {"secret-file", required_argument, NULL, 'S'},
        {"keys", required_argument, NULL, 'k'},   {"kid", required_argument, NULL, 'i'},
        {"iss", required_argument, NULL, 'I'},    {"aud", required_argument, NULL, 'a'},
        {"skew", required_argument, NULL, 'w'},   {NULL, 0, NULL, 0}};
    const char *kid = NULL, *skew = NULL;
    /* Where each option's value goes, indexed by its getopt code. */
    const char **slot[] = {
        ['s'] = &cfg->secret, ['S'] = &cfg->secret_file, ['k'] = &cfg->key_file, ['i'] = &kid,
        ['I'] = &cfg->issuer, ['a'] = &cfg->audience,    ['w'] = &skew};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c > 0 && (size_t)c < sizeof(slot) / sizeof(slot[0]) && slot[c] != NULL)
            *slot[c] = optarg;
        else
            return usage_error("%s", "bad option for verify");
    }
    if (skew != NULL && parse_long(skew, &cfg->clock_skew) < 0)
        return usage_error("bad --skew '%s' (seconds)", skew);
    if (argc - optind > 1)
        return usage_error("unexpected argument '%s'", argv[optind + 1]);
    *(cfg->key_file != NULL ? &cfg->key_kid : &cfg->secret_kid) = kid;
    /* One token, checked once: a cache would only cost memory. */
    cfg->cache_entries = 0;
    return 0;
}

static int cmd_verify(int argc, char **argv)
{
    auth_config cfg;
    auth_config_init(&cfg);
    int rc = verify_parse(argc, argv, &cfg);
    if (rc != 0)
        return rc;
    auth_error err;
    auth_verifier *v = auth_verifier_new(&cfg, &err);
    if (v == NULL)
        return fail_with(&err);
    char *token = read_token(optind < argc ? argv[optind] : NULL);
    if (token == NULL)
        rc = usage_error("%s", "no token given");
    else
        rc = verify_token(v, token);
    free(token);
    auth_verifier_free(v);
    return rc;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;
    int rc;
    if (cmd == NULL)
        rc = usage_error("%s", "no command given");
    else if (strcmp(cmd, "mint") == 0)
        rc = cmd_mint(argc - 1, argv + 1);
    else if (strcmp(cmd, "keygen") == 0)
        rc = cmd_keygen(argc - 1, argv + 1);
    else if (strcmp(cmd, "verify") == 0)
        rc = cmd_verify(argc - 1, argv + 1);
    else if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        rc = fputs(usage_text, stdout) < 0 ? EXIT_USAGE : 0;
    else
        rc = usage_error("unknown command '%s'", cmd);
    ERR_clear_error();
    return rc;
}
