/*
 * geo.h - Tsunagi's geometry library for NGSI-v2 geo-queries (tsunagi_geo).
 *
 * Entity side: a location attribute (geo:point, geo:line, geo:box, geo:polygon, geo:json) is
 * parsed into a geo_shape, which gives the GeoJSON that Orion stores in `location.coords` and a
 * bounding box for prefiltering with plain numeric range queries.
 *
 * Query side: Orion's georel/geometry/coords URI parameters are parsed into a geo_query, which
 * decides in C whether an entity's shape matches (the test database has no 2dsphere index).
 *
 * The Earth is the sphere MongoDB's 2dsphere uses (radius GEO_EARTH_RADIUS_M) and lines and
 * polygon edges are great-circle arcs, so the antimeridian and the poles need no special case.
 * See docs/geo.md for the accepted inputs, the error texts and the boundary rules.
 *
 * All functions are thread-safe: they touch no global state, and shapes and queries are
 * read-only once built, so one may be shared between threads.
 */
#ifndef TSUNAGI_NGSI_GEO_H
#define TSUNAGI_NGSI_GEO_H

#include <jansson.h>

/* MongoDB's kRadiusOfEarthInMeters: the radius $near/$nearSphere use to turn radians into
 * metres. Orion's distances are MongoDB's, so ours use the same sphere. */
#define GEO_EARTH_RADIUS_M 6378100.0

/* Sizes of the geo_error text fields; descriptions quote at most one coordinate string. */
#define GEO_ERROR_NAME_LEN 32
#define GEO_ERROR_DESC_LEN 512

/* An error as a value, in the spirit of ngsi_error: HTTP status (400), NGSI error name
 * ("BadRequest") and a description in Orion's words where Orion has them. status 0 means
 * "no error". */
typedef struct geo_error {
    int status;
    char name[GEO_ERROR_NAME_LEN];
    char description[GEO_ERROR_DESC_LEN];
} geo_error;

/* A latitude/longitude box for prefiltering, in degrees. Longitudes are in [-180, 180]; a box
 * that crosses the antimeridian has two longitude ranges (nlon == 2: [w, 180] and [-180, e]),
 * otherwise one. A shape that contains or touches a pole spans all longitudes (one range
 * [-180, 180]) and reaches latitude +-90. Boxes are padded by a nanodegree so that a shape is
 * never lost to rounding; they may be larger than the shape, never smaller. */
typedef struct geo_bbox {
    double lat_min, lat_max;
    int nlon;
    double lon_min[2], lon_max[2];
} geo_bbox;

/* Great-circle distance in metres between two points given in degrees. */
double geo_distance_m(double lat1, double lon1, double lat2, double lon2);

/* 1 if the two boxes share at least one point, else 0. */
int geo_bbox_overlaps(const geo_bbox *a, const geo_bbox *b);

/* ---- entity side ------------------------------------------------------------------------- */

typedef struct geo_shape geo_shape;

/* 1 if attr_type is one of the location types (geo:point, geo:line, geo:box, geo:polygon,
 * geo:json), else 0. */
int geo_is_location_type(const char *attr_type);

/* Parses a location attribute's value (borrowed). Returns 1 and sets *out to a new shape
 * (caller frees with geo_shape_free), 0 if the value is null (the attribute is then no location;
 * *out is NULL), or -1 with err filled (status 400) if the value is not a valid location of
 * that type. attr_type must be a location type (see geo_is_location_type). */
int geo_shape_from_attr(const char *attr_type, const json_t *value, geo_shape **out,
                        geo_error *err);

void geo_shape_free(geo_shape *shape);

/* The GeoJSON geometry Orion stores in `location.coords`: a Point for geo:point, a LineString
 * for geo:line, a Polygon for geo:box and geo:polygon, and for geo:json the geometry itself (of
 * a Feature, its `geometry`; of a FeatureCollection, the geometry of its only feature). New
 * reference: the caller decrefs. */
json_t *geo_shape_to_geojson(const geo_shape *shape);

/* The shape's bounding box. */
void geo_shape_bbox(const geo_shape *shape, geo_bbox *out);

/* Distance in metres from the point (lat, lon) to the nearest point of the shape, as MongoDB's
 * $near measures it: 0 inside a polygon or on any part of the shape. */
double geo_shape_distance_m(const geo_shape *shape, double lat, double lon);

/* ---- query side -------------------------------------------------------------------------- */

typedef enum geo_georel {
    GEO_NEAR,
    GEO_COVERED_BY,
    GEO_INTERSECTS,
    GEO_EQUALS,
    GEO_DISJOINT
} geo_georel;

typedef struct geo_query geo_query;

/* Parses the georel, geometry and coords URI parameters (each may be NULL or "" for "not
 * given"). Returns 1 and sets *out to a new query (caller frees with geo_query_free), 0 if none
 * of the three is given (*out is NULL), or -1 with err filled (status 400, Orion's text) if the
 * combination is invalid. */
int geo_query_parse(const char *georel, const char *geometry, const char *coords, geo_query **out,
                    geo_error *err);

void geo_query_free(geo_query *query);

geo_georel geo_query_georel(const geo_query *query);

/* The query's reference geometry as GeoJSON, built as Orion builds it for MongoDB (a box is a
 * Polygon starting at its lower-left corner and going east first). New reference. */
json_t *geo_query_to_geojson(const geo_query *query);

/* Fills *out with a box that contains every shape that can match: the reference geometry's box
 * (for near, the box around the maxDistance circle). Returns 1, or 0 if no box can narrow the
 * search (disjoint, near without maxDistance); *out then spans the whole Earth. */
int geo_query_bbox(const geo_query *query, geo_bbox *out);

/* 1 if the entity shape satisfies the query, else 0. shape must not be NULL: an entity without
 * a location matches no geo-query, not even disjoint (Orion adds $exists: true). For near,
 * *distance_out (if not NULL) receives the distance in metres used for orderBy=geo:distance; for
 * other georels it receives NAN. */
int geo_query_match(const geo_query *query, const geo_shape *shape, double *distance_out);

#endif
