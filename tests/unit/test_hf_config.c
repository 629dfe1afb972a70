/* config.json and sentence-transformers module parsing: valid configs read back with their
 * defaults; each crafted bad config is rejected with an error naming the file and the key;
 * the committed corpus (tests/data/encoder/config/) gives the same errors from disk.
 *
 * `test_hf_config --write-corpus DIR` writes the crafted configs to DIR. */
#include <stdio.h>
#include <sys/stat.h>

#include "format/hf_config.h"
#include "test.h"
#include "test_encoder_builder.h"
#include "util/cleanup.h"

static const char distilbert_sst2[] =
    "{\"architectures\": [\"DistilBertForSequenceClassification\"], \"model_type\": "
    "\"distilbert\", \"activation\": \"gelu\", \"dim\": 64, \"n_layers\": 2, \"n_heads\": 4, "
    "\"hidden_dim\": 128, \"vocab_size\": 30522, \"max_position_embeddings\": 512, "
    "\"sinusoidal_pos_embds\": false, \"dropout\": 0.1, \"id2label\": {\"1\": \"POSITIVE\", "
    "\"0\": \"NEGATIVE\"}, \"label2id\": {\"NEGATIVE\": 0, \"POSITIVE\": 1}}";

static void test_valid_distilbert(void)
{
    struct hf_config c;
    slm_error err;
    REQUIRE(hf_config_parse(distilbert_sst2, strlen(distilbert_sst2), "config.json", &c, &err) ==
            0);
    CHECK(c.model_type == HF_MODEL_DISTILBERT && c.head == SLM_HEAD_SEQUENCE_CLASS);
    CHECK(strcmp(c.architecture, "DistilBertForSequenceClassification") == 0);
    CHECK(c.n_embd == 64 && c.n_layer == 2 && c.n_head == 4 && c.n_ff == 128);
    CHECK(c.n_vocab == 30522 && c.n_pos == 512 && c.n_token_types == 0);
    CHECK(c.layer_norm_eps == 1e-12f && c.activation == HF_ACT_GELU);
    /* labels in id order, whatever the key order in the file */
    REQUIRE(c.n_labels == 2);
    CHECK(strcmp(c.labels[0], "NEGATIVE") == 0 && strcmp(c.labels[1], "POSITIVE") == 0);
    hf_config_deinit(&c);
}

static void test_valid_bert_defaults(void)
{
    /* a hand-written BertModel config: everything but model_type from BERT's defaults */
    const char *text = "{\"model_type\": \"bert\", \"hidden_act\": \"gelu_new\", "
                       "\"layer_norm_eps\": 1e-5}";
    struct hf_config c;
    slm_error err;
    REQUIRE(hf_config_parse(text, strlen(text), "config.json", &c, &err) == 0);
    CHECK(c.model_type == HF_MODEL_BERT && c.head == SLM_HEAD_NONE);
    CHECK(strcmp(c.architecture, "BertModel") == 0);
    CHECK(c.n_embd == 768 && c.n_layer == 12 && c.n_head == 12 && c.n_ff == 3072);
    CHECK(c.n_pos == 512 && c.n_token_types == 2 && c.n_labels == 0 && !c.labels);
    CHECK(c.activation == HF_ACT_GELU_TANH && c.layer_norm_eps == 1e-5f);
    hf_config_deinit(&c);

    text = "{\"model_type\": \"bert\", \"architectures\": [\"BertForTokenClassification\"], "
           "\"hidden_size\": 32, \"num_attention_heads\": 2, \"id2label\": {\"0\": \"O\"}, "
           "\"layer_norm_eps\": 1}";
    CHECK(hf_config_parse(text, strlen(text), "c.json", &c, &err) == -SLM_ERR_FORMAT);
    CHECK(strstr(err.message, "layer_norm_eps"));
}

struct bad_config {
    const char *name;
    const char *text;
    const char *expect;
};

