/* org.slmd.Slmd1.Model: one object per configured model at
 * /org/slmd/Slmd1/models/<escaped name>. The methods build an engine request from their
 * arguments and hand it to dbus_request.c, which replies when the engine finishes. */
#include <stdio.h>
#include <string.h>

#include "ipc/common/path_escape.h"
#include "ipc/common/protocol.h"
#include "ipc/dbus_args.h"
#include "ipc/dbus_service.h"
#include "ipc/model_list.h"
#include "ipc/status_map.h"
#include "util/cleanup.h"

/* Token ids per Detokenize call: the engine's own bound on a token list. */
#define DETOKENIZE_MAX_IDS (1u << 20)

static bool model_status(struct dbus_service *s, const char *name,
                         struct slm_model_status *out)
{
    static struct slm_model_status rows[IPC_MODELS_MAX]; /* loop thread only */
    size_t n = ipc_model_list(s->engine, rows);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].name, name)) {
            *out = rows[i];
            return true;
        }
    memset(out, 0, sizeof(*out));
    return false;
}

bool dbus_model_lookup(struct dbus_service *s, const char *label, char *name, size_t cap)
{
    static struct slm_model_status rows[IPC_MODELS_MAX];
    size_t n = ipc_model_list(s->engine, rows);
    char escaped[SLM_DBUS_PATH_MAX];
    for (size_t i = 0; i < n; i++) {
        if (!slm_path_label_escape(rows[i].name, escaped, sizeof(escaped)) ||
            strcmp(escaped, label))
            continue;
        int w = snprintf(name, cap, "%s", rows[i].name);
        return w >= 0 && (size_t)w < cap;
    }
    return false;
}

void dbus_model_emit_changed(struct dbus_service *s, const char *model)
{
    char path[SLM_DBUS_PATH_MAX];
    if (!slm_model_object_path(model, path, sizeof(path)))
        return;
    dbus_send_reply(s, dbus_object_properties_changed(s, path, model, &dbus_model_interface,
                                                      NULL, 0));
}

/* ---- methods ---- */

static void generation(struct dbus_call *call, enum slm_request_kind kind,
                       enum dbus_reply_kind reply)
{
    DBusMessageIter iter;
    dbus_message_iter_init(call->message, &iter);
    struct slm_request_params p;
    slm_request_params_init(&p, kind);
    struct dbus_chat chat = {0};
    struct ipc_generation gen;
    ipc_generation_init(&gen);
    slm_error err;
    int r = 0;
    if (kind == SLM_REQ_CHAT) {
        r = dbus_args_read_messages(&iter, &chat, &err);
        p.messages = chat.messages;
        p.n_messages = chat.n;
    } else {
        const char *prompt;
        dbus_message_iter_get_basic(&iter, &prompt);
        p.text = prompt;
        p.text_len = strlen(prompt);
    }
    if (r == 0) {
        dbus_message_iter_next(&iter);
        r = dbus_args_read_options(&iter, &gen, &err);
    }
    if (r < 0) {
        dbus_reply_error(call, ipc_dbus_error_name(err.status), "%s", err.message);
    } else {
        ipc_generation_apply(&gen, &p);
        p.stream = reply == DBUS_REPLY_STREAM;
        dbus_job_submit(call, call->object, reply, &p);
    }
    ipc_generation_deinit(&gen);
    dbus_chat_deinit(&chat);
}

static void generate(struct dbus_call *call)
{
    generation(call, SLM_REQ_GENERATE, DBUS_REPLY_TEXT);
}
static void chat(struct dbus_call *call) { generation(call, SLM_REQ_CHAT, DBUS_REPLY_TEXT); }
static void start_generate(struct dbus_call *call)
{
    generation(call, SLM_REQ_GENERATE, DBUS_REPLY_STREAM);
}
static void start_chat(struct dbus_call *call)
{
    generation(call, SLM_REQ_CHAT, DBUS_REPLY_STREAM);
}

