/*
 * geo_private.h - internals shared by the ngsi/geo_*.c files; nothing outside tsunagi_geo
 * includes it.
 *
 * Points are 3-D unit vectors: with them a great-circle arc is the short way between two
 * vectors, and the antimeridian and the poles are ordinary places.
 */
#ifndef TSUNAGI_NGSI_GEO_PRIVATE_H
#define TSUNAGI_NGSI_GEO_PRIVATE_H

#include <stddef.h>

#include "ngsi/geo.h"

/* Two points closer than this angle (about 0.6 mm on the Earth) are the same point; a point
 * closer than this to an edge is on the edge. It absorbs the rounding of degrees to vectors
 * (about 1e-16) so that a point typed exactly on a vertex or a meridian edge counts as on the
 * boundary, while staying far below any distance a town's data can mean. */
#define GEO_EPS_RAD 1e-10

/* Most positions one geometry (entity or query) may have. A town boundary from national data
 * has a few thousand vertices; the cap bounds the memory and CPU one request can cost, since
 * relations are O(n*m) in the two geometries' sizes. */
#define GEO_MAX_POSITIONS 100000

/* Each ring keeps up to this many points known to be inside it, near different edges, so that
 * a point-in-ring test whose path happens to run through a vertex can retry from another. */
#define GEO_RING_REFS 3

typedef struct geo_vec {
    double x, y, z;
} geo_vec;

typedef struct geo_ll {
    double lat, lon;
} geo_ll;

/* A closed ring without its repeated closing vertex and without consecutive duplicates, turned
 * so that its interior, the smaller of the two regions it bounds (as 2dsphere takes it), lies on
 * the left of each edge. ref[] are points strictly inside. */
typedef struct geo_ring {
    size_t n;
    geo_vec *v;
    size_t nref;
    geo_vec ref[GEO_RING_REFS];
} geo_ring;

/* rings[0] is the exterior ring, the rest are holes. */
typedef struct geo_polygon {
    size_t nrings;
    geo_ring *rings;
} geo_polygon;

typedef struct geo_line {
    size_t n;
    geo_vec *v;
} geo_line;

/* Every geometry is a set of points, lines and polygons: a Point has one point, a MultiPolygon
 * several polygons. The relations then need one case per pair of component kinds. */
struct geo_shape {
    size_t npoints;
    geo_vec *points;
    size_t nlines;
    geo_line *lines;
    size_t npolys;
    geo_polygon *polys;
    json_t *geojson; /* owned: the GeoJSON geometry for location.coords */
    geo_bbox bbox;
};

/* Where a point lies relative to a polygon. */
typedef enum geo_where { GEO_OUT, GEO_ON, GEO_IN } geo_where;

/* ---- geo_error.c ---- */
int geo_fail(geo_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- geo_sphere.c: vector algebra and arcs ---- */
geo_vec geo_vec_from_ll(double lat_deg, double lon_deg);
geo_ll geo_vec_to_ll(geo_vec v);
geo_vec geo_add(geo_vec a, geo_vec b);
geo_vec geo_scale(geo_vec a, double k);
double geo_dot(geo_vec a, geo_vec b);
geo_vec geo_cross(geo_vec a, geo_vec b);
double geo_norm(geo_vec a);
geo_vec geo_unit(geo_vec a);
int geo_vec_eq(geo_vec a, geo_vec b);
double geo_angle(geo_vec a, geo_vec b);
int geo_orient(geo_vec a, geo_vec b, geo_vec c);
double geo_arc_dist(geo_vec p, geo_vec a, geo_vec b);
int geo_arcs_cross(geo_vec a, geo_vec b, geo_vec c, geo_vec d);
int geo_arcs_touch(geo_vec a, geo_vec b, geo_vec c, geo_vec d);
geo_vec geo_arcs_crossing_point(geo_vec a, geo_vec b, geo_vec c, geo_vec d);
double geo_arc_param(geo_vec a, geo_vec b, geo_vec x);
geo_vec geo_arc_point(geo_vec a, geo_vec b, double t);
void geo_arc_lat_range(geo_vec a, geo_vec b, double *lat_min, double *lat_max);

/* ---- geo_ring.c: rings and polygons ---- */
int geo_ring_init(geo_ring *ring, const geo_ll *pts, size_t n, const char *ctx, geo_error *err);
void geo_ring_set_refs(geo_ring *ring);
geo_where geo_polygon_locate(const geo_polygon *poly, geo_vec p);
void geo_polygon_free(geo_polygon *poly);

/* ---- geo_shape.c: building shapes ---- */
geo_shape *geo_shape_new(void);
int geo_shape_add_point(geo_shape *s, geo_ll p, const char *ctx, geo_error *err);
int geo_shape_add_line(geo_shape *s, const geo_ll *pts, size_t n, const char *ctx, geo_error *err);
int geo_shape_add_polygon(geo_shape *s, const geo_ll *const *rings, const size_t *ring_n,
                          size_t nrings, const char *ctx, geo_error *err);
void geo_shape_finish(geo_shape *s);
int geo_check_ll(geo_ll p, const char *ctx, geo_error *err);

/* ---- geo_json.c ---- */
int geo_json_parse(geo_shape *s, const json_t *value, geo_error *err);

/* ---- geo_validate.c ---- */
int geo_polygon_validate(geo_polygon *poly, const char *ctx, geo_error *err);

/* ---- geo_bbox.c ---- */
void geo_bbox_of_shape(const geo_shape *s, geo_bbox *out);
void geo_bbox_of_circle(geo_vec center, double radius_rad, geo_bbox *out);
void geo_bbox_world(geo_bbox *out);

/* ---- geo_relate.c ---- */
double geo_shape_distance_rad(const geo_shape *s, geo_vec p);
int geo_shapes_intersect(const geo_shape *a, const geo_shape *b);
int geo_shape_covered_by(const geo_shape *s, const geo_polygon *q);
int geo_geojson_equal(const json_t *a, const json_t *b);

#endif
