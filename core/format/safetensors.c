/* safetensors reader: validation at open, plain lookups afterwards. See safetensors.h. */
#include "format/safetensors.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/checked.h"
#include "util/cleanup.h"
#include "util/mapped_file.h"
#include "util/strmap.h"

#define HEADER_LEN_BYTES 8

/* Longest name quoted in an error message; the rest is cut with "...". */
#define QUOTE_MAX 80

struct slm_safetensors {
    char *name;
    slm_mapped_file *file; /* NULL for open_memory or after take_mapping */
    slm_mapped_file *taken; /* the mapping handed to the caller (not ours to close) */
    const uint8_t *base;
    uint64_t size;
    size_t n_tensors;
    struct slm_st_tensor *tensors; /* sorted by offset */
    slm_strmap index;              /* name -> position in tensors */
    size_t n_meta;
    char **meta; /* key, value, key, value ... */
    char *names; /* arena holding every tensor name */
};

static const struct {
    const char *name;
    uint8_t size;
} dtypes[SLM_ST_DTYPE_COUNT] = {
    [SLM_ST_BOOL] = {"BOOL", 1}, [SLM_ST_U8] = {"U8", 1},
    [SLM_ST_I8] = {"I8", 1},     [SLM_ST_F8_E5M2] = {"F8_E5M2", 1},
    [SLM_ST_F8_E4M3] = {"F8_E4M3", 1}, [SLM_ST_I16] = {"I16", 2},
    [SLM_ST_U16] = {"U16", 2},   [SLM_ST_F16] = {"F16", 2},
    [SLM_ST_BF16] = {"BF16", 2}, [SLM_ST_I32] = {"I32", 4},
    [SLM_ST_U32] = {"U32", 4},   [SLM_ST_F32] = {"F32", 4},
    [SLM_ST_F64] = {"F64", 8},   [SLM_ST_I64] = {"I64", 8},
    [SLM_ST_U64] = {"U64", 8},
};

const char *slm_st_dtype_name(enum slm_st_dtype dtype)
{
    return (unsigned)dtype < SLM_ST_DTYPE_COUNT ? dtypes[dtype].name : "unknown";
}

bool slm_st_dtype_to_type(enum slm_st_dtype dtype, enum slm_type *type)
{
    switch (dtype) {
    case SLM_ST_F32: *type = SLM_TYPE_F32; return true;
    case SLM_ST_F16: *type = SLM_TYPE_F16; return true;
    case SLM_ST_BF16: *type = SLM_TYPE_BF16; return true;
    default: return false;
    }
}

/* A name from the file, printable and bounded, for an error message. */
static const char *quote(char *buf, size_t cap, const char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < cap; i++) {
        if (i == QUOTE_MAX) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        buf[o++] = c >= 0x20 && c != 0x7f ? (char)c : '?';
    }
    buf[o] = '\0';
    return buf;
}

/* ---- duplicate keys ----
 *
 * json-c keeps the last of two equal keys without a word, so a header could hide a tensor
 * entry. A scan of the (already validated) text counts the keys written in each object, in
 * the order objects open; json-c's objects, walked in the same pre-order, must hold as
 * many. The first object that holds fewer has a duplicate; a second scan of that object
 * alone names it. */

struct key_scan {
    uint32_t *counts; /* keys written, per object in opening order */
    size_t *starts;   /* offset of each object's '{' */
    size_t n, cap;
};

/* Offset just past the string that opens at s[i] (a '"'). */
static size_t skip_string(const char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return n;
}

static int scan_keys(const char *s, size_t n, struct key_scan *ks)
{
    /* json-c enforced the depth limit already; the stack cannot overflow */
    int64_t stack[SLM_SAFETENSORS_MAX_DEPTH + 1]; /* object index, or -1 for an array */
    bool expect_key = false;
    int depth = 0;
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (c == '"') {
            if (depth > 0 && stack[depth - 1] >= 0 && expect_key) {
                ks->counts[stack[depth - 1]]++;
                expect_key = false;
            }
            i = skip_string(s, n, i);
            continue;
        }
        if (c == '{' || c == '[') {
            if (depth > SLM_SAFETENSORS_MAX_DEPTH)
                return -1;
            int64_t id = -1;
            if (c == '{') {
                if (ks->n == ks->cap) {
                    size_t cap = ks->cap ? ks->cap * 2 : 64;
                    uint32_t *counts = realloc(ks->counts, cap * sizeof(*counts));
                    if (!counts)
                        return -1;
                    ks->counts = counts;
                    size_t *starts = realloc(ks->starts, cap * sizeof(*starts));
                    if (!starts)
                        return -1;
                    ks->starts = starts;
                    ks->cap = cap;
                }
                ks->counts[ks->n] = 0;
                ks->starts[ks->n] = i;
                id = (int64_t)ks->n++;
            }
            stack[depth++] = id;
            expect_key = c == '{';
        } else if (c == '}' || c == ']') {
            if (depth > 0)
                depth--;
            expect_key = false;
        } else if (c == ',') {
            expect_key = depth > 0 && stack[depth - 1] >= 0;
        }
        i++;
    }
    return 0;
}

