/*
 * broker/request.c: reading what a request asks for.
 *
 * URI parameters, options=, paging and the Accept header, each with
 * Orion's refusal texts. libmicrohttpd has already decoded %XX and '+' in
 * parameter values, as it does for Orion.
 */
#include "broker_private.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Orion's pagination bounds. */
#define PAGE_DEFAULT_LIMIT 20
#define PAGE_MAX_LIMIT     1000
/* Longer numbers would overflow size_t; Orion's atoi() misreads them. */
#define PAGE_DIGITS_MAX 18

const char *call_header(call *c, const char *name)
{
    return MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, name);
}

const char *call_arg(call *c, const char *name)
{
    return MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* Characters Orion lets through in particular parameters: q, mq and the
 * patterns carry expressions (typePattern as in the newer Orion sources;
 * the older ones forgot it); the geo parameters carry ';' and '='. */
static const char *arg_exceptions(const char *key, bool *skip)
{
    *skip = strcmp(key, "q") == 0 || strcmp(key, "mq") == 0 || strcmp(key, "idPattern") == 0 ||
            strcmp(key, "typePattern") == 0;
    if (strcmp(key, "georel") == 0 || strcmp(key, "geometry") == 0)
        return "=;";
    if (strcmp(key, "coords") == 0)
        return ";";
    return NULL;
}

static bool all_digits(const char *s)
{
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* limit= and offset= with Orion's texts; other keys pass. */
static int check_paging_arg(const char *key, const char *v, ngsi_error *err)
{
    if (strcmp(key, "offset") == 0) {
        if (!all_digits(v) || strlen(v) > PAGE_DIGITS_MAX)
            return ngsi_bad_request(err, "Bad pagination offset: /%s/ [must be a decimal number]",
                                    v);
        return 0;
    }
    if (strcmp(key, "limit") != 0)
        return 0;
    if (!all_digits(v))
        return ngsi_bad_request(err, "Bad pagination limit: /%s/ [must be a decimal number]", v);
    unsigned long long n = strtoull(v, NULL, 10);
    if (n > PAGE_MAX_LIMIT || strlen(v) > PAGE_DIGITS_MAX)
        return ngsi_bad_request(err, "Bad pagination limit: /%s/ [max: %d]", v, PAGE_MAX_LIMIT);
    if (n == 0)
        return ngsi_bad_request(err, "Bad pagination limit: /%s/ [a value of ZERO is unacceptable]",
                                v);
    return 0;
}

static const struct {
    const char *name;
    unsigned bit;
} OPTION_NAMES[] = {
    {"count", OPT_COUNT},
    {"keyValues", OPT_KEYVALUES},
    {"values", OPT_VALUES},
    {"unique", OPT_UNIQUE},
    {"append", OPT_APPEND},
    {"upsert", OPT_UPSERT},
    {"overrideMetadata", OPT_OVERRIDE_METADATA},
    {"noAttrDetail", OPT_NO_ATTR_DETAIL},
    {"forcedUpdate", OPT_FORCED_UPDATE},
    {"flowControl", OPT_FLOW_CONTROL},
    {"skipForwarding", OPT_SKIP_FORWARDING},
    {"noLibVersions", OPT_NO_LIB_VERSIONS},
    {"normalized", 0}, /* the default form, accepted for old clients */
};

static int option_bit(const char *s, size_t n, unsigned *bit)
{
    for (size_t i = 0; i < sizeof OPTION_NAMES / sizeof *OPTION_NAMES; i++)
        if (strlen(OPTION_NAMES[i].name) == n && strncmp(OPTION_NAMES[i].name, s, n) == 0) {
            *bit = OPTION_NAMES[i].bit;
            return 0;
        }
    return -1;
}

/* options=: every token known, at most one output mode. */
static int parse_options(const char *s, unsigned *out, ngsi_error *err)
{
    unsigned options = 0;
    for (const char *p = s;;) {
        size_t n = strcspn(p, ",");
        unsigned bit;
        if (option_bit(p, n, &bit) < 0)
            return ngsi_bad_request(err, "Invalid value for URI param /options/");
        options |= bit;
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    unsigned modes = options & (OPT_KEYVALUES | OPT_VALUES | OPT_UNIQUE);
    if (modes & (modes - 1)) /* more than one output mode */
        return ngsi_bad_request(err, "Invalid value for URI param /options/");
    *out = options;
    return 0;
}

typedef struct arg_check {
    call *c;
    ngsi_error *err;
    bool failed;
} arg_check;

/* One URI parameter, in Orion's order: an empty value ends its checks, a
 * bad limit or offset too; options and then forbidden characters are
 * checked on everything else. Every parameter is checked and a later
 * fault overwrites an earlier one, as in Orion, so the last one is told. */
static enum MHD_Result check_one_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    arg_check *ac = cls;
    bool skip;
    const char *except = arg_exceptions(key, &skip);
    (void)kind;
    if (value == NULL || *value == '\0') {
        ac->failed = true;
        ngsi_bad_request(ac->err, "Empty right-hand-side for URI param /%s/", key);
        return MHD_YES;
    }
    if (check_paging_arg(key, value, ac->err) < 0) {
        ac->failed = true;
        return MHD_YES;
    }
    if (strcmp(key, "options") == 0 && parse_options(value, &ac->c->options, ac->err) < 0)
        ac->failed = true;
    if (ngsi_check_uri_chars(key, true, NULL, ac->err) < 0 ||
        (!skip && ngsi_check_uri_chars(value, true, except, ac->err) < 0))
        ac->failed = true;
    return MHD_YES;
}

int call_check_args(call *c, ngsi_error *err)
{
    arg_check ac = {.c = c, .err = err};
    c->options = 0;
    MHD_get_connection_values(c->conn, MHD_GET_ARGUMENT_KIND, check_one_arg, &ac);
    return ac.failed ? -1 : 0;
}

void call_paging(call *c, size_t *offset, size_t *limit)
{
    const char *l = call_arg(c, "limit");
    const char *o = call_arg(c, "offset");
    *limit = l != NULL ? (size_t)strtoull(l, NULL, 10) : PAGE_DEFAULT_LIMIT;
    *offset = o != NULL ? (size_t)strtoull(o, NULL, 10) : 0;
}

int call_list_arg(call *c, const char *name, ngsi_list *out, ngsi_error *err)
{
    const char *s = call_arg(c, name);
    memset(out, 0, sizeof *out);
    if (s == NULL)
        return 0;
    return ngsi_list_parse(s, name, out, err);
}

/* Which kinds one media range of Accept allows; 0 for ranges Orion does
 * not recognise (those are skipped, not refused). Case and surrounding
 * blanks are forgiven, which Orion does not do. */
static unsigned media_kind(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 3 && strncmp(s, "*/*", 3) == 0)
        return ACCEPT_JSON | ACCEPT_TEXT;
    if ((n == 16 && strncasecmp(s, "application/json", n) == 0) ||
        (n == 13 && strncasecmp(s, "application/*", n) == 0))
        return ACCEPT_JSON;
    if ((n == 10 && strncasecmp(s, "text/plain", n) == 0) ||
        (n == 6 && strncasecmp(s, "text/*", n) == 0))
        return ACCEPT_TEXT;
    return 0;
}

/* The parameters of one range (after its ';'): nothing, or q=<number>
 * first, as Orion requires; the rest is ignored. */
static int media_q(const char *p, const char *end, double *q, ngsi_error *err)
{
    *q = 1.0;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p == end)
        return 0;
    if (*p++ != 'q')
        return ngsi_bad_request(err, "q missing in accept header");
    if (p == end || *p++ != '=')
        return ngsi_bad_request(err, "missing equal-sign after q in accept header");
    const char *stop = memchr(p, ';', (size_t)(end - p));
    if (stop == NULL)
        stop = end;
    if (p == stop)
        return ngsi_bad_request(err, "qvalue in accept header is missing");
    char num[32], *numend;
    snprintf(num, sizeof num, "%.*s", (int)(stop - p), p);
    *q = strtod(num, &numend);
    if ((size_t)(stop - p) >= sizeof num || numend == num || *numend != '\0')
        return ngsi_bad_request(err, "qvalue in accept header is not a number");
    return 0;
}

