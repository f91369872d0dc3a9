/*
 * geo_error.c - filling a geo_error.
 *
 * Every error this library reports is the client's: a location or a geo-query that is not
 * valid, which Orion answers with 400 BadRequest. So one helper fills all of them and returns -1,
 * letting a parser write `return geo_fail(err, ...);`.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ngsi/geo_private.h"

/* Fills err (if not NULL) with 400 BadRequest and the formatted description; returns -1. */
int geo_fail(geo_error *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return -1;
    err->status = 400;
    snprintf(err->name, sizeof(err->name), "%s", "BadRequest");
    va_start(ap, fmt);
    vsnprintf(err->description, sizeof(err->description), fmt, ap);
    va_end(ap);
    return -1;
}
