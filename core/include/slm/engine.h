/* The engine: resident models, the request queue and the batching scheduler.
 *
 * This is the one seam between the transports (D-Bus, HTTP), the daemon and the core.
 * Threading contract:
 *   - Every function here is called from one thread, the owner's loop thread, except
 *     `slm_engine_models()` and `slm_engine_stats()` which may be called from any thread.
 *   - Work happens on the engine's own threads (a scheduler thread, a loader thread and
 *     the compute pool). They never call back directly: they queue events and make
 *     `slm_engine_event_fd()` readable. The owner then calls `slm_engine_dispatch()`, which
 *     runs the callbacks (tokens, completions, model state changes) on the owner's thread.
 *   - All strings passed in are copied at the call; nothing the caller passes is kept. */
#ifndef SLM_ENGINE_H
#define SLM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slm/error.h"
#include "slm/model.h" /* enum slm_weight_memory */
#include "slm/sampler.h"
#include "slm/template.h" /* struct slm_chat_message */
#include "slm/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct slm_engine slm_engine;

enum slm_task {
    SLM_TASK_AUTO = 0, /* from the model: decoders generate/chat, encoders by their head */
    SLM_TASK_GENERATE,
    SLM_TASK_CHAT,
    SLM_TASK_CLASSIFY,
    SLM_TASK_TOKEN_CLASSIFY,
    SLM_TASK_EMBED,
};
const char *slm_task_name(enum slm_task task); /* "generate", "chat", ... */
bool slm_task_from_name(const char *name, enum slm_task *out);

/* One model entry of the configuration. */
struct slm_model_spec {
    const char *name; /* unique, 1..64 bytes of [A-Za-z0-9._-] */
    const char *path; /* .gguf file or Hugging Face directory */
    enum slm_task task;
    uint32_t context;  /* tokens per sequence; 0 = the model's own (capped) */
    uint32_t parallel; /* sequences batched together; >= 1 */
    bool preload;
    uint64_t keep_alive_usec; /* unload after this long idle; 0 = never */
    enum slm_type kv_type;    /* SLM_TYPE_F16 (default) or SLM_TYPE_Q8_0 */
    struct slm_sampling defaults;
    int32_t default_max_tokens; /* <= 0: built-in default */
};
void slm_model_spec_init(struct slm_model_spec *spec); /* defaults for everything */
/* True if a and b would load the same model the same way (reload keeps it resident). */
bool slm_model_spec_equal(const struct slm_model_spec *a, const struct slm_model_spec *b);

enum slm_model_state {
    SLM_MODEL_DECLARED = 0, /* configured, not loaded */
    SLM_MODEL_LOADING,
    SLM_MODEL_READY,
    SLM_MODEL_FAILED,   /* last load failed; `error` says why; retried on next request */
    SLM_MODEL_DRAINING, /* removed from the config, finishing in-flight requests */
};
const char *slm_model_state_name(enum slm_model_state state);

struct slm_engine_config {
    uint32_t n_threads;            /* compute threads; 0 = online CPUs */
    uint64_t memory_limit;         /* bytes of weights + KV caches; 0 = unlimited */
    uint32_t max_queue;            /* waiting requests over all models; past it: BUSY */
    uint64_t request_timeout_usec; /* 0 = none */
    /* How model files are held (slm/model.h; process-wide, for loads from then on);
     * SLM_WEIGHTS_DEFAULT (0) = as SLM_WEIGHTS says, else private. */
    enum slm_weight_memory weights;
    /* Called (through dispatch) whenever a model changes state. */
    void (*on_model_state)(void *userdata, const char *model, enum slm_model_state state,
                           const char *message);
    void *userdata;
};

slm_engine *slm_engine_new(const struct slm_engine_config *config, slm_error *err);
/* Cancels everything, waits for the threads, unloads. Callbacks of cancelled requests are
 * not run. */
void slm_engine_free(slm_engine *engine);

/* Applies a reloaded configuration: memory_limit (checked at the next load; nothing
 * already resident is evicted), max_queue, request_timeout_usec and the state callback at
 * once; a new thread count between two scheduler steps. */
int slm_engine_set_config(slm_engine *engine, const struct slm_engine_config *config,
                          slm_error *err);

int slm_engine_event_fd(const slm_engine *engine);
/* Runs pending callbacks; returns how many events were handled. */
int slm_engine_dispatch(slm_engine *engine);

/* Replaces the model set atomically: new names are added (and loaded if preload),
 * entries equal to the current ones stay resident untouched, changed entries are
 * reloaded, removed ones drain and unload. Validation failures change nothing. */
int slm_engine_configure(slm_engine *engine, const struct slm_model_spec *specs, size_t n,
                         slm_error *err);

/* Asynchronous; the state callback reports the outcome. */
int slm_engine_load(slm_engine *engine, const char *model, slm_error *err);
int slm_engine_unload(slm_engine *engine, const char *model, slm_error *err);

/* True once every preload started by the last configure has finished (ready or failed). */
bool slm_engine_preloads_done(const slm_engine *engine);

