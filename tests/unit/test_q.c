/*
 * tests/unit/test_q.c: the Simple Query Language: Orion's grammar and error
 * texts, evaluation over parsed entities, and the shape of the MongoDB
 * filter pushed down for representative statements.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "q.h"

/* ---------------------------------------------------------------- grammar */

typedef struct bad_case {
    bool mq;
    const char *text;
    const char *want;
} bad_case;

static const bad_case BAD[] = {
    {false, "", "empty q"},
    {false, ";", "empty q"},
    {false, "a;;b", "empty q-item"},
    {false, "a;;", "empty q-item"},
    {false, "a; ;", "empty q-item"},
    {false, "a; ;b", "empty q-item (only whitespace)"},
    {false, "   ", "empty q-item (only whitespace)"},
    {false, "==3", "empty left-hand-side in q-item"},
    {false, " :3", "empty left-hand-side in q-item"},
    {false, "a=3", "invalid character found in URI param /q/"},
    {false, "a(b==3", "invalid character found in URI param /q/"},
    {false, "!a==3", "invalid character found in URI param /q/"},
    {false, "'a>b'==3", "invalid character found in URI param /q/"},
    {false, "a:=3", "invalid character found in URI param /q/"},
    {false, "speed==", "empty right-hand-side in q-item"},
    {false, "speed>  ", "empty right-hand-side in q-item"},
    {false, "!", "empty right-hand-side in q-item"},
    {false, "a'b", "forbidden characters in String Filter"},
    {false, "!a'b.c", "forbidden characters in String Filter"},
    {false, "a==b<c", "forbidden characters in String Filter"},
    {false, "a:b==c", "forbidden characters in String Filter"},
    {false, "a==x)", "forbidden characters in String Filter"},
    {false, "a==')'", "forbidden characters in String Filter"},
    {false, "a~=(x", "forbidden characters in String Filter"},
    {false, "a~=x=y", "forbidden characters in String Filter"},
    {false, "a~=[", "error compiling filter regex: '['"},
    {false, "a~=x{2", "error compiling filter regex: 'x{2'"},
    {false, "a=='abc", "non-terminated forced string"},
    {false, "a=='", "non-terminated forced string"},
    {false, "a=='x..y'", "non-terminated forced string"},
    {false, "a=='ab'c'", "quote in forced string"},
    {false, "a>true", "values of type /Bool/ not supported for operator /GreaterThan/"},
    {false, "a<=null", "values of type /Null/ not supported for operator /LessThanOrEqual/"},
    {false, "a>=false", "values of type /Bool/ not supported for operator /GreaterThanOrEqual/"},
    {false, "a<null", "values of type /Null/ not supported for operator /LessThan/"},
    {false, "a>1..3", "ranges only valid for equal and not equal ops"},
    {false, "a~=1..3x(", "forbidden characters in String Filter"},
    {false, "a==1..", "empty item in range"},
    {false, "a!=..1", "empty item in range"},
    {false, "a==true..3", "invalid data type for /range-from/"},
    {false, "a==1..null", "invalid data type for /range-to/"},
    {false, "a==1..b", "invalid range: types mixed"},
    {false, "a==1..2024-01-01", "invalid range: types mixed"},
    {false, "a==x..(", "forbidden characters in String Filter"},
    {false, "a>1,2", "lists only valid for equal and not equal ops"},
    {false, "a==1,,2", "empty item in list"},
    {false, "a==1,", "empty item in list"},
    {false, "a==,1", "empty item in list"},
    {false, "a==1, ,2", "empty item in list"},
    {false, "a==1,b", "invalid JSON value type in list"},
    {false, "a==1,2024-01-01", "invalid JSON value type in list"},
    {false, "a==true,false", "invalid JSON value type in list"},
    {false, "a==null,x", "invalid JSON value type in list"},
    {false, "a==x,'y", "non-terminated forced string"},
    {false, "a==1;b>true", "values of type /Bool/ not supported for operator /GreaterThan/"},
    {true, "", "empty q"},
    {true, "a", "no metadata in right-hand-side of q-item"},
    {true, "!a", "no metadata in right-hand-side of q-item"},
    {true, "a.", "no metadata in right-hand-side of q-item"},
    {true, "a==1", "no metadata name - not valid for metadata filters"},
    {true, "a.==1", "no metadata name - not valid for metadata filters"},
    {true, ".m==1", "no attribute name - not valid for metadata filters"},
    {true, ".m", "no attribute name - not valid for metadata filters"},
    {true, "a.m=1", "invalid character found in URI param /mq/"},
    {true, "a.m;b", "no metadata in right-hand-side of q-item"},
    /* Statement errors come before the mq name checks, whatever the order. */
    {true, "b==1;a.m>x(", "forbidden characters in String Filter"},
};

