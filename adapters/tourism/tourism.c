/*
 * adapters/tourism/tourism.c: the tourism adapter. The municipal standard
 * open-data list of tourist facilities (自治体標準オープンデータセット
 * 「観光施設一覧」) into PointOfInterest entities, and a visitor-count feed
 * into TourismPresenceObserved entities. Both are open data.
 *
 * The CSV is fetched with a conditional GET, so an unchanged file costs one
 * 304. When it changed, each row is mapped and its entity compared, by a
 * digest kept in the state store, with what the last successful run wrote:
 * only new and changed facilities are written. Files come in Shift_JIS
 * (Windows-31J) or UTF-8 with or without a BOM (csv.c).
 *
 * Columns are found by their header names, with the standard's names and
 * the older variants (所在地_連結表記 for 住所, 種別 for POIコード) as
 * defaults; option "columns" renames any of them for a town whose file
 * differs. Rows without code, ID or 名称, or with coordinates that are not
 * numbers in range, are skipped and counted. Text is cleaned of the
 * characters NGSI-v2 refuses in values by their full-width forms, so
 * "(株)" is kept as "（株）" rather than losing the row.
 *
 * The visitor feed is JSON, {"observations": [{"facilityId", "date",
 * "visitors", "visitorType", "method"}]} by default, every name configurable
 * (option "visitors"); one entity per facility, day and visitor type, with
 * refPointOfInterest naming the facility's PointOfInterest.
 */
#include "adapter.h"
#include "csv.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_INTERVAL 86400.0 /* facility lists change rarely */
#define POI_PREFIX       "urn:ngsi-ld:PointOfInterest:"

/* The columns the adapter reads, with the header names that mean each. */
enum col {
    C_CODE,
    C_ID,
    C_MUNICIPALITY,
    C_PREFECTURE,
    C_NAME,
    C_KANA,
    C_ENGLISH,
    C_CATEGORY,
    C_ADDRESS,
    C_ADDRESS_EXTRA,
    C_LAT,
    C_LON,
    C_DAYS,
    C_OPENS,
    C_CLOSES,
    C_DESCRIPTION,
    C_CONTACT,
    C_PHONE,
    C_IMAGE,
    C_URL,
    C_COUNT
};

static const struct {
    const char *option; /* key in option "columns" */
    const char *names[4];
} COLUMNS[C_COUNT] = {
    [C_CODE] = {"code", {"全国地方公共団体コード"}},
    [C_ID] = {"id", {"ID"}},
    [C_MUNICIPALITY] = {"municipality", {"地方公共団体名", "市区町村名"}},
    [C_PREFECTURE] = {"prefecture", {"都道府県名"}},
    [C_NAME] = {"name", {"名称"}},
    [C_KANA] = {"nameKana", {"名称_カナ"}},
    [C_ENGLISH] = {"nameEnglish", {"名称_英語"}},
    [C_CATEGORY] = {"category", {"POIコード", "種別", "分類"}},
    [C_ADDRESS] = {"address", {"住所", "所在地_連結表記", "所在地"}},
    [C_ADDRESS_EXTRA] = {"addressExtra", {"方書"}},
    [C_LAT] = {"latitude", {"緯度"}},
    [C_LON] = {"longitude", {"経度"}},
    [C_DAYS] = {"days", {"利用可能曜日"}},
    [C_OPENS] = {"opens", {"開始時間"}},
    [C_CLOSES] = {"closes", {"終了時間"}},
    [C_DESCRIPTION] = {"description", {"説明"}},
    [C_CONTACT] = {"contactName", {"連絡先名称"}},
    [C_PHONE] = {"telephone", {"連絡先電話番号"}},
    [C_IMAGE] = {"image", {"画像"}},
    [C_URL] = {"url", {"URL"}},
};

/* The feed's field names (option "visitors"). */
typedef struct feed {
    const char *url, *list, *facility, *municipality, *date, *count, *type, *method;
} feed;

typedef struct tourism {
    const adapter_host *h;
    const char *csv_url;
    const char *encoding;
    const char *default_category;
    const char *municipality_code; /* for feed items without one */
    const json_t *columns;         /* option "columns", or NULL */
    adapter_header *headers;
    size_t nheaders;
    feed feed;
    int col[C_COUNT]; /* index of each column in the current file, -1 absent */
} tourism;

