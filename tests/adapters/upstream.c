/*
 * tests/adapters/upstream.c: tsunagi-test-upstream, the upstream systems the
 * adapter tests and benchmarks talk to.
 *
 *   tsunagi-test-upstream [--port P] [--fhir FILE] [--files DIR] [--currency FILE]
 *   tsunagi-test-upstream --gen-fhir N PATIENTS      (a FHIR collection on stdout)
 *   tsunagi-test-upstream --gen-csv N                (a 観光施設一覧 CSV, UTF-8, on stdout)
 *
 * It serves recorded data the way the real systems do:
 * - /fhir: a FHIR R4 server over FILE (a Bundle of type collection holding
 *   Patients and Observations). GET /fhir/Observation searches with
 *   category (comma = OR), _lastUpdated (gt/ge/lt/le), _sort=_lastUpdated,
 *   _count and _include=Observation:subject, answering searchset Bundles
 *   with self/next links (paging by _offset, as HAPI pages by
 *   _getpagesoffset); GET /fhir/Patient/{id} reads one Patient.
 * - /files/NAME: the files of DIR with ETag and Last-Modified, answering
 *   304 to If-None-Match / If-Modified-Since. A JSON file asked for with
 *   ?updated_since=T keeps, in its top-level lists, only items whose
 *   "updated" is later than T (an incremental API).
 * - /currency/v1/...: the local-currency REST shape of docs/adapters.md
 *   over FILE ({"shops","payments","accounts","grants"}), paged with
 *   page/per_page and a "next" URL.
 * - /redirect/PATH: 302 to /PATH (the query is not kept), with ETag,
 *   Last-Modified, Content-Type and a Link rel="next" of its own, which a
 *   client must not take for the final answer's.
 * Data files are re-read when they change on disk (a test replaces one with
 * mv to change what the upstream holds).
 *
 * Faults, for the error tests: POST /_admin/fault with
 *   {"mode": "500"|"slow"|"malformed"|"none", "path": "/fhir/", "count": N,
 *    "after": M, "delay": seconds}
 * makes N requests under path (N -1: all), after letting M through, fail
 * that way.
 * GET /_admin/stats counts requests and 304s per top-level path.
 *
 * /broker/...: a recording stand-in for a broker, to check what the host
 * sends (GET /_admin/requests lists the requests); op/update answers 204,
 * anything else 404.
 *
 * --port 0 takes a free port and prints "port N". Stops on SIGTERM/SIGINT.
 */
#include <jansson.h>
#include <microhttpd.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define BODY_MAX                  (1 << 20)
#define FHIR_COUNT_MAX            1000
#define CURRENCY_PER_PAGE_DEFAULT 50

typedef struct data_file {
    const char *path;
    json_t *doc;
    json_t *index; /* FHIR: "Type/id" -> resource, rebuilt with doc */
    struct stat st;
} data_file;

typedef struct fault {
    char mode[16];
    char path[128];
    long count;
    long after; /* matching requests let through before the fault starts */
    double delay;
} fault;

typedef struct server {
    pthread_mutex_t lock;
    data_file fhir, currency;
    const char *files;
    int port;
    fault fault;
    json_t *stats;    /* {"/fhir": {"requests": n, "notModified": n}} */
    json_t *recorded; /* requests to /broker/..., for GET /_admin/requests */
} server;

typedef struct req {
    char *body;
    size_t len;
} req;

/* ------------------------------------------------------------ helpers */

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *type,
                                 const char *text, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
    if (type != NULL)
        MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *doc,
                                 const char *type)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    enum MHD_Result rc = send_text(c, status, type ? type : "application/json", text, strlen(text));
    free(text);
    return rc;
}

