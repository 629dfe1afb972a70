/* Subcommands whose implementation has not landed yet: each says so and fails. */
#include "cli.h"

#define PENDING(fn, name)                                                                  \
    int fn(int argc, char **argv) { return cli_fail("'slm %s' is not available in this build yet", name); }

PENDING(cmd_classify, "classify")
PENDING(cmd_embed, "embed")
