/*
 * ngsi/render.c: the entity model into response JSON.
 *
 * One walk serves every output mode: the attrs= list picks and orders the
 * attributes (Orion renders them in the order the list gives, and "*" stands
 * for all user attributes in entity order); builtins (dateCreated,
 * dateModified, dateExpires) appear only when named. The metadata= list does
 * the same for metadata. Values are shared with the model, not copied.
 */
#include "ngsi.h"

#include <stdlib.h>
#include <string.h>

static const char *const BUILTIN_ATTRS[] = {"dateCreated", "dateModified", "dateExpires"};
static const char *const BUILTIN_MD[] = {"dateCreated", "dateModified"};

static bool is_builtin(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, list[i]) == 0)
            return true;
    return false;
}

static json_t *datetime_value(double t)
{
    char text[NGSI_DATETIME_MAX];
    ngsi_datetime_format(t, text);
    return json_string(text);
}

/* A builtin attribute as a temporary attribute in tmp; NULL when e has no
 * value for it (no expiry, or dates unknown). */
static const ngsi_attr *builtin_attr(const ngsi_entity *e, const char *name, ngsi_attr *tmp)
{
    double t = 0;
    if (strcmp(name, "dateCreated") == 0)
        t = e->cre_date;
    else if (strcmp(name, "dateModified") == 0)
        t = e->mod_date;
    else if (strcmp(name, "dateExpires") == 0)
        t = e->exp_date;
    if (t == 0)
        return NULL;
    tmp->name = strdup(name);
    tmp->type = strdup("DateTime");
    tmp->value = datetime_value(t);
    if (tmp->name == NULL || tmp->type == NULL)
        abort();
    return tmp;
}

/* A user attribute named like a builtin wins, as in Orion. */
const ngsi_attr *ngsi_entity_lookup(const ngsi_entity *e, const char *name, ngsi_attr *tmp)
{
    const ngsi_attr *a = ngsi_entity_find(e, name);
    if (a == NULL && is_builtin(name, BUILTIN_ATTRS, 3))
        return builtin_attr(e, name, tmp);
    return a;
}

static json_t *md_item(const char *type, json_t *value /* stolen */)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "value", value);
    return o;
}

/* A builtin metadata item (dateCreated, dateModified) of a into out, unless
 * the attribute has a user item of that name or no date for it. */
static void add_builtin_md(json_t *out, const ngsi_attr *a, const char *name)
{
    double t = strcmp(name, "dateCreated") == 0 ? a->cre_date : a->mod_date;
    if (t != 0 && ngsi_attr_find_md(a, name) == NULL)
        json_object_set_new(out, name, md_item("DateTime", datetime_value(t)));
}

static void add_md(json_t *out, const ngsi_md *m)
{
    json_object_set_new(out, m->name, md_item(m->type, json_incref(m->value)));
}

/* Like attributes: no filter or "*" gives the attribute's order (builtins
 * named beside "*" last); otherwise the filter's order. */
static json_t *render_metadata(const ngsi_attr *a, const ngsi_list *filter)
{
    json_t *out = json_object();
    bool all = filter == NULL || filter->n == 0 || ngsi_list_has(filter, "*");
    if (all) {
        for (size_t i = 0; i < a->nmd; i++)
            add_md(out, &a->md[i]);
        for (size_t k = 0; filter != NULL && k < sizeof BUILTIN_MD / sizeof *BUILTIN_MD; k++)
            if (ngsi_list_has(filter, BUILTIN_MD[k]))
                add_builtin_md(out, a, BUILTIN_MD[k]);
        return out;
    }
    for (size_t k = 0; k < filter->n; k++) {
        const ngsi_md *m = ngsi_attr_find_md(a, filter->item[k]);
        if (m != NULL)
            add_md(out, m);
        else if (is_builtin(filter->item[k], BUILTIN_MD, 2))
            add_builtin_md(out, a, filter->item[k]);
    }
    return out;
}

json_t *ngsi_attr_render(const ngsi_entity *e, const ngsi_attr *a, const ngsi_render_opts *o)
{
    (void)e;
    json_t *out = json_object();
    json_object_set_new(out, "type", json_string(a->type));
    json_object_set(out, "value", a->value);
    json_object_set_new(out, "metadata", render_metadata(a, o ? o->metadata : NULL));
    return out;
}

