/*
 * tests/integration/driver.c: runs tests/cases/ *.test against a real broker.
 *
 * Tests are data, in curl's manner: each file lists requests and the exact
 * responses expected (format in tests/cases/README.md). The driver starts
 * `tsunagi` on a free port against the real test database, runs every step,
 * and stops the broker with SIGTERM; a broker that exits non-zero (a crash,
 * a sanitizer report, a leak) fails the case even when every step passed.
 *
 * Expected texts may embed REGEX(...) and CAPTURE(name,regex); the whole
 * expectation is compiled into one PCRE2 pattern so that literal parts are
 * compared byte for byte.
 *
 * Auth cases mint their tokens with `--- token NAME` steps, HS256-signed with
 * the fixed test secret ${TEST_SECRET} that their `# broker-args:` give the
 * broker, unless the step names another secret.
 *
 * usage: driver --broker PATH [--receiver PATH] [--mongo-uri URI] FILE.test...
 * (without --mongo-uri: the test database of tests/support/testsupport.h)
 *
 * With --receiver, each file also gets a fresh notification receiver
 * (tests/integration/receiver.c) listening on two ports, ${RECEIVER} and
 * ${RECEIVER2} ("127.0.0.1:<port>"); requests may name a full URL to talk
 * to it. "--- broker2 ARGS" starts a second broker on the same database
 * (${PORT2}); "--- restart ARGS" restarts the first with extra arguments.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jwt.h>
#include <mongoc/mongoc.h>
#include <netinet/in.h>
#include <pcre2.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ngsi.h"
#include "testsupport.h"

#define MAX_VARS        32
#define MAX_HEADERS     32
#define BROKER_START_S  30 /* a sanitizer build starts slowly on a loaded machine */
#define BROKER_STOP_S   20
#define REQUEST_TIMEOUT 30L
/* The HS256 secret auth cases share with the broker (32 bytes, the least). */
#define TEST_SECRET "tsunagi-test-secret-0123456789ab"
/* Lifetime of a minted token without its own exp. */
#define TOKEN_LIFETIME_S 3600
/* Extra arguments a --- broker2 / --- restart step may give. */
#define MAX_EXTRA_ARGS 24

typedef struct var {
    char *name;
    char *value;
} var;

/* A process the driver started: a broker or the receiver. */
typedef struct proc {
    pid_t pid;
    int port;
} proc;

typedef struct ctx {
    const char *broker_path;
    const char *receiver_path;
    const char *mongo_uri;
    char db[64];
    int port;
    pid_t pid;
    proc broker2;
    proc receiver;
    char log_path[256];
    var vars[MAX_VARS];
    size_t nvars;
    const char *file;
    char *file_args; /* the case's "# broker-args:", for every broker it starts */
    int step;
} ctx;

typedef struct response {
    long status;
    ngsi_buf headers; /* "Name: value\n" lines as received */
    ngsi_buf body;
} response;

