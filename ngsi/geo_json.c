/*
 * geo_json.c - geo:json attribute values (GeoJSON) into geo_shape components.
 *
 * Design decisions:
 * - The geometry types are a table (type name, how to add one element, whether it is a Multi
 *   type), so each Multi type is its single type applied to every element.
 * - Feature and FeatureCollection are unwrapped first, with the texts Orion's tools use for
 *   their refusals; GeometryCollection is refused (MongoDB cannot index it, Orion says so).
 * - Positions are [longitude, latitude] with an optional altitude, which is ignored. Ranges and
 *   the geometric checks are geo_shape.c's, prefixed "geo:json <Type>".
 * - The number of positions in one value is capped at GEO_MAX_POSITIONS in total.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngsi/geo_private.h"

#define CTX_LEN 48

typedef struct gj_ctx {
    geo_shape *s;
    geo_error *err;
    size_t total;
    char ctx[CTX_LEN];
} gj_ctx;

/* Reads one position into *out. */
static int read_position(gj_ctx *c, const json_t *pos, geo_ll *out)
{
    size_t n = json_array_size(pos);

    if (!json_is_array(pos) || n < 2 || n > 3 || !json_is_number(json_array_get(pos, 0)) ||
        !json_is_number(json_array_get(pos, 1)) ||
        (n == 3 && !json_is_number(json_array_get(pos, 2))))
        return geo_fail(
            c->err, "%s: a position must be [longitude, latitude] (two or three numbers)", c->ctx);
    if (++c->total > GEO_MAX_POSITIONS)
        return geo_fail(c->err, "%s: more than %d positions", c->ctx, GEO_MAX_POSITIONS);
    out->lon = json_number_value(json_array_get(pos, 0));
    out->lat = json_number_value(json_array_get(pos, 1));
    return 0;
}

/* Reads an array of positions; returns a new array of *n points (caller frees) or NULL. */
static geo_ll *read_positions(gj_ctx *c, const json_t *arr, size_t *n)
{
    geo_ll *pts;

    if (!json_is_array(arr)) {
        geo_fail(c->err, "%s: coordinates must be arrays of positions", c->ctx);
        return NULL;
    }
    *n = json_array_size(arr);
    if (*n > GEO_MAX_POSITIONS) {
        geo_fail(c->err, "%s: more than %d positions", c->ctx, GEO_MAX_POSITIONS);
        return NULL;
    }
    pts = malloc((*n ? *n : 1) * sizeof(*pts));
    if (pts == NULL) {
        geo_fail(c->err, "%s: out of memory", c->ctx);
        return NULL;
    }
    for (size_t i = 0; i < *n; i++) {
        if (read_position(c, json_array_get(arr, i), &pts[i]) != 0) {
            free(pts);
            return NULL;
        }
    }
    return pts;
}

static int add_point(gj_ctx *c, const json_t *coords)
{
    geo_ll p;

    if (read_position(c, coords, &p) != 0)
        return -1;
    return geo_shape_add_point(c->s, p, c->ctx, c->err);
}

static int add_line(gj_ctx *c, const json_t *coords)
{
    size_t n;
    geo_ll *pts = read_positions(c, coords, &n);
    int rc;

    if (pts == NULL)
        return -1;
    if (n < 2)
        rc = geo_fail(c->err, "%s: a line needs at least 2 positions", c->ctx);
    else
        rc = geo_shape_add_line(c->s, pts, n, c->ctx, c->err);
    free(pts);
    return rc;
}

static void free_rings(geo_ll **rings, size_t n)
{
    for (size_t k = 0; k < n; k++)
        free(rings[k]);
    free(rings);
}

static int add_polygon(gj_ctx *c, const json_t *coords)
{
    size_t nrings = json_array_size(coords), k;
    geo_ll **rings;
    size_t *ring_n;
    int rc = -1;

    if (!json_is_array(coords) || nrings == 0)
        return geo_fail(c->err, "%s: a polygon needs an array of at least one ring", c->ctx);
    rings = calloc(nrings, sizeof(*rings));
    ring_n = calloc(nrings, sizeof(*ring_n));
    if (rings == NULL || ring_n == NULL) {
        rc = geo_fail(c->err, "%s: out of memory", c->ctx);
        nrings = 0;
    }
    for (k = 0; k < nrings; k++) {
        rings[k] = read_positions(c, json_array_get(coords, k), &ring_n[k]);
        if (rings[k] == NULL)
            break;
    }
    if (nrings > 0 && k == nrings)
        rc = geo_shape_add_polygon(c->s, (const geo_ll *const *)rings, ring_n, nrings, c->ctx,
                                   c->err);
    free_rings(rings, nrings);
    free(ring_n);
    return rc;
}

