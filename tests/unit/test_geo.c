/*
 * test_geo.c - distances, spatial relations and bounding boxes of tsunagi_geo.
 *
 * Reference figures were computed independently of this library, with Python's math module on
 * the same sphere (R = 6378100 m, MongoDB's radius) using the haversine formula:
 *   R * 2 * asin(sqrt(sin(dlat/2)^2 + cos(lat1) * cos(lat2) * sin(dlon/2)^2))
 * - Tokyo Station (35.681236, 139.767125) - Osaka Station (34.702485, 135.495951): 403506.704 m
 * - Sapporo Station (43.068661, 141.350755) - Okinawa Prefectural Office, Naha (26.212401,
 *   127.680932): 2249067.440 m
 * - two points in Shirakawa-go (36.257571, 136.906188) - (36.258300, 136.906700): 93.262 m
 * - (0, 179.9) - (0, -179.9), across the antimeridian: 22263.769 m
 * - (89.99, 0) - (89.99, 180), across the north pole: 2226.377 m
 * - (89.5, 0) - (89.9, 90): 56761.669 m; (89.5, 0) - (89.5, 180): 111318.845 m
 * - one degree of arc, R * pi / 180: 111318.845 m
 * - (35.65, 139.85) to the meridian 139.8E, R * asin(cos(lat) * sin(dlon)): 4522.842 m
 * - latitude of the great-circle midpoint of (10N, 0E)-(10N, 10E): 10.037423 degrees, and of
 *   (80N, 0E)-(80N, 90E): 82.892924 degrees (normalised sum of the two unit vectors); of
 *   (10N, 170E)-(10N, 170W): atan(tan(10) / cos(10)) = 10.151082 degrees
 * - 1000 m circle at 35.681236N: half-height 0.008983205 deg, half-width
 *   asin(sin(d) / cos(lat)) = 0.011059320 deg
 */
#include <math.h>

#include <criterion/criterion.h>

#include "ngsi/geo.h"

static geo_shape *shape(const char *type, const char *value_json)
{
    json_error_t jerr;
    json_t *value = json_loads(value_json, JSON_DECODE_ANY, &jerr);
    geo_shape *s = NULL;
    geo_error err;
    int rc;

    cr_assert_not_null(value, "bad test JSON: %s", jerr.text);
    rc = geo_shape_from_attr(type, value, &s, &err);
    json_decref(value);
    cr_assert_eq(rc, 1, "%s %s: %s", type, value_json, err.description);
    return s;
}

static geo_query *query(const char *georel, const char *geometry, const char *coords)
{
    geo_query *q = NULL;
    geo_error err;
    int rc = geo_query_parse(georel, geometry, coords, &q, &err);

    cr_assert_eq(rc, 1, "%s %s %s: %s", georel, geometry, coords, err.description);
    return q;
}

/* Does an entity with this location match this query? */
static int matches(const char *type, const char *value_json, const char *georel,
                   const char *geometry, const char *coords)
{
    geo_shape *s = shape(type, value_json);
    geo_query *q = query(georel, geometry, coords);
    int m = geo_query_match(q, s, NULL);

    geo_query_free(q);
    geo_shape_free(s);
    return m;
}

static int point_matches(const char *latlon, const char *georel, const char *geometry,
                         const char *coords)
{
    char value[64];

    snprintf(value, sizeof(value), "\"%s\"", latlon);
    return matches("geo:point", value, georel, geometry, coords);
}

/* ---- distances --------------------------------------------------------------------------- */

Test(distance, tokyo_station_to_osaka_station)
{
    cr_assert_float_eq(geo_distance_m(35.681236, 139.767125, 34.702485, 135.495951), 403506.704,
                       1.0);
}

Test(distance, sapporo_to_naha)
{
    cr_assert_float_eq(geo_distance_m(43.068661, 141.350755, 26.212401, 127.680932), 2249067.440,
                       1.0);
}

Test(distance, two_points_in_a_small_town)
{
    cr_assert_float_eq(geo_distance_m(36.257571, 136.906188, 36.258300, 136.906700), 93.262, 0.01);
}

