/*
 * tests/unit/test_schema_models.c: the project's entity models
 * (the JSON files in schemas/models) and their examples (tests/data/schemas/).
 *
 * Each data file names a model and lists realistic keyValues examples that
 * must be valid, and broken variants: a copy of one example (`base`) with
 * JSON pointers `set` or `remove`d, plus the exact description the
 * violation must produce (pointer, keyword, reason). Every model must have
 * such a file, and every model must itself be a valid draft-07 schema
 * (checked against the meta-schema).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/schema.h"

#define MODEL_BASE    "https://tsunagi.example/schemas/"
#define METASCHEMA_ID "http://json-schema.org/draft-07/schema#"
#define PATH_LEN      1024

static const char *source_dir(void)
{
    const char *dir = getenv("TSUNAGI_SOURCE_DIR");
    return dir ? dir : ".";
}

static void source_path(char *out, const char *rel)
{
    int n = snprintf(out, PATH_LEN, "%s/%s", source_dir(), rel);
    cr_assert(n > 0 && n < PATH_LEN);
}

static schema_registry *models(void)
{
    char dir[PATH_LEN];
    source_path(dir, "schemas/models");
    schema_registry *reg = schema_registry_new();
    schema_error err;
    cr_assert_gt(schema_registry_load_dir(reg, dir, &err), 0, "%s", err.text);
    cr_assert_eq(schema_registry_compile(reg, &err), 0, "%s", err.text);
    return reg;
}

/* The value's parent for an RFC 6901 pointer, and the last token. */
static json_t *parent_of(json_t *root, const char *pointer, char *last, size_t size)
{
    json_t *cur = root;
    const char *p = pointer;
    cr_assert_eq(*p, '/', "bad pointer %s", pointer);
    for (;;) {
        size_t n = strcspn(++p, "/");
        cr_assert_lt(n, size);
        size_t o = 0;
        for (size_t i = 0; i < n; i++)
            last[o++] = p[i] == '~' ? (p[++i] == '1' ? '/' : '~') : p[i];
        last[o] = '\0';
        p += n;
        if (!*p)
            return cur;
        cur = json_is_array(cur) ? json_array_get(cur, strtoul(last, NULL, 10))
                                 : json_object_get(cur, last);
        cr_assert_not_null(cur, "pointer %s leads nowhere", pointer);
    }
}

static void patch_set(json_t *root, const char *pointer, json_t *value)
{
    char last[256];
    json_t *parent = parent_of(root, pointer, last, sizeof last);
    if (json_is_array(parent))
        cr_assert_eq(json_array_set(parent, strtoul(last, NULL, 10), value), 0, "%s", pointer);
    else
        cr_assert_eq(json_object_set(parent, last, value), 0, "%s", pointer);
}

static void patch_remove(json_t *root, const char *pointer)
{
    char last[256];
    json_t *parent = parent_of(root, pointer, last, sizeof last);
    if (json_is_array(parent))
        cr_assert_eq(json_array_remove(parent, strtoul(last, NULL, 10)), 0, "%s", pointer);
    else
        cr_assert_eq(json_object_del(parent, last), 0, "%s: nothing to remove", pointer);
}

/* Build the broken variant of a case. New reference. */
static json_t *variant(const json_t *valid, const json_t *c)
{
    size_t base = (size_t)json_integer_value(json_object_get(c, "base"));
    json_t *doc = json_deep_copy(json_array_get(valid, base));
    cr_assert_not_null(doc, "no valid example %zu", base);
    const char *pointer;
    json_t *value;
    json_object_foreach(json_object_get(c, "set"), pointer, value) patch_set(doc, pointer, value);
    size_t i;
    json_array_foreach(json_object_get(c, "remove"), i, value)
        patch_remove(doc, json_string_value(value));
    return doc;
}

