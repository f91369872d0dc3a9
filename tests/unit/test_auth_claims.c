/*
 * tests/unit/test_auth_claims.c: the principal's claims (sub, roles, tenant, scope),
 * scope matching, the tenant decision against Fiware-Service, and finding the token in
 * the Authorization / X-Auth-Token headers.
 */
#include "auth_test_util.h"

/* Builds a principal from JSON text; asserts success. */
static auth_principal *from_json(const char *text)
{
    json_error_t jerr;
    json_t *claims = json_loads(text, 0, &jerr);
    cr_assert_not_null(claims, "bad test JSON: %s", jerr.text);
    auth_error err;
    auth_principal *p = auth_principal_from_claims(claims, &err);
    cr_assert_not_null(p, "rejected: %s", err.description);
    json_decref(claims);
    return p;
}

/* Asserts that the claims are refused with AUTH_E_CLAIMS and text in the description. */
static void assert_refused(const char *text, const char *why)
{
    json_t *claims = json_loads(text, 0, NULL);
    cr_assert_not_null(claims);
    auth_error err;
    cr_assert_null(auth_principal_from_claims(claims, &err), "accepted: %s", text);
    cr_assert_eq(err.code, AUTH_E_CLAIMS);
    cr_assert_eq(err.status, 401);
    cr_assert(strstr(err.description, why) != NULL, "'%s' lacks '%s'", err.description, why);
    json_decref(claims);
}

/* ---- sub ---- */

Test(auth_claims, sub_is_required)
{
    assert_refused("{\"roles\":[\"resident\"]}", "sub");
    assert_refused("{\"sub\":\"\",\"roles\":[\"resident\"]}", "sub");
    assert_refused("{\"sub\":42,\"roles\":[\"resident\"]}", "sub");
    auth_principal *p = from_json("{\"sub\":\"共通ID-0001\",\"roles\":[\"resident\"]}");
    cr_assert_str_eq(auth_principal_sub(p), "共通ID-0001");
    auth_principal_decref(p);
}

/* ---- roles ---- */

Test(auth_claims, roles_are_parsed_into_bits)
{
    auth_principal *p =
        from_json("{\"sub\":\"s\",\"roles\":[\"resident\",\"vendor\",\"adapter\",\"town\"]}");
    cr_assert_eq(auth_principal_roles(p),
                 AUTH_ROLE_RESIDENT | AUTH_ROLE_VENDOR | AUTH_ROLE_ADAPTER | AUTH_ROLE_TOWN);
    auth_principal_decref(p);
    p = from_json("{\"sub\":\"s\",\"roles\":[\"adapter\"]}");
    cr_assert(auth_principal_has_role(p, AUTH_ROLE_ADAPTER | AUTH_ROLE_TOWN));
    cr_assert_not(auth_principal_has_role(p, AUTH_ROLE_RESIDENT | AUTH_ROLE_VENDOR));
    auth_principal_decref(p);
    cr_assert_eq(auth_role_from_name("town"), AUTH_ROLE_TOWN);
    cr_assert_eq(auth_role_from_name("Town"), 0);
    cr_assert_str_eq(auth_role_name(AUTH_ROLE_VENDOR), "vendor");
}

Test(auth_claims, unknown_roles_are_ignored)
{
    auth_principal *p = from_json("{\"sub\":\"s\",\"roles\":[\"offline_access\",\"vendor\"]}");
    cr_assert_eq(auth_principal_roles(p), AUTH_ROLE_VENDOR);
    auth_principal_decref(p);
}

Test(auth_claims, roles_must_hold_a_known_role)
{
    assert_refused("{\"sub\":\"s\"}", "roles must be an array");
    assert_refused("{\"sub\":\"s\",\"roles\":\"resident\"}", "roles must be an array");
    assert_refused("{\"sub\":\"s\",\"roles\":[\"resident\",1]}", "roles must be an array");
    assert_refused("{\"sub\":\"s\",\"roles\":[]}", "none of resident");
    assert_refused("{\"sub\":\"s\",\"roles\":[\"admin\",\"Resident\"]}", "none of resident");
}

/* ---- tenant ---- */

