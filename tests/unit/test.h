/* A minimal test harness: CHECK keeps going and counts failures, REQUIRE stops the test.
 * A test's main() ends with `return test_report();`. */
#ifndef SLM_TEST_H
#define SLM_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        test_checks++;                                                                     \
        if (!(cond)) {                                                                     \
            test_failures++;                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);       \
        }                                                                                  \
    } while (0)

#define CHECKF(cond, ...)                                                                  \
    do {                                                                                   \
        test_checks++;                                                                     \
        if (!(cond)) {                                                                     \
            test_failures++;                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);       \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
        }                                                                                  \
    } while (0)

#define REQUIRE(cond)                                                                      \
    do {                                                                                   \
        test_checks++;                                                                     \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);     \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

/* Path of the shared reference data, or NULL (after printing the SKIPPED line) if absent. */
static inline const char *test_shared_dir(void)
{
    const char *d = getenv("SLM_SHARED");
    if (!d || !*d)
        d = "../shared";
    char probe[4096];
    snprintf(probe, sizeof(probe), "%s/README.md", d);
    FILE *f = fopen(probe, "r");
    if (!f) {
        printf("SKIPPED: reference data not found (%s)\n", d);
        return NULL;
    }
    fclose(f);
    return d;
}

static inline int test_report(void)
{
    if (test_failures) {
        fprintf(stderr, "%d of %d checks failed\n", test_failures, test_checks);
        return 1;
    }
    printf("%d checks passed\n", test_checks);
    return 0;
}

#endif
