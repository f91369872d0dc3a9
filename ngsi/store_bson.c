/*
 * ngsi/store_bson.c: entities to and from Orion's MongoDB document layout.
 *
 *   {_id: {id, type, servicePath}, attrNames: [...],
 *    attrs: {<name with . as =>: {type, value, md: {...}, mdNames: [...],
 *                                 creDate, modDate}},
 *    creDate, modDate, expDate: Date, lastCorrelator}
 *
 * Dates are float seconds, as Orion writes them, and so are DateTime values
 * (Orion stores them as numbers so that q-filters compare them as numbers);
 * the model keeps DateTime values as canonical ISO text, converted here.
 */
#include "store_private.h"

#include <stdlib.h>
#include <string.h>

void store_bson_encode_name(const char *name, char *out)
{
    size_t i = 0;
    for (; name[i] && i < NGSI_NAME_MAX; i++)
        out[i] = name[i] == '.' ? '=' : name[i];
    out[i] = '\0';
}

void store_bson_decode_name(const char *key, char *out)
{
    size_t i = 0;
    for (; key[i] && i < NGSI_NAME_MAX; i++)
        out[i] = key[i] == '=' ? '.' : key[i];
    out[i] = '\0';
}

/* ------------------------------------------------------- json -> bson */

static void append_object(bson_t *b, const char *key, const json_t *v)
{
    bson_t child;
    const char *k;
    json_t *item;
    bson_append_document_begin(b, key, -1, &child);
    json_object_foreach((json_t *)v, k, item) store_bson_append_json(&child, k, item);
    bson_append_document_end(b, &child);
}

static void append_array(bson_t *b, const char *key, const json_t *v)
{
    bson_t child;
    char idx[16];
    const char *k;
    bson_append_array_begin(b, key, -1, &child);
    for (size_t i = 0; i < json_array_size(v); i++) {
        bson_uint32_to_string((uint32_t)i, &k, idx, sizeof idx);
        store_bson_append_json(&child, k, json_array_get(v, i));
    }
    bson_append_array_end(b, &child);
}

void store_bson_append_json(bson_t *b, const char *key, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        append_object(b, key, v);
        break;
    case JSON_ARRAY:
        append_array(b, key, v);
        break;
    case JSON_STRING:
        bson_append_utf8(b, key, -1, json_string_value(v), (int)json_string_length(v));
        break;
    case JSON_INTEGER: /* Orion keeps every number as a double */
        bson_append_double(b, key, -1, (double)json_integer_value(v));
        break;
    case JSON_REAL:
        bson_append_double(b, key, -1, json_real_value(v));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        bson_append_bool(b, key, -1, json_is_true(v));
        break;
    case JSON_NULL:
        bson_append_null(b, key, -1);
        break;
    }
}

/* A value of an attribute or metadata of the given type. */
static void append_typed_value(bson_t *b, const char *type, const json_t *v)
{
    double t;
    if (ngsi_datetime_type(type) && json_is_string(v) &&
        ngsi_datetime_parse(json_string_value(v), &t) == 0)
        bson_append_double(b, "value", -1, t);
    else
        store_bson_append_json(b, "value", v);
}

static void append_md(bson_t *b, const ngsi_attr *a)
{
    bson_t md, names;
    char key[NGSI_NAME_MAX + 1], idx[16];
    const char *k;
    if (a->nmd > 0) {
        bson_append_document_begin(b, "md", -1, &md);
        for (size_t i = 0; i < a->nmd; i++) {
            bson_t item;
            store_bson_encode_name(a->md[i].name, key);
            bson_append_document_begin(&md, key, -1, &item);
            BSON_APPEND_UTF8(&item, "type", a->md[i].type);
            append_typed_value(&item, a->md[i].type, a->md[i].value);
            bson_append_document_end(&md, &item);
        }
        bson_append_document_end(b, &md);
    }
    bson_append_array_begin(b, "mdNames", -1, &names);
    for (size_t i = 0; i < a->nmd; i++) {
        bson_uint32_to_string((uint32_t)i, &k, idx, sizeof idx);
        bson_append_utf8(&names, k, -1, a->md[i].name, -1);
    }
    bson_append_array_end(b, &names);
}