static int fail(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(ctx *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s, step %d: ", c->file, c->step);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

/* ------------------------------------------------------------ variables */

static void set_var(ctx *c, const char *name, const char *value)
{
    for (size_t i = 0; i < c->nvars; i++)
        if (strcmp(c->vars[i].name, name) == 0) {
            free(c->vars[i].value);
            c->vars[i].value = strdup(value);
            return;
        }
    if (c->nvars < MAX_VARS) {
        c->vars[c->nvars].name = strdup(name);
        c->vars[c->nvars++].value = strdup(value);
    }
}

/* ${repeat(N,text)}: text N times, for payloads too large to write out
 * (the 1 MB limit). Returns false when name is not of that form. */
static bool expand_repeat(ngsi_buf *b, const char *name)
{
    char *end;
    if (strncmp(name, "repeat(", 7) != 0)
        return false;
    unsigned long n = strtoul(name + 7, &end, 10);
    size_t len = strlen(end);
    if (*end != ',' || len < 2 || end[len - 1] != ')')
        return false;
    for (unsigned long i = 0; i < n; i++)
        ngsi_buf_append(b, end + 1, len - 2);
    return true;
}

/* ${now(+S)} or ${now(-S)}: the time S seconds from now as an ISO 8601
 * DateTime, for expiry cases. Returns false when name is not of that form. */
static bool expand_now(ngsi_buf *b, const char *name)
{
    char *end, text[NGSI_DATETIME_MAX];
    if (strncmp(name, "now(", 4) != 0)
        return false;
    double offset = strtod(name + 4, &end);
    if (strcmp(end, ")") != 0)
        return false;
    ngsi_datetime_format(ngsi_now() + offset, text);
    ngsi_buf_puts(b, text);
    return true;
}

/* ${name} replaced by its value; ${PORT} and ${DB} are predefined. New. */
static char *expand(ctx *c, const char *s)
{
    ngsi_buf b = {0};
    ngsi_buf_puts(&b, "");
    while (*s) {
        const char *end = strncmp(s, "${", 2) == 0 ? strchr(s, '}') : NULL;
        if (end == NULL) {
            ngsi_buf_append(&b, s++, 1);
            continue;
        }
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(end - s - 2), s + 2);
        if (expand_repeat(&b, name) || expand_now(&b, name)) {
            s = end + 1;
            continue;
        }
        const char *v = NULL;
        for (size_t i = 0; i < c->nvars; i++)
            if (strcmp(c->vars[i].name, name) == 0)
                v = c->vars[i].value;
        if (v != NULL)
            ngsi_buf_puts(&b, v);
        else
            ngsi_buf_append(&b, s, (size_t)(end - s + 1));
        s = end + 1;
    }
    return ngsi_buf_steal(&b);
}

/* ------------------------------------------------------------- matching */

/* Length of "(...)" at s (s points at '('), honouring \ escapes; 0 if
 * unbalanced. */
static size_t balanced(const char *s)
{
    int depth = 0;
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '\\' && s[i + 1]) {
            i++;
            continue;
        }
        if (s[i] == '(')
            depth++;
        else if (s[i] == ')' && --depth == 0)
            return i + 1;
    }
    return 0;
}

static void quote_literal(ngsi_buf *re, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strchr("\\^$.|?*+()[]{}", s[i]))
            ngsi_buf_append(re, "\\", 1);
        ngsi_buf_append(re, &s[i], 1);
    }
}

/* Turn an expectation with REGEX(...)/CAPTURE(n,...) into an anchored
 * PCRE2 pattern. */
static void expectation_pattern(const char *exp, ngsi_buf *re)
{
    ngsi_buf_puts(re, "^");
    const char *p = exp;
    while (*p) {
        const char *r = strstr(p, "REGEX(");
        const char *k = strstr(p, "CAPTURE(");
        const char *m = r && (!k || r < k) ? r : k;
        size_t len = m ? balanced(strchr(m, '(')) : 0;
        if (m == NULL || len == 0) {
            quote_literal(re, p, strlen(p));
            break;
        }
        quote_literal(re, p, (size_t)(m - p));
        const char *inner = strchr(m, '(') + 1;
        size_t inner_len = len - 2;
        if (m == r) {
            ngsi_buf_printf(re, "(?:%.*s)", (int)inner_len, inner);
        } else {
            const char *comma = memchr(inner, ',', inner_len);
            size_t nl = comma ? (size_t)(comma - inner) : 0;
            ngsi_buf_printf(re, "(?<%.*s>%.*s)", (int)nl, inner, (int)(inner_len - nl - 1),
                            comma ? comma + 1 : "");
        }
        p = strchr(m, '(') + len;
    }
    ngsi_buf_puts(re, "$");
}

/* Whether text matches exp; captures go into variables. */
static bool matches(ctx *c, const char *exp, const char *text, size_t len)
{
    ngsi_buf re = {0};
    int ec;
    PCRE2_SIZE eo;
    expectation_pattern(exp, &re);
    pcre2_code *code =
        pcre2_compile((PCRE2_SPTR)re.data, re.len, PCRE2_DOTALL | PCRE2_UTF, &ec, &eo, NULL);
    if (code == NULL) {
        fprintf(stderr, "bad expectation pattern: %s\n", re.data);
        ngsi_buf_free(&re);
        return false;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    bool ok = pcre2_match(code, (PCRE2_SPTR)text, len, 0, 0, md, NULL) >= 0;
    uint32_t count;
    PCRE2_SPTR table;
    uint32_t entry;
    pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &count);
    pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
    pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &entry);
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    for (uint32_t i = 0; ok && i < count; i++) {
        const unsigned char *t = table + i * entry;
        int n = (t[0] << 8) | t[1];
        char *v = strndup(text + ov[2 * n], ov[2 * n + 1] - ov[2 * n]);
        set_var(c, (const char *)(t + 2), v);
        free(v);
    }
    pcre2_match_data_free(md);
    pcre2_code_free(code);
    ngsi_buf_free(&re);
    return ok;
}

