/*
 * tests/support/testsupport.h: what the tests that need a database share.
 *
 * The database is the real mongo-java-server started by the ctest fixture
 * (scripts/mongo start <build>/testdb --port 0), or any MongoDB named by
 * TSUNAGI_TEST_MONGO_URI. Tests never mock it.
 */
#ifndef TSUNAGI_TESTSUPPORT_H
#define TSUNAGI_TESTSUPPORT_H

#include <stddef.h>

/* The test database's URI. Borrowed static string; aborts the test run with
 * a message when no database is configured. */
const char *ts_mongo_uri(void);
/* A name no other test process uses: "<base>_<pid>_<n>". */
void ts_unique_name(char *out, size_t n, const char *base);
/* Drop every database whose name starts with prefix. */
void ts_drop_databases(const char *prefix);

#endif