/* The document of f, re-read if the file changed. Borrowed under lock. */
static json_t *data(data_file *f)
{
    struct stat st;
    if (f->path == NULL || stat(f->path, &st) != 0)
        return f->doc;
    bool same = f->doc != NULL && st.st_ino == f->st.st_ino && st.st_size == f->st.st_size &&
                st.st_mtim.tv_sec == f->st.st_mtim.tv_sec &&
                st.st_mtim.tv_nsec == f->st.st_mtim.tv_nsec;
    if (same)
        return f->doc;
    json_error_t je;
    json_t *doc = json_load_file(f->path, 0, &je);
    if (doc == NULL) {
        fprintf(stderr, "upstream: %s: %s\n", f->path, je.text);
        return f->doc;
    }
    json_decref(f->doc);
    json_decref(f->index);
    f->doc = doc;
    f->st = st;
    f->index = json_object();
    json_t *entries = json_object_get(doc, "entry");
    for (size_t i = 0; i < json_array_size(entries); i++) {
        json_t *r = json_object_get(json_array_get(entries, i), "resource");
        const char *rt = json_string_value(json_object_get(r, "resourceType"));
        const char *id = json_string_value(json_object_get(r, "id"));
        char key[300];
        if (rt != NULL && id != NULL) {
            snprintf(key, sizeof key, "%s/%s", rt, id);
            json_object_set(f->index, key, r);
        }
    }
    return doc;
}

