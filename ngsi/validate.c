/*
 * ngsi/validate.c: Orion's rules for ids, types, names and values.
 *
 * Orion refuses the characters <>"'=;() everywhere in text that may end up
 * in a web page (a defence against script injection it has always kept), and
 * additionally whitespace and &?/# in ids, types and names because those
 * appear in URLs. Clients depend on these refusals being identical.
 */
#include "ngsi.h"

#include <regex.h>
#include <string.h>

/* Refused in values, ids and URL parts alike. */
static const char FORBIDDEN[] = "<>\"'=;()";
/* Additionally refused in ids, types and names: they are URL path parts. */
static const char FORBIDDEN_IN_IDS[] = "&?/#";

bool ngsi_forbidden_char(char c)
{
    return c != '\0' && strchr(FORBIDDEN, c) != NULL;
}

static const char *field_label(int what)
{
    switch (what) {
    case NGSI_F_ENTITY_ID:
        return "entity id";
    case NGSI_F_ENTITY_TYPE:
        return "entity type";
    case NGSI_F_ATTR_NAME:
        return "attribute name";
    case NGSI_F_ATTR_TYPE:
        return "attribute type";
    case NGSI_F_MD_NAME:
        return "metadata name";
    case NGSI_F_MD_TYPE:
        return "metadata type";
    case NGSI_F_ATTR_VALUE:
        return "attribute value";
    case NGSI_F_MD_VALUE:
    default:
        return "metadata value";
    }
}

bool ngsi_has_forbidden_id_char(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 0x7f || strchr(FORBIDDEN, *p) != NULL ||
            strchr(FORBIDDEN_IN_IDS, *p) != NULL)
            return true;
    return false;
}

int ngsi_check_name(const char *s, enum ngsi_field what, ngsi_error *err)
{
    size_t len = strlen(s);
    if (len == 0)
        return ngsi_bad_request(err, "%s length: 0, min length supported: 1", field_label(what));
    if (len > NGSI_NAME_MAX)
        return ngsi_bad_request(err, "%s length: %zu, max length supported: %d", field_label(what),
                                len, NGSI_NAME_MAX);
    if (ngsi_has_forbidden_id_char(s))
        return ngsi_bad_request(err, "Invalid characters in %s", field_label(what));
    return 0;
}

int ngsi_check_uri_chars(const char *s, bool param, const char *except, ngsi_error *err)
{
    for (const char *p = s; *p; p++)
        if (ngsi_forbidden_char(*p) && (except == NULL || strchr(except, *p) == NULL))
            return ngsi_bad_request(err, param ? "invalid character in URI parameter"
                                               : "invalid character in URI");
    return 0;
}

int ngsi_check_pattern(const char *pattern, const char *what, ngsi_error *err)
{
    regex_t re;
    if (pattern == NULL)
        return 0;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return ngsi_bad_request(err, "Invalid regex for entity %s", what);
    regfree(&re);
    return 0;
}

bool ngsi_has_forbidden_char(const char *s)
{
    for (; *s; s++)
        if (ngsi_forbidden_char(*s))
            return true;
    return false;
}

static int check_value(const json_t *v, int what, int depth, ngsi_error *err)
{
    if (depth > NGSI_COMPOUND_DEPTH_MAX)
        /* Orion's text is unknown; this one avoids the parentheses that
         * Orion's HTML escaping would turn into &#40; &#41;. */
        return ngsi_fail(err, 400, "ParseError",
                         "max nesting level of compound value exceeded [max: %d]",
                         NGSI_COMPOUND_DEPTH_MAX);
    if (json_is_string(v) && ngsi_has_forbidden_char(json_string_value(v)))
        return ngsi_bad_request(err, "Invalid characters in %s", field_label(what));
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if (check_value(json_array_get(v, i), what, depth + 1, err) < 0)
                return -1;
    } else if (json_is_object(v)) {
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)v, key, item)
        {
            if (ngsi_has_forbidden_char(key))
                return ngsi_bad_request(err, "Invalid characters in %s", field_label(what));
            if (check_value(item, what, depth + 1, err) < 0)
                return -1;
        }
    }
    return 0;
}

int ngsi_value_check(const json_t *v, int what, ngsi_error *err)
{
    return check_value(v, what, 0, err);
}
