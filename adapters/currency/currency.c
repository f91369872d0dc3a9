/*
 * adapters/currency/currency.c: the local-currency adapter (地域通貨).
 *
 * Digital local-currency platforms have no common API, so Tsunagi defines a
 * plain REST shape (docs/adapters.md, "The local-currency REST shape") and
 * makes every path, query parameter and field name configurable, so that a
 * town can point the adapter at its platform's real API. Four resources,
 * each read page by page:
 *
 *   shops     -> Store (open data): the member shops, acceptsLocalCurrency
 *   payments  -> DailyPaymentStatistics (restricted): per shop and day, or
 *                town-wide when the shop is empty
 *   accounts  -> LocalCurrencyAccount (personal): a resident's balances
 *   grants    -> PointGrant (personal): points given to a resident
 *
 * Shops, accounts and grants are read incrementally from the largest
 * update time of the last successful run; daily totals are read again for
 * the last paymentDays days, because platforms correct them after the day.
 * Personal records are written only for users with an id link (linkSystem)
 * and owned by the linked resident; the others are skipped and counted.
 * Personal entity ids carry neither the platform's user id nor the common
 * ID (grants use the grant's own id, accounts a digest of the user id).
 */
#include "adapter.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_INTERVAL     3600.0
#define DEFAULT_PER_PAGE     100
#define DEFAULT_PAYMENT_DAYS 3
#define PAYMENT_DAYS_MAX     366

enum res { R_SHOPS, R_PAYMENTS, R_ACCOUNTS, R_GRANTS, R_COUNT };

/* Default names of each resource: path, list, fields. Options override
 * any of them ("paths", "fields"). */
static const char *const DEFAULT_PATHS[R_COUNT] = {"/shops", "/payments/daily", "/accounts",
                                                   "/grants"};
static const char *const RES_NAMES[R_COUNT] = {"shops", "payments", "accounts", "grants"};
static const char *const DEFAULT_FIELDS[R_COUNT] = {
    "{\"list\":\"shops\",\"id\":\"shop_id\",\"name\":\"name\",\"category\":\"category\","
    "\"description\":\"description\",\"address\":\"address\",\"lat\":\"lat\",\"lon\":\"lon\","
    "\"phone\":\"phone\",\"url\":\"url\",\"joined\":\"joined_on\",\"status\":\"status\","
    "\"updated\":\"updated_at\"}",
    "{\"list\":\"items\",\"date\":\"date\",\"shop\":\"shop_id\",\"count\":\"transactions\","
    "\"amount\":\"amount\",\"payers\":\"payers\",\"charge\":\"charge_amount\","
    "\"granted\":\"points_granted\",\"redeemed\":\"points_redeemed\"}",
    "{\"list\":\"accounts\",\"user\":\"user_id\",\"balance\":\"balance\",\"points\":\"points\","
    "\"status\":\"status\",\"updated\":\"updated_at\"}",
    "{\"list\":\"grants\",\"id\":\"grant_id\",\"user\":\"user_id\",\"points\":\"points\","
    "\"reason\":\"reason\",\"granted\":\"granted_at\",\"expires\":\"expires_at\","
    "\"event\":\"event_id\"}",
};
/* Pages are followed by their "next" URL (or Link header), so the page
 * number is the platform's business and has no name here. */
static const char *const DEFAULT_QUERY =
    "{\"since\":\"updated_since\",\"grantsSince\":\"since\",\"from\":\"from\","
    "\"perPage\":\"per_page\"}";

typedef struct currency currency;

typedef struct page_ctx {
    currency *c;
    enum res r;
    char max_updated[UTIL_INSTANT_MAX];
    double max_updated_t;
    char max_date[16];
} page_ctx;

struct currency {
    const adapter_host *h;
    const char *base, *code, *link_system, *next_field, *shop_description, *event_prefix;
    const char *expiry_attr; /* option expiryAttribute */
    long per_page, payment_days;
    const char *path[R_COUNT];
    json_t *fields[R_COUNT]; /* owned: defaults merged with options */
    json_t *query;           /* owned */
    const json_t *reasons;   /* option "reasons": upstream value -> PointGrant reason */
    const json_t *statuses;  /* option "accountStatuses" */
    adapter_header *headers;
    size_t nheaders;
};

