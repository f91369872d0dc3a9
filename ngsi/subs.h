/*
 * ngsi/subs.h: public surface of tsunagi_subs, NGSI-v2 subscriptions.
 *
 * Everything about a subscription that needs neither the network nor the
 * database lives here, so it can be tested alone:
 *   - the model (subs_sub) and its JSON parsing with Orion's validation
 *     texts and check order (subs_parse);
 *   - rendering for GET /v2/subscriptions in Orion's key order (subs_render);
 *   - the csubs document layout Orion uses, both ways (subs_to_bson,
 *     subs_from_bson, subs_bson_patch);
 *   - matching a stored change against a subscription (subs_change,
 *     subs_match), the same decisions Orion's subscription cache makes;
 *   - building the notification a match sends (subs_message_build): body in
 *     every attrsFormat, Orion's headers, and the httpCustom / mqttCustom
 *     templates with ${...} replacement.
 *
 * Ownership: functions returning a pointer say who frees it. A subs_sub is
 * freed with subs_free; a parsed or loaded subscription owns its compiled
 * q/mq/geo expressions and regular expressions.
 *
 * Thread-safety: a subs_sub is read-only once built; subs_match and
 * subs_message_build may run on one subscription from many threads at once.
 */
#ifndef TSUNAGI_SUBS_H
#define TSUNAGI_SUBS_H

#include <bson/bson.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ngsi.h"

/* ------------------------------------------------------------------ limits */

/* Subscription ids are MongoDB ObjectIds: 24 hex characters. */
#define SUBS_ID_LEN 24
/* Orion's MAX_DESCRIPTION_LENGTH. */
#define SUBS_DESCRIPTION_MAX 1024
/* Orion's MAX_HTTP_TIMEOUT: half an hour, in milliseconds. */
#define SUBS_TIMEOUT_MAX_MS 1800000
/* Orion's PERMANENT_EXPIRES_DATETIME: "never expires", stored as the
 * largest int64; GET hides any expiration at or beyond SUBS_EXPIRES_SHOWN. */
#define SUBS_PERMANENT     INT64_MAX
#define SUBS_EXPIRES_SHOWN 9000000000000000000LL
/* evalPriority bounds of ngsi custom payloads (Orion's MIN/MAX_PRIORITY). */
#define SUBS_PRIORITY_MIN 1
#define SUBS_PRIORITY_MAX 100000
/* Orion's texts that more than one place produces. */
#define SUBS_TXT_NOT_FOUND "The requested subscription has not been found. Check id"

enum subs_status { SUBS_ACTIVE, SUBS_INACTIVE, SUBS_ONESHOT };

enum subs_format {
    SUBS_FMT_NORMALIZED,
    SUBS_FMT_KEYVALUES,
    SUBS_FMT_VALUES,
    SUBS_FMT_SIMPLIFIED_NORMALIZED,
    SUBS_FMT_SIMPLIFIED_KEYVALUES,
};

enum subs_channel { SUBS_HTTP, SUBS_MQTT };

/* What a custom notification carries. */
enum subs_payload {
    SUBS_PAYLOAD_DEFAULT, /* not custom, or payload "" / absent: the attrsFormat body */
    SUBS_PAYLOAD_TEXT,    /* payload: a text template */
    SUBS_PAYLOAD_NONE,    /* payload: null, no body at all */
    SUBS_PAYLOAD_JSON,    /* json: a JSON template */
    SUBS_PAYLOAD_NGSI,    /* ngsi: an entity patch */
};

/* Alteration types, as bits. */
enum {
    SUBS_ALT_CREATE = 1 << 0,
    SUBS_ALT_UPDATE = 1 << 1,
    SUBS_ALT_CHANGE = 1 << 2,
    SUBS_ALT_DELETE = 1 << 3,
};
/* Orion's default when alterationTypes is not given. */
#define SUBS_ALT_DEFAULT (SUBS_ALT_CREATE | SUBS_ALT_CHANGE)

/* One subject entity: an id or idPattern, with a type, a typePattern or
 * neither (type NULL). */
typedef struct subs_entity {
    char *id;
    char *type;
    bool id_pattern;
    bool type_pattern;
} subs_entity;

/* The read-only figures of GET, as stored in csubs. 0 means "never" for the
 * times and "none" for last_success_code. */
typedef struct subs_counters {
    long long times_sent;
    long long last_notification; /* seconds */
    long long last_success;
    long long last_failure;
    int last_success_code;
    char *last_failure_reason; /* NULL: none */
    long long fails_counter;
} subs_counters;

