/* Table-driven D-Bus objects (see dbus_object.h): signature checks, Introspectable,
 * Properties. */
#include "ipc/dbus_object.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon/log.h"
#include "util/cleanup.h"
#include "ipc/common/protocol.h"
#include "ipc/common/utf8.h"
#include "ipc/dbus_service.h"

#define INTROSPECTABLE "org.freedesktop.DBus.Introspectable"
#define PROPERTIES "org.freedesktop.DBus.Properties"
#define ERROR_UNKNOWN_METHOD "org.freedesktop.DBus.Error.UnknownMethod"
#define ERROR_UNKNOWN_INTERFACE "org.freedesktop.DBus.Error.UnknownInterface"
#define ERROR_UNKNOWN_PROPERTY "org.freedesktop.DBus.Error.UnknownProperty"
#define ERROR_READ_ONLY "org.freedesktop.DBus.Error.PropertyReadOnly"
#define ERROR_STD_INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"
#define ERROR_NO_MEMORY "org.freedesktop.DBus.Error.NoMemory"

/* Longest method signature in slmd's tables, with room to spare. */
#define SIGNATURE_MAX 64
/* Error messages are one sentence; a longer one is cut. */
#define ERROR_MESSAGE_MAX 1024

/* ---- replies ---- */

void dbus_send_reply(struct dbus_service *service, DBusMessage *reply)
{
    if (!reply) {
        slmd_log_warning("D-Bus: out of memory building a reply");
        return;
    }
    if (!service->conn) { /* the bus went away: nobody to answer */
        dbus_message_unref(reply);
        return;
    }
    if (!dbus_connection_send(service->conn, reply, NULL))
        slmd_log_warning("D-Bus: out of memory sending a reply");
    dbus_message_unref(reply);
}

