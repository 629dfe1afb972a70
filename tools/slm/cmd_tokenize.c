/* slm tokenize -m MODEL [--no-bos]: stdin (bytes as they are) → ids on one line.
 * slm detokenize -m MODEL --tokens "ID ...": ids → text. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "slm/model.h"
#include "util/cleanup.h"

SLM_DEFINE_CLEANUP(slm_model, slm_model_free)

/* A prompt larger than this on stdin is refused (the tokenizer's own limit is similar). */
#define STDIN_LIMIT (64u << 20)

int cmd_tokenize(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"no-bos", no_argument, NULL, 'B'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    const char *model_path = NULL;
    bool no_bos = false;
    int c;
    while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'B': no_bos = true; break;
        case 'h': printf("usage: slm tokenize -m MODEL [--no-bos] < text\n"); return 0;
        default: return cli_usage("usage: slm tokenize -m MODEL [--no-bos] < text");
        }
    }
    if (!model_path || optind != argc)
        return cli_usage("usage: slm tokenize -m MODEL [--no-bos] < text");
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (cli_read_all(STDIN_FILENO, &text, &len, STDIN_LIMIT) < 0)
        return cli_fail("cannot read stdin (at most %u bytes)", STDIN_LIMIT);
    slm_error err;
    _cleanup_(slm_model_freep) slm_model *model = slm_model_load(model_path, &err);
    if (!model)
        return cli_fail_err(&err);
    unsigned flags = no_bos ? 0 : SLM_TOKENIZE_ADD_SPECIAL | SLM_TOKENIZE_PARSE_SPECIAL;
    struct slm_tokens toks = {0};
    if (slm_tokenize(slm_model_tokenizer(model), text, len, flags, false, &toks, &err) < 0)
        return cli_fail_err(&err);
    for (size_t i = 0; i < toks.n; i++)
        printf(i ? " %d" : "%d", toks.ids[i]);
    printf("\n");
    slm_tokens_free(&toks);
    return 0;
}

int cmd_detokenize(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"tokens", required_argument, NULL, 'T'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    const char *model_path = NULL, *tokens = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'T': tokens = optarg; break;
        case 'h': printf("usage: slm detokenize -m MODEL --tokens \"ID ...\"\n"); return 0;
        default: return cli_usage("usage: slm detokenize -m MODEL --tokens \"ID ...\"");
        }
    }
    if (!model_path || !tokens || optind != argc)
        return cli_usage("usage: slm detokenize -m MODEL --tokens \"ID ...\"");
    _cleanup_free_ int32_t *ids = NULL;
    size_t n = 0;
    if (cli_parse_ids(tokens, &ids, &n) < 0)
        return cli_usage("--tokens: expected non-negative integers separated by spaces");
    slm_error err;
    _cleanup_(slm_model_freep) slm_model *model = slm_model_load(model_path, &err);
    if (!model)
        return cli_fail_err(&err);
    const slm_tokenizer *tok = slm_model_tokenizer(model);
    for (size_t i = 0; i < n; i++)
        if ((uint32_t)ids[i] >= slm_tokenizer_n_vocab(tok))
            return cli_fail("token id %d is outside the vocabulary (0..%u)", ids[i],
                            slm_tokenizer_n_vocab(tok) - 1);
    _cleanup_free_ char *text = NULL;
    size_t len;
    if (slm_detokenize(tok, ids, n, false, &text, &len, &err) < 0)
        return cli_fail_err(&err);
    fwrite(text, 1, len, stdout);
    return 0;
}