/* ------------------------------------------------------------- requests */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    ngsi_buf_append(ud, p, size * n);
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    size_t len = size * n;
    while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
        len--;
    if (len > 0 && memchr(p, ':', len) != NULL) {
        ngsi_buf_append(ud, p, len);
        ngsi_buf_append(ud, "\n", 1);
    }
    return size * n;
}

/* Send the request block text (request line, headers, blank, body). */
static int send_request(ctx *c, const char *text, response *r)
{
    char *req = expand(c, text);
    char *body = strstr(req, "\n\n");
    if (body != NULL) {
        *body = '\0';
        body += 2;
        size_t bl = strlen(body);
        if (bl > 0 && body[bl - 1] == '\n')
            body[bl - 1] = '\0';
    }
    char method[16], target[8192];
    char *line_end = strchr(req, '\n');
    if (line_end)
        *line_end = '\0';
    if (sscanf(req, "%15s %8191s", method, target) != 2) {
        fail(c, "bad request line '%s'", req);
        free(req);
        return -1;
    }
    char url[8400];
    if (strncmp(target, "http://", 7) == 0) /* the receiver, or a second broker */
        snprintf(url, sizeof url, "%s", target);
    else
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", c->port, target);
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    bool has_ct = false;
    for (char *l = line_end ? line_end + 1 : NULL; l && *l;) {
        char *nl = strchr(l, '\n');
        if (nl)
            *nl = '\0';
        has_ct = has_ct || strncasecmp(l, "Content-Type:", 13) == 0;
        /* "Name:" alone removes a header curl would add; "Name;" sends it empty */
        hdrs = curl_slist_append(hdrs, l);
        l = nl ? nl + 1 : NULL;
    }
    if (body && *body && !has_ct)
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, REQUEST_TIMEOUT);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r->headers);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (body && *body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    free(req);
    ngsi_buf_puts(&r->body, "");
    ngsi_buf_puts(&r->headers, "");
    return rc == CURLE_OK ? 0 : fail(c, "%s %s: %s", method, target, curl_easy_strerror(rc));
}

/* The value of header name in the received headers (first match), or NULL.
 * Writes into out. */
static const char *find_header(const response *r, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *l = r->headers.data; l && *l;) {
        const char *end = strchr(l, '\n');
        if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *v = l + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(out, n, "%.*s", (int)(end - v), v);
            return out;
        }
        l = end ? end + 1 : NULL;
    }
    return NULL;
}

/* Where header name starts in the received headers, or -1. */
static long header_pos(const response *r, const char *name, size_t nl)
{
    for (const char *l = r->headers.data; l && *l;) {
        if (strncasecmp(l, name, nl) == 0 && l[nl] == ':')
            return l - r->headers.data;
        const char *end = strchr(l, '\n');
        l = end ? end + 1 : NULL;
    }
    return -1;
}

/* "@order: A, B, C": these headers are present in this order (others may
 * come between them). */
static int check_order(ctx *c, const response *r, const char *list)
{
    long last = -1;
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        long at = header_pos(r, p, n);
        if (at < 0)
            return fail(c, "header %.*s missing; headers were:\n%s", (int)n, p, r->headers.data);
        if (at < last)
            return fail(c, "header %.*s out of order; headers were:\n%s", (int)n, p,
                        r->headers.data);
        last = at;
        p += n;
    }
    return 0;
}

