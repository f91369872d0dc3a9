/*
 * broker/h_batch.c: POST /v2/op/update.
 *
 * The whole batch costs two database round trips: one read of every named
 * entity by exact key, one unordered bulk write. Each entity is planned in
 * C with the same planner as the single-entity routes (store_plan_attrs),
 * and failures are described in Orion's words, in the order of the
 * request's entities. An entity named twice in one batch flushes the bulk
 * first, so later changes see earlier ones as Orion's sequential processing
 * would.
 *
 * Tsunagi extension (Orion #2389): with actionType delete, an entity given
 * by idPattern (optionally with type or typePattern) deletes every entity
 * matching it in the request's service path.
 */
#include "authz.h"
#include "broker_private.h"

#include <stdlib.h>
#include <string.h>

enum batch_action { B_APPEND, B_APPEND_STRICT, B_UPDATE, B_DELETE, B_REPLACE };

static const struct {
    const char *name;
    enum batch_action action;
} ACTIONS[] = {
    {"append", B_APPEND},
    {"appendStrict", B_APPEND_STRICT},
    {"update", B_UPDATE},
    {"delete", B_DELETE},
    {"replace", B_REPLACE},
    {"APPEND", B_APPEND},
    {"APPEND_STRICT", B_APPEND_STRICT},
    {"UPDATE", B_UPDATE},
    {"DELETE", B_DELETE},
    {"REPLACE", B_REPLACE},
};

/* One entity of the request. */
typedef struct item {
    ngsi_entity *e;   /* NULL for a pattern */
    bool typed;       /* the request named the type: failures say "id/type" */
    char *id_pattern; /* delete by query */
    char *type_pattern;
} item;

typedef struct batch {
    enum batch_action action;
    item *items;
    size_t n;
    /* outcome */
    size_t n_ok, n_missing, n_failed, n_invalid, n_forbidden;
    ngsi_buf missing;   /* "do not exist: ..." */
    ngsi_buf exist;     /* "... already exist: ..." */
    ngsi_buf invalid;   /* "do not match their schemas: ..." (Tsunagi) */
    ngsi_buf forbidden; /* "not allowed: ..." (auth) */
} batch;

static void batch_clear(batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        ngsi_entity_free(b->items[i].e);
        free(b->items[i].id_pattern);
        free(b->items[i].type_pattern);
    }
    free(b->items);
    ngsi_buf_free(&b->missing);
    ngsi_buf_free(&b->exist);
    ngsi_buf_free(&b->invalid);
    ngsi_buf_free(&b->forbidden);
}

/* ----------------------------------------------------------- parsing */

static int parse_action(const json_t *v, enum batch_action *out, ngsi_error *err)
{
    for (size_t i = 0; json_is_string(v) && i < sizeof ACTIONS / sizeof *ACTIONS; i++)
        if (strcmp(json_string_value(v), ACTIONS[i].name) == 0) {
            *out = ACTIONS[i].action;
            return 0;
        }
    return ngsi_bad_request(err, "invalid update action type: right ones are: append, "
                                 "appendStric, delete, replace, update");
}

static int check_regex(const json_t *v, const char *what, ngsi_error *err)
{
    if (!json_is_string(v))
        return ngsi_bad_request(err, "Invalid JSON type for entity %s", what);
    return ngsi_check_pattern(json_string_value(v), what, err);
}

/* An entity given by idPattern: only a selector, only for delete. */
static int parse_pattern(const json_t *o, enum batch_action action, item *it, ngsi_error *err)
{
    json_t *idp = json_object_get(o, "idPattern"), *tp = json_object_get(o, "typePattern");
    json_t *type = json_object_get(o, "type");
    if (action != B_DELETE)
        return ngsi_bad_request(err, "idPattern is only allowed with actionType delete");
    if (check_regex(idp, "idPattern", err) < 0 || (tp && check_regex(tp, "typePattern", err) < 0))
        return -1;
    if (type != NULL && !json_is_string(type))
        return ngsi_bad_request(err, "Invalid JSON type for entity type");
    if (type != NULL && ngsi_check_name(json_string_value(type), NGSI_F_ENTITY_TYPE, err) < 0)
        return -1;
    if (type != NULL && tp != NULL)
        return ngsi_bad_request(err, "Incompatible parameters: type, typePattern");
    it->id_pattern = strdup(json_string_value(idp));
    if (tp != NULL) {
        it->type_pattern = strdup(json_string_value(tp));
    } else if (type != NULL) {
        /* an exact type, matched as such when the query is built */
        it->type_pattern = strdup(json_string_value(type));
        it->typed = true;
    }
    return 0;
}