/* A query parameter, decoded, or NULL. Borrowed from the connection. */
static const char *arg(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

static long arg_long(struct MHD_Connection *c, const char *name, long def)
{
    const char *v = arg(c, name);
    return v ? strtol(v, NULL, 10) : def;
}

/* Append "&name=value" (value percent-encoded) to out. */
static void add_param(char *out, size_t n, const char *name, const char *value)
{
    size_t used = strlen(out);
    if (value == NULL || used + 2 >= n)
        return;
    used += (size_t)snprintf(out + used, n - used, "%s%s=", strchr(out, '?') ? "&" : "?", name);
    for (const unsigned char *p = (const unsigned char *)value; *p && used + 4 < n; p++)
        used += (size_t)(strchr("+&#= %?", *p) || *p >= 0x7f
                             ? snprintf(out + used, n - used, "%%%02X", *p)
                             : snprintf(out + used, n - used, "%c", *p));
}

static void count(server *s, const char *url, bool not_modified)
{
    char top[64];
    size_t n = strcspn(url + 1, "/") + 1;
    snprintf(top, sizeof top, "%.*s", (int)(n < sizeof top ? n : sizeof top - 1), url);
    pthread_mutex_lock(&s->lock);
    json_t *e = json_object_get(s->stats, top);
    if (e == NULL) {
        e = json_pack("{s:i,s:i}", "requests", 0, "notModified", 0);
        json_object_set_new(s->stats, top, e);
    }
    const char *k = not_modified ? "notModified" : "requests";
    json_object_set_new(e, k, json_integer(json_integer_value(json_object_get(e, k)) + 1));
    pthread_mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------- faults */

/* The fault to apply to url now, consuming one of its count. */
static bool take_fault(server *s, const char *url, fault *out)
{
    bool hit = false;
    pthread_mutex_lock(&s->lock);
    fault *f = &s->fault;
    bool match = strcmp(f->mode, "none") != 0 && f->mode[0] &&
                 strncmp(url, f->path, strlen(f->path)) == 0 && f->count != 0;
    if (match && f->after > 0) {
        f->after--;
        match = false;
    }
    if (match) {
        *out = *f;
        if (f->count > 0 && --f->count == 0)
            snprintf(f->mode, sizeof f->mode, "none");
        hit = true;
    }
    pthread_mutex_unlock(&s->lock);
    return hit;
}

static enum MHD_Result set_fault(server *s, struct MHD_Connection *c, const req *r)
{
    json_t *doc = json_loadb(r->body ? r->body : "", r->len, 0, NULL);
    const char *mode = json_string_value(json_object_get(doc, "mode"));
    const char *path = json_string_value(json_object_get(doc, "path"));
    json_t *cnt = json_object_get(doc, "count");
    pthread_mutex_lock(&s->lock);
    snprintf(s->fault.mode, sizeof s->fault.mode, "%s", mode ? mode : "none");
    snprintf(s->fault.path, sizeof s->fault.path, "%s", path ? path : "/");
    s->fault.count = cnt ? (long)json_integer_value(cnt) : -1;
    s->fault.delay = json_number_value(json_object_get(doc, "delay"));
    s->fault.after = (long)json_integer_value(json_object_get(doc, "after"));
    pthread_mutex_unlock(&s->lock);
    json_decref(doc);
    return send_text(c, 204, NULL, "", 0);
}

static enum MHD_Result apply_fault(struct MHD_Connection *c, const fault *f, bool *handled)
{
    *handled = true;
    if (strcmp(f->mode, "500") == 0)
        return send_text(c, 500, "text/plain", "upstream error\n", 15);
    if (strcmp(f->mode, "malformed") == 0)
        return send_text(c, 200, "application/json", "{\"resourceType\":\"Bundle\",\"entry\":[{",
                         35);
    if (strcmp(f->mode, "slow") == 0) {
        struct timespec ts = {(time_t)f->delay, (long)((f->delay - (time_t)f->delay) * 1e9)};
        nanosleep(&ts, NULL);
    }
    *handled = false;
    return MHD_YES;
}

/* --------------------------------------------------------------- FHIR */

static bool has_category(const json_t *obs, const char *wanted)
{
    char *list = strdup(wanted);
    bool found = false;
    const json_t *cats = json_object_get(obs, "category");
    for (char *save, *tok = strtok_r(list, ",", &save); tok && !found;
         tok = strtok_r(NULL, ",", &save))
        for (size_t i = 0; i < json_array_size(cats) && !found; i++) {
            const json_t *coding = json_object_get(json_array_get(cats, i), "coding");
            for (size_t j = 0; j < json_array_size(coding) && !found; j++) {
                const char *code =
                    json_string_value(json_object_get(json_array_get(coding, j), "code"));
                found = code != NULL && strcmp(code, tok) == 0;
            }
        }
    free(list);
    return found;
}

static double last_updated(const json_t *r)
{
    double t = 0;
    const char *u = json_string_value(json_object_get(json_object_get(r, "meta"), "lastUpdated"));
    if (u != NULL)
        util_parse_instant(u, &t);
    return t;
}

/* _lastUpdated=gt2024-...: whether r passes. */
static bool updated_matches(const json_t *r, const char *cond)
{
    double t, x = last_updated(r);
    if (cond == NULL)
        return true;
    if (strlen(cond) < 3 || util_parse_instant(cond + 2, &t) < 0)
        return false;
    if (strncmp(cond, "gt", 2) == 0)
        return x > t;
    if (strncmp(cond, "ge", 2) == 0)
        return x >= t;
    if (strncmp(cond, "lt", 2) == 0)
        return x < t;
    if (strncmp(cond, "le", 2) == 0)
        return x <= t;
    return false;
}

typedef struct hit {
    double t;
    json_t *r;
} hit;

static int by_updated(const void *a, const void *b)
{
    double x = ((const hit *)a)->t, y = ((const hit *)b)->t;
    return x < y ? -1 : x > y;
}

/* The resource of that type and id in f, or NULL. Borrowed (under lock). */
static json_t *find_resource(data_file *f, const char *type, const char *id)
{
    char key[300];
    snprintf(key, sizeof key, "%s/%s", type, id);
    return json_object_get(f->index, key);
}

/* The matching Observations, sorted by lastUpdated. New array of borrowed
 * items (valid under lock). */
static hit *search(json_t *coll, struct MHD_Connection *c, size_t *n)
{
    json_t *entries = json_object_get(coll, "entry");
    hit *out = calloc(json_array_size(entries) + 1, sizeof *out);
    const char *cat = arg(c, "category"), *upd = arg(c, "_lastUpdated");
    *n = 0;
    for (size_t i = 0; i < json_array_size(entries); i++) {
        json_t *r = json_object_get(json_array_get(entries, i), "resource");
        const char *rt = json_string_value(json_object_get(r, "resourceType"));
        if (rt == NULL || strcmp(rt, "Observation") != 0)
            continue;
        if ((cat == NULL || has_category(r, cat)) && updated_matches(r, upd))
            out[(*n)++] = (hit){last_updated(r), r};
    }
    qsort(out, *n, sizeof *out, by_updated);
    return out;
}

static void page_url(server *s, struct MHD_Connection *c, long offset, char *out, size_t n)
{
    static const char *const keep[] = {"category", "_lastUpdated", "_sort", "_count", "_include"};
    char off[24];
    snprintf(out, n, "http://127.0.0.1:%d/fhir/Observation", s->port);
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++)
        add_param(out, n, keep[i], arg(c, keep[i]));
    snprintf(off, sizeof off, "%ld", offset);
    add_param(out, n, "_offset", off);
}

static void add_subject(data_file *coll, json_t *bundle_entries, json_t *seen, const json_t *obs)
{
    const char *ref =
        json_string_value(json_object_get(json_object_get(obs, "subject"), "reference"));
    if (ref == NULL || strncmp(ref, "Patient/", 8) != 0 || json_object_get(seen, ref))
        return;
    json_t *p = find_resource(coll, "Patient", ref + 8);
    if (p == NULL)
        return;
    json_object_set_new(seen, ref, json_true());
    char full[300];
    snprintf(full, sizeof full, "urn:test:%s", ref);
    json_array_append_new(bundle_entries, json_pack("{s:s,s:O,s:{s:s}}", "fullUrl", full,
                                                    "resource", p, "search", "mode", "include"));
}

static enum MHD_Result fhir_search(server *s, struct MHD_Connection *c)
{
    char self[2048], next[2048];
    size_t n;
    long count = arg_long(c, "_count", 50), offset = arg_long(c, "_offset", 0);
    if (count < 1 || count > FHIR_COUNT_MAX)
        count = 50;
    pthread_mutex_lock(&s->lock);
    hit *all = search(data(&s->fhir), c, &n);
    json_t *entries = json_array(), *seen = json_object();
    for (long i = offset; i < (long)n && i < offset + count; i++) {
        char full[300];
        snprintf(full, sizeof full, "http://127.0.0.1:%d/fhir/Observation/%s", s->port,
                 json_string_value(json_object_get(all[i].r, "id")));
        json_array_append_new(entries, json_pack("{s:s,s:O,s:{s:s}}", "fullUrl", full, "resource",
                                                 all[i].r, "search", "mode", "match"));
        if (arg(c, "_include") != NULL)
            add_subject(&s->fhir, entries, seen, all[i].r);
    }
    page_url(s, c, offset, self, sizeof self);
    json_t *links = json_pack("[{s:s,s:s}]", "relation", "self", "url", self);
    if (offset + count < (long)n) {
        page_url(s, c, offset + count, next, sizeof next);
        json_array_append_new(links, json_pack("{s:s,s:s}", "relation", "next", "url", next));
    }
    json_t *bundle =
        json_pack("{s:s,s:s,s:s,s:{s:s},s:I,s:o,s:o}", "resourceType", "Bundle", "id",
                  "search-result", "type", "searchset", "meta", "lastUpdated",
                  "2024-06-01T00:00:00Z", "total", (json_int_t)n, "link", links, "entry", entries);
    pthread_mutex_unlock(&s->lock);
    free(all);
    json_decref(seen);
    return send_json(c, 200, bundle, "application/fhir+json");
}

static enum MHD_Result fhir_read(server *s, struct MHD_Connection *c, const char *type,
                                 const char *id)
{
    pthread_mutex_lock(&s->lock);
    data(&s->fhir);
    json_t *r = find_resource(&s->fhir, type, id);
    json_t *copy = r ? json_deep_copy(r) : NULL;
    pthread_mutex_unlock(&s->lock);
    if (copy == NULL)
        return send_json(c, 404,
                         json_pack("{s:s,s:[{s:s,s:s}]}", "resourceType", "OperationOutcome",
                                   "issue", "severity", "error", "code", "not-found"),
                         "application/fhir+json");
    return send_json(c, 200, copy, "application/fhir+json");
}

static enum MHD_Result fhir(server *s, struct MHD_Connection *c, const char *url)
{
    char type[64], id[128];
    if (strcmp(url, "/fhir/Observation") == 0)
        return fhir_search(s, c);
    if (sscanf(url, "/fhir/%63[A-Za-z]/%127[A-Za-z0-9.-]", type, id) == 2)
        return fhir_read(s, c, type, id);
    return send_text(c, 404, "text/plain", "not found\n", 10);
}

/* --------------------------------------------------------------- files */

/* A JSON file asked for with updated_since: keep, in each top-level list,
 * the items whose "updated" is later, as an API with that parameter does.
 * Takes buf; returns the new text. */
static char *filter_updated(char *buf, size_t *n, const char *since)
{
    double t, u;
    json_t *doc = json_loadb(buf, *n, 0, NULL);
    if (doc == NULL || util_parse_instant(since, &t) < 0) {
        json_decref(doc);
        return buf;
    }
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        for (size_t i = json_array_size(v); i-- > 0;) {
            const char *up = json_string_value(json_object_get(json_array_get(v, i), "updated"));
            if (up == NULL || util_parse_instant(up, &u) < 0 || u <= t)
                json_array_remove(v, i);
        }
    }
    free(buf);
    buf = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    *n = strlen(buf);
    return buf;
}

