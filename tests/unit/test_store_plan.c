/*
 * tests/unit/test_store_plan.c: how an update changes a stored entity's
 * attributes (store_plan_attrs), without a database: metadata merging and
 * Orion's ways of dropping metadata.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static ngsi_entity *entity(const char *text)
{
    json_error_t je;
    ngsi_error err = {0};
    json_t *body = json_loads(text, JSON_DECODE_INT_AS_REAL, &je);
    cr_assert_not_null(body, "bad test JSON: %s", je.text);
    ngsi_entity *e = ngsi_entity_parse(body, NGSI_IN_NORMALIZED, &err);
    json_decref(body);
    cr_assert_not_null(e, "%s", err.description);
    return e;
}

static ngsi_entity *attrs(const char *text)
{
    json_error_t je;
    ngsi_error err = {0};
    json_t *body = json_loads(text, JSON_DECODE_INT_AS_REAL, &je);
    cr_assert_not_null(body, "bad test JSON: %s", je.text);
    ngsi_entity *e = ngsi_entity_new();
    cr_assert_eq(ngsi_attrs_parse(body, NGSI_IN_NORMALIZED, e, &err), 0, "%s", err.description);
    json_decref(body);
    return e;
}

/* The metadata names of the planned attribute, as "a,b". */
static void expect_md(const char *incoming, bool override_md, const char *want)
{
    ngsi_entity *stored = entity("{\"id\":\"E\",\"A\":{\"value\":1,\"metadata\":{"
                                 "\"m1\":{\"value\":1},\"m2\":{\"value\":2}}}}");
    ngsi_entity *in = attrs(incoming);
    store_update u;
    ngsi_buf failed = {0};
    ngsi_attr *set = store_plan_attrs(stored, in, STORE_ATTRS_UPDATE, override_md, 10, &u, &failed);
    cr_assert_eq(u.nset, 1);
    ngsi_buf names = {0};
    ngsi_buf_puts(&names, "");
    for (size_t i = 0; i < u.set[0].nmd; i++)
        ngsi_buf_printf(&names, "%s%s", i ? "," : "", u.set[0].md[i].name);
    cr_expect_str_eq(names.data, want, "update %s", incoming);
    ngsi_buf_free(&names);
    ngsi_buf_free(&failed);
    free(set);
    ngsi_entity_free(in);
    ngsi_entity_free(stored);
}

Test(plan, metadata_merged_item_by_item)
{
    expect_md("{\"A\":{\"value\":2,\"metadata\":{\"m2\":{\"value\":3},\"m3\":{\"value\":4}}}}",
              false, "m1,m2,m3");
    expect_md("{\"A\":{\"value\":2}}", false, "m1,m2");
}

Test(plan, empty_metadata_object_drops_stored_metadata)
{
    expect_md("{\"A\":{\"value\":2,\"metadata\":{}}}", false, "");
}

Test(plan, override_metadata_replaces_the_set)
{
    expect_md("{\"A\":{\"value\":2,\"metadata\":{\"m3\":{\"value\":4}}}}", true, "m3");
    expect_md("{\"A\":{\"value\":2}}", true, "");
}

Test(plan, replace_without_date_expires_drops_the_expiry)
{
    ngsi_entity *stored = entity("{\"id\":\"E\",\"A\":{\"value\":1}}");
    stored->exp_date = 4000000000.0;
    ngsi_entity *in = attrs("{\"B\":{\"value\":2}}");
    store_update u;
    ngsi_buf failed = {0};
    ngsi_attr *set = store_plan_attrs(stored, in, STORE_ATTRS_REPLACE, false, 10, &u, &failed);
    cr_expect_eq(u.expires, -1);
    ngsi_entity *after = store_apply_update(&u);
    cr_expect_eq(after->exp_date, 0);
    cr_expect_null(ngsi_entity_find(after, "A"));
    ngsi_entity_free(after);
    free(set);
    /* Other modes keep it. */
    set = store_plan_attrs(stored, in, STORE_ATTRS_UPSERT, false, 10, &u, &failed);
    cr_expect_eq(u.expires, 0);
    free(set);
    ngsi_entity_free(in);
    /* A replace naming dateExpires sets the new date. */
    in = attrs("{\"dateExpires\":{\"type\":\"DateTime\",\"value\":\"2100-01-01\"}}");
    set = store_plan_attrs(stored, in, STORE_ATTRS_REPLACE, false, 10, &u, &failed);
    cr_expect_eq(u.expires, 1);
    cr_expect_eq(u.exp_date, 4102444800.0);
    free(set);
    ngsi_buf_free(&failed);
    ngsi_entity_free(in);
    ngsi_entity_free(stored);
}
