/*
 * adapters/supervisor.c: keeps one child process per adapter running.
 *
 * Isolation is by process: each adapter runs in its own child (fork, then
 * exec of this same program with --child), so a plugin that crashes or
 * leaks takes down only itself, never the broker (a separate program
 * altogether) nor the other adapters. When a child dies without being asked
 * to, the supervisor logs how, and restarts it after a backoff that doubles
 * with each crash in a row ("restart": initial, max); a successful run
 * resets the count.
 *
 * One thread runs a poll(2) loop over a signalfd (SIGCHLD, SIGTERM, SIGINT,
 * SIGHUP) and the children's report pipes, with a timeout for the next
 * restart due. The status endpoint runs on libmicrohttpd's thread and reads
 * the table under its lock. SIGTERM or SIGINT stops every child with
 * SIGTERM, waits for them (SIGKILL after STOP_GRACE_S) and exits 0.
 */
#include "host_private.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* Children get this long to finish a run's writes after SIGTERM. */
#define STOP_GRACE_S 15.0
/* A report line longer than this is dropped (reports are small). */
#define LINE_MAX_LEN 65536

typedef struct child {
    int fd; /* read end of its report pipe, or -1 */
    ngsi_buf line;
    bool alive;
} child;

typedef struct sup {
    const host_conf *conf;
    const char *self;
    const char *config_path;
    bool once;
    host_status_table *table;
    child *kids;
    int sigfd;
    bool stopping;
    double stop_deadline;
    bool killed;
} sup;

static void spawn(sup *s, size_t i)
{
    const adapter_conf *ac = &s->conf->adapters[i];
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        host_log(ADAPTER_LOG_ERROR, "adapter=%s | cannot create a pipe: %s", ac->name,
                 strerror(errno));
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (dup2(fds[1], HOST_REPORT_FD) < 0)
            _exit(127);
        char *argv[] = {(char *)s->self,           "--child",
                        (char *)ac->name,          (char *)s->config_path,
                        s->once ? "--once" : NULL, NULL};
        execv(s->self, argv);
        _exit(127);
    }
    close(fds[1]);
    host_status *st = host_status_lock(s->table, i);
    if (pid < 0) {
        close(fds[0]);
        st->state = HOST_RESTARTING;
        st->restart_at = ngsi_now() + host_backoff_delay(&s->conf->restart, ++st->crashes_in_row);
        host_status_unlock(s->table);
        host_log(ADAPTER_LOG_ERROR, "adapter=%s | fork failed: %s", ac->name, strerror(errno));
        return;
    }
    st->pid = pid;
    st->state = HOST_STARTING;
    st->process_started = ngsi_now();
    host_status_unlock(s->table);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    s->kids[i].fd = fds[0];
    s->kids[i].alive = true;
    ngsi_buf_reset(&s->kids[i].line);
    host_log(ADAPTER_LOG_INFO, "adapter=%s | started (pid %d, plugin %s, tenant %s, path %s)",
             ac->name, (int)pid, ac->plugin, ac->service[0] ? ac->service : "<default>",
             ac->subservice);
}

/* Hand each complete line of kid i's buffer to the status table. */
static void take_lines(sup *s, size_t i)
{
    ngsi_buf *b = &s->kids[i].line;
    size_t start = 0;
    for (size_t j = 0; j < b->len; j++) {
        if (b->data[j] != '\n')
            continue;
        b->data[j] = '\0';
        host_status_report(s->table, i, b->data + start);
        start = j + 1;
    }
    if (start > 0) {
        memmove(b->data, b->data + start, b->len - start);
        b->len -= start;
    }
    if (b->len > LINE_MAX_LEN)
        ngsi_buf_reset(b);
}