#define DB "\"model_type\": \"distilbert\""
static const struct bad_config bad_configs[] = {
    {"empty", "", "not a complete JSON document"},
    {"not-json", "model_type = bert", "invalid JSON"},
    {"truncated", "{\"model_type\": \"bert\"", "not a complete JSON document"},
    {"trailing", "{\"model_type\": \"bert\"} {}", "invalid JSON"},
    {"array", "[1, 2]", "expected a JSON object"},
    {"no-model-type", "{\"dim\": 64}", "model_type is missing"},
    {"model-type-number", "{\"model_type\": 7}", "model_type: expected a string"},
    {"unknown-model-type", "{\"model_type\": \"roberta\"}", "model_type 'roberta' is not supported"},
    {"unknown-architecture", "{" DB ", \"architectures\": [\"DistilBertForMaskedLM\"]}",
     "architecture 'DistilBertForMaskedLM' is not supported"},
    {"architecture-family", "{" DB ", \"architectures\": [\"BertModel\"]}",
     "does not belong to model_type distilbert"},
    {"architectures-two", "{" DB ", \"architectures\": [\"DistilBertModel\", \"BertModel\"]}",
     "architectures: expected a list of one name"},
    {"dim-string", "{" DB ", \"dim\": \"64\"}", "dim: expected an integer"},
    {"dim-float", "{" DB ", \"dim\": 64.5}", "dim: expected an integer"},
    {"dim-zero", "{" DB ", \"dim\": 0}", "dim: 0 is out of range"},
    {"dim-huge", "{" DB ", \"dim\": 1000000}", "dim: 1000000 is out of range"},
    {"layers-huge", "{" DB ", \"n_layers\": 100000}", "n_layers: 100000 is out of range"},
    {"layers-negative", "{" DB ", \"n_layers\": -2}", "n_layers: -2 is out of range"},
    {"heads-not-dividing", "{" DB ", \"dim\": 64, \"n_heads\": 5}", "dim 64 is not a multiple of n_heads 5"},
    {"vocab-huge", "{" DB ", \"vocab_size\": 99999999999}", "vocab_size"},
    {"positions-zero", "{" DB ", \"max_position_embeddings\": 0}", "max_position_embeddings: 0"},
    {"ff-huge", "{\"model_type\": \"bert\", \"intermediate_size\": 9999999}", "intermediate_size"},
    {"token-types-huge", "{\"model_type\": \"bert\", \"type_vocab_size\": 100000}", "type_vocab_size"},
    {"eps-negative", "{" DB ", \"layer_norm_eps\": -1e-12}", "layer_norm_eps: -1e-12 is out of range"},
    {"eps-string", "{" DB ", \"layer_norm_eps\": \"small\"}", "layer_norm_eps: expected a number"},
    {"activation-unknown", "{" DB ", \"activation\": \"swish\"}", "activation 'swish' is not supported"},
    {"activation-number", "{\"model_type\": \"bert\", \"hidden_act\": 1}", "hidden_act: expected a string"},
    {"labels-array", "{" DB ", \"id2label\": [\"A\", \"B\"]}", "id2label: expected an object"},
    {"labels-gap", "{" DB ", \"id2label\": {\"0\": \"A\", \"2\": \"C\"}}", "key '2' is not a label id from 0 to 1"},
    {"labels-leading-zero", "{" DB ", \"id2label\": {\"00\": \"A\"}}", "key '00' is not a label id"},
    {"labels-negative", "{" DB ", \"id2label\": {\"-1\": \"A\"}}", "key '-1' is not a label id"},
    {"labels-not-string", "{" DB ", \"id2label\": {\"0\": 5}}", "label 0 is not a string"},
    {"labels-empty-name", "{" DB ", \"id2label\": {\"0\": \"\"}}", "label 0 is empty"},
    {"labels-nul", "{" DB ", \"id2label\": {\"0\": \"A\\u0000B\"}}", "holds a NUL"},
};

static void test_bad_configs(void)
{
    for (size_t i = 0; i < SLM_ARRAY_SIZE(bad_configs); i++) {
        const struct bad_config *b = &bad_configs[i];
        struct hf_config c;
        slm_error err = {0};
        size_t len = strlen(b->text);
        char *exact = malloc(len ? len : 1);
        if (len)
            memcpy(exact, b->text, len);
        int r = hf_config_parse(exact, len, "model/config.json", &c, &err);
        free(exact);
        CHECKF(r < 0, "%s was accepted", b->name);
        if (r == 0) {
            hf_config_deinit(&c);
            continue;
        }
        CHECKF(strstr(err.message, b->expect), "%s: got \"%s\", expected \"%s\"", b->name,
               err.message, b->expect);
        CHECKF(strncmp(err.message, "model/config.json: ", 19) == 0, "%s: no file name: %s",
               b->name, err.message);
    }
}

static void test_too_many_labels(void)
{
    struct tb_buf t = {0};
    tb_printf(&t, "{" DB ", \"id2label\": {");
    for (int i = 0; i <= SLM_MAX_LABELS; i++)
        tb_printf(&t, "%s\"%d\": \"L%d\"", i ? ", " : "", i, i);
    tb_printf(&t, "}}");
    struct hf_config c;
    slm_error err;
    CHECK(hf_config_parse(t.data, t.len, "c.json", &c, &err) == -SLM_ERR_FORMAT);
    CHECK(strstr(err.message, "4097 labels"));
    tb_free(&t);
}

static void test_corpus_files(void)
{
    const char *data = getenv("SLM_TEST_DATA");
    if (!data)
        return;
    for (size_t i = 0; i < SLM_ARRAY_SIZE(bad_configs); i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/data/encoder/config/%s.json", data, bad_configs[i].name);
        struct hf_config c;
        slm_error err = {0};
        int r = hf_config_load(path, &c, &err);
        CHECKF(r < 0 && strstr(err.message, path) && strstr(err.message, bad_configs[i].expect),
               "%s: got \"%s\"", path, err.message);
        if (r == 0)
            hf_config_deinit(&c);
    }
    struct hf_config c;
    slm_error err;
    CHECK(hf_config_load("/nonexistent/config.json", &c, &err) == -SLM_ERR_NOT_FOUND);
    CHECK(strstr(err.message, "/nonexistent/config.json"));
}

