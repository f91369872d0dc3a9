/*
 * tests/db/test_q_pushdown.c: every query answered both ways.
 *
 * A corpus of entities with varied values (numbers, numeric text, arrays,
 * null, booleans, dates as DateTime and as Text, compound values, metadata,
 * dotted names, non-ASCII text, expiry) is stored through the store. For
 * each expression, the entities q_match accepts (the truth) must be exactly
 * those that pass the pushed-down filter in the real database and then
 * q_match; when q_to_bson calls its filter exact, the database alone must
 * give the truth. The truth is also computed on the entities as parsed,
 * before storage, and must not differ from the one on what the store reads
 * back.
 */
#include <criterion/criterion.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "q.h"
#include "store.h"
#include "testsupport.h"

#define NCORPUS 40
/* Room for the ids of a whole corpus, "E00," each. */
#define IDS_MAX (NCORPUS * 4 + 1)

static store *st;
static char prefix[64];
static ngsi_entity *parsed[NCORPUS];
static store_result loaded;
static mongoc_client_t *client;
static mongoc_collection_t *col;

static const char *const NAMES[] = {
    "alpha",
    "Beta",
    "gamma",
    "",
    "\xe6\x9d\xb1\xe4\xba\xac",
    "\xef\xbd\xb1\xef\xbd\xb2",
    "\xf0\xa0\xae\xb7\xe9\x87\x8e\xe5\xae\xb6",
    "line\nbreak",
    "end\n",
    "x,y",
    "20",
    "hello world",
    "a.b",
    "Zeta",
    "delta",
};
#define NNAMES (sizeof NAMES / sizeof NAMES[0])

static json_t *attr(json_t *value)
{
    return json_pack("{s:o}", "value", value);
}

static json_t *typed(const char *type, json_t *value)
{
    return json_pack("{s:s,s:o}", "type", type, "value", value);
}

static json_t *temperature_value(int i)
{
    switch (i % 8) {
    case 0:
        return json_real(i * 1.5 - 10);
    case 1:
        return json_real(i);
    case 2:
        return json_string("20");
    case 3:
        return json_real(20);
    case 4:
        return json_pack("[f,f,s]", (double)i, i + 10.0, "x");
    case 5:
        return json_null();
    default:
        return json_true();
    }
}

static json_t *temperature_metadata(int i)
{
    json_t *md = json_object();
    if (i % 2 == 0)
        json_object_set_new(md, "accuracy", attr(json_real(i / 40.0)));
    json_object_set_new(md, "unit", attr(json_string(i % 3 == 0 ? "C" : "F")));
    if (i % 4 == 0) {
        char when[32];
        snprintf(when, sizeof when, "2024-%02d-01T00:00:00Z", 1 + i % 12);
        json_object_set_new(md, "at", typed("DateTime", json_string(when)));
    }
    if (i % 5 == 0)
        json_object_set_new(md, "cal", attr(json_pack("{s:{s:i}}", "q", "r", i % 3)));
    return md;
}

static json_t *when_attr(int i)
{
    char when[32];
    snprintf(when, sizeof when, "20%02d-%02d-01T0%d:00:00Z", 22 + i % 4, 1 + i % 12, i % 10);
    switch (i % 5) {
    case 0:
    case 1:
        return typed("DateTime", json_string(when));
    case 2:
        return typed("Text", json_string("2024-05-01T00:00:00Z"));
    case 4:
        return typed("DateTime", json_null());
    default:
        return NULL;
    }
}

static json_t *obj_value(int i)
{
    switch (i % 6) {
    case 0:
        return json_pack("{s:{s:i,s:s}}", "a", "b", i, "c", "z");
    case 1:
        return json_pack("{s:[{s:i},{s:i}]}", "a", "b", i, "c", 1);
    case 2:
        return json_pack("{s:{s:s}}", "a", "b", "3");
    case 3:
        return json_pack("{s:[{s:i},{s:i}]}", "list", "k", i % 3, "k", 5);
    case 4:
        return json_pack("{s:s}", "a", "flat");
    default:
        return NULL;
    }
}