/* Read what kid i wrote; close its pipe at end of file. */
static void drain(sup *s, size_t i)
{
    char buf[4096];
    child *k = &s->kids[i];
    while (k->fd >= 0) {
        ssize_t n = read(k->fd, buf, sizeof buf);
        if (n > 0) {
            ngsi_buf_append(&k->line, buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0) {
            close(k->fd);
            k->fd = -1;
        }
        break; /* EAGAIN: nothing more for now */
    }
    take_lines(s, i);
}

static void describe_exit(int status, char *out, size_t n)
{
    if (WIFSIGNALED(status))
        snprintf(out, n, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(out, n, "exited with status %d", WEXITSTATUS(status));
}

static void on_exit_of(sup *s, size_t i, int status)
{
    char how[128];
    const adapter_conf *ac = &s->conf->adapters[i];
    s->kids[i].alive = false;
    drain(s, i);
    if (s->kids[i].fd >= 0) {
        close(s->kids[i].fd);
        s->kids[i].fd = -1;
    }
    describe_exit(status, how, sizeof how);
    host_status *st = host_status_lock(s->table, i);
    st->pid = 0;
    st->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (s->stopping || s->once) {
        st->state = HOST_STOPPED;
        host_status_unlock(s->table);
        host_log(clean ? ADAPTER_LOG_INFO : ADAPTER_LOG_WARN, "adapter=%s | %s", ac->name, how);
        return;
    }
    st->restarts++;
    st->crashes_in_row++;
    double delay = host_backoff_delay(&s->conf->restart, st->crashes_in_row);
    st->state = HOST_RESTARTING;
    st->restart_at = ngsi_now() + delay;
    /* A child that could not start said why (a "fatal" report): keep that. */
    if (st->last_error_at < st->process_started || !WIFEXITED(status)) {
        snprintf(st->last_error, sizeof st->last_error, "adapter process %s", how);
        st->last_error_at = ngsi_now();
    }
    host_status_unlock(s->table);
    host_log(ADAPTER_LOG_ERROR, "adapter=%s | process %s; restarting in %.1f s", ac->name, how,
             delay);
}

static void reap(sup *s)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < s->conf->n; i++) {
            host_status *st = host_status_lock(s->table, i);
            bool mine = st->pid == pid;
            host_status_unlock(s->table);
            if (mine) {
                on_exit_of(s, i, status);
                break;
            }
        }
    }
}

static size_t alive_count(const sup *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->conf->n; i++)
        n += s->kids[i].alive;
    return n;
}

static void signal_all(sup *s, int sig)
{
    for (size_t i = 0; i < s->conf->n; i++) {
        host_status *st = host_status_lock(s->table, i);
        if (s->kids[i].alive && st->pid > 0)
            kill(st->pid, sig);
        host_status_unlock(s->table);
    }
}

static void on_signal(sup *s)
{
    struct signalfd_siginfo si;
    while (read(s->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD)
            reap(s);
        else if (si.ssi_signo == SIGHUP)
            host_log(ADAPTER_LOG_INFO, "SIGHUP: nothing to reload (restart to apply a new config)");
        else if (!s->stopping) {
            host_log(ADAPTER_LOG_INFO, "signal %u: stopping the adapters", si.ssi_signo);
            s->stopping = true;
            s->stop_deadline = ngsi_now() + STOP_GRACE_S;
            signal_all(s, SIGTERM);
        }
    }
}

/* Restart what is due; returns ms until the next restart (or -1). */
static int restarts_due(sup *s)
{
    double now = ngsi_now(), next = 0;
    for (size_t i = 0; i < s->conf->n; i++) {
        host_status *st = host_status_lock(s->table, i);
        bool pending = st->state == HOST_RESTARTING && !s->stopping;
        double at = st->restart_at;
        host_status_unlock(s->table);
        if (!pending)
            continue;
        if (at <= now)
            spawn(s, i);
        else if (next == 0 || at < next)
            next = at;
    }
    return next == 0 ? -1 : (int)((next - now) * 1000) + 1;
}

