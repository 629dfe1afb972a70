/* STATUS= text (see status.h). */
#include "daemon/status.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Appends to a fixed buffer; once full, everything later is dropped and the line ends in
 * "…" so a reader sees that it was cut. */
struct line {
    char *buf;
    size_t used;
    bool full;
};

static void line_add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line_add(struct line *l, const char *fmt, ...)
{
    /* room for "…" (3 bytes) and the NUL is kept back */
    const size_t limit = SLMD_STATUS_MAX - 4;
    if (l->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->buf + l->used, limit + 1 - l->used, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (l->used + (size_t)n > limit) {
        l->used = limit;
        strcpy(l->buf + l->used, "…");
        l->full = true;
        return;
    }
    l->used += (size_t)n;
}

/* Words for people, unlike slm_model_state_name()'s identifiers ("declared"). */
const char *slmd_status_state_word(enum slm_model_state state)
{
    switch (state) {
    case SLM_MODEL_DECLARED:
        return "not loaded";
    case SLM_MODEL_LOADING:
        return "loading";
    case SLM_MODEL_READY:
        return "ready";
    case SLM_MODEL_FAILED:
        return "failed";
    case SLM_MODEL_DRAINING:
        return "draining";
    }
    return "unknown";
}

void slmd_status_format(char *buf, const struct slm_model_status *models, size_t n_models,
                        uint32_t queued, const char *problem)
{
    struct line l = {.buf = buf};
    buf[0] = '\0';
    size_t serving = 0;
    for (size_t i = 0; i < n_models; i++)
        serving += models[i].state != SLM_MODEL_DRAINING;
    if (n_models == 0)
        line_add(&l, "No models configured");
    else
        line_add(&l, "Serving %zu model%s (", serving, serving == 1 ? "" : "s");
    for (size_t i = 0; i < n_models; i++)
        line_add(&l, "%s%s: %s", i ? ", " : "", models[i].name,
                 slmd_status_state_word(models[i].state));
    if (n_models)
        line_add(&l, ")");
    line_add(&l, "; %u request%s queued", queued, queued == 1 ? "" : "s");
    if (problem && *problem)
        line_add(&l, "; %s", problem);
}
