/*
 * ngsi/parse.c: request JSON into the entity model.
 *
 * Both input forms land in the same structs: normalized attributes are
 * {"type","value","metadata"} objects, keyValues attributes are bare values
 * whose type is inferred as Orion infers it. DateTime values are checked and
 * normalised here so every later stage sees one canonical text form. The
 * dateExpires attribute is not an attribute in storage but the entity's
 * expiry, so it is lifted out into exp_date.
 */
#include "ngsi.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BUILTIN_EXPIRES "dateExpires"

/* Attribute names Orion refuses: entity keys, the geo:distance pseudo
 * attribute and the "all attributes" wildcard. */
static bool reserved_attr_name(const char *name)
{
    return strcmp(name, "id") == 0 || strcmp(name, "type") == 0 ||
           strcmp(name, "geo:distance") == 0 || strcmp(name, "*") == 0;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL)
        abort();
    return p;
}

/* Normalise a DateTime value to the canonical text; other types pass, and so
 * does null, which Orion allows as "no date". */
static int normalise_datetime(const char *type, json_t **value, ngsi_error *err)
{
    if (!ngsi_datetime_type(type) || json_is_null(*value))
        return 0;
    double t;
    if (!json_is_string(*value) || ngsi_datetime_parse(json_string_value(*value), &t) < 0)
        return ngsi_bad_request(err, "date has invalid format");
    char text[NGSI_DATETIME_MAX];
    ngsi_datetime_format(t, text);
    json_decref(*value);
    *value = json_string(text);
    return 0;
}

static int parse_md_item(const char *name, const json_t *v, ngsi_md *out, ngsi_error *err)
{
    if (ngsi_check_name(name, NGSI_F_MD_NAME, err) < 0)
        return -1;
    if (!json_is_object(v))
        return ngsi_bad_request(err, "metadata must be a JSON object");
    json_t *type = json_object_get(v, "type");
    json_t *value = json_object_get(v, "value");
    if (type != NULL && !json_is_string(type))
        return ngsi_bad_request(err, "invalid JSON type for metadata type");
    if (type != NULL && ngsi_check_name(json_string_value(type), NGSI_F_MD_TYPE, err) < 0)
        return -1;
    const char *key;
    json_t *item;
    json_object_foreach((json_t *)v, key, item)
    {
        if (strcmp(key, "type") != 0 && strcmp(key, "value") != 0)
            return ngsi_bad_request(err, "unrecognized property for metadata: /%s/", key);
    }
    out->name = xstrdup(name);
    out->value = value ? json_incref(value) : json_null();
    out->type = xstrdup(type ? json_string_value(type) : ngsi_default_type(out->value));
    if (ngsi_value_check(out->value, NGSI_F_MD_VALUE, err) < 0)
        return -1;
    return normalise_datetime(out->type, &out->value, err);
}

static int parse_metadata(const json_t *v, ngsi_attr *a, ngsi_error *err)
{
    if (!json_is_object(v))
        return ngsi_bad_request(err, "metadata must be a JSON object");
    const char *name;
    json_t *item;
    json_object_foreach((json_t *)v, name, item)
    {
        ngsi_md md = {0};
        if (parse_md_item(name, item, &md, err) < 0) {
            ngsi_md_clear(&md);
            return -1;
        }
        ngsi_attr_put_md(a, &md);
    }
    return 0;
}

/* The normalized form of one attribute: {"type","value","metadata"}. */
static int parse_normalized(const json_t *v, ngsi_attr *out, ngsi_error *err)
{
    if (!json_is_object(v))
        return ngsi_bad_request(err, "attribute must be a JSON object, unless keyValues option is "
                                     "used");
    json_t *type = json_object_get(v, "type");
    json_t *value = json_object_get(v, "value");
    json_t *md = json_object_get(v, "metadata");
    const char *key;
    json_t *item;
    json_object_foreach((json_t *)v, key, item)
    {
        if (strcmp(key, "type") != 0 && strcmp(key, "value") != 0 && strcmp(key, "metadata") != 0)
            return ngsi_bad_request(err, "unrecognized property for context attribute");
    }
    if (type != NULL && !json_is_string(type))
        return ngsi_bad_request(err, "invalid JSON type for attribute type");
    if (type != NULL && ngsi_check_name(json_string_value(type), NGSI_F_ATTR_TYPE, err) < 0)
        return -1;
    out->value = value ? json_incref(value) : json_null();
    out->type = xstrdup(type ? json_string_value(type) : ngsi_default_type(out->value));
    out->md_given = md != NULL;
    if (md != NULL && parse_metadata(md, out, err) < 0)
        return -1;
    return 0;
}

int ngsi_attr_parse(const char *name, const json_t *v, enum ngsi_input in, ngsi_attr *out,
                    ngsi_error *err)
{
    if (ngsi_check_name(name, NGSI_F_ATTR_NAME, err) < 0)
        return -1;
    if (reserved_attr_name(name))
        return ngsi_bad_request(err, "attribute name is reserved: %s", name);
    out->name = xstrdup(name);
    if (in == NGSI_IN_KEYVALUES) {
        out->value = json_incref((json_t *)v);
        out->type = xstrdup(ngsi_default_type(v));
    } else if (parse_normalized(v, out, err) < 0) {
        return -1;
    }
    /* Orion's escape hatch: TextUnrestricted values may hold any character. */
    if (strcmp(out->type, "TextUnrestricted") != 0 &&
        ngsi_value_check(out->value, NGSI_F_ATTR_VALUE, err) < 0)
        return -1;
    return normalise_datetime(out->type, &out->value, err);
}