static int check_header(ctx *c, const response *r, char *line)
{
    char got[4096];
    if (strncmp(line, "@order:", 7) == 0)
        return check_order(c, r, line + 7);
    if (line[0] == '!') {
        if (find_header(r, line + 1, got, sizeof got) != NULL)
            return fail(c, "header %s should be absent, got '%s'", line + 1, got);
        return 0;
    }
    char *colon = strchr(line, ':');
    if (colon == NULL)
        return fail(c, "bad expected header line '%s'", line);
    *colon = '\0';
    const char *want = colon + 1 + (colon[1] == ' ');
    if (find_header(r, line, got, sizeof got) == NULL)
        return fail(c, "header %s missing; headers were:\n%s", line, r->headers.data);
    if (!matches(c, want, got, strlen(got)))
        return fail(c, "header %s: expected '%s', got '%s'", line, want, got);
    return 0;
}

static int check_response(ctx *c, const char *text, const response *r)
{
    char *exp = expand(c, text);
    char *body = strstr(exp, "\n\n");
    int rc = 0;
    if (body != NULL) {
        *body = '\0';
        body += 2;
        size_t bl = strlen(body);
        if (bl > 0 && body[bl - 1] == '\n')
            body[bl - 1] = '\0';
    }
    char *line = strtok(exp, "\n");
    if (line == NULL || atol(line) != r->status)
        rc = fail(c, "status: expected %s, got %ld; body: %s", line ? line : "?", r->status,
                  r->body.data);
    while (rc == 0 && (line = strtok(NULL, "\n")) != NULL)
        rc = check_header(c, r, line);
    const char *want = body ? body : "";
    if (rc == 0 && strcmp(want, "...") != 0 && !matches(c, want, r->body.data, r->body.len))
        rc = fail(c, "body:\n  expected: %s\n  got:      %s", want, r->body.data);
    free(exp);
    return rc;
}

/* ------------------------------------------------------------- database */

static void drop_databases(ctx *c)
{
    ts_drop_databases(c->db); /* this run's prefix: ftest<pid> */
}

static int mongo_insert(ctx *c, const char *collection, const char *json)
{
    bson_error_t e;
    char *text = expand(c, json);
    bson_t *doc = bson_new_from_json((const uint8_t *)text, -1, &e);
    free(text);
    if (doc == NULL)
        return fail(c, "bad document: %s", e.message);
    mongoc_client_t *m = mongoc_client_new(c->mongo_uri);
    mongoc_collection_t *col = mongoc_client_get_collection(m, c->db, collection);
    bool ok = mongoc_collection_insert_one(col, doc, NULL, NULL, &e);
    mongoc_collection_destroy(col);
    mongoc_client_destroy(m);
    bson_destroy(doc);
    return ok ? 0 : fail(c, "insert: %s", e.message);
}

/* --------------------------------------------------------------- broker */

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(s, (struct sockaddr *)&a, sizeof a);
    getsockname(s, (struct sockaddr *)&a, &len);
    close(s);
    return ntohs(a.sin_port);
}

static bool answers(int port, const char *path)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *h = curl_easy_init();
    ngsi_buf sink = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 2L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    bool ok = curl_easy_perform(h) == CURLE_OK;
    curl_easy_cleanup(h);
    ngsi_buf_free(&sink);
    return ok;
}

/* Extra broker arguments from "# broker-args: ..." lines of the case file,
 * with ${SRC} (the source tree) and other variables expanded, as one
 * space-separated string (new; "" when there are none). Every broker the
 * case starts gets them. */
static char *file_args(ctx *c, const char *text)
{
    ngsi_buf b = {0};
    ngsi_buf_puts(&b, "");
    for (const char *l = text; l && *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        if (strncmp(l, "# broker-args:", 14) == 0) {
            char *line = strndup(l + 14, len - 14);
            char *args = expand(c, line);
            ngsi_buf_printf(&b, "%s%s", b.len ? " " : "", args);
            free(args);
            free(line);
        }
        l = nl ? nl + 1 : NULL;
    }
    return ngsi_buf_steal(&b);
}

