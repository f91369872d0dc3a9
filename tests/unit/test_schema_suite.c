/*
 * tests/unit/test_schema_suite.c: the official JSON-Schema-Test-Suite
 * (Debian package json-schema-test-suite) against tsunagi_schema.
 *
 * Every required draft-07 file (tests/draft7/NAME.json, not optional/) is one
 * Criterion test, plus the optional format files for the formats Tsunagi
 * asserts. Each test group gets a fresh registry holding the suite's remotes
 * under http://localhost:1234/ (the URIs the suite serves them at; nothing
 * is fetched) and the draft-07 meta-schema from tests/data/metaschema. Each
 * case is validated twice, collecting and quiet, and both verdicts must
 * match the suite's. Per-file counts go to stderr:
 *
 *   draft7/ref.json                  27/27 passed, 0 skipped
 *
 * Deliberate omissions belong in `skips` below, with the reason; it is
 * empty: everything passes. A test also checks that every file of the suite
 * directory is listed here, so a newer suite cannot be skipped silently.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/schema.h"

#define SUITE_DEFAULT_DIR "/usr/share/json-schema-test-suite"
#define REMOTE_BASE       "http://localhost:1234/"
#define PATH_MAX_LEN      1024
#define MAX_REMOTES       32

/* Cases not run, and why. Match on file, group description and case
 * description (NULL matches every case of the group). */
static const struct skip {
    const char *file, *group, *test, *reason;
} skips[] = {
    {NULL, NULL, NULL, NULL}, /* sentinel: nothing is skipped */
};

typedef struct remote {
    json_t *doc;
    char uri[PATH_MAX_LEN];
} remote;

typedef struct suite {
    char dir[PATH_MAX_LEN];
    remote remotes[MAX_REMOTES];
    size_t nremotes;
    json_t *metaschema;
} suite;

typedef struct tally {
    int passed, failed, skipped;
} tally;

/* snprintf that fails the test instead of truncating a path. */
static void fmt(char *out, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void fmt(char *out, size_t size, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(out, size, format, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n < size, "path too long: %s", out);
}

static const char *suite_dir(void)
{
    const char *dir = getenv("TSUNAGI_SCHEMA_SUITE_DIR");
    return dir ? dir : SUITE_DEFAULT_DIR;
}

static json_t *load(const char *path)
{
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    cr_assert_not_null(doc, "%s: %s (is json-schema-test-suite installed?)", path, err.text);
    return doc;
}

/* Every *.json under remotes/, recursively, with its served URI. */
static void load_remotes(suite *s, const char *rel)
{
    char path[PATH_MAX_LEN];
    fmt(path, sizeof path, "%s/remotes/%s", s->dir, rel);
    DIR *d = opendir(path);
    cr_assert_not_null(d, "cannot open %s", path);
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char sub[PATH_MAX_LEN];
        fmt(sub, sizeof sub, "%s%s", rel, e->d_name);
        size_t n = strlen(e->d_name);
        if (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0) {
            cr_assert_lt(s->nremotes, MAX_REMOTES);
            remote *r = &s->remotes[s->nremotes++];
            fmt(path, sizeof path, "%s/remotes/%s", s->dir, sub);
            r->doc = load(path);
            fmt(r->uri, sizeof r->uri, REMOTE_BASE "%s", sub);
        } else {
            fmt(sub, sizeof sub, "%s%s/", rel, e->d_name);
            load_remotes(s, sub);
        }
    }
    closedir(d);
}

static void suite_open(suite *s)
{
    memset(s, 0, sizeof *s);
    fmt(s->dir, sizeof s->dir, "%s", suite_dir());
    load_remotes(s, "");
    char path[PATH_MAX_LEN];
    fmt(path, sizeof path, "%s/tests/data/metaschema/draft-07.json",
        getenv("TSUNAGI_SOURCE_DIR") ? getenv("TSUNAGI_SOURCE_DIR") : ".");
    s->metaschema = load(path);
}

static void suite_close(suite *s)
{
    for (size_t i = 0; i < s->nremotes; i++)
        json_decref(s->remotes[i].doc);
    json_decref(s->metaschema);
}

