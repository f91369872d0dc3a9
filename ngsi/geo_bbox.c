/*
 * geo_bbox.c - latitude/longitude boxes for prefiltering with plain numeric range queries.
 *
 * Design decisions:
 * - Longitude is a circle, so a box's longitudes are the smallest arc of the circle that covers
 *   the shape: every edge contributes the longitudes it sweeps (an arc moves monotonically east
 *   or west, as the sign of the z of its normal says), and the box is the complement of the
 *   largest gap between them. That arc is then cut at the antimeridian into one or two ranges.
 * - Latitude comes from the vertices and from each arc's highest and lowest point, since
 *   great-circle edges bulge poleward.
 * - Anything that reaches a pole (an arc over it, a polygon around it, a point on it, a near
 *   circle over it) spans all longitudes.
 * - Boxes are padded by BBOX_PAD_DEG: a prefilter may let through more than it must, never less.
 */
#include <math.h>
#include <stdlib.h>

#include "ngsi/geo_private.h"

#define RAD2DEG (180.0 / M_PI)

/* Padding on every side of a box: far larger than the rounding of degrees through vectors,
 * far smaller than anything a map can show. */
#define BBOX_PAD_DEG 1e-9

/* A sweep computed as "almost the whole circle" but within this of 360 degrees is a zero sweep
 * whose end points were rounded apart in the wrong order. */
#define LON_ROUNDING_DEG 1e-7

/* How close to +-90 degrees (in radians) counts as reaching a pole. */
#define POLE_EPS_RAD 1e-12

typedef struct lon_iv {
    double s, e; /* degrees, s in [0, 360), e >= s */
} lon_iv;

typedef struct bbox_acc {
    size_t n, cap;
    lon_iv *iv;
    int full, failed;
    double lat_lo, lat_hi; /* radians */
} bbox_acc;

static double mod360(double d)
{
    double m = fmod(d, 360.0);
    return m < 0 ? m + 360.0 : m;
}

static double lon_deg(geo_vec v)
{
    return atan2(v.y, v.x) * RAD2DEG;
}

static void acc_lat(bbox_acc *acc, double lo, double hi)
{
    acc->lat_lo = fmin(acc->lat_lo, lo);
    acc->lat_hi = fmax(acc->lat_hi, hi);
    if (hi >= M_PI / 2 - POLE_EPS_RAD || lo <= -M_PI / 2 + POLE_EPS_RAD)
        acc->full = 1;
}

static void acc_lon(bbox_acc *acc, double start, double len)
{
    if (len >= 360.0) {
        acc->full = 1;
        return;
    }
    if (acc->n == acc->cap) {
        size_t cap = acc->cap ? 2 * acc->cap : 16;
        lon_iv *grown = realloc(acc->iv, cap * sizeof(*grown));
        if (grown == NULL) {
            acc->failed = 1; /* fall back to the whole world: still a correct prefilter */
            return;
        }
        acc->iv = grown;
        acc->cap = cap;
    }
    acc->iv[acc->n].s = mod360(start);
    acc->iv[acc->n].e = acc->iv[acc->n].s + len;
    acc->n++;
}

static void acc_point(bbox_acc *acc, geo_vec v)
{
    double lat = atan2(v.z, hypot(v.x, v.y));

    acc_lat(acc, lat, lat);
    if (!acc->full)
        acc_lon(acc, lon_deg(v), 0);
}

static void acc_arc(bbox_acc *acc, geo_vec a, geo_vec b)
{
    double lo, hi, la = lon_deg(a), lb = lon_deg(b), start, len;
    geo_vec n = geo_cross(a, b);

    geo_arc_lat_range(a, b, &lo, &hi);
    acc_lat(acc, lo, hi);
    if (acc->full)
        return;
    if (n.z > 0 || (n.z == 0 && mod360(lb - la) <= 180)) {
        start = la;
        len = mod360(lb - la);
    } else {
        start = lb;
        len = mod360(la - lb);
    }
    if (len > 360 - LON_ROUNDING_DEG) {
        start = start == la ? lb : la;
        len = 360 - len;
    }
    acc_lon(acc, start, len);
}

static int by_start(const void *pa, const void *pb)
{
    const lon_iv *a = pa, *b = pb;
    return (a->s > b->s) - (a->s < b->s);
}

/* Merges the sorted intervals in place; returns how many remain. */
static size_t merge(lon_iv *iv, size_t n)
{
    size_t k = 0;

    for (size_t i = 1; i < n; i++) {
        if (iv[i].s <= iv[k].e)
            iv[k].e = fmax(iv[k].e, iv[i].e);
        else
            iv[++k] = iv[i];
    }
    return k + 1;
}

/* The largest uncovered gap between merged intervals (the last may run past 360 and cover the
 * start of the circle). Returns its length (<= 0: no gap) and sets *gap_end to where the covered
 * arc begins. */
static double largest_gap(const lon_iv *m, size_t k, double *gap_end)
{
    double overhang = m[k - 1].e - 360, best = m[0].s + 360 - m[k - 1].e;

    *gap_end = m[0].s;
    for (size_t i = 0; i + 1 < k; i++) {
        double gap = m[i + 1].s - fmax(m[i].e, overhang);
        if (gap > best) {
            best = gap;
            *gap_end = m[i + 1].s;
        }
    }
    return best;
}

