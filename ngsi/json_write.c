/*
 * ngsi/json_write.c: compact JSON output, byte-compatible with Orion.
 *
 * jansson's json_dumps prints reals with %.17g ("2.0", "3.2999999999999998")
 * while Orion prints 2 and 3.3, and clients compare Content-Length. So the
 * broker renders with this small writer: compact, raw UTF-8, '/' unescaped,
 * object keys in insertion order, numbers per ngsi_number_format.
 */
#include "ngsi.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Orion treats a double this close to an integer as that integer. */
#define INTEGRAL_EPSILON 1e-9
/* Beyond +-2^63 there is no int64 to print; Orion falls back to %.17g. */
#define INT64_LIMIT 9223372036854775807.0

void ngsi_number_format(double v, char out[NGSI_NUMBER_MAX])
{
    if (!(v < INT64_LIMIT && v > -INT64_LIMIT)) {
        snprintf(out, NGSI_NUMBER_MAX, "%.17g", v);
        return;
    }
    double r = round(v);
    if (fabs(v - r) <= INTEGRAL_EPSILON) {
        snprintf(out, NGSI_NUMBER_MAX, "%lld", (long long)r);
        return;
    }
    snprintf(out, NGSI_NUMBER_MAX, "%.9f", v);
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '0')
        out[--n] = '\0';
    if (n > 0 && out[n - 1] == '.')
        out[--n] = '\0';
}

static void write_string(ngsi_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    ngsi_buf_append(out, "\"", 1);
    size_t run = 0; /* start of the pending run of bytes needing no escape */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7];
        size_t n = 2;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
        } else if (c >= 0x20) {
            continue;
        } else {
            esc[0] = '\\';
            switch (c) {
            case '\b':
                esc[1] = 'b';
                break;
            case '\f':
                esc[1] = 'f';
                break;
            case '\n':
                esc[1] = 'n';
                break;
            case '\r':
                esc[1] = 'r';
                break;
            case '\t':
                esc[1] = 't';
                break;
            default:
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                n = 6;
            }
        }
        ngsi_buf_append(out, s + run, i - run);
        ngsi_buf_append(out, esc, n);
        run = i + 1;
    }
    ngsi_buf_append(out, s + run, len - run);
    ngsi_buf_append(out, "\"", 1);
}

static void write_object(ngsi_buf *out, const json_t *v)
{
    const char *key;
    json_t *item;
    bool first = true;
    ngsi_buf_append(out, "{", 1);
    json_object_foreach((json_t *)v, key, item)
    {
        if (!first)
            ngsi_buf_append(out, ",", 1);
        first = false;
        write_string(out, key, strlen(key));
        ngsi_buf_append(out, ":", 1);
        ngsi_json_write(out, item);
    }
    ngsi_buf_append(out, "}", 1);
}

static void write_array(ngsi_buf *out, const json_t *v)
{
    ngsi_buf_append(out, "[", 1);
    for (size_t i = 0; i < json_array_size(v); i++) {
        if (i > 0)
            ngsi_buf_append(out, ",", 1);
        ngsi_json_write(out, json_array_get(v, i));
    }
    ngsi_buf_append(out, "]", 1);
}

void ngsi_json_write(ngsi_buf *out, const json_t *v)
{
    char num[NGSI_NUMBER_MAX];
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        write_object(out, v);
        break;
    case JSON_ARRAY:
        write_array(out, v);
        break;
    case JSON_STRING:
        write_string(out, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        ngsi_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        ngsi_number_format(json_real_value(v), num);
        ngsi_buf_puts(out, num);
        break;
    case JSON_TRUE:
        ngsi_buf_append(out, "true", 4);
        break;
    case JSON_FALSE:
        ngsi_buf_append(out, "false", 5);
        break;
    case JSON_NULL:
        ngsi_buf_append(out, "null", 4);
        break;
    }
}

char *ngsi_json_dumps(const json_t *v)
{
    ngsi_buf b = {0};
    ngsi_json_write(&b, v);
    return ngsi_buf_steal(&b);
}
