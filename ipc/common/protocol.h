/* The names that slmd's D-Bus API and its clients agree on (DESIGN.md "D-Bus API";
 * docs/api.md documents each interface). Changing one breaks every client. */
#ifndef SLM_IPC_PROTOCOL_H
#define SLM_IPC_PROTOCOL_H

#define SLM_DBUS_NAME "org.slmd.Slmd1"
#define SLM_DBUS_MANAGER_PATH "/org/slmd/Slmd1"
#define SLM_DBUS_MODELS_PATH "/org/slmd/Slmd1/models"     /* + "/" + escaped name */
#define SLM_DBUS_REQUESTS_PATH "/org/slmd/Slmd1/requests" /* + "/" + request id */

#define SLM_DBUS_MANAGER_INTERFACE "org.slmd.Slmd1.Manager"
#define SLM_DBUS_MODEL_INTERFACE "org.slmd.Slmd1.Model"
#define SLM_DBUS_REQUEST_INTERFACE "org.slmd.Slmd1.Request"

#define SLM_DBUS_ERROR_PREFIX "org.slmd.Slmd1.Error."
#define SLM_DBUS_ERROR_NO_SUCH_MODEL SLM_DBUS_ERROR_PREFIX "NoSuchModel"
#define SLM_DBUS_ERROR_INVALID_ARGS SLM_DBUS_ERROR_PREFIX "InvalidArgs"
#define SLM_DBUS_ERROR_BUSY SLM_DBUS_ERROR_PREFIX "Busy"
#define SLM_DBUS_ERROR_CONTEXT_EXCEEDED SLM_DBUS_ERROR_PREFIX "ContextExceeded"
#define SLM_DBUS_ERROR_CANCELLED SLM_DBUS_ERROR_PREFIX "Cancelled"
#define SLM_DBUS_ERROR_FAILED SLM_DBUS_ERROR_PREFIX "Failed"
#define SLM_DBUS_ERROR_ACCESS_DENIED SLM_DBUS_ERROR_PREFIX "AccessDenied"

/* Longest object path slmd builds: the models prefix, "/" and a 64-byte name escaped to
 * three bytes per byte (the engine's name limit), with room to spare. */
#define SLM_DBUS_PATH_MAX 256

#endif