/* ------------------------------------------------------------ fields */

/* The value of field `what` of an item of resource r, through the field
 * mapping, or NULL. Borrowed from item. */
static const json_t *get(const currency *c, enum res r, const json_t *item, const char *what)
{
    const char *path = json_string_value(json_object_get(c->fields[r], what));
    return path && *path ? c->h->json_path(item, path) : NULL;
}

/* The same as a string, or NULL. Borrowed from item. */
static const char *get_str(const currency *c, enum res r, const json_t *item, const char *what)
{
    return json_string_value(get(c, r, item, what));
}

/* An id-like field (a string, or an integer: platforms number things) into
 * out (ADAPTER_ID_MAX + 1 bytes): 1, 0 when absent or not usable in an
 * entity id, -1 when longer than ADAPTER_ID_MAX (UTIL_ID_TOO_LONG): cut,
 * it could be another record's id. */
static int get_id(const currency *c, enum res r, const json_t *item, const char *what, char *out)
{
    const json_t *v = get(c, r, item, what);
    bool fits;
    if (json_is_integer(v))
        fits = util_format_id(out, "%lld", (long long)json_integer_value(v));
    else if (json_is_string(v))
        fits = util_format_id(out, "%s", json_string_value(v));
    else
        return 0;
    if (!fits)
        return -1;
    return util_id_safe(out) ? 1 : 0;
}

static bool number(const json_t *v, double *out)
{
    if (json_is_string(v)) /* amounts sometimes come as strings */
        return util_parse_number(json_string_value(v), out);
    if (!json_is_number(v))
        return false;
    *out = json_number_value(v);
    return true;
}

static bool whole(const json_t *v, long long *out)
{
    double d;
    /* The range first: converting a double long long cannot hold (or a
     * NaN) is undefined behaviour. */
    if (!number(v, &d) || !(d >= -0x1p63 && d < 0x1p63) || d != (double)(long long)d)
        return false;
    *out = (long long)d;
    return true;
}

/* Keep the largest update time seen in pc. */
static void note_updated(page_ctx *pc, const char *t)
{
    double x;
    if (t != NULL && strlen(t) < sizeof pc->max_updated && util_parse_instant(t, &x) == 0 &&
        x > pc->max_updated_t) {
        pc->max_updated_t = x;
        snprintf(pc->max_updated, sizeof pc->max_updated, "%s", t);
    }
}

/* ------------------------------------------------------------- shops */