static void text_request(struct dbus_call *call, enum slm_request_kind kind,
                         enum dbus_reply_kind reply)
{
    const char *text = "";
    dbus_message_get_args(call->message, NULL, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID);
    struct slm_request_params p;
    slm_request_params_init(&p, kind);
    p.text = text;
    p.text_len = strlen(text);
    dbus_job_submit(call, call->object, reply, &p);
}

static void classify(struct dbus_call *call)
{
    text_request(call, SLM_REQ_CLASSIFY, DBUS_REPLY_LABELS);
}
static void classify_tokens(struct dbus_call *call)
{
    text_request(call, SLM_REQ_CLASSIFY_TOKENS, DBUS_REPLY_ENTITIES);
}
static void embed(struct dbus_call *call) { text_request(call, SLM_REQ_EMBED, DBUS_REPLY_EMBEDDING); }
static void tokenize(struct dbus_call *call)
{
    text_request(call, SLM_REQ_TOKENIZE, DBUS_REPLY_TOKENS);
}

static void detokenize(struct dbus_call *call)
{
    DBusMessageIter iter, array;
    dbus_message_iter_init(call->message, &iter);
    dbus_message_iter_recurse(&iter, &array);
    const dbus_uint32_t *ids = NULL;
    int n = 0;
    dbus_message_iter_get_fixed_array(&array, &ids, &n);
    if (n < 0 || (unsigned)n > DETOKENIZE_MAX_IDS) {
        dbus_reply_error(call, SLM_DBUS_ERROR_INVALID_ARGS, "at most %u token ids",
                         DETOKENIZE_MAX_IDS);
        return;
    }
    for (int i = 0; i < n; i++)
        if (ids[i] > INT32_MAX) {
            dbus_reply_error(call, SLM_DBUS_ERROR_INVALID_ARGS,
                             "token id %u is outside any vocabulary", ids[i]);
            return;
        }
    struct slm_request_params p;
    slm_request_params_init(&p, SLM_REQ_DETOKENIZE);
    /* dbus_uint32_t and int32_t have the same size, and every id is <= INT32_MAX */
    p.tokens = (const int32_t *)ids;
    p.n_tokens = (size_t)n;
    dbus_job_submit(call, call->object, DBUS_REPLY_TEXT, &p);
}

/* ---- properties ---- */

#define STATUS_OR_ZERO(s, object)                                                          \
    struct slm_model_status m;                                                             \
    model_status((s), (object), &m)

static bool put_string(DBusMessageIter *iter, const char *s)
{
    return dbus_args_append_text(iter, s, strlen(s));
}

static bool get_name(struct dbus_service *s, const char *object, DBusMessageIter *iter)
{
    return put_string(iter, object);
}

static bool get_task(struct dbus_service *s, const char *object, DBusMessageIter *iter)
{
    STATUS_OR_ZERO(s, object);
    return put_string(iter, slm_task_name(m.task));
}

static bool get_architecture(struct dbus_service *s, const char *object, DBusMessageIter *iter)
{
    STATUS_OR_ZERO(s, object);
    return put_string(iter, m.architecture);
}

static bool get_state(struct dbus_service *s, const char *object, DBusMessageIter *iter)
{
    STATUS_OR_ZERO(s, object);
    return put_string(iter, slm_model_state_name(m.state));
}

static bool get_error(struct dbus_service *s, const char *object, DBusMessageIter *iter)
{
    STATUS_OR_ZERO(s, object);
    return put_string(iter, m.error);
}

static bool get_loaded(struct dbus_service *s, const char *object, DBusMessageIter *iter)
{
    STATUS_OR_ZERO(s, object);
    dbus_bool_t loaded = m.state == SLM_MODEL_READY || m.state == SLM_MODEL_DRAINING;
    return dbus_message_iter_append_basic(iter, DBUS_TYPE_BOOLEAN, &loaded);
}

#define U32_GETTER(fn, field)                                                              \
    static bool fn(struct dbus_service *s, const char *object, DBusMessageIter *iter)      \
    {                                                                                      \
        STATUS_OR_ZERO(s, object);                                                         \
        dbus_uint32_t v = m.field;                                                         \
        return dbus_message_iter_append_basic(iter, DBUS_TYPE_UINT32, &v);                 \
    }
