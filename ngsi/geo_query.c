/*
 * geo_query.c - Orion's georel/geometry/coords URI parameters, and matching shapes against them.
 *
 * Design decisions:
 * - Parsing follows Orion's own (GeoFilter::fill, Georel::parse, Geometry::parse) step by step
 *   and in the same order, so that the first error found, and its text, are Orion's:
 *   "partial geo expression" first, then geometry, georel, invalid combinations, coords.
 *   Lists are split as Orion's stringSplit splits them (leading delimiters skipped, empty pieces
 *   kept), and numbers may have blanks around them as with Orion's str2double.
 * - Deviations, all towards clearer 400s: an empty number, a non-finite one or a negative
 *   distance is refused (Orion reads "" as 0 and drops negative distances), coordinates out of
 *   range are refused here (Orion leaves them to MongoDB), and the geometry modifiers Orion
 *   ignores in NGSI-v2 (radius, external) are refused as invalid selectors.
 * - The reference geometry is a geo_shape built with the entity-side builders, so both sides
 *   share validation and relations; its GeoJSON is the one Orion sends to MongoDB (used by
 *   equals, which MongoDB evaluates as an exact match of location.coords).
 * - The query's bounding box is computed once; geo_query_match rejects by box before the exact
 *   test.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ngsi/geo_private.h"

#define ERR_PARTIAL                                                                                \
    "partial geo expression: geometry, georel and coords have to be provided together"

typedef enum geom_kind { GEOM_NONE, GEOM_POINT, GEOM_LINE, GEOM_BOX, GEOM_POLYGON } geom_kind;

struct geo_query {
    geo_georel rel;
    int has_min, has_max;
    double min_m, max_m;
    geo_shape *shape; /* the reference geometry; shape->geojson is what Orion sends MongoDB */
    geo_bbox bbox;
    int bbox_narrows;
};

/* Pieces of a string split at one delimiter; item[i] point into buf. */
typedef struct split_t {
    char *buf;
    size_t n;
    char **item;
} split_t;

static void split_free(split_t *sp)
{
    free(sp->buf);
    free(sp->item);
}

/* Splits s at delim as Orion's stringSplit does. Returns 0, or -1 if out of memory. */
static int split(const char *s, char delim, split_t *sp)
{
    size_t cap = 1;
    char *p;

    while (*s == delim)
        s++;
    sp->n = 0;
    sp->buf = strdup(s);
    for (const char *c = s; *c; c++)
        cap += *c == delim;
    sp->item = malloc(cap * sizeof(*sp->item));
    if (sp->buf == NULL || sp->item == NULL) {
        split_free(sp);
        return -1;
    }
    if (*sp->buf == 0)
        return 0;
    for (p = sp->buf, sp->item[sp->n++] = p; *p; p++) {
        if (*p == delim) {
            *p = 0;
            sp->item[sp->n++] = p + 1;
        }
    }
    return 0;
}

/* A number as Orion's str2double takes it (blanks around allowed), but never empty, non-finite
 * or out of double range. */
static int parse_number(const char *s, double *out)
{
    char *rest;

    errno = 0;
    *out = strtod(s, &rest);
    if (rest == s || errno == ERANGE || !isfinite(*out))
        return 0;
    while (isspace((unsigned char)*rest))
        rest++;
    return *rest == 0;
}

/* ---- georel ------------------------------------------------------------------------------ */

static const char *const georel_names[] = {"near", "coveredBy", "intersects", "equals", "disjoint"};

static int georel_of(const char *s, geo_georel *rel)
{
    for (size_t i = 0; i < sizeof(georel_names) / sizeof(*georel_names); i++) {
        if (strcmp(s, georel_names[i]) == 0) {
            *rel = (geo_georel)i;
            return 1;
        }
    }
    return 0;
}

/* A "maxDistance:<m>" or "minDistance:<m>" modifier. */
static int parse_distance(geo_query *q, const char *item, int is_max, geo_error *err)
{
    const char *name = is_max ? "maxDistance" : "minDistance";
    int *set = is_max ? &q->has_max : &q->has_min;
    double *value = is_max ? &q->max_m : &q->min_m;

    if (*set)
        return geo_fail(err, "%s present more than once", name);
    if (!parse_number(item + strlen(name) + 1, value) || *value < 0)
        return geo_fail(err, "invalid number for %s", name);
    *set = 1;
    return 0;
}