void store_bson_append_attr(bson_t *b, const char *key, const ngsi_attr *a)
{
    bson_t doc;
    bson_append_document_begin(b, key, -1, &doc);
    BSON_APPEND_UTF8(&doc, "type", a->type);
    append_typed_value(&doc, a->type, a->value);
    append_md(&doc, a);
    BSON_APPEND_DOUBLE(&doc, "creDate", a->cre_date);
    BSON_APPEND_DOUBLE(&doc, "modDate", a->mod_date);
    bson_append_document_end(b, &doc);
}

void store_bson_append_key(bson_t *b, const char *key, const ngsi_entity *e)
{
    bson_t id;
    bson_append_document_begin(b, key, -1, &id);
    BSON_APPEND_UTF8(&id, "id", e->id);
    BSON_APPEND_UTF8(&id, "type", e->type);
    BSON_APPEND_UTF8(&id, "servicePath", e->service_path ? e->service_path : "/");
    bson_append_document_end(b, &id);
}

void store_bson_from_entity(const ngsi_entity *e, const store_location *loc, bson_t *out)
{
    bson_t names, attrs;
    char key[NGSI_NAME_MAX + 1], idx[16];
    const char *k;
    store_bson_append_key(out, "_id", e);
    bson_append_array_begin(out, "attrNames", -1, &names);
    for (size_t i = 0; i < e->nattrs; i++) {
        bson_uint32_to_string((uint32_t)i, &k, idx, sizeof idx);
        bson_append_utf8(&names, k, -1, e->attrs[i].name, -1);
    }
    bson_append_array_end(out, &names);
    bson_append_document_begin(out, "attrs", -1, &attrs);
    for (size_t i = 0; i < e->nattrs; i++) {
        store_bson_encode_name(e->attrs[i].name, key);
        store_bson_append_attr(&attrs, key, &e->attrs[i]);
    }
    bson_append_document_end(out, &attrs);
    BSON_APPEND_DOUBLE(out, "creDate", e->cre_date);
    BSON_APPEND_DOUBLE(out, "modDate", e->mod_date);
    if (e->exp_date != 0)
        BSON_APPEND_DATE_TIME(out, "expDate", (int64_t)(e->exp_date * 1000.0));
    if (e->last_correlator != NULL)
        BSON_APPEND_UTF8(out, "lastCorrelator", e->last_correlator);
    if (loc != NULL && loc->attr != NULL)
        store_bson_append_location(out, "location", loc);
}

/* ------------------------------------------------------- bson -> json */

static json_t *json_from_children(const bson_iter_t *it, bool array)
{
    bson_iter_t child;
    json_t *out = array ? json_array() : json_object();
    if (!bson_iter_recurse(it, &child))
        return out;
    while (bson_iter_next(&child)) {
        json_t *v = store_json_from_bson(&child);
        if (array)
            json_array_append_new(out, v);
        else
            json_object_set_new(out, bson_iter_key(&child), v);
    }
    return out;
}

json_t *store_json_from_bson(const bson_iter_t *it)
{
    char oid[25];
    switch (bson_iter_type(it)) {
    case BSON_TYPE_DOUBLE:
        return json_real(bson_iter_double(it));
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
        return json_integer(bson_iter_as_int64(it));
    case BSON_TYPE_UTF8:
        return json_string(bson_iter_utf8(it, NULL));
    case BSON_TYPE_BOOL:
        return json_boolean(bson_iter_bool(it));
    case BSON_TYPE_DOCUMENT:
        return json_from_children(it, false);
    case BSON_TYPE_ARRAY:
        return json_from_children(it, true);
    case BSON_TYPE_OID:
        bson_oid_to_string(bson_iter_oid(it), oid);
        return json_string(oid);
    case BSON_TYPE_DATE_TIME: {
        char text[NGSI_DATETIME_MAX];
        ngsi_datetime_format(bson_iter_date_time(it) / 1000.0, text);
        return json_string(text);
    }
    default:
        return json_null();
    }
}

