/* slm --daemon: the client commands over D-Bus (see client.h). */
#include <dbus/dbus.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "ipc/client/dbus_client.h"
#include "ipc/common/path_escape.h"
#include "ipc/common/protocol.h"
#include "util/cleanup.h"

/* Generations and encoders answer when they are done: no timeout (Ctrl-C leaves the bus,
 * and slmd cancels the request). Management calls get the bus's usual 25 s... except
 * LoadModel, which waits for a load. */
#define CALL_TIMEOUT_MS 25000
#define LOAD_TIMEOUT_MS (10 * 60 * 1000)

struct client {
    DBusConnection *conn;
};

SLM_DEFINE_CLEANUP(DBusMessage, dbus_message_unref)

static int fail(const slm_error *err) { return cli_fail_err(err); }

/* ---- model list ---- */

struct model_row {
    char name[80], task[32], architecture[40];
    bool loaded;
};

static int list_models(struct client *c, struct model_row **rows, size_t *n)
{
    slm_error err;
    *rows = NULL;
    *n = 0;
    DBusMessage *call = dbus_message_new_method_call(SLM_DBUS_NAME, SLM_DBUS_MANAGER_PATH,
                                                     SLM_DBUS_MANAGER_INTERFACE, "ListModels");
    _cleanup_(dbus_message_unrefp) DBusMessage *reply =
        slm_dbus_client_call(c->conn, call, CALL_TIMEOUT_MS, &err);
    if (!reply)
        return fail(&err);
    DBusMessageIter iter, array, entry;
    if (!dbus_message_iter_init(reply, &iter) ||
        strcmp(dbus_message_get_signature(reply), "a(sssb)"))
        return cli_fail("ListModels answered with '%s', not a(sssb)",
                        dbus_message_get_signature(reply));
    dbus_message_iter_recurse(&iter, &array);
    size_t cap = 0;
    for (; dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT;
         dbus_message_iter_next(&array)) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            struct model_row *bigger = realloc(*rows, cap * sizeof(*bigger));
            if (!bigger)
                return cli_fail("out of memory");
            *rows = bigger;
        }
        struct model_row *r = &(*rows)[(*n)++];
        const char *name, *task, *arch;
        dbus_bool_t loaded;
        dbus_message_iter_recurse(&array, &entry);
        dbus_message_iter_get_basic(&entry, &name);
        dbus_message_iter_next(&entry);
        dbus_message_iter_get_basic(&entry, &task);
        dbus_message_iter_next(&entry);
        dbus_message_iter_get_basic(&entry, &arch);
        dbus_message_iter_next(&entry);
        dbus_message_iter_get_basic(&entry, &loaded);
        snprintf(r->name, sizeof(r->name), "%s", name);
        snprintf(r->task, sizeof(r->task), "%s", task);
        snprintf(r->architecture, sizeof(r->architecture), "%s", arch);
        r->loaded = loaded;
    }
    return 0;
}

static int dbus_list(struct client *c, bool json)
{
    _cleanup_free_ struct model_row *rows = NULL;
    size_t n;
    int r = list_models(c, &rows, &n);
    if (r)
        return r;
    if (json) {
        json_object *list = json_object_new_array();
        for (size_t i = 0; i < n; i++) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "name", json_object_new_string(rows[i].name));
            json_object_object_add(o, "task", json_object_new_string(rows[i].task));
            json_object_object_add(o, "architecture",
                                   json_object_new_string(rows[i].architecture));
            json_object_object_add(o, "loaded", json_object_new_boolean(rows[i].loaded));
            json_object_array_add(list, o);
        }
        client_print_json(list, true);
        return 0;
    }
    printf("%-24s %-15s %-14s %s\n", "MODEL", "TASK", "ARCHITECTURE", "LOADED");
    for (size_t i = 0; i < n; i++)
        printf("%-24s %-15s %-14s %s\n", rows[i].name, rows[i].task,
               rows[i].architecture[0] ? rows[i].architecture : "-",
               rows[i].loaded ? "yes" : "no");
    return 0;
}

/* ---- ps ---- */

struct model_stats {
    char state[24];
    uint32_t active, parallel, queued;
    double tps;
    uint64_t cache_hits, generated;
};