Test(distance, across_the_antimeridian_and_the_pole)
{
    cr_assert_float_eq(geo_distance_m(0, 179.9, 0, -179.9), 22263.769, 1.0);
    cr_assert_float_eq(geo_distance_m(89.99, 0, 89.99, 180), 2226.377, 1.0);
    cr_assert_float_eq(geo_distance_m(90, 0, -90, 0), M_PI * GEO_EARTH_RADIUS_M, 1.0);
    cr_assert_eq(geo_distance_m(35.0, 139.0, 35.0, 139.0), 0.0);
}

Test(distance, to_a_line_is_to_its_nearest_point)
{
    geo_shape *s = shape("geo:line", "[\"0, 0\", \"0, 10\"]");

    /* (1N, 5E) is one degree of arc from the equator segment; (0, 12) is 2 degrees past its end */
    cr_assert_float_eq(geo_shape_distance_m(s, 1, 5), 111318.845, 1.0);
    cr_assert_float_eq(geo_shape_distance_m(s, 0, 12), 2 * 111318.845, 1.0);
    cr_assert_float_eq(geo_shape_distance_m(s, 0, 3), 0.0, 1e-3);
    geo_shape_free(s);
}

Test(distance, to_a_polygon_is_zero_inside_and_to_the_nearest_edge_outside)
{
    geo_shape *s = shape("geo:box", "[\"35.6, 139.7\", \"35.7, 139.8\"]");

    cr_assert_eq(geo_shape_distance_m(s, 35.65, 139.75), 0.0);
    cr_assert_float_eq(geo_shape_distance_m(s, 35.65, 139.85), 4522.842, 1.0);
    geo_shape_free(s);
}

/* ---- near -------------------------------------------------------------------------------- */

Test(near, max_distance_between_tokyo_and_osaka)
{
    geo_shape *osaka = shape("geo:point", "\"34.702485, 135.495951\"");
    geo_query *q_in = query("near;maxDistance:404000", "point", "35.681236,139.767125");
    geo_query *q_out = query("near;maxDistance:403000", "point", "35.681236,139.767125");
    double d = 0;

    cr_assert_eq(geo_query_match(q_in, osaka, &d), 1);
    cr_assert_float_eq(d, 403506.704, 1.0);
    cr_assert_eq(geo_query_match(q_out, osaka, &d), 0);
    cr_assert_float_eq(d, 403506.704, 1.0, "the distance is reported even without a match");
    geo_query_free(q_in);
    geo_query_free(q_out);
    geo_shape_free(osaka);
}

Test(near, min_distance_and_both_limits)
{
    const char *osaka = "34.702485, 135.495951", *tokyo = "35.681236,139.767125";

    cr_assert_eq(point_matches(osaka, "near;minDistance:403000", "point", tokyo), 1);
    cr_assert_eq(point_matches(osaka, "near;minDistance:404000", "point", tokyo), 0);
    cr_assert_eq(point_matches(osaka, "near;minDistance:400000;maxDistance:410000", "point", tokyo),
                 1);
    cr_assert_eq(point_matches(osaka, "near;maxDistance:410000;minDistance:405000", "point", tokyo),
                 0);
}

Test(near, a_hundred_metres_in_a_small_town)
{
    const char *here = "36.257571,136.906188";

    cr_assert_eq(point_matches("36.258300, 136.906700", "near;maxDistance:100", "point", here), 1);
    cr_assert_eq(point_matches("36.258300, 136.906700", "near;maxDistance:93", "point", here), 0);
}

Test(near, across_the_antimeridian)
{
    cr_assert_eq(point_matches("0, -179.9", "near;maxDistance:23000", "point", "0,179.9"), 1);
    cr_assert_eq(point_matches("0, -179.9", "near;maxDistance:22000", "point", "0,179.9"), 0);
}

Test(near, over_the_north_pole)
{
    cr_assert_eq(point_matches("89.99, 180", "near;maxDistance:2300", "point", "89.99,0"), 1);
    cr_assert_eq(point_matches("89.99, 180", "near;maxDistance:2200", "point", "89.99,0"), 0);
    cr_assert_eq(point_matches("89.9, 90", "near;maxDistance:100000", "point", "89.5,0"), 1);
    cr_assert_eq(point_matches("89.5, 180", "near;maxDistance:100000", "point", "89.5,0"), 0);
}