/* A stored value; numbers of DateTime type back to ISO text. */
static json_t *typed_value_from_iter(const char *type, const bson_iter_t *it)
{
    if (ngsi_datetime_type(type) && BSON_ITER_HOLDS_NUMBER(it)) {
        char text[NGSI_DATETIME_MAX];
        ngsi_datetime_format(bson_iter_as_double(it), text);
        return json_string(text);
    }
    return store_json_from_bson(it);
}

static double number_or_zero(const bson_iter_t *it)
{
    if (BSON_ITER_HOLDS_NUMBER(it))
        return bson_iter_as_double(it);
    if (BSON_ITER_HOLDS_DATE_TIME(it))
        return bson_iter_date_time(it) / 1000.0;
    return 0;
}

/* The string at it; "" when it is NULL or holds something else. */
static char *dup_utf8(const bson_iter_t *it)
{
    char *s = strdup(it != NULL && BSON_ITER_HOLDS_UTF8(it) ? bson_iter_utf8(it, NULL) : "");
    if (s == NULL)
        abort();
    return s;
}

/* The type field of a stored attribute or metadata item, looked up first so
 * that the value can be converted by type whatever the field order; "" when
 * it is missing or not a string. (A failed search leaves the iterator
 * invalid, and libbson aborts on reading it.) */
static char *stored_type(const bson_iter_t *doc)
{
    bson_iter_t it;
    bool found = bson_iter_recurse(doc, &it) && bson_iter_find(&it, "type");
    return dup_utf8(found ? &it : NULL);
}

static void md_from_iter(const bson_iter_t *mdoc, ngsi_attr *a)
{
    bson_iter_t items, it;
    char name[NGSI_NAME_MAX + 1];
    if (!bson_iter_recurse(mdoc, &items))
        return;
    while (bson_iter_next(&items)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&items))
            continue;
        ngsi_md *m = ngsi_attr_append_md(a);
        store_bson_decode_name(bson_iter_key(&items), name);
        m->name = strdup(name);
        m->type = stored_type(&items);
        if (bson_iter_recurse(&items, &it) && bson_iter_find(&it, "value"))
            m->value = typed_value_from_iter(m->type, &it);
        else
            m->value = json_null();
    }
}

static void attr_from_iter(const bson_iter_t *adoc, ngsi_attr *a)
{
    bson_iter_t it;
    a->type = stored_type(adoc);
    a->value = NULL;
    bson_iter_recurse(adoc, &it);
    while (bson_iter_next(&it)) {
        const char *k = bson_iter_key(&it);
        if (strcmp(k, "value") == 0)
            a->value = typed_value_from_iter(a->type, &it);
        else if (strcmp(k, "md") == 0 && BSON_ITER_HOLDS_DOCUMENT(&it))
            md_from_iter(&it, a);
        else if (strcmp(k, "creDate") == 0)
            a->cre_date = number_or_zero(&it);
        else if (strcmp(k, "modDate") == 0)
            a->mod_date = number_or_zero(&it);
    }
    if (a->value == NULL)
        a->value = json_null();
}

static void attrs_from_iter(const bson_iter_t *attrs, ngsi_entity *e)
{
    bson_iter_t it;
    char name[NGSI_NAME_MAX + 1];
    if (!bson_iter_recurse(attrs, &it))
        return;
    while (bson_iter_next(&it)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&it))
            continue;
        ngsi_attr *a = ngsi_entity_append(e);
        store_bson_decode_name(bson_iter_key(&it), name);
        a->name = strdup(name);
        attr_from_iter(&it, a);
    }
}

