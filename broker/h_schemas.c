/*
 * broker/h_schemas.c: GET /tsunagi/schemas and GET /tsunagi/schemas/{type}.
 *
 * Vendors fetch the schemas the town validates against, so that they can
 * check their data before sending it. The list maps each validated entity
 * type to its schema's $id; the document of one type is served as loaded.
 * Both are public: schemas describe shapes, not data.
 */
#include "broker_private.h"

int h_schemas_list(call *c, ngsi_error *err)
{
    json_t *out = json_array();
    const char *type;
    json_t *id;
    if (c->b->schema_types != NULL)
        json_object_foreach(c->b->schema_types, type, id)
            json_array_append_new(out, json_pack("{s:s,s:O}", "type", type, "schema", id));
    reply_json(c, 200, out);
    return 0;
}

int h_schema_get(call *c, ngsi_error *err)
{
    const char *type = c->nparams > 0 ? c->param[0] : "";
    const char *id = broker_schema_id(c->b, type);
    if (id == NULL)
        return ngsi_not_found(err, "No schema for entity type %s", type);
    const json_t *doc = schema_registry_document(c->b->schemas, id);
    if (doc == NULL) /* every mapped $id was checked at start */
        return ngsi_internal(err, "schema %s not loaded", id);
    reply_json(c, 200, json_deep_copy(doc));
    return 0;
}
