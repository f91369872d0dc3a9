/*
 * geo_parse.c - location attributes (entity side) into geo_shape values.
 *
 * Accepted, as Orion accepts them (see docs/geo.md):
 * - geo:json: Point, MultiPoint, LineString, MultiLineString, Polygon (holes allowed),
 *   MultiPolygon; a Feature stands for its `geometry`, a FeatureCollection for the geometry of
 *   its only feature (Orion refuses collections of zero or several features).
 * - the legacy Simple Location Format: geo:point ("lat, lon"), geo:line, geo:box (two corners)
 *   and geo:polygon (closed, at least 4 points), all as "lat, lon" strings.
 * - null, for any of them: the attribute is then no location (Orion accepts a null geo:json).
 *
 * Design decisions:
 * - Error texts are Orion's where Orion has one (its location parser's); where Orion leaves the
 *   refusal to MongoDB (ranges in GeoJSON, self-intersection, GeometryCollection), the text says
 *   what is wrong, prefixed with the attribute type and GeoJSON type.
 * - "lat, lon" strings are read as Orion's string2coords reads them (split at the first comma,
 *   blanks around each number allowed, lat in [-90,90], lon in [-180,180]), except that an
 *   empty number is refused where Orion's strtod-based check would read it as 0.
 * - The stored GeoJSON is the client's geometry object, copied as is; only Feature and
 *   FeatureCollection are unwrapped.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ngsi/geo_private.h"

/* A GeoJSON position has 2 numbers, or 3 with an altitude (ignored, as 2dsphere ignores it). */
#define POSITION_MAX_NUMBERS 3

/* Orion's texts for the Simple Location Format. */
#define ERR_COORDS_FORMAT "geo coordinates format error [see Orion user manual]: %s"
#define ERR_NEEDS_STRINGS "geo:line, geo:box and geo:polygon needs array of strings as value"
#define ERR_SOME_NOT_STRING                                                                        \
    "geo:line, geo:box and geo:polygon needs array of strings but some element is not a string"

static const char *const location_types[] = {"geo:point", "geo:line", "geo:box", "geo:polygon",
                                             "geo:json"};

int geo_is_location_type(const char *attr_type)
{
    for (size_t i = 0; attr_type && i < sizeof(location_types) / sizeof(*location_types); i++) {
        if (strcmp(attr_type, location_types[i]) == 0)
            return 1;
    }
    return 0;
}

/* ---- "lat, lon" strings ------------------------------------------------------------------ */

static char *strip(char *s)
{
    char *end = s + strlen(s);

    while (isspace((unsigned char)*s))
        s++;
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = 0;
    return s;
}

/* Parses a whole string as a double: no empty string, no trailing garbage, no overflow. */
static int full_double(const char *s, double *out)
{
    char *rest;

    errno = 0;
    *out = strtod(s, &rest);
    return *s != 0 && *rest == 0 && errno != ERANGE;
}

/* Parses "lat, lon" into *p. Returns 0, or -1 if it is not two numbers in range. */
static int parse_latlon(const char *text, geo_ll *p)
{
    char *copy = strdup(text), *comma;
    int ok;

    if (copy == NULL)
        return -1;
    comma = strchr(copy, ',');
    ok = comma != NULL;
    if (ok) {
        *comma = 0;
        ok = full_double(strip(copy), &p->lat) && full_double(strip(comma + 1), &p->lon) &&
             p->lat >= -90 && p->lat <= 90 && p->lon >= -180 && p->lon <= 180;
    }
    free(copy);
    return ok ? 0 : -1;
}

/* Reads an array of "lat, lon" strings. Returns a new array of *n points (caller frees). */
static geo_ll *parse_latlon_array(const json_t *value, size_t *n, geo_error *err)
{
    geo_ll *pts;

    if (!json_is_array(value)) {
        geo_fail(err, ERR_NEEDS_STRINGS);
        return NULL;
    }
    *n = json_array_size(value);
    if (*n > GEO_MAX_POSITIONS) {
        geo_fail(err, "location has more than %d coordinates", GEO_MAX_POSITIONS);
        return NULL;
    }
    pts = malloc((*n ? *n : 1) * sizeof(*pts));
    for (size_t i = 0; pts != NULL && i < *n; i++) {
        const char *s = json_string_value(json_array_get(value, i));
        if (s == NULL || parse_latlon(s, &pts[i]) != 0) {
            geo_fail(err, s == NULL ? ERR_SOME_NOT_STRING : ERR_COORDS_FORMAT, s);
            free(pts);
            return NULL;
        }
    }
    if (pts == NULL)
        geo_fail(err, "location: out of memory");
    return pts;
}

/* [lon, lat] as a new JSON array. */
static json_t *position_json(geo_ll p)
{
    return json_pack("[ff]", p.lon, p.lat);
}

