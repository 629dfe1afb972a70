/* D-Bus interfaces as tables (the dbus-broker way): each method is a row with its
 * argument names and types, and one dispatcher checks the call's signature before the
 * handler runs. The Introspect XML, Properties.Get/GetAll and the method signatures are
 * all generated from the same rows, so they cannot disagree. */
#ifndef SLM_IPC_DBUS_OBJECT_H
#define SLM_IPC_DBUS_OBJECT_H

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ipc/common/buf.h"

struct dbus_service;

/* One incoming method call, as the handlers see it. */
struct dbus_call {
    struct dbus_service *service;
    DBusMessage *message; /* a reference is held while the call is dispatched */
    const char *path;
    const char *sender;
    uid_t uid;          /* the caller's uid as the bus daemon reported it */
    const char *object; /* what the path names: a model name, a request id ... */
};

struct dbus_arg {
    const char *type; /* D-Bus signature of one complete type */
    const char *name;
};

struct dbus_method {
    const char *name;
    const struct dbus_arg *in; /* terminated by {NULL, NULL} */
    const struct dbus_arg *out;
    /* Sends the reply (now, or later when the engine answers). */
    void (*handler)(struct dbus_call *call);
    bool root_only; /* changes state: refused for other callers (the policy says so too) */
};

struct dbus_signal {
    const char *name;
    const struct dbus_arg *args;
};

struct dbus_property {
    const char *name;
    const char *type;
    /* Appends the value (of `type`) to iter; false when out of memory. */
    bool (*get)(struct dbus_service *service, const char *object, DBusMessageIter *iter);
    /* false: changes without PropertiesChanged (live counters), said in the XML. */
    bool emits_change;
};

struct dbus_interface {
    const char *name;
    const struct dbus_method *methods;
    size_t n_methods;
    const struct dbus_signal *signals;
    size_t n_signals;
    const struct dbus_property *properties;
    size_t n_properties;
};

/* An object: its interfaces (NULL-terminated); child node names come from the caller. */
struct dbus_object_type {
    const struct dbus_interface *const *interfaces;
};

/* Handles a method call on an object of `type` (which may have no interfaces: a plain
 * node that only introspects). `children` are the names of its child nodes, for the
 * XML. Sends every reply or error itself. */
void dbus_object_dispatch(struct dbus_call *call, const struct dbus_object_type *type,
                          const char *const *children, size_t n_children);

/* Introspection XML of an object (exposed for the tests and the fuzz target). */
void dbus_object_introspect(struct slm_buf *out, const struct dbus_object_type *type,
                            const char *const *children, size_t n_children);

/* The concatenated input signature of a method ("sa{ss}"); false if it does not fit. */
bool dbus_method_signature(const struct dbus_method *m, char *out, size_t cap);

/* Builds org.freedesktop.DBus.Properties.PropertiesChanged for the named properties of
 * one interface (all of them that emit changes when `names` is NULL). */
DBusMessage *dbus_object_properties_changed(struct dbus_service *service, const char *path,
                                            const char *object,
                                            const struct dbus_interface *iface,
                                            const char *const *names, size_t n_names);

/* Error replies. */
void dbus_reply_error(struct dbus_call *call, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An empty method return. */
void dbus_reply_empty(struct dbus_call *call);
/* Sends and unrefs `reply` (NULL: out of memory, logged). */
void dbus_send_reply(struct dbus_service *service, DBusMessage *reply);

#endif
