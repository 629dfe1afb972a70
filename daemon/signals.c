/* Signals through a self-pipe (see signals.h). */
#include "daemon/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Signals slmd handles this way: the handler only knows the pipe, so it is global. */
#define SLMD_MAX_SIGNALS 8

static int signal_pipe_write = -1;

struct slmd_signals {
    int read_fd;
    sd_event_source *source;
    slmd_signal_fn fn;
    void *userdata;
    int signals[SLMD_MAX_SIGNALS];
    size_t n_signals;
};

static void on_signal_async(int signo)
{
    /* async-signal-safe: one write of one byte; a full pipe just drops a duplicate */
    int saved_errno = errno;
    unsigned char byte = (unsigned char)signo;
    if (write(signal_pipe_write, &byte, 1) < 0) {
        /* nothing to do: the pipe already holds unread signals */
    }
    errno = saved_errno;
}

static int on_pipe(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
    struct slmd_signals *s = userdata;
    unsigned char bytes[64];
    ssize_t n;
    while ((n = read(fd, bytes, sizeof(bytes))) > 0)
        for (ssize_t i = 0; i < n; i++)
            s->fn(s->userdata, bytes[i]);
    return 0;
}

static void set_mask(int how, const int *signals, size_t n)
{
    sigset_t mask;
    sigemptyset(&mask);
    for (size_t i = 0; i < n; i++)
        sigaddset(&mask, signals[i]);
    pthread_sigmask(how, &mask, NULL);
}

void slmd_signals_block(const int *signals, size_t n)
{
    set_mask(SIG_BLOCK, signals, n);
}

int slmd_signals_new(sd_event *event, const int *signals, size_t n, slmd_signal_fn fn,
                     void *userdata, struct slmd_signals **out)
{
    if (n > SLMD_MAX_SIGNALS || signal_pipe_write >= 0)
        return -EINVAL;
    struct slmd_signals *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
        int r = -errno;
        free(s);
        return r;
    }
    s->read_fd = fds[0];
    signal_pipe_write = fds[1];
    s->fn = fn;
    s->userdata = userdata;
    int r = sd_event_add_io(event, &s->source, s->read_fd, EPOLLIN, on_pipe, s);
    if (r < 0) {
        slmd_signals_free(s);
        return r;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal_async;
    sa.sa_flags = SA_RESTART;
    sigfillset(&sa.sa_mask); /* one handler at a time */
    for (size_t i = 0; i < n; i++) {
        if (sigaction(signals[i], &sa, NULL) < 0) {
            r = -errno;
            slmd_signals_free(s);
            return r;
        }
        s->signals[s->n_signals++] = signals[i];
    }
    set_mask(SIG_UNBLOCK, signals, n);
    *out = s;
    return 0;
}

void slmd_signals_free(struct slmd_signals *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_signals; i++)
        signal(s->signals[i], SIG_DFL);
    sd_event_source_disable_unref(s->source);
    close(s->read_fd);
    close(signal_pipe_write);
    signal_pipe_write = -1;
    free(s);
}
