/*
 * auth/auth.h: Tsunagi's token and policy core (library tsunagi_auth).
 *
 * What a request goes through, in the order the broker calls it:
 *
 *   auth_token_from_headers()  find the bearer token in Authorization / X-Auth-Token
 *   auth_verify()              check it (signature, exp/nbf, iss/aud, claims) and
 *                              return the principal it names; cached by token hash
 *   auth_tenant_decide()       the tenant the request acts on (Fiware-Service vs token)
 *   auth_principal_has_role()  role and scope checks for the route
 *   auth_principal_has_scope()
 *
 * Thread-safety: an auth_verifier is shared by all request threads. auth_verify(),
 * auth_verify_at(), auth_verifier_reload() and the stats functions may be called
 * concurrently from any thread. A principal is immutable once returned; its accessors
 * may be called from any thread, and it may be passed between threads. Every other
 * function works only on its arguments and is thread-safe too. Nothing here is
 * async-signal-safe: on SIGHUP set a flag and call auth_verifier_reload() outside the
 * handler.
 *
 * Errors are values: a failing function fills in an auth_error (HTTP status, NGSI
 * error name, description) and returns -1 or NULL. Nothing is logged.
 */
#ifndef TSUNAGI_AUTH_H
#define TSUNAGI_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ------------------------------------------------------------------- */

/* Why a call failed. The HTTP status and NGSI error name follow from the code. */
typedef enum auth_code {
    AUTH_OK = 0,
    AUTH_E_MISSING,         /* 401 no token although the route needs one */
    AUTH_E_MALFORMED,       /* 401 not a compact JWS: segments, base64url, JSON, typ */
    AUTH_E_ALG_NONE,        /* 401 unsigned token (alg "none") */
    AUTH_E_ALG_MISMATCH,    /* 401 token alg differs from its key's alg (alg confusion) */
    AUTH_E_UNKNOWN_KID,     /* 401 no key for the token's kid */
    AUTH_E_SIGNATURE,       /* 401 signature does not verify */
    AUTH_E_EXPIRED,         /* 401 exp (plus skew) has passed */
    AUTH_E_NOT_YET_VALID,   /* 401 nbf (minus skew) is still ahead */
    AUTH_E_ISSUER,          /* 401 iss differs from the configured issuer */
    AUTH_E_AUDIENCE,        /* 401 aud does not name the configured audience */
    AUTH_E_CLAIMS,          /* 401 exp missing; exp, nbf, sub, roles, tenant or scope invalid */
    AUTH_E_BAD_TENANT,      /* 400 the Fiware-Service header is not a valid tenant */
    AUTH_E_TENANT_MISMATCH, /* 403 the token belongs to another tenant */
    AUTH_E_FORBIDDEN,       /* 403 the token does not allow this (role or scope) */
    AUTH_E_CONFIG,          /* 500 key material or configuration cannot be used */
    AUTH_E_INTERNAL         /* 500 out of memory or a crypto library failure */
} auth_code;

/* Room for a description; long enough for every text this module writes. */
#define AUTH_ERROR_TEXT_MAX 200

typedef struct auth_error {
    auth_code code;
    int status;       /* HTTP status: 400, 401, 403 or 500 */
    const char *name; /* NGSI error name, static: "Unauthorized", "Forbidden", ... */
    char description[AUTH_ERROR_TEXT_MAX];
} auth_error;

/* Short stable name of a code ("expired", "alg_mismatch", ...) for logs and metrics
 * labels. Static string. */
const char *auth_code_name(auth_code code);

/*
 * Writes the value of the WWW-Authenticate header that a 401 reply must carry
 * (RFC 6750 section 3): `Bearer realm="<realm>"` for a missing token, plus
 * `, error="invalid_token", error_description="..."` for a rejected one.
 * Returns the length written (like snprintf), or -1 if err is not a 401 error.
 */
int auth_error_www_authenticate(const auth_error *err, const char *realm, char *buf, size_t size);

/* ---- configuration and verifier ---------------------------------------------- */

/* Default tolerance for clocks that disagree between issuer and broker. */
#define AUTH_DEFAULT_CLOCK_SKEW 30
/* Largest skew accepted: skew is for drifting clocks, and every second of it stretches
 * the life of every token. */
#define AUTH_MAX_CLOCK_SKEW 600
/* Default number of cached verified tokens: a few thousand active users per town. */
#define AUTH_DEFAULT_CACHE_ENTRIES 4096
/* Longest token accepted (bytes): larger than any realistic token, small enough that a
 * hostile header cannot make verification expensive. */
#define AUTH_TOKEN_MAX 8192