static void read_property(DBusMessageIter *dict_entry, struct model_stats *s)
{
    const char *key;
    DBusMessageIter variant;
    dbus_message_iter_get_basic(dict_entry, &key);
    dbus_message_iter_next(dict_entry);
    dbus_message_iter_recurse(dict_entry, &variant);
    int type = dbus_message_iter_get_arg_type(&variant);
    if (type == DBUS_TYPE_STRING && !strcmp(key, "State")) {
        const char *v;
        dbus_message_iter_get_basic(&variant, &v);
        snprintf(s->state, sizeof(s->state), "%s", v);
    } else if (type == DBUS_TYPE_UINT32) {
        dbus_uint32_t v;
        dbus_message_iter_get_basic(&variant, &v);
        if (!strcmp(key, "ActiveSequences"))
            s->active = v;
        else if (!strcmp(key, "Parallel"))
            s->parallel = v;
        else if (!strcmp(key, "QueuedRequests"))
            s->queued = v;
    } else if (type == DBUS_TYPE_UINT64) {
        dbus_uint64_t v;
        dbus_message_iter_get_basic(&variant, &v);
        if (!strcmp(key, "PromptCacheHits"))
            s->cache_hits = v;
        else if (!strcmp(key, "GeneratedTokens"))
            s->generated = v;
    } else if (type == DBUS_TYPE_DOUBLE && !strcmp(key, "TokensPerSecond")) {
        dbus_message_iter_get_basic(&variant, &s->tps);
    }
}

static int model_stats(struct client *c, const char *model, struct model_stats *s)
{
    char path[SLM_DBUS_PATH_MAX];
    memset(s, 0, sizeof(*s));
    if (!slm_model_object_path(model, path, sizeof(path)))
        return cli_fail("model name too long: %s", model);
    DBusMessage *call = dbus_message_new_method_call(SLM_DBUS_NAME, path,
                                                     DBUS_INTERFACE_PROPERTIES, "GetAll");
    const char *iface = SLM_DBUS_MODEL_INTERFACE;
    if (call)
        dbus_message_append_args(call, DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID);
    slm_error err;
    _cleanup_(dbus_message_unrefp) DBusMessage *reply =
        slm_dbus_client_call(c->conn, call, CALL_TIMEOUT_MS, &err);
    if (!reply)
        return fail(&err);
    DBusMessageIter iter, array, entry;
    if (!dbus_message_iter_init(reply, &iter) ||
        dbus_message_iter_get_arg_type(&iter) != DBUS_TYPE_ARRAY)
        return cli_fail("GetAll answered with '%s'", dbus_message_get_signature(reply));
    dbus_message_iter_recurse(&iter, &array);
    for (; dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_DICT_ENTRY;
         dbus_message_iter_next(&array)) {
        dbus_message_iter_recurse(&array, &entry);
        read_property(&entry, s);
    }
    return 0;
}

static int dbus_ps(struct client *c, bool json)
{
    _cleanup_free_ struct model_row *rows = NULL;
    size_t n;
    int r = list_models(c, &rows, &n);
    if (r)
        return r;
    json_object *list = json ? json_object_new_array() : NULL;
    if (!json)
        printf("%-24s %-9s %-8s %-7s %-9s %-10s %s\n", "MODEL", "STATE", "ACTIVE", "QUEUED",
               "TOKENS/S", "CACHE-HITS", "GENERATED");
    for (size_t i = 0; i < n; i++) {
        struct model_stats s;
        if ((r = model_stats(c, rows[i].name, &s))) {
            json_object_put(list);
            return r;
        }
        if (json) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "name", json_object_new_string(rows[i].name));
            json_object_object_add(o, "state", json_object_new_string(s.state));
            json_object_object_add(o, "active_sequences", json_object_new_int64(s.active));
            json_object_object_add(o, "parallel", json_object_new_int64(s.parallel));
            json_object_object_add(o, "queued_requests", json_object_new_int64(s.queued));
            json_object_object_add(o, "tokens_per_second",
                                   json_object_new_double(isfinite(s.tps) ? s.tps : 0.0));
            json_object_object_add(o, "prompt_cache_hits",
                                   json_object_new_int64((int64_t)s.cache_hits));
            json_object_object_add(o, "generated_tokens",
                                   json_object_new_int64((int64_t)s.generated));
            json_object_array_add(list, o);
            continue;
        }
        char active[24];
        snprintf(active, sizeof(active), "%u/%u", s.active, s.parallel);
        printf("%-24s %-9s %-8s %-7u %-9.1f %-10llu %llu\n", rows[i].name, s.state, active,
               s.queued, s.tps, (unsigned long long)s.cache_hits,
               (unsigned long long)s.generated);
    }
    if (json)
        client_print_json(list, true);
    return 0;
}

