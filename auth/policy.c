/*
 * auth/policy.c: entity-type classes and the access rules built on them.
 *
 * The town classes its entity types in the configuration file (open, restricted,
 * personal); everything else follows from three facts about the caller: its roles,
 * its scopes and whether it owns the entity or holds the owner's consent. This file
 * decides the first two per type; ownership and consent are facts about single
 * entities and the database, so auth_access() returns which of them would suffice
 * (bits) and the broker checks them.
 *
 * Design decisions (docs/auth.md):
 * - Roles say who the caller is, scopes say which types. Except for reading open data
 *   and a resident reading their own personal data, every access needs a scope item
 *   naming the type (entities:read:T, entities:write:T; `*` for any).
 * - A resident reads their own data as of right (no scope), but writing it is a
 *   capability the town grants with a scope.
 * - Vendors never write personal data; services read it only with consent; the town
 *   reads it all, and the broker records every such read.
 * - The policy is immutable once built and looked up by binary search, so it is shared
 *   by every request thread without locks.
 */
#include "auth/auth_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLASS_COUNT 3

typedef struct type_entry {
    char *type;
    auth_class cls;
    char *category; /* personal types only; NULL if none */
} type_entry;

struct auth_policy {
    type_entry *entries; /* sorted by type */
    size_t n;
    const char **all;                /* every type name, sorted; points into entries */
    const char **names[CLASS_COUNT]; /* per class, sorted */
    size_t counts[CLASS_COUNT];
};

static const char *const class_names[CLASS_COUNT] = {
    [AUTH_CLASS_RESTRICTED] = "restricted",
    [AUTH_CLASS_OPEN] = "open",
    [AUTH_CLASS_PERSONAL] = "personal",
};

const char *auth_class_name(auth_class c)
{
    return (size_t)c < CLASS_COUNT ? class_names[c] : "restricted";
}

static int class_from_name(const char *name, auth_class *out)
{
    for (size_t i = 0; i < CLASS_COUNT; i++)
        if (strcmp(class_names[i], name) == 0) {
            *out = (auth_class)i;
            return 0;
        }
    return -1;
}

void auth_policy_free(auth_policy *pol)
{
    if (pol == NULL)
        return;
    for (size_t i = 0; i < pol->n; i++) {
        free(pol->entries[i].type);
        free(pol->entries[i].category);
    }
    free(pol->entries);
    free(pol->all);
    for (size_t c = 0; c < CLASS_COUNT; c++)
        free(pol->names[c]);
    free(pol);
}

/* ---- building ---- */

static int check_name(const char *what, const char *s, size_t max, auth_error *err)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return auth_fail(err, AUTH_E_CONFIG, "entityTypes: %s must have 1 to %zu characters", what,
                         max);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || strchr("<>\"'=;()&?/#", s[i]) != NULL)
            return auth_fail(err, AUTH_E_CONFIG, "entityTypes: %s '%s' has a forbidden character",
                             what, s);
    return 0;
}

/* One "Type": value pair into e. */
static int parse_entry(const char *type, const json_t *v, type_entry *e, auth_error *err)
{
    const char *cls = json_string_value(v), *category = NULL;
    if (check_name("a type name", type, AUTH_TYPE_MAX, err) < 0)
        return -1;
    if (json_is_object(v)) {
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)v, key, item)
        {
            if (strcmp(key, "class") != 0 && strcmp(key, "category") != 0)
                return auth_fail(err, AUTH_E_CONFIG, "entityTypes.%s: unknown member '%s'", type,
                                 key);
        }
        cls = json_string_value(json_object_get(v, "class"));
        json_t *cat = json_object_get(v, "category");
        if (cat != NULL && !json_is_string(cat))
            return auth_fail(err, AUTH_E_CONFIG, "entityTypes.%s: category must be a string", type);
        category = json_string_value(cat);
    }
    if (cls == NULL || class_from_name(cls, &e->cls) < 0)
        return auth_fail(err, AUTH_E_CONFIG,
                         "entityTypes.%s: class must be open, restricted or personal", type);
    if (category != NULL && e->cls != AUTH_CLASS_PERSONAL)
        return auth_fail(err, AUTH_E_CONFIG, "entityTypes.%s: only personal types have a category",
                         type);
    if (category != NULL && check_name("a category", category, AUTH_CATEGORY_MAX, err) < 0)
        return -1;
    e->type = strdup(type);
    e->category = category ? strdup(category) : NULL;
    if (e->type == NULL || (category != NULL && e->category == NULL))
        return auth_fail(err, AUTH_E_INTERNAL, "out of memory building the policy");
    return 0;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const type_entry *)a)->type, ((const type_entry *)b)->type);
}

/* The per-class and overall name lists, once entries are sorted. */
static int index_names(auth_policy *pol, auth_error *err)
{
    pol->all = calloc(pol->n + 1, sizeof *pol->all);
    for (size_t c = 0; c < CLASS_COUNT; c++)
        pol->names[c] = calloc(pol->n + 1, sizeof *pol->names[c]);
    if (pol->all == NULL || !pol->names[0] || !pol->names[1] || !pol->names[2])
        return auth_fail(err, AUTH_E_INTERNAL, "out of memory building the policy");
    for (size_t i = 0; i < pol->n; i++) {
        type_entry *e = &pol->entries[i];
        pol->all[i] = e->type;
        pol->names[e->cls][pol->counts[e->cls]++] = e->type;
    }
    return 0;
}