/* Wait until p answers GET path; fails if it exits first. */
static int await_start(ctx *c, proc *p, const char *path, const char *what)
{
    for (int i = 0; i < BROKER_START_S * 20; i++) {
        if (answers(p->port, path))
            return 0;
        if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
            p->pid = 0;
            return fail(c, "%s exited at start; see %s", what, c->log_path);
        }
        usleep(50000);
    }
    return fail(c, "%s did not answer in %ds", what, BROKER_START_S);
}

/* Start a broker on the scenario's database; the case's broker-args and
 * extra (space-separated, may be NULL) follow the usual arguments. */
static int spawn_broker(ctx *c, proc *p, const char *extra)
{
    char port[16], *copy;
    if (asprintf(&copy, "%s %s", c->file_args ? c->file_args : "", extra ? extra : "") < 0)
        abort();
    char *argv[16 + MAX_EXTRA_ARGS] = {
        "tsunagi", "-port", port,        "-dbURI", (char *)c->mongo_uri,
        "-db",     c->db,   "-logLevel", "INFO",   "-expiryPurgeInterval",
        "1"};
    int argc = 11;
    for (char *tok = strtok(copy, " "); tok && argc < 15 + MAX_EXTRA_ARGS; tok = strtok(NULL, " "))
        argv[argc++] = tok;
    argv[argc] = NULL;
    p->port = free_port();
    snprintf(port, sizeof port, "%d", p->port);
    p->pid = fork();
    if (p->pid == 0) {
        int fd = open(c->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 2);
        dup2(fd, 1);
        execv(c->broker_path, argv);
        _exit(127);
    }
    free(copy);
    return await_start(c, p, "/version", "broker");
}

static int start_broker(ctx *c, const char *extra)
{
    proc p;
    int rc = spawn_broker(c, &p, extra);
    c->pid = p.pid;
    c->port = p.port;
    return rc;
}

static int start_receiver(ctx *c)
{
    char port[16], port2[16], addr[64];
    int p2 = free_port();
    c->receiver.port = free_port();
    snprintf(port, sizeof port, "%d", c->receiver.port);
    snprintf(port2, sizeof port2, "%d", p2);
    c->receiver.pid = fork();
    if (c->receiver.pid == 0) {
        int fd = open(c->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 2);
        dup2(fd, 1);
        execl(c->receiver_path, "receiver", "--port", port, "--port2", port2, (char *)NULL);
        _exit(127);
    }
    snprintf(addr, sizeof addr, "127.0.0.1:%d", c->receiver.port);
    set_var(c, "RECEIVER", addr);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", p2);
    set_var(c, "RECEIVER2", addr);
    return await_start(c, &c->receiver, "/count", "receiver");
}

/* SIGTERM, then wait for a clean exit (status 0). */
static int stop_proc(ctx *c, pid_t pid, const char *what)
{
    int status = 0;
    if (pid <= 0)
        return 0;
    kill(pid, SIGTERM);
    for (int i = 0; i < BROKER_STOP_S * 20; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
            return fail(c, "%s exited with status %d (see %s)", what, status, c->log_path);
        }
        usleep(50000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return fail(c, "%s did not stop within %ds of SIGTERM", what, BROKER_STOP_S);
}

static int stop_broker(ctx *c)
{
    int rc = stop_proc(c, c->pid, "broker");
    c->pid = 0;
    return rc;
}

/* --- broker2 ARGS: a second broker on the same database. */
static int step_broker2(ctx *c, const char *args)
{
    char port[16];
    if (stop_proc(c, c->broker2.pid, "second broker") < 0)
        return -1;
    int rc = spawn_broker(c, &c->broker2, args);
    snprintf(port, sizeof port, "%d", c->broker2.port);
    set_var(c, "PORT2", port);
    return rc;
}

/* --- restart ARGS: the first broker again, with extra arguments. */
static int step_restart(ctx *c, const char *args)
{
    char port[16];
    if (stop_broker(c) < 0)
        return -1;
    int rc = start_broker(c, args);
    snprintf(port, sizeof port, "%d", c->port);
    set_var(c, "PORT", port);
    return rc;
}

/* ------------------------------------------------------------- the file */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    ngsi_buf b = {0};
    char chunk[4096];
    size_t n;
    if (f == NULL)
        return NULL;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        ngsi_buf_append(&b, chunk, n);
    fclose(f);
    ngsi_buf_puts(&b, "");
    return ngsi_buf_steal(&b);
}

