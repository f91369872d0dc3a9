/*
 * broker/consent.c: residents' consents as stored, and whether one covers a read.
 *
 * A consent is a document in the tenant's tsunagi_consents collection:
 *   {"_id": "<24 hex>", "resident": "<common ID>", "service": "<client id>",
 *    "types": [...], "categories": [...], "purpose": "...",
 *    "created": <epoch s>, "expires": <epoch s, optional>, "revoked": <epoch s, optional>}
 * Revocation sets "revoked" instead of deleting, so the provision records that name a
 * consent keep pointing at what it said.
 */
#include "authz_private.h"

#include <string.h>

bool consent_active(const json_t *c, double now)
{
    const json_t *expires = json_object_get(c, "expires");
    return json_object_get(c, "revoked") == NULL &&
           (expires == NULL || json_number_value(expires) > now);
}

int consent_find_active(store *st, const char *tenant, const char *service, const char *resident,
                        double now, json_t **out, ngsi_error *err)
{
    json_t *filter = json_pack("{s:s,s:{s:b}}", "service", service, "revoked", "$exists", 0);
    if (resident != NULL)
        json_object_set_new(filter, "resident", json_string(resident));
    json_t *opts = json_pack("{s:{s:i}}", "sort", "created", 1);
    json_t *found = NULL;
    int rc = store_docs_find(st, tenant, AUTHZ_CONSENTS, filter, opts, &found, err);
    json_decref(filter);
    json_decref(opts);
    if (rc < 0)
        return -1;
    /* Expiry is decided here: a consent that ran out is simply no longer active. */
    json_t *active = json_array(), *c;
    size_t i;
    json_array_foreach(found, i, c)
    {
        if (consent_active(c, now))
            json_array_append(active, c);
    }
    json_decref(found);
    *out = active;
    return 0;
}

static bool array_has(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    if (s == NULL)
        return false;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return true;
    }
    return false;
}

bool consent_covers(const json_t *c, const char *type, const char *category, double now)
{
    if (!consent_active(c, now))
        return false;
    return array_has(json_object_get(c, "types"), type) ||
           array_has(json_object_get(c, "categories"), category);
}
