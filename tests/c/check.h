/* Shared helpers of the C tests: every check prints what failed and
 * counts; main() returns non-zero if any failed. */
#ifndef STRONGROOM_TEST_CHECK_H
#define STRONGROOM_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strongroom.h"

/* Test hooks of the library built with the `test-hooks` feature (not in
 * the public header). */
#ifdef __cplusplus
extern "C" {
#endif
size_t strongroom_test_live_handles(void);
strongroom_result strongroom_test_panic(void);
#ifdef __cplusplus
}
#endif

static int g_checks = 0;
static int g_failures = 0;

#define CHECK(cond)                                                          \
    do {                                                                     \
        g_checks++;                                                          \
        if (!(cond)) {                                                       \
            g_failures++;                                                    \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
        }                                                                    \
    } while (0)

/* A call that must return `want`. */
#define EXPECT(call, want)                                                   \
    do {                                                                     \
        strongroom_result got_ = (call);                                     \
        g_checks++;                                                          \
        if (got_ != (strongroom_result)(want)) {                             \
            g_failures++;                                                    \
            fprintf(stderr, "%s:%d: %s\n  returned %u (%s), want %u (%s)\n", \
                    __FILE__, __LINE__, #call, (unsigned)got_,               \
                    strongroom_result_name(got_), (unsigned)(want),          \
                    strongroom_result_name(want));                           \
        }                                                                    \
    } while (0)

#define OK(call) EXPECT(call, STRONGROOM_RESULT_OK)

/* A string literal as (pointer, length). */
#define S(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

static int finish(const char *name) {
    printf("%s: %d checks, %d failed\n", name, g_checks, g_failures);
    return g_failures == 0 && g_checks > 0 ? 0 : 1;
}

#endif
