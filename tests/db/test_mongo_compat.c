/*
 * tests/db/test_mongo_compat.c: what Tsunagi asks of a MongoDB server.
 *
 * Runs libmongoc directly against the test database (mongo-java-server
 * here, real MongoDB in production) for every operation the store relies
 * on, so that a server that cannot do one of them fails here with a clear
 * name rather than somewhere deep in an HTTP test.
 */
#include <criterion/criterion.h>
#include <mongoc/mongoc.h>

#include "testsupport.h"

static mongoc_client_t *client;
static mongoc_collection_t *col;
static char dbname[64];

static void setup(void)
{
    mongoc_init();
    client = mongoc_client_new(ts_mongo_uri());
    ts_unique_name(dbname, sizeof dbname, "compat");
    col = mongoc_client_get_collection(client, dbname, "entities");
}

static void teardown(void)
{
    bson_error_t e;
    mongoc_database_t *db = mongoc_client_get_database(client, dbname);
    mongoc_database_drop(db, &e);
    mongoc_database_destroy(db);
    mongoc_collection_destroy(col);
    mongoc_client_destroy(client);
    mongoc_cleanup();
}

TestSuite(compat, .init = setup, .fini = teardown);

static void insert_json(const char *json)
{
    bson_error_t e;
    bson_t *doc = bson_new_from_json((const uint8_t *)json, -1, &e);
    cr_assert_not_null(doc, "bad test JSON %s: %s", json, e.message);
    cr_assert(mongoc_collection_insert_one(col, doc, NULL, NULL, &e), "insert: %s", e.message);
    bson_destroy(doc);
}

/* Ids (the _id.id field) of documents matching filter, in order, joined
 * with ',' into out. */
static void ids_of(const char *filter_json, const char *opts_json, char *out, size_t n)
{
    bson_error_t e;
    bson_t *filter = bson_new_from_json((const uint8_t *)filter_json, -1, &e);
    bson_t *opts = opts_json ? bson_new_from_json((const uint8_t *)opts_json, -1, &e) : NULL;
    cr_assert_not_null(filter, "%s", e.message);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, filter, opts, NULL);
    const bson_t *doc;
    out[0] = '\0';
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        cr_assert(bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, "_id.id", &it));
        if (out[0])
            strncat(out, ",", n - strlen(out) - 1);
        strncat(out, bson_iter_utf8(&it, NULL), n - strlen(out) - 1);
    }
    cr_assert_not(mongoc_cursor_error(cur, &e), "find %s: %s", filter_json, e.message);
    mongoc_cursor_destroy(cur);
    bson_destroy(filter);
    if (opts)
        bson_destroy(opts);
}

static void seed(void)
{
    insert_json("{\"_id\":{\"id\":\"A\",\"type\":\"T\",\"servicePath\":\"/\"},\"creDate\":3.0,"
                "\"attrNames\":[\"x\"],\"attrs\":{\"x\":{\"type\":\"Number\",\"value\":1.0,"
                "\"arr\":[[1,2],[3]]}}}");
    insert_json("{\"_id\":{\"id\":\"B\",\"type\":\"T\",\"servicePath\":\"/a\"},\"creDate\":1.0,"
                "\"attrNames\":[\"x\"],\"attrs\":{\"x\":{\"type\":\"Number\",\"value\":5.0}},"
                "\"expDate\":{\"$date\":1000}}");
    insert_json("{\"_id\":{\"id\":\"C\",\"type\":\"U\",\"servicePath\":\"/a/b\"},\"creDate\":1.0,"
                "\"attrNames\":[],\"attrs\":{}}");
}

Test(compat, ping)
{
    bson_error_t e;
    bson_t *cmd = BCON_NEW("ping", BCON_INT32(1));
    cr_expect(mongoc_client_command_simple(client, "admin", cmd, NULL, NULL, &e), "%s", e.message);
    bson_destroy(cmd);
}