void dbus_reply_error(struct dbus_call *call, const char *name, const char *fmt, ...)
{
    if (dbus_message_get_no_reply(call->message))
        return;
    char text[ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    /* messages quote names and values the caller sent, which libdbus has validated; but
     * they can be cut in the middle of a character by the size limit */
    _cleanup_free_ char *clean = slm_utf8_valid(text, strlen(text))
                                     ? NULL
                                     : slm_utf8_sanitize(text, strlen(text), NULL);
    dbus_send_reply(call->service,
                    dbus_message_new_error(call->message, name, clean ? clean : text));
}

void dbus_reply_empty(struct dbus_call *call)
{
    if (dbus_message_get_no_reply(call->message))
        return;
    dbus_send_reply(call->service, dbus_message_new_method_return(call->message));
}

/* ---- tables ---- */

static bool append_signature(const struct dbus_arg *args, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (const struct dbus_arg *a = args; a && a->type; a++) {
        size_t len = strlen(a->type);
        if (n + len >= cap)
            return false;
        memcpy(out + n, a->type, len + 1);
        n += len;
    }
    return true;
}

bool dbus_method_signature(const struct dbus_method *m, char *out, size_t cap)
{
    return append_signature(m->in, out, cap);
}

static const struct dbus_interface *find_interface(const struct dbus_object_type *type,
                                                   const char *name)
{
    for (const struct dbus_interface *const *i = type->interfaces; i && *i; i++)
        if (!strcmp((*i)->name, name))
            return *i;
    return NULL;
}

static const struct dbus_property *find_property(const struct dbus_interface *iface,
                                                 const char *name)
{
    for (size_t i = 0; i < iface->n_properties; i++)
        if (!strcmp(iface->properties[i].name, name))
            return &iface->properties[i];
    return NULL;
}

/* ---- introspection ---- */

static void xml_args(struct slm_buf *out, const struct dbus_arg *args, const char *direction)
{
    for (const struct dbus_arg *a = args; a && a->type; a++) {
        slm_buf_printf(out, "   <arg type=\"%s\" name=\"%s\"", a->type, a->name);
        if (direction)
            slm_buf_printf(out, " direction=\"%s\"", direction);
        slm_buf_puts(out, "/>\n");
    }
}

static void xml_interface(struct slm_buf *out, const struct dbus_interface *iface)
{
    slm_buf_printf(out, " <interface name=\"%s\">\n", iface->name);
    for (size_t i = 0; i < iface->n_methods; i++) {
        const struct dbus_method *m = &iface->methods[i];
        slm_buf_printf(out, "  <method name=\"%s\">\n", m->name);
        xml_args(out, m->in, "in");
        xml_args(out, m->out, "out");
        slm_buf_puts(out, "  </method>\n");
    }
    for (size_t i = 0; i < iface->n_signals; i++) {
        slm_buf_printf(out, "  <signal name=\"%s\">\n", iface->signals[i].name);
        xml_args(out, iface->signals[i].args, NULL);
        slm_buf_puts(out, "  </signal>\n");
    }
    for (size_t i = 0; i < iface->n_properties; i++) {
        const struct dbus_property *p = &iface->properties[i];
        slm_buf_printf(out, "  <property name=\"%s\" type=\"%s\" access=\"read\"", p->name,
                       p->type);
        if (p->emits_change)
            slm_buf_puts(out, "/>\n");
        else
            slm_buf_puts(out, ">\n   <annotation name=\"org.freedesktop.DBus.Property."
                              "EmitsChangedSignal\" value=\"false\"/>\n  </property>\n");
    }
    slm_buf_puts(out, " </interface>\n");
}

static const char standard_interfaces[] =
    " <interface name=\"org.freedesktop.DBus.Peer\">\n"
    "  <method name=\"Ping\"/>\n"
    "  <method name=\"GetMachineId\">\n"
    "   <arg type=\"s\" name=\"machine_uuid\" direction=\"out\"/>\n"
    "  </method>\n"
    " </interface>\n"
    " <interface name=\"org.freedesktop.DBus.Introspectable\">\n"
    "  <method name=\"Introspect\">\n"
    "   <arg type=\"s\" name=\"xml_data\" direction=\"out\"/>\n"
    "  </method>\n"
    " </interface>\n";

static const char properties_interface[] =
    " <interface name=\"org.freedesktop.DBus.Properties\">\n"
    "  <method name=\"Get\">\n"
    "   <arg type=\"s\" name=\"interface_name\" direction=\"in\"/>\n"
    "   <arg type=\"s\" name=\"property_name\" direction=\"in\"/>\n"
    "   <arg type=\"v\" name=\"value\" direction=\"out\"/>\n"
    "  </method>\n"
    "  <method name=\"GetAll\">\n"
    "   <arg type=\"s\" name=\"interface_name\" direction=\"in\"/>\n"
    "   <arg type=\"a{sv}\" name=\"props\" direction=\"out\"/>\n"
    "  </method>\n"
    "  <method name=\"Set\">\n"
    "   <arg type=\"s\" name=\"interface_name\" direction=\"in\"/>\n"
    "   <arg type=\"s\" name=\"property_name\" direction=\"in\"/>\n"
    "   <arg type=\"v\" name=\"value\" direction=\"in\"/>\n"
    "  </method>\n"
    "  <signal name=\"PropertiesChanged\">\n"
    "   <arg type=\"s\" name=\"interface_name\"/>\n"
    "   <arg type=\"a{sv}\" name=\"changed_properties\"/>\n"
    "   <arg type=\"as\" name=\"invalidated_properties\"/>\n"
    "  </signal>\n"
    " </interface>\n";

void dbus_object_introspect(struct slm_buf *out, const struct dbus_object_type *type,
                            const char *const *children, size_t n_children)
{
    slm_buf_puts(out, DBUS_INTROSPECT_1_0_XML_DOCTYPE_DECL_NODE "<node>\n");
    slm_buf_puts(out, standard_interfaces);
    if (type->interfaces && type->interfaces[0])
        slm_buf_puts(out, properties_interface);
    for (const struct dbus_interface *const *i = type->interfaces; i && *i; i++)
        xml_interface(out, *i);
    /* child names are escaped labels or numbers: nothing to quote */
    for (size_t i = 0; i < n_children; i++)
        slm_buf_printf(out, " <node name=\"%s\"/>\n", children[i]);
    slm_buf_puts(out, "</node>\n");
}

static void reply_introspect(struct dbus_call *call, const struct dbus_object_type *type,
                             const char *const *children, size_t n_children)
{
    struct slm_buf xml;
    slm_buf_init(&xml, 0);
    dbus_object_introspect(&xml, type, children, n_children);
    if (xml.failed) {
        slm_buf_deinit(&xml);
        dbus_reply_error(call, ERROR_NO_MEMORY, "out of memory");
        return;
    }
    DBusMessage *reply = dbus_message_new_method_return(call->message);
    const char *text = xml.data;
    if (reply && !dbus_message_append_args(reply, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID)) {
        dbus_message_unref(reply);
        reply = NULL;
    }
    slm_buf_deinit(&xml);
    dbus_send_reply(call->service, reply);
}

/* ---- properties ---- */

static bool append_property(struct dbus_service *service, const char *object,
                            const struct dbus_property *p, DBusMessageIter *iter)
{
    DBusMessageIter variant;
    if (!dbus_message_iter_open_container(iter, DBUS_TYPE_VARIANT, p->type, &variant))
        return false;
    if (!p->get(service, object, &variant)) {
        dbus_message_iter_abandon_container(iter, &variant);
        return false;
    }
    return dbus_message_iter_close_container(iter, &variant);
}

static bool append_dict_entry(struct dbus_service *service, const char *object,
                              const struct dbus_property *p, DBusMessageIter *dict)
{
    DBusMessageIter entry;
    if (!dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry))
        return false;
    if (!dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &p->name) ||
        !append_property(service, object, p, &entry)) {
        dbus_message_iter_abandon_container(dict, &entry);
        return false;
    }
    return dbus_message_iter_close_container(dict, &entry);
}