static int parse_item(call *c, const json_t *o, enum batch_action action, item *it, ngsi_error *err)
{
    if (!json_is_object(o))
        return ngsi_bad_request(err, "entity is not a JSON object");
    bool has_id = json_object_get(o, "id") != NULL;
    bool has_pattern = json_object_get(o, "idPattern") != NULL;
    if (has_id && has_pattern)
        return ngsi_bad_request(err, "both /id/ and /idPattern/ present");
    if (!has_id && !has_pattern)
        return ngsi_bad_request(err, "nor /id/ nor /idPattern/ present");
    if (has_pattern)
        return parse_pattern(o, action, it, err);
    it->typed = json_object_get(o, "type") != NULL;
    it->e = ngsi_entity_parse(o, call_input(c), err);
    if (it->e == NULL)
        return -1;
    it->e->service_path = strdup(c->paths.path[0]);
    return 0;
}

static int parse_entities(call *c, const json_t *arr, batch *b, ngsi_error *err)
{
    if (!json_is_array(arr))
        return ngsi_bad_request(err, "not a JSON array");
    if (json_array_size(arr) == 0)
        return ngsi_bad_request(err, "empty entities vector");
    b->items = calloc(json_array_size(arr), sizeof *b->items);
    if (b->items == NULL)
        abort();
    for (size_t i = 0; i < json_array_size(arr); i++) {
        b->n++;
        if (parse_item(c, json_array_get(arr, i), b->action, &b->items[i], err) < 0)
            return -1;
    }
    return 0;
}

static int parse_batch(call *c, const json_t *body, batch *b, ngsi_error *err)
{
    if (!json_is_object(body))
        return ngsi_fail(err, 400, "ParseError", NGSI_TXT_PARSE_ERROR);
    if (json_object_size(body) == 0)
        return ngsi_bad_request(err, NGSI_TXT_EMPTY_PAYLOAD);
    if (json_object_get(body, "entities") == NULL)
        return ngsi_bad_request(err, "Invalid JSON payload, mandatory field /entities/ not found");
    if (json_object_get(body, "actionType") == NULL)
        return ngsi_bad_request(err, "Invalid JSON payload, mandatory field /actionType/ not "
                                     "found");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        if (strcmp(key, "actionType") == 0) {
            if (parse_action(v, &b->action, err) < 0)
                return -1;
        } else if (strcmp(key, "entities") != 0) {
            return ngsi_bad_request(err, "Unrecognized field in JSON payload: /%s/", key);
        }
    }
    return parse_entities(c, json_object_get(body, "entities"), b, err);
}

/* --------------------------------------------------------- outcomes */

static void entity_label(ngsi_buf *out, const item *it)
{
    ngsi_buf_puts(out, it->e->id);
    if (it->typed)
        ngsi_buf_printf(out, "/%s", it->e->type);
}

/* Orion writes the first entry "E - [entity itself]" and later ones
 * "E [entity itself]", without the dash. */
static void note_missing_entity(batch *b, const item *it)
{
    bool first = b->missing.len == 0;
    ngsi_buf_puts(&b->missing, first ? "do not exist: " : ", ");
    entity_label(&b->missing, it);
    ngsi_buf_puts(&b->missing, first ? " - [entity itself]" : " [entity itself]");
    b->n_missing++;
}

static void note_attrs(batch *b, const item *it, const ngsi_buf *names, bool missing)
{
    ngsi_buf *out = missing ? &b->missing : &b->exist;
    const char *head =
        missing ? "do not exist: " : "one or more of the attributes in the request already exist: ";
    ngsi_buf_puts(out, out->len ? ", " : head);
    entity_label(out, it);
    ngsi_buf_printf(out, " - [ %s ]", names->data);
    b->n_failed++;
}

/* An entity refused by its type's schema; reason is the validation text. */
static void note_invalid(batch *b, const item *it, const char *reason)
{
    ngsi_buf_puts(&b->invalid, b->invalid.len ? ", " : "do not match their schemas: ");
    entity_label(&b->invalid, it);
    ngsi_buf_printf(&b->invalid, " - [ %s ]", reason);
    b->n_invalid++;
}

/* An entity the caller may not write (auth): "not allowed: E1/T, E2". */
static void note_forbidden(batch *b, const item *it)
{
    ngsi_buf_puts(&b->forbidden, b->forbidden.len ? ", " : "not allowed: ");
    entity_label(&b->forbidden, it);
    b->n_forbidden++;
}

