/* Generation options (see options.h). */
#include "ipc/options.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum option_id {
    OPT_MAX_TOKENS,
    OPT_TEMPERATURE,
    OPT_TOP_P,
    OPT_TOP_K,
    OPT_MIN_P,
    OPT_REPEAT_PENALTY,
    OPT_REPEAT_LAST_N,
    OPT_FREQUENCY_PENALTY,
    OPT_PRESENCE_PENALTY,
    OPT_SEED,
    OPT_STOP,
    OPT_IGNORE_EOS,
};

/* Ranges: the sampler's own (slm_sampling_validate) so that nothing it would refuse gets
 * through, except the two OpenAI penalties, which OpenAI bounds to [-2, 2]; max_tokens as
 * the engine bounds it (core/engine/request.c). */
static const struct ipc_option options[] = {
    {"max_tokens", IPC_OPTION_INT, 0, 1000000, OPT_MAX_TOKENS},
    {"temperature", IPC_OPTION_REAL, 0, 100, OPT_TEMPERATURE},
    {"top_p", IPC_OPTION_REAL, 0, 1, OPT_TOP_P},
    {"top_k", IPC_OPTION_INT, 0, 1000000, OPT_TOP_K},
    {"min_p", IPC_OPTION_REAL, 0, 1, OPT_MIN_P},
    {"repeat_penalty", IPC_OPTION_REAL, 0.01, 100, OPT_REPEAT_PENALTY},
    {"repeat_last_n", IPC_OPTION_INT, 0, 1000000, OPT_REPEAT_LAST_N},
    {"frequency_penalty", IPC_OPTION_REAL, -2, 2, OPT_FREQUENCY_PENALTY},
    {"presence_penalty", IPC_OPTION_REAL, -2, 2, OPT_PRESENCE_PENALTY},
    {"seed", IPC_OPTION_SEED, 0, 0, OPT_SEED},
    {"stop", IPC_OPTION_TEXT, 0, 0, OPT_STOP},
    {"ignore_eos", IPC_OPTION_BOOL, 0, 0, OPT_IGNORE_EOS},
};

void ipc_generation_init(struct ipc_generation *g)
{
    memset(g, 0, sizeof(*g));
    g->max_tokens = -1;
    slm_sampling_unset(&g->sampling);
}

void ipc_generation_deinit(struct ipc_generation *g)
{
    for (size_t i = 0; i < g->n_stop; i++)
        free(g->stop[i]);
    ipc_generation_init(g);
}

void ipc_generation_apply(const struct ipc_generation *g, struct slm_request_params *p)
{
    p->max_tokens = g->max_tokens;
    p->sampling = g->sampling;
    p->stop = (const char *const *)g->stop;
    p->n_stop = g->n_stop;
    p->ignore_eos = g->ignore_eos;
}

const struct ipc_option *ipc_option_find(const char *name)
{
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
        if (!strcmp(options[i].name, name))
            return &options[i];
    return NULL;
}

const char *ipc_option_names(void)
{
    return "max_tokens, temperature, top_p, top_k, min_p, repeat_penalty, repeat_last_n, "
           "frequency_penalty, presence_penalty, seed, stop, ignore_eos";
}

int ipc_option_set_number(struct ipc_generation *g, const struct ipc_option *o, double v,
                          slm_error *err)
{
    if (o->kind != IPC_OPTION_INT && o->kind != IPC_OPTION_REAL)
        return slm_errorf(err, SLM_ERR_INVALID, "'%s' is not a number option", o->name);
    if (!isfinite(v) || v < o->min || v > o->max)
        return slm_errorf(err, SLM_ERR_INVALID, "'%s' must be %s from %g to %g, not %g",
                          o->name, o->kind == IPC_OPTION_INT ? "an integer" : "a number",
                          o->min, o->max, v);
    if (o->kind == IPC_OPTION_INT && v != floor(v))
        return slm_errorf(err, SLM_ERR_INVALID, "'%s' must be an integer, not %g", o->name, v);
    switch ((enum option_id)o->id) {
    case OPT_MAX_TOKENS: g->max_tokens = (int32_t)v; break;
    case OPT_TEMPERATURE: g->sampling.temperature = (float)v; break;
    case OPT_TOP_P: g->sampling.top_p = (float)v; break;
    case OPT_TOP_K: g->sampling.top_k = (int32_t)v; break;
    case OPT_MIN_P: g->sampling.min_p = (float)v; break;
    case OPT_REPEAT_PENALTY: g->sampling.repeat_penalty = (float)v; break;
    case OPT_REPEAT_LAST_N: g->sampling.repeat_last_n = (int32_t)v; break;
    case OPT_FREQUENCY_PENALTY: g->sampling.frequency_penalty = (float)v; break;
    case OPT_PRESENCE_PENALTY: g->sampling.presence_penalty = (float)v; break;
    default: return slm_errorf(err, SLM_ERR_INVALID, "'%s' is not a number option", o->name);
    }
    return 0;
}