static const char *skip_reason(const char *file, const char *group, const char *test)
{
    for (const struct skip *k = skips; k->file; k++)
        if (strcmp(k->file, file) == 0 && strcmp(k->group, group) == 0 &&
            (!k->test || strcmp(k->test, test) == 0))
            return k->reason;
    return NULL;
}

/* A registry with the remotes, the meta-schema and the group's schema. */
static schema_registry *group_registry(const suite *s, const json_t *schema_doc, const char *uri,
                                       schema_error *err)
{
    schema_registry *reg = schema_registry_new();
    cr_assert_not_null(reg);
    for (size_t i = 0; i < s->nremotes; i++)
        cr_assert_eq(schema_registry_add(reg, s->remotes[i].doc, s->remotes[i].uri, err), 0,
                     "remote %s: %s", s->remotes[i].uri, err->text);
    cr_assert_eq(schema_registry_add(reg, s->metaschema, NULL, err), 0, "%s", err->text);
    if (schema_registry_add(reg, schema_doc, uri, err) < 0 ||
        schema_registry_compile(reg, err) < 0) {
        schema_registry_free(reg);
        return NULL;
    }
    return reg;
}

static void run_case(const schema *sch, const char *where, const json_t *test, tally *t)
{
    const char *desc = json_string_value(json_object_get(test, "description"));
    bool valid = json_is_true(json_object_get(test, "valid"));
    const json_t *data = json_object_get(test, "data");
    schema_result res = SCHEMA_RESULT_INIT;
    bool collected = schema_validate(sch, data, &res) == 0;
    bool quiet = schema_validate(sch, data, NULL) == 0;
    if (collected == valid && quiet == valid && (valid == (res.count == 0))) {
        t->passed++;
    } else {
        t->failed++;
        fprintf(stderr, "FAIL %s / %s: expected %s, got %s (quiet %s): %s\n", where, desc,
                valid ? "valid" : "invalid", collected ? "valid" : "invalid",
                quiet ? "valid" : "invalid", schema_result_describe(&res));
    }
    schema_result_free(&res);
}

static void run_group(const suite *s, const char *file, size_t index, const json_t *group, tally *t)
{
    const char *gdesc = json_string_value(json_object_get(group, "description"));
    const json_t *tests = json_object_get(group, "tests");
    char uri[PATH_MAX_LEN], where[PATH_MAX_LEN];
    fmt(uri, sizeof uri, "urn:tsunagi:suite:%s:%zu", file, index);
    fmt(where, sizeof where, "%s / %s", file, gdesc);
    schema_error err;
    schema_registry *reg = group_registry(s, json_object_get(group, "schema"), uri, &err);
    const schema *sch = reg ? schema_registry_get(reg, uri) : NULL;
    for (size_t i = 0; i < json_array_size(tests); i++) {
        const json_t *test = json_array_get(tests, i);
        const char *tdesc = json_string_value(json_object_get(test, "description"));
        if (skip_reason(file, gdesc, tdesc)) {
            t->skipped++;
        } else if (!sch) {
            t->failed++;
            fprintf(stderr, "FAIL %s / %s: schema rejected: %s\n", where, tdesc,
                    reg ? "not found" : err.text);
        } else {
            run_case(sch, where, test, t);
        }
    }
    schema_registry_free(reg);
}

/* Run one suite file (relative to tests/) and assert that nothing failed. */
static void run_file(const char *rel)
{
    suite s;
    suite_open(&s);
    char path[PATH_MAX_LEN];
    fmt(path, sizeof path, "%s/tests/%s", s.dir, rel);
    json_t *groups = load(path);
    tally t = {0, 0, 0};
    const char *file = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
    for (size_t i = 0; i < json_array_size(groups); i++)
        run_group(&s, file, i, json_array_get(groups, i), &t);
    fprintf(stderr, "%-40s %3d/%3d passed, %d skipped\n", rel, t.passed,
            t.passed + t.failed + t.skipped, t.skipped);
    json_decref(groups);
    suite_close(&s);
    cr_assert_eq(t.failed, 0, "%s: %d of %d cases failed", rel, t.failed,
                 t.passed + t.failed + t.skipped);
    cr_assert_gt(t.passed, 0, "%s: no case ran", rel);
}

