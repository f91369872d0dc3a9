/*
 * broker/h_misc.c: GET /version and GET /v2.
 *
 * /version keeps Orion's exact layout, pretty-printed with its " : "
 * separators, because monitoring scripts written for Orion parse it. The
 * figures are Tsunagi's own: its version, uptime and the libraries it runs
 * on.
 */
#include "broker_private.h"

#include <curl/curl.h>
#include <microhttpd.h>
#include <mongoc/mongoc.h>
#include <sys/utsname.h>

#ifndef TSUNAGI_GIT_HASH
#define TSUNAGI_GIT_HASH "nogitversion"
#endif
#ifndef TSUNAGI_BUILD_TIME
#define TSUNAGI_BUILD_TIME "unknown"
#endif
#ifndef TSUNAGI_BUILD_USER
#define TSUNAGI_BUILD_USER "unknown"
#endif
#ifndef TSUNAGI_BUILD_HOST
#define TSUNAGI_BUILD_HOST "unknown"
#endif

static void uptime_text(double seconds, char *out, size_t n)
{
    long s = (long)seconds;
    snprintf(out, n, "%ld d, %ld h, %ld m, %ld s", s / 86400, (s / 3600) % 24, (s / 60) % 60,
             s % 60);
}

static void libversions(ngsi_buf *b)
{
    curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
    ngsi_buf_puts(b, "  \"libversions\": {\n");
    ngsi_buf_printf(b, "     \"libmicrohttpd\": \"%s\",\n", MHD_get_version());
    ngsi_buf_printf(b, "     \"libcurl\": \"%s\",\n", cv->version);
    ngsi_buf_printf(b, "     \"jansson\": \"%s\",\n", jansson_version_str());
    ngsi_buf_printf(b, "     \"mongoc\": \"%s\",\n", mongoc_get_version());
    ngsi_buf_printf(b, "     \"bson\": \"%s\"\n", bson_get_version());
    ngsi_buf_puts(b, "  }\n");
}

int h_version(call *c, ngsi_error *err)
{
    char uptime[64];
    struct utsname u;
    ngsi_buf b = {0};
    bool libs = !(c->options & OPT_NO_LIB_VERSIONS);
    uname(&u);
    uptime_text(ngsi_now() - c->b->started, uptime, sizeof uptime);
    ngsi_buf_printf(&b,
                    "{\n\"orion\" : {\n"
                    "  \"version\" : \"%s\",\n"
                    "  \"uptime\" : \"%s\",\n"
                    "  \"git_hash\" : \"%s\",\n"
                    "  \"compile_time\" : \"%s\",\n"
                    "  \"compiled_by\" : \"%s\",\n"
                    "  \"compiled_in\" : \"%s\",\n"
                    "  \"release_date\" : \"%s\",\n"
                    "  \"machine\" : \"%s\",\n"
                    "  \"doc\" : \"%s\"%s\n",
                    TSUNAGI_VERSION, uptime, TSUNAGI_GIT_HASH, TSUNAGI_BUILD_TIME,
                    TSUNAGI_BUILD_USER, TSUNAGI_BUILD_HOST, TSUNAGI_BUILD_TIME, u.machine,
                    "docs/api.md", libs ? "," : "");
    if (libs)
        libversions(&b);
    ngsi_buf_puts(&b, "}\n}\n");
    reply_text(c, 200, b.data, b.len);
    c->out_type = "application/json";
    ngsi_buf_free(&b);
    return 0;
}

int h_v2_root(call *c, ngsi_error *err)
{
    reply_json(c, 200,
               json_pack("{s:s,s:s,s:s,s:s}", "entities_url", "/v2/entities", "types_url",
                         "/v2/types", "subscriptions_url", "/v2/subscriptions", "registrations_url",
                         "/v2/registrations"));
    return 0;
}
