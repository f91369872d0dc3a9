/*
 * bench/loadgen_private.h: the parts of tsunagi-loadgen that can be tested
 * alone: request templates, a small random number generator, latency
 * percentiles, status sets for --expect, and /proc parsing.
 *
 * Private to bench/ and its unit test (tests/unit/test_loadgen.c). Nothing
 * here is thread-safe; the load generator is single-threaded.
 */
#ifndef TSUNAGI_BENCH_LOADGEN_PRIVATE_H
#define TSUNAGI_BENCH_LOADGEN_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Room for one error text; long enough for a path plus a reason. */
#define LG_ERROR_TEXT_MAX 256

/* Errors are values: every failing function fills one in and returns -1 or NULL. */
typedef struct lg_error {
    char text[LG_ERROR_TEXT_MAX];
} lg_error;

/* Fills err->text printf-style; always returns -1 so callers can `return lg_fail(...)`. */
int lg_fail(lg_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- growable byte buffer ---------------------------------------------- */

/* Always NUL-terminated once anything was appended; owns data (lg_buf_free). */
typedef struct lg_buf {
    char *data;
    size_t len;
    size_t cap;
} lg_buf;

int lg_buf_append(lg_buf *b, const char *s, size_t n, lg_error *err);
void lg_buf_clear(lg_buf *b);
void lg_buf_free(lg_buf *b);

/* ---- random numbers ---------------------------------------------------- */

/* xorshift64*: fast and good enough to spread keys; not for cryptography. */
typedef struct lg_rng {
    uint64_t state;
} lg_rng;

void lg_rng_seed(lg_rng *r, uint64_t seed);
uint64_t lg_rng_next(lg_rng *r);
/* Uniform in [0, k) without modulo bias; k must be > 0. */
uint64_t lg_rng_below(lg_rng *r, uint64_t k);

/* ---- templates ---------------------------------------------------------- */

/*
 * A URL or body template. Placeholders:
 *   {i}        the request counter (0, 1, 2, ... unique over the whole run)
 *   {i%K}      the counter modulo K (cycles over K seeded entities)
 *   {rand:K}   a uniform random number in [0, K)
 * K is a decimal integer > 0. Any other brace is literal text, so JSON bodies
 * need no escaping.
 */
typedef struct lg_template lg_template;

/* New template (free with lg_template_free), or NULL with err filled in. */
lg_template *lg_template_compile(const char *text, lg_error *err);
void lg_template_free(lg_template *t);
/* True when the template has no placeholder: expand it once and reuse it. */
bool lg_template_is_constant(const lg_template *t);
/* Appends the expansion for counter i to out (which is not cleared first). */
int lg_template_expand(const lg_template *t, uint64_t i, lg_rng *rng, lg_buf *out, lg_error *err);

/* ---- latencies ---------------------------------------------------------- */

/*
 * Every latency is kept (8 bytes a request) and sorted once at the end, so
 * percentiles are exact rather than bucketed.
 */
typedef struct lg_latencies {
    uint64_t *ns;
    size_t len;
    size_t cap;
} lg_latencies;

int lg_latencies_add(lg_latencies *l, uint64_t ns, lg_error *err);
void lg_latencies_sort(lg_latencies *l);
/*
 * Nearest-rank percentile of a sorted set: the smallest recorded value such
 * that at least p percent of all values are <= it. p = 100 gives the maximum,
 * p = 0 the minimum. Returns 0 for an empty set.
 */
uint64_t lg_latencies_percentile(const lg_latencies *sorted, double p);
void lg_latencies_free(lg_latencies *l);

/* ---- status sets (--expect 201,204) ------------------------------------- */

#define LG_STATUS_MIN 100
#define LG_STATUS_MAX 599

typedef struct lg_status_set {
    bool has[LG_STATUS_MAX + 1];
} lg_status_set;

/* Parses a comma-separated list of HTTP statuses, e.g. "201" or "201,204". */
int lg_status_set_parse(const char *text, lg_status_set *set, lg_error *err);
bool lg_status_set_has(const lg_status_set *set, long status);

/* ---- /proc -------------------------------------------------------------- */

/* utime + stime, in clock ticks, from the text of /proc/PID/stat. */
int lg_proc_parse_stat_ticks(const char *text, uint64_t *ticks, lg_error *err);
/* The kB value of a line like "VmHWM:\t  1234 kB" in the text of /proc/PID/status. */
int lg_proc_parse_status_kb(const char *text, const char *key, uint64_t *kb, lg_error *err);

/* Reads /proc/PID/stat and returns utime + stime in clock ticks. */
int lg_proc_cpu_ticks(pid_t pid, uint64_t *ticks, lg_error *err);
/* Reads /proc/PID/status and returns the value of key (e.g. "VmHWM") in kB. */
int lg_proc_status_kb(pid_t pid, const char *key, uint64_t *kb, lg_error *err);

#endif
