/*
 * auth/token_parse.c: taking a compact JWS apart before anything trusts it.
 *
 * libjwt 1.10's jwt_decode() answers every failure with EINVAL, and it chooses the
 * verification algorithm from the token's own header. So the verifier first parses
 * the token here: the header tells it which key and alg to use, and because any
 * structural problem is caught here, a later jwt_decode() failure can honestly be
 * reported as a bad signature. The claims parsed here are the ones the verifier uses;
 * they come from the same bytes that libjwt checks the signature over.
 *
 * JSON objects with duplicate names are refused: two "sub" members could be read
 * differently by different parsers.
 */
#include "auth/auth_private.h"

#include <stdlib.h>
#include <string.h>

/* Decodes one base64url segment holding a JSON object. */
static int segment_json(const char *seg, size_t len, const char *what, json_t **out,
                        auth_error *err)
{
    size_t n = 0;
    unsigned char *raw = auth_b64url_decode(seg, len, &n);
    if (raw == NULL)
        return auth_fail(err, AUTH_E_MALFORMED, "malformed token: %s is not base64url", what);
    json_error_t jerr;
    json_t *json = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, &jerr);
    free(raw);
    if (!json_is_object(json)) {
        json_decref(json);
        return auth_fail(err, AUTH_E_MALFORMED, "malformed token: %s is not a JSON object", what);
    }
    *out = json;
    return 0;
}

int auth_token_parse(const char *token, json_t **header, json_t **claims, size_t *sig_len,
                     auth_error *err)
{
    size_t len = strnlen(token, AUTH_TOKEN_MAX + 1);
    if (len > AUTH_TOKEN_MAX)
        return auth_fail(err, AUTH_E_MALFORMED, "malformed token: longer than %d bytes",
                         AUTH_TOKEN_MAX);
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 =
        dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    const char *end = token + len;
    if (dot2 == NULL || memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1)) != NULL)
        return auth_fail(err, AUTH_E_MALFORMED,
                         "malformed token: expected three dot-separated parts");
    size_t n = 0;
    unsigned char *sig = auth_b64url_decode(dot2 + 1, (size_t)(end - dot2 - 1), &n);
    if (sig == NULL)
        return auth_fail(err, AUTH_E_MALFORMED, "malformed token: signature is not base64url");
    free(sig);
    if (segment_json(token, (size_t)(dot1 - token), "header", header, err) < 0)
        return -1;
    if (segment_json(dot1 + 1, (size_t)(dot2 - dot1 - 1), "payload", claims, err) < 0) {
        json_decref(*header);
        return -1;
    }
    *sig_len = (size_t)(end - dot2 - 1);
    return 0;
}

int auth_token_decode_unverified(const char *token, json_t **header, json_t **claims,
                                 auth_error *err)
{
    size_t sig_len = 0;
    if (token == NULL || *token == '\0')
        return auth_fail(err, AUTH_E_MISSING, "no token given");
    return auth_token_parse(token, header, claims, &sig_len, err);
}

int auth_claim_time(const json_t *claims, const char *name, time_t *out, auth_error *err)
{
    const json_t *value = json_object_get(claims, name);
    if (value == NULL)
        return 0;
    if (!json_is_number(value))
        return auth_fail(err, AUTH_E_CLAIMS, "invalid claim: %s is not a number", name);
    double seconds = json_number_value(value);
    if (seconds < 0 || seconds > (double)AUTH_TIME_MAX)
        return auth_fail(err, AUTH_E_CLAIMS, "invalid claim: %s is out of range", name);
    *out = (time_t)seconds;
    return 1;
}
