/*
 * schemas/format.c: the "format" values Tsunagi asserts.
 *
 * Formats are assertions here (a value that does not match its format is a
 * violation), for the formats entity models use: date-time, date and time
 * (RFC 3339 section 5.6, with calendar and leap-second checks), email
 * (RFC 5322 addr-spec without comments or obsolete forms), uri and
 * uri-reference (RFC 3986 grammar, ASCII only), ipv4 and ipv6 (inet_pton,
 * which implements RFC 791 dotted-quads without leading zeros and RFC 4291
 * text forms). Any other format name is an annotation and is not checked,
 * as the specification says for unknown formats.
 *
 * Each checker walks the string once with a cursor; none allocates.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "schema_private.h"

/* RFC 1034: a label is at most 63 octets, a name at most 253 characters. */
#define DNS_LABEL_MAX 63
#define DNS_NAME_MAX  253

static const struct {
    const char *name;
    enum schema_format format;
} formats[] = {
    {"date-time", FORMAT_DATE_TIME}, {"date", FORMAT_DATE}, {"time", FORMAT_TIME},
    {"email", FORMAT_EMAIL},         {"uri", FORMAT_URI},   {"uri-reference", FORMAT_URI_REFERENCE},
    {"ipv4", FORMAT_IPV4},           {"ipv6", FORMAT_IPV6},
};

enum schema_format format_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(formats[i].name, name) == 0)
            return formats[i].format;
    return FORMAT_NONE;
}

const char *format_name(enum schema_format f)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (formats[i].format == f)
            return formats[i].name;
    return "?";
}

/* ---- cursor helpers ---------------------------------------------------- */

typedef struct cursor {
    const char *p, *end;
} cursor;

static bool at_end(const cursor *c)
{
    return c->p == c->end;
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool is_alpha(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_hex(char ch)
{
    return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static bool eat(cursor *c, char ch)
{
    if (at_end(c) || *c->p != ch)
        return false;
    c->p++;
    return true;
}

static bool eat_either(cursor *c, char lower, char upper)
{
    return eat(c, lower) || eat(c, upper);
}

/* Exactly n digits as a number, or -1. */
static int digits(cursor *c, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (at_end(c) || !is_digit(*c->p))
            return -1;
        v = v * 10 + (*c->p++ - '0');
    }
    return v;
}

/* ---- RFC 3339 ---------------------------------------------------------- */

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

static bool full_date(cursor *c)
{
    int y = digits(c, 4);
    if (y < 0 || !eat(c, '-'))
        return false;
    int m = digits(c, 2);
    if (m < 1 || m > 12 || !eat(c, '-'))
        return false;
    int d = digits(c, 2);
    return d >= 1 && d <= days_in_month(y, m);
}

/* time-offset as minutes east of UTC, or false. */
static bool time_offset(cursor *c, int *minutes)
{
    if (eat_either(c, 'z', 'Z')) {
        *minutes = 0;
        return true;
    }
    int sign = eat(c, '+') ? 1 : eat(c, '-') ? -1 : 0;
    if (sign == 0)
        return false;
    int h = digits(c, 2);
    if (h < 0 || h > 23 || !eat(c, ':'))
        return false;
    int m = digits(c, 2);
    if (m < 0 || m > 59)
        return false;
    *minutes = sign * (h * 60 + m);
    return true;
}

static bool full_time(cursor *c)
{
    int h = digits(c, 2);
    if (h < 0 || h > 23 || !eat(c, ':'))
        return false;
    int m = digits(c, 2);
    if (m < 0 || m > 59 || !eat(c, ':'))
        return false;
    int s = digits(c, 2);
    if (s < 0 || s > 60)
        return false;
    if (eat(c, '.')) {
        if (at_end(c) || !is_digit(*c->p))
            return false;
        while (!at_end(c) && is_digit(*c->p))
            c->p++;
    }
    int offset;
    if (!time_offset(c, &offset))
        return false;
    if (s == 60) {
        /* A leap second exists only at 23:59:60 UTC. */
        int utc = ((h * 60 + m - offset) % 1440 + 1440) % 1440;
        return utc == 23 * 60 + 59;
    }
    return true;
}

/* ---- email (RFC 5322 addr-spec) ---------------------------------------- */

static bool is_atext(char ch)
{
    return is_alpha(ch) || is_digit(ch) || (ch && strchr("!#$%&'*+-/=?^_`{|}~", ch));
}

static bool dot_atom(cursor *c, const char *stop)
{
    for (;;) {
        const char *start = c->p;
        while (c->p < stop && is_atext(*c->p))
            c->p++;
        if (c->p == start)
            return false;
        if (c->p == stop)
            return true;
        if (!eat(c, '.'))
            return false;
    }
}

static bool quoted_local(cursor *c, const char *stop)
{
    if (!eat(c, '"'))
        return false;
    while (c->p < stop && *c->p != '"') {
        unsigned char ch = (unsigned char)*c->p++;
        if (ch == '\\') {
            if (c->p == stop || (unsigned char)*c->p < 0x20 || (unsigned char)*c->p > 0x7e)
                return false;
            c->p++;
        } else if (ch < 0x20 || ch > 0x7e) {
            return false;
        }
    }
    return eat(c, '"') && c->p == stop;
}

static bool hostname(const char *s, size_t len)
{
    if (len == 0 || len > DNS_NAME_MAX)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
        } else if (is_alpha(ch) || is_digit(ch) || (ch == '-' && label > 0)) {
            if (++label > DNS_LABEL_MAX)
                return false;
        } else {
            return false;
        }
    }
    return label > 0 && s[len - 1] != '-';
}

