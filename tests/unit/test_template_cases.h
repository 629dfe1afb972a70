/* Table-driven tests of the chat template engine: each case renders one template with a
 * fixed context and compares the output, or the error message, with the expected one. */
#ifndef SLM_TEST_TEMPLATE_CASES_H
#define SLM_TEST_TEMPLATE_CASES_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "slm/template.h"
#include "test.h"

struct template_case {
    const char *source;
    bool add_generation_prompt;
    const char *expected; /* NULL: the case must fail */
    const char *error;    /* the failure's message (or a part of it) */
};

static inline void run_template_cases(const struct template_case *cases, size_t n,
                                      const char *context_json)
{
    for (size_t i = 0; i < n; i++) {
        const struct template_case *c = &cases[i];
        slm_error err = {0};
        char *out = NULL;
        size_t out_len = 0;
        int rc = -1;
        slm_template *tmpl = slm_template_compile(c->source, strlen(c->source), &err);
        if (tmpl) {
            struct slm_template_input in = {
                .add_generation_prompt = c->add_generation_prompt,
                .bos_token = "<s>",
                .eos_token = "</s>",
            };
            struct slm_template_options options = {.variables_json = context_json,
                                                   .without_strftime_now = true};
            rc = slm_template_render_ex(tmpl, &in, &options, NULL, &out, &out_len, &err);
            slm_template_free(tmpl);
        }
        if (c->expected) {
            CHECKF(rc == 0, "case %zu %s: failed: %s", i, c->source, err.message);
            if (rc == 0)
                CHECKF(out_len == strlen(c->expected) && strcmp(out, c->expected) == 0,
                       "case %zu %s:\n  expected [%s]\n  got      [%s]", i, c->source, c->expected,
                       out);
        } else {
            CHECKF(rc < 0, "case %zu %s: rendered [%s], expected an error", i, c->source,
                   out ? out : "");
            CHECKF(rc >= 0 || err.status == SLM_ERR_TEMPLATE, "case %zu: status %d", i, err.status);
            CHECKF(rc >= 0 || strstr(err.message, c->error),
                   "case %zu %s:\n  expected error "
                   "[%s]\n  got            [%s]",
                   i, c->source, c->error, err.message);
        }
        free(out);
    }
}

#endif