#define DRAFT7_FILES(X)                                                                            \
    X(additionalItems, "additionalItems.json")                                                     \
    X(additionalProperties, "additionalProperties.json")                                           \
    X(allOf, "allOf.json")                                                                         \
    X(anyOf, "anyOf.json")                                                                         \
    X(boolean_schema, "boolean_schema.json")                                                       \
    X(const_, "const.json")                                                                        \
    X(contains, "contains.json")                                                                   \
    X(default_, "default.json")                                                                    \
    X(definitions, "definitions.json")                                                             \
    X(dependencies, "dependencies.json")                                                           \
    X(enum_, "enum.json")                                                                          \
    X(exclusiveMaximum, "exclusiveMaximum.json")                                                   \
    X(exclusiveMinimum, "exclusiveMinimum.json")                                                   \
    X(if_then_else, "if-then-else.json")                                                           \
    X(items, "items.json")                                                                         \
    X(maxItems, "maxItems.json")                                                                   \
    X(maxLength, "maxLength.json")                                                                 \
    X(maxProperties, "maxProperties.json")                                                         \
    X(maximum, "maximum.json")                                                                     \
    X(minItems, "minItems.json")                                                                   \
    X(minLength, "minLength.json")                                                                 \
    X(minProperties, "minProperties.json")                                                         \
    X(minimum, "minimum.json")                                                                     \
    X(multipleOf, "multipleOf.json")                                                               \
    X(not_, "not.json")                                                                            \
    X(oneOf, "oneOf.json")                                                                         \
    X(pattern, "pattern.json")                                                                     \
    X(patternProperties, "patternProperties.json")                                                 \
    X(properties, "properties.json")                                                               \
    X(propertyNames, "propertyNames.json")                                                         \
    X(ref, "ref.json")                                                                             \
    X(refRemote, "refRemote.json")                                                                 \
    X(required, "required.json")                                                                   \
    X(type, "type.json")                                                                           \
    X(uniqueItems, "uniqueItems.json")

/* The optional format files for the formats Tsunagi asserts. */
#define FORMAT_FILES(X)                                                                            \
    X(date_time, "date-time.json")                                                                 \
    X(date, "date.json")                                                                           \
    X(time, "time.json")                                                                           \
    X(email, "email.json")                                                                         \
    X(uri, "uri.json")                                                                             \
    X(uri_reference, "uri-reference.json")                                                         \
    X(ipv4, "ipv4.json")                                                                           \
    X(ipv6, "ipv6.json")

#define DRAFT7_TEST(id, file)                                                                      \
    Test(draft7, id)                                                                               \
    {                                                                                              \
        run_file("draft7/" file);                                                                  \
    }
DRAFT7_FILES(DRAFT7_TEST)

#define FORMAT_TEST(id, file)                                                                      \
    Test(draft7_format, id)                                                                        \
    {                                                                                              \
        run_file("draft7/optional/format/" file);                                                  \
    }
FORMAT_FILES(FORMAT_TEST)

#define FILE_NAME(id, file) file,
static const char *const draft7_files[] = {DRAFT7_FILES(FILE_NAME)};

Test(draft7, every_suite_file_is_run)
{
    char path[PATH_MAX_LEN];
    fmt(path, sizeof path, "%s/tests/draft7", suite_dir());
    DIR *d = opendir(path);
    cr_assert_not_null(d, "cannot open %s (is json-schema-test-suite installed?)", path);
    size_t seen = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n <= 5 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        bool listed = false;
        for (size_t i = 0; i < sizeof draft7_files / sizeof draft7_files[0]; i++)
            listed = listed || strcmp(draft7_files[i], e->d_name) == 0;
        cr_expect(listed, "suite file draft7/%s is not run by this test", e->d_name);
        seen++;
    }
    closedir(d);
    cr_assert_eq(seen, sizeof draft7_files / sizeof draft7_files[0]);
}
