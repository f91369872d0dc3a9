/*
 * adapters/fhir/fhir.c: the health adapter. HL7 FHIR R4 vital signs into
 * personal VitalSignObserved entities.
 *
 * Each run searches the FHIR server for Observations changed since the last
 * run:
 *   GET <baseUrl>/Observation?category=vital-signs,activity
 *       &_lastUpdated=ge<since>&_sort=_lastUpdated&_count=<pageSize>
 *       &_include=Observation:subject
 * and follows the Bundle's link "next" through every page. Patients come in
 * the same pages (_include); one that does not is read with
 * GET <baseUrl>/Patient/<id>. "since" is the largest meta.lastUpdated seen
 * in the last successful run (kept in the state store), so a run reads only
 * what changed, and a failed run is read again in full next time. The
 * search is ge, not gt: an Observation stored after the last search with
 * the same lastUpdated as "since" would never be read with gt. The ids
 * the last run read at "since" are kept too ("sinceIds") and passed over,
 * so that an unchanged Observation is not written (nor skipped) again.
 *
 * Personal data rules:
 * - An Observation is written only for a Patient whose identifier (the
 *   one of identifierSystem) has an id link to a common resident ID in the
 *   linkSystem namespace; the entity's owner is that ID. A Patient with no
 *   link is skipped and counted; its data is never stored unowned.
 * - Only the identifier is read from a Patient, and only to look up the
 *   link: no name, birth date, gender, address or other demographics is
 *   ever copied.
 *
 * Mapping (LOINC codes of the FHIR vital signs profile; units converted to
 * the UCUM unit the VitalSignObserved schema fixes): heart rate, respiratory
 * rate, body temperature, SpO2, body weight, height, BMI, and the blood
 * pressure panel with its systolic and diastolic components. Step counts
 * (LOINC 41950-7, 55423-8; FHIR category "activity") are not vital signs and
 * the VitalSignObserved schema does not take them, so they become
 * PhysicalActivityObserved entities of the same shape.
 */
#include "adapter.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOINC             "http://loinc.org"
#define DEFAULT_PAGE_SIZE 100
#define PAGE_SIZE_MAX     1000 /* FHIR servers cap _count near this */
#define DEFAULT_INTERVAL  900.0
#define STATE_SINCE       "since"
#define STATE_SINCE_IDS   "sinceIds"

/* How one upstream unit converts to the canonical one: v * factor + offset. */
typedef struct unit_alias {
    const char *code;
    double factor, offset;
} unit_alias;

typedef struct vital {
    const char *loinc;
    const char *type; /* entity type */
    const char *category;
    const char *unit; /* canonical UCUM unit */
    bool panel;       /* blood pressure: values in components */
    unit_alias aliases[4];
} vital;

static const vital VITALS[] = {
    {"8867-4",
     "VitalSignObserved",
     "vital-signs",
     "/min",
     false,
     {{"{beats}/min", 1, 0}, {"bpm", 1, 0}}},
    {"9279-1", "VitalSignObserved", "vital-signs", "/min", false, {{"{breaths}/min", 1, 0}}},
    {"8310-5", "VitalSignObserved", "vital-signs", "Cel", false, {{"[degF]", 5.0 / 9, -160.0 / 9}}},
    {"59408-5", "VitalSignObserved", "vital-signs", "%", false, {{NULL, 0, 0}}},
    {"29463-7",
     "VitalSignObserved",
     "vital-signs",
     "kg",
     false,
     {{"[lb_av]", 0.45359237, 0}, {"g", 0.001, 0}}},
    {"8302-2",
     "VitalSignObserved",
     "vital-signs",
     "cm",
     false,
     {{"[in_i]", 2.54, 0}, {"m", 100, 0}}},
    {"39156-5", "VitalSignObserved", "vital-signs", "kg/m2", false, {{NULL, 0, 0}}},
    {"85354-9", "VitalSignObserved", "vital-signs", "mm[Hg]", true, {{NULL, 0, 0}}},
    {"41950-7",
     "PhysicalActivityObserved",
     "activity",
     "/d",
     false,
     {{"{steps}/d", 1, 0}, {"{steps}", 1, 0}}},
    {"55423-8", "PhysicalActivityObserved", "activity", "{steps}", false, {{"/d", 1, 0}}},
};
/* Blood pressure components. */
static const char *const BP_PARTS[] = {"8480-6", "8462-4"};