static int parse_georel_item(geo_query *q, const char *item, int *type_set, geo_error *err)
{
    if (georel_of(item, &q->rel)) {
        if (*type_set)
            return geo_fail(err, "georel type present more than once");
        *type_set = 1;
        return 0;
    }
    if (strncmp(item, "maxDistance:", 12) == 0)
        return parse_distance(q, item, 1, err);
    if (strncmp(item, "minDistance:", 12) == 0)
        return parse_distance(q, item, 0, err);
    return geo_fail(err, "Invalid modifier in georel parameter");
}

static int parse_georel(geo_query *q, const char *georel, geo_error *err)
{
    split_t sp;
    int type_set = 0, rc = 0;
    const char *type;

    if (split(georel, ';', &sp) != 0)
        return geo_fail(err, "georel: out of memory");
    if (sp.n == 0)
        rc = geo_fail(err, "empty georel");
    for (size_t i = 0; i < sp.n && rc == 0; i++)
        rc = parse_georel_item(q, sp.item[i], &type_set, err);
    split_free(&sp);
    if (rc != 0)
        return -1;
    type = type_set ? georel_names[q->rel] : "";
    if (q->has_max && (!type_set || q->rel != GEO_NEAR))
        return geo_fail(err, "maxDistance erroneously used with georel /%s/", type);
    if (q->has_min && (!type_set || q->rel != GEO_NEAR))
        return geo_fail(err, "minDistance erroneously used with georel /%s/", type);
    if (type_set && q->rel == GEO_NEAR && !q->has_max && !q->has_min)
        return geo_fail(err, "georel /near/ without either minDistance nor maxDistance");
    return 0;
}

/* ---- geometry ---------------------------------------------------------------------------- */

static const char *const geom_names[] = {"", "point", "line", "box", "polygon"};

static int parse_geometry(const char *geometry, geom_kind *kind, geo_error *err)
{
    split_t sp;
    int rc = 0;

    *kind = GEOM_NONE;
    if (split(geometry, ';', &sp) != 0)
        return geo_fail(err, "geometry: out of memory");
    if (sp.n == 0)
        rc = geo_fail(err, "error parsing geometry: empty geometry");
    for (size_t i = 0; i < sp.n && rc == 0; i++) {
        geom_kind k = GEOM_NONE;
        for (int g = GEOM_POINT; g <= GEOM_POLYGON; g++)
            k = strcmp(sp.item[i], geom_names[g]) == 0 ? (geom_kind)g : k;
        if (k == GEOM_NONE)
            rc =
                geo_fail(err, "error parsing geometry: Invalid selector in geometry specification");
        else if (*kind != GEOM_NONE)
            rc = geo_fail(err, "error parsing geometry: geometry-type present more than once");
        *kind = k;
    }
    split_free(&sp);
    return rc;
}

static int check_combination(const geo_query *q, geom_kind kind, geo_error *err)
{
    if (kind == GEOM_LINE && q->rel == GEO_COVERED_BY)
        return geo_fail(err, "line geometry cannot be used with coveredBy georel");
    if (kind == GEOM_POINT && q->rel == GEO_COVERED_BY)
        return geo_fail(err, "point geometry cannot be used with coveredBy georel");
    if (kind != GEOM_POINT && q->rel == GEO_NEAR)
        return geo_fail(err, "georel /near/ used with geometry different than point");
    return 0;
}

/* ---- coords ------------------------------------------------------------------------------ */