#define U64_GETTER(fn, field)                                                              \
    static bool fn(struct dbus_service *s, const char *object, DBusMessageIter *iter)      \
    {                                                                                      \
        STATUS_OR_ZERO(s, object);                                                         \
        dbus_uint64_t v = m.field;                                                         \
        return dbus_message_iter_append_basic(iter, DBUS_TYPE_UINT64, &v);                 \
    }

U32_GETTER(get_context, context)
U32_GETTER(get_parallel, parallel)
U32_GETTER(get_active, active_sequences)
U32_GETTER(get_queued, queued)
U64_GETTER(get_cache_hits, prompt_cache_hits)
U64_GETTER(get_prompt_tokens, prompt_tokens_total)
U64_GETTER(get_generated_tokens, generated_tokens_total)
U64_GETTER(get_weight_bytes, weight_bytes)
U64_GETTER(get_kv_bytes, kv_bytes)

static bool get_tps(struct dbus_service *s, const char *object, DBusMessageIter *iter)
{
    STATUS_OR_ZERO(s, object);
    double v = m.generate_tokens_per_second;
    return dbus_message_iter_append_basic(iter, DBUS_TYPE_DOUBLE, &v);
}

/* ---- the table ---- */

#define ARGS(...) ((const struct dbus_arg[]){__VA_ARGS__, {NULL, NULL}})

static const struct dbus_method methods[] = {
    {"Generate", ARGS({"s", "prompt"}, {"a{ss}", "options"}),
     ARGS({"s", "text"}, {"a{ss}", "info"}), generate, false},
    {"Chat", ARGS({"a(ss)", "messages"}, {"a{ss}", "options"}),
     ARGS({"s", "reply"}, {"a{ss}", "info"}), chat, false},
    {"Classify", ARGS({"s", "text"}), ARGS({"a(sd)", "labels"}), classify, false},
    {"ClassifyTokens", ARGS({"s", "text"}), ARGS({"a(suud)", "entities"}), classify_tokens,
     false},
    {"Embed", ARGS({"s", "text"}), ARGS({"ad", "embedding"}), embed, false},
    {"Tokenize", ARGS({"s", "text"}), ARGS({"au", "tokens"}), tokenize, false},
    {"Detokenize", ARGS({"au", "tokens"}), ARGS({"s", "text"}, {"a{ss}", "info"}), detokenize,
     false},
    {"StartGenerate", ARGS({"s", "prompt"}, {"a{ss}", "options"}), ARGS({"o", "request"}),
     start_generate, false},
    {"StartChat", ARGS({"a(ss)", "messages"}, {"a{ss}", "options"}), ARGS({"o", "request"}),
     start_chat, false},
};

static const struct dbus_property properties[] = {
    {"Name", "s", get_name, true},
    {"Task", "s", get_task, true},
    {"Architecture", "s", get_architecture, true},
    {"Loaded", "b", get_loaded, true},
    {"ContextLength", "u", get_context, true},
    {"State", "s", get_state, true},
    {"Error", "s", get_error, true},
    {"Parallel", "u", get_parallel, true},
    {"WeightBytes", "t", get_weight_bytes, true},
    {"KvCacheBytes", "t", get_kv_bytes, true},
    {"ActiveSequences", "u", get_active, false},
    {"QueuedRequests", "u", get_queued, false},
    {"TokensPerSecond", "d", get_tps, false},
    {"PromptCacheHits", "t", get_cache_hits, false},
    {"PromptTokens", "t", get_prompt_tokens, false},
    {"GeneratedTokens", "t", get_generated_tokens, false},
};

const struct dbus_interface dbus_model_interface = {
    .name = SLM_DBUS_MODEL_INTERFACE,
    .methods = methods,
    .n_methods = SLM_ARRAY_SIZE(methods),
    .properties = properties,
    .n_properties = SLM_ARRAY_SIZE(properties),
};