Test(q_grammar, orion_error_texts)
{
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        ngsi_error err = {0};
        q_expr *e = q_parse(BAD[i].text, BAD[i].mq, &err);
        cr_expect_null(e, "%s should not parse", BAD[i].text);
        q_free(e);
        cr_expect_eq(err.status, 400, "%s", BAD[i].text);
        cr_expect_str_eq(err.name, "BadRequest", "%s", BAD[i].text);
        cr_expect_str_eq(err.description, BAD[i].want, "for %s%s",
                         BAD[i].mq ? "mq=" : "q=", BAD[i].text);
    }
}

Test(q_grammar, valid_statements)
{
    static const char *const ok_q[] = {
        "a",           "a;",       ";a",         "!a",
        "a==1;b!=2",   " a == 1 ", "a:1",        "'a.b'.c==1",
        "a==  1 , 2 ", "a==1..2",  "a==' x '",   "a~=^a.*b$",
        "a==nan",      "a==''",    "a=='a,b',c", "a>=2024-01-01T10:00:00+09:00",
        "a<'10'",      "a!=null",  "a==x y",     "a~=a,b..c",
        "a.b.c",       "!a.'b.c'",
    };
    for (size_t i = 0; i < sizeof ok_q / sizeof ok_q[0]; i++) {
        ngsi_error err = {0};
        q_expr *e = q_parse(ok_q[i], false, &err);
        cr_expect_not_null(e, "q=%s: %s", ok_q[i], err.description);
        q_free(e);
    }
    ngsi_error err = {0};
    /* The first ".." splits a range; the rest belongs to its upper end. */
    cr_expect_null(q_parse("a==1..2..3x", false, &err));
    cr_expect_str_eq(err.description, "invalid range: types mixed");
    static const char *const ok_mq[] = {"a.m", "!a.m", "a.m>1", "a.m.x.y==z", "'a.b'.'m.n'"};
    for (size_t i = 0; i < sizeof ok_mq / sizeof ok_mq[0]; i++) {
        q_expr *e = q_parse(ok_mq[i], true, &err);
        cr_expect_not_null(e, "mq=%s: %s", ok_mq[i], err.description);
        q_free(e);
    }
}

/* ------------------------------------------------------------- evaluation */

