/* HTTP/1.1 over AF_UNIX for slm (see http_client.h). */
#include "ipc/client/http_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/cleanup.h"

/* An SSE event's data: a chunk of generated text in JSON is small; a megabyte is far
 * past anything slmd sends in one event. */
#define SSE_EVENT_MAX (1u << 20)

static int fail(struct slm_http_parser *p, const char *why)
{
    p->state = SLM_HTTP_FAILED;
    snprintf(p->error, sizeof(p->error), "%s", why);
    return -1;
}

void slm_http_parser_init(struct slm_http_parser *p, slm_http_body_fn on_body, void *userdata)
{
    memset(p, 0, sizeof(*p));
    slm_buf_init(&p->line, SLM_HTTP_LINE_MAX);
    p->on_body = on_body;
    p->userdata = userdata;
}

void slm_http_parser_deinit(struct slm_http_parser *p) { slm_buf_deinit(&p->line); }

static bool parse_uint(const char *s, int base, uint64_t *out)
{
    if (!*s)
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, base);
    if (errno || (*end && *end != ';' && *end != ' ' && *end != '\t') || *s == '-' || *s == '+')
        return false;
    *out = v;
    return true;
}

static int status_line(struct slm_http_parser *p, const char *line)
{
    int major, minor, status;
    char sp;
    if (sscanf(line, "HTTP/%d.%d %3d%c", &major, &minor, &status, &sp) < 3 || major != 1 ||
        status < 100 || status > 599)
        return fail(p, "not an HTTP/1.x status line");
    p->status = status;
    p->state = SLM_HTTP_HEADER;
    return 0;
}

static int end_of_headers(struct slm_http_parser *p)
{
    if (p->status / 100 == 1) { /* 100 Continue: the real response follows */
        p->status = 0;
        p->chunked = p->has_length = false;
        p->content_type[0] = '\0';
        p->state = SLM_HTTP_STATUS_LINE;
        return 0;
    }
    if (p->status == 204 || p->status == 304) {
        p->state = SLM_HTTP_DONE;
        return 0;
    }
    if (p->chunked)
        p->state = SLM_HTTP_CHUNK_SIZE;
    else if (p->has_length)
        p->state = p->remaining ? SLM_HTTP_BODY_LENGTH : SLM_HTTP_DONE;
    else
        p->state = SLM_HTTP_BODY_UNTIL_CLOSE;
    return 0;
}

static int header_line(struct slm_http_parser *p, char *line)
{
    if (!*line)
        return end_of_headers(p);
    char *colon = strchr(line, ':');
    if (!colon || colon == line)
        return fail(p, "a malformed header line");
    *colon = '\0';
    char *value = colon + 1;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        value[--n] = '\0';
    if (!strcasecmp(line, "Content-Length")) {
        if (!parse_uint(value, 10, &p->remaining) || strchr(value, ';'))
            return fail(p, "a bad Content-Length");
        p->has_length = true;
    } else if (!strcasecmp(line, "Transfer-Encoding")) {
        if (strcasecmp(value, "chunked"))
            return fail(p, "a transfer encoding other than chunked");
        p->chunked = true;
    } else if (!strcasecmp(line, "Content-Type")) {
        snprintf(p->content_type, sizeof(p->content_type), "%s", value);
    }
    return 0;
}

static int chunk_size_line(struct slm_http_parser *p, const char *line)
{
    uint64_t size;
    if (!parse_uint(line, 16, &size))
        return fail(p, "a bad chunk size");
    p->remaining = size;
    p->state = size ? SLM_HTTP_CHUNK_DATA : SLM_HTTP_TRAILER;
    return 0;
}

