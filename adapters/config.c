/*
 * adapters/config.c: the tsunagi-adapters configuration file.
 *
 * One JSON file in the shape of the FIWARE IoT Agents' config groups: the
 * broker to write to, and a list of adapters, each with its tenant
 * ("service"), service path ("subservice"), schedule and plugin options.
 * Durations are seconds (fractions allowed). Unknown keys are refused, so a
 * misspelt option fails at start instead of silently taking its default.
 * Strings stay borrowed from the parsed document, which the config owns.
 */
#include "host_private.h"

#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Defaults, chosen for a town's upstream systems: patient and slow. */
#define DEF_INTERVAL_S        900.0 /* when neither config nor plugin says */
#define DEF_HTTP_TIMEOUT_MS   30000
#define DEF_HTTP_CONNECT_MS   10000
#define DEF_HTTP_RETRIES      2
#define DEF_HTTP_RETRY_DELAY  1.0
#define DEF_RETRY_INITIAL_S   30.0   /* a failed run is retried after this... */
#define DEF_RETRY_MAX_S       3600.0 /* ...doubling up to an hour */
#define DEF_RESTART_INITIAL_S 1.0    /* a crashed adapter restarts after this... */
#define DEF_RESTART_MAX_S     300.0  /* ...doubling up to five minutes */
#define DEF_BATCH_SIZE        100    /* entities per POST /v2/op/update */
/* Keep a batch well under the broker's default 1 MB request limit. */
#define DEF_BATCH_BYTES       (512 * 1024)
#define DEF_BROKER_TIMEOUT_MS 30000
#define DEF_STATUS_PORT       1028
/* The owner attribute of Tsunagi's access control (docs/auth.md). */
#define DEF_OWNER_ATTR "ownerId"
#define BATCH_SIZE_MAX 1000
/* Timeouts and backoffs become int milliseconds (curl, poll): at most
 * about 23 days keeps them below INT_MAX. */
#define SECONDS_MAX 2000000.0
/* An interval is slept in seconds; a year is more than any upstream needs. */
#define INTERVAL_MAX (366 * 86400.0)

typedef struct parse {
    char *msg;
    size_t msgsz;
} parse;

static int bad(parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(parse *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, p->msgsz, fmt, ap);
    va_end(ap);
    return -1;
}

/* Refuse keys of obj not in allowed (NULL-terminated). */
static int known_keys(parse *p, const json_t *obj, const char *where, const char *const *allowed)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        bool ok = false;
        for (size_t i = 0; allowed[i] != NULL && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok)
            return bad(p, "%s: unknown key \"%s\"", where, key);
    }
    return 0;
}

static int get_string(parse *p, const json_t *obj, const char *where, const char *key,
                      const char **out)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0)
        return bad(p, "%s.%s: must be a non-empty string", where, key);
    *out = json_string_value(v);
    return 0;
}

static int get_seconds(parse *p, const json_t *obj, const char *where, const char *key, double min,
                       double max, double *out)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    if (!json_is_number(v) || json_number_value(v) < min)
        return bad(p, "%s.%s: must be a number of seconds >= %g", where, key, min);
    if (json_number_value(v) > max)
        return bad(p, "%s.%s: must be at most %.0f seconds", where, key, max);
    *out = json_number_value(v);
    return 0;
}

static int get_int(parse *p, const json_t *obj, const char *where, const char *key, long min,
                   long max, int *out)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return bad(p, "%s.%s: must be an integer from %ld to %ld", where, key, min, max);
    *out = (int)json_integer_value(v);
    return 0;
}

static int get_object(parse *p, const json_t *obj, const char *where, const char *key,
                      const json_t **out)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v != NULL && !json_is_object(v))
        return bad(p, "%s.%s: must be an object", where, key);
    *out = v;
    return 0;
}

