/*
 * tests/unit/test_consent.c: when a stored consent covers a read (broker/consent.c):
 * by type or by category, until it expires or is revoked.
 */
#include <criterion/criterion.h>

#include "authz.h"

static json_t *consent(const char *json)
{
    json_t *c = json_loads(json, 0, NULL);
    cr_assert_not_null(c, "bad test JSON");
    return c;
}

Test(consent, covers_named_types_and_categories)
{
    json_t *c = consent("{\"types\":[\"VitalSignObserved\"],\"categories\":[\"living\"]}");
    cr_assert(consent_covers(c, "VitalSignObserved", "health", 100));
    cr_assert(consent_covers(c, "HouseholdWaste", "living", 100));
    cr_assert_not(consent_covers(c, "HouseholdWaste", NULL, 100));
    cr_assert_not(consent_covers(c, "Streetlight", "health", 100));
    json_decref(c);
}

Test(consent, ends_at_expiry)
{
    json_t *c = consent("{\"types\":[\"T\"],\"expires\":1000.5}");
    cr_assert(consent_covers(c, "T", NULL, 1000.4));
    cr_assert_not(consent_covers(c, "T", NULL, 1000.5), "expiry is exclusive");
    cr_assert_not(consent_covers(c, "T", NULL, 2000));
    json_decref(c);
}

Test(consent, ends_when_revoked)
{
    json_t *c = consent("{\"types\":[\"T\"],\"revoked\":50}");
    cr_assert_not(consent_covers(c, "T", NULL, 10), "revocation holds whatever the time");
    json_decref(c);
}

Test(consent, malformed_documents_cover_nothing)
{
    json_t *c = consent("{\"types\":\"T\",\"categories\":[7]}");
    cr_assert_not(consent_covers(c, "T", "7", 1));
    json_decref(c);
}
