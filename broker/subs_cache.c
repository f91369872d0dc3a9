/*
 * broker/subs_cache.c: the subscription engine.
 *
 * csubs in each tenant's database is the truth; every broker keeps a cache
 * of it so that matching a change costs no database round trip. Design
 * decisions:
 *   - One cache per tenant, indexed by subject entity id (subscriptions
 *     naming exact ids) plus a list of those with patterns, so an update is
 *     matched against the few subscriptions that can concern its entity, not
 *     all of them.
 *   - A reader-writer lock guards the structure: requests match under the
 *     read lock, in parallel; reloads and writes through this broker swap
 *     entries under the write lock. Runtime state (the effective status
 *     after oneshot or maxFailsLimit, the last notification for throttling,
 *     counters not yet written) sits in each entry under one small mutex.
 *   - A write through this broker updates the cache at once. A housekeeping
 *     thread reloads every tenant's csubs every subCacheIval seconds, so
 *     subscriptions made, changed or deleted through another broker on the
 *     same database take effect here too, and a dropped database empties
 *     its tenant. A reload that fails keeps the old cache: an outage does
 *     not silence notifications. Writes made here while a reload was reading
 *     win over what it read (generation numbers and tombstones).
 *   - Counters (timesSent, lastNotification, lastSuccess/Failure,
 *     failsCounter) and automatic status changes are kept in memory and
 *     written back with one bulk update per tenant at every reload (every
 *     subCacheIval seconds, or FLUSH_IDLE_S when reloads are off) and before
 *     every GET, as Orion's cache writes them at its refreshes. Writing
 *     more often would cost the database one write per active
 *     subscription per interval for figures other brokers rarely read.
 */
#include "authz.h"
#include "store_private.h"
#include "subs_private.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Counters go back to csubs this often when reloads are off. */
#define FLUSH_IDLE_S 5
/* Local deletions remembered so a reload in progress cannot resurrect
 * them; a reload spans far fewer writes than this. */
#define TOMBSTONES 256
/* lastFailureReason as stored; libcurl's texts are much shorter. */
#define REASON_MAX 256
/* A full queue is logged at most this often (with the count since). */
#define DROP_LOG_INTERVAL_S 1.0

#define COL_CSUBS "csubs"
/* The request's correlator (at most 128 bytes, broker_private.h) plus
 * "; cbnotif=<n>". */
#define NOTIF_CORRELATOR_MAX 192

typedef struct sub_state {
    enum subs_status status; /* effective: oneshot and maxFailsLimit end in inactive */
    long long last_notification;
    long long sent_delta; /* timesSent not yet written */
    long long last_success, last_failure;
    int last_success_code;
    char reason[REASON_MAX];
    long long fails_counter;
    unsigned dirty; /* DIRTY_* */
} sub_state;

enum {
    DIRTY_STATUS = 1 << 0,
    DIRTY_LAST = 1 << 1,
    DIRTY_SUCCESS = 1 << 2,
    DIRTY_FAILURE = 1 << 3,
    DIRTY_FAILS = 1 << 4,
};

typedef struct csub {
    subs_sub *s;
    sub_state st;
    uint64_t gen;          /* engine generation when written through this broker; 0 if loaded */
    auth_principal *owner; /* rebuilt from s->owner; NULL without one */
} csub;

typedef struct entry {
    const char *id;
    csub *c;
    int next; /* index of the next entry in the bucket, -1 at the end */
} entry;

typedef struct ctenant {
    char name[NGSI_SERVICE_MAX + 1];
    csub **subs;
    size_t n, cap;
    /* by subject entity id */
    int *heads;
    size_t nbuckets;
    entry *entries;
    size_t nentries;
    csub **patterns;
    size_t npatterns;
    /* by subscription id */
    csub **byid;
    size_t byid_cap;
} ctenant;

typedef struct tombstone {
    char tenant[NGSI_SERVICE_MAX + 1];
    char id[SUBS_ID_LEN + 1];
    uint64_t gen;
} tombstone;

struct subs_engine {
    broker_config cfg;
    store *st;
    struct authz *az; /* NULL: auth off */
    notifier *notif;
    char user_agent[128];
    pthread_rwlock_t lock; /* the tenants and their entries */
    ctenant **tenants;
    size_t ntenants;
    uint64_t gen;
    tombstone tomb[TOMBSTONES];
    size_t ntomb;
    pthread_mutex_t state_lock; /* every sub_state, the stats and the drop log */
    subs_cache_stats stats;
    uint64_t drops_unlogged;
    double drop_logged_at;
    pthread_t thread;
    pthread_mutex_t hk_lock;
    pthread_cond_t hk_wake;
    bool stopping;
    bool thread_running;
};

