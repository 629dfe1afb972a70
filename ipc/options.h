/* Generation options, parsed strictly and the same way for both transports: D-Bus passes
 * them as strings in an a{ss} ("max_tokens" → "32"), HTTP as typed JSON fields. Each
 * option has one row in a table with its kind and range; a bad value is an error naming
 * the option, so that no negative or absurd number reaches the engine. */
#ifndef SLM_IPC_OPTIONS_H
#define SLM_IPC_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slm/engine.h"
#include "slm/error.h"

/* The engine's own bounds (core/engine/request.c): stop strings per request and bytes
 * per stop string. */
#define IPC_MAX_STOP 16
#define IPC_MAX_STOP_LEN 256

struct ipc_generation {
    int32_t max_tokens;           /* -1: the model's configured default */
    struct slm_sampling sampling; /* unset fields take the model's defaults */
    char *stop[IPC_MAX_STOP];     /* owned */
    size_t n_stop;
    bool ignore_eos;
};

void ipc_generation_init(struct ipc_generation *g);
void ipc_generation_deinit(struct ipc_generation *g);
/* Points the request's generation fields at g (which must outlive the submit call). */
void ipc_generation_apply(const struct ipc_generation *g, struct slm_request_params *p);

enum ipc_option_kind {
    IPC_OPTION_INT,  /* integer in [min, max] */
    IPC_OPTION_REAL, /* finite number in [min, max] */
    IPC_OPTION_SEED, /* unsigned 64-bit integer */
    IPC_OPTION_BOOL,
    IPC_OPTION_TEXT, /* stop string: 1..IPC_MAX_STOP_LEN bytes */
};

struct ipc_option {
    const char *name;
    enum ipc_option_kind kind;
    double min, max;
    int id; /* which field it sets (options.c) */
};

/* The row for `name`, or NULL. */
const struct ipc_option *ipc_option_find(const char *name);
/* "max_tokens, temperature, ..." for error messages. */
const char *ipc_option_names(void);

/* Typed setters; errors are SLM_ERR_INVALID and name the option. */
int ipc_option_set_number(struct ipc_generation *g, const struct ipc_option *o, double value,
                          slm_error *err);
int ipc_option_set_seed(struct ipc_generation *g, uint64_t seed);
int ipc_option_set_bool(struct ipc_generation *g, const struct ipc_option *o, bool value);
int ipc_option_add_stop(struct ipc_generation *g, const char *text, size_t len, slm_error *err);

/* One D-Bus option: both key and value are strings. Unknown keys are errors (a typo
 * should not silently fall back to a default). */
int ipc_option_parse(struct ipc_generation *g, const char *key, const char *value,
                     slm_error *err);

#endif
