/* slm mkmodel --arch ARCH [--preset tinyllama] [--dim D --layers L --heads H --kv-heads K
 *             --ff F --ctx N --vocab N | --vocab-from GGUF] [--type TYPE] [--seed S] -o OUT
 *
 * Writes a model with random weights and a working tokenizer, for tests, benchmarks and
 * the quickstart demo: any shape without downloading anything. The weights are random,
 * so the text it generates is gibberish; point slmd at a real GGUF for real answers. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "slm/mkmodel.h"

#define USAGE                                                                              \
    "usage: slm mkmodel --arch llama|phi3 [--preset tinyllama] [--dim D] [--layers L] "     \
    "[--heads H] [--kv-heads K] [--ff F] [--ctx N] [--vocab N | --vocab-from GGUF] "        \
    "[--type TYPE] [--seed S] -o OUT"

static bool parse_u32(const char *s, long long lo, long long hi, uint32_t *out)
{
    long long v;
    if (!cli_parse_int(s, lo, hi, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

int cmd_mkmodel(int argc, char **argv)
{
    enum { O_ARCH = 256, O_PRESET, O_DIM, O_LAYERS, O_HEADS, O_KV, O_FF, O_CTX, O_VOCAB,
           O_VOCAB_FROM, O_TYPE, O_SEED };
    static const struct option opts[] = {
        {"arch", required_argument, NULL, O_ARCH},      {"preset", required_argument, NULL, O_PRESET},
        {"dim", required_argument, NULL, O_DIM},        {"layers", required_argument, NULL, O_LAYERS},
        {"heads", required_argument, NULL, O_HEADS},    {"kv-heads", required_argument, NULL, O_KV},
        {"ff", required_argument, NULL, O_FF},          {"ctx", required_argument, NULL, O_CTX},
        {"vocab", required_argument, NULL, O_VOCAB},    {"vocab-from", required_argument, NULL, O_VOCAB_FROM},
        {"type", required_argument, NULL, O_TYPE},      {"seed", required_argument, NULL, O_SEED},
        {"output", required_argument, NULL, 'o'},       {"help", no_argument, NULL, 'h'},
        {0}};
    struct slm_random_model s;
    slm_random_model_defaults(&s);
    const char *out = NULL;
    long long seed;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case O_ARCH: s.arch = optarg; break;
        case O_PRESET:
            /* TinyLlama-1.1B's shape */
            ok = !strcmp(optarg, "tinyllama");
            s.dim = 2048, s.layers = 22, s.heads = 32, s.kv_heads = 4, s.ff = 5632;
            s.vocab = 32000;
            break;
        case O_DIM: ok = parse_u32(optarg, 8, 65536, &s.dim); break;
        case O_LAYERS: ok = parse_u32(optarg, 1, 512, &s.layers); break;
        case O_HEADS: ok = parse_u32(optarg, 1, 1024, &s.heads); break;
        case O_KV: ok = parse_u32(optarg, 1, 1024, &s.kv_heads); break;
        case O_FF: ok = parse_u32(optarg, 1, 1 << 20, &s.ff); break;
        case O_CTX: ok = parse_u32(optarg, 16, 1 << 20, &s.ctx); break;
        case O_VOCAB: ok = parse_u32(optarg, 1, 1 << 20, &s.vocab); break;
        case O_VOCAB_FROM: s.vocab_from = optarg; break;
        case O_TYPE: ok = slm_type_from_name(optarg, &s.type); break;
        case O_SEED:
            ok = cli_parse_int(optarg, 0, INT64_MAX, &seed);
            s.seed = (uint64_t)seed;
            break;
        case 'o': out = optarg; break;
        case 'h': printf("%s\n", USAGE); return 0;
        default: return cli_usage(USAGE);
        }
        if (!ok)
            return cli_usage("%s: bad value '%s'\n%s", argv[optind - 1], optarg, USAGE);
    }
    if (!out || optind != argc)
        return cli_usage(USAGE);
    slm_error err;
    if (slm_random_model_write(&s, out, &err) < 0)
        return cli_fail_err(&err);
    return 0;
}
