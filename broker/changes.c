/*
 * broker/changes.c: where entity changes go once they are stored.
 *
 * Every write path (single-entity routes through call_save, creates,
 * deletes, and each entity of a batch) reports here after the database
 * accepted it, with the entity as it was and as it is now. Subscriptions
 * match these changes; nothing consumes them yet.
 */
#include "broker_private.h"

void broker_changed(call *c, const change *ch)
{
    (void)c;
    (void)ch;
}