typedef struct fhir {
    const adapter_host *h;
    const char *base;        /* option baseUrl */
    const char *link_system; /* option linkSystem (default: the adapter's name) */
    const char *id_system;   /* option identifierSystem, or NULL: the first identifier */
    const char *category;    /* option category */
    long page_size;
    adapter_header *headers; /* option headers */
    size_t nheaders;
    /* per run */
    json_t *patients; /* "Patient/<id>" and fullUrl -> identifier value, or null */
    double since_t;
    json_t *read_before; /* ids of the Observations the last run read at since (a set) */
    char max_updated[UTIL_INSTANT_MAX];
    double max_updated_t;
    json_t *at_max; /* ids of the Observations read at max_updated (a set) */
} fhir;

/* The mapping of a LOINC code, or NULL. Static. */
static const vital *vital_of(const char *loinc)
{
    for (size_t i = 0; i < sizeof VITALS / sizeof *VITALS; i++)
        if (strcmp(VITALS[i].loinc, loinc) == 0)
            return &VITALS[i];
    return NULL;
}

/* The LOINC code of a CodeableConcept, or NULL. Borrowed. */
static const char *loinc_code(const json_t *concept)
{
    const json_t *coding = json_object_get(concept, "coding");
    for (size_t i = 0; i < json_array_size(coding); i++) {
        const json_t *c = json_array_get(coding, i);
        const char *sys = json_string_value(json_object_get(c, "system"));
        if (sys != NULL && strcmp(sys, LOINC) == 0 && json_is_string(json_object_get(c, "code")))
            return json_string_value(json_object_get(c, "code"));
    }
    return NULL;
}

/* A Quantity in the vital's canonical unit; -1 if it has none or an
 * unknown unit. */
static int quantity(const vital *v, const json_t *q, double *out)
{
    const json_t *value = json_object_get(q, "value");
    const char *code = json_string_value(json_object_get(q, "code"));
    if (code == NULL)
        code = json_string_value(json_object_get(q, "unit"));
    if (!json_is_number(value) || code == NULL)
        return -1;
    double x = json_number_value(value);
    if (strcmp(code, v->unit) == 0) {
        *out = x;
        return 0;
    }
    for (size_t i = 0; i < sizeof v->aliases / sizeof *v->aliases; i++)
        if (v->aliases[i].code != NULL && strcmp(code, v->aliases[i].code) == 0) {
            /* two decimals beyond the unit: conversions should not invent precision */
            *out = round((x * v->aliases[i].factor + v->aliases[i].offset) * 100) / 100;
            return 0;
        }
    return -1;
}

/* The time of an Observation: effective[x], else issued. Borrowed. */
static const char *observed_at(const json_t *obs)
{
    const char *t = json_string_value(json_object_get(obs, "effectiveDateTime"));
    if (t == NULL)
        t = json_string_value(json_object_get(obs, "effectiveInstant"));
    if (t == NULL)
        t = json_string_value(json_object_get(json_object_get(obs, "effectivePeriod"), "start"));
    if (t == NULL)
        t = json_string_value(json_object_get(obs, "issued"));
    return t;
}

/* ------------------------------------------------------------ patients */

static bool is_a(const json_t *resource, const char *type)
{
    const char *rt = json_string_value(json_object_get(resource, "resourceType"));
    return rt != NULL && strcmp(rt, type) == 0;
}

/* The identifier of a Patient used for the id link, or NULL. Borrowed. */
static const char *patient_identifier(const fhir *f, const json_t *patient)
{
    const json_t *ids = json_object_get(patient, "identifier");
    for (size_t i = 0; i < json_array_size(ids); i++) {
        const json_t *id = json_array_get(ids, i);
        const char *sys = json_string_value(json_object_get(id, "system"));
        const char *value = json_string_value(json_object_get(id, "value"));
        if (value != NULL && (f->id_system == NULL || (sys && strcmp(sys, f->id_system) == 0)))
            return value;
    }
    return NULL;
}

