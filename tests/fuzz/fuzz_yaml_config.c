/* Fuzz target: slmd.yaml parsing and validation (yaml_tree.c, config.c, config_values.c).
 * No file-system or group-database checks, so that a run is deterministic and fast. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "daemon/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slmd_config *config = NULL;
    struct slmd_diagnostics diag;
    int r = slmd_config_parse("fuzz.yaml", (const char *)data, size, 0, &config, &diag);
    if (r == 0) {
        /* touch what the daemon reads from a good config */
        volatile size_t sum = config->server.n_allowed_groups + config->threads;
        for (size_t i = 0; i < config->n_models; i++)
            sum += strlen(config->models[i].name) + strlen(config->models[i].path);
        (void)sum;
        if (diag.n != 0)
            __builtin_trap(); /* success must come with no errors */
        slmd_config_free(config);
    } else if (diag.n == 0) {
        __builtin_trap(); /* failure must say why */
    }
    for (size_t i = 0; i < diag.n; i++)
        if (strncmp(diag.lines[i], "fuzz.yaml", 9) != 0)
            __builtin_trap(); /* every message names the file */
    slmd_diagnostics_clear(&diag);
    return 0;
}
