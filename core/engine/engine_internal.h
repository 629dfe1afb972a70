/* Engine internals: the registry of model entries, requests, sequences and the event queue.
 *
 * Locking: one mutex (engine->lock) guards the registry, every queue and every request's
 * shared fields; the scheduler and loader threads wait on condition variables under it.
 * Forward passes run with the lock released, on data only the scheduler touches (the
 * sequences of a model, its KV cache and forward context). Callbacks never run on engine
 * threads: events go through `events` and the eventfd to the owner's dispatch. */
#ifndef SLM_ENGINE_INTERNAL_H
#define SLM_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "slm/engine.h"
#include "slm/model.h"
#include "slm/pool.h"
#include "slm/sampler.h"
#include "slm/template.h"

struct request;
struct model_entry;

/* ---- requests ---- */

struct request {
    uint64_t id;
    struct request *next_queued; /* in its model's wait queue */
    struct model_entry *model;
    struct slm_request_params p; /* deep copy: strings and arrays owned below */
    struct slm_request_callbacks cb;
    uint64_t submitted_usec;
    uint64_t deadline_usec; /* 0 = none */
    atomic_bool cancelled;
    bool finished;            /* a DONE event was queued */
    /* owned copies of the caller's data */
    char *text;
    struct slm_chat_message *messages;
    int32_t *tokens;
    char **stop;
    /* the result, filled by the scheduler before DONE */
    struct slm_result result;
    char *error;
    char *out_text;
    size_t out_len;
    int32_t *out_tokens;
    size_t n_out_tokens;
    struct slm_label_score *labels;
    struct slm_entity *entities;
    float *embedding;
};

struct request *request_new(uint64_t id, const struct slm_request_params *p,
                            const struct slm_request_callbacks *cb, slm_error *err);
void request_free(struct request *r);
/* Sets the result to an error (status + message). */
void request_fail(struct request *r, enum slm_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- sequences (decoders) ---- */

struct sequence {
    struct request *req;
    uint32_t slot;
    int32_t *tokens; /* prompt then generated */
    uint32_t n_tokens, cap;
    uint32_t n_prompt;
    uint32_t n_past; /* tokens whose K/V are in the cache */
    uint32_t n_cached; /* prompt tokens reused from the prompt cache */
    uint32_t max_new;
    uint32_t n_generated;
    slm_sampler *sampler;
    struct slm_detok detok;
    char *text; /* generated text */
    size_t text_len, text_cap;
    size_t text_sent; /* bytes already streamed */
    uint64_t started_usec, first_token_usec;
    bool done;
    bool stopped_by_string;
};

/* Per-slot record for the prompt cache: which tokens the slot's cache holds. */
struct slot_state {
    bool busy;
    int32_t *tokens;
    uint32_t n_tokens, cap;
    uint64_t last_used; /* LRU stamp */
};

/* ---- models ---- */

struct model_entry {
    struct model_entry *next;
    struct slm_model_spec spec; /* strings owned */
    enum slm_model_state state;
    char error[256];
    bool draining;       /* removed from the config: no new requests */
    bool unload_wanted;  /* UnloadModel or keep_alive: unload when idle */
    bool load_wanted;    /* the loader should (re)load it */
    bool preload_pending;
    /* loaded state (owned by the scheduler once READY) */
    slm_model *model;
    slm_kv_cache *kv;
    slm_forward_ctx *fwd;
    enum slm_task task; /* resolved */
    char architecture[32];
    uint32_t context;
    uint32_t max_batch; /* tokens per forward pass */
    uint64_t weight_bytes, kv_bytes;
    struct sequence *seqs; /* [parallel], req == NULL when free */
    struct slot_state *slots;
    uint64_t slot_clock;
    float *logits; /* [parallel][n_vocab] */
    /* queue */
    struct request *queue_head, *queue_tail;
    uint32_t n_queued;
    uint32_t n_active;
    uint64_t last_used_usec;
    /* counters */
    uint64_t requests_ok, requests_failed, requests_cancelled, requests_busy;
    uint64_t prompt_tokens_total, generated_tokens_total, prompt_cache_hits;
    double recent_tps;
};

/* ---- events ---- */

enum event_kind { EVENT_TOKEN, EVENT_DONE, EVENT_MODEL_STATE };

struct event {
    struct event *next;
    enum event_kind kind;
    struct request *req; /* TOKEN, DONE */
    char *text;          /* TOKEN piece, MODEL_STATE message */
    size_t len;
    char *model;         /* MODEL_STATE */
    enum slm_model_state state;
};

struct slm_engine {
    struct slm_engine_config config;
    pthread_mutex_t lock;
    pthread_cond_t sched_cond;  /* work for the scheduler */
    pthread_cond_t loader_cond; /* work for the loader */
    pthread_t scheduler, loader;
    bool threads_started;
    bool stopping;
    atomic_bool stop_requested; /* stopping, readable without the lock */
    slm_pool *pool;
    uint32_t pool_threads_wanted; /* set_config: rebuild the pool between steps */
    int event_fd;
    struct event *events_head, *events_tail;
    struct model_entry *models;
    uint64_t next_request_id;
    uint32_t n_queued_total;
    uint64_t memory_used;
    /* requests whose DONE was dispatched are freed; live ones are found by id here */
    struct request **live;
    size_t n_live, cap_live;
};

/* engine.c */
uint64_t engine_now_usec(void);
void engine_push_event(slm_engine *e, struct event *ev); /* lock held */
void engine_emit_token(slm_engine *e, struct request *r, const char *piece, size_t len);
void engine_emit_done(slm_engine *e, struct request *r);
void engine_emit_model_state(slm_engine *e, struct model_entry *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* registry.c */
struct model_entry *registry_find(slm_engine *e, const char *name); /* excludes draining */
void registry_free_entry(struct model_entry *m);
void *loader_main(void *arg);
void registry_unload_locked(slm_engine *e, struct model_entry *m);
void registry_check_idle(slm_engine *e, uint64_t now);
bool registry_is_idle(const struct model_entry *m);
void registry_reap(slm_engine *e);

/* scheduler.c */
void *scheduler_main(void *arg);
/* Answers a TOKENIZE or DETOKENIZE request (no lock needed: the tokenizer is immutable). */
void engine_run_tokenize(struct model_entry *m, struct request *r);

/* sequence.c */
int sequence_start(slm_engine *e, struct model_entry *m, struct sequence *s,
                   struct request *r, slm_error *err);
/* Feeds a sampled token; returns true when the sequence is finished. */
bool sequence_accept(slm_engine *e, struct model_entry *m, struct sequence *s, int32_t token);
void sequence_finish(slm_engine *e, struct model_entry *m, struct sequence *s,
                     enum slm_status status, const char *reason);
void sequence_release(struct sequence *s);

/* prompt_cache.c */
/* Picks a free slot for `tokens` and how many leading tokens of its cache can be reused
 * (copying a prefix from another slot when that is the best source). */
uint32_t prompt_cache_assign(struct model_entry *m, const int32_t *tokens, uint32_t n,
                             uint32_t *reuse);
void prompt_cache_record(struct model_entry *m, uint32_t slot, const int32_t *tokens,
                         uint32_t n);

/* encoder_requests.c */
void encoder_run_batch(slm_engine *e, struct model_entry *m);

#endif
