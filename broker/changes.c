/*
 * broker/changes.c: where entity changes go once they are stored.
 *
 * Every write path (single-entity routes through call_save, creates,
 * deletes, and each entity of a batch) reports here after the database
 * accepted it, with the entity as it was and as it is now. The subscription
 * engine matches the change and queues notifications; nothing here waits on
 * the network.
 *
 * Self-loops are stopped as Orion stops them: an update that carries
 * "Ngsiv2-AttrsFormat: custom" (the mark of a custom notification) and whose
 * correlator has the same root as the one that last wrote the entity is a
 * notification coming back; it is stored but triggers nothing.
 */
#include "broker_private.h"
#include "subs_private.h"

#include <string.h>
#include <strings.h>

#define CBNOTIF_MARK "; cbnotif="

void broker_correlator_root(const char *corr, char *out, size_t n)
{
    const char *mark = strstr(corr, CBNOTIF_MARK);
    size_t len = mark ? (size_t)(mark - corr) : strlen(corr);
    snprintf(out, n, "%.*s", (int)len, corr);
}

static bool loop_detected(call *c, const change *ch)
{
    const char *fmt = call_header(c, "Ngsiv2-AttrsFormat");
    if (ch->kind != CHANGE_UPDATE || ch->before == NULL || fmt == NULL ||
        strcasecmp(fmt, "custom") != 0)
        return false;
    const char *last = ch->before->last_correlator;
    return last != NULL && strcmp(last, c->correlator_root) == 0;
}

static int alteration(enum change_kind k)
{
    switch (k) {
    case CHANGE_CREATE:
        return SUBS_ALT_CREATE;
    case CHANGE_DELETE:
        return SUBS_ALT_DELETE;
    case CHANGE_UPDATE:
    default:
        return SUBS_ALT_UPDATE;
    }
}

void broker_changed(call *c, const change *ch)
{
    if (c->b->subs == NULL)
        return;
    if (loop_detected(c, ch)) {
        log_msg(LOG_WARN,
                "Notification loop detected for entity id %s type %s, skipping subscription "
                "triggering",
                ch->before->id, ch->before->type);
        return;
    }
    subs_event ev = {.tenant = c->tenant,
                     .kind = alteration(ch->kind),
                     .before = ch->before,
                     .after = ch->after,
                     .forced = (c->options & OPT_FORCED_UPDATE) != 0,
                     .correlator = c->correlator,
                     .auth_token = call_header(c, "X-Auth-Token"),
                     .sent = &c->notif_sent};
    subs_engine_changed(c->b->subs, &ev);
}
