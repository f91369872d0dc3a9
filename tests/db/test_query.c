/*
 * tests/db/test_query.c: the query planner gives the same answer whichever
 * side decides, the database or C.
 *
 * Every query runs twice over the same corpus: as the broker plans it (the
 * database filters, counts and pages whatever the pushdown can express) and
 * with decide_in_c (the database only selects by id/type/path and C decides
 * q, mq and geo). Ids, order and counts must be identical, for every page.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "geo.h"
#include "q.h"
#include "store.h"
#include "testsupport.h"

static store *st;
static char prefix[64];
static ngsi_error err;

/* A corpus with mixed types, missing attributes, compound values, dates,
 * metadata and locations; several entities share values so that order ties
 * are exercised. */
static const char *const CORPUS[] = {
    "{\"id\":\"E01\",\"type\":\"Room\",\"t\":21.5,\"name\":\"north\",\"tags\":[\"a\",\"b\"],"
    "\"where\":{\"type\":\"geo:json\",\"value\":{\"type\":\"Point\",\"coordinates\":[139.76,35.68]}"
    "}}",
    "{\"id\":\"E02\",\"type\":\"Room\",\"t\":25,\"name\":\"south\",\"spec\":{\"m2\":35}}",
    "{\"id\":\"E03\",\"type\":\"Room\",\"t\":18,\"name\":\"east\",\"tags\":[\"c\"],"
    "\"where\":{\"type\":\"geo:point\",\"value\":\"34.70, 135.49\"}}",
    "{\"id\":\"E04\",\"type\":\"Room\",\"name\":\"west\",\"code\":\"20\"}",
    "{\"id\":\"E05\",\"type\":\"Hall\",\"t\":25,\"code\":20,\"spec\":{\"m2\":120}}",
    "{\"id\":\"E06\",\"type\":\"Hall\",\"t\":\"25\",\"name\":\"North\"}",
    "{\"id\":\"E07\",\"type\":\"Hall\",\"t\":null,\"flag\":true}",
    "{\"id\":\"E08\",\"type\":\"Room\",\"t\":21.5,\"flag\":false,"
    "\"when\":{\"type\":\"DateTime\",\"value\":\"2024-05-01T00:00:00Z\"}}",
    "{\"id\":\"E09\",\"type\":\"Room\",\"t\":{\"value\":30,\"metadata\":{\"acc\":{\"value\":0.5}}}"
    "}",
    "{\"id\":\"E10\",\"type\":\"Room\",\"when\":{\"type\":\"DateTime\",\"value\":\"2024-06-01\"},"
    "\"where\":{\"type\":\"geo:json\",\"value\":{\"type\":\"Point\",\"coordinates\":[135.75,34.98]}"
    "}}",
};

static void setup(void)
{
    store_global_init();
    ts_unique_name(prefix, sizeof prefix, "tquery");
    store_opts o = {.uri = ts_mongo_uri(), .db = prefix, .pool_max = 4};
    st = store_open(&o, &err);
    cr_assert_not_null(st);
    for (size_t i = 0; i < sizeof CORPUS / sizeof *CORPUS; i++) {
        json_error_t je;
        json_t *j = json_loads(CORPUS[i], JSON_DECODE_INT_AS_REAL, &je);
        cr_assert_not_null(j, "corpus %zu: %s", i, je.text);
        /* bare values are wrapped as {"value": v}; {"value": ...} stays */
        const char *key;
        json_t *v;
        json_object_foreach(j, key, v)
        {
            if (strcmp(key, "id") && strcmp(key, "type") && json_object_get(v, "value") == NULL)
                json_object_set_new(j, key, json_pack("{s:O}", "value", v));
        }
        ngsi_entity *e = ngsi_entity_parse(j, NGSI_IN_NORMALIZED, &err);
        cr_assert_not_null(e, "corpus %zu: %s", i, err.description);
        e->service_path = strdup("/");
        /* E01..E03 share a creation time: the key must break the tie */
        e->cre_date = e->mod_date = 1000.0 + (i < 3 ? 0 : (double)i);
        cr_assert_eq(store_entity_create(st, "", e, &err), 0, "%s", err.description);
        ngsi_entity_free(e);
        json_decref(j);
    }
}

static void teardown(void)
{
    store_close(st);
    ts_drop_databases(prefix);
    store_global_cleanup();
}

