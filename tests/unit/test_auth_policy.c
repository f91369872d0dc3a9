/*
 * tests/unit/test_auth_policy.c: entity-type classes from the configuration and the
 * access matrix (class x role x action x scope) that auth_access() decides.
 */
#include "auth_test_util.h"

static auth_policy *policy_from(const char *text)
{
    json_error_t jerr;
    json_t *types = json_loads(text, 0, &jerr);
    cr_assert_not_null(types, "bad test JSON: %s", jerr.text);
    auth_error err;
    auth_policy *pol = auth_policy_new(types, &err);
    cr_assert_not_null(pol, "refused: %s", err.description);
    json_decref(types);
    return pol;
}

static void assert_policy_refused(const char *text, const char *why)
{
    json_t *types = json_loads(text, 0, NULL);
    cr_assert_not_null(types);
    auth_error err;
    cr_assert_null(auth_policy_new(types, &err), "accepted: %s", text);
    cr_assert_eq(err.code, AUTH_E_CONFIG);
    cr_assert(strstr(err.description, why) != NULL, "'%s' lacks '%s'", err.description, why);
    json_decref(types);
}

static auth_principal *principal(const char *sub, const char *role, const char *scope)
{
    json_t *claims = json_pack("{s:s,s:[s]}", "sub", sub, "roles", role);
    if (scope != NULL)
        json_object_set_new(claims, "scope", json_string(scope));
    auth_error err;
    auth_principal *p = auth_principal_from_claims(claims, &err);
    cr_assert_not_null(p, "%s", err.description);
    json_decref(claims);
    return p;
}

static const char *POLICY = "{\"PointOfInterest\":\"open\",\"Streetlight\":\"restricted\","
                            "\"VitalSignObserved\":{\"class\":\"personal\",\"category\":"
                            "\"health\"},\"Zone\":{\"class\":\"open\"}}";

Test(auth_policy, classes_come_from_the_configuration)
{
    auth_policy *pol = policy_from(POLICY);
    const char *cat = "x";
    cr_assert_eq(auth_policy_class(pol, "PointOfInterest", &cat), AUTH_CLASS_OPEN);
    cr_assert_null(cat);
    cr_assert_eq(auth_policy_class(pol, "Zone", NULL), AUTH_CLASS_OPEN);
    cr_assert_eq(auth_policy_class(pol, "Streetlight", NULL), AUTH_CLASS_RESTRICTED);
    cr_assert_eq(auth_policy_class(pol, "VitalSignObserved", &cat), AUTH_CLASS_PERSONAL);
    cr_assert_str_eq(cat, "health");
    cr_assert_eq(auth_policy_class(pol, "NotConfigured", &cat), AUTH_CLASS_RESTRICTED,
                 "restricted is the default");
    cr_assert_null(cat);
    cr_assert_eq(auth_policy_class(pol, NULL, NULL), AUTH_CLASS_RESTRICTED);

    const char *const *names;
    cr_assert_eq(auth_policy_types(pol, AUTH_CLASS_OPEN, &names), 2);
    cr_assert_str_eq(names[0], "PointOfInterest");
    cr_assert_str_eq(names[1], "Zone");
    cr_assert_eq(auth_policy_types(pol, AUTH_CLASS_PERSONAL, &names), 1);
    cr_assert_str_eq(names[0], "VitalSignObserved");
    cr_assert_eq(auth_policy_all_types(pol, &names), 4);
    cr_assert_str_eq(names[3], "Zone");
    auth_policy_free(pol);
}

Test(auth_policy, empty_policy_makes_everything_restricted)
{
    auth_error err;
    auth_policy *pol = auth_policy_new(NULL, &err);
    cr_assert_not_null(pol);
    cr_assert_eq(auth_policy_class(pol, "PointOfInterest", NULL), AUTH_CLASS_RESTRICTED);
    const char *const *names;
    cr_assert_eq(auth_policy_all_types(pol, &names), 0);
    auth_policy_free(pol);
}