/* ------------------------------------------------------------ helpers */

/* Column c of rec, or "" when the file has no such column. Borrowed from
 * rec. */
static const char *field(const tourism *t, const csv_record *rec, enum col c)
{
    int i = t->col[c];
    return i >= 0 && (size_t)i < rec->n ? rec->field[i] : "";
}

/* Trim ASCII and full-width spaces in place; returns a pointer into s. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (strncmp(s, "\xe3\x80\x80", 3) == 0) /* U+3000 */
        return trim(s + 3);
    size_t n = strlen(s);
    for (;;) {
        if (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
            n--;
        else if (n >= 3 && memcmp(s + n - 3, "\xe3\x80\x80", 3) == 0)
            n -= 3;
        else
            break;
    }
    s[n] = '\0';
    return s;
}

static bool is_url(const char *s)
{
    return (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0) &&
           !util_has_forbidden(s) && strpbrk(s, " \t") == NULL;
}

/* Find each column in the header row; option "columns" names override. */
static int map_header(adapter_ctx *ctx, tourism *t, const csv_record *hdr)
{
    for (int c = 0; c < C_COUNT; c++) {
        const char *wanted = json_string_value(json_object_get(t->columns, COLUMNS[c].option));
        t->col[c] = -1;
        for (size_t i = 0; i < hdr->n && t->col[c] < 0; i++) {
            char copy[256];
            snprintf(copy, sizeof copy, "%s", hdr->field[i]);
            const char *name = trim(copy);
            if (wanted != NULL) {
                if (strcmp(name, wanted) == 0)
                    t->col[c] = (int)i;
                continue;
            }
            for (size_t k = 0; k < 4 && COLUMNS[c].names[k] && t->col[c] < 0; k++)
                if (strcmp(name, COLUMNS[c].names[k]) == 0)
                    t->col[c] = (int)i;
        }
    }
    if (t->col[C_CODE] < 0 || t->col[C_ID] < 0 || t->col[C_NAME] < 0)
        return t->h->fail(ctx, "the CSV header has no 全国地方公共団体コード, ID or 名称 column "
                               "(option columns renames them)");
    return 0;
}

/* ------------------------------------------------------ opening hours */

/* The schema.org day for n bytes of 曜日 text, or NULL. Static. */
static const char *day_name(const char *jp, size_t n)
{
    static const struct {
        const char *jp, *en;
    } DAYS[] = {{"月", "Monday"},   {"火", "Tuesday"},        {"水", "Wednesday"},
                {"木", "Thursday"}, {"金", "Friday"},         {"土", "Saturday"},
                {"日", "Sunday"},   {"祝", "PublicHolidays"}, {"祝日", "PublicHolidays"}};
    for (size_t i = 0; i < sizeof DAYS / sizeof *DAYS; i++)
        if (strlen(DAYS[i].jp) == n && memcmp(DAYS[i].jp, jp, n) == 0)
            return DAYS[i].en;
    return NULL;
}

/* "9:00", "09:00", "09:00:00" to "HH:MM"; false when not a time. */
static bool local_time(const char *s, char out[6])
{
    int h, m;
    char rest[8] = "";
    if (sscanf(s, "%2d:%2d%7s", &h, &m, rest) < 2 || h < 0 || h > 23 || m < 0 || m > 59 ||
        (rest[0] && strcmp(rest, ":00") != 0))
        return false;
    snprintf(out, 6, "%02d:%02d", h, m);
    return true;
}

/* Length of the separator at p (';', ',', ' ', '、', '・'), or 0. */
static size_t separator(const char *p)
{
    if (*p == ';' || *p == ',' || *p == ' ')
        return 1;
    if (strncmp(p, "\xe3\x80\x81", 3) == 0 || strncmp(p, "\xe3\x83\xbb", 3) == 0)
        return 3; /* 、 and ・ */
    return 0;
}

/* openingHoursSpecification from 利用可能曜日 ("月;火;...") and the times,
 * or NULL when they do not read as such. New reference. */
