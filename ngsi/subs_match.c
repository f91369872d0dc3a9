/*
 * ngsi/subs_match.c: does a stored change trigger a subscription?
 *
 * The decisions are Orion's subscription cache's (cache/subCache.cpp,
 * subMatch), made on the before and after images the broker reports:
 *   - the change gets one target alteration type: entityCreate,
 *     entityDelete, entityChange (a value, type, an attribute added or
 *     removed; or forcedUpdate), entityChange "only metadata", or
 *     entityUpdate (written, nothing changed);
 *   - a subscription without alterationTypes takes create and change; with
 *     them, entityUpdate also covers every change;
 *   - notifyOnMetadataChange false turns a metadata-only change into a mere
 *     update;
 *   - condition.attrs must meet the written attributes for an update, the
 *     changed ones (values, or metadata when notifyOnMetadataChange) for a
 *     change or a create, and is ignored for a delete;
 *   - then the subject entities, q, mq and the geo expression, on the entity
 *     as it is now (as it was, for a delete).
 * Which attributes a request wrote is read from the images: every write
 * stamps the attributes it writes and the entity with the same modification
 * time, and a removed attribute is one the before image has and the after
 * image lacks.
 */
#include "store_private.h"
#include "subs_private.h"

#include <string.h>

/* --------------------------------------------------------------- change */

static bool same_metadata(const ngsi_attr *a, const ngsi_attr *b)
{
    if (a->nmd != b->nmd)
        return false;
    for (size_t i = 0; i < a->nmd; i++) {
        const ngsi_md *m = ngsi_attr_find_md(b, a->md[i].name);
        if (m == NULL || strcmp(m->type, a->md[i].type) != 0 ||
            !json_equal(m->value, a->md[i].value))
            return false;
    }
    return true;
}

/* Classify one written or removed attribute. */
static void classify(subs_change *ch, const char *name)
{
    const ngsi_attr *old = ngsi_entity_find(ch->before, name);
    const ngsi_attr *now = ngsi_entity_find(ch->after, name);
    subs_list_push(&ch->touched, name);
    if (old == NULL || now == NULL || strcmp(old->type, now->type) != 0 ||
        !json_equal(old->value, now->value) || ch->forced)
        subs_list_push(&ch->changed, name);
    else if (!same_metadata(old, now))
        subs_list_push(&ch->md_changed, name);
}

static void init_update(subs_change *ch)
{
    const ngsi_entity *a = ch->after, *b = ch->before;
    for (size_t i = 0; i < a->nattrs; i++)
        if (a->mod_date != 0 && a->attrs[i].mod_date == a->mod_date)
            classify(ch, a->attrs[i].name);
    for (size_t i = 0; i < b->nattrs; i++)
        if (ngsi_entity_find(a, b->attrs[i].name) == NULL)
            classify(ch, b->attrs[i].name);
    if (ch->changed.n > 0 || ch->forced) {
        ch->alt = SUBS_ALT_CHANGE;
    } else if (ch->md_changed.n > 0) {
        ch->alt = SUBS_ALT_CHANGE;
        ch->md_only = true;
    } else {
        ch->alt = SUBS_ALT_UPDATE;
    }
}

void subs_change_init(subs_change *ch, int kind, const ngsi_entity *before,
                      const ngsi_entity *after, bool forced)
{
    memset(ch, 0, sizeof *ch);
    ch->kind = kind;
    ch->before = before;
    ch->after = after;
    ch->entity = after ? after : before;
    ch->forced = forced;
    if (kind == SUBS_ALT_UPDATE && before != NULL && after != NULL) {
        init_update(ch);
        return;
    }
    ch->alt = kind == SUBS_ALT_DELETE ? SUBS_ALT_DELETE : SUBS_ALT_CREATE;
    for (size_t i = 0; ch->entity != NULL && i < ch->entity->nattrs; i++) {
        subs_list_push(&ch->touched, ch->entity->attrs[i].name);
        subs_list_push(&ch->changed, ch->entity->attrs[i].name);
    }
}

void subs_change_clear(subs_change *ch)
{
    ngsi_list_clear(&ch->touched);
    ngsi_list_clear(&ch->changed);
    ngsi_list_clear(&ch->md_changed);
}

