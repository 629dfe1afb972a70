/* Fuzz target: slm's HTTP response parser and server-sent-event splitter
 * (ipc/client/http_client.c), which read whatever a socket path leads to. The first byte
 * sets how the rest is cut into reads; the body goes through the SSE splitter. */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "ipc/client/http_client.h"

static int on_event(void *userdata, const char *data, size_t len)
{
    if (data[len] != '\0')
        __builtin_trap(); /* event data is handed over NUL-terminated */
    return 0;
}

static int on_body(void *userdata, int status, const char *data, size_t len)
{
    if (status < 100 || status > 599)
        __builtin_trap();
    return slm_sse_feed(userdata, data, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] + 1;
    struct slm_sse sse;
    slm_sse_init(&sse, on_event, NULL);
    struct slm_http_parser p;
    slm_http_parser_init(&p, on_body, &sse);
    int r = 0;
    for (size_t i = 1; i < size && r == 0; i += step)
        r = slm_http_parser_feed(&p, (const char *)data + i,
                                 size - i < step ? size - i : step);
    if (r == 0)
        r = slm_http_parser_eof(&p);
    if (r < 0 && !p.error[0])
        __builtin_trap(); /* a failure says why */
    slm_http_parser_deinit(&p);
    slm_sse_deinit(&sse);
    return 0;
}
