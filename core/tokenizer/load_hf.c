/* WordPiece tokenizers from a Hugging Face model directory: tokenizer.json (preferred, it
 * is what the fast tokenizer runs), or vocab.txt with tokenizer_config.json.
 *
 * The behaviour reproduced is the tokenizers library's (BertNormalizer, BertPreTokenizer,
 * WordPiece, [CLS] ... [SEP]); see tok_wordpiece.c. Decisions:
 *  - a vocab.txt line is a token with trailing ASCII white space removed; a text present
 *    twice is an error (lookup would be ambiguous; the library silently keeps the last);
 *  - tokenizer.json ids must cover 0..n-1 exactly once (added tokens may repeat a
 *    vocabulary entry with the same id);
 *  - added tokens are matched in the raw text (before normalization); special ones only
 *    when the caller asks for special-token parsing, like GGUF control tokens;
 *  - normalizers and pre-tokenizers other than BERT's are refused with a clear error. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tokenizer/tok_internal.h"
#include "util/checked.h"
#include "util/cleanup.h"

/* Bounds for files from a model directory: the largest real tokenizer.json files are
 * ~20 MB (250k-token vocabularies with merges). */
#define HF_MAX_FILE_BYTES (64u << 20)
#define HF_DEFAULT_MAX_CHARS_PER_WORD 100u

static void json_putp(struct json_object **o)
{
    if (*o)
        json_object_put(*o);
}

/* Reads a whole file of at most HF_MAX_FILE_BYTES; -SLM_ERR_NOT_FOUND if absent. */
static int read_file(const char *path, char **data, size_t *size, slm_error *err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return -SLM_ERR_NOT_FOUND;
        return slm_errorf(err, SLM_ERR_IO, "%s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) < 0)
        return slm_errorf(err, SLM_ERR_IO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return slm_errorf(err, SLM_ERR_IO, "%s: not a regular file", path);
    if ((uint64_t)st.st_size > HF_MAX_FILE_BYTES)
        return slm_errorf(err, SLM_ERR_LIMIT, "%s: %lld bytes (limit %u)", path,
                          (long long)st.st_size, HF_MAX_FILE_BYTES);
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", path);
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            free(buf);
            return slm_errorf(err, SLM_ERR_IO, "%s: %s", path,
                              k < 0 ? strerror(errno) : "file shrank while reading");
        }
        got += (size_t)k;
    }
    buf[n] = '\0';
    *data = buf;
    *size = n;
    return 0;
}

static int parse_json(const char *path, const char *data, size_t size, struct json_object **out,
                      slm_error *err)
{
    struct json_tokener *t = json_tokener_new();
    if (!t)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", path);
    struct json_object *o = json_tokener_parse_ex(t, data, (int)size);
    enum json_tokener_error je = json_tokener_get_error(t);
    size_t end = json_tokener_get_parse_end(t);
    json_tokener_free(t);
    if (!o || je != json_tokener_success) {
        if (o)
            json_object_put(o);
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: invalid JSON near byte %zu: %s", path, end,
                          json_tokener_error_desc(je));
    }
    for (size_t i = end; i < size; i++) {
        char c = data[i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
            json_object_put(o);
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: trailing data after the JSON value at "
                              "byte %zu", path, i);
        }
    }
    *out = o;
    return 0;
}

static struct json_object *get(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v))
        return v;
    return NULL;
}

/* A boolean member: absent or null keeps *out; other types are an error. */
static int get_bool(const char *path, struct json_object *o, const char *key, bool *out,
                    slm_error *err)
{
    struct json_object *v = get(o, key);
    if (!v || json_object_is_type(v, json_type_null))
        return 0;
    if (!json_object_is_type(v, json_type_boolean))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: \"%s\" must be true or false", path, key);
    *out = json_object_get_boolean(v);
    return 0;
}

