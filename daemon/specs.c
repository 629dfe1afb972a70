/* config → engine structures (see specs.h). */
#include "daemon/specs.h"

#include <stdio.h>
#include <string.h>

void slmd_model_specs_from_config(const struct slmd_config *config,
                                  struct slm_model_spec *specs)
{
    for (size_t i = 0; i < config->n_models; i++) {
        const struct slmd_model_config *m = &config->models[i];
        struct slm_model_spec *s = &specs[i];
        slm_model_spec_init(s);
        s->name = m->name;
        s->path = m->path;
        s->task = m->task;
        s->context = m->context;
        s->parallel = m->parallel;
        s->preload = m->preload;
        s->keep_alive_usec = m->keep_alive_usec;
        s->kv_type = m->kv_type;
        s->defaults = m->defaults;
        s->default_max_tokens = m->default_max_tokens;
    }
}

void slmd_engine_config_from_config(const struct slmd_config *config,
                                    struct slm_engine_config *engine_config)
{
    memset(engine_config, 0, sizeof(*engine_config));
    engine_config->n_threads = config->threads;
    engine_config->memory_limit = config->memory_limit;
    engine_config->weights = config->weights;
    engine_config->max_queue = config->server.max_queue;
    engine_config->request_timeout_usec = config->server.request_timeout_usec;
}

bool slmd_engine_config_differs(const struct slmd_config *current,
                                const struct slmd_config *next, char *what, size_t what_len)
{
    struct slm_engine_config a, b;
    slmd_engine_config_from_config(current, &a);
    slmd_engine_config_from_config(next, &b);
    const struct {
        const char *name;
        bool differs;
    } fields[] = {
        {"threads", a.n_threads != b.n_threads},
        {"memory_limit", a.memory_limit != b.memory_limit},
        {"weights", a.weights != b.weights},
        {"max_queue", a.max_queue != b.max_queue},
        {"request_timeout", a.request_timeout_usec != b.request_timeout_usec},
    };
    size_t used = 0;
    bool any = false;
    what[0] = '\0';
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (!fields[i].differs)
            continue;
        int n = snprintf(what + used, what_len - used, "%s%s", any ? ", " : "", fields[i].name);
        if (n > 0 && (size_t)n < what_len - used)
            used += (size_t)n;
        any = true;
    }
    return any;
}
