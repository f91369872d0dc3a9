/*
 * test_geo_parse.c - parsing location attributes and geo-query parameters, with Orion's texts.
 *
 * The expected descriptions marked "Orion" are Orion's own (its location.cpp, GeoFilter.cpp and
 * areas.cpp); the others are this library's, for refusals Orion leaves to MongoDB.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "ngsi/geo.h"

/* Parses a location attribute that must be refused, and checks the error text. */
static void refused(const char *type, const char *value_json, const char *description)
{
    json_error_t jerr;
    json_t *value = json_loads(value_json, JSON_DECODE_ANY, &jerr);
    geo_shape *s = (geo_shape *)1;
    geo_error err;

    cr_assert_not_null(value, "bad test JSON: %s", jerr.text);
    cr_assert_eq(geo_shape_from_attr(type, value, &s, &err), -1, "%s %s accepted", type,
                 value_json);
    cr_assert_null(s);
    cr_assert_eq(err.status, 400);
    cr_assert_str_eq(err.name, "BadRequest");
    cr_assert_str_eq(err.description, description, "%s %s", type, value_json);
    json_decref(value);
}

/* Parses a location attribute that must be accepted and returns its stored GeoJSON, dumped. */
static char *stored(const char *type, const char *value_json)
{
    json_t *value = json_loads(value_json, JSON_DECODE_ANY, NULL);
    geo_shape *s;
    geo_error err;
    json_t *geojson;
    char *text;

    cr_assert_not_null(value);
    cr_assert_eq(geo_shape_from_attr(type, value, &s, &err), 1, "%s %s: %s", type, value_json,
                 err.description);
    geojson = geo_shape_to_geojson(s);
    text = json_dumps(geojson, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(geojson);
    json_decref(value);
    geo_shape_free(s);
    return text;
}

static void stores(const char *type, const char *value_json, const char *expected)
{
    char *got = stored(type, value_json);

    cr_assert_str_eq(got, expected, "%s %s", type, value_json);
    free(got);
}

/* A geo-query that must be refused, with its text. */
static void query_refused(const char *georel, const char *geometry, const char *coords,
                          const char *description)
{
    geo_query *q = (geo_query *)1;
    geo_error err;

    cr_assert_eq(geo_query_parse(georel, geometry, coords, &q, &err), -1, "%s|%s|%s accepted",
                 georel, geometry, coords);
    cr_assert_null(q);
    cr_assert_eq(err.status, 400);
    cr_assert_str_eq(err.name, "BadRequest");
    cr_assert_str_eq(err.description, description, "%s|%s|%s", georel, geometry, coords);
}

static void query_accepted(const char *georel, const char *geometry, const char *coords)
{
    geo_query *q = NULL;
    geo_error err;

    cr_assert_eq(geo_query_parse(georel, geometry, coords, &q, &err), 1, "%s|%s|%s: %s", georel,
                 geometry, coords, err.description);
    geo_query_free(q);
}

/* ---- location types ---------------------------------------------------------------------- */

Test(types, location_types)
{
    cr_assert(geo_is_location_type("geo:point"));
    cr_assert(geo_is_location_type("geo:line"));
    cr_assert(geo_is_location_type("geo:box"));
    cr_assert(geo_is_location_type("geo:polygon"));
    cr_assert(geo_is_location_type("geo:json"));
    cr_assert(!geo_is_location_type("geo:xjson"));
    cr_assert(!geo_is_location_type("Text"));
    cr_assert(!geo_is_location_type(NULL));
    refused("Text", "\"1, 2\"", "attribute type Text is not a location type");
}

Test(types, null_value_is_no_location)
{
    const char *types[] = {"geo:point", "geo:line", "geo:box", "geo:polygon", "geo:json"};
    json_t *null = json_null();

    for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++) {
        geo_shape *s = (geo_shape *)1;
        geo_error err;
        cr_assert_eq(geo_shape_from_attr(types[i], null, &s, &err), 0, "%s", types[i]);
        cr_assert_null(s);
        cr_assert_eq(err.status, 0);
    }
}