typedef struct subs_compiled subs_compiled;

typedef struct subs_sub {
    char id[SUBS_ID_LEN + 1];
    char *description;  /* NULL: none */
    char *service_path; /* the Fiware-ServicePath it was made under; "/#" by default */
    long long expires;  /* seconds; SUBS_PERMANENT when it never expires */
    enum subs_status status;
    long long throttling;      /* seconds; 0 none */
    double status_last_change; /* seconds */

    /* subject */
    subs_entity *entities;
    size_t nentities;
    ngsi_list cond_attrs;
    char *q, *mq, *georel, *geometry, *coords; /* NULL: not given */
    unsigned char alt[4];                      /* SUBS_ALT_* in the order given */
    size_t nalt;                               /* 0: SUBS_ALT_DEFAULT */
    bool notify_on_md;

    /* notification */
    ngsi_list attrs; /* exceptAttrs when blacklist */
    bool blacklist;
    ngsi_list metadata;
    bool only_changed;
    bool covered;
    enum subs_format format;
    enum subs_channel channel;
    bool custom;          /* httpCustom or mqttCustom */
    char *url;            /* http(s):// or mqtt:// */
    long long timeout_ms; /* 0: the broker's default */
    char *method;         /* httpCustom; NULL: POST */
    json_t *headers, *qs; /* httpCustom; objects of strings or NULL */
    enum subs_payload payload_kind;
    char *payload; /* SUBS_PAYLOAD_TEXT */
    json_t *json;  /* SUBS_PAYLOAD_JSON: object or array */
    json_t *ngsi;  /* SUBS_PAYLOAD_NGSI: {"id"?,"type"?,"<attr>":{"type","value","metadata"}} */
    char *topic;   /* mqtt */
    int qos;
    bool retain;
    char *user, *passwd;       /* both or neither */
    long long max_fails_limit; /* 0: none */

    subs_counters counters;
    subs_compiled *compiled; /* q, mq, geo and patterns, ready for matching */

    /* Tsunagi: the claims of the token that made it ({"sub","roles","tenant",
     * "scope"}), stored as csubs.tsunagiOwner; NULL when made with auth off.
     * With auth on, notifications go out only as far as this principal may
     * see the entity (docs/auth.md). */
    json_t *owner;
} subs_sub;

/* Free s and everything it owns; NULL is fine. */
void subs_free(subs_sub *s);
/* A deep copy (new, subs_free), or NULL if s cannot be recompiled. */
subs_sub *subs_copy(const subs_sub *s);
/* Name of a format ("normalized", ...). Static string. */
const char *subs_format_name(enum subs_format f);
const char *subs_status_name(enum subs_status s);

/* --------------------------------------------------------------------- ids */

/* A new ObjectId as 24 lowercase hex characters. */
void subs_id_new(char out[SUBS_ID_LEN + 1]);
/* Orion's id checks for GET/PATCH/DELETE /v2/subscriptions/{id}: 400
 * "bad length - 24 chars expected" or "invalid char in ID string". */
int subs_id_check(const char *id, ngsi_error *err);

/* ------------------------------------------------------------------- URLs */

/* A notification URL taken apart. */
typedef struct subs_url {
    char scheme[8];   /* "http", "https" or "mqtt" */
    char host[256];   /* without IPv6 brackets */
    int port;         /* the scheme's default when not given */
    const char *path; /* borrowed from the parsed text; "/" when absent */
} subs_url;

/* Parse scheme://host[:port][/path] as Orion's parseUrl accepts it. Returns
 * 0, or -1 when the text is no such URL. */
int subs_url_parse(const char *url, subs_url *out);

/* ------------------------------------------------------------------ parse */

/* Top-level members a request body gave; PATCH changes only these. */
enum {
    SUBS_GIVEN_DESCRIPTION = 1 << 0,
    SUBS_GIVEN_SUBJECT = 1 << 1,
    SUBS_GIVEN_NOTIFICATION = 1 << 2,
    SUBS_GIVEN_EXPIRES = 1 << 3,
    SUBS_GIVEN_STATUS = 1 << 4,
    SUBS_GIVEN_THROTTLING = 1 << 5,
};

/* Parse the body of POST (update false) or PATCH (update true)
 * /v2/subscriptions. body must keep integers as integers (not
 * JSON_DECODE_INT_AS_REAL) so that "is not an int" can be told apart. New
 * subscription with defaults for what is absent, or NULL with a 400 in err
 * carrying Orion's text; *given receives SUBS_GIVEN_* bits. The id and the
 * service path are left empty for the caller. */