/* The first key written twice (byte for byte) directly inside the object at s[start]. */
static bool find_duplicate(const char *s, size_t n, size_t start, const char **key,
                           size_t *len)
{
    slm_strmap seen;
    if (!slm_strmap_init(&seen, 16))
        return false;
    bool found = false, expect_key = true;
    int depth = 0;
    for (size_t i = start + 1; i < n && depth >= 0 && !found;) {
        char c = s[i];
        if (c == '"') {
            size_t end = skip_string(s, n, i);
            if (depth == 0 && expect_key) {
                const char *k = s + i + 1;
                size_t klen = end - i - 2;
                if (!slm_strmap_put(&seen, k, klen, 0, NULL) &&
                    slm_strmap_get(&seen, k, klen, NULL)) {
                    *key = k;
                    *len = klen;
                    found = true;
                }
                expect_key = false;
            }
            i = end;
            continue;
        }
        if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']')
            depth--;
        else if (c == ',' && depth == 0)
            expect_key = true;
        i++;
    }
    slm_strmap_deinit(&seen);
    return found;
}

struct dup_walk {
    const struct key_scan *ks;
    const char *text;
    size_t len;
    size_t next; /* next object index in pre-order */
    const char *file;
    slm_error *err;
};

static int check_object_keys(struct dup_walk *w, json_object *obj, const char *where)
{
    if (json_object_is_type(obj, json_type_array)) {
        size_t n = json_object_array_length(obj);
        for (size_t i = 0; i < n; i++) {
            int r = check_object_keys(w, json_object_array_get_idx(obj, i), where);
            if (r < 0)
                return r;
        }
        return 0;
    }
    if (!json_object_is_type(obj, json_type_object))
        return 0;
    if (w->next >= w->ks->n)
        return slm_errorf(w->err, SLM_ERR_FORMAT, "%s: header: malformed JSON", w->file);
    size_t index = w->next++;
    if ((size_t)json_object_object_length(obj) != w->ks->counts[index]) {
        const char *key = NULL;
        size_t klen = 0;
        char q[QUOTE_MAX + 8];
        if (find_duplicate(w->text, w->len, w->ks->starts[index], &key, &klen))
            return slm_errorf(w->err, SLM_ERR_FORMAT, "%s: header: %s: duplicate key '%s'",
                              w->file, where, quote(q, sizeof(q), key, klen));
        return slm_errorf(w->err, SLM_ERR_FORMAT, "%s: header: %s: duplicate key (the same "
                          "name written with different escapes)", w->file, where);
    }
    json_object_object_foreach(obj, key, val)
    {
        char q[QUOTE_MAX + 8], child[QUOTE_MAX + 32];
        snprintf(child, sizeof(child), "entry '%s'", quote(q, sizeof(q), key, strlen(key)));
        int r = check_object_keys(w, val, child);
        if (r < 0)
            return r;
    }
    return 0;
}

static int reject_duplicate_keys(const char *file, const char *text, size_t len,
                                 json_object *root, slm_error *err)
{
    struct key_scan ks = {0};
    int r;
    if (scan_keys(text, len, &ks) < 0)
        r = slm_errorf(err, SLM_ERR_NOMEM, "%s: header: out of memory", file);
    else {
        struct dup_walk w = {.ks = &ks, .text = text, .len = len, .file = file, .err = err};
        r = check_object_keys(&w, root, "top level");
    }
    free(ks.counts);
    free(ks.starts);
    return r;
}

/* ---- the header ---- */

