/*
 * geo_shape.c - building geo_shape values and the public accessors on them.
 *
 * Design decisions:
 * - A shape is a bag of points, lines and polygons; parsers (geo_parse.c, geo_query.c) add
 *   components one by one and call geo_shape_finish, which computes the bounding box once.
 * - Each add_* function validates what it adds (ranges, sizes, distinct vertices, polygon
 *   validity) and reports the first problem with the caller's context prefix, so the entity
 *   parser and the query parser share one set of geometric checks.
 * - Consecutive duplicate vertices are dropped for computing, as 2dsphere does; the GeoJSON
 *   kept for storage is the client's, untouched.
 */
#include <math.h>
#include <stdlib.h>

#include "ngsi/geo_private.h"

geo_shape *geo_shape_new(void)
{
    return calloc(1, sizeof(geo_shape));
}

void geo_shape_free(geo_shape *s)
{
    if (s == NULL)
        return;
    free(s->points);
    for (size_t i = 0; i < s->nlines; i++)
        free(s->lines[i].v);
    free(s->lines);
    for (size_t i = 0; i < s->npolys; i++)
        geo_polygon_free(&s->polys[i]);
    free(s->polys);
    json_decref(s->geojson);
    free(s);
}

/* 0 if p is a valid WGS-84 position, else -1 with err filled. */
int geo_check_ll(geo_ll p, const char *ctx, geo_error *err)
{
    if (!isfinite(p.lat) || p.lat < -90 || p.lat > 90)
        return geo_fail(err, "%s: latitude %.10g out of range [-90, 90]", ctx, p.lat);
    if (!isfinite(p.lon) || p.lon < -180 || p.lon > 180)
        return geo_fail(err, "%s: longitude %.10g out of range [-180, 180]", ctx, p.lon);
    return 0;
}

static int check_all(const geo_ll *pts, size_t n, const char *ctx, geo_error *err)
{
    if (n > GEO_MAX_POSITIONS)
        return geo_fail(err, "%s: more than %d positions", ctx, GEO_MAX_POSITIONS);
    for (size_t i = 0; i < n; i++) {
        if (geo_check_ll(pts[i], ctx, err) != 0)
            return -1;
    }
    return 0;
}

int geo_shape_add_point(geo_shape *s, geo_ll p, const char *ctx, geo_error *err)
{
    geo_vec *grown;

    if (geo_check_ll(p, ctx, err) != 0)
        return -1;
    grown = realloc(s->points, (s->npoints + 1) * sizeof(*grown));
    if (grown == NULL)
        return geo_fail(err, "%s: out of memory", ctx);
    s->points = grown;
    s->points[s->npoints++] = geo_vec_from_ll(p.lat, p.lon);
    return 0;
}

/* Converts pts to vectors without consecutive duplicates; returns how many were kept. */
static size_t line_vertices(geo_vec *out, const geo_ll *pts, size_t n)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        geo_vec v = geo_vec_from_ll(pts[i].lat, pts[i].lon);
        if (k == 0 || !geo_vec_eq(v, out[k - 1]))
            out[k++] = v;
    }
    return k;
}

static int push_line(geo_shape *s, geo_line line, const char *ctx, geo_error *err)
{
    geo_line *grown = realloc(s->lines, (s->nlines + 1) * sizeof(*grown));

    if (grown == NULL) {
        free(line.v);
        return geo_fail(err, "%s: out of memory", ctx);
    }
    s->lines = grown;
    s->lines[s->nlines++] = line;
    return 0;
}

int geo_shape_add_line(geo_shape *s, const geo_ll *pts, size_t n, const char *ctx, geo_error *err)
{
    geo_line line;

    if (check_all(pts, n, ctx, err) != 0)
        return -1;
    line.v = malloc((n ? n : 1) * sizeof(*line.v));
    if (line.v == NULL)
        return geo_fail(err, "%s: out of memory", ctx);
    line.n = line_vertices(line.v, pts, n);
    if (line.n < 2) {
        free(line.v);
        return geo_fail(err, "%s: a line needs at least 2 distinct points", ctx);
    }
    for (size_t i = 0; i + 1 < line.n; i++) {
        if (geo_angle(line.v[i], line.v[i + 1]) >= M_PI - GEO_EPS_RAD) {
            free(line.v);
            return geo_fail(err, "%s: a segment joins two antipodal points", ctx);
        }
    }
    return push_line(s, line, ctx, err);
}

/* The checks every ring gets before it is built: size, closure, ranges. */
static int check_ring(const geo_ll *pts, size_t n, const char *ctx, geo_error *err)
{
    if (n < 4)
        return geo_fail(err, "%s: a ring needs at least 4 positions", ctx);
    if (pts[0].lat != pts[n - 1].lat || pts[0].lon != pts[n - 1].lon)
        return geo_fail(err, "%s: a ring must be closed (first and last positions equal)", ctx);
    return check_all(pts, n, ctx, err);
}

static int build_polygon(geo_polygon *poly, const geo_ll *const *rings, const size_t *ring_n,
                         size_t nrings, const char *ctx, geo_error *err)
{
    poly->rings = calloc(nrings, sizeof(*poly->rings));
    poly->nrings = nrings;
    if (poly->rings == NULL)
        return geo_fail(err, "%s: out of memory", ctx);
    for (size_t k = 0; k < nrings; k++) {
        if (check_ring(rings[k], ring_n[k], ctx, err) != 0 ||
            geo_ring_init(&poly->rings[k], rings[k], ring_n[k], ctx, err) != 0)
            return -1;
    }
    return geo_polygon_validate(poly, ctx, err);
}

int geo_shape_add_polygon(geo_shape *s, const geo_ll *const *rings, const size_t *ring_n,
                          size_t nrings, const char *ctx, geo_error *err)
{
    geo_polygon poly = {0, NULL};
    geo_polygon *grown;

    if (nrings == 0)
        return geo_fail(err, "%s: a polygon needs at least one ring", ctx);
    if (build_polygon(&poly, rings, ring_n, nrings, ctx, err) != 0) {
        geo_polygon_free(&poly);
        return -1;
    }
    grown = realloc(s->polys, (s->npolys + 1) * sizeof(*grown));
    if (grown == NULL) {
        geo_polygon_free(&poly);
        return geo_fail(err, "%s: out of memory", ctx);
    }
    s->polys = grown;
    s->polys[s->npolys++] = poly;
    return 0;
}

void geo_shape_finish(geo_shape *s)
{
    geo_bbox_of_shape(s, &s->bbox);
}

json_t *geo_shape_to_geojson(const geo_shape *s)
{
    return json_deep_copy(s->geojson);
}

void geo_shape_bbox(const geo_shape *s, geo_bbox *out)
{
    *out = s->bbox;
}

double geo_shape_distance_m(const geo_shape *s, double lat, double lon)
{
    return GEO_EARTH_RADIUS_M * geo_shape_distance_rad(s, geo_vec_from_ll(lat, lon));
}

double geo_distance_m(double lat1, double lon1, double lat2, double lon2)
{
    return GEO_EARTH_RADIUS_M * geo_angle(geo_vec_from_ll(lat1, lon1), geo_vec_from_ll(lat2, lon2));
}