/* ---------------------------------------------------------------- index */

static uint64_t hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static size_t pow2_at_least(size_t n)
{
    size_t p = 8;
    while (p < n)
        p *= 2;
    return p;
}

static void index_clear(ctenant *t)
{
    free(t->heads);
    free(t->entries);
    free(t->patterns);
    free(t->byid);
    t->heads = NULL;
    t->entries = NULL;
    t->patterns = NULL;
    t->byid = NULL;
    t->nbuckets = t->nentries = t->npatterns = t->byid_cap = 0;
}

static bool has_pattern(const subs_sub *s)
{
    for (size_t i = 0; i < s->nentities; i++)
        if (s->entities[i].id_pattern)
            return true;
    return false;
}

static void index_entity(ctenant *t, csub *c, const char *id)
{
    size_t b = hash(id) & (t->nbuckets - 1);
    for (int k = t->heads[b]; k >= 0; k = t->entries[k].next)
        if (t->entries[k].c == c && strcmp(t->entries[k].id, id) == 0)
            return; /* the same id twice with different types */
    t->entries[t->nentries] = (entry){.id = id, .c = c, .next = t->heads[b]};
    t->heads[b] = (int)t->nentries++;
}

static void index_build(ctenant *t)
{
    size_t nent = 0;
    index_clear(t);
    for (size_t i = 0; i < t->n; i++)
        nent += t->subs[i]->s->nentities;
    t->nbuckets = pow2_at_least(nent * 2);
    t->heads = malloc(t->nbuckets * sizeof *t->heads);
    t->entries = calloc(nent + 1, sizeof *t->entries);
    t->patterns = calloc(t->n + 1, sizeof *t->patterns);
    t->byid_cap = pow2_at_least(t->n * 2);
    t->byid = calloc(t->byid_cap, sizeof *t->byid);
    if (!t->heads || !t->entries || !t->patterns || !t->byid)
        abort();
    for (size_t b = 0; b < t->nbuckets; b++)
        t->heads[b] = -1;
    for (size_t i = 0; i < t->n; i++) {
        csub *c = t->subs[i];
        size_t slot = hash(c->s->id) & (t->byid_cap - 1);
        while (t->byid[slot] != NULL)
            slot = (slot + 1) & (t->byid_cap - 1);
        t->byid[slot] = c;
        if (has_pattern(c->s)) {
            t->patterns[t->npatterns++] = c;
            continue;
        }
        for (size_t k = 0; k < c->s->nentities; k++)
            index_entity(t, c, c->s->entities[k].id);
    }
}

static csub *find_sub(const ctenant *t, const char *id)
{
    if (t == NULL || t->byid_cap == 0)
        return NULL;
    for (size_t slot = hash(id) & (t->byid_cap - 1); t->byid[slot] != NULL;
         slot = (slot + 1) & (t->byid_cap - 1))
        if (strcmp(t->byid[slot]->s->id, id) == 0)
            return t->byid[slot];
    return NULL;
}

static ctenant *find_tenant(ctenant **tenants, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(tenants[i]->name, name) == 0)
            return tenants[i];
    return NULL;
}

static ctenant *tenant_new(const char *name)
{
    ctenant *t = calloc(1, sizeof *t);
    if (t == NULL)
        abort();
    snprintf(t->name, sizeof t->name, "%s", name);
    return t;
}

static void tenant_add(ctenant *t, csub *c)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->subs = realloc(t->subs, t->cap * sizeof *t->subs);
        if (t->subs == NULL)
            abort();
    }
    t->subs[t->n++] = c;
}

static void csub_free(csub *c)
{
    auth_principal_decref(c->owner);
    subs_free(c->s);
    free(c);
}

static void tenant_free(ctenant *t)
{
    for (size_t i = 0; i < t->n; i++)
        csub_free(t->subs[i]);
    free(t->subs);
    index_clear(t);
    free(t);
}

static csub *csub_new(subs_sub *s)
{
    csub *c = calloc(1, sizeof *c);
    if (c == NULL)
        abort();
    c->s = s;
    if (s->owner != NULL) {
        auth_error aerr;
        c->owner = auth_principal_from_claims(s->owner, &aerr); /* NULL: notifies no one */
    }
    c->st.status = s->status;
    c->st.last_notification = s->counters.last_notification;
    c->st.fails_counter = s->counters.fails_counter;
    return c;
}

