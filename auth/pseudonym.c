/*
 * auth/pseudonym.c: pairwise pseudonyms, so that each service sees a resident under an
 * identifier of its own and services cannot link their records through the common ID.
 *
 *   pseudonym = hex(HMAC-SHA256(secret, be32(len(c)) || c || be32(len(s)) || s))
 *
 * with c the common ID, s the service id and be32 a 4-byte big-endian byte count. The
 * length prefixes make the encoding injective: ("ab", "c") and ("a", "bc") give
 * different messages, which a plain concatenation or a separator that may occur in
 * ids would not guarantee. The same (secret, c, s) always gives the same pseudonym;
 * without the secret, pseudonyms cannot be computed or reversed.
 */
#include "auth/auth_private.h"

#include <string.h>

#include <openssl/hmac.h>

/* Longest id: common IDs and service ids are far shorter; bounds the message buffer. */
#define PSEUDONYM_ID_MAX 1024
#define LEN_PREFIX       4

static size_t put_field(unsigned char *out, const char *s, size_t len)
{
    out[0] = (unsigned char)(len >> 24);
    out[1] = (unsigned char)(len >> 16);
    out[2] = (unsigned char)(len >> 8);
    out[3] = (unsigned char)len;
    memcpy(out + LEN_PREFIX, s, len);
    return LEN_PREFIX + len;
}

static int check_id(const char *id, const char *what, size_t *len, auth_error *err)
{
    if (id == NULL || *id == '\0')
        return auth_fail(err, AUTH_E_CLAIMS, "pseudonym: %s is empty", what);
    *len = strnlen(id, PSEUDONYM_ID_MAX + 1);
    if (*len > PSEUDONYM_ID_MAX)
        return auth_fail(err, AUTH_E_CLAIMS, "pseudonym: %s is longer than %d bytes", what,
                         PSEUDONYM_ID_MAX);
    return 0;
}

int auth_pseudonym(const void *secret, size_t secret_len, const char *common_id,
                   const char *service_id, char out[AUTH_PSEUDONYM_LEN + 1], auth_error *err)
{
    if (secret == NULL || secret_len < AUTH_PSEUDONYM_SECRET_MIN)
        return auth_fail(err, AUTH_E_CONFIG, "pseudonym secret must have at least %d bytes",
                         AUTH_PSEUDONYM_SECRET_MIN);
    size_t c_len = 0, s_len = 0;
    if (check_id(common_id, "common id", &c_len, err) < 0 ||
        check_id(service_id, "service id", &s_len, err) < 0)
        return -1;
    unsigned char msg[2 * (LEN_PREFIX + PSEUDONYM_ID_MAX)];
    size_t n = put_field(msg, common_id, c_len);
    n += put_field(msg + n, service_id, s_len);
    unsigned char mac[AUTH_PSEUDONYM_LEN / 2];
    unsigned int mac_len = 0;
    if (HMAC(EVP_sha256(), secret, (int)secret_len, msg, n, mac, &mac_len) == NULL ||
        mac_len != sizeof(mac))
        return auth_fail(err, AUTH_E_INTERNAL, "pseudonym: HMAC-SHA256 failed");
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(mac); i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 0x0f];
    }
    out[AUTH_PSEUDONYM_LEN] = '\0';
    return 0;
}
