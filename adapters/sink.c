/*
 * adapters/sink.c: writing entities to the broker, and id-link lookups.
 *
 * Adapters write through the broker's own NGSI-v2 API, never its database,
 * so the broker's validation, access control and subscriptions apply to
 * their data as to anyone's, and the same adapters can write to Orion.
 *
 * Entities are serialised as they are put and sent in batches with POST
 * /v2/op/update (actionType append: create or update), with the adapter's
 * tenant, service path and token. A batch is sent when it holds batchSize
 * entities or batchBytes bytes, whichever comes first, and at the end of the
 * run. When the broker refuses a batch as a whole or in part (4xx other than
 * 401/403: an entity fails its schema, a value has a forbidden character),
 * the batch is sent again one entity at a time, so that each bad entity is
 * found, counted as a skipped record and logged with the broker's reason,
 * and every good one is written. 401/403, 5xx and transport errors fail the
 * run, so its cursor is not saved and the next run writes the data again.
 */
#include "host_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Tokens are JWTs: a few hundred bytes to a few KB. A longer one is
 * refused, not cut: a cut token would only fail at the broker, as a 401
 * that does not say why. */
#define TOKEN_MAX 16384
/* Broker write failures are retried like upstream requests, briefly. */
#define BROKER_RETRIES     2
#define BROKER_RETRY_DELAY 0.5

void host_batch_free(host_batch *b)
{
    ngsi_buf_free(&b->buf);
    free(b->off);
    free(b->len);
    memset(b, 0, sizeof *b);
}

static void batch_push(host_batch *b, const char *text, size_t len)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->off = realloc(b->off, b->cap * sizeof *b->off);
        b->len = realloc(b->len, b->cap * sizeof *b->len);
        if (b->off == NULL || b->len == NULL)
            abort();
    }
    if (b->n > 0)
        ngsi_buf_append(&b->buf, ",", 1);
    b->off[b->n] = b->buf.len;
    b->len[b->n] = len;
    b->n++;
    ngsi_buf_append(&b->buf, text, len);
}

static void batch_clear(host_batch *b)
{
    ngsi_buf_reset(&b->buf);
    b->n = 0;
}

int host_load_token(adapter_ctx *ctx)
{
    const host_conf *c = ctx->conf;
    free(ctx->token);
    ctx->token = NULL;
    const char *env = c->token_env ? getenv(c->token_env) : NULL;
    if (env != NULL && *env != '\0') {
        if (strlen(env) >= TOKEN_MAX)
            return host_fail(ctx, "token_env %s: longer than %d bytes", c->token_env,
                             TOKEN_MAX - 1);
        ctx->token = strdup(env);
        return 0;
    }
    if (c->token_file == NULL)
        return 0; /* no token: a broker without auth */
    FILE *f = fopen(c->token_file, "re");
    if (f == NULL)
        return host_fail(ctx, "token file %s: %s", c->token_file, strerror(errno));
    char *buf = malloc(TOKEN_MAX);
    if (buf == NULL)
        abort();
    size_t n = fread(buf, 1, TOKEN_MAX, f);
    fclose(f);
    if (n == TOKEN_MAX) {
        free(buf);
        return host_fail(ctx, "token file %s: longer than %d bytes", c->token_file, TOKEN_MAX - 1);
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        n--;
    buf[n] = '\0';
    ctx->token = buf;
    return 0;
}

/* Headers of every broker request: tenant, path, token. */
static struct curl_slist *broker_headers(adapter_ctx *ctx, bool json_body)
{
    struct curl_slist *h = NULL;
    char line[TOKEN_MAX + 64];
    if (ctx->ac->service[0]) {
        snprintf(line, sizeof line, "Fiware-Service: %s", ctx->ac->service);
        h = curl_slist_append(h, line);
    }
    snprintf(line, sizeof line, "Fiware-ServicePath: %s", ctx->ac->subservice);
    h = curl_slist_append(h, line);
    if (ctx->token != NULL && ctx->token[0]) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", ctx->token);
        h = curl_slist_append(h, line);
    }
    if (json_body)
        h = curl_slist_append(h, "Content-Type: application/json");
    return curl_slist_append(h, "Expect:");
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    ngsi_buf_append(arg, data, size * n);
    return size * n;
}

/* One request to the broker, retried on transport errors and 5xx.
 * Returns the status (0: no answer); out gets the body. */
static long broker_call(adapter_ctx *ctx, const char *method, const char *path, const char *body,
                        size_t len, ngsi_buf *out)
{
    char url[ADAPTER_URL_MAX];
    CURL *h = ctx->broker;
    long status = 0;
    snprintf(url, sizeof url, "%s%s", ctx->conf->broker_url, path);
    struct curl_slist *hdrs = broker_headers(ctx, body != NULL);
    double delay = BROKER_RETRY_DELAY;
    for (int i = 0;; i++) {
        ngsi_buf_reset(out);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)ctx->conf->broker_timeout_ms);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (body != NULL) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        } else {
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        }
        CURLcode rc = curl_easy_perform(h);
        status = 0;
        if (rc == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        else {
            ngsi_buf_reset(out);
            ngsi_buf_puts(out, curl_easy_strerror(rc));
        }
        if ((status != 0 && status < 500) || i >= BROKER_RETRIES || !host_sleep(ctx, delay))
            break;
        delay *= 2;
    }
    curl_slist_free_all(hdrs);
    if (out->data == NULL)
        ngsi_buf_puts(out, "");
    return status;
}

