/*
 * adapters/template/template.c: a template adapter to copy and adapt.
 *
 * It reads a town's event calendar from a JSON API and writes each event as
 * an Event entity (the Smart Data Models model, schemas/models/Event.json).
 * The API answers
 *   GET <url>[?updated_since=<time>]
 *   {"events": [{"id", "title", "start", "end", "place", "free", "url",
 *                "updated"}, ...], "next": "<url of the next page>" | null}
 * Everything an adapter usually needs is here, in the order a run uses it:
 * options read once in init, the poll callback registered with a default
 * interval, a conditional and paged GET, a cursor ("since") kept in the
 * state store, records mapped to entities, bad records skipped with a
 * reason, counters. To write personal data, look the person up with
 * host->link_lookup() and call host->set_owner() on the entity; skip the
 * record when nobody is linked (see adapters/fhir/fhir.c).
 *
 * Build it out of the tree with the CMakeLists.txt next to this file, and
 * read docs/adapters.md for the whole SDK.
 */
#include "adapter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The calendar changes a few times a day. */
#define DEFAULT_INTERVAL_S 3600.0

typedef struct events {
    const adapter_host *h;
    const char *url; /* option "url", borrowed from the options */
    char max_updated[64];
} events;

/* An id the broker accepts: no spaces, none of &?/#<>"'=;(). */
static int id_ok(const char *s)
{
    return s != NULL && *s && strcspn(s, " \t&?/#<>\"'=;()") == strlen(s);
}

/* One event record to an Event entity, or NULL with *why. New reference. */
static json_t *map_event(adapter_ctx *ctx, events *ev, const json_t *rec, const char **why)
{
    const char *id = json_string_value(json_object_get(rec, "id"));
    const char *title = json_string_value(json_object_get(rec, "title"));
    const char *start = json_string_value(json_object_get(rec, "start"));
    const char *end = json_string_value(json_object_get(rec, "end"));
    const char *place = json_string_value(json_object_get(rec, "place"));
    const char *url = json_string_value(json_object_get(rec, "url"));
    json_t *free_ = json_object_get(rec, "free");
    char eid[ADAPTER_ID_MAX + 1];
    if (!id_ok(id))
        return *why = "no valid id", NULL;
    if (title == NULL || start == NULL)
        return *why = "no title or start", NULL;
    snprintf(eid, sizeof eid, "urn:ngsi-ld:Event:%s:%s", ev->h->name(ctx), id);
    json_t *e = adapter_entity_new(eid, "Event");
    adapter_attr_set(e, "title", "Text", json_string(title));
    adapter_attr_set(e, "name", "Text", json_string(title));
    adapter_attr_set(e, "startDate", "DateTime", json_string(start));
    if (end != NULL)
        adapter_attr_set(e, "endDate", "DateTime", json_string(end));
    if (id_ok(place))
        adapter_attr_set(e, "refPointOfInterest", "StructuredValue", json_pack("[s]", place));
    if (json_is_boolean(free_))
        adapter_attr_set(e, "isAccessibleForFree", "Boolean", json_incref(free_));
    if (url != NULL && strncmp(url, "https://", 8) == 0)
        adapter_attr_set(e, "url", "Text", json_string(url));
    return e;
}

/* Each page of the calendar. */
static int on_page(adapter_ctx *ctx, const adapter_response *page, char *next, size_t nextsz,
                   void *arg)
{
    events *ev = arg;
    const adapter_host *h = ev->h;
    json_error_t je;
    json_t *doc = json_loadb(page->body, page->len, 0, &je);
    json_t *list = json_object_get(doc, "events");
    if (!json_is_array(list)) {
        json_decref(doc);
        return h->fail(ctx, "the calendar answered no \"events\" list (%s)",
                       doc ? "wrong shape" : je.text);
    }
    int rc = 0;
    for (size_t i = 0; i < json_array_size(list) && rc == 0; i++) {
        const json_t *rec = json_array_get(list, i);
        const char *why = NULL, *updated = json_string_value(json_object_get(rec, "updated"));
        json_t *e = map_event(ctx, ev, rec, &why);
        if (e == NULL) {
            h->skip(ctx, "event %zu: %s", i, why); /* counted; the run goes on */
            continue;
        }
        /* ISO 8601 times in one offset compare as strings. */
        if (updated != NULL && strlen(updated) < sizeof ev->max_updated &&
            strcmp(updated, ev->max_updated) > 0)
            snprintf(ev->max_updated, sizeof ev->max_updated, "%s", updated);
        h->count(ctx, "events", 1);
        rc = h->put_entity(ctx, e); /* batched; sent when full and at the end of the run */
    }
    const char *nx = json_string_value(json_object_get(doc, "next"));
    if (nx != NULL)
        snprintf(next, nextsz, "%s", nx);
    json_decref(doc);
    return rc;
}

static int poll_events(adapter_ctx *ctx, void *userdata)
{
    events *ev = userdata;
    const adapter_host *h = ev->h;
    char url[ADAPTER_URL_MAX];
    const char *since = h->state_get(ctx, "since"); /* NULL on the first run */
    snprintf(ev->max_updated, sizeof ev->max_updated, "%s", since ? since : "");
    snprintf(url, sizeof url, "%s", ev->url);
    if (since != NULL) {
        /* '+' of a time offset must be encoded in a query */
        size_t n = strlen(url);
        n += (size_t)snprintf(url + n, sizeof url - n,
                              "%supdated_since=", strchr(url, '?') ? "&" : "?");
        for (const char *p = since; *p && n + 4 < sizeof url; p++)
            n += (size_t)snprintf(url + n, sizeof url - n, *p == '+' ? "%%2B" : "%c", *p);
    }
    adapter_request req = {.url = url, .conditional = true};
    if (h->http_pages(ctx, &req, on_page, ev) < 0)
        return -1; /* the host already knows why */
    if (ev->max_updated[0] && (since == NULL || strcmp(since, ev->max_updated) != 0))
        h->state_set(ctx, "since", ev->max_updated); /* saved only if the run succeeds */
    return 0;
}

int tsunagi_adapter_version(int nversions, const int *versions)
{
    for (int i = 0; i < nversions; i++)
        if (versions[i] == TSUNAGI_ADAPTER_API_VERSION)
            return TSUNAGI_ADAPTER_API_VERSION;
    return -1;
}

int tsunagi_adapter_init(adapter_ctx *ctx, const adapter_host *h, const json_t *options,
                         void **userdata)
{
    const char *url = json_string_value(json_object_get(options, "url"));
    if (url == NULL)
        return h->fail(ctx, "option url (the calendar API) is required");
    events *ev = calloc(1, sizeof *ev);
    if (ev == NULL)
        return h->fail(ctx, "out of memory");
    ev->h = h;
    ev->url = url;
    *userdata = ev;
    return h->set_poll(ctx, poll_events, DEFAULT_INTERVAL_S);
}

void tsunagi_adapter_cleanup(adapter_ctx *ctx, void *userdata)
{
    (void)ctx;
    free(userdata);
}
