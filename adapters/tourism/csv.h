/*
 * adapters/tourism/csv.h: reading CSV (RFC 4180) and decoding Japanese text
 * files, for the tourism adapter.
 */
#ifndef TSUNAGI_TOURISM_CSV_H
#define TSUNAGI_TOURISM_CSV_H

#include <stdbool.h>
#include <stddef.h>

/* A cursor over CSV text (UTF-8, already decoded). */
typedef struct csv_reader {
    const char *p, *end;
    size_t line; /* line of the record last read, from 1 */
} csv_reader;

/* One record: n fields, each a NUL-terminated string in the record's own
 * storage (valid until the next csv_next or csv_record_free). */
typedef struct csv_record {
    char **field;
    size_t n;
    size_t cap;
    char *buf;
    size_t buflen, bufcap;
} csv_record;

void csv_init(csv_reader *r, const char *text, size_t len);
/* Read the next record: 1, 0 at the end, -1 on a quote left open. Fields
 * may be quoted ("a,b", "say ""hi""", line breaks inside quotes); records
 * end with CRLF or LF; blank lines are skipped. */
int csv_next(csv_reader *r, csv_record *rec);
void csv_record_free(csv_record *rec);

/* Whether n bytes are valid UTF-8. */
bool text_is_utf8(const char *s, size_t n);
/*
 * Decode a text file to UTF-8. encoding is "auto", "UTF-8" or "Shift_JIS"
 * (read as Windows-31J/CP932, the Shift_JIS that Japanese offices' Excel
 * writes, with its NEC and IBM extensions such as ① and ㈱). "auto": a UTF-8
 * BOM or valid UTF-8 means UTF-8, anything else Shift_JIS. A BOM is
 * dropped. Returns a new NUL-terminated string (free) with its length in
 * *outlen, or NULL with a reason in msg.
 */
char *text_decode(const char *in, size_t n, const char *encoding, size_t *outlen, char *msg,
                  size_t msgsz);

#endif