TestSuite(query, .init = setup, .fini = teardown);

/* "E01,E02|count" for one run. */
static void run(store_query *q, bool in_c, char *out, size_t n)
{
    store_result r;
    q->decide_in_c = in_c;
    q->count = true;
    cr_assert_eq(store_entity_query(st, "", q, &r, &err), 0, "%s", err.description);
    out[0] = '\0';
    for (size_t i = 0; i < r.n; i++)
        snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "," : "", r.items[i]->id);
    snprintf(out + strlen(out), n - strlen(out), "|%lld", r.total);
    store_result_clear(&r);
}

/* Run q both ways over every page size 1..3 and offsets; all must agree. */
static void both_ways(const char *qs, const char *mqs, const char *georel, const char *geometry,
                      const char *coords, const char *order)
{
    q_expr *q = qs ? q_parse(qs, false, &err) : NULL;
    q_expr *mq = mqs ? q_parse(mqs, true, &err) : NULL;
    geo_query *g = NULL;
    geo_error ge;
    cr_assert(!qs || q, "%s: %s", qs, err.description);
    cr_assert(!mqs || mq, "%s: %s", mqs, err.description);
    if (georel)
        cr_assert_eq(geo_query_parse(georel, geometry, coords, &g, &ge), 1, "%s", ge.description);
    ngsi_paths paths;
    ngsi_paths_parse(NULL, false, &paths, &err);
    store_order keys[2];
    size_t nkeys = 0;
    for (const char *p = order; p && *p && nkeys < 2;) {
        size_t len = strcspn(p, ",");
        keys[nkeys].desc = *p == '!';
        keys[nkeys].name = strndup(p + keys[nkeys].desc, len - keys[nkeys].desc);
        nkeys++;
        p += len + (p[len] == ',');
    }
    char a[512], b[512];
    for (size_t limit = 1; limit <= 20; limit += limit < 3 ? 1 : 17) {
        for (size_t offset = 0; offset < 6; offset++) {
            store_query sq = {.paths = &paths,
                              .q = q,
                              .mq = mq,
                              .geo = g,
                              .order = keys,
                              .norder = nkeys,
                              .limit = limit,
                              .offset = offset};
            run(&sq, false, a, sizeof a);
            run(&sq, true, b, sizeof b);
            cr_expect_str_eq(a, b, "q=%s mq=%s order=%s limit=%zu offset=%zu", qs ? qs : "",
                             mqs ? mqs : "", order ? order : "", limit, offset);
        }
    }
    for (size_t i = 0; i < nkeys; i++)
        free((char *)keys[i].name);
    ngsi_paths_clear(&paths);
    q_free(q);
    q_free(mq);
    geo_query_free(g);
}

Test(query, q_filters_agree)
{
    const char *qs[] = {
        "t>20",     "t==25",      "t=='25'", "t!=25",           "t==18..22", "t==21.5,30",
        "name",     "!name",      "name>m",  "name~=^[Nn]",     "tags==a",   "spec.m2>100",
        "code==20", "flag==true", "t==null", "when>2024-05-15", "t>20;name"};
    for (size_t i = 0; i < sizeof qs / sizeof *qs; i++)
        both_ways(qs[i], NULL, NULL, NULL, NULL, NULL);
}

Test(query, mq_and_order_agree)
{
    both_ways(NULL, "t.acc<1", NULL, NULL, NULL, NULL);
    both_ways("t", NULL, NULL, NULL, NULL, "t");
    both_ways("t", NULL, NULL, NULL, NULL, "!t,name");
    both_ways(NULL, NULL, NULL, NULL, NULL, "name");
    both_ways("name", NULL, NULL, NULL, NULL, "!id");
    both_ways(NULL, NULL, NULL, NULL, NULL, "dateCreated");
}

Test(query, geo_agrees)
{
    both_ways(NULL, NULL, "near;maxDistance:500000", "point", "35.68,139.76", "geo:distance");
    both_ways(NULL, NULL, "near;minDistance:1000", "point", "35.68,139.76", "!geo:distance");
    both_ways(NULL, NULL, "coveredBy", "box", "34,135;35.5,136.5", NULL);
    both_ways("t", NULL, "intersects", "polygon", "30,130;30,140;40,140;40,130;30,130", "t");
    both_ways(NULL, NULL, "disjoint", "box", "34,135;35.5,136.5", "id");
}
