/*
 * bench/loadgen_lib.c: the testable pieces of tsunagi-loadgen.
 *
 * Design decisions:
 * - Templates are compiled once into segments (literal text, counter,
 *   counter modulo K, random below K) so that expanding one per request is a
 *   walk over a short array with no parsing. Only the three exact placeholder
 *   forms are special; every other brace is literal, which lets JSON bodies be
 *   written as they are. A brace that starts like a placeholder ("{i%",
 *   "{rand:") but is malformed is an error rather than silently literal, since
 *   it is almost surely a typo.
 * - Latencies are all kept and sorted, giving exact nearest-rank percentiles.
 *   8 bytes a request is cheap for benchmark-sized runs (10 M requests: 80 MB).
 * - /proc parsing works on text so it can be tested with fixed samples; the
 *   readers are thin wrappers. /proc/PID/stat is parsed from the last ')' on,
 *   because the command name in parentheses may itself hold spaces or ')'.
 */
#include "bench/loadgen_private.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* First allocation of a buffer; small bodies and URLs fit without regrowing. */
#define LG_BUF_MIN_CAP 256
/* First allocation of the latency array: one second at 64 k req/s. */
#define LG_LATENCIES_MIN_CAP 65536
/* /proc/PID/status is about 1.5 kB on Linux 6; leave ample headroom. */
#define LG_PROC_FILE_MAX 8192
/* Decimal digits of UINT64_MAX plus the terminating NUL. */
#define LG_U64_DIGITS 21

