/* Shared plumbing of the `slm` subcommands: exit codes, error printing, argument helpers. */
#ifndef SLM_CLI_H
#define SLM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slm/error.h"

/* Exit statuses (DESIGN.md): 0 success, 1 failure, 2 usage error. */
#define EXIT_USAGE 2

/* Prints "slm: error: MESSAGE" and returns 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the error's message the same way and returns 1. */
int cli_fail_err(const slm_error *err);
/* Prints "slm: USAGE-LINE" to stderr and returns EXIT_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Strict number parsing for options: the whole string, in range. */
bool cli_parse_int(const char *s, long long lo, long long hi, long long *out);
bool cli_parse_float(const char *s, double lo, double hi, double *out);
/* "1 2 3" (spaces, tabs, newlines or commas) into a malloc'd array. */
int cli_parse_ids(const char *s, int32_t **ids, size_t *n);
/* Reads a whole stream/file into a malloc'd buffer (NUL-terminated, length in *len). */
int cli_read_all(int fd, char **out, size_t *len, size_t limit);
int cli_read_file(const char *path, char **out, size_t *len, size_t limit);

/* Threads for -t: 0 means online CPUs. */
int cli_threads(long long t);

typedef int (*cli_command_fn)(int argc, char **argv);

int cmd_generate(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_template(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_mkmodel(int argc, char **argv);

#endif
