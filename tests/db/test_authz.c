/*
 * tests/db/test_authz.c: the hook the subscription engine calls,
 * authz_notify_entity(), against the real test database: a service is notified
 * about a personal entity only while the owner's consent holds, sees the owner as
 * its pseudonym, and every such notification leaves a provision record.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "testsupport.h"

static store *st;
static authz *az;
static char prefix[64];
static ngsi_error err;

static void setup(void)
{
    broker_config cfg = {0};
    const char *src = getenv("TSUNAGI_SOURCE_DIR");
    store_global_init();
    ts_unique_name(prefix, sizeof prefix, "tauthz");
    store_opts o = {.uri = ts_mongo_uri(), .db = prefix, .pool_max = 4};
    st = store_open(&o, &err);
    cr_assert_not_null(st, "%s", err.description);
    cfg.auth = true;
    snprintf(cfg.auth_secret, sizeof cfg.auth_secret, "0123456789abcdef0123456789abcdef");
    snprintf(cfg.config_file, sizeof cfg.config_file, "%s/tests/cases/auth/classes.json",
             src ? src : ".");
    snprintf(cfg.pseudonym_secret_file, sizeof cfg.pseudonym_secret_file,
             "%s/tests/cases/auth/pseudonym.secret", src ? src : ".");
    cfg.auth_cache = 16;
    az = authz_new(&cfg, &err);
    cr_assert_not_null(az, "%s", err.description);
}

static void teardown(void)
{
    authz_free(az);
    store_close(st);
    ts_drop_databases(prefix);
    store_global_cleanup();
}

TestSuite(authz, .init = setup, .fini = teardown);

static auth_principal *principal(const char *sub, const char *role, const char *scope)
{
    json_t *claims = json_pack("{s:s,s:[s],s:s}", "sub", sub, "roles", role, "scope", scope);
    auth_principal *p = auth_principal_from_claims(claims, NULL);
    cr_assert_not_null(p);
    json_decref(claims);
    return p;
}

static ngsi_entity *vital(const char *owner)
{
    json_t *j = json_pack("{s:s,s:s,s:{s:i},s:{s:s}}", "id", "V1", "type", "VitalSignObserved",
                          "heartRate", "value", 70, "ownerId", "value", owner);
    ngsi_entity *e = ngsi_entity_parse(j, NGSI_IN_NORMALIZED, &err);
    json_decref(j);
    cr_assert_not_null(e, "%s", err.description);
    e->service_path = strdup("/");
    return e;
}

static long long records(void)
{
    json_t *all = json_object();
    long long n = store_docs_count(st, "", AUTHZ_PROVISIONS, all, &err);
    json_decref(all);
    cr_assert_geq(n, 0, "%s", err.description);
    return n;
}

static void grant(const char *id, const char *service, double expires)
{
    json_t *doc = json_pack("{s:s,s:s,s:s,s:[s],s:[],s:s,s:f}", "_id", id, "resident", "resident-A",
                            "service", service, "types", "VitalSignObserved", "categories",
                            "purpose", "care", "created", ngsi_now());
    if (expires > 0)
        json_object_set_new(doc, "expires", json_real(expires));
    cr_assert_eq(store_docs_insert(st, "", AUTHZ_CONSENTS, NULL, &doc, 1, &err), 0, "%s",
                 err.description);
    json_decref(doc);
}

Test(authz, notifications_of_personal_data_follow_consent)
{
    auth_principal *clinic = principal("clinic-app", "vendor", "entities:read:VitalSignObserved");
    ngsi_entity *e = vital("resident-A"), *out = NULL;

    cr_assert_eq(authz_notify_entity(az, st, "", clinic, e, NULL, &out, &err), 0,
                 "no consent: not notified");
    cr_assert_null(out);
    cr_assert_eq(records(), 0);

    grant("c1", "clinic-app", 0);
    cr_assert_eq(authz_notify_entity(az, st, "", clinic, e, NULL, &out, &err), 1, "%s",
                 err.description);
    cr_assert_not_null(out);
    const char *shown = json_string_value(ngsi_entity_find(out, AUTH_OWNER_ATTR)->value);
    cr_assert_str_eq(shown, "85c4000086866299c8abfbf5efda4349c37a08ae3378b721b43ad19ed99ac029",
                     "the owner as the clinic's pseudonym");
    cr_assert_str_eq(json_string_value(ngsi_entity_find(e, AUTH_OWNER_ATTR)->value), "resident-A",
                     "the caller's entity is not changed");
    ngsi_entity_free(out);
    cr_assert_eq(records(), 1, "a notification is a provision");

    /* revoked: no more notifications, no more records */
    json_t *filter = json_pack("{s:s}", "_id", "c1");
    json_t *update = json_pack("{s:{s:f}}", "$set", "revoked", ngsi_now());
    cr_assert_eq(store_docs_update(st, "", AUTHZ_CONSENTS, filter, update, &err), 1);
    json_decref(filter);
    json_decref(update);
    cr_assert_eq(authz_notify_entity(az, st, "", clinic, e, NULL, &out, &err), 0);
    cr_assert_null(out);
    cr_assert_eq(records(), 1);

    ngsi_entity_free(e);
    auth_principal_decref(clinic);
}

