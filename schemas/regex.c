/*
 * schemas/regex.c: ECMA-262 patterns ("pattern", "patternProperties") on
 * PCRE2.
 *
 * JSON Schema patterns are ECMA-262 regular expressions. PCRE2 is the
 * closest engine Debian ships; it is configured to behave as much like
 * ECMA-262 (with the "u" flag, since instances are Unicode text) as it can:
 *
 *   PCRE2_UTF                  match code points, as ECMA-262 with "u"
 *   PCRE2_ALT_BSUX + EXTRA_ALT_BSUX   \uHHHH, \u{H...}, \xHH as in ECMA-262
 *   PCRE2_DOLLAR_ENDONLY       "$" matches only at the very end
 *   PCRE2_ALLOW_EMPTY_CLASS    "[]" never matches, "[^]" matches anything
 *   PCRE2_MATCH_UNSET_BACKREF  a back-reference to an unset group matches ""
 *   PCRE2_NEVER_BACKSLASH_C    "\C" (one code unit) does not exist in ECMA
 *   newline = ANY              "." stops at LF, CR, U+2028, U+2029 (and VT,
 *                              FF, NEL, which ECMA's "." matches)
 *   ASCII \d \w, Unicode \s    when PCRE2 >= 10.43 offers EXTRA_ASCII_BSD
 *
 * Patterns are never anchored implicitly (pcre2_match searches). The
 * remaining differences are listed in docs/schemas.md.
 *
 * Each pattern is compiled once, at registry compile time, and JIT-compiled
 * when the platform supports it. Compiled code is shared read-only between
 * threads; the match data is per validation call (see regex_search), and
 * the JIT stack is PCRE2's default one on the calling thread's stack.
 * A match limit bounds the work one match may do, so a pathological pattern
 * cannot stall a worker: hitting it is reported as a violation.
 */
#include <stdio.h>
#include <stdlib.h>

#include "schema_private.h"

/* Backtracking steps one match may take (PCRE2's default is 10 million).
 * Patterns for entity attributes need a few hundred on realistic input;
 * a million keeps a worst case near a millisecond. */
#define REGEX_MATCH_LIMIT 1000000

#define REGEX_COMPILE_OPTIONS                                                                      \
    (PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_DOLLAR_ENDONLY | PCRE2_ALLOW_EMPTY_CLASS |                 \
     PCRE2_MATCH_UNSET_BACKREF | PCRE2_NEVER_BACKSLASH_C | REGEX_UCP)

#ifdef PCRE2_EXTRA_ASCII_BSD
#define REGEX_UCP         PCRE2_UCP
#define REGEX_EXTRA_ASCII (PCRE2_EXTRA_ASCII_BSD | PCRE2_EXTRA_ASCII_BSW | PCRE2_EXTRA_ASCII_POSIX)
#else
#define REGEX_UCP         0
#define REGEX_EXTRA_ASCII 0
#endif

pcre2_match_context *regex_match_context_new(void)
{
    pcre2_match_context *mctx = pcre2_match_context_create(NULL);
    if (mctx)
        pcre2_set_match_limit(mctx, REGEX_MATCH_LIMIT);
    return mctx;
}

static pcre2_compile_context *compile_context_new(void)
{
    pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
    if (!cctx)
        return NULL;
    pcre2_set_compile_extra_options(cctx, PCRE2_EXTRA_ALT_BSUX | REGEX_EXTRA_ASCII);
    pcre2_set_newline(cctx, PCRE2_NEWLINE_ANY);
    return cctx;
}

schema_regex *regex_compile(const char *source, size_t len, const pcre2_match_context *mctx,
                            char *why, size_t why_size)
{
    pcre2_compile_context *cctx = compile_context_new();
    schema_regex *re = malloc(sizeof *re);
    if (!cctx || !re) {
        snprintf(why, why_size, "out of memory");
        goto fail;
    }
    int code;
    PCRE2_SIZE offset;
    re->code = pcre2_compile((PCRE2_SPTR)source, len, REGEX_COMPILE_OPTIONS, &code, &offset, cctx);
    if (!re->code) {
        PCRE2_UCHAR msg[128];
        pcre2_get_error_message(code, msg, sizeof msg);
        snprintf(why, why_size, "invalid pattern at offset %zu: %s", (size_t)offset, msg);
        goto fail;
    }
    /* No JIT on this platform is fine: pcre2_match interprets instead. */
    (void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
    re->mctx = mctx;
    re->source = source;
    pcre2_compile_context_free(cctx);
    return re;
fail:
    pcre2_compile_context_free(cctx);
    free(re);
    return NULL;
}

int regex_search(const schema_regex *re, const char *s, size_t len, pcre2_match_data **md)
{
    if (!*md) {
        /* One pair is enough: only "is there a match" matters. */
        *md = pcre2_match_data_create(1, NULL);
        if (!*md)
            return -1;
    }
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, *md, (pcre2_match_context *)re->mctx);
    if (rc >= 0)
        return 1;
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

void regex_free(schema_regex *re)
{
    if (!re)
        return;
    pcre2_code_free(re->code);
    free(re);
}
