/* The public face of the chat template engine: compile once, render many times. */
#include "slm/template.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/arena.h"
#include "template/context.h"
#include "template/interp.h"
#include "template/lexer.h"
#include "template/parser.h"
#include "template/value.h"

/* The largest chat templates in use are about 15 KB; 1 MiB leaves room and bounds the
 * parse. A compiled template takes at most ~40 times its source in tokens and nodes. */
#define MAX_SOURCE ((size_t)1 << 20)
#define COMPILE_MEMORY ((size_t)64 << 20)

/* Defaults, see the header. 10 million steps take about a second on a small board;
 * the largest real templates use a few thousand per message. */
#define DEFAULT_MAX_OUTPUT ((size_t)1 << 20)
#define DEFAULT_MAX_STEPS ((uint64_t)10 * 1000 * 1000)
#define DEFAULT_MAX_DEPTH 64
#define DEFAULT_MAX_MEMORY ((size_t)32 << 20)
/* A messages file is a conversation: 64 MiB is far beyond any context window. */
#define MAX_MESSAGES_FILE ((size_t)64 << 20)

struct slm_template {
    struct tpl_arena *arena;
    const struct tpl_node *body;
};

void slm_template_limits_default(struct slm_template_limits *limits)
{
    limits->max_output = DEFAULT_MAX_OUTPUT;
    limits->max_steps = DEFAULT_MAX_STEPS;
    limits->max_depth = DEFAULT_MAX_DEPTH;
    limits->max_memory = DEFAULT_MAX_MEMORY;
}

slm_template *slm_template_compile(const char *source, size_t len, slm_error *err)
{
    if (!source && len) {
        slm_errorf(err, SLM_ERR_INVALID, "chat template: no source");
        return NULL;
    }
    if (len > MAX_SOURCE) {
        slm_errorf(err, SLM_ERR_TEMPLATE, "chat template too large (%zu bytes, limit %zu)", len,
                   MAX_SOURCE);
        return NULL;
    }
    slm_template *tmpl = calloc(1, sizeof(*tmpl));
    if (!tmpl || !(tmpl->arena = tpl_arena_new(COMPILE_MEMORY))) {
        free(tmpl);
        slm_errorf(err, SLM_ERR_NOMEM, "chat template: out of memory");
        return NULL;
    }
    slm_error local = {0};
    struct tpl_tokens tokens;
    if (tpl_lex(tmpl->arena, source ? source : "", len, &tokens, &local) < 0 ||
        !(tmpl->body = tpl_parse(tmpl->arena, &tokens, &local))) {
        if (local.status == SLM_OK)
            slm_errorf(&local, SLM_ERR_TEMPLATE, "chat template: cannot parse");
        if (err) *err = local;
        slm_template_free(tmpl);
        return NULL;
    }
    return tmpl;
}

void slm_template_free(slm_template *tmpl)
{
    if (!tmpl) return;
    tpl_arena_free(tmpl->arena);
    free(tmpl);
}

int slm_template_render(const slm_template *tmpl, const struct slm_template_input *input,
                        const struct slm_template_limits *limits, char **out, size_t *out_len,
                        slm_error *err)
{
    return slm_template_render_ex(tmpl, input, NULL, limits, out, out_len, err);
}

int slm_template_render_ex(const slm_template *tmpl, const struct slm_template_input *input,
                           const struct slm_template_options *options,
                           const struct slm_template_limits *limits, char **out, size_t *out_len,
                           slm_error *err)
{
    static const struct slm_template_options no_options = {0};
    if (!options) options = &no_options;
    *out = NULL;
    if (out_len) *out_len = 0;
    if (!tmpl || !input)
        return slm_errorf(err, SLM_ERR_INVALID, "chat template: no template or input");
    struct tpl_render r = {0};
    if (limits)
        r.limits = *limits;
    else
        slm_template_limits_default(&r.limits);
    if (r.limits.max_memory == 0) r.limits.max_memory = DEFAULT_MAX_MEMORY;
    r.have_strftime_now = !options->without_strftime_now;
    if (!(r.arena = tpl_arena_new(r.limits.max_memory)))
        return slm_errorf(err, SLM_ERR_NOMEM, "chat template: out of memory");
    struct tpl_sbuf output = {.max = r.limits.max_output};
    r.out = &output;
    int rc = -1;
    struct tpl_scope *globals = tpl_scope_new(&r, NULL);
    if (globals && tpl_build_context(&r, input, options, globals) == 0 &&
        tpl_run(&r, tmpl->body, globals) == 0) {
        char *text = malloc(output.len + 1);
        if (text) {
            if (output.len) memcpy(text, output.ptr, output.len);
            text[output.len] = '\0';
            *out = text;
            if (out_len) *out_len = output.len;
            rc = 0;
        } else {
            slm_errorf(&r.error, SLM_ERR_NOMEM, "chat template: out of memory");
        }
    }
    if (rc < 0) {
        if (r.error.status == SLM_OK)
            slm_errorf(&r.error, SLM_ERR_INTERNAL, "chat template: render failed");
        rc = -(int)r.error.status;
        if (err) *err = r.error;
    }
    tpl_arena_free(r.arena);
    return rc;
}

/* Reads a whole file into a NUL-terminated buffer. */
static int read_text_file(const char *path, char **text, slm_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return slm_errorf(err, SLM_ERR_IO, "%s: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) break;
        if (len + 1 == cap) {
            if (cap >= MAX_MESSAGES_FILE) {
                free(buf);
                fclose(f);
                return slm_errorf(err, SLM_ERR_INVALID, "%s: larger than %zu bytes", path,
                                  MAX_MESSAGES_FILE);
            }
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    bool failed = ferror(f);
    fclose(f);
    if (!buf) return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", path);
    if (failed) {
        free(buf);
        return slm_errorf(err, SLM_ERR_IO, "%s: read error", path);
    }
    buf[len] = '\0';
    *text = buf;
    return 0;
}

int slm_template_render_messages_file(const slm_template *tmpl, const char *path,
                                      bool add_generation_prompt, const char *bos_token,
                                      const char *eos_token, char **out, size_t *out_len,
                                      slm_error *err)
{
    char *json = NULL;
    *out = NULL;
    int rc = read_text_file(path, &json, err);
    if (rc < 0) return rc;
    struct slm_template_input in = {
        .add_generation_prompt = add_generation_prompt,
        .bos_token = bos_token,
        .eos_token = eos_token,
    };
    struct slm_template_options options = {.messages_json = json};
    rc = slm_template_render_ex(tmpl, &in, &options, NULL, out, out_len, err);
    if (rc == -SLM_ERR_INVALID) slm_error_prefix(err, path);
    free(json);
    return rc;
}
