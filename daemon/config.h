/* slmd.yaml: parsing, validation and the resulting configuration.
 *
 * The schema is DESIGN.md's "Config" section; docs/slmd.yaml.5 documents every key.
 * Parsing is all or nothing: either a complete, validated `struct slmd_config` comes
 * back, or nothing does and the diagnostics say what is wrong, each as
 * `FILE:LINE:COLUMN: message`. Reload relies on this: a bad file changes nothing. */
#ifndef SLMD_CONFIG_H
#define SLMD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/server_config.h"
#include "slm/engine.h"

/* Bigger than any hand-written config; keeps a wrong --config (a model file, /dev/zero)
 * from being read into memory. */
#define SLMD_CONFIG_MAX_BYTES (1024 * 1024)
/* Models one slmd serves. A gateway holds a handful; each model costs a mapping, a KV
 * cache and a D-Bus object, so a bound keeps a typo'd generator script from hurting. */
#define SLMD_MAX_MODELS 64
/* slm_model_spec: "1..64 bytes of [A-Za-z0-9._-]". */
#define SLMD_MODEL_NAME_MAX 64
/* Compute threads: more than any board slmd targets has cores. */
#define SLMD_MAX_THREADS 256
/* Tokens per sequence: Phi-3 128k is the longest context slmd supports (131072);
 * 1 Mi leaves room above it. */
#define SLMD_MAX_CONTEXT (1024 * 1024)
/* Sequences batched together per model. */
#define SLMD_MAX_PARALLEL 64
/* Errors reported for one file before giving up: enough to fix a file in one pass. */
#define SLMD_CONFIG_MAX_DIAGNOSTICS 32

/* Default config file (DESIGN.md). */
#define SLMD_DEFAULT_CONFIG_PATH "/etc/slmd/slmd.yaml"

struct slmd_model_config {
    char *name;
    char *path; /* as resolved: relative paths are taken from the config file's directory */
    uint32_t line; /* where the entry starts in the file, for messages about it later */
    uint32_t column;
    enum slm_task task; /* SLM_TASK_AUTO when not given */
    uint32_t context;   /* 0: the model's own */
    uint32_t parallel;
    bool preload;
    uint64_t keep_alive_usec; /* 0: never unload */
    enum slm_type kv_type;
    struct slm_sampling defaults; /* unset fields as documented in engine.h */
    int32_t default_max_tokens;   /* <= 0: built-in default */
};

struct slmd_config {
    char *file; /* the file it was read from, as given */
    uint32_t threads;      /* 0: online CPUs */
    uint64_t memory_limit; /* 0: unlimited */
    enum slm_weight_memory weights; /* SLM_WEIGHTS_DEFAULT when not given */
    struct slmd_server_config server;
    struct slmd_model_config *models;
    size_t n_models;
};

struct slmd_diagnostics {
    char *lines[SLMD_CONFIG_MAX_DIAGNOSTICS]; /* "FILE:LINE:COLUMN: message" */
    size_t n;
    size_t n_dropped; /* errors past the cap, counted but not kept */
};

enum slmd_config_flags {
    /* Check that model paths exist (a file or a directory). */
    SLMD_CONFIG_CHECK_PATHS = 1u << 0,
    /* Resolve group names with the system's group database (NSS). Without it, only
     * numeric gids are accepted for socket_group and allowed_groups. */
    SLMD_CONFIG_RESOLVE_GROUPS = 1u << 1,
    SLMD_CONFIG_FULL = SLMD_CONFIG_CHECK_PATHS | SLMD_CONFIG_RESOLVE_GROUPS,
};

/* Reads and validates `file`. Returns 0 and a new config in *out, or -1 with at least one
 * line in `diag` (which the caller frees with slmd_diagnostics_clear). */
int slmd_config_load(const char *file, unsigned flags, struct slmd_config **out,
                     struct slmd_diagnostics *diag);

/* The same for text already in memory; `file` names it in messages and its directory
 * anchors relative model paths. */
int slmd_config_parse(const char *file, const char *data, size_t len, unsigned flags,
                      struct slmd_config **out, struct slmd_diagnostics *diag);

void slmd_config_free(struct slmd_config *config);

/* The configuration an empty file gives: defaults everywhere, no models. */
struct slmd_config *slmd_config_new_default(const char *file);

const struct slmd_model_config *slmd_config_find_model(const struct slmd_config *config,
                                                       const char *name);

void slmd_diagnostics_clear(struct slmd_diagnostics *diag);
/* The first error, or "" if none. */
const char *slmd_diagnostics_first(const struct slmd_diagnostics *diag);

/* Value parsers, exposed for the tests. Each returns true on success. */
/* "3G", "1.5M", "512K", "1024", "64KiB": binary multiples (K = 1024). */
bool slmd_parse_size(const char *text, uint64_t *bytes);
/* "30m", "300s", "1h", "500ms", "1h30m", "0"; a plain number is seconds. */
bool slmd_parse_duration(const char *text, uint64_t *usec);

#endif