typedef struct gj_kind {
    const char *type;
    int (*add)(gj_ctx *c, const json_t *coords);
    int multi;
} gj_kind;

static const gj_kind kinds[] = {
    {"Point", add_point, 0},     {"MultiPoint", add_point, 1},
    {"LineString", add_line, 0}, {"MultiLineString", add_line, 1},
    {"Polygon", add_polygon, 0}, {"MultiPolygon", add_polygon, 1},
};

static const gj_kind *kind_of(const char *type)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++) {
        if (strcmp(kinds[i].type, type) == 0)
            return &kinds[i];
    }
    return NULL;
}

static int add_coordinates(gj_ctx *c, const gj_kind *kind, const json_t *coords)
{
    if (!json_is_array(coords))
        return geo_fail(c->err, "%s: needs a coordinates array", c->ctx);
    if (!kind->multi)
        return kind->add(c, coords);
    if (json_array_size(coords) == 0)
        return geo_fail(c->err, "%s: needs at least one element in coordinates", c->ctx);
    for (size_t i = 0; i < json_array_size(coords); i++) {
        if (kind->add(c, json_array_get(coords, i)) != 0)
            return -1;
    }
    return 0;
}

/* A geometry object (not a Feature). */
static int parse_geometry(gj_ctx *c, const json_t *g)
{
    const char *type = json_string_value(json_object_get(g, "type"));
    const gj_kind *kind;

    if (type == NULL)
        return geo_fail(c->err, "geo:json needs a GeoJSON object with a string 'type'");
    kind = kind_of(type);
    if (kind == NULL)
        return geo_fail(c->err, "geo:json type %.64s is not supported", type);
    snprintf(c->ctx, sizeof(c->ctx), "geo:json %s", type);
    if (add_coordinates(c, kind, json_object_get(g, "coordinates")) != 0)
        return -1;
    c->s->geojson = json_deep_copy(g);
    return c->s->geojson == NULL ? geo_fail(c->err, "%s: out of memory", c->ctx) : 0;
}

static const json_t *feature_geometry(const json_t *feature, geo_error *err)
{
    const json_t *g = json_object_get(feature, "geometry");

    if (!json_is_object(g)) {
        geo_fail(err, "geo:json Feature does not have geometry element");
        return NULL;
    }
    return g;
}

/* The geometry a geo:json value stands for: itself, a Feature's geometry, or the geometry of a
 * FeatureCollection's only feature. NULL with err filled if there is none. */
static const json_t *unwrap(const json_t *value, geo_error *err)
{
    const char *type = json_string_value(json_object_get(value, "type"));
    const json_t *features;

    if (type == NULL) {
        geo_fail(err, "geo:json needs a GeoJSON object with a string 'type'");
        return NULL;
    }
    if (strcmp(type, "Feature") == 0)
        return feature_geometry(value, err);
    if (strcmp(type, "FeatureCollection") != 0)
        return value;
    features = json_object_get(value, "features");
    if (!json_is_array(features))
        geo_fail(err, "geo:json FeatureCollection does not have features element");
    else if (json_array_size(features) == 0)
        geo_fail(err, "geo:json FeatureCollection features has no elements");
    else if (json_array_size(features) > 1)
        geo_fail(err, "geo:json FeatureCollection features has more than one element");
    else
        return feature_geometry(json_array_get(features, 0), err);
    return NULL;
}

/* Parses a geo:json value into s (components and s->geojson). */
int geo_json_parse(geo_shape *s, const json_t *value, geo_error *err)
{
    gj_ctx c = {s, err, 0, "geo:json"};
    const json_t *g;

    if (!json_is_object(value))
        return geo_fail(err, "geo:json needs an object or null as value");
    g = unwrap(value, err);
    return g == NULL ? -1 : parse_geometry(&c, g);
}
