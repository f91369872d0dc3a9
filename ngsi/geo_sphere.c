/*
 * geo_sphere.c - vector algebra on the unit sphere and great-circle arcs.
 *
 * Design decisions:
 * - A point is a 3-D unit vector; an arc is the shorter great-circle path between two vectors
 *   (the library rejects antipodal edges, whose path is undefined). MongoDB's 2dsphere (S2)
 *   models edges the same way, and the antimeridian and the poles need no special case.
 * - Orientation predicates use the exact sign of a triple product. Degenerate contacts (a vertex
 *   on the other arc) are found by distance with GEO_EPS_RAD instead, so callers never depend on
 *   the sign of a rounding error.
 * - Distances to a great circle use asin of the distance to its plane, which stays accurate for
 *   the millimetre distances the boundary rules need (acos of a dot product would not).
 */
#include <math.h>

#include "ngsi/geo_private.h"

#define DEG2RAD (M_PI / 180.0)
#define RAD2DEG (180.0 / M_PI)

geo_vec geo_vec_from_ll(double lat_deg, double lon_deg)
{
    double lat = lat_deg * DEG2RAD;
    double lon = lon_deg * DEG2RAD;
    geo_vec v = {cos(lat) * cos(lon), cos(lat) * sin(lon), sin(lat)};
    return v;
}

/* Latitude and longitude in degrees; at a pole the longitude is 0. */
geo_ll geo_vec_to_ll(geo_vec v)
{
    geo_ll p;
    double h = hypot(v.x, v.y);

    p.lat = atan2(v.z, h) * RAD2DEG;
    p.lon = h == 0 ? 0 : atan2(v.y, v.x) * RAD2DEG;
    return p;
}

geo_vec geo_add(geo_vec a, geo_vec b)
{
    geo_vec r = {a.x + b.x, a.y + b.y, a.z + b.z};
    return r;
}

geo_vec geo_scale(geo_vec a, double k)
{
    geo_vec r = {a.x * k, a.y * k, a.z * k};
    return r;
}

double geo_dot(geo_vec a, geo_vec b)
{
    return a.x * b.x + a.y * b.y + a.z * b.z;
}

geo_vec geo_cross(geo_vec a, geo_vec b)
{
    geo_vec r = {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
    return r;
}

double geo_norm(geo_vec a)
{
    return sqrt(geo_dot(a, a));
}

/* a scaled to length 1; the zero vector stays zero. */
geo_vec geo_unit(geo_vec a)
{
    double n = geo_norm(a);
    return n == 0 ? a : geo_scale(a, 1.0 / n);
}

int geo_vec_eq(geo_vec a, geo_vec b)
{
    return a.x == b.x && a.y == b.y && a.z == b.z;
}

/* Angle between two unit vectors in radians, accurate at 0 and at pi. */
double geo_angle(geo_vec a, geo_vec b)
{
    return atan2(geo_norm(geo_cross(a, b)), geo_dot(a, b));
}

/* +1 if c is on the left of the directed great circle a->b, -1 on the right, 0 on it. */
int geo_orient(geo_vec a, geo_vec b, geo_vec c)
{
    double d = geo_dot(geo_cross(a, b), c);
    return (d > 0) - (d < 0);
}

/* Whether p projects onto the arc a->b (n = a x b, not zero). */
static int projects_onto(geo_vec a, geo_vec b, geo_vec n, geo_vec p)
{
    return geo_dot(geo_cross(a, p), n) >= 0 && geo_dot(geo_cross(p, b), n) >= 0;
}

/* Angular distance from p to the nearest point of the arc a->b. */
double geo_arc_dist(geo_vec p, geo_vec a, geo_vec b)
{
    geo_vec n = geo_cross(a, b);
    double nn = geo_norm(n);
    double d = fmin(geo_angle(p, a), geo_angle(p, b));

    if (nn > 0 && projects_onto(a, b, n, p)) {
        double s = fabs(geo_dot(p, n)) / nn;
        d = fmin(d, asin(fmin(s, 1.0)));
    }
    return d;
}

/* 1 if the arcs a->b and c->d cross at a point interior to both (a proper crossing). Contacts
 * at or along a vertex give 0; geo_arcs_touch finds those. The third condition rejects a pair
 * whose great circles meet on the far side of the sphere. */
int geo_arcs_cross(geo_vec a, geo_vec b, geo_vec c, geo_vec d)
{
    int s = geo_orient(a, b, c);

    return s != 0 && geo_orient(a, b, d) == -s && geo_orient(c, d, a) == -s &&
           geo_orient(c, d, b) == s;
}

/* 1 if the arcs share any point: a proper crossing or a vertex on (or within GEO_EPS_RAD of)
 * the other arc. */
int geo_arcs_touch(geo_vec a, geo_vec b, geo_vec c, geo_vec d)
{
    return geo_arcs_cross(a, b, c, d) || geo_arc_dist(c, a, b) <= GEO_EPS_RAD ||
           geo_arc_dist(d, a, b) <= GEO_EPS_RAD || geo_arc_dist(a, c, d) <= GEO_EPS_RAD ||
           geo_arc_dist(b, c, d) <= GEO_EPS_RAD;
}

/* The point where two crossing arcs meet (call only when geo_arcs_cross says they do). */
geo_vec geo_arcs_crossing_point(geo_vec a, geo_vec b, geo_vec c, geo_vec d)
{
    geo_vec x = geo_unit(geo_cross(geo_cross(a, b), geo_cross(c, d)));

    return geo_dot(x, geo_add(a, b)) < 0 ? geo_scale(x, -1) : x;
}

/* Unit tangent at a pointing along the arc towards b; zero if a == b. */
static geo_vec tangent(geo_vec a, geo_vec b)
{
    return geo_unit(geo_add(b, geo_scale(a, -geo_dot(a, b))));
}

/* Angle from a to the projection of x on the great circle a->b, measured towards b. */
double geo_arc_param(geo_vec a, geo_vec b, geo_vec x)
{
    geo_vec u = tangent(a, b);
    return atan2(geo_dot(x, u), geo_dot(x, a));
}

/* The point at angle t from a along the great circle towards b. */
geo_vec geo_arc_point(geo_vec a, geo_vec b, double t)
{
    geo_vec u = tangent(a, b);
    return geo_unit(geo_add(geo_scale(a, cos(t)), geo_scale(u, sin(t))));
}

static double lat_of(geo_vec v)
{
    return atan2(v.z, hypot(v.x, v.y));
}

/* Latitude range (radians) of the arc a->b: its end points, widened to the great circle's
 * northern- or southernmost point when the arc passes it (an arc between two points at 35N
 * bulges towards the pole). */
void geo_arc_lat_range(geo_vec a, geo_vec b, double *lat_min, double *lat_max)
{
    geo_vec n = geo_unit(geo_cross(a, b));
    geo_vec top = {-n.x * n.z, -n.y * n.z, 1 - n.z * n.z};

    *lat_min = fmin(lat_of(a), lat_of(b));
    *lat_max = fmax(lat_of(a), lat_of(b));
    if (geo_norm(n) == 0 || geo_norm(top) < 1e-15)
        return; /* a == b, or the arc lies on the equator */
    top = geo_unit(top);
    n = geo_cross(a, b);
    if (projects_onto(a, b, n, top))
        *lat_max = fmax(*lat_max, lat_of(top));
    if (projects_onto(a, b, n, geo_scale(top, -1)))
        *lat_min = fmin(*lat_min, -lat_of(top));
}
