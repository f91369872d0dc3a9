/*
 * broker/config.c: configuration from defaults, environment and flags.
 *
 * The option table is data: each entry names the flag (Orion's spelling
 * where Orion has one, so a town's start scripts keep working), the
 * environment variable, the field it sets and its help text. Flags win over
 * the environment, which wins over defaults. Both "-port" and "--port"
 * are accepted, as Orion accepts the single-dash form.
 */
#include "broker.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum opt_kind { OPT_INT, OPT_SIZE, OPT_STR, OPT_LEVEL, OPT_BOOL };

typedef struct option_spec {
    const char *flag;
    const char *env;
    enum opt_kind kind;
    size_t offset;
    size_t size; /* for OPT_STR: the field's capacity */
    long min, max;
    const char *help;
} option_spec;

#define F(field) offsetof(broker_config, field)
#define S(field) sizeof(((broker_config *)0)->field)

static const option_spec OPTIONS[] = {
    {"port", "TSUNAGI_PORT", OPT_INT, F(port), 0, 0, 65535, "TCP port to listen on (1026)"},
    {"bind", "TSUNAGI_BIND", OPT_STR, F(bind), S(bind), 0, 0,
     "address to listen on (all addresses)"},
    {"dbURI", "TSUNAGI_MONGO_URI", OPT_STR, F(db_uri), S(db_uri), 0, 0,
     "MongoDB connection URI (mongodb://127.0.0.1:27017)"},
    {"db", "TSUNAGI_DB", OPT_STR, F(db_name), S(db_name), 0, 0,
     "database name; tenant t uses <db>-t (orion)"},
    {"logLevel", "TSUNAGI_LOG_LEVEL", OPT_LEVEL, F(log_level), 0, 0, 0,
     "DEBUG, INFO, WARN, ERROR or NONE (INFO)"},
    {"inReqPayloadMaxSize", "TSUNAGI_MAX_BODY", OPT_SIZE, F(max_body), 0, 1, 64L << 20,
     "largest request body in bytes (1048576)"},
    {"reqPoolSize", "TSUNAGI_THREADS", OPT_INT, F(threads), 0, 0, 1024,
     "HTTP worker threads, 0 for one per core (0)"},
    {"dbPoolSize", "TSUNAGI_DB_POOL", OPT_INT, F(db_pool), 0, 1, 10000,
     "most connections to MongoDB (10)"},
    {"connLimit", "TSUNAGI_CONN_LIMIT", OPT_INT, F(conn_limit), 0, 1, 100000,
     "most concurrent HTTP connections (1024)"},
    {"connTimeout", "TSUNAGI_CONN_TIMEOUT", OPT_INT, F(conn_timeout), 0, 1, 86400,
     "seconds an idle keep-alive connection is kept (60)"},
    {"dbTimeout", "TSUNAGI_DB_TIMEOUT", OPT_INT, F(db_timeout_ms), 0, 50, 600000,
     "milliseconds to wait for an unreachable database before 503 (2000)"},
    {"expiryPurgeInterval", "TSUNAGI_PURGE_INTERVAL", OPT_INT, F(purge_interval), 0, 0, 86400,
     "seconds between purges of expired entities, 0 to disable (60)"},
    {"schemaDir", "TSUNAGI_SCHEMA_DIR", OPT_STR, F(schema_dir), S(schema_dir), 0, 0,
     "directory of JSON Schemas (*.json, each with an $id) (none)"},
    {"schemaMap", "TSUNAGI_SCHEMA_MAP", OPT_STR, F(schema_map), S(schema_map), 0, 0,
     "JSON file mapping entity types to schema $ids (none)"},
    /* auth: docs/auth.md */
    {"auth", "TSUNAGI_AUTH", OPT_BOOL, F(auth), 0, 0, 0,
     "on: check tokens and decide access; off: no checks, as Orion (off)"},
    {"authSecret", "TSUNAGI_AUTH_SECRET", OPT_STR, F(auth_secret), S(auth_secret), 0, 0,
     "HS256 shared secret, 32 bytes or more (prefer the file or the variable)"},
    {"authSecretFile", "TSUNAGI_AUTH_SECRET_FILE", OPT_STR, F(auth_secret_file),
     S(auth_secret_file), 0, 0, "file holding the HS256 secret"},
    {"authSecretKid", "TSUNAGI_AUTH_SECRET_KID", OPT_STR, F(auth_secret_kid), S(auth_secret_kid), 0,
     0, "kid of the HS256 secret (none)"},
    {"authKeyFile", "TSUNAGI_AUTH_KEY_FILE", OPT_STR, F(auth_key_file), S(auth_key_file), 0, 0,
     "RS256/ES256 public keys: a PEM public key or a JWKS file"},
    {"authKeyKid", "TSUNAGI_AUTH_KEY_KID", OPT_STR, F(auth_key_kid), S(auth_key_kid), 0, 0,
     "kid of a PEM public key (none; a JWKS names its own)"},
    {"authIssuer", "TSUNAGI_AUTH_ISSUER", OPT_STR, F(auth_issuer), S(auth_issuer), 0, 0,
     "required iss claim (any)"},
    {"authAudience", "TSUNAGI_AUTH_AUDIENCE", OPT_STR, F(auth_audience), S(auth_audience), 0, 0,
     "required member of the aud claim (not checked)"},
    {"authClockSkew", "TSUNAGI_AUTH_CLOCK_SKEW", OPT_INT, F(auth_clock_skew), 0, 0, 600,
     "seconds of tolerance on exp and nbf (30)"},
    {"authCacheSize", "TSUNAGI_AUTH_CACHE_SIZE", OPT_INT, F(auth_cache), 0, 0, 1000000,
     "verified tokens kept in the cache, 0 to disable (4096)"},
    {"pseudonymSecretFile", "TSUNAGI_PSEUDONYM_SECRET_FILE", OPT_STR, F(pseudonym_secret_file),
     S(pseudonym_secret_file), 0, 0, "file holding the secret of pairwise pseudonyms"},
    {"config", "TSUNAGI_CONFIG", OPT_STR, F(config_file), S(config_file), 0, 0,
     "JSON configuration file: entity-type classes (none)"},
    {"subCacheIval", "TSUNAGI_SUB_CACHE_INTERVAL", OPT_INT, F(sub_cache_interval), 0, 0, 86400,
     "seconds between reloads of the subscription cache from the database, 0 never (5)"},
    {"notifQueueSize", "TSUNAGI_NOTIF_QUEUE", OPT_INT, F(notif_queue_size), 0, 1, 10000000,
     "notifications queued, waiting for a retry or in flight, at most (10000)"},
    {"notifMaxConns", "TSUNAGI_NOTIF_CONNS", OPT_INT, F(notif_max_conns), 0, 1, 10000,
     "notification transfers in flight at once (64)"},
    {"notifMaxPerHost", "TSUNAGI_NOTIF_PER_HOST", OPT_INT, F(notif_per_host), 0, 1, 10000,
     "notification transfers in flight to one receiver (16)"},
    {"notifRetries", "TSUNAGI_NOTIF_RETRIES", OPT_INT, F(notif_retries), 0, 0, 20,
     "retries after a connection error or a 5xx, 0 for none as in Orion (3)"},
    {"notifRetryBase", "TSUNAGI_NOTIF_RETRY_BASE", OPT_INT, F(notif_retry_base_ms), 0, 1, 3600000,
     "milliseconds before the first retry, doubling for each next (500)"},
    {"notifRetryMax", "TSUNAGI_NOTIF_RETRY_MAX", OPT_INT, F(notif_retry_max_ms), 0, 1, 3600000,
     "longest wait between retries in milliseconds (30000)"},
    {"httpTimeout", "TSUNAGI_HTTP_TIMEOUT", OPT_INT, F(http_timeout_ms), 0, 1, 1800000,
     "notification timeout in milliseconds when the subscription sets none (5000)"},
    {"adapterStatus", "TSUNAGI_ADAPTER_STATUS", OPT_STR, F(adapter_status), S(adapter_status), 0, 0,
     "tsunagi-adapters' status URL, shown under \"adapters\" in /statistics (none)"},
};