/* ---- Simple Location Format -------------------------------------------------------------- */

Test(legacy, point_is_stored_as_geojson_point)
{
    stores("geo:point", "\"35.681236, 139.767125\"",
           "{\"coordinates\":[139.767125,35.681236],\"type\":\"Point\"}");
    stores("geo:point", "\"  -90,180 \"", "{\"coordinates\":[180.0,-90.0],\"type\":\"Point\"}");
}

Test(legacy, point_errors_orion)
{
    refused("geo:point", "\"abc\"", "geo coordinates format error [see Orion user manual]: abc");
    refused("geo:point", "\"35.68 139.76\"",
            "geo coordinates format error [see Orion user manual]: 35.68 139.76");
    refused("geo:point", "\"91, 0\"",
            "geo coordinates format error [see Orion user manual]: 91, 0");
    refused("geo:point", "\"0, -180.5\"",
            "geo coordinates format error [see Orion user manual]: 0, -180.5");
    refused("geo:point", "\"1, 2, 3\"",
            "geo coordinates format error [see Orion user manual]: 1, 2, 3");
    refused("geo:point", "\"35,\"", "geo coordinates format error [see Orion user manual]: 35,");
    refused("geo:point", "42", "geo coordinates format error [see Orion user manual]: ");
}

Test(legacy, line)
{
    stores("geo:line", "[\"35.6, 139.7\", \"35.7, 139.8\"]",
           "{\"coordinates\":[[139.7,35.6],[139.8,35.7]],\"type\":\"LineString\"}");
    refused("geo:line", "[\"35.6, 139.7\"]", "geo:line uses at least 2 coordinates");
    refused("geo:line", "\"35.6, 139.7\"",
            "geo:line, geo:box and geo:polygon needs array of strings as value");
    refused("geo:line", "[\"35.6, 139.7\", 1]",
            "geo:line, geo:box and geo:polygon needs array of strings but some element is not a "
            "string");
    refused("geo:line", "[\"35.6, 139.7\", \"x\"]",
            "geo coordinates format error [see Orion user manual]: x");
    refused("geo:line", "[\"35.6, 139.7\", \"35.6, 139.7\"]",
            "geo:line: a line needs at least 2 distinct points");
    refused("geo:line", "[\"10, 20\", \"-10, -160\"]",
            "geo:line: a segment joins two antipodal points");
}

Test(legacy, box_is_stored_as_orion_polygon)
{
    /* corners in any order; stored from the south-west corner going north first */
    stores("geo:box", "[\"35.7, 139.8\", \"35.6, 139.7\"]",
           "{\"coordinates\":[[[139.7,35.6],[139.7,35.7],[139.8,35.7],[139.8,35.6],[139.7,35.6]]"
           "],\"type\":\"Polygon\"}");
}

Test(legacy, box_errors_orion)
{
    refused("geo:box", "[\"35.6, 139.7\"]", "geo:box uses exactly 2 coordinates");
    refused("geo:box", "[\"35.6, 139.7\", \"35.7, 139.8\", \"35.8, 139.9\"]",
            "geo:box uses exactly 2 coordinates");
    refused("geo:box", "[\"35.6, 139.7\", \"35.6, 139.8\"]",
            "geo:box coordinates are not defining an actual box");
    refused("geo:box", "[\"35.6, 139.7\", \"35.7, 139.7\"]",
            "geo:box coordinates are not defining an actual box");
}

Test(legacy, polygon)
{
    stores("geo:polygon", "[\"35.6, 139.7\", \"35.6, 139.8\", \"35.7, 139.8\", \"35.6, 139.7\"]",
           "{\"coordinates\":[[[139.7,35.6],[139.8,35.6],[139.8,35.7],[139.7,35.6]]],\"type\":"
           "\"Polygon\"}");
    refused("geo:polygon", "[\"35.6, 139.7\", \"35.6, 139.8\", \"35.6, 139.7\"]",
            "geo:polygon uses at least 4 coordinates");
    refused("geo:polygon", "[\"35.6, 139.7\", \"35.6, 139.8\", \"35.7, 139.8\", \"35.7, 139.7\"]",
            "geo:polygon first and last coordinates must match");
}