int ipc_option_set_seed(struct ipc_generation *g, uint64_t seed)
{
    g->sampling.has_seed = true;
    g->sampling.seed = seed;
    return 0;
}

int ipc_option_set_bool(struct ipc_generation *g, const struct ipc_option *o, bool value)
{
    if (o->id == OPT_IGNORE_EOS)
        g->ignore_eos = value;
    return 0;
}

int ipc_option_add_stop(struct ipc_generation *g, const char *text, size_t len, slm_error *err)
{
    if (g->n_stop == IPC_MAX_STOP)
        return slm_errorf(err, SLM_ERR_INVALID, "'stop': at most %d stop strings",
                          IPC_MAX_STOP);
    if (len == 0 || len > IPC_MAX_STOP_LEN)
        return slm_errorf(err, SLM_ERR_INVALID, "'stop': a stop string must be 1 to %d bytes",
                          IPC_MAX_STOP_LEN);
    if (memchr(text, '\0', len))
        return slm_errorf(err, SLM_ERR_INVALID, "'stop': a stop string cannot contain NUL");
    char *copy = strndup(text, len);
    if (!copy)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    g->stop[g->n_stop++] = copy;
    return 0;
}

/* ---- strings (D-Bus) ---- */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Decimal digits with an optional leading '-': no spaces, no '+', no hex, no octal
 * surprises, nothing after. */
static bool parse_integer_text(const char *s, long long *out)
{
    const char *p = s + (*s == '-');
    if (!is_digit(*p))
        return false;
    for (const char *q = p; *q; q++)
        if (!is_digit(*q))
            return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* A decimal number ("0.7", "1e-3", "-2"): strtod, but not its spaces, hex, inf or nan. */
static bool parse_real_text(const char *s, double *out)
{
    const char *p = s + (*s == '-');
    if (!is_digit(*p) && !(*p == '.' && is_digit(p[1])))
        return false;
    for (const char *q = p; *q; q++)
        if (!is_digit(*q) && *q != '.' && *q != 'e' && *q != 'E' && *q != '-' && *q != '+')
            return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

int ipc_option_parse(struct ipc_generation *g, const char *key, const char *value,
                     slm_error *err)
{
    const struct ipc_option *o = ipc_option_find(key);
    if (!o)
        return slm_errorf(err, SLM_ERR_INVALID, "unknown option '%.64s' (known: %s)", key,
                          ipc_option_names());
    switch (o->kind) {
    case IPC_OPTION_INT: {
        long long v;
        if (!parse_integer_text(value, &v))
            return slm_errorf(err, SLM_ERR_INVALID, "'%s' must be an integer, not '%.64s'",
                              o->name, value);
        if (v < (long long)o->min || v > (long long)o->max)
            return slm_errorf(err, SLM_ERR_INVALID, "'%s' must be an integer from %g to %g, "
                              "not %lld", o->name, o->min, o->max, v);
        return ipc_option_set_number(g, o, (double)v, err);
    }
    case IPC_OPTION_REAL: {
        double v;
        if (!parse_real_text(value, &v))
            return slm_errorf(err, SLM_ERR_INVALID, "'%s' must be a number, not '%.64s'",
                              o->name, value);
        return ipc_option_set_number(g, o, v, err);
    }
    case IPC_OPTION_SEED: {
        if (!is_digit(value[0]))
            return slm_errorf(err, SLM_ERR_INVALID, "'seed' must be an integer from 0 to "
                              "18446744073709551615, not '%.64s'", value);
        for (const char *q = value; *q; q++)
            if (!is_digit(*q))
                return slm_errorf(err, SLM_ERR_INVALID, "'seed' must be an integer from 0 "
                                  "to 18446744073709551615, not '%.64s'", value);
        errno = 0;
        unsigned long long v = strtoull(value, NULL, 10);
        if (errno)
            return slm_errorf(err, SLM_ERR_INVALID, "'seed' %.64s is out of range (0 to "
                              "18446744073709551615)", value);
        return ipc_option_set_seed(g, (uint64_t)v);
    }
    case IPC_OPTION_BOOL:
        if (!strcmp(value, "true") || !strcmp(value, "1"))
            return ipc_option_set_bool(g, o, true);
        if (!strcmp(value, "false") || !strcmp(value, "0"))
            return ipc_option_set_bool(g, o, false);
        return slm_errorf(err, SLM_ERR_INVALID, "'%s' must be true or false, not '%.64s'",
                          o->name, value);
    case IPC_OPTION_TEXT:
        return ipc_option_add_stop(g, value, strlen(value), err);
    }
    return slm_errorf(err, SLM_ERR_INTERNAL, "option '%s' has no parser", o->name);
}