typedef struct auth_config {
    const char *issuer;   /* required "iss", or NULL to accept any issuer */
    const char *audience; /* required member of "aud", or NULL to skip the check */
    long clock_skew;      /* seconds of tolerance on exp and nbf */

    /* HS256 shared secret: inline or in a file (one trailing newline is stripped).
     * The bytes are used as they are (a hex secret is not decoded); 32 bytes or more. */
    const char *secret;
    const char *secret_file;
    const char *secret_kid; /* kid of the secret, or NULL */

    /* RS256/ES256 public keys: one PEM public key, or a JWKS (RFC 7517) file. The
     * format is recognised from the content. Watched for changes. */
    const char *key_file;
    const char *key_kid; /* kid of a PEM key, or NULL; ignored for JWKS */

    size_t cache_entries; /* verified tokens kept; 0 disables the cache */
} auth_config;

/* Fills in the defaults: no keys, no iss/aud check, AUTH_DEFAULT_CLOCK_SKEW,
 * AUTH_DEFAULT_CACHE_ENTRIES. */
void auth_config_init(auth_config *cfg);

typedef struct auth_verifier auth_verifier;

/*
 * Creates a verifier and loads its keys. At least one of secret, secret_file and
 * key_file must be given. The strings of cfg are copied. Returns a new verifier (free
 * with auth_verifier_free()), or NULL with err filled in (AUTH_E_CONFIG).
 */
auth_verifier *auth_verifier_new(const auth_config *cfg, auth_error *err);
void auth_verifier_free(auth_verifier *v);

/*
 * Reads the key files again and swaps in the new key set; verifications already
 * running finish with the old one. Cached tokens are dropped. On failure the old key
 * set stays in use and err says why. Call it on SIGHUP. Thread-safe.
 */
int auth_verifier_reload(auth_verifier *v, auth_error *err);

/* Whether the most recent reload (explicit or after a file change) failed: returns -1
 * and copies its error to err, or 0 if it succeeded. For logging by the broker. */
int auth_verifier_reload_status(auth_verifier *v, auth_error *err);

/* Number of keys in the current key set, and its generation (1 for the keys loaded by
 * auth_verifier_new(), one more on every successful reload). */
size_t auth_verifier_key_count(auth_verifier *v);
unsigned long auth_verifier_generation(auth_verifier *v);

typedef struct auth_cache_stats {
    unsigned long hits;   /* verifications answered from the cache */
    unsigned long misses; /* verifications that checked the signature */
    size_t entries;       /* slots in use (including stale ones not yet replaced) */
    size_t capacity;      /* upper bound of entries */
} auth_cache_stats;

void auth_verifier_cache_stats(auth_verifier *v, auth_cache_stats *stats);

/* ---- principals ---------------------------------------------------------------- */

typedef struct auth_principal auth_principal;

/* Roles, as bits so that a route can require "any of" with one mask. */
typedef enum auth_role {
    AUTH_ROLE_RESIDENT = 1u << 0,
    AUTH_ROLE_VENDOR = 1u << 1,
    AUTH_ROLE_ADAPTER = 1u << 2,
    AUTH_ROLE_TOWN = 1u << 3
} auth_role;

/* The role named `name` ("resident", ...), or 0 if there is none. */
unsigned auth_role_from_name(const char *name);
/* Name of a single role bit, or NULL. Static string. */
const char *auth_role_name(unsigned role);

/*
 * Verifies a token at the current time (auth_verify) or at `now` (auth_verify_at; for
 * tests and tools). token may be NULL (AUTH_E_MISSING). Also checks, at most once per
 * second, whether the key files changed and reloads them if so.
 * Returns a new reference to the principal (release with auth_principal_decref()), or
 * NULL with err filled in.
 */
auth_principal *auth_verify(auth_verifier *v, const char *token, auth_error *err);
auth_principal *auth_verify_at(auth_verifier *v, const char *token, time_t now, auth_error *err);

/*
 * Builds a principal from a claims object without any signature or time check (sub,
 * roles, tenant, scope; exp if present). For tests and for tokens already verified
 * elsewhere. Returns a new reference, or NULL with err filled in (AUTH_E_CLAIMS).
 */
auth_principal *auth_principal_from_claims(const json_t *claims, auth_error *err);

/* Returns p. */
auth_principal *auth_principal_incref(auth_principal *p);
/* Releases one reference; NULL is allowed. */
void auth_principal_decref(auth_principal *p);

