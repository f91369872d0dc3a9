/*
 * ngsi/store.h: public surface of tsunagi_store, entities in MongoDB.
 *
 * Documents follow Orion's layout (doc/manuals/admin/database_model.md in
 * fiware-orion) so that Orion and Tsunagi can read each other's databases.
 * Tenant "" maps to database <db>, tenant "t" to <db>-t.
 *
 * Only what every MongoDB-compatible server does well is used: plain
 * filters, sorts, indexes, upserts, bulk writes. Expiry, geo and q-filters
 * beyond plain comparisons are decided in the broker.
 *
 * Thread-safety: a store is shared by all request threads; every function
 * takes a client from the libmongoc pool for its duration.
 */
#ifndef TSUNAGI_STORE_H
#define TSUNAGI_STORE_H

#include <bson/bson.h>
#include <stdbool.h>

#include "ngsi.h"

typedef struct store store;

typedef struct store_opts {
    const char *uri; /* mongodb://...; timeouts default to STORE_* below */
    const char *db;  /* database name prefix, "orion" like Orion */
    int pool_max;    /* most connections held at once */
    int timeout_ms;  /* server selection and connect timeout */
} store_opts;

/* Give up on an unreachable database this quickly so requests fail fast with
 * 503 instead of hanging; libmongoc's default of 30 s is for batch jobs. */
#define STORE_DEFAULT_TIMEOUT_MS 2000

/* Call once per process before any store_open, and store_global_cleanup at
 * exit; they wrap mongoc_init/mongoc_cleanup. */
void store_global_init(void);
void store_global_cleanup(void);

/* A new store (store_close frees it). Does not contact the database. */
store *store_open(const store_opts *o, ngsi_error *err);
void store_close(store *s);
/* Round-trip to the database; 0 when it answers. */
int store_ping(store *s, ngsi_error *err);
/* The database name for tenant (""). Writes into out, returns out. */
char *store_db_name(const store *s, const char *tenant, char *out, size_t n);

/* --------------------------------------------------------------- entities */

/* Insert e (id, type, service_path, attributes, dates). 422 Already Exists
 * when an entity with the same id, type and service path exists. */
int store_entity_create(store *s, const char *tenant, const ngsi_entity *e, ngsi_error *err);

/* The one entity with this id (and type, when not NULL) under paths. New
 * entity in *out (ngsi_entity_free), or 404 NotFound / 409 TooManyResults. */
int store_entity_get(store *s, const char *tenant, const char *id, const char *type,
                     const ngsi_paths *paths, ngsi_entity **out, ngsi_error *err);

/* A change to one stored entity. key is the entity as stored: its id, type
 * and path identify the document, and its attributes are the state the
 * change starts from (the entity's location is recomputed from them). */
typedef struct store_update {
    const ngsi_entity *key;
    const ngsi_attr *set; /* attributes written whole */
    size_t nset;
    const char *const *unset; /* attribute names removed */
    size_t nunset;
    bool replace; /* attrs become exactly `set` */
    double mod_date;
    int expires; /* 0 keep, 1 set to exp_date, -1 remove */
    double exp_date;
    const char *correlator; /* stored as lastCorrelator */
} store_update;

/* How incoming attributes meet stored ones. */
enum store_attrs_mode {
    STORE_ATTRS_UPSERT,        /* update existing, append new (POST .../attrs) */
    STORE_ATTRS_APPEND_STRICT, /* existing ones are refused (options=append) */
    STORE_ATTRS_UPDATE,        /* missing ones are refused (PATCH) */
    STORE_ATTRS_REPLACE,       /* the entity gets exactly these (PUT) */
};

/* Plan the update of stored with incoming's attributes into u (mod_date =
 * now; correlator unset). Refused names are appended to failed as "A, B".
 * Returns the array u->set points to (caller frees it); its items are
 * shallow copies of incoming's attributes, so incoming must outlive u. */
ngsi_attr *store_plan_attrs(const ngsi_entity *stored, ngsi_entity *incoming,
                            enum store_attrs_mode mode, bool override_md, double now,
                            store_update *u, ngsi_buf *failed);
/* Prepare attribute a to overwrite old (NULL when new): dates, and old's
 * metadata kept unless override_md or the request gave "metadata":{} (md_given
 * with no items). */
void store_merge_attr(ngsi_attr *a, const ngsi_attr *old, bool override_md, double now);
/* Whether u changes anything at all. */
bool store_update_changes(const store_update *u);
/* The entity as it is once u is applied to u->key: what subscriptions see
 * as the new state. New entity. */