struct slm_model_status {
    char name[72];
    char path[256];
    char architecture[32];
    char error[256];
    enum slm_task task;
    enum slm_model_state state;
    uint32_t context;
    uint32_t parallel;
    uint32_t active_sequences;
    uint32_t queued;
    uint64_t weight_bytes;   /* mapped or repacked weights */
    uint64_t kv_bytes;       /* KV caches */
    uint64_t requests_ok;
    uint64_t requests_failed;
    uint64_t requests_cancelled;
    uint64_t requests_busy;
    uint64_t prompt_tokens_total;
    uint64_t generated_tokens_total;
    uint64_t prompt_cache_hits;
    double generate_tokens_per_second; /* over the last completed requests */
};
/* Copies up to `cap` entries; returns the number of models. Any thread. */
size_t slm_engine_models(slm_engine *engine, struct slm_model_status *out, size_t cap);

struct slm_engine_stats {
    uint32_t queue_depth;
    uint64_t resident_bytes; /* process RSS */
    uint64_t memory_used;    /* counted against memory_limit */
    uint64_t memory_limit;
    uint32_t n_threads;
};
void slm_engine_stats(slm_engine *engine, struct slm_engine_stats *out);

/* ---- requests ---- */

enum slm_request_kind {
    SLM_REQ_GENERATE = 0, /* text completion of `text` (or `tokens`) */
    SLM_REQ_CHAT,         /* `messages` rendered with the model's chat template */
    SLM_REQ_CLASSIFY,     /* sequence classification of `text` */
    SLM_REQ_CLASSIFY_TOKENS,
    SLM_REQ_EMBED,
    SLM_REQ_TOKENIZE,
    SLM_REQ_DETOKENIZE,
};

struct slm_request_params {
    enum slm_request_kind kind;
    const char *text; /* UTF-8, text_len bytes (need not be NUL-terminated) */
    size_t text_len;
    const struct slm_chat_message *messages;
    size_t n_messages;
    const int32_t *tokens; /* DETOKENIZE input, or a pre-tokenized GENERATE prompt */
    size_t n_tokens;
    int32_t max_tokens; /* < 0: model default */
    struct slm_sampling sampling;
    const char *const *stop; /* stop strings */
    size_t n_stop;
    bool stream;          /* call on_token for each piece of text */
    bool add_special;     /* TOKENIZE: add BOS/CLS/SEP as the model does */
    bool parse_special;   /* TOKENIZE/GENERATE: "<|user|>" in text becomes its token */
    bool embed_normalize; /* EMBED: L2-normalise the pooled vector */
    bool ignore_eos;      /* GENERATE/CHAT: run to max_tokens (benchmarks, tests) */
    uint64_t client_id;   /* fairness key: the caller's uid or connection */
    uint64_t timeout_usec; /* 0 = engine default */
};
/* Zeroed, with sampling unset, max_tokens -1, add_special and parse_special true. */
void slm_request_params_init(struct slm_request_params *p, enum slm_request_kind kind);

struct slm_label_score {
    const char *label;
    double score;
};

struct slm_entity {
    const char *label; /* "PER", "ORG" ... (BIO prefix removed) */
    uint32_t start;    /* byte span in the request text */
    uint32_t end;
    double score;
};

/* Valid only during the on_done call. */
struct slm_result {
    enum slm_status status; /* SLM_OK or why it failed */
    const char *error;      /* message a person can act on; "" when ok */
    const char *finish_reason; /* "stop", "length", "cancelled", "error" */
    const char *text;          /* generated or detokenized text */
    size_t text_len;
    const int32_t *tokens; /* TOKENIZE result, or the generated ids */
    size_t n_tokens;
    uint32_t prompt_tokens;
    uint32_t completion_tokens;
    uint32_t cached_tokens; /* prompt tokens reused from the prompt cache */
    const struct slm_label_score *labels; /* CLASSIFY: every label, best first */
    size_t n_labels;
    const struct slm_entity *entities; /* CLASSIFY_TOKENS */
    size_t n_entities;
    const float *embedding; /* EMBED */
    size_t n_embedding;
    bool truncated; /* the input was cut to the model's maximum length */
    double prompt_ms;
    double generate_ms;
};

struct slm_request_callbacks {
    /* A piece of generated text, always whole UTF-8 characters (stream only). */
    void (*on_token)(void *userdata, const char *piece, size_t len);
    /* Exactly once per accepted request, including cancelled ones. */
    void (*on_done)(void *userdata, const struct slm_result *result);
    void *userdata;
};

/* Queues a request. Returns its id (> 0), or 0 with `err` set when it is refused at once
 * (SLM_ERR_NOT_FOUND unknown model, SLM_ERR_BUSY queue full, SLM_ERR_INVALID bad params,
 * SLM_ERR_UNSUPPORTED wrong task for the model). */
uint64_t slm_engine_submit(slm_engine *engine, const char *model,
                           const struct slm_request_params *params,
                           const struct slm_request_callbacks *callbacks, slm_error *err);

/* Cancels a queued or running request; its on_done follows with SLM_ERR_CANCELLED unless
 * it had already finished. Unknown ids are ignored. The sequence slot is free at the next
 * scheduler step. */
void slm_engine_cancel(slm_engine *engine, uint64_t request_id);

#ifdef __cplusplus
}
#endif
#endif
