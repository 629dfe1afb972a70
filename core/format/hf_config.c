/* config.json and sentence-transformers modules; see hf_config.h. */
#include "format/hf_config.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/checked.h"
#include "util/cleanup.h"

/* A config nests three levels at most (id2label inside the top object); modules.json two. */
#define HF_JSON_MAX_DEPTH 16
/* modules.json and 1_Pooling/config.json are a few hundred bytes. */
#define HF_MODULES_MAX_BYTES (1u << 20)

SLM_DEFINE_CLEANUP(json_object, json_object_put)

int hf_read_small_file(const char *path, size_t limit, char **out, size_t *len,
                       slm_error *err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return slm_errorf(err, errno == ENOENT ? SLM_ERR_NOT_FOUND : SLM_ERR_IO, "%s: %s", path,
                          strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0)
        return slm_errorf(err, SLM_ERR_IO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return slm_errorf(err, SLM_ERR_IO, "%s: not a regular file", path);
    if ((uint64_t)st.st_size > limit)
        return slm_errorf(err, SLM_ERR_LIMIT, "%s: %lld bytes is larger than the %zu bytes such "
                          "a file may have", path, (long long)st.st_size, limit);
    size_t size = (size_t)st.st_size;
    _cleanup_free_ char *buf = malloc(size + 1);
    if (!buf)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", path);
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return slm_errorf(err, SLM_ERR_IO, "%s: %s", path, strerror(errno));
        if (r == 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    *out = TAKE_PTR(buf);
    *len = got;
    return 0;
}

static int parse_json(const char *text, size_t len, const char *name, json_object **out,
                      slm_error *err)
{
    if (len > INT32_MAX)
        return slm_errorf(err, SLM_ERR_LIMIT, "%s: too large", name);
    json_tokener *tok = json_tokener_new_ex(HF_JSON_MAX_DEPTH);
    if (!tok)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", name);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!root || jerr != json_tokener_success) {
        json_object_put(root);
        if (jerr == json_tokener_continue || jerr == json_tokener_success)
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: not a complete JSON document", name);
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: invalid JSON near byte %zu: %s", name, end,
                          json_tokener_error_desc(jerr));
    }
    for (size_t i = end; i < len; i++) {
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r') {
            json_object_put(root);
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: unexpected bytes after the JSON "
                              "document at byte %zu", name, i);
        }
    }
    *out = root;
    return 0;
}

/* ---- config.json ---- */

struct arch_row {
    const char *name;
    enum hf_model_type type;
    enum slm_encoder_head head;
};

static const struct arch_row arch_rows[] = {
    {"DistilBertModel", HF_MODEL_DISTILBERT, SLM_HEAD_NONE},
    {"DistilBertForSequenceClassification", HF_MODEL_DISTILBERT, SLM_HEAD_SEQUENCE_CLASS},
    {"DistilBertForTokenClassification", HF_MODEL_DISTILBERT, SLM_HEAD_TOKEN_CLASS},
    {"BertModel", HF_MODEL_BERT, SLM_HEAD_NONE},
    {"BertForSequenceClassification", HF_MODEL_BERT, SLM_HEAD_SEQUENCE_CLASS},
    {"BertForTokenClassification", HF_MODEL_BERT, SLM_HEAD_TOKEN_CLASS},
};

/* The keys each model type uses for the same quantity, and Hugging Face's class default
 * for a key the file leaves out (save_pretrained omits nothing we need, but hand-written
 * configs do). */
struct dims_keys {
    const char *embd, *layers, *heads, *ff, *act;
    uint32_t embd_default, layers_default, heads_default, ff_default;
};

static const struct dims_keys distilbert_keys = {"dim", "n_layers", "n_heads", "hidden_dim",
                                                 "activation", 768, 6, 12, 3072};
