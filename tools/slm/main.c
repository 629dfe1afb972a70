/* slm: one binary, one subcommand per file (cmd_*.c). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#ifdef SLM_HAVE_CLIENT
#include "client.h"
#endif

struct command {
    const char *name;
    cli_command_fn run;
    const char *summary;
};

static const struct command commands[] = {
    {"generate", cmd_generate, "continue a prompt (or chat with --chat)"},
    {"tokenize", cmd_tokenize, "print the token ids of stdin"},
    {"detokenize", cmd_detokenize, "print the text of token ids"},
    {"logits", cmd_logits, "write the model's raw outputs for token ids"},
    {"classify", cmd_classify, "label texts with a classifier model"},
    {"embed", cmd_embed, "embed texts with an embedding model"},
    {"info", cmd_info, "describe a model file or directory (or --cpu)"},
    {"bench", cmd_bench, "measure prompt and generation speed"},
    {"template", cmd_template, "render a chat template"},
    {"quantize", cmd_quantize, "convert a GGUF's weights to another type"},
    {"mkmodel", cmd_mkmodel, "write a random-weight model of any shape"},
};

static int usage(FILE *f)
{
    fprintf(f, "usage: slm COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
#ifdef SLM_HAVE_CLIENT
    /* client commands (client_main.c); generate, classify and embed also take --daemon or
     * --socket PATH to run on a running slmd */
    fprintf(f, "\nwith a running slmd (--daemon[=system|session] or --socket PATH):\n"
               "  list        the configured models\n"
               "  ps          what the models are doing\n"
               "  load        load a model (root)\n"
               "  unload      unload a model (root)\n"
               "  chat        chat with a model, streaming the replies\n");
#endif
    fprintf(f, "\n'slm COMMAND --help' shows a command's options; see slm(1).\n");
    return f == stdout ? 0 : EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
        return usage(stdout);
    if (!strcmp(argv[1], "--version")) {
        printf("slm %s\n", SLM_VERSION);
        return 0;
    }
#ifdef SLM_HAVE_CLIENT
    /* list/ps/load/unload/chat, and generate/classify/embed with --daemon or --socket */
    if (client_wanted(argc - 1, argv + 1))
        return client_main(argc - 1, argv + 1);
#endif
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "slm: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
