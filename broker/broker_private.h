/*
 * broker/broker_private.h: what the broker's files share.
 *
 * A request is a struct call from the first libmicrohttpd callback to the
 * completion callback. It goes through three stops: parse (headers, URI
 * parameters, body), decide (route, service path, options) and act (store,
 * render), each filling either the reply or an ngsi_error.
 */
#ifndef TSUNAGI_BROKER_PRIVATE_H
#define TSUNAGI_BROKER_PRIVATE_H

#include <microhttpd.h>
#include <pthread.h>

#include "broker.h"
#include "schemas/schema.h"

/* /v2/entities/{id}/attrs/{name}/value has the most path parameters. */
#define CALL_PARAMS_MAX 4
/* Correlators are UUIDs (36 chars) but clients may send anything, and
 * Orion echoes what it gets: keep room for any header line a client is
 * likely to send (chains of ids, trace contexts). Longer ones are cut. */
#define CALL_CORRELATOR_MAX 4096
/* "/v2/entities/<256>?type=<256>" plus slack. */
#define CALL_LOCATION_MAX 600
/* Bearer realm, error and a description of at most AUTH_ERROR_TEXT_MAX. */
#define CALL_WWW_AUTHENTICATE_MAX 320

struct subs_engine; /* subs_private.h */

struct broker {
    broker_config cfg;
    store *store;
    struct subs_engine *subs; /* subscriptions and notifications */
    struct MHD_Daemon *daemon;
    double started;
    pthread_t purger;
    pthread_mutex_t purge_lock;
    pthread_cond_t purge_wake;
    bool stopping;
    bool purger_running;
    schema_registry *schemas; /* NULL: no validation */
    json_t *schema_types;     /* {"EntityType": "<$id>"} */
    struct authz *az;         /* auth state (authz.c); NULL when auth is off */
};

typedef struct call call;
typedef int (*route_handler)(call *c, ngsi_error *err);

/* Route flags. */
enum {
    ROUTE_WRITE = 1 << 0,     /* one service path, no '#' */
    ROUTE_TEXT_BODY = 1 << 1, /* text/plain bodies accepted (/value) */
    ROUTE_TEXT_REPLY = 1 << 2 /* may answer text/plain (/value) */
};
/* Routes that exist only with auth on (consents, provision records). */
enum { ROUTE_AUTH_ONLY = 1 << 3 };

/* What a route needs from the caller; decided by the auth module before
 * the handler runs. Entity routes are further filtered per entity type. */
enum route_perm {
    PERM_NONE,         /* anyone: /version */
    PERM_ENTITY_READ,  /* entities and types, per type class */
    PERM_ENTITY_WRITE, /* entities, per type class */
    PERM_IDLINK_READ,  /* id links: the town and adapters */
    PERM_IDLINK_WRITE, /* id links: the town, and residents for their own ID */
    PERM_SUB_READ,     /* subscriptions */
    PERM_SUB_WRITE,
    /* A resident's own consents and provision records. */
    PERM_RESIDENT,
    /* Town-wide figures (provision counts). */
    PERM_TOWN,
    /* Resetting the statistics: with auth on, the town's to do. */
    PERM_STATS_RESET,
};

typedef struct route {
    const char *method;
    const char *pattern; /* "/v2/entities/{}/attrs"; {} is one path segment */
    route_handler handler;
    unsigned flags;
    enum route_perm perm;
} route;

/* What the Accept header allows. */
enum { ACCEPT_JSON = 1 << 0, ACCEPT_TEXT = 1 << 1, ACCEPT_TEXT_FIRST = 1 << 2 };

/* URI options=..., as bits. */
enum {
    OPT_COUNT = 1 << 0,
    OPT_KEYVALUES = 1 << 1,
    OPT_VALUES = 1 << 2,
    OPT_UNIQUE = 1 << 3,
    OPT_APPEND = 1 << 4,
    OPT_UPSERT = 1 << 5,
    OPT_OVERRIDE_METADATA = 1 << 6,
    OPT_NO_ATTR_DETAIL = 1 << 7,
    OPT_FORCED_UPDATE = 1 << 8,
    OPT_FLOW_CONTROL = 1 << 9,
    OPT_SKIP_FORWARDING = 1 << 10,
    OPT_NO_LIB_VERSIONS = 1 << 11,
};

struct call {
    struct MHD_Connection *conn;
    broker *b;
    const char *method;
    const char *url;
    double t0;
    const route *route;
    char *path;    /* url without one trailing '/' */
    char *scratch; /* path split into segments; params point into it */
    char *param[CALL_PARAMS_MAX];
    size_t nparams;
    ngsi_buf body;
    bool body_too_large;
    bool body_text; /* the body is text/plain (ROUTE_TEXT_BODY routes only) */
    bool answered;
    char correlator[CALL_CORRELATOR_MAX];
    char correlator_root[CALL_CORRELATOR_MAX]; /* without "; cbnotif=" parts */
    unsigned notif_sent;                       /* notifications sent so far (cbnotif=) */
    char tenant[NGSI_SERVICE_MAX + 1];
    ngsi_paths paths;
    unsigned accept;
    unsigned options;
    /* reply */
    int status;
    ngsi_buf out;
    const char *out_type;
    char location[CALL_LOCATION_MAX];
    long long total_count; /* -1: no Fiware-Total-Count header */
    char allow[64];
    /* auth (authz.c): the caller and what the request disclosed; NULL when
     * auth is off. A 401 carries WWW-Authenticate. */
    struct authz_req *az;
    char www_authenticate[CALL_WWW_AUTHENTICATE_MAX];
};

