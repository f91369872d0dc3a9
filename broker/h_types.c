/*
 * broker/h_types.c: GET /v2/types and GET /v2/types/{type}.
 *
 * With auth on, a type is shown only to callers who may read all its
 * entities: its count and attributes describe every entity of the type.
 */
#include "authz.h"
#include "broker_private.h"

#include <string.h>

/* {"name":{"types":[...]}} as reported, emptied with noAttrDetail. */
static json_t *attrs_detail(json_t *attrs, bool detail)
{
    if (detail)
        return json_incref(attrs);
    json_t *out = json_object();
    const char *name;
    json_t *v;
    json_object_foreach(attrs, name, v)
        json_object_set_new(out, name, json_pack("{s:[]}", "types"));
    return out;
}

int h_types_list(call *c, ngsi_error *err)
{
    size_t offset, limit;
    store_types t;
    bool values = (c->options & OPT_VALUES) != 0;
    bool detail = !(c->options & OPT_NO_ATTR_DETAIL);
    call_paging(c, &offset, &limit);
    if (store_types_collect(c->b->store, c->tenant, &c->paths, NULL, !values && detail, &t, err) <
        0)
        return -1;
    json_t *out = json_array();
    size_t listed = 0; /* types the caller may see, in order; paging counts only these */
    for (size_t i = 0; i < t.n; i++) {
        const store_type_info *ti = &t.items[i];
        if (!authz_type_listed(c, ti->type) || listed++ < offset || listed > offset + limit)
            continue;
        if (values)
            json_array_append_new(out, json_string(ti->type));
        else
            json_array_append_new(out, json_pack("{s:s,s:o,s:I}", "type", ti->type, "attrs",
                                                 attrs_detail(ti->attrs, detail), "count",
                                                 (json_int_t)ti->count));
    }
    if (c->options & OPT_COUNT)
        c->total_count = (long long)listed;
    store_types_clear(&t);
    reply_json(c, 200, out);
    return 0;
}

int h_type_get(call *c, ngsi_error *err)
{
    store_types t;
    const char *type = c->nparams > 0 ? c->param[0] : "";
    bool detail = !(c->options & OPT_NO_ATTR_DETAIL);
    if (*type == '\0')
        return ngsi_bad_request(err, "entity type length: 0, min length supported: 1");
    if (!authz_type_listed(c, type))
        return authz_type_denied(c, type, err);
    if (store_types_collect(c->b->store, c->tenant, &c->paths, type, detail, &t, err) < 0)
        return -1;
    if (t.n == 0) {
        store_types_clear(&t);
        return ngsi_not_found(err, "Entity type not found");
    }
    json_t *out = json_pack("{s:o,s:I}", "attrs", attrs_detail(t.items[0].attrs, detail), "count",
                            (json_int_t)t.items[0].count);
    /* Tsunagi: the schema entities of this type must match, when the town
     * has set one (its document is at /tsunagi/schemas/{type}). */
    const char *schema_id = broker_schema_id(c->b, type);
    if (schema_id != NULL)
        json_object_set_new(out, "schema", json_string(schema_id));
    reply_json(c, 200, out);
    store_types_clear(&t);
    return 0;
}
