/*
 * ngsi/subs_bson.c: subscriptions in Orion's csubs document layout.
 *
 * The layout is Orion's (doc/manuals/admin/database_model.md), so Orion and
 * Tsunagi can share a database: reference holds the URL of any channel,
 * entities carry isPattern as the string "true"/"false" but isTypePattern as
 * a bool, expression members are strings ("" when not given), expiration is
 * int64 seconds with INT64_MAX for "never", and an MQTT subscription is one
 * with a topic. Numbers inside templates are stored as doubles, as Orion
 * stores every JSON number.
 *
 * PATCH writes only the members it replaces: subs_bson_patch renders the
 * whole document and turns the fields of the replaced groups into $set (when
 * the new subscription has them) or $unset (when it does not), so the two
 * mappings cannot drift apart.
 */
#include "subs_private.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ writing */

static void append_strings(bson_t *b, const char *key, const ngsi_list *l)
{
    bson_t arr;
    char idx[16];
    bson_append_array_begin(b, key, -1, &arr);
    for (size_t i = 0; i < l->n; i++) {
        const char *k;
        bson_uint32_to_string((uint32_t)i, &k, idx, sizeof idx);
        bson_append_utf8(&arr, k, -1, l->item[i], -1);
    }
    bson_append_array_end(b, &arr);
}

static void append_entities(bson_t *b, const subs_sub *s)
{
    bson_t arr, item;
    char idx[16];
    bson_append_array_begin(b, "entities", -1, &arr);
    for (size_t i = 0; i < s->nentities; i++) {
        const subs_entity *e = &s->entities[i];
        const char *k;
        bson_uint32_to_string((uint32_t)i, &k, idx, sizeof idx);
        bson_append_document_begin(&arr, k, -1, &item);
        BSON_APPEND_UTF8(&item, "id", e->id);
        BSON_APPEND_UTF8(&item, "isPattern", e->id_pattern ? "true" : "false");
        if (e->type != NULL)
            BSON_APPEND_UTF8(&item, "type", e->type);
        BSON_APPEND_BOOL(&item, "isTypePattern", e->type_pattern);
        bson_append_document_end(&arr, &item);
    }
    bson_append_array_end(b, &arr);
}

static void append_expression(bson_t *b, const subs_sub *s)
{
    bson_t e;
    bson_append_document_begin(b, "expression", -1, &e);
    BSON_APPEND_UTF8(&e, "q", s->q ? s->q : "");
    BSON_APPEND_UTF8(&e, "mq", s->mq ? s->mq : "");
    BSON_APPEND_UTF8(&e, "geometry", s->geometry ? s->geometry : "");
    BSON_APPEND_UTF8(&e, "coords", s->coords ? s->coords : "");
    BSON_APPEND_UTF8(&e, "georel", s->georel ? s->georel : "");
    bson_append_document_end(b, &e);
}

static const char *alt_name(unsigned char bit)
{
    return bit == SUBS_ALT_CREATE   ? "entityCreate"
           : bit == SUBS_ALT_UPDATE ? "entityUpdate"
           : bit == SUBS_ALT_DELETE ? "entityDelete"
                                    : "entityChange";
}

static void append_subject(bson_t *b, const subs_sub *s)
{
    append_entities(b, s);
    append_strings(b, "conditions", &s->cond_attrs);
    append_expression(b, s);
    if (s->nalt > 0) {
        ngsi_list l = {0};
        for (size_t i = 0; i < s->nalt; i++)
            subs_list_push(&l, alt_name(s->alt[i]));
        append_strings(b, "altTypes", &l);
        ngsi_list_clear(&l);
    }
    BSON_APPEND_BOOL(b, "notifyOnMetadataChange", s->notify_on_md);
}

/* The ngsi patch as an entity-like document: {id?, type?, attrs: {...}}. */
static void append_ngsi(bson_t *b, const json_t *ngsi)
{
    bson_t doc, attrs, attr;
    char name[NGSI_NAME_MAX + 1];
    const char *k;
    json_t *v;
    bson_append_document_begin(b, "ngsi", -1, &doc);
    if (json_is_string(json_object_get(ngsi, "id")))
        BSON_APPEND_UTF8(&doc, "id", json_string_value(json_object_get(ngsi, "id")));
    if (json_is_string(json_object_get(ngsi, "type")))
        BSON_APPEND_UTF8(&doc, "type", json_string_value(json_object_get(ngsi, "type")));
    bson_append_document_begin(&doc, "attrs", -1, &attrs);
    json_object_foreach((json_t *)ngsi, k, v)
    {
        if (strcmp(k, "id") == 0 || strcmp(k, "type") == 0)
            continue;
        store_bson_encode_name(k, name);
        bson_append_document_begin(&attrs, name, -1, &attr);
        BSON_APPEND_UTF8(&attr, "type", json_string_value(json_object_get(v, "type")));
        store_bson_append_json(&attr, "value", json_object_get(v, "value"));
        json_t *md = json_object_get(v, "metadata");
        if (md != NULL && json_object_size(md) > 0)
            store_bson_append_json(&attr, "md", md);
        bson_append_document_end(&attrs, &attr);
    }
    bson_append_document_end(&doc, &attrs);
    bson_append_document_end(b, &doc);
}

