/*
 * ngsi/ngsi.h: public surface of tsunagi_ngsi, the NGSI-v2 data model.
 *
 * An entity is a plain C struct whose attribute and metadata values are
 * jansson trees. The model knows neither HTTP nor MongoDB: parsing takes
 * request JSON, rendering produces response JSON, and ngsi/store.h converts to
 * and from Orion's document layout. Errors travel as ngsi_error values from
 * wherever they are found up to the HTTP reply.
 *
 * Ownership: functions returning a pointer say who owns it. "New" means the
 * caller frees it with the matching _free (or json_decref for json_t);
 * "borrowed" means it lives as long as its owner and must not be freed.
 *
 * Thread-safety: every function is reentrant; an object is used by one
 * thread at a time unless a comment says otherwise.
 */
#ifndef TSUNAGI_NGSI_H
#define TSUNAGI_NGSI_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* ------------------------------------------------------------------ limits */

/* Ids, types, attribute and metadata names: Orion's limit, 1 to 256 chars. */
#define NGSI_NAME_MAX 256
/* Fiware-Service: Orion's limit; the name becomes part of a database name. */
#define NGSI_SERVICE_MAX 50
/* Fiware-ServicePath: Orion's limits on levels, level length and paths. */
#define NGSI_SERVICEPATH_LEVELS_MAX 10
#define NGSI_SERVICEPATH_LEVEL_MAX  50
#define NGSI_SERVICEPATHS_MAX       10
/* Compound values deeper than this are refused. MongoDB refuses documents
 * nested beyond 100 levels and an entity document adds 4 (attrs, name,
 * value, ...), so this keeps every accepted value storable. */
#define NGSI_COMPOUND_DEPTH_MAX 64
/* Room for one error description; Orion's longest (PartialUpdate listings)
 * stay well inside. */
#define NGSI_ERROR_DESC_MAX 2048
/* "YYYY-MM-DDThh:mm:ss.sssZ" needs 25 bytes; 64 leaves room for any int
 * field the compiler must assume snprintf could print. */
#define NGSI_DATETIME_MAX 64
/* Longest output of ngsi_number_format: %.17g of a double, sign, exponent. */
#define NGSI_NUMBER_MAX 40

/* ------------------------------------------------------------------ errors */

/* An error on its way to the HTTP reply: status, Orion's error name
 * ("BadRequest", "NotFound", ...) and a description. status 0 means none. */
typedef struct ngsi_error {
    int status;
    char name[40];
    char description[NGSI_ERROR_DESC_MAX];
} ngsi_error;

