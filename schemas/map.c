/*
 * schemas/map.c: the small hash map behind the registry's indexes.
 *
 * The registry needs two kinds of lookup at load time: URI -> document, and
 * json_t * -> what is known about that schema object. Both are "bytes ->
 * pointer", so one open-addressing table (linear probing, FNV-1a, grown at
 * 3/4 load) serves both; pointer keys are hashed as their bytes. Nothing is
 * ever removed, which keeps probing trivial. After compile the maps are only
 * read, so lookups from several threads are safe.
 */
#include <stdlib.h>
#include <string.h>

#include "schema_private.h"

/* First table size: a document of the project has a few dozen schema
 * objects; growing from 64 costs nothing measurable. */
#define MAP_INITIAL_CAP 64

struct schema_map_slot {
    char *key; /* NULL when empty */
    size_t len;
    uint64_t hash;
    void *value;
};

uint64_t map_hash(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* The slot holding `key`, or the empty slot where it would go. */
static struct schema_map_slot *map_find(const schema_map *m, const void *key, size_t len,
                                        uint64_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct schema_map_slot *s = &m->slots[i];
        if (!s->key || (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0))
            return s;
    }
}

void *map_get(const schema_map *m, const void *key, size_t len)
{
    if (m->cap == 0)
        return NULL;
    struct schema_map_slot *s = map_find(m, key, len, map_hash(key, len));
    return s->key ? s->value : NULL;
}

static int map_grow(schema_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : MAP_INITIAL_CAP;
    struct schema_map_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    schema_map bigger = {slots, cap, m->used};
    for (size_t i = 0; i < m->cap; i++) {
        struct schema_map_slot *old = &m->slots[i];
        if (old->key)
            *map_find(&bigger, old->key, old->len, old->hash) = *old;
    }
    free(m->slots);
    *m = bigger;
    return 0;
}

int map_put(schema_map *m, const void *key, size_t len, void *value)
{
    if ((m->used + 1) * 4 > m->cap * 3 && map_grow(m) < 0)
        return -1;
    uint64_t h = map_hash(key, len);
    struct schema_map_slot *s = map_find(m, key, len, h);
    if (s->key)
        return 1;
    s->key = malloc(len ? len : 1);
    if (!s->key)
        return -1;
    memcpy(s->key, key, len);
    s->len = len;
    s->hash = h;
    s->value = value;
    m->used++;
    return 0;
}

void map_free(schema_map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    m->slots = NULL;
    m->cap = m->used = 0;
}
