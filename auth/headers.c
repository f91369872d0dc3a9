/*
 * auth/headers.c: finding the bearer token in a request's headers.
 *
 * Two carriers are accepted: `Authorization: Bearer <token>` (RFC 6750 section 2.1;
 * the scheme name is case-insensitive, RFC 7235 section 2.1) and `X-Auth-Token`, the
 * header FIWARE's PEP proxies and Orion's own clients use. A request carrying both must
 * carry the same token in both: otherwise which one decides access would depend on
 * the order of checks here, and a proxy adding one header could silently change the
 * caller's identity. An Authorization header with another scheme (Basic, ...) is an
 * error rather than "no token", so a client sending the wrong credentials is told so.
 *
 * The returned token points into the header value: no copy on the hot path.
 */
#include "auth/auth_private.h"

#include <string.h>
#include <strings.h>

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* A token is one word: RFC 6750's b64token has no blanks. */
static int token_text(const char *t, const char *header, const char **token, auth_error *err)
{
    if (*t == '\0')
        return auth_fail(err, AUTH_E_MALFORMED, "%s header holds no token", header);
    if (strpbrk(t, " \t") != NULL)
        return auth_fail(err, AUTH_E_MALFORMED, "%s header holds more than a token", header);
    *token = t;
    return 0;
}

static int bearer_token(const char *value, const char **token, auth_error *err)
{
    static const char scheme[] = "Bearer";
    const size_t n = sizeof(scheme) - 1;
    if (strncasecmp(value, scheme, n) != 0 || (value[n] != '\0' && !is_blank(value[n])))
        return auth_fail(err, AUTH_E_MALFORMED, "Authorization header is not a Bearer token");
    const char *t = value + n;
    while (is_blank(*t))
        t++;
    return token_text(t, "Authorization", token, err);
}

int auth_token_from_headers(const char *authorization, const char *x_auth_token, const char **token,
                            auth_error *err)
{
    const char *from_auth = NULL, *from_x = NULL;
    *token = NULL;
    if (authorization != NULL && *authorization != '\0' &&
        bearer_token(authorization, &from_auth, err) < 0)
        return -1;
    if (x_auth_token != NULL && *x_auth_token != '\0' &&
        token_text(x_auth_token, "X-Auth-Token", &from_x, err) < 0)
        return -1;
    if (from_auth != NULL && from_x != NULL && strcmp(from_auth, from_x) != 0)
        return auth_fail(err, AUTH_E_MALFORMED,
                         "Authorization and X-Auth-Token carry different tokens");
    *token = from_auth != NULL ? from_auth : from_x;
    return 0;
}