/* ---- load / unload ---- */

static int dbus_load(struct client *c, const char *model, bool unload)
{
    DBusMessage *call = dbus_message_new_method_call(SLM_DBUS_NAME, SLM_DBUS_MANAGER_PATH,
                                                     SLM_DBUS_MANAGER_INTERFACE,
                                                     unload ? "UnloadModel" : "LoadModel");
    if (call)
        dbus_message_append_args(call, DBUS_TYPE_STRING, &model, DBUS_TYPE_INVALID);
    slm_error err;
    _cleanup_(dbus_message_unrefp) DBusMessage *reply =
        slm_dbus_client_call(c->conn, call, LOAD_TIMEOUT_MS, &err);
    return reply ? 0 : fail(&err);
}

/* ---- generation ---- */

static bool append_options(DBusMessageIter *iter, const struct client_generation *g)
{
    DBusMessageIter dict, entry;
    if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "{ss}", &dict))
        return false;
    for (size_t i = 0; i < g->n_options; i++) {
        if (!dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry) ||
            !dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &g->options[i].key) ||
            !dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &g->options[i].value) ||
            !dbus_message_iter_close_container(&dict, &entry))
            return false;
    }
    return dbus_message_iter_close_container(iter, &dict);
}

static bool append_messages(DBusMessageIter *iter, const struct client_generation *g)
{
    DBusMessageIter array, entry;
    if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "(ss)", &array))
        return false;
    for (size_t i = 0; i < g->n_messages; i++) {
        if (!dbus_message_iter_open_container(&array, DBUS_TYPE_STRUCT, NULL, &entry) ||
            !dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &g->messages[i].role) ||
            !dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING,
                                            &g->messages[i].content) ||
            !dbus_message_iter_close_container(&array, &entry))
            return false;
    }
    return dbus_message_iter_close_container(iter, &array);
}

static void on_piece(void *userdata, const char *piece)
{
    size_t len = strlen(piece);
    client_print_piece(piece, len);
    slm_buf_append(userdata, piece, len);
}

static int dbus_generate(struct client *c, const struct client_generation *g,
                         struct slm_buf *text)
{
    bool chat = g->messages != NULL;
    const char *method = g->stream ? (chat ? "StartChat" : "StartGenerate")
                                   : (chat ? "Chat" : "Generate");
    DBusMessage *call = slm_dbus_client_model_call(g->model, method);
    DBusMessageIter iter;
    bool ok = call != NULL;
    if (ok) {
        dbus_message_iter_init_append(call, &iter);
        ok = chat ? append_messages(&iter, g)
                  : dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &g->prompt);
        ok = ok && append_options(&iter, g);
    }
    if (!ok) {
        if (call)
            dbus_message_unref(call);
        return cli_fail("out of memory");
    }
    slm_error err;
    _cleanup_(dbus_message_unrefp) DBusMessage *reply =
        slm_dbus_client_call(c->conn, call, -1, &err);
    if (!reply)
        return fail(&err);
    if (!g->stream) {
        const char *s = "";
        DBusMessageIter r;
        if (dbus_message_iter_init(reply, &r) &&
            dbus_message_iter_get_arg_type(&r) == DBUS_TYPE_STRING)
            dbus_message_iter_get_basic(&r, &s);
        slm_buf_puts(text, s);
        return 0;
    }
    const char *path = NULL;
    if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID))
        return cli_fail("%s answered with '%s', not an object path", method,
                        dbus_message_get_signature(reply));
    if (slm_dbus_client_follow(c->conn, path, on_piece, text, NULL, &err) < 0)
        return fail(&err);
    return 0;
}

/* ---- classify / embed ---- */