static json_t *corpus_json(int i)
{
    char id[8];
    snprintf(id, sizeof id, "E%02d", i);
    json_t *e = json_pack("{s:s,s:s}", "id", id, "type", i % 3 ? "Room" : "Car");
    if (i % 8 != 7) {
        json_t *t = attr(temperature_value(i));
        json_object_set_new(t, "metadata", temperature_metadata(i));
        json_object_set_new(e, "temperature", t);
    }
    json_object_set_new(e, "name", attr(json_string(NAMES[i % NNAMES])));
    json_t *when = when_attr(i), *obj = obj_value(i);
    if (when != NULL)
        json_object_set_new(e, "when", when);
    if (obj != NULL)
        json_object_set_new(e, "obj", attr(obj));
    if (i % 4 < 2)
        json_object_set_new(e, "flag", attr(json_boolean(i % 4 == 0)));
    if (i % 3 == 0)
        json_object_set_new(e, "tags", attr(json_pack("[s,s]", "red", "blue")));
    else if (i % 3 == 1)
        json_object_set_new(e, "tags", attr(json_pack("[s]", "green")));
    if (i % 7 == 0)
        json_object_set_new(e, "a.b", attr(json_real(i)));
    if (i % 9 == 0) {
        char exp[32];
        snprintf(exp, sizeof exp, "2099-01-%02dT00:00:00Z", 1 + i / 9);
        json_object_set_new(e, "dateExpires", typed("DateTime", json_string(exp)));
    }
    return e;
}

static ngsi_entity *corpus_entity(int i)
{
    ngsi_error err = {0};
    json_t *j = corpus_json(i);
    ngsi_entity *e = ngsi_entity_parse(j, NGSI_IN_NORMALIZED, &err);
    json_decref(j);
    cr_assert_not_null(e, "corpus %d: %s", i, err.description);
    e->service_path = strdup("/");
    e->cre_date = 1000 + 10 * i;
    e->mod_date = e->cre_date + 5 * (i % 4);
    for (size_t k = 0; k < e->nattrs; k++) {
        e->attrs[k].cre_date = e->cre_date;
        e->attrs[k].mod_date = e->mod_date + (double)k;
    }
    return e;
}

static void setup(void)
{
    ngsi_error err = {0};
    char db[128];
    store_global_init();
    ts_unique_name(prefix, sizeof prefix, "tq");
    store_opts o = {.uri = ts_mongo_uri(), .db = prefix, .pool_max = 2};
    st = store_open(&o, &err);
    cr_assert_not_null(st, "%s", err.description);
    for (int i = 0; i < NCORPUS; i++) {
        parsed[i] = corpus_entity(i);
        cr_assert_eq(store_entity_create(st, "", parsed[i], &err), 0, "%s", err.description);
    }
    ngsi_paths all;
    cr_assert_eq(ngsi_paths_parse(NULL, false, &all, &err), 0);
    store_query q = {.paths = &all, .limit = 1000};
    cr_assert_eq(store_entity_query(st, "", &q, &loaded, &err), 0, "%s", err.description);
    ngsi_paths_clear(&all);
    cr_assert_eq(loaded.n, NCORPUS);
    client = mongoc_client_new(ts_mongo_uri());
    col = mongoc_client_get_collection(client, store_db_name(st, "", db, sizeof db), "entities");
}

static void teardown(void)
{
    for (int i = 0; i < NCORPUS; i++)
        ngsi_entity_free(parsed[i]);
    store_result_clear(&loaded);
    mongoc_collection_destroy(col);
    mongoc_client_destroy(client);
    store_close(st);
    ts_drop_databases(prefix);
    store_global_cleanup();
}

TestSuite(q_pushdown, .init = setup, .fini = teardown);

static const ngsi_entity *loaded_by_id(const char *id)
{
    for (size_t i = 0; i < loaded.n; i++)
        if (strcmp(loaded.items[i]->id, id) == 0)
            return loaded.items[i];
    return NULL;
}

/* Membership of the corpus as a bitmap over E00..E39. */
typedef struct idset {
    bool has[NCORPUS];
} idset;

static int index_of(const char *id)
{
    return (id[0] == 'E') ? atoi(id + 1) : -1;
}

static void idset_text(const idset *s, char out[IDS_MAX])
{
    out[0] = '\0';
    for (int i = 0; i < NCORPUS; i++)
        if (s->has[i])
            snprintf(out + strlen(out), IDS_MAX - strlen(out), "E%02d,", i);
}

