#include "template/context.h"

#include <json.h>
#include <string.h>

/* json-c's own nesting limit for the documents it parses. */
#define JSON_MAX_NESTING 64

static int from_json(struct tpl_render *r, struct json_object *obj, struct tpl_value *out)
{
    switch (json_object_get_type(obj)) {
    case json_type_null:
        *out = tpl_none();
        return 0;
    case json_type_boolean:
        *out = tpl_bool(json_object_get_boolean(obj));
        return 0;
    case json_type_int:
        *out = tpl_int(json_object_get_int64(obj));
        return 0;
    case json_type_double:
        *out = tpl_float(json_object_get_double(obj));
        return 0;
    case json_type_string:
        return tpl_new_str(r, json_object_get_string(obj), (size_t)json_object_get_string_len(obj),
                           out);
    case json_type_array: {
        size_t n = json_object_array_length(obj);
        struct tpl_list *l = tpl_list_new(r, n);
        if (!l) return -1;
        for (size_t i = 0; i < n; i++)
            if (from_json(r, json_object_array_get_idx(obj, i), &l->items[i]) < 0) return -1;
        l->len = n;
        *out = tpl_listv(l);
        return 0;
    }
    case json_type_object: {
        struct tpl_dict *d = tpl_dict_new(r);
        if (!d) return -1;
        json_object_object_foreach(obj, key, val)
        {
            struct tpl_value k, v;
            if (tpl_new_str(r, key, strlen(key), &k) < 0 || from_json(r, val, &v) < 0 ||
                tpl_dict_set(r, d, k, v) < 0)
                return -1;
        }
        *out = tpl_dictv(d);
        return 0;
    }
    }
    *out = tpl_none();
    return 0;
}

/* Parses a whole JSON document of the expected type into a value. */
static int parse_json(struct tpl_render *r, const char *what, const char *text, enum json_type want,
                      struct tpl_value *out)
{
    size_t len = strlen(text);
    if (len > (size_t)INT32_MAX)
        return slm_errorf(&r->error, SLM_ERR_INVALID, "%s: document too large", what);
    struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_NESTING);
    if (!tok) return slm_errorf(&r->error, SLM_ERR_NOMEM, "%s: out of memory", what);
    struct json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    while (end < len && strchr(" \t\r\n", text[end]))
        end++;
    int rc = 0;
    if (!obj || jerr != json_tokener_success)
        rc = slm_errorf(&r->error, SLM_ERR_INVALID, "%s: invalid JSON: %s", what,
                        json_tokener_error_desc(
                            jerr == json_tokener_success ? json_tokener_error_parse_eof : jerr));
    else if (end != len)
        rc = slm_errorf(&r->error, SLM_ERR_INVALID, "%s: invalid JSON: text after the value", what);
    else if (json_object_get_type(obj) != want)
        rc = slm_errorf(&r->error, SLM_ERR_INVALID, "%s: expected a JSON %s", what,
                        want == json_type_array ? "array" : "object");
    else if (from_json(r, obj, out) < 0)
        rc = -1;
    json_object_put(obj);
    return rc < 0 ? -1 : 0;
}

static struct tpl_value cstring(const char *s)
{
    return s ? tpl_strv(s, strlen(s)) : tpl_none();
}

static int messages_from_array(struct tpl_render *r, const struct slm_template_input *in,
                               struct tpl_value *out)
{
    struct tpl_list *l = tpl_list_new(r, in->n_messages);
    if (!l) return -1;
    for (size_t i = 0; i < in->n_messages; i++) {
        struct tpl_dict *m = tpl_dict_new(r);
        if (!m || tpl_dict_set(r, m, TPL_LIT("role"), cstring(in->messages[i].role)) < 0 ||
            tpl_dict_set(r, m, TPL_LIT("content"), cstring(in->messages[i].content)) < 0)
            return -1;
        l->items[i] = tpl_dictv(m);
    }
    l->len = in->n_messages;
    *out = tpl_listv(l);
    return 0;
}

static int set(struct tpl_render *r, struct tpl_scope *scope, const char *name, struct tpl_value v)
{
    return tpl_scope_set(r, scope, (struct tpl_str){name, strlen(name)}, v);
}

int tpl_build_context(struct tpl_render *r, const struct slm_template_input *in,
                      const struct slm_template_options *options, struct tpl_scope *scope)
{
    struct tpl_value messages;
    if (options->messages_json) {
        if (parse_json(r, "messages", options->messages_json, json_type_array, &messages) < 0)
            return -1;
    } else if (in->n_messages && !in->messages) {
        return slm_errorf(&r->error, SLM_ERR_INVALID, "messages: NULL with a count");
    } else if (messages_from_array(r, in, &messages) < 0) {
        return -1;
    }
    if (set(r, scope, "messages", messages) < 0 ||
        set(r, scope, "add_generation_prompt", tpl_bool(in->add_generation_prompt)) < 0 ||
        set(r, scope, "bos_token", cstring(in->bos_token ? in->bos_token : "")) < 0 ||
        set(r, scope, "eos_token", cstring(in->eos_token ? in->eos_token : "")) < 0)
        return -1;
    if (options->variables_json) {
        struct tpl_value vars;
        if (parse_json(r, "variables", options->variables_json, json_type_object, &vars) < 0)
            return -1;
        for (size_t i = 0; i < vars.dict->len; i++) {
            struct tpl_str name = vars.dict->entries[i].key.s;
            if (tpl_scope_set(r, scope, name, vars.dict->entries[i].value) < 0) return -1;
        }
    }
    return 0;
}
