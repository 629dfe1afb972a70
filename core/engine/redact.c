/* Errors that go back to callers name a model, not where its files lie (see
 * engine_internal.h). */
#include <string.h>

#include "engine_internal.h"

void engine_hide_path(char *text, size_t size, const char *path, const char *name)
{
    size_t path_len = path ? strlen(path) : 0, name_len = strlen(name);
    /* a path of one character ("/", ".") would match inside every message */
    if (path_len < 2 || !size)
        return;
    char *at = text;
    while ((at = strstr(at, path)) != NULL) {
        size_t tail = strlen(at + path_len) + 1; /* with its NUL */
        size_t offset = (size_t)(at - text);
        /* the room left after `name`, keeping the text NUL-terminated inside `size` */
        size_t room = size - offset;
        if (name_len >= room) {
            memcpy(at, name, room - 1);
            at[room - 1] = '\0';
            return;
        }
        if (tail > room - name_len)
            tail = room - name_len;
        memmove(at + name_len, at + path_len, tail);
        at[name_len + tail - 1] = '\0';
        memcpy(at, name, name_len);
        at += name_len;
    }
}
