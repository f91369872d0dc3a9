/*
 * ngsi/q.h: public surface of tsunagi_q, Orion's Simple Query Language.
 *
 * One parser and one evaluator serve `q` (attribute values) and `mq`
 * (metadata values) everywhere: GET /v2/entities, POST /v2/op/query and
 * subscriptions. A parsed expression can also be pushed down to MongoDB as
 * a filter; the rule is that the result is the same whichever side does the
 * work, so the pushed filter may let through more than the expression
 * accepts but never less, and says when it is exact. docs/query-language.md
 * gives the grammar, the typing and comparison rules and the pushdown.
 *
 * Ownership: q_parse returns a new expression, freed with q_free.
 *
 * Thread-safety: a parsed expression is immutable; q_match and q_to_bson
 * may run on one shared expression from many threads at once.
 */
#ifndef TSUNAGI_Q_H
#define TSUNAGI_Q_H

#include <bson/bson.h>
#include <stdbool.h>

#include "ngsi.h"

typedef struct q_expr q_expr;

/* Parse a `q` (is_mq false) or `mq` (is_mq true) string. New expression, or
 * NULL with a 400 BadRequest in err carrying Orion's description. */
q_expr *q_parse(const char *text, bool is_mq, ngsi_error *err);
void q_free(q_expr *e);

/* Whether ent satisfies every statement of e. Values are compared the way
 * MongoDB compares what Orion stores: by type (a number never equals a
 * string), DateTime values as seconds, arrays matching when an element does.
 * Pure: reads e and ent only. */
bool q_match(const q_expr *e, const ngsi_entity *ent);

/* Append to filter the conditions of e that MongoDB-compatible servers
 * evaluate the same way q_match does, as one "$and" array (nothing when no
 * statement can be pushed; the caller must not add its own "$and"). Every
 * entity q_match accepts passes the filter. *exact becomes true when the
 * filter accepts exactly the entities q_match accepts, so counts, offsets
 * and limits can be left to the database; otherwise run q_match on what the
 * filter returns. Returns the number of conditions appended. */
int q_to_bson(const q_expr *e, bson_t *filter, bool *exact);

#endif
