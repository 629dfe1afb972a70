/* The variables a chat template sees, as apply_chat_template passes them: messages,
 * add_generation_prompt, bos_token, eos_token, and any extra ones given as JSON. */
#ifndef SLM_TEMPLATE_CONTEXT_H
#define SLM_TEMPLATE_CONTEXT_H

#include "slm/template.h"
#include "template/value.h"

/* Fills `scope`. Malformed JSON gives SLM_ERR_INVALID naming the field. */
int tpl_build_context(struct tpl_render *r, const struct slm_template_input *in,
                      const struct slm_template_options *options, struct tpl_scope *scope);

#endif
