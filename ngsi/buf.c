/*
 * ngsi/buf.c: a growable, always NUL-terminated byte buffer.
 *
 * Response bodies are built by appending into one of these and handed to
 * libmicrohttpd without a copy (ngsi_buf_steal). Allocation failure aborts:
 * the broker cannot answer anything sensible without memory, and checking
 * every append would hide the real logic.
 */
#include "ngsi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* First allocation; most bodies are a few hundred bytes. */
#define BUF_MIN_CAP 256

static void buf_reserve(ngsi_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : BUF_MIN_CAP;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        abort();
    b->data = p;
    b->cap = cap;
}

void ngsi_buf_append(ngsi_buf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void ngsi_buf_puts(ngsi_buf *b, const char *s)
{
    ngsi_buf_append(b, s, strlen(s));
}

void ngsi_buf_printf(ngsi_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void ngsi_buf_reset(ngsi_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void ngsi_buf_free(ngsi_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *ngsi_buf_steal(ngsi_buf *b)
{
    char *p = b->data ? b->data : strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
