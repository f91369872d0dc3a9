/*
 * broker/authz.h: the broker's access decisions, between auth/ and the handlers.
 *
 * auth/ (tsunagi_auth) verifies tokens and states the rules per entity type; this part
 * of the broker applies them to requests: it finds the caller (authz_request), checks
 * each entity a handler loads or writes, pushes what a caller may see into queries,
 * shows services pseudonyms instead of residents' common IDs, and appends a provision
 * record for every read of personal data by someone other than its owner. Consents and
 * provision records live in the tenant's database (collections below).
 *
 * With auth off (no -auth on) every function here returns at once and changes nothing:
 * the broker behaves as Orion.
 *
 * Thread-safety: an authz is shared by all request threads and is immutable after
 * authz_new() except for the key set, which auth_verifier swaps safely. Per-request
 * state hangs off the call.
 */
#ifndef TSUNAGI_BROKER_AUTHZ_H
#define TSUNAGI_BROKER_AUTHZ_H

#include "auth/auth.h"
#include "broker_private.h"

/* Collections in each tenant's database. */
#define AUTHZ_CONSENTS   "tsunagi_consents"
#define AUTHZ_PROVISIONS "tsunagi_provisions"
/* Optional request header stating the purpose of a town's read, kept in its records. */
#define AUTHZ_PURPOSE_HEADER "Tsunagi-Purpose"
/* Realm named in WWW-Authenticate. */
#define AUTHZ_REALM "tsunagi"

typedef struct authz authz;

/*
 * Auth state from the configuration: verifier and keys, the entity-type classes of the
 * -config file, the pseudonym secret. Returns a new authz (authz_free()), or NULL with
 * err filled in. Not called when auth is off.
 */
authz *authz_new(const broker_config *cfg, ngsi_error *err);
void authz_free(authz *az);
/* Read the key files again (SIGHUP). */
int authz_reload(authz *az, ngsi_error *err);

/* ---- per request (http.c) ---- */

/*
 * Finds the caller and checks the route's permission: token (401), tenant (403 on a
 * Fiware-Service other than the token's; the token's tenant otherwise), then what the
 * route declares (403, or 401 when it needs a token and there is none). Called after
 * routing, before the handler.
 */
int authz_request(call *c, ngsi_error *err);
/* After a successful handler: appends the provision records the request made.
 * A failure turns the reply into the error, so nothing is disclosed unrecorded. */
int authz_commit(call *c, ngsi_error *err);
/* Releases the request's auth state. */
void authz_call_free(call *c);

/* The caller, borrowed; NULL without a token or with auth off. */
const auth_principal *authz_principal(const call *c);

/* ---- entities (authz_entities.c) ---- */

/*
 * Whether the caller may read (AUTH_READ) or change or delete (AUTH_WRITE) the stored
 * entity e. Denied: 401 (no token), 403 (role or scope), or 404 NotFound for a personal
 * entity the caller may not see (as if it were not there).
 */
int authz_entity(call *c, const ngsi_entity *e, auth_action action, ngsi_error *err);

/*
 * Whether the caller may store e as it will be after a create or an update: the type's
 * write access, and for personal types an owner (AUTH_OWNER_ATTR, a non-empty string,
 * else 400) that a resident may only set to their own ID (403).
 */
int authz_entity_after(call *c, const ngsi_entity *after, ngsi_error *err);

/*
 * Prepares items[0..n) for the reply: for each personal entity read by someone other
 * than its owner, queues a provision record (written by authz_commit) and, for callers
 * that may not see common IDs, replaces the owner attribute's value with the caller's
 * pairwise pseudonym. attrs (the attrs= list; NULL or empty: all) or one_attr (a single
 * attribute route) say which attributes the reply gives.
 */
int authz_disclose(call *c, ngsi_entity *const *items, size_t n, const ngsi_list *attrs,
                   const char *one_attr, ngsi_error *err);

/* What a query may return, for store_query.vis; fill with authz_query(). */
typedef struct authz_vis {
    store_visibility v;
    store_vis_clause *clauses;
    ngsi_list *lists; /* owned lists the clauses point to */
    size_t nlists;
} authz_vis;

/*
 * The entities of the tenant the caller may read (or write, for delete by pattern), as
 * a store_visibility in out. *vis gets &out->v, or NULL when nothing is restricted
 * (auth off). types, when not NULL, are the exact types the query names (a hint that
 * saves loading consents). Clear out with authz_vis_clear().
 */
int authz_query(call *c, auth_action action, const ngsi_list *types, authz_vis *out,
                const store_visibility **vis, ngsi_error *err);
void authz_vis_clear(authz_vis *v);

/* Whether GET /v2/types lists type: the caller may read all its entities. */
bool authz_type_listed(call *c, const char *type);
/* Why a type is not listed: 401 without a token, else 403. Returns -1. */
int authz_type_denied(call *c, const char *type, ngsi_error *err);

/* A service may not filter or order by the owner attribute (it would join pseudonyms
 * to common IDs it knows): 403 if text names it. text may be NULL. */
int authz_check_query_text(call *c, const char *what, const char *text, ngsi_error *err);

/* ---- subscriptions ---- */

/*
 * For the subscription engine: may principal p (the owner of a subscription, rebuilt
 * with auth_principal_from_claims() from authz_principal_claims()) be notified of e in
 * tenant now? Consent is read from the database on every call, so a revocation stops
 * notifications at once.
 * Returns 1 with *out a copy of e as p may see it (owner pseudonymised for services; a
 * provision record appended for a personal entity, listing attrs or all attributes),
 * 0 when p may not receive e (*out NULL), -1 with err on a database failure.
 * With auth off (az NULL) returns 1 with a plain copy.
 */
int authz_notify_entity(authz *az, store *st, const char *tenant, const auth_principal *p,
                        const ngsi_entity *e, const ngsi_list *attrs, ngsi_entity **out,
                        ngsi_error *err);

/* The claims to store with a subscription to rebuild its owner later: {"sub", "roles",
 * "tenant", "scope"}. New reference. */
json_t *authz_principal_claims(const auth_principal *p);

/* ---- consents (consent.c) ---- */

/* Active consents of resident (NULL: any) to service, as stored documents. New array
 * in *out. */
int consent_find_active(store *st, const char *tenant, const char *service, const char *resident,
                        double now, json_t **out, ngsi_error *err);
/* Whether the stored consent c holds at time now: not revoked, not expired. */
bool consent_active(const json_t *c, double now);
/* Whether the stored consent c is active and covers type (or its category) at time
 * now. */
bool consent_covers(const json_t *c, const char *type, const char *category, double now);

/* ---- /tsunagi/... endpoints (h_tsunagi.c) ---- */

int h_consent_create(call *c, ngsi_error *err);
int h_consents_list(call *c, ngsi_error *err);
int h_consent_get(call *c, ngsi_error *err);
int h_consent_revoke(call *c, ngsi_error *err);
int h_provisions_list(call *c, ngsi_error *err);
int h_provision_counts(call *c, ngsi_error *err);

#endif
