/*
 * adapters/tourism/csv.c: CSV records and text decoding.
 *
 * Japanese municipalities publish their open data as CSV made with Excel:
 * Shift_JIS (in fact Windows-31J) or UTF-8 with a BOM, CRLF line ends, and
 * quoted fields holding commas and line breaks. The reader follows RFC 4180
 * and accepts LF alone too. Decoding uses glibc's iconv ("CP932"), so no
 * extra library is needed.
 */
#include "csv.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void csv_init(csv_reader *r, const char *text, size_t len)
{
    r->p = text;
    r->end = text + len;
    r->line = 0;
}

static void put_char(csv_record *rec, char c)
{
    if (rec->buflen == rec->bufcap) {
        rec->bufcap = rec->bufcap ? rec->bufcap * 2 : 256;
        rec->buf = realloc(rec->buf, rec->bufcap);
        if (rec->buf == NULL)
            abort();
    }
    rec->buf[rec->buflen++] = c;
}

/* End the current field; fields are kept as offsets until the record ends,
 * because buf may move while it grows. */
static void end_field(csv_record *rec, size_t start)
{
    put_char(rec, '\0');
    if (rec->n == rec->cap) {
        rec->cap = rec->cap ? rec->cap * 2 : 32;
        rec->field = realloc(rec->field, rec->cap * sizeof *rec->field);
        if (rec->field == NULL)
            abort();
    }
    rec->field[rec->n++] = (char *)(uintptr_t)start;
}

static bool at_line_end(const csv_reader *r)
{
    return r->p == r->end || *r->p == '\n' ||
           (*r->p == '\r' && (r->p + 1 == r->end || r->p[1] == '\n'));
}

static void skip_line_end(csv_reader *r)
{
    if (r->p < r->end && *r->p == '\r')
        r->p++;
    if (r->p < r->end && *r->p == '\n')
        r->p++;
}

/* A quoted field; r->p is after the opening quote. -1 if never closed. */
static int quoted(csv_reader *r, csv_record *rec)
{
    for (;;) {
        if (r->p == r->end)
            return -1;
        char c = *r->p++;
        if (c == '"') {
            if (r->p < r->end && *r->p == '"') {
                put_char(rec, '"');
                r->p++;
                continue;
            }
            /* text after the closing quote (not RFC 4180) is kept, as Excel does */
            while (r->p < r->end && *r->p != ',' && !at_line_end(r))
                put_char(rec, *r->p++);
            return 0;
        }
        put_char(rec, c);
    }
}

int csv_next(csv_reader *r, csv_record *rec)
{
    rec->n = 0;
    rec->buflen = 0;
    while (r->p < r->end && (*r->p == '\n' || *r->p == '\r')) { /* blank lines */
        if (*r->p == '\n')
            r->line++;
        r->p++;
    }
    if (r->p == r->end)
        return 0;
    const char *start_p = r->p;
    for (;;) {
        size_t start = rec->buflen;
        if (*r->p == '"') {
            r->p++;
            if (quoted(r, rec) < 0)
                return -1;
        } else {
            while (r->p < r->end && *r->p != ',' && !at_line_end(r))
                put_char(rec, *r->p++);
        }
        end_field(rec, start);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            if (r->p == r->end || at_line_end(r)) { /* a trailing empty field */
                end_field(rec, rec->buflen);
                break;
            }
            continue;
        }
        break;
    }
    for (const char *q = start_p; q < r->p; q++)
        r->line += *q == '\n';
    r->line++;
    skip_line_end(r);
    for (size_t i = 0; i < rec->n; i++)
        rec->field[i] = rec->buf + (uintptr_t)rec->field[i];
    return 1;
}

void csv_record_free(csv_record *rec)
{
    free(rec->field);
    free(rec->buf);
    memset(rec, 0, sizeof *rec);
}

bool text_is_utf8(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned char c = *p++;
        int more = c < 0x80             ? 0
                   : (c & 0xe0) == 0xc0 ? 1
                   : (c & 0xf0) == 0xe0 ? 2
                   : (c & 0xf8) == 0xf0 ? 3
                                        : -1;
        if (more < 0 || (more == 1 && c < 0xc2) || end - p < more)
            return false;
        for (int i = 0; i < more; i++)
            if ((p[i] & 0xc0) != 0x80)
                return false;
        p += more;
    }
    return true;
}

static char *from_cp932(const char *in, size_t n, size_t *outlen, char *msg, size_t msgsz)
{
    iconv_t cd = iconv_open("UTF-8", "CP932");
    if (cd == (iconv_t)-1) {
        snprintf(msg, msgsz, "iconv cannot convert CP932 to UTF-8 here");
        return NULL;
    }
    size_t cap = n * 3 / 2 + 16, left = n, room = cap;
    char *out = malloc(cap + 1), *src = (char *)in, *dst = out;
    if (out == NULL)
        abort();
    while (left > 0) {
        if (iconv(cd, &src, &left, &dst, &room) != (size_t)-1)
            continue;
        if (errno == E2BIG) {
            size_t used = (size_t)(dst - out);
            cap *= 2;
            out = realloc(out, cap + 1);
            if (out == NULL)
                abort();
            dst = out + used;
            room = cap - used;
            continue;
        }
        snprintf(msg, msgsz, "not Shift_JIS text at byte %zu", n - left);
        free(out);
        iconv_close(cd);
        return NULL;
    }
    iconv_close(cd);
    *dst = '\0';
    *outlen = (size_t)(dst - out);
    return out;
}

char *text_decode(const char *in, size_t n, const char *encoding, size_t *outlen, char *msg,
                  size_t msgsz)
{
    bool bom = n >= 3 && memcmp(in, "\xef\xbb\xbf", 3) == 0;
    bool auto_ = strcasecmp(encoding, "auto") == 0;
    bool utf8 = strcasecmp(encoding, "UTF-8") == 0 || strcasecmp(encoding, "utf8") == 0 ||
                (auto_ && (bom || text_is_utf8(in, n)));
    if (!utf8 && !auto_ && strcasecmp(encoding, "Shift_JIS") != 0 &&
        strcasecmp(encoding, "SJIS") != 0 && strcasecmp(encoding, "CP932") != 0) {
        snprintf(msg, msgsz, "unknown encoding %s (auto, UTF-8 or Shift_JIS)", encoding);
        return NULL;
    }
    if (!utf8)
        return from_cp932(in, n, outlen, msg, msgsz);
    if (bom) {
        in += 3;
        n -= 3;
    }
    if (!text_is_utf8(in, n)) {
        snprintf(msg, msgsz, "not valid UTF-8");
        return NULL;
    }
    char *out = malloc(n + 1);
    if (out == NULL)
        abort();
    memcpy(out, in, n);
    out[n] = '\0';
    *outlen = n;
    return out;
}