/* Call fn for each attribute selected by o->attrs, in output order. */
typedef void (*attr_fn)(const ngsi_entity *e, const ngsi_attr *a, const ngsi_render_opts *o,
                        json_t *out);

/* With "*" Orion renders every user attribute in the entity's order and
 * then the builtins the list names, in their fixed order; without it, the
 * list's order. */
static void for_each_with_all(const ngsi_entity *e, const ngsi_render_opts *o, attr_fn fn,
                              json_t *out)
{
    for (size_t i = 0; i < e->nattrs; i++)
        fn(e, &e->attrs[i], o, out);
    for (size_t k = 0; k < sizeof BUILTIN_ATTRS / sizeof *BUILTIN_ATTRS; k++) {
        ngsi_attr tmp = {0};
        const ngsi_attr *a = NULL;
        if (ngsi_list_has(o->attrs, BUILTIN_ATTRS[k]) &&
            ngsi_entity_find(e, BUILTIN_ATTRS[k]) == NULL)
            a = builtin_attr(e, BUILTIN_ATTRS[k], &tmp);
        if (a != NULL)
            fn(e, a, o, out);
        ngsi_attr_clear(&tmp);
    }
}

static void for_each_selected(const ngsi_entity *e, const ngsi_render_opts *o, attr_fn fn,
                              json_t *out)
{
    const ngsi_list *l = o->attrs;
    if (l != NULL && ngsi_list_has(l, "*")) {
        for_each_with_all(e, o, fn, out);
        return;
    }
    if (l == NULL || l->n == 0) {
        for (size_t i = 0; i < e->nattrs; i++)
            fn(e, &e->attrs[i], o, out);
        return;
    }
    for (size_t k = 0; k < l->n; k++) {
        ngsi_attr tmp = {0};
        const ngsi_attr *a = ngsi_entity_lookup(e, l->item[k], &tmp);
        if (a != NULL)
            fn(e, a, o, out);
        ngsi_attr_clear(&tmp);
    }
}

static void put_normalized(const ngsi_entity *e, const ngsi_attr *a, const ngsi_render_opts *o,
                           json_t *out)
{
    json_object_set_new(out, a->name, ngsi_attr_render(e, a, o));
}

static void put_keyvalue(const ngsi_entity *e, const ngsi_attr *a, const ngsi_render_opts *o,
                         json_t *out)
{
    json_object_set(out, a->name, a->value);
}

static void put_value(const ngsi_entity *e, const ngsi_attr *a, const ngsi_render_opts *o,
                      json_t *out)
{
    json_array_append(out, a->value);
}

/* unique: Orion drops a value that renders like one already in this
 * entity's list (it compares the rendered texts, so 1 and 1.0 are one). */
static void put_unique_value(const ngsi_entity *e, const ngsi_attr *a, const ngsi_render_opts *o,
                             json_t *out)
{
    char *text = ngsi_json_dumps(a->value);
    bool seen = false;
    for (size_t i = 0; i < json_array_size(out) && !seen; i++) {
        char *other = ngsi_json_dumps(json_array_get(out, i));
        seen = strcmp(text, other) == 0;
        free(other);
    }
    free(text);
    if (!seen)
        json_array_append(out, a->value);
}

json_t *ngsi_attrs_render(const ngsi_entity *e, const ngsi_render_opts *o)
{
    json_t *out;
    switch (o->mode) {
    case NGSI_VALUES:
        out = json_array();
        for_each_selected(e, o, put_value, out);
        return out;
    case NGSI_UNIQUE:
        out = json_array();
        for_each_selected(e, o, put_unique_value, out);
        return out;
    case NGSI_KEYVALUES:
        out = json_object();
        for_each_selected(e, o, put_keyvalue, out);
        return out;
    case NGSI_NORMALIZED:
    default:
        out = json_object();
        for_each_selected(e, o, put_normalized, out);
        return out;
    }
}

json_t *ngsi_entity_render(const ngsi_entity *e, const ngsi_render_opts *o)
{
    if (o->mode == NGSI_VALUES || o->mode == NGSI_UNIQUE)
        return ngsi_attrs_render(e, o);
    json_t *out = json_object();
    json_object_set_new(out, "id", json_string(e->id));
    json_object_set_new(out, "type", json_string(e->type));
    json_t *attrs = ngsi_attrs_render(e, o);
    json_object_update(out, attrs);
    json_decref(attrs);
    return out;
}
