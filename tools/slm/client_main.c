/* slm's client commands: option parsing and the interactive chat loop; the transports
 * are client_dbus.c and client_http.c (see client.h). */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "util/cleanup.h"

#define USAGE_LIST "usage: slm list [--daemon[=system|session] | --socket PATH] [--json]"
#define USAGE_PS "usage: slm ps [--daemon[=system|session] | --socket PATH] [--json]"
#define USAGE_LOAD "usage: slm load|unload NAME [--daemon[=system|session]]"
#define USAGE_GENERATE                                                                     \
    "usage: slm generate (--daemon[=BUS] | --socket PATH) -m NAME -p TEXT [--chat] [-n N] "  \
    "[--temp T] [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S] "        \
    "[--stop TEXT]... [--ignore-eos] [--no-stream]"
#define USAGE_CHAT                                                                         \
    "usage: slm chat [--daemon[=BUS] | --socket PATH] -m NAME [-s SYSTEM] [-n N] [--temp T] " \
    "[--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S] [--stop TEXT]..."
#define USAGE_CLASSIFY "usage: slm classify (--daemon[=BUS] | --socket PATH) -m NAME [--json] TEXT..."
#define USAGE_EMBED                                                                        \
    "usage: slm embed (--daemon[=BUS] | --socket PATH) -m NAME [--json] [--normalize] TEXT..."

/* A chat line read from stdin; longer lines are an error rather than a huge request. */
#define CHAT_LINE_MAX (1u << 20)
/* Turns kept in a chat (user + assistant messages); past it the oldest go. */
#define CHAT_MAX_MESSAGES 256

static const char *const client_only[] = {"list", "ps", "load", "unload", "chat"};
static const char *const dual[] = {"generate", "classify", "embed"};

bool client_wanted(int argc, char **argv)
{
    for (size_t i = 0; i < SLM_ARRAY_SIZE(client_only); i++)
        if (!strcmp(argv[0], client_only[i]))
            return true;
    bool is_dual = false;
    for (size_t i = 0; i < SLM_ARRAY_SIZE(dual); i++)
        is_dual |= !strcmp(argv[0], dual[i]);
    if (!is_dual)
        return false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strncmp(argv[i], "--daemon", 8) && (!argv[i][8] || argv[i][8] == '='))
            return true;
        if (!strcmp(argv[i], "--socket") || !strncmp(argv[i], "--socket=", 9))
            return true;
    }
    return false;
}

void client_print_piece(const char *piece, size_t len)
{
    fwrite(piece, 1, len, stdout);
    fflush(stdout);
}