Test(near, distance_to_a_polygon_entity_is_zero_inside)
{
    geo_shape *s = shape("geo:box", "[\"35.6, 139.7\", \"35.7, 139.8\"]");
    geo_query *q = query("near;maxDistance:1", "point", "35.65,139.75");
    double d = -1;

    cr_assert_eq(geo_query_match(q, s, &d), 1);
    cr_assert_eq(d, 0.0);
    geo_query_free(q);
    geo_shape_free(s);
}

Test(near, distance_is_nan_for_other_georels)
{
    geo_shape *s = shape("geo:point", "\"35.65, 139.75\"");
    geo_query *q = query("intersects", "box", "35.6,139.7;35.7,139.8");
    double d = 0;

    cr_assert_eq(geo_query_match(q, s, &d), 1);
    cr_assert(isnan(d));
    geo_query_free(q);
    geo_shape_free(s);
}

/* ---- coveredBy, intersects, disjoint with points ----------------------------------------- */

static const char *tokyo_box = "35.6,139.7;35.7,139.8";

Test(points, inside_and_outside_a_box)
{
    cr_assert_eq(point_matches("35.681236, 139.767125", "coveredBy", "box", tokyo_box), 1);
    cr_assert_eq(point_matches("34.702485, 135.495951", "coveredBy", "box", tokyo_box), 0);
    cr_assert_eq(point_matches("35.681236, 139.767125", "intersects", "box", tokyo_box), 1);
    cr_assert_eq(point_matches("35.681236, 139.767125", "disjoint", "box", tokyo_box), 0);
    cr_assert_eq(point_matches("34.702485, 135.495951", "disjoint", "box", tokyo_box), 1);
}

Test(points, boundary_counts_as_covered)
{
    /* on the west edge (a meridian: exactly a great circle) and on a corner */
    cr_assert_eq(point_matches("35.65, 139.7", "coveredBy", "box", tokyo_box), 1);
    cr_assert_eq(point_matches("35.6, 139.7", "coveredBy", "box", tokyo_box), 1);
    cr_assert_eq(point_matches("35.7, 139.8", "coveredBy", "polygon",
                               "35.6,139.7;35.6,139.8;35.7,139.8;35.7,139.7;35.6,139.7"),
                 1);
    cr_assert_eq(point_matches("35.65, 139.7", "intersects", "box", tokyo_box), 1);
    cr_assert_eq(point_matches("35.65, 139.6999", "coveredBy", "box", tokyo_box), 0);
}

Test(points, box_edges_are_great_circle_arcs)
{
    /* The south edge of the box 10N-20N, 0E-10E runs from (10N, 0E) to (10N, 10E) along a great
     * circle that bulges north to 10.037423N at 5E; the north edge bulges beyond 20N. */
    const char *box = "10,0;20,10";

    cr_assert_eq(point_matches("10.03, 5", "coveredBy", "box", box), 0);
    cr_assert_eq(point_matches("10.04, 5", "coveredBy", "box", box), 1);
    cr_assert_eq(point_matches("20.01, 5", "coveredBy", "box", box), 1);
    cr_assert_eq(point_matches("10, 5", "coveredBy", "box", box), 0);
}

Test(points, polygon_with_a_hole)
{
    const char *donut =
        "{\"type\": \"Polygon\", \"coordinates\": ["
        "[[139.0, 35.0], [140.0, 35.0], [140.0, 36.0], [139.0, 36.0], [139.0, 35.0]],"
        "[[139.4, 35.4], [139.4, 35.6], [139.6, 35.6], [139.6, 35.4], [139.4, "
        "35.4]]]}";
    geo_shape *s = shape("geo:json", donut);
    geo_query *in_hole = query("near;maxDistance:1", "point", "35.5,139.5");
    geo_query *in_ring = query("near;maxDistance:1", "point", "35.2,139.2");
    geo_query *on_hole_edge = query("near;maxDistance:1", "point", "35.5,139.4");
    double d;

    cr_assert_eq(geo_query_match(in_hole, s, &d), 0);
    cr_assert_float_eq(d, geo_distance_m(35.5, 139.5, 35.5, 139.4), 50.0,
                       "nearest edge is the hole's west side, at about 0.1 degree of longitude");
    cr_assert_eq(geo_query_match(in_ring, s, &d), 1);
    cr_assert_eq(geo_query_match(on_hole_edge, s, &d), 1);
    geo_query_free(in_hole);
    geo_query_free(in_ring);
    geo_query_free(on_hole_edge);
    geo_shape_free(s);
}

