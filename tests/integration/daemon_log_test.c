/* daemon/log.c: where messages go (the journal when stderr is the journal or systemd
 * started us, stderr otherwise) and what a stderr line looks like with its fields. */
#include "test.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"

static enum slmd_log_target target_for(const char *journal_stream, const char *invocation)
{
    if (journal_stream)
        setenv("JOURNAL_STREAM", journal_stream, 1);
    else
        unsetenv("JOURNAL_STREAM");
    if (invocation)
        setenv("INVOCATION_ID", invocation, 1);
    else
        unsetenv("INVOCATION_ID");
    slmd_log_setup(SLMD_LOG_AUTO, LOG_INFO);
    return slmd_log_target_in_use();
}

int main(void)
{
    char path[] = "/tmp/slmd-test-log-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    int saved_stderr = dup(STDERR_FILENO);
    REQUIRE(dup2(fd, STDERR_FILENO) == STDERR_FILENO);

    struct stat st;
    REQUIRE(fstat(STDERR_FILENO, &st) == 0);
    char mine[64], other[64];
    snprintf(mine, sizeof(mine), "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    snprintf(other, sizeof(other), "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino + 1);
    enum slmd_log_target plain = target_for(NULL, NULL);
    enum slmd_log_target journal_stream = target_for(mine, NULL);
    enum slmd_log_target inherited_stream = target_for(other, NULL); /* a parent's stderr */
    enum slmd_log_target garbage_stream = target_for("not:numbers", NULL);
    enum slmd_log_target under_systemd = target_for(NULL, "0123456789abcdef");

    target_for(NULL, NULL);
    slmd_log_setup(SLMD_LOG_STDERR, LOG_INFO);
    slmd_logf(LOG_WARNING,
              &(const struct slmd_log_fields){.model = "tiny", .request_id = 7,
                                              .has_client_uid = true, .client_uid = 1000},
              "queue full (%d waiting)", 64);
    slmd_log_model(LOG_INFO, "tiny", "ready");
    slmd_log_error("cannot bind %s", "/run/x.sock");
    slmd_log_info("plain");
    slmd_log_debug("not shown at LOG_INFO");
    slmd_log_setup(SLMD_LOG_STDERR, LOG_DEBUG);
    slmd_log_debug("shown at LOG_DEBUG");

    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);

    CHECK(plain == SLMD_LOG_STDERR);
    CHECK(journal_stream == SLMD_LOG_JOURNAL);
    CHECK(inherited_stream == SLMD_LOG_STDERR);
    CHECK(garbage_stream == SLMD_LOG_STDERR);
    CHECK(under_systemd == SLMD_LOG_JOURNAL);

    char text[1024] = "";
    ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
    REQUIRE(n > 0);
    text[n] = '\0';
    const char *expected = "slmd: warning: model=tiny request=7 uid=1000: queue full (64 waiting)\n"
                           "slmd: model=tiny: ready\n"
                           "slmd: error: cannot bind /run/x.sock\n"
                           "slmd: plain\n"
                           "slmd: shown at LOG_DEBUG\n";
    CHECKF(strcmp(text, expected) == 0, "got:\n%s", text);
    close(fd);
    unlink(path);
    return test_report();
}