static int parse_backoff(parse *p, const json_t *obj, const char *where, host_backoff *b)
{
    static const char *const keys[] = {"initial", "max", NULL};
    if (obj == NULL)
        return 0;
    if (known_keys(p, obj, where, keys) < 0 ||
        get_seconds(p, obj, where, "initial", 0.001, SECONDS_MAX, &b->initial_s) < 0 ||
        get_seconds(p, obj, where, "max", 0.001, SECONDS_MAX, &b->max_s) < 0)
        return -1;
    if (b->max_s < b->initial_s)
        return bad(p, "%s: max is below initial", where);
    return 0;
}

static int parse_http(parse *p, const json_t *obj, const char *where, host_http_conf *h)
{
    static const char *const keys[] = {"timeout", "connectTimeout", "retries", "retryDelay", NULL};
    double timeout = h->timeout_ms / 1000.0, connect = h->connect_timeout_ms / 1000.0;
    if (obj == NULL)
        return 0;
    if (known_keys(p, obj, where, keys) < 0 ||
        get_seconds(p, obj, where, "timeout", 0.001, SECONDS_MAX, &timeout) < 0 ||
        get_seconds(p, obj, where, "connectTimeout", 0.001, SECONDS_MAX, &connect) < 0 ||
        get_int(p, obj, where, "retries", 0, 10, &h->retries) < 0 ||
        get_seconds(p, obj, where, "retryDelay", 0, SECONDS_MAX, &h->retry_delay_s) < 0)
        return -1;
    h->timeout_ms = (int)(timeout * 1000);
    h->connect_timeout_ms = (int)(connect * 1000);
    return 0;
}

/* Names become file names and entity id parts: letters, digits, - and _. */
static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > HOST_NAME_MAX_LEN)
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

static int check_tenancy(parse *p, const char *where, const adapter_conf *a)
{
    char tenant[NGSI_SERVICE_MAX + 1];
    ngsi_paths paths;
    ngsi_error err;
    if (ngsi_service_parse(a->service, tenant, &err) < 0)
        return bad(p, "%s.service: %s", where, err.description);
    if (ngsi_paths_parse(a->subservice, true, &paths, &err) < 0)
        return bad(p, "%s.subservice: %s", where, err.description);
    ngsi_paths_clear(&paths);
    return 0;
}

static char *resolve(const char *base_dir, const char *path)
{
    char *out;
    if (path[0] == '/' || base_dir == NULL)
        return strdup(path);
    if (asprintf(&out, "%s/%s", base_dir, path) < 0)
        abort();
    return out;
}

static int parse_adapter(parse *p, const host_conf *c, const json_t *v, size_t i, const char *base,
                         adapter_conf *a)
{
    static const char *const keys[] = {"name",    "plugin", "service", "subservice", "interval",
                                       "enabled", "http",   "retry",   "options",    NULL};
    char where[96];
    const json_t *http, *retry, *options;
    const char *plugin = NULL;
    snprintf(where, sizeof where, "adapters[%zu]", i);
    if (!json_is_object(v))
        return bad(p, "%s: must be an object", where);
    a->enabled = true;
    a->subservice = "/";
    if (known_keys(p, v, where, keys) < 0 || get_string(p, v, where, "name", &a->name) < 0 ||
        get_string(p, v, where, "plugin", &plugin) < 0 ||
        get_string(p, v, where, "service", &a->service) < 0 ||
        get_string(p, v, where, "subservice", &a->subservice) < 0 ||
        get_seconds(p, v, where, "interval", 0.01, INTERVAL_MAX, &a->interval_s) < 0 ||
        get_object(p, v, where, "http", &http) < 0 ||
        get_object(p, v, where, "retry", &retry) < 0 ||
        get_object(p, v, where, "options", &options) < 0)
        return -1;
    if (a->name == NULL || !valid_name(a->name))
        return bad(p, "%s.name: required, 1 to %d letters, digits, - or _", where,
                   HOST_NAME_MAX_LEN);
    snprintf(where, sizeof where, "adapters[%s]", a->name);
    if (plugin == NULL)
        return bad(p, "%s.plugin: required (path of the adapter's .so)", where);
    const json_t *en = json_object_get(v, "enabled");
    if (en != NULL && !json_is_boolean(en))
        return bad(p, "%s.enabled: must be true or false", where);
    a->enabled = en == NULL || json_is_true(en);
    if (a->service == NULL)
        a->service = "";
    if (check_tenancy(p, where, a) < 0)
        return -1;
    a->http = (host_http_conf){DEF_HTTP_TIMEOUT_MS, DEF_HTTP_CONNECT_MS, DEF_HTTP_RETRIES,
                               DEF_HTTP_RETRY_DELAY};
    a->retry = (host_backoff){DEF_RETRY_INITIAL_S, DEF_RETRY_MAX_S};
    const json_t *top_http = json_object_get(c->root, "http");
    const json_t *top_retry = json_object_get(c->root, "retry");
    if (parse_http(p, top_http, "http", &a->http) < 0 || parse_http(p, http, where, &a->http) < 0 ||
        parse_backoff(p, top_retry, "retry", &a->retry) < 0 ||
        parse_backoff(p, retry, where, &a->retry) < 0)
        return -1;
    if (options == NULL) { /* plugins always get an object; the root owns it */
        options = json_object();
        json_object_set_new((json_t *)v, "options", (json_t *)options);
    }
    a->options = options;
    a->plugin = resolve(base, plugin);
    return 0;
}