static json_t *opening_hours(const char *days, const char *opens, const char *closes)
{
    char o[6], c[6];
    if (*days == '\0' || !local_time(opens, o) || !local_time(closes, c))
        return NULL;
    json_t *out = json_array();
    for (const char *p = days; *p;) {
        size_t sep, n = 0;
        while (p[n] && separator(p + n) == 0)
            n++;
        const char *en = n ? day_name(p, n) : NULL;
        if (n && en == NULL) {
            json_decref(out);
            return NULL;
        }
        if (en != NULL)
            json_array_append_new(
                out, json_pack("{s:s,s:s,s:s}", "dayOfWeek", en, "opens", o, "closes", c));
        p += n;
        while ((sep = separator(p)) > 0)
            p += sep;
    }
    return out;
}

/* -------------------------------------------------------- the mapping */

/* address and contactPoint of a row: new references, or NULL when the row
 * has none. */
static json_t *address(const tourism *t, const csv_record *rec)
{
    char street[1024];
    const char *a = field(t, rec, C_ADDRESS), *extra = field(t, rec, C_ADDRESS_EXTRA);
    if (*a == '\0')
        return NULL;
    snprintf(street, sizeof street, "%s%s%s", a, *extra ? " " : "", extra);
    json_t *addr =
        json_pack("{s:o,s:s}", "streetAddress", util_text(street), "addressCountry", "JP");
    json_t *v;
    if ((v = util_text(field(t, rec, C_MUNICIPALITY))) != NULL)
        json_object_set_new(addr, "addressLocality", v);
    if ((v = util_text(field(t, rec, C_PREFECTURE))) != NULL)
        json_object_set_new(addr, "addressRegion", v);
    return addr;
}

static json_t *contact(const tourism *t, const csv_record *rec)
{
    json_t *name = util_text(field(t, rec, C_CONTACT)), *phone = util_text(field(t, rec, C_PHONE));
    if (name == NULL && phone == NULL)
        return NULL;
    json_t *c = json_object();
    if (name != NULL)
        json_object_set_new(c, "name", name);
    if (phone != NULL)
        json_object_set_new(c, "telephone", phone);
    return c;
}

/* The PointOfInterest of a row, or NULL with *why. New reference. */
static json_t *map_row(const tourism *t, const csv_record *rec, const char **why)
{
    const char *code = field(t, rec, C_CODE), *id = field(t, rec, C_ID);
    const char *name = field(t, rec, C_NAME), *lat_s = field(t, rec, C_LAT);
    const char *lon_s = field(t, rec, C_LON), *cat = field(t, rec, C_CATEGORY);
    char eid[ADAPTER_ID_MAX + 1];
    double lat = 0, lon = 0;
    bool located = *lat_s || *lon_s;
    if (!util_id_safe(code) || !util_id_safe(id))
        return *why = "no valid 全国地方公共団体コード or ID", NULL;
    if (*name == '\0')
        return *why = "no 名称", NULL;
    if (located && (!util_parse_number(lat_s, &lat) || !util_parse_number(lon_s, &lon) ||
                    lat < -90 || lat > 90 || lon < -180 || lon > 180))
        return *why = "緯度/経度 are not a position", NULL;
    if (!util_format_id(eid, POI_PREFIX "%s-%s", code, id))
        return *why = UTIL_ID_TOO_LONG, NULL;
    json_t *e = adapter_entity_new(eid, "PointOfInterest");
    adapter_attr_set(e, "name", "Text", util_text(name));
    adapter_attr_set(e, "category", "StructuredValue",
                     json_pack("[o]", util_text(*cat ? cat : t->default_category)));
    adapter_attr_set(e, "alternateName", "Text", util_text(field(t, rec, C_ENGLISH)));
    adapter_attr_set(e, "nameKana", "Text", util_text(field(t, rec, C_KANA)));
    adapter_attr_set(e, "description", "Text", util_text(field(t, rec, C_DESCRIPTION)));
    if (located)
        adapter_attr_set(e, "location", "geo:json",
                         json_pack("{s:s,s:[f,f]}", "type", "Point", "coordinates", lon, lat));
    adapter_attr_set(e, "address", "StructuredValue", address(t, rec));
    adapter_attr_set(e, "contactPoint", "StructuredValue", contact(t, rec));
    adapter_attr_set(
        e, "openingHoursSpecification", "StructuredValue",
        opening_hours(field(t, rec, C_DAYS), field(t, rec, C_OPENS), field(t, rec, C_CLOSES)));
    if (is_url(field(t, rec, C_IMAGE)))
        adapter_attr_set(e, "image", "Text", json_string(field(t, rec, C_IMAGE)));
    if (is_url(field(t, rec, C_URL)))
        adapter_attr_set(e, "additionalInfoURL", "Text", json_string(field(t, rec, C_URL)));
    adapter_attr_set(e, "dataProvider", "Text", util_text(field(t, rec, C_MUNICIPALITY)));
    if (is_url(t->csv_url))
        adapter_attr_set(e, "source", "Text", json_string(t->csv_url));
    return e;
}