/* -------------------------------------------------------- local writes */

static ctenant *tenant_get(subs_engine *e, const char *name)
{
    ctenant *t = find_tenant(e->tenants, e->ntenants, name);
    if (t != NULL)
        return t;
    e->tenants = realloc(e->tenants, (e->ntenants + 1) * sizeof *e->tenants);
    if (e->tenants == NULL)
        abort();
    return e->tenants[e->ntenants++] = tenant_new(name);
}

void subs_engine_put(subs_engine *e, const char *tenant, const subs_sub *s, bool status_given)
{
    subs_sub *copy = subs_copy(s);
    if (copy == NULL)
        return;
    pthread_rwlock_wrlock(&e->lock);
    ctenant *t = tenant_get(e, tenant);
    csub *old = find_sub(t, s->id), *c = csub_new(copy);
    c->gen = ++e->gen;
    pthread_mutex_lock(&e->state_lock);
    if (old != NULL) {
        c->st = old->st; /* runtime state survives a PATCH */
        if (status_given) {
            c->st.status = copy->status;
            c->st.dirty &= ~(unsigned)DIRTY_STATUS;
        }
        e->stats.updates++;
    } else {
        e->stats.inserts++;
    }
    pthread_mutex_unlock(&e->state_lock);
    for (size_t i = 0; i < t->n; i++)
        if (t->subs[i] == old) {
            csub_free(old);
            t->subs[i] = NULL;
            memmove(&t->subs[i], &t->subs[i + 1], (t->n - i - 1) * sizeof *t->subs);
            t->n--;
            break;
        }
    tenant_add(t, c);
    index_build(t);
    pthread_rwlock_unlock(&e->lock);
}

void subs_engine_remove(subs_engine *e, const char *tenant, const char *id)
{
    pthread_rwlock_wrlock(&e->lock);
    tombstone *tb = &e->tomb[e->ntomb++ % TOMBSTONES];
    snprintf(tb->tenant, sizeof tb->tenant, "%s", tenant);
    snprintf(tb->id, sizeof tb->id, "%s", id);
    tb->gen = ++e->gen;
    ctenant *t = find_tenant(e->tenants, e->ntenants, tenant);
    for (size_t i = 0; t != NULL && i < t->n; i++)
        if (strcmp(t->subs[i]->s->id, id) == 0) {
            csub_free(t->subs[i]);
            memmove(&t->subs[i], &t->subs[i + 1], (t->n - i - 1) * sizeof *t->subs);
            t->n--;
            index_build(t);
            pthread_mutex_lock(&e->state_lock);
            e->stats.removes++;
            pthread_mutex_unlock(&e->state_lock);
            break;
        }
    pthread_rwlock_unlock(&e->lock);
}

/* --------------------------------------------------------------- reload */

/* Whether db is one of ours, and its tenant. */
static bool our_db(const store *s, const char *db, const char **tenant)
{
    size_t n = strlen(s->db);
    if (strncmp(db, s->db, n) != 0 || (db[n] != '\0' && db[n] != '-'))
        return false;
    *tenant = db[n] == '-' ? db + n + 1 : "";
    return strlen(*tenant) <= NGSI_SERVICE_MAX;
}

static int load_db(mongoc_client_t *client, const char *db, ctenant *t, bson_error_t *err)
{
    mongoc_collection_t *col = mongoc_client_get_collection(client, db, COL_CSUBS);
    bson_t filter = BSON_INITIALIZER;
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, &filter, NULL, NULL);
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        subs_sub *s = subs_from_bson(doc);
        if (s != NULL)
            tenant_add(t, csub_new(s));
    }
    bool failed = mongoc_cursor_error(cur, err);
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
    mongoc_collection_destroy(col);
    return failed ? -1 : 0;
}

/* Every tenant's csubs; -1 (and nothing) when the database fails. */
static int load_all(subs_engine *e, ctenant ***out, size_t *nout)
{
    bson_error_t err;
    mongoc_client_t *client = mongoc_client_pool_pop(e->st->pool);
    char **names = mongoc_client_get_database_names_with_opts(client, NULL, &err);
    ctenant **ts = NULL;
    size_t n = 0;
    int rc = names ? 0 : -1;
    for (size_t i = 0; names && names[i] && rc == 0; i++) {
        const char *tenant;
        if (!our_db(e->st, names[i], &tenant))
            continue;
        ts = realloc(ts, (n + 1) * sizeof *ts);
        if (ts == NULL)
            abort();
        ts[n] = tenant_new(tenant);
        rc = load_db(client, names[i], ts[n++], &err);
    }
    bson_strfreev(names);
    mongoc_client_pool_push(e->st->pool, client);
    if (rc < 0) {
        log_msg(LOG_WARN, "comp=subs | cannot reload subscriptions, keeping the cache: %s",
                err.message);
        for (size_t i = 0; i < n; i++)
            tenant_free(ts[i]);
        free(ts);
        return -1;
    }
    *out = ts;
    *nout = n;
    return 0;
}