/* Ids of the documents passing filter in the database. */
static idset db_ids(const bson_t *filter)
{
    idset s = {{false}};
    bson_error_t e;
    bson_t *opts = BCON_NEW("projection", "{", "_id", BCON_INT32(1), "}");
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, filter, opts, NULL);
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        cr_assert(bson_iter_init_find(&it, doc, "_id") && bson_iter_recurse(&it, &it) &&
                  bson_iter_find(&it, "id"));
        int i = index_of(bson_iter_utf8(&it, NULL));
        cr_assert(i >= 0 && i < NCORPUS);
        s.has[i] = true;
    }
    char *json = bson_as_relaxed_extended_json(filter, NULL);
    cr_assert(!mongoc_cursor_error(cur, &e), "filter %s: %s", json, e.message);
    bson_free(json);
    mongoc_cursor_destroy(cur);
    bson_destroy(opts);
    return s;
}

typedef struct expr_case {
    bool mq;
    const char *text;
} expr_case;

static const expr_case EXPRS[] = {
    {false, "temperature>10"},
    {false, "temperature>=20"},
    {false, "temperature<0"},
    {false, "temperature<=20"},
    {false, "temperature==20"},
    {false, "temperature!=20"},
    {false, "temperature=='20'"},
    {false, "temperature!='20'"},
    {false, "temperature==20..40"},
    {false, "temperature!=20..40"},
    {false, "temperature==1,3,20"},
    {false, "temperature!=1,3,20"},
    {false, "temperature==null"},
    {false, "temperature!=null"},
    {false, "temperature==true"},
    {false, "temperature!=true"},
    {false, "temperature>a"},
    {false, "temperature==x"},
    {false, "temperature"},
    {false, "!temperature"},
    {false, "temperature.0==4"},
    {false, "name==alpha"},
    {false, "name!=alpha"},
    {false, "name>Beta"},
    {false, "name<=gamma"},
    {false, "name==a..h"},
    {false, "name!=a..h"},
    {false, "name==alpha,Beta,'x,y'"},
    {false, "name==''"},
    {false, "name=='a.b'"},
    {false, "name==\xe6\x9d\xb1\xe4\xba\xac"},
    {false, "name>\xe6\x9d\xb1"},
    {false, "name<\xef\xbd\xb1"},
    {false, "name>\xf0\xa0\xae\xb7"},
    {false, "name~=^al"},
    {false, "name~=a$"},
    {false, "name~=l+"},
    {false, "name~=^[A-Z]"},
    {false, "name~=end$"},
    {false, "name~=^end.$"},
    {false, "name~=line.break"},
    {false, "name~=^[^a-z]+$"},
    {false, "name~=\\d"},
    {false, "name~=a|^B"},
    {false, "name~=^.{5}$"},
    {false, "name~=\xe6\x9d\xb1"},
    {false, "name~=^.{2}$"},
    {false, "name~=^.{3}$"},
    {false, "name~=^\xef\xbd\xb1.$"},
    {false, "name~=\xe9\x87\x8e+\xe5\xae\xb6"},
    {false, "name~=[a-c]|^[^a-z]"},
    {false, "when>2024-01-01"},
    {false, "when<2024-01-01T00:00:00+09:00"},
    {false, "when==2024-05-01T00:00:00Z"},
    {false, "when=='2024-05-01T00:00:00Z'"},
    {false, "when==2023-01-01..2024-12-31"},
    {false, "when!=2023-01-01..2024-12-31"},
    {false, "when==null"},
    {false, "when!=null"},
    {false, "when>1700000000"},
    {false, "dateCreated>1200"},
    {false, "dateCreated==1100..1200"},
    {false, "dateModified!=1015"},
    {false, "dateExpires"},
    {false, "!dateExpires"},
    {false, "dateExpires>2099-01-03"},
    {false, "obj.a.b>5"},
    {false, "obj.a.b==3"},
    {false, "obj.a.b=='3'"},
    {false, "obj.a.b"},
    {false, "!obj.a.b"},
    {false, "obj.a.c==z"},
    {false, "obj.a.c!=z"},
    {false, "obj.list.k==1"},
    {false, "obj.list.k!=1"},
    {false, "obj.list.k==0..1"},
    {false, "obj.a==flat"},
    {false, "obj.a!=flat"},
    {false, "obj.a.b==0..10"},
    {false, "obj.a.b!=null"},
    {false, "obj.list.0.k==0"},
    {false, "tags==red"},
    {false, "tags!=red"},
    {false, "tags==red,green"},
    {false, "tags!=red,green"},
    {false, "tags~=^bl"},
    {false, "tags>b"},
    {false, "tags==a..c"},
    {false, "'a.b'>10"},
    {false, "'a.b'"},
    {false, "!'a.b'"},
    {false, "flag==true"},
    {false, "flag!=false"},
    {false, "flag"},
    {false, "temperature>0;name~=a"},
    {false, "temperature;!flag;when>2020-01-01"},
    {true, "temperature.accuracy>0.5"},
    {true, "temperature.accuracy<=0.25"},
    {true, "temperature.accuracy"},
    {true, "!temperature.accuracy"},
    {true, "temperature.accuracy!=0.5"},
    {true, "temperature.unit==C"},
    {true, "temperature.unit!=C"},
    {true, "temperature.unit~=^F$"},
    {true, "temperature.at>2024-03-01"},
    {true, "temperature.cal.q.r==1"},
    {true, "temperature.cal.q"},
    {true, "!temperature.cal.q.r"},
    {true, "temperature.dateCreated>1200"},
    {true, "temperature.dateModified==1000..1100"},
    {true, "temperature.dateCreated"},
    {true, "name.unit"},
};
#define NEXPRS (sizeof EXPRS / sizeof EXPRS[0])

