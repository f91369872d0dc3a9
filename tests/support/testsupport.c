/*
 * tests/support/testsupport.c: locating and cleaning the test database.
 */
#include "testsupport.h"

#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *ts_mongo_uri(void)
{
    static char uri[256];
    const char *env = getenv("TSUNAGI_TEST_MONGO_URI");
    if (env != NULL && *env)
        return env;
    const char *dir = getenv("TSUNAGI_TEST_DB_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/mongo.port", dir ? dir : "testdb");
    FILE *f = fopen(path, "r");
    int port = 0;
    if (f == NULL || fscanf(f, "%d", &port) != 1) {
        fprintf(stderr,
                "no test database: set TSUNAGI_TEST_MONGO_URI or start one with "
                "scripts/mongo start <dir> (looked for %s)\n",
                path);
        abort();
    }
    fclose(f);
    snprintf(uri, sizeof uri, "mongodb://127.0.0.1:%d/?serverSelectionTimeoutMS=5000", port);
    return uri;
}

void ts_unique_name(char *out, size_t n, const char *base)
{
    static int counter;
    snprintf(out, n, "%s_%d_%d", base, (int)getpid(), counter++);
}

void ts_drop_databases(const char *prefix)
{
    bson_error_t e;
    mongoc_client_t *c = mongoc_client_new(ts_mongo_uri());
    char **names = mongoc_client_get_database_names_with_opts(c, NULL, &e);
    for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
        if (strncmp(names[i], prefix, strlen(prefix)) != 0)
            continue;
        mongoc_database_t *db = mongoc_client_get_database(c, names[i]);
        mongoc_database_drop(db, &e);
        mongoc_database_destroy(db);
    }
    bson_strfreev(names);
    mongoc_client_destroy(c);
}