static bool buried_since(const subs_engine *e, const char *tenant, const char *id, uint64_t gen)
{
    size_t n = e->ntomb < TOMBSTONES ? e->ntomb : TOMBSTONES;
    for (size_t i = 0; i < n; i++)
        if (e->tomb[i].gen > gen && strcmp(e->tomb[i].id, id) == 0 &&
            strcmp(e->tomb[i].tenant, tenant) == 0)
            return true;
    return false;
}

/* The loaded entry takes the runtime state of the cached one. Under the
 * write lock and state_lock. */
static void carry_state(csub *fresh, const csub *old)
{
    sub_state st = old->st;
    const subs_counters *db = &fresh->s->counters;
    if (!(st.dirty & DIRTY_STATUS))
        st.status = fresh->s->status;
    if (db->last_notification > st.last_notification)
        st.last_notification = db->last_notification;
    if (!(st.dirty & DIRTY_FAILS))
        st.fails_counter = db->fails_counter;
    fresh->st = st;
}

/* Merge what was loaded with the cache; under the write lock. Tenants may
 * be appended to *loaded. */
static void merge_loaded(subs_engine *e, ctenant ***loaded, size_t *nloaded, uint64_t load_gen)
{
    size_t n = *nloaded;
    pthread_mutex_lock(&e->state_lock);
    for (size_t i = 0; i < n; i++) {
        ctenant *t = (*loaded)[i], *old = find_tenant(e->tenants, e->ntenants, t->name);
        size_t w = 0;
        for (size_t k = 0; k < t->n; k++) { /* drop what was deleted here meanwhile */
            csub *c = t->subs[k];
            csub *prev = find_sub(old, c->s->id);
            if (prev != NULL && prev->gen > load_gen) {
                csub_free(c); /* written here after the load began: keep ours */
                continue;
            }
            if (buried_since(e, t->name, c->s->id, load_gen)) {
                csub_free(c);
                continue;
            }
            if (prev != NULL)
                carry_state(c, prev);
            else
                e->stats.inserts++;
            t->subs[w++] = c;
        }
        t->n = w;
        index_build(t); /* for the lookups below */
    }
    for (size_t i = 0; i < e->ntenants; i++) { /* local writes newer than the load */
        ctenant *old = e->tenants[i], *t = find_tenant(*loaded, *nloaded, old->name);
        for (size_t k = 0; k < old->n; k++) {
            csub *c = old->subs[k];
            if (c->gen <= load_gen) {
                if (find_sub(t, c->s->id) == NULL)
                    e->stats.removes++;
                continue;
            }
            if (t == NULL) { /* its database appeared after the listing */
                *loaded = realloc(*loaded, (*nloaded + 1) * sizeof **loaded);
                if (*loaded == NULL)
                    abort();
                t = (*loaded)[(*nloaded)++] = tenant_new(old->name);
            }
            tenant_add(t, c);
            old->subs[k] = NULL;
        }
    }
    pthread_mutex_unlock(&e->state_lock);
}

static void refresh(subs_engine *e)
{
    ctenant **loaded;
    size_t n;
    pthread_rwlock_rdlock(&e->lock);
    uint64_t load_gen = e->gen;
    pthread_rwlock_unlock(&e->lock);
    if (load_all(e, &loaded, &n) < 0)
        return;
    pthread_rwlock_wrlock(&e->lock);
    merge_loaded(e, &loaded, &n, load_gen);
    for (size_t i = 0; i < e->ntenants; i++) {
        ctenant *old = e->tenants[i];
        for (size_t k = 0; k < old->n; k++) /* taken ones are NULL now */
            if (old->subs[k] != NULL)
                csub_free(old->subs[k]);
        free(old->subs);
        old->subs = NULL;
        old->n = 0;
        index_clear(old);
        free(old);
    }
    free(e->tenants);
    e->tenants = loaded;
    e->ntenants = n;
    for (size_t i = 0; i < n; i++)
        index_build(loaded[i]);
    pthread_mutex_lock(&e->state_lock);
    e->stats.refreshes++;
    pthread_mutex_unlock(&e->state_lock);
    pthread_rwlock_unlock(&e->lock);
}