/* Orion's outcome: 404 when no entity existed, 422 Unprocessable when
 * nothing changed, PartialUpdate when something did. Tsunagi's own kinds
 * of failure (schemas, auth) are joined with "; "; when nothing was done
 * and the only refusals are auth's, the answer is 403. */
static int batch_result(call *c, batch *b, ngsi_error *err)
{
    size_t others = b->n_missing + b->n_failed + b->n_invalid;
    if (others + b->n_forbidden == 0) {
        reply_empty(c, 204);
        return 0;
    }
    ngsi_buf text = {0};
    const ngsi_buf *parts[] = {&b->missing, &b->exist, &b->invalid, &b->forbidden};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        if (parts[i]->len > 0)
            ngsi_buf_printf(&text, "%s%s", text.len ? "; " : "", parts[i]->data);
    int rc;
    if (b->n_ok > 0)
        rc = ngsi_fail(err, 422, "PartialUpdate", "%s", text.data);
    else if (others == 0)
        rc = ngsi_fail(err, 403, "Forbidden", "%s", text.data);
    else if (b->n_failed + b->n_invalid + b->n_forbidden == 0)
        rc = ngsi_not_found(err, "%s", text.data);
    else
        rc = ngsi_fail(err, 422, "Unprocessable", "%s", text.data);
    ngsi_buf_free(&text);
    return rc;
}

/* Check after against its type's schema; a refusal is noted, not fatal. */
static bool valid_or_noted(call *c, batch *b, const item *it, const ngsi_entity *after)
{
    ngsi_error verr = {0};
    if (call_validate_entity(c, after, &verr) == 0)
        return true;
    note_invalid(b, it, verr.description);
    return false;
}

/* ------------------------------------------------------------- work */

/* A change queued in the current bulk, reported once the bulk is written. */
typedef struct pending {
    change ch;
    ngsi_entity *owned_after; /* freed after reporting */
} pending;

typedef struct run {
    call *c;
    batch *b;
    store_bulk *bulk;
    store_result stored;
    json_t *touched; /* keys queued in the current bulk */
    pending *pending;
    size_t npending;
} run;

static void add_pending(run *r, enum change_kind kind, const ngsi_entity *before,
                        const ngsi_entity *after, ngsi_entity *owned_after)
{
    pending *p = realloc(r->pending, (r->npending + 1) * sizeof *p);
    if (p == NULL)
        abort();
    r->pending = p;
    r->pending[r->npending++] = (pending){
        .ch = {.kind = kind, .before = before, .after = owned_after ? owned_after : after},
        .owned_after = owned_after};
}

/* Report (when written) and forget the queued changes. */
static void settle_pending(run *r, bool written)
{
    for (size_t i = 0; i < r->npending; i++) {
        if (written)
            broker_changed(r->c, &r->pending[i].ch);
        ngsi_entity_free(r->pending[i].owned_after);
    }
    r->npending = 0;
}

static char *key_of(const ngsi_entity *e)
{
    ngsi_buf k = {0};
    ngsi_buf_printf(&k, "%s\x1f%s", e->id, e->type);
    return ngsi_buf_steal(&k);
}

static ngsi_entity *find_stored(run *r, const ngsi_entity *e)
{
    for (size_t i = 0; i < r->stored.n; i++)
        if (strcmp(r->stored.items[i]->id, e->id) == 0 &&
            strcmp(r->stored.items[i]->type, e->type) == 0)
            return r->stored.items[i];
    return NULL;
}

/* Read the stored state of items [from, n) with one query. */
static int load(run *r, size_t from, ngsi_error *err)
{
    const ngsi_entity **keys = calloc(r->b->n + 1, sizeof *keys);
    size_t n = 0;
    for (size_t i = from; i < r->b->n; i++)
        if (r->b->items[i].e != NULL)
            keys[n++] = r->b->items[i].e;
    store_result_clear(&r->stored);
    int rc = n ? store_entity_get_many(r->c->b->store, r->c->tenant, keys, n, &r->stored, err) : 0;
    free(keys);
    return rc;
}

/* Send what is queued, report it, and start a new bulk. */
static int flush(run *r, ngsi_error *err)
{
    int rc = store_bulk_execute(r->bulk, err);
    settle_pending(r, rc == 0);
    store_bulk_free(r->bulk);
    r->bulk = store_bulk_new(r->c->b->store, r->c->tenant);
    json_object_clear(r->touched);
    return rc;
}

