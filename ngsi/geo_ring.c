/*
 * geo_ring.c - polygon rings: building, orientation, and locating a point.
 *
 * Design decisions:
 * - A ring's interior is the smaller of the two regions it bounds, whatever the order of its
 *   vertices: MongoDB 2dsphere normalises stored loops and single-ring query polygons that way.
 *   The ring is turned so that the interior lies on the left of every edge; the side comes from
 *   the Gauss-Bonnet area (2*pi minus the sum of the turning angles is the area on the left).
 * - A point is located by the parity of crossings along the arc from a reference point known to
 *   be inside the ring. References are taken a little to the left of edge midpoints, closer to
 *   that edge than to any other, so they are inside by construction. If the arc runs exactly
 *   through a vertex (an exact zero orientation), the count is not trusted and another reference
 *   is tried.
 * - The boundary is part of the polygon (Orion: "the border of the shape must be considered to
 *   be part of the shape"), with GEO_EPS_RAD of tolerance.
 */
#include <math.h>
#include <stdlib.h>

#include "ngsi/geo_private.h"

/* The reference point's offset from its edge: small enough to stay inside thin polygons, large
 * enough to stand clear of the GEO_EPS_RAD boundary tolerance. */
#define REF_OFFSET_MAX_RAD 1e-6
#define REF_OFFSET_MIN_RAD 1e-9

/* Vertex i+1 of a ring, wrapping round. */
static geo_vec next_vertex(const geo_ring *r, size_t i)
{
    return r->v[(i + 1) % r->n];
}

/* Copies pts (closed: the last equals the first) without the closing vertex and without
 * consecutive duplicates. Returns the number of vertices kept. */
static size_t copy_distinct(geo_vec *out, const geo_ll *pts, size_t n)
{
    size_t k = 0;

    for (size_t i = 0; i + 1 < n; i++) {
        geo_vec v = geo_vec_from_ll(pts[i].lat, pts[i].lon);
        if (k == 0 || !geo_vec_eq(v, out[k - 1]))
            out[k++] = v;
    }
    while (k > 1 && geo_vec_eq(out[k - 1], out[0]))
        k--;
    return k;
}

/* Sum of the signed turning angles at the vertices (left turns positive). */
static double turning_sum(const geo_ring *r)
{
    double sum = 0;

    for (size_t i = 0; i < r->n; i++) {
        geo_vec a = r->v[(i + r->n - 1) % r->n];
        geo_vec b = r->v[i];
        geo_vec c = next_vertex(r, i);
        geo_vec n1 = geo_cross(a, b);
        geo_vec n2 = geo_cross(b, c);
        sum += atan2(geo_dot(geo_cross(n1, n2), b), geo_dot(n1, n2));
    }
    return sum;
}

static void reverse(geo_ring *r)
{
    for (size_t i = 0, j = r->n - 1; i < j; i++, j--) {
        geo_vec t = r->v[i];
        r->v[i] = r->v[j];
        r->v[j] = t;
    }
}

/* Builds ring from the closed list pts (n >= 4, first == last, checked by the caller). Fails if
 * fewer than 3 distinct vertices remain or an edge joins antipodal points. The references are
 * set later by geo_ring_set_refs, once the polygon is known to be valid. */
int geo_ring_init(geo_ring *ring, const geo_ll *pts, size_t n, const char *ctx, geo_error *err)
{
    ring->nref = 0;
    ring->v = malloc(n * sizeof(*ring->v));
    if (ring->v == NULL)
        return geo_fail(err, "%s: out of memory", ctx);
    ring->n = copy_distinct(ring->v, pts, n);
    if (ring->n < 3)
        return geo_fail(err, "%s: a ring needs at least 3 distinct vertices", ctx);
    for (size_t i = 0; i < ring->n; i++) {
        if (geo_angle(ring->v[i], next_vertex(ring, i)) >= M_PI - GEO_EPS_RAD)
            return geo_fail(err, "%s: an edge joins two antipodal points", ctx);
    }
    if (2 * M_PI - turning_sum(ring) > 2 * M_PI)
        reverse(ring);
    return 0;
}