/* ---------------------------------------------------------------- flush */

typedef struct pending {
    char tenant[NGSI_SERVICE_MAX + 1];
    char id[SUBS_ID_LEN + 1];
    sub_state st; /* the values and what was dirty */
} pending;

static void pending_update(const pending *p, bson_t *update)
{
    bson_t set = BSON_INITIALIZER, inc = BSON_INITIALIZER;
    const sub_state *st = &p->st;
    if (st->sent_delta > 0)
        BSON_APPEND_INT64(&inc, "count", st->sent_delta);
    if (st->dirty & DIRTY_LAST)
        BSON_APPEND_INT64(&set, "lastNotification", st->last_notification);
    if (st->dirty & DIRTY_SUCCESS) {
        BSON_APPEND_INT64(&set, "lastSuccess", st->last_success);
        BSON_APPEND_INT64(&set, "lastSuccessCode", st->last_success_code);
    }
    if (st->dirty & DIRTY_FAILURE) {
        BSON_APPEND_INT64(&set, "lastFailure", st->last_failure);
        BSON_APPEND_UTF8(&set, "lastFailureReason", st->reason);
    }
    if (st->dirty & DIRTY_FAILS)
        BSON_APPEND_INT64(&set, "failsCounter", st->fails_counter);
    if (st->dirty & DIRTY_STATUS) {
        BSON_APPEND_UTF8(&set, "status", subs_status_name(st->status));
        BSON_APPEND_DOUBLE(&set, "statusLastChange", ngsi_now());
    }
    if (!bson_empty(&set))
        BSON_APPEND_DOCUMENT(update, "$set", &set);
    if (!bson_empty(&inc))
        BSON_APPEND_DOCUMENT(update, "$inc", &inc);
    bson_destroy(&set);
    bson_destroy(&inc);
}

/* Take every dirty state (clearing it). New array (free). */
static pending *collect(subs_engine *e, size_t *n)
{
    pending *out = NULL;
    size_t cap = 0;
    *n = 0;
    pthread_rwlock_rdlock(&e->lock);
    pthread_mutex_lock(&e->state_lock);
    for (size_t i = 0; i < e->ntenants; i++)
        for (size_t k = 0; k < e->tenants[i]->n; k++) {
            csub *c = e->tenants[i]->subs[k];
            if (c->st.dirty == 0 && c->st.sent_delta == 0)
                continue;
            if (*n == cap) {
                cap = cap ? cap * 2 : 64;
                out = realloc(out, cap * sizeof *out);
                if (out == NULL)
                    abort();
            }
            pending *p = &out[(*n)++];
            snprintf(p->tenant, sizeof p->tenant, "%s", e->tenants[i]->name);
            snprintf(p->id, sizeof p->id, "%s", c->s->id);
            p->st = c->st;
            c->st.dirty = 0;
            c->st.sent_delta = 0;
        }
    pthread_mutex_unlock(&e->state_lock);
    pthread_rwlock_unlock(&e->lock);
    return out;
}

/* A failed write: put the deltas back for the next flush. */
static void restore(subs_engine *e, const pending *p)
{
    pthread_rwlock_rdlock(&e->lock);
    csub *c = find_sub(find_tenant(e->tenants, e->ntenants, p->tenant), p->id);
    if (c != NULL) {
        pthread_mutex_lock(&e->state_lock);
        c->st.sent_delta += p->st.sent_delta;
        c->st.dirty |= p->st.dirty;
        pthread_mutex_unlock(&e->state_lock);
    }
    pthread_rwlock_unlock(&e->lock);
}

/* One bulk write for the pending updates of one tenant, [from, to). */
static void flush_tenant(subs_engine *e, const pending *p, size_t from, size_t to)
{
    store_conn c;
    bson_error_t err;
    store_acquire(e->st, p[from].tenant, COL_CSUBS, &c);
    mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts(c.col, NULL);
    for (size_t i = from; i < to; i++) {
        bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER;
        bson_oid_t oid;
        bson_oid_init_from_string(&oid, p[i].id);
        BSON_APPEND_OID(&filter, "_id", &oid);
        pending_update(&p[i], &update);
        mongoc_bulk_operation_update_one(bulk, &filter, &update, false);
        bson_destroy(&filter);
        bson_destroy(&update);
    }
    bool ok = mongoc_bulk_operation_execute(bulk, NULL, &err) != 0;
    mongoc_bulk_operation_destroy(bulk);
    store_release(e->st, &c);
    if (!ok) {
        log_msg(LOG_WARN, "comp=subs | cannot write subscription counters: %s", err.message);
        for (size_t i = from; i < to; i++)
            restore(e, &p[i]);
    }
}