/* Borrowed strings, valid while p lives. */
const char *auth_principal_sub(const auth_principal *p);
/* The token's tenant, lowercased; "" for the default tenant (no tenant claim). */
const char *auth_principal_tenant(const auth_principal *p);
unsigned auth_principal_roles(const auth_principal *p);
/* True if p holds any of the roles in mask. */
bool auth_principal_has_role(const auth_principal *p, unsigned mask);
/* The token's exp, or 0 if none was given (auth_principal_from_claims only). */
time_t auth_principal_expires(const auth_principal *p);

/* One item of the scope claim: resource:action[:type]. type is NULL when absent
 * (meaning every type). Borrowed from the principal. */
typedef struct auth_scope {
    const char *resource;
    const char *action;
    const char *type;
} auth_scope;

/* True if scope item s grants action on resource, whatever its type part says. */
bool auth_scope_grants(const auth_scope *s, const char *resource, const char *action);

size_t auth_principal_scope_count(const auth_principal *p);
/* Borrowed; NULL if i is out of range. */
const auth_scope *auth_principal_scope_at(const auth_principal *p, size_t i);

/*
 * True if some scope item grants `action` on `resource` for entity type `type`.
 * "*" in an item matches any value in its place; an item without a type covers every
 * type. type may be NULL (an operation not limited to one type): then only items
 * covering every type match.
 */
bool auth_principal_has_scope(const auth_principal *p, const char *resource, const char *action,
                              const char *type);

/* True if some scope item of p grants action on resource for at least one type (a
 * coarse check before the per-type decisions). p may be NULL (no token: false). */
bool auth_principal_may(const auth_principal *p, const char *resource, const char *action);

/* ---- tenants ------------------------------------------------------------------- */

/* Orion's limit on Fiware-Service. */
#define AUTH_TENANT_MAX 50

/*
 * Checks a tenant name like Orion checks Fiware-Service (at most 50 characters,
 * ASCII letters, digits and '_') and writes it lowercased to out.
 * Returns 0, or -1 with err filled in (AUTH_E_BAD_TENANT).
 */
int auth_tenant_normalize(const char *name, char out[AUTH_TENANT_MAX + 1], auth_error *err);

/*
 * The tenant a request acts on. fiware_service is the request's Fiware-Service header
 * (NULL or "" if absent). Absent: the token's tenant. Present: it must equal the
 * token's tenant after lowercasing, else 403 (AUTH_E_TENANT_MISMATCH); an invalid
 * header is a 400 (AUTH_E_BAD_TENANT).
 * Returns the tenant borrowed from p ("" = default tenant), or NULL with err filled in.
 */
const char *auth_tenant_decide(const auth_principal *p, const char *fiware_service,
                               auth_error *err);

/* ---- headers and tokens --------------------------------------------------------- */

/*
 * Finds the token in the request's headers: `Authorization: Bearer <token>` (scheme
 * case-insensitive) or `X-Auth-Token: <token>`; either argument may be NULL. If both
 * are present they must carry the same token.
 * Returns 0 with *token borrowed from one of the header values, or NULL if neither
 * header is present; -1 with err filled in (AUTH_E_MALFORMED) for a non-Bearer
 * Authorization, an empty token or two different tokens.
 */
int auth_token_from_headers(const char *authorization, const char *x_auth_token, const char **token,
                            auth_error *err);

/*
 * Decodes a token's header and claims WITHOUT verifying anything; for showing a token
 * to a person (tsunagi-token verify), never for deciding access.
 * Returns 0 with *header and *claims as new references (json_decref), or -1 with err
 * filled in (AUTH_E_MALFORMED; AUTH_E_MISSING for a NULL or empty token).
 */
int auth_token_decode_unverified(const char *token, json_t **header, json_t **claims,
                                 auth_error *err);

/* ---- secret files ----------------------------------------------------------------- */

/*
 * Reads a secret (the HS256 secret, the pseudonym secret) from a regular file of at
 * most 1 MiB, without one final "\n" or "\r\n" that editors and `echo` add.
 * Returns a new NUL-terminated buffer holding *len bytes (wipe it, then free()), or
 * NULL with err filled in (AUTH_E_CONFIG; AUTH_E_INTERNAL if memory ran out).
 */
char *auth_read_secret_file(const char *path, size_t *len, auth_error *err);

/* ---- pairwise pseudonyms --------------------------------------------------------- */

/* Length of a pseudonym: hex of a SHA-256 HMAC. */
#define AUTH_PSEUDONYM_LEN 64
/* Shortest pseudonym secret: the HMAC's own output size (RFC 2104 section 3). */
#define AUTH_PSEUDONYM_SECRET_MIN 32

