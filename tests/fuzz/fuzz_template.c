/* Fuzz target for chat templates: the input is template source, compiled and rendered for
 * a fixed conversation (with a tool call and extra variables), under tight limits so that
 * each run is quick. Any input must give an output or an error value: never a crash, a
 * hang, a leak or undefined behaviour. */
#include <stdint.h>
#include <stdlib.h>

#include "slm/template.h"

static const char messages_json[] =
    "[{\"role\": \"system\", \"content\": \"You are terse.\"},"
    " {\"role\": \"user\", \"content\": \"  Hi \\u00e9 \\ud83d\\ude00  \"},"
    " {\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"type\": \"function\","
    "   \"function\": {\"name\": \"lookup\", \"arguments\": {\"q\": \"x\", \"n\": 2}}}]},"
    " {\"role\": \"tool\", \"content\": \"{\\\"ok\\\": true}\"},"
    " {\"role\": \"user\", \"content\": \"Thanks\"}]";

static const char variables_json[] =
    "{\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"lookup\","
    " \"description\": \"Looks up\", \"parameters\": {\"type\": \"object\","
    " \"properties\": {\"q\": {\"type\": \"string\"}}, \"required\": [\"q\"]}}}],"
    " \"date_string\": \"1 Jan 2030\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    slm_template *tmpl = slm_template_compile((const char *)data, size, NULL);
    if (!tmpl) return 0;
    struct slm_template_limits limits;
    slm_template_limits_default(&limits);
    limits.max_steps = 200000;
    limits.max_output = 64 * 1024;
    limits.max_memory = 8 << 20;
    struct slm_template_input in = {
        .add_generation_prompt = size & 1,
        .bos_token = "<s>",
        .eos_token = "</s>",
    };
    struct slm_template_options options = {
        .messages_json = messages_json,
        .variables_json = size & 2 ? variables_json : NULL,
        .without_strftime_now = size & 4,
    };
    char *out = NULL;
    size_t len = 0;
    if (slm_template_render_ex(tmpl, &in, &options, &limits, &out, &len, NULL) == 0) {
        /* touch every byte so that ASan checks the whole output */
        volatile uint8_t sum = 0;
        for (size_t i = 0; i < len; i++)
            sum ^= (uint8_t)out[i];
        (void)sum;
    }
    free(out);
    slm_template_free(tmpl);
    return 0;
}