/* Remember a Patient under its reference forms. Nothing else of it is kept. */
static void remember_patient(fhir *f, const json_t *patient, const char *full_url)
{
    const char *id = json_string_value(json_object_get(patient, "id"));
    const char *ident = patient_identifier(f, patient);
    json_t *v = ident ? json_string(ident) : json_null();
    if (id != NULL) {
        char ref[300];
        snprintf(ref, sizeof ref, "Patient/%s", id);
        json_object_set(f->patients, ref, v);
    }
    if (full_url != NULL)
        json_object_set(f->patients, full_url, v);
    json_decref(v);
}

/* "Patient/123" from a reference that may be absolute. */
static int patient_ref(const char *reference, char *out, size_t n)
{
    const char *p = strstr(reference, "Patient/");
    const char *last = p;
    while (p != NULL && (p = strstr(p + 1, "Patient/")) != NULL)
        last = p;
    if (last == NULL) {
        if (strncmp(reference, "urn:uuid:", 9) != 0)
            return -1;
        last = reference; /* a Bundle-local reference: matched on fullUrl */
    }
    snprintf(out, n, "%s", last);
    return 0;
}

/* The identifier of the Patient ref points to: 1, 0 (none), -1 (failed). */
static int lookup_patient(adapter_ctx *ctx, fhir *f, const char *ref, const char **ident)
{
    json_t *known = json_object_get(f->patients, ref);
    if (known == NULL && strncmp(ref, "Patient/", 8) == 0) {
        char url[ADAPTER_URL_MAX];
        adapter_response r;
        snprintf(url, sizeof url, "%s/%s", f->base, ref);
        adapter_request req = {.url = url, .headers = f->headers, .nheaders = f->nheaders};
        if (f->h->http(ctx, &req, &r) < 0 ||
            (r.status != 200 && r.status != 404 && r.status != 410)) {
            f->h->fail(ctx, "reading %s: %s", ref, r.error[0] ? r.error : "failed");
            f->h->response_free(&r);
            return -1;
        }
        json_t *p = r.status == 200 ? json_loadb(r.body, r.len, 0, NULL) : NULL;
        if (is_a(p, "Patient"))
            remember_patient(f, p, NULL);
        else
            json_object_set_new(f->patients, ref, json_null());
        json_decref(p);
        f->h->response_free(&r);
        known = json_object_get(f->patients, ref);
    }
    *ident = json_string_value(known);
    return *ident != NULL ? 1 : 0;
}

/* ------------------------------------------------------------ mapping */

/* The systolic and diastolic components in mm[Hg] (new reference), or
 * NULL when either is missing. */
