/*
 * adapters/util/util.h: helpers shared by the adapters shipped with Tsunagi
 * (fhir, tourism, currency). Not part of the SDK: an outside adapter needs
 * only adapter.h, as adapters/template shows.
 */
#ifndef TSUNAGI_ADAPTER_UTIL_H
#define TSUNAGI_ADAPTER_UTIL_H

#include "adapter.h"

/* Longest instant text kept (ISO 8601 with fractions and an offset). */
#define UTIL_INSTANT_MAX 64

/* A string option, or def when absent. -1 after host->fail when present
 * but not a non-empty string. *out is borrowed from options (or def). */
int util_opt_string(adapter_ctx *ctx, const adapter_host *h, const json_t *options, const char *key,
                    const char *def, const char **out);
/* An integer option in [min, max], or def. */
int util_opt_int(adapter_ctx *ctx, const adapter_host *h, const json_t *options, const char *key,
                 long def, long min, long max, long *out);
/* The "headers" option ({"Name": "value"}) as an array for adapter_request;
 * *out points into a new array (free) whose strings are borrowed from
 * options. -1 after host->fail on a malformed option. */
int util_opt_headers(adapter_ctx *ctx, const adapter_host *h, const json_t *options,
                     adapter_header **out, size_t *n);

/* Seconds since the epoch of an ISO 8601 / RFC 3339 date or date-time
 * ("2024-05-01", "2024-05-01T09:00:00.123+09:00", "...Z"); a date-time
 * without an offset is taken as UTC. -1 when s is not one. */
int util_parse_instant(const char *s, double *out);
/* A date YYYY-MM-DD (only that). */
bool util_is_date(const char *s);
/* A number written as text ("12.5", "-3e2"), the whole of s. false for
 * anything else, and for "inf", "nan" and overflows, which no JSON number
 * can carry. */
bool util_parse_number(const char *s, double *out);
/* Why a record is skipped whose entity id (or an id it refers to) would
 * be longer than ADAPTER_ID_MAX. */
#define UTIL_ID_TOO_LONG "id too long"
/* printf an entity id into out (ADAPTER_ID_MAX + 1 bytes). false when it
 * does not fit: the caller skips the record (UTIL_ID_TOO_LONG), since a cut
 * id could be another record's, which the write would then overwrite. */
bool util_format_id(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether every character of s may appear in an NGSI-v2 entity id part. */
bool util_id_safe(const char *s);
/* Whether s holds a character NGSI-v2 refuses in values (<>"'=;()). */
bool util_has_forbidden(const char *s);
/* Copy s into out replacing characters NGSI-v2 refuses in values with
 * their full-width forms, so Japanese text keeps its meaning
 * ("(株)" becomes "（株）"). New string. */
char *util_clean_text(const char *s);
/* util_clean_text(s) as a JSON string, or NULL when s is NULL or empty (so
 * adapter_attr_set leaves the attribute out). New reference. */
json_t *util_text(const char *s);

/* 64-bit FNV-1a of n bytes, as 16 hex digits into out (17 bytes). Used to
 * notice which upstream records changed since the last run. */
void util_digest(const void *data, size_t n, char out[17]);

#endif
