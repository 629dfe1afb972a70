/* libdbus on sd-event (see dbus_loop.h).
 *
 * libdbus asks for a read watch and a write watch on the same socket, but an fd can be
 * added to an epoll set (and so to sd-event) only once: watches are grouped per fd, and
 * the source's event mask is the union of the enabled watches' flags. */
#include "ipc/dbus_loop.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* libdbus uses at most two watches per fd (reading and writing); a little room beyond. */
#define WATCHES_PER_FD 4

struct fd_watch {
    struct dbus_loop *loop;
    struct fd_watch *next;
    int fd;
    sd_event_source *source;
    DBusWatch *watches[WATCHES_PER_FD];
};

struct timeout_entry {
    struct dbus_loop *loop;
    DBusTimeout *timeout;
    sd_event_source *source;
};

struct dbus_loop {
    DBusConnection *conn;
    sd_event *event;
    struct fd_watch *fds;
    sd_event_source *dispatch_source;
};

/* ---- watches ---- */

static struct fd_watch *find_fd(struct dbus_loop *loop, int fd)
{
    for (struct fd_watch *f = loop->fds; f; f = f->next)
        if (f->fd == fd)
            return f;
    return NULL;
}

static void update_events(struct fd_watch *f)
{
    uint32_t events = 0;
    for (int i = 0; i < WATCHES_PER_FD; i++) {
        DBusWatch *w = f->watches[i];
        if (!w || !dbus_watch_get_enabled(w))
            continue;
        unsigned flags = dbus_watch_get_flags(w);
        if (flags & DBUS_WATCH_READABLE)
            events |= EPOLLIN;
        if (flags & DBUS_WATCH_WRITABLE)
            events |= EPOLLOUT;
    }
    if (!events) {
        sd_event_source_set_enabled(f->source, SD_EVENT_OFF);
        return;
    }
    sd_event_source_set_io_events(f->source, events);
    sd_event_source_set_enabled(f->source, SD_EVENT_ON);
}

static bool watch_still_there(struct dbus_loop *loop, int fd, DBusWatch *w)
{
    struct fd_watch *f = find_fd(loop, fd);
    if (!f)
        return false;
    for (int i = 0; i < WATCHES_PER_FD; i++)
        if (f->watches[i] == w)
            return true;
    return false;
}

static int on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
    struct fd_watch *f = userdata;
    struct dbus_loop *loop = f->loop;
    unsigned flags = 0;
    if (revents & EPOLLIN)
        flags |= DBUS_WATCH_READABLE;
    if (revents & EPOLLOUT)
        flags |= DBUS_WATCH_WRITABLE;
    if (revents & EPOLLERR)
        flags |= DBUS_WATCH_ERROR;
    if (revents & EPOLLHUP)
        flags |= DBUS_WATCH_HANGUP;
    /* Handling one watch can remove the others (a hangup closes the connection), and
     * with them `f`: copy the list, and check each entry is still registered first. */
    DBusWatch *watches[WATCHES_PER_FD];
    memcpy(watches, f->watches, sizeof(watches));
    dbus_connection_ref(loop->conn);
    for (int i = 0; i < WATCHES_PER_FD; i++) {
        DBusWatch *w = watches[i];
        if (!w || !watch_still_there(loop, fd, w) || !dbus_watch_get_enabled(w))
            continue;
        unsigned wanted = dbus_watch_get_flags(w) | DBUS_WATCH_ERROR | DBUS_WATCH_HANGUP;
        if (flags & wanted)
            dbus_watch_handle(w, flags & wanted);
    }
    dbus_connection_unref(loop->conn);
    return 0;
}

static dbus_bool_t add_watch(DBusWatch *w, void *data)
{
    struct dbus_loop *loop = data;
    int fd = dbus_watch_get_unix_fd(w);
    struct fd_watch *f = find_fd(loop, fd);
    if (!f) {
        f = calloc(1, sizeof(*f));
        if (!f)
            return FALSE;
        f->loop = loop;
        f->fd = fd;
        if (sd_event_add_io(loop->event, &f->source, fd, EPOLLIN, on_io, f) < 0) {
            free(f);
            return FALSE;
        }
        sd_event_source_set_description(f->source, "dbus-io");
        f->next = loop->fds;
        loop->fds = f;
    }
    for (int i = 0; i < WATCHES_PER_FD; i++) {
        if (!f->watches[i]) {
            f->watches[i] = w;
            update_events(f);
            return TRUE;
        }
    }
    return FALSE;
}

static void remove_watch(DBusWatch *w, void *data)
{
    struct dbus_loop *loop = data;
    for (struct fd_watch **pf = &loop->fds; *pf; pf = &(*pf)->next) {
        struct fd_watch *f = *pf;
        bool found = false, any_left = false;
        for (int i = 0; i < WATCHES_PER_FD; i++) {
            if (f->watches[i] == w) {
                f->watches[i] = NULL;
                found = true;
            } else if (f->watches[i]) {
                any_left = true;
            }
        }
        if (!found)
            continue;
        if (any_left) {
            update_events(f);
        } else {
            *pf = f->next;
            sd_event_source_disable_unref(f->source);
            free(f);
        }
        return;
    }
}

static void toggle_watch(DBusWatch *w, void *data)
{
    struct dbus_loop *loop = data;
    struct fd_watch *f = find_fd(loop, dbus_watch_get_unix_fd(w));
    if (f)
        update_events(f);
}

/* ---- timeouts ---- */

