/*
 * ngsi/list.c: comma-separated URI parameters (attrs=, metadata=, type=).
 */
#include "ngsi.h"

#include <stdlib.h>
#include <string.h>

int ngsi_list_parse(const char *s, const char *param, ngsi_list *out, ngsi_error *err)
{
    memset(out, 0, sizeof *out);
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    out->item = calloc(cap, sizeof *out->item);
    if (out->item == NULL)
        abort();
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 0) {
            ngsi_list_clear(out);
            return ngsi_bad_request(err, "Empty right-hand-side for URI param /%s/", param);
        }
        out->item[out->n] = strndup(p, n);
        if (out->item[out->n++] == NULL)
            abort();
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

bool ngsi_list_has(const ngsi_list *l, const char *s)
{
    for (size_t i = 0; l != NULL && i < l->n; i++)
        if (strcmp(l->item[i], s) == 0)
            return true;
    return false;
}

void ngsi_list_clear(ngsi_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->item[i]);
    free(l->item);
    l->item = NULL;
    l->n = 0;
}
