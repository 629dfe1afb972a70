/* slm generate -m MODEL (-p TEXT | --tokens "ID ...") [-n N] [--temp T] [--top-k K]
 *              [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S] [--stop S]...
 *              [--chat] [--ids] [-t THREADS] [-c CONTEXT]
 *
 * Runs the same engine slmd runs (in this process), so a greedy `slm generate` and a
 * greedy request to the daemon give the same tokens. */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "slm/engine.h"
#include "util/cleanup.h"

SLM_DEFINE_CLEANUP(slm_engine, slm_engine_free)

#define USAGE                                                                              \
    "usage: slm generate -m MODEL (-p TEXT | --tokens \"ID ...\") [-n N] [--temp T] "       \
    "[--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S] [--stop TEXT] "    \
    "[--chat] [--ids] [-t THREADS] [-c CONTEXT]"

#define MAX_STOPS 16

struct run {
    bool ids;
    bool done;
    bool failed;
    bool printed_newline_needed;
    size_t streamed;
};

static void on_token(void *ud, const char *piece, size_t len)
{
    struct run *run = ud;
    if (run->ids)
        return;
    fwrite(piece, 1, len, stdout);
    fflush(stdout);
    run->streamed += len;
}

static void on_done(void *ud, const struct slm_result *res)
{
    struct run *run = ud;
    run->done = true;
    if (res->status != SLM_OK) {
        run->failed = true;
        if (run->streamed)
            fputc('\n', stdout);
        cli_fail("%s", res->error);
        return;
    }
    if (run->ids) {
        for (size_t i = 0; i < res->n_tokens; i++)
            printf(i ? " %d" : "%d", res->tokens[i]);
        printf("\n");
    } else {
        printf("\n");
    }
}

struct options {
    const char *model, *prompt, *tokens;
    const char *stops[MAX_STOPS];
    size_t n_stops;
    long long n, top_k, threads, context;
    double temp, top_p, min_p, repeat_penalty;
    long long seed;
    bool has_seed, chat, ids;
};

static int parse(int argc, char **argv, struct options *o)
{
    enum { O_TOKENS = 256, O_TEMP, O_TOPK, O_TOPP, O_MINP, O_REP, O_SEED, O_STOP, O_CHAT, O_IDS };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},   {"prompt", required_argument, NULL, 'p'},
        {"tokens", required_argument, NULL, O_TOKENS}, {"n-predict", required_argument, NULL, 'n'},
        {"temp", required_argument, NULL, O_TEMP}, {"top-k", required_argument, NULL, O_TOPK},
        {"top-p", required_argument, NULL, O_TOPP}, {"min-p", required_argument, NULL, O_MINP},
        {"repeat-penalty", required_argument, NULL, O_REP},
        {"seed", required_argument, NULL, O_SEED}, {"stop", required_argument, NULL, O_STOP},
        {"chat", no_argument, NULL, O_CHAT},        {"ids", no_argument, NULL, O_IDS},
        {"threads", required_argument, NULL, 't'}, {"context", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},          {0}};
    memset(o, 0, sizeof(*o));
    o->n = -1;
    o->top_k = -1;
    o->temp = o->top_p = o->min_p = o->repeat_penalty = -1;
    int c;
    while ((c = getopt_long(argc, argv, "m:p:n:t:c:h", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'm': o->model = optarg; break;
        case 'p': o->prompt = optarg; break;
        case O_TOKENS: o->tokens = optarg; break;
        case 'n': ok = cli_parse_int(optarg, 0, 1000000, &o->n); break;
        case O_TEMP: ok = cli_parse_float(optarg, 0, 100, &o->temp); break;
        case O_TOPK: ok = cli_parse_int(optarg, 0, 1000000, &o->top_k); break;
        case O_TOPP: ok = cli_parse_float(optarg, 0, 1, &o->top_p); break;
        case O_MINP: ok = cli_parse_float(optarg, 0, 1, &o->min_p); break;
        case O_REP: ok = cli_parse_float(optarg, 0.01, 100, &o->repeat_penalty); break;
        case O_SEED:
            ok = cli_parse_int(optarg, 0, INT64_MAX, &o->seed);
            o->has_seed = true;
            break;
        case O_STOP:
            ok = o->n_stops < MAX_STOPS;
            if (ok)
                o->stops[o->n_stops++] = optarg;
            break;
        case O_CHAT: o->chat = true; break;
        case O_IDS: o->ids = true; break;
        case 't': ok = cli_parse_int(optarg, 0, 256, &o->threads); break;
        case 'c': ok = cli_parse_int(optarg, 1, 1 << 20, &o->context); break;
        case 'h': printf("%s\n", USAGE); return -1;
        default: return cli_usage(USAGE);
        }
        if (!ok)
            return cli_usage("%s: bad value '%s'\n%s", argv[optind - 1], optarg, USAGE);
    }
    if (!o->model || (!o->prompt == !o->tokens) || optind != argc ||
        (o->chat && o->tokens))
        return cli_usage(USAGE);
    return 0;
}

int cmd_generate(int argc, char **argv)
{
    struct options o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    _cleanup_free_ int32_t *ids = NULL;
    size_t n_ids = 0;
    if (o.tokens && (cli_parse_ids(o.tokens, &ids, &n_ids) < 0 || !n_ids))
        return cli_usage("--tokens: expected one or more non-negative integers");

    slm_error err;
    struct slm_engine_config cfg = {.n_threads = (uint32_t)cli_threads(o.threads),
                                    .max_queue = 1};
    _cleanup_(slm_engine_freep) slm_engine *engine = slm_engine_new(&cfg, &err);
    if (!engine)
        return cli_fail_err(&err);
    struct slm_model_spec spec;
    slm_model_spec_init(&spec);
    spec.name = "cli";
    spec.path = o.model;
    spec.context = (uint32_t)o.context;
    spec.preload = true;
    if (slm_engine_configure(engine, &spec, 1, &err) < 0)
        return cli_fail_err(&err);

    struct slm_request_params p;
    slm_request_params_init(&p, o.chat ? SLM_REQ_CHAT : SLM_REQ_GENERATE);
    struct slm_chat_message msg = {"user", o.prompt};
    if (o.chat) {
        p.messages = &msg;
        p.n_messages = 1;
    } else if (o.prompt) {
        p.text = o.prompt;
        p.text_len = strlen(o.prompt);
    } else {
        p.tokens = ids;
        p.n_tokens = n_ids;
    }
    p.max_tokens = (int32_t)o.n;
    p.sampling.temperature = (float)o.temp;
    p.sampling.top_k = (int32_t)o.top_k;
    p.sampling.top_p = (float)o.top_p;
    p.sampling.min_p = (float)o.min_p;
    p.sampling.repeat_penalty = (float)o.repeat_penalty;
    p.sampling.has_seed = o.has_seed;
    p.sampling.seed = (uint64_t)o.seed;
    p.stop = o.stops;
    p.n_stop = o.n_stops;
    p.stream = !o.ids;
    struct run run = {.ids = o.ids};
    struct slm_request_callbacks cb = {on_token, on_done, &run};
    if (!slm_engine_submit(engine, "cli", &p, &cb, &err))
        return cli_fail_err(&err);
    struct pollfd pfd = {.fd = slm_engine_event_fd(engine), .events = POLLIN};
    while (!run.done) {
        if (poll(&pfd, 1, -1) > 0)
            slm_engine_dispatch(engine);
    }
    return run.failed ? 1 : 0;
}
