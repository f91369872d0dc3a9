/*
 * adapters/util/util.c: option reading, dates and text clean-up for the
 * adapters shipped with Tsunagi.
 *
 * NGSI-v2 refuses the characters <>"'=;() in values (Orion's defence
 * against script injection). Japanese open data uses ASCII parentheses
 * often ("(株)", "駐車場(無料)"); refusing such a record would lose it, so
 * text values are cleaned by replacing each refused character with its
 * full-width form (U+FF08 for '(' and so on), which reads the same.
 */
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int util_opt_string(adapter_ctx *ctx, const adapter_host *h, const json_t *options, const char *key,
                    const char *def, const char **out)
{
    const json_t *v = json_object_get(options, key);
    *out = def;
    if (v == NULL)
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0)
        return h->fail(ctx, "option %s: must be a non-empty string", key);
    *out = json_string_value(v);
    return 0;
}

int util_opt_int(adapter_ctx *ctx, const adapter_host *h, const json_t *options, const char *key,
                 long def, long min, long max, long *out)
{
    const json_t *v = json_object_get(options, key);
    *out = def;
    if (v == NULL)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return h->fail(ctx, "option %s: must be an integer from %ld to %ld", key, min, max);
    *out = (long)json_integer_value(v);
    return 0;
}

int util_opt_headers(adapter_ctx *ctx, const adapter_host *h, const json_t *options,
                     adapter_header **out, size_t *n)
{
    const json_t *hdrs = json_object_get(options, "headers");
    const char *name;
    json_t *v;
    *out = NULL;
    *n = 0;
    if (hdrs == NULL)
        return 0;
    if (!json_is_object(hdrs))
        return h->fail(ctx, "option headers: must be an object of header names to values");
    *out = calloc(json_object_size(hdrs) + 1, sizeof **out);
    if (*out == NULL)
        abort();
    json_object_foreach((json_t *)hdrs, name, v)
    {
        if (!json_is_string(v))
            return h->fail(ctx, "option headers.%s: must be a string", name);
        (*out)[(*n)++] = (adapter_header){name, json_string_value(v)};
    }
    return 0;
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return 0;
}

bool util_is_date(const char *s)
{
    int y, m, d;
    const char *p = s;
    return digits(&p, 4, &y) == 0 && *p++ == '-' && digits(&p, 2, &m) == 0 && *p++ == '-' &&
           digits(&p, 2, &d) == 0 && *p == '\0' && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* The offset part: Z, +hh:mm, -hh:mm, +hhmm, or nothing (UTC). */
static int parse_offset(const char *p, int *seconds)
{
    int hh, mm;
    *seconds = 0;
    if (*p == '\0' || ((*p == 'Z' || *p == 'z') && p[1] == '\0'))
        return 0;
    if (*p != '+' && *p != '-')
        return -1;
    int sign = *p++ == '-' ? -1 : 1;
    if (digits(&p, 2, &hh) < 0)
        return -1;
    if (*p == ':')
        p++;
    if (digits(&p, 2, &mm) < 0 || *p != '\0' || hh > 23 || mm > 59)
        return -1;
    *seconds = sign * (hh * 3600 + mm * 60);
    return 0;
}

int util_parse_instant(const char *s, double *out)
{
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, sec = 0, off;
    double frac = 0;
    const char *p = s;
    if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 || *p++ != '-' ||
        digits(&p, 2, &d) < 0)
        return -1;
    if (*p == 'T' || *p == 't') {
        p++;
        if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
            return -1;
        if (*p == ':' && (p++, digits(&p, 2, &sec) < 0))
            return -1;
        if (*p == '.') {
            double scale = 0.1;
            for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
                frac += (*p - '0') * scale;
        }
    }
    if (parse_offset(p, &off) < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 60)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (double)timegm(&tm) + frac - off;
    return 0;
}

bool util_parse_number(const char *s, double *out)
{
    char *end;
    if (*s == '\0')
        return false;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out);
}

bool util_format_id(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, ADAPTER_ID_MAX + 1, fmt, ap);
    va_end(ap);
    return n >= 0 && n <= ADAPTER_ID_MAX;
}

bool util_id_safe(const char *s)
{
    if (*s == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("&?/#<>\"'=;()", *p) != NULL)
            return false;
    return true;
}

bool util_has_forbidden(const char *s)
{
    return s[strcspn(s, "<>\"'=;()")] != '\0';
}

char *util_clean_text(const char *s)
{
    /* Each refused ASCII character and its full-width form (3 bytes). */
    static const char *const WIDE[128] = {
        ['<'] = "\xef\xbc\x9c",  ['>'] = "\xef\xbc\x9e", ['"'] = "\xef\xbc\x82",
        ['\''] = "\xef\xbc\x87", ['='] = "\xef\xbc\x9d", [';'] = "\xef\xbc\x9b",
        ['('] = "\xef\xbc\x88",  [')'] = "\xef\xbc\x89",
    };
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1), *q = out;
    if (out == NULL)
        abort();
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *w = *p < 128 ? WIDE[*p] : NULL;
        if (w != NULL) {
            memcpy(q, w, 3);
            q += 3;
        } else {
            *q++ = (char)*p;
        }
    }
    *q = '\0';
    return out;
}

json_t *util_text(const char *s)
{
    if (s == NULL || *s == '\0')
        return NULL;
    char *clean = util_clean_text(s);
    json_t *v = json_string(clean);
    free(clean);
    return v;
}

void util_digest(const void *data, size_t n, char out[17])
{
    unsigned long long h = 14695981039346656037ULL;
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    snprintf(out, 17, "%016llx", h);
}
