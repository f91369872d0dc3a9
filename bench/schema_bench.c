/*
 * bench/schema_bench.c: how fast tsunagi_schema validates an entity.
 *
 * Loads the project's models (schemas/models), takes the realistic
 * 15-attribute PointOfInterest keyValues entity from
 * tests/data/schemas/PointOfInterest.json (valid[0]: GeoJSON location,
 * address, contact point with e-mail and URL formats, an id pattern, arrays,
 * date-time) and validates it N times, first collecting violations as the
 * broker does (schema_result), then in quiet yes/no mode. Prints
 * validations per second for each.
 *
 *   schema_bench [iterations] [source-dir]
 *
 * Single-threaded on purpose: validation shares nothing between calls, so
 * throughput scales with cores; this measures the per-call cost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "schemas/schema.h"

#ifndef TSUNAGI_SOURCE_DIR
#define TSUNAGI_SOURCE_DIR "."
#endif

/* Enough iterations for a stable figure in about a second. */
#define DEFAULT_ITERATIONS 200000
#define POI_ID             "https://tsunagi.example/schemas/PointOfInterest.json"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *load_entity(const char *src)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/schemas/PointOfInterest.json", src);
    json_error_t err;
    json_t *data = json_load_file(path, 0, &err);
    if (!data) {
        fprintf(stderr, "%s: %s\n", path, err.text);
        return NULL;
    }
    json_t *entity = json_incref(json_array_get(json_object_get(data, "valid"), 0));
    json_decref(data);
    return entity;
}

/* Validations per second over n runs; -1 if any run disagrees. */
static double run(const schema *s, const json_t *entity, long n, int collect)
{
    schema_result res = SCHEMA_RESULT_INIT;
    double start = now();
    for (long i = 0; i < n; i++)
        if (schema_validate(s, entity, collect ? &res : NULL) != 0)
            return -1;
    double elapsed = now() - start;
    schema_result_free(&res);
    return (double)n / elapsed;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : DEFAULT_ITERATIONS;
    const char *src = argc > 2 ? argv[2] : TSUNAGI_SOURCE_DIR;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/schemas/models", src);
    schema_registry *reg = schema_registry_new();
    schema_error err;
    json_t *entity = load_entity(src);
    if (!reg || !entity || schema_registry_load_dir(reg, dir, &err) < 0 ||
        schema_registry_compile(reg, &err) < 0) {
        fprintf(stderr, "schema_bench: %s\n", entity ? err.text : "no entity");
        return 1;
    }
    const schema *s = schema_registry_get(reg, POI_ID);
    printf("PointOfInterest entity: %zu attributes, %ld validations per mode\n",
           json_object_size(entity) - 2, n);
    double collecting = run(s, entity, n, 1), quiet = run(s, entity, n, 0);
    if (collecting < 0 || quiet < 0) {
        fprintf(stderr, "schema_bench: the entity does not validate\n");
        return 1;
    }
    printf("collecting violations: %.0f validations/s (%.2f us each)\n", collecting,
           1e6 / collecting);
    printf("quiet (yes/no):        %.0f validations/s (%.2f us each)\n", quiet, 1e6 / quiet);
    json_decref(entity);
    schema_registry_free(reg);
    return 0;
}