static bool address_literal(const char *s, size_t len)
{
    char buf[64];
    struct in6_addr a6;
    if (len < 2 || s[0] != '[' || s[len - 1] != ']' || len - 2 >= sizeof buf)
        return false;
    memcpy(buf, s + 1, len - 2);
    buf[len - 2] = '\0';
    if (strncmp(buf, "IPv6:", 5) == 0)
        return inet_pton(AF_INET6, buf + 5, &a6) == 1;
    return inet_pton(AF_INET, buf, &a6) == 1;
}

static bool email(const char *s, size_t len)
{
    const char *at = NULL;
    for (const char *p = s + len; p > s; p--)
        if (p[-1] == '@') {
            at = p - 1;
            break;
        }
    if (!at || at == s)
        return false;
    cursor c = {s, at};
    bool local = s[0] == '"' ? quoted_local(&c, at) : dot_atom(&c, at);
    const char *domain = at + 1;
    size_t dlen = (size_t)(s + len - domain);
    return local && (hostname(domain, dlen) || address_literal(domain, dlen));
}

/* ---- RFC 3986 URI / URI-reference -------------------------------------- */

enum {
    URI_UNRESERVED = 1,
    URI_SUB_DELIM = 2,
    URI_COLON = 4,
    URI_AT = 8,
    URI_SLASH_QUERY = 16,
};

/* A switch rather than strchr: this runs once per character of every URI. */
static unsigned uri_class(char ch)
{
    if (is_alpha(ch) || is_digit(ch))
        return URI_UNRESERVED;
    switch (ch) {
    case '-':
    case '.':
    case '_':
    case '~':
        return URI_UNRESERVED;
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
        return URI_SUB_DELIM;
    case ':':
        return URI_COLON;
    case '@':
        return URI_AT;
    case '/':
    case '?':
        return URI_SLASH_QUERY;
    default:
        return 0;
    }
}

/* Consume characters in `allowed` classes and percent-escapes up to `stop`. */
static bool uri_run(cursor *c, const char *stop, unsigned allowed)
{
    while (c->p < stop) {
        if (*c->p == '%') {
            if (stop - c->p < 3 || !is_hex(c->p[1]) || !is_hex(c->p[2]))
                return false;
            c->p += 3;
        } else if (uri_class(*c->p) & allowed) {
            c->p++;
        } else {
            return false;
        }
    }
    return true;
}

#define PCHAR (URI_UNRESERVED | URI_SUB_DELIM | URI_COLON | URI_AT)