static int model_task(struct client *c, const char *model, char *task, size_t cap)
{
    char path[SLM_DBUS_PATH_MAX];
    if (!slm_model_object_path(model, path, sizeof(path)))
        return cli_fail("model name too long: %s", model);
    DBusMessage *call = dbus_message_new_method_call(SLM_DBUS_NAME, path,
                                                     DBUS_INTERFACE_PROPERTIES, "Get");
    const char *iface = SLM_DBUS_MODEL_INTERFACE, *prop = "Task";
    if (call)
        dbus_message_append_args(call, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING, &prop,
                                 DBUS_TYPE_INVALID);
    slm_error err;
    _cleanup_(dbus_message_unrefp) DBusMessage *reply =
        slm_dbus_client_call(c->conn, call, CALL_TIMEOUT_MS, &err);
    if (!reply)
        return fail(&err);
    DBusMessageIter iter, variant;
    const char *value = "";
    if (dbus_message_iter_init(reply, &iter) &&
        dbus_message_iter_get_arg_type(&iter) == DBUS_TYPE_VARIANT) {
        dbus_message_iter_recurse(&iter, &variant);
        if (dbus_message_iter_get_arg_type(&variant) == DBUS_TYPE_STRING)
            dbus_message_iter_get_basic(&variant, &value);
    }
    snprintf(task, cap, "%s", value);
    return 0;
}

static DBusMessage *text_call(struct client *c, const char *model, const char *method,
                              const char *text, slm_error *err)
{
    DBusMessage *call = slm_dbus_client_model_call(model, method);
    if (call)
        dbus_message_append_args(call, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID);
    return slm_dbus_client_call(c->conn, call, -1, err);
}

/* One text's labels: "LABEL<TAB>SCORE" for the best, or a JSON object. */
static json_object *labels_result(DBusMessage *reply, const char *text, bool json)
{
    DBusMessageIter iter, array, entry;
    dbus_message_iter_init(reply, &iter);
    dbus_message_iter_recurse(&iter, &array);
    json_object *o = json ? json_object_new_object() : NULL;
    json_object *all = json ? json_object_new_array() : NULL;
    bool first = true;
    for (; dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT;
         dbus_message_iter_next(&array)) {
        const char *label;
        double score;
        dbus_message_iter_recurse(&array, &entry);
        dbus_message_iter_get_basic(&entry, &label);
        dbus_message_iter_next(&entry);
        dbus_message_iter_get_basic(&entry, &score);
        if (first && !json)
            printf("%s\t%.4f\n", label, score);
        if (first && json) {
            json_object_object_add(o, "text", json_object_new_string(text));
            json_object_object_add(o, "label", json_object_new_string(label));
            json_object_object_add(o, "score", json_object_new_double(score));
        }
        if (json) {
            json_object *l = json_object_new_object();
            json_object_object_add(l, "label", json_object_new_string(label));
            json_object_object_add(l, "score", json_object_new_double(score));
            json_object_array_add(all, l);
        }
        first = false;
    }
    if (json)
        json_object_object_add(o, "labels", all);
    return o;
}

/* One text's entities: "LABEL<TAB>START<TAB>END<TAB>SCORE<TAB>TEXT" lines, or JSON. */
static json_object *entities_result(DBusMessage *reply, const char *text, bool json,
                                    bool first_text)
{
    DBusMessageIter iter, array, entry;
    dbus_message_iter_init(reply, &iter);
    dbus_message_iter_recurse(&iter, &array);
    size_t len = strlen(text);
    json_object *o = json ? json_object_new_object() : NULL;
    json_object *items = json ? json_object_new_array() : NULL;
    if (!json && !first_text)
        printf("\n");
    for (; dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT;
         dbus_message_iter_next(&array)) {
        const char *label;
        dbus_uint32_t start, end;
        double score;
        dbus_message_iter_recurse(&array, &entry);
        dbus_message_iter_get_basic(&entry, &label);
        dbus_message_iter_next(&entry);
        dbus_message_iter_get_basic(&entry, &start);
        dbus_message_iter_next(&entry);
        dbus_message_iter_get_basic(&entry, &end);
        dbus_message_iter_next(&entry);
        dbus_message_iter_get_basic(&entry, &score);
        if (start > end || end > len)
            start = end = 0;
        if (!json) {
            printf("%s\t%u\t%u\t%.4f\t%.*s\n", label, start, end, score, (int)(end - start),
                   text + start);
            continue;
        }
        json_object *j = json_object_new_object();
        json_object_object_add(j, "label", json_object_new_string(label));
        json_object_object_add(j, "start", json_object_new_int64(start));
        json_object_object_add(j, "end", json_object_new_int64(end));
        json_object_object_add(j, "score", json_object_new_double(score));
        json_object_object_add(j, "text", json_object_new_string_len(text + start,
                                                                      (int)(end - start)));
        json_object_array_add(items, j);
    }
    if (json) {
        json_object_object_add(o, "text", json_object_new_string(text));
        json_object_object_add(o, "entities", items);
    }
    return o;
}

