/* encoder_mkmodel: writes a random-weight DistilBERT as a Hugging Face directory
 * (config.json, model.safetensors, vocab.txt), the shape given on the command line —
 * by default distilbert-base (dim 768, 6 layers, 12 heads, FFN 3072, vocab 30522) with a
 * 2-label sequence-classification head. Both slmd and the PyTorch baseline
 * (torch_baseline.py) load the same files.
 *
 *   encoder_mkmodel -o DIR [--dim D] [--layers L] [--heads H] [--ff F] [--vocab V]
 *                   [--positions P] [--labels N] [--seed S]
 *
 * Weights are uniform with the standard deviation of BERT's initialiser (0.02), LayerNorm
 * weights 1 and biases 0; written tensor by tensor, so memory stays small. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_TENSORS 512
#define INIT_STD 0.02f

struct tensor {
    char name[128];
    int64_t rows, cols; /* cols 0: a vector */
    enum { RANDOM, ONES, ZEROS } fill;
};

static struct tensor tensors[MAX_TENSORS];
static int n_tensors;

static void add(const char *name, int64_t rows, int64_t cols, int fill)
{
    if (n_tensors == MAX_TENSORS) {
        fprintf(stderr, "encoder_mkmodel: too many tensors\n");
        exit(1);
    }
    struct tensor *t = &tensors[n_tensors++];
    snprintf(t->name, sizeof(t->name), "%s", name);
    t->rows = rows;
    t->cols = cols;
    t->fill = fill;
}

static void add_linear(const char *prefix, int64_t n_in, int64_t n_out)
{
    char name[128];
    snprintf(name, sizeof(name), "%s.weight", prefix);
    add(name, n_out, n_in, RANDOM);
    snprintf(name, sizeof(name), "%s.bias", prefix);
    add(name, n_out, 0, ZEROS);
}

static void add_norm(const char *prefix, int64_t n)
{
    char name[128];
    snprintf(name, sizeof(name), "%s.weight", prefix);
    add(name, n, 0, ONES);
    snprintf(name, sizeof(name), "%s.bias", prefix);
    add(name, n, 0, ZEROS);
}

static uint64_t rng_state;

static float next_uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    /* uniform in [-a, a] has standard deviation a / sqrt(3) */
    float u = (float)((rng_state >> 40) * 0x1.0p-24) * 2 - 1;
    return u * INIT_STD * 1.7320508f;
}

static int64_t elements(const struct tensor *t) { return t->rows * (t->cols ? t->cols : 1); }

static int write_safetensors(const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    char *header = NULL;
    size_t header_len = 0;
    FILE *h = open_memstream(&header, &header_len);
    fputc('{', h);
    int64_t offset = 0;
    for (int i = 0; i < n_tensors; i++) {
        const struct tensor *t = &tensors[i];
        int64_t bytes = elements(t) * 4;
        if (t->cols)
            fprintf(h, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld,%lld],\"data_offsets\":[%lld,%lld]}",
                    i ? "," : "", t->name, (long long)t->rows, (long long)t->cols,
                    (long long)offset, (long long)(offset + bytes));
        else
            fprintf(h, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld],\"data_offsets\":[%lld,%lld]}",
                    i ? "," : "", t->name, (long long)t->rows, (long long)offset,
                    (long long)(offset + bytes));
        offset += bytes;
    }
    fprintf(h, ",\"__metadata__\":{\"format\":\"pt\"}}");
    /* pad so that the data starts 8-byte aligned, as the reference writer does */
    while ((ftell(h) + 8) % 8)
        fputc(' ', h);
    fclose(h);
    uint64_t n = header_len;
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(n >> (8 * i));
    fwrite(le, 1, 8, f);
    fwrite(header, 1, header_len, f);
    free(header);
    float buf[4096];
    for (int i = 0; i < n_tensors; i++) {
        const struct tensor *t = &tensors[i];
        for (int64_t done = 0, total = elements(t); done < total;) {
            int64_t chunk = total - done < 4096 ? total - done : 4096;
            for (int64_t k = 0; k < chunk; k++)
                buf[k] = t->fill == RANDOM ? next_uniform() : t->fill == ONES ? 1.0f : 0.0f;
            fwrite(buf, sizeof(float), (size_t)chunk, f);
            done += chunk;
        }
    }
    return fclose(f);
}

