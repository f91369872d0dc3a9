/*
 * ngsi/q_private.h: the parsed form of a q/mq expression, shared by the
 * parser (q_parse.c), the evaluator (q_eval.c) and the pushdown (q_mongo.c).
 */
#ifndef TSUNAGI_Q_PRIVATE_H
#define TSUNAGI_Q_PRIVATE_H

#include <locale.h>
#include <regex.h>

#include "q.h"

enum q_op { Q_EXISTS, Q_NOT_EXISTS, Q_EQ, Q_NE, Q_GT, Q_GE, Q_LT, Q_LE, Q_MATCH };

/* A literal's type, decided as Orion decides it: quoted text is a string;
 * otherwise a number, then an ISO 8601 date, then true/false, null, and
 * anything else a string. */
enum q_vtype { Q_STRING, Q_NUMBER, Q_DATE, Q_BOOL, Q_NULL };

/* The shape of the right-hand side. */
enum q_rhs { Q_RHS_NONE, Q_RHS_VALUE, Q_RHS_LIST, Q_RHS_RANGE, Q_RHS_REGEX };

/* What the left-hand side addresses. */
enum q_target {
    Q_ATTR,          /* attrs.<attr>.value[.path] */
    Q_MD,            /* attrs.<attr>.md.<md>.value[.path] */
    Q_ENT_CREATED,   /* dateCreated: the entity's creDate */
    Q_ENT_MODIFIED,  /* dateModified: the entity's modDate */
    Q_ENT_EXPIRES,   /* dateExpires: the entity's expDate */
    Q_ATTR_CREATED,  /* mq <attr>.dateCreated: the attribute's creDate */
    Q_ATTR_MODIFIED, /* mq <attr>.dateModified: the attribute's modDate */
};

typedef struct q_value {
    enum q_vtype type;
    double num; /* Q_NUMBER, Q_DATE (seconds since the epoch) */
    bool b;     /* Q_BOOL */
    char *str;  /* Q_STRING; owned */
    size_t len;
} q_value;

typedef struct q_item {
    enum q_op op;
    enum q_target target;
    char *attr;  /* attribute name, quoted dots kept as '.' */
    char *md;    /* metadata name (mq), else NULL */
    char **path; /* tokens into the compound value */
    size_t npath;
    enum q_rhs rhs;
    q_value *vals; /* RHS_VALUE: 1, RHS_LIST: n, RHS_RANGE: from and to */
    size_t nvals;
    char *pattern; /* RHS_REGEX: the pattern as written */
    regex_t re;    /* RHS_REGEX: compiled POSIX extended, under q_expr.utf8 */
} q_item;

struct q_expr {
    bool is_mq;
    q_item *items;
    size_t n;
    /* The locale regexes are compiled and run in: C.UTF-8, so that '.' or
     * [^a] is one character as in MongoDB's regexes, not one byte; (locale_t)0
     * when the C library has no such locale (then the thread's locale is
     * used, and regexes are never pushed down). Created with the first
     * regex, freed by q_free. */
    locale_t utf8;
};

#endif
