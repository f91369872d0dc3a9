/*
 * auth/b64url.c: base64url without padding (RFC 7515 section 2), as used in JWS
 * segments and JWK members.
 *
 * OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock do the base64 work; this file only maps the
 * URL-safe alphabet to the standard one and back and handles the missing padding. The
 * decoder is strict: any character outside the base64url alphabet (including '=',
 * whitespace and '+' or '/') is refused, so a token has exactly one spelling that we
 * accept.
 */
#include "auth/auth_private.h"

#include <stdlib.h>
#include <string.h>

static bool is_b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* Standard-alphabet, padded copy of in. Returns a new string (free()) or NULL. */
static char *to_standard(const char *in, size_t len, size_t *padded_len)
{
    size_t padded = (len + 3) / 4 * 4;
    char *std = malloc(padded + 1);
    if (std == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++)
        std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    memset(std + len, '=', padded - len);
    std[padded] = '\0';
    *padded_len = padded;
    return std;
}

unsigned char *auth_b64url_decode(const char *in, size_t len, size_t *out_len)
{
    /* One leftover character cannot encode a whole byte. */
    if (len % 4 == 1)
        return NULL;
    for (size_t i = 0; i < len; i++)
        if (!is_b64url_char(in[i]))
            return NULL;
    size_t padded;
    char *std = to_standard(in, len, &padded);
    if (std == NULL)
        return NULL;
    unsigned char *out = malloc(padded / 4 * 3 + 1);
    int n = out != NULL ? EVP_DecodeBlock(out, (const unsigned char *)std, (int)padded) : -1;
    free(std);
    if (n < 0) {
        free(out);
        return NULL;
    }
    /* EVP_DecodeBlock counts the bytes the padding stands for; take them off again. */
    size_t pad = padded - len;
    *out_len = (size_t)n - pad;
    out[*out_len] = '\0';
    return out;
}

char *auth_b64url_encode(const unsigned char *in, size_t len)
{
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (out == NULL)
        return NULL;
    int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    for (int i = 0; i < n; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return out;
}