Test(legacy, polygon_geometry_errors)
{
    /* a bow tie: edges 0 and 2 cross */
    refused("geo:polygon",
            "[\"35.6, 139.7\", \"35.7, 139.8\", \"35.6, 139.8\", \"35.7, 139.7\", \"35.6, 139.7\"]",
            "geo:polygon: invalid exterior ring: edges cross or touch each other");
    /* three points on one meridian: the ring doubles back */
    refused("geo:polygon", "[\"35.6, 139.7\", \"35.7, 139.7\", \"35.8, 139.7\", \"35.6, 139.7\"]",
            "geo:polygon: invalid exterior ring: an edge doubles back on its neighbour");
    refused("geo:polygon", "[\"35.6, 139.7\", \"35.6, 139.7\", \"35.7, 139.8\", \"35.6, 139.7\"]",
            "geo:polygon: a ring needs at least 3 distinct vertices");
    /* a vertex lying on a non-adjacent edge (the equator from 0E to 4E) */
    refused("geo:polygon", "[\"0, 0\", \"0, 4\", \"2, 4\", \"0, 2\", \"2, 0\", \"0, 0\"]",
            "geo:polygon: invalid exterior ring: edges cross or touch each other");
}

/* ---- geo:json ---------------------------------------------------------------------------- */

Test(geojson, types_accepted)
{
    stores("geo:json", "{\"type\": \"Point\", \"coordinates\": [139.767125, 35.681236]}",
           "{\"coordinates\":[139.767125,35.681236],\"type\":\"Point\"}");
    stores("geo:json", "{\"type\": \"Point\", \"coordinates\": [139.7, 35.6, 12.5]}",
           "{\"coordinates\":[139.7,35.6,12.5],\"type\":\"Point\"}");
    stores("geo:json",
           "{\"type\": \"MultiPoint\", \"coordinates\": [[139.7, 35.6], [135.5, 34.7]]}",
           "{\"coordinates\":[[139.7,35.6],[135.5,34.7]],\"type\":\"MultiPoint\"}");
    stores("geo:json",
           "{\"type\": \"LineString\", \"coordinates\": [[139.7, 35.6], [139.8, 35.7]]}",
           "{\"coordinates\":[[139.7,35.6],[139.8,35.7]],\"type\":\"LineString\"}");
    stores("geo:json",
           "{\"type\": \"MultiLineString\", \"coordinates\": [[[139.7, 35.6], [139.8, 35.7]], "
           "[[135, 34], [135.5, 34.7]]]}",
           "{\"coordinates\":[[[139.7,35.6],[139.8,35.7]],[[135,34],[135.5,34.7]]],\"type\":"
           "\"MultiLineString\"}");
    stores("geo:json",
           "{\"type\": \"MultiPolygon\", \"coordinates\": [[[[0,0],[1,0],[1,1],[0,0]]], "
           "[[[10,10],[11,10],[11,11],[10,10]]]]}",
           "{\"coordinates\":[[[[0,0],[1,0],[1,1],[0,0]]],[[[10,10],[11,10],[11,11],[10,10]]]],"
           "\"type\":\"MultiPolygon\"}");
}

Test(geojson, feature_keeps_its_geometry)
{
    stores("geo:json",
           "{\"type\": \"Feature\", \"properties\": {\"name\": \"Tokyo\"}, \"geometry\": "
           "{\"type\": \"Point\", \"coordinates\": [139.767125, 35.681236]}}",
           "{\"coordinates\":[139.767125,35.681236],\"type\":\"Point\"}");
    stores("geo:json",
           "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", "
           "\"properties\": {}, \"geometry\": {\"type\": \"LineString\", \"coordinates\": "
           "[[139.7, 35.6], [139.8, 35.7]]}}]}",
           "{\"coordinates\":[[139.7,35.6],[139.8,35.7]],\"type\":\"LineString\"}");
}