/* Drop a final paragraph made only of comment lines (the comment of the next
 * step): "...\n\n# a\n# b" ends at the blank line. */
static void strip_trailing_comments(char *block)
{
    char *blank = NULL;
    for (char *p = strstr(block, "\n\n"); p; p = strstr(p + 1, "\n\n"))
        if (p[2] != '\n' && p[2] != '\0')
            blank = p; /* the last blank line followed by text */
    if (blank == NULL || blank[2] != '#')
        return;
    for (char *l = blank + 2; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != '\0'))
        if (*l != '#' && *l != '\n')
            return;
    blank[1] = '\0';
}

/* Drop comment lines that come before a block's body. */
static void strip_comments(char *block)
{
    strip_trailing_comments(block);
    char *body = strstr(block, "\n\n");
    char *w = block;
    for (char *l = block; *l;) {
        char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l + 1) : strlen(l);
        bool in_body = body != NULL && l > body;
        if (in_body || l[0] != '#') {
            memmove(w, l, len);
            w += len;
        }
        l += len;
    }
    *w = '\0';
}

/* --- token NAME [secret=S] [kid=K]: mint an HS256 token with the claims in
 * block into ${NAME}. exp defaults to now + TOKEN_LIFETIME_S. */
static int mint_token(ctx *c, const char *args, const char *block)
{
    char name[64] = "", opt1[256] = "", opt2[256] = "", secret[256] = TEST_SECRET, kid[128] = "";
    sscanf(args, "%63s %255s %255s", name, opt1, opt2);
    const char *opts[] = {opt1, opt2};
    for (size_t i = 0; i < 2; i++) {
        if (strncmp(opts[i], "secret=", 7) == 0)
            snprintf(secret, sizeof secret, "%s", opts[i] + 7);
        else if (strncmp(opts[i], "kid=", 4) == 0)
            snprintf(kid, sizeof kid, "%s", opts[i] + 4);
        else if (opts[i][0] != '\0')
            return fail(c, "token step: unknown option '%s'", opts[i]);
    }
    char *claims = expand(c, block);
    char *end = strstr(claims, "\n\n"); /* the claims are the first paragraph */
    if (end != NULL)
        *end = '\0';
    json_t *obj = json_loads(claims, 0, NULL);
    if (obj != NULL && json_object_get(obj, "exp") == NULL)
        json_object_set_new(obj, "exp", json_integer((json_int_t)time(NULL) + TOKEN_LIFETIME_S));
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    jwt_t *jwt = NULL;
    char *token = NULL;
    if (text != NULL && jwt_new(&jwt) == 0 && jwt_add_grants_json(jwt, text) == 0) {
        if (kid[0])
            jwt_add_header(jwt, "kid", kid);
        if (jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret)) ==
            0)
            token = jwt_encode_str(jwt);
    }
    jwt_free(jwt);
    free(text);
    free(claims);
    if (name[0] == '\0' || token == NULL)
        return fail(c, "token step: cannot mint '%s' from %s", name, block);
    set_var(c, name, token);
    free(token);
    return 0;
}

static int run_step(ctx *c, const char *kind, char *block, response *last)
{
    if (strncmp(kind, "request", 7) == 0) {
        ngsi_buf_free(&last->headers);
        ngsi_buf_free(&last->body);
        memset(last, 0, sizeof *last);
        return send_request(c, block, last);
    }
    if (strncmp(kind, "response", 8) == 0)
        return check_response(c, block, last);
    if (strncmp(kind, "sleep ", 6) == 0) {
        double s = atof(kind + 6);
        struct timespec ts = {(time_t)s, (long)((s - (long)s) * 1e9)};
        nanosleep(&ts, NULL);
        return 0;
    }
    if (strncmp(kind, "mongo ", 6) == 0)
        return mongo_insert(c, kind + 6, block);
    if (strncmp(kind, "token ", 6) == 0)
        return mint_token(c, kind + 6, block);
    if (strncmp(kind, "broker2", 7) == 0)
        return step_broker2(c, kind + 7);
    if (strncmp(kind, "restart", 7) == 0)
        return step_restart(c, kind + 7);
    return fail(c, "unknown step '--- %s'", kind);
}