static void append_custom(bson_t *b, const subs_sub *s)
{
    if (s->method != NULL)
        BSON_APPEND_UTF8(b, "method", s->method);
    if (s->headers != NULL)
        store_bson_append_json(b, "headers", s->headers);
    if (s->qs != NULL)
        store_bson_append_json(b, "qs", s->qs);
    if (s->payload_kind == SUBS_PAYLOAD_NONE)
        BSON_APPEND_NULL(b, "payload");
    else if (s->payload_kind == SUBS_PAYLOAD_TEXT)
        BSON_APPEND_UTF8(b, "payload", s->payload);
    else if (s->payload_kind == SUBS_PAYLOAD_JSON)
        store_bson_append_json(b, "json", s->json);
    else if (s->payload_kind == SUBS_PAYLOAD_NGSI)
        append_ngsi(b, s->ngsi);
}

static void append_notification(bson_t *b, const subs_sub *s)
{
    append_strings(b, "attrs", &s->attrs);
    append_strings(b, "metadata", &s->metadata);
    BSON_APPEND_BOOL(b, "blacklist", s->blacklist);
    BSON_APPEND_BOOL(b, "onlyChanged", s->only_changed);
    BSON_APPEND_BOOL(b, "covered", s->covered);
    BSON_APPEND_UTF8(b, "format", subs_format_name(s->format));
    BSON_APPEND_UTF8(b, "reference", s->url ? s->url : "");
    BSON_APPEND_BOOL(b, "custom", s->custom);
    if (s->timeout_ms > 0)
        BSON_APPEND_INT64(b, "timeout", s->timeout_ms);
    if (s->custom)
        append_custom(b, s);
    if (s->channel == SUBS_MQTT) {
        BSON_APPEND_UTF8(b, "topic", s->topic ? s->topic : "");
        BSON_APPEND_INT32(b, "qos", s->qos);
        BSON_APPEND_BOOL(b, "retain", s->retain);
        if (s->user != NULL) {
            BSON_APPEND_UTF8(b, "user", s->user);
            BSON_APPEND_UTF8(b, "passwd", s->passwd ? s->passwd : "");
        }
    }
    if (s->max_fails_limit > 0)
        BSON_APPEND_INT64(b, "maxFailsLimit", s->max_fails_limit);
}

static void append_counters(bson_t *b, const subs_counters *c)
{
    if (c->times_sent > 0)
        BSON_APPEND_INT64(b, "count", c->times_sent);
    if (c->last_notification > 0)
        BSON_APPEND_INT64(b, "lastNotification", c->last_notification);
    if (c->last_success > 0)
        BSON_APPEND_INT64(b, "lastSuccess", c->last_success);
    if (c->last_success_code > 0)
        BSON_APPEND_INT64(b, "lastSuccessCode", c->last_success_code);
    if (c->last_failure > 0)
        BSON_APPEND_INT64(b, "lastFailure", c->last_failure);
    if (c->last_failure_reason != NULL)
        BSON_APPEND_UTF8(b, "lastFailureReason", c->last_failure_reason);
    if (c->fails_counter > 0)
        BSON_APPEND_INT64(b, "failsCounter", c->fails_counter);
}

void subs_to_bson(const subs_sub *s, bson_t *doc)
{
    bson_oid_t oid;
    if (bson_oid_is_valid(s->id, strlen(s->id))) {
        bson_oid_init_from_string(&oid, s->id);
        BSON_APPEND_OID(doc, "_id", &oid);
    }
    BSON_APPEND_INT64(doc, "expiration", s->expires);
    BSON_APPEND_UTF8(doc, "servicePath", s->service_path ? s->service_path : "/#");
    if (s->description != NULL)
        BSON_APPEND_UTF8(doc, "description", s->description);
    BSON_APPEND_UTF8(doc, "status", subs_status_name(s->status));
    BSON_APPEND_DOUBLE(doc, "statusLastChange", s->status_last_change);
    BSON_APPEND_INT64(doc, "throttling", s->throttling);
    append_subject(doc, s);
    append_notification(doc, s);
    append_counters(doc, &s->counters);
    if (s->owner != NULL) /* not part of Orion's layout; Orion ignores it */
        store_bson_append_json(doc, "tsunagiOwner", s->owner);
}