Test(geojson, feature_errors)
{
    refused("geo:json", "{\"type\": \"Feature\", \"properties\": {}}",
            "geo:json Feature does not have geometry element");
    refused("geo:json", "{\"type\": \"Feature\", \"geometry\": null}",
            "geo:json Feature does not have geometry element");
    refused("geo:json", "{\"type\": \"FeatureCollection\"}",
            "geo:json FeatureCollection does not have features element");
    refused("geo:json", "{\"type\": \"FeatureCollection\", \"features\": []}",
            "geo:json FeatureCollection features has no elements");
    refused("geo:json",
            "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", "
            "\"geometry\": {\"type\": \"Point\", \"coordinates\": [1, 2]}}, {\"type\": "
            "\"Feature\", \"geometry\": {\"type\": \"Point\", \"coordinates\": [1, 2]}}]}",
            "geo:json FeatureCollection features has more than one element");
    refused("geo:json",
            "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\"}]}",
            "geo:json Feature does not have geometry element");
}

Test(geojson, value_and_type_errors)
{
    refused("geo:json", "\"35, 139\"", "geo:json needs an object or null as value");
    refused("geo:json", "[139, 35]", "geo:json needs an object or null as value");
    refused("geo:json", "{\"coordinates\": [139, 35]}",
            "geo:json needs a GeoJSON object with a string 'type'");
    refused("geo:json",
            "{\"type\": \"GeometryCollection\", \"geometries\": [{\"type\": \"Point\", "
            "\"coordinates\": [1, 2]}]}",
            "geo:json type GeometryCollection is not supported");
    refused("geo:json", "{\"type\": \"Circle\", \"coordinates\": [1, 2]}",
            "geo:json type Circle is not supported");
}

Test(geojson, coordinate_errors)
{
    refused("geo:json", "{\"type\": \"Point\"}", "geo:json Point: needs a coordinates array");
    refused("geo:json", "{\"type\": \"Point\", \"coordinates\": [139]}",
            "geo:json Point: a position must be [longitude, latitude] (two or three numbers)");
    refused("geo:json", "{\"type\": \"Point\", \"coordinates\": [\"139\", \"35\"]}",
            "geo:json Point: a position must be [longitude, latitude] (two or three numbers)");
    refused("geo:json", "{\"type\": \"Point\", \"coordinates\": [35, 139]}",
            "geo:json Point: latitude 139 out of range [-90, 90]");
    refused("geo:json", "{\"type\": \"Point\", \"coordinates\": [181, 35]}",
            "geo:json Point: longitude 181 out of range [-180, 180]");
    refused("geo:json", "{\"type\": \"LineString\", \"coordinates\": [[139, 35]]}",
            "geo:json LineString: a line needs at least 2 positions");
    refused("geo:json", "{\"type\": \"MultiPoint\", \"coordinates\": []}",
            "geo:json MultiPoint: needs at least one element in coordinates");
    refused("geo:json", "{\"type\": \"LineString\", \"coordinates\": [139, 35]}",
            "geo:json LineString: a position must be [longitude, latitude] (two or three numbers)");
}