/* Send entities [from, from + n) of the batch. */
static long send_entities(adapter_ctx *ctx, size_t from, size_t n, ngsi_buf *reply)
{
    host_batch *b = &ctx->batch;
    ngsi_buf body = {0};
    size_t start = b->off[from], end = b->off[from + n - 1] + b->len[from + n - 1];
    ngsi_buf_puts(&body, "{\"actionType\":\"append\",\"entities\":[");
    ngsi_buf_append(&body, b->buf.data + start, end - start);
    ngsi_buf_puts(&body, "]}");
    long status = broker_call(ctx, "POST", "/v2/op/update", body.data, body.len, reply);
    ngsi_buf_free(&body);
    return status;
}

static bool refused_entity(long status)
{
    return status >= 400 && status < 500 && status != 401 && status != 403 && status != 429;
}

/* The id of entity i of the batch, for messages. New string. */
static char *entity_label(const host_batch *b, size_t i)
{
    json_t *e = json_loadb(b->buf.data + b->off[i], b->len[i], 0, NULL);
    char *out = strdup(e && json_is_string(json_object_get(e, "id"))
                           ? json_string_value(json_object_get(e, "id"))
                           : "?");
    json_decref(e);
    return out;
}

/* After a refused batch: each entity alone. */
static int send_one_by_one(adapter_ctx *ctx, ngsi_buf *reply)
{
    host_batch *b = &ctx->batch;
    for (size_t i = 0; i < b->n; i++) {
        long status = send_entities(ctx, i, 1, reply);
        if (status == 204 || status == 201) {
            ctx->run.written++;
            continue;
        }
        if (!refused_entity(status))
            return host_fail(ctx, "broker answered %ld: %.300s", status, reply->data);
        char *id = entity_label(b, i);
        HOST_API.skip(ctx, "broker refused %s (%ld): %.300s", id, status, reply->data);
        free(id);
    }
    return 0;
}

int host_flush(adapter_ctx *ctx)
{
    host_batch *b = &ctx->batch;
    ngsi_buf reply = {0};
    int rc = 0;
    if (b->n == 0)
        return 0;
    long status = send_entities(ctx, 0, b->n, &reply);
    if (status == 204 || status == 201)
        ctx->run.written += b->n;
    else if (refused_entity(status) && b->n > 1)
        rc = send_one_by_one(ctx, &reply);
    else if (refused_entity(status)) {
        char *id = entity_label(b, 0);
        HOST_API.skip(ctx, "broker refused %s (%ld): %.300s", id, status, reply.data);
        free(id);
    } else
        rc = host_fail(ctx, "broker answered %ld: %.300s", status, reply.data);
    ngsi_buf_free(&reply);
    batch_clear(b);
    return rc;
}

int host_put_entity(adapter_ctx *ctx, json_t *entity)
{
    if (!json_is_object(entity) || !json_is_string(json_object_get(entity, "id"))) {
        json_decref(entity);
        return host_fail(ctx, "put_entity: not an entity with an id");
    }
    char *text = json_dumps(entity, JSON_COMPACT);
    json_decref(entity);
    if (text == NULL)
        abort();
    size_t len = strlen(text);
    int rc = 0;
    if (ctx->batch.n > 0 && ctx->batch.buf.len + len > ctx->conf->batch_bytes_max)
        rc = host_flush(ctx);
    if (rc == 0)
        batch_push(&ctx->batch, text, len);
    free(text);
    if (rc == 0 && ctx->batch.n >= (size_t)ctx->conf->batch_size)
        rc = host_flush(ctx);
    return rc;
}

/*
 * The owner goes in the one attribute Tsunagi's access control reads and
 * pseudonymises for services, "ownerId" (broker.ownerAttribute for another
 * broker). Smart Data Models' "owner" list is written only on request
 * (broker.ownerList), because a common ID anywhere else in an entity is
 * shown to services as it is.
 */
void host_set_owner(adapter_ctx *ctx, json_t *entity, const char *common_id)
{
    json_object_set_new(entity, ctx->conf->owner_attr,
                        json_pack("{s:s,s:s}", "type", "Text", "value", common_id));
    if (ctx->conf->owner_list && strcmp(ctx->conf->owner_attr, "owner") != 0)
        json_object_set_new(
            entity, "owner",
            json_pack("{s:s,s:[s]}", "type", "StructuredValue", "value", common_id));
}

int host_link_lookup(adapter_ctx *ctx, const char *system, const char *value, char *out,
                     size_t outsz)
{
    char *key, path[ADAPTER_URL_MAX];
    if (asprintf(&key, "%s\x1f%s", system, value) < 0)
        abort();
    json_t *cached = json_object_get(ctx->links, key);
    if (cached != NULL) {
        free(key);
        snprintf(out, outsz, "%s", json_is_string(cached) ? json_string_value(cached) : "");
        return json_is_string(cached) ? 1 : 0;
    }
    char *s = curl_easy_escape(ctx->broker, system, 0),
         *v = curl_easy_escape(ctx->broker, value, 0);
    snprintf(path, sizeof path, "/tsunagi/idlinks/%s/%s", s, v);
    curl_free(s);
    curl_free(v);
    ngsi_buf reply = {0};
    long status = broker_call(ctx, "GET", path, NULL, 0, &reply);
    json_t *doc = status == 200 ? json_loadb(reply.data, reply.len, 0, NULL) : NULL;
    const char *id = json_string_value(json_object_get(doc, "commonId"));
    int rc;
    if (status == 200 && id != NULL && strlen(id) < outsz) {
        snprintf(out, outsz, "%s", id);
        json_object_set_new(ctx->links, key, json_string(id));
        rc = 1;
    } else if (status == 404) {
        json_object_set_new(ctx->links, key, json_null());
        rc = 0;
    } else {
        rc = host_fail(ctx, "id link lookup %s answered %ld: %.200s", path, status, reply.data);
    }
    json_decref(doc);
    ngsi_buf_free(&reply);
    free(key);
    return rc;
}