static const char *const ENTITIES[] = {
    "{\"id\":\"E1\",\"type\":\"T\","
    "\"t\":{\"value\":21.5,\"metadata\":{\"accuracy\":{\"value\":0.7},\"unit\":{\"value\":\"C\"},"
    "\"at\":{\"type\":\"DateTime\",\"value\":\"2024-05-01T10:00:00Z\"},"
    "\"cal\":{\"value\":{\"q\":{\"r\":2}}}}},"
    "\"s\":{\"value\":\"20\"},\"name\":{\"value\":\"hello\"},\"flag\":{\"value\":true},"
    "\"nil\":{\"value\":null},"
    "\"when\":{\"type\":\"DateTime\",\"value\":\"2024-05-01T00:00:00Z\"},"
    "\"arr\":{\"value\":[1,5,\"x\"]},"
    "\"obj\":{\"value\":{\"a\":{\"b\":3,\"c\":\"z\"},\"list\":[{\"k\":1},{\"k\":2}],"
    "\"x.y\":4}},"
    "\"a.b\":{\"value\":1}}",

    "{\"id\":\"E2\",\"type\":\"T\","
    "\"t\":{\"value\":30,\"metadata\":{\"accuracy\":{\"value\":0.2}}},"
    "\"s\":{\"value\":20},\"name\":{\"value\":\"world\"},\"flag\":{\"value\":false},"
    "\"when\":{\"type\":\"DateTime\",\"value\":\"2023-01-01T00:00:00Z\"},"
    "\"arr\":{\"value\":[0,30]},\"obj\":{\"value\":{\"a\":{\"b\":\"3\"}}}}",

    "{\"id\":\"E3\",\"type\":\"T\","
    "\"t\":{\"value\":\"hot\"},\"name\":{\"value\":\"Hello\"},\"nil\":{\"value\":5},"
    "\"when\":{\"type\":\"Text\",\"value\":\"2024-05-01T00:00:00Z\"},"
    "\"obj\":{\"value\":{\"a\":[{\"b\":7},{\"c\":1}]}}}",

    "{\"id\":\"E4\",\"type\":\"U\",\"other\":{\"value\":1},"
    "\"name\":{\"value\":\"\xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd\"},"
    "\"dateExpires\":{\"type\":\"DateTime\",\"value\":\"2030-01-01T00:00:00Z\"}}",
};
#define NENT (sizeof ENTITIES / sizeof ENTITIES[0])

static ngsi_entity *ents[NENT];

static void load_entities(void)
{
    for (size_t i = 0; i < NENT; i++) {
        json_error_t je;
        ngsi_error err = {0};
        json_t *j = json_loads(ENTITIES[i], JSON_DECODE_INT_AS_REAL, &je);
        cr_assert_not_null(j, "bad test JSON %zu: %s", i, je.text);
        ents[i] = ngsi_entity_parse(j, NGSI_IN_NORMALIZED, &err);
        json_decref(j);
        cr_assert_not_null(ents[i], "%s", err.description);
        ents[i]->cre_date = 1000.0 * (double)(i + 1);
        ents[i]->mod_date = i == 0 ? 5000 : ents[i]->cre_date;
        for (size_t k = 0; k < ents[i]->nattrs; k++) {
            ents[i]->attrs[k].cre_date = ents[i]->cre_date;
            ents[i]->attrs[k].mod_date = ents[i]->mod_date - 500;
        }
    }
}

static void free_entities(void)
{
    for (size_t i = 0; i < NENT; i++)
        ngsi_entity_free(ents[i]);
}

/* Ids of the entities e matches, joined with ','. */
static void matches(const q_expr *e, char *out, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < NENT; i++) {
        if (!q_match(e, ents[i]))
            continue;
        if (out[0] != '\0')
            strncat(out, ",", n - strlen(out) - 1);
        strncat(out, ents[i]->id, n - strlen(out) - 1);
    }
}

typedef struct eval_case {
    bool mq;
    const char *text;
    const char *want; /* ids matched */
} eval_case;