static bool ip_literal(const char *s, size_t len)
{
    char buf[64];
    struct in6_addr a6;
    if (len > 0 && (s[0] == 'v' || s[0] == 'V')) {
        cursor c = {s + 1, s + len};
        const char *start = c.p;
        while (!at_end(&c) && is_hex(*c.p))
            c.p++;
        if (c.p == start || !eat(&c, '.') || at_end(&c))
            return false;
        return uri_run(&c, c.end, URI_UNRESERVED | URI_SUB_DELIM | URI_COLON);
    }
    if (len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return inet_pton(AF_INET6, buf, &a6) == 1;
}

static bool authority(const char *s, const char *end)
{
    const char *at = memchr(s, '@', (size_t)(end - s));
    if (at) {
        cursor u = {s, at};
        if (!uri_run(&u, at, URI_UNRESERVED | URI_SUB_DELIM | URI_COLON))
            return false;
        s = at + 1;
    }
    const char *host_end;
    if (s < end && *s == '[') {
        const char *close = memchr(s, ']', (size_t)(end - s));
        if (!close || !ip_literal(s + 1, (size_t)(close - s - 1)))
            return false;
        host_end = close + 1;
    } else {
        host_end = memchr(s, ':', (size_t)(end - s));
        host_end = host_end ? host_end : end;
        cursor h = {s, host_end};
        if (!uri_run(&h, host_end, URI_UNRESERVED | URI_SUB_DELIM))
            return false;
    }
    if (host_end == end)
        return true;
    if (*host_end != ':')
        return false;
    for (const char *p = host_end + 1; p < end; p++)
        if (!is_digit(*p))
            return false;
    return true;
}

/* hier-part / relative-part, then query and fragment. */
static bool uri_rest(cursor *c, bool relative)
{
    const char *q = c->p;
    while (q < c->end && *q != '?' && *q != '#')
        q++;
    if (c->end - c->p >= 2 && c->p[0] == '/' && c->p[1] == '/') {
        const char *a = c->p + 2, *ae = a;
        while (ae < q && *ae != '/')
            ae++;
        if (!authority(a, ae))
            return false;
        c->p = ae;
    } else if (relative) {
        /* path-noscheme: the first segment must not contain ':'. */
        const char *seg = c->p;
        while (seg < q && *seg != '/')
            if (*seg++ == ':')
                return false;
    }
    if (!uri_run(c, q, PCHAR | URI_SLASH_QUERY))
        return false;
    if (eat(c, '?')) {
        const char *f = memchr(c->p, '#', (size_t)(c->end - c->p));
        if (!uri_run(c, f ? f : c->end, PCHAR | URI_SLASH_QUERY))
            return false;
    }
    if (eat(c, '#') && !uri_run(c, c->end, PCHAR | URI_SLASH_QUERY))
        return false;
    return at_end(c);
}

static bool uri(const char *s, size_t len, bool reference)
{
    cursor c = {s, s + len};
    const char *p = s;
    while (p < c.end && (is_alpha(*p) || (p > s && (is_digit(*p) || strchr("+-.", *p)))))
        p++;
    if (p > s && p < c.end && *p == ':') {
        c.p = p + 1;
        return uri_rest(&c, false);
    }
    return reference && uri_rest(&c, true);
}

/* ---- dispatch ---------------------------------------------------------- */

static bool rfc3339(enum schema_format f, const char *s, size_t len)
{
    cursor c = {s, s + len};
    bool ok;
    if (f == FORMAT_DATE)
        ok = full_date(&c);
    else if (f == FORMAT_TIME)
        ok = full_time(&c);
    else
        ok = full_date(&c) && eat_either(&c, 't', 'T') && full_time(&c);
    return ok && at_end(&c);
}

bool format_check(enum schema_format f, const char *s, size_t len)
{
    struct in6_addr addr;
    if (strlen(s) != len) /* an embedded NUL fits no format */
        return false;
    switch (f) {
    case FORMAT_DATE_TIME:
    case FORMAT_DATE:
    case FORMAT_TIME:
        return rfc3339(f, s, len);
    case FORMAT_EMAIL:
        return email(s, len);
    case FORMAT_URI:
        return uri(s, len, false);
    case FORMAT_URI_REFERENCE:
        return uri(s, len, true);
    case FORMAT_IPV4:
        return inet_pton(AF_INET, s, &addr) == 1;
    case FORMAT_IPV6:
        return inet_pton(AF_INET6, s, &addr) == 1;
    case FORMAT_NONE:
        break;
    }
    return true;
}
