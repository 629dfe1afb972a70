/* slm classify -m MODEL [--json] [-t THREADS] TEXT...
 *
 * Sequence classifiers print one line per text, "LABEL<TAB>SCORE"; token classifiers
 * print one line per entity, "LABEL<TAB>START<TAB>END<TAB>SCORE<TAB>TEXT" (byte offsets
 * into the text), with an empty line between texts. --json prints a list with one object
 * per text: {"text", "label", "score", "labels": [{"label", "score"}...], "truncated"} or
 * {"text", "entities": [{"label", "start", "end", "score", "text"}...], "truncated"}. */
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

#define USAGE "usage: slm classify -m MODEL [--json] [-t THREADS] TEXT..."

static void print_json(json_object *list)
{
    puts(json_object_to_json_string_ext(list, JSON_C_TO_STRING_PRETTY |
                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
}

static uint32_t best_label(const float *probs, uint32_t n)
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < n; i++)
        if (probs[i] > probs[best])
            best = i;
    return best;
}

static json_object *sequence_json(const struct slm_model_info *info, const char *text,
                                  const float *probs, bool truncated)
{
    json_object *o = json_object_new_object();
    uint32_t best = best_label(probs, info->n_labels);
    json_object_object_add(o, "text", json_object_new_string(text));
    json_object_object_add(o, "label", json_object_new_string(info->labels[best]));
    json_object_object_add(o, "score", json_object_new_double(probs[best]));
    json_object *all = json_object_new_array();
    /* best first, like the D-Bus and HTTP answers */
    bool *done = calloc(info->n_labels, sizeof(*done));
    for (uint32_t k = 0; done && k < info->n_labels; k++) {
        uint32_t pick = 0;
        while (done[pick])
            pick++;
        for (uint32_t i = pick + 1; i < info->n_labels; i++)
            if (!done[i] && probs[i] > probs[pick])
                pick = i;
        done[pick] = true;
        json_object *l = json_object_new_object();
        json_object_object_add(l, "label", json_object_new_string(info->labels[pick]));
        json_object_object_add(l, "score", json_object_new_double(probs[pick]));
        json_object_array_add(all, l);
    }
    free(done);
    json_object_object_add(o, "labels", all);
    json_object_object_add(o, "truncated", json_object_new_boolean(truncated));
    return o;
}

static int classify_sequences(slm_forward_ctx *ctx, slm_pool *pool,
                              const struct slm_model_info *info, size_t n,
                              const struct slm_text *texts, bool json)
{
    _cleanup_free_ float *probs = malloc(n * info->n_labels * sizeof(float));
    _cleanup_free_ bool *truncated = calloc(n, sizeof(bool));
    if (!probs || !truncated)
        return cli_fail("out of memory");
    slm_error err;
    if (slm_task_classify(ctx, pool, n, texts, probs, truncated, NULL, &err) < 0)
        return cli_fail_err(&err);
    _cleanup_(json_object_putp) json_object *list = json ? json_object_new_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        const float *p = probs + i * info->n_labels;
        if (json) {
            json_object_array_add(list, sequence_json(info, texts[i].text, p, truncated[i]));
            continue;
        }
        uint32_t best = best_label(p, info->n_labels);
        printf("%s\t%.4f\n", info->labels[best], p[best]);
    }
    if (json)
        print_json(list);
    return 0;
}

static json_object *entities_json(const char *text, const struct slm_entity_list *list,
                                  bool truncated)
{
    json_object *o = json_object_new_object(), *items = json_object_new_array();
    json_object_object_add(o, "text", json_object_new_string(text));
    for (size_t k = 0; k < list->n; k++) {
        const struct slm_entity_span *e = &list->items[k];
        json_object *j = json_object_new_object();
        json_object_object_add(j, "label", json_object_new_string(e->label));
        json_object_object_add(j, "start", json_object_new_int64(e->start));
        json_object_object_add(j, "end", json_object_new_int64(e->end));
        json_object_object_add(j, "score", json_object_new_double(e->score));
        json_object_object_add(j, "text",
                               json_object_new_string_len(text + e->start,
                                                          (int)(e->end - e->start)));
        json_object_array_add(items, j);
    }
    json_object_object_add(o, "entities", items);
    json_object_object_add(o, "truncated", json_object_new_boolean(truncated));
    return o;
}

static int classify_tokens(slm_forward_ctx *ctx, slm_pool *pool, size_t n,
                           const struct slm_text *texts, bool json)
{
    _cleanup_free_ struct slm_entity_list *lists = calloc(n, sizeof(*lists));
    _cleanup_free_ bool *truncated = calloc(n, sizeof(bool));
    if (!lists || !truncated)
        return cli_fail("out of memory");
    slm_error err;
    if (slm_task_classify_tokens(ctx, pool, n, texts, lists, truncated, NULL, &err) < 0)
        return cli_fail_err(&err);
    _cleanup_(json_object_putp) json_object *list = json ? json_object_new_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        if (json)
            json_object_array_add(list, entities_json(texts[i].text, &lists[i], truncated[i]));
        else {
            if (i)
                printf("\n");
            for (size_t k = 0; k < lists[i].n; k++) {
                const struct slm_entity_span *e = &lists[i].items[k];
                printf("%s\t%u\t%u\t%.4f\t%.*s\n", e->label, e->start, e->end, e->score,
                       (int)(e->end - e->start), texts[i].text + e->start);
            }
        }
        slm_entity_list_free(&lists[i]);
    }
    if (json)
        print_json(list);
    return 0;
}

int cmd_classify(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"json", no_argument, NULL, 'J'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    const char *model_path = NULL;
    bool json = false;
    long long threads = 0;
    int c;
    while ((c = getopt_long(argc, argv, "m:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'J': json = true; break;
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
    if (info->kind != SLM_MODEL_ENCODER || info->head == SLM_HEAD_NONE)
        return cli_fail("%s is not a classifier (it is %s); use 'slm %s'", model_path,
                        info->kind == SLM_MODEL_DECODER ? "a decoder" : "an embedding model",
                        info->kind == SLM_MODEL_DECODER ? "generate" : "embed");
    _cleanup_(slm_pool_freep) slm_pool *pool = slm_pool_new(cli_threads(threads), &err);
    if (!pool)
        return cli_fail_err(&err);
    _cleanup_(slm_forward_ctx_freep) slm_forward_ctx *ctx =
        slm_forward_ctx_new(model, info->n_ctx_train, &err);
    if (!ctx)
        return cli_fail_err(&err);
    if (info->head == SLM_HEAD_TOKEN_CLASS)
        return classify_tokens(ctx, pool, n, texts, json);
    return classify_sequences(ctx, pool, info, n, texts, json);
}
