/* slm as a client of a running slmd (DESIGN.md "The slm command"): list, ps, load,
 * unload and chat always; generate, classify and embed when --daemon or --socket is
 * given (without them they run the model in-process, cmd_*.c). --daemon[=system|session]
 * talks D-Bus (client_dbus.c), --socket PATH talks HTTP (client_http.c). */
#ifndef SLM_CLIENT_H
#define SLM_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "ipc/common/buf.h"
#include "slm/template.h" /* struct slm_chat_message */

/* True when argv (argv[0] is the subcommand) is meant for a daemon. */
bool client_wanted(int argc, char **argv);
int client_main(int argc, char **argv);

/* ---- between client_main.c and the two transports ---- */

/* Generation options as the user spelled them: D-Bus passes the strings, HTTP turns
 * them into JSON numbers. Checked by client_main.c before they leave. */
#define CLIENT_MAX_OPTIONS 32
struct client_option {
    const char *key; /* "max_tokens", "temperature", ... "stop" */
    const char *value;
    bool is_text;
};

struct client_generation {
    const char *model;
    const char *prompt;                      /* generate */
    const struct slm_chat_message *messages; /* chat */
    size_t n_messages;
    struct client_option options[CLIENT_MAX_OPTIONS];
    size_t n_options;
    bool stream; /* print pieces as they arrive */
};

struct client_texts {
    const char *model;
    char **texts;
    size_t n;
    bool json;
    bool normalize;
};

struct client;
struct client_backend {
    int (*list)(struct client *c, bool json);
    int (*ps)(struct client *c, bool json);
    int (*load)(struct client *c, const char *model, bool unload);
    /* Appends the whole generated text to `text` (and prints it as it streams). */
    int (*generate)(struct client *c, const struct client_generation *g, struct slm_buf *text);
    int (*classify)(struct client *c, const struct client_texts *t);
    int (*embed)(struct client *c, const struct client_texts *t);
    void (*close)(struct client *c);
};

/* Each returns NULL after printing why it cannot connect. */
struct client *client_dbus_open(const char *bus, const struct client_backend **ops);
struct client *client_http_open(const char *socket_path, const struct client_backend **ops);

/* Output shared by both transports, in the offline commands' formats. */
void client_print_piece(const char *piece, size_t len);
void client_print_embedding(const float *v, size_t n);
/* Prints and frees a JSON value (pretty like `slm classify --json`, or on one line). */
struct json_object;
void client_print_json(struct json_object *value, bool pretty);

#endif