static bool key_from_iter(const bson_iter_t *idoc, ngsi_entity *e)
{
    bson_iter_t it;
    if (!bson_iter_recurse(idoc, &it))
        return false;
    while (bson_iter_next(&it)) {
        const char *k = bson_iter_key(&it);
        if (strcmp(k, "id") == 0)
            e->id = dup_utf8(&it);
        else if (strcmp(k, "type") == 0)
            e->type = dup_utf8(&it);
        else if (strcmp(k, "servicePath") == 0)
            e->service_path = dup_utf8(&it);
    }
    return e->id != NULL;
}

ngsi_entity *store_bson_to_entity(const bson_t *doc)
{
    bson_iter_t it;
    ngsi_entity *e = ngsi_entity_new();
    bool has_key = false;
    if (!bson_iter_init(&it, doc))
        goto bad;
    while (bson_iter_next(&it)) {
        const char *k = bson_iter_key(&it);
        if (strcmp(k, "_id") == 0 && BSON_ITER_HOLDS_DOCUMENT(&it))
            has_key = key_from_iter(&it, e);
        else if (strcmp(k, "attrs") == 0 && BSON_ITER_HOLDS_DOCUMENT(&it))
            attrs_from_iter(&it, e);
        else if (strcmp(k, "creDate") == 0)
            e->cre_date = number_or_zero(&it);
        else if (strcmp(k, "modDate") == 0)
            e->mod_date = number_or_zero(&it);
        else if (strcmp(k, "expDate") == 0)
            e->exp_date = number_or_zero(&it);
        else if (strcmp(k, "lastCorrelator") == 0 && BSON_ITER_HOLDS_UTF8(&it))
            e->last_correlator = strdup(bson_iter_utf8(&it, NULL));
    }
    if (!has_key)
        goto bad;
    if (e->type == NULL)
        e->type = strdup("");
    if (e->service_path == NULL)
        e->service_path = strdup("/");
    return e;
bad:
    ngsi_entity_free(e);
    return NULL;
}

/* ------------------------------------------------------------ filters */

void store_bson_append_paths(bson_t *filter, const ngsi_paths *paths)
{
    bson_t in;
    char idx[16], pattern[NGSI_SERVICEPATH_LEVELS_MAX * (NGSI_SERVICEPATH_LEVEL_MAX + 1) + 16];
    const char *k;
    uint32_t n = 0;
    for (size_t i = 0; i < paths->n; i++)
        if (strcmp(paths->path[i], "/#") == 0)
            return; /* the whole tree: no condition at all */
    bson_t cond;
    bson_append_document_begin(filter, "_id.servicePath", -1, &cond);
    bson_append_array_begin(&cond, "$in", -1, &in);
    for (size_t i = 0; i < paths->n; i++) {
        const char *p = paths->path[i];
        size_t len = strlen(p);
        bool subtree = len >= 2 && strcmp(p + len - 2, "/#") == 0;
        bson_uint32_to_string(n++, &k, idx, sizeof idx);
        if (!subtree) {
            bson_append_utf8(&in, k, -1, p, -1);
            continue;
        }
        /* "/a/#" is "/a" itself and everything below it. Path characters
         * are [A-Za-z0-9_/], so nothing needs regex escaping. */
        bson_append_utf8(&in, k, -1, p, (int)len - 2);
        snprintf(pattern, sizeof pattern, "^%.*s/", (int)len - 2, p);
        bson_uint32_to_string(n++, &k, idx, sizeof idx);
        bson_append_regex(&in, k, -1, pattern, NULL);
    }
    bson_append_array_end(&cond, &in);
    bson_append_document_end(filter, &cond);
}

void store_bson_append_not_expired(bson_t *filter, double now)
{
    bson_t cond, not ;
    /* $not keeps this a single field condition (no top-level $or), so it
     * composes with any other filter and documents without expDate pass. */
    bson_append_document_begin(filter, "expDate", -1, &cond);
    bson_append_document_begin(&cond, "$not", -1, &not );
    BSON_APPEND_DATE_TIME(&not, "$lte", (int64_t)(now * 1000.0));
    bson_append_document_end(&cond, &not );
    bson_append_document_end(filter, &cond);
}
