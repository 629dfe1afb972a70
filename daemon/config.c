/* slmd.yaml → struct slmd_config. The YAML tree (yaml_tree.c) gives every value its
 * position; each section is a table of keys with a handler per key, and one walker
 * checks the section's shape, unknown keys and duplicates before calling the handlers.
 * Errors are collected (up to SLMD_CONFIG_MAX_DIAGNOSTICS) so that --check-config shows
 * everything wrong in a file at once. */
#include "daemon/config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config_values.h"
#include "daemon/yaml_tree.h"
#include "util/cleanup.h"

struct parse_ctx {
    const char *file;
    char *base_dir; /* directory relative model paths are taken from */
    unsigned flags;
    struct slmd_diagnostics *diag;
    struct slmd_config *config;
};

static void diag_add(struct slmd_diagnostics *diag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void diag_add(struct slmd_diagnostics *diag, const char *fmt, ...)
{
    if (diag->n >= SLMD_CONFIG_MAX_DIAGNOSTICS) {
        diag->n_dropped++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    char *line = NULL;
    if (vasprintf(&line, fmt, ap) < 0)
        line = NULL;
    va_end(ap);
    if (!line) {
        diag->n_dropped++;
        return;
    }
    diag->lines[diag->n++] = line;
}

/* Reports `message` at `node`'s position. Always returns -1 so handlers can
 * `return report(...)`. */
static int report(struct parse_ctx *ctx, const struct slmd_yaml_node *node, const char *fmt,
                  ...) __attribute__((format(printf, 3, 4)));

static int report(struct parse_ctx *ctx, const struct slmd_yaml_node *node, const char *fmt,
                  ...)
{
    char message[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    diag_add(ctx->diag, "%s:%u:%u: %s", ctx->file, node->line, node->column, message);
    return -1;
}

void slmd_diagnostics_clear(struct slmd_diagnostics *diag)
{
    for (size_t i = 0; i < diag->n; i++)
        free(diag->lines[i]);
    memset(diag, 0, sizeof(*diag));
}

const char *slmd_diagnostics_first(const struct slmd_diagnostics *diag)
{
    return diag->n ? diag->lines[0] : "";
}

/* ---- typed values ---- */

/* The value must be a plain scalar (numbers, booleans, sizes ...): a quoted "4" is a
 * string, and a list or mapping is the wrong shape. */
static int need_plain(struct parse_ctx *ctx, const struct slmd_yaml_node *value,
                      const char *key, const char *what)
{
    if (value->kind == SLMD_YAML_SCALAR && slmd_yaml_is_null(value))
        return report(ctx, value, "%s: expected %s, got nothing (remove the key to use the default)",
                      key, what);
    if (value->kind != SLMD_YAML_SCALAR || value->quoted)
        return report(ctx, value, "%s: expected %s, got %s", key, what,
                      slmd_yaml_kind_name(value));
    return 0;
}

/* Any scalar that is not null (quoted or not): strings and paths. */
static int need_string(struct parse_ctx *ctx, const struct slmd_yaml_node *value,
                       const char *key)
{
    if (value->kind == SLMD_YAML_SCALAR && slmd_yaml_is_null(value))
        return report(ctx, value, "%s: expected a string, got nothing", key);
    if (value->kind != SLMD_YAML_SCALAR)
        return report(ctx, value, "%s: expected a string, got %s", key,
                      slmd_yaml_kind_name(value));
    return 0;
}

static int get_uint(struct parse_ctx *ctx, const struct slmd_yaml_node *value, const char *key,
                    uint64_t min, uint64_t max, uint64_t *out)
{
    if (need_plain(ctx, value, key, "a whole number") < 0)
        return -1;
    uint64_t v = 0;
    if (!slmd_parse_u64(value->text, &v)) {
        int64_t negative;
        if (slmd_parse_i64(value->text, &negative))
            return report(ctx, value, "%s: %s is out of range (%llu..%llu)", key, value->text,
                          (unsigned long long)min, (unsigned long long)max);
        return report(ctx, value, "%s: expected a whole number, got '%s'", key, value->text);
    }
    if (v < min || v > max)
        return report(ctx, value, "%s: %s is out of range (%llu..%llu)", key, value->text,
                      (unsigned long long)min, (unsigned long long)max);
    *out = v;
    return 0;
}

static int get_u32(struct parse_ctx *ctx, const struct slmd_yaml_node *value, const char *key,
                   uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    if (get_uint(ctx, value, key, min, max, &v) < 0)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int get_bool(struct parse_ctx *ctx, const struct slmd_yaml_node *value, const char *key,
                    bool *out)
{
    if (need_plain(ctx, value, key, "true or false") < 0)
        return -1;
    if (!slmd_parse_bool(value->text, out))
        return report(ctx, value, "%s: expected true or false, got '%s'", key, value->text);
    return 0;
}

static int get_number(struct parse_ctx *ctx, const struct slmd_yaml_node *value,
                      const char *key, double min, double max, double *out)
{
    if (need_plain(ctx, value, key, "a number") < 0)
        return -1;
    double v = 0;
    if (!slmd_parse_double(value->text, &v))
        return report(ctx, value, "%s: expected a number, got '%s'", key, value->text);
    if (v < min || v > max)
        return report(ctx, value, "%s: %s is out of range (%g..%g)", key, value->text, min, max);
    *out = v;
    return 0;
}

static int get_size(struct parse_ctx *ctx, const struct slmd_yaml_node *value, const char *key,
                    uint64_t min, uint64_t max, uint64_t *out)
{
    if (need_plain(ctx, value, key, "a size like 512K, 1M or 3G") < 0)
        return -1;
    uint64_t v = 0;
    if (!slmd_parse_size(value->text, &v))
        return report(ctx, value, "%s: expected a size like 512K, 1M or 3G, got '%s'", key,
                      value->text);
    if (v > max || (v < min && v != 0))
        return report(ctx, value,
                      "%s: %s is out of range (0 or %llu..%llu bytes)", key, value->text,
                      (unsigned long long)min, (unsigned long long)max);
    *out = v;
    return 0;
}

static int get_duration(struct parse_ctx *ctx, const struct slmd_yaml_node *value,
                        const char *key, uint64_t max_usec, const char *max_text,
                        uint64_t *out)
{
    if (need_plain(ctx, value, key, "a duration like 500ms, 300s, 30m or 1h") < 0)
        return -1;
    uint64_t v = 0;
    if (!slmd_parse_duration(value->text, &v))
        return report(ctx, value, "%s: expected a duration like 500ms, 300s, 30m or 1h, got '%s'",
                      key, value->text);
    if (v > max_usec)
        return report(ctx, value, "%s: %s is out of range (0..%s)", key, value->text, max_text);
    *out = v;
    return 0;
}

/* Looks a group up by name or number. */
static int get_group(struct parse_ctx *ctx, const struct slmd_yaml_node *value, const char *key,
                     gid_t *out)
{
    if (need_string(ctx, value, key) < 0)
        return -1;
    uint64_t number;
    if (slmd_parse_u64(value->text, &number)) {
        if (number >= (uint64_t)(gid_t)-1)
            return report(ctx, value, "%s: %s is not a valid group id", key, value->text);
        *out = (gid_t)number;
        return 0;
    }
    if (!slmd_group_name_valid(value->text))
        return report(ctx, value, "%s: '%s' is not a valid group name", key, value->text);
    if (!(ctx->flags & SLMD_CONFIG_RESOLVE_GROUPS)) {
        *out = (gid_t)-1; /* syntax checked only (see SLMD_CONFIG_RESOLVE_GROUPS) */
        return 0;
    }
    struct group grp, *found = NULL;
    char buf[16384];
    int r = getgrnam_r(value->text, &grp, buf, sizeof(buf), &found);
    if (r != 0)
        return report(ctx, value, "%s: cannot look up group '%s': %s", key, value->text,
                      strerror(r));
    if (!found)
        return report(ctx, value, "%s: no such group '%s'", key, value->text);
    *out = found->gr_gid;
    return 0;
}

/* ---- sections as tables ---- */

struct key_rule {
    const char *key;
    int (*parse)(struct parse_ctx *ctx, const struct slmd_yaml_node *value, void *target);
};

/* Levenshtein distance, capped: only small distances matter for "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 32 || lb > 32)
        return 99;
    size_t row[33];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            row[j] = SLM_MIN(SLM_MIN(row[j] + 1, row[j - 1] + 1), diag + cost);
            diag = up;
        }
    }
    return row[lb];
}

static int report_unknown_key(struct parse_ctx *ctx, const struct slmd_yaml_node *key,
                              const char *section, const struct key_rule *rules,
                              size_t n_rules)
{
    char valid[512] = "";
    size_t used = 0;
    const char *closest = NULL;
    size_t best = 3; /* suggest only within two edits */
    for (size_t i = 0; i < n_rules; i++) {
        int w = snprintf(valid + used, sizeof(valid) - used, "%s%s", i ? ", " : "",
                         rules[i].key);
        if (w > 0)
            used = SLM_MIN(used + (size_t)w, sizeof(valid) - 1);
        size_t d = edit_distance(key->text, rules[i].key);
        if (d < best) {
            best = d;
            closest = rules[i].key;
        }
    }
    if (closest)
        return report(ctx, key, "unknown key '%s' in %s (did you mean '%s'?); valid keys: %s",
                      key->text, section, closest, valid);
    return report(ctx, key, "unknown key '%s' in %s; valid keys: %s", key->text, section,
                  valid);
}

/* Checks that `node` is a mapping of known, unique scalar keys and runs each key's
 * handler on its value. Returns -1 if anything was reported. */
static int walk_mapping(struct parse_ctx *ctx, const struct slmd_yaml_node *node,
                        const char *section, const struct key_rule *rules, size_t n_rules,
                        void *target)
{
    if (node->kind != SLMD_YAML_MAPPING)
        return report(ctx, node, "%s: expected a mapping of keys to values, got %s", section,
                      slmd_yaml_kind_name(node));
    int r = 0;
    size_t n = slmd_yaml_map_size(node);
    for (size_t i = 0; i < n; i++) {
        const struct slmd_yaml_node *key = node->children[2 * i];
        const struct slmd_yaml_node *value = node->children[2 * i + 1];
        if (key->kind != SLMD_YAML_SCALAR) {
            r = report(ctx, key, "%s: keys must be plain words, got %s", section,
                       slmd_yaml_kind_name(key));
            continue;
        }
        const struct slmd_yaml_node *earlier = NULL;
        for (size_t j = 0; j < i && !earlier; j++) {
            const struct slmd_yaml_node *k = node->children[2 * j];
            if (k->kind == SLMD_YAML_SCALAR && strcmp(k->text, key->text) == 0)
                earlier = k;
        }
        if (earlier) {
            r = report(ctx, key, "duplicate key '%s' in %s (first at line %u)", key->text,
                       section, earlier->line);
            continue;
        }
        const struct key_rule *rule = NULL;
        for (size_t j = 0; j < n_rules && !rule; j++)
            if (strcmp(rules[j].key, key->text) == 0)
                rule = &rules[j];
        if (!rule) {
            r = report_unknown_key(ctx, key, section, rules, n_rules);
            continue;
        }
        if (rule->parse(ctx, value, target) < 0)
            r = -1;
    }
    return r;
}

/* ---- models[].defaults ---- */

static int defaults_temperature(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_model_config *m = t;
    double x = 0;
    /* OpenAI's range; above 2 the text is noise */
    if (get_number(ctx, v, "temperature", 0.0, 2.0, &x) < 0)
        return -1;
    m->defaults.temperature = (float)x;
    return 0;
}

static int defaults_top_k(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_model_config *m = t;
    uint32_t x = 0;
    /* 0 = off; the largest vocabularies slmd reads are ~256k entries */
    if (get_u32(ctx, v, "top_k", 0, 1000000, &x) < 0)
        return -1;
    m->defaults.top_k = (int32_t)x;
    return 0;
}

static int defaults_top_p(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_model_config *m = t;
    double x = 0;
    if (get_number(ctx, v, "top_p", 0.0, 1.0, &x) < 0)
        return -1;
    m->defaults.top_p = (float)x;
    return 0;
}

static int defaults_min_p(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_model_config *m = t;
    double x = 0;
    if (get_number(ctx, v, "min_p", 0.0, 1.0, &x) < 0)
        return -1;
    m->defaults.min_p = (float)x;
    return 0;
}

static int defaults_repeat_penalty(struct parse_ctx *ctx, const struct slmd_yaml_node *v,
                                   void *t)
{
    struct slmd_model_config *m = t;
    double x = 0;
    /* 1 = off; common values are 1.0..1.3, beyond 10 every token is suppressed */
    if (get_number(ctx, v, "repeat_penalty", 0.0, 10.0, &x) < 0)
        return -1;
    m->defaults.repeat_penalty = (float)x;
    return 0;
}

static int defaults_repeat_last_n(struct parse_ctx *ctx, const struct slmd_yaml_node *v,
                                  void *t)
{
    struct slmd_model_config *m = t;
    uint32_t x = 0;
    if (get_u32(ctx, v, "repeat_last_n", 0, SLMD_MAX_CONTEXT, &x) < 0)
        return -1;
    m->defaults.repeat_last_n = (int32_t)x;
    return 0;
}

static int defaults_frequency_penalty(struct parse_ctx *ctx, const struct slmd_yaml_node *v,
                                      void *t)
{
    struct slmd_model_config *m = t;
    double x = 0;
    /* OpenAI's range */
    if (get_number(ctx, v, "frequency_penalty", -2.0, 2.0, &x) < 0)
        return -1;
    m->defaults.frequency_penalty = (float)x;
    return 0;
}

static int defaults_presence_penalty(struct parse_ctx *ctx, const struct slmd_yaml_node *v,
                                     void *t)
{
    struct slmd_model_config *m = t;
    double x = 0;
    if (get_number(ctx, v, "presence_penalty", -2.0, 2.0, &x) < 0)
        return -1;
    m->defaults.presence_penalty = (float)x;
    return 0;
}

static int defaults_seed(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_model_config *m = t;
    uint64_t x = 0;
    if (get_uint(ctx, v, "seed", 0, UINT64_MAX, &x) < 0)
        return -1;
    m->defaults.has_seed = true;
    m->defaults.seed = x;
    return 0;
}

static int defaults_max_tokens(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_model_config *m = t;
    uint32_t x = 0;
    if (get_u32(ctx, v, "max_tokens", 1, SLMD_MAX_CONTEXT, &x) < 0)
        return -1;
    m->default_max_tokens = (int32_t)x;
    return 0;
}

static const struct key_rule defaults_rules[] = {
    {"temperature", defaults_temperature},
    {"top_k", defaults_top_k},
    {"top_p", defaults_top_p},
    {"min_p", defaults_min_p},
    {"repeat_penalty", defaults_repeat_penalty},
    {"repeat_last_n", defaults_repeat_last_n},
    {"frequency_penalty", defaults_frequency_penalty},
    {"presence_penalty", defaults_presence_penalty},
    {"seed", defaults_seed},
    {"max_tokens", defaults_max_tokens},
};

/* ---- models[] ---- */

static bool model_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > SLMD_MODEL_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static int model_name(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_model_config *m = t;
    if (need_string(ctx, v, "name") < 0)
        return -1;
    if (!model_name_valid(v->text))
        return report(ctx, v,
                      "name: '%s' is not a valid model name (1 to %d letters, digits, '.', "
                      "'_' or '-')",
                      v->text, SLMD_MODEL_NAME_MAX);
    m->name = strdup(v->text);
    return m->name ? 0 : report(ctx, v, "out of memory");
}

static int model_path(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_model_config *m = t;
    if (need_string(ctx, v, "path") < 0)
        return -1;
    if (!v->text[0])
        return report(ctx, v, "path: empty");
    char *path;
    if (v->text[0] == '/')
        path = strdup(v->text);
    else if (asprintf(&path, "%s/%s", ctx->base_dir, v->text) < 0)
        path = NULL;
    if (!path)
        return report(ctx, v, "out of memory");
    m->path = path;
    if (!(ctx->flags & SLMD_CONFIG_CHECK_PATHS))
        return 0;
    struct stat st;
    if (stat(path, &st) < 0)
        return report(ctx, v, "path: %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return report(ctx, v, "path: %s: not a model file or a model directory", path);
    return 0;
}

static int model_task(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_model_config *m = t;
    if (need_string(ctx, v, "task") < 0)
        return -1;
    if (!slm_task_from_name(v->text, &m->task))
        return report(ctx, v,
                      "task: unknown task '%s'; valid tasks: auto, generate, chat, classify, "
                      "token-classify, embed",
                      v->text);
    return 0;
}

static int model_context(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_model_config *m = t;
    uint32_t x = 0;
    if (get_u32(ctx, v, "context", 0, SLMD_MAX_CONTEXT, &x) < 0)
        return -1;
    /* fewer tokens than a chat template's own markup is a mistake, not a choice */
    if (x != 0 && x < 16)
        return report(ctx, v, "context: %u is out of range (16..%d, or 0 for the model's own)",
                      x, SLMD_MAX_CONTEXT);
    m->context = x;
    return 0;
}

static int model_parallel(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_model_config *m = t;
    return get_u32(ctx, v, "parallel", 1, SLMD_MAX_PARALLEL, &m->parallel);
}

static int model_preload(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_model_config *m = t;
    return get_bool(ctx, v, "preload", &m->preload);
}

static int model_keep_alive(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_model_config *m = t;
    return get_duration(ctx, v, "keep_alive", 366ULL * 86400 * 1000000, "366d",
                        &m->keep_alive_usec);
}

static int model_kv_type(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_model_config *m = t;
    if (need_string(ctx, v, "kv_type") < 0)
        return -1;
    enum slm_type type;
    /* the KV cache types slm_model_spec allows */
    if (!slm_type_from_name(v->text, &type) || (type != SLM_TYPE_F16 && type != SLM_TYPE_Q8_0))
        return report(ctx, v, "kv_type: '%s' is not a KV cache type; valid: f16, q8_0", v->text);
    m->kv_type = type;
    return 0;
}

static int model_defaults(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    return walk_mapping(ctx, v, "defaults", defaults_rules, SLM_ARRAY_SIZE(defaults_rules), t);
}

static const struct key_rule model_rules[] = {
    {"name", model_name},
    {"path", model_path},
    {"task", model_task},
    {"context", model_context},
    {"parallel", model_parallel},
    {"preload", model_preload},
    {"keep_alive", model_keep_alive},
    {"kv_type", model_kv_type},
    {"defaults", model_defaults},
};

static void model_config_init(struct slmd_model_config *m, const struct slmd_yaml_node *node)
{
    memset(m, 0, sizeof(*m));
    m->line = node->line;
    m->column = node->column;
    m->task = SLM_TASK_AUTO;
    m->parallel = 1;
    m->kv_type = SLM_TYPE_F16;
    slm_sampling_unset(&m->defaults);
    m->default_max_tokens = -1;
}

static void model_config_deinit(struct slmd_model_config *m)
{
    free(m->name);
    free(m->path);
}

static int parse_model(struct parse_ctx *ctx, const struct slmd_yaml_node *node,
                       struct slmd_model_config *m)
{
    model_config_init(m, node);
    if (walk_mapping(ctx, node, "a model entry", model_rules, SLM_ARRAY_SIZE(model_rules), m) <
        0)
        return -1;
    int r = 0;
    if (!m->name)
        r = report(ctx, node, "model entry has no 'name'");
    if (!m->path)
        r = report(ctx, node, "model entry%s%s%s has no 'path'", m->name ? " '" : "",
                   m->name ? m->name : "", m->name ? "'" : "");
    return r;
}

static int top_models(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_config *config = t;
    if (v->kind != SLMD_YAML_SEQUENCE)
        return report(ctx, v, "models: expected a list of model entries, got %s",
                      slmd_yaml_kind_name(v));
    if (v->n_children > SLMD_MAX_MODELS)
        return report(ctx, v, "models: %zu entries, at most %d are allowed", v->n_children,
                      SLMD_MAX_MODELS);
    config->models = calloc(v->n_children ? v->n_children : 1, sizeof(*config->models));
    if (!config->models)
        return report(ctx, v, "out of memory");
    int r = 0;
    for (size_t i = 0; i < v->n_children; i++) {
        const struct slmd_yaml_node *entry = v->children[i];
        struct slmd_model_config *m = &config->models[config->n_models++];
        if (parse_model(ctx, entry, m) < 0) {
            r = -1;
            continue;
        }
        for (size_t j = 0; j + 1 < config->n_models; j++) {
            const struct slmd_model_config *other = &config->models[j];
            if (other->name && strcmp(other->name, m->name) == 0) {
                r = report(ctx, entry, "duplicate model name '%s' (first defined at line %u)",
                           m->name, other->line);
                break;
            }
        }
    }
    return r;
}

/* ---- server ---- */

static int server_socket(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_server_config *s = t;
    if (need_string(ctx, v, "socket") < 0)
        return -1;
    if (v->text[0] != '/')
        return report(ctx, v, "socket: '%s' is not an absolute path", v->text);
    if (v->text_len >= sizeof(s->socket_path))
        return report(ctx, v, "socket: the path is %zu bytes long; a Unix socket path holds at most %zu",
                      v->text_len, sizeof(s->socket_path) - 1);
    if (v->text[v->text_len - 1] == '/')
        return report(ctx, v, "socket: '%s' names a directory, not a socket file", v->text);
    memcpy(s->socket_path, v->text, v->text_len + 1);
    return 0;
}

static int server_socket_mode(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_server_config *s = t;
    if (need_string(ctx, v, "socket_mode") < 0)
        return -1;
    if (!slmd_parse_mode(v->text, &s->socket_mode))
        return report(ctx, v, "socket_mode: expected an octal mode like \"0660\", got '%s'",
                      v->text);
    return 0;
}

static int server_socket_group(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_server_config *s = t;
    if (get_group(ctx, v, "socket_group", &s->socket_group) < 0)
        return -1;
    s->has_socket_group = true;
    return 0;
}

static int server_dbus(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_server_config *s = t;
    if (need_string(ctx, v, "dbus") < 0)
        return -1;
    for (enum slmd_bus bus = SLMD_BUS_SYSTEM; bus <= SLMD_BUS_NONE; bus++) {
        if (strcmp(v->text, slmd_bus_name(bus)) == 0) {
            s->bus = bus;
            return 0;
        }
    }
    return report(ctx, v, "dbus: expected system, session or none, got '%s'", v->text);
}

static int server_allowed_groups(struct parse_ctx *ctx, const struct slmd_yaml_node *v,
                                 void *t)
{
    struct slmd_server_config *s = t;
    if (v->kind != SLMD_YAML_SEQUENCE)
        return report(ctx, v, "allowed_groups: expected a list of groups like [slmd], got %s",
                      slmd_yaml_kind_name(v));
    if (v->n_children > SLMD_MAX_ALLOWED_GROUPS)
        return report(ctx, v, "allowed_groups: %zu groups, at most %d are allowed",
                      v->n_children, SLMD_MAX_ALLOWED_GROUPS);
    int r = 0;
    s->n_allowed_groups = 0;
    for (size_t i = 0; i < v->n_children; i++) {
        gid_t gid;
        if (get_group(ctx, v->children[i], "allowed_groups", &gid) < 0)
            r = -1;
        else
            s->allowed_groups[s->n_allowed_groups++] = gid;
    }
    return r;
}

static int server_max_queue(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_server_config *s = t;
    /* each waiting request holds its prompt in memory; 65536 is far past any gateway */
    return get_u32(ctx, v, "max_queue", 1, 65536, &s->max_queue);
}

static int server_max_body(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_server_config *s = t;
    uint64_t x = 0;
    /* at least room for a small JSON request; at most what a board can buffer per client */
    if (get_size(ctx, v, "max_body", 1024, 256ULL << 20, &x) < 0)
        return -1;
    if (x == 0)
        return report(ctx, v, "max_body: 0 is out of range (1K..256M)");
    s->max_body = x;
    return 0;
}

static int server_request_timeout(struct parse_ctx *ctx, const struct slmd_yaml_node *v,
                                  void *t)
{
    struct slmd_server_config *s = t;
    return get_duration(ctx, v, "request_timeout", 86400ULL * 1000000, "24h",
                        &s->request_timeout_usec);
}

static const struct key_rule server_rules[] = {
    {"socket", server_socket},
    {"socket_mode", server_socket_mode},
    {"socket_group", server_socket_group},
    {"dbus", server_dbus},
    {"allowed_groups", server_allowed_groups},
    {"max_queue", server_max_queue},
    {"max_body", server_max_body},
    {"request_timeout", server_request_timeout},
};

/* ---- top level ---- */

static int top_threads(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_config *config = t;
    return get_u32(ctx, v, "threads", 1, SLMD_MAX_THREADS, &config->threads);
}

static int top_memory_limit(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_config *config = t;
    /* 0 = unlimited; below 1M not even the smallest model fits; 16T is past any board */
    return get_size(ctx, v, "memory_limit", 1ULL << 20, 16ULL << 40, &config->memory_limit);
}

static int top_weights(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_config *config = t;
    if (need_string(ctx, v, "weights") < 0)
        return -1;
    if (!slm_weight_memory_parse(v->text, &config->weights))
        return report(ctx, v, "weights: expected private or mapped, got '%s'", v->text);
    return 0;
}

static int top_server(struct parse_ctx *ctx, const struct slmd_yaml_node *v, void *t)
{
    struct slmd_config *config = t;
    return walk_mapping(ctx, v, "server", server_rules, SLM_ARRAY_SIZE(server_rules),
                        &config->server);
}

static const struct key_rule top_rules[] = {
    {"threads", top_threads},
    {"memory_limit", top_memory_limit},
    {"weights", top_weights},
    {"server", top_server},
    {"models", top_models},
};

/* ---- entry points ---- */

void slmd_config_free(struct slmd_config *config)
{
    if (!config)
        return;
    for (size_t i = 0; i < config->n_models; i++)
        model_config_deinit(&config->models[i]);
    free(config->models);
    free(config->file);
    free(config);
}

SLM_DEFINE_CLEANUP(struct slmd_config, slmd_config_free)
SLM_DEFINE_CLEANUP(struct slmd_yaml_node, slmd_yaml_free)

struct slmd_config *slmd_config_new_default(const char *file)
{
    struct slmd_config *config = calloc(1, sizeof(*config));
    if (!config)
        return NULL;
    config->file = strdup(file);
    if (!config->file) {
        free(config);
        return NULL;
    }
    slmd_server_config_init(&config->server);
    return config;
}

const struct slmd_model_config *slmd_config_find_model(const struct slmd_config *config,
                                                       const char *name)
{
    for (size_t i = 0; i < config->n_models; i++)
        if (strcmp(config->models[i].name, name) == 0)
            return &config->models[i];
    return NULL;
}

/* The directory of `file`, made absolute against the working directory. */
static char *base_dir_of(const char *file)
{
    const char *slash = strrchr(file, '/');
    _cleanup_free_ char *dir = slash ? strndup(file, (size_t)(slash - file)) : strdup(".");
    if (!dir)
        return NULL;
    if (slash == file) /* "/slmd.yaml" */
        return strdup("/");
    if (dir[0] == '/')
        return TAKE_PTR(dir);
    _cleanup_free_ char *cwd = getcwd(NULL, 0);
    if (!cwd)
        return NULL;
    char *joined;
    if (strcmp(dir, ".") == 0)
        return TAKE_PTR(cwd);
    if (asprintf(&joined, "%s/%s", cwd, dir) < 0)
        return NULL;
    return joined;
}

int slmd_config_parse(const char *file, const char *data, size_t len, unsigned flags,
                      struct slmd_config **out, struct slmd_diagnostics *diag)
{
    memset(diag, 0, sizeof(*diag));
    _cleanup_(slmd_config_freep) struct slmd_config *config = slmd_config_new_default(file);
    _cleanup_free_ char *base_dir = base_dir_of(file);
    if (!config || !base_dir) {
        diag_add(diag, "%s: out of memory", file);
        return -1;
    }
    if (len > SLMD_CONFIG_MAX_BYTES) {
        diag_add(diag, "%s: the file is %zu bytes; a config is at most %d", file, len,
                 SLMD_CONFIG_MAX_BYTES);
        return -1;
    }

    struct slmd_yaml_error yerr;
    _cleanup_(slmd_yaml_freep) struct slmd_yaml_node *root = NULL;
    if (slmd_yaml_parse(data, len, &root, &yerr) < 0) {
        diag_add(diag, "%s:%u:%u: %s", file, yerr.line, yerr.column, yerr.message);
        return -1;
    }

    struct parse_ctx ctx = {
        .file = file, .base_dir = base_dir, .flags = flags, .diag = diag, .config = config};
    /* an empty file (or one holding only comments) is a valid config: all defaults */
    if (root && !slmd_yaml_is_null(root) &&
        walk_mapping(&ctx, root, "the top level", top_rules, SLM_ARRAY_SIZE(top_rules),
                     config) < 0)
        return -1;
    if (diag->n || diag->n_dropped)
        return -1;
    *out = TAKE_PTR(config);
    return 0;
}

int slmd_config_load(const char *file, unsigned flags, struct slmd_config **out,
                     struct slmd_diagnostics *diag)
{
    memset(diag, 0, sizeof(*diag));
    /* O_NONBLOCK: a FIFO given by mistake must not hang --check-config; it is refused below */
    _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        diag_add(diag, "%s: cannot open: %s", file, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        diag_add(diag, "%s: cannot stat: %s", file, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        diag_add(diag, "%s: not a regular file", file);
        return -1;
    }
    if (st.st_size > SLMD_CONFIG_MAX_BYTES) {
        diag_add(diag, "%s: the file is %lld bytes; a config is at most %d", file,
                 (long long)st.st_size, SLMD_CONFIG_MAX_BYTES);
        return -1;
    }
    /* read one byte more than allowed, in case the file grew since fstat */
    _cleanup_free_ char *data = malloc(SLMD_CONFIG_MAX_BYTES + 1);
    if (!data) {
        diag_add(diag, "%s: out of memory", file);
        return -1;
    }
    size_t len = 0;
    while (len <= SLMD_CONFIG_MAX_BYTES) {
        ssize_t n = read(fd, data + len, SLMD_CONFIG_MAX_BYTES + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            diag_add(diag, "%s: cannot read: %s", file, strerror(errno));
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    return slmd_config_parse(file, data, len, flags, out, diag);
}