Test(auth_policy, bad_configurations_are_refused)
{
    assert_policy_refused("{\"A\":\"public\"}", "class must be open, restricted or personal");
    assert_policy_refused("{\"A\":42}", "class must be");
    assert_policy_refused("{\"A\":{\"category\":\"health\"}}", "class must be");
    assert_policy_refused("{\"A\":{\"class\":\"open\",\"category\":\"x\"}}",
                          "only personal types have a category");
    assert_policy_refused("{\"A\":{\"class\":\"personal\",\"owner\":\"x\"}}",
                          "unknown member 'owner'");
    assert_policy_refused("{\"A\":{\"class\":\"personal\",\"category\":7}}",
                          "category must be a string");
    assert_policy_refused("{\"A\":{\"class\":\"personal\",\"category\":\"\"}}", "category");
    assert_policy_refused("{\"A B\":\"open\"}", "forbidden character");
    assert_policy_refused("{\"\":\"open\"}", "type name");
    json_t *arr = json_array();
    auth_error err;
    cr_assert_null(auth_policy_new(arr, &err));
    cr_assert_eq(err.code, AUTH_E_CONFIG);
    json_decref(arr);
}

/* One row of the matrix: role and scope of the caller, the expected bits for read
 * and write of the open, restricted and personal type. */
typedef struct row {
    const char *role; /* NULL: no token */
    const char *scope;
    unsigned open_r, open_w, restr_r, restr_w, pers_r, pers_w;
} row;

#define ALL AUTH_ACCESS_ALL
#define OWN AUTH_ACCESS_OWN
#define CON AUTH_ACCESS_CONSENTED

static const char *SCOPE_ALL = "entities:read:* entities:write:*";
static const char *SCOPE_READ = "entities:read:PointOfInterest entities:read:Streetlight "
                                "entities:read:VitalSignObserved";

Test(auth_policy, access_matrix)
{
    const row rows[] = {
        /* no token: open data only */
        {NULL, NULL, ALL, 0, 0, 0, 0, 0},
        /* scoped for every type and action */
        {"resident", SCOPE_ALL, ALL, 0, ALL, ALL, OWN, OWN},
        {"vendor", SCOPE_ALL, ALL, 0, ALL, ALL, CON, 0},
        {"adapter", SCOPE_ALL, ALL, ALL, ALL, ALL, CON, ALL},
        {"town", SCOPE_ALL, ALL, ALL, ALL, ALL, ALL, ALL},
        /* no scope: open reads, and a resident's own data */
        {"resident", NULL, ALL, 0, 0, 0, OWN, 0},
        {"vendor", NULL, ALL, 0, 0, 0, 0, 0},
        {"adapter", NULL, ALL, 0, 0, 0, 0, 0},
        {"town", NULL, ALL, 0, 0, 0, 0, 0},
        /* read scopes only */
        {"adapter", SCOPE_READ, ALL, 0, ALL, 0, CON, 0},
        {"town", SCOPE_READ, ALL, 0, ALL, 0, ALL, 0},
    };
    auth_policy *pol = policy_from(POLICY);
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        const row *r = &rows[i];
        auth_principal *p = r->role ? principal("sub-1", r->role, r->scope) : NULL;
        const char *who = r->role ? r->role : "anonymous";
        const char *sc = r->scope ? r->scope : "-";
        cr_expect_eq(auth_access(pol, p, AUTH_READ, "PointOfInterest"), r->open_r,
                     "%s %s open read", who, sc);
        cr_expect_eq(auth_access(pol, p, AUTH_WRITE, "PointOfInterest"), r->open_w,
                     "%s %s open write", who, sc);
        cr_expect_eq(auth_access(pol, p, AUTH_READ, "Streetlight"), r->restr_r,
                     "%s %s restricted read", who, sc);
        cr_expect_eq(auth_access(pol, p, AUTH_WRITE, "Streetlight"), r->restr_w,
                     "%s %s restricted write", who, sc);
        cr_expect_eq(auth_access(pol, p, AUTH_READ, "VitalSignObserved"), r->pers_r,
                     "%s %s personal read", who, sc);
        cr_expect_eq(auth_access(pol, p, AUTH_WRITE, "VitalSignObserved"), r->pers_w,
                     "%s %s personal write", who, sc);
        auth_principal_decref(p);
    }
    auth_policy_free(pol);
}

