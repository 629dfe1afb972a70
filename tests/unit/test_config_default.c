/* etc/slmd.yaml, the annotated default config that packages install, must parse and must
 * say what the built-in defaults say (apart from the group it names, which is resolved
 * only where the group exists). */
#include "test.h"

#ifndef SLM_TEST_WITH_DAEMON
int main(void)
{
    printf("SKIPPED: built without the service (SLM_BUILD_SERVICE=OFF)\n");
    return 0;
}
#else

#include "daemon/config.h"

int main(void)
{
    const char *tests = getenv("SLM_TEST_DATA"); /* tests/ in the source tree */
    REQUIRE(tests);
    char path[4096];
    snprintf(path, sizeof(path), "%s/../etc/slmd.yaml", tests);

    struct slmd_config *config = NULL;
    struct slmd_diagnostics diag;
    int r = slmd_config_load(path, SLMD_CONFIG_CHECK_PATHS, &config, &diag);
    for (size_t i = 0; i < diag.n; i++)
        fprintf(stderr, "%s\n", diag.lines[i]);
    slmd_diagnostics_clear(&diag);
    REQUIRE(r == 0);

    struct slmd_server_config defaults;
    slmd_server_config_init(&defaults);
    CHECK(config->threads == 0);
    CHECK(config->memory_limit == 0);
    CHECK(strcmp(config->server.socket_path, defaults.socket_path) == 0);
    CHECK(config->server.socket_mode == defaults.socket_mode);
    CHECK(config->server.bus == defaults.bus);
    CHECK(config->server.max_queue == defaults.max_queue);
    CHECK(config->server.max_body == defaults.max_body);
    CHECK(config->server.request_timeout_usec == defaults.request_timeout_usec);
    /* DESIGN.md: the socket's group and the allowed group are slmd */
    CHECK(config->server.has_socket_group);
    CHECK(config->server.n_allowed_groups == 1);
    /* a fresh install serves nothing until the operator adds models */
    CHECK(config->n_models == 0);
    slmd_config_free(config);

    /* the commented example in the file is a valid model list once uncommented */
    FILE *f = fopen(path, "r");
    REQUIRE(f);
    char example[8192] = "", line[512];
    bool in_example = false;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "#models:", 8) == 0)
            in_example = true;
        if (in_example && line[0] == '#')
            strncat(example, line + 1, sizeof(example) - strlen(example) - 1);
        else if (in_example)
            break;
    }
    fclose(f);
    CHECK(strlen(example) > 100);
    r = slmd_config_parse(path, example, strlen(example), 0, &config, &diag);
    for (size_t i = 0; i < diag.n; i++)
        fprintf(stderr, "example: %s\n", diag.lines[i]);
    slmd_diagnostics_clear(&diag);
    CHECK(r == 0);
    if (r == 0) {
        CHECK(config->n_models == 2);
        CHECK(config->models[0].preload && config->models[0].parallel == 4);
        CHECK(config->models[1].task == SLM_TASK_CLASSIFY);
        slmd_config_free(config);
    }
    return test_report();
}
#endif