Test(points, hole_excluded_from_covered_by)
{
    const char *donut =
        "{\"type\": \"Polygon\", \"coordinates\": ["
        "[[139.0, 35.0], [140.0, 35.0], [140.0, 36.0], [139.0, 36.0], [139.0, 35.0]],"
        "[[139.4, 35.4], [139.4, 35.6], [139.6, 35.6], [139.6, 35.4], [139.4, "
        "35.4]]]}";
    geo_shape *s = shape("geo:json", donut);
    geo_query *q = query("intersects", "point", "35.5,139.5");

    cr_assert_eq(geo_query_match(q, s, NULL), 0, "a point in the hole does not meet the polygon");
    geo_query_free(q);
    geo_shape_free(s);
}

/* ---- lines and polygons ------------------------------------------------------------------ */

Test(lines, covered_by_box)
{
    cr_assert_eq(matches("geo:line", "[\"35.61, 139.71\", \"35.69, 139.79\"]", "coveredBy", "box",
                         tokyo_box),
                 1);
    cr_assert_eq(matches("geo:line", "[\"35.61, 139.71\", \"35.75, 139.79\"]", "coveredBy", "box",
                         tokyo_box),
                 0);
    /* along the west edge, from corner to corner */
    cr_assert_eq(
        matches("geo:line", "[\"35.6, 139.7\", \"35.7, 139.7\"]", "coveredBy", "box", tokyo_box),
        1);
}

Test(lines, not_covered_when_leaving_through_a_notch)
{
    /* A U-shaped polygon (notch between 139.4E and 139.6E above 35.3N): both ends of the line are
     * inside, but the line crosses the notch. */
    const char *u = "35,139;35,140;36,140;36,139.6;35.3,139.6;35.3,139.4;36,139.4;36,139;35,139";

    cr_assert_eq(
        matches("geo:line", "[\"35.8, 139.2\", \"35.8, 139.8\"]", "coveredBy", "polygon", u), 0);
    cr_assert_eq(
        matches("geo:line", "[\"35.2, 139.2\", \"35.2, 139.8\"]", "coveredBy", "polygon", u), 1);
}

Test(lines, intersects_without_a_vertex_inside)
{
    cr_assert_eq(
        matches("geo:line", "[\"35.65, 139.6\", \"35.65, 139.9\"]", "intersects", "box", tokyo_box),
        1);
    cr_assert_eq(
        matches("geo:line", "[\"35.65, 139.6\", \"35.65, 139.9\"]", "disjoint", "box", tokyo_box),
        0);
    cr_assert_eq(
        matches("geo:line", "[\"35.8, 139.6\", \"35.8, 139.9\"]", "disjoint", "box", tokyo_box), 1);
}

Test(lines, line_against_line)
{
    cr_assert_eq(matches("geo:line", "[\"35.6, 139.7\", \"35.7, 139.8\"]", "intersects", "line",
                         "35.7,139.7;35.6,139.8"),
                 1);
    cr_assert_eq(matches("geo:line", "[\"35.6, 139.7\", \"35.7, 139.8\"]", "intersects", "line",
                         "35.7,139.7;35.69,139.71"),
                 0);
    /* touching at an end point */
    cr_assert_eq(matches("geo:line", "[\"35.6, 139.7\", \"35.7, 139.8\"]", "intersects", "line",
                         "35.7,139.8;35.8,139.9"),
                 1);
}