Test(compat, exact_id_match_and_nested_fields)
{
    char ids[64];
    seed();
    ids_of("{\"_id\":{\"id\":\"A\",\"type\":\"T\",\"servicePath\":\"/\"}}", NULL, ids, sizeof ids);
    cr_expect_str_eq(ids, "A");
    ids_of("{\"_id.type\":\"T\",\"attrs.x.value\":{\"$gt\":2}}", NULL, ids, sizeof ids);
    cr_expect_str_eq(ids, "B");
    ids_of("{\"attrs.x\":{\"$exists\":true},\"_id.id\":{\"$regex\":\"^[AB]$\"}}",
           "{\"sort\":{\"creDate\":1,\"_id\":1}}", ids, sizeof ids);
    cr_expect_str_eq(ids, "B,A");
}

Test(compat, in_with_regex_and_not_lte_date)
{
    char ids[64];
    seed();
    ids_of("{\"_id.servicePath\":{\"$in\":[\"/a\",{\"$regex\":\"^/a/\"}]}}",
           "{\"sort\":{\"creDate\":1,\"_id\":1}}", ids, sizeof ids);
    cr_expect_str_eq(ids, "B,C");
    ids_of("{\"expDate\":{\"$not\":{\"$lte\":{\"$date\":5000}}}}",
           "{\"sort\":{\"creDate\":1,\"_id\":1}}", ids, sizeof ids);
    cr_expect_str_eq(ids, "C,A");
}

Test(compat, sort_skip_limit_count)
{
    char ids[64];
    bson_error_t e;
    bson_t reply;
    seed();
    ids_of("{}", "{\"sort\":{\"creDate\":1,\"_id\":1},\"skip\":1,\"limit\":1}", ids, sizeof ids);
    cr_expect_str_eq(ids, "C");
    bson_t *cmd =
        BCON_NEW("count", BCON_UTF8("entities"), "query", "{", "_id.type", BCON_UTF8("T"), "}");
    cr_assert(mongoc_collection_command_simple(col, cmd, NULL, &reply, &e), "%s", e.message);
    bson_iter_t it;
    cr_assert(bson_iter_init_find(&it, &reply, "n"));
    cr_expect_eq(bson_iter_as_int64(&it), 2);
    bson_destroy(&reply);
    bson_destroy(cmd);
}

Test(compat, update_operators_and_upsert)
{
    char ids[64];
    bson_error_t e;
    bson_t reply;
    seed();
    bson_t *sel = BCON_NEW("_id", "{", "id", BCON_UTF8("A"), "type", BCON_UTF8("T"), "servicePath",
                           BCON_UTF8("/"), "}");
    bson_t *upd = BCON_NEW("$set", "{", "attrs.y", "{", "type", BCON_UTF8("Text"), "value",
                           BCON_UTF8("v"), "}", "}", "$addToSet", "{", "attrNames", "{", "$each",
                           "[", BCON_UTF8("x"), BCON_UTF8("y"), "]", "}", "}");
    cr_assert(mongoc_collection_update_one(col, sel, upd, NULL, &reply, &e), "%s", e.message);
    bson_destroy(&reply);
    ids_of("{\"attrNames\":{\"$all\":[\"x\",\"y\"]},\"attrs.y.value\":\"v\"}", NULL, ids,
           sizeof ids);
    cr_expect_str_eq(ids, "A");
    bson_destroy(upd);
    upd = BCON_NEW("$unset", "{", "attrs.x", BCON_UTF8(""), "}", "$pull", "{", "attrNames", "{",
                   "$in", "[", BCON_UTF8("x"), "]", "}", "}");
    cr_assert(mongoc_collection_update_one(col, sel, upd, NULL, &reply, &e), "%s", e.message);
    bson_destroy(&reply);
    ids_of("{\"attrNames\":[\"y\"],\"attrs.x\":{\"$exists\":false}}", NULL, ids, sizeof ids);
    cr_expect_str_eq(ids, "A");
    bson_destroy(upd);
    bson_destroy(sel);
    sel = BCON_NEW("_id", "{", "id", BCON_UTF8("N"), "type", BCON_UTF8("T"), "servicePath",
                   BCON_UTF8("/"), "}");
    upd = BCON_NEW("$set", "{", "creDate", BCON_DOUBLE(9), "}");
    bson_t *opts = BCON_NEW("upsert", BCON_BOOL(true));
    cr_assert(mongoc_collection_update_one(col, sel, upd, opts, &reply, &e), "%s", e.message);
    bson_destroy(&reply);
    ids_of("{\"_id.id\":\"N\"}", NULL, ids, sizeof ids);
    cr_expect_str_eq(ids, "N");
    bson_destroy(opts);
    bson_destroy(upd);
    bson_destroy(sel);
}

