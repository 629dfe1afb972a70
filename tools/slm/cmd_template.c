/* slm template (-m MODEL | --template-file F [--bos S] [--eos S]) --messages-json J
 *              [--no-generation-prompt] [--variables-json V]
 *
 * Prints the prompt the chat template renders, byte for byte, no newline added. A
 * template that raises gives `slm: error: chat template: MESSAGE` and exit 1. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slm/model.h"
#include "slm/template.h"
#include "util/cleanup.h"

SLM_DEFINE_CLEANUP(slm_model, slm_model_free)
SLM_DEFINE_CLEANUP(slm_template, slm_template_free)

#define USAGE                                                                              \
    "usage: slm template (-m MODEL | --template-file FILE [--bos TEXT] [--eos TEXT]) "      \
    "--messages-json FILE [--no-generation-prompt] [--variables-json FILE]"

/* Template files and message lists larger than this are refused: real ones are a few KB. */
#define INPUT_LIMIT (16u << 20)

static char *token_text(const slm_tokenizer *tok, int32_t id)
{
    size_t len = 0;
    const char *t = id >= 0 ? slm_tokenizer_token_text(tok, id, &len) : NULL;
    return strndup(t ? t : "", len);
}

int cmd_template(int argc, char **argv)
{
    enum { O_FILE = 256, O_BOS, O_EOS, O_MESSAGES, O_NO_GEN, O_VARS };
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"template-file", required_argument, NULL, O_FILE},
                                         {"bos", required_argument, NULL, O_BOS},
                                         {"eos", required_argument, NULL, O_EOS},
                                         {"messages-json", required_argument, NULL, O_MESSAGES},
                                         {"no-generation-prompt", no_argument, NULL, O_NO_GEN},
                                         {"variables-json", required_argument, NULL, O_VARS},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    const char *model_path = NULL, *tmpl_path = NULL, *bos = NULL, *eos = NULL;
    const char *messages_path = NULL, *vars_path = NULL;
    bool generation_prompt = true;
    int c;
    while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case O_FILE: tmpl_path = optarg; break;
        case O_BOS: bos = optarg; break;
        case O_EOS: eos = optarg; break;
        case O_MESSAGES: messages_path = optarg; break;
        case O_NO_GEN: generation_prompt = false; break;
        case O_VARS: vars_path = optarg; break;
        case 'h': printf("%s\n", USAGE); return 0;
        default: return cli_usage(USAGE);
        }
    }
    if (!messages_path || !model_path == !tmpl_path || optind != argc ||
        (model_path && (bos || eos)))
        return cli_usage(USAGE);

    _cleanup_free_ char *messages = NULL, *vars = NULL, *source = NULL;
    _cleanup_free_ char *bos_text = NULL, *eos_text = NULL;
    size_t len;
    if (cli_read_file(messages_path, &messages, &len, INPUT_LIMIT) < 0)
        return cli_fail("%s: cannot read", messages_path);
    if (vars_path && cli_read_file(vars_path, &vars, &len, INPUT_LIMIT) < 0)
        return cli_fail("%s: cannot read", vars_path);
    slm_error err;
    _cleanup_(slm_model_freep) slm_model *model = NULL;
    if (model_path) {
        if (!(model = slm_model_load(model_path, &err)))
            return cli_fail_err(&err);
        const char *t = slm_model_info(model)->chat_template;
        if (!t)
            return cli_fail("%s: the model has no chat template", model_path);
        source = strdup(t);
        const slm_tokenizer *tok = slm_model_tokenizer(model);
        const struct slm_special_tokens *sp = slm_tokenizer_special(tok);
        bos_text = token_text(tok, sp->bos);
        eos_text = token_text(tok, sp->eos);
    } else {
        if (cli_read_file(tmpl_path, &source, &len, INPUT_LIMIT) < 0)
            return cli_fail("%s: cannot read", tmpl_path);
        bos_text = strdup(bos ? bos : "");
        eos_text = strdup(eos ? eos : "");
    }
    if (!source || !bos_text || !eos_text)
        return cli_fail("out of memory");
    _cleanup_(slm_template_freep) slm_template *tmpl = slm_template_compile(source, strlen(source),
                                                                        &err);
    if (!tmpl)
        return cli_fail("chat template: %s", err.message);
    struct slm_template_input in = {.add_generation_prompt = generation_prompt,
                                    .bos_token = bos_text,
                                    .eos_token = eos_text};
    /* strftime_now left undefined, as the reference renders (and slmd's chat) do */
    struct slm_template_options render_opts = {
        .messages_json = messages, .variables_json = vars, .without_strftime_now = true};
    _cleanup_free_ char *out = NULL;
    size_t out_len = 0;
    if (slm_template_render_ex(tmpl, &in, &render_opts, NULL, &out, &out_len, &err) < 0)
        return err.status == SLM_ERR_TEMPLATE ? cli_fail("chat template: %s", err.message)
                                              : cli_fail_err(&err);
    fwrite(out, 1, out_len, stdout);
    return 0;
}