Test(polygons, covered_and_overlapping)
{
    cr_assert_eq(
        matches("geo:box", "[\"35.62, 139.72\", \"35.68, 139.78\"]", "coveredBy", "box", tokyo_box),
        1);
    cr_assert_eq(
        matches("geo:box", "[\"35.62, 139.72\", \"35.75, 139.78\"]", "coveredBy", "box", tokyo_box),
        0);
    cr_assert_eq(matches("geo:box", "[\"35.62, 139.72\", \"35.75, 139.78\"]", "intersects", "box",
                         tokyo_box),
                 1);
    /* the entity contains the query box: no edges cross, still they intersect */
    cr_assert_eq(
        matches("geo:box", "[\"35.5, 139.6\", \"35.8, 139.9\"]", "intersects", "box", tokyo_box),
        1);
    cr_assert_eq(
        matches("geo:box", "[\"35.8, 139.6\", \"35.9, 139.9\"]", "disjoint", "box", tokyo_box), 1);
}

Test(polygons, entity_holes_in_relations)
{
    const char *donut =
        "{\"type\": \"Polygon\", \"coordinates\": ["
        "[[139.0, 35.0], [140.0, 35.0], [140.0, 36.0], [139.0, 36.0], [139.0, 35.0]],"
        "[[139.4, 35.4], [139.4, 35.6], [139.6, 35.6], [139.6, 35.4], [139.4, "
        "35.4]]]}";

    cr_assert_eq(matches("geo:json", donut, "intersects", "box", "35.45,139.45;35.55,139.55"), 0,
                 "a box inside the hole does not meet the polygon");
    cr_assert_eq(matches("geo:json", donut, "intersects", "box", "35.3,139.3;35.7,139.7"), 1);
    cr_assert_eq(
        matches("geo:json", donut, "coveredBy", "polygon", "35,139;35,140;36,140;36,139;35,139"), 1,
        "the query's own boundary covers the entity");
    cr_assert_eq(matches("geo:json", donut, "coveredBy", "box", "35.1,139.1;35.9,139.9"), 0);
}

Test(polygons, touching_at_a_vertex_intersects)
{
    cr_assert_eq(
        matches("geo:box", "[\"35.7, 139.8\", \"35.8, 139.9\"]", "intersects", "box", tokyo_box),
        1);
    cr_assert_eq(
        matches("geo:box", "[\"35.7, 139.8\", \"35.8, 139.9\"]", "coveredBy", "box", tokyo_box), 0);
}

Test(polygons, vertex_order_does_not_matter)
{
    /* 2dsphere takes the smaller region whichever way the ring turns */
    const char *ccw = "[\"35.6, 139.7\", \"35.6, 139.8\", \"35.7, 139.8\", \"35.7, 139.7\", "
                      "\"35.6, 139.7\"]";
    const char *cw = "[\"35.6, 139.7\", \"35.7, 139.7\", \"35.7, 139.8\", \"35.6, 139.8\", "
                     "\"35.6, 139.7\"]";

    cr_assert_eq(matches("geo:polygon", ccw, "intersects", "point", "35.65,139.75"), 1);
    cr_assert_eq(matches("geo:polygon", cw, "intersects", "point", "35.65,139.75"), 1);
    cr_assert_eq(matches("geo:polygon", cw, "intersects", "point", "0,0"), 0);
    cr_assert_eq(matches("geo:point", "\"35.65, 139.75\"", "coveredBy", "polygon",
                         "35.6,139.7;35.7,139.7;35.7,139.8;35.6,139.8;35.6,139.7"),
                 1);
}

Test(multi, any_component_meets_all_components_covered)
{
    const char *mp =
        "{\"type\": \"MultiPoint\", \"coordinates\": [[139.75, 35.65], [135.5, 34.7]]}";

    cr_assert_eq(matches("geo:json", mp, "intersects", "box", tokyo_box), 1);
    cr_assert_eq(matches("geo:json", mp, "coveredBy", "box", tokyo_box), 0);
    cr_assert_eq(matches("geo:json", mp, "coveredBy", "box", "34,135;36,140"), 1);
}

/* ---- equals ------------------------------------------------------------------------------ */

Test(equals, same_point)
{
    cr_assert_eq(point_matches("35.681236, 139.767125", "equals", "point", "35.681236,139.767125"),
                 1);
    cr_assert_eq(point_matches("35.681236, 139.767125", "equals", "point", "35.681236,139.767126"),
                 0);
    cr_assert_eq(matches("geo:json", "{\"type\": \"Point\", \"coordinates\": [139, 35]}", "equals",
                         "point", "35,139"),
                 1, "numbers compare by value");
}