static const struct dims_keys bert_keys = {"hidden_size", "num_hidden_layers",
                                           "num_attention_heads", "intermediate_size",
                                           "hidden_act", 768, 12, 12, 3072};

/* Both BERT and DistilBERT use this epsilon unless the config says otherwise. */
#define HF_DEFAULT_LAYER_NORM_EPS 1e-12f
#define HF_DEFAULT_VOCAB 30522u
#define HF_DEFAULT_POSITIONS 512u
#define HF_DEFAULT_TOKEN_TYPES 2u

static int get_u32(json_object *root, const char *name, const char *key, uint32_t def,
                   uint32_t lo, uint32_t hi, uint32_t *out, slm_error *err)
{
    json_object *v;
    if (!json_object_object_get_ex(root, key, &v)) {
        *out = def;
        return 0;
    }
    if (!json_object_is_type(v, json_type_int))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: %s: expected an integer", name, key);
    int64_t x = json_object_get_int64(v);
    if (x < (int64_t)lo || x > (int64_t)hi)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: %s: %lld is out of range (%u to %u)", name,
                          key, (long long)x, lo, hi);
    *out = (uint32_t)x;
    return 0;
}

static int get_str(json_object *root, const char *name, const char *key, const char **out,
                   slm_error *err)
{
    json_object *v;
    *out = NULL;
    if (!json_object_object_get_ex(root, key, &v) || json_object_is_type(v, json_type_null))
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: %s: expected a string", name, key);
    *out = json_object_get_string(v);
    return 0;
}

static int parse_model_type(json_object *root, const char *name, struct hf_config *c,
                            slm_error *err)
{
    const char *type;
    int r = get_str(root, name, "model_type", &type, err);
    if (r < 0)
        return r;
    if (!type)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: model_type is missing", name);
    if (strcmp(type, "distilbert") == 0)
        c->model_type = HF_MODEL_DISTILBERT;
    else if (strcmp(type, "bert") == 0)
        c->model_type = HF_MODEL_BERT;
    else
        return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: model_type '%.64s' is not supported "
                          "(slmd runs distilbert and bert directories)", name, type);
    return 0;
}

static int parse_architecture(json_object *root, const char *name, struct hf_config *c,
                              slm_error *err)
{
    json_object *list;
    c->head = SLM_HEAD_NONE;
    c->architecture = c->model_type == HF_MODEL_DISTILBERT ? "DistilBertModel" : "BertModel";
    if (!json_object_object_get_ex(root, "architectures", &list) ||
        json_object_is_type(list, json_type_null))
        return 0;
    if (!json_object_is_type(list, json_type_array) || json_object_array_length(list) != 1 ||
        !json_object_is_type(json_object_array_get_idx(list, 0), json_type_string))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: architectures: expected a list of one "
                          "name", name);
    const char *arch = json_object_get_string(json_object_array_get_idx(list, 0));
    for (size_t i = 0; i < SLM_ARRAY_SIZE(arch_rows); i++) {
        if (strcmp(arch_rows[i].name, arch) != 0)
            continue;
        if (arch_rows[i].type != c->model_type)
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: architecture %s does not belong to "
                              "model_type %s", name, arch,
                              c->model_type == HF_MODEL_BERT ? "bert" : "distilbert");
        c->architecture = arch_rows[i].name;
        c->head = arch_rows[i].head;
        return 0;
    }
    return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: architecture '%.80s' is not supported "
                      "(slmd runs DistilBertModel, DistilBertForSequenceClassification, "
                      "DistilBertForTokenClassification, BertModel, "
                      "BertForSequenceClassification, BertForTokenClassification)", name, arch);
}

