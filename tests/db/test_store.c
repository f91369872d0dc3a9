/*
 * tests/db/test_store.c: the entity store against the real test database.
 */
#include <criterion/criterion.h>
#include <mongoc/mongoc.h>
#include <string.h>

#include "store.h"
#include "testsupport.h"

static store *st;
static char prefix[64];
static ngsi_error err;

static void setup(void)
{
    store_global_init();
    ts_unique_name(prefix, sizeof prefix, "tstore");
    store_opts o = {.uri = ts_mongo_uri(), .db = prefix, .pool_max = 4};
    st = store_open(&o, &err);
    cr_assert_not_null(st, "%s", err.description);
}

static void teardown(void)
{
    store_close(st);
    ts_drop_databases(prefix);
    store_global_cleanup();
}

TestSuite(store, .init = setup, .fini = teardown);

static ngsi_entity *make(const char *id, const char *type, const char *path, double cre)
{
    json_error_t je;
    char text[256];
    snprintf(
        text, sizeof text,
        "{\"id\":\"%s\",\"type\":\"%s\",\"t\":{\"value\":21.5,\"metadata\":{\"u\":{"
        "\"value\":\"C\"}}},\"when\":{\"type\":\"DateTime\",\"value\":\"2024-05-01T00:00:00Z\"}}",
        id, type);
    json_t *j = json_loads(text, JSON_DECODE_INT_AS_REAL, &je);
    ngsi_entity *e = ngsi_entity_parse(j, NGSI_IN_NORMALIZED, &err);
    json_decref(j);
    cr_assert_not_null(e, "%s", err.description);
    e->service_path = strdup(path);
    e->cre_date = e->mod_date = cre;
    return e;
}

static void create(const char *id, const char *type, const char *path, double cre)
{
    ngsi_entity *e = make(id, type, path, cre);
    cr_assert_eq(store_entity_create(st, "", e, &err), 0, "%s", err.description);
    ngsi_entity_free(e);
}

static ngsi_paths paths(const char *hdr)
{
    ngsi_paths p;
    cr_assert_eq(ngsi_paths_parse(hdr, false, &p, &err), 0, "%s", err.description);
    return p;
}

Test(store, create_get_roundtrip_and_duplicate)
{
    create("R1", "Room", "/", 100.5);
    ngsi_paths p = paths("/");
    ngsi_entity *got = NULL;
    cr_assert_eq(store_entity_get(st, "", "R1", "Room", &p, &got, &err), 0, "%s", err.description);
    cr_expect_str_eq(got->type, "Room");
    cr_expect_float_eq(got->cre_date, 100.5, 1e-9);
    cr_assert_eq(got->nattrs, 2);
    cr_expect_float_eq(json_real_value(got->attrs[0].value), 21.5, 1e-9);
    cr_expect_str_eq(got->attrs[0].md[0].name, "u");
    cr_expect_str_eq(json_string_value(got->attrs[1].value), "2024-05-01T00:00:00.000Z");
    ngsi_entity_free(got);
    ngsi_entity *dup = make("R1", "Room", "/", 1);
    cr_expect_eq(store_entity_create(st, "", dup, &err), -1);
    cr_expect_eq(err.status, 422);
    cr_expect_str_eq(err.description, "Already Exists");
    ngsi_entity_free(dup);
    ngsi_paths_clear(&p);
}

Test(store, get_without_type_ambiguous_and_missing)
{
    create("X", "A", "/", 1);
    create("X", "B", "/", 2);
    ngsi_paths p = paths(NULL);
    ngsi_entity *got = NULL;
    cr_expect_eq(store_entity_get(st, "", "X", NULL, &p, &got, &err), -1);
    cr_expect_eq(err.status, 409);
    cr_expect_eq(store_entity_get(st, "", "X", "B", &p, &got, &err), 0);
    ngsi_entity_free(got);
    cr_expect_eq(store_entity_get(st, "", "nope", NULL, &p, &got, &err), -1);
    cr_expect_eq(err.status, 404);
    ngsi_paths_clear(&p);
}