Test(equals, same_polygon_same_order)
{
    const char *ring = "[\"35.6, 139.7\", \"35.6, 139.8\", \"35.7, 139.8\", \"35.7, 139.7\", "
                       "\"35.6, 139.7\"]";

    cr_assert_eq(matches("geo:polygon", ring, "equals", "polygon",
                         "35.6,139.7;35.6,139.8;35.7,139.8;35.7,139.7;35.6,139.7"),
                 1);
    cr_assert_eq(matches("geo:polygon", ring, "equals", "polygon",
                         "35.6,139.7;35.7,139.7;35.7,139.8;35.6,139.8;35.6,139.7"),
                 0);
}

Test(equals, geo_box_entity_is_not_equal_to_box_query)
{
    /* Orion stores a geo:box going north first and sends a box query going east first; MongoDB
     * compares location.coords exactly, so they never match. Reproduced on purpose. */
    cr_assert_eq(
        matches("geo:box", "[\"35.6, 139.7\", \"35.7, 139.8\"]", "equals", "box", tokyo_box), 0);
    cr_assert_eq(matches("geo:box", "[\"35.6, 139.7\", \"35.7, 139.8\"]", "equals", "polygon",
                         "35.6,139.7;35.7,139.7;35.7,139.8;35.6,139.8;35.6,139.7"),
                 1);
}

/* ---- the antimeridian -------------------------------------------------------------------- */

static const char *across_180 = "{\"type\": \"Polygon\", \"coordinates\": [[[170, -10], [-170, "
                                "-10], [-170, 10], [170, 10], [170, -10]]]}";

Test(antimeridian, polygon_across_180)
{
    cr_assert_eq(matches("geo:json", across_180, "intersects", "point", "0,179.9"), 1);
    cr_assert_eq(matches("geo:json", across_180, "intersects", "point", "0,-179.9"), 1);
    cr_assert_eq(matches("geo:json", across_180, "intersects", "point", "0,180"), 1);
    cr_assert_eq(matches("geo:json", across_180, "intersects", "point", "0,0"), 0);
    cr_assert_eq(matches("geo:json", across_180, "intersects", "point", "0,160"), 0);
}

Test(antimeridian, query_polygon_across_180)
{
    const char *poly = "-10,170;-10,-170;10,-170;10,170;-10,170";

    cr_assert_eq(point_matches("0, 179.9", "coveredBy", "polygon", poly), 1);
    cr_assert_eq(point_matches("0, -179.9", "coveredBy", "polygon", poly), 1);
    cr_assert_eq(point_matches("0, 0", "coveredBy", "polygon", poly), 0);
    cr_assert_eq(matches("geo:line", "[\"0, 175\", \"0, -175\"]", "coveredBy", "polygon", poly), 1);
}

Test(antimeridian, box_with_corners_either_side_is_the_narrow_box)
{
    /* Corners are sorted (lon -170 and 170) and the stored Polygon's edges take the short way,
     * so on the sphere the box is the 20-degree-wide one across 180, as in MongoDB. */
    cr_assert_eq(
        matches("geo:box", "[\"-10, 170\", \"10, -170\"]", "intersects", "point", "0,179.9"), 1);
    cr_assert_eq(matches("geo:box", "[\"-10, 170\", \"10, -170\"]", "intersects", "point", "0,0"),
                 0);
}

Test(antimeridian, bbox_has_two_longitude_ranges)
{
    geo_shape *s = shape("geo:json", across_180);
    geo_bbox b;

    geo_shape_bbox(s, &b);
    cr_assert_eq(b.nlon, 2);
    cr_assert_float_eq(b.lon_min[0], 170, 1e-6);
    cr_assert_eq(b.lon_max[0], 180);
    cr_assert_eq(b.lon_min[1], -180);
    cr_assert_float_eq(b.lon_max[1], -170, 1e-6);
    /* the 20-degree edges along 10N/10S bulge to atan(tan 10 / cos 10) = 10.151082 degrees */
    cr_assert_float_eq(b.lat_max, 10.151082, 1e-6);
    cr_assert_float_eq(b.lat_min, -10.151082, 1e-6);
    geo_shape_free(s);
}