int call_parse_accept(call *c, ngsi_error *err)
{
    const char *h = call_header(c, "Accept");
    double best = -1;
    bool any = false, failed = false;
    c->accept = 0;
    if (h == NULL)
        h = "*/*";
    if (*h == '\0')
        return ngsi_bad_request(err, "empty accept header");
    for (const char *p = h; *p;) {
        size_t n = strcspn(p, ",");
        size_t tn = strcspn(p, ";,");
        unsigned kind = media_kind(p, tn);
        double q;
        /* Like Orion, a faulty item does not stop the others; the last
         * fault is the one told. */
        if (kind != 0 && media_q(p + tn + (tn < n), p + n, &q, err) < 0)
            failed = true;
        else if (kind != 0 && q > 0) { /* q=0: "not acceptable" (RFC 9110) */
            any = true;
            c->accept |= kind;
            /* Orion answers in the first range's format unless a later
             * one has a higher q; only the text ranges choose text. */
            if (q > best) {
                best = q;
                c->accept = (c->accept & ~ACCEPT_TEXT_FIRST) |
                            (kind == ACCEPT_TEXT ? ACCEPT_TEXT_FIRST : 0);
            }
        }
        p += n + (p[n] == ',');
    }
    if (failed)
        return -1;
    if (!any)
        return ngsi_fail(err, 406, "NotAcceptable", "no acceptable mime-type in accept header");
    return 0;
}

json_t *call_json_body(call *c, ngsi_error *err)
{
    if (c->body.len == 0) {
        ngsi_bad_request(err, NGSI_TXT_EMPTY_PAYLOAD);
        return NULL;
    }
    return ngsi_json_parse(c->body.data, c->body.len, err);
}

enum ngsi_render_mode call_render_mode(const call *c)
{
    if (c->options & OPT_KEYVALUES)
        return NGSI_KEYVALUES;
    if (c->options & OPT_VALUES)
        return NGSI_VALUES;
    if (c->options & OPT_UNIQUE)
        return NGSI_UNIQUE;
    return NGSI_NORMALIZED;
}

enum ngsi_input call_input(const call *c)
{
    return (c->options & OPT_KEYVALUES) ? NGSI_IN_KEYVALUES : NGSI_IN_NORMALIZED;
}