int lg_fail(lg_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->text, sizeof(err->text), fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- buffer ------------------------------------------------------------- */

int lg_buf_append(lg_buf *b, const char *s, size_t n, lg_error *err)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : LG_BUF_MIN_CAP;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *data = realloc(b->data, cap);
        if (!data)
            return lg_fail(err, "out of memory growing a buffer to %zu bytes", cap);
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

void lg_buf_clear(lg_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void lg_buf_free(lg_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- random numbers ----------------------------------------------------- */

void lg_rng_seed(lg_rng *r, uint64_t seed)
{
    /* xorshift must never hold 0; any fixed odd constant will do. */
    r->state = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

uint64_t lg_rng_next(lg_rng *r)
{
    uint64_t x = r->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

uint64_t lg_rng_below(lg_rng *r, uint64_t k)
{
    /* Reject the top sliver of the range that would bias small results. */
    uint64_t threshold = (0 - k) % k;
    for (;;) {
        uint64_t x = lg_rng_next(r);
        if (x >= threshold)
            return x % k;
    }
}

/* ---- templates ---------------------------------------------------------- */

typedef enum lg_seg_kind {
    LG_SEG_LITERAL,
    LG_SEG_COUNTER,
    LG_SEG_COUNTER_MOD,
    LG_SEG_RAND,
} lg_seg_kind;

typedef struct lg_segment {
    lg_seg_kind kind;
    size_t start; /* literal: offset into the template's text */
    size_t len;   /* literal: length */
    uint64_t k;   /* modulus or random range */
} lg_segment;

struct lg_template {
    char *text;
    lg_segment *segs;
    size_t nsegs;
};

/* Parses "<digits>}" at s into *k; returns characters consumed or -1. */
static long parse_k(const char *s, uint64_t *k, lg_error *err)
{
    uint64_t v = 0;
    long n = 0;
    while (s[n] >= '0' && s[n] <= '9') {
        uint64_t d = (uint64_t)(s[n] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return lg_fail(err, "placeholder number too large");
        v = v * 10 + d;
        n++;
    }
    if (n == 0 || s[n] != '}')
        return lg_fail(err, "placeholder needs a decimal number followed by '}'");
    if (v == 0)
        return lg_fail(err, "placeholder number must be > 0");
    *k = v;
    return n + 1;
}

/*
 * Recognises a placeholder at s (which points at '{'). Returns its length and
 * fills seg, 0 when s is a literal brace, or -1 on a malformed placeholder.
 */
static long parse_placeholder(const char *s, lg_segment *seg, lg_error *err)
{
    static const char counter[] = "{i}", mod[] = "{i%", rnd[] = "{rand:";
    long n;
    if (strncmp(s, counter, strlen(counter)) == 0) {
        seg->kind = LG_SEG_COUNTER;
        return (long)strlen(counter);
    }
    if (strncmp(s, mod, strlen(mod)) == 0) {
        seg->kind = LG_SEG_COUNTER_MOD;
        n = parse_k(s + strlen(mod), &seg->k, err);
        return n < 0 ? -1 : n + (long)strlen(mod);
    }
    if (strncmp(s, rnd, strlen(rnd)) == 0) {
        seg->kind = LG_SEG_RAND;
        n = parse_k(s + strlen(rnd), &seg->k, err);
        return n < 0 ? -1 : n + (long)strlen(rnd);
    }
    return 0;
}

static void push_literal(lg_template *t, size_t start, size_t end)
{
    if (end > start)
        t->segs[t->nsegs++] =
            (lg_segment){.kind = LG_SEG_LITERAL, .start = start, .len = end - start};
}

lg_template *lg_template_compile(const char *text, lg_error *err)
{
    lg_template *t = calloc(1, sizeof(*t));
    size_t n = strlen(text);
    /* A template of n characters has at most n + 1 segments. */
    if (!t || !(t->text = strdup(text)) || !(t->segs = calloc(n + 1, sizeof(*t->segs)))) {
        lg_template_free(t);
        lg_fail(err, "out of memory compiling a template");
        return NULL;
    }
    size_t lit = 0, pos = 0;
    while (pos < n) {
        lg_segment seg = {0};
        long used = t->text[pos] == '{' ? parse_placeholder(t->text + pos, &seg, err) : 0;
        if (used < 0) {
            char why[LG_ERROR_TEXT_MAX];
            snprintf(why, sizeof(why), "%s", err ? err->text : "");
            lg_fail(err, "template at offset %zu: %s", pos, why);
            lg_template_free(t);
            return NULL;
        }
        if (used == 0) {
            pos++;
            continue;
        }
        push_literal(t, lit, pos);
        t->segs[t->nsegs++] = seg;
        pos += (size_t)used;
        lit = pos;
    }
    push_literal(t, lit, n);
    return t;
}

void lg_template_free(lg_template *t)
{
    if (!t)
        return;
    free(t->text);
    free(t->segs);
    free(t);
}

bool lg_template_is_constant(const lg_template *t)
{
    for (size_t s = 0; s < t->nsegs; s++)
        if (t->segs[s].kind != LG_SEG_LITERAL)
            return false;
    return true;
}

static int append_u64(lg_buf *out, uint64_t v, lg_error *err)
{
    char digits[LG_U64_DIGITS];
    int n = snprintf(digits, sizeof(digits), "%" PRIu64, v);
    return lg_buf_append(out, digits, (size_t)n, err);
}

int lg_template_expand(const lg_template *t, uint64_t i, lg_rng *rng, lg_buf *out, lg_error *err)
{
    /* An empty template still yields a NUL-terminated (empty) string. */
    if (lg_buf_append(out, "", 0, err) < 0)
        return -1;
    for (size_t s = 0; s < t->nsegs; s++) {
        const lg_segment *seg = &t->segs[s];
        int rc = 0;
        switch (seg->kind) {
        case LG_SEG_LITERAL:
            rc = lg_buf_append(out, t->text + seg->start, seg->len, err);
            break;
        case LG_SEG_COUNTER:
            rc = append_u64(out, i, err);
            break;
        case LG_SEG_COUNTER_MOD:
            rc = append_u64(out, i % seg->k, err);
            break;
        case LG_SEG_RAND:
            rc = append_u64(out, lg_rng_below(rng, seg->k), err);
            break;
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* ---- latencies ---------------------------------------------------------- */

int lg_latencies_add(lg_latencies *l, uint64_t ns, lg_error *err)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : LG_LATENCIES_MIN_CAP;
        uint64_t *grown = realloc(l->ns, cap * sizeof(*grown));
        if (!grown)
            return lg_fail(err, "out of memory keeping %zu latencies", cap);
        l->ns = grown;
        l->cap = cap;
    }
    l->ns[l->len++] = ns;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void lg_latencies_sort(lg_latencies *l)
{
    if (l->len > 1)
        qsort(l->ns, l->len, sizeof(*l->ns), cmp_u64);
}

uint64_t lg_latencies_percentile(const lg_latencies *sorted, double p)
{
    if (sorted->len == 0)
        return 0;
    if (p <= 0)
        return sorted->ns[0];
    if (p >= 100)
        return sorted->ns[sorted->len - 1];
    /* rank = ceil(p/100 * n), computed in integers to avoid 0.1 + 0.2 surprises
     * at exact boundaries: p is scaled to millionths of a percent. */
    uint64_t scaled = (uint64_t)(p * 1e6 + 0.5);
    uint64_t num = scaled * (uint64_t)sorted->len;
    uint64_t den = 100ULL * 1000000ULL;
    uint64_t rank = (num + den - 1) / den;
    if (rank == 0)
        rank = 1;
    return sorted->ns[rank - 1];
}

void lg_latencies_free(lg_latencies *l)
{
    free(l->ns);
    l->ns = NULL;
    l->len = l->cap = 0;
}

/* ---- status sets -------------------------------------------------------- */

int lg_status_set_parse(const char *text, lg_status_set *set, lg_error *err)
{
    memset(set, 0, sizeof(*set));
    const char *p = text;
    for (;;) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < LG_STATUS_MIN || v > LG_STATUS_MAX)
            return lg_fail(err, "bad HTTP status list '%s' (want e.g. 201 or 201,204)", text);
        set->has[v] = true;
        if (*end == '\0')
            return 0;
        if (*end != ',')
            return lg_fail(err, "bad HTTP status list '%s' (want e.g. 201 or 201,204)", text);
        p = end + 1;
    }
}

bool lg_status_set_has(const lg_status_set *set, long status)
{
    return status >= LG_STATUS_MIN && status <= LG_STATUS_MAX && set->has[status];
}

/* ---- /proc -------------------------------------------------------------- */

/* Borrowed: a pointer into p, just past the next space-separated field. */
static const char *skip_field(const char *p)
{
    while (*p == ' ')
        p++;
    while (*p && *p != ' ')
        p++;
    return p;
}

static int parse_u64_field(const char **p, uint64_t *v)
{
    while (**p == ' ')
        (*p)++;
    if (**p < '0' || **p > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(*p, &end, 10);
    if (errno || (*end != ' ' && *end != '\n' && *end != '\0'))
        return -1;
    *v = x;
    *p = end;
    return 0;
}

int lg_proc_parse_stat_ticks(const char *text, uint64_t *ticks, lg_error *err)
{
    /* Fields (proc(5)): 1 pid, 2 (comm), 3 state, ..., 14 utime, 15 stime. */
    enum { FIELD_AFTER_COMM = 3, FIELD_UTIME = 14 };
    const char *p = strrchr(text, ')');
    if (!p)
        return lg_fail(err, "/proc stat: no ')' after the command name");
    p++;
    for (int field = FIELD_AFTER_COMM; field < FIELD_UTIME; field++) {
        p = skip_field(p);
        if (!*p)
            return lg_fail(err, "/proc stat: only %d fields", field);
    }
    uint64_t utime, stime;
    if (parse_u64_field(&p, &utime) < 0 || parse_u64_field(&p, &stime) < 0)
        return lg_fail(err, "/proc stat: utime/stime are not numbers");
    *ticks = utime + stime;
    return 0;
}

int lg_proc_parse_status_kb(const char *text, const char *key, uint64_t *kb, lg_error *err)
{
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;
         line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, key, klen) != 0 || line[klen] != ':')
            continue;
        const char *p = line + klen + 1;
        while (*p == ' ' || *p == '\t')
            p++;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p || errno || strncmp(end, " kB", 3) != 0)
            return lg_fail(err, "/proc status: %s is not '<number> kB'", key);
        *kb = v;
        return 0;
    }
    return lg_fail(err, "/proc status: no %s line", key);
}

/* Reads /proc/PID/<name> into buf (NUL-terminated). */
static int read_proc_file(pid_t pid, const char *name, char *buf, size_t size, lg_error *err)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lg_fail(err, "%s: %s", path, strerror(errno));
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return lg_fail(err, "%s: %s", path, strerror(e));
        }
        if (n == 0 || len + (size_t)n == size - 1) {
            len += (size_t)n;
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return 0;
}

int lg_proc_cpu_ticks(pid_t pid, uint64_t *ticks, lg_error *err)
{
    char buf[LG_PROC_FILE_MAX];
    if (read_proc_file(pid, "stat", buf, sizeof(buf), err) < 0)
        return -1;
    return lg_proc_parse_stat_ticks(buf, ticks, err);
}

int lg_proc_status_kb(pid_t pid, const char *key, uint64_t *kb, lg_error *err)
{
    char buf[LG_PROC_FILE_MAX];
    if (read_proc_file(pid, "status", buf, sizeof(buf), err) < 0)
        return -1;
    return lg_proc_parse_status_kb(buf, key, kb, err);
}