static void properties_get(struct dbus_call *call, const struct dbus_object_type *type)
{
    const char *iface_name, *prop_name;
    if (!dbus_message_get_args(call->message, NULL, DBUS_TYPE_STRING, &iface_name,
                               DBUS_TYPE_STRING, &prop_name, DBUS_TYPE_INVALID)) {
        dbus_reply_error(call, ERROR_STD_INVALID_ARGS, "Get expects (s interface, s property)");
        return;
    }
    const struct dbus_property *p = NULL;
    for (const struct dbus_interface *const *i = type->interfaces; i && *i && !p; i++)
        if (!*iface_name || !strcmp((*i)->name, iface_name))
            p = find_property(*i, prop_name);
    if (!p) {
        dbus_reply_error(call, ERROR_UNKNOWN_PROPERTY, "%s has no property '%s'",
                         *iface_name ? iface_name : call->path, prop_name);
        return;
    }
    DBusMessage *reply = dbus_message_new_method_return(call->message);
    DBusMessageIter iter;
    if (reply) {
        dbus_message_iter_init_append(reply, &iter);
        if (!append_property(call->service, call->object, p, &iter)) {
            dbus_message_unref(reply);
            reply = NULL;
        }
    }
    dbus_send_reply(call->service, reply);
}

static void properties_get_all(struct dbus_call *call, const struct dbus_object_type *type)
{
    const char *iface_name;
    if (!dbus_message_get_args(call->message, NULL, DBUS_TYPE_STRING, &iface_name,
                               DBUS_TYPE_INVALID)) {
        dbus_reply_error(call, ERROR_STD_INVALID_ARGS, "GetAll expects (s interface)");
        return;
    }
    const struct dbus_interface *iface = NULL;
    if (*iface_name && !(iface = find_interface(type, iface_name))) {
        dbus_reply_error(call, ERROR_UNKNOWN_INTERFACE, "%s has no interface %s", call->path,
                         iface_name);
        return;
    }
    DBusMessage *reply = dbus_message_new_method_return(call->message);
    DBusMessageIter iter, dict = DBUS_MESSAGE_ITER_INIT_CLOSED;
    bool ok = reply != NULL;
    if (ok) {
        dbus_message_iter_init_append(reply, &iter);
        ok = dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{sv}", &dict);
    }
    for (const struct dbus_interface *const *i = type->interfaces; ok && i && *i; i++) {
        if (iface && *i != iface)
            continue;
        for (size_t k = 0; ok && k < (*i)->n_properties; k++)
            ok = append_dict_entry(call->service, call->object, &(*i)->properties[k], &dict);
    }
    if (ok)
        ok = dbus_message_iter_close_container(&iter, &dict);
    else if (reply)
        dbus_message_iter_abandon_container_if_open(&iter, &dict);
    if (!ok && reply) {
        dbus_message_unref(reply);
        reply = NULL;
    }
    dbus_send_reply(call->service, reply);
}