static int write_text(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* bert-base-uncased's layout of special tokens; the rest are placeholder words. */
static int write_vocab(const char *dir, int vocab)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/vocab.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (int i = 0; i < vocab; i++) {
        if (i == 0)
            fputs("[PAD]\n", f);
        else if (i < 100)
            fprintf(f, "[unused%d]\n", i - 1);
        else if (i == 100)
            fputs("[UNK]\n", f);
        else if (i == 101)
            fputs("[CLS]\n", f);
        else if (i == 102)
            fputs("[SEP]\n", f);
        else if (i == 103)
            fputs("[MASK]\n", f);
        else
            fprintf(f, "w%d\n", i);
    }
    return fclose(f);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'}, {"dim", required_argument, NULL, 'd'},
        {"layers", required_argument, NULL, 'l'}, {"heads", required_argument, NULL, 'H'},
        {"ff", required_argument, NULL, 'f'},     {"vocab", required_argument, NULL, 'v'},
        {"positions", required_argument, NULL, 'p'}, {"labels", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},   {0}};
    const char *dir = NULL;
    long dim = 768, layers = 6, heads = 12, ff = 3072, vocab = 30522, positions = 512, labels = 2;
    long seed = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        long v = optarg ? strtol(optarg, NULL, 10) : 0;
        switch (c) {
        case 'o': dir = optarg; break;
        case 'd': dim = v; break;
        case 'l': layers = v; break;
        case 'H': heads = v; break;
        case 'f': ff = v; break;
        case 'v': vocab = v; break;
        case 'p': positions = v; break;
        case 'n': labels = v; break;
        case 's': seed = v; break;
        default: return 2;
        }
    }
    if (!dir || dim <= 0 || layers <= 0 || heads <= 0 || dim % heads || ff <= 0 ||
        vocab < 104 || positions <= 0 || labels <= 0) {
        fprintf(stderr, "usage: encoder_mkmodel -o DIR [--dim D] [--layers L] [--heads H] "
                        "[--ff F] [--vocab V>=104] [--positions P] [--labels N] [--seed S]\n");
        return 2;
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        perror(dir);
        return 1;
    }
    rng_state = (uint64_t)seed * 0x9E3779B97F4A7C15ull + 1;
    add("distilbert.embeddings.word_embeddings.weight", vocab, dim, RANDOM);
    add("distilbert.embeddings.position_embeddings.weight", positions, dim, RANDOM);
    add_norm("distilbert.embeddings.LayerNorm", dim);
    for (long l = 0; l < layers; l++) {
        char p[128];
        const char *lin[] = {"q_lin", "k_lin", "v_lin", "out_lin"};
        for (int i = 0; i < 4; i++) {
            snprintf(p, sizeof(p), "distilbert.transformer.layer.%ld.attention.%s", l, lin[i]);
            add_linear(p, dim, dim);
        }
        snprintf(p, sizeof(p), "distilbert.transformer.layer.%ld.sa_layer_norm", l);
        add_norm(p, dim);
        snprintf(p, sizeof(p), "distilbert.transformer.layer.%ld.ffn.lin1", l);
        add_linear(p, dim, ff);
        snprintf(p, sizeof(p), "distilbert.transformer.layer.%ld.ffn.lin2", l);
        add_linear(p, ff, dim);
        snprintf(p, sizeof(p), "distilbert.transformer.layer.%ld.output_layer_norm", l);
        add_norm(p, dim);
    }
    add_linear("pre_classifier", dim, dim);
    add_linear("classifier", dim, labels);

    char path[4096], config[4096];
    snprintf(path, sizeof(path), "%s/model.safetensors", dir);
    int o = snprintf(config, sizeof(config),
                     "{\n  \"architectures\": [\"DistilBertForSequenceClassification\"],\n"
                     "  \"model_type\": \"distilbert\",\n  \"activation\": \"gelu\",\n"
                     "  \"dim\": %ld,\n  \"n_layers\": %ld,\n  \"n_heads\": %ld,\n"
                     "  \"hidden_dim\": %ld,\n  \"vocab_size\": %ld,\n"
                     "  \"max_position_embeddings\": %ld,\n  \"id2label\": {",
                     dim, layers, heads, ff, vocab, positions);
    for (long i = 0; i < labels && o < (int)sizeof(config) - 64; i++)
        o += snprintf(config + o, sizeof(config) - (size_t)o, "%s\"%ld\": \"LABEL_%ld\"",
                      i ? ", " : "", i, i);
    snprintf(config + o, sizeof(config) - (size_t)o, "}\n}\n");
    if (write_safetensors(path) < 0 || write_text(dir, "config.json", config) < 0 ||
        write_text(dir, "tokenizer_config.json", "{\"do_lower_case\": true}\n") < 0 ||
        write_vocab(dir, (int)vocab) < 0) {
        perror(dir);
        return 1;
    }
    return 0;
}