/* ------------------------------------------------------------- PATCH */

static const char *const GROUP_DESCRIPTION[] = {"description", NULL};
static const char *const GROUP_SUBJECT[] = {
    "entities", "conditions", "expression", "altTypes", "notifyOnMetadataChange", NULL};
static const char *const GROUP_NOTIFICATION[] = {
    "attrs",     "metadata", "blacklist",     "onlyChanged", "covered", "format",
    "reference", "custom",   "timeout",       "method",      "headers", "qs",
    "payload",   "json",     "ngsi",          "topic",       "qos",     "retain",
    "user",      "passwd",   "maxFailsLimit", NULL};
static const char *const GROUP_EXPIRES[] = {"expiration", NULL};
static const char *const GROUP_STATUS[] = {"status", "statusLastChange", NULL};
static const char *const GROUP_THROTTLING[] = {"throttling", NULL};

static void patch_group(const bson_t *full, const char *const *fields, bson_t *set, bson_t *unset,
                        bool *any_unset)
{
    bson_iter_t it;
    for (size_t i = 0; fields[i] != NULL; i++) {
        if (bson_iter_init_find(&it, full, fields[i])) {
            bson_append_iter(set, fields[i], -1, &it);
        } else {
            BSON_APPEND_UTF8(unset, fields[i], "");
            *any_unset = true;
        }
    }
}

void subs_bson_patch(const subs_sub *s, unsigned given, bson_t *update)
{
    static const struct {
        unsigned bit;
        const char *const *fields;
    } GROUPS[] = {{SUBS_GIVEN_DESCRIPTION, GROUP_DESCRIPTION},
                  {SUBS_GIVEN_SUBJECT, GROUP_SUBJECT},
                  {SUBS_GIVEN_NOTIFICATION, GROUP_NOTIFICATION},
                  {SUBS_GIVEN_EXPIRES, GROUP_EXPIRES},
                  {SUBS_GIVEN_STATUS, GROUP_STATUS},
                  {SUBS_GIVEN_THROTTLING, GROUP_THROTTLING}};
    bson_t full = BSON_INITIALIZER, set = BSON_INITIALIZER, unset = BSON_INITIALIZER;
    bool any_unset = false;
    subs_to_bson(s, &full);
    for (size_t i = 0; i < sizeof GROUPS / sizeof *GROUPS; i++)
        if (given & GROUPS[i].bit)
            patch_group(&full, GROUPS[i].fields, &set, &unset, &any_unset);
    if (!bson_empty(&set))
        BSON_APPEND_DOCUMENT(update, "$set", &set);
    if (any_unset)
        BSON_APPEND_DOCUMENT(update, "$unset", &unset);
    bson_destroy(&full);
    bson_destroy(&set);
    bson_destroy(&unset);
}

/* ------------------------------------------------------------ reading */

static const char *get_str(const bson_t *doc, const char *key)
{
    bson_iter_t it;
    if (bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it))
        return bson_iter_utf8(&it, NULL);
    return NULL;
}

static long long get_int(const bson_t *doc, const char *key, long long dflt)
{
    bson_iter_t it;
    if (bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_NUMBER(&it))
        return bson_iter_as_int64(&it);
    return dflt;
}

static bool get_bool(const bson_t *doc, const char *key, bool dflt)
{
    bson_iter_t it;
    if (bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_BOOL(&it))
        return bson_iter_bool(&it);
    return dflt;
}

static json_t *get_json(const bson_t *doc, const char *key)
{
    bson_iter_t it;
    if (bson_iter_init_find(&it, doc, key))
        return store_json_from_bson(&it);
    return NULL;
}

static void get_strings(const bson_t *doc, const char *key, ngsi_list *out)
{
    bson_iter_t it, child;
    if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_ARRAY(&it))
        return;
    bson_iter_recurse(&it, &child);
    while (bson_iter_next(&child))
        if (BSON_ITER_HOLDS_UTF8(&child) && !ngsi_list_has(out, bson_iter_utf8(&child, NULL)))
            subs_list_push(out, bson_iter_utf8(&child, NULL));
}

static void read_entity(const bson_t *item, subs_entity *e)
{
    const char *id = get_str(item, "id"), *type = get_str(item, "type");
    const char *pattern = get_str(item, "isPattern");
    e->id = subs_strdup(id ? id : ".*");
    e->id_pattern = id == NULL || (pattern != NULL && strcmp(pattern, "true") == 0);
    if (type != NULL && *type) {
        e->type = subs_strdup(type);
        e->type_pattern = get_bool(item, "isTypePattern", false);
    }
}