void subs_engine_flush(subs_engine *e)
{
    size_t n;
    pending *p = collect(e, &n);
    for (size_t from = 0; from < n;) {
        size_t to = from + 1;
        while (to < n && strcmp(p[to].tenant, p[from].tenant) == 0)
            to++;
        flush_tenant(e, p, from, to);
        from = to;
    }
    free(p);
}

/* ---------------------------------------------------------- housekeeping */

static void *housekeeping(void *arg)
{
    subs_engine *e = arg;
    int interval = e->cfg.sub_cache_interval > 0 ? e->cfg.sub_cache_interval : FLUSH_IDLE_S;
    pthread_mutex_lock(&e->hk_lock);
    while (!e->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += interval;
        pthread_cond_timedwait(&e->hk_wake, &e->hk_lock, &until);
        if (e->stopping)
            break;
        pthread_mutex_unlock(&e->hk_lock);
        subs_engine_flush(e);
        if (e->cfg.sub_cache_interval > 0)
            refresh(e);
        pthread_mutex_lock(&e->hk_lock);
    }
    pthread_mutex_unlock(&e->hk_lock);
    return NULL;
}

/* -------------------------------------------------------------- results */

static void on_failure(subs_engine *e, csub *c, const notify_result *r, long long now)
{
    sub_state *st = &c->st;
    st->last_failure = now;
    snprintf(st->reason, sizeof st->reason, "%s", r->reason ? r->reason : "");
    st->fails_counter++;
    st->dirty |= DIRTY_FAILURE | DIRTY_FAILS;
    long long limit = c->s->max_fails_limit;
    if (limit > 0 && st->fails_counter > limit && st->status != SUBS_INACTIVE) {
        st->status = SUBS_INACTIVE;
        st->dirty |= DIRTY_STATUS;
        log_msg(LOG_WARN,
                "Subscription %s automatically disabled due to failsCounter (%lld) overpasses "
                "maxFailsLimit (%lld)",
                c->s->id, st->fails_counter, limit);
    }
}

static void on_result(void *ud, const notify_result *r)
{
    subs_engine *e = ud;
    long long now = (long long)ngsi_now();
    pthread_rwlock_rdlock(&e->lock);
    csub *c = find_sub(find_tenant(e->tenants, e->ntenants, r->tenant), r->sub_id);
    if (c != NULL) {
        pthread_mutex_lock(&e->state_lock);
        if (r->responded) {
            c->st.last_success = now;
            c->st.last_success_code = (int)r->status;
            c->st.fails_counter = 0;
            c->st.dirty |= DIRTY_SUCCESS | DIRTY_FAILS;
        } else {
            on_failure(e, c, r, now);
        }
        pthread_mutex_unlock(&e->state_lock);
    }
    pthread_rwlock_unlock(&e->lock);
    if (!r->responded)
        log_msg(LOG_INFO,
                "comp=subs | notification for subscription %s failed after %d attempts: %s",
                r->sub_id, r->attempts, r->reason ? r->reason : "");
}

/* -------------------------------------------------------------- matching */

/* Whether status and throttling let c notify now. Under state_lock. */
static bool open_now(const csub *c, double now)
{
    long long t = c->s->throttling;
    return c->st.status != SUBS_INACTIVE &&
           !(t > 0 && c->st.last_notification > 0 && (long long)now - c->st.last_notification < t);
}

/* open_now, only looking: nothing is claimed. */
static bool may_notify(subs_engine *e, const csub *c, double now)
{
    pthread_mutex_lock(&e->state_lock);
    bool ok = open_now(c, now);
    pthread_mutex_unlock(&e->state_lock);
    return ok;
}

/* Status, throttling and oneshot: claim the right to notify now. */
static bool reserve(subs_engine *e, csub *c, double now)
{
    pthread_mutex_lock(&e->state_lock);
    sub_state *st = &c->st;
    bool ok = open_now(c, now);
    if (ok) {
        st->last_notification = (long long)now;
        st->dirty |= DIRTY_LAST;
        if (st->status == SUBS_ONESHOT) {
            st->status = SUBS_INACTIVE;
            st->dirty |= DIRTY_STATUS;
        }
    }
    pthread_mutex_unlock(&e->state_lock);
    return ok;
}