Test(auth_policy, scopes_name_single_types)
{
    auth_policy *pol = policy_from(POLICY);
    auth_principal *p = principal("svc", "vendor", "entities:read:Streetlight");
    cr_assert_eq(auth_access(pol, p, AUTH_READ, "Streetlight"), ALL);
    cr_assert_eq(auth_access(pol, p, AUTH_READ, "Unconfigured"), 0);
    cr_assert_eq(auth_access(pol, p, AUTH_WRITE, "Streetlight"), 0);
    cr_assert_eq(auth_access(pol, p, AUTH_READ, "VitalSignObserved"), 0);
    auth_principal_decref(p);
    auth_policy_free(pol);
}

Test(auth_policy, roles_combine)
{
    auth_policy *pol = policy_from(POLICY);
    json_t *claims = json_pack("{s:s,s:[s,s],s:s}", "sub", "x", "roles", "resident", "vendor",
                               "scope", "entities:read:VitalSignObserved");
    auth_principal *p = auth_principal_from_claims(claims, NULL);
    cr_assert_not_null(p);
    cr_assert_eq(auth_access(pol, p, AUTH_READ, "VitalSignObserved"), OWN | CON);
    auth_principal_decref(p);
    json_decref(claims);
    auth_policy_free(pol);
}

Test(auth_policy, denials_explain_what_is_needed)
{
    auth_policy *pol = policy_from(POLICY);
    auth_error err;
    cr_assert_eq(auth_access_denied(pol, NULL, AUTH_READ, "Streetlight", &err), -1);
    cr_assert_eq(err.status, 401);
    cr_assert_eq(err.code, AUTH_E_MISSING);
    cr_assert(strstr(err.description, "no access token") != NULL, "%s", err.description);

    auth_principal *vendor = principal("svc", "vendor", NULL);
    auth_access_denied(pol, vendor, AUTH_READ, "Streetlight", &err);
    cr_assert_eq(err.status, 403);
    cr_assert_str_eq(err.name, "Forbidden");
    cr_assert_str_eq(err.description, "the token does not allow to read entities of type "
                                      "Streetlight: it needs scope entities:read:Streetlight");
    auth_access_denied(pol, vendor, AUTH_WRITE, "PointOfInterest", &err);
    cr_assert_str_eq(err.description, "writing open data needs role town or adapter and scope "
                                      "entities:write:PointOfInterest");
    auth_access_denied(pol, vendor, AUTH_WRITE, "VitalSignObserved", &err);
    cr_assert_str_eq(err.description,
                     "personal data is written only by town, adapter or its owner");
    auth_principal_decref(vendor);
    auth_policy_free(pol);
}

Test(auth_policy, coarse_scope_check)
{
    auth_principal *p = principal("svc", "vendor", "entities:write:Streetlight subscriptions:*");
    cr_assert(auth_principal_may(p, "entities", "write"));
    cr_assert_not(auth_principal_may(p, "entities", "read"));
    cr_assert(auth_principal_may(p, "subscriptions", "write"));
    cr_assert(auth_principal_may(p, "subscriptions", "read"));
    cr_assert_not(auth_principal_may(NULL, "entities", "read"));
    /* One item at a time, its type part aside. */
    const auth_scope *item = auth_principal_scope_at(p, 0);
    cr_assert(auth_scope_grants(item, "entities", "write"));
    cr_assert_not(auth_scope_grants(item, "entities", "read"));
    cr_assert_not(auth_scope_grants(item, "subscriptions", "write"));
    cr_assert(auth_scope_grants(auth_principal_scope_at(p, 1), "subscriptions", "read"));
    auth_principal_decref(p);
}

Test(auth_policy, who_sees_the_common_id)
{
    auth_principal *town = principal("town-1", "town", NULL);
    auth_principal *owner = principal("resident-1", "resident", NULL);
    auth_principal *other = principal("resident-2", "resident", NULL);
    auth_principal *vendor = principal("resident-1", "vendor", NULL);
    cr_assert(auth_sees_common_id(town, "resident-1"));
    cr_assert(auth_sees_common_id(owner, "resident-1"));
    cr_assert_not(auth_sees_common_id(other, "resident-1"));
    cr_assert_not(auth_sees_common_id(vendor, "resident-1"),
                  "a service whose client id equals the owner's ID is still a service");
    cr_assert_not(auth_sees_common_id(NULL, "resident-1"));
    auth_principal_decref(town);
    auth_principal_decref(owner);
    auth_principal_decref(other);
    auth_principal_decref(vendor);
}