static int parse_coord_pair(const char *text, geo_ll *p, geo_error *err)
{
    split_t sp;
    int rc = 0;

    if (split(text, ',', &sp) != 0)
        return geo_fail(err, "coords: out of memory");
    if (sp.n != 2)
        rc = geo_fail(err, "invalid point in URI param /coords/");
    else if (!parse_number(sp.item[0], &p->lat) || !parse_number(sp.item[1], &p->lon))
        rc = geo_fail(err, "invalid coordinates");
    else if (p->lat < -90 || p->lat > 90)
        rc = geo_fail(err, "invalid coordinates: latitude %.10g out of range [-90, 90]", p->lat);
    else if (p->lon < -180 || p->lon > 180)
        rc = geo_fail(err, "invalid coordinates: longitude %.10g out of range [-180, 180]", p->lon);
    split_free(&sp);
    return rc;
}

/* Parses coords into a new array of *n points (caller frees), or NULL with err filled. */
static geo_ll *parse_coords(const char *coords, size_t *n, geo_error *err)
{
    split_t sp;
    geo_ll *pts = NULL;

    if (split(coords, ';', &sp) != 0) {
        geo_fail(err, "coords: out of memory");
        return NULL;
    }
    *n = sp.n;
    if (sp.n == 0)
        geo_fail(err, "erroneous coordinates for geometry");
    else if (sp.n > GEO_MAX_POSITIONS)
        geo_fail(err, "more than %d points in URI param /coords/", GEO_MAX_POSITIONS);
    else if ((pts = malloc(sp.n * sizeof(*pts))) == NULL)
        geo_fail(err, "coords: out of memory");
    for (size_t i = 0; pts != NULL && i < sp.n; i++) {
        if (parse_coord_pair(sp.item[i], &pts[i], err) != 0) {
            free(pts);
            pts = NULL;
        }
    }
    split_free(&sp);
    return pts;
}

/* ---- reference geometry ------------------------------------------------------------------ */

static json_t *positions_json(const geo_ll *pts, size_t n)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("[ff]", pts[i].lon, pts[i].lat));
    return arr;
}

static int build_polygon(geo_shape *s, const geo_ll *ring, size_t n, geo_error *err)
{
    const geo_ll *rings[1] = {ring};
    size_t ring_n[1] = {n};

    s->geojson =
        json_pack("{s:s, s:[o]}", "type", "Polygon", "coordinates", positions_json(ring, n));
    return geo_shape_add_polygon(s, rings, ring_n, 1, "geometry=polygon", err);
}

/* A box as Orion sends it to MongoDB: from the south-west corner, going east first. */
static int build_box(geo_shape *s, const geo_ll *pts, geo_error *err)
{
    double lat0 = fmin(pts[0].lat, pts[1].lat), lat1 = fmax(pts[0].lat, pts[1].lat);
    double lon0 = fmin(pts[0].lon, pts[1].lon), lon1 = fmax(pts[0].lon, pts[1].lon);
    geo_ll ring[5] = {{lat0, lon0}, {lat0, lon1}, {lat1, lon1}, {lat1, lon0}, {lat0, lon0}};

    if (lat0 == lat1 || lon0 == lon1)
        return geo_fail(err, "box coordinates are not defining an actual box");
    return build_polygon(s, ring, 5, err);
}

static int build_shape(geo_shape *s, geom_kind kind, const geo_ll *pts, size_t n, geo_error *err)
{
    switch (kind) {
    case GEOM_POLYGON:
        if (n < 4)
            return geo_fail(err, "Too few coordinates for polygon");
        if (pts[0].lat != pts[n - 1].lat || pts[0].lon != pts[n - 1].lon)
            return geo_fail(err, "First and last point in polygon not the same");
        return build_polygon(s, pts, n, err);
    case GEOM_LINE:
        if (n < 2)
            return geo_fail(err, "invalid number of coordinates for /line/");
        s->geojson =
            json_pack("{s:s, s:o}", "type", "LineString", "coordinates", positions_json(pts, n));
        return geo_shape_add_line(s, pts, n, "geometry=line", err);
    case GEOM_BOX:
        if (n != 2)
            return geo_fail(err, "invalid number of coordinates for /box/");
        return build_box(s, pts, err);
    default:
        if (n != 1)
            return geo_fail(err, "invalid number of coordinates for /point/");
        s->geojson =
            json_pack("{s:s, s:[ff]}", "type", "Point", "coordinates", pts[0].lon, pts[0].lat);
        return geo_shape_add_point(s, pts[0], "geometry=point", err);
    }
}

