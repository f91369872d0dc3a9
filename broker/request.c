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

const char *call_header(call *c, const char *name)
{
    return MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, name);
}

const char *call_arg(call *c, const char *name)
{
    return MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, name);
}

typedef struct arg_check {
    ngsi_error *err;
    bool failed;
} arg_check;

/* Characters Orion lets through in particular parameters: q, mq and
 * idPattern carry expressions; the geo parameters carry ';' and '='. */
static const char *arg_exceptions(const char *key, bool *skip)
{
    *skip = strcmp(key, "q") == 0 || strcmp(key, "mq") == 0 || strcmp(key, "idPattern") == 0;
    if (strcmp(key, "georel") == 0 || strcmp(key, "geometry") == 0)
        return "=;";
    if (strcmp(key, "coords") == 0)
        return ";";
    return NULL;
}

static bool all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* One limit= or offset= value with Orion's texts. */
static int page_value(const char *key, const char *v, size_t *out, ngsi_error *err)
{
    bool limit = strcmp(key, "limit") == 0;
    if (!all_digits(v) || (!limit && strlen(v) > 18))
        return ngsi_bad_request(err, "Bad pagination %s: /%s/ [must be a decimal number]", key, v);
    unsigned long long n = strtoull(v, NULL, 10);
    if (limit && n == 0)
        return ngsi_bad_request(err, "Bad pagination limit: /%s/ [a value of ZERO is unacceptable]",
                                v);
    if (limit && (n > PAGE_MAX_LIMIT || strlen(v) > 10))
        return ngsi_bad_request(err, "Bad pagination limit: /%s/ [max: %d]", v, PAGE_MAX_LIMIT);
    *out = (size_t)n;
    return 0;
}

static enum MHD_Result check_one_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    arg_check *ac = cls;
    bool skip;
    const char *except = arg_exceptions(key, &skip);
    if (value == NULL || *value == '\0') {
        ngsi_bad_request(ac->err, "Empty right-hand-side for URI param /%s/", key);
        ac->failed = true;
        return MHD_NO;
    }
    size_t page;
    bool paging = strcmp(key, "limit") == 0 || strcmp(key, "offset") == 0;
    /* Orion checks paging values before forbidden characters: "<2" is a
     * bad offset, not a bad character. */
    if ((paging && page_value(key, value, &page, ac->err) < 0) ||
        ngsi_check_uri_chars(key, true, NULL, ac->err) < 0 ||
        (!skip && !paging && ngsi_check_uri_chars(value, true, except, ac->err) < 0)) {
        ac->failed = true;
        return MHD_NO;
    }
    return MHD_YES;
}

int call_check_args(call *c, ngsi_error *err)
{
    arg_check ac = {.err = err};
    MHD_get_connection_values(c->conn, MHD_GET_ARGUMENT_KIND, check_one_arg, &ac);
    return ac.failed ? -1 : 0;
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

int call_parse_options(call *c, ngsi_error *err)
{
    const char *s = call_arg(c, "options");
    c->options = 0;
    if (s == NULL)
        return 0;
    for (const char *p = s;;) {
        size_t n = strcspn(p, ",");
        unsigned bit;
        if (option_bit(p, n, &bit) < 0)
            return ngsi_bad_request(err, "Invalid value for URI param /options/");
        c->options |= bit;
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    unsigned modes = c->options & (OPT_KEYVALUES | OPT_VALUES | OPT_UNIQUE);
    if (modes & (modes - 1)) /* more than one output mode */
        return ngsi_bad_request(err, "Invalid value for URI param /options/");
    return 0;
}

int call_paging(call *c, size_t *offset, size_t *limit, ngsi_error *err)
{
    const char *l = call_arg(c, "limit");
    const char *o = call_arg(c, "offset");
    *limit = PAGE_DEFAULT_LIMIT;
    *offset = 0;
    if (l != NULL && page_value("limit", l, limit, err) < 0)
        return -1;
    if (o != NULL && page_value("offset", o, offset, err) < 0)
        return -1;
    return 0;
}

int call_list_arg(call *c, const char *name, ngsi_list *out, ngsi_error *err)
{
    const char *s = call_arg(c, name);
    memset(out, 0, sizeof *out);
    if (s == NULL)
        return 0;
    return ngsi_list_parse(s, name, out, err);
}

/* One media range of an Accept header: which kinds it allows, its q. */
static unsigned media_kind(const char *s, size_t n)
{
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

/* The q parameter of one range ("type;q=0.5"); 1 when absent. */
static int media_q(const char *params, size_t n, double *q, ngsi_error *err)
{
    *q = 1.0;
    const char *p = memchr(params, 'q', n);
    if (p == NULL)
        return 0;
    p++;
    while (*p == ' ')
        p++;
    if (*p != '=')
        return ngsi_bad_request(err, "missing equal-sign after q in accept header");
    char *end;
    *q = strtod(p + 1, &end);
    if (end == p + 1)
        return ngsi_bad_request(err, "qvalue in accept header is not a number");
    return 0;
}

int call_parse_accept(call *c, ngsi_error *err)
{
    const char *h = call_header(c, "Accept");
    double best_json = -1, best_text = -1;
    int json_at = -1, text_at = -1; /* which range gave the best q: ties go to the first */
    c->accept = 0;
    if (h == NULL) {
        c->accept = ACCEPT_JSON | ACCEPT_TEXT;
        return 0;
    }
    if (*h == '\0')
        return ngsi_bad_request(err, "empty accept header");
    for (int at = 0; *h; at++) {
        size_t n = strcspn(h, ",");
        const char *s = h;
        while (*s == ' ' && s < h + n)
            s++;
        size_t tn = strcspn(s, ";,");
        while (tn > 0 && s[tn - 1] == ' ')
            tn--;
        double q;
        if (media_q(s + tn, (size_t)(h + n - (s + tn)), &q, err) < 0)
            return -1;
        unsigned kind = media_kind(s, tn);
        /* a wildcard allows text just below JSON, so it answers JSON */
        double text_q = (kind & ACCEPT_JSON) ? q - 1e-6 : q;
        if ((kind & ACCEPT_JSON) && q > 0 && q > best_json)
            best_json = q, json_at = at;
        if ((kind & ACCEPT_TEXT) && text_q > 0 && text_q > best_text)
            best_text = text_q, text_at = at;
        h += n + (h[n] == ',');
    }
    if (best_json > 0)
        c->accept |= ACCEPT_JSON;
    if (best_text > 0)
        c->accept |= ACCEPT_TEXT;
    if (best_text > best_json || (best_text == best_json && text_at < json_at))
        c->accept |= ACCEPT_TEXT_FIRST;
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
