/* libdbus driven by sd-event (DESIGN.md "slmd"): each DBusWatch becomes an I/O source,
 * each DBusTimeout a timer, and incoming messages are dispatched from a defer source
 * that the connection's dispatch-status callback enables, one message per loop
 * iteration so that a flood on the bus cannot starve the HTTP side. Nothing polls. */
#ifndef SLM_IPC_DBUS_LOOP_H
#define SLM_IPC_DBUS_LOOP_H

#include <dbus/dbus.h>
#include <systemd/sd-event.h>

#include "slm/error.h"

struct dbus_loop;

/* Installs the watch, timeout, wakeup and dispatch-status functions on `conn`. */
struct dbus_loop *dbus_loop_attach(DBusConnection *conn, sd_event *event, slm_error *err);
/* Removes them again and frees the sources; the connection stays open. */
void dbus_loop_detach(struct dbus_loop *loop);

#endif