static void read_entities(const bson_t *doc, subs_sub *s)
{
    bson_iter_t it, child;
    if (!bson_iter_init_find(&it, doc, "entities") || !BSON_ITER_HOLDS_ARRAY(&it))
        return;
    uint32_t len;
    const uint8_t *data;
    bson_iter_array(&it, &len, &data);
    bson_t arr;
    if (!bson_init_static(&arr, data, len))
        return;
    s->entities = calloc(bson_count_keys(&arr) + 1, sizeof *s->entities);
    if (s->entities == NULL)
        abort();
    bson_iter_recurse(&it, &child);
    while (bson_iter_next(&child)) {
        bson_t item;
        if (!BSON_ITER_HOLDS_DOCUMENT(&child))
            continue;
        bson_iter_document(&child, &len, &data);
        if (bson_init_static(&item, data, len))
            read_entity(&item, &s->entities[s->nentities++]);
    }
}

static char *expr_member(const bson_t *doc, const char *key)
{
    bson_iter_t it, e;
    if (!bson_iter_init_find(&it, doc, "expression") || !BSON_ITER_HOLDS_DOCUMENT(&it) ||
        !bson_iter_recurse(&it, &e) || !bson_iter_find(&e, key) || !BSON_ITER_HOLDS_UTF8(&e))
        return NULL;
    const char *v = bson_iter_utf8(&e, NULL);
    return *v ? subs_strdup(v) : NULL;
}

static void read_alterations(const bson_t *doc, subs_sub *s)
{
    ngsi_list l = {0};
    get_strings(doc, "altTypes", &l);
    for (size_t i = 0; i < l.n && s->nalt < 4; i++) {
        const char *n = l.item[i];
        unsigned char bit = strcmp(n, "entityCreate") == 0   ? SUBS_ALT_CREATE
                            : strcmp(n, "entityUpdate") == 0 ? SUBS_ALT_UPDATE
                            : strcmp(n, "entityDelete") == 0 ? SUBS_ALT_DELETE
                            : strcmp(n, "entityChange") == 0 ? SUBS_ALT_CHANGE
                                                             : 0;
        if (bit != 0)
            s->alt[s->nalt++] = bit;
    }
    ngsi_list_clear(&l);
}

static void read_subject(const bson_t *doc, subs_sub *s)
{
    read_entities(doc, s);
    get_strings(doc, "conditions", &s->cond_attrs);
    s->q = expr_member(doc, "q");
    s->mq = expr_member(doc, "mq");
    s->georel = expr_member(doc, "georel");
    s->geometry = expr_member(doc, "geometry");
    s->coords = expr_member(doc, "coords");
    read_alterations(doc, s);
    s->notify_on_md = get_bool(doc, "notifyOnMetadataChange", true);
}

/* The stored ngsi document back into its normalized JSON form. */
static json_t *read_ngsi(const bson_t *doc)
{
    json_t *stored = get_json(doc, "ngsi");
    if (!json_is_object(stored))
        return stored;
    json_t *out = json_object(), *attrs = json_object_get(stored, "attrs");
    char name[NGSI_NAME_MAX + 1];
    const char *k;
    json_t *v;
    if (json_object_get(stored, "id"))
        json_object_set(out, "id", json_object_get(stored, "id"));
    if (json_object_get(stored, "type"))
        json_object_set(out, "type", json_object_get(stored, "type"));
    json_object_foreach(attrs, k, v)
    {
        json_t *a = json_object(), *md = json_object_get(v, "md");
        json_t *value = json_object_get(v, "value");
        json_object_set(a, "type", json_object_get(v, "type"));
        json_object_set(a, "value", value ? value : json_null());
        json_object_set_new(a, "metadata", md ? json_incref(md) : json_object());
        store_bson_decode_name(k, name);
        json_object_set_new(out, name, a);
    }
    json_decref(stored);
    return out;
}

static void read_custom(const bson_t *doc, subs_sub *s)
{
    bson_iter_t it;
    s->method = subs_strdup(get_str(doc, "method"));
    s->headers = get_json(doc, "headers");
    s->qs = get_json(doc, "qs");
    if (bson_iter_init_find(&it, doc, "payload")) {
        if (BSON_ITER_HOLDS_NULL(&it)) {
            s->payload_kind = SUBS_PAYLOAD_NONE;
        } else if (BSON_ITER_HOLDS_UTF8(&it) && *bson_iter_utf8(&it, NULL)) {
            s->payload_kind = SUBS_PAYLOAD_TEXT;
            s->payload = subs_strdup(bson_iter_utf8(&it, NULL));
        }
    } else if ((s->json = get_json(doc, "json")) != NULL) {
        s->payload_kind = SUBS_PAYLOAD_JSON;
    } else if ((s->ngsi = read_ngsi(doc)) != NULL) {
        s->payload_kind = SUBS_PAYLOAD_NGSI;
    }
}