static void check_examples(const schema_registry *reg, const char *file)
{
    char path[PATH_LEN], rel[PATH_LEN];
    snprintf(rel, sizeof rel, "tests/data/schemas/%s", file);
    source_path(path, rel);
    json_error_t jerr;
    json_t *data = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    cr_assert_not_null(data, "%s:%d: %s", path, jerr.line, jerr.text);
    const char *id = json_string_value(json_object_get(data, "schema"));
    const schema *s = schema_registry_get(reg, id);
    cr_assert_not_null(s, "%s: no model %s", file, id);
    const json_t *valid = json_object_get(data, "valid"),
                 *invalid = json_object_get(data, "invalid");
    cr_assert_gt(json_array_size(valid), 0, "%s: no valid example", file);
    cr_assert_gt(json_array_size(invalid), 0, "%s: no broken variant", file);
    schema_result res = SCHEMA_RESULT_INIT;
    for (size_t i = 0; i < json_array_size(valid); i++) {
        int rc = schema_validate(s, json_array_get(valid, i), &res);
        cr_expect_eq(rc, 0, "%s: valid[%zu] rejected: %s", file, i, schema_result_describe(&res));
    }
    for (size_t i = 0; i < json_array_size(invalid); i++) {
        const json_t *c = json_array_get(invalid, i);
        json_t *doc = variant(valid, c);
        const char *desc = json_string_value(json_object_get(c, "description"));
        int rc = schema_validate(s, doc, &res);
        cr_expect_eq(rc, 1, "%s: '%s' accepted", file, desc);
        const char *got = schema_result_describe(&res);
        cr_expect_str_eq(got, json_string_value(json_object_get(c, "expect")), "%s: '%s': got %s",
                         file, desc, got);
        cr_expect_eq(schema_validate(s, doc, NULL), 1, "%s: '%s' accepted in quiet mode", file,
                     desc);
        json_decref(doc);
    }
    schema_result_free(&res);
    json_decref(data);
}

Test(models, load_and_compile)
{
    schema_registry *reg = models();
    cr_expect_eq(schema_registry_size(reg), 11);
    cr_expect_not_null(schema_registry_get(reg, MODEL_BASE "common.json#/definitions/Geometry"));
    schema_registry_free(reg);
}

Test(models, every_model_has_examples)
{
    schema_registry *reg = models();
    for (size_t i = 0; i < schema_registry_size(reg); i++) {
        const char *id = schema_registry_id(reg, i);
        cr_assert(strncmp(id, MODEL_BASE, strlen(MODEL_BASE)) == 0, "unexpected id %s", id);
        const char *file = id + strlen(MODEL_BASE);
        if (strcmp(file, "common.json") == 0)
            continue;
        check_examples(reg, file);
    }
    schema_registry_free(reg);
}

Test(models, every_model_is_a_valid_draft7_schema)
{
    char path[PATH_LEN], dir[PATH_LEN];
    source_path(path, "tests/data/metaschema/draft-07.json");
    source_path(dir, "schemas/models");
    schema_registry *meta = schema_registry_new();
    schema_error err;
    cr_assert_eq(schema_registry_add_file(meta, path, NULL, &err), 0, "%s", err.text);
    cr_assert_eq(schema_registry_compile(meta, &err), 0, "%s", err.text);
    const schema *draft7 = schema_registry_get(meta, METASCHEMA_ID);
    cr_assert_not_null(draft7);
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int checked = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        char file[PATH_LEN * 2];
        snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        json_t *doc = json_load_file(file, 0, NULL);
        cr_assert_not_null(doc, "%s", file);
        schema_result res = SCHEMA_RESULT_INIT;
        cr_expect_eq(schema_validate(draft7, doc, &res), 0, "%s: %s", e->d_name,
                     schema_result_describe(&res));
        schema_result_free(&res);
        json_decref(doc);
        checked++;
    }
    closedir(d);
    cr_expect_eq(checked, 11);
    schema_registry_free(meta);
}

Test(models, the_metaschema_catches_a_broken_schema)
{
    char path[PATH_LEN];
    source_path(path, "tests/data/metaschema/draft-07.json");
    schema_registry *meta = schema_registry_new();
    schema_error err;
    cr_assert_eq(schema_registry_add_file(meta, path, NULL, &err), 0, "%s", err.text);
    cr_assert_eq(schema_registry_compile(meta, &err), 0, "%s", err.text);
    json_t *broken =
        json_loads("{\"properties\":{\"a\":{\"type\":\"text\",\"minLength\":-1}}}", 0, NULL);
    schema_result res = SCHEMA_RESULT_INIT;
    cr_expect_eq(schema_validate(schema_registry_get(meta, METASCHEMA_ID), broken, &res), 1);
    cr_expect_str_eq(schema_result_describe(&res),
                     "/properties/a/type: anyOf: must match at least one of the 2 schemas; "
                     "/properties/a/minLength: minimum: must be >= 0");
    schema_result_free(&res);
    json_decref(broken);
    schema_registry_free(meta);
}