/* A special-token name in tokenizer_config.json: a string or {"content": string}. */
static const char *token_name(struct json_object *o, const char *key, const char *dflt)
{
    struct json_object *v = get(o, key);
    if (v && json_object_is_type(v, json_type_object))
        v = get(v, "content");
    if (v && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return dflt;
}

static int path_join(char *out, size_t cap, const char *dir, const char *file, slm_error *err)
{
    int n = snprintf(out, cap, "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= cap)
        return slm_errorf(err, SLM_ERR_INVALID, "%s: path too long", dir);
    return 0;
}

static int set_special_ids(slm_tokenizer *tok, const char *cls, const char *sep, const char *unk,
                           const char *pad, const char *mask, slm_error *err)
{
    struct slm_special_tokens *sp = &tok->special;
    sp->cls = cls ? tok_find(tok, cls, strlen(cls)) : -1;
    sp->sep = sep ? tok_find(tok, sep, strlen(sep)) : -1;
    sp->unk = unk ? tok_find(tok, unk, strlen(unk)) : -1;
    sp->pad = pad ? tok_find(tok, pad, strlen(pad)) : -1;
    sp->mask = mask ? tok_find(tok, mask, strlen(mask)) : -1;
    sp->bos = sp->cls;
    sp->eos = sp->eot = sp->eom = -1;
    sp->add_bos = sp->add_eos = true;
    if (sp->unk < 0)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: the unknown token \"%s\" is not in the "
                          "vocabulary", tok->source, unk ? unk : "");
    if (sp->cls < 0 || sp->sep < 0)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: the CLS/SEP tokens (\"%s\", \"%s\") are not "
                          "in the vocabulary", tok->source, cls ? cls : "", sep ? sep : "");
    int32_t ids[] = {sp->cls, sp->sep, sp->unk, sp->pad, sp->mask};
    for (size_t i = 0; i < SLM_ARRAY_SIZE(ids); i++)
        if (ids[i] >= 0)
            tok->tokens[ids[i]].attr = SLM_TOKEN_CONTROL;
    return 0;
}

static void set_wordpiece_hf(slm_tokenizer *tok, const char *cont_prefix)
{
    struct tok_wordpiece *wp = &tok->wp;
    wp->word_prefix_len = 0;
    size_t n = strlen(cont_prefix);
    if (n >= sizeof(wp->cont_prefix))
        n = sizeof(wp->cont_prefix) - 1;
    memcpy(wp->cont_prefix, cont_prefix, n);
    wp->cont_prefix[n] = '\0';
    wp->cont_prefix_len = (uint32_t)n;
    wp->hf_rules = true;
    wp->clean_text = true;
    wp->chinese_chars = true;
    wp->lowercase = true;
    wp->max_chars_per_word = HF_DEFAULT_MAX_CHARS_PER_WORD;
}

static int finish_common(slm_tokenizer *tok, slm_error *err)
{
    tok->kind = SLM_TOKENIZER_WORDPIECE;
    snprintf(tok->kind_name, sizeof(tok->kind_name), "bert");
    if (!tok->pre_name && !(tok->pre_name = strdup("bert")))
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", tok->source);
    return tok_vocab_finish(tok, err);
}

/* ---- vocab.txt ---- */

struct lines {
    const char **text;
    size_t *len;
    uint32_t n;
};

static int line_text(void *ctx, uint32_t i, const char **text, size_t *len, slm_error *err)
{
    struct lines *l = ctx;
    *text = l->text[i];
    *len = l->len[i];
    return 0;
}

static int split_lines(const char *path, char *data, size_t size, struct lines *l,
                       slm_error *err)
{
    size_t n = 0;
    for (size_t i = 0; i < size; i++)
        n += data[i] == '\n';
    if (size > 0 && data[size - 1] != '\n')
        n++;
    if (n > SLM_TOKENIZER_MAX_VOCAB)
        return slm_errorf(err, SLM_ERR_LIMIT, "%s: %zu lines (limit %u tokens)", path, n,
                          SLM_TOKENIZER_MAX_VOCAB);
    l->text = malloc((n ? n : 1) * sizeof(*l->text));
    l->len = malloc((n ? n : 1) * sizeof(*l->len));
    if (!l->text || !l->len)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", path);
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= size && k < n; i++) {
        if (i == size || data[i] == '\n') {
            size_t e = i;
            while (e > start && (data[e - 1] == '\r' || data[e - 1] == ' ' ||
                                 data[e - 1] == '\t' || data[e - 1] == '\f' ||
                                 data[e - 1] == '\v'))
                e--;
            l->text[k] = data + start;
            l->len[k] = e - start;
            k++;
            start = i + 1;
        }
    }
    l->n = (uint32_t)k;
    return 0;
}

/* added_tokens_decoder in tokenizer_config.json: {"id": {"content", "special", ...}} marks
 * entries of vocab.txt as special or added. */