static json_t *components(const json_t *obs)
{
    const json_t *comps = json_object_get(obs, "component");
    const vital bp = {"", "", "", "mm[Hg]", false, {{NULL, 0, 0}}};
    json_t *out = json_array();
    for (size_t k = 0; k < sizeof BP_PARTS / sizeof *BP_PARTS; k++) {
        for (size_t i = 0; i < json_array_size(comps); i++) {
            const json_t *c = json_array_get(comps, i);
            const char *code = loinc_code(json_object_get(c, "code"));
            double v;
            if (code == NULL || strcmp(code, BP_PARTS[k]) != 0 ||
                quantity(&bp, json_object_get(c, "valueQuantity"), &v) < 0)
                continue;
            json_array_append_new(
                out, json_pack("{s:s,s:f,s:s}", "code", code, "value", v, "unit", "mm[Hg]"));
            break;
        }
    }
    if (json_array_size(out) != 2) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* The entity for obs, or NULL with *why set. New reference. */
static json_t *map_observation(adapter_ctx *ctx, fhir *f, const json_t *obs, const vital *v,
                               const char *id, const char **why)
{
    const char *when = observed_at(obs);
    const char *status = json_string_value(json_object_get(obs, "status"));
    char eid[ADAPTER_ID_MAX + 1], source[ADAPTER_URL_MAX];
    double value = 0, t;
    json_t *comps = NULL;
    if (when == NULL || util_parse_instant(when, &t) < 0)
        return *why = "no valid effective time", NULL;
    if (v->panel && (comps = components(obs)) == NULL)
        return *why = "blood pressure without systolic and diastolic in mm[Hg]", NULL;
    if (!v->panel && quantity(v, json_object_get(obs, "valueQuantity"), &value) < 0)
        return *why = "no valueQuantity in a known unit", NULL;
    if (!util_format_id(eid, "urn:ngsi-ld:%s:%s:%s", v->type, f->h->name(ctx), id)) {
        json_decref(comps);
        return *why = UTIL_ID_TOO_LONG, NULL;
    }
    json_t *e = adapter_entity_new(eid, v->type);
    adapter_attr_set(e, "code", "Text", json_string(v->loinc));
    adapter_attr_set(e, "codeSystem", "Text", json_string(LOINC));
    if (v->panel)
        adapter_attr_set(e, "component", "StructuredValue", comps);
    else {
        adapter_attr_set(e, "value", "Number", json_real(value));
        adapter_attr_set(e, "unit", "Text", json_string(v->unit));
    }
    adapter_attr_set(e, "dateObserved", "DateTime", json_string(when));
    if (status != NULL)
        adapter_attr_set(e, "status", "Text", json_string(status));
    adapter_attr_set(e, "category", "Text", json_string(v->category));
    snprintf(source, sizeof source, "%s/Observation/%s", f->base, id);
    if (!util_has_forbidden(source))
        adapter_attr_set(e, "source", "Text", json_string(source));
    return e;
}

/* Track the largest meta.lastUpdated of the run and the Observations at
 * it. true when the last run read obs already: it is at since, which the
 * ge search reads again, among the ids read there. */
static bool note_updated(fhir *f, const json_t *obs, const char *id)
{
    const char *u = json_string_value(json_object_get(json_object_get(obs, "meta"), "lastUpdated"));
    double t;
    if (u == NULL || strlen(u) >= sizeof f->max_updated || util_parse_instant(u, &t) < 0)
        return false;
    if (t > f->max_updated_t) {
        f->max_updated_t = t;
        snprintf(f->max_updated, sizeof f->max_updated, "%s", u);
        json_object_clear(f->at_max);
    }
    if (t == f->max_updated_t && id != NULL)
        json_object_set_new(f->at_max, id, json_true());
    return t == f->since_t && id != NULL && json_object_get(f->read_before, id) != NULL;
}

/* One Observation: map, find the owner, put. 0, or -1 to fail the run. */
static int handle_observation(adapter_ctx *ctx, fhir *f, const json_t *obs)
{
    const adapter_host *h = f->h;
    const char *id = json_string_value(json_object_get(obs, "id"));
    const char *status = json_string_value(json_object_get(obs, "status"));
    const char *code = loinc_code(json_object_get(obs, "code"));
    const char *subject =
        json_string_value(json_object_get(json_object_get(obs, "subject"), "reference"));
    const vital *v = code ? vital_of(code) : NULL;
    const char *why = NULL, *ident = NULL;
    char ref[300], owner[ADAPTER_ID_MAX + 1];
    if (note_updated(f, obs, id))
        return 0;
    if (id == NULL || !util_id_safe(id))
        return h->skip(ctx, "Observation without a valid id"), 0;
    if (v == NULL)
        return h->skip(ctx, "Observation/%s: LOINC code %s is not mapped", id,
                       code ? code : "(none)"),
               0;
    if (status != NULL &&
        (strcmp(status, "entered-in-error") == 0 || strcmp(status, "cancelled") == 0))
        return h->skip(ctx, "Observation/%s: status %s", id, status), 0;
    if (subject == NULL || patient_ref(subject, ref, sizeof ref) < 0)
        return h->skip(ctx, "Observation/%s: subject is not a Patient", id), 0;
    int rc = lookup_patient(ctx, f, ref, &ident);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return h->skip(ctx, "Observation/%s: %s has no identifier to link", id, ref), 0;
    rc = h->link_lookup(ctx, f->link_system, ident, owner, sizeof owner);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        h->count(ctx, "unlinkedObservations", 1);
        return h->skip(ctx, "Observation/%s: %s is not linked to a resident", id, ref), 0;
    }
    json_t *e = map_observation(ctx, f, obs, v, id, &why);
    if (e == NULL)
        return h->skip(ctx, "Observation/%s: %s", id, why), 0;
    h->set_owner(ctx, e, owner);
    h->count(ctx, "observations", 1);
    return h->put_entity(ctx, e);
}