static enum subs_format read_format(const char *f)
{
    static const enum subs_format ALL[] = {SUBS_FMT_KEYVALUES, SUBS_FMT_VALUES,
                                           SUBS_FMT_SIMPLIFIED_NORMALIZED,
                                           SUBS_FMT_SIMPLIFIED_KEYVALUES};
    for (size_t i = 0; f != NULL && i < sizeof ALL / sizeof *ALL; i++)
        if (strcmp(f, subs_format_name(ALL[i])) == 0)
            return ALL[i];
    return SUBS_FMT_NORMALIZED; /* also Orion's old "JSON" */
}

static void read_owner(const bson_t *doc, subs_sub *s)
{
    bson_iter_t it;
    if (bson_iter_init_find(&it, doc, "tsunagiOwner") && BSON_ITER_HOLDS_DOCUMENT(&it))
        s->owner = store_json_from_bson(&it);
}

static void read_notification(const bson_t *doc, subs_sub *s)
{
    get_strings(doc, "attrs", &s->attrs);
    get_strings(doc, "metadata", &s->metadata);
    s->blacklist = get_bool(doc, "blacklist", false);
    s->only_changed = get_bool(doc, "onlyChanged", false);
    s->covered = get_bool(doc, "covered", false);
    s->format = read_format(get_str(doc, "format"));
    s->url = subs_strdup(get_str(doc, "reference"));
    s->custom = get_bool(doc, "custom", false);
    s->timeout_ms = get_int(doc, "timeout", 0);
    if (s->custom)
        read_custom(doc, s);
    if (get_str(doc, "topic") != NULL) {
        s->channel = SUBS_MQTT;
        s->topic = subs_strdup(get_str(doc, "topic"));
        s->qos = (int)get_int(doc, "qos", 0);
        s->retain = get_bool(doc, "retain", false);
        s->user = subs_strdup(get_str(doc, "user"));
        s->passwd = s->user ? subs_strdup(get_str(doc, "passwd")) : NULL;
    }
    s->max_fails_limit = get_int(doc, "maxFailsLimit", 0);
}

static void read_counters(const bson_t *doc, subs_counters *c)
{
    c->times_sent = get_int(doc, "count", 0);
    c->last_notification = get_int(doc, "lastNotification", 0);
    c->last_success = get_int(doc, "lastSuccess", 0);
    c->last_success_code = (int)get_int(doc, "lastSuccessCode", 0);
    c->last_failure = get_int(doc, "lastFailure", 0);
    c->last_failure_reason = subs_strdup(get_str(doc, "lastFailureReason"));
    c->fails_counter = get_int(doc, "failsCounter", 0);
}

static enum subs_status read_status(const char *s)
{
    if (s != NULL && strcmp(s, "inactive") == 0)
        return SUBS_INACTIVE;
    if (s != NULL && strcmp(s, "oneshot") == 0)
        return SUBS_ONESHOT;
    return SUBS_ACTIVE;
}

subs_sub *subs_from_bson(const bson_t *doc)
{
    bson_iter_t it;
    ngsi_error err = {0};
    if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_OID(&it) ||
        get_str(doc, "reference") == NULL)
        return NULL;
    subs_sub *s = calloc(1, sizeof *s);
    if (s == NULL)
        abort();
    bson_oid_to_string(bson_iter_oid(&it), s->id);
    s->expires = get_int(doc, "expiration", SUBS_PERMANENT);
    s->service_path = subs_strdup(get_str(doc, "servicePath") ? get_str(doc, "servicePath") : "/#");
    s->description = subs_strdup(get_str(doc, "description"));
    s->status = read_status(get_str(doc, "status"));
    if (bson_iter_init_find(&it, doc, "statusLastChange") && BSON_ITER_HOLDS_NUMBER(&it))
        s->status_last_change = bson_iter_as_double(&it);
    s->throttling = get_int(doc, "throttling", 0);
    read_subject(doc, s);
    read_notification(doc, s);
    read_owner(doc, s);
    read_counters(doc, &s->counters);
    if (s->nentities == 0 || subs_compile(s, &err) < 0) {
        subs_free(s);
        return NULL;
    }
    return s;
}
