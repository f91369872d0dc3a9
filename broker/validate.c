/*
 * broker/validate.c: entities checked against their type's JSON Schema.
 *
 * The town maps entity types to schemas ($id) in a JSON file; the schemas
 * are loaded and compiled once at start (tsunagi_schema). Schemas describe
 * the keyValues form of an entity, as Smart Data Models do, so an entity is
 * rendered that way before it is checked; for partial updates the broker
 * checks the entity as it will be once the update is applied.
 */
#include "broker_private.h"

#include <string.h>

int broker_schemas_load(broker *b, ngsi_error *err)
{
    schema_error se;
    json_error_t je;
    if (b->cfg.schema_map[0] == '\0' && b->cfg.schema_dir[0] == '\0')
        return 0;
    if (b->cfg.schema_map[0] == '\0' || b->cfg.schema_dir[0] == '\0')
        return ngsi_internal(err, "-schemaDir and -schemaMap go together");
    b->schemas = schema_registry_new();
    if (schema_registry_load_dir(b->schemas, b->cfg.schema_dir, &se) < 0 ||
        schema_registry_compile(b->schemas, &se) < 0)
        return ngsi_internal(err, "schemas in %s: %s", b->cfg.schema_dir, se.text);
    b->schema_types = json_load_file(b->cfg.schema_map, 0, &je);
    if (!json_is_object(b->schema_types))
        return ngsi_internal(err, "%s: not a JSON object of type to $id (%s)", b->cfg.schema_map,
                             je.text);
    const char *type;
    json_t *id;
    json_object_foreach(b->schema_types, type, id)
    {
        if (!json_is_string(id) || schema_registry_get(b->schemas, json_string_value(id)) == NULL)
            return ngsi_internal(err, "%s: type %s maps to an unknown schema", b->cfg.schema_map,
                                 type);
    }
    log_msg(LOG_INFO, "validating %zu entity types against %zu schemas",
            json_object_size(b->schema_types), schema_registry_size(b->schemas));
    return 0;
}

void broker_schemas_free(broker *b)
{
    schema_registry_free(b->schemas);
    json_decref(b->schema_types);
    b->schemas = NULL;
    b->schema_types = NULL;
}

const char *broker_schema_id(const broker *b, const char *type)
{
    if (b->schema_types == NULL)
        return NULL;
    return json_string_value(json_object_get(b->schema_types, type));
}

int call_validate_entity(call *c, const ngsi_entity *e, ngsi_error *err)
{
    const char *id = broker_schema_id(c->b, e->type);
    if (id == NULL)
        return 0;
    const schema *s = schema_registry_get(c->b->schemas, id);
    ngsi_render_opts o = {.mode = NGSI_KEYVALUES};
    json_t *kv = ngsi_entity_render(e, &o);
    schema_result res = SCHEMA_RESULT_INIT;
    int rc = 0;
    if (schema_validate(s, kv, &res) != 0)
        rc = ngsi_bad_request(err, "entity does not match the schema of type %s: %s", e->type,
                              schema_result_describe(&res));
    schema_result_free(&res);
    json_decref(kv);
    return rc;
}
