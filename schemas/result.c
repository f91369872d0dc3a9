/*
 * schemas/result.c: collected violations and their one-line description.
 *
 * A violation owns two small strings (pointer and reason) and points to a
 * static keyword name. At most SCHEMA_RESULT_MAX_VIOLATIONS are kept; the
 * rest are only counted, so one bad item in a 100k-item array and 100k bad
 * items cost the same memory. When an allocation fails, the violation is
 * counted as dropped: the verdict (invalid) never depends on memory.
 *
 * The description joins "<pointer>: <keyword>: <reason>" with "; " inside a
 * fixed budget, whole violations only, and says how many did not fit. It
 * never cuts a UTF-8 sequence (property names in pointers are often
 * Japanese).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_private.h"

/* Room kept at the end of a description for " (and 12345 more)". */
#define DESCRIBE_SUFFIX_ROOM 32

void schema_error_set(schema_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof err->text, fmt, ap);
    va_end(ap);
}

void result_reset(schema_result *res)
{
    for (size_t i = 0; i < res->count; i++) {
        free(res->items[i].instance_path);
        free(res->items[i].reason);
    }
    free(res->items);
    free(res->description);
    memset(res, 0, sizeof *res);
}

void schema_result_free(schema_result *res)
{
    if (res)
        result_reset(res);
}

/* s[0..len) as a new string; caller frees. NULL when out of memory. */
static char *copy_n(const char *s, size_t len)
{
    char *c = malloc(len + 1);
    if (c) {
        memcpy(c, s, len);
        c[len] = '\0';
    }
    return c;
}

static int reserve(schema_result *res)
{
    if (res->count < res->cap)
        return 0;
    size_t cap = res->cap ? res->cap * 2 : 4;
    if (cap > SCHEMA_RESULT_MAX_VIOLATIONS)
        cap = SCHEMA_RESULT_MAX_VIOLATIONS;
    schema_violation *items = realloc(res->items, cap * sizeof *items);
    if (!items)
        return -1;
    res->items = items;
    res->cap = cap;
    return 0;
}

void result_add(schema_result *res, const char *path, size_t path_len, const char *keyword,
                const char *reason)
{
    free(res->description);
    res->description = NULL;
    if (res->count >= SCHEMA_RESULT_MAX_VIOLATIONS || reserve(res) < 0) {
        res->dropped++;
        return;
    }
    schema_violation v = {copy_n(path, path_len), keyword, copy_n(reason, strlen(reason))};
    if (!v.instance_path || !v.reason) {
        free(v.instance_path);
        free(v.reason);
        res->dropped++;
        return;
    }
    res->items[res->count++] = v;
}

/* Longest prefix of s that fits `room` bytes without splitting a UTF-8
 * sequence. */
static size_t utf8_prefix(const char *s, size_t len, size_t room)
{
    if (len <= room)
        return len;
    size_t n = room;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static int format_violation(const schema_violation *v, char *buf, size_t size)
{
    const char *path = v->instance_path[0] ? v->instance_path : "(root)";
    return snprintf(buf, size, "%s: %s: %s", path, v->keyword, v->reason);
}

const char *schema_result_describe(schema_result *res)
{
    if (res->description)
        return res->description;
    char *out = malloc(SCHEMA_DESCRIPTION_MAX);
    if (!out)
        return "";
    const size_t budget = SCHEMA_DESCRIPTION_MAX - DESCRIBE_SUFFIX_ROOM;
    size_t len = 0, shown = 0;
    out[0] = '\0';
    for (; shown < res->count; shown++) {
        char one[SCHEMA_DESCRIPTION_MAX];
        int n = format_violation(&res->items[shown], one, sizeof one);
        size_t need = (size_t)n + (shown ? 2 : 0);
        if (n < 0 || len + need > budget) {
            if (shown == 0) { /* even the first is too long: cut it */
                size_t keep = utf8_prefix(one, strlen(one), budget - 3);
                memcpy(out, one, keep);
                memcpy(out + keep, "...", 4);
                len = keep + 3;
                shown = 1;
            }
            break;
        }
        len += (size_t)snprintf(out + len, SCHEMA_DESCRIPTION_MAX - len, "%s%s", shown ? "; " : "",
                                one);
    }
    size_t hidden = res->count - shown + res->dropped;
    if (hidden > 0)
        snprintf(out + len, SCHEMA_DESCRIPTION_MAX - len, " (and %zu more)", hidden);
    res->description = out;
    return out;
}
