/*
 * geo_relate.c - spatial relations between shapes, decided exactly in C.
 *
 * MongoDB's meanings, which Orion's georels map to:
 * - distance ($near): from the point to the nearest point of the geometry; 0 inside a polygon.
 * - intersects ($geoIntersects): the two geometries share at least one point, boundary
 *   included; disjoint is its negation.
 * - covered by ($geoWithin): every point of the geometry lies in the polygon, boundary included.
 *
 * Design decisions:
 * - A shape is a bag of points, lines and polygons, so each relation is a loop over component
 *   pairs and one small function per pair of kinds.
 * - "Edge a->b lies in polygon q" splits the edge wherever it meets q's boundary (crossings and
 *   touching vertices) and tests one point per piece: between two such points a piece cannot
 *   change sides. This handles edges running along the boundary or through its vertices.
 * - A polygon lies in q if its boundary does: it cannot contain q's exterior, being smaller
 *   than a hemisphere while the exterior is larger. q has a single ring (Orion's coords cannot
 *   express holes); with holes, q's holes inside the polygon would also have to be ruled out.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ngsi/geo_private.h"

typedef enum comp_kind { COMP_POINT, COMP_LINE, COMP_POLY } comp_kind;

typedef struct comp {
    comp_kind kind;
    geo_vec pt;
    const geo_line *line;
    const geo_polygon *poly;
} comp;

static size_t ncomps(const geo_shape *s)
{
    return s->npoints + s->nlines + s->npolys;
}

/* Component i of s: points first, then lines, then polygons. */
static comp comp_at(const geo_shape *s, size_t i)
{
    comp c = {COMP_POINT, {0, 0, 0}, NULL, NULL};

    if (i < s->npoints) {
        c.pt = s->points[i];
    } else if (i < s->npoints + s->nlines) {
        c.kind = COMP_LINE;
        c.line = &s->lines[i - s->npoints];
    } else {
        c.kind = COMP_POLY;
        c.poly = &s->polys[i - s->npoints - s->nlines];
    }
    return c;
}

static geo_vec ring_next(const geo_ring *r, size_t i)
{
    return r->v[(i + 1) % r->n];
}

/* ---- distance ---------------------------------------------------------------------------- */

static double dist_to_line(geo_vec p, const geo_line *l)
{
    double d = M_PI;

    for (size_t i = 0; i + 1 < l->n; i++)
        d = fmin(d, geo_arc_dist(p, l->v[i], l->v[i + 1]));
    return d;
}

static double dist_to_poly(geo_vec p, const geo_polygon *q)
{
    double d = M_PI;

    if (geo_polygon_locate(q, p) != GEO_OUT)
        return 0;
    for (size_t k = 0; k < q->nrings; k++) {
        const geo_ring *r = &q->rings[k];
        for (size_t i = 0; i < r->n; i++)
            d = fmin(d, geo_arc_dist(p, r->v[i], ring_next(r, i)));
    }
    return d;
}

static double dist_to_comp(geo_vec p, const comp *c)
{
    switch (c->kind) {
    case COMP_POINT:
        return geo_angle(p, c->pt);
    case COMP_LINE:
        return dist_to_line(p, c->line);
    default:
        return dist_to_poly(p, c->poly);
    }
}

/* Angular distance from p to the nearest point of s. */
double geo_shape_distance_rad(const geo_shape *s, geo_vec p)
{
    double d = M_PI;

    for (size_t i = 0; i < ncomps(s); i++) {
        comp c = comp_at(s, i);
        d = fmin(d, dist_to_comp(p, &c));
    }
    return d;
}

/* ---- intersects -------------------------------------------------------------------------- */

/* 1 if edge a->b meets any edge of any ring of q. */
static int edge_meets_poly(geo_vec a, geo_vec b, const geo_polygon *q)
{
    for (size_t k = 0; k < q->nrings; k++) {
        const geo_ring *r = &q->rings[k];
        for (size_t i = 0; i < r->n; i++) {
            if (geo_arcs_touch(a, b, r->v[i], ring_next(r, i)))
                return 1;
        }
    }
    return 0;
}

static int line_meets_line(const geo_line *l, const geo_line *m)
{
    for (size_t i = 0; i + 1 < l->n; i++) {
        for (size_t j = 0; j + 1 < m->n; j++) {
            if (geo_arcs_touch(l->v[i], l->v[i + 1], m->v[j], m->v[j + 1]))
                return 1;
        }
    }
    return 0;
}

static int line_meets_poly(const geo_line *l, const geo_polygon *q)
{
    for (size_t i = 0; i < l->n; i++) {
        if (geo_polygon_locate(q, l->v[i]) != GEO_OUT)
            return 1;
    }
    for (size_t i = 0; i + 1 < l->n; i++) {
        if (edge_meets_poly(l->v[i], l->v[i + 1], q))
            return 1;
    }
    return 0;
}

static int poly_meets_poly(const geo_polygon *p, const geo_polygon *q)
{
    for (size_t k = 0; k < p->nrings; k++) {
        const geo_ring *r = &p->rings[k];
        for (size_t i = 0; i < r->n; i++) {
            if (edge_meets_poly(r->v[i], ring_next(r, i), q))
                return 1;
        }
    }
    /* Boundaries apart: one lies wholly inside the other or they are apart. */
    return geo_polygon_locate(q, p->rings[0].v[0]) != GEO_OUT ||
           geo_polygon_locate(p, q->rings[0].v[0]) != GEO_OUT;
}