Test(authz, expired_consent_and_other_services_do_not_count)
{
    auth_principal *clinic = principal("clinic-app", "vendor", "entities:read:VitalSignObserved");
    ngsi_entity *e = vital("resident-A"), *out = NULL;
    grant("c2", "clinic-app", ngsi_now() - 1);
    grant("c3", "other-app", 0);
    cr_assert_eq(authz_notify_entity(az, st, "", clinic, e, NULL, &out, &err), 0);
    cr_assert_eq(records(), 0);
    ngsi_entity_free(e);
    auth_principal_decref(clinic);
}

Test(authz, owners_town_and_other_classes)
{
    auth_principal *owner = principal("resident-A", "resident", "");
    auth_principal *town = principal("town-1", "town", "entities:read:*");
    auth_principal *vendor = principal("clinic-app", "vendor", "entities:read:Streetlight");
    ngsi_entity *e = vital("resident-A"), *out = NULL;

    cr_assert_eq(authz_notify_entity(az, st, "", owner, e, NULL, &out, &err), 1);
    cr_assert_str_eq(json_string_value(ngsi_entity_find(out, AUTH_OWNER_ATTR)->value),
                     "resident-A");
    ngsi_entity_free(out);
    cr_assert_eq(records(), 0, "one's own data is not a provision");

    ngsi_list attrs = {0};
    ngsi_list_parse("heartRate", "attrs", &attrs, &err);
    cr_assert_eq(authz_notify_entity(az, st, "", town, e, &attrs, &out, &err), 1);
    ngsi_entity_free(out);
    ngsi_list_clear(&attrs);
    json_t *all = json_object(), *found = NULL;
    cr_assert_eq(store_docs_find(st, "", AUTHZ_PROVISIONS, all, NULL, &found, &err), 0);
    cr_assert_eq(json_array_size(found), 1, "the town's notification is recorded");
    json_t *r = json_array_get(found, 0);
    cr_assert_str_eq(json_string_value(json_object_get(r, "role")), "town");
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "attrs"), 0)),
                     "heartRate");
    json_decref(found);
    json_decref(all);

    /* a restricted type: the scope decides, no record */
    ngsi_entity_free(e);
    json_t *j = json_pack("{s:s,s:s}", "id", "S1", "type", "Streetlight");
    e = ngsi_entity_parse(j, NGSI_IN_NORMALIZED, &err);
    json_decref(j);
    cr_assert_eq(authz_notify_entity(az, st, "", vendor, e, NULL, &out, &err), 1);
    ngsi_entity_free(out);
    cr_assert_eq(authz_notify_entity(az, st, "", owner, e, NULL, &out, &err), 0,
                 "the resident's token has no scope for Streetlight");
    cr_assert_eq(records(), 1);

    ngsi_entity_free(e);
    auth_principal_decref(owner);
    auth_principal_decref(town);
    auth_principal_decref(vendor);
}

Test(authz, claims_rebuild_the_principal)
{
    auth_principal *p = principal("clinic-app", "vendor", "entities:read:VitalSignObserved sub:*");
    json_t *claims = authz_principal_claims(p);
    auth_principal *q = auth_principal_from_claims(claims, NULL);
    cr_assert_not_null(q);
    cr_assert_str_eq(auth_principal_sub(q), "clinic-app");
    cr_assert_eq(auth_principal_roles(q), AUTH_ROLE_VENDOR);
    cr_assert(auth_principal_has_scope(q, "entities", "read", "VitalSignObserved"));
    cr_assert(auth_principal_has_scope(q, "sub", "read", NULL));
    json_decref(claims);
    auth_principal_decref(p);
    auth_principal_decref(q);
}
