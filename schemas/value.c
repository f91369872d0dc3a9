/*
 * schemas/value.c: what validation needs to know about instance values.
 *
 * JSON Schema compares numbers by mathematical value: 1, 1.0 and 1e0 are the
 * same number for "enum", "const" and "uniqueItems", and 1.0 is an
 * "integer". jansson keeps integers (json_int_t) and reals (double) apart, so
 * comparisons go through long double, which holds every int64 and every
 * double exactly on the platforms we build for (x86-64 80-bit, aarch64
 * 128-bit); integer against integer stays in json_int_t.
 *
 * "uniqueItems" on a large array hashes items with a hash that agrees with
 * that equality, sorts by hash and compares only within equal-hash runs;
 * small arrays are compared pairwise without allocating.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_private.h"

/* Below this many items the pairwise scan (n^2/2 comparisons, no
 * allocation) is cheaper than hashing and sorting. */
#define UNIQUE_PAIRWISE_MAX 16

/* |x/m - round(x/m)| below this counts as a multiple. Doubles cannot
 * represent most decimal fractions, so 0.0075 / 0.0001 is 74.99999999999999;
 * an exact test would reject what every JSON author means. */
#define MULTIPLE_TOLERANCE 1e-9

static long double as_long_double(const json_t *v)
{
    if (json_is_integer(v))
        return (long double)json_integer_value(v);
    return (long double)json_real_value(v);
}

static int compare_numbers(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return (x > y) - (x < y);
    }
    long double x = as_long_double(a), y = as_long_double(b);
    return (x > y) - (x < y);
}

int value_compare(const json_t *v, const schema_number *n)
{
    if (json_is_integer(v) && n->is_int) {
        json_int_t x = json_integer_value(v);
        return (x > n->i) - (x < n->i);
    }
    long double x = as_long_double(v);
    long double y = n->is_int ? (long double)n->i : (long double)n->d;
    return (x > y) - (x < y);
}

bool value_is_multiple(const json_t *v, const schema_number *n)
{
    if (json_is_integer(v) && n->is_int)
        return json_integer_value(v) % n->i == 0;
    double m = n->is_int ? (double)n->i : n->d;
    double q = json_number_value(v) / m;
    if (!isfinite(q))
        return false;
    return fabs(q - nearbyint(q)) < MULTIPLE_TOLERANCE;
}

bool value_is_integral(const json_t *v)
{
    if (json_is_integer(v))
        return true;
    if (!json_is_real(v))
        return false;
    double d = json_real_value(v);
    return isfinite(d) && floor(d) == d;
}

void value_format_number(const schema_number *n, char *buf, size_t size)
{
    if (n->is_int) {
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, n->i);
        return;
    }
    /* Shortest of %.15g / %.17g that reads back as the same double. */
    snprintf(buf, size, "%.15g", n->d);
    if (strtod(buf, NULL) != n->d)
        snprintf(buf, size, "%.17g", n->d);
}

static bool objects_equal(const json_t *a, const json_t *b)
{
    if (json_object_size(a) != json_object_size(b))
        return false;
    for (void *it = json_object_iter((json_t *)a); it;
         it = json_object_iter_next((json_t *)a, it)) {
        const json_t *other =
            json_object_getn(b, json_object_iter_key(it), json_object_iter_key_len(it));
        if (!other || !value_equal(json_object_iter_value(it), other))
            return false;
    }
    return true;
}

static bool arrays_equal(const json_t *a, const json_t *b)
{
    size_t n = json_array_size(a);
    if (n != json_array_size(b))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!value_equal(json_array_get(a, i), json_array_get(b, i)))
            return false;
    return true;
}

bool value_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return compare_numbers(a, b) == 0;
    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_OBJECT:
        return objects_equal(a, b);
    case JSON_ARRAY:
        return arrays_equal(a, b);
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    default: /* true, false, null: the type says it all */
        return true;
    }
}

/* ---- hashing consistent with value_equal ------------------------------- */

static uint64_t hash_mix(uint64_t h, uint64_t v)
{
    return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

static uint64_t hash_number(const json_t *v)
{
    /* Integral values hash as int64 so that 1 and 1.0 collide, as they must. */
    if (json_is_integer(v))
        return hash_mix(1, (uint64_t)json_integer_value(v));
    double d = json_real_value(v);
    if (floor(d) == d && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        return hash_mix(1, (uint64_t)(int64_t)d);
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return hash_mix(2, bits);
}

static uint64_t value_hash(const json_t *v)
{
    uint64_t h = 0;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        /* A sum does not depend on key order. */
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it))
            h += hash_mix(map_hash(json_object_iter_key(it), json_object_iter_key_len(it)),
                          value_hash(json_object_iter_value(it)));
        return hash_mix(3, h);
    case JSON_ARRAY:
        h = 4;
        for (size_t i = 0; i < json_array_size(v); i++)
            h = hash_mix(h, value_hash(json_array_get(v, i)));
        return h;
    case JSON_STRING:
        return hash_mix(5, map_hash(json_string_value(v), json_string_length(v)));
    case JSON_INTEGER:
    case JSON_REAL:
        return hash_number(v);
    default:
        return 6 + (uint64_t)json_typeof(v);
    }
}

typedef struct hashed_item {
    uint64_t hash;
    size_t index;
} hashed_item;

static int by_hash_then_index(const void *a, const void *b)
{
    const hashed_item *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

static bool pairwise_duplicate(const json_t *array, size_t *first, size_t *second)
{
    size_t n = json_array_size(array);
    for (size_t j = 1; j < n; j++)
        for (size_t i = 0; i < j; i++)
            if (value_equal(json_array_get(array, i), json_array_get(array, j))) {
                *first = i;
                *second = j;
                return true;
            }
    return false;
}

/* Within each run of equal hashes, keep the pair (i < j) with the smallest
 * j, then i: the same answer pairwise_duplicate gives. */
static bool sorted_duplicate(const json_t *array, const hashed_item *items, size_t n, size_t *first,
                             size_t *second)
{
    bool found = false;
    for (size_t start = 0; start < n;) {
        size_t end = start + 1;
        while (end < n && items[end].hash == items[start].hash)
            end++;
        for (size_t b = start + 1; b < end; b++)
            for (size_t a = start; a < b; a++) {
                size_t i = items[a].index, j = items[b].index;
                if ((!found || j < *second || (j == *second && i < *first)) &&
                    value_equal(json_array_get(array, i), json_array_get(array, j))) {
                    *first = i;
                    *second = j;
                    found = true;
                }
            }
        start = end;
    }
    return found;
}

bool value_find_duplicate(const json_t *array, size_t *first, size_t *second)
{
    size_t n = json_array_size(array);
    if (n <= UNIQUE_PAIRWISE_MAX)
        return pairwise_duplicate(array, first, second);
    hashed_item *items = malloc(n * sizeof *items);
    if (!items) /* fall back to the slow scan rather than give a wrong answer */
        return pairwise_duplicate(array, first, second);
    for (size_t i = 0; i < n; i++)
        items[i] = (hashed_item){value_hash(json_array_get(array, i)), i};
    qsort(items, n, sizeof *items, by_hash_then_index);
    bool found = sorted_duplicate(array, items, n, first, second);
    free(items);
    return found;
}

size_t value_utf8_length(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}