/* Check one expression both ways; returns whether its filter was exact and
 * counts in *interesting a truth that is neither empty nor everything. */
static bool check_both_ways(const expr_case *c, int *interesting)
{
    ngsi_error err = {0};
    q_expr *e = q_parse(c->text, c->mq, &err);
    cr_assert_not_null(e, "%s: %s", c->text, err.description);
    idset truth = {{false}}, before = {{false}}, via_db = {{false}};
    int ntruth = 0;
    for (int i = 0; i < NCORPUS; i++) {
        char id[8];
        snprintf(id, sizeof id, "E%02d", i);
        truth.has[i] = q_match(e, loaded_by_id(id));
        before.has[i] = q_match(e, parsed[i]);
        ntruth += truth.has[i];
    }
    bson_t filter = BSON_INITIALIZER;
    bool exact = false;
    q_to_bson(e, &filter, &exact);
    idset pushed = db_ids(&filter);
    for (int i = 0; i < NCORPUS; i++) {
        char id[8];
        snprintf(id, sizeof id, "E%02d", i);
        via_db.has[i] = pushed.has[i] && q_match(e, loaded_by_id(id));
    }
    char want[IDS_MAX], got[IDS_MAX], db[IDS_MAX], mem[IDS_MAX];
    idset_text(&truth, want);
    idset_text(&via_db, got);
    idset_text(&pushed, db);
    idset_text(&before, mem);
    char *json = bson_as_relaxed_extended_json(&filter, NULL);
    cr_expect_str_eq(mem, want, "%s: parsed [%s] and stored [%s] entities disagree", c->text, mem,
                     want);
    cr_expect_str_eq(got, want, "%s: filter %s then q_match gives [%s], truth [%s]", c->text, json,
                     got, want);
    if (exact)
        cr_expect_str_eq(db, want, "%s: exact filter %s alone gives [%s], truth [%s]", c->text,
                         json, db, want);
    bson_free(json);
    bson_destroy(&filter);
    q_free(e);
    *interesting += ntruth > 0 && ntruth < NCORPUS;
    return exact;
}

Test(q_pushdown, same_answer_both_ways)
{
    int nexact = 0, interesting = 0;
    for (size_t i = 0; i < NEXPRS; i++)
        nexact += check_both_ways(&EXPRS[i], &interesting);
    /* The corpus must actually discriminate, and most statements must be
     * pushed exactly, or the comparison above proves little. */
    cr_expect_geq(interesting, (int)NEXPRS * 3 / 4, "%d of %zu", interesting, NEXPRS);
    cr_expect_geq(nexact, (int)NEXPRS * 3 / 4, "%d of %zu exact", nexact, NEXPRS);
}