/* Fill err (may be NULL) and return -1, so callers can `return ngsi_fail(...)`. */
int ngsi_fail(ngsi_error *err, int status, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int ngsi_vfail(ngsi_error *err, int status, const char *name, const char *fmt, va_list ap);
void ngsi_error_clear(ngsi_error *err);
/* Shorthands for the errors used everywhere; each returns -1. */
#define ngsi_bad_request(err, ...) ngsi_fail((err), 400, "BadRequest", __VA_ARGS__)
#define ngsi_not_found(err, ...)   ngsi_fail((err), 404, "NotFound", __VA_ARGS__)
#define ngsi_internal(err, ...)    ngsi_fail((err), 500, "InternalServerError", __VA_ARGS__)
/* Render as {"error":...,"description":...}, HTML-escaped as Orion does.
 * New reference. */
json_t *ngsi_error_json(const ngsi_error *err);

/* Orion's texts that several places produce. */
#define NGSI_TXT_ENTITY_NOT_FOUND "The requested entity has not been found. Check type and id"
#define NGSI_TXT_ATTR_NOT_FOUND   "The entity does not have such an attribute"
#define NGSI_TXT_TOO_MANY         "More than one matching entity. Please refine your query"
#define NGSI_TXT_ALREADY_EXISTS   "Already Exists"
#define NGSI_TXT_PARSE_ERROR      "Errors found in incoming JSON buffer"
#define NGSI_TXT_EMPTY_PAYLOAD    "empty payload"

/* ------------------------------------------------------------ text buffer */

/* A growable byte buffer, always NUL-terminated when data != NULL. */
typedef struct ngsi_buf {
    char *data;
    size_t len;
    size_t cap;
} ngsi_buf;

void ngsi_buf_append(ngsi_buf *b, const char *s, size_t n);
void ngsi_buf_puts(ngsi_buf *b, const char *s);
void ngsi_buf_printf(ngsi_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ngsi_buf_reset(ngsi_buf *b);
void ngsi_buf_free(ngsi_buf *b);
/* Hand the contents to the caller (new string, free()) and empty b. */
char *ngsi_buf_steal(ngsi_buf *b);

/* ------------------------------------------------------------ JSON output */

/* Orion's number format: integral (within 1e-9) values as integers, values
 * beyond the int64 range with %.17g, others with up to 9 decimals. */
void ngsi_number_format(double v, char out[NGSI_NUMBER_MAX]);
/* Append v as compact JSON: no spaces, raw UTF-8, '/' unescaped, numbers as
 * ngsi_number_format. */
void ngsi_json_write(ngsi_buf *out, const json_t *v);
/* The same into a new string (caller frees). */
char *ngsi_json_dumps(const json_t *v);

/* ------------------------------------------------------------------ dates */

/* Parse ISO 8601 ("2024-01-31", "2024-01-31T10:00", "...:00.5+09:00", "Z")
 * into seconds since the epoch, UTC. Returns 0, or -1 when invalid. */
int ngsi_datetime_parse(const char *s, double *out);
/* Whether an attribute or metadata type makes its value a date: "DateTime",
 * or Orion's older "ISO8601". type may be NULL. */
bool ngsi_datetime_type(const char *type);
/* Format as "YYYY-MM-DDThh:mm:ss.sssZ". */
void ngsi_datetime_format(double t, char out[NGSI_DATETIME_MAX]);
/* Wall-clock seconds since the epoch, millisecond precision or better. */
double ngsi_now(void);

/* ------------------------------------------------------------------- logs */

/* Format one log record into line (cap > 64 bytes): "time=... | lvl=LEVEL |
 * " then prefix (may be NULL) then fmt. Cut to fit, newlines in the message
 * turned into spaces, ended by one '\n' (not NUL-terminated). Returns its
 * length, for one write(2). */
size_t ngsi_log_line(char *line, size_t cap, const char *level, const char *prefix, const char *fmt,
                     va_list ap) __attribute__((format(printf, 5, 0)));

/* ------------------------------------------------------------------ model */

typedef struct ngsi_md {
    char *name;
    char *type;
    json_t *value; /* owned; never NULL (json null for null) */
} ngsi_md;

typedef struct ngsi_attr {
    char *name;
    char *type;
    json_t *value; /* owned; never NULL once parsed */
    ngsi_md *md;
    size_t nmd;
    size_t md_cap;
    bool md_given;   /* the request had "metadata" ({} clears on update) */
    double cre_date; /* seconds; 0 when unknown */
    double mod_date;
} ngsi_attr;

typedef struct ngsi_entity {
    char *id;
    char *type;
    char *service_path;
    ngsi_attr *attrs; /* in creation order, which is the order Orion renders */
    size_t nattrs;
    size_t attrs_cap;
    double cre_date;
    double mod_date;
    double exp_date;       /* the dateExpires builtin; 0 when none */
    char *last_correlator; /* correlator root of the last write (Orion's
                              lastCorrelator, for loop detection); NULL when unknown */
} ngsi_entity;

/* New empty entity; ngsi_entity_free releases it and everything inside. */
ngsi_entity *ngsi_entity_new(void);
void ngsi_entity_free(ngsi_entity *e);
/* Give a new entity and all its attributes the creation and modification
 * time now. */
void ngsi_entity_stamp(ngsi_entity *e, double now);
/* A deep copy of e (values shared by reference count). New entity. */
ngsi_entity *ngsi_entity_copy(const ngsi_entity *e);
/* A deep copy of attribute a into out (zeroed first). */
void ngsi_attr_copy(ngsi_attr *out, const ngsi_attr *a);
/* Borrowed pointer to the attribute called name, or NULL. */
ngsi_attr *ngsi_entity_find(const ngsi_entity *e, const char *name);
/* A new zeroed attribute at the end of e; borrowed, valid until the next
 * append or remove. */
ngsi_attr *ngsi_entity_append(ngsi_entity *e);
/* Remove and free the attribute called name; returns 0, or -1 if absent. */
int ngsi_entity_remove(ngsi_entity *e, const char *name);
/* Set the attribute called src->name, replacing an existing one in place or
 * appending. Takes src's contents and leaves src zeroed. */
void ngsi_entity_put(ngsi_entity *e, ngsi_attr *src);

void ngsi_attr_clear(ngsi_attr *a);
ngsi_md *ngsi_attr_find_md(const ngsi_attr *a, const char *name);
ngsi_md *ngsi_attr_append_md(ngsi_attr *a);
/* Set metadata item src->name (replace or append); takes src's contents. */
void ngsi_attr_put_md(ngsi_attr *a, ngsi_md *src);
void ngsi_md_clear(ngsi_md *m);

/* The type Orion gives an attribute whose type is not stated. */
const char *ngsi_default_type(const json_t *value);

/* --------------------------------------------------------------- parsing */

/* How request bodies are read: normalized ({"type","value","metadata"}) or
 * keyValues (the bare value). */
enum ngsi_input { NGSI_IN_NORMALIZED, NGSI_IN_KEYVALUES };

/* Parse the body of POST /v2/entities. New entity, or NULL with err set. The
 * type defaults to "Thing"; the dateExpires attribute sets exp_date. */
ngsi_entity *ngsi_entity_parse(const json_t *body, enum ngsi_input in, ngsi_error *err);
/* Parse an object of attributes (PATCH/POST/PUT .../attrs) into into's
 * attribute list; into->exp_date is set when dateExpires is among them. */
int ngsi_attrs_parse(const json_t *body, enum ngsi_input in, ngsi_entity *into, ngsi_error *err);
/* Parse one attribute called name from v (PUT .../attrs/{name}). */
int ngsi_attr_parse(const char *name, const json_t *v, enum ngsi_input in, ngsi_attr *out,
                    ngsi_error *err);
/* Parse a text/plain attribute value as Orion does: a quoted string, true,
 * false, null (also capitalised or upper case), or a number. New reference,
 * or NULL with err set. */
json_t *ngsi_value_from_text(const char *text, size_t len, ngsi_error *err);
/* Parse request JSON the way every route needs it (numbers as doubles).
 * New reference, or NULL with a ParseError in err. */
json_t *ngsi_json_parse(const char *text, size_t len, ngsi_error *err);
/* Check a value is storable: forbidden characters in strings (what is
 * NGSI_F_ATTR_VALUE or NGSI_F_MD_VALUE, for the error text), nesting depth. */
int ngsi_value_check(const json_t *v, int what, ngsi_error *err);

/* ------------------------------------------------------------- validation */

/* What a name names, for error texts. */
enum ngsi_field {
    NGSI_F_ENTITY_ID,
    NGSI_F_ENTITY_TYPE,
    NGSI_F_ATTR_NAME,
    NGSI_F_ATTR_TYPE,
    NGSI_F_MD_NAME,
    NGSI_F_MD_TYPE,
    NGSI_F_ATTR_VALUE,
    NGSI_F_MD_VALUE,
};
/* Check an id, type or name: 1..256 printable chars, none forbidden. */
int ngsi_check_name(const char *s, enum ngsi_field what, ngsi_error *err);
/* Check a URI path component (param false) or parameter (param true) for
 * Orion's forbidden characters; except lists characters allowed anyway. */
int ngsi_check_uri_chars(const char *s, bool param, const char *except, ngsi_error *err);
/* Check an idPattern/typePattern (what names it in the error): NULL passes;
 * anything else must compile as a POSIX extended regex, as Orion checks. */
int ngsi_check_pattern(const char *pattern, const char *what, ngsi_error *err);
/* Whether c is one of Orion's forbidden characters in values: <>"'=;() */
bool ngsi_forbidden_char(char c);
/* Whether s has one of those. */
bool ngsi_has_forbidden_char(const char *s);
/* Whether s has a character refused in ids, types and names (the above,
 * blanks and controls, &?/#); lengths are not looked at. */
bool ngsi_has_forbidden_id_char(const char *s);

/* --------------------------------------------------------------- tenancy */

/* Validate and lowercase a Fiware-Service header (NULL or "" means the
 * default service, out becomes ""). */
int ngsi_service_parse(const char *hdr, char out[NGSI_SERVICE_MAX + 1], ngsi_error *err);

/* Service paths of a request. For reads a path may end in "/#" (subtree). */
typedef struct ngsi_paths {
    size_t n;
    char *path[NGSI_SERVICEPATHS_MAX];
} ngsi_paths;
/* Parse Fiware-ServicePath; NULL or "" gives "/#" for reads and "/" for
 * writes. A write takes exactly one path without '#'. */
int ngsi_paths_parse(const char *hdr, bool for_write, ngsi_paths *out, ngsi_error *err);
void ngsi_paths_clear(ngsi_paths *p);

/* ------------------------------------------------------------- rendering */

/* A parsed comma-separated list parameter (attrs=, metadata=, type=...). */
typedef struct ngsi_list {
    size_t n;
    char **item;
} ngsi_list;
/* Split s on commas; empty items are refused with an error about param. */
int ngsi_list_parse(const char *s, const char *param, ngsi_list *out, ngsi_error *err);
bool ngsi_list_has(const ngsi_list *l, const char *s);
void ngsi_list_clear(ngsi_list *l);

enum ngsi_render_mode { NGSI_NORMALIZED, NGSI_KEYVALUES, NGSI_VALUES, NGSI_UNIQUE };

typedef struct ngsi_render_opts {
    enum ngsi_render_mode mode;
    const ngsi_list *attrs;    /* NULL or empty: all user attributes */
    const ngsi_list *metadata; /* NULL or empty: all user metadata */
} ngsi_render_opts;

/* The entity as a response object (or an array in values/unique mode). New
 * reference. */
json_t *ngsi_entity_render(const ngsi_entity *e, const ngsi_render_opts *o);
/* Only the attributes, as GET .../attrs answers. New reference. */
json_t *ngsi_attrs_render(const ngsi_entity *e, const ngsi_render_opts *o);
/* One attribute ({"type","value","metadata"}); builtins resolved against e.
 * New reference. */
json_t *ngsi_attr_render(const ngsi_entity *e, const ngsi_attr *a, const ngsi_render_opts *o);
/* Value of attribute name in e, including the builtins dateCreated,
 * dateModified and dateExpires; fills tmp for builtins. Borrowed from e or
 * tmp; NULL when absent. tmp must be cleared with ngsi_attr_clear. */
const ngsi_attr *ngsi_entity_lookup(const ngsi_entity *e, const char *name, ngsi_attr *tmp);

#endif
