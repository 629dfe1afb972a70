/* Engine statuses → D-Bus error names, HTTP statuses and OpenAI error types. */
#include "ipc/status_map.h"

#include "ipc/common/protocol.h"

struct status_row {
    const char *dbus_error;
    unsigned http_status;
    const char *openai_type;
    const char *openai_code;
};

/* Bad input of any kind (a wrong argument, a task the model does not do, a chat template
 * that refuses the messages) is the caller's to fix: InvalidArgs / 400. A full queue is
 * 429 so that clients back off and retry; a limit of the server (memory_limit) is 503,
 * and so is a request the server cancelled (its model file changed under it; a client
 * that cancels its own request has gone and sees no status); a deadline is 504; what is
 * left is slmd's problem: Failed / 500. */
static const struct status_row rows[SLM_STATUS_COUNT] = {
    [SLM_OK] = {SLM_DBUS_ERROR_FAILED, 200, "", ""},
    [SLM_ERR_INVALID] = {SLM_DBUS_ERROR_INVALID_ARGS, 400, "invalid_request_error",
                         "invalid_value"},
    [SLM_ERR_FORMAT] = {SLM_DBUS_ERROR_FAILED, 500, "server_error", "model_error"},
    [SLM_ERR_UNSUPPORTED] = {SLM_DBUS_ERROR_INVALID_ARGS, 400, "invalid_request_error",
                             "unsupported"},
    [SLM_ERR_NOMEM] = {SLM_DBUS_ERROR_FAILED, 500, "server_error", "out_of_memory"},
    [SLM_ERR_IO] = {SLM_DBUS_ERROR_FAILED, 500, "server_error", "io_error"},
    [SLM_ERR_NOT_FOUND] = {SLM_DBUS_ERROR_NO_SUCH_MODEL, 404, "not_found_error",
                           "model_not_found"},
    [SLM_ERR_CONTEXT] = {SLM_DBUS_ERROR_CONTEXT_EXCEEDED, 400, "invalid_request_error",
                         "context_length_exceeded"},
    [SLM_ERR_BUSY] = {SLM_DBUS_ERROR_BUSY, 429, "rate_limit_error", "queue_full"},
    [SLM_ERR_CANCELLED] = {SLM_DBUS_ERROR_CANCELLED, 503, "server_error", "cancelled"},
    [SLM_ERR_TEMPLATE] = {SLM_DBUS_ERROR_INVALID_ARGS, 400, "invalid_request_error",
                          "chat_template_error"},
    [SLM_ERR_LIMIT] = {SLM_DBUS_ERROR_FAILED, 503, "server_error", "limit_exceeded"},
    [SLM_ERR_TIMEOUT] = {SLM_DBUS_ERROR_FAILED, 504, "timeout_error", "timeout"},
    [SLM_ERR_INTERNAL] = {SLM_DBUS_ERROR_FAILED, 500, "server_error", "internal_error"},
};

static const struct status_row *row(enum slm_status status)
{
    if ((unsigned)status >= SLM_STATUS_COUNT)
        status = SLM_ERR_INTERNAL;
    return &rows[status];
}

const char *ipc_dbus_error_name(enum slm_status status) { return row(status)->dbus_error; }
unsigned ipc_http_status(enum slm_status status) { return row(status)->http_status; }
const char *ipc_openai_error_type(enum slm_status status) { return row(status)->openai_type; }
const char *ipc_openai_error_code(enum slm_status status) { return row(status)->openai_code; }
