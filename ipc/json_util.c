/* json-c helpers (see json_util.h). */
#include "ipc/json_util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ipc/common/utf8.h"

int json_parse_object(const char *text, size_t len, json_object **out, slm_error *err)
{
    *out = NULL;
    if (len > INT32_MAX)
        return slm_errorf(err, SLM_ERR_INVALID, "the body is too large to parse");
    json_tokener *tok = json_tokener_new_ex(JSON_BODY_MAX_DEPTH);
    if (!tok)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr == json_tokener_continue || (!obj && jerr == json_tokener_success)) {
        json_object_put(obj);
        return slm_errorf(err, SLM_ERR_INVALID, "the body is not complete JSON");
    }
    if (jerr != json_tokener_success) {
        json_object_put(obj);
        return slm_errorf(err, SLM_ERR_INVALID, "the body is not valid JSON: %s (at byte %zu)",
                          json_tokener_error_desc(jerr), end);
    }
    for (size_t i = end; i < len; i++)
        if (!strchr(" \t\r\n", text[i])) {
            json_object_put(obj);
            return slm_errorf(err, SLM_ERR_INVALID, "the body has bytes after the JSON value "
                              "(at byte %zu)", i);
        }
    if (!json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        return slm_errorf(err, SLM_ERR_INVALID, "the body must be a JSON object");
    }
    *out = obj;
    return 0;
}

static json_object *field(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || !v)
        return NULL;
    return v;
}

int json_field_string(json_object *obj, const char *key, const char **s, size_t *len,
                      slm_error *err)
{
    json_object *v = field(obj, key);
    if (!v)
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return slm_errorf(err, SLM_ERR_INVALID, "'%s' must be a string", key);
    *s = json_object_get_string(v);
    if (len)
        *len = (size_t)json_object_get_string_len(v);
    return 1;
}

int json_field_bool(json_object *obj, const char *key, bool *out, slm_error *err)
{
    json_object *v = field(obj, key);
    if (!v)
        return 0;
    if (!json_object_is_type(v, json_type_boolean))
        return slm_errorf(err, SLM_ERR_INVALID, "'%s' must be true or false", key);
    *out = json_object_get_boolean(v);
    return 1;
}

int json_field_number(json_object *obj, const char *key, double *out, slm_error *err)
{
    json_object *v = field(obj, key);
    if (!v)
        return 0;
    if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
        return slm_errorf(err, SLM_ERR_INVALID, "'%s' must be a number", key);
    double d = json_object_get_double(v);
    if (!isfinite(d))
        return slm_errorf(err, SLM_ERR_INVALID, "'%s' must be a finite number", key);
    *out = d;
    return 1;
}

int json_field_int(json_object *obj, const char *key, int64_t min, int64_t max, int64_t *out,
                   slm_error *err)
{
    json_object *v = field(obj, key);
    if (!v)
        return 0;
    int64_t value;
    if (json_object_is_type(v, json_type_int)) {
        errno = 0;
        value = json_object_get_int64(v);
        /* json-c saturates integers beyond int64 (and reports it in errno) */
        if (errno == ERANGE)
            return slm_errorf(err, SLM_ERR_INVALID, "'%s' must be an integer from %lld to "
                              "%lld", key, (long long)min, (long long)max);
    } else if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (!isfinite(d) || d != floor(d) || d < -9.2e18 || d > 9.2e18)
            return slm_errorf(err, SLM_ERR_INVALID, "'%s' must be an integer", key);
        value = (int64_t)d;
    } else {
        return slm_errorf(err, SLM_ERR_INVALID, "'%s' must be an integer", key);
    }
    if (value < min || value > max)
        return slm_errorf(err, SLM_ERR_INVALID, "'%s' must be an integer from %lld to %lld, "
                          "not %lld", key, (long long)min, (long long)max, (long long)value);
    *out = value;
    return 1;
}

json_object *json_new_real(double v)
{
    if (!isfinite(v))
        return NULL; /* json-c writes NULL as null */
    if (v == floor(v) && fabs(v) < 1e15)
        return json_object_new_int64((int64_t)v);
    char text[32];
    snprintf(text, sizeof(text), "%.9g", v);
    return json_object_new_double_s(v, text);
}

json_object *json_new_text(const char *s, size_t len)
{
    if (!s)
        return json_object_new_string("");
    if (len > INT32_MAX / 3)
        return NULL;
    if (slm_utf8_valid(s, len))
        return json_object_new_string_len(s, (int)len);
    _cleanup_free_ char *clean = slm_utf8_sanitize(s, len, &len);
    return clean ? json_object_new_string_len(clean, (int)len) : NULL;
}

const char *json_to_text(json_object *obj, size_t *len)
{
    return json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}