Test(antimeridian, near_circle_bbox_wraps)
{
    geo_query *q = query("near;maxDistance:5000", "point", "0,179.99");
    geo_shape *east = shape("geo:point", "\"0, -179.99\"");
    geo_bbox qb, eb;

    cr_assert_eq(geo_query_bbox(q, &qb), 1);
    geo_shape_bbox(east, &eb);
    cr_assert_eq(qb.nlon, 2);
    cr_assert(geo_bbox_overlaps(&qb, &eb));
    cr_assert_eq(geo_query_match(q, east, NULL), 1);
    geo_query_free(q);
    geo_shape_free(east);
}

/* ---- the poles --------------------------------------------------------------------------- */

static const char *around_north_pole = "{\"type\": \"Polygon\", \"coordinates\": [[[0, 80], [90, "
                                       "80], [180, 80], [-90, 80], [0, 80]]]}";

Test(poles, polygon_around_the_north_pole)
{
    cr_assert_eq(matches("geo:json", around_north_pole, "intersects", "point", "89.9,45"), 1);
    cr_assert_eq(matches("geo:json", around_north_pole, "intersects", "point", "90,0"), 1);
    cr_assert_eq(matches("geo:json", around_north_pole, "intersects", "point", "85,10"), 1);
    /* the edge from (80N, 0E) to (80N, 90E) passes 82.89N at 45E */
    cr_assert_eq(matches("geo:json", around_north_pole, "intersects", "point", "82.8,45"), 0);
    cr_assert_eq(matches("geo:json", around_north_pole, "intersects", "point", "83,45"), 1);
    cr_assert_eq(matches("geo:json", around_north_pole, "intersects", "point", "-89,0"), 0);
}

Test(poles, bbox_of_a_polygon_around_the_pole)
{
    geo_shape *s = shape("geo:json", around_north_pole);
    geo_bbox b;

    geo_shape_bbox(s, &b);
    cr_assert_eq(b.lat_max, 90);
    cr_assert_float_eq(b.lat_min, 80, 1e-6);
    cr_assert_eq(b.nlon, 1);
    cr_assert_eq(b.lon_min[0], -180);
    cr_assert_eq(b.lon_max[0], 180);
    geo_shape_free(s);
}

Test(poles, line_over_the_pole)
{
    geo_shape *s = shape("geo:line", "[\"80, 0\", \"80, 180\"]");
    geo_bbox b;

    geo_shape_bbox(s, &b);
    cr_assert_eq(b.lat_max, 90);
    cr_assert_eq(b.lon_min[0], -180);
    cr_assert_eq(b.lon_max[0], 180);
    cr_assert_float_eq(geo_shape_distance_m(s, 90, 0), 0, 1e-3);
    geo_shape_free(s);
    cr_assert_eq(
        matches("geo:line", "[\"80, 0\", \"80, 180\"]", "intersects", "box", "89,90;89.5,100"), 0);
    cr_assert_eq(
        matches("geo:line", "[\"80, 0\", \"80, 180\"]", "intersects", "line", "85,90;85,-90"), 1);
}

Test(poles, near_circle_over_the_pole_spans_all_longitudes)
{
    geo_query *q = query("near;maxDistance:100000", "point", "89.5,0");
    geo_bbox b;

    cr_assert_eq(geo_query_bbox(q, &b), 1);
    cr_assert_eq(b.lat_max, 90);
    cr_assert_eq(b.nlon, 1);
    cr_assert_eq(b.lon_min[0], -180);
    geo_query_free(q);
}

Test(poles, point_at_the_south_pole)
{
    geo_shape *s = shape("geo:point", "\"-90, 0\"");
    geo_bbox b;

    geo_shape_bbox(s, &b);
    cr_assert_eq(b.lat_min, -90);
    cr_assert_eq(b.lon_min[0], -180);
    cr_assert_eq(b.lon_max[0], 180);
    cr_assert_eq(matches("geo:point", "\"-90, 0\"", "equals", "point", "-90,0"), 1);
    cr_assert_eq(point_matches("-90, 123", "near;maxDistance:1", "point", "-90,0"), 1);
    geo_shape_free(s);
}