#define NOPTIONS (sizeof OPTIONS / sizeof *OPTIONS)

static void set_defaults(broker_config *c)
{
    memset(c, 0, sizeof *c);
    c->port = CONFIG_DEFAULT_PORT;
    snprintf(c->db_uri, sizeof c->db_uri, "mongodb://127.0.0.1:27017");
    snprintf(c->db_name, sizeof c->db_name, "orion");
    c->log_level = LOG_INFO;
    c->max_body = CONFIG_DEFAULT_MAX_BODY;
    c->db_pool = 10;
    c->conn_limit = 1024;
    c->conn_timeout = 60;
    c->db_timeout_ms = STORE_DEFAULT_TIMEOUT_MS;
    c->purge_interval = 60;
    c->sub_cache_interval = 5;
    c->notif_queue_size = 10000;
    c->notif_max_conns = 64;
    c->notif_per_host = 16;
    c->notif_retries = 3;
    c->notif_retry_base_ms = 500;
    c->notif_retry_max_ms = 30000;
    c->http_timeout_ms = 5000;
    c->auth_clock_skew = 30; /* AUTH_DEFAULT_CLOCK_SKEW */
    c->auth_cache = 4096;    /* AUTH_DEFAULT_CACHE_ENTRIES */
}

/* on/off in the spellings people use for a switch. */
static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"on", "true", "yes", "1"}, *const no[] = {"off", "false",
                                                                                "no", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
            *out = strcasecmp(s, yes[i]) == 0;
            return 0;
        }
    }
    return -1;
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Apply one option's text value; -1 with msg on a bad value. */
static int apply(broker_config *c, const option_spec *o, const char *value, const char *source,
                 char *msg, size_t msgsz)
{
    char *field = (char *)c + o->offset;
    long v;
    switch (o->kind) {
    case OPT_STR:
        if (strlen(value) >= o->size)
            break;
        memcpy(field, value, strlen(value) + 1);
        return 0;
    case OPT_BOOL:
        if (parse_bool(value, (bool *)(void *)field) == 0)
            return 0;
        break;
    case OPT_LEVEL:
        if (log_level_parse(value, (enum log_level *)(void *)field) == 0)
            return 0;
        break;
    case OPT_INT:
        if (parse_long(value, o->min, o->max, &v) == 0) {
            *(int *)(void *)field = (int)v;
            return 0;
        }
        break;
    case OPT_SIZE:
        if (parse_long(value, o->min, o->max, &v) == 0) {
            *(size_t *)(void *)field = (size_t)v;
            return 0;
        }
        break;
    }
    snprintf(msg, msgsz, "invalid value '%s' for %s", value, source);
    return -1;
}