static int parse_broker(parse *p, const json_t *b, host_conf *c)
{
    static const char *const keys[] = {"url",       "token_file", "token_env",  "ownerAttribute",
                                       "ownerList", "batchSize",  "batchBytes", "timeout",
                                       NULL};
    double timeout = DEF_BROKER_TIMEOUT_MS / 1000.0;
    int batch_bytes = DEF_BATCH_BYTES;
    c->owner_attr = DEF_OWNER_ATTR;
    if (!json_is_object(b))
        return bad(p, "broker: required, an object with at least \"url\"");
    if (known_keys(p, b, "broker", keys) < 0 ||
        get_string(p, b, "broker", "url", &c->broker_url) < 0 ||
        get_string(p, b, "broker", "token_file", &c->token_file) < 0 ||
        get_string(p, b, "broker", "token_env", &c->token_env) < 0 ||
        get_string(p, b, "broker", "ownerAttribute", &c->owner_attr) < 0 ||
        get_int(p, b, "broker", "batchSize", 1, BATCH_SIZE_MAX, &c->batch_size) < 0 ||
        get_int(p, b, "broker", "batchBytes", 1024, 64 << 20, &batch_bytes) < 0 ||
        get_seconds(p, b, "broker", "timeout", 0.001, SECONDS_MAX, &timeout) < 0)
        return -1;
    if (c->broker_url == NULL)
        return bad(p, "broker.url: required");
    if (ngsi_check_name(c->owner_attr, NGSI_F_ATTR_NAME, NULL) < 0)
        return bad(p, "broker.ownerAttribute: not a valid attribute name");
    const json_t *list = json_object_get(b, "ownerList");
    if (list != NULL && !json_is_boolean(list))
        return bad(p, "broker.ownerList: must be true or false");
    c->owner_list = json_is_true(list);
    c->batch_bytes_max = (size_t)batch_bytes;
    c->broker_timeout_ms = (int)(timeout * 1000);
    return 0;
}

static int parse_status(parse *p, const json_t *s, host_conf *c)
{
    static const char *const keys[] = {"bind", "port", NULL};
    if (s == NULL)
        return 0;
    if (json_is_false(s)) {
        c->status_port = -1;
        return 0;
    }
    if (!json_is_object(s))
        return bad(p, "status: must be an object or false");
    return known_keys(p, s, "status", keys) < 0 ||
                   get_string(p, s, "status", "bind", &c->status_bind) < 0 ||
                   get_int(p, s, "status", "port", 0, 65535, &c->status_port) < 0
               ? -1
               : 0;
}