static int parse_reference(geo_query *q, geom_kind kind, const char *coords, geo_error *err)
{
    size_t n;
    geo_ll *pts = parse_coords(coords, &n, err);
    int rc;

    if (pts == NULL)
        return -1;
    q->shape = geo_shape_new();
    rc = q->shape == NULL ? geo_fail(err, "coords: out of memory")
                          : build_shape(q->shape, kind, pts, n, err);
    free(pts);
    if (rc == 0)
        geo_shape_finish(q->shape);
    return rc;
}

static void set_bbox(geo_query *q)
{
    q->bbox_narrows = 1;
    if (q->rel == GEO_DISJOINT || (q->rel == GEO_NEAR && !q->has_max)) {
        geo_bbox_world(&q->bbox);
        q->bbox_narrows = 0;
    } else if (q->rel == GEO_NEAR) {
        geo_bbox_of_circle(q->shape->points[0], q->max_m / GEO_EARTH_RADIUS_M, &q->bbox);
    } else {
        q->bbox = q->shape->bbox;
    }
}

/* ---- public ------------------------------------------------------------------------------ */

static int given(const char *s)
{
    return s != NULL && *s != 0;
}

static int parse_all(geo_query *q, const char *georel, const char *geometry, const char *coords,
                     geo_error *err)
{
    geom_kind kind;

    if (parse_geometry(geometry, &kind, err) != 0 || parse_georel(q, georel, err) != 0 ||
        check_combination(q, kind, err) != 0 || parse_reference(q, kind, coords, err) != 0)
        return -1;
    set_bbox(q);
    return 0;
}

int geo_query_parse(const char *georel, const char *geometry, const char *coords, geo_query **out,
                    geo_error *err)
{
    int n = given(georel) + given(geometry) + given(coords);
    geo_query *q;

    *out = NULL;
    if (err != NULL)
        err->status = 0;
    if (n == 0)
        return 0;
    if (n < 3)
        return geo_fail(err, ERR_PARTIAL);
    q = calloc(1, sizeof(*q));
    if (q == NULL)
        return geo_fail(err, "geo-query: out of memory");
    if (parse_all(q, georel, geometry, coords, err) != 0) {
        geo_query_free(q);
        return -1;
    }
    *out = q;
    return 1;
}

void geo_query_free(geo_query *q)
{
    if (q == NULL)
        return;
    geo_shape_free(q->shape);
    free(q);
}

geo_georel geo_query_georel(const geo_query *q)
{
    return q->rel;
}

json_t *geo_query_to_geojson(const geo_query *q)
{
    return json_deep_copy(q->shape->geojson);
}

int geo_query_bbox(const geo_query *q, geo_bbox *out)
{
    *out = q->bbox;
    return q->bbox_narrows;
}

static int near_match(const geo_query *q, const geo_shape *s, double *distance_out)
{
    double d = GEO_EARTH_RADIUS_M * geo_shape_distance_rad(s, q->shape->points[0]);

    if (distance_out != NULL)
        *distance_out = d;
    return (!q->has_max || d <= q->max_m) && (!q->has_min || d >= q->min_m);
}

int geo_query_match(const geo_query *q, const geo_shape *s, double *distance_out)
{
    int boxes_meet;

    if (distance_out != NULL)
        *distance_out = NAN;
    if (q->rel == GEO_NEAR)
        return near_match(q, s, distance_out);
    boxes_meet = geo_bbox_overlaps(&q->shape->bbox, &s->bbox);
    switch (q->rel) {
    case GEO_COVERED_BY:
        return boxes_meet && geo_shape_covered_by(s, &q->shape->polys[0]);
    case GEO_INTERSECTS:
        return boxes_meet && geo_shapes_intersect(s, q->shape);
    case GEO_DISJOINT:
        return !boxes_meet || !geo_shapes_intersect(s, q->shape);
    default:
        return boxes_meet && geo_geojson_equal(s->geojson, q->shape->geojson);
    }
}
