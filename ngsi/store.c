/*
 * ngsi/store.c: the connection pool, database naming and error mapping.
 *
 * One libmongoc client pool serves every request thread. Timeouts are short
 * by default (STORE_DEFAULT_TIMEOUT_MS) so that while the database is down a
 * request fails with 503 in about that time instead of hanging; the pool's
 * monitor reconnects by itself once the database is back.
 */
#include "store_private.h"

#include <stdio.h>
#include <string.h>

/* Re-ensure a database's indexes after this long, so that a dropped and
 * recreated database gets them back without a restart. */
#define STORE_INDEX_RECHECK_S 60.0

void store_global_init(void)
{
    mongoc_init();
}

void store_global_cleanup(void)
{
    mongoc_cleanup();
}

/* Set an integer URI option unless the user's URI already sets it. */
static void default_int_option(mongoc_uri_t *uri, const char *name, int value)
{
    const bson_t *opts = mongoc_uri_get_options(uri);
    bson_iter_t it;
    if (!bson_iter_init_find_case(&it, opts, name))
        mongoc_uri_set_option_as_int32(uri, name, value);
}

store *store_open(const store_opts *o, ngsi_error *err)
{
    bson_error_t e;
    if (strlen(o->db) >= sizeof(((store *)0)->db)) {
        ngsi_internal(err, "database name too long: %s", o->db);
        return NULL;
    }
    mongoc_uri_t *uri = mongoc_uri_new_with_error(o->uri, &e);
    if (uri == NULL) {
        ngsi_internal(err, "invalid MongoDB URI: %s", e.message);
        return NULL;
    }
    int timeout = o->timeout_ms > 0 ? o->timeout_ms : STORE_DEFAULT_TIMEOUT_MS;
    default_int_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, timeout);
    default_int_option(uri, MONGOC_URI_CONNECTTIMEOUTMS, timeout);
    if (o->pool_max > 0)
        default_int_option(uri, MONGOC_URI_MAXPOOLSIZE, o->pool_max);
    if (mongoc_uri_get_appname(uri) == NULL)
        mongoc_uri_set_appname(uri, "tsunagi");
    store *s = calloc(1, sizeof *s);
    s->uri = uri;
    s->pool = mongoc_client_pool_new(uri);
    snprintf(s->db, sizeof s->db, "%s", o->db);
    mongoc_client_pool_set_error_api(s->pool, MONGOC_ERROR_API_VERSION_2);
    pthread_mutex_init(&s->indexed_lock, NULL);
    return s;
}

void store_close(store *s)
{
    if (s == NULL)
        return;
    mongoc_client_pool_destroy(s->pool);
    mongoc_uri_destroy(s->uri);
    pthread_mutex_destroy(&s->indexed_lock);
    free(s);
}

char *store_db_name(const store *s, const char *tenant, char *out, size_t n)
{
    if (tenant == NULL || *tenant == '\0')
        snprintf(out, n, "%s", s->db);
    else
        snprintf(out, n, "%s-%s", s->db, tenant);
    return out;
}

void store_acquire(store *s, const char *tenant, const char *collection, store_conn *c)
{
    char db[STORE_DB_NAME_MAX];
    c->client = mongoc_client_pool_pop(s->pool);
    c->col = mongoc_client_get_collection(c->client, store_db_name(s, tenant, db, sizeof db),
                                          collection);
}

void store_release(store *s, store_conn *c)
{
    mongoc_collection_destroy(c->col);
    mongoc_client_pool_push(s->pool, c->client);
    c->col = NULL;
    c->client = NULL;
}

int store_fail(ngsi_error *err, const bson_error_t *e)
{
    bool unreachable =
        e->domain == MONGOC_ERROR_SERVER_SELECTION || e->domain == MONGOC_ERROR_STREAM ||
        (e->domain == MONGOC_ERROR_CLIENT && e->code == MONGOC_ERROR_CLIENT_AUTHENTICATE);
    if (unreachable)
        return ngsi_fail(err, 503, "ServiceUnavailable", "Database Error (%s)", e->message);
    return ngsi_internal(err, "Database Error (%s)", e->message);
}