DBusMessage *dbus_object_properties_changed(struct dbus_service *service, const char *path,
                                            const char *object,
                                            const struct dbus_interface *iface,
                                            const char *const *names, size_t n_names)
{
    DBusMessage *signal = dbus_message_new_signal(path, PROPERTIES, "PropertiesChanged");
    if (!signal)
        return NULL;
    DBusMessageIter iter, dict, invalidated;
    dbus_message_iter_init_append(signal, &iter);
    bool ok = dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &iface->name) &&
              dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{sv}", &dict);
    for (size_t k = 0; ok && k < iface->n_properties; k++) {
        const struct dbus_property *p = &iface->properties[k];
        bool wanted = !names && p->emits_change;
        for (size_t j = 0; names && j < n_names && !wanted; j++)
            wanted = !strcmp(names[j], p->name);
        if (wanted)
            ok = append_dict_entry(service, object, p, &dict);
    }
    ok = ok && dbus_message_iter_close_container(&iter, &dict) &&
         dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "s", &invalidated) &&
         dbus_message_iter_close_container(&iter, &invalidated);
    if (!ok) {
        dbus_message_unref(signal);
        return NULL;
    }
    return signal;
}

/* ---- dispatch ---- */

static void call_method(struct dbus_call *call, const struct dbus_method *m)
{
    char expected[SIGNATURE_MAX];
    if (!dbus_method_signature(m, expected, sizeof(expected)) ||
        !dbus_message_has_signature(call->message, expected)) {
        char names[256] = "";
        size_t n = 0;
        for (const struct dbus_arg *a = m->in; a && a->type && n < sizeof(names); a++)
            n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s %s",
                                  a == m->in ? "" : ", ", a->type, a->name);
        dbus_reply_error(call, SLM_DBUS_ERROR_INVALID_ARGS,
                         "%s takes (%s), signature '%s', but was called with '%s'", m->name,
                         names, expected, dbus_message_get_signature(call->message));
        return;
    }
    if (m->root_only && call->uid != 0) {
        dbus_reply_error(call, SLM_DBUS_ERROR_ACCESS_DENIED,
                         "%s changes slmd's state and is for root only (uid %u called)",
                         m->name, (unsigned)call->uid);
        return;
    }
    m->handler(call);
}

void dbus_object_dispatch(struct dbus_call *call, const struct dbus_object_type *type,
                          const char *const *children, size_t n_children)
{
    const char *iface = dbus_message_get_interface(call->message);
    const char *member = dbus_message_get_member(call->message);
    if (!member) {
        dbus_reply_error(call, ERROR_UNKNOWN_METHOD, "a method call without a member");
        return;
    }
    bool any = !iface;
    if ((any || !strcmp(iface, INTROSPECTABLE)) && !strcmp(member, "Introspect")) {
        reply_introspect(call, type, children, n_children);
        return;
    }
    bool has_interfaces = type->interfaces && type->interfaces[0];
    if (has_interfaces && (any || !strcmp(iface, PROPERTIES))) {
        if (!strcmp(member, "Get")) {
            properties_get(call, type);
            return;
        }
        if (!strcmp(member, "GetAll")) {
            properties_get_all(call, type);
            return;
        }
        if (!strcmp(member, "Set")) {
            dbus_reply_error(call, ERROR_READ_ONLY, "the properties of %s are read-only",
                             call->path);
            return;
        }
    }
    for (const struct dbus_interface *const *i = type->interfaces; i && *i; i++) {
        if (!any && strcmp((*i)->name, iface))
            continue;
        for (size_t k = 0; k < (*i)->n_methods; k++)
            if (!strcmp((*i)->methods[k].name, member)) {
                call_method(call, &(*i)->methods[k]);
                return;
            }
    }
    dbus_reply_error(call, ERROR_UNKNOWN_METHOD, "%s has no method %s%s%s", call->path,
                     iface ? iface : "", iface ? "." : "", member);
}