/* Put e unless the last successful run wrote the same (state "<key>"). */
static int put_if_changed(adapter_ctx *ctx, const adapter_host *h, json_t *e, const char *kind)
{
    char key[ADAPTER_ID_MAX + 16], digest[17];
    char *dump = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
    util_digest(dump, strlen(dump), digest);
    free(dump);
    snprintf(key, sizeof key, "%s:%s", kind, json_string_value(json_object_get(e, "id")));
    const char *old = h->state_get(ctx, key);
    if (old != NULL && strcmp(old, digest) == 0) {
        h->count(ctx, "unchanged", 1);
        json_decref(e);
        return 0;
    }
    h->state_set(ctx, key, digest);
    return h->put_entity(ctx, e);
}

/* Trim every field of rec in place. */
static void trim_record(csv_record *rec)
{
    for (size_t i = 0; i < rec->n; i++) {
        char *tr = trim(rec->field[i]);
        if (tr != rec->field[i])
            memmove(rec->field[i], tr, strlen(tr) + 1);
    }
}

static int import_csv(adapter_ctx *ctx, tourism *t, const char *data, size_t len)
{
    const adapter_host *h = t->h;
    char msg[256];
    size_t n;
    char *utf8 = text_decode(data, len, t->encoding, &n, msg, sizeof msg);
    if (utf8 == NULL)
        return h->fail(ctx, "%s: %s", t->csv_url, msg);
    csv_reader r;
    csv_record rec = {0};
    csv_init(&r, utf8, n);
    int rc = csv_next(&r, &rec) == 1 ? map_header(ctx, t, &rec) : h->fail(ctx, "empty CSV");
    while (rc == 0) {
        int got = csv_next(&r, &rec);
        if (got == 0)
            break;
        if (got < 0) {
            h->skip(ctx, "line %zu: a quoted field is never closed (rest of the file)", r.line + 1);
            break;
        }
        trim_record(&rec);
        const char *why = NULL;
        json_t *e = map_row(t, &rec, &why);
        if (e == NULL) {
            h->skip(ctx, "line %zu: %s", r.line, why);
            continue;
        }
        h->count(ctx, "facilities", 1);
        rc = put_if_changed(ctx, h, e, "poi");
    }
    csv_record_free(&rec);
    free(utf8);
    return rc;
}

static int poll_csv(adapter_ctx *ctx, tourism *t)
{
    const adapter_host *h = t->h;
    adapter_response r;
    adapter_request req = {
        .url = t->csv_url, .headers = t->headers, .nheaders = t->nheaders, .conditional = true};
    if (h->http(ctx, &req, &r) < 0) {
        h->fail(ctx, "%s", r.error);
        h->response_free(&r);
        return -1;
    }
    int rc = 0;
    if (r.not_modified)
        h->count(ctx, "csvNotModified", 1);
    else if (r.status != 200)
        rc = h->fail(ctx, "%s", r.error);
    else
        rc = import_csv(ctx, t, r.body, r.len);
    h->response_free(&r);
    return rc;
}

/* ---------------------------------------------------------- visitors */

/* dateObserved, From and To for a day ("2024-05-01", the local day in
 * Japan) or an instant (From/To left empty). */
