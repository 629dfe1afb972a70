/* slm embed -m MODEL [--json] [--normalize] [-t THREADS] TEXT...
 *
 * One embedding per text, pooled as the model says (mean over the tokens when it does not
 * say) and L2-normalised when the model's sentence-transformers config or --normalize asks.
 * Plain output: one line per text, the floats separated by spaces. --json: a list of
 * {"text", "embedding": [...], "truncated"}. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slm/model.h"
#include "slm/tasks.h"
#include "util/cleanup.h"

SLM_DEFINE_CLEANUP(slm_model, slm_model_free)
SLM_DEFINE_CLEANUP(slm_pool, slm_pool_free)
SLM_DEFINE_CLEANUP(slm_forward_ctx, slm_forward_ctx_free)
SLM_DEFINE_CLEANUP(json_object, json_object_put)

#define USAGE "usage: slm embed -m MODEL [--json] [--normalize] [-t THREADS] TEXT..."

static void print_embeddings(size_t n, const struct slm_text *texts, const float *vecs,
                             uint32_t dim, const bool *truncated, bool json)
{
    if (!json) {
        for (size_t i = 0; i < n; i++)
            for (uint32_t j = 0; j < dim; j++)
                printf(j + 1 < dim ? "%.7g " : "%.7g\n", vecs[i * dim + j]);
        return;
    }
    _cleanup_(json_object_putp) json_object *list = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_new_object(), *v = json_object_new_array_ext((int)dim);
        for (uint32_t j = 0; j < dim; j++)
            json_object_array_add(v, json_object_new_double(vecs[i * dim + j]));
        json_object_object_add(o, "text", json_object_new_string(texts[i].text));
        json_object_object_add(o, "embedding", v);
        json_object_object_add(o, "truncated", json_object_new_boolean(truncated[i]));
        json_object_array_add(list, o);
    }
    puts(json_object_to_json_string_ext(list, JSON_C_TO_STRING_PLAIN |
                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
}

int cmd_embed(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"json", no_argument, NULL, 'J'},
                                         {"normalize", no_argument, NULL, 'N'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    const char *model_path = NULL;
    bool json = false, normalize = false;
    long long threads = 0;
    int c;
    while ((c = getopt_long(argc, argv, "m:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'J': json = true; break;
        case 'N': normalize = true; break;
        case 't':
            if (!cli_parse_int(optarg, 0, 256, &threads))
                return cli_usage("-t: expected a thread count from 0 to 256");
            break;
        case 'h': printf("%s\n", USAGE); return 0;
        default: return cli_usage(USAGE);
        }
    }
    if (!model_path || optind >= argc)
        return cli_usage(USAGE);
    size_t n = (size_t)(argc - optind);
    _cleanup_free_ struct slm_text *texts = calloc(n, sizeof(*texts));
    if (!texts)
        return cli_fail("out of memory");
    for (size_t i = 0; i < n; i++)
        texts[i] = (struct slm_text){argv[optind + i], strlen(argv[optind + i])};

    slm_error err;
    _cleanup_(slm_model_freep) slm_model *model = slm_model_load(model_path, &err);
    if (!model)
        return cli_fail_err(&err);
    const struct slm_model_info *info = slm_model_info(model);
    if (info->kind != SLM_MODEL_ENCODER)
        return cli_fail("%s is a decoder; embeddings need an encoder model", model_path);
    _cleanup_(slm_pool_freep) slm_pool *pool = slm_pool_new(cli_threads(threads), &err);
    if (!pool)
        return cli_fail_err(&err);
    _cleanup_(slm_forward_ctx_freep) slm_forward_ctx *ctx =
        slm_forward_ctx_new(model, info->n_ctx_train, &err);
    if (!ctx)
        return cli_fail_err(&err);
    _cleanup_free_ float *vecs = malloc(n * info->n_embd * sizeof(float));
    _cleanup_free_ bool *truncated = calloc(n, sizeof(bool));
    if (!vecs || !truncated)
        return cli_fail("out of memory");
    if (slm_task_embed(ctx, pool, n, texts, normalize, vecs, truncated, NULL, &err) < 0)
        return cli_fail_err(&err);
    print_embeddings(n, texts, vecs, info->n_embd, truncated, json);
    return 0;
}