static int load_env(broker_config *c, char *msg, size_t msgsz)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        const char *v = getenv(OPTIONS[i].env);
        if (v != NULL && *v != '\0' && apply(c, &OPTIONS[i], v, OPTIONS[i].env, msg, msgsz) < 0)
            return -1;
    }
    return 0;
}

static int load_flags(broker_config *c, int argc, char **argv, char *msg, size_t msgsz)
{
    struct option longopts[NOPTIONS + 2];
    for (size_t i = 0; i < NOPTIONS; i++)
        longopts[i] = (struct option){OPTIONS[i].flag, required_argument, NULL, (int)i};
    longopts[NOPTIONS] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[NOPTIONS + 1] = (struct option){NULL, 0, NULL, 0};
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long_only(argc, argv, "h", longopts, NULL)) != -1) {
        if (ch == 'h')
            return 1;
        if (ch < 0 || (size_t)ch >= NOPTIONS) {
            snprintf(msg, msgsz, "unknown or incomplete option '%s'", argv[optind - 1]);
            return -1;
        }
        char source[64];
        snprintf(source, sizeof source, "-%s", OPTIONS[ch].flag);
        if (apply(c, &OPTIONS[ch], optarg, source, msg, msgsz) < 0)
            return -1;
    }
    if (optind < argc) {
        snprintf(msg, msgsz, "unexpected argument '%s'", argv[optind]);
        return -1;
    }
    return 0;
}

int config_load(broker_config *c, int argc, char **argv, char *msg, size_t msgsz)
{
    set_defaults(c);
    if (load_env(c, msg, msgsz) < 0)
        return -1;
    return load_flags(c, argc, argv, msg, msgsz);
}

void config_usage(FILE *out)
{
    fprintf(out, "usage: tsunagi [options]\n\n"
                 "Each option may be given as -name or --name, or through its environment\n"
                 "variable; flags win over the environment.\n\n");
    for (size_t i = 0; i < NOPTIONS; i++)
        fprintf(out, "  -%-22s %-30s %s\n", OPTIONS[i].flag, OPTIONS[i].env, OPTIONS[i].help);
    fprintf(out, "  -%-22s %-30s %s\n", "help", "", "print this text");
}
