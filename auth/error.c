/*
 * auth/error.c: the auth module's error values.
 *
 * Every code maps to one HTTP status and one NGSI-style error name, kept in a table so
 * the mapping is data, not a chain of ifs. All authentication failures share the name
 * "Unauthorized" (401): a client can only react to them one way (get a new token), and
 * an Orion-style client keys on the name while the description and auth_code_name()
 * say exactly which check failed. 403 is "Forbidden", a bad Fiware-Service header is
 * Orion's "BadRequest", and configuration or library failures are
 * "InternalServerError".
 *
 * Descriptions never echo values taken from the token: they are attacker-chosen text
 * and would end up in replies and logs.
 */
#include "auth/auth_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct code_info {
    int status;
    const char *name;
    const char *label;
} code_info;

static const code_info code_table[] = {
    [AUTH_OK] = {200, "OK", "ok"},
    [AUTH_E_MISSING] = {401, "Unauthorized", "missing"},
    [AUTH_E_MALFORMED] = {401, "Unauthorized", "malformed"},
    [AUTH_E_ALG_NONE] = {401, "Unauthorized", "alg_none"},
    [AUTH_E_ALG_MISMATCH] = {401, "Unauthorized", "alg_mismatch"},
    [AUTH_E_UNKNOWN_KID] = {401, "Unauthorized", "unknown_kid"},
    [AUTH_E_SIGNATURE] = {401, "Unauthorized", "bad_signature"},
    [AUTH_E_EXPIRED] = {401, "Unauthorized", "expired"},
    [AUTH_E_NOT_YET_VALID] = {401, "Unauthorized", "not_yet_valid"},
    [AUTH_E_ISSUER] = {401, "Unauthorized", "wrong_issuer"},
    [AUTH_E_AUDIENCE] = {401, "Unauthorized", "wrong_audience"},
    [AUTH_E_CLAIMS] = {401, "Unauthorized", "bad_claims"},
    [AUTH_E_BAD_TENANT] = {400, "BadRequest", "bad_tenant"},
    [AUTH_E_TENANT_MISMATCH] = {403, "Forbidden", "tenant_mismatch"},
    [AUTH_E_FORBIDDEN] = {403, "Forbidden", "forbidden"},
    [AUTH_E_CONFIG] = {500, "InternalServerError", "config"},
    [AUTH_E_INTERNAL] = {500, "InternalServerError", "internal"},
};

static const code_info *info_of(auth_code code)
{
    if ((size_t)code >= sizeof(code_table) / sizeof(code_table[0]))
        code = AUTH_E_INTERNAL;
    return &code_table[code];
}

const char *auth_code_name(auth_code code)
{
    return info_of(code)->label;
}

int auth_fail(auth_error *err, auth_code code, const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    const code_info *info = info_of(code);
    err->code = code;
    err->status = info->status;
    err->name = info->name;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->description, sizeof(err->description), fmt, ap);
    va_end(ap);
    return -1;
}

/* Copies s into a quoted-string: our descriptions hold no quotes or backslashes, but
 * escape them anyway so that the header can never be broken. */
static size_t quote_into(char *out, size_t size, const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\') {
            if (n + 1 < size)
                out[n] = '\\';
            n++;
        }
        if (n + 1 < size)
            out[n] = *s;
        n++;
    }
    if (size > 0)
        out[n < size ? n : size - 1] = '\0';
    return n;
}

int auth_error_www_authenticate(const auth_error *err, const char *realm, char *buf, size_t size)
{
    if (err == NULL || err->status != 401)
        return -1;
    char qrealm[2 * AUTH_ERROR_TEXT_MAX];
    quote_into(qrealm, sizeof(qrealm), realm != NULL ? realm : "tsunagi");
    /* RFC 6750 section 3.1: no error code when the request carried no token at all. */
    if (err->code == AUTH_E_MISSING)
        return snprintf(buf, size, "Bearer realm=\"%s\"", qrealm);
    char desc[2 * AUTH_ERROR_TEXT_MAX];
    quote_into(desc, sizeof(desc), err->description);
    return snprintf(buf, size,
                    "Bearer realm=\"%s\", error=\"invalid_token\", error_description=\"%s\"",
                    qrealm, desc);
}