static int parse_dims(json_object *root, const char *name, struct hf_config *c, slm_error *err)
{
    const struct dims_keys *k = c->model_type == HF_MODEL_BERT ? &bert_keys : &distilbert_keys;
    int r;
    if ((r = get_u32(root, name, k->embd, k->embd_default, 1, SLM_MAX_EMBD, &c->n_embd,
                     err)) < 0 ||
        (r = get_u32(root, name, k->layers, k->layers_default, 1, SLM_MAX_LAYERS, &c->n_layer,
                     err)) < 0 ||
        (r = get_u32(root, name, k->heads, k->heads_default, 1, SLM_MAX_HEADS, &c->n_head,
                     err)) < 0 ||
        (r = get_u32(root, name, k->ff, k->ff_default, 1, HF_MAX_FF, &c->n_ff, err)) < 0 ||
        (r = get_u32(root, name, "vocab_size", HF_DEFAULT_VOCAB, 1, SLM_MAX_VOCAB, &c->n_vocab,
                     err)) < 0 ||
        (r = get_u32(root, name, "max_position_embeddings", HF_DEFAULT_POSITIONS, 1,
                     HF_MAX_POSITIONS, &c->n_pos, err)) < 0)
        return r;
    if (c->model_type == HF_MODEL_BERT &&
        (r = get_u32(root, name, "type_vocab_size", HF_DEFAULT_TOKEN_TYPES, 1,
                     HF_MAX_TOKEN_TYPES, &c->n_token_types, err)) < 0)
        return r;
    if (c->n_embd % c->n_head)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: %s %u is not a multiple of %s %u", name,
                          k->embd, c->n_embd, k->heads, c->n_head);

    c->layer_norm_eps = HF_DEFAULT_LAYER_NORM_EPS;
    json_object *v;
    if (json_object_object_get_ex(root, "layer_norm_eps", &v)) {
        if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: layer_norm_eps: expected a number",
                              name);
        double eps = json_object_get_double(v);
        if (!(eps > 0 && eps < 1))
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: layer_norm_eps: %g is out of range "
                              "(0 to 1, exclusive)", name, eps);
        c->layer_norm_eps = (float)eps;
    }

    const char *act;
    if ((r = get_str(root, name, k->act, &act, err)) < 0)
        return r;
    if (!act || strcmp(act, "gelu") == 0)
        c->activation = HF_ACT_GELU;
    else if (strcmp(act, "gelu_new") == 0 || strcmp(act, "gelu_pytorch_tanh") == 0)
        c->activation = HF_ACT_GELU_TANH;
    else if (strcmp(act, "relu") == 0)
        c->activation = HF_ACT_RELU;
    else
        return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: %s '%.64s' is not supported (gelu, "
                          "gelu_new, gelu_pytorch_tanh, relu)", name, k->act, act);
    return 0;
}

/* A decimal label id without sign or leading zeros. */
static bool parse_label_id(const char *s, uint32_t *out)
{
    if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 9)
        return false;
    uint32_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (uint32_t)(*s - '0');
    }
    *out = v;
    return true;
}

static int parse_labels(json_object *root, const char *name, struct hf_config *c,
                        slm_error *err)
{
    json_object *map;
    if (!json_object_object_get_ex(root, "id2label", &map) ||
        json_object_is_type(map, json_type_null))
        return 0;
    if (!json_object_is_type(map, json_type_object))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: id2label: expected an object", name);
    size_t n = (size_t)json_object_object_length(map);
    if (n == 0)
        return 0;
    if (n > SLM_MAX_LABELS)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: id2label: %zu labels (at most %u)", name, n,
                          SLM_MAX_LABELS);
    c->labels = calloc(n, sizeof(*c->labels));
    if (!c->labels)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", name);
    c->n_labels = (uint32_t)n;
    json_object_object_foreach(map, key, val)
    {
        uint32_t id;
        if (!parse_label_id(key, &id) || id >= n)
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: id2label: key '%.32s' is not a label id "
                              "from 0 to %zu (ids must be 0..n-1)", name, key, n - 1);
        if (!json_object_is_type(val, json_type_string))
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: id2label: label %u is not a string",
                              name, id);
        const char *label = json_object_get_string(val);
        size_t len = (size_t)json_object_get_string_len(val);
        if (len == 0 || len > HF_MAX_LABEL_BYTES || strlen(label) != len)
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: id2label: label %u is empty, longer than "
                              "%u bytes or holds a NUL", name, id, HF_MAX_LABEL_BYTES);
        if (c->labels[id])
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: id2label: id %u appears twice", name,
                              id);
        if (!(c->labels[id] = strdup(label)))
            return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", name);
    }
    /* n distinct ids all below n: every id from 0 to n-1 is present */
    return 0;
}