static int parse_json(const char *file, const char *text, size_t len, json_object **out,
                      slm_error *err)
{
    if (len == 0 || text[0] != '{')
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: header does not start with '{' (not a "
                          "safetensors file?)", file);
    if (memchr(text, '\0', len))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: header contains a NUL byte", file);
    json_tokener *tok = json_tokener_new_ex(SLM_SAFETENSORS_MAX_DEPTH);
    if (!tok)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", file);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!root || jerr != json_tokener_success) {
        json_object_put(root);
        if (jerr == json_tokener_continue)
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: header: JSON ends early (%zu bytes)",
                              file, len);
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: header: invalid JSON near byte %zu: %s",
                          file, end, json_tokener_error_desc(jerr));
    }
    /* writers pad the header with spaces to align the data */
    for (size_t i = end; i < len; i++) {
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r') {
            json_object_put(root);
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: header: unexpected bytes after the "
                              "JSON object at byte %zu", file, i);
        }
    }
    *out = root;
    return 0;
}

static bool json_u64(json_object *v, uint64_t *out)
{
    if (!json_object_is_type(v, json_type_int))
        return false;
    /* json-c keeps values above INT64_MAX as unsigned and clamps negative ones for
     * get_uint64 to 0, so read the sign first */
    if (json_object_get_int64(v) < 0)
        return false;
    *out = json_object_get_uint64(v);
    return true;
}

static int parse_dtype(const char *file, const char *name, json_object *v,
                       enum slm_st_dtype *out, slm_error *err)
{
    char q[QUOTE_MAX + 8];
    if (!v || !json_object_is_type(v, json_type_string))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s': \"dtype\" must be a string",
                          file, name);
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    for (int d = 0; d < SLM_ST_DTYPE_COUNT; d++) {
        if (strlen(dtypes[d].name) == len && memcmp(dtypes[d].name, s, len) == 0) {
            *out = (enum slm_st_dtype)d;
            return 0;
        }
    }
    return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%s'", file, name,
                      quote(q, sizeof(q), s, len));
}

static int parse_shape(const char *file, struct slm_st_tensor *t, json_object *v,
                       slm_error *err)
{
    if (!v || !json_object_is_type(v, json_type_array))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s': \"shape\" must be an array",
                          file, t->name);
    size_t n = json_object_array_length(v);
    if (n > SLM_SAFETENSORS_MAX_DIMS)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s' has %zu dimensions (at most "
                          "%u)", file, t->name, n, SLM_SAFETENSORS_MAX_DIMS);
    uint64_t elements = 1;
    for (size_t i = 0; i < n; i++) {
        uint64_t d;
        if (!json_u64(json_object_array_get_idx(v, i), &d) || d > INT64_MAX)
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s': shape[%zu] is not a "
                              "non-negative integer", file, t->name, i);
        if (slm_mul_u64(elements, d, &elements))
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s': the element count of its "
                              "shape overflows", file, t->name);
        t->shape[i] = (int64_t)d;
    }
    t->n_dims = (uint32_t)n;
    t->n_elements = elements;
    if (slm_mul_u64(elements, dtypes[t->dtype].size, &t->nbytes))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s': its byte size overflows",
                          file, t->name);
    return 0;
}

static int parse_offsets(const char *file, struct slm_st_tensor *t, json_object *v,
                         uint64_t data_size, uint64_t *begin, slm_error *err)
{
    uint64_t b, e;
    if (!v || !json_object_is_type(v, json_type_array) || json_object_array_length(v) != 2 ||
        !json_u64(json_object_array_get_idx(v, 0), &b) ||
        !json_u64(json_object_array_get_idx(v, 1), &e))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s': \"data_offsets\" must be two "
                          "non-negative integers [begin, end]", file, t->name);
    if (e < b)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] end "
                          "before they begin", file, t->name, (unsigned long long)b,
                          (unsigned long long)e);
    if (e > data_size)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] run "
                          "past the end of the file (the data section holds %llu bytes)",
                          file, t->name, (unsigned long long)b, (unsigned long long)e,
                          (unsigned long long)data_size);
    if (e - b != t->nbytes)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] hold "
                          "%llu bytes but shape and dtype %s need %llu", file, t->name,
                          (unsigned long long)b, (unsigned long long)e,
                          (unsigned long long)(e - b), dtypes[t->dtype].name,
                          (unsigned long long)t->nbytes);
    *begin = b;
    return 0;
}