/* ---------------------------------------------------------------- match */

bool subs_path_covers(const char *sub_path, const char *entity_path)
{
    size_t n = strlen(sub_path);
    if (n < 2 || strcmp(sub_path + n - 2, "/#") != 0)
        return strcmp(sub_path, entity_path) == 0;
    n -= 2; /* "/a/#" covers "/a" and "/a/..."; "/#" covers everything */
    if (strncmp(sub_path, entity_path, n) != 0)
        return false;
    return entity_path[n] == '\0' || entity_path[n] == '/';
}

static bool alt_matches(const subs_sub *s, int target)
{
    if (s->nalt == 0)
        return (SUBS_ALT_DEFAULT & target) != 0;
    for (size_t i = 0; i < s->nalt; i++) {
        if (target == SUBS_ALT_CHANGE &&
            (s->alt[i] == SUBS_ALT_UPDATE || s->alt[i] == SUBS_ALT_CHANGE))
            return true;
        if (s->alt[i] == target)
            return true;
    }
    return false;
}

static bool attrs_meet(const ngsi_list *cond, const ngsi_list *names)
{
    if (cond->n == 0)
        return true;
    for (size_t i = 0; i < cond->n; i++)
        if (ngsi_list_has(names, cond->item[i]))
            return true;
    return false;
}

static bool conditions_meet(const subs_sub *s, const subs_change *ch, int target)
{
    if (target == SUBS_ALT_UPDATE)
        return attrs_meet(&s->cond_attrs, &ch->touched);
    if (target == SUBS_ALT_CHANGE || target == SUBS_ALT_CREATE)
        return attrs_meet(&s->cond_attrs, &ch->changed) ||
               (s->notify_on_md && ch->md_changed.n > 0 &&
                attrs_meet(&s->cond_attrs, &ch->md_changed));
    return true; /* entityDelete ignores condition.attrs */
}

static bool entity_matches(const subs_sub *s, const ngsi_entity *e)
{
    const subs_compiled *c = s->compiled;
    for (size_t i = 0; i < s->nentities; i++) {
        const subs_entity *se = &s->entities[i];
        bool id = se->id_pattern ? c->id_re_ok[i] && regexec(&c->id_re[i], e->id, 0, NULL, 0) == 0
                                 : strcmp(se->id, e->id) == 0;
        if (!id)
            continue;
        if (se->type == NULL)
            return true;
        if (se->type_pattern ? c->type_re_ok[i] && regexec(&c->type_re[i], e->type, 0, NULL, 0) == 0
                             : strcmp(se->type, e->type) == 0)
            return true;
    }
    return false;
}

/* The entity's location is the one the store keeps and queries (null and
 * ignoreType geo attributes are none), so a subscription and a query agree. */
static bool geo_matches(const geo_query *q, const ngsi_entity *e)
{
    geo_shape *shape;
    if (!store_entity_shape(e, &shape))
        return false;
    bool ok = geo_query_match(q, shape, NULL) == 1;
    geo_shape_free(shape);
    return ok;
}

int subs_target_alt(const subs_sub *s, const subs_change *ch)
{
    return ch->md_only && !s->notify_on_md ? SUBS_ALT_UPDATE : ch->alt;
}

bool subs_match(const subs_sub *s, const subs_change *ch, double now)
{
    const ngsi_entity *e = ch->entity;
    int target = subs_target_alt(s, ch);
    if (e == NULL || s->compiled == NULL)
        return false;
    if (s->expires != SUBS_PERMANENT && (double)s->expires < now)
        return false;
    if (!alt_matches(s, target) || !conditions_meet(s, ch, target))
        return false;
    if (!subs_path_covers(s->service_path ? s->service_path : "/#",
                          e->service_path ? e->service_path : "/"))
        return false;
    if (!entity_matches(s, e))
        return false;
    const subs_compiled *c = s->compiled;
    if (c->q != NULL && !q_match(c->q, e))
        return false;
    if (c->mq != NULL && !q_match(c->mq, e))
        return false;
    return c->geo == NULL || geo_matches(c->geo, e);
}
