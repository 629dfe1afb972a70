/* slm info -m MODEL | slm info --cpu */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "kernels/kernels.h"
#include "slm/model.h"
#include "util/cleanup.h"

SLM_DEFINE_CLEANUP(slm_model, slm_model_free)

static const char *kind_name(const struct slm_model_info *info)
{
    if (info->kind == SLM_MODEL_DECODER)
        return "decoder (generate, chat)";
    switch (info->head) {
    case SLM_HEAD_SEQUENCE_CLASS: return "encoder, sequence classifier (classify)";
    case SLM_HEAD_TOKEN_CLASS: return "encoder, token classifier (token-classify)";
    default: return "encoder (embed)";
    }
}

static int print_cpu(void)
{
    slm_kernels_init();
    printf("kernels: %s\n", slm_cpu_level_name(slm_cpu_level()));
    printf("cpu features: %s\n", slm_cpu_features());
    return 0;
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"cpu", no_argument, NULL, 'C'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    const char *model_path = NULL;
    bool cpu = false;
    int c;
    while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'C': cpu = true; break;
        case 'h': printf("usage: slm info -m MODEL | slm info --cpu\n"); return 0;
        default: return cli_usage("usage: slm info -m MODEL | slm info --cpu");
        }
    }
    if (optind != argc || (!model_path && !cpu))
        return cli_usage("usage: slm info -m MODEL | slm info --cpu");
    if (cpu && !model_path)
        return print_cpu();
    slm_error err;
    _cleanup_(slm_model_freep) slm_model *model = slm_model_load(model_path, &err);
    if (!model)
        return cli_fail_err(&err);
    const struct slm_model_info *info = slm_model_info(model);
    const slm_tokenizer *tok = slm_model_tokenizer(model);
    const struct slm_special_tokens *sp = slm_tokenizer_special(tok);
    printf("model: %s\n", info->name);
    printf("path: %s\n", info->path);
    printf("architecture: %s\n", info->architecture);
    printf("kind: %s\n", kind_name(info));
    printf("parameters: %llu\n", (unsigned long long)info->n_params);
    printf("weights: %llu bytes, mostly %s\n", (unsigned long long)info->weight_bytes,
           slm_type_name(info->weight_type));
    printf("vocabulary: %u\n", info->n_vocab);
    printf("embedding: %u\n", info->n_embd);
    printf("layers: %u\n", info->n_layer);
    printf("heads: %u (kv %u, dim %u)\n", info->n_head, info->n_head_kv, info->head_dim);
    printf("feed-forward: %u\n", info->n_ff);
    printf("context (trained): %u\n", info->n_ctx_train);
    for (uint32_t i = 0; i < info->n_labels; i++)
        printf("label %u: %s\n", i, info->labels[i]);
    printf("tokenizer: %s (pre-tokenizer %s), bos %d, eos %d\n", slm_tokenizer_kind_name(tok),
           slm_tokenizer_pre_name(tok), sp->bos, sp->eos);
    _cleanup_free_ char *types = NULL;
    if (slm_model_describe_tensors(model, &types, &err) == 0 && types && *types)
        printf("tensor types:\n%s", types);
    if (info->chat_template)
        printf("chat template:\n%s\n", info->chat_template);
    else
        printf("chat template: none\n");
    if (cpu)
        print_cpu();
    return 0;
}