/* {"type": type, "coordinates": coords}; steals coords. */
static json_t *geometry_json(const char *type, json_t *coords)
{
    return json_pack("{s:s, s:o}", "type", type, "coordinates", coords);
}

/* A Polygon's GeoJSON with one ring made of pts. */
static json_t *ring_polygon_json(const geo_ll *pts, size_t n)
{
    json_t *ring = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(ring, position_json(pts[i]));
    return geometry_json("Polygon", json_pack("[o]", ring));
}

static int parse_point(geo_shape *s, const json_t *value, geo_error *err)
{
    const char *text = json_string_value(value);
    geo_ll p;

    if (text == NULL || parse_latlon(text, &p) != 0)
        return geo_fail(err, ERR_COORDS_FORMAT, text ? text : "");
    s->geojson = geometry_json("Point", position_json(p));
    return geo_shape_add_point(s, p, "geo:point", err);
}

static int parse_line(geo_shape *s, const geo_ll *pts, size_t n, geo_error *err)
{
    json_t *coords;

    if (n < 2)
        return geo_fail(err, "geo:line uses at least 2 coordinates");
    coords = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(coords, position_json(pts[i]));
    s->geojson = geometry_json("LineString", coords);
    return geo_shape_add_line(s, pts, n, "geo:line", err);
}

/* geo:box: two opposite corners in any order, stored as Orion stores it: a Polygon from the
 * south-west corner going north first. */
static int parse_box(geo_shape *s, const geo_ll *pts, size_t n, geo_error *err)
{
    double lat0, lat1, lon0, lon1;
    geo_ll ring[5];
    const geo_ll *rings[1] = {ring};
    size_t ring_n[1] = {5};

    if (n != 2)
        return geo_fail(err, "geo:box uses exactly 2 coordinates");
    lat0 = fmin(pts[0].lat, pts[1].lat);
    lat1 = fmax(pts[0].lat, pts[1].lat);
    lon0 = fmin(pts[0].lon, pts[1].lon);
    lon1 = fmax(pts[0].lon, pts[1].lon);
    if (lat0 == lat1 || lon0 == lon1)
        return geo_fail(err, "geo:box coordinates are not defining an actual box");
    ring[0] = (geo_ll){lat0, lon0};
    ring[1] = (geo_ll){lat1, lon0};
    ring[2] = (geo_ll){lat1, lon1};
    ring[3] = (geo_ll){lat0, lon1};
    ring[4] = ring[0];
    s->geojson = ring_polygon_json(ring, 5);
    return geo_shape_add_polygon(s, rings, ring_n, 1, "geo:box", err);
}

static int parse_polygon(geo_shape *s, const geo_ll *pts, size_t n, geo_error *err)
{
    const geo_ll *rings[1] = {pts};
    size_t ring_n[1] = {n};

    if (n < 4)
        return geo_fail(err, "geo:polygon uses at least 4 coordinates");
    if (pts[0].lat != pts[n - 1].lat || pts[0].lon != pts[n - 1].lon)
        return geo_fail(err, "geo:polygon first and last coordinates must match");
    s->geojson = ring_polygon_json(pts, n);
    return geo_shape_add_polygon(s, rings, ring_n, 1, "geo:polygon", err);
}

/* geo:line, geo:box, geo:polygon: arrays of "lat, lon" strings. */
static int parse_legacy_array(geo_shape *s, const char *type, const json_t *value, geo_error *err)
{
    size_t n;
    geo_ll *pts = parse_latlon_array(value, &n, err);
    int rc;

    if (pts == NULL)
        return -1;
    if (strcmp(type, "geo:line") == 0)
        rc = parse_line(s, pts, n, err);
    else if (strcmp(type, "geo:box") == 0)
        rc = parse_box(s, pts, n, err);
    else
        rc = parse_polygon(s, pts, n, err);
    free(pts);
    return rc;
}

/* ---- entry point ------------------------------------------------------------------------- */

int geo_shape_from_attr(const char *attr_type, const json_t *value, geo_shape **out, geo_error *err)
{
    geo_shape *s;
    int rc;

    *out = NULL;
    if (err != NULL)
        err->status = 0;
    if (!geo_is_location_type(attr_type))
        return geo_fail(err, "attribute type %.64s is not a location type",
                        attr_type ? attr_type : "(none)");
    if (value == NULL || json_is_null(value))
        return 0;
    s = geo_shape_new();
    if (s == NULL)
        return geo_fail(err, "location: out of memory");
    if (strcmp(attr_type, "geo:point") == 0)
        rc = parse_point(s, value, err);
    else if (strcmp(attr_type, "geo:json") == 0)
        rc = geo_json_parse(s, value, err);
    else
        rc = parse_legacy_array(s, attr_type, value, err);
    if (rc != 0) {
        geo_shape_free(s);
        return -1;
    }
    geo_shape_finish(s);
    *out = s;
    return 1;
}
