/*
 * ngsi/store_plan.c: how incoming attributes change a stored entity.
 *
 * One pure function decides, for every attribute write (PATCH, POST and PUT
 * on .../attrs, upserts and batch operations), which attributes are written
 * and which are refused, so the single-entity routes and the bulk path of
 * /v2/op/update cannot drift apart. Metadata of an updated attribute are
 * merged with the stored ones unless overrideMetadata is given or the
 * request names an empty metadata object.
 */
#include "store_private.h"

#include <stdlib.h>
#include <string.h>

static void copy_md(ngsi_attr *to, const ngsi_md *m)
{
    ngsi_md *c = ngsi_attr_append_md(to);
    c->name = strdup(m->name);
    c->type = strdup(m->type);
    c->value = json_incref(m->value);
    if (c->name == NULL || c->type == NULL)
        abort();
}

/* Merge the stored metadata into a's: stored items keep their place
 * (replaced by the request's item of the same name), the request's new
 * ones follow. */
static void merge_metadata(ngsi_attr *a, const ngsi_attr *old)
{
    ngsi_attr merged = {0};
    for (size_t i = 0; i < old->nmd; i++) {
        const ngsi_md *mine = ngsi_attr_find_md(a, old->md[i].name);
        copy_md(&merged, mine != NULL ? mine : &old->md[i]);
    }
    for (size_t i = 0; i < a->nmd; i++)
        if (ngsi_attr_find_md(old, a->md[i].name) == NULL)
            copy_md(&merged, &a->md[i]);
    for (size_t i = 0; i < a->nmd; i++)
        ngsi_md_clear(&a->md[i]);
    free(a->md);
    a->md = merged.md;
    a->nmd = merged.nmd;
    a->md_cap = merged.md_cap;
}

/* Orion merges metadata unless overrideMetadata is given, and an explicit
 * "metadata":{} clears them. */
void store_merge_attr(ngsi_attr *a, const ngsi_attr *old, bool override_md, double now)
{
    a->cre_date = old ? old->cre_date : now;
    a->mod_date = now;
    bool clear = a->md_given && a->nmd == 0;
    if (old != NULL && !override_md && !clear)
        merge_metadata(a, old);
}

static void add_name(ngsi_buf *names, const char *name)
{
    if (names->len > 0)
        ngsi_buf_puts(names, ", ");
    ngsi_buf_puts(names, name);
}

ngsi_attr *store_plan_attrs(const ngsi_entity *stored, ngsi_entity *incoming,
                            enum store_attrs_mode mode, bool override_md, double now,
                            store_update *u, ngsi_buf *failed)
{
    ngsi_attr *set = calloc(incoming->nattrs + 1, sizeof *set);
    size_t nset = 0;
    if (set == NULL)
        abort();
    for (size_t i = 0; i < incoming->nattrs; i++) {
        ngsi_attr *a = &incoming->attrs[i];
        const ngsi_attr *old = ngsi_entity_find(stored, a->name);
        bool refused = (mode == STORE_ATTRS_APPEND_STRICT && old != NULL) ||
                       (mode == STORE_ATTRS_UPDATE && old == NULL);
        if (refused) {
            add_name(failed, a->name);
            continue;
        }
        store_merge_attr(a, mode == STORE_ATTRS_REPLACE ? NULL : old, override_md, now);
        set[nset++] = *a; /* shallow: incoming keeps ownership */
    }
    /* dateExpires is one of the attributes a replace drops when the
     * request does not name it again. */
    bool drop_expiry = mode == STORE_ATTRS_REPLACE && stored->exp_date != 0;
    *u = (store_update){.key = stored,
                        .set = set,
                        .nset = nset,
                        .replace = mode == STORE_ATTRS_REPLACE,
                        .expires = incoming->exp_date != 0 ? 1
                                   : drop_expiry           ? -1
                                                           : 0,
                        .exp_date = incoming->exp_date,
                        .mod_date = now};
    return set;
}

bool store_update_changes(const store_update *u)
{
    return u->nset > 0 || u->nunset > 0 || u->expires != 0 || u->replace;
}

ngsi_entity *store_apply_update(const store_update *u)
{
    ngsi_entity *after = ngsi_entity_copy(u->key);
    if (u->replace)
        while (after->nattrs > 0)
            ngsi_entity_remove(after, after->attrs[0].name);
    for (size_t i = 0; i < u->nunset; i++)
        ngsi_entity_remove(after, u->unset[i]);
    for (size_t i = 0; i < u->nset; i++) {
        ngsi_attr copy;
        ngsi_attr_copy(&copy, &u->set[i]);
        ngsi_entity_put(after, &copy);
    }
    if (u->expires > 0)
        after->exp_date = u->exp_date;
    else if (u->expires < 0)
        after->exp_date = 0;
    if (u->mod_date != 0)
        after->mod_date = u->mod_date;
    return after;
}