int hf_config_parse(const char *json, size_t len, const char *name, struct hf_config *out,
                    slm_error *err)
{
    memset(out, 0, sizeof(*out));
    _cleanup_(json_object_putp) json_object *root = NULL;
    int r = parse_json(json, len, name, &root, err);
    if (r < 0)
        return r;
    if (!json_object_is_type(root, json_type_object))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: expected a JSON object", name);
    if ((r = parse_model_type(root, name, out, err)) < 0 ||
        (r = parse_architecture(root, name, out, err)) < 0 ||
        (r = parse_dims(root, name, out, err)) < 0 ||
        (r = parse_labels(root, name, out, err)) < 0) {
        hf_config_deinit(out);
        return r;
    }
    return 0;
}

int hf_config_load(const char *path, struct hf_config *out, slm_error *err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = hf_read_small_file(path, HF_CONFIG_MAX_BYTES, &text, &len, err);
    if (r < 0)
        return r;
    return hf_config_parse(text, len, path, out, err);
}

void hf_config_deinit(struct hf_config *c)
{
    for (uint32_t i = 0; c->labels && i < c->n_labels; i++)
        free(c->labels[i]);
    free(c->labels);
    c->labels = NULL;
    c->n_labels = 0;
}

/* ---- sentence-transformers ---- */

#define ST_PREFIX "sentence_transformers.models."

static int modules_from_list(const char *json, size_t len, const char *name,
                             struct hf_sentence_config *out, char **pooling_path,
                             slm_error *err)
{
    _cleanup_(json_object_putp) json_object *root = NULL;
    int r = parse_json(json, len, name, &root, err);
    if (r < 0)
        return r;
    if (!json_object_is_type(root, json_type_array))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: expected a list of modules", name);
    out->present = true;
    size_t n = json_object_array_length(root);
    bool have_transformer = false;
    for (size_t i = 0; i < n; i++) {
        json_object *mod = json_object_array_get_idx(root, i);
        const char *type = NULL, *path = NULL;
        if (!json_object_is_type(mod, json_type_object) ||
            get_str(mod, name, "type", &type, err) < 0 ||
            get_str(mod, name, "path", &path, err) < 0 || !type || !path)
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: module %zu: expected an object with "
                              "string \"type\" and \"path\"", name, i);
        const char *kind = strncmp(type, ST_PREFIX, strlen(ST_PREFIX)) == 0
                               ? type + strlen(ST_PREFIX)
                               : type;
        /* paths stay inside the model directory */
        if (path[0] == '/' || strstr(path, ".."))
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: module %zu: path '%.64s' leaves the "
                              "model directory", name, i, path);
        if (strcmp(kind, "Transformer") == 0 && !have_transformer && i == 0) {
            have_transformer = true;
            free(out->transformer_path);
            if (!(out->transformer_path = strdup(path)))
                return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", name);
        } else if (strcmp(kind, "Pooling") == 0 && have_transformer && !*pooling_path &&
                   !out->normalize) {
            if (!(*pooling_path = strdup(path)))
                return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", name);
        } else if (strcmp(kind, "Normalize") == 0 && *pooling_path && i + 1 == n) {
            out->normalize = true;
        } else {
            return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: module %zu (%.80s) is not "
                              "supported here: slmd runs Transformer, then Pooling, then "
                              "optionally Normalize", name, i, type);
        }
    }
    if (!have_transformer)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: no Transformer module first", name);
    return 0;
}