static void note_drop(subs_engine *e, const char *id)
{
    double now = ngsi_now();
    uint64_t n = 0;
    pthread_mutex_lock(&e->state_lock);
    e->drops_unlogged++;
    if (now - e->drop_logged_at >= DROP_LOG_INTERVAL_S) {
        n = e->drops_unlogged;
        e->drops_unlogged = 0;
        e->drop_logged_at = now;
    }
    pthread_mutex_unlock(&e->state_lock);
    if (n > 0)
        log_msg(LOG_WARN,
                "comp=subs | notification queue full: %llu notification(s) dropped, the last "
                "for subscription %s",
                (unsigned long long)n, id);
}

/* With auth on, the change as the subscription's owner may see it: 1 with
 * *view (its entity a new copy in *copy, pseudonymised for services), or 0
 * when the owner may not see the entity now (no consent, no scope, or a
 * subscription made with auth off, which has no owner). */
static int owner_view(subs_engine *e, const subs_event *ev, const csub *c, const subs_change *ch,
                      subs_change *view, ngsi_entity **copy)
{
    ngsi_error err = {0};
    *view = *ch;
    *copy = NULL;
    if (e->az == NULL)
        return 1;
    if (c->owner == NULL)
        return 0;
    const ngsi_list *attrs = c->s->blacklist ? NULL : &c->s->attrs;
    int rc = authz_notify_entity(e->az, e->st, ev->tenant, c->owner, ch->entity, attrs, copy, &err);
    if (rc < 0)
        log_msg(LOG_WARN, "comp=subs | subscription %s: %s", c->s->id, err.description);
    if (rc <= 0)
        return 0;
    if (view->after == ch->entity)
        view->after = *copy;
    else
        view->before = *copy;
    view->entity = *copy;
    return 1;
}

/* Build and queue the notification of view (the change as the owner sees
 * it) for c. */
static void deliver(subs_engine *e, const subs_event *ev, csub *c, const subs_change *view)
{
    char corr[NOTIF_CORRELATOR_MAX];
    subs_message m;
    ngsi_error err = {0};
    unsigned n = ++*ev->sent;
    snprintf(corr, sizeof corr, "%s; cbnotif=%u", ev->correlator, n);
    subs_notify_ctx ctx = {.tenant = ev->tenant,
                           .correlator = corr,
                           .auth_token = ev->auth_token,
                           .user_agent = e->user_agent};
    if (subs_message_build(c->s, view, &ctx, &m, &err) < 0) {
        --*ev->sent;
        log_msg(LOG_WARN, "comp=subs | subscription %s: %s", c->s->id, err.description);
        return;
    }
    if (!notifier_submit(e->notif, ev->tenant, c->s, &m)) {
        --*ev->sent;
        subs_message_clear(&m);
        note_drop(e, c->s->id);
        return;
    }
    pthread_mutex_lock(&e->state_lock);
    c->st.sent_delta++;
    pthread_mutex_unlock(&e->state_lock);
}

/* The next entry from k on (k itself included) indexed under id; -1 at the
 * end of its bucket. */
static int next_entry(const ctenant *t, int k, const char *id)
{
    while (k >= 0 && strcmp(t->entries[k].id, id) != 0)
        k = t->entries[k].next;
    return k;
}

/* Match ch against c and, when it fires, notify. */
static void match_one(subs_engine *e, const subs_event *ev, csub *c, const subs_change *ch,
                      double now)
{
    subs_change view;
    ngsi_entity *copy = NULL;
    /* the owner check (which records a provision) needs an open subscription,
     * and comes before throttling takes its slot */
    if (subs_match(c->s, ch, now) && may_notify(e, c, now) &&
        owner_view(e, ev, c, ch, &view, &copy) && reserve(e, c, now))
        deliver(e, ev, c, &view);
    ngsi_entity_free(copy);
}

void subs_engine_changed(subs_engine *e, const subs_event *ev)
{
    const ngsi_entity *ent = ev->after ? ev->after : ev->before;
    if (ent == NULL)
        return;
    pthread_rwlock_rdlock(&e->lock);
    /* the entries that may concern the entity: those of its id, then every
     * pattern; with none, the change need not even be classified */
    ctenant *t = find_tenant(e->tenants, e->ntenants, ev->tenant);
    int first =
        t && t->n > 0 ? next_entry(t, t->heads[hash(ent->id) & (t->nbuckets - 1)], ent->id) : -1;
    if (first >= 0 || (t != NULL && t->npatterns > 0)) {
        subs_change ch;
        double now = ngsi_now();
        subs_change_init(&ch, ev->kind, ev->before, ev->after, ev->forced);
        for (int k = first; k >= 0; k = next_entry(t, t->entries[k].next, ent->id))
            match_one(e, ev, t->entries[k].c, &ch, now);
        for (size_t i = 0; i < t->npatterns; i++)
            match_one(e, ev, t->patterns[i], &ch, now);
        subs_change_clear(&ch);
    }
    pthread_rwlock_unlock(&e->lock);
}

