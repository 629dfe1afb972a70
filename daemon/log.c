/* The journal or stderr (see log.h). */
#include "daemon/log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "util/cleanup.h"

static _Atomic int log_target = SLMD_LOG_STDERR;
static _Atomic int log_max_priority = LOG_INFO;

/* JOURNAL_STREAM is "DEVICE:INODE" of the stream systemd connected; it is inherited by
 * children whose stderr may point elsewhere, so compare it with stderr itself. */
static bool stderr_is_journal(void)
{
    const char *e = getenv("JOURNAL_STREAM");
    if (!e)
        return false;
    unsigned long long dev, ino;
    if (sscanf(e, "%llu:%llu", &dev, &ino) != 2)
        return false;
    struct stat st;
    if (fstat(STDERR_FILENO, &st) < 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void slmd_log_setup(enum slmd_log_target target, int max_priority)
{
    if (target == SLMD_LOG_AUTO)
        target = stderr_is_journal() || getenv("INVOCATION_ID") ? SLMD_LOG_JOURNAL
                                                                : SLMD_LOG_STDERR;
    atomic_store(&log_target, (int)target);
    atomic_store(&log_max_priority, max_priority);
}

enum slmd_log_target slmd_log_target_in_use(void)
{
    return (enum slmd_log_target)atomic_load(&log_target);
}

static int log_to_journal(int priority, const struct slmd_log_fields *fields,
                          const char *message)
{
    char prio[32], model[128], request[48], uid[48];
    _cleanup_free_ char *text = NULL;
    if (asprintf(&text, "MESSAGE=%s", message) < 0)
        return -1;
    struct iovec iov[6];
    size_t n = 0;
    iov[n++] = (struct iovec){text, strlen(text)};
    snprintf(prio, sizeof(prio), "PRIORITY=%d", priority);
    iov[n++] = (struct iovec){prio, strlen(prio)};
    iov[n++] = (struct iovec){(char *)"SYSLOG_IDENTIFIER=slmd", strlen("SYSLOG_IDENTIFIER=slmd")};
    if (fields && fields->model) {
        snprintf(model, sizeof(model), "MODEL=%s", fields->model);
        iov[n++] = (struct iovec){model, strlen(model)};
    }
    if (fields && fields->request_id) {
        snprintf(request, sizeof(request), "REQUEST_ID=%" PRIu64, fields->request_id);
        iov[n++] = (struct iovec){request, strlen(request)};
    }
    if (fields && fields->has_client_uid) {
        snprintf(uid, sizeof(uid), "CLIENT_UID=%u", (unsigned)fields->client_uid);
        iov[n++] = (struct iovec){uid, strlen(uid)};
    }
    return sd_journal_sendv(iov, (int)n);
}

static void append(char *buf, size_t cap, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t cap, size_t *used, const char *fmt, ...)
{
    if (*used >= cap - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, cap - *used, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used += (size_t)n < cap - *used ? (size_t)n : cap - 1 - *used;
}

static void log_to_stderr(int priority, const struct slmd_log_fields *fields,
                          const char *message)
{
    char context[256] = "";
    size_t used = 0;
    if (fields && fields->model)
        append(context, sizeof(context), &used, "model=%s ", fields->model);
    if (fields && fields->request_id)
        append(context, sizeof(context), &used, "request=%" PRIu64 " ", fields->request_id);
    if (fields && fields->has_client_uid)
        append(context, sizeof(context), &used, "uid=%u ", (unsigned)fields->client_uid);
    if (used > 0) { /* "model=a request=7 " -> "model=a request=7: " */
        context[--used] = '\0';
        append(context, sizeof(context), &used, ": ");
    }
    const char *level = priority <= LOG_ERR       ? "error: "
                        : priority == LOG_WARNING ? "warning: "
                                                  : "";
    /* one fprintf per message: lines from different threads do not interleave */
    fprintf(stderr, "slmd: %s%s%s\n", level, context, message);
}

void slmd_logf(int priority, const struct slmd_log_fields *fields, const char *fmt, ...)
{
    if (priority > atomic_load(&log_max_priority))
        return;
    char message[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (atomic_load(&log_target) == SLMD_LOG_JOURNAL &&
        log_to_journal(priority, fields, message) >= 0)
        return;
    log_to_stderr(priority, fields, message);
}