Test(store, updates_touch_only_named_attributes)
{
    create("U", "T", "/", 1);
    ngsi_paths p = paths("/");
    ngsi_entity *e = NULL;
    cr_assert_eq(store_entity_get(st, "", "U", "T", &p, &e, &err), 0);
    ngsi_attr add = {.name = strdup("n.x"), .type = strdup("Number"), .value = json_real(7)};
    store_update u = {.key = e, .set = &add, .nset = 1, .mod_date = 50, .correlator = "c1"};
    cr_assert_eq(store_entity_update(st, "", &u, &err), 0, "%s", err.description);
    const char *gone[] = {"t"};
    store_update rm = {.key = e, .unset = gone, .nunset = 1, .mod_date = 60};
    cr_assert_eq(store_entity_update(st, "", &rm, &err), 0, "%s", err.description);
    ngsi_entity *after = NULL;
    cr_assert_eq(store_entity_get(st, "", "U", "T", &p, &after, &err), 0);
    cr_expect_eq(after->nattrs, 2);
    cr_expect_null(ngsi_entity_find(after, "t"));
    cr_expect_not_null(ngsi_entity_find(after, "n.x"), "dotted name survives the = encoding");
    cr_expect_float_eq(after->mod_date, 60, 1e-9);
    ngsi_entity_free(after);
    store_update rep = {.key = e, .set = &add, .nset = 1, .replace = true, .mod_date = 70};
    cr_assert_eq(store_entity_update(st, "", &rep, &err), 0);
    cr_assert_eq(store_entity_get(st, "", "U", "T", &p, &after, &err), 0);
    cr_expect_eq(after->nattrs, 1);
    ngsi_entity_free(after);
    cr_expect_eq(store_entity_delete(st, "", e, &err), 0);
    cr_expect_eq(store_entity_delete(st, "", e, &err), -1);
    cr_expect_eq(err.status, 404);
    cr_expect_eq(store_entity_update(st, "", &u, &err), -1);
    cr_expect_eq(err.status, 404);
    ngsi_attr_clear(&add);
    ngsi_entity_free(e);
    ngsi_paths_clear(&p);
}

static void expect_ids(const store_query *q, const char *want, long long total)
{
    store_result r;
    cr_assert_eq(store_entity_query(st, "", q, &r, &err), 0, "%s", err.description);
    char got[256] = "";
    for (size_t i = 0; i < r.n; i++) {
        if (i)
            strcat(got, ",");
        strcat(got, r.items[i]->id);
    }
    cr_expect_str_eq(got, want);
    if (total >= 0)
        cr_expect_eq(r.total, total);
    store_result_clear(&r);
}

Test(store, queries_select_page_and_count)
{
    create("E3", "T", "/", 3);
    create("E1", "T", "/a", 1);
    create("E2", "U", "/a/b", 1); /* same creDate as E1: the key breaks the tie */
    create("F1", "T", "/c", 4);
    ngsi_paths all = paths(NULL), sub = paths("/a/#"), exact = paths("/a");
    store_query q = {.paths = &all, .limit = 20, .count = true};
    expect_ids(&q, "E1,E2,E3,F1", 4);
    q.limit = 2;
    q.offset = 1;
    expect_ids(&q, "E2,E3", 4);
    q = (store_query){.paths = &sub, .limit = 20};
    expect_ids(&q, "E1,E2", -1);
    q.paths = &exact;
    expect_ids(&q, "E1", -1);
    ngsi_list types;
    cr_assert_eq(ngsi_list_parse("U,T", "type", &types, &err), 0);
    q = (store_query){.paths = &all, .types = &types, .id_pattern = "^E", .limit = 20};
    expect_ids(&q, "E1,E2,E3", -1);
    q = (store_query){.paths = &all, .type_pattern = "^U", .limit = 20};
    expect_ids(&q, "E2", -1);
    ngsi_list_clear(&types);
    ngsi_paths_clear(&all);
    ngsi_paths_clear(&sub);
    ngsi_paths_clear(&exact);
}

Test(store, expired_entities_invisible_then_purged)
{
    ngsi_entity *e = make("Old", "T", "/", 1);
    e->exp_date = ngsi_now() - 10;
    cr_assert_eq(store_entity_create(st, "", e, &err), 0);
    ngsi_entity_free(e);
    e = make("Later", "T", "/", 2);
    e->exp_date = ngsi_now() + 3600;
    cr_assert_eq(store_entity_create(st, "", e, &err), 0);
    ngsi_entity_free(e);
    ngsi_paths p = paths("/");
    ngsi_entity *got = NULL;
    cr_expect_eq(store_entity_get(st, "", "Old", "T", &p, &got, &err), -1);
    cr_expect_eq(err.status, 404);
    store_query q = {.paths = &p, .limit = 20, .count = true};
    expect_ids(&q, "Later", 1);
    cr_expect_eq(store_purge_expired(st, ngsi_now(), &err), 1);
    cr_expect_eq(store_purge_expired(st, ngsi_now(), &err), 0);
    ngsi_paths_clear(&p);
}

Test(store, tenants_are_separate_databases)
{
    ngsi_entity *e = make("T1", "T", "/", 1);
    cr_assert_eq(store_entity_create(st, "town_a", e, &err), 0);
    ngsi_entity_free(e);
    ngsi_paths p = paths(NULL);
    ngsi_entity *got = NULL;
    cr_expect_eq(store_entity_get(st, "", "T1", NULL, &p, &got, &err), -1);
    cr_expect_eq(store_entity_get(st, "town_a", "T1", NULL, &p, &got, &err), 0);
    ngsi_entity_free(got);
    char db[128], want[128];
    snprintf(want, sizeof want, "%s-town_a", prefix);
    cr_expect_str_eq(store_db_name(st, "town_a", db, sizeof db), want);
    ngsi_paths_clear(&p);
}