/* An auth refusal of one entity becomes a note; only a database failure (5xx)
 * fails the batch. Returns 0 or -1. */
static int refused(run *r, item *it, const ngsi_error *why, ngsi_error *err)
{
    if (why->status >= 500) {
        *err = *why;
        return -1;
    }
    if (why->status == 404) /* personal data the caller may not see */
        note_missing_entity(r->b, it);
    else
        note_forbidden(r->b, it);
    return 0;
}

/* The entity once u is applied, if the caller may store it (auth) and it
 * matches its schema: 1 with *after (new), or 0 (noted) / -1 (database
 * failure) with *after NULL. */
static int allowed_after(run *r, item *it, const store_update *u, ngsi_entity **after,
                         ngsi_error *err)
{
    ngsi_error why = {0};
    *after = store_apply_update(u);
    int rc = authz_entity_after(r->c, *after, &why) == 0 ? 1 : refused(r, it, &why, err);
    if (rc == 1 && !valid_or_noted(r->c, r->b, it, *after))
        rc = 0;
    if (rc != 1) {
        ngsi_entity_free(*after);
        *after = NULL;
    }
    return rc;
}

/* Plan attribute changes of one stored entity and queue them. */
static int queue_attrs(run *r, item *it, const ngsi_entity *stored, enum store_attrs_mode mode,
                       ngsi_error *err)
{
    store_update u;
    ngsi_buf failed = {0};
    ngsi_entity *after = NULL;
    bool override_md = (r->c->options & OPT_OVERRIDE_METADATA) != 0;
    ngsi_attr *set = store_plan_attrs(stored, it->e, mode, override_md, ngsi_now(), &u, &failed);
    u.correlator = r->c->correlator_root;
    bool changes = store_update_changes(&u);
    int ok = changes ? allowed_after(r, it, &u, &after, err) : 1;
    if (ok <= 0) {
        ngsi_buf_free(&failed);
        free(set);
        return ok;
    }
    int rc = changes ? store_bulk_update(r->bulk, &u, err) : 0;
    if (rc == 0 && changes)
        add_pending(r, CHANGE_UPDATE, stored, NULL, after);
    else
        ngsi_entity_free(after);
    if (rc == 0 && changes) /* dateExpires alone is a change too */
        r->b->n_ok++;
    if (rc == 0 && failed.len > 0)
        note_attrs(r->b, it, &failed, mode == STORE_ATTRS_UPDATE);
    ngsi_buf_free(&failed);
    free(set);
    return rc;
}

/* delete with attributes removes those attributes; without, the entity. */
static int queue_delete(run *r, item *it, const ngsi_entity *stored, ngsi_error *err)
{
    if (it->e->nattrs == 0) {
        r->b->n_ok++;
        add_pending(r, CHANGE_DELETE, stored, NULL, NULL);
        return store_bulk_delete(r->bulk, stored, err);
    }
    const char **unset = calloc(it->e->nattrs, sizeof *unset);
    ngsi_buf failed = {0};
    size_t n = 0;
    for (size_t i = 0; i < it->e->nattrs; i++) {
        const char *name = it->e->attrs[i].name;
        if (ngsi_entity_find(stored, name) != NULL)
            unset[n++] = name;
        else
            ngsi_buf_printf(&failed, "%s%s", failed.len ? ", " : "", name);
    }
    store_update u = {.key = stored,
                      .unset = unset,
                      .nunset = n,
                      .mod_date = ngsi_now(),
                      .correlator = r->c->correlator_root};
    ngsi_entity *after = NULL;
    int ok = n > 0 ? allowed_after(r, it, &u, &after, err) : 1;
    int rc = ok < 0 ? -1 : ok > 0 && n > 0 ? store_bulk_update(r->bulk, &u, err) : 0;
    if (rc == 0 && ok > 0 && n > 0) {
        r->b->n_ok++;
        add_pending(r, CHANGE_UPDATE, stored, NULL, after);
    } else {
        ngsi_entity_free(after);
    }
    if (rc == 0 && failed.len > 0)
        note_attrs(r->b, it, &failed, true);
    ngsi_buf_free(&failed);
    free(unset);
    return rc;
}

static int queue_create(run *r, item *it, ngsi_error *err)
{
    ngsi_entity_stamp(it->e, ngsi_now());
    free(it->e->last_correlator);
    it->e->last_correlator = strdup(r->c->correlator_root);
    if (!valid_or_noted(r->c, r->b, it, it->e))
        return 0;
    r->b->n_ok++;
    add_pending(r, CHANGE_CREATE, NULL, it->e, NULL);
    return store_bulk_create(r->bulk, it->e, err);
}