/* One page: a searchset Bundle. */
static int on_page(adapter_ctx *ctx, const adapter_response *page, char *next, size_t nextsz,
                   void *arg)
{
    fhir *f = arg;
    json_error_t je;
    json_t *b = json_loadb(page->body, page->len, 0, &je);
    if (!is_a(b, "Bundle")) {
        json_decref(b);
        return f->h->fail(ctx, "the search answered something other than a Bundle (%s)",
                          b ? "wrong resourceType" : je.text);
    }
    const json_t *entries = json_object_get(b, "entry"), *links = json_object_get(b, "link");
    for (size_t i = 0; i < json_array_size(entries); i++) {
        const json_t *en = json_array_get(entries, i), *r = json_object_get(en, "resource");
        if (is_a(r, "Patient"))
            remember_patient(f, r, json_string_value(json_object_get(en, "fullUrl")));
    }
    int rc = 0;
    for (size_t i = 0; i < json_array_size(entries) && rc == 0; i++) {
        const json_t *r = json_object_get(json_array_get(entries, i), "resource");
        const char *type = json_string_value(json_object_get(r, "resourceType"));
        if (type == NULL)
            f->h->skip(ctx, "Bundle entry without a resource");
        else if (strcmp(type, "Observation") == 0)
            rc = handle_observation(ctx, f, r);
    }
    next[0] = '\0';
    for (size_t i = 0; i < json_array_size(links); i++) {
        const json_t *l = json_array_get(links, i);
        const char *rel = json_string_value(json_object_get(l, "relation"));
        const char *url = json_string_value(json_object_get(l, "url"));
        if (rel != NULL && url != NULL && strcmp(rel, "next") == 0)
            snprintf(next, nextsz, "%s", url);
    }
    json_decref(b);
    return rc;
}

/* Percent-encode what a query value may not hold. */
static void encode(const char *s, char *out, size_t n)
{
    size_t j = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && j + 4 < n; p++) {
        if (strchr("+&#= %", *p) != NULL || *p < 0x20 || *p >= 0x7f)
            j += (size_t)snprintf(out + j, n - j, "%%%02X", *p);
        else
            out[j++] = (char)*p;
    }
    out[j] = '\0';
}

/* Append to url at *n, never past its end. */
static void url_add(char *url, size_t sz, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void url_add(char *url, size_t sz, size_t *n, const char *fmt, ...)
{
    va_list ap;
    if (*n >= sz)
        return;
    va_start(ap, fmt);
    int w = vsnprintf(url + *n, sz - *n, fmt, ap);
    va_end(ap);
    *n = w < 0 ? sz : *n + (size_t)w;
}

/* The ids saved in state key as a JSON array into the set ids. */
static void ids_load(adapter_ctx *ctx, fhir *f, const char *key, json_t *ids)
{
    const char *text = f->h->state_get(ctx, key);
    json_t *list = text ? json_loads(text, 0, NULL) : NULL, *v;
    size_t i;
    json_object_clear(ids);
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v))
            json_object_set_new(ids, json_string_value(v), json_true());
    }
    json_decref(list);
}

