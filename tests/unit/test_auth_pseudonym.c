/*
 * tests/unit/test_auth_pseudonym.c: pairwise pseudonyms: the documented formula,
 * stability per service, difference across services and residents, unambiguous
 * encoding, and input checks.
 */
#include "auth_test_util.h"

static const char secret[] = "pseudonym-secret-0123456789abcdef";

static void pseudonym(const char *cid, const char *sid, char out[AUTH_PSEUDONYM_LEN + 1])
{
    auth_error err;
    cr_assert_eq(auth_pseudonym(secret, strlen(secret), cid, sid, out, &err), 0, "%s",
                 err.description);
}

/* The formula from auth.h, computed here with OpenSSL's HMAC directly. */
static void expected(const char *cid, const char *sid, char out[AUTH_PSEUDONYM_LEN + 1])
{
    unsigned char msg[512];
    size_t n = 0;
    const char *parts[] = {cid, sid};
    for (size_t i = 0; i < 2; i++) {
        uint32_t len = (uint32_t)strlen(parts[i]);
        unsigned char be[4] = {len >> 24, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff};
        memcpy(msg + n, be, 4);
        memcpy(msg + n + 4, parts[i], len);
        n += 4 + len;
    }
    unsigned char mac[32];
    unsigned int mac_len = 0;
    cr_assert_not_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, n, mac, &mac_len));
    for (size_t i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

Test(auth_pseudonym, matches_the_documented_formula)
{
    char got[AUTH_PSEUDONYM_LEN + 1], want[AUTH_PSEUDONYM_LEN + 1];
    pseudonym("共通ID-0001", "bousai-app", got);
    expected("共通ID-0001", "bousai-app", want);
    cr_assert_str_eq(got, want);
    cr_assert_eq(strlen(got), AUTH_PSEUDONYM_LEN);
    for (const char *c = got; *c; c++)
        cr_assert((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'), "not lowercase hex");
}

Test(auth_pseudonym, stable_per_service_and_different_across_services)
{
    char a1[AUTH_PSEUDONYM_LEN + 1], a2[AUTH_PSEUDONYM_LEN + 1];
    char b[AUTH_PSEUDONYM_LEN + 1], other[AUTH_PSEUDONYM_LEN + 1];
    pseudonym("resident-1", "service-a", a1);
    pseudonym("resident-1", "service-a", a2);
    pseudonym("resident-1", "service-b", b);
    pseudonym("resident-2", "service-a", other);
    cr_assert_str_eq(a1, a2);
    cr_assert_str_neq(a1, b);
    cr_assert_str_neq(a1, other);
}

Test(auth_pseudonym, encoding_is_unambiguous)
{
    char x[AUTH_PSEUDONYM_LEN + 1], y[AUTH_PSEUDONYM_LEN + 1];
    /* Same concatenation "abc", different split. */
    pseudonym("ab", "c", x);
    pseudonym("a", "bc", y);
    cr_assert_str_neq(x, y);
}

Test(auth_pseudonym, depends_on_the_secret)
{
    char x[AUTH_PSEUDONYM_LEN + 1], y[AUTH_PSEUDONYM_LEN + 1];
    const char other[] = "another-secret-0123456789abcdef!!";
    pseudonym("resident-1", "service-a", x);
    cr_assert_eq(auth_pseudonym(other, strlen(other), "resident-1", "service-a", y, NULL), 0);
    cr_assert_str_neq(x, y);
}

Test(auth_pseudonym, bad_inputs_are_refused)
{
    char out[AUTH_PSEUDONYM_LEN + 1];
    auth_error err;
    cr_assert_eq(auth_pseudonym("short", 5, "r", "s", out, &err), -1);
    cr_assert_eq(err.code, AUTH_E_CONFIG);
    cr_assert_eq(auth_pseudonym(secret, strlen(secret), "", "s", out, &err), -1);
    cr_assert_eq(auth_pseudonym(secret, strlen(secret), "r", NULL, out, &err), -1);
    cr_assert_eq(err.code, AUTH_E_CLAIMS);
}
