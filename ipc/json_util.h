/* json-c helpers for request bodies and responses: a strict parser with a nesting limit,
 * typed field getters whose errors name the field, and number output that neither loses
 * float precision nor writes NaN (which is not JSON). */
#ifndef SLM_IPC_JSON_UTIL_H
#define SLM_IPC_JSON_UTIL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slm/error.h"
#include "util/cleanup.h"

SLM_DEFINE_CLEANUP(json_object, json_object_put)

/* Nesting of a request body: OpenAI bodies are three or four levels deep. */
#define JSON_BODY_MAX_DEPTH 32

/* Parses a whole body (trailing bytes other than whitespace are an error) into an object. */
int json_parse_object(const char *text, size_t len, json_object **out, slm_error *err);

/* Field getters. A missing field or a JSON null leaves the output alone and returns 0
 * (1 when present); a wrong type is SLM_ERR_INVALID naming the field. */
int json_field_string(json_object *obj, const char *key, const char **s, size_t *len,
                      slm_error *err);
int json_field_bool(json_object *obj, const char *key, bool *out, slm_error *err);
int json_field_number(json_object *obj, const char *key, double *out, slm_error *err);
/* An integer (a number with no fraction) in [min, max]. */
int json_field_int(json_object *obj, const char *key, int64_t min, int64_t max, int64_t *out,
                   slm_error *err);

/* A number for output: integers as integers, other finite values with 9 significant
 * digits (enough to round-trip a float32), non-finite values as null. */
json_object *json_new_real(double v);
/* A string from bytes that may be ill-formed UTF-8 (model output): repaired first. */
json_object *json_new_text(const char *s, size_t len);

/* Serializes compactly (no spaces, no escaped slashes). The string belongs to obj. */
const char *json_to_text(json_object *obj, size_t *len);

#endif