static void set_full_lon(geo_bbox *out)
{
    out->nlon = 1;
    out->lon_min[0] = -180;
    out->lon_max[0] = 180;
}

/* Sets the longitude ranges of out from the covered arc [west, west + len]. */
static void set_lon_arc(geo_bbox *out, double west, double len)
{
    double east;

    west = mod360(west);
    if (west >= 180)
        west -= 360;
    west -= BBOX_PAD_DEG;
    east = west + len + 2 * BBOX_PAD_DEG;
    if (east - west >= 360) {
        set_full_lon(out);
    } else if (west < -180 || east > 180) {
        double shift = west < -180 ? 360 : 0;
        out->nlon = 2;
        out->lon_min[0] = west + shift;
        out->lon_max[0] = 180;
        out->lon_min[1] = -180;
        out->lon_max[1] = east + shift - 360;
    } else {
        out->nlon = 1;
        out->lon_min[0] = west;
        out->lon_max[0] = east;
    }
}

static void acc_finish(bbox_acc *acc, geo_bbox *out)
{
    double gap_end, gap;

    out->lat_min = fmax(-90, acc->lat_lo * RAD2DEG - BBOX_PAD_DEG);
    out->lat_max = fmin(90, acc->lat_hi * RAD2DEG + BBOX_PAD_DEG);
    if (acc->full || acc->failed || acc->n == 0) {
        set_full_lon(out);
    } else {
        qsort(acc->iv, acc->n, sizeof(*acc->iv), by_start);
        acc->n = merge(acc->iv, acc->n);
        gap = largest_gap(acc->iv, acc->n, &gap_end);
        if (gap <= 0)
            set_full_lon(out);
        else
            set_lon_arc(out, gap_end, 360 - gap);
    }
    free(acc->iv);
}

static void acc_init(bbox_acc *acc)
{
    acc->n = acc->cap = 0;
    acc->iv = NULL;
    acc->full = acc->failed = 0;
    acc->lat_lo = M_PI;
    acc->lat_hi = -M_PI;
}

static void acc_edges(bbox_acc *acc, const geo_vec *v, size_t n, int closed)
{
    for (size_t i = 0; i + 1 < n; i++)
        acc_arc(acc, v[i], v[i + 1]);
    if (closed)
        acc_arc(acc, v[n - 1], v[0]);
}

static void acc_polygon(bbox_acc *acc, const geo_polygon *p)
{
    geo_vec north = {0, 0, 1}, south = {0, 0, -1};

    for (size_t k = 0; k < p->nrings; k++)
        acc_edges(acc, p->rings[k].v, p->rings[k].n, 1);
    if (geo_polygon_locate(p, north) != GEO_OUT)
        acc_lat(acc, M_PI / 2, M_PI / 2);
    if (geo_polygon_locate(p, south) != GEO_OUT)
        acc_lat(acc, -M_PI / 2, -M_PI / 2);
}

void geo_bbox_of_shape(const geo_shape *s, geo_bbox *out)
{
    bbox_acc acc;

    acc_init(&acc);
    for (size_t i = 0; i < s->npoints; i++)
        acc_point(&acc, s->points[i]);
    for (size_t i = 0; i < s->nlines; i++)
        acc_edges(&acc, s->lines[i].v, s->lines[i].n, 0);
    for (size_t i = 0; i < s->npolys; i++)
        acc_polygon(&acc, &s->polys[i]);
    acc_finish(&acc, out);
}

void geo_bbox_world(geo_bbox *out)
{
    out->lat_min = -90;
    out->lat_max = 90;
    set_full_lon(out);
}

/* The box around the spherical cap of angular radius r around c. Its longitude half-width is
 * where the meridians are tangent to the circle: asin(sin r / cos lat). */
void geo_bbox_of_circle(geo_vec c, double r, geo_bbox *out)
{
    bbox_acc acc;
    double lat = atan2(c.z, hypot(c.x, c.y));

    if (r >= M_PI) {
        geo_bbox_world(out);
        return;
    }
    acc_init(&acc);
    acc_lat(&acc, fmax(lat - r, -M_PI / 2), fmin(lat + r, M_PI / 2));
    if (!acc.full) {
        double half = asin(fmin(1.0, sin(r) / cos(lat))) * RAD2DEG;
        acc_lon(&acc, lon_deg(c) - half, 2 * half);
    }
    acc_finish(&acc, out);
}

static int ranges_overlap(double a0, double a1, double b0, double b1)
{
    return a0 <= b1 && b0 <= a1;
}

int geo_bbox_overlaps(const geo_bbox *a, const geo_bbox *b)
{
    if (!ranges_overlap(a->lat_min, a->lat_max, b->lat_min, b->lat_max))
        return 0;
    for (int i = 0; i < a->nlon; i++) {
        for (int j = 0; j < b->nlon; j++) {
            if (ranges_overlap(a->lon_min[i], a->lon_max[i], b->lon_min[j], b->lon_max[j]))
                return 1;
        }
    }
    return 0;
}