Test(geojson, polygon_errors)
{
    refused("geo:json", "{\"type\": \"Polygon\", \"coordinates\": []}",
            "geo:json Polygon: a polygon needs an array of at least one ring");
    refused("geo:json", "{\"type\": \"Polygon\", \"coordinates\": [[[0,0],[1,0],[0,0]]]}",
            "geo:json Polygon: a ring needs at least 4 positions");
    refused("geo:json", "{\"type\": \"Polygon\", \"coordinates\": [[[0,0],[1,0],[1,1],[0,1]]]}",
            "geo:json Polygon: a ring must be closed (first and last positions equal)");
    refused("geo:json",
            "{\"type\": \"Polygon\", \"coordinates\": [[[0,0],[10,0],[10,10],[0,10],[0,0]], "
            "[[20,20],[21,20],[21,21],[20,20]]]}",
            "geo:json Polygon: hole 1 is not inside the exterior ring");
    refused("geo:json",
            "{\"type\": \"Polygon\", \"coordinates\": [[[0,0],[10,0],[10,10],[0,10],[0,0]], "
            "[[5,5],[15,5],[15,6],[5,6],[5,5]]]}",
            "geo:json Polygon: exterior ring and hole 1 cross each other");
    refused("geo:json",
            "{\"type\": \"MultiPolygon\", \"coordinates\": [[[[0,0],[1,0],[1,1],[0,0]]], "
            "[[[0,0],[1,1],[1,0],[0,1],[0,0]]]]}",
            "geo:json MultiPolygon: invalid exterior ring: edges cross or touch each other");
}

Test(geojson, hole_sharing_a_vertex_with_the_shell_is_accepted)
{
    char *got = stored("geo:json", "{\"type\": \"Polygon\", \"coordinates\": "
                                   "[[[0,0],[10,0],[10,10],[0,10],[0,0]], "
                                   "[[0,0],[5,2],[2,5],[0,0]]]}");

    cr_assert(strstr(got, "\"Polygon\"") != NULL);
    free(got);
}

/* ---- geo-query parameters ---------------------------------------------------------------- */

Test(query, nothing_given_is_no_query)
{
    geo_query *q = (geo_query *)1;
    geo_error err;

    cr_assert_eq(geo_query_parse(NULL, NULL, NULL, &q, &err), 0);
    cr_assert_null(q);
    cr_assert_eq(geo_query_parse("", "", "", &q, &err), 0);
}

Test(query, partial_expression_orion)
{
    const char *partial =
        "partial geo expression: geometry, georel and coords have to be provided together";

    query_refused("near;maxDistance:10", NULL, NULL, partial);
    query_refused(NULL, "point", "35,139", partial);
    query_refused("intersects", "point", "", partial);
    query_refused("", "point", "35,139", partial);
}

Test(query, geometry_errors_orion)
{
    query_refused("intersects", "circle", "35,139",
                  "error parsing geometry: Invalid selector in geometry specification");
    query_refused("intersects", "point;point", "35,139",
                  "error parsing geometry: geometry-type present more than once");
    query_refused("intersects", ";", "35,139", "error parsing geometry: empty geometry");
}

Test(query, georel_errors_orion)
{
    query_refused("nearby", "point", "35,139", "Invalid modifier in georel parameter");
    query_refused("near", "point", "35,139",
                  "georel /near/ without either minDistance nor maxDistance");
    query_refused("near;maxDistance:10;maxDistance:20", "point", "35,139",
                  "maxDistance present more than once");
    query_refused("near;minDistance:10;minDistance:20", "point", "35,139",
                  "minDistance present more than once");
    query_refused("near;near;maxDistance:10", "point", "35,139",
                  "georel type present more than once");
    query_refused("near;maxDistance:ten", "point", "35,139", "invalid number for maxDistance");
    query_refused("near;minDistance:", "point", "35,139", "invalid number for minDistance");
    query_refused("near;maxDistance:-5", "point", "35,139", "invalid number for maxDistance");
    query_refused("intersects;maxDistance:10", "point", "35,139",
                  "maxDistance erroneously used with georel /intersects/");
    query_refused("coveredBy;minDistance:10", "box", "35,139;36,140",
                  "minDistance erroneously used with georel /coveredBy/");
    query_refused("maxDistance:10", "point", "35,139",
                  "maxDistance erroneously used with georel //");
    query_refused(";", "point", "35,139", "empty georel");
    query_refused("near; maxDistance:10", "point", "35,139",
                  "Invalid modifier in georel parameter");
}

