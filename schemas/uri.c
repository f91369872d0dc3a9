/*
 * schemas/uri.c: RFC 3986 reference resolution for "$id" and "$ref".
 *
 * "$ref": "folderInteger.json" inside a subschema whose base is
 * "http://localhost:1234/folder/" must become
 * "http://localhost:1234/folder/folderInteger.json" before it is looked up
 * in the registry; that is section 5.2 of RFC 3986 (split, merge paths,
 * remove dot segments, recompose), done here on plain strings. No
 * normalisation beyond that (no case folding, no percent-decoding of the
 * path): ids are compared as the strings the schema authors wrote, which is
 * what the JSON Schema specification asks for.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "schema_private.h"

typedef struct uri_part {
    const char *p;
    size_t len;
    bool set;
} uri_part;

typedef struct uri_parts {
    uri_part scheme, authority, path, query, fragment;
} uri_parts;

static bool is_scheme_char(char c, bool first)
{
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (first)
        return alpha;
    return alpha || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

static void uri_split(const char *s, uri_parts *u)
{
    memset(u, 0, sizeof *u);
    size_t i = 0;
    while (s[i] && is_scheme_char(s[i], i == 0))
        i++;
    if (i > 0 && s[i] == ':') {
        u->scheme = (uri_part){s, i, true};
        s += i + 1;
    }
    if (s[0] == '/' && s[1] == '/') {
        size_t n = strcspn(s + 2, "/?#");
        u->authority = (uri_part){s + 2, n, true};
        s += 2 + n;
    }
    size_t n = strcspn(s, "?#");
    u->path = (uri_part){s, n, true};
    s += n;
    if (*s == '?') {
        n = strcspn(s + 1, "#");
        u->query = (uri_part){s + 1, n, true};
        s += 1 + n;
    }
    if (*s == '#')
        u->fragment = (uri_part){s + 1, strlen(s + 1), true};
}

/* Drop the last segment (and its '/') already written to out[0..*len). */
static void pop_segment(char *out, size_t *len)
{
    while (*len > 0 && out[*len - 1] != '/')
        (*len)--;
    if (*len > 0)
        (*len)--;
}

/* RFC 3986 section 5.2.4, in place: `buf` holds the input path and gets the
 * output, which is never longer. */
static void remove_dot_segments(char *buf)
{
    const char *in = buf;
    size_t olen = 0;
    while (*in) {
        if (strncmp(in, "../", 3) == 0) {
            in += 3;
        } else if (strncmp(in, "./", 2) == 0) {
            in += 2;
        } else if (strncmp(in, "/./", 3) == 0) {
            in += 2;
        } else if (strcmp(in, "/.") == 0) {
            in += 1;
            buf[olen++] = '/';
            break;
        } else if (strncmp(in, "/../", 4) == 0) {
            in += 3;
            pop_segment(buf, &olen);
        } else if (strcmp(in, "/..") == 0) {
            pop_segment(buf, &olen);
            buf[olen++] = '/';
            break;
        } else if (strcmp(in, ".") == 0 || strcmp(in, "..") == 0) {
            break;
        } else {
            size_t n = (*in == '/') + strcspn(in + (*in == '/'), "/");
            memmove(buf + olen, in, n);
            olen += n;
            in += n;
        }
    }
    buf[olen] = '\0';
}

/* Copy p[0..len) to out; returns the end of what was written. */
static char *append(char *out, const char *p, size_t len)
{
    memcpy(out, p, len);
    return out + len;
}

/* The merged (not yet dot-removed) path of section 5.2.3 into `out`;
 * returns the end of what was written. */
static char *merge_paths(char *out, const uri_parts *b, const uri_part *rpath)
{
    if (b->authority.set && b->path.len == 0) {
        *out++ = '/';
    } else {
        size_t keep = b->path.len;
        while (keep > 0 && b->path.p[keep - 1] != '/')
            keep--;
        out = append(out, b->path.p, keep);
    }
    return append(out, rpath->p, rpath->len);
}

/* Section 5.3: the URI from its parts. New string, caller frees. */
static char *compose(const uri_parts *t, const char *path)
{
    size_t size =
        t->scheme.len + t->authority.len + strlen(path) + t->query.len + t->fragment.len + 8;
    char *s = malloc(size), *o = s;
    if (!s)
        return NULL;
    o = append(o, t->scheme.p, t->scheme.len);
    *o++ = ':';
    if (t->authority.set) {
        o = append(o, "//", 2);
        o = append(o, t->authority.p, t->authority.len);
    }
    o = append(o, path, strlen(path));
    if (t->query.set) {
        *o++ = '?';
        o = append(o, t->query.p, t->query.len);
    }
    if (t->fragment.set) {
        *o++ = '#';
        o = append(o, t->fragment.p, t->fragment.len);
    }
    *o = '\0';
    return s;
}

char *uri_resolve(const char *base, const char *ref)
{
    uri_parts r, b, t;
    uri_split(ref, &r);
    if (!r.scheme.set && !base)
        return NULL;
    if (base)
        uri_split(base, &b);
    if (!r.scheme.set && !b.scheme.set)
        return NULL;
    char *path = malloc(strlen(ref) + (base ? strlen(base) : 0) + 2), *o = path;
    if (!path)
        return NULL;
    t = r;
    if (r.scheme.set || r.authority.set) {
        o = append(o, r.path.p, r.path.len);
    } else if (r.path.len == 0) {
        o = append(o, b.path.p, b.path.len);
        if (!r.query.set)
            t.query = b.query;
    } else if (r.path.p[0] == '/') {
        o = append(o, r.path.p, r.path.len);
    } else {
        o = merge_paths(o, &b, &r.path);
    }
    *o = '\0';
    remove_dot_segments(path);
    if (!r.scheme.set) {
        t.scheme = b.scheme;
        if (!r.authority.set)
            t.authority = b.authority;
    }
    char *s = compose(&t, path);
    free(path);
    return s;
}

size_t uri_fragment_at(const char *uri)
{
    return strcspn(uri, "#");
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *uri_percent_decode(const char *s, size_t len)
{
    char *out = malloc(len + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            *o++ = s[i];
            continue;
        }
        int hi = i + 2 < len ? hex_value(s[i + 1]) : -1;
        int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
        if (lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }
        *o++ = (char)(hi * 16 + lo);
        i += 2;
    }
    *o = '\0';
    return out;
}
