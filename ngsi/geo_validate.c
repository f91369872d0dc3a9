/*
 * geo_validate.c - is a polygon one that MongoDB 2dsphere would index?
 *
 * 2dsphere refuses loops whose edges cross or touch, spikes (an edge doubling back), holes that
 * cross the exterior ring and holes outside it. Orion lets MongoDB find these; with no 2dsphere
 * in the test database, this file finds them so that a bad location is a 400 with a reason
 * instead of an entity that silently never matches.
 *
 * Design decisions:
 * - Edges are swept in order of their lowest latitude (the true latitude range of the arc, not
 *   just its end points), so only edges whose latitude ranges overlap are compared: near
 *   O(n log n) for real boundaries instead of O(n^2).
 * - Within a ring, non-adjacent edges may not meet at all; adjacent edges may only share their
 *   vertex. Between rings only proper crossings are refused: S2 lets loops share a vertex.
 * - Nested holes (a hole inside a hole) are not checked.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ngsi/geo_private.h"

typedef struct edge_ref {
    double lat_lo, lat_hi;
    size_t ring, i;
} edge_ref;

static int by_lat_lo(const void *pa, const void *pb)
{
    const edge_ref *a = pa, *b = pb;
    return (a->lat_lo > b->lat_lo) - (a->lat_lo < b->lat_lo);
}

static geo_vec vertex(const geo_polygon *p, size_t ring, size_t i)
{
    const geo_ring *r = &p->rings[ring];
    return r->v[i % r->n];
}

/* Describes ring k for an error message. */
static const char *ring_name(size_t k, char *buf, size_t len)
{
    if (k == 0)
        return "exterior ring";
    snprintf(buf, len, "hole %zu", k);
    return buf;
}

/* Edges e and f of one ring: 0 if they are fine, else -1 with err filled. */
static int check_same_ring(const geo_polygon *p, const edge_ref *e, const edge_ref *f,
                           const char *ctx, geo_error *err)
{
    size_t n = p->rings[e->ring].n;
    geo_vec a = vertex(p, e->ring, e->i), b = vertex(p, e->ring, e->i + 1);
    geo_vec c = vertex(p, f->ring, f->i), d = vertex(p, f->ring, f->i + 1);
    char buf[32];
    const char *name = ring_name(e->ring, buf, sizeof(buf));

    if (f->i == (e->i + 1) % n || e->i == (f->i + 1) % n) {
        /* Adjacent: they share one vertex; neither far end may lie on the other edge. */
        geo_vec far_e = f->i == (e->i + 1) % n ? a : b;
        geo_vec far_f = f->i == (e->i + 1) % n ? d : c;
        if (geo_arc_dist(far_f, a, b) <= GEO_EPS_RAD || geo_arc_dist(far_e, c, d) <= GEO_EPS_RAD)
            return geo_fail(err, "%s: invalid %s: an edge doubles back on its neighbour", ctx,
                            name);
        return 0;
    }
    if (geo_arcs_touch(a, b, c, d))
        return geo_fail(err, "%s: invalid %s: edges cross or touch each other", ctx, name);
    return 0;
}

static int check_pair(const geo_polygon *p, const edge_ref *e, const edge_ref *f, const char *ctx,
                      geo_error *err)
{
    char b1[32], b2[32];

    if (e->ring == f->ring)
        return check_same_ring(p, e, f, ctx, err);
    if (geo_arcs_cross(vertex(p, e->ring, e->i), vertex(p, e->ring, e->i + 1),
                       vertex(p, f->ring, f->i), vertex(p, f->ring, f->i + 1)))
        return geo_fail(err, "%s: %s and %s cross each other", ctx,
                        ring_name(e->ring < f->ring ? e->ring : f->ring, b1, sizeof(b1)),
                        ring_name(e->ring < f->ring ? f->ring : e->ring, b2, sizeof(b2)));
    return 0;
}

static edge_ref *collect_edges(const geo_polygon *p, size_t *count)
{
    size_t n = 0, k = 0;
    edge_ref *edges;

    for (size_t r = 0; r < p->nrings; r++)
        n += p->rings[r].n;
    edges = malloc(n * sizeof(*edges));
    if (edges == NULL)
        return NULL;
    for (size_t r = 0; r < p->nrings; r++) {
        for (size_t i = 0; i < p->rings[r].n; i++, k++) {
            geo_arc_lat_range(vertex(p, r, i), vertex(p, r, i + 1), &edges[k].lat_lo,
                              &edges[k].lat_hi);
            edges[k].lat_lo -= GEO_EPS_RAD;
            edges[k].lat_hi += GEO_EPS_RAD;
            edges[k].ring = r;
            edges[k].i = i;
        }
    }
    *count = n;
    return edges;
}

static int check_edges(const geo_polygon *p, const char *ctx, geo_error *err)
{
    size_t n;
    edge_ref *edges = collect_edges(p, &n);
    int rc = 0;

    if (edges == NULL)
        return geo_fail(err, "%s: out of memory", ctx);
    qsort(edges, n, sizeof(*edges), by_lat_lo);
    for (size_t i = 0; i < n && rc == 0; i++) {
        for (size_t j = i + 1; j < n && rc == 0 && edges[j].lat_lo <= edges[i].lat_hi; j++)
            rc = check_pair(p, &edges[i], &edges[j], ctx, err);
    }
    free(edges);
    return rc;
}

/* Every vertex of every hole must be inside the exterior ring or on it. */
static int check_holes_inside(const geo_polygon *p, const char *ctx, geo_error *err)
{
    geo_polygon shell = {1, p->rings};
    char buf[32];

    for (size_t k = 1; k < p->nrings; k++) {
        for (size_t i = 0; i < p->rings[k].n; i++) {
            if (geo_polygon_locate(&shell, p->rings[k].v[i]) == GEO_OUT)
                return geo_fail(err, "%s: %s is not inside the exterior ring", ctx,
                                ring_name(k, buf, sizeof(buf)));
        }
    }
    return 0;
}

/* 0 if the polygon is valid (and its rings then have their reference points), else -1. */
int geo_polygon_validate(geo_polygon *poly, const char *ctx, geo_error *err)
{
    if (check_edges(poly, ctx, err) != 0)
        return -1;
    for (size_t k = 0; k < poly->nrings; k++)
        geo_ring_set_refs(&poly->rings[k]);
    return check_holes_inside(poly, ctx, err);
}