/* ---- bounding boxes ---------------------------------------------------------------------- */

Test(bbox, of_a_point_is_the_point)
{
    geo_shape *s = shape("geo:point", "\"35.681236, 139.767125\"");
    geo_bbox b;

    geo_shape_bbox(s, &b);
    cr_assert_float_eq(b.lat_min, 35.681236, 1e-8);
    cr_assert_float_eq(b.lat_max, 35.681236, 1e-8);
    cr_assert_eq(b.nlon, 1);
    cr_assert_float_eq(b.lon_min[0], 139.767125, 1e-8);
    cr_assert_float_eq(b.lon_max[0], 139.767125, 1e-8);
    cr_assert(b.lon_min[0] <= 139.767125 && b.lon_max[0] >= 139.767125);
    geo_shape_free(s);
}

Test(bbox, of_a_near_circle)
{
    geo_query *q = query("near;maxDistance:1000", "point", "35.681236,139.767125");
    geo_bbox b;

    cr_assert_eq(geo_query_bbox(q, &b), 1);
    cr_assert_float_eq(b.lat_min, 35.681236 - 0.008983205, 1e-8);
    cr_assert_float_eq(b.lat_max, 35.681236 + 0.008983205, 1e-8);
    cr_assert_eq(b.nlon, 1);
    cr_assert_float_eq(b.lon_min[0], 139.767125 - 0.011059320, 1e-8);
    cr_assert_float_eq(b.lon_max[0], 139.767125 + 0.011059320, 1e-8);
    geo_query_free(q);
}

Test(bbox, no_narrowing_for_disjoint_or_min_distance_only)
{
    geo_query *d = query("disjoint", "point", "35,139");
    geo_query *n = query("near;minDistance:10", "point", "35,139");
    geo_bbox b;

    cr_assert_eq(geo_query_bbox(d, &b), 0);
    cr_assert_eq(b.lat_min, -90);
    cr_assert_eq(b.lat_max, 90);
    cr_assert_eq(geo_query_bbox(n, &b), 0);
    cr_assert_eq(b.lon_min[0], -180);
    cr_assert_eq(b.lon_max[0], 180);
    geo_query_free(d);
    geo_query_free(n);
}

Test(bbox, of_a_query_box_and_overlaps)
{
    geo_query *q = query("coveredBy", "box", tokyo_box);
    geo_shape *in = shape("geo:point", "\"35.65, 139.75\"");
    geo_shape *out = shape("geo:point", "\"34.7, 135.5\"");
    geo_bbox qb, ib, ob;

    cr_assert_eq(geo_query_bbox(q, &qb), 1);
    cr_assert(qb.lat_min < 35.6 && qb.lat_min > 35.59);
    cr_assert(qb.lat_max > 35.7 && qb.lat_max < 35.71);
    cr_assert(qb.lon_min[0] < 139.7 && qb.lon_max[0] > 139.8);
    geo_shape_bbox(in, &ib);
    geo_shape_bbox(out, &ob);
    cr_assert(geo_bbox_overlaps(&qb, &ib));
    cr_assert(!geo_bbox_overlaps(&qb, &ob));
    geo_query_free(q);
    geo_shape_free(in);
    geo_shape_free(out);
}

Test(bbox, point_on_the_antimeridian_meets_ranges_on_both_sides)
{
    geo_shape *p = shape("geo:point", "\"0, 180\"");
    geo_shape *west = shape("geo:box", "[\"-1, -179\", \"1, -180\"]");
    geo_shape *east = shape("geo:box", "[\"-1, 179\", \"1, 180\"]");
    geo_bbox pb, wb, eb;

    geo_shape_bbox(p, &pb);
    geo_shape_bbox(west, &wb);
    geo_shape_bbox(east, &eb);
    cr_assert(geo_bbox_overlaps(&pb, &wb));
    cr_assert(geo_bbox_overlaps(&pb, &eb));
    geo_shape_free(p);
    geo_shape_free(west);
    geo_shape_free(east);
}
