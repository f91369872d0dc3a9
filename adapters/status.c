/*
 * adapters/status.c: what the supervisor knows about each adapter, and the
 * HTTP endpoint that shows it.
 *
 * The table is filled from the children's report lines and from the
 * supervisor's own events (start, crash, restart); totals count from the
 * supervisor's start. One mutex guards it, because libmicrohttpd answers
 * GET /status on its own thread while the supervisor's loop updates it.
 * Times are kept as seconds since the epoch and shown as ISO 8601.
 */
#include "host_private.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct host_status_table {
    pthread_mutex_t lock;
    host_status *items;
    size_t n;
};

static const char *const STATE_NAMES[] = {
    [HOST_STARTING] = "starting",     [HOST_IDLE] = "idle",       [HOST_RUNNING] = "running",
    [HOST_RESTARTING] = "restarting", [HOST_STOPPED] = "stopped", [HOST_DISABLED] = "disabled",
};

host_status_table *host_status_new(const host_conf *c)
{
    host_status_table *t = calloc(1, sizeof *t);
    if (t == NULL || (t->items = calloc(c->n + 1, sizeof *t->items)) == NULL)
        abort();
    pthread_mutex_init(&t->lock, NULL);
    t->n = c->n;
    for (size_t i = 0; i < c->n; i++) {
        t->items[i].ac = &c->adapters[i];
        t->items[i].state = c->adapters[i].enabled ? HOST_STOPPED : HOST_DISABLED;
        t->items[i].counters = json_object();
        t->items[i].interval_s = c->adapters[i].interval_s;
        t->items[i].exit_code = -1;
    }
    return t;
}

void host_status_free(host_status_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        json_decref(t->items[i].counters);
    pthread_mutex_destroy(&t->lock);
    free(t->items);
    free(t);
}

host_status *host_status_lock(host_status_table *t, size_t i)
{
    pthread_mutex_lock(&t->lock);
    return &t->items[i];
}

void host_status_unlock(host_status_table *t)
{
    pthread_mutex_unlock(&t->lock);
}

size_t host_status_count(const host_status_table *t)
{
    return t->n;
}

static double num(const json_t *msg, const char *key)
{
    return json_number_value(json_object_get(msg, key));
}

static void apply_run(host_status *s, const json_t *msg)
{
    bool ok = json_is_true(json_object_get(msg, "ok"));
    const char *error = json_string_value(json_object_get(msg, "error"));
    s->state = HOST_IDLE;
    s->runs++;
    s->last_run = num(msg, "started");
    s->last_duration = num(msg, "finished") - s->last_run;
    s->next_run = num(msg, "nextRun");
    s->backoff = num(msg, "backoff");
    s->last_written = (unsigned long long)json_integer_value(json_object_get(msg, "written"));
    s->last_skipped = (unsigned long long)json_integer_value(json_object_get(msg, "skipped"));
    s->written += s->last_written;
    s->skipped += s->last_skipped;
    if (ok) {
        s->last_success = s->last_run;
        s->failures_in_row = 0;
        s->crashes_in_row = 0; /* it runs again: a later crash starts the backoff afresh */
    } else {
        s->failures++;
        s->failures_in_row++;
    }
    if (error != NULL) {
        snprintf(s->last_error, sizeof s->last_error, "%s", error);
        s->last_error_at = num(msg, "finished");
    }
    json_t *counters = json_object_get(msg, "counters");
    if (json_is_object(counters)) {
        json_decref(s->counters);
        s->counters = json_incref(counters);
    }
}

void host_status_report(host_status_table *t, size_t i, const char *line)
{
    json_t *msg = json_loads(line, 0, NULL);
    const char *event = json_string_value(json_object_get(msg, "event"));
    if (event == NULL) {
        json_decref(msg);
        return;
    }
    host_status *s = host_status_lock(t, i);
    if (strcmp(event, "ready") == 0) {
        s->state = HOST_IDLE;
        s->interval_s = num(msg, "interval");
    } else if (strcmp(event, "run-start") == 0) {
        s->state = HOST_RUNNING;
    } else if (strcmp(event, "run") == 0) {
        apply_run(s, msg);
    } else if (strcmp(event, "fatal") == 0) {
        const char *error = json_string_value(json_object_get(msg, "error"));
        snprintf(s->last_error, sizeof s->last_error, "%s", error ? error : "fatal");
        s->last_error_at = ngsi_now();
    }
    host_status_unlock(t);
    json_decref(msg);
}