static int parse_top(parse *p, host_conf *c)
{
    static const char *const keys[] = {"broker", "stateDir", "status",   "logLevel", "restart",
                                       "retry",  "http",     "adapters", NULL};
    const char *level = NULL;
    const json_t *restart, *dummy;
    if (!json_is_object(c->root))
        return bad(p, "the configuration must be a JSON object");
    if (known_keys(p, c->root, "config", keys) < 0 ||
        parse_broker(p, json_object_get(c->root, "broker"), c) < 0 ||
        get_string(p, c->root, "config", "stateDir", &c->state_dir) < 0 ||
        parse_status(p, json_object_get(c->root, "status"), c) < 0 ||
        get_string(p, c->root, "config", "logLevel", &level) < 0 ||
        get_object(p, c->root, "config", "restart", &restart) < 0 ||
        get_object(p, c->root, "config", "retry", &dummy) < 0 ||
        get_object(p, c->root, "config", "http", &dummy) < 0 ||
        parse_backoff(p, restart, "restart", &c->restart) < 0)
        return -1;
    if (level != NULL && host_log_level_parse(level, &c->log_level) < 0)
        return bad(p, "logLevel: DEBUG, INFO, WARN or ERROR");
    if (c->state_dir == NULL)
        return bad(p, "stateDir: required (where adapters keep their cursors)");
    return 0;
}

static int parse_adapters(parse *p, const char *base, host_conf *c)
{
    const json_t *list = json_object_get(c->root, "adapters");
    if (!json_is_array(list))
        return bad(p, "adapters: required, a list");
    c->adapters = calloc(json_array_size(list) + 1, sizeof *c->adapters);
    if (c->adapters == NULL)
        abort();
    for (size_t i = 0; i < json_array_size(list); i++) {
        adapter_conf *a = &c->adapters[c->n];
        int rc = parse_adapter(p, c, json_array_get(list, i), i, base, a);
        if (a->plugin != NULL)
            c->n++; /* so host_conf_free frees it */
        if (rc < 0)
            return -1;
        for (size_t j = 0; j + 1 < c->n; j++)
            if (strcmp(c->adapters[j].name, a->name) == 0)
                return bad(p, "adapters: the name %s is used twice", a->name);
    }
    return 0;
}

int host_conf_parse(json_t *root, const char *base_dir, host_conf *out, char *msg, size_t msgsz)
{
    parse p = {msg, msgsz};
    memset(out, 0, sizeof *out);
    out->root = root;
    out->batch_size = DEF_BATCH_SIZE;
    out->status_bind = "127.0.0.1";
    out->status_port = DEF_STATUS_PORT;
    out->log_level = ADAPTER_LOG_INFO;
    out->restart = (host_backoff){DEF_RESTART_INITIAL_S, DEF_RESTART_MAX_S};
    if (parse_top(&p, out) < 0 || parse_adapters(&p, base_dir, out) < 0) {
        host_conf_free(out);
        return -1;
    }
    return 0;
}

int host_conf_load(const char *path, host_conf *out, char *msg, size_t msgsz)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        snprintf(msg, msgsz, "%s:%d: %s", path, je.line, je.text);
        return -1;
    }
    char *copy = strdup(path);
    if (copy == NULL)
        abort();
    int rc = host_conf_parse(root, dirname(copy), out, msg, msgsz);
    free(copy);
    return rc;
}

void host_conf_free(host_conf *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->adapters[i].plugin);
    free(c->adapters);
    json_decref(c->root);
    memset(c, 0, sizeof *c);
}

const adapter_conf *host_conf_find(const host_conf *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->adapters[i].name, name) == 0)
            return &c->adapters[i];
    return NULL;
}

double host_backoff_delay(const host_backoff *b, unsigned attempt)
{
    double d = b->initial_s;
    for (unsigned i = 1; i < attempt && d < b->max_s; i++)
        d *= 2;
    return d < b->max_s ? d : b->max_s;
}