/* A complete line (without CRLF) in the current state. */
static int on_line(struct slm_http_parser *p, char *line)
{
    switch (p->state) {
    case SLM_HTTP_STATUS_LINE: return status_line(p, line);
    case SLM_HTTP_HEADER: return header_line(p, line);
    case SLM_HTTP_CHUNK_SIZE: return chunk_size_line(p, line);
    case SLM_HTTP_CHUNK_END:
        if (*line)
            return fail(p, "a chunk longer than its size");
        p->state = SLM_HTTP_CHUNK_SIZE;
        return 0;
    case SLM_HTTP_TRAILER:
        if (!*line)
            p->state = SLM_HTTP_DONE;
        return 0;
    default: return fail(p, "a line where none belongs");
    }
}

static bool line_state(enum slm_http_parse_state s)
{
    return s == SLM_HTTP_STATUS_LINE || s == SLM_HTTP_HEADER || s == SLM_HTTP_CHUNK_SIZE ||
           s == SLM_HTTP_CHUNK_END || s == SLM_HTTP_TRAILER;
}

static int deliver(struct slm_http_parser *p, const char *data, size_t n)
{
    if (n && p->on_body && p->on_body(p->userdata, p->status, data, n) < 0)
        return fail(p, "the body was refused");
    return 0;
}

int slm_http_parser_feed(struct slm_http_parser *p, const char *data, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (p->state == SLM_HTTP_FAILED)
            return -1;
        if (p->state == SLM_HTTP_DONE)
            return 0;
        if (line_state(p->state)) {
            const char *nl = memchr(data + i, '\n', len - i);
            size_t take = nl ? (size_t)(nl - (data + i)) : len - i;
            if (p->state == SLM_HTTP_STATUS_LINE || p->state == SLM_HTTP_HEADER) {
                p->header_bytes += take + (nl != NULL);
                if (p->header_bytes > SLM_HTTP_HEADERS_MAX)
                    return fail(p, "headers larger than slm accepts");
            }
            if (!slm_buf_append(&p->line, data + i, take))
                return fail(p, "a line longer than slm accepts");
            i += take;
            if (!nl)
                return 0;
            i++; /* the '\n' */
            if (p->line.len && p->line.data[p->line.len - 1] == '\r')
                p->line.data[--p->line.len] = '\0';
            if (memchr(p->line.data, '\0', p->line.len))
                return fail(p, "a NUL byte in the headers");
            int r = on_line(p, p->line.data);
            slm_buf_clear(&p->line);
            if (r < 0)
                return r;
            continue;
        }
        size_t n = len - i;
        if (p->state != SLM_HTTP_BODY_UNTIL_CLOSE && n > p->remaining)
            n = (size_t)p->remaining;
        if (deliver(p, data + i, n) < 0)
            return -1;
        i += n;
        if (p->state == SLM_HTTP_BODY_UNTIL_CLOSE)
            continue;
        p->remaining -= n;
        if (p->remaining)
            continue;
        p->state = p->state == SLM_HTTP_CHUNK_DATA ? SLM_HTTP_CHUNK_END : SLM_HTTP_DONE;
    }
    return p->state == SLM_HTTP_FAILED ? -1 : 0;
}

int slm_http_parser_eof(struct slm_http_parser *p)
{
    if (p->state == SLM_HTTP_DONE || p->state == SLM_HTTP_BODY_UNTIL_CLOSE) {
        p->state = SLM_HTTP_DONE;
        return 0;
    }
    if (p->state == SLM_HTTP_FAILED)
        return -1;
    return fail(p, p->status ? "the connection closed in the middle of the response"
                             : "the connection closed without a response");
}

/* ---- server-sent events ---- */

void slm_sse_init(struct slm_sse *s, slm_sse_event_fn on_event, void *userdata)
{
    slm_buf_init(&s->line, SSE_EVENT_MAX);
    slm_buf_init(&s->data, SSE_EVENT_MAX);
    s->on_event = on_event;
    s->userdata = userdata;
}

void slm_sse_deinit(struct slm_sse *s)
{
    slm_buf_deinit(&s->line);
    slm_buf_deinit(&s->data);
}