static int apply_added_decoder(slm_tokenizer *tok, const char *path, struct json_object *cfg,
                               slm_error *err)
{
    struct json_object *dec = get(cfg, "added_tokens_decoder");
    if (!dec || !json_object_is_type(dec, json_type_object))
        return 0;
    json_object_object_foreach(dec, key, val)
    {
        char *end;
        errno = 0;
        unsigned long id = strtoul(key, &end, 10);
        struct json_object *content = get(val, "content");
        if (errno || *end || !*key || !content || !json_object_is_type(content, json_type_string))
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: added_tokens_decoder entry \"%s\" is "
                              "malformed", path, key);
        if (id >= tok->n_vocab)
            return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: added token %lu lies beyond "
                              "vocab.txt; use tokenizer.json", path, id);
        const char *s = json_object_get_string(content);
        size_t len = (size_t)json_object_get_string_len(content);
        if (tok->tokens[id].len != len || memcmp(tok_text(tok, (uint32_t)id), s, len) != 0)
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: added token %lu is \"%.32s\" but "
                              "vocab.txt has \"%.32s\"", path, id, s, tok_text(tok, (uint32_t)id));
        bool special = false;
        int r = get_bool(path, val, "special", &special, err);
        if (r < 0)
            return r;
        tok->tokens[id].attr = special ? SLM_TOKEN_CONTROL : SLM_TOKEN_USER_DEFINED;
    }
    return 0;
}

static int load_vocab_txt(slm_tokenizer *tok, const char *dir, char *data, size_t size,
                          const char *vocab_path, slm_error *err)
{
    struct lines l = {0};
    int r = split_lines(vocab_path, data, size, &l, err);
    if (r == 0)
        r = tok_vocab_init(tok, l.n, line_text, &l, vocab_path, err);
    free(l.text);
    free(l.len);
    if (r < 0)
        return r;

    char cfg_path[4096];
    if ((r = path_join(cfg_path, sizeof(cfg_path), dir, "tokenizer_config.json", err)) < 0)
        return r;
    _cleanup_free_ char *cfg_data = NULL;
    size_t cfg_size = 0;
    _cleanup_(json_putp) struct json_object *cfg = NULL;
    r = read_file(cfg_path, &cfg_data, &cfg_size, err);
    if (r < 0 && r != -SLM_ERR_NOT_FOUND)
        return r;
    if (r == 0 && (r = parse_json(cfg_path, cfg_data, cfg_size, &cfg, err)) < 0)
        return r;
    if (cfg && !json_object_is_type(cfg, json_type_object))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: not a JSON object", cfg_path);

    set_wordpiece_hf(tok, "##");
    struct tok_wordpiece *wp = &tok->wp;
    bool strip = true;
    bool strip_set = false;
    if ((r = get_bool(cfg_path, cfg, "do_lower_case", &wp->lowercase, err)) < 0 ||
        (r = get_bool(cfg_path, cfg, "tokenize_chinese_chars", &wp->chinese_chars, err)) < 0)
        return r;
    struct json_object *sa = get(cfg, "strip_accents");
    if (sa && !json_object_is_type(sa, json_type_null)) {
        if ((r = get_bool(cfg_path, cfg, "strip_accents", &strip, err)) < 0)
            return r;
        strip_set = true;
    }
    wp->strip_accents = strip_set ? strip : wp->lowercase;
    if ((r = apply_added_decoder(tok, cfg_path, cfg, err)) < 0)
        return r;
    if ((r = set_special_ids(tok, token_name(cfg, "cls_token", "[CLS]"),
                             token_name(cfg, "sep_token", "[SEP]"),
                             token_name(cfg, "unk_token", "[UNK]"),
                             token_name(cfg, "pad_token", "[PAD]"),
                             token_name(cfg, "mask_token", "[MASK]"), err)) < 0)
        return r;
    return finish_common(tok, err);
}

/* ---- tokenizer.json ---- */

struct json_vocab {
    const char **text;
    size_t *len;
    uint32_t n;
};

static int json_vocab_text(void *ctx, uint32_t i, const char **text, size_t *len,
                           slm_error *err)
{
    struct json_vocab *v = ctx;
    *text = v->text[i];
    *len = v->len[i];
    return 0;
}

static int json_id(struct json_object *v, uint32_t *out)
{
    if (!v || !json_object_is_type(v, json_type_int))
        return -1;
    int64_t id = json_object_get_int64(v);
    if (id < 0 || id >= SLM_TOKENIZER_MAX_VOCAB)
        return -1;
    *out = (uint32_t)id;
    return 0;
}

/* Places (text, id) in the id-indexed arrays; a second, different text for an id is an
 * error, the same text again is accepted (added tokens repeat vocabulary entries). */
