/*
 * broker/main.c: the tsunagi process.
 *
 * Parse the configuration, open the store, start the HTTP server, then wait
 * for a signal. Signals are blocked in every thread and taken with sigwait
 * here, so shutdown runs as ordinary code: stop accepting, let in-flight
 * requests finish, close the database pool. SIGHUP reloads the token keys
 * the same way, outside any signal handler.
 */
#include "broker.h"

#include <mongoc/mongoc.h>
#include <signal.h>
#include <stdlib.h>

/* libmongoc's own messages go through our logger at a matching level. */
static void route_mongoc_log(mongoc_log_level_t level, const char *domain, const char *message,
                             void *data)
{
    enum log_level l = level <= MONGOC_LOG_LEVEL_CRITICAL  ? LOG_ERROR
                       : level == MONGOC_LOG_LEVEL_WARNING ? LOG_WARN
                       : level <= MONGOC_LOG_LEVEL_INFO    ? LOG_INFO
                                                           : LOG_DEBUG;
    if (level == MONGOC_LOG_LEVEL_TRACE)
        return;
    log_msg(l, "comp=mongoc | %s: %s", domain, message);
}

static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-reply is not fatal */
}

/* SIGHUP: read the token keys again; the old ones stay if the new cannot be used. */
static void reload(broker *b)
{
    ngsi_error err = {0};
    if (!broker_auth_on(b))
        log_msg(LOG_INFO, "SIGHUP: nothing to reload (auth is off)");
    else if (broker_reload(b, &err) < 0)
        log_msg(LOG_ERROR, "SIGHUP: keys not reloaded, the old ones stay in use: %s",
                err.description);
    else
        log_msg(LOG_INFO, "SIGHUP: keys reloaded");
}

static int wait_for_shutdown(broker *b, const sigset_t *set)
{
    for (;;) {
        int sig;
        if (sigwait(set, &sig) != 0)
            return -1;
        if (sig == SIGHUP) {
            reload(b);
            continue;
        }
        log_msg(LOG_INFO, "signal %d: shutting down", sig);
        return 0;
    }
}

int main(int argc, char **argv)
{
    broker_config cfg;
    char msg[256];
    ngsi_error err = {0};
    sigset_t set;
    int rc = config_load(&cfg, argc, argv, msg, sizeof msg);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "tsunagi: %s\n\n", msg);
        config_usage(rc < 0 ? stderr : stdout);
        return rc < 0 ? 2 : 0;
    }
    log_init(cfg.log_level);
    block_signals(&set);
    store_global_init();
    mongoc_log_set_handler(route_mongoc_log, NULL);
    store_opts so = {.uri = cfg.db_uri,
                     .db = cfg.db_name,
                     .pool_max = cfg.db_pool,
                     .timeout_ms = cfg.db_timeout_ms};
    store *st = store_open(&so, &err);
    broker *b = st ? broker_start(&cfg, st, &err) : NULL;
    if (b == NULL) {
        log_msg(LOG_ERROR, "cannot start: %s", err.description);
        store_close(st);
        store_global_cleanup();
        return 1;
    }
    log_msg(LOG_INFO, "tsunagi %s listening on port %d, database %s at %s", TSUNAGI_VERSION,
            broker_port(b), cfg.db_name, cfg.db_uri);
    if (!broker_auth_on(b))
        log_msg(LOG_WARN, "auth is off: every client may read and write everything, as with "
                          "Orion; start with -auth on (docs/auth.md)");
    if (store_ping(st, &err) < 0)
        log_msg(LOG_WARN, "database not reachable yet (%s); requests get 503 until it is",
                err.description);
    rc = wait_for_shutdown(b, &set);
    broker_stop(b);
    store_close(st);
    store_global_cleanup();
    log_msg(LOG_INFO, "stopped");
    return rc < 0 ? 1 : 0;
}