int hf_modules_parse(const char *json, size_t len, const char *name,
                     struct hf_sentence_config *out, char **pooling_path, slm_error *err)
{
    memset(out, 0, sizeof(*out));
    *pooling_path = NULL;
    int r = modules_from_list(json, len, name, out, pooling_path, err);
    if (r < 0) {
        free(*pooling_path);
        *pooling_path = NULL;
        hf_sentence_config_deinit(out);
    }
    return r;
}

int hf_pooling_parse(const char *json, size_t len, const char *name, enum slm_pooling *out,
                     slm_error *err)
{
    static const struct {
        const char *key;
        enum slm_pooling pooling; /* SLM_POOL_NONE: a mode slmd does not implement */
    } modes[] = {
        {"pooling_mode_cls_token", SLM_POOL_CLS},
        {"pooling_mode_mean_tokens", SLM_POOL_MEAN},
        {"pooling_mode_max_tokens", SLM_POOL_MAX},
        {"pooling_mode_lasttoken", SLM_POOL_LAST},
        {"pooling_mode_mean_sqrt_len_tokens", SLM_POOL_NONE},
        {"pooling_mode_weightedmean_tokens", SLM_POOL_NONE},
    };
    _cleanup_(json_object_putp) json_object *root = NULL;
    int r = parse_json(json, len, name, &root, err);
    if (r < 0)
        return r;
    if (!json_object_is_type(root, json_type_object))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: expected a JSON object", name);
    int chosen = -1;
    for (size_t i = 0; i < SLM_ARRAY_SIZE(modes); i++) {
        json_object *v;
        if (!json_object_object_get_ex(root, modes[i].key, &v))
            continue;
        if (!json_object_is_type(v, json_type_boolean))
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: %s: expected true or false", name,
                              modes[i].key);
        if (!json_object_get_boolean(v))
            continue;
        if (chosen >= 0)
            return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: %s and %s are both set: "
                              "concatenated poolings are not supported", name,
                              modes[chosen].key, modes[i].key);
        chosen = (int)i;
    }
    if (chosen < 0)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: no pooling mode is set", name);
    if (modes[chosen].pooling == SLM_POOL_NONE)
        return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: %s is not supported (cls, mean, max, "
                          "last token)", name, modes[chosen].key);
    *out = modes[chosen].pooling;
    return 0;
}

int hf_sentence_config_load(const char *dir, struct hf_sentence_config *out, slm_error *err)
{
    memset(out, 0, sizeof(*out));
    _cleanup_free_ char *path = NULL, *text = NULL, *pooling_dir = NULL;
    size_t len;
    if (asprintf(&path, "%s/modules.json", dir) < 0) {
        path = NULL;
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", dir);
    }
    int r = hf_read_small_file(path, HF_MODULES_MAX_BYTES, &text, &len, err);
    if (r == -SLM_ERR_NOT_FOUND)
        return 0;
    if (r < 0 || (r = hf_modules_parse(text, len, path, out, &pooling_dir, err)) < 0)
        return r;
    if (!pooling_dir)
        return 0;
    free(path);
    free(text);
    text = NULL;
    if (asprintf(&path, "%s/%s/config.json", dir, pooling_dir) < 0) {
        path = NULL;
        hf_sentence_config_deinit(out);
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", dir);
    }
    if ((r = hf_read_small_file(path, HF_MODULES_MAX_BYTES, &text, &len, err)) < 0 ||
        (r = hf_pooling_parse(text, len, path, &out->pooling, err)) < 0) {
        hf_sentence_config_deinit(out);
        return r;
    }
    return 0;
}

void hf_sentence_config_deinit(struct hf_sentence_config *sc)
{
    free(sc->transformer_path);
    sc->transformer_path = NULL;
}