static int place(const char *path, struct json_vocab *v, uint32_t id, const char *text,
                 size_t len, slm_error *err)
{
    if (len > SLM_TOKENIZER_MAX_TOKEN_BYTES)
        return slm_errorf(err, SLM_ERR_LIMIT, "%s: token %u is %zu bytes (limit %u)", path, id,
                          len, SLM_TOKENIZER_MAX_TOKEN_BYTES);
    if (v->text[id]) {
        if (v->len[id] == len && memcmp(v->text[id], text, len) == 0)
            return 0;
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: id %u is both \"%.32s\" and \"%.32s\"", path,
                          id, v->text[id], text);
    }
    v->text[id] = text;
    v->len[id] = len;
    return 0;
}

static int max_id(const char *path, struct json_object *vocab, struct json_object *added,
                  uint32_t *n, slm_error *err)
{
    uint32_t top = 0;
    bool any = false;
    json_object_object_foreach(vocab, key, val)
    {
        uint32_t id = 0;
        if (json_id(val, &id) < 0)
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: model.vocab[\"%.32s\"] is not an id "
                              "below %u", path, key, SLM_TOKENIZER_MAX_VOCAB);
        top = SLM_MAX(top, id);
        any = true;
    }
    size_t na = added ? json_object_array_length(added) : 0;
    for (size_t i = 0; i < na; i++) {
        uint32_t id = 0;
        if (json_id(get(json_object_array_get_idx(added, i), "id"), &id) < 0)
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: added_tokens[%zu].id is not an id below "
                              "%u", path, i, SLM_TOKENIZER_MAX_VOCAB);
        top = SLM_MAX(top, id);
        any = true;
    }
    if (!any)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: empty vocabulary", path);
    *n = top + 1;
    return 0;
}

static int collect_vocab(const char *path, struct json_object *vocab, struct json_object *added,
                         struct json_vocab *v, slm_error *err)
{
    int r = max_id(path, vocab, added, &v->n, err);
    if (r < 0)
        return r;
    v->text = calloc(v->n, sizeof(*v->text));
    v->len = calloc(v->n, sizeof(*v->len));
    if (!v->text || !v->len)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", path);
    json_object_object_foreach(vocab, key, val)
    {
        uint32_t id = 0;
        json_id(val, &id);
        if ((r = place(path, v, id, key, strlen(key), err)) < 0)
            return r;
    }
    size_t na = added ? json_object_array_length(added) : 0;
    for (size_t i = 0; i < na; i++) {
        struct json_object *a = json_object_array_get_idx(added, i);
        struct json_object *content = get(a, "content");
        uint32_t id = 0;
        json_id(get(a, "id"), &id);
        if (!content || !json_object_is_type(content, json_type_string))
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: added_tokens[%zu].content is not a string",
                              path, i);
        if ((r = place(path, v, id, json_object_get_string(content),
                       (size_t)json_object_get_string_len(content), err)) < 0)
            return r;
    }
    for (uint32_t id = 0; id < v->n; id++)
        if (!v->text[id])
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: no token has id %u (ids must run from 0 "
                              "to %u)", path, id, v->n - 1);
    return 0;
}

static int apply_added_tokens(slm_tokenizer *tok, const char *path, struct json_object *added,
                              slm_error *err)
{
    size_t na = added ? json_object_array_length(added) : 0;
    for (size_t i = 0; i < na; i++) {
        struct json_object *a = json_object_array_get_idx(added, i);
        uint32_t id = 0;
        json_id(get(a, "id"), &id);
        bool special = false, lstrip = false, rstrip = false;
        int r;
        if ((r = get_bool(path, a, "special", &special, err)) < 0 ||
            (r = get_bool(path, a, "lstrip", &lstrip, err)) < 0 ||
            (r = get_bool(path, a, "rstrip", &rstrip, err)) < 0)
            return r;
        struct tok_token *t = &tok->tokens[id];
        t->attr = special ? SLM_TOKEN_CONTROL : SLM_TOKEN_USER_DEFINED;
        if (lstrip)
            t->flags |= TOK_FLAG_LSTRIP;
        if (rstrip)
            t->flags |= TOK_FLAG_RSTRIP;
    }
    return 0;
}

static bool type_is(struct json_object *o, const char *type)
{
    struct json_object *t = get(o, "type");
    return t && json_object_is_type(t, json_type_string) &&
           strcmp(json_object_get_string(t), type) == 0;
}