/* Each map_* gives the item's entity (new reference), or NULL with *why. */
static json_t *map_shop(adapter_ctx *ctx, currency *c, const json_t *it, const char **why)
{
    enum res r = R_SHOPS;
    char id[ADAPTER_ID_MAX + 1], eid[ADAPTER_ID_MAX + 1];
    const char *name = get_str(c, r, it, "name"), *status = get_str(c, r, it, "status");
    const char *joined = get_str(c, r, it, "joined"), *desc = get_str(c, r, it, "description");
    const char *url = get_str(c, r, it, "url");
    double lat, lon;
    int got = get_id(c, r, it, "id", id);
    if (got <= 0)
        return *why = got < 0 ? UTIL_ID_TOO_LONG : "no valid shop id", NULL;
    if (name == NULL || *name == '\0')
        return *why = "no name", NULL;
    if (!util_format_id(eid, "urn:ngsi-ld:Store:%s:%s", c->h->name(ctx), id))
        return *why = UTIL_ID_TOO_LONG, NULL;
    json_t *e = adapter_entity_new(eid, "Store");
    adapter_attr_set(e, "name", "Text", util_text(name));
    adapter_attr_set(e, "description", "Text",
                     util_text(desc && *desc ? desc : c->shop_description));
    adapter_attr_set(e, "category", "Text", util_text(get_str(c, r, it, "category")));
    const char *addr = get_str(c, r, it, "address");
    if (addr != NULL && *addr)
        adapter_attr_set(
            e, "address", "StructuredValue",
            json_pack("{s:o,s:s}", "streetAddress", util_text(addr), "addressCountry", "JP"));
    if (number(get(c, r, it, "lat"), &lat) && number(get(c, r, it, "lon"), &lon) && lat >= -90 &&
        lat <= 90 && lon >= -180 && lon <= 180)
        adapter_attr_set(e, "location", "geo:json",
                         json_pack("{s:s,s:[f,f]}", "type", "Point", "coordinates", lon, lat));
    adapter_attr_set(e, "telephone", "Text", util_text(get_str(c, r, it, "phone")));
    if (url != NULL && strncmp(url, "http", 4) == 0 && !util_has_forbidden(url))
        adapter_attr_set(e, "url", "Text", json_string(url));
    bool member = status == NULL || strcmp(status, "active") == 0;
    adapter_attr_set(e, "acceptsLocalCurrency", "Boolean", json_boolean(member));
    adapter_attr_set(e, "currenciesAccepted", "StructuredValue", json_pack("[s]", c->code));
    if (joined != NULL && util_is_date(joined))
        adapter_attr_set(e, "localCurrencyMemberSince", "Text", json_string(joined));
    return e;
}

/* ---------------------------------------------------------- payments */

static void add_count(json_t *e, const char *name, const json_t *v)
{
    long long n;
    if (v != NULL && whole(v, &n))
        adapter_attr_set(e, name, "Number", json_integer(n));
}

static json_t *map_payment(adapter_ctx *ctx, currency *c, const json_t *it, const char **why)
{
    enum res r = R_PAYMENTS;
    char shop[ADAPTER_ID_MAX + 1] = "", store[ADAPTER_ID_MAX + 1], eid[ADAPTER_ID_MAX + 1], at[64];
    const char *date = get_str(c, r, it, "date");
    const json_t *shop_v = get(c, r, it, "shop");
    long long count;
    double amount, x;
    int got = shop_v != NULL && !json_is_null(shop_v) ? get_id(c, r, it, "shop", shop) : 1;
    if (date == NULL || !util_is_date(date))
        return *why = "no valid date (YYYY-MM-DD)", NULL;
    if (got <= 0)
        return *why = got < 0 ? UTIL_ID_TOO_LONG : "invalid shop id", NULL;
    if (!whole(get(c, r, it, "count"), &count) || count < 0)
        return *why = "transaction count is not a whole number >= 0", NULL;
    if (!number(get(c, r, it, "amount"), &amount) || amount < 0)
        return *why = "amount is not a number >= 0", NULL;
    if (!util_format_id(eid, "urn:ngsi-ld:DailyPaymentStatistics:%s:%s:%s", c->h->name(ctx),
                        shop[0] ? shop : "town", date) ||
        (shop[0] && !util_format_id(store, "urn:ngsi-ld:Store:%s:%s", c->h->name(ctx), shop)))
        return *why = UTIL_ID_TOO_LONG, NULL;
    snprintf(at, sizeof at, "%sT00:00:00+09:00", date);
    json_t *e = adapter_entity_new(eid, "DailyPaymentStatistics");
    adapter_attr_set(e, "dateObserved", "DateTime", json_string(at));
    if (shop[0])
        adapter_attr_set(e, "refStore", "Relationship", json_string(store));
    adapter_attr_set(e, "currency", "Text", json_string(c->code));
    adapter_attr_set(e, "transactionCount", "Number", json_integer(count));
    adapter_attr_set(e, "totalAmount", "Number", json_real(amount));
    if (count > 0)
        adapter_attr_set(e, "averageAmount", "Number", json_real(amount / (double)count));
    add_count(e, "uniquePayerCount", get(c, r, it, "payers"));
    add_count(e, "pointsGranted", get(c, r, it, "granted"));
    add_count(e, "pointsRedeemed", get(c, r, it, "redeemed"));
    if (number(get(c, r, it, "charge"), &x))
        adapter_attr_set(e, "chargeAmount", "Number", json_real(x));
    return e;
}