Test(store, reads_a_document_written_by_orion)
{
    /* As Orion writes it: dates as floats, a DateTime value as a number, a
     * dotted attribute name stored with '=', metadata with mdNames. */
    const char *doc =
        "{\"_id\":{\"id\":\"Orion1\",\"type\":\"Room\",\"servicePath\":\"/\"},"
        "\"attrNames\":[\"temp\",\"a.b\",\"seen\"],\"attrs\":{"
        "\"temp\":{\"type\":\"Number\",\"creDate\":1389376081.8471954,\"modDate\":1389376081."
        "8471954,"
        "\"value\":23,\"mdNames\":[\"acc\"],\"md\":{\"acc\":{\"type\":\"Number\",\"value\":0.5}}},"
        "\"a=b\":{\"type\":\"Text\",\"creDate\":1389376081,\"modDate\":1389376081,\"value\":\"x\","
        "\"mdNames\":[]},"
        "\"seen\":{\"type\":\"DateTime\",\"creDate\":1,\"modDate\":1,\"value\":1497684084.238,"
        "\"mdNames\":[]}},"
        "\"creDate\":1389376081.8471954,\"modDate\":1389376244.1,\"lastCorrelator\":\"x\"}";
    bson_error_t be;
    bson_t *b = bson_new_from_json((const uint8_t *)doc, -1, &be);
    mongoc_client_t *c = mongoc_client_new(ts_mongo_uri());
    mongoc_collection_t *col = mongoc_client_get_collection(c, prefix, "entities");
    cr_assert(mongoc_collection_insert_one(col, b, NULL, NULL, &be), "%s", be.message);
    mongoc_collection_destroy(col);
    mongoc_client_destroy(c);
    bson_destroy(b);
    ngsi_paths p = paths(NULL);
    ngsi_entity *e = NULL;
    cr_assert_eq(store_entity_get(st, "", "Orion1", NULL, &p, &e, &err), 0, "%s", err.description);
    ngsi_render_opts o = {.mode = NGSI_NORMALIZED};
    json_t *j = ngsi_entity_render(e, &o);
    char *s = ngsi_json_dumps(j);
    cr_expect_str_eq(s, "{\"id\":\"Orion1\",\"type\":\"Room\",\"temp\":{\"type\":\"Number\","
                        "\"value\":23,\"metadata\":{\"acc\":{\"type\":\"Number\",\"value\":0.5}}},"
                        "\"a.b\":{\"type\":\"Text\",\"value\":\"x\",\"metadata\":{}},"
                        "\"seen\":{\"type\":\"DateTime\",\"value\":\"2017-06-17T07:21:24.238Z\","
                        "\"metadata\":{}}}");
    free(s);
    json_decref(j);
    ngsi_entity_free(e);
    ngsi_paths_clear(&p);
}

Test(store, types_folded_in_the_broker)
{
    create("A1", "Bus", "/", 1);
    create("A2", "Bus", "/", 2);
    create("S1", "Stop", "/x", 3);
    ngsi_paths p = paths(NULL);
    store_types t;
    cr_assert_eq(store_types_collect(st, "", &p, NULL, true, &t, &err), 0, "%s", err.description);
    cr_assert_eq(t.n, 2);
    cr_expect_str_eq(t.items[0].type, "Bus");
    cr_expect_eq(t.items[0].count, 2);
    char *s = ngsi_json_dumps(t.items[0].attrs);
    cr_expect_str_eq(s, "{\"t\":{\"types\":[\"Number\"]},\"when\":{\"types\":[\"DateTime\"]}}");
    free(s);
    store_types_clear(&t);
    cr_assert_eq(store_types_collect(st, "", &p, "Stop", false, &t, &err), 0);
    cr_assert_eq(t.n, 1);
    cr_expect_eq(t.items[0].count, 1);
    store_types_clear(&t);
    ngsi_paths_clear(&p);
}

Test(store, unreachable_database_fails_fast_with_503)
{
    store_opts o = {.uri = "mongodb://127.0.0.1:1/", .db = "x", .timeout_ms = 300};
    store *dead = store_open(&o, &err);
    cr_assert_not_null(dead);
    double t0 = ngsi_now();
    cr_expect_eq(store_ping(dead, &err), -1);
    cr_expect_eq(err.status, 503);
    cr_expect_lt(ngsi_now() - t0, 3.0, "gave up only after %.1fs", ngsi_now() - t0);
    store_close(dead);
}
