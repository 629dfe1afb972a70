#include "slm/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int slm_errorf(slm_error *err, enum slm_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = status;
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
    return -(int)status;
}

void slm_error_prefix(slm_error *err, const char *prefix)
{
    if (!err || !prefix)
        return;
    char tmp[SLM_ERROR_MSG_MAX];
    snprintf(tmp, sizeof(tmp), "%s: %s", prefix, err->message);
    memcpy(err->message, tmp, sizeof(tmp));
}

void slm_error_clear(slm_error *err)
{
    if (err) {
        err->status = SLM_OK;
        err->message[0] = '\0';
    }
}

const char *slm_status_name(enum slm_status status)
{
    static const char *const names[SLM_STATUS_COUNT] = {
        [SLM_OK] = "ok",
        [SLM_ERR_INVALID] = "invalid",
        [SLM_ERR_FORMAT] = "format",
        [SLM_ERR_UNSUPPORTED] = "unsupported",
        [SLM_ERR_NOMEM] = "nomem",
        [SLM_ERR_IO] = "io",
        [SLM_ERR_NOT_FOUND] = "not-found",
        [SLM_ERR_CONTEXT] = "context",
        [SLM_ERR_BUSY] = "busy",
        [SLM_ERR_CANCELLED] = "cancelled",
        [SLM_ERR_TEMPLATE] = "template",
        [SLM_ERR_LIMIT] = "limit",
        [SLM_ERR_TIMEOUT] = "timeout",
        [SLM_ERR_INTERNAL] = "internal",
    };
    if ((unsigned)status >= SLM_STATUS_COUNT)
        return "unknown";
    return names[status];
}
