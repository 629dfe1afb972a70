/* A small HTTP/1.1 client over a Unix socket, for `slm --socket PATH` (no libcurl in
 * slm). One request per connection (Connection: close). The response parser is an
 * incremental state machine over whatever bytes arrive (Content-Length, chunked, or
 * until close), and a server-sent-events splitter hands over each event's data. */
#ifndef SLM_IPC_HTTP_CLIENT_H
#define SLM_IPC_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/common/buf.h"
#include "slm/error.h"

/* Longest status line or header line accepted, and all headers together. */
#define SLM_HTTP_LINE_MAX 8192
#define SLM_HTTP_HEADERS_MAX (64u << 10)

/* Receives body bytes (after de-chunking) and the response's status; a negative return
 * stops with that error. */
typedef int (*slm_http_body_fn)(void *userdata, int status, const char *data, size_t len);

enum slm_http_parse_state {
    SLM_HTTP_STATUS_LINE,
    SLM_HTTP_HEADER,
    SLM_HTTP_BODY_LENGTH,
    SLM_HTTP_CHUNK_SIZE,
    SLM_HTTP_CHUNK_DATA,
    SLM_HTTP_CHUNK_END,
    SLM_HTTP_TRAILER,
    SLM_HTTP_BODY_UNTIL_CLOSE,
    SLM_HTTP_DONE,
    SLM_HTTP_FAILED,
};

struct slm_http_parser {
    enum slm_http_parse_state state;
    struct slm_buf line;
    size_t header_bytes;
    int status;
    char content_type[128];
    bool chunked;
    bool has_length;
    uint64_t remaining; /* body or chunk bytes still to come */
    slm_http_body_fn on_body;
    void *userdata;
    char error[160];
};

void slm_http_parser_init(struct slm_http_parser *p, slm_http_body_fn on_body, void *userdata);
void slm_http_parser_deinit(struct slm_http_parser *p);
/* Feeds bytes; 0 or -1 (p->error says why). Bytes after the end of the response are
 * ignored. */
int slm_http_parser_feed(struct slm_http_parser *p, const char *data, size_t len);
/* The connection closed: 0 if the response was complete. */
int slm_http_parser_eof(struct slm_http_parser *p);

/* Server-sent events: collects "data:" lines and calls on_event with the data of each
 * event (lines joined with "\n") at the blank line that ends it. */
typedef int (*slm_sse_event_fn)(void *userdata, const char *data, size_t len);
struct slm_sse {
    struct slm_buf line;
    struct slm_buf data;
    slm_sse_event_fn on_event;
    void *userdata;
};
void slm_sse_init(struct slm_sse *s, slm_sse_event_fn on_event, void *userdata);
void slm_sse_deinit(struct slm_sse *s);
int slm_sse_feed(struct slm_sse *s, const char *data, size_t len);

/* One request. The body goes to on_body as it arrives; status and content type are
 * filled once the headers are in. Errors (cannot connect, broken response) are
 * SLM_ERR_IO with the socket path in the message. */
int slm_http_request(const char *socket_path, const char *method, const char *path,
                     const char *body, size_t body_len, slm_http_body_fn on_body,
                     void *userdata, int *status, char *content_type, size_t content_type_cap,
                     slm_error *err);

/* The common case: the whole body into `out` (bounded by out->limit). */
int slm_http_fetch(const char *socket_path, const char *method, const char *path,
                   const char *body, size_t body_len, struct slm_buf *out, int *status,
                   slm_error *err);

#endif
