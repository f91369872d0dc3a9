/*
 * ngsi/store_location.c: an entity's location, as Orion keeps it.
 *
 * An entity has at most one location: the attribute of a geo type
 * (geo:json, geo:point, geo:line, geo:box, geo:polygon) whose value is not
 * null and which carries no ignoreType metadata set to true. Its GeoJSON is
 * stored under location.coords, as Orion stores it. Tsunagi adds
 * location.bbox, the shape's bounding box as plain numbers, so that any
 * MongoDB-compatible server can narrow a geo-query with range conditions on
 * an ordinary index; the exact relation is then decided in C (tsunagi_geo).
 */
#include "store_private.h"

#include <math.h>
#include <string.h>

static bool ignored(const ngsi_attr *a)
{
    const ngsi_md *m = ngsi_attr_find_md(a, "ignoreType");
    return m != NULL && json_is_true(m->value);
}

/* Whether a is a location candidate; -1 with a 400 when its value is not a
 * valid location of its type. shape (may be NULL) receives the new shape. */
static int candidate(const ngsi_attr *a, geo_shape **shape, ngsi_error *err)
{
    geo_error ge = {0};
    geo_shape *s = NULL;
    if (shape != NULL)
        *shape = NULL;
    if (!geo_is_location_type(a->type) || ignored(a))
        return 0;
    int rc = geo_shape_from_attr(a->type, a->value, &s, &ge);
    if (rc < 0)
        return ngsi_fail(err, ge.status ? ge.status : 400, ge.name[0] ? ge.name : "BadRequest",
                         "%s", ge.description);
    if (shape != NULL)
        *shape = s;
    else
        geo_shape_free(s);
    return rc; /* 1: a location; 0: null value, no location */
}

static int too_many(ngsi_error *err)
{
    return ngsi_fail(err, 413, "NoResourcesAvailable",
                     "You cannot use more than one geo location attribute when creating an "
                     "entity. Use ignoreType metadata if you want to add additional informative "
                     "locations.");
}

/* Take a as the location if it is one; counts in *found. */
static int consider(const ngsi_attr *a, store_location *out, int *found, ngsi_error *err)
{
    geo_shape *shape;
    int rc = candidate(a, &shape, err);
    if (rc <= 0)
        return rc;
    if (++*found > 1) {
        geo_shape_free(shape);
        return too_many(err);
    }
    out->attr = strdup(a->name);
    out->geojson = geo_shape_to_geojson(shape);
    geo_shape_bbox(shape, &out->bbox);
    geo_shape_free(shape);
    return 0;
}

int store_location_of(const ngsi_entity *e, store_location *out, ngsi_error *err)
{
    int found = 0;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < e->nattrs; i++)
        if (consider(&e->attrs[i], out, &found, err) < 0) {
            store_location_clear(out);
            return -1;
        }
    return 0;
}

static bool named_in(const char *name, const ngsi_attr *set, size_t nset, const char *const *unset,
                     size_t nunset)
{
    for (size_t i = 0; i < nset; i++)
        if (strcmp(set[i].name, name) == 0)
            return true;
    for (size_t i = 0; i < nunset; i++)
        if (strcmp(unset[i], name) == 0)
            return true;
    return false;
}

int store_location_after(const store_update *u, store_location *out, ngsi_error *err)
{
    int found = 0;
    memset(out, 0, sizeof *out);
    const ngsi_entity *before = u->key;
    /* The attributes after the update: the stored ones it leaves alone, then
     * the ones it writes. */
    for (size_t i = 0; !u->replace && i < before->nattrs; i++) {
        const ngsi_attr *a = &before->attrs[i];
        if (named_in(a->name, u->set, u->nset, u->unset, u->nunset))
            continue;
        if (consider(a, out, &found, err) < 0)
            goto fail;
    }
    for (size_t i = 0; i < u->nset; i++)
        if (consider(&u->set[i], out, &found, err) < 0)
            goto fail;
    return 0;
fail:
    store_location_clear(out);
    if (err != NULL && err->status == 400) {
        char text[NGSI_ERROR_DESC_MAX];
        snprintf(text, sizeof text, "%s", err->description);
        ngsi_bad_request(err, "error parsing location attribute: %s", text);
    }
    return -1;
}

void store_location_clear(store_location *l)
{
    free(l->attr);
    json_decref(l->geojson);
    memset(l, 0, sizeof *l);
}

void store_bson_append_location(bson_t *b, const char *key, const store_location *l)
{
    bson_t loc, box;
    bson_append_document_begin(b, key, -1, &loc);
    BSON_APPEND_UTF8(&loc, "attrName", l->attr);
    store_bson_append_json(&loc, "coords", l->geojson);
    bson_append_document_begin(&loc, "bbox", -1, &box);
    BSON_APPEND_DOUBLE(&box, "latMin", l->bbox.lat_min);
    BSON_APPEND_DOUBLE(&box, "latMax", l->bbox.lat_max);
    /* Across the antimeridian the box has two longitude ranges; storing all
     * longitudes keeps one indexable range and is only wider, never
     * narrower, which a prefilter may be. */
    bool split = l->bbox.nlon > 1;
    BSON_APPEND_DOUBLE(&box, "lonMin", split ? -180.0 : l->bbox.lon_min[0]);
    BSON_APPEND_DOUBLE(&box, "lonMax", split ? 180.0 : l->bbox.lon_max[0]);
    bson_append_document_end(&loc, &box);
    bson_append_document_end(b, &loc);
}

void store_bson_append_bbox_filter(bson_t *filter, const geo_bbox *q)
{
    bson_t and, item, alt, cond;
    char idx[16];
    const char *k;
    /* Documents Orion wrote have no bbox: they go to the exact C check. */
    bson_append_array_begin(filter, "$or", -1, &and);
    bson_uint32_to_string(0, &k, idx, sizeof idx);
    bson_append_document_begin(&and, k, -1, &alt);
    bson_append_document_begin(&alt, "location.bbox", -1, &cond);
    BSON_APPEND_BOOL(&cond, "$exists", false);
    bson_append_document_end(&alt, &cond);
    bson_append_document_end(&and, &alt);
    bson_uint32_to_string(1, &k, idx, sizeof idx);
    bson_append_document_begin(&and, k, -1, &item);
    bson_append_document_begin(&item, "location.bbox.latMin", -1, &cond);
    BSON_APPEND_DOUBLE(&cond, "$lte", q->lat_max);
    bson_append_document_end(&item, &cond);
    bson_append_document_begin(&item, "location.bbox.latMax", -1, &cond);
    BSON_APPEND_DOUBLE(&cond, "$gte", q->lat_min);
    bson_append_document_end(&item, &cond);
    if (q->nlon == 1) {
        bson_append_document_begin(&item, "location.bbox.lonMin", -1, &cond);
        BSON_APPEND_DOUBLE(&cond, "$lte", q->lon_max[0]);
        bson_append_document_end(&item, &cond);
        bson_append_document_begin(&item, "location.bbox.lonMax", -1, &cond);
        BSON_APPEND_DOUBLE(&cond, "$gte", q->lon_min[0]);
        bson_append_document_end(&item, &cond);
    }
    bson_append_document_end(&and, &item);
    bson_append_array_end(filter, &and);
}

int store_entity_shape(const ngsi_entity *e, geo_shape **shape)
{
    *shape = NULL;
    for (size_t i = 0; i < e->nattrs; i++) {
        int rc = candidate(&e->attrs[i], shape, NULL);
        if (rc != 0)
            return rc < 0 ? 0 : 1; /* a broken stored location is no location */
    }
    return 0;
}
