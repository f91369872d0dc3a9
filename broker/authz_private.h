/*
 * broker/authz_private.h: what the authz files share (authz.c, authz_entities.c,
 * consent.c, h_tsunagi.c). Other broker files include authz.h only.
 */
#ifndef TSUNAGI_BROKER_AUTHZ_PRIVATE_H
#define TSUNAGI_BROKER_AUTHZ_PRIVATE_H

#include "authz.h"

/* Longest pseudonym secret read: far beyond the 32 bytes needed. */
#define AUTHZ_PSEUDONYM_SECRET_MAX 1024

struct authz {
    auth_verifier *verifier;
    auth_policy *policy;
    unsigned char pseudonym_secret[AUTHZ_PSEUDONYM_SECRET_MAX];
    size_t pseudonym_len; /* 0: none configured (no personal types) */
};

/* One request's auth state. Consents are cached for the request only, so a revocation
 * takes effect on the next request. */
struct authz_req {
    auth_principal *p; /* NULL: no token */
    json_t *records;   /* provision records queued for authz_commit() */
    json_t *consents;  /* active consents to p loaded by this request */
    bool consents_all; /* ... from every resident; else from consents_owner only */
    char *consents_owner;
};

extern const store_doc_index AUTHZ_PROVISION_INDEXES[];

/* err from an auth error; a 401 also sets the call's WWW-Authenticate. Returns -1. */
int authz_fail(call *c, const auth_error *ae, ngsi_error *err);
/* Insert the records (an array, emptied) into tenant's provision collection. */
int authz_write_records(store *st, const char *tenant, json_t *records, ngsi_error *err);
void authz_req_clear(struct authz_req *r);

#endif