static const eval_case EVAL[] = {
    /* numbers, and numbers never equal strings */
    {false, "t==21.5", "E1"},
    {false, "t:21.5", "E1"},
    {false, "t==2.15e1", "E1"},
    {false, "t==30", "E2"},
    {false, "t!=30", "E1,E3"},
    {false, "t>25", "E2"},
    {false, "t>=21.5", "E1,E2"},
    {false, "t<30", "E1"},
    {false, "t<=30", "E1,E2"},
    {false, "t>=21.5;t<=21.5", "E1"},
    {false, "s==20", "E2"},
    {false, "s==0x14", "E2"},
    {false, "s=='20'", "E1"},
    {false, "s!=20", "E1"},
    {false, "s>10", "E2"},
    {false, "s>'10'", "E1"},
    /* strings: bytewise order */
    {false, "t==hot", "E3"},
    {false, "t>a", "E3"},
    {false, "name==hello,world", "E1,E2"},
    {false, "name!=hello,world", "E3,E4"},
    {false, "name==Hello", "E3"},
    {false, "name>Hello", "E1,E2,E4"},
    {false, "name==a..i", "E1"},
    {false, "name!=a..i", "E2,E3,E4"},
    {false, "name=='hello','x,y'", "E1"},
    {false, "name==2024-05-01", ""},
    /* ranges on numbers */
    {false, "t==20..25", "E1"},
    {false, "t!=20..25", "E2,E3"},
    /* booleans and null */
    {false, "flag==true", "E1"},
    {false, "flag==false", "E2"},
    {false, "flag!=true", "E2"},
    {false, "flag=='true'", ""},
    {false, "nil==null", "E1"},
    {false, "nil!=null", "E3"},
    /* dates: DateTime values compare as time, Text values do not */
    {false, "when>2023-06-01", "E1"},
    {false, "when==2024-05-01T00:00:00Z", "E1"},
    {false, "when==2024-05-01T09:00:00+09:00", "E1"},
    {false, "when=='2024-05-01T00:00:00Z'", "E3"},
    {false, "when==2023-01-01..2023-12-31", "E2"},
    {false, "when<2024-05-01T00:00:00.001Z", "E1,E2"},
    {false, "when>1700000000", "E1"},
    {false, "when==2024-05-01,2023-01-01", "E1,E2"},
    /* builtins */
    {false, "dateCreated>1500", "E2,E3,E4"},
    {false, "dateCreated<1970-01-01T00:30:00Z", "E1"},
    {false, "dateModified==2000", "E2"},
    {false, "dateModified!=2000", "E1,E3,E4"},
    {false, "dateExpires>2029-01-01", "E4"},
    {false, "dateExpires<2029-01-01", ""},
    {false, "dateExpires", "E4"},
    {false, "!dateExpires", "E1,E2,E3"},
    {false, "dateCreated", ""},
    {false, "!dateCreated", "E1,E2,E3,E4"},
    /* arrays: an element matching is enough; each range bound separately */
    {false, "arr==5", "E1"},
    {false, "arr==x", "E1"},
    {false, "arr==1,30", "E1,E2"},
    {false, "arr!=5", "E2"},
    {false, "arr>25", "E2"},
    {false, "arr==2..4", "E1,E2"},
    {false, "arr~=^x$", "E1"},
    {false, "arr.0==1", "E1"},
    {false, "arr.1==30", "E2"},
    /* paths into compound values */
    {false, "obj.a.b==3", "E1"},
    {false, "obj.a.b=='3'", "E2"},
    {false, "obj.a.b==7", "E3"},
    {false, "obj.a.b>2", "E1,E3"},
    {false, "obj.a.b", "E1,E2,E3"},
    {false, "obj.a.c", "E1,E3"},
    {false, "!obj.a.c", "E2,E4"},
    {false, "obj.list.k==2", "E1"},
    {false, "obj.a!=3", "E1,E2,E3"},
    {false, "obj.'x.y'==4", "E1"},
    {false, "obj==3", ""},
    /* quoted names */
    {false, "'a.b'==1", "E1"},
    {false, "'a.b'", "E1"},
    {false, "a.b==1", ""},
    /* regular expressions (POSIX extended), on strings only */
    {false, "name~=^hel", "E1"},
    {false, "name~=o$", "E1,E3"},
    {false, "name~=l+", "E1,E2,E3"},
    {false, "name~=^[a-h]", "E1"},
    {false, "name~=hello|world", "E1,E2"},
    {false, "t~=ho", "E3"},
    /* ... on characters, not bytes: E4's name is three characters */
    {false, "name~=^.{3}$", "E4"},
    {false, "name~=^\xe6\x9d\xb1.\xe9\x83\xbd$", "E4"},
    {false, "name~=^[^a-z]+$", "E4"},
    {false, "name~=\xe4\xba\xac+", "E4"},
    {false, "t~=2", ""},
    /* existence and conjunction */
    {false, "s", "E1,E2"},
    {false, "!s", "E3,E4"},
    {false, "t>20;name==hello", "E1"},
    {false, "t>20;!nil", "E2"},
    {false, "id==E1", ""},
    /* mq */
    {true, "t.accuracy>0.5", "E1"},
    {true, "t.accuracy<0.5", "E2"},
    {true, "t.accuracy!=0.7", "E2"},
    {true, "t.accuracy", "E1,E2"},
    {true, "!t.accuracy", "E3,E4"},
    {true, "t.unit==C", "E1"},
    {true, "t.unit~=^C$", "E1"},
    {true, "t.at>2024-05-01T09:00:00Z", "E1"},
    {true, "t.cal.q.r==2", "E1"},
    {true, "t.cal.q", "E1"},
    {true, "t.dateCreated<1500", "E1"},
    {true, "t.dateModified>4000", "E1"},
    {true, "t.dateCreated", "E1,E2,E3"},
    {true, "!t.dateCreated", "E4"},
    {true, "t.accuracy>0.1;t.unit", "E1"},
};