/* ---------------------------------------------------------------- stats */

void subs_engine_stats(subs_engine *e, notify_stats *notif, subs_cache_stats *cache)
{
    notifier_stats(e->notif, notif);
    pthread_rwlock_rdlock(&e->lock);
    uint64_t items = 0;
    for (size_t i = 0; i < e->ntenants; i++)
        items += e->tenants[i]->n;
    pthread_mutex_lock(&e->state_lock);
    *cache = e->stats;
    cache->items = items;
    pthread_mutex_unlock(&e->state_lock);
    pthread_rwlock_unlock(&e->lock);
}

void subs_engine_stats_reset(subs_engine *e)
{
    notifier_stats_reset(e->notif);
    pthread_mutex_lock(&e->state_lock);
    memset(&e->stats, 0, sizeof e->stats);
    e->stats.since = ngsi_now();
    pthread_mutex_unlock(&e->state_lock);
}

char *subs_engine_ids(subs_engine *e)
{
    ngsi_buf b = {0};
    ngsi_buf_puts(&b, "");
    pthread_rwlock_rdlock(&e->lock);
    for (size_t i = 0; i < e->ntenants; i++)
        for (size_t k = 0; k < e->tenants[i]->n; k++) {
            if (b.len > 0)
                ngsi_buf_puts(&b, ",");
            ngsi_buf_puts(&b, e->tenants[i]->subs[k]->s->id);
        }
    pthread_rwlock_unlock(&e->lock);
    return ngsi_buf_steal(&b);
}

/* -------------------------------------------------------- start and stop */

subs_engine *subs_engine_start(const broker_config *cfg, store *st, struct authz *az,
                               ngsi_error *err)
{
    subs_engine *e = calloc(1, sizeof *e);
    if (e == NULL)
        abort();
    e->cfg = *cfg;
    e->st = st;
    e->az = az;
    snprintf(e->user_agent, sizeof e->user_agent, "orion/%s tsunagi/%s libcurl/%s", TSUNAGI_VERSION,
             TSUNAGI_VERSION, curl_version_info(CURLVERSION_NOW)->version);
    /* glibc prefers readers by default; a steady stream of matching
     * requests could then hold a reload off for ever. No thread takes the
     * read lock twice, so preferring writers cannot deadlock. */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&e->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&e->state_lock, NULL);
    pthread_mutex_init(&e->hk_lock, NULL);
    pthread_cond_init(&e->hk_wake, NULL);
    e->stats.since = ngsi_now();
    notify_cfg nc = {.queue_size = cfg->notif_queue_size,
                     .max_conns = cfg->notif_max_conns,
                     .per_host = cfg->notif_per_host,
                     .retries = cfg->notif_retries,
                     .retry_base_ms = cfg->notif_retry_base_ms,
                     .retry_max_ms = cfg->notif_retry_max_ms,
                     .default_timeout_ms = cfg->http_timeout_ms};
    e->notif = notifier_start(&nc, on_result, e, err);
    if (e->notif == NULL) {
        subs_engine_stop(e);
        return NULL;
    }
    refresh(e); /* subscriptions made before this start fire at once */
    e->thread_running = pthread_create(&e->thread, NULL, housekeeping, e) == 0;
    return e;
}

void subs_engine_stop(subs_engine *e)
{
    if (e == NULL)
        return;
    pthread_mutex_lock(&e->hk_lock);
    e->stopping = true;
    pthread_cond_signal(&e->hk_wake);
    pthread_mutex_unlock(&e->hk_lock);
    if (e->thread_running)
        pthread_join(e->thread, NULL);
    notifier_stop(e->notif); /* its last results still update the cache */
    subs_engine_flush(e);
    for (size_t i = 0; i < e->ntenants; i++)
        tenant_free(e->tenants[i]);
    free(e->tenants);
    pthread_cond_destroy(&e->hk_wake);
    pthread_mutex_destroy(&e->hk_lock);
    pthread_mutex_destroy(&e->state_lock);
    pthread_rwlock_destroy(&e->lock);
    free(e);
}