ngsi_entity *store_apply_update(const store_update *u);

/* Apply u. 404 NotFound when the entity is gone. */
int store_entity_update(store *s, const char *tenant, const store_update *u, ngsi_error *err);

/* Delete the entity with key's id, type and path. 404 when absent. */
int store_entity_delete(store *s, const char *tenant, const ngsi_entity *key, ngsi_error *err);

typedef struct q_expr q_expr;       /* ngsi/q.h */
typedef struct geo_query geo_query; /* ngsi/geo.h */

/* One orderBy key: an attribute, a builtin (id, type, dateCreated,
 * dateModified, dateExpires, servicePath) or geo:distance (first only). */
typedef struct store_order {
    const char *name;
    bool desc;
} store_order;

/* One entity selector of POST /v2/op/query: id or id_pattern, with type or
 * type_pattern or neither. Strings are owned by whoever fills it. */
typedef struct store_selector {
    char *id, *id_pattern, *type, *type_pattern;
} store_selector;

/* A selection of entities, as GET /v2/entities and POST /v2/op/query take
 * it. Every pointer is borrowed and may be NULL. */
typedef struct store_query {
    const store_selector *sel; /* any of these (OR), besides the fields below */
    size_t nsel;
    const ngsi_list *ids;
    const char *id_pattern; /* regex */
    const ngsi_list *types;
    const char *type_pattern;
    const ngsi_paths *paths;
    const q_expr *q;  /* on attribute values */
    const q_expr *mq; /* on metadata values */
    const geo_query *geo;
    const store_order *order;
    size_t norder;
    size_t offset;
    size_t limit;
    bool count;       /* fill total */
    bool decide_in_c; /* push down only the selection; for tests that check
                         both ways give the same result */
    /* What the caller may see (auth); NULL: everything. */
    const struct store_visibility *vis;
} store_query;

typedef struct store_result {
    ngsi_entity **items; /* owned; store_result_clear frees */
    size_t n;
    long long total; /* with count: every match, ignoring paging */
} store_result;

int store_entity_query(store *s, const char *tenant, const store_query *q, store_result *out,
                       ngsi_error *err);
/* Append ent to r (r takes it). */
void store_result_push(store_result *r, ngsi_entity *ent);
void store_result_clear(store_result *r);

/* ----------------------------------------------------------------- batch */

/* The stored, unexpired entities among keys (full keys: id, type, path), in
 * whatever order the database returns them. */
int store_entity_get_many(store *s, const char *tenant, const ngsi_entity *const *keys, size_t n,
                          store_result *out, ngsi_error *err);

/* Writes collected and sent in one unordered bulk operation. A store_bulk
 * holds a pooled connection until store_bulk_free. */
typedef struct store_bulk store_bulk;
store_bulk *store_bulk_new(store *s, const char *tenant);
/* Create e, replacing an expired document with its key. 400/413 on a bad
 * location, with nothing queued. */
int store_bulk_create(store_bulk *b, const ngsi_entity *e, ngsi_error *err);
int store_bulk_update(store_bulk *b, const store_update *u, ngsi_error *err);
int store_bulk_delete(store_bulk *b, const ngsi_entity *key, ngsi_error *err);
int store_bulk_execute(store_bulk *b, ngsi_error *err);
void store_bulk_free(store_bulk *b);

/* Delete every entity q selects (Tsunagi's delete by query); returns how
 * many, or -1. The deleted entities go to *deleted (store_result_clear). */
long long store_entity_delete_where(store *s, const char *tenant, const store_query *q,
                                    store_result *deleted, ngsi_error *err);

/* --------------------------------------------------------------- id links */

/* Id links map a person's identifier in an upstream system (a clinic's
 * patient number, a wallet's user id) to the town's common resident ID
 * (共通ID), so that adapters can file that system's records under their
 * owner. One link per (system, value); kept per tenant in the collection
 * STORE_COL_IDLINKS, keyed by _id {system, value} so that the key is unique
 * and every lookup is an exact _id match. */
#define STORE_COL_IDLINKS "tsunagi_idlinks"

typedef struct store_idlink {
    char *system, *value, *common_id; /* owned; store_idlink_clear frees */
    double cre_date, mod_date;
} store_idlink;

/* Create or replace the link of (system, value); *created tells which. */
int store_idlink_put(store *s, const char *tenant, const char *system, const char *value,
                     const char *common_id, double now, bool *created, ngsi_error *err);
