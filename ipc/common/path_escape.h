/* Model names in object paths, escaped the way systemd escapes bus path labels: every
 * byte outside [A-Za-z0-9] becomes "_" and two lowercase hex digits, and the empty
 * string becomes "_". "tiny-llama" → "tiny_2dllama". */
#ifndef SLM_IPC_PATH_ESCAPE_H
#define SLM_IPC_PATH_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* Writes the escaped label (NUL-terminated) into out; false if it does not fit. */
bool slm_path_label_escape(const char *name, char *out, size_t cap);
/* The reverse; false for a label that is not a valid escape (so two names never share a
 * path) or does not fit. */
bool slm_path_label_unescape(const char *label, char *out, size_t cap);
/* SLM_DBUS_MODELS_PATH "/" + escaped name; false if it does not fit. */
bool slm_model_object_path(const char *name, char *out, size_t cap);

#endif
