/* Chat templates: the Jinja text a model ships in `tokenizer.chat_template`, rendered for
 * a list of messages exactly as Hugging Face's apply_chat_template does (Jinja2 with
 * trim_blocks and lstrip_blocks, loopcontrols, raise_exception, tojson).
 *
 * Templates come from model files, so they are untrusted data: compiling and rendering are
 * bounded in time (steps), nesting depth and output size, and every failure is an error
 * value with a message, never a crash. */
#ifndef SLM_TEMPLATE_H
#define SLM_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slm/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct slm_chat_message {
    const char *role;
    const char *content;
};

typedef struct slm_template slm_template;

struct slm_template_limits {
    size_t max_output;  /* bytes of rendered text */
    uint64_t max_steps; /* interpreter steps (statements + expression nodes) */
    uint32_t max_depth; /* nesting of calls, blocks and expressions */
    /* Addition: bytes of working memory one render may use (values, strings, captured
     * output); 0 means the default. */
    size_t max_memory;
};
/* The defaults: 1 MiB output, 10 million steps, depth 64, 32 MiB of memory. */
void slm_template_limits_default(struct slm_template_limits *limits);

/* Parses a template. A syntax error gives SLM_ERR_TEMPLATE with "line N: reason". */
slm_template *slm_template_compile(const char *source, size_t len, slm_error *err);
void slm_template_free(slm_template *tmpl);

struct slm_template_input {
    const struct slm_chat_message *messages;
    size_t n_messages;
    bool add_generation_prompt;
    const char *bos_token; /* "" if the model has none */
    const char *eos_token;
};

/* Renders into a malloc'd NUL-terminated string. A template calling raise_exception(msg)
 * gives SLM_ERR_TEMPLATE with msg as the message; exceeding a limit gives SLM_ERR_TEMPLATE
 * naming the limit; other runtime errors give SLM_ERR_TEMPLATE "line N: reason". `limits`
 * may be NULL for the defaults. Thread-safe for one compiled template rendered from several
 * threads. */
int slm_template_render(const slm_template *tmpl, const struct slm_template_input *input,
                        const struct slm_template_limits *limits, char **out, size_t *out_len,
                        slm_error *err);

/* What a render can take beyond a plain list of role/content messages. */
struct slm_template_options {
    /* A JSON array of message objects, used instead of input->messages: every key of a
     * message reaches the template (role, content, tool_calls, name, ...), and content may
     * be null or structured. This is what `slm template --messages-json FILE` reads. */
    const char *messages_json;
    /* A JSON object whose members become further template variables, the way
     * apply_chat_template passes extra keyword arguments (tools, documents, date_string,
     * custom flags). Without it `tools` and `documents` are undefined, as in a plain Jinja2
     * render of the template. */
    const char *variables_json;
    /* Leave strftime_now undefined. Hugging Face defines it (the current local time); the
     * reference renders in templates.json were made without it, so that templates testing
     * `strftime_now is defined` fall back to their fixed date there. */
    bool without_strftime_now;
};

/* slm_template_render with options (NULL: none). Malformed messages_json or variables_json
 * gives SLM_ERR_INVALID. */
int slm_template_render_ex(const slm_template *tmpl, const struct slm_template_input *input,
                           const struct slm_template_options *options,
                           const struct slm_template_limits *limits, char **out, size_t *out_len,
                           slm_error *err);

/* Reads a JSON file holding a list of messages ({"role", "content", ...}) and renders it
 * with the model's tokens: what `slm template --messages-json FILE` prints. File errors give
 * SLM_ERR_IO and malformed JSON SLM_ERR_INVALID, both naming the file. */
int slm_template_render_messages_file(const slm_template *tmpl, const char *path,
                                      bool add_generation_prompt, const char *bos_token,
                                      const char *eos_token, char **out, size_t *out_len,
                                      slm_error *err);

#ifdef __cplusplus
}
#endif
#endif