/* --- router.c --- */

/* The route for method and path; params filled from the path. When the path
 * is known but not for this method, returns NULL and fills allow; when the
 * path is unknown, returns NULL with allow empty. Routes with any of the
 * hidden flags do not exist for this call. path is modified. */
const route *router_match(const char *method, char *path, char **params, size_t *nparams,
                          char *allow, size_t allowsz, unsigned hidden);

/* --- request.c: reading the request --- */

const char *call_header(call *c, const char *name);
const char *call_arg(call *c, const char *name);
/* Check every URI parameter as Orion does (empty values, limit, offset,
 * options, forbidden characters) and set c->options. */
int call_check_args(call *c, ngsi_error *err);
/* limit and offset (already checked) with Orion's defaults. */
void call_paging(call *c, size_t *offset, size_t *limit);
/* A comma-separated URI parameter; absent gives an empty list. */
int call_list_arg(call *c, const char *name, ngsi_list *out, ngsi_error *err);
/* Parse the Accept header into c->accept: 400 on a malformed one, 406 when
 * it names no media range Orion knows. */
int call_parse_accept(call *c, ngsi_error *err);
/* The body as JSON (ParseError on bad JSON). New reference. */
json_t *call_json_body(call *c, ngsi_error *err);
/* The output mode from options. */
enum ngsi_render_mode call_render_mode(const call *c);
/* The input form from options. */
enum ngsi_input call_input(const call *c);

/* --- reply helpers (http.c) --- */

/* Reply with a JSON body; takes the reference. */
void reply_json(call *c, int status, json_t *body);
void reply_text(call *c, int status, const char *text, size_t len);
void reply_empty(call *c, int status);

/* --- handlers (h_*.c) --- */

int h_version(call *c, ngsi_error *err);
int h_v2_root(call *c, ngsi_error *err);
int h_entities_list(call *c, ngsi_error *err);
int h_entities_create(call *c, ngsi_error *err);
int h_entity_get(call *c, ngsi_error *err);
int h_entity_delete(call *c, ngsi_error *err);
int h_attrs_get(call *c, ngsi_error *err);
int h_attrs_post(call *c, ngsi_error *err);
int h_attrs_patch(call *c, ngsi_error *err);
int h_attrs_put(call *c, ngsi_error *err);
int h_attr_get(call *c, ngsi_error *err);
int h_attr_put(call *c, ngsi_error *err);
int h_attr_delete(call *c, ngsi_error *err);
int h_value_get(call *c, ngsi_error *err);
int h_value_put(call *c, ngsi_error *err);
int h_types_list(call *c, ngsi_error *err);
int h_op_update(call *c, ngsi_error *err);
int h_op_query(call *c, ngsi_error *err);
int h_schemas_list(call *c, ngsi_error *err);
int h_schema_get(call *c, ngsi_error *err);
int h_type_get(call *c, ngsi_error *err);
int h_idlink_get(call *c, ngsi_error *err);
int h_idlink_put(call *c, ngsi_error *err);
int h_idlink_delete(call *c, ngsi_error *err);
int h_subs_list(call *c, ngsi_error *err);
int h_subs_create(call *c, ngsi_error *err);
int h_sub_get(call *c, ngsi_error *err);
int h_sub_patch(call *c, ngsi_error *err);
int h_sub_delete(call *c, ngsi_error *err);
int h_statistics_get(call *c, ngsi_error *err);
int h_statistics_delete(call *c, ngsi_error *err);
int h_cache_statistics_get(call *c, ngsi_error *err);

/* --- entity helpers shared by handlers (h_entities.c) --- */

/* Load the entity named by the path's id and the type= parameter. */
int call_load_entity(call *c, ngsi_entity **out, ngsi_error *err);
/* Apply u, stamping it with the time and the request's correlator; on
 * success, report the change (broker_changed). */
int call_save(call *c, store_update *u, ngsi_error *err);

/* --- schemas (validate.c) --- */

/* Load -schemaDir and -schemaMap into b; every mapped $id must exist. */
int broker_schemas_load(broker *b, ngsi_error *err);
void broker_schemas_free(broker *b);
/* The $id of type's schema, or NULL. Borrowed. */
const char *broker_schema_id(const broker *b, const char *type);
/* 400 BadRequest listing the failing pointers when e (its keyValues form)
 * does not match its type's schema; 0 when it matches or has none. */
int call_validate_entity(call *c, const ngsi_entity *e, ngsi_error *err);

/* --- changes (changes.c): every successful entity write is reported here,
 * once the database has it, with the entity before and after. --- */

enum change_kind { CHANGE_CREATE, CHANGE_UPDATE, CHANGE_DELETE };

typedef struct change {
    enum change_kind kind;
    const ngsi_entity *before; /* NULL on create */
    const ngsi_entity *after;  /* NULL on delete */
} change;

/* Called on the request's thread; must not block on the network. */
void broker_changed(call *c, const change *ch);
/* Orion's correlatorRoot: corr without its "; cbnotif=" suffixes. */
void broker_correlator_root(const char *corr, char *out, size_t n);
/* attrs= and metadata= into o (lists owned by the caller). */
int call_render_list_args(call *c, ngsi_list *attrs, ngsi_list *md, ngsi_render_opts *o,
                          ngsi_error *err);

/* Merge incoming's attributes into stored per mode and save (h_attrs.c);
 * fills err with Orion's Unprocessable / PartialUpdate when some fail. */
int attrs_merge_and_save(call *c, const ngsi_entity *stored, ngsi_entity *incoming,
                         enum store_attrs_mode mode, ngsi_error *err);

#endif