Test(query, combination_errors_orion)
{
    query_refused("coveredBy", "line", "35,139;36,140",
                  "line geometry cannot be used with coveredBy georel");
    query_refused("coveredBy", "point", "35,139",
                  "point geometry cannot be used with coveredBy georel");
    query_refused("near;maxDistance:10", "box", "35,139;36,140",
                  "georel /near/ used with geometry different than point");
    query_refused("near;maxDistance:10", "polygon", "35,139;36,140;36,139;35,139",
                  "georel /near/ used with geometry different than point");
}

Test(query, coords_errors_orion)
{
    query_refused("intersects", "point", ";", "erroneous coordinates for geometry");
    query_refused("intersects", "point", "35", "invalid point in URI param /coords/");
    query_refused("intersects", "point", "35,139,0", "invalid point in URI param /coords/");
    query_refused("intersects", "line", "35,139;", "invalid point in URI param /coords/");
    query_refused("intersects", "line", "35,139;;36,140", "invalid point in URI param /coords/");
    query_refused("intersects", "point", "35,east", "invalid coordinates");
    query_refused("intersects", "point", "35,139;36,140",
                  "invalid number of coordinates for /point/");
    query_refused("intersects", "line", "35,139", "invalid number of coordinates for /line/");
    query_refused("intersects", "box", "35,139", "invalid number of coordinates for /box/");
    query_refused("intersects", "box", "35,139;35,140",
                  "box coordinates are not defining an actual box");
    query_refused("intersects", "polygon", "35,139;36,140;35,139",
                  "Too few coordinates for polygon");
    query_refused("intersects", "polygon", "35,139;36,140;36,139;35,139.5",
                  "First and last point in polygon not the same");
}

Test(query, coords_errors_beyond_orion)
{
    query_refused("intersects", "point", "95,139",
                  "invalid coordinates: latitude 95 out of range [-90, 90]");
    query_refused("intersects", "point", "35,200",
                  "invalid coordinates: longitude 200 out of range [-180, 180]");
    query_refused("intersects", "point", "35,", "invalid coordinates");
    query_refused("intersects", "polygon", "35,139;36,140;35,140;36,139;35,139",
                  "geometry=polygon: invalid exterior ring: edges cross or touch each other");
    query_refused("intersects", "line", "35,139;35,139",
                  "geometry=line: a line needs at least 2 distinct points");
}

Test(query, accepted_syntax)
{
    query_accepted("near;maxDistance:1000", "point", "35.681236,139.767125");
    query_accepted("near;minDistance:1000;maxDistance:5000", "point", "35.681236,139.767125");
    query_accepted("near;maxDistance:1e3", "point", "35.681236,139.767125");
    /* blanks around numbers, as Orion's strtod-based parsing allows */
    query_accepted("intersects", "point", "35.681236, 139.767125");
    query_accepted("intersects", "line", " 35,139; 36 ,140 ");
    query_accepted("intersects", "point", "35 ,139");
    /* leading separators are skipped, as Orion's stringSplit does */
    query_accepted("intersects", "point", ";35,139");
    query_accepted(";intersects", "point", "35,139");
    query_accepted("equals", "box", "36,140;35,139");
    query_accepted("disjoint", "polygon", "35,139;35,140;36,140;35,139");
}

Test(query, reference_geometry_as_orion_builds_it)
{
    geo_query *q = NULL;
    geo_error err;
    json_t *g;
    char *text;

    cr_assert_eq(geo_query_parse("intersects", "box", "35.7,139.8;35.6,139.7", &q, &err), 1);
    cr_assert_eq(geo_query_georel(q), GEO_INTERSECTS);
    g = geo_query_to_geojson(q);
    text = json_dumps(g, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(10));
    cr_assert_str_eq(text, "{\"coordinates\":[[[139.7,35.6],[139.8,35.6],[139.8,35.7],[139.7,35.7],"
                           "[139.7,35.6]]],\"type\":\"Polygon\"}");
    free(text);
    json_decref(g);
    geo_query_free(q);
}