/* Save the set ids as a JSON array in state key, when it changed. */
static void ids_save(adapter_ctx *ctx, fhir *f, const char *key, const json_t *ids)
{
    json_t *list = json_array(), *v;
    const char *id;
    json_object_foreach((json_t *)ids, id, v)
    {
        json_array_append_new(list, json_string(id));
    }
    char *text = json_dumps(list, JSON_COMPACT);
    const char *old = f->h->state_get(ctx, key);
    if (old == NULL || strcmp(old, text) != 0)
        f->h->state_set(ctx, key, text);
    free(text);
    json_decref(list);
}

static int poll_fhir(adapter_ctx *ctx, void *userdata)
{
    fhir *f = userdata;
    const adapter_host *h = f->h;
    char url[ADAPTER_URL_MAX], buf[3 * UTIL_INSTANT_MAX + 256];
    size_t n = 0;
    const char *saved = h->state_get(ctx, STATE_SINCE);
    json_object_clear(f->patients);
    f->max_updated[0] = '\0';
    f->max_updated_t = f->since_t = 0;
    ids_load(ctx, f, STATE_SINCE_IDS, f->read_before);
    json_object_clear(f->at_max);
    json_object_update(f->at_max, f->read_before);
    url_add(url, sizeof url, &n, "%s/Observation?", f->base);
    if (f->category != NULL) {
        encode(f->category, buf, sizeof buf);
        url_add(url, sizeof url, &n, "category=%s&", buf);
    }
    if (saved != NULL) {
        encode(saved, buf, sizeof buf);
        url_add(url, sizeof url, &n, "_lastUpdated=ge%s&", buf);
        util_parse_instant(saved, &f->max_updated_t);
        f->since_t = f->max_updated_t;
        snprintf(f->max_updated, sizeof f->max_updated, "%s", saved);
    }
    url_add(url, sizeof url, &n, "_sort=_lastUpdated&_count=%ld&_include=Observation:subject",
            f->page_size);
    if (n >= sizeof url)
        return h->fail(ctx, "baseUrl is too long");
    adapter_request req = {.url = url, .headers = f->headers, .nheaders = f->nheaders};
    if (h->http_pages(ctx, &req, on_page, f) < 0)
        return -1;
    if (f->max_updated[0] && (saved == NULL || strcmp(saved, f->max_updated) != 0))
        h->state_set(ctx, STATE_SINCE, f->max_updated);
    if (f->max_updated[0])
        ids_save(ctx, f, STATE_SINCE_IDS, f->at_max);
    return 0;
}

/* ------------------------------------------------------------ lifecycle */

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
    fhir *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    f->h = h;
    *userdata = f;
    const json_t *cat = json_object_get(options, "category");
    bool no_category = json_is_string(cat) && json_string_length(cat) == 0;
    if (util_opt_string(ctx, h, options, "baseUrl", NULL, &f->base) < 0 ||
        util_opt_string(ctx, h, options, "linkSystem", h->name(ctx), &f->link_system) < 0 ||
        util_opt_string(ctx, h, options, "identifierSystem", NULL, &f->id_system) < 0 ||
        (!no_category &&
         util_opt_string(ctx, h, options, "category", "vital-signs,activity", &f->category) < 0) ||
        util_opt_int(ctx, h, options, "pageSize", DEFAULT_PAGE_SIZE, 1, PAGE_SIZE_MAX,
                     &f->page_size) < 0 ||
        util_opt_headers(ctx, h, options, &f->headers, &f->nheaders) < 0)
        goto fail;
    if (f->base == NULL) {
        h->fail(ctx, "option baseUrl is required (the FHIR server's base URL)");
        goto fail;
    }
    f->patients = json_object();
    f->read_before = json_object();
    f->at_max = json_object();
    return h->set_poll(ctx, poll_fhir, DEFAULT_INTERVAL);
fail:
    free(f->headers);
    free(f);
    *userdata = NULL;
    return -1;
}

void tsunagi_adapter_cleanup(adapter_ctx *ctx, void *userdata)
{
    fhir *f = userdata;
    if (f == NULL)
        return;
    json_decref(f->patients);
    json_decref(f->read_before);
    json_decref(f->at_max);
    free(f->headers);
    free(f);
}