/* a->kind <= b->kind. */
static int comps_meet_ordered(const comp *a, const comp *b)
{
    if (a->kind == COMP_POINT) {
        if (b->kind == COMP_POINT)
            return geo_angle(a->pt, b->pt) <= GEO_EPS_RAD;
        if (b->kind == COMP_LINE)
            return dist_to_line(a->pt, b->line) <= GEO_EPS_RAD;
        return geo_polygon_locate(b->poly, a->pt) != GEO_OUT;
    }
    if (a->kind == COMP_LINE)
        return b->kind == COMP_LINE ? line_meets_line(a->line, b->line)
                                    : line_meets_poly(a->line, b->poly);
    return poly_meets_poly(a->poly, b->poly);
}

static int comps_meet(const comp *a, const comp *b)
{
    return a->kind <= b->kind ? comps_meet_ordered(a, b) : comps_meet_ordered(b, a);
}

/* 1 if a and b share at least one point. */
int geo_shapes_intersect(const geo_shape *a, const geo_shape *b)
{
    for (size_t i = 0; i < ncomps(a); i++) {
        comp ca = comp_at(a, i);
        for (size_t j = 0; j < ncomps(b); j++) {
            comp cb = comp_at(b, j);
            if (comps_meet(&ca, &cb))
                return 1;
        }
    }
    return 0;
}

/* ---- covered by -------------------------------------------------------------------------- */

static int by_value(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static size_t ring_edges(const geo_polygon *q)
{
    size_t n = 0;

    for (size_t k = 0; k < q->nrings; k++)
        n += q->rings[k].n;
    return n;
}

/* Positions along a->b (angles from a, in [0, len]) where it meets q's boundary, plus both
 * ends. Returns the count; t must hold 2 * ring_edges(q) + 2 values. */
static size_t split_points(geo_vec a, geo_vec b, const geo_polygon *q, double *t)
{
    double len = geo_angle(a, b);
    size_t n = 0;

    t[n++] = 0;
    t[n++] = len;
    for (size_t k = 0; k < q->nrings; k++) {
        const geo_ring *r = &q->rings[k];
        for (size_t i = 0; i < r->n; i++) {
            geo_vec c = r->v[i], d = ring_next(r, i);
            if (geo_arcs_cross(a, b, c, d))
                t[n++] = geo_arc_param(a, b, geo_arcs_crossing_point(a, b, c, d));
            if (geo_arc_dist(c, a, b) <= GEO_EPS_RAD)
                t[n++] = fmin(len, fmax(0, geo_arc_param(a, b, c)));
        }
    }
    return n;
}

/* 1 if every point of edge a->b lies in q (boundary included); -1 if out of memory. */
static int edge_covered(geo_vec a, geo_vec b, const geo_polygon *q)
{
    double *t = malloc((2 * ring_edges(q) + 2) * sizeof(*t));
    size_t n;
    int covered = 1;

    if (t == NULL)
        return -1;
    n = split_points(a, b, q, t);
    qsort(t, n, sizeof(*t), by_value);
    covered = geo_polygon_locate(q, a) != GEO_OUT && geo_polygon_locate(q, b) != GEO_OUT;
    for (size_t i = 0; i + 1 < n && covered; i++) {
        if (t[i + 1] - t[i] > 2 * GEO_EPS_RAD)
            covered = geo_polygon_locate(q, geo_arc_point(a, b, (t[i] + t[i + 1]) / 2)) != GEO_OUT;
    }
    free(t);
    return covered;
}

static int edges_covered(const geo_vec *v, size_t n, int closed, const geo_polygon *q)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (edge_covered(v[i], v[i + 1], q) != 1)
            return 0;
    }
    return !closed || edge_covered(v[n - 1], v[0], q) == 1;
}

static int poly_covered(const geo_polygon *p, const geo_polygon *q)
{
    for (size_t k = 0; k < p->nrings; k++) {
        if (!edges_covered(p->rings[k].v, p->rings[k].n, 1, q))
            return 0;
    }
    return 1;
}

/* 1 if every point of s lies in q, a polygon without holes (boundary included). Out of memory
 * counts as "not covered". */
int geo_shape_covered_by(const geo_shape *s, const geo_polygon *q)
{
    for (size_t i = 0; i < s->npoints; i++) {
        if (geo_polygon_locate(q, s->points[i]) == GEO_OUT)
            return 0;
    }
    for (size_t i = 0; i < s->nlines; i++) {
        if (!edges_covered(s->lines[i].v, s->lines[i].n, 0, q))
            return 0;
    }
    for (size_t i = 0; i < s->npolys; i++) {
        if (!poly_covered(&s->polys[i], q))
            return 0;
    }
    return 1;
}

/* ---- equals ------------------------------------------------------------------------------ */

/* Coordinates compare as MongoDB compares them: same nesting, numbers by value (1 == 1.0). */
static int coords_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++) {
            if (!coords_equal(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        }
        return 1;
    }
    return 0;
}

/* 1 if two GeoJSON geometries have the same type and the same coordinates, in the same order. */
int geo_geojson_equal(const json_t *a, const json_t *b)
{
    const char *ta = json_string_value(json_object_get(a, "type"));
    const char *tb = json_string_value(json_object_get(b, "type"));

    if (ta == NULL || tb == NULL || strcmp(ta, tb) != 0)
        return 0;
    return coords_equal(json_object_get(a, "coordinates"), json_object_get(b, "coordinates"));
}