static int loop_timeout(sup *s)
{
    int t = restarts_due(s);
    if (s->stopping) {
        double left = s->stop_deadline - ngsi_now();
        int ms = left > 0 ? (int)(left * 1000) + 1 : 0;
        t = t < 0 || ms < t ? ms : t;
    }
    return t;
}

static void loop(sup *s)
{
    size_t n = s->conf->n;
    struct pollfd *pfd = calloc(n + 1, sizeof *pfd);
    if (pfd == NULL)
        abort();
    while (!(s->stopping || s->once) || alive_count(s) > 0) {
        int timeout = loop_timeout(s);
        pfd[0] = (struct pollfd){.fd = s->sigfd, .events = POLLIN};
        for (size_t i = 0; i < n; i++)
            pfd[i + 1] = (struct pollfd){.fd = s->kids[i].fd, .events = POLLIN};
        int rc = poll(pfd, n + 1, timeout);
        if (rc < 0 && errno != EINTR)
            break;
        for (size_t i = 0; i < n; i++)
            if (pfd[i + 1].fd >= 0 && pfd[i + 1].revents)
                drain(s, i);
        if (pfd[0].revents)
            on_signal(s);
        if (s->stopping && !s->killed && ngsi_now() >= s->stop_deadline && alive_count(s) > 0) {
            host_log(ADAPTER_LOG_WARN, "adapters still running after %.0f s: killing them",
                     STOP_GRACE_S);
            signal_all(s, SIGKILL);
            s->killed = true;
        }
    }
    free(pfd);
}

static int setup_signals(sup *s)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    /* Blocked before any thread starts, so only the signalfd sees them. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return s->sigfd < 0 ? -1 : 0;
}

/* once: the table as JSON on stdout; 0 when every adapter's run succeeded. */
static int once_summary(sup *s)
{
    int rc = 0;
    for (size_t i = 0; i < s->conf->n; i++) {
        host_status *st = host_status_lock(s->table, i);
        if (st->state != HOST_DISABLED && st->exit_code != 0)
            rc = 1;
        host_status_unlock(s->table);
    }
    json_t *all = host_status_json(s->table);
    json_dumpf(all, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(all);
    return rc;
}

int host_supervise(const host_conf *c, const char *self_exe, const char *config_path, bool once)
{
    char msg[256];
    int port = 0;
    void *server = NULL;
    sup s = {.conf = c, .self = self_exe, .config_path = config_path, .once = once};
    if (setup_signals(&s) < 0) {
        host_log(ADAPTER_LOG_ERROR, "cannot set up signals: %s", strerror(errno));
        return 1;
    }
    s.table = host_status_new(c);
    s.kids = calloc(c->n + 1, sizeof *s.kids);
    if (s.kids == NULL)
        abort();
    for (size_t i = 0; i < c->n; i++)
        s.kids[i].fd = -1;
    if (!once && c->status_port >= 0) {
        server = host_status_serve(s.table, c->status_bind, c->status_port, &port, msg, sizeof msg);
        if (server == NULL) {
            host_log(ADAPTER_LOG_ERROR, "%s", msg);
            host_status_free(s.table);
            free(s.kids);
            close(s.sigfd);
            return 1;
        }
        host_log(ADAPTER_LOG_INFO, "status on http://%s:%d/status", c->status_bind, port);
    }
    host_log(ADAPTER_LOG_INFO, "tsunagi-adapters %s: %zu adapters, broker %s", TSUNAGI_VERSION,
             c->n, c->broker_url);
    for (size_t i = 0; i < c->n; i++)
        if (c->adapters[i].enabled)
            spawn(&s, i);
    loop(&s);
    int rc = once ? once_summary(&s) : 0;
    host_status_stop(server);
    for (size_t i = 0; i < c->n; i++) {
        if (s.kids[i].fd >= 0)
            close(s.kids[i].fd);
        ngsi_buf_free(&s.kids[i].line);
    }
    free(s.kids);
    host_status_free(s.table);
    close(s.sigfd);
    host_log(ADAPTER_LOG_INFO, "stopped");
    return rc;
}