/* Whether the caller may write it (auth): the stored entity, or the new one it
 * creates. 1, or 0 with the entity noted, or -1 on a database failure. */
static int permitted(run *r, item *it, const ngsi_entity *stored, ngsi_error *err)
{
    ngsi_error why = {0};
    bool creates = r->b->action == B_APPEND || r->b->action == B_APPEND_STRICT;
    int rc = stored    ? authz_entity(r->c, stored, AUTH_WRITE, &why)
             : creates ? authz_entity_after(r->c, it->e, &why)
                       : 0;
    return rc == 0 ? 1 : refused(r, it, &why, err);
}

static int queue_item(run *r, item *it, ngsi_error *err)
{
    const ngsi_entity *stored = find_stored(r, it->e);
    int ok = permitted(r, it, stored, err);
    if (ok <= 0)
        return ok;
    switch (r->b->action) {
    case B_APPEND:
        return stored ? queue_attrs(r, it, stored, STORE_ATTRS_UPSERT, err)
                      : queue_create(r, it, err);
    case B_APPEND_STRICT:
        return stored ? queue_attrs(r, it, stored, STORE_ATTRS_APPEND_STRICT, err)
                      : queue_create(r, it, err);
    default:
        break;
    }
    if (stored == NULL) {
        note_missing_entity(r->b, it);
        return 0;
    }
    if (r->b->action == B_DELETE)
        return queue_delete(r, it, stored, err);
    return queue_attrs(r, it, stored,
                       r->b->action == B_UPDATE ? STORE_ATTRS_UPDATE : STORE_ATTRS_REPLACE, err);
}

static int delete_pattern(run *r, const item *it, ngsi_error *err)
{
    store_query q = {.id_pattern = it->id_pattern, .paths = &r->c->paths};
    ngsi_list type = {.n = 1, .item = (char **)&it->type_pattern};
    if (it->typed) /* an exact type given with idPattern */
        q.types = &type;
    else
        q.type_pattern = it->type_pattern;
    store_result gone = {0};
    authz_vis vis; /* only what the caller may delete */
    long long n = authz_query(r->c, AUTH_WRITE, NULL, &vis, &q.vis, err);
    if (n == 0)
        n = store_entity_delete_where(r->c->b->store, r->c->tenant, &q, &gone, err);
    authz_vis_clear(&vis);
    for (long long i = 0; i < n; i++)
        broker_changed(r->c, &(change){.kind = CHANGE_DELETE, .before = gone.items[i]});
    store_result_clear(&gone);
    if (n > 0)
        r->b->n_ok++;
    return n < 0 ? -1 : 0;
}

static int run_items(run *r, ngsi_error *err)
{
    for (size_t i = 0; i < r->b->n; i++) {
        item *it = &r->b->items[i];
        if (it->e == NULL) {
            if (flush(r, err) < 0 || delete_pattern(r, it, err) < 0 || load(r, i + 1, err) < 0)
                return -1;
            continue;
        }
        char *key = key_of(it->e);
        bool again = json_object_get(r->touched, key) != NULL;
        if (again && (flush(r, err) < 0 || load(r, i, err) < 0)) {
            free(key);
            return -1;
        }
        json_object_set_new(r->touched, key, json_true());
        free(key);
        if (queue_item(r, it, err) < 0)
            return -1;
    }
    int rc = store_bulk_execute(r->bulk, err);
    settle_pending(r, rc == 0);
    return rc;
}

int h_op_update(call *c, ngsi_error *err)
{
    batch b = {0};
    json_t *body = call_json_body(c, err);
    if (body == NULL)
        return -1;
    int rc = parse_batch(c, body, &b, err);
    json_decref(body);
    if (rc == 0) {
        run r = {.c = c, .b = &b, .touched = json_object()};
        r.bulk = store_bulk_new(c->b->store, c->tenant);
        rc = load(&r, 0, err);
        if (rc == 0)
            rc = run_items(&r, err);
        settle_pending(&r, false); /* what an error left queued was not written */
        free(r.pending);
        store_bulk_free(r.bulk);
        store_result_clear(&r.stored);
        json_decref(r.touched);
    }
    if (rc == 0)
        rc = batch_result(c, &b, err);
    batch_clear(&b);
    return rc;
}