/* ---------------------------------------------------- personal records */

/* The resident linked to the item's user: 1, 0 (skip), -1 (fail). */
static int owner_of(adapter_ctx *ctx, currency *c, enum res r, const json_t *it, char *owner,
                    size_t n, char *user, const char **why)
{
    int got = get_id(c, r, it, "user", user);
    if (got <= 0)
        return *why = got < 0 ? UTIL_ID_TOO_LONG : "no valid user id", 0;
    int rc = c->h->link_lookup(ctx, c->link_system, user, owner, n);
    if (rc == 0) {
        c->h->count(ctx, "unlinkedUsers", 1);
        *why = "the user is not linked to a resident";
    }
    return rc;
}

static void account_id(adapter_ctx *ctx, currency *c, const char *user, char *out, size_t n)
{
    char digest[17], *key;
    /* All of the user id: a cut one would give two users one account. */
    if (asprintf(&key, "%s:%s", c->h->name(ctx), user) < 0)
        abort();
    util_digest(key, strlen(key), digest);
    free(key);
    snprintf(out, n, "urn:ngsi-ld:LocalCurrencyAccount:%s:%s", c->h->name(ctx), digest);
}

static json_t *map_account(adapter_ctx *ctx, currency *c, const json_t *it, const char *owner,
                           const char *user, const char **why)
{
    enum res r = R_ACCOUNTS;
    char eid[ADAPTER_ID_MAX + 1];
    const char *updated = get_str(c, r, it, "updated"), *status = get_str(c, r, it, "status");
    double balance, t;
    long long points;
    if (!number(get(c, r, it, "balance"), &balance) || balance < 0)
        return *why = "balance is not a number >= 0", NULL;
    if (updated == NULL || util_parse_instant(updated, &t) < 0)
        return *why = "no valid update time", NULL;
    account_id(ctx, c, user, eid, sizeof eid);
    json_t *e = adapter_entity_new(eid, "LocalCurrencyAccount");
    adapter_attr_set(e, "currency", "Text", json_string(c->code));
    adapter_attr_set(e, "balance", "Number", json_real(balance));
    if (whole(get(c, r, it, "points"), &points))
        adapter_attr_set(e, "pointBalance", "Number", json_integer(points));
    if (status != NULL) {
        const char *mapped = json_string_value(json_object_get(c->statuses, status));
        adapter_attr_set(e, "accountStatus", "Text", util_text(mapped ? mapped : status));
    }
    adapter_attr_set(e, "dateObserved", "DateTime", json_string(updated));
    c->h->set_owner(ctx, e, owner);
    return e;
}

static const char *reason_of(const currency *c, const char *upstream)
{
    static const char *const KNOWN[] = {"healthProgram", "eventParticipation", "volunteering",
                                        "campaign",      "purchase",           "other"};
    const char *mapped = json_string_value(json_object_get(c->reasons, upstream ? upstream : ""));
    if (mapped != NULL)
        return mapped;
    for (size_t i = 0; upstream && i < sizeof KNOWN / sizeof *KNOWN; i++)
        if (strcmp(upstream, KNOWN[i]) == 0)
            return upstream;
    return "other";
}