static int dbus_classify(struct client *c, const struct client_texts *t)
{
    char task[32];
    int r = model_task(c, t->model, task, sizeof(task));
    if (r)
        return r;
    json_object *list = t->json ? json_object_new_array() : NULL;
    for (size_t i = 0; i < t->n; i++) {
        bool tokens = !strcmp(task, "token-classify");
        slm_error err;
        DBusMessage *reply =
            text_call(c, t->model, tokens ? "ClassifyTokens" : "Classify", t->texts[i], &err);
        if (!reply && !tokens && model_task(c, t->model, task, sizeof(task)) == 0 &&
            !strcmp(task, "token-classify")) {
            tokens = true; /* the model was not loaded before: now its task is known */
            reply = text_call(c, t->model, "ClassifyTokens", t->texts[i], &err);
        }
        if (!reply) {
            json_object_put(list);
            return fail(&err);
        }
        json_object *one = tokens ? entities_result(reply, t->texts[i], t->json, i == 0)
                                  : labels_result(reply, t->texts[i], t->json);
        if (list)
            json_object_array_add(list, one);
        dbus_message_unref(reply);
    }
    if (list)
        client_print_json(list, true);
    return 0;
}

static int dbus_embed(struct client *c, const struct client_texts *t)
{
    json_object *list = t->json ? json_object_new_array() : NULL;
    for (size_t i = 0; i < t->n; i++) {
        slm_error err;
        _cleanup_(dbus_message_unrefp) DBusMessage *reply =
            text_call(c, t->model, "Embed", t->texts[i], &err);
        if (!reply) {
            json_object_put(list);
            return fail(&err);
        }
        DBusMessageIter iter, array;
        dbus_message_iter_init(reply, &iter);
        dbus_message_iter_recurse(&iter, &array);
        const double *v = NULL;
        int n = 0;
        dbus_message_iter_get_fixed_array(&array, &v, &n);
        _cleanup_free_ float *f = malloc((n > 0 ? (size_t)n : 1) * sizeof(float));
        if (!f) {
            json_object_put(list);
            return cli_fail("out of memory");
        }
        double norm = 0;
        for (int k = 0; k < n; k++)
            norm += v[k] * v[k];
        /* Embed(s) takes no options: --normalize is applied here */
        double scale = t->normalize && norm > 0 ? 1.0 / sqrt(norm) : 1.0;
        for (int k = 0; k < n; k++)
            f[k] = (float)(v[k] * scale);
        if (!list) {
            client_print_embedding(f, (size_t)n);
            continue;
        }
        json_object *o = json_object_new_object(), *vec = json_object_new_array();
        for (int k = 0; k < n; k++)
            json_object_array_add(vec, json_object_new_double(f[k]));
        json_object_object_add(o, "text", json_object_new_string(t->texts[i]));
        json_object_object_add(o, "embedding", vec);
        json_object_array_add(list, o);
    }
    if (list)
        client_print_json(list, false);
    return 0;
}

static void dbus_close(struct client *c)
{
    slm_dbus_client_close(c->conn);
    free(c);
}

static const struct client_backend backend = {
    .list = dbus_list,
    .ps = dbus_ps,
    .load = dbus_load,
    .generate = dbus_generate,
    .classify = dbus_classify,
    .embed = dbus_embed,
    .close = dbus_close,
};

struct client *client_dbus_open(const char *bus, const struct client_backend **ops)
{
    slm_error err;
    struct client *c = calloc(1, sizeof(*c));
    if (!c) {
        cli_fail("out of memory");
        return NULL;
    }
    c->conn = slm_dbus_client_connect(bus, &err);
    if (!c->conn) {
        free(c);
        cli_fail_err(&err);
        return NULL;
    }
    *ops = &backend;
    return c;
}