subs_sub *subs_parse(const json_t *body, bool update, unsigned *given, ngsi_error *err);

/* Apply the members of patch named by given to s (PATCH semantics: subject
 * and notification are replaced as a whole). Returns 0, or -1 with err when
 * the result cannot be compiled. */
int subs_apply_patch(subs_sub *s, const subs_sub *patch, unsigned given, ngsi_error *err);

/* ----------------------------------------------------------------- render */

/* The subscription as GET shows it, keys in Orion's order; "expired"
 * replaces the status when expires < now. New reference. */
json_t *subs_render(const subs_sub *s, double now);

/* ------------------------------------------------------------------- BSON */

/* The csubs document (with _id) in Orion's layout, appended to doc. */
void subs_to_bson(const subs_sub *s, bson_t *doc);
/* A subscription from a csubs document. New (subs_free), or NULL when the
 * document is not a usable subscription (no ObjectId, no reference). */
subs_sub *subs_from_bson(const bson_t *doc);
/* The update ({"$set":..., "$unset":...}) that makes a stored document
 * match s in the members named by given. */
void subs_bson_patch(const subs_sub *s, unsigned given, bson_t *update);

/* ------------------------------------------------------------------- match */

/* One stored change of one entity, with what the subscriptions need to
 * know about it, computed once and shared by every subscription. */
typedef struct subs_change {
    int kind;                  /* SUBS_ALT_CREATE, SUBS_ALT_UPDATE or SUBS_ALT_DELETE */
    const ngsi_entity *before; /* NULL on create; borrowed */
    const ngsi_entity *after;  /* NULL on delete; borrowed */
    const ngsi_entity *entity; /* after, or before on delete */
    bool forced;               /* options=forcedUpdate */
    /* derived by subs_change_init: */
    int alt;              /* what Orion calls the target alteration type */
    bool md_only;         /* changed only in metadata */
    ngsi_list touched;    /* attributes the request wrote or removed */
    ngsi_list changed;    /* ... whose value or type changed (or new, or removed) */
    ngsi_list md_changed; /* ... whose metadata changed */
} subs_change;

/* Fill the derived fields. An attribute was written by the request when its
 * modification date is the entity's (every write stamps both with the same
 * time). subs_change_clear frees them. */
void subs_change_init(subs_change *ch, int kind, const ngsi_entity *before,
                      const ngsi_entity *after, bool forced);
void subs_change_clear(subs_change *ch);

/* Whether the change triggers s, status and throttling aside (those are
 * runtime state the caller keeps): expiry, service path, entities,
 * alteration type, condition attributes, q, mq and geo, in Orion's order.
 * entity_path is the changed entity's service path. */
bool subs_match(const subs_sub *s, const subs_change *ch, double now);

/* Whether a subscription's service path covers an entity's ("/a/#" covers
 * "/a" and everything below it). */
bool subs_path_covers(const char *sub_path, const char *entity_path);

/* --------------------------------------------------------------- messages */

/* What a notification needs beyond the subscription and the change. */
typedef struct subs_notify_ctx {
    const char *tenant;     /* "" for the default service */
    const char *correlator; /* the whole outgoing value, "<root>; cbnotif=<n>" */
    const char *auth_token; /* X-Auth-Token of the triggering request, or NULL */
    const char *user_agent;
} subs_notify_ctx;

/* One notification, ready for the sender. */
typedef struct subs_message {
    char *url;         /* http: the final URL with qs; mqtt: the broker URL */
    char *method;      /* "POST" unless httpCustom says otherwise */
    ngsi_list headers; /* "Name: value" lines (http only) */
    char *body;        /* NULL: no body at all (payload null) */
    size_t body_len;
    char *topic;        /* mqtt */
    const char *format; /* the Ngsiv2-AttrsFormat value; static */
} subs_message;

/* Build the notification s sends for ch. Returns 0, or -1 with err when a
 * template gives an unusable URL (Orion then sends nothing). */
int subs_message_build(const subs_sub *s, const subs_change *ch, const subs_notify_ctx *ctx,
                       subs_message *out, ngsi_error *err);
void subs_message_clear(subs_message *m);

/* Replace ${name} macros in text from the entity (attributes first, then
 * id, type, service, servicePath, authToken); missing names give "null".
 * New string. */
char *subs_expand(const char *text, const ngsi_entity *e, const subs_notify_ctx *ctx);
/* Decode %XX escapes (and nothing else) in place; returns s. */
char *subs_url_decode(char *s);

#endif