Test(auth_claims, tenant_is_checked_and_lowercased)
{
    auth_principal *p = from_json("{\"sub\":\"s\",\"roles\":[\"town\"],\"tenant\":\"Town_A1\"}");
    cr_assert_str_eq(auth_principal_tenant(p), "town_a1");
    auth_principal_decref(p);
    p = from_json("{\"sub\":\"s\",\"roles\":[\"town\"]}");
    cr_assert_str_eq(auth_principal_tenant(p), "");
    auth_principal_decref(p);
    assert_refused("{\"sub\":\"s\",\"roles\":[\"town\"],\"tenant\":\"town-a\"}", "bad character");
    assert_refused("{\"sub\":\"s\",\"roles\":[\"town\"],\"tenant\":\"町\"}", "bad character");
    assert_refused("{\"sub\":\"s\",\"roles\":[\"town\"],\"tenant\":7}", "tenant must be a string");
    char text[256];
    snprintf(text, sizeof(text), "{\"sub\":\"s\",\"roles\":[\"town\"],\"tenant\":\"%051d\"}", 0);
    assert_refused(text, "max 50 characters");
    snprintf(text, sizeof(text), "{\"sub\":\"s\",\"roles\":[\"town\"],\"tenant\":\"%050d\"}", 0);
    auth_principal_decref(from_json(text));
}

Test(auth_claims, tenant_normalize_like_fiware_service)
{
    char out[AUTH_TENANT_MAX + 1];
    auth_error err;
    cr_assert_eq(auth_tenant_normalize("MyTown_2", out, &err), 0);
    cr_assert_str_eq(out, "mytown_2");
    cr_assert_eq(auth_tenant_normalize("my town", out, &err), -1);
    cr_assert_eq(err.code, AUTH_E_BAD_TENANT);
    cr_assert_eq(err.status, 400);
    cr_assert_str_eq(err.name, "BadRequest");
}

Test(auth_claims, tenant_decision)
{
    auth_principal *p = from_json("{\"sub\":\"s\",\"roles\":[\"town\"],\"tenant\":\"town_a\"}");
    auth_error err;
    /* Absent header: the token's tenant. */
    cr_assert_str_eq(auth_tenant_decide(p, NULL, &err), "town_a");
    cr_assert_str_eq(auth_tenant_decide(p, "", &err), "town_a");
    /* Same tenant, any case. */
    cr_assert_str_eq(auth_tenant_decide(p, "Town_A", &err), "town_a");
    /* Another tenant: 403. */
    cr_assert_null(auth_tenant_decide(p, "town_b", &err));
    cr_assert_eq(err.code, AUTH_E_TENANT_MISMATCH);
    cr_assert_eq(err.status, 403);
    cr_assert_str_eq(err.name, "Forbidden");
    /* A header that is no tenant at all: 400. */
    cr_assert_null(auth_tenant_decide(p, "town a", &err));
    cr_assert_eq(err.code, AUTH_E_BAD_TENANT);
    auth_principal_decref(p);
    /* A token for the default tenant may not name a tenant. */
    p = from_json("{\"sub\":\"s\",\"roles\":[\"town\"]}");
    cr_assert_str_eq(auth_tenant_decide(p, NULL, &err), "");
    cr_assert_null(auth_tenant_decide(p, "town_a", &err));
    cr_assert_eq(err.code, AUTH_E_TENANT_MISMATCH);
    auth_principal_decref(p);
}

/* ---- scope ---- */

Test(auth_claims, scope_items_are_parsed)
{
    auth_principal *p = from_json(
        "{\"sub\":\"s\",\"roles\":[\"vendor\"],\"scope\":\"entities:read:PointOfInterest  "
        "entities:write:* subscriptions:write openid profile a::b :x:y "
        "entities:read:urn:ngsi:Type\"}");
    cr_assert_eq(auth_principal_scope_count(p), 4);
    const auth_scope *s = auth_principal_scope_at(p, 0);
    cr_assert_str_eq(s->resource, "entities");
    cr_assert_str_eq(s->action, "read");
    cr_assert_str_eq(s->type, "PointOfInterest");
    s = auth_principal_scope_at(p, 2);
    cr_assert_str_eq(s->resource, "subscriptions");
    cr_assert_str_eq(s->action, "write");
    cr_assert_null(s->type);
    /* The type is everything after the second colon. */
    cr_assert_str_eq(auth_principal_scope_at(p, 3)->type, "urn:ngsi:Type");
    cr_assert_null(auth_principal_scope_at(p, 4));
    auth_principal_decref(p);
}

