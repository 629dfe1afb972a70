/* Logging for slmd and the transports it hosts.
 *
 * To journald (sd_journal_sendv) with structured fields MODEL=, REQUEST_ID= and
 * CLIENT_UID= when stderr is connected to the journal (JOURNAL_STREAM names stderr's
 * device and inode) or when systemd started us (INVOCATION_ID is set); otherwise one
 * line per message on stderr: `slmd: warning: model=tinyllama request=7: text`.
 * Priorities are syslog's (LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG).
 * Safe to call from any thread. */
#ifndef SLMD_LOG_H
#define SLMD_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

enum slmd_log_target {
    SLMD_LOG_AUTO = 0, /* decide from the environment, as described above */
    SLMD_LOG_STDERR,
    SLMD_LOG_JOURNAL,
};

/* Picks the target (AUTO looks at the environment) and the most verbose priority that
 * is still written (LOG_INFO by default). Callable again, e.g. after --verbose. */
void slmd_log_setup(enum slmd_log_target target, int max_priority);
enum slmd_log_target slmd_log_target_in_use(void);

/* Optional structured context of a message. Zero/NULL members are left out. */
struct slmd_log_fields {
    const char *model;
    uint64_t request_id; /* 0: none */
    bool has_client_uid;
    uid_t client_uid;
};

void slmd_logf(int priority, const struct slmd_log_fields *fields, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define slmd_log_error(...) slmd_logf(LOG_ERR, NULL, __VA_ARGS__)
#define slmd_log_warning(...) slmd_logf(LOG_WARNING, NULL, __VA_ARGS__)
#define slmd_log_notice(...) slmd_logf(LOG_NOTICE, NULL, __VA_ARGS__)
#define slmd_log_info(...) slmd_logf(LOG_INFO, NULL, __VA_ARGS__)
#define slmd_log_debug(...) slmd_logf(LOG_DEBUG, NULL, __VA_ARGS__)
/* A message about one model. */
#define slmd_log_model(priority, model_name, ...)                                            \
    slmd_logf((priority), &(const struct slmd_log_fields){.model = (model_name)}, __VA_ARGS__)

#endif