Test(compat, find_and_modify)
{
    bson_error_t e;
    bson_t reply;
    seed();
    bson_t *q = BCON_NEW("_id.id", BCON_UTF8("C"));
    bson_t *upd = BCON_NEW("$inc", "{", "count", BCON_INT32(1), "}");
    cr_assert(
        mongoc_collection_find_and_modify(col, q, NULL, upd, NULL, false, false, true, &reply, &e),
        "%s", e.message);
    bson_iter_t it;
    cr_assert(bson_iter_init(&it, &reply) && bson_iter_find_descendant(&it, "value.count", &it));
    cr_expect_eq(bson_iter_as_int64(&it), 1);
    bson_destroy(&reply);
    bson_destroy(upd);
    bson_destroy(q);
}

Test(compat, duplicate_key_and_bulk)
{
    bson_error_t e;
    bson_t reply;
    seed();
    bson_t *dup = BCON_NEW("_id", "{", "id", BCON_UTF8("A"), "type", BCON_UTF8("T"), "servicePath",
                           BCON_UTF8("/"), "}");
    cr_expect_not(mongoc_collection_insert_one(col, dup, NULL, NULL, &e));
    cr_expect_eq(e.code, 11000, "duplicate key code %u: %s", e.code, e.message);
    bson_destroy(dup);
    bson_t *opts = BCON_NEW("ordered", BCON_BOOL(false));
    mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts(col, opts);
    for (int i = 0; i < 50; i++) {
        bson_t *d = BCON_NEW("_id", "{", "id", BCON_INT32(i), "}", "n", BCON_INT32(i));
        mongoc_bulk_operation_insert(bulk, d);
        bson_destroy(d);
    }
    bson_t *sel = BCON_NEW("_id.id", BCON_UTF8("A"));
    bson_t *upd = BCON_NEW("$set", "{", "bulk", BCON_BOOL(true), "}");
    mongoc_bulk_operation_update_one(bulk, sel, upd, false);
    cr_assert(mongoc_bulk_operation_execute(bulk, &reply, &e), "%s", e.message);
    bson_iter_t it;
    cr_assert(bson_iter_init_find(&it, &reply, "nInserted"));
    cr_expect_eq(bson_iter_as_int64(&it), 50);
    bson_destroy(&reply);
    mongoc_bulk_operation_destroy(bulk);
    bson_destroy(sel);
    bson_destroy(upd);
    bson_destroy(opts);
}

Test(compat, create_indexes_list_databases_drop)
{
    bson_error_t e;
    seed();
    bson_t *cmd = BCON_NEW("createIndexes", BCON_UTF8("entities"), "indexes", "[", "{", "key", "{",
                           "_id.servicePath", BCON_INT32(1), "_id.id", BCON_INT32(1), "}", "name",
                           BCON_UTF8("_id.servicePath_1__id.id_1"), "}", "{", "key", "{", "creDate",
                           BCON_INT32(1), "}", "name", BCON_UTF8("creDate_1"), "}", "]");
    cr_expect(mongoc_collection_write_command_with_opts(col, cmd, NULL, NULL, &e), "%s", e.message);
    /* Asking again for the same indexes is a no-op, not an error. */
    cr_expect(mongoc_collection_write_command_with_opts(col, cmd, NULL, NULL, &e), "%s", e.message);
    bson_destroy(cmd);
    char **names = mongoc_client_get_database_names_with_opts(client, NULL, &e);
    cr_assert_not_null(names, "%s", e.message);
    bool found = false;
    for (size_t i = 0; names[i]; i++)
        found = found || strcmp(names[i], dbname) == 0;
    bson_strfreev(names);
    cr_expect(found, "listDatabases does not show %s", dbname);
    cr_expect(mongoc_collection_drop(col, &e), "%s", e.message);
    char ids[16];
    ids_of("{}", NULL, ids, sizeof ids);
    cr_expect_str_eq(ids, "");
}