static int parse_metadata(slm_safetensors *st, json_object *v, slm_error *err)
{
    if (!json_object_is_type(v, json_type_object))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: \"__metadata__\" must be an object of "
                          "strings", st->name);
    size_t n = (size_t)json_object_object_length(v);
    st->meta = calloc(2 * n + 1, sizeof(char *));
    if (!st->meta)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", st->name);
    json_object_object_foreach(v, key, val)
    {
        char q[QUOTE_MAX + 8];
        if (!json_object_is_type(val, json_type_string))
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: __metadata__ '%s' is not a string",
                              st->name, quote(q, sizeof(q), key, strlen(key)));
        char *k = strdup(key), *s = strdup(json_object_get_string(val));
        st->meta[2 * st->n_meta] = k;
        st->meta[2 * st->n_meta + 1] = s;
        st->n_meta++;
        if (!k || !s)
            return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", st->name);
    }
    return 0;
}

static int compare_offsets(const void *a, const void *b)
{
    const struct slm_st_tensor *x = a, *y = b;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

/* In data order the ranges must tile [0, data_size) exactly. */
static int check_layout(slm_safetensors *st, uint64_t data_start, uint64_t data_size,
                        slm_error *err)
{
    qsort(st->tensors, st->n_tensors, sizeof(*st->tensors), compare_offsets);
    uint64_t at = 0;
    for (size_t i = 0; i < st->n_tensors; i++) {
        const struct slm_st_tensor *t = &st->tensors[i];
        uint64_t begin = t->offset - data_start;
        if (begin < at)
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s' (data_offsets from %llu) "
                              "overlaps tensor '%s' (which ends at %llu)", st->name, t->name,
                              (unsigned long long)begin, st->tensors[i - 1].name,
                              (unsigned long long)at);
        if (begin > at)
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s' begins at %llu but the "
                              "previous data ends at %llu: a gap of unused bytes", st->name,
                              t->name, (unsigned long long)begin, (unsigned long long)at);
        at = begin + t->nbytes;
    }
    if (at != data_size)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: %llu trailing bytes after the last tensor's "
                          "data", st->name, (unsigned long long)(data_size - at));
    return 0;
}

static int parse_tensors(slm_safetensors *st, json_object *root, uint64_t data_start,
                         uint64_t data_size, slm_error *err)
{
    size_t n = (size_t)json_object_object_length(root);
    size_t names_len = 0;
    json_object_object_foreach(root, k0, v0)
    {
        (void)v0;
        names_len += strlen(k0) + 1;
    }
    st->tensors = calloc(n ? n : 1, sizeof(*st->tensors));
    st->names = malloc(names_len ? names_len : 1);
    if (!st->tensors || !st->names)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", st->name);
    char *arena = st->names;
    json_object_object_foreach(root, key, val)
    {
        if (strcmp(key, "__metadata__") == 0) {
            int r = parse_metadata(st, val, err);
            if (r < 0)
                return r;
            continue;
        }
        struct slm_st_tensor *t = &st->tensors[st->n_tensors++];
        size_t klen = strlen(key);
        memcpy(arena, key, klen + 1);
        t->name = arena;
        arena += klen + 1;
        if (!json_object_is_type(val, json_type_object))
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s': its entry must be an "
                              "object", st->name, t->name);
        json_object *dtype = NULL, *shape = NULL, *offsets = NULL;
        json_object_object_foreach(val, field, fval)
        {
            char q[QUOTE_MAX + 8];
            if (strcmp(field, "dtype") == 0)
                dtype = fval;
            else if (strcmp(field, "shape") == 0)
                shape = fval;
            else if (strcmp(field, "data_offsets") == 0)
                offsets = fval;
            else
                return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s': unexpected key '%s'",
                                  st->name, t->name, quote(q, sizeof(q), field, strlen(field)));
        }
        uint64_t begin = 0;
        int r = parse_dtype(st->name, t->name, dtype, &t->dtype, err);
        if (r < 0 || (r = parse_shape(st->name, t, shape, err)) < 0 ||
            (r = parse_offsets(st->name, t, offsets, data_size, &begin, err)) < 0)
            return r;
        t->offset = data_start + begin;
        t->data = st->base + t->offset;
    }
    return check_layout(st, data_start, data_size, err);
}