static const char *type_of(struct json_object *o)
{
    struct json_object *t = get(o, "type");
    return t && json_object_is_type(t, json_type_string) ? json_object_get_string(t) : "?";
}

static int read_normalizer(slm_tokenizer *tok, const char *path, struct json_object *norm,
                           slm_error *err)
{
    struct tok_wordpiece *wp = &tok->wp;
    if (!norm || json_object_is_type(norm, json_type_null)) {
        wp->clean_text = wp->chinese_chars = wp->lowercase = wp->strip_accents = false;
        return 0;
    }
    if (type_is(norm, "BertNormalizer")) {
        int r;
        bool strip = false, strip_set = false;
        wp->clean_text = wp->chinese_chars = wp->lowercase = true;
        if ((r = get_bool(path, norm, "clean_text", &wp->clean_text, err)) < 0 ||
            (r = get_bool(path, norm, "handle_chinese_chars", &wp->chinese_chars, err)) < 0 ||
            (r = get_bool(path, norm, "lowercase", &wp->lowercase, err)) < 0)
            return r;
        struct json_object *sa = get(norm, "strip_accents");
        if (sa && !json_object_is_type(sa, json_type_null)) {
            if ((r = get_bool(path, norm, "strip_accents", &strip, err)) < 0)
                return r;
            strip_set = true;
        }
        wp->strip_accents = strip_set ? strip : wp->lowercase;
        return 0;
    }
    if (type_is(norm, "Sequence")) {
        /* NFD, Lowercase and StripAccents (which needs NFD before it): what uncased models
         * built without BertNormalizer use. */
        struct json_object *list = get(norm, "normalizers");
        if (!list || !json_object_is_type(list, json_type_array))
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: normalizer.normalizers is not a list",
                              path);
        bool nfd = false;
        wp->clean_text = wp->chinese_chars = wp->lowercase = wp->strip_accents = false;
        for (size_t i = 0; i < json_object_array_length(list); i++) {
            struct json_object *n = json_object_array_get_idx(list, i);
            if (type_is(n, "NFD"))
                nfd = true;
            else if (type_is(n, "Lowercase"))
                wp->lowercase = true;
            else if (type_is(n, "StripAccents") && nfd)
                wp->strip_accents = true;
            else
                return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: normalizer \"%s\" in a sequence "
                                  "is not supported", path, type_of(n));
        }
        return 0;
    }
    return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: normalizer \"%s\" is not supported", path,
                      type_of(norm));
}

/* [CLS] and [SEP] from the post-processor ("single": CLS $A SEP, or BertProcessing). */
static void post_processor_names(struct json_object *pp, const char **cls, const char **sep)
{
    if (type_is(pp, "BertProcessing")) {
        struct json_object *c = get(pp, "cls"), *s = get(pp, "sep");
        if (c && json_object_is_type(c, json_type_array) && json_object_array_length(c) > 0)
            *cls = json_object_get_string(json_object_array_get_idx(c, 0));
        if (s && json_object_is_type(s, json_type_array) && json_object_array_length(s) > 0)
            *sep = json_object_get_string(json_object_array_get_idx(s, 0));
        return;
    }
    if (!type_is(pp, "TemplateProcessing"))
        return;
    struct json_object *single = get(pp, "single");
    if (!single || !json_object_is_type(single, json_type_array))
        return;
    bool seen_a = false;
    for (size_t i = 0; i < json_object_array_length(single); i++) {
        struct json_object *item = json_object_array_get_idx(single, i);
        struct json_object *st = get(item, "SpecialToken");
        if (get(item, "Sequence"))
            seen_a = true;
        struct json_object *id = get(st, "id");
        if (id && json_object_is_type(id, json_type_string)) {
            if (!seen_a)
                *cls = json_object_get_string(id);
            else
                *sep = json_object_get_string(id);
        }
    }
}

