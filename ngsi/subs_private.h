/*
 * ngsi/subs_private.h: what the files of tsunagi_subs share.
 */
#ifndef TSUNAGI_SUBS_PRIVATE_H
#define TSUNAGI_SUBS_PRIVATE_H

#include <regex.h>

#include "geo.h"
#include "q.h"
#include "subs.h"

/* A subscription's expressions, parsed once for every match. */
struct subs_compiled {
    q_expr *q, *mq;
    geo_query *geo;
    regex_t *id_re; /* one per subject entity; used when id_pattern */
    regex_t *type_re;
    bool *id_re_ok, *type_re_ok;
    size_t n;
};

/* (Re)build s->compiled from s's strings. 0, or -1 with Orion's text in err
 * (the same texts the parser gives). */
int subs_compile(subs_sub *s, ngsi_error *err);
void subs_compiled_free(subs_compiled *c);

/* The alteration type the change is for s: a metadata-only change is a
 * mere update to a subscription that ignores metadata. */
int subs_target_alt(const subs_sub *s, const subs_change *ch);

/* strdup that aborts on exhaustion, as the rest of the model does; NULL
 * stays NULL. */
char *subs_strdup(const char *s);
/* Append a copy of s to l. */
void subs_list_push(ngsi_list *l, const char *s);
/* A deep copy of src into dst (cleared first). */
void subs_list_copy(ngsi_list *dst, const ngsi_list *src);

/* Text form of a value for templates: strings raw, numbers in Orion's
 * format, other values as compact JSON. Appended to out. */
void subs_value_text(ngsi_buf *out, const json_t *v);

#endif
