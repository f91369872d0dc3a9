/*
 * ngsi/store_private.h: what the store's files share and nobody else sees.
 */
#ifndef TSUNAGI_STORE_PRIVATE_H
#define TSUNAGI_STORE_PRIVATE_H

#include <mongoc/mongoc.h>
#include <pthread.h>

#include "store.h"

/* Database names: "<prefix>-<tenant>", both parts bounded. */
#define STORE_DB_NAME_MAX (64 + 1 + NGSI_SERVICE_MAX + 1)

#define STORE_COL_ENTITIES "entities"

/* Databases whose indexes were ensured recently, so that the check costs a
 * round trip only once per STORE_INDEX_RECHECK_S. */
#define STORE_INDEXED_MAX 64

struct store {
    mongoc_client_pool_t *pool;
    mongoc_uri_t *uri;
    char db[65];
    pthread_mutex_t indexed_lock;
    struct {
        char db[STORE_DB_NAME_MAX];
        double at;
    } indexed[STORE_INDEXED_MAX];
};

/* A client and the tenant's entities collection, returned together so
 * callers release both with store_release. */
typedef struct store_conn {
    mongoc_client_t *client;
    mongoc_collection_t *col;
} store_conn;

void store_acquire(store *s, const char *tenant, const char *collection, store_conn *c);
void store_release(store *s, store_conn *c);
/* Turn a libmongoc error into an NGSI error: 503 when the database cannot be
 * reached, 500 otherwise. Returns -1. */
int store_fail(ngsi_error *err, const bson_error_t *e);

/* --- Orion's document layout (store_bson.c) --- */

/* Append the "_id" subdocument {id, type, servicePath}. */
void store_bson_append_key(bson_t *b, const char *key, const ngsi_entity *e);
/* Full entity document for insert. */
void store_bson_from_entity(const ngsi_entity *e, bson_t *out);
/* One attribute as stored under attrs.<name>. */
void store_bson_append_attr(bson_t *b, const char *key, const ngsi_attr *a);
/* "a.b" is stored as "a=b"; writes into out (NGSI_NAME_MAX + 1). */
void store_bson_encode_name(const char *name, char *out);
void store_bson_decode_name(const char *key, char *out);
/* Entity from a stored document. New entity, or NULL if the document is not
 * an entity. */
ngsi_entity *store_bson_to_entity(const bson_t *doc);

/* Make sure tenant's database has the entity indexes (store.c). Cheap:
 * remembered per database for STORE_INDEX_RECHECK_S. */
void store_ensure_indexes(store *s, store_conn *c, const char *tenant);

/* --- building blocks shared by entity, batch and type code --- */

/* The update document for u. */
void store_update_document(const store_update *u, bson_t *update);
/* The filter for a query (selection, paths, expiry). */
void store_query_filter(const store_query *q, double now, bson_t *filter);
/* Documents matching filter in c's collection, or -1. */
long long store_count(store_conn *c, const bson_t *filter, ngsi_error *err);

/* Append the filter selecting paths on _id.servicePath. */
void store_bson_append_paths(bson_t *filter, const ngsi_paths *paths);
/* Append the clause hiding entities whose expiry has passed. */
void store_bson_append_not_expired(bson_t *filter, double now);

#endif