/*
 * The pseudonym of resident common_id towards service service_id:
 *   lowercase hex of HMAC-SHA256(secret, be32(len(common_id)) || common_id
 *                                        || be32(len(service_id)) || service_id)
 * where be32 is a 4-byte big-endian byte count. The length prefixes make the message
 * unambiguous, so two different (common_id, service_id) pairs never give the same
 * message. Writes AUTH_PSEUDONYM_LEN characters and a NUL to out.
 * Returns 0, or -1 with err filled in (short secret: AUTH_E_CONFIG; empty id:
 * AUTH_E_CLAIMS).
 */
int auth_pseudonym(const void *secret, size_t secret_len, const char *common_id,
                   const char *service_id, char out[AUTH_PSEUDONYM_LEN + 1], auth_error *err);

/* ---- entity classes and access decisions ---------------------------------------- */

/*
 * The attribute of a personal entity that holds its owner's common ID (共通ID), as a
 * non-empty string. Reserved in personal types: Tsunagi reads it to decide access and
 * shows it to services only as a pairwise pseudonym.
 */
#define AUTH_OWNER_ATTR "ownerId"
/* Longest entity type name, as NGSI-v2 limits names. */
#define AUTH_TYPE_MAX 256
/* Longest category name: a short label such as "health". */
#define AUTH_CATEGORY_MAX 64

/* How a town classes an entity type (docs/auth.md). */
typedef enum auth_class {
    AUTH_CLASS_RESTRICTED = 0, /* the default: tokens of the tenant whose scopes name it */
    AUTH_CLASS_OPEN,           /* open data: anyone reads; town or adapter writes */
    AUTH_CLASS_PERSONAL        /* one resident's: owner, consented services, town */
} auth_class;

/* "restricted", "open" or "personal". Static string. */
const char *auth_class_name(auth_class c);

typedef struct auth_policy auth_policy;

/*
 * Builds the policy from the "entityTypes" object of the configuration file:
 *   {"PointOfInterest": "open",
 *    "VitalSignObserved": {"class": "personal", "category": "health"}}
 * A value is a class name, or an object with "class" and (personal types only) an
 * optional "category". entity_types may be NULL: every type is then restricted.
 * Returns a new policy (auth_policy_free()), or NULL with err filled in
 * (AUTH_E_CONFIG). Immutable once built; safe to share between threads.
 */
auth_policy *auth_policy_new(const json_t *entity_types, auth_error *err);
void auth_policy_free(auth_policy *pol);

/* The class of type; types not configured are restricted. *category (if category is
 * not NULL) gets a personal type's category or NULL; borrowed from pol. */
auth_class auth_policy_class(const auth_policy *pol, const char *type, const char **category);

/* The configured types of class c, sorted by name; *names is borrowed from pol.
 * Returns how many. */
size_t auth_policy_types(const auth_policy *pol, auth_class c, const char *const **names);

/* Every configured type (any class), sorted; borrowed. Returns how many. */
size_t auth_policy_all_types(const auth_policy *pol, const char *const **names);

typedef enum auth_action { AUTH_READ, AUTH_WRITE } auth_action;

/* Which entities of a type a principal may access, as bits (any may combine). */
enum {
    AUTH_ACCESS_ALL = 1u << 0,       /* every entity of the type */
    AUTH_ACCESS_OWN = 1u << 1,       /* personal: those whose owner is the principal's sub */
    AUTH_ACCESS_CONSENTED = 1u << 2, /* personal: those whose owner consented to the
                                        principal (a service) for the type or category */
};

/*
 * What principal p (NULL: a request without a token) may do with entities of type.
 * The rules (docs/auth.md, "Who may do what"), where "scoped" means p's scope grants
 * entities:<action>:<type>:
 *   open        read: ALL for anyone. write: ALL for town or adapter, scoped.
 *   restricted  read and write: ALL when scoped (any role).
 *   personal    read: ALL for town, scoped; OWN for a resident; CONSENTED for vendor or
 *               adapter, scoped. write: ALL for town or adapter, scoped; OWN for a
 *               resident, scoped.
 * Returns the bits, 0 for no access at all.
 */
unsigned auth_access(const auth_policy *pol, const auth_principal *p, auth_action action,
                     const char *type);

/*
 * Explains a 0 from auth_access(): fills in err with 401 (AUTH_E_MISSING: no token)
 * or 403 (AUTH_E_FORBIDDEN) and a sentence naming what would be needed. Returns -1.
 */
int auth_access_denied(const auth_policy *pol, const auth_principal *p, auth_action action,
                       const char *type, auth_error *err);

/* True if p may see owner's common ID itself: p is town, or p is a resident whose sub
 * is owner. Everyone else gets auth_pseudonym(secret, owner, sub of p). */
bool auth_sees_common_id(const auth_principal *p, const char *owner);

#ifdef __cplusplus
}
#endif

#endif
