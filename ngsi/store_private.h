/*
 * ngsi/store_private.h: what the store's files share and nobody else sees.
 */
#ifndef TSUNAGI_STORE_PRIVATE_H
#define TSUNAGI_STORE_PRIVATE_H

#include <mongoc/mongoc.h>
#include <pthread.h>

#include "geo.h"
#include "store.h"

/* Database names: "<prefix>-<tenant>", both parts bounded. */
#define STORE_DB_NAME_MAX (64 + 1 + NGSI_SERVICE_MAX + 1)

#define STORE_COL_ENTITIES "entities"

/* Larger skips are not sent: mongo-java-server reads skip as a 32-bit int
 * and wraps, and no collection holds that many entities anyway, so such a
 * page is empty. */
#define STORE_SKIP_MAX INT32_MAX

/* Databases whose indexes were ensured recently, so that the check costs a
 * round trip only once per STORE_INDEX_RECHECK_S. */
#define STORE_INDEXED_MAX 64
/* A database name, '/' and a collection name of our own (short). */
#define STORE_INDEX_KEY_MAX (STORE_DB_NAME_MAX + 64)

struct store {
    mongoc_client_pool_t *pool;
    mongoc_uri_t *uri;
    char db[65];
    pthread_mutex_t indexed_lock;
    struct {
        char key[STORE_INDEX_KEY_MAX]; /* database, or "database/collection" */
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

/* --- locations (store_location.c) --- */

/* An entity's location: the attribute it comes from, its GeoJSON and box. */
typedef struct store_location {
    char *attr; /* NULL: the entity has no location */
    json_t *geojson;
    geo_bbox bbox;
} store_location;

/* The location of e; 413 NoResourcesAvailable for a second one, 400 for an
 * invalid one. */
int store_location_of(const ngsi_entity *e, store_location *out, ngsi_error *err);
/* The location the entity will have once u is applied to u->key. */
int store_location_after(const store_update *u, store_location *out, ngsi_error *err);
void store_location_clear(store_location *l);
void store_bson_append_location(bson_t *b, const char *key, const store_location *l);
/* Append {"$or":[no bbox, bbox overlapping q]} to filter. */
void store_bson_append_bbox_filter(bson_t *filter, const geo_bbox *q);
/* The shape of e's location (new, geo_shape_free) and 1, or 0 if none. */
int store_entity_shape(const ngsi_entity *e, geo_shape **shape);

/* --- Orion's document layout (store_bson.c) --- */

/* Append the "_id" subdocument {id, type, servicePath}. */
void store_bson_append_key(bson_t *b, const char *key, const ngsi_entity *e);
/* Full entity document for insert; loc may be NULL or empty. */
void store_bson_from_entity(const ngsi_entity *e, const store_location *loc, bson_t *out);
/* One attribute as stored under attrs.<name>. */
void store_bson_append_attr(bson_t *b, const char *key, const ngsi_attr *a);
/* Entity from a stored document. New entity, or NULL if the document is not
 * an entity. */
ngsi_entity *store_bson_to_entity(const bson_t *doc);

/* Make sure tenant's database has the entity indexes (store.c). Cheap:
 * remembered per database for STORE_INDEX_RECHECK_S. */
void store_ensure_indexes(store *s, store_conn *c, const char *tenant);
/* Whether the indexes named by key were ensured less than
 * STORE_INDEX_RECHECK_S ago; if not, claims the slot and returns false, so
 * that the caller ensures them. store_forget_indexed() undoes the claim
 * after a failure. Thread-safe. */
bool store_recently_indexed(store *s, const char *key, double now);
void store_forget_indexed(store *s, const char *key);

/* --- building blocks shared by entity, batch and type code --- */

/* The update document for u; fails on an invalid or second location. */
int store_update_document(const store_update *u, bson_t *update, ngsi_error *err);
/* The filter for a query (selection, paths, expiry). */
void store_query_filter(const store_query *q, double now, bson_t *filter);
/* Documents matching filter in c's collection, or -1. */
long long store_count(store_conn *c, const bson_t *filter, ngsi_error *err);

/* Append the filter selecting paths on _id.servicePath. */
void store_bson_append_paths(bson_t *filter, const ngsi_paths *paths);
/* Append the clause hiding entities whose expiry has passed. */
void store_bson_append_not_expired(bson_t *filter, double now);

#endif