Test(q_eval, matches_like_orion_and_mongodb, .init = load_entities, .fini = free_entities)
{
    for (size_t i = 0; i < sizeof EVAL / sizeof EVAL[0]; i++) {
        ngsi_error err = {0};
        q_expr *e = q_parse(EVAL[i].text, EVAL[i].mq, &err);
        cr_assert_not_null(e, "%s: %s", EVAL[i].text, err.description);
        char got[64];
        matches(e, got, sizeof got);
        cr_expect_str_eq(got, EVAL[i].want, "%s%s", EVAL[i].mq ? "mq=" : "q=", EVAL[i].text);
        q_free(e);
    }
}

typedef struct shared_run {
    const q_expr *e;
    int hits;
} shared_run;

static void *run_shared(void *arg)
{
    shared_run *r = arg;
    for (int n = 0; n < 2000; n++)
        for (size_t i = 0; i < NENT; i++)
            r->hits += q_match(r->e, ents[i]);
    return NULL;
}

Test(q_eval, one_expression_shared_by_threads, .init = load_entities, .fini = free_entities)
{
    ngsi_error err = {0};
    q_expr *e = q_parse("name~=l+o$;t<100", false, &err);
    cr_assert_not_null(e, "%s", err.description);
    pthread_t th[4];
    shared_run runs[4];
    for (int i = 0; i < 4; i++) {
        runs[i] = (shared_run){.e = e};
        cr_assert_eq(pthread_create(&th[i], NULL, run_shared, &runs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_expect_eq(runs[i].hits, 2000, "only E1 matches, every time");
    }
    q_free(e);
}

/* ---------------------------------------------------------------- pushdown */

typedef struct push_case {
    bool mq;
    const char *text;
    const char *want; /* relaxed extended JSON of the filter */
    bool exact;
} push_case;

#define AND(x) "{ \"$and\" : [ " x " ] }"

static const push_case PUSH[] = {
    {false, "t>20", AND("{ \"attrs.t.value\" : { \"$gt\" : 20.0 } }"), true},
    {false, "t", AND("{ \"attrNames\" : \"t\" }"), true},
    {false, "!t", AND("{ \"attrNames\" : { \"$ne\" : \"t\" } }"), true},
    {false, "s=='20'", AND("{ \"attrs.s.value\" : { \"$eq\" : \"20\" } }"), true},
    {false, "s!=20",
     AND("{ \"attrs.s.value\" : { \"$exists\" : true } }, { \"$nor\" : [ { \"attrs.s.value\" : { "
         "\"$eq\" : 20.0 } } ] }"),
     true},
    {false, "flag==true", AND("{ \"attrs.flag.value\" : { \"$eq\" : true } }"), true},
    {false, "name==a,b", AND("{ \"attrs.name.value\" : { \"$in\" : [ \"a\", \"b\" ] } }"), true},
    {false, "name!=a,b",
     AND("{ \"attrs.name.value\" : { \"$exists\" : true } }, { \"$nor\" : [ { "
         "\"attrs.name.value\" : { \"$in\" : [ \"a\", \"b\" ] } } ] }"),
     true},
    {false, "t==1..2", AND("{ \"attrs.t.value\" : { \"$gte\" : 1.0, \"$lte\" : 2.0 } }"), true},
    {false, "t!=1..2",
     AND("{ \"attrs.t.value\" : { \"$exists\" : true } }, { \"$nor\" : [ { \"attrs.t.value\" : { "
         "\"$gte\" : 1.0, \"$lte\" : 2.0 } } ] }"),
     true},
    {false, "nil==null", AND("{ \"attrs.nil.value\" : { \"$type\" : 10 } }"), true},
    {false, "nil!=null",
     AND("{ \"attrs.nil.value\" : { \"$exists\" : true } }, { \"$nor\" : [ { \"attrs.nil.value\" "
         ": { \"$type\" : 10 } } ] }"),
     true},
    {false, "when>2024-01-01", AND("{ \"attrs.when.value\" : { \"$gt\" : 1704067200.0 } }"), true},
    {false, "'a.b'==1", AND("{ \"attrs.a=b.value\" : { \"$eq\" : 1.0 } }"), true},
    {false, "'a.b'", AND("{ \"attrNames\" : \"a.b\" }"), true},
    {false, "obj.a.b<=3", AND("{ \"attrs.obj.value.a.b\" : { \"$lte\" : 3.0 } }"), true},
    {false, "obj.a.b", AND("{ \"attrs.obj.value.a.b\" : { \"$exists\" : true } }"), true},
    {false, "!obj.a.b",
     AND("{ \"$nor\" : [ { \"attrs.obj.value.a.b\" : { \"$exists\" : true } } ] }"), true},
    {false, "obj.'x.y'==3", AND("{ \"attrNames\" : \"obj\" }"), false},
    {false, "arr.0==1", AND("{ \"attrNames\" : \"arr\" }"), false},
    {false, "!obj.'x.y'", "{ }", false},
    {false, "$t==1", AND("{ \"attrNames\" : \"$t\" }"), false},
    {false, "name~=^hel.*o$",
     AND("{ \"attrs.name.value\" : { \"$regex\" : \"^hel.*o\\\\z\", \"$options\" : \"s\" } }"),
     true},
    {false, "name~=^[a-z]+ [A-Z0-9_-]{2,3}x?$|^a\\.b",
     AND("{ \"attrs.name.value\" : { \"$regex\" : \"^[a-z]+ [A-Z0-9_-]{2,3}x?\\\\z|^a\\\\.b\", "
         "\"$options\" : \"s\" } }"),
     true},
    {false, "name~=a.?[^a]\xc3\xa9+",
     AND("{ \"attrs.name.value\" : { \"$regex\" : \"a.?[^a]\xc3\xa9+\", \"$options\" : \"s\" } "
         "}"),
     true},
    {false, "name~=\\d", AND("{ \"attrNames\" : \"name\" }"), false},
    {false, "name~=[[:alpha:]]", AND("{ \"attrNames\" : \"name\" }"), false},
    {false, "name~=[\\.]", AND("{ \"attrNames\" : \"name\" }"), false},
    {false, "name~=[]a]", AND("{ \"attrNames\" : \"name\" }"), false},
    {false, "name~=a$b", AND("{ \"attrNames\" : \"name\" }"), false},
    {false, "name~=a^", AND("{ \"attrNames\" : \"name\" }"), false},
    {false, "name~=a|", AND("{ \"attrNames\" : \"name\" }"), false},
    {false, "name~=a**", AND("{ \"attrNames\" : \"name\" }"), false},
    {false, "name~=a{300}", AND("{ \"attrNames\" : \"name\" }"), false},
    {false, "name~=a]", AND("{ \"attrNames\" : \"name\" }"), false},
    {false, "name>\xef\xbd\xb1", AND("{ \"attrNames\" : \"name\" }"), false},
    {false, "name==\xef\xbd\xb1", AND("{ \"attrs.name.value\" : { \"$eq\" : \"\xef\xbd\xb1\" } }"),
     true},
    {false, "name==\xff", AND("{ \"attrNames\" : \"name\" }"), false},
    {false, "t==nan", AND("{ \"attrNames\" : \"t\" }"), false},
    {false, "dateCreated>5", AND("{ \"creDate\" : { \"$gt\" : 5.0 } }"), true},
    {false, "dateModified==1,2", AND("{ \"modDate\" : { \"$in\" : [ 1.0, 2.0 ] } }"), true},
    {false, "dateCreated~=\\d", "{ }", false},
    {false, "dateExpires<2030-01-01", AND("{ \"expDate\" : { \"$exists\" : true } }"), false},
    {false, "dateExpires", AND("{ \"expDate\" : { \"$exists\" : true } }"), true},
    {false, "!dateExpires", AND("{ \"$nor\" : [ { \"expDate\" : { \"$exists\" : true } } ] }"),
     true},
    {false, "t>20;name==x",
     AND("{ \"attrs.t.value\" : { \"$gt\" : 20.0 } }, { \"attrs.name.value\" : { \"$eq\" : "
         "\"x\" } }"),
     true},
    {false, "t>20;arr.0==1",
     AND("{ \"attrs.t.value\" : { \"$gt\" : 20.0 } }, { \"attrNames\" : \"arr\" }"), false},
    {true, "t.accuracy>0.5", AND("{ \"attrs.t.md.accuracy.value\" : { \"$gt\" : 0.5 } }"), true},
    {true, "t.accuracy", AND("{ \"attrs.t.md.accuracy\" : { \"$exists\" : true } }"), true},
    {true, "!t.accuracy",
     AND("{ \"$nor\" : [ { \"attrs.t.md.accuracy\" : { \"$exists\" : true } } ] }"), true},
    {true, "t.cal.q.r==2", AND("{ \"attrs.t.md.cal.value.q.r\" : { \"$eq\" : 2.0 } }"), true},
    {true, "'a.b'.'m.n'==2", AND("{ \"attrs.a=b.md.m=n.value\" : { \"$eq\" : 2.0 } }"), true},
    {true, "t.dateCreated<5", AND("{ \"attrs.t.creDate\" : { \"$lt\" : 5.0 } }"), true},
    {true, "t.dateModified", AND("{ \"attrNames\" : \"t\" }"), true},
};

Test(q_pushdown, filter_shape_and_exactness)
{
    for (size_t i = 0; i < sizeof PUSH / sizeof PUSH[0]; i++) {
        ngsi_error err = {0};
        q_expr *e = q_parse(PUSH[i].text, PUSH[i].mq, &err);
        cr_assert_not_null(e, "%s: %s", PUSH[i].text, err.description);
        bson_t filter = BSON_INITIALIZER;
        bool exact = !PUSH[i].exact;
        int n = q_to_bson(e, &filter, &exact);
        char *json = bson_as_relaxed_extended_json(&filter, NULL);
        cr_expect_str_eq(json, PUSH[i].want, "%s gives %s", PUSH[i].text, json);
        cr_expect_eq(exact, PUSH[i].exact, "exactness of %s", PUSH[i].text);
        cr_expect_eq(n > 0, strcmp(PUSH[i].want, "{ }") != 0, "count for %s", PUSH[i].text);
        bson_free(json);
        bson_destroy(&filter);
        q_free(e);
    }
}

Test(q_pushdown, appends_to_an_existing_filter)
{
    ngsi_error err = {0};
    q_expr *e = q_parse("t", false, &err);
    bson_t filter = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "_id.type", "T");
    cr_expect_eq(q_to_bson(e, &filter, NULL), 1);
    char *json = bson_as_relaxed_extended_json(&filter, NULL);
    cr_expect_str_eq(json, "{ \"_id.type\" : \"T\", \"$and\" : [ { \"attrNames\" : \"t\" } ] }");
    bson_free(json);
    bson_destroy(&filter);
    q_free(e);
}