void client_print_json(struct json_object *value, bool pretty)
{
    puts(json_object_to_json_string_ext(value, (pretty ? JSON_C_TO_STRING_PRETTY
                                                       : JSON_C_TO_STRING_PLAIN) |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(value);
}

void client_print_embedding(const float *v, size_t n)
{
    for (size_t j = 0; j < n; j++)
        printf(j + 1 < n ? "%.7g " : "%.7g\n", v[j]);
}

/* ---- options ---- */

struct args {
    const char *bus;    /* --daemon[=BUS] */
    const char *socket; /* --socket PATH */
    bool daemon;
    const char *model, *prompt, *system;
    bool chat, json, normalize, no_stream;
    struct client_generation gen;
};

static bool add_option(struct args *a, const char *key, const char *value, bool is_text)
{
    if (a->gen.n_options == CLIENT_MAX_OPTIONS)
        return false;
    a->gen.options[a->gen.n_options++] = (struct client_option){key, value, is_text};
    return true;
}

/* Checks a value the way the offline commands do, then keeps the user's spelling. */
static bool int_option(struct args *a, const char *key, const char *value, long long lo,
                       long long hi)
{
    long long v;
    return cli_parse_int(value, lo, hi, &v) && add_option(a, key, value, false);
}

static bool real_option(struct args *a, const char *key, const char *value, double lo, double hi)
{
    double v;
    return cli_parse_float(value, lo, hi, &v) && add_option(a, key, value, false);
}

enum {
    O_DAEMON = 256,
    O_SOCKET,
    O_TEMP,
    O_TOPK,
    O_TOPP,
    O_MINP,
    O_REP,
    O_SEED,
    O_STOP,
    O_CHAT,
    O_JSON,
    O_NORMALIZE,
    O_NO_STREAM,
    O_IGNORE_EOS,
};

static int parse(int argc, char **argv, struct args *a, const char *usage)
{
    static const struct option opts[] = {
        {"daemon", optional_argument, NULL, O_DAEMON},
        {"socket", required_argument, NULL, O_SOCKET},
        {"model", required_argument, NULL, 'm'},
        {"prompt", required_argument, NULL, 'p'},
        {"system", required_argument, NULL, 's'},
        {"n-predict", required_argument, NULL, 'n'},
        {"temp", required_argument, NULL, O_TEMP},
        {"top-k", required_argument, NULL, O_TOPK},
        {"top-p", required_argument, NULL, O_TOPP},
        {"min-p", required_argument, NULL, O_MINP},
        {"repeat-penalty", required_argument, NULL, O_REP},
        {"seed", required_argument, NULL, O_SEED},
        {"stop", required_argument, NULL, O_STOP},
        {"chat", no_argument, NULL, O_CHAT},
        {"json", no_argument, NULL, O_JSON},
        {"normalize", no_argument, NULL, O_NORMALIZE},
        {"no-stream", no_argument, NULL, O_NO_STREAM},
        {"ignore-eos", no_argument, NULL, O_IGNORE_EOS},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    memset(a, 0, sizeof(*a));
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "m:p:s:n:h", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case O_DAEMON:
            a->daemon = true;
            a->bus = optarg;
            break;
        case O_SOCKET: a->socket = optarg; break;
        case 'm': a->model = optarg; break;
        case 'p': a->prompt = optarg; break;
        case 's': a->system = optarg; break;
        case 'n': ok = int_option(a, "max_tokens", optarg, 0, 1000000); break;
        case O_TEMP: ok = real_option(a, "temperature", optarg, 0, 100); break;
        case O_TOPK: ok = int_option(a, "top_k", optarg, 0, 1000000); break;
        case O_TOPP: ok = real_option(a, "top_p", optarg, 0, 1); break;
        case O_MINP: ok = real_option(a, "min_p", optarg, 0, 1); break;
        case O_REP: ok = real_option(a, "repeat_penalty", optarg, 0.01, 100); break;
        case O_SEED: ok = int_option(a, "seed", optarg, 0, INT64_MAX); break;
        case O_STOP: ok = *optarg && add_option(a, "stop", optarg, true); break;
        case O_CHAT: a->chat = true; break;
        case O_JSON: a->json = true; break;
        case O_NORMALIZE: a->normalize = true; break;
        case O_NO_STREAM: a->no_stream = true; break;
        case O_IGNORE_EOS: ok = add_option(a, "ignore_eos", "true", false); break;
        case 'h': printf("%s\n", usage); return -1;
        default: return cli_usage("%s", usage);
        }
        if (!ok)
            return cli_usage("%s: bad value '%s'\n%s", argv[optind - 1], optarg, usage);
    }
    if (a->daemon && a->socket)
        return cli_usage("--daemon and --socket are two ways to reach slmd: pick one\n%s",
                         usage);
    return 0;
}

static struct client *open_client(const struct args *a, const struct client_backend **ops)
{
    if (a->socket)
        return client_http_open(a->socket, ops);
    return client_dbus_open(a->bus, ops);
}

/* ---- commands ---- */

static int run_chat(struct client *c, const struct client_backend *ops, struct args *a)
{
    struct slm_chat_message messages[CHAT_MAX_MESSAGES + 1];
    char *owned[CHAT_MAX_MESSAGES + 1] = {0};
    size_t n = 0, first = 0;
    if (a->system)
        messages[n++] = (struct slm_chat_message){"system", a->system};
    first = n;
    bool tty = isatty(STDIN_FILENO);
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    for (;;) {
        if (tty)
            fputs("> ", stderr);
        ssize_t len = getline(&line, &cap, stdin);
        if (len < 0)
            break;
        if ((size_t)len > CHAT_LINE_MAX) {
            rc = cli_fail("a line longer than %u bytes", CHAT_LINE_MAX);
            break;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!len)
            continue;
        if (n + 2 > CHAT_MAX_MESSAGES) { /* forget the oldest exchange */
            free(owned[first]);
            free(owned[first + 1]);
            memmove(&messages[first], &messages[first + 2], (n - first - 2) * sizeof(*messages));
            memmove(&owned[first], &owned[first + 2], (n - first - 2) * sizeof(*owned));
            n -= 2;
        }
        owned[n] = strdup(line);
        if (!owned[n]) {
            rc = cli_fail("out of memory");
            break;
        }
        messages[n] = (struct slm_chat_message){"user", owned[n]};
        n++;
        a->gen.messages = messages;
        a->gen.n_messages = n;
        a->gen.stream = true;
        struct slm_buf reply;
        slm_buf_init(&reply, 0);
        int r = ops->generate(c, &a->gen, &reply);
        printf("\n");
        fflush(stdout);
        if (r) {
            slm_buf_deinit(&reply);
            free(owned[--n]); /* the turn failed: forget its question too */
            owned[n] = NULL;
            rc = r;
            if (!tty)
                break;
            continue;
        }
        owned[n] = slm_buf_steal(&reply, NULL);
        messages[n] = (struct slm_chat_message){"assistant", owned[n] ? owned[n] : ""};
        n++;
    }
    for (size_t i = 0; i < n; i++)
        free(owned[i]);
    return rc;
}

static int run_generate(struct client *c, const struct client_backend *ops, struct args *a)
{
    struct slm_chat_message msg = {"user", a->prompt};
    if (a->chat) {
        a->gen.messages = &msg;
        a->gen.n_messages = 1;
    } else {
        a->gen.prompt = a->prompt;
    }
    a->gen.stream = !a->no_stream;
    struct slm_buf text;
    slm_buf_init(&text, 0);
    int r = ops->generate(c, &a->gen, &text);
    if (r == 0) {
        if (!a->gen.stream)
            client_print_piece(text.data ? text.data : "", text.len);
        printf("\n");
    }
    slm_buf_deinit(&text);
    return r;
}

int client_main(int argc, char **argv)
{
    const char *cmd = argv[0];
    const char *usage = !strcmp(cmd, "list")       ? USAGE_LIST
                        : !strcmp(cmd, "ps")       ? USAGE_PS
                        : !strcmp(cmd, "chat")     ? USAGE_CHAT
                        : !strcmp(cmd, "generate") ? USAGE_GENERATE
                        : !strcmp(cmd, "classify") ? USAGE_CLASSIFY
                        : !strcmp(cmd, "embed")    ? USAGE_EMBED
                                                   : USAGE_LOAD;
    struct args a;
    int r = parse(argc, argv, &a, usage);
    if (r)
        return r < 0 ? 0 : r;
    a.gen.model = a.model;
    char **rest = argv + optind;
    int n_rest = argc - optind;
    bool is_load = !strcmp(cmd, "load") || !strcmp(cmd, "unload");
    bool needs_model = !strcmp(cmd, "generate") || !strcmp(cmd, "chat") ||
                       !strcmp(cmd, "classify") || !strcmp(cmd, "embed");
    if ((needs_model && !a.model) || (is_load && n_rest != 1) ||
        (!strcmp(cmd, "generate") && (!a.prompt || n_rest)) ||
        ((!strcmp(cmd, "classify") || !strcmp(cmd, "embed")) && n_rest < 1) ||
        ((!strcmp(cmd, "list") || !strcmp(cmd, "ps") || !strcmp(cmd, "chat")) && n_rest))
        return cli_usage("%s", usage);
    if (is_load && a.socket)
        return cli_fail("'slm %s' changes slmd's state and goes over D-Bus (--daemon); the "
                        "socket API only serves models", cmd);

    const struct client_backend *ops;
    struct client *c = open_client(&a, &ops);
    if (!c)
        return 1;
    struct client_texts texts = {a.model, rest, (size_t)n_rest, a.json, a.normalize};
    if (!strcmp(cmd, "list"))
        r = ops->list(c, a.json);
    else if (!strcmp(cmd, "ps"))
        r = ops->ps(c, a.json);
    else if (is_load)
        r = ops->load(c, rest[0], !strcmp(cmd, "unload"));
    else if (!strcmp(cmd, "generate"))
        r = run_generate(c, ops, &a);
    else if (!strcmp(cmd, "chat"))
        r = run_chat(c, ops, &a);
    else if (!strcmp(cmd, "classify"))
        r = ops->classify(c, &texts);
    else
        r = ops->embed(c, &texts);
    ops->close(c);
    return r;
}
