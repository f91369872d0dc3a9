/*
 * ngsi/entity.c: the in-memory entity and its attribute and metadata lists.
 *
 * Attributes are an array in creation order because Orion renders them in
 * that order and entities rarely have more than a few dozen: a linear search
 * beats a hash table at that size and keeps the order for free.
 */
#include "ngsi.h"

#include <stdlib.h>
#include <string.h>

/* Grow an array of elem-sized items so that one more fits. */
static void *grow(void *arr, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return arr;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *p = realloc(arr, ncap * elem);
    if (p == NULL)
        abort();
    memset((char *)p + *cap * elem, 0, (ncap - *cap) * elem);
    *cap = ncap;
    return p;
}

ngsi_entity *ngsi_entity_new(void)
{
    ngsi_entity *e = calloc(1, sizeof *e);
    if (e == NULL)
        abort();
    return e;
}

void ngsi_md_clear(ngsi_md *m)
{
    free(m->name);
    free(m->type);
    json_decref(m->value);
    memset(m, 0, sizeof *m);
}

void ngsi_attr_clear(ngsi_attr *a)
{
    free(a->name);
    free(a->type);
    json_decref(a->value);
    for (size_t i = 0; i < a->nmd; i++)
        ngsi_md_clear(&a->md[i]);
    free(a->md);
    memset(a, 0, sizeof *a);
}

void ngsi_entity_free(ngsi_entity *e)
{
    if (e == NULL)
        return;
    free(e->id);
    free(e->type);
    free(e->service_path);
    free(e->last_correlator);
    for (size_t i = 0; i < e->nattrs; i++)
        ngsi_attr_clear(&e->attrs[i]);
    free(e->attrs);
    free(e);
}

static char *dup_or_null(const char *s)
{
    char *p = s ? strdup(s) : NULL;
    if (s != NULL && p == NULL)
        abort();
    return p;
}

void ngsi_attr_copy(ngsi_attr *out, const ngsi_attr *a)
{
    memset(out, 0, sizeof *out);
    out->name = dup_or_null(a->name);
    out->type = dup_or_null(a->type);
    out->value = json_incref(a->value); /* values are never modified in place */
    out->cre_date = a->cre_date;
    out->mod_date = a->mod_date;
    for (size_t i = 0; i < a->nmd; i++) {
        ngsi_md *m = ngsi_attr_append_md(out);
        m->name = dup_or_null(a->md[i].name);
        m->type = dup_or_null(a->md[i].type);
        m->value = json_incref(a->md[i].value);
    }
}

void ngsi_entity_stamp(ngsi_entity *e, double now)
{
    e->cre_date = e->mod_date = now;
    for (size_t i = 0; i < e->nattrs; i++)
        e->attrs[i].cre_date = e->attrs[i].mod_date = now;
}

ngsi_entity *ngsi_entity_copy(const ngsi_entity *e)
{
    ngsi_entity *c = ngsi_entity_new();
    c->id = dup_or_null(e->id);
    c->type = dup_or_null(e->type);
    c->service_path = dup_or_null(e->service_path);
    c->cre_date = e->cre_date;
    c->mod_date = e->mod_date;
    c->exp_date = e->exp_date;
    c->last_correlator = dup_or_null(e->last_correlator);
    for (size_t i = 0; i < e->nattrs; i++)
        ngsi_attr_copy(ngsi_entity_append(c), &e->attrs[i]);
    return c;
}

ngsi_attr *ngsi_entity_find(const ngsi_entity *e, const char *name)
{
    for (size_t i = 0; i < e->nattrs; i++)
        if (strcmp(e->attrs[i].name, name) == 0)
            return &e->attrs[i];
    return NULL;
}

ngsi_attr *ngsi_entity_append(ngsi_entity *e)
{
    e->attrs = grow(e->attrs, e->nattrs, &e->attrs_cap, sizeof *e->attrs);
    return &e->attrs[e->nattrs++];
}

int ngsi_entity_remove(ngsi_entity *e, const char *name)
{
    ngsi_attr *a = ngsi_entity_find(e, name);
    if (a == NULL)
        return -1;
    size_t i = (size_t)(a - e->attrs);
    ngsi_attr_clear(a);
    memmove(&e->attrs[i], &e->attrs[i + 1], (e->nattrs - i - 1) * sizeof *a);
    e->nattrs--;
    memset(&e->attrs[e->nattrs], 0, sizeof *a);
    return 0;
}

void ngsi_entity_put(ngsi_entity *e, ngsi_attr *src)
{
    ngsi_attr *a = ngsi_entity_find(e, src->name);
    if (a != NULL)
        ngsi_attr_clear(a);
    else
        a = ngsi_entity_append(e);
    *a = *src;
    memset(src, 0, sizeof *src);
}

ngsi_md *ngsi_attr_find_md(const ngsi_attr *a, const char *name)
{
    for (size_t i = 0; i < a->nmd; i++)
        if (strcmp(a->md[i].name, name) == 0)
            return &a->md[i];
    return NULL;
}

ngsi_md *ngsi_attr_append_md(ngsi_attr *a)
{
    a->md = grow(a->md, a->nmd, &a->md_cap, sizeof *a->md);
    return &a->md[a->nmd++];
}

void ngsi_attr_put_md(ngsi_attr *a, ngsi_md *src)
{
    ngsi_md *m = ngsi_attr_find_md(a, src->name);
    if (m != NULL)
        ngsi_md_clear(m);
    else
        m = ngsi_attr_append_md(a);
    *m = *src;
    memset(src, 0, sizeof *src);
}

const char *ngsi_default_type(const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_STRING:
        return "Text";
    case JSON_INTEGER:
    case JSON_REAL:
        return "Number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "Boolean";
    case JSON_OBJECT:
    case JSON_ARRAY:
        return "StructuredValue";
    case JSON_NULL:
    default:
        return "None";
    }
}