static json_t *map_grant(adapter_ctx *ctx, currency *c, const json_t *it, const char *owner,
                         const char *user, const char **why)
{
    enum res r = R_GRANTS;
    char id[ADAPTER_ID_MAX + 1], eid[ADAPTER_ID_MAX + 1], acct[ADAPTER_ID_MAX + 1];
    char ev[ADAPTER_ID_MAX + 1], ref[ADAPTER_ID_MAX + 1];
    const char *granted = get_str(c, r, it, "granted"), *expires = get_str(c, r, it, "expires");
    long long points;
    double t;
    int got = get_id(c, r, it, "id", id), event = get_id(c, r, it, "event", ev);
    if (got <= 0)
        return *why = got < 0 ? UTIL_ID_TOO_LONG : "no valid grant id", NULL;
    if (!whole(get(c, r, it, "points"), &points))
        return *why = "points are not a whole number", NULL;
    if (granted == NULL || util_parse_instant(granted, &t) < 0)
        return *why = "no valid grant time", NULL;
    if (event < 0 || !util_format_id(eid, "urn:ngsi-ld:PointGrant:%s:%s", c->h->name(ctx), id) ||
        (event > 0 && !util_format_id(ref, "%s%s", c->event_prefix, ev)))
        return *why = UTIL_ID_TOO_LONG, NULL;
    const char *reason = reason_of(c, get_str(c, r, it, "reason"));
    account_id(ctx, c, user, acct, sizeof acct);
    json_t *e = adapter_entity_new(eid, "PointGrant");
    adapter_attr_set(e, "points", "Number", json_integer(points));
    adapter_attr_set(e, "reason", "Text", json_string(reason));
    adapter_attr_set(e, "dateIssued", "DateTime", json_string(granted));
    /* Not dateExpires by default: in NGSI-v2 that attribute makes the whole
     * entity expire, and the broker would delete the grant's record when its
     * points expire (option expiryAttribute "dateExpires" asks for that). */
    if (expires != NULL && util_parse_instant(expires, &t) == 0)
        adapter_attr_set(e, c->expiry_attr, "DateTime", json_string(expires));
    adapter_attr_set(e, "refAccount", "Relationship", json_string(acct));
    if (event > 0)
        adapter_attr_set(e, "refEvent", "Relationship", json_string(ref));
    c->h->set_owner(ctx, e, owner);
    return e;
}

/* ------------------------------------------------------------- paging */

static int handle_item(adapter_ctx *ctx, page_ctx *pc, const json_t *it, size_t i)
{
    currency *c = pc->c;
    const char *why = NULL;
    char owner[ADAPTER_ID_MAX + 1], user[ADAPTER_ID_MAX + 1];
    json_t *e = NULL;
    switch (pc->r) {
    case R_SHOPS:
        note_updated(pc, get_str(c, pc->r, it, "updated"));
        e = map_shop(ctx, c, it, &why);
        break;
    case R_PAYMENTS: {
        const char *d = get_str(c, pc->r, it, "date");
        if (d != NULL && util_is_date(d) && strcmp(d, pc->max_date) > 0)
            snprintf(pc->max_date, sizeof pc->max_date, "%s", d);
        e = map_payment(ctx, c, it, &why);
        break;
    }
    case R_ACCOUNTS:
    case R_GRANTS: {
        note_updated(pc, get_str(c, pc->r, it, pc->r == R_GRANTS ? "granted" : "updated"));
        int rc = owner_of(ctx, c, pc->r, it, owner, sizeof owner, user, &why);
        if (rc < 0)
            return -1;
        if (rc > 0)
            e = pc->r == R_GRANTS ? map_grant(ctx, c, it, owner, user, &why)
                                  : map_account(ctx, c, it, owner, user, &why);
        break;
    }
    default:
        break;
    }
    if (e == NULL) {
        c->h->skip(ctx, "%s item %zu: %s", RES_NAMES[pc->r], i, why ? why : "unreadable");
        return 0;
    }
    c->h->count(ctx, RES_NAMES[pc->r], 1);
    return c->h->put_entity(ctx, e);
}

static int on_page(adapter_ctx *ctx, const adapter_response *page, char *next, size_t nextsz,
                   void *arg)
{
    page_ctx *pc = arg;
    currency *c = pc->c;
    json_error_t je;
    json_t *doc = json_loadb(page->body, page->len, 0, &je);
    if (doc == NULL)
        return c->h->fail(ctx, "%s: not JSON (%s)", RES_NAMES[pc->r], je.text);
    const char *list_path = json_string_value(json_object_get(c->fields[pc->r], "list"));
    const json_t *list = json_is_array(doc) ? doc : c->h->json_path(doc, list_path);
    if (!json_is_array(list)) {
        json_decref(doc);
        return c->h->fail(ctx, "%s: no list at \"%s\"", RES_NAMES[pc->r], list_path);
    }
    int rc = 0;
    for (size_t i = 0; i < json_array_size(list) && rc == 0; i++)
        rc = handle_item(ctx, pc, json_array_get(list, i), i);
    const char *nx = json_string_value(c->h->json_path(doc, c->next_field));
    if (nx != NULL && *nx)
        snprintf(next, nextsz, "%s", nx); /* else the Link header's, if any */
    json_decref(doc);
    return rc;
}