static int sse_line(struct slm_sse *s, const char *line, size_t len)
{
    if (!len) { /* the blank line that ends an event */
        if (!s->data.len)
            return 0;
        int r = s->on_event(s->userdata, s->data.data, s->data.len);
        slm_buf_clear(&s->data);
        return r;
    }
    if (len < 5 || memcmp(line, "data:", 5))
        return 0; /* comments, event:, id:, retry: */
    line += 5;
    len -= 5;
    if (len && *line == ' ')
        line++, len--;
    if (s->data.len)
        slm_buf_append(&s->data, "\n", 1);
    slm_buf_append(&s->data, line, len);
    return s->data.failed ? -1 : 0;
}

int slm_sse_feed(struct slm_sse *s, const char *data, size_t len)
{
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(data + i, '\n', len - i);
        size_t take = nl ? (size_t)(nl - (data + i)) : len - i;
        if (!slm_buf_append(&s->line, data + i, take))
            return -1;
        i += take;
        if (!nl)
            return 0;
        i++;
        size_t n = s->line.len;
        if (n && s->line.data[n - 1] == '\r')
            n--;
        int r = sse_line(s, s->line.data, n);
        slm_buf_clear(&s->line);
        if (r < 0)
            return r;
    }
    return 0;
}

/* ---- requests ---- */

static int write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int connect_unix(const char *path, slm_error *err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path))
        return slm_errorf(err, SLM_ERR_INVALID, "%s: the socket path is too long", path);
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return slm_errorf(err, SLM_ERR_IO, "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int e = errno;
        close(fd);
        return slm_errorf(err, SLM_ERR_IO, "%s: cannot connect: %s%s", path, strerror(e),
                          e == ENOENT || e == ECONNREFUSED ? " (is slmd running?)" : "");
    }
    return fd;
}

int slm_http_request(const char *socket_path, const char *method, const char *path,
                     const char *body, size_t body_len, slm_http_body_fn on_body,
                     void *userdata, int *status, char *content_type, size_t content_type_cap,
                     slm_error *err)
{
    _cleanup_close_ int fd = connect_unix(socket_path, err);
    if (fd < 0)
        return fd;
    char head[1024];
    int n = snprintf(head, sizeof(head),
                     "%s %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slm\r\n"
                     "Accept: */*\r\nConnection: close\r\n",
                     method, path);
    if (body)
        n += snprintf(head + n, sizeof(head) - (size_t)n,
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n", body_len);
    n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
    if (n <= 0 || (size_t)n >= sizeof(head))
        return slm_errorf(err, SLM_ERR_INVALID, "the request path is too long");
    if (write_all(fd, head, (size_t)n) < 0 || (body && write_all(fd, body, body_len) < 0))
        return slm_errorf(err, SLM_ERR_IO, "%s: sending the request failed: %s", socket_path,
                          strerror(errno));
    struct slm_http_parser p;
    slm_http_parser_init(&p, on_body, userdata);
    char buf[16384];
    int r = 0;
    while (p.state != SLM_HTTP_DONE) {
        ssize_t got = recv(fd, buf, sizeof(buf), 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            r = slm_errorf(err, SLM_ERR_IO, "%s: reading the response failed: %s", socket_path,
                           strerror(errno));
            break;
        }
        if ((got == 0 && slm_http_parser_eof(&p) < 0) ||
            (got > 0 && slm_http_parser_feed(&p, buf, (size_t)got) < 0)) {
            r = slm_errorf(err, SLM_ERR_IO, "%s: %s", socket_path, p.error);
            break;
        }
        if (got == 0)
            break;
    }
    if (status)
        *status = p.status;
    if (content_type && content_type_cap)
        snprintf(content_type, content_type_cap, "%s", p.content_type);
    slm_http_parser_deinit(&p);
    return r;
}

static int collect(void *userdata, int status, const char *data, size_t len)
{
    return slm_buf_append(userdata, data, len) ? 0 : -1;
}

int slm_http_fetch(const char *socket_path, const char *method, const char *path,
                   const char *body, size_t body_len, struct slm_buf *out, int *status,
                   slm_error *err)
{
    return slm_http_request(socket_path, method, path, body, body_len, collect, out, status,
                            NULL, 0, err);
}