static int run_steps(ctx *c, char *text)
{
    response last = {0};
    int rc = 0;
    char *p = strstr(text, "--- ");
    while (rc == 0 && p != NULL) {
        char *kind = p + 4;
        char *eol = strchr(kind, '\n');
        if (eol == NULL)
            break;
        /* the next step line may follow at once (a body-less step) */
        char *next = strstr(eol, "\n--- ");
        char *block = next == eol ? eol : eol + 1;
        *eol = '\0';
        if (next != NULL && next != eol)
            *next = '\0';
        c->step++;
        strip_comments(block);
        rc = run_step(c, kind, block, &last);
        p = next ? next + 1 : NULL;
    }
    ngsi_buf_free(&last.headers);
    ngsi_buf_free(&last.body);
    return rc;
}

static int run_file(ctx *c, const char *path)
{
    char *text = read_file(path);
    char port[16];
    c->file = path;
    c->step = 0;
    if (text == NULL)
        return fail(c, "cannot read: %s", strerror(errno));
    drop_databases(c);
    const char *src = getenv("TSUNAGI_SOURCE_DIR");
    set_var(c, "SRC", src ? src : ".");
    free(c->file_args);
    c->file_args = file_args(c, text);
    int rc = start_broker(c, NULL);
    snprintf(port, sizeof port, "%d", c->port);
    set_var(c, "PORT", port);
    set_var(c, "DB", c->db);
    if (rc == 0 && c->receiver_path != NULL)
        rc = start_receiver(c);
    if (rc == 0)
        rc = run_steps(c, text);
    c->step = 0;
    rc = stop_broker(c) < 0 ? -1 : rc;
    rc = stop_proc(c, c->broker2.pid, "second broker") < 0 ? -1 : rc;
    rc = stop_proc(c, c->receiver.pid, "receiver") < 0 ? -1 : rc;
    c->broker2.pid = c->receiver.pid = 0;
    free(text);
    drop_databases(c);
    return rc;
}

int main(int argc, char **argv)
{
    ctx c = {0};
    int first = 1, failed = 0;
    for (; first + 1 < argc && argv[first][0] == '-'; first += 2) {
        if (strcmp(argv[first], "--broker") == 0)
            c.broker_path = argv[first + 1];
        else if (strcmp(argv[first], "--receiver") == 0)
            c.receiver_path = argv[first + 1];
        else if (strcmp(argv[first], "--mongo-uri") == 0)
            c.mongo_uri = argv[first + 1];
    }
    if (c.broker_path == NULL || first >= argc) {
        fprintf(stderr,
                "usage: driver --broker PATH [--receiver PATH] [--mongo-uri URI] FILE.test...\n");
        return 2;
    }
    if (c.mongo_uri == NULL)
        c.mongo_uri = ts_mongo_uri();
    else /* so that testsupport's helpers use the same database */
        setenv("TSUNAGI_TEST_MONGO_URI", c.mongo_uri, 1);
    mongoc_init();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(c.db, sizeof c.db, "ftest%d", (int)getpid());
    snprintf(c.log_path, sizeof c.log_path, "/tmp/tsunagi-case-%d.log", (int)getpid());
    unlink(c.log_path);
    set_var(&c, "TEST_SECRET", TEST_SECRET); /* for broker-args and --- token */
    for (int i = first; i < argc; i++) {
        if (run_file(&c, argv[i]) < 0)
            failed++;
    }
    if (failed) {
        fprintf(stderr, "--- broker log (%s):\n", c.log_path);
        char *log = read_file(c.log_path);
        fputs(log ? log : "(none)\n", stderr);
        free(log);
    } else {
        unlink(c.log_path);
    }
    for (size_t i = 0; i < c.nvars; i++) {
        free(c.vars[i].name);
        free(c.vars[i].value);
    }
    free(c.file_args);
    curl_global_cleanup();
    mongoc_cleanup();
    printf("%d of %d case files passed\n", argc - first - failed, argc - first);
    return failed ? 1 : 0;
}