static void arm(struct timeout_entry *t)
{
    if (!dbus_timeout_get_enabled(t->timeout)) {
        sd_event_source_set_enabled(t->source, SD_EVENT_OFF);
        return;
    }
    uint64_t usec = (uint64_t)dbus_timeout_get_interval(t->timeout) * 1000;
    sd_event_source_set_time_relative(t->source, usec);
    sd_event_source_set_enabled(t->source, SD_EVENT_ONESHOT);
}

static int on_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
    struct timeout_entry *t = userdata;
    /* libdbus timeouts repeat until removed: re-arm first, since handling may remove the
     * timeout and free `t`. */
    arm(t);
    dbus_timeout_handle(t->timeout);
    return 0;
}

static void free_timeout_entry(void *data)
{
    struct timeout_entry *t = data;
    if (t) {
        sd_event_source_disable_unref(t->source);
        free(t);
    }
}

static dbus_bool_t add_timeout(DBusTimeout *timeout, void *data)
{
    struct dbus_loop *loop = data;
    struct timeout_entry *t = calloc(1, sizeof(*t));
    if (!t)
        return FALSE;
    t->loop = loop;
    t->timeout = timeout;
    /* 1 ms accuracy: libdbus uses timeouts for method-call replies, where a coarser
     * wake-up would not matter either, and sd-event can then coalesce them. */
    if (sd_event_add_time_relative(loop->event, &t->source, CLOCK_MONOTONIC, UINT64_MAX / 2,
                                   1000, on_timer, t) < 0) {
        free(t);
        return FALSE;
    }
    sd_event_source_set_description(t->source, "dbus-timeout");
    dbus_timeout_set_data(timeout, t, free_timeout_entry);
    arm(t);
    return TRUE;
}

static void remove_timeout(DBusTimeout *timeout, void *data)
{
    /* frees the entry through free_timeout_entry */
    dbus_timeout_set_data(timeout, NULL, NULL);
}

static void toggle_timeout(DBusTimeout *timeout, void *data)
{
    struct timeout_entry *t = dbus_timeout_get_data(timeout);
    if (t)
        arm(t);
}

/* ---- dispatching ---- */

static int on_dispatch(sd_event_source *source, void *userdata)
{
    struct dbus_loop *loop = userdata;
    DBusConnection *conn = dbus_connection_ref(loop->conn);
    dbus_connection_dispatch(conn);
    if (dbus_connection_get_dispatch_status(conn) == DBUS_DISPATCH_DATA_REMAINS)
        sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
    dbus_connection_unref(conn);
    return 0;
}

static void on_dispatch_status(DBusConnection *conn, DBusDispatchStatus status, void *data)
{
    struct dbus_loop *loop = data;
    if (status == DBUS_DISPATCH_DATA_REMAINS)
        sd_event_source_set_enabled(loop->dispatch_source, SD_EVENT_ONESHOT);
}

static void on_wakeup(void *data)
{
    struct dbus_loop *loop = data;
    sd_event_source_set_enabled(loop->dispatch_source, SD_EVENT_ONESHOT);
}

struct dbus_loop *dbus_loop_attach(DBusConnection *conn, sd_event *event, slm_error *err)
{
    struct dbus_loop *loop = calloc(1, sizeof(*loop));
    if (!loop) {
        slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    loop->conn = conn;
    loop->event = event;
    if (sd_event_add_defer(event, &loop->dispatch_source, on_dispatch, loop) < 0) {
        free(loop);
        slm_errorf(err, SLM_ERR_NOMEM, "cannot add the D-Bus dispatch source");
        return NULL;
    }
    sd_event_source_set_description(loop->dispatch_source, "dbus-dispatch");
    sd_event_source_set_enabled(loop->dispatch_source, SD_EVENT_OFF);
    if (!dbus_connection_set_watch_functions(conn, add_watch, remove_watch, toggle_watch, loop,
                                             NULL) ||
        !dbus_connection_set_timeout_functions(conn, add_timeout, remove_timeout,
                                               toggle_timeout, loop, NULL)) {
        dbus_loop_detach(loop);
        slm_errorf(err, SLM_ERR_NOMEM, "cannot watch the D-Bus connection");
        return NULL;
    }
    dbus_connection_set_wakeup_main_function(conn, on_wakeup, loop, NULL);
    dbus_connection_set_dispatch_status_function(conn, on_dispatch_status, loop, NULL);
    if (dbus_connection_get_dispatch_status(conn) == DBUS_DISPATCH_DATA_REMAINS)
        sd_event_source_set_enabled(loop->dispatch_source, SD_EVENT_ONESHOT);
    return loop;
}

void dbus_loop_detach(struct dbus_loop *loop)
{
    if (!loop)
        return;
    dbus_connection_set_dispatch_status_function(loop->conn, NULL, NULL, NULL);
    dbus_connection_set_wakeup_main_function(loop->conn, NULL, NULL, NULL);
    /* removing the functions calls remove_watch/remove_timeout for every one */
    dbus_connection_set_watch_functions(loop->conn, NULL, NULL, NULL, NULL, NULL);
    dbus_connection_set_timeout_functions(loop->conn, NULL, NULL, NULL, NULL, NULL);
    while (loop->fds) {
        struct fd_watch *f = loop->fds;
        loop->fds = f->next;
        sd_event_source_disable_unref(f->source);
        free(f);
    }
    sd_event_source_disable_unref(loop->dispatch_source);
    free(loop);
}