static int load_tokenizer_json(slm_tokenizer *tok, const char *path, const char *data,
                               size_t size, slm_error *err)
{
    _cleanup_(json_putp) struct json_object *root = NULL;
    int r = parse_json(path, data, size, &root, err);
    if (r < 0)
        return r;
    struct json_object *model = get(root, "model");
    if (!model || !json_object_is_type(model, json_type_object))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: no \"model\" object", path);
    if (!type_is(model, "WordPiece"))
        return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: model type \"%s\" is not supported "
                          "from tokenizer.json (WordPiece is)", path, type_of(model));
    struct json_object *vocab = get(model, "vocab");
    if (!vocab || !json_object_is_type(vocab, json_type_object))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: model.vocab is not an object", path);
    struct json_object *added = get(root, "added_tokens");
    if (added && json_object_is_type(added, json_type_null))
        added = NULL;
    if (added && !json_object_is_type(added, json_type_array))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: added_tokens is not a list", path);

    struct json_vocab v = {0};
    r = collect_vocab(path, vocab, added, &v, err);
    if (r == 0)
        r = tok_vocab_init(tok, v.n, json_vocab_text, &v, path, err);
    free(v.text);
    free(v.len);
    if (r < 0 || (r = apply_added_tokens(tok, path, added, err)) < 0)
        return r;

    const char *cont = "##";
    struct json_object *c = get(model, "continuing_subword_prefix");
    if (c && json_object_is_type(c, json_type_string))
        cont = json_object_get_string(c);
    set_wordpiece_hf(tok, cont);
    struct json_object *mc = get(model, "max_input_chars_per_word");
    if (mc && json_object_is_type(mc, json_type_int)) {
        int64_t m = json_object_get_int64(mc);
        tok->wp.max_chars_per_word = m <= 0 || m > UINT32_MAX ? 0 : (uint32_t)m;
    }
    if ((r = read_normalizer(tok, path, get(root, "normalizer"), err)) < 0)
        return r;
    struct json_object *pre = get(root, "pre_tokenizer");
    if (!pre || !type_is(pre, "BertPreTokenizer"))
        return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: pre-tokenizer \"%s\" is not supported "
                          "(BertPreTokenizer is)", path, pre ? type_of(pre) : "null");

    const char *unk = "[UNK]", *cls = "[CLS]", *sep = "[SEP]";
    struct json_object *u = get(model, "unk_token");
    if (u && json_object_is_type(u, json_type_string))
        unk = json_object_get_string(u);
    post_processor_names(get(root, "post_processor"), &cls, &sep);
    if ((r = set_special_ids(tok, cls, sep, unk, "[PAD]", "[MASK]", err)) < 0)
        return r;
    return finish_common(tok, err);
}

static int load_dir(slm_tokenizer *tok, const char *dir, slm_error *err)
{
    char path[4096];
    _cleanup_free_ char *data = NULL;
    size_t size = 0;
    int r = path_join(path, sizeof(path), dir, "tokenizer.json", err);
    if (r < 0)
        return r;
    r = read_file(path, &data, &size, err);
    if (r == 0)
        return load_tokenizer_json(tok, path, data, size, err);
    if (r != -SLM_ERR_NOT_FOUND)
        return r;
    if ((r = path_join(path, sizeof(path), dir, "vocab.txt", err)) < 0)
        return r;
    r = read_file(path, &data, &size, err);
    if (r == -SLM_ERR_NOT_FOUND)
        return slm_errorf(err, SLM_ERR_NOT_FOUND, "%s: no tokenizer.json or vocab.txt", dir);
    if (r < 0)
        return r;
    return load_vocab_txt(tok, dir, data, size, path, err);
}

static slm_tokenizer *new_hf_tokenizer(const char *source, slm_error *err)
{
    slm_tokenizer *tok = calloc(1, sizeof(*tok));
    if (!tok || !(tok->source = strdup(source))) {
        free(tok);
        slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", source);
        return NULL;
    }
    tok->special = (struct slm_special_tokens){-1, -1, -1, -1, -1, -1, -1, -1, -1, false, false};
    return tok;
}

slm_tokenizer *tok_hf_json_from_memory(const char *data, size_t size, const char *name,
                                       slm_error *err)
{
    if (size > HF_MAX_FILE_BYTES) {
        slm_errorf(err, SLM_ERR_LIMIT, "%s: %zu bytes (limit %u)", name, size, HF_MAX_FILE_BYTES);
        return NULL;
    }
    slm_tokenizer *tok = new_hf_tokenizer(name, err);
    if (tok && load_tokenizer_json(tok, name, data, size, err) < 0) {
        slm_tokenizer_free(tok);
        return NULL;
    }
    return tok;
}

slm_tokenizer *slm_tokenizer_from_hf_dir(const char *dir, slm_error *err)
{
    if (!dir) {
        slm_errorf(err, SLM_ERR_INVALID, "tokenizer: no directory given");
        return NULL;
    }
    slm_tokenizer *tok = new_hf_tokenizer(dir, err);
    if (tok && load_dir(tok, dir, err) < 0) {
        slm_tokenizer_free(tok);
        return NULL;
    }
    return tok;
}