static int build_index(slm_safetensors *st, slm_error *err)
{
    if (!slm_strmap_init(&st->index, st->n_tensors))
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", st->name);
    for (size_t i = 0; i < st->n_tensors; i++) {
        const char *name = st->tensors[i].name;
        /* json-c cuts keys at an escaped NUL, which can make two names equal */
        if (!slm_strmap_put(&st->index, name, strlen(name), (int64_t)i, NULL)) {
            if (slm_strmap_get(&st->index, name, strlen(name), NULL))
                return slm_errorf(err, SLM_ERR_FORMAT, "%s: duplicate tensor name '%s'",
                                  st->name, name);
            return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", st->name);
        }
    }
    return 0;
}

static int parse_file(slm_safetensors *st, slm_error *err)
{
    if (st->size < HEADER_LEN_BYTES)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: %llu bytes is too short for a safetensors "
                          "file", st->name, (unsigned long long)st->size);
    uint64_t header_len = 0;
    for (int i = 0; i < HEADER_LEN_BYTES; i++)
        header_len |= (uint64_t)st->base[i] << (8 * i);
    if (header_len > SLM_SAFETENSORS_MAX_HEADER)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: header length %llu exceeds the limit of "
                          "%u bytes", st->name, (unsigned long long)header_len,
                          SLM_SAFETENSORS_MAX_HEADER);
    if (header_len > st->size - HEADER_LEN_BYTES)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: header length %llu runs past the end of "
                          "the file (%llu bytes)", st->name, (unsigned long long)header_len,
                          (unsigned long long)st->size);
    const char *text = (const char *)st->base + HEADER_LEN_BYTES;
    json_object *root = NULL;
    int r = parse_json(st->name, text, (size_t)header_len, &root, err);
    if (r < 0)
        return r;
    r = reject_duplicate_keys(st->name, text, (size_t)header_len, root, err);
    if (r == 0) {
        uint64_t data_start = HEADER_LEN_BYTES + header_len;
        r = parse_tensors(st, root, data_start, st->size - data_start, err);
    }
    json_object_put(root);
    if (r == 0)
        r = build_index(st, err);
    return r;
}

static slm_safetensors *finish_open(slm_safetensors *st, slm_error *err)
{
    if (parse_file(st, err) < 0) {
        slm_safetensors_close(st);
        return NULL;
    }
    return st;
}

slm_safetensors *slm_safetensors_open(const char *path, slm_error *err)
{
    slm_safetensors *st = calloc(1, sizeof(*st));
    if (!st || !(st->name = strdup(path))) {
        free(st);
        slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    st->file = slm_mapped_file_open(path, err);
    if (!st->file) {
        slm_safetensors_close(st);
        return NULL;
    }
    st->base = st->file->data;
    st->size = st->file->size;
    return finish_open(st, err);
}

slm_safetensors *slm_safetensors_open_memory(const void *data, size_t size, const char *name,
                                             slm_error *err)
{
    slm_safetensors *st = calloc(1, sizeof(*st));
    if (!st || !(st->name = strdup(name))) {
        free(st);
        slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    st->base = data;
    st->size = size;
    return finish_open(st, err);
}

void slm_safetensors_close(slm_safetensors *st)
{
    if (!st)
        return;
    slm_mapped_file_close(st->file);
    slm_strmap_deinit(&st->index);
    for (size_t i = 0; i < 2 * st->n_meta; i++)
        free(st->meta[i]);
    free(st->meta);
    free(st->tensors);
    free(st->names);
    free(st->name);
    free(st);
}

const char *slm_safetensors_name(const slm_safetensors *st) { return st->name; }
size_t slm_safetensors_n_tensors(const slm_safetensors *st) { return st->n_tensors; }

const struct slm_st_tensor *slm_safetensors_tensor(const slm_safetensors *st, size_t i)
{
    return i < st->n_tensors ? &st->tensors[i] : NULL;
}

const struct slm_st_tensor *slm_safetensors_find(const slm_safetensors *st, const char *name)
{
    int64_t i;
    if (!slm_strmap_get(&st->index, name, strlen(name), &i))
        return NULL;
    return &st->tensors[i];
}

const char *slm_safetensors_metadata(const slm_safetensors *st, const char *key)
{
    for (size_t i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta[2 * i], key) == 0)
            return st->meta[2 * i + 1];
    return NULL;
}

struct slm_mapped_file *slm_safetensors_take_mapping(slm_safetensors *st)
{
    st->taken = st->file;
    st->file = NULL;
    return st->taken;
}