/* ---- sentence-transformers ---- */

static const char modules_full[] =
    "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": "
    "\"sentence_transformers.models.Transformer\"}, {\"idx\": 1, \"name\": \"1\", \"path\": "
    "\"1_Pooling\", \"type\": \"sentence_transformers.models.Pooling\"}, {\"idx\": 2, "
    "\"name\": \"2\", \"path\": \"2_Normalize\", \"type\": "
    "\"sentence_transformers.models.Normalize\"}]";

static void test_modules(void)
{
    struct hf_sentence_config sc;
    char *pooling = NULL;
    slm_error err;
    REQUIRE(hf_modules_parse(modules_full, strlen(modules_full), "modules.json", &sc, &pooling,
                             &err) == 0);
    CHECK(sc.present && sc.normalize && sc.transformer_path && !*sc.transformer_path);
    CHECK(pooling && strcmp(pooling, "1_Pooling") == 0);
    free(pooling);
    hf_sentence_config_deinit(&sc);

    const char *dense = "[{\"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"},"
                        "{\"path\": \"1_Pooling\", \"type\": \"sentence_transformers.models.Pooling\"},"
                        "{\"path\": \"2_Dense\", \"type\": \"sentence_transformers.models.Dense\"}]";
    CHECK(hf_modules_parse(dense, strlen(dense), "modules.json", &sc, &pooling, &err) ==
          -SLM_ERR_UNSUPPORTED);
    CHECK(strstr(err.message, "module 2") && strstr(err.message, "Dense") && !pooling);
    const char *escape = "[{\"path\": \"../x\", \"type\": \"sentence_transformers.models.Transformer\"}]";
    CHECK(hf_modules_parse(escape, strlen(escape), "modules.json", &sc, &pooling, &err) ==
          -SLM_ERR_FORMAT);
    CHECK(strstr(err.message, "leaves the model directory"));
    const char *no_tf = "[{\"path\": \"1_Pooling\", \"type\": \"sentence_transformers.models.Pooling\"}]";
    CHECK(hf_modules_parse(no_tf, strlen(no_tf), "modules.json", &sc, &pooling, &err) < 0);
    CHECK(hf_modules_parse("{}", 2, "modules.json", &sc, &pooling, &err) == -SLM_ERR_FORMAT);
}

static void test_pooling(void)
{
    struct {
        const char *text;
        int result;
        enum slm_pooling pooling;
    } cases[] = {
        {"{\"word_embedding_dimension\": 384, \"pooling_mode_cls_token\": false, "
         "\"pooling_mode_mean_tokens\": true, \"pooling_mode_max_tokens\": false}",
         0, SLM_POOL_MEAN},
        {"{\"pooling_mode_cls_token\": true}", 0, SLM_POOL_CLS},
        {"{\"pooling_mode_max_tokens\": true}", 0, SLM_POOL_MAX},
        {"{\"pooling_mode_lasttoken\": true}", 0, SLM_POOL_LAST},
        {"{\"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": true}",
         -SLM_ERR_UNSUPPORTED, 0},
        {"{\"pooling_mode_mean_sqrt_len_tokens\": true}", -SLM_ERR_UNSUPPORTED, 0},
        {"{\"pooling_mode_mean_tokens\": 1}", -SLM_ERR_FORMAT, 0},
        {"{}", -SLM_ERR_FORMAT, 0},
    };
    for (size_t i = 0; i < SLM_ARRAY_SIZE(cases); i++) {
        enum slm_pooling p = SLM_POOL_NONE;
        slm_error err;
        int r = hf_pooling_parse(cases[i].text, strlen(cases[i].text), "1_Pooling/config.json",
                                 &p, &err);
        CHECKF(r == cases[i].result, "pooling case %zu: %d (%s)", i, r, r ? err.message : "");
        CHECKF(r || p == cases[i].pooling, "pooling case %zu: %d", i, (int)p);
    }
}

static int write_corpus(const char *dir)
{
    mkdir(dir, 0755);
    for (size_t i = 0; i < SLM_ARRAY_SIZE(bad_configs); i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s.json", dir, bad_configs[i].name);
        if (tb_write_file(path, bad_configs[i].text, strlen(bad_configs[i].text)) < 0) {
            perror(path);
            return 1;
        }
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/valid-distilbert.json", dir);
    return tb_write_file(path, distilbert_sst2, strlen(distilbert_sst2)) < 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
        return write_corpus(argv[2]);
    test_valid_distilbert();
    test_valid_bert_defaults();
    test_bad_configs();
    test_too_many_labels();
    test_corpus_files();
    test_modules();
    test_pooling();
    return test_report();
}