/* ------------------------------------------------------------ a run */

static void add_param(char *url, size_t n, const char *name, const char *value)
{
    size_t len = strlen(url);
    if (name == NULL || *name == '\0' || value == NULL || len + 2 >= n)
        return;
    len += (size_t)snprintf(url + len, n - len, "%s%s=", strchr(url, '?') ? "&" : "?", name);
    for (const unsigned char *p = (const unsigned char *)value; *p && len + 4 < n; p++)
        len += (size_t)(strchr("+&#= %?", *p) || *p < 0x20 || *p >= 0x7f
                            ? snprintf(url + len, n - len, "%%%02X", *p)
                            : snprintf(url + len, n - len, "%c", *p));
}

static const char *query_name(const currency *c, const char *what)
{
    return json_string_value(json_object_get(c->query, what));
}

/* The first day to read daily totals from: paymentDays before the last
 * day seen. */
static void payments_from(const char *last, long days, char out[16])
{
    double t;
    out[0] = '\0';
    if (last == NULL || util_parse_instant(last, &t) < 0)
        return;
    time_t from = (time_t)t - (time_t)(days - 1) * 86400;
    struct tm tm;
    gmtime_r(&from, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

static int run_resource(adapter_ctx *ctx, currency *c, enum res r)
{
    char url[ADAPTER_URL_MAX], key[64], per[24], from[16];
    page_ctx pc = {.c = c, .r = r};
    snprintf(url, sizeof url, "%s%s", c->base, c->path[r]);
    snprintf(per, sizeof per, "%ld", c->per_page);
    add_param(url, sizeof url, query_name(c, "perPage"), per);
    snprintf(key, sizeof key, "%s.%s", RES_NAMES[r], r == R_PAYMENTS ? "last" : "since");
    const char *saved = c->h->state_get(ctx, key);
    if (r == R_PAYMENTS) {
        payments_from(saved, c->payment_days, from);
        add_param(url, sizeof url, query_name(c, "from"), from[0] ? from : NULL);
    } else {
        add_param(url, sizeof url, query_name(c, r == R_GRANTS ? "grantsSince" : "since"), saved);
    }
    adapter_request req = {.url = url, .headers = c->headers, .nheaders = c->nheaders};
    if (c->h->http_pages(ctx, &req, on_page, &pc) < 0)
        return -1;
    const char *now = r == R_PAYMENTS ? pc.max_date : pc.max_updated;
    if (now[0] && (saved == NULL || strcmp(now, saved) != 0)) {
        if (r == R_PAYMENTS && saved != NULL && strcmp(now, saved) < 0)
            return 0; /* never move the window back */
        c->h->state_set(ctx, key, now);
    }
    return 0;
}

static int poll_currency(adapter_ctx *ctx, void *userdata)
{
    currency *c = userdata;
    for (int r = 0; r < R_COUNT; r++)
        if (c->path[r] != NULL && run_resource(ctx, c, (enum res)r) < 0)
            return -1;
    return 0;
}

/* ------------------------------------------------------------ lifecycle */

/* defaults (JSON text) with the members of over laid on top. New. */
static json_t *merged(const char *defaults, const json_t *over)
{
    json_t *m = json_loads(defaults, 0, NULL);
    if (json_is_object(over))
        json_object_update(m, (json_t *)over);
    return m;
}

static int paths_option(adapter_ctx *ctx, currency *c, const json_t *paths)
{
    if (paths != NULL && !json_is_object(paths))
        return c->h->fail(ctx, "option paths: must be an object of resource to path");
    for (int r = 0; r < R_COUNT; r++) {
        const json_t *p = json_object_get(paths, RES_NAMES[r]);
        if (p != NULL && !json_is_string(p))
            return c->h->fail(ctx, "option paths.%s: must be a string (\"\" disables)",
                              RES_NAMES[r]);
        c->path[r] = p ? json_string_value(p) : DEFAULT_PATHS[r];
        if (c->path[r][0] == '\0')
            c->path[r] = NULL;
    }
    return 0;
}

static int fields_option(adapter_ctx *ctx, currency *c, const json_t *fields)
{
    if (fields != NULL && !json_is_object(fields))
        return c->h->fail(ctx, "option fields: must be an object of resource to field names");
    for (int r = 0; r < R_COUNT; r++) {
        const json_t *f = json_object_get(fields, RES_NAMES[r]);
        if (f != NULL && !json_is_object(f))
            return c->h->fail(ctx, "option fields.%s: must be an object", RES_NAMES[r]);
        c->fields[r] = merged(DEFAULT_FIELDS[r], f);
    }
    return 0;
}

int tsunagi_adapter_version(int n, const int *versions)
{
    for (int i = 0; i < n; i++)
        if (versions[i] == TSUNAGI_ADAPTER_API_VERSION)
            return TSUNAGI_ADAPTER_API_VERSION;
    return -1;
}

static void currency_free(currency *c)
{
    for (int r = 0; r < R_COUNT; r++)
        json_decref(c->fields[r]);
    json_decref(c->query);
    free(c->headers);
    free(c);
}

int tsunagi_adapter_init(adapter_ctx *ctx, const adapter_host *h, const json_t *options,
                         void **userdata)
{
    currency *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -1;
    c->h = h;
    *userdata = NULL;
    c->reasons = json_object_get(options, "reasons");
    c->statuses = json_object_get(options, "accountStatuses");
    c->query = merged(DEFAULT_QUERY, json_object_get(options, "query"));
    if (util_opt_string(ctx, h, options, "baseUrl", NULL, &c->base) < 0 ||
        util_opt_string(ctx, h, options, "currency", NULL, &c->code) < 0 ||
        util_opt_string(ctx, h, options, "linkSystem", h->name(ctx), &c->link_system) < 0 ||
        util_opt_string(ctx, h, options, "next", "next", &c->next_field) < 0 ||
        util_opt_string(ctx, h, options, "shopDescription", "地域通貨の加盟店",
                        &c->shop_description) < 0 ||
        util_opt_string(ctx, h, options, "eventIdPrefix", "urn:ngsi-ld:Event:", &c->event_prefix) <
            0 ||
        util_opt_string(ctx, h, options, "expiryAttribute", "pointsExpire", &c->expiry_attr) < 0 ||
        util_opt_int(ctx, h, options, "perPage", DEFAULT_PER_PAGE, 1, 1000, &c->per_page) < 0 ||
        util_opt_int(ctx, h, options, "paymentDays", DEFAULT_PAYMENT_DAYS, 1, PAYMENT_DAYS_MAX,
                     &c->payment_days) < 0 ||
        util_opt_headers(ctx, h, options, &c->headers, &c->nheaders) < 0 ||
        paths_option(ctx, c, json_object_get(options, "paths")) < 0 ||
        fields_option(ctx, c, json_object_get(options, "fields")) < 0)
        goto fail;
    if (c->base == NULL || c->code == NULL) {
        h->fail(ctx, "options baseUrl and currency (the scheme's code, e.g. TSUNAGI) are required");
        goto fail;
    }
    *userdata = c;
    return h->set_poll(ctx, poll_currency, DEFAULT_INTERVAL);
fail:
    currency_free(c);
    return -1;
}

void tsunagi_adapter_cleanup(adapter_ctx *ctx, void *userdata)
{
    if (userdata != NULL)
        currency_free(userdata);
}
