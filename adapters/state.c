/*
 * adapters/state.c: each adapter's small key-value store (cursors, "since"
 * timestamps, HTTP validators) that survives restarts.
 *
 * One JSON file per adapter, <stateDir>/<name>.json:
 *   {"version": 1, "state": {"key": "value", ...}}
 * Writes made during a run stay pending and are saved together only when the
 * run succeeds, so a cursor never advances past data that did not reach the
 * broker. Saving writes a temporary file, fsyncs it, renames it over the old
 * one and fsyncs the directory: after a crash or power cut the file is
 * either the old state or the new one, never a mix.
 */
#include "host_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_FORMAT_VERSION 1

static int load(host_state *s, char *msg, size_t msgsz)
{
    json_error_t je;
    json_t *doc = json_load_file(s->path, 0, &je);
    if (doc == NULL) {
        if (access(s->path, F_OK) != 0 && errno == ENOENT)
            return 0; /* first run */
        snprintf(msg, msgsz, "state file %s: %s", s->path, je.text);
        return -1;
    }
    json_t *state = json_object_get(doc, "state");
    const char *key;
    json_t *v;
    if (!json_is_object(state) ||
        json_integer_value(json_object_get(doc, "version")) != STATE_FORMAT_VERSION) {
        json_decref(doc);
        snprintf(msg, msgsz, "state file %s: not a version %d state file", s->path,
                 STATE_FORMAT_VERSION);
        return -1;
    }
    json_object_foreach(state, key, v)
    {
        if (json_is_string(v))
            json_object_set(s->saved, key, v);
    }
    json_decref(doc);
    return 0;
}

int host_state_open(host_state *s, const char *dir, const char *name, char *msg, size_t msgsz)
{
    memset(s, 0, sizeof *s);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(msg, msgsz, "state directory %s: %s", dir, strerror(errno));
        return -1;
    }
    if (asprintf(&s->path, "%s/%s.json", dir, name) < 0)
        abort();
    s->saved = json_object();
    s->pending = json_object();
    if (load(s, msg, msgsz) < 0) {
        host_state_close(s);
        return -1;
    }
    return 0;
}

const char *host_state_get(const host_state *s, const char *key)
{
    json_t *v = json_object_get(s->pending, key);
    if (v != NULL)
        return json_string_value(v); /* NULL when removed in this run */
    return json_string_value(json_object_get(s->saved, key));
}

void host_state_set(host_state *s, const char *key, const char *value)
{
    json_object_set_new(s->pending, key, value ? json_string(value) : json_null());
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int sync_dir(const char *path)
{
    char *dir = strdup(path);
    if (dir == NULL)
        abort();
    char *slash = strrchr(dir, '/');
    if (slash != NULL)
        *slash = '\0';
    int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Write doc to path through a temporary file and a rename. */
static int save(const char *path, const json_t *doc, char *msg, size_t msgsz)
{
    char *tmp, *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL || asprintf(&tmp, "%s.tmp", path) < 0)
        abort();
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = fd < 0 ? -1 : 0;
    if (rc == 0)
        rc = write_all(fd, text, strlen(text));
    if (rc == 0)
        rc = fsync(fd);
    if (fd >= 0 && close(fd) != 0)
        rc = -1;
    if (rc == 0)
        rc = rename(tmp, path);
    if (rc == 0)
        sync_dir(path); /* the rename is durable once the directory is */
    else {
        snprintf(msg, msgsz, "cannot save state to %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(text);
    free(tmp);
    return rc;
}

int host_state_commit(host_state *s, char *msg, size_t msgsz)
{
    if (json_object_size(s->pending) == 0)
        return 0;
    json_t *next = json_deep_copy(s->saved);
    const char *key;
    json_t *v;
    json_object_foreach(s->pending, key, v)
    {
        if (json_is_null(v))
            json_object_del(next, key);
        else
            json_object_set(next, key, v);
    }
    json_t *doc = json_pack("{s:i,s:O}", "version", STATE_FORMAT_VERSION, "state", next);
    int rc = save(s->path, doc, msg, msgsz);
    json_decref(doc);
    if (rc < 0) {
        json_decref(next);
        return -1;
    }
    json_decref(s->saved);
    s->saved = next;
    json_object_clear(s->pending);
    return 0;
}

void host_state_discard(host_state *s)
{
    json_object_clear(s->pending);
}

void host_state_close(host_state *s)
{
    free(s->path);
    json_decref(s->saved);
    json_decref(s->pending);
    memset(s, 0, sizeof *s);
}