auth_policy *auth_policy_new(const json_t *entity_types, auth_error *err)
{
    auth_policy *pol = calloc(1, sizeof *pol);
    if (pol == NULL) {
        auth_fail(err, AUTH_E_INTERNAL, "out of memory building the policy");
        return NULL;
    }
    if (entity_types != NULL && !json_is_object(entity_types)) {
        auth_fail(err, AUTH_E_CONFIG, "entityTypes must be an object");
        auth_policy_free(pol);
        return NULL;
    }
    size_t n = entity_types ? json_object_size(entity_types) : 0;
    pol->entries = calloc(n + 1, sizeof *pol->entries);
    int rc = pol->entries ? 0 : auth_fail(err, AUTH_E_INTERNAL, "out of memory");
    const char *type;
    json_t *v;
    if (entity_types != NULL && rc == 0) {
        json_object_foreach((json_t *)entity_types, type, v)
        {
            if ((rc = parse_entry(type, v, &pol->entries[pol->n], err)) < 0)
                break;
            pol->n++;
        }
    }
    if (rc == 0) {
        qsort(pol->entries, pol->n, sizeof *pol->entries, cmp_entry);
        rc = index_names(pol, err);
    }
    if (rc < 0) {
        auth_policy_free(pol);
        return NULL;
    }
    return pol;
}

/* ---- lookups ---- */

auth_class auth_policy_class(const auth_policy *pol, const char *type, const char **category)
{
    type_entry key = {.type = (char *)type};
    const type_entry *e =
        type ? bsearch(&key, pol->entries, pol->n, sizeof *pol->entries, cmp_entry) : NULL;
    if (category != NULL)
        *category = e ? e->category : NULL;
    return e ? e->cls : AUTH_CLASS_RESTRICTED;
}

size_t auth_policy_types(const auth_policy *pol, auth_class c, const char *const **names)
{
    if ((size_t)c >= CLASS_COUNT) {
        *names = NULL;
        return 0;
    }
    *names = pol->names[c];
    return pol->counts[c];
}

size_t auth_policy_all_types(const auth_policy *pol, const char *const **names)
{
    *names = pol->all;
    return pol->n;
}

/* ---- decisions ---- */

static const char *action_name(auth_action a)
{
    return a == AUTH_READ ? "read" : "write";
}

unsigned auth_access(const auth_policy *pol, const auth_principal *p, auth_action action,
                     const char *type)
{
    auth_class cls = auth_policy_class(pol, type, NULL);
    bool scoped = p != NULL && auth_principal_has_scope(p, "entities", action_name(action), type);
    bool read = action == AUTH_READ;
    unsigned access = 0;
    switch (cls) {
    case AUTH_CLASS_OPEN:
        if (read || (scoped && auth_principal_has_role(p, AUTH_ROLE_TOWN | AUTH_ROLE_ADAPTER)))
            access = AUTH_ACCESS_ALL;
        break;
    case AUTH_CLASS_RESTRICTED:
        access = scoped ? AUTH_ACCESS_ALL : 0;
        break;
    case AUTH_CLASS_PERSONAL:
        if (p == NULL)
            break;
        if (scoped &&
            auth_principal_has_role(p, read ? AUTH_ROLE_TOWN : AUTH_ROLE_TOWN | AUTH_ROLE_ADAPTER))
            access |= AUTH_ACCESS_ALL;
        if (auth_principal_has_role(p, AUTH_ROLE_RESIDENT) && (read || scoped))
            access |= AUTH_ACCESS_OWN;
        if (read && scoped && auth_principal_has_role(p, AUTH_ROLE_VENDOR | AUTH_ROLE_ADAPTER))
            access |= AUTH_ACCESS_CONSENTED;
        break;
    }
    return access;
}

int auth_access_denied(const auth_policy *pol, const auth_principal *p, auth_action action,
                       const char *type, auth_error *err)
{
    const char *act = action_name(action);
    auth_class cls = auth_policy_class(pol, type, NULL);
    /* Type names are long at most AUTH_TYPE_MAX; the text shows enough to recognise one. */
    int tn = 48;
    if (p == NULL)
        return auth_fail(err, AUTH_E_MISSING,
                         "no access token: entities of type %.*s need one, sent as "
                         "Authorization: Bearer TOKEN or X-Auth-Token: TOKEN",
                         tn, type);
    if (cls == AUTH_CLASS_OPEN)
        return auth_fail(err, AUTH_E_FORBIDDEN,
                         "writing open data needs role town or adapter and scope "
                         "entities:write:%.*s",
                         tn, type);
    if (cls == AUTH_CLASS_PERSONAL && action == AUTH_WRITE &&
        !auth_principal_has_role(p, AUTH_ROLE_TOWN | AUTH_ROLE_ADAPTER | AUTH_ROLE_RESIDENT))
        return auth_fail(err, AUTH_E_FORBIDDEN,
                         "personal data is written only by town, adapter or its owner");
    return auth_fail(err, AUTH_E_FORBIDDEN,
                     "the token does not allow to %s %s of type %.*s: it needs scope "
                     "entities:%s:%.*s",
                     act, cls == AUTH_CLASS_PERSONAL ? "personal data" : "entities", tn, type, act,
                     tn, type);
}

bool auth_sees_common_id(const auth_principal *p, const char *owner)
{
    if (p == NULL)
        return false;
    if (auth_principal_has_role(p, AUTH_ROLE_TOWN))
        return true;
    return owner != NULL && auth_principal_has_role(p, AUTH_ROLE_RESIDENT) &&
           strcmp(auth_principal_sub(p), owner) == 0;
}