/* dateExpires sets the entity's expiry instead of becoming an attribute. */
static int take_expires(ngsi_attr *a, ngsi_entity *into, ngsi_error *err)
{
    double t;
    if (!ngsi_datetime_type(a->type) || !json_is_string(a->value))
        return ngsi_bad_request(err, "error processing date expiration attribute, see log traces");
    if (ngsi_datetime_parse(json_string_value(a->value), &t) < 0)
        return ngsi_bad_request(err, "date has invalid format");
    into->exp_date = t;
    return 0;
}

/* Attributes after the entity's id and type have been taken out. */
static int parse_attr_members(const json_t *body, enum ngsi_input in, ngsi_entity *into,
                              ngsi_error *err)
{
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)body, name, v)
    {
        ngsi_attr a = {0};
        int rc = ngsi_attr_parse(name, v, in, &a, err);
        if (rc == 0 && strcmp(name, BUILTIN_EXPIRES) == 0)
            rc = take_expires(&a, into, err);
        else if (rc == 0)
            ngsi_entity_put(into, &a);
        ngsi_attr_clear(&a);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int ngsi_attrs_parse(const json_t *body, enum ngsi_input in, ngsi_entity *into, ngsi_error *err)
{
    if (!json_is_object(body))
        return ngsi_fail(err, 400, "ParseError", NGSI_TXT_PARSE_ERROR);
    if (json_object_size(body) == 0)
        return ngsi_bad_request(err, NGSI_TXT_EMPTY_PAYLOAD);
    if (json_object_get(body, "id") != NULL)
        return ngsi_bad_request(err, "entity id specified in payload");
    if (json_object_get(body, "type") != NULL)
        return ngsi_bad_request(err, "entity type specified in payload");
    return parse_attr_members(body, in, into, err);
}

static int entity_key(const json_t *body, const char *key, enum ngsi_field what, char **out,
                      ngsi_error *err)
{
    json_t *v = json_object_get(body, key);
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return ngsi_bad_request(err, "Invalid JSON type for entity %s", key);
    if (ngsi_check_name(json_string_value(v), what, err) < 0)
        return -1;
    *out = xstrdup(json_string_value(v));
    return 0;
}

ngsi_entity *ngsi_entity_parse(const json_t *body, enum ngsi_input in, ngsi_error *err)
{
    if (!json_is_object(body)) {
        ngsi_fail(err, 400, "ParseError", NGSI_TXT_PARSE_ERROR);
        return NULL;
    }
    if (json_object_size(body) == 0) {
        ngsi_bad_request(err, NGSI_TXT_EMPTY_PAYLOAD);
        return NULL;
    }
    ngsi_entity *e = ngsi_entity_new();
    json_t *rest = json_copy((json_t *)body); /* shallow: the attributes only */
    json_object_del(rest, "id");
    json_object_del(rest, "type");
    int rc = entity_key(body, "id", NGSI_F_ENTITY_ID, &e->id, err);
    if (rc == 0 && e->id == NULL)
        rc = ngsi_bad_request(err, "entity id length: 0, min length supported: 1");
    if (rc == 0)
        rc = entity_key(body, "type", NGSI_F_ENTITY_TYPE, &e->type, err);
    if (rc == 0 && e->type == NULL)
        e->type = xstrdup("Thing");
    if (rc == 0)
        rc = parse_attr_members(rest, in, e, err);
    json_decref(rest);
    if (rc < 0) {
        ngsi_entity_free(e);
        return NULL;
    }
    return e;
}

json_t *ngsi_json_parse(const char *text, size_t len, ngsi_error *err)
{
    json_error_t jerr;
    /* Orion keeps every number as a double; so do we, which also avoids
     * jansson refusing integers beyond int64. */
    json_t *v = json_loadb(text, len, JSON_DECODE_INT_AS_REAL | JSON_DECODE_ANY, &jerr);
    if (v == NULL)
        ngsi_fail(err, 400, "ParseError", NGSI_TXT_PARSE_ERROR);
    return v;
}

/* A number in text/plain is what strtod reads, trailing blanks allowed. */
static json_t *number_from_text(const char *s)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s) /* nothing read, blanks alone included */
        return NULL;
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
        end++;
    if (*end != '\0' || errno == ERANGE || !isfinite(d))
        return NULL;
    return json_real(d);
}

static bool one_of(const char *s, const char *a, const char *b, const char *c)
{
    return strcmp(s, a) == 0 || strcmp(s, b) == 0 || strcmp(s, c) == 0;
}

json_t *ngsi_value_from_text(const char *text, size_t len, ngsi_error *err)
{
    char *s = strndup(text, len);
    json_t *v = NULL;
    if (s == NULL)
        abort();
    len = strlen(s); /* a body with a NUL byte ends there, as in Orion */
    if (s[0] == '"') {
        /* Orion's closing quote is the last character, so a lone '"' is
         * an empty string. */
        if (s[len - 1] != '"')
            ngsi_bad_request(err, "Missing citation-mark at end of string");
        else if ((v = json_stringn(s + 1, len >= 2 ? len - 2 : 0)) == NULL)
            /* not UTF-8: no JSON string (nor BSON) can hold it */
            ngsi_bad_request(err, "Invalid characters in attribute value");
    } else if (one_of(s, "true", "True", "TRUE")) {
        v = json_true();
    } else if (one_of(s, "false", "False", "FALSE")) {
        v = json_false();
    } else if (one_of(s, "null", "Null", "NULL")) {
        v = json_null();
    } else if ((v = number_from_text(s)) == NULL) {
        ngsi_bad_request(err, "attribute value type not recognized");
    }
    free(s);
    if (v != NULL && ngsi_value_check(v, NGSI_F_ATTR_VALUE, err) < 0) {
        json_decref(v);
        v = NULL;
    }
    return v;
}