static enum MHD_Result file(server *s, struct MHD_Connection *c, const char *url)
{
    const char *name = url + strlen("/files/");
    char path[1024], etag[40], lm[64];
    struct stat st;
    if (s->files == NULL || strstr(name, "..") != NULL || strchr(name, '/') != NULL)
        return send_text(c, 404, "text/plain", "not found\n", 10);
    snprintf(path, sizeof path, "%s/%s", s->files, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL || fstat(fileno(f), &st) != 0) {
        if (f)
            fclose(f);
        return send_text(c, 404, "text/plain", "not found\n", 10);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    const char *since = arg(c, "updated_since");
    if (since != NULL)
        buf = filter_updated(buf, &n, since);
    char digest[17];
    util_digest(buf, n, digest);
    snprintf(etag, sizeof etag, "\"%s\"", digest);
    struct tm tm;
    gmtime_r(&st.st_mtim.tv_sec, &tm);
    strftime(lm, sizeof lm, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    bool fresh = inm != NULL && strcmp(inm, etag) == 0;
    struct MHD_Response *r;
    unsigned status = fresh ? 304 : 200;
    count(s, url, fresh);
    r = MHD_create_response_from_buffer(fresh ? 0 : n, buf, MHD_RESPMEM_MUST_COPY);
    free(buf);
    MHD_add_response_header(r, "ETag", etag);
    MHD_add_response_header(r, "Last-Modified", lm);
    const char *dot = strrchr(name, '.');
    MHD_add_response_header(r, "Content-Type",
                            dot && strcmp(dot, ".csv") == 0 ? "text/csv" : "application/json");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* ------------------------------------------------------------ redirect */

static enum MHD_Result redirect(server *s, struct MHD_Connection *c, const char *url)
{
    char link[128];
    struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    snprintf(link, sizeof link, "<http://127.0.0.1:%d/files/no-such-page.json>; rel=\"next\"",
             s->port);
    MHD_add_response_header(r, "Location", url + strlen("/redirect"));
    MHD_add_response_header(r, "ETag", "\"redirect\"");
    MHD_add_response_header(r, "Last-Modified", "Mon, 01 Jan 2001 00:00:00 GMT");
    MHD_add_response_header(r, "Content-Type", "text/html");
    MHD_add_response_header(r, "Link", link);
    enum MHD_Result rc = MHD_queue_response(c, 302, r);
    MHD_destroy_response(r);
    return rc;
}

/* ------------------------------------------------------------ currency */

/* Items of list whose field (a timestamp or date) is >= since. */
static bool since_ok(const json_t *item, const char *field, const char *since)
{
    double a, b;
    const char *v = json_string_value(json_object_get(item, field));
    if (since == NULL)
        return true;
    if (v == NULL || util_parse_instant(v, &a) < 0 || util_parse_instant(since, &b) < 0)
        return false;
    return a > b;
}

static bool date_in(const json_t *item, struct MHD_Connection *c)
{
    const char *d = json_string_value(json_object_get(item, "date"));
    const char *from = arg(c, "from"), *to = arg(c, "to");
    if (d == NULL)
        return true; /* malformed items are served as they are */
    return (from == NULL || strcmp(d, from) >= 0) && (to == NULL || strcmp(d, to) <= 0);
}

static enum MHD_Result currency_list(server *s, struct MHD_Connection *c, const char *path,
                                     const char *key, const char *out_key, const char *since_field,
                                     const char *since_arg)
{
    long page = arg_long(c, "page", 1), per = arg_long(c, "per_page", CURRENCY_PER_PAGE_DEFAULT);
    char next[1024];
    if (page < 1)
        page = 1;
    if (per < 1 || per > 1000)
        per = CURRENCY_PER_PAGE_DEFAULT;
    pthread_mutex_lock(&s->lock);
    json_t *all = json_object_get(data(&s->currency), key), *items = json_array();
    long matched = 0;
    for (size_t i = 0; i < json_array_size(all); i++) {
        json_t *it = json_array_get(all, i);
        bool ok = since_field ? since_ok(it, since_field, arg(c, since_arg)) : date_in(it, c);
        if (!ok)
            continue;
        if (matched >= (page - 1) * per && matched < page * per)
            json_array_append(items, it);
        matched++;
    }
    pthread_mutex_unlock(&s->lock);
    json_t *doc = json_pack("{s:o}", out_key, items);
    if (matched > page * per) {
        char num[24];
        snprintf(next, sizeof next, "http://127.0.0.1:%d%s", s->port, path);
        snprintf(num, sizeof num, "%ld", page + 1);
        add_param(next, sizeof next, "page", num);
        snprintf(num, sizeof num, "%ld", per);
        add_param(next, sizeof next, "per_page", num);
        if (since_arg != NULL)
            add_param(next, sizeof next, since_arg, arg(c, since_arg));
        add_param(next, sizeof next, "from", arg(c, "from"));
        add_param(next, sizeof next, "to", arg(c, "to"));
        json_object_set_new(doc, "next", json_string(next));
    } else {
        json_object_set_new(doc, "next", json_null());
    }
    return send_json(c, 200, doc, NULL);
}

static enum MHD_Result currency(server *s, struct MHD_Connection *c, const char *url)
{
    if (strcmp(url, "/currency/v1/shops") == 0)
        return currency_list(s, c, url, "shops", "shops", "updated_at", "updated_since");
    if (strcmp(url, "/currency/v1/payments/daily") == 0)
        return currency_list(s, c, url, "payments", "items", NULL, NULL);
    if (strcmp(url, "/currency/v1/accounts") == 0)
        return currency_list(s, c, url, "accounts", "accounts", "updated_at", "updated_since");
    if (strcmp(url, "/currency/v1/grants") == 0)
        return currency_list(s, c, url, "grants", "grants", "granted_at", "since");
    return send_text(c, 404, "text/plain", "not found\n", 10);
}

/* ------------------------------------------------- a recording broker */

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Stands in for a broker: records each request (method, path, the NGSI
 * headers, the body) and answers op/update with 204 and everything else
 * (id-link lookups included) with 404. */
static enum MHD_Result broker(server *s, struct MHD_Connection *c, const char *url,
                              const char *method, const req *r)
{
    json_t *body = r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
    json_t *rec = json_pack(
        "{s:s,s:s,s:o,s:o,s:o,s:o}", "method", method, "path", url + 7, "service",
        header(c, "Fiware-Service") ? json_string(header(c, "Fiware-Service")) : json_null(),
        "servicePath",
        header(c, "Fiware-ServicePath") ? json_string(header(c, "Fiware-ServicePath"))
                                        : json_null(),
        "authorization",
        header(c, "Authorization") ? json_string(header(c, "Authorization")) : json_null(), "body",
        body ? body : json_null());
    pthread_mutex_lock(&s->lock);
    json_array_append_new(s->recorded, rec);
    pthread_mutex_unlock(&s->lock);
    if (strcmp(method, "POST") == 0 && strcmp(url, "/broker/v2/op/update") == 0)
        return send_text(c, 204, NULL, "", 0);
    return send_json(c, 404,
                     json_pack("{s:s,s:s}", "error", "NotFound", "description", "recording broker"),
                     NULL);
}

/* ------------------------------------------------------------- routing */

static enum MHD_Result route(server *s, struct MHD_Connection *c, const char *url,
                             const char *method, const req *r)
{
    fault f;
    bool handled;
    if (strcmp(url, "/_admin/fault") == 0 && strcmp(method, "POST") == 0)
        return set_fault(s, c, r);
    if (strcmp(url, "/_admin/requests") == 0) {
        pthread_mutex_lock(&s->lock);
        json_t *copy = json_deep_copy(s->recorded);
        pthread_mutex_unlock(&s->lock);
        return send_json(c, 200, copy, NULL);
    }
    if (strncmp(url, "/broker/", 8) == 0)
        return broker(s, c, url, method, r);
    if (strcmp(url, "/_admin/stats") == 0) {
        pthread_mutex_lock(&s->lock);
        json_t *copy = json_deep_copy(s->stats);
        pthread_mutex_unlock(&s->lock);
        return send_json(c, 200, copy, NULL);
    }
    if (take_fault(s, url, &f)) {
        enum MHD_Result rc = apply_fault(c, &f, &handled);
        if (handled) {
            count(s, url, false);
            return rc;
        }
    }
    if (strncmp(url, "/files/", 7) == 0)
        return file(s, c, url);
    if (strncmp(url, "/redirect/", 10) == 0)
        return redirect(s, c, url);
    count(s, url, false);
    if (strncmp(url, "/fhir/", 6) == 0)
        return fhir(s, c, url);
    if (strncmp(url, "/currency/", 10) == 0)
        return currency(s, c, url);
    return send_text(c, 404, "text/plain", "not found\n", 10);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    req *r = *con_cls;
    if (r == NULL) {
        *con_cls = calloc(1, sizeof *r);
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (r->len + *upload_size <= BODY_MAX) {
            r->body = realloc(r->body, r->len + *upload_size + 1);
            memcpy(r->body + r->len, upload, *upload_size);
            r->len += *upload_size;
            r->body[r->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    return route(cls, c, url, method, r);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode why)
{
    req *r = *con_cls;
    if (r != NULL) {
        free(r->body);
        free(r);
    }
    *con_cls = NULL;
}

/* ---------------------------------------------------------- generators */

/* A FHIR collection: patients P0..P(np-1) (P0 unlinked in tests), and n
 * Observations cycling over weight, heart rate, temperature, blood
 * pressure and steps. */
static int gen_fhir(long n, long np)
{
    printf("{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[\n");
    for (long p = 0; p < np; p++)
        printf("{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p%ld\",\"meta\":{"
               "\"lastUpdated\":\"2024-01-01T00:00:00Z\"},\"identifier\":[{\"system\":"
               "\"urn:oid:1.2.392.100495.20.3.51.1\",\"value\":\"MRN%06ld\"}],\"name\":[{"
               "\"family\":\"Yamada\",\"given\":[\"Taro%ld\"]}],\"gender\":\"male\","
               "\"birthDate\":\"1950-04-01\"}},\n",
               p, p, p);
    for (long i = 0; i < n; i++) {
        long sec = i % 60, min = (i / 60) % 60, hour = (i / 3600) % 24, day = 1 + i / 86400;
        char when[40];
        snprintf(when, sizeof when, "2024-05-%02ldT%02ld:%02ld:%02ld+09:00", day, hour, min, sec);
        const char *head = "{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o%ld\","
                           "\"meta\":{\"lastUpdated\":\"%s\"},\"status\":\"final\",\"category\":[{"
                           "\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"
                           "observation-category\",\"code\":\"%s\"}]}],\"subject\":{\"reference\":"
                           "\"Patient/p%ld\"},\"effectiveDateTime\":\"%s\",";
        long kind = i % 5, pat = 1 + i % (np > 1 ? np - 1 : 1);
        printf(head, i, when, kind == 4 ? "activity" : "vital-signs", np > 1 ? pat : 0, when);
        if (kind == 0)
            printf("\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"29463-7\"}]},"
                   "\"valueQuantity\":{\"value\":%.1f,\"unit\":\"kg\",\"system\":"
                   "\"http://unitsofmeasure.org\",\"code\":\"kg\"}",
                   55 + (double)(i % 300) / 10);
        else if (kind == 1)
            printf("\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8867-4\"}]},"
                   "\"valueQuantity\":{\"value\":%ld,\"unit\":\"beats/minute\",\"system\":"
                   "\"http://unitsofmeasure.org\",\"code\":\"/min\"}",
                   60 + i % 40);
        else if (kind == 2)
            printf("\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8310-5\"}]},"
                   "\"valueQuantity\":{\"value\":%.1f,\"unit\":\"C\",\"system\":"
                   "\"http://unitsofmeasure.org\",\"code\":\"Cel\"}",
                   36 + (double)(i % 15) / 10);
        else if (kind == 3)
            printf("\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"85354-9\"}]},"
                   "\"component\":[{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
                   "\"code\":\"8480-6\"}]},\"valueQuantity\":{\"value\":%ld,\"unit\":\"mmHg\","
                   "\"system\":\"http://unitsofmeasure.org\",\"code\":\"mm[Hg]\"}},{\"code\":{"
                   "\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8462-4\"}]},"
                   "\"valueQuantity\":{\"value\":%ld,\"unit\":\"mmHg\",\"system\":"
                   "\"http://unitsofmeasure.org\",\"code\":\"mm[Hg]\"}}]",
                   110 + i % 40, 70 + i % 20);
        else
            printf("\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"41950-7\"}]},"
                   "\"valueQuantity\":{\"value\":%ld,\"unit\":\"steps/day\",\"system\":"
                   "\"http://unitsofmeasure.org\",\"code\":\"/d\"}",
                   2000 + (i * 37) % 9000);
        printf("}}%s\n", i + 1 < n ? "," : "");
    }
    printf("]}\n");
    return 0;
}

/* A 観光施設一覧 CSV of n facilities (UTF-8, CRLF, as published). */
static int gen_csv(long n)
{
    printf("全国地方公共団体コード,ID,地方公共団体名,名称,名称_カナ,名称_英語,POIコード,住所,"
           "方書,緯度,経度,利用可能曜日,開始時間,終了時間,利用可能日時特記事項,料金（基本）,"
           "説明,説明_英語,アクセス方法,駐車場情報,バリアフリー情報,連絡先名称,連絡先電話番号,"
           "画像,画像_ライセンス,URL,備考\r\n");
    for (long i = 0; i < n; i++)
        printf("203211,S%06ld,長野県つなぎ町,つなぎ名所%ld,ツナギメイショ%ld,Tsunagi Spot %ld,"
               "%s,長野県つなぎ町大字上川%ld,,%.6f,%.6f,月;火;水;木;金;土;日,09:00,17:00,"
               "年末年始は休み,500円,\"町の見どころ%ld。四季折々の景色が楽しめます。\","
               "Sightseeing spot %ld,つなぎ駅から徒歩%ld分,駐車場あり,車椅子可,"
               "つなぎ町観光協会,0260-00-%04ld,https://town.tsunagi.example/img/%ld.jpg,CC BY 4.0,"
               "https://town.tsunagi.example/spot/%ld,\r\n",
               i, i, i, i,
               i % 3 == 0   ? "公園"
               : i % 3 == 1 ? "寺社"
                            : "温泉",
               i, 36.0 + (double)(i % 1000) / 10000, 138.0 + (double)(i / 1000) / 1000, i, i,
               1 + i % 30, i % 10000, i, i);
    return 0;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    server s = {.port = 0, .fault = {.mode = "none"}};
    unsigned port = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--gen-fhir") == 0 && i + 2 < argc)
            return gen_fhir(atol(argv[i + 1]), atol(argv[i + 2]));
        if (strcmp(argv[i], "--gen-csv") == 0 && i + 1 < argc)
            return gen_csv(atol(argv[i + 1]));
        if (i + 1 >= argc) {
            fprintf(stderr, "usage: see the comment at the top of upstream.c\n");
            return 2;
        }
        if (strcmp(argv[i], "--port") == 0)
            port = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--fhir") == 0)
            s.fhir.path = argv[++i];
        else if (strcmp(argv[i], "--files") == 0)
            s.files = argv[++i];
        else if (strcmp(argv[i], "--currency") == 0)
            s.currency.path = argv[++i];
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_mutex_init(&s.lock, NULL);
    s.stats = json_object();
    s.recorded = json_array();
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, on_request, &s, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
        MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "upstream: cannot listen on port %u: %s\n", port, strerror(errno));
        return 1;
    }
    s.port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    printf("port %d\n", s.port);
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    json_decref(s.fhir.doc);
    json_decref(s.fhir.index);
    json_decref(s.currency.index);
    json_decref(s.currency.doc);
    json_decref(s.stats);
    json_decref(s.recorded);
    pthread_mutex_destroy(&s.lock);
    return 0;
}