static json_t *iso_or_null(double t)
{
    char buf[NGSI_DATETIME_MAX];
    if (t <= 0)
        return json_null();
    ngsi_datetime_format(t, buf);
    return json_string(buf);
}

static json_t *entry_json(const host_status *s)
{
    const adapter_conf *ac = s->ac;
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:f,s:s}", "name", ac->name, "plugin", ac->plugin,
                          "service", ac->service, "subservice", ac->subservice, "interval",
                          s->interval_s, "state", STATE_NAMES[s->state]);
    json_object_set_new(o, "pid", s->pid > 0 ? json_integer(s->pid) : json_null());
    json_object_set_new(o, "lastRun", iso_or_null(s->last_run));
    json_object_set_new(o, "lastSuccess", iso_or_null(s->last_success));
    json_object_set_new(o, "lastDuration", s->runs ? json_real(s->last_duration) : json_null());
    json_object_set_new(o, "nextRun",
                        iso_or_null(s->state == HOST_RESTARTING ? s->restart_at : s->next_run));
    json_object_set_new(o, "runs", json_integer((json_int_t)s->runs));
    json_object_set_new(o, "failures", json_integer((json_int_t)s->failures));
    json_object_set_new(o, "failuresInRow", json_integer(s->failures_in_row));
    json_object_set_new(o, "backoff", s->backoff > 0 ? json_real(s->backoff) : json_null());
    json_object_set_new(o, "restarts", json_integer(s->restarts));
    json_object_set_new(o, "entitiesWritten", json_integer((json_int_t)s->written));
    json_object_set_new(o, "recordsSkipped", json_integer((json_int_t)s->skipped));
    json_object_set_new(o, "lastRunWritten", json_integer((json_int_t)s->last_written));
    json_object_set_new(o, "lastRunSkipped", json_integer((json_int_t)s->last_skipped));
    json_object_set_new(o, "lastError",
                        s->last_error[0] ? json_string(s->last_error) : json_null());
    json_object_set_new(o, "lastErrorAt", iso_or_null(s->last_error_at));
    json_object_set_new(o, "counters", json_deep_copy(s->counters));
    return o;
}

json_t *host_status_json(host_status_table *t)
{
    json_t *list = json_array();
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->n; i++)
        json_array_append_new(list, entry_json(&t->items[i]));
    pthread_mutex_unlock(&t->lock);
    return json_pack("{s:o}", "adapters", list);
}

/* ------------------------------------------------------------ endpoint */

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static json_t *error_json(const char *name, const char *description)
{
    return json_pack("{s:s,s:s}", "error", name, "description", description);
}

static json_t *one_adapter(host_status_table *t, const char *name)
{
    json_t *out = NULL;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->n && out == NULL; i++)
        if (strcmp(t->items[i].ac->name, name) == 0)
            out = entry_json(&t->items[i]);
    pthread_mutex_unlock(&t->lock);
    return out;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    host_status_table *t = cls;
    if (*con_cls == NULL) { /* headers only: wait for the (ignored) body */
        *con_cls = t;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0)
        return send_json(conn, 405, error_json("MethodNotAllowed", "method not allowed"));
    if (strcmp(url, "/status") == 0 || strcmp(url, "/status/") == 0)
        return send_json(conn, 200, host_status_json(t));
    if (strncmp(url, "/status/", 8) == 0) {
        json_t *one = one_adapter(t, url + 8);
        return one ? send_json(conn, 200, one)
                   : send_json(conn, 404, error_json("NotFound", "no such adapter"));
    }
    return send_json(conn, 404, error_json("NotFound", "try GET /status"));
}

void *host_status_serve(host_status_table *t, const char *bind, int port, int *bound_port,
                        char *msg, size_t msgsz)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, bind, &addr.sin_addr) != 1) {
        snprintf(msg, msgsz, "status.bind: %s is not an IPv4 address", bind);
        return NULL;
    }
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL,
                         NULL, on_request, t, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_END);
    if (d == NULL) {
        snprintf(msg, msgsz, "cannot serve the status on %s:%d", bind, port);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *bound_port = info ? info->port : port;
    return d;
}

void host_status_stop(void *server)
{
    if (server != NULL)
        MHD_stop_daemon(server);
}
