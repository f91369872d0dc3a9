/*
 * ngsi/error.c: error values.
 *
 * An ngsi_error is filled where a problem is found and rendered once, at the
 * HTTP layer, as Orion's {"error","description"} object. Returning -1 from
 * ngsi_fail lets a failing path be a single `return ngsi_fail(...)`.
 *
 * Orion HTML-escapes both strings of an error before sending them (a
 * description may quote user input and end up in a web page), so "(" goes
 * out as "&#40;". Clients compare these texts and their lengths, so we
 * escape the same characters the same way; '&' itself is left alone, as
 * Orion leaves it.
 */
#include "ngsi.h"

#include <stdio.h>
#include <string.h>

int ngsi_vfail(ngsi_error *err, int status, const char *name, const char *fmt, va_list ap)
{
    if (err == NULL)
        return -1;
    err->status = status;
    snprintf(err->name, sizeof err->name, "%s", name);
    vsnprintf(err->description, sizeof err->description, fmt, ap);
    return -1;
}

int ngsi_fail(ngsi_error *err, int status, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ngsi_vfail(err, status, name, fmt, ap);
    va_end(ap);
    return -1;
}

void ngsi_error_clear(ngsi_error *err)
{
    err->status = 0;
    err->name[0] = '\0';
    err->description[0] = '\0';
}

/* Orion's escapes for the characters it forbids in text. */
static const char *html_entity(char c)
{
    switch (c) {
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '(':
        return "&#40;";
    case ')':
        return "&#41;";
    case '=':
        return "&#61;";
    case '\'':
        return "&#39;";
    case '"':
        return "&quot;";
    case ';':
        return "&#59;";
    default:
        return NULL;
    }
}

static json_t *escaped(const char *s)
{
    ngsi_buf b = {0};
    ngsi_buf_puts(&b, "");
    for (; *s; s++) {
        const char *ent = html_entity(*s);
        if (ent != NULL)
            ngsi_buf_puts(&b, ent);
        else
            ngsi_buf_append(&b, s, 1);
    }
    /* A description may quote request bytes that are not UTF-8 (a %FF in
     * the URL); they go out as received, as Orion sends them, rather than
     * the description being lost. */
    json_t *v = json_stringn_nocheck(b.data, b.len);
    ngsi_buf_free(&b);
    return v;
}

json_t *ngsi_error_json(const ngsi_error *err)
{
    json_t *o = json_object();
    json_object_set_new(o, "error", escaped(err->name));
    json_object_set_new(o, "description", escaped(err->description));
    return o;
}