static bool observation_period(const char *d, char *at, char *from, char *to, size_t n)
{
    double t;
    if (util_parse_instant(d, &t) < 0)
        return false;
    if (!util_is_date(d)) {
        snprintf(at, n, "%s", d);
        from[0] = to[0] = '\0';
        return true;
    }
    struct tm tm = {0};
    time_t next = (time_t)t + 86400;
    gmtime_r(&next, &tm);
    snprintf(at, n, "%sT00:00:00+09:00", d);
    snprintf(from, n, "%sT00:00:00+09:00", d);
    snprintf(to, n, "%04d-%02d-%02dT00:00:00+09:00", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    return true;
}

/* A visitor record to its entity (new reference), or NULL with *why. */
static json_t *map_visit(adapter_ctx *ctx, const tourism *t, const json_t *item, const char **why)
{
    const adapter_host *h = t->h;
    const feed *f = &t->feed;
    json_t *fac = h->json_path(item, f->facility), *date = h->json_path(item, f->date);
    json_t *cnt = h->json_path(item, f->count);
    const char *muni = json_string_value(h->json_path(item, f->municipality));
    const char *type = json_string_value(h->json_path(item, f->type));
    const char *method = json_string_value(h->json_path(item, f->method));
    char eid[ADAPTER_ID_MAX + 1], poi[ADAPTER_ID_MAX + 1], at[64], from[64], to[64];
    if (muni == NULL)
        muni = t->municipality_code;
    if (!json_is_string(fac) || !util_id_safe(json_string_value(fac)) || muni == NULL ||
        !util_id_safe(muni))
        return *why = "no valid facility id (or municipality code)", NULL;
    if (!json_is_string(date) || !observation_period(json_string_value(date), at, from, to, 64))
        return *why = "no valid date", NULL;
    if (!json_is_integer(cnt) || json_integer_value(cnt) < 0)
        return *why = "visitor count is not a whole number >= 0", NULL;
    if (type != NULL && !util_id_safe(type))
        return *why = "invalid visitor type", NULL;
    if (!util_format_id(poi, POI_PREFIX "%s-%s", muni, json_string_value(fac)) ||
        !util_format_id(eid, "urn:ngsi-ld:TourismPresenceObserved:%s-%s:%.10s%s%s", muni,
                        json_string_value(fac), json_string_value(date), type ? ":" : "",
                        type ? type : ""))
        return *why = UTIL_ID_TOO_LONG, NULL;
    if (!util_id_safe(eid + strlen("urn:ngsi-ld:")))
        return *why = "the date cannot be part of an entity id", NULL;
    json_t *e = adapter_entity_new(eid, "TourismPresenceObserved");
    adapter_attr_set(e, "dateObserved", "DateTime", json_string(at));
    if (from[0]) {
        adapter_attr_set(e, "dateObservedFrom", "DateTime", json_string(from));
        adapter_attr_set(e, "dateObservedTo", "DateTime", json_string(to));
    }
    adapter_attr_set(e, "refPointOfInterest", "Relationship", json_string(poi));
    adapter_attr_set(e, "visitorCount", "Number", json_integer(json_integer_value(cnt)));
    if (type != NULL)
        adapter_attr_set(e, "visitorType", "Text", json_string(type));
    if (method != NULL)
        adapter_attr_set(e, "observationMethod", "Text", util_text(method));
    return e;
}

static int poll_visitors(adapter_ctx *ctx, tourism *t)
{
    const adapter_host *h = t->h;
    adapter_response r;
    adapter_request req = {
        .url = t->feed.url, .headers = t->headers, .nheaders = t->nheaders, .conditional = true};
    if (h->http(ctx, &req, &r) < 0 || (r.status != 200 && !r.not_modified)) {
        h->fail(ctx, "%s", r.error);
        h->response_free(&r);
        return -1;
    }
    json_error_t je;
    bool unchanged = r.not_modified;
    json_t *doc = unchanged ? NULL : json_loadb(r.body, r.len, 0, &je);
    h->response_free(&r);
    if (unchanged)
        return 0;
    if (doc == NULL)
        return h->fail(ctx, "%s: not JSON (%s)", t->feed.url, je.text);
    const json_t *list = json_is_array(doc) ? doc : h->json_path(doc, t->feed.list);
    if (doc != NULL && !json_is_array(list)) {
        json_decref(doc);
        return h->fail(ctx, "%s: no list at \"%s\"", t->feed.url, t->feed.list);
    }
    int rc = 0;
    for (size_t i = 0; i < json_array_size(list) && rc == 0; i++) {
        const char *why = NULL;
        json_t *e = map_visit(ctx, t, json_array_get(list, i), &why);
        if (e == NULL)
            h->skip(ctx, "visitor record %zu: %s", i, why);
        else
            rc = put_if_changed(ctx, h, e, "visit");
    }
    json_decref(doc);
    return rc;
}

static int poll_tourism(adapter_ctx *ctx, void *userdata)
{
    tourism *t = userdata;
    if (t->csv_url != NULL && poll_csv(ctx, t) < 0)
        return -1;
    if (t->feed.url != NULL && poll_visitors(ctx, t) < 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------ lifecycle */

static int feed_options(adapter_ctx *ctx, tourism *t, const json_t *v)
{
    const adapter_host *h = t->h;
    feed *f = &t->feed;
    if (v == NULL)
        return 0;
    if (!json_is_object(v))
        return h->fail(ctx, "option visitors: must be an object with at least \"url\"");
    if (util_opt_string(ctx, h, v, "url", NULL, &f->url) < 0 ||
        util_opt_string(ctx, h, v, "list", "observations", &f->list) < 0 ||
        util_opt_string(ctx, h, v, "facility", "facilityId", &f->facility) < 0 ||
        util_opt_string(ctx, h, v, "municipality", "municipalityCode", &f->municipality) < 0 ||
        util_opt_string(ctx, h, v, "date", "date", &f->date) < 0 ||
        util_opt_string(ctx, h, v, "count", "visitors", &f->count) < 0 ||
        util_opt_string(ctx, h, v, "visitorType", "visitorType", &f->type) < 0 ||
        util_opt_string(ctx, h, v, "method", "method", &f->method) < 0)
        return -1;
    return f->url ? 0 : h->fail(ctx, "option visitors.url is required");
}

int tsunagi_adapter_version(int n, const int *versions)
{
    for (int i = 0; i < n; i++)
        if (versions[i] == TSUNAGI_ADAPTER_API_VERSION)
            return TSUNAGI_ADAPTER_API_VERSION;
    return -1;
}

int tsunagi_adapter_init(adapter_ctx *ctx, const adapter_host *h, const json_t *options,
                         void **userdata)
{
    tourism *t = calloc(1, sizeof *t);
    if (t == NULL)
        return -1;
    t->h = h;
    *userdata = t;
    t->columns = json_object_get(options, "columns");
    if (util_opt_string(ctx, h, options, "csvUrl", NULL, &t->csv_url) < 0 ||
        util_opt_string(ctx, h, options, "encoding", "auto", &t->encoding) < 0 ||
        util_opt_string(ctx, h, options, "defaultCategory", "tourism", &t->default_category) < 0 ||
        util_opt_string(ctx, h, options, "municipalityCode", NULL, &t->municipality_code) < 0 ||
        util_opt_headers(ctx, h, options, &t->headers, &t->nheaders) < 0 ||
        feed_options(ctx, t, json_object_get(options, "visitors")) < 0)
        goto fail;
    if (t->columns != NULL && !json_is_object(t->columns)) {
        h->fail(ctx, "option columns: must be an object of column keys to header names");
        goto fail;
    }
    if (t->csv_url == NULL && t->feed.url == NULL) {
        h->fail(ctx, "option csvUrl or visitors.url is required");
        goto fail;
    }
    return h->set_poll(ctx, poll_tourism, DEFAULT_INTERVAL);
fail:
    free(t->headers);
    free(t);
    *userdata = NULL;
    return -1;
}

void tsunagi_adapter_cleanup(adapter_ctx *ctx, void *userdata)
{
    tourism *t = userdata;
    if (t == NULL)
        return;
    free(t->headers);
    free(t);
}