/* Distance from p to the nearest edge of r other than edge skip. */
static double dist_to_other_edges(const geo_ring *r, geo_vec p, size_t skip)
{
    double d = M_PI;

    for (size_t j = 0; j < r->n; j++) {
        if (j != skip)
            d = fmin(d, geo_arc_dist(p, r->v[j], next_vertex(r, j)));
    }
    return d;
}

/* A point just left of the midpoint of edge i, or 0 if other edges crowd it too closely. */
static int ref_near_edge(const geo_ring *r, size_t i, geo_vec *out)
{
    geo_vec a = r->v[i];
    geo_vec b = next_vertex(r, i);
    geo_vec mid = geo_unit(geo_add(a, b));
    geo_vec left = geo_unit(geo_cross(a, b));
    double offset = fmin(REF_OFFSET_MAX_RAD, 0.25 * dist_to_other_edges(r, mid, i));

    if (offset < REF_OFFSET_MIN_RAD)
        return 0;
    *out = geo_unit(geo_add(mid, geo_scale(left, offset)));
    return 1;
}

/* Picks up to GEO_RING_REFS reference points near edges spread round the ring. */
void geo_ring_set_refs(geo_ring *ring)
{
    ring->nref = 0;
    for (size_t k = 0; k < GEO_RING_REFS && k < ring->n; k++) {
        size_t i = k * ring->n / GEO_RING_REFS;
        if (ref_near_edge(ring, i, &ring->ref[ring->nref]))
            ring->nref++;
    }
    if (ring->nref == 0) {
        /* Only a ring whose edges nearly touch everywhere gets here; validation rejects such
         * rings, so this is a best effort that keeps the struct usable. */
        geo_vec a = ring->v[0], b = next_vertex(ring, 0);
        geo_vec left = geo_unit(geo_cross(a, b));
        ring->ref[0] = geo_unit(geo_add(geo_unit(geo_add(a, b)), geo_scale(left, 1e-9)));
        ring->nref = 1;
    }
}

/* Parity of the crossings of the arc ref->p with the ring's edges; *degenerate is set if the
 * arc runs exactly through a vertex or p is (nearly) antipodal to ref. */
static int crossing_parity(const geo_ring *r, geo_vec ref, geo_vec p, int *degenerate)
{
    int parity = 0;

    *degenerate = geo_dot(ref, p) < -1 + 1e-12;
    for (size_t i = 0; i < r->n && !*degenerate; i++) {
        if (geo_orient(ref, p, r->v[i]) == 0)
            *degenerate = 1;
        parity ^= geo_arcs_cross(ref, p, r->v[i], next_vertex(r, i));
    }
    return parity;
}

/* 1 if p is inside the ring (p must not be on the boundary). */
static int ring_contains(const geo_ring *r, geo_vec p)
{
    int inside = 0;

    for (size_t k = 0; k < r->nref; k++) {
        int degenerate;
        inside = !crossing_parity(r, r->ref[k], p, &degenerate);
        if (!degenerate)
            break;
    }
    return inside;
}

static int on_ring(const geo_ring *r, geo_vec p)
{
    for (size_t i = 0; i < r->n; i++) {
        if (geo_arc_dist(p, r->v[i], next_vertex(r, i)) <= GEO_EPS_RAD)
            return 1;
    }
    return 0;
}

/* Where p lies: on a ring (GEO_ON), inside the exterior ring and outside every hole (GEO_IN),
 * or elsewhere (GEO_OUT). */
geo_where geo_polygon_locate(const geo_polygon *poly, geo_vec p)
{
    for (size_t k = 0; k < poly->nrings; k++) {
        if (on_ring(&poly->rings[k], p))
            return GEO_ON;
    }
    if (!ring_contains(&poly->rings[0], p))
        return GEO_OUT;
    for (size_t k = 1; k < poly->nrings; k++) {
        if (ring_contains(&poly->rings[k], p))
            return GEO_OUT;
    }
    return GEO_IN;
}

void geo_polygon_free(geo_polygon *poly)
{
    for (size_t k = 0; k < poly->nrings; k++)
        free(poly->rings[k].v);
    free(poly->rings);
    poly->rings = NULL;
    poly->nrings = 0;
}
