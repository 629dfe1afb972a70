/* Kernel selection: the generic tables are complete, levels form a chain, and
 * SLM_CPU_LEVEL may only lower the level (checked in child processes, since the choice
 * is made once per process). */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernels/kernels.h"
#include "test.h"

/* Child mode: print the active level and the note. */
static int report_level(void)
{
    const char *note = slm_cpu_level_note();
    printf("%s|%s\n", slm_cpu_level_name(slm_cpu_level()), note ? note : "");
    return 0;
}

/* Runs this program with SLM_CPU_LEVEL=value and returns its report line. */
static void run_child(const char *self, const char *value, char *line, size_t size)
{
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        setenv("SLM_CPU_LEVEL", value, 1);
        execl(self, self, "--report", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    size_t used = 0;
    ssize_t got;
    while (used + 1 < size && (got = read(fds[0], line + used, size - 1 - used)) > 0)
        used += (size_t)got;
    line[used] = 0;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static bool last_line_starts(const char *text, const char *prefix)
{
    const char *last = text, *p;
    for (p = text; *p; p++)
        if (p[0] == '\n' && p[1])
            last = p + 1;
    return strncmp(last, prefix, strlen(prefix)) == 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--report") == 0)
        return report_level();

    /* Every weight type has the full generic set, every activation type converts. */
    static const enum slm_type weights[] = {
        SLM_TYPE_F32,  SLM_TYPE_F16,  SLM_TYPE_BF16, SLM_TYPE_Q4_0, SLM_TYPE_Q4_1,
        SLM_TYPE_Q5_0, SLM_TYPE_Q5_1, SLM_TYPE_Q8_0, SLM_TYPE_Q2_K, SLM_TYPE_Q3_K,
        SLM_TYPE_Q4_K, SLM_TYPE_Q5_K, SLM_TYPE_Q6_K};
    for (size_t i = 0; i < sizeof(weights) / sizeof(weights[0]); i++) {
        const struct slm_type_traits *t = slm_traits_generic(weights[i]);
        REQUIRE(t);
        CHECKF(t->to_float && t->from_float && t->vec_dot, "%s", t->name);
        CHECK(t->block_size == slm_type_block_size(weights[i]));
        CHECK(t->block_bytes == slm_type_block_bytes(weights[i]));
        CHECK(strcmp(t->name, slm_type_name(weights[i])) == 0);
        const struct slm_type_traits *x = slm_traits_generic(t->vec_dot_type);
        CHECKF(x && x->from_float && x->block_size == t->block_size, "%s activations",
               t->name);
        /* The active table has the same geometry. */
        const struct slm_type_traits *a = slm_traits(weights[i]);
        CHECK(a && a->block_size == t->block_size && a->vec_dot_type == t->vec_dot_type);
    }
    CHECK(slm_traits(SLM_TYPE_I32) == NULL);
    CHECK(slm_traits((enum slm_type)4) == NULL);
    CHECK(slm_traits((enum slm_type)1000) == NULL);

    enum slm_cpu_level best = slm_cpu_level_best();
    CHECK(slm_cpu_level_supported(SLM_CPU_GENERIC));
    CHECK(slm_cpu_level_supported(best));
    CHECK(!slm_cpu_level_supported((enum slm_cpu_level)99));
    printf("best level: %s; features: %s\n", slm_cpu_level_name(best), slm_cpu_features());
    if (!getenv("SLM_CPU_LEVEL"))
        CHECK(slm_cpu_level() == best);
#if defined(__x86_64__)
    CHECK(!slm_cpu_level_supported(SLM_CPU_NEON));
#elif defined(__aarch64__)
    CHECK(!slm_cpu_level_supported(SLM_CPU_AVX2));
#endif

    char line[512];
    const char *self = "/proc/self/exe";
    char path[4096];
    ssize_t len = readlink(self, path, sizeof(path) - 1);
    REQUIRE(len > 0);
    path[len] = 0;

    run_child(path, "generic", line, sizeof(line));
    CHECKF(last_line_starts(line, "generic|\n"), "got: %s", line);

    run_child(path, "no-such-level", line, sizeof(line));
    CHECKF(strstr(line, "ignored: not a level") != NULL, "got: %s", line);
    char expect[64];
    snprintf(expect, sizeof(expect), "%s|SLM_CPU_LEVEL", slm_cpu_level_name(best));
    CHECKF(last_line_starts(line, expect), "got: %s", line);

    /* A level above the best (or of the other architecture) is ignored with a note. */
    const char *too_high = best >= SLM_CPU_NEON ? "avx2" : "neon-dotprod";
    run_child(path, too_high, line, sizeof(line));
    CHECKF(strstr(line, "ignored: this CPU") != NULL, "got: %s", line);
    CHECKF(last_line_starts(line, expect), "got: %s", line);

    /* The best level itself is accepted. */
    run_child(path, slm_cpu_level_name(best), line, sizeof(line));
    snprintf(expect, sizeof(expect), "%s|\n", slm_cpu_level_name(best));
    CHECKF(last_line_starts(line, expect), "got: %s", line);
    return test_report();
}