int store_ping(store *s, ngsi_error *err)
{
    mongoc_client_t *client = mongoc_client_pool_pop(s->pool);
    bson_t cmd = BSON_INITIALIZER;
    bson_error_t e;
    BSON_APPEND_INT32(&cmd, "ping", 1);
    bool ok = mongoc_client_command_simple(client, "admin", &cmd, NULL, NULL, &e);
    bson_destroy(&cmd);
    mongoc_client_pool_push(s->pool, client);
    return ok ? 0 : store_fail(err, &e);
}

bool store_recently_indexed(store *s, const char *key, double now)
{
    size_t oldest = 0;
    bool fresh = false;
    pthread_mutex_lock(&s->indexed_lock);
    for (size_t i = 0; i < STORE_INDEXED_MAX; i++) {
        if (strcmp(s->indexed[i].key, key) == 0) {
            fresh = now - s->indexed[i].at < STORE_INDEX_RECHECK_S;
            oldest = i;
            break;
        }
        if (s->indexed[i].at < s->indexed[oldest].at)
            oldest = i;
    }
    if (!fresh) {
        snprintf(s->indexed[oldest].key, sizeof s->indexed[oldest].key, "%s", key);
        s->indexed[oldest].at = now;
    }
    pthread_mutex_unlock(&s->indexed_lock);
    return fresh;
}

void store_forget_indexed(store *s, const char *key)
{
    pthread_mutex_lock(&s->indexed_lock);
    for (size_t i = 0; i < STORE_INDEXED_MAX; i++)
        if (strcmp(s->indexed[i].key, key) == 0)
            s->indexed[i].at = 0;
    pthread_mutex_unlock(&s->indexed_lock);
}

/* One index spec {key, name}; the name is MongoDB's default for the key so
 * that it coincides with an index an administrator made by following
 * Orion's performance guide. */
static void index_spec(bson_t *arr, const char *idx, const char *name, const char *const *fields)
{
    bson_t spec, key;
    bson_append_document_begin(arr, idx, -1, &spec);
    bson_append_document_begin(&spec, "key", -1, &key);
    for (size_t i = 0; fields[i] != NULL; i++)
        BSON_APPEND_INT32(&key, fields[i], 1);
    bson_append_document_end(&spec, &key);
    BSON_APPEND_UTF8(&spec, "name", name);
    bson_append_document_end(arr, &spec);
}

void store_ensure_indexes(store *s, store_conn *c, const char *tenant)
{
    /* Orion's recommended key index serves path-scoped lists; the id-first
     * one serves reads by id across all paths (GET /v2/entities/{id}). */
    static const char *const key[] = {"_id.servicePath", "_id.id", "_id.type", NULL};
    static const char *const byid[] = {"_id.id", "_id.type", "_id.servicePath", NULL};
    static const char *const box[] = {"location.bbox.latMin", "location.bbox.latMax", NULL};
    static const char *const cre[] = {"creDate", NULL};
    static const char *const exp[] = {"expDate", NULL};
    char db[STORE_DB_NAME_MAX];
    if (store_recently_indexed(s, store_db_name(s, tenant, db, sizeof db), ngsi_now()))
        return;
    bson_t cmd = BSON_INITIALIZER, arr;
    BSON_APPEND_UTF8(&cmd, "createIndexes", mongoc_collection_get_name(c->col));
    bson_append_array_begin(&cmd, "indexes", -1, &arr);
    index_spec(&arr, "0", "_id.servicePath_1__id.id_1__id.type_1", key);
    index_spec(&arr, "1", "creDate_1", cre);
    index_spec(&arr, "2", "expDate_1", exp);
    index_spec(&arr, "3", "_id.id_1__id.type_1__id.servicePath_1", byid);
    index_spec(&arr, "4", "location.bbox.latMin_1_location.bbox.latMax_1", box);
    bson_append_array_end(&cmd, &arr);
    /* A failure here costs speed, not correctness; the next write retries. */
    if (!mongoc_collection_write_command_with_opts(c->col, &cmd, NULL, NULL, NULL))
        store_forget_indexed(s, db);
    bson_destroy(&cmd);
}