Test(auth_claims, scope_matching_with_wildcards)
{
    auth_principal *p =
        from_json("{\"sub\":\"s\",\"roles\":[\"vendor\"],\"scope\":\"entities:read:PointOfInterest "
                  "entities:write:* subscriptions:write registrations:*\"}");
    cr_assert(auth_principal_has_scope(p, "entities", "read", "PointOfInterest"));
    cr_assert_not(auth_principal_has_scope(p, "entities", "read", "Streetlight"));
    cr_assert_not(auth_principal_has_scope(p, "entities", "read", "pointofinterest"));
    /* No type given: only an item covering every type will do. */
    cr_assert_not(auth_principal_has_scope(p, "entities", "read", NULL));
    cr_assert(auth_principal_has_scope(p, "entities", "write", "Streetlight"));
    cr_assert(auth_principal_has_scope(p, "entities", "write", NULL));
    cr_assert(auth_principal_has_scope(p, "subscriptions", "write", NULL));
    cr_assert(auth_principal_has_scope(p, "subscriptions", "write", "Any"));
    cr_assert_not(auth_principal_has_scope(p, "subscriptions", "read", NULL));
    cr_assert(auth_principal_has_scope(p, "registrations", "delete", NULL));
    cr_assert_not(auth_principal_has_scope(p, "registration", "delete", NULL));
    cr_assert_not(auth_principal_has_scope(p, "entities", NULL, "X"));
    auth_principal_decref(p);
    p = from_json("{\"sub\":\"s\",\"roles\":[\"town\"],\"scope\":\"*:*\"}");
    cr_assert(auth_principal_has_scope(p, "anything", "delete", NULL));
    auth_principal_decref(p);
    p = from_json("{\"sub\":\"s\",\"roles\":[\"town\"]}");
    cr_assert_eq(auth_principal_scope_count(p), 0);
    cr_assert_not(auth_principal_has_scope(p, "entities", "read", "X"));
    auth_principal_decref(p);
}

Test(auth_claims, bad_scope_claims_are_refused)
{
    assert_refused("{\"sub\":\"s\",\"roles\":[\"town\"],\"scope\":[\"entities:read\"]}",
                   "scope must be a string");
    char text[2048] = "{\"sub\":\"s\",\"roles\":[\"town\"],\"scope\":\"";
    for (int i = 0; i < 129; i++)
        strcat(text, "a:b ");
    strcat(text, "\"}");
    assert_refused(text, "more than 128 items");
}

/* ---- headers ---- */

Test(auth_claims, token_from_authorization_bearer)
{
    const char *token = NULL;
    auth_error err;
    cr_assert_eq(auth_token_from_headers("Bearer abc.def.ghi", NULL, &token, &err), 0);
    cr_assert_str_eq(token, "abc.def.ghi");
    cr_assert_eq(auth_token_from_headers("bearer   abc.def.ghi", NULL, &token, &err), 0);
    cr_assert_str_eq(token, "abc.def.ghi");
    cr_assert_eq(auth_token_from_headers(NULL, "abc.def.ghi", &token, &err), 0);
    cr_assert_str_eq(token, "abc.def.ghi");
    cr_assert_eq(auth_token_from_headers("Bearer x.y.z", "x.y.z", &token, &err), 0);
    cr_assert_str_eq(token, "x.y.z");
    cr_assert_eq(auth_token_from_headers(NULL, NULL, &token, &err), 0);
    cr_assert_null(token);
    cr_assert_eq(auth_token_from_headers("", "", &token, &err), 0);
    cr_assert_null(token);
}

Test(auth_claims, bad_token_headers_are_refused)
{
    const char *token = NULL;
    auth_error err;
    const char *bad_auth[] = {"Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearerabc", "Bearer a b"};
    for (size_t i = 0; i < sizeof(bad_auth) / sizeof(bad_auth[0]); i++) {
        cr_assert_eq(auth_token_from_headers(bad_auth[i], NULL, &token, &err), -1, "%s",
                     bad_auth[i]);
        cr_assert_eq(err.code, AUTH_E_MALFORMED);
        cr_assert_eq(err.status, 401);
    }
    cr_assert_eq(auth_token_from_headers("Bearer a.b.c", "d.e.f", &token, &err), -1);
    cr_assert(strstr(err.description, "different tokens") != NULL);
    cr_assert_eq(auth_token_from_headers(NULL, "a.b.c extra", &token, &err), -1);
}
