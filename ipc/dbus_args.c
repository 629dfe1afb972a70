/* D-Bus argument parsing and building (see dbus_args.h). */
#include "ipc/dbus_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/common/utf8.h"
#include "ipc/status_map.h"
#include "util/cleanup.h"

int dbus_args_read_options(DBusMessageIter *iter, struct ipc_generation *g, slm_error *err)
{
    if (dbus_message_iter_get_arg_type(iter) != DBUS_TYPE_ARRAY ||
        dbus_message_iter_get_element_type(iter) != DBUS_TYPE_DICT_ENTRY)
        return slm_errorf(err, SLM_ERR_INVALID, "options must be a{ss}");
    DBusMessageIter array;
    dbus_message_iter_recurse(iter, &array);
    size_t n = 0;
    for (; dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_DICT_ENTRY;
         dbus_message_iter_next(&array)) {
        if (++n > DBUS_ARGS_MAX_OPTIONS)
            return slm_errorf(err, SLM_ERR_INVALID, "more than %d options",
                              DBUS_ARGS_MAX_OPTIONS);
        DBusMessageIter entry;
        dbus_message_iter_recurse(&array, &entry);
        if (dbus_message_iter_get_arg_type(&entry) != DBUS_TYPE_STRING)
            return slm_errorf(err, SLM_ERR_INVALID, "options must be a{ss}");
        const char *key, *value;
        dbus_message_iter_get_basic(&entry, &key);
        if (!dbus_message_iter_next(&entry) ||
            dbus_message_iter_get_arg_type(&entry) != DBUS_TYPE_STRING)
            return slm_errorf(err, SLM_ERR_INVALID, "options must be a{ss}");
        dbus_message_iter_get_basic(&entry, &value);
        int r = ipc_option_parse(g, key, value, err);
        if (r < 0)
            return r;
    }
    return 0;
}

int dbus_args_read_messages(DBusMessageIter *iter, struct dbus_chat *chat, slm_error *err)
{
    chat->messages = NULL;
    chat->n = 0;
    if (dbus_message_iter_get_arg_type(iter) != DBUS_TYPE_ARRAY ||
        dbus_message_iter_get_element_type(iter) != DBUS_TYPE_STRUCT)
        return slm_errorf(err, SLM_ERR_INVALID, "messages must be a(ss)");
    DBusMessageIter array;
    dbus_message_iter_recurse(iter, &array);
    size_t cap = 0;
    for (; dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT;
         dbus_message_iter_next(&array)) {
        if (chat->n == DBUS_ARGS_MAX_MESSAGES)
            return slm_errorf(err, SLM_ERR_INVALID, "more than %d messages",
                              DBUS_ARGS_MAX_MESSAGES);
        DBusMessageIter entry;
        dbus_message_iter_recurse(&array, &entry);
        const char *role, *content;
        if (dbus_message_iter_get_arg_type(&entry) != DBUS_TYPE_STRING)
            return slm_errorf(err, SLM_ERR_INVALID, "messages must be a(ss)");
        dbus_message_iter_get_basic(&entry, &role);
        if (!dbus_message_iter_next(&entry) ||
            dbus_message_iter_get_arg_type(&entry) != DBUS_TYPE_STRING)
            return slm_errorf(err, SLM_ERR_INVALID, "messages must be a(ss)");
        dbus_message_iter_get_basic(&entry, &content);
        if (!*role)
            return slm_errorf(err, SLM_ERR_INVALID, "message %zu has an empty role", chat->n);
        if (chat->n == cap) {
            cap = cap ? cap * 2 : 8;
            struct slm_chat_message *bigger = realloc(chat->messages, cap * sizeof(*bigger));
            if (!bigger)
                return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
            chat->messages = bigger;
        }
        chat->messages[chat->n].role = role;
        chat->messages[chat->n].content = content;
        chat->n++;
    }
    if (!chat->n)
        return slm_errorf(err, SLM_ERR_INVALID, "a chat needs at least one message");
    return 0;
}

void dbus_chat_deinit(struct dbus_chat *chat)
{
    free(chat->messages);
    chat->messages = NULL;
    chat->n = 0;
}

bool dbus_args_append_text(DBusMessageIter *iter, const char *text, size_t len)
{
    /* `text` need not end at `len` with a NUL: libdbus wants a C string, so copy */
    _cleanup_free_ char *copy = NULL;
    if (!text)
        len = 0;
    if (len && slm_utf8_valid(text, len)) {
        copy = malloc(len + 1);
        if (copy) {
            memcpy(copy, text, len);
            copy[len] = '\0';
        }
    } else {
        copy = slm_utf8_sanitize(text ? text : "", len, NULL);
    }
    const char *p = copy;
    return copy && dbus_message_iter_append_basic(iter, DBUS_TYPE_STRING, &p);
}

static bool append_pair(DBusMessageIter *dict, const char *key, const char *value)
{
    DBusMessageIter entry;
    if (!dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry))
        return false;
    if (!dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &key) ||
        !dbus_args_append_text(&entry, value, strlen(value))) {
        dbus_message_iter_abandon_container(dict, &entry);
        return false;
    }
    return dbus_message_iter_close_container(dict, &entry);
}

static bool append_number(DBusMessageIter *dict, const char *key, unsigned long long v)
{
    char text[24];
    snprintf(text, sizeof(text), "%llu", v);
    return append_pair(dict, key, text);
}

static bool append_ms(DBusMessageIter *dict, const char *key, double ms)
{
    char text[32];
    snprintf(text, sizeof(text), "%.3f", ms >= 0 ? ms : 0.0);
    return append_pair(dict, key, text);
}

bool dbus_args_append_info(DBusMessageIter *iter, const char *model,
                           const struct slm_result *r)
{
    DBusMessageIter dict;
    if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "{ss}", &dict))
        return false;
    bool ok = append_pair(&dict, "finish_reason", r->finish_reason ? r->finish_reason : "") &&
              append_number(&dict, "prompt_tokens", r->prompt_tokens) &&
              append_number(&dict, "completion_tokens", r->completion_tokens) &&
              append_number(&dict, "total_tokens",
                            (unsigned long long)r->prompt_tokens + r->completion_tokens) &&
              append_number(&dict, "cached_tokens", r->cached_tokens) &&
              append_ms(&dict, "prompt_ms", r->prompt_ms) &&
              append_ms(&dict, "generate_ms", r->generate_ms) &&
              append_pair(&dict, "truncated", r->truncated ? "true" : "false") &&
              append_pair(&dict, "model", model);
    if (ok && r->status != SLM_OK)
        ok = append_pair(&dict, "error", r->error ? r->error : "failed") &&
             append_pair(&dict, "error_name", ipc_dbus_error_name(r->status));
    if (!ok) {
        dbus_message_iter_abandon_container(iter, &dict);
        return false;
    }
    return dbus_message_iter_close_container(iter, &dict);
}