/* The link of (system, value) into out, or 404 NotFound. */
int store_idlink_get(store *s, const char *tenant, const char *system, const char *value,
                     store_idlink *out, ngsi_error *err);
/* Remove the link of (system, value); 404 NotFound when there is none. */
int store_idlink_delete(store *s, const char *tenant, const char *system, const char *value,
                        ngsi_error *err);
void store_idlink_clear(store_idlink *l);

/* ----------------------------------------------------------------- types */

/* One entity type as GET /v2/types reports it. */
typedef struct store_type_info {
    char *type;
    long long count; /* entities of this type */
    json_t *attrs;   /* {"name":{"types":["Number",...]}}; owned */
} store_type_info;

typedef struct store_types {
    store_type_info *items; /* sorted by type name */
    size_t n;
} store_types;

/* Types of entities under paths; only_type restricts to one (NULL: all).
 * with_attrs false skips collecting attribute details. */
int store_types_collect(store *s, const char *tenant, const ngsi_paths *paths,
                        const char *only_type, bool with_attrs, store_types *out, ngsi_error *err);
void store_types_clear(store_types *t);

/* Delete entities whose dateExpires has passed, in every tenant database.
 * Returns how many, or -1. Called periodically by the broker. */
long long store_purge_expired(store *s, double now, ngsi_error *err);

/* ------------------------------------------------------------ visibility */

/* One way an entity can be visible to a caller (auth): its type is in types
 * (or, with types_excluded, not in them), and, when owners is not NULL, the
 * value of the owner attribute is one of owners. Lists are borrowed. */
typedef struct store_vis_clause {
    const ngsi_list *types;
    bool types_excluded;
    const ngsi_list *owners;
} store_vis_clause;

/* The entities a caller may see: those matching any clause (none when n is
 * 0). Pushed into the database filter, so counts and pages only ever hold
 * visible entities. */
typedef struct store_visibility {
    const store_vis_clause *clauses;
    size_t n;
    const char *owner_attr; /* attribute holding the owner's ID */
} store_visibility;

/* --------------------------------------------------------- plain documents */

/* Collections of plain JSON documents in a tenant's database, for the
 * broker's own records (consents, provision records). Documents go through
 * JSON text: numbers stay numbers, strings strings; no dates or ObjectIds.
 * A document without "_id" gets an ObjectId the caller never sees. */

/* An index a collection should have: keys as {"field": 1 or -1, ...}, with
 * its name. Ensured before the first insert into a tenant's collection and
 * again every few minutes (like the entity indexes). */
typedef struct store_doc_index {
    const char *name;
    const char *keys; /* JSON text */
} store_doc_index;

/* Insert docs[0..n) (borrowed) in one round trip, after ensuring indexes
 * (NULL-terminated by a NULL name; may be NULL). */
int store_docs_insert(store *s, const char *tenant, const char *collection,
                      const store_doc_index *indexes, json_t *const *docs, size_t n,
                      ngsi_error *err);

/* Documents matching filter (JSON, borrowed), with find options (sort, skip,
 * limit, projection; may be NULL). *out gets a new array of new objects;
 * "_id" values that are ObjectIds are left out. */
int store_docs_find(store *s, const char *tenant, const char *collection, const json_t *filter,
                    const json_t *opts, json_t **out, ngsi_error *err);

/* Number of documents matching filter, or -1. */
long long store_docs_count(store *s, const char *tenant, const char *collection,
                           const json_t *filter, ngsi_error *err);

/* Apply update (an update document such as {"$set":{...}}) to the first
 * document matching filter. Returns how many matched (0 or 1), or -1. */
long long store_docs_update(store *s, const char *tenant, const char *collection,
                            const json_t *filter, const json_t *update, ngsi_error *err);

/* ---------------------------------------------------------- JSON and BSON */

/* Shared with the subscriptions' layout (csubs), which stores JSON values
 * and attribute names the way entities do. */

/* Append a JSON value as BSON (numbers as doubles, as Orion stores them). */
void store_bson_append_json(bson_t *b, const char *key, const json_t *v);
/* The value at it as JSON (new reference): integers stay integers,
 * ObjectIds and dates become text, other BSON types null. */
json_t *store_json_from_bson(const bson_iter_t *it);
/* "a.b" is stored as "a=b"; writes into out (NGSI_NAME_MAX + 1). */
void store_bson_encode_name(const char *name, char *out);
void store_bson_decode_name(const char *key, char *out);

#endif
