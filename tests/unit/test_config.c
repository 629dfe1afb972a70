/* slmd.yaml parsing: every key, the defaults, sizes and durations, and each kind of error
 * with its line and column. Built with the daemon library (tests/integration/CMakeLists.txt
 * adds it); without the service parts there is nothing to test. */
#include "test.h"

#ifndef SLM_TEST_WITH_DAEMON
int main(void)
{
    printf("SKIPPED: built without the service (SLM_BUILD_SERVICE=OFF)\n");
    return 0;
}
#else

#include <math.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config.h"

static struct slmd_config *parse_flags(const char *text, unsigned flags,
                                       struct slmd_diagnostics *diag)
{
    struct slmd_config *config = NULL;
    if (slmd_config_parse("/etc/slmd/t.yaml", text, strlen(text), flags, &config, diag) < 0)
        return NULL;
    return config;
}

static struct slmd_config *parse_ok(const char *text)
{
    struct slmd_diagnostics diag;
    struct slmd_config *config = parse_flags(text, 0, &diag);
    for (size_t i = 0; i < diag.n; i++)
        fprintf(stderr, "unexpected: %s\n", diag.lines[i]);
    slmd_diagnostics_clear(&diag);
    return config;
}

/* The text must fail, and its first error must be exactly `expected`. */
static void expect_error_flags(const char *text, unsigned flags, const char *expected)
{
    struct slmd_diagnostics diag;
    struct slmd_config *config = parse_flags(text, flags, &diag);
    CHECKF(config == NULL, "accepted: %s", text);
    slmd_config_free(config);
    const char *got = slmd_diagnostics_first(&diag);
    CHECKF(strcmp(got, expected) == 0, "\n  text:     %s\n  expected: %s\n  got:      %s", text,
           expected, got);
    slmd_diagnostics_clear(&diag);
}

static void expect_error(const char *text, const char *expected)
{
    expect_error_flags(text, 0, expected);
}

static void test_defaults(void)
{
    static const char *const empties[] = {"", "# only a comment\n", "---\n", "~\n"};
    for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
        struct slmd_config *c = parse_ok(empties[i]);
        REQUIRE(c);
        CHECK(c->threads == 0);
        CHECK(c->memory_limit == 0);
        CHECK(c->weights == SLM_WEIGHTS_DEFAULT);
        CHECK(c->n_models == 0);
        CHECK(strcmp(c->server.socket_path, "/run/slmd/slmd.sock") == 0);
        CHECK(c->server.socket_mode == 0660);
        CHECK(!c->server.has_socket_group);
        CHECK(c->server.bus == SLMD_BUS_SYSTEM);
        CHECK(c->server.n_allowed_groups == 0);
        CHECK(c->server.max_queue == 64);
        CHECK(c->server.max_body == 1024 * 1024);
        CHECK(c->server.request_timeout_usec == 300ULL * 1000000);
        CHECK(strcmp(c->file, "/etc/slmd/t.yaml") == 0);
        slmd_config_free(c);
    }

    struct slmd_config *c = parse_ok("models:\n  - name: m\n    path: m.gguf\n");
    REQUIRE(c);
    REQUIRE(c->n_models == 1);
    const struct slmd_model_config *m = &c->models[0];
    CHECK(strcmp(m->name, "m") == 0);
    CHECK(strcmp(m->path, "/etc/slmd/m.gguf") == 0); /* relative to the config's directory */
    CHECK(m->line == 2 && m->column == 5);
    CHECK(m->task == SLM_TASK_AUTO);
    CHECK(m->context == 0);
    CHECK(m->parallel == 1);
    CHECK(!m->preload);
    CHECK(m->keep_alive_usec == 0);
    CHECK(m->kv_type == SLM_TYPE_F16);
    CHECK(m->defaults.temperature < 0 && m->defaults.top_p < 0 && m->defaults.top_k < 0);
    CHECK(m->defaults.min_p < 0 && m->defaults.repeat_penalty < 0);
    CHECK(m->defaults.repeat_last_n < 0);
    CHECK(isnan(m->defaults.frequency_penalty) && isnan(m->defaults.presence_penalty));
    CHECK(!m->defaults.has_seed);
    CHECK(m->default_max_tokens < 0);
    CHECK(slmd_config_find_model(c, "m") == m);
    CHECK(slmd_config_find_model(c, "n") == NULL);
    slmd_config_free(c);
}

static void test_every_key(void)
{
    const char *text = "threads: 4\n"
                       "memory_limit: 3G\n"
                       "weights: mapped\n"
                       "server:\n"
                       "  socket: /run/x/api.sock\n"
                       "  socket_mode: \"0640\"\n"
                       "  socket_group: 0\n"
                       "  dbus: session\n"
                       "  allowed_groups: [0, 5]\n"
                       "  max_queue: 10\n"
                       "  max_body: 512K\n"
                       "  request_timeout: 2m\n"
                       "models:\n"
                       "  - name: tinyllama\n"
                       "    path: /var/lib/slmd/models/t.gguf\n"
                       "    task: chat\n"
                       "    context: 2048\n"
                       "    parallel: 4\n"
                       "    preload: true\n"
                       "    keep_alive: 30m\n"
                       "    kv_type: q8_0\n"
                       "    defaults: {temperature: 0.7, top_p: 0.95, max_tokens: 256, top_k: 40,\n"
                       "               min_p: 0.05, repeat_penalty: 1.1, repeat_last_n: 64,\n"
                       "               frequency_penalty: -0.5, presence_penalty: 0.25,\n"
                       "               seed: 18446744073709551615}\n"
                       "  - name: sentiment.v2_x-y\n"
                       "    path: models/distilbert\n"
                       "    task: token-classify\n"
                       "    preload: no\n"
                       "    keep_alive: 0\n";
    struct slmd_config *c = parse_ok(text);
    REQUIRE(c);
    CHECK(c->threads == 4);
    CHECK(c->memory_limit == 3ULL << 30);
    CHECK(c->weights == SLM_WEIGHTS_MAPPED);
    CHECK(strcmp(c->server.socket_path, "/run/x/api.sock") == 0);
    CHECK(c->server.socket_mode == 0640);
    CHECK(c->server.has_socket_group && c->server.socket_group == 0);
    CHECK(c->server.bus == SLMD_BUS_SESSION);
    CHECK(c->server.n_allowed_groups == 2);
    CHECK(c->server.allowed_groups[0] == 0 && c->server.allowed_groups[1] == 5);
    CHECK(c->server.max_queue == 10);
    CHECK(c->server.max_body == 512 * 1024);
    CHECK(c->server.request_timeout_usec == 120ULL * 1000000);
    REQUIRE(c->n_models == 2);
    const struct slmd_model_config *m = &c->models[0];
    CHECK(strcmp(m->name, "tinyllama") == 0);
    CHECK(strcmp(m->path, "/var/lib/slmd/models/t.gguf") == 0);
    CHECK(m->task == SLM_TASK_CHAT);
    CHECK(m->context == 2048);
    CHECK(m->parallel == 4);
    CHECK(m->preload);
    CHECK(m->keep_alive_usec == 30ULL * 60 * 1000000);
    CHECK(m->kv_type == SLM_TYPE_Q8_0);
    CHECK(fabsf(m->defaults.temperature - 0.7f) < 1e-6f);
    CHECK(fabsf(m->defaults.top_p - 0.95f) < 1e-6f);
    CHECK(m->defaults.top_k == 40);
    CHECK(fabsf(m->defaults.min_p - 0.05f) < 1e-6f);
    CHECK(fabsf(m->defaults.repeat_penalty - 1.1f) < 1e-6f);
    CHECK(m->defaults.repeat_last_n == 64);
    CHECK(fabsf(m->defaults.frequency_penalty + 0.5f) < 1e-6f);
    CHECK(fabsf(m->defaults.presence_penalty - 0.25f) < 1e-6f);
    CHECK(m->defaults.has_seed && m->defaults.seed == UINT64_MAX);
    CHECK(m->default_max_tokens == 256);
    m = &c->models[1];
    CHECK(strcmp(m->name, "sentiment.v2_x-y") == 0);
    CHECK(strcmp(m->path, "/etc/slmd/models/distilbert") == 0);
    CHECK(m->task == SLM_TASK_TOKEN_CLASSIFY);
    CHECK(!m->preload);
    CHECK(m->keep_alive_usec == 0);
    slmd_config_free(c);

    /* every task name */
    static const struct {
        const char *name;
        enum slm_task task;
    } tasks[] = {{"auto", SLM_TASK_AUTO},         {"generate", SLM_TASK_GENERATE},
                 {"chat", SLM_TASK_CHAT},         {"classify", SLM_TASK_CLASSIFY},
                 {"token-classify", SLM_TASK_TOKEN_CLASSIFY}, {"embed", SLM_TASK_EMBED}};
    for (size_t i = 0; i < sizeof(tasks) / sizeof(tasks[0]); i++) {
        char buf[128];
        snprintf(buf, sizeof(buf), "models: [{name: a, path: /a, task: %s}]", tasks[i].name);
        c = parse_ok(buf);
        REQUIRE(c);
        CHECK(c->models[0].task == tasks[i].task);
        slmd_config_free(c);
    }
    c = parse_ok("server: {dbus: none, socket_mode: 600}\nmodels: []\n");
    REQUIRE(c);
    CHECK(c->server.bus == SLMD_BUS_NONE);
    CHECK(c->server.socket_mode == 0600); /* plain digits are octal too, as in chmod */
    CHECK(c->n_models == 0);
    slmd_config_free(c);
}

static void test_sizes(void)
{
    static const struct {
        const char *text;
        uint64_t bytes;
    } good[] = {
        {"0", 0},
        {"1024", 1024},
        {"512K", 512ULL << 10},
        {"512k", 512ULL << 10},
        {"1M", 1ULL << 20},
        {"1MB", 1ULL << 20},
        {"1MiB", 1ULL << 20},
        {"3G", 3ULL << 30},
        {"1.5G", 3ULL << 29},
        {"0.5K", 512},
        {"2T", 2ULL << 40},
        {"100B", 100},
        {"4 M", 4ULL << 20},
        {"15.999999999T", 17592186043316ULL}, /* floor(16 * 2^40 - 1e-9 * 2^40) */
        {"18446744073709551615", UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint64_t v = 1;
        CHECKF(slmd_parse_size(good[i].text, &v) && v == good[i].bytes, "%s -> %llu",
               good[i].text, (unsigned long long)v);
    }
    static const char *const bad[] = {"",   "G",    "3X",   "-1",   "1.G", "1..5M",
                                      "1e3", "3GG", "18446744073709551616", "16777216T",
                                      "0x10", "1.0000000001K", "3 G B", "iB", "5iB"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v;
        CHECKF(!slmd_parse_size(bad[i], &v), "accepted size '%s'", bad[i]);
    }
}

static void test_durations(void)
{
    static const struct {
        const char *text;
        uint64_t usec;
    } good[] = {
        {"0", 0},
        {"300", 300000000ULL},
        {"300s", 300000000ULL},
        {"30m", 1800000000ULL},
        {"1h", 3600000000ULL},
        {"500ms", 500000ULL},
        {"250us", 250ULL},
        {"2d", 172800000000ULL},
        {"1h30m", 5400000000ULL},
        {"1h 30m 5s", 5405000000ULL},
        {"5min", 300000000ULL},
        {"10sec", 10000000ULL},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint64_t v = 1;
        CHECKF(slmd_parse_duration(good[i].text, &v) && v == good[i].usec, "%s -> %llu",
               good[i].text, (unsigned long long)v);
    }
    static const char *const bad[] = {"", "s", "5x", "-5s", "1.5h", "5 ", " ", "1h-",
                                      "99999999999999999999", "999999999999d"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v;
        CHECKF(!slmd_parse_duration(bad[i], &v), "accepted duration '%s'", bad[i]);
    }
}

static void test_errors(void)
{
    /* unknown keys: the list of valid ones, and a suggestion when one is close */
    expect_error("thread: 4\n",
                 "/etc/slmd/t.yaml:1:1: unknown key 'thread' in the top level (did you mean "
                 "'threads'?); valid keys: threads, memory_limit, weights, server, models");
    expect_error("server:\n  colour: blue\n",
                 "/etc/slmd/t.yaml:2:3: unknown key 'colour' in server; valid keys: socket, "
                 "socket_mode, socket_group, dbus, allowed_groups, max_queue, max_body, "
                 "request_timeout");
    expect_error("models:\n  - name: a\n    path: /a\n    preloads: true\n",
                 "/etc/slmd/t.yaml:4:5: unknown key 'preloads' in a model entry (did you "
                 "mean 'preload'?); valid keys: name, path, task, context, parallel, preload, "
                 "keep_alive, kv_type, defaults");
    expect_error("models:\n  - name: a\n    path: /a\n    defaults: {temp: 1}\n",
                 "/etc/slmd/t.yaml:4:16: unknown key 'temp' in defaults; valid keys: "
                 "temperature, top_k, top_p, min_p, repeat_penalty, repeat_last_n, "
                 "frequency_penalty, presence_penalty, seed, max_tokens");
    /* wrong types */
    expect_error("threads: four\n", "/etc/slmd/t.yaml:1:10: threads: expected a whole number, got 'four'");
    expect_error("threads: \"4\"\n",
                 "/etc/slmd/t.yaml:1:10: threads: expected a whole number, got a quoted string");
    expect_error("threads: [4]\n", "/etc/slmd/t.yaml:1:10: threads: expected a whole number, got a list");
    expect_error("threads:\n",
                 "/etc/slmd/t.yaml:1:9: threads: expected a whole number, got nothing (remove "
                 "the key to use the default)");
    expect_error("server: yes\n",
                 "/etc/slmd/t.yaml:1:9: server: expected a mapping of keys to values, got a "
                 "plain value");
    expect_error("models: {name: a}\n",
                 "/etc/slmd/t.yaml:1:9: models: expected a list of model entries, got a mapping");
    expect_error("models: [a]\n",
                 "/etc/slmd/t.yaml:1:10: a model entry: expected a mapping of keys to values, "
                 "got a plain value");
    expect_error("models: [{name: a, path: /a, preload: maybe}]\n",
                 "/etc/slmd/t.yaml:1:39: preload: expected true or false, got 'maybe'");
    expect_error("models: [{name: a, path: /a, defaults: {top_p: high}}]\n",
                 "/etc/slmd/t.yaml:1:48: top_p: expected a number, got 'high'");
    expect_error("models: [{name: a, path: /a, defaults: {temperature: nan}}]\n",
                 "/etc/slmd/t.yaml:1:54: temperature: expected a number, got 'nan'");
    expect_error("weights: copied\n",
                 "/etc/slmd/t.yaml:1:10: weights: expected private or mapped, got 'copied'");
    expect_error("weights: [private]\n",
                 "/etc/slmd/t.yaml:1:10: weights: expected a string, got a list");
    expect_error("memory_limit: lots\n",
                 "/etc/slmd/t.yaml:1:15: memory_limit: expected a size like 512K, 1M or 3G, "
                 "got 'lots'");
    expect_error("server: {request_timeout: 5 minutes}\n",
                 "/etc/slmd/t.yaml:1:27: request_timeout: expected a duration like 500ms, "
                 "300s, 30m or 1h, got '5 minutes'");
    expect_error("server: {allowed_groups: slmd}\n",
                 "/etc/slmd/t.yaml:1:26: allowed_groups: expected a list of groups like "
                 "[slmd], got a plain value");
    expect_error("[1, 2]\n",
                 "/etc/slmd/t.yaml:1:1: the top level: expected a mapping of keys to values, "
                 "got a list");
    expect_error("? [a]\n: b\n",
                 "/etc/slmd/t.yaml:1:3: the top level: keys must be plain words, got a list");
    /* out of range */
    expect_error("threads: 0\n", "/etc/slmd/t.yaml:1:10: threads: 0 is out of range (1..256)");
    expect_error("threads: 257\n", "/etc/slmd/t.yaml:1:10: threads: 257 is out of range (1..256)");
    expect_error("threads: -3\n", "/etc/slmd/t.yaml:1:10: threads: -3 is out of range (1..256)");
    expect_error("threads: 99999999999999999999999\n",
                 "/etc/slmd/t.yaml:1:10: threads: expected a whole number, got "
                 "'99999999999999999999999'");
    expect_error("memory_limit: 512K\n",
                 "/etc/slmd/t.yaml:1:15: memory_limit: 512K is out of range (0 or "
                 "1048576..17592186044416 bytes)");
    expect_error("server: {max_queue: 0}\n",
                 "/etc/slmd/t.yaml:1:21: max_queue: 0 is out of range (1..65536)");
    expect_error("server: {max_body: 0}\n",
                 "/etc/slmd/t.yaml:1:20: max_body: 0 is out of range (1K..256M)");
    expect_error("server: {max_body: 1G}\n",
                 "/etc/slmd/t.yaml:1:20: max_body: 1G is out of range (0 or 1024..268435456 "
                 "bytes)");
    expect_error("server: {request_timeout: 2d}\n",
                 "/etc/slmd/t.yaml:1:27: request_timeout: 2d is out of range (0..24h)");
    expect_error("models: [{name: a, path: /a, context: 8}]\n",
                 "/etc/slmd/t.yaml:1:39: context: 8 is out of range (16..1048576, or 0 for "
                 "the model's own)");
    expect_error("models: [{name: a, path: /a, parallel: 0}]\n",
                 "/etc/slmd/t.yaml:1:40: parallel: 0 is out of range (1..64)");
    expect_error("models: [{name: a, path: /a, keep_alive: 400d}]\n",
                 "/etc/slmd/t.yaml:1:42: keep_alive: 400d is out of range (0..366d)");
    expect_error("models: [{name: a, path: /a, defaults: {temperature: 2.5}}]\n",
                 "/etc/slmd/t.yaml:1:54: temperature: 2.5 is out of range (0..2)");
    expect_error("models: [{name: a, path: /a, defaults: {max_tokens: 0}}]\n",
                 "/etc/slmd/t.yaml:1:53: max_tokens: 0 is out of range (1..1048576)");
    /* enumerations */
    expect_error("server: {dbus: user}\n",
                 "/etc/slmd/t.yaml:1:16: dbus: expected system, session or none, got 'user'");
    expect_error("models: [{name: a, path: /a, task: summarize}]\n",
                 "/etc/slmd/t.yaml:1:36: task: unknown task 'summarize'; valid tasks: auto, "
                 "generate, chat, classify, token-classify, embed");
    expect_error("models: [{name: a, path: /a, kv_type: q4_0}]\n",
                 "/etc/slmd/t.yaml:1:39: kv_type: 'q4_0' is not a KV cache type; valid: f16, "
                 "q8_0");
    /* socket_mode not octal */
    expect_error("server: {socket_mode: \"0689\"}\n",
                 "/etc/slmd/t.yaml:1:23: socket_mode: expected an octal mode like \"0660\", "
                 "got '0689'");
    expect_error("server: {socket_mode: \"4755\"}\n",
                 "/etc/slmd/t.yaml:1:23: socket_mode: expected an octal mode like \"0660\", "
                 "got '4755'");
    expect_error("server: {socket_mode: rw}\n",
                 "/etc/slmd/t.yaml:1:23: socket_mode: expected an octal mode like \"0660\", "
                 "got 'rw'");
    /* socket path */
    expect_error("server: {socket: run/slmd.sock}\n",
                 "/etc/slmd/t.yaml:1:18: socket: 'run/slmd.sock' is not an absolute path");
    expect_error("server: {socket: /run/slmd/}\n",
                 "/etc/slmd/t.yaml:1:18: socket: '/run/slmd/' names a directory, not a socket "
                 "file");
    {
        char text[256] = "server: {socket: /";
        memset(text + strlen(text), 'x', 120);
        strcat(text, "}\n");
        expect_error(text, "/etc/slmd/t.yaml:1:18: socket: the path is 121 bytes long; a Unix "
                           "socket path holds at most 107");
    }
    /* bad group names */
    expect_error("server: {socket_group: \"bad group\"}\n",
                 "/etc/slmd/t.yaml:1:24: socket_group: 'bad group' is not a valid group name");
    expect_error("server: {allowed_groups: [0, \"9lives\"]}\n",
                 "/etc/slmd/t.yaml:1:30: allowed_groups: '9lives' is not a valid group name");
    expect_error_flags("server: {socket_group: no-such-group-slmd-test}\n",
                       SLMD_CONFIG_RESOLVE_GROUPS,
                       "/etc/slmd/t.yaml:1:24: socket_group: no such group "
                       "'no-such-group-slmd-test'");
    /* model entries */
    expect_error("models:\n  - name: a\n    path: /a\n  - name: b\n    path: /b\n"
                 "  - name: a\n    path: /c\n",
                 "/etc/slmd/t.yaml:6:5: duplicate model name 'a' (first defined at line 2)");
    expect_error("models:\n  - path: /a\n",
                 "/etc/slmd/t.yaml:2:5: model entry has no 'name'");
    expect_error("models:\n  - name: x\n",
                 "/etc/slmd/t.yaml:2:5: model entry 'x' has no 'path'");
    expect_error("models: [{name: \"my model\", path: /a}]\n",
                 "/etc/slmd/t.yaml:1:17: name: 'my model' is not a valid model name (1 to 64 "
                 "letters, digits, '.', '_' or '-')");
    expect_error("models: [{name: a, path: \"\"}]\n", "/etc/slmd/t.yaml:1:26: path: empty");
    /* duplicate keys */
    expect_error("threads: 2\nthreads: 3\n",
                 "/etc/slmd/t.yaml:2:1: duplicate key 'threads' in the top level (first at "
                 "line 1)");
    /* YAML itself */
    expect_error("server: {socket: /a\n", "/etc/slmd/t.yaml:2:1: did not find expected ',' or "
                                           "'}' (while parsing a flow mapping at line 1, column 9)");
    expect_error("threads: 1\n---\nthreads: 2\n",
                 "/etc/slmd/t.yaml:2:1: a second YAML document ('---'); the config is one "
                 "document");
    expect_error("a: &x 1\nthreads: *x\n",
                 "/etc/slmd/t.yaml:2:10: aliases (*x) are not supported in the config");
    expect_error("threads:\t4\n\tmodels: []\n",
                 "/etc/slmd/t.yaml:2:1: found a tab character that violates indentation (while "
                 "scanning a plain scalar at line 1, column 10)");
}

static void test_many_errors_at_once(void)
{
    struct slmd_diagnostics diag;
    struct slmd_config *c = parse_flags("threads: 0\nmemory_limit: x\nserver: {dbus: y}\n"
                                        "models: [{name: a}]\n",
                                        0, &diag);
    CHECK(c == NULL);
    CHECK(diag.n == 4);
    CHECK(diag.n == 4 && strncmp(diag.lines[3], "/etc/slmd/t.yaml:4:10: model entry 'a' has no",
                                 45) == 0);
    slmd_diagnostics_clear(&diag);
}

static void test_bounds(void)
{
    /* more models than SLMD_MAX_MODELS */
    size_t cap = 16384, used = 0;
    char *text = malloc(cap);
    REQUIRE(text);
    used += (size_t)snprintf(text, cap, "models:\n");
    for (int i = 0; i <= SLMD_MAX_MODELS; i++)
        used += (size_t)snprintf(text + used, cap - used, "  - {name: m%d, path: /m}\n", i);
    expect_error(text, "/etc/slmd/t.yaml:2:3: models: 65 entries, at most 64 are allowed");
    free(text);

    /* nesting past SLMD_YAML_MAX_DEPTH, in a place that is otherwise valid YAML */
    char deep[128] = "threads: ";
    for (int i = 0; i < 20; i++)
        strcat(deep, "[");
    expect_error(deep, "/etc/slmd/t.yaml:1:25: nesting deeper than 16 levels");

    /* a scalar longer than SLMD_YAML_MAX_SCALAR */
    text = malloc(8192);
    REQUIRE(text);
    strcpy(text, "models: [{name: a, path: /");
    memset(text + strlen(text), 'p', 5000);
    text[26 + 5000] = '\0';
    strcat(text, "}]\n");
    expect_error(text, "/etc/slmd/t.yaml:1:26: value is longer than 4096 bytes");
    free(text);

    /* too many nodes: a long flow list of tiny items */
    size_t big = 2 * 30000 + 64;
    text = malloc(big);
    REQUIRE(text);
    strcpy(text, "server: {allowed_groups: [");
    used = strlen(text);
    for (int i = 0; i < 30000; i++) {
        text[used++] = '0';
        text[used++] = ',';
    }
    strcpy(text + used, "0]}\n");
    struct slmd_diagnostics diag;
    struct slmd_config *c = parse_flags(text, 0, &diag);
    CHECK(c == NULL);
    CHECK(strstr(slmd_diagnostics_first(&diag), "more than 20000 YAML nodes") != NULL);
    slmd_diagnostics_clear(&diag);
    free(text);

    /* an oversized buffer is refused before parsing */
    size_t huge = SLMD_CONFIG_MAX_BYTES + 1;
    text = malloc(huge + 1);
    REQUIRE(text);
    memset(text, '#', huge);
    text[huge] = '\0';
    c = parse_flags(text, 0, &diag);
    CHECK(c == NULL);
    CHECK(strcmp(slmd_diagnostics_first(&diag),
                 "/etc/slmd/t.yaml: the file is 1048577 bytes; a config is at most 1048576") == 0);
    slmd_diagnostics_clear(&diag);
    free(text);

    /* the diagnostics list is capped, not unbounded */
    text = malloc(16384);
    REQUIRE(text);
    used = (size_t)snprintf(text, 16384, "models:\n");
    for (int i = 0; i < 50; i++)
        used += (size_t)snprintf(text + used, 16384 - used, "  - {name: m%d, path: /m, parallel: 0}\n", i);
    c = parse_flags(text, 0, &diag);
    CHECK(c == NULL);
    CHECK(diag.n == SLMD_CONFIG_MAX_DIAGNOSTICS);
    CHECK(diag.n_dropped == 50 - SLMD_CONFIG_MAX_DIAGNOSTICS);
    slmd_diagnostics_clear(&diag);
    free(text);
}

/* Files on disk: loading, missing model paths, relative paths, groups. */
static void test_files(void)
{
    char dir[] = "/tmp/slmd-test-config-XXXXXX";
    REQUIRE(mkdtemp(dir));
    char path[256], model[256], yaml[256];
    snprintf(model, sizeof(model), "%s/tiny.gguf", dir);
    FILE *f = fopen(model, "w");
    REQUIRE(f);
    fputs("not really a model", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/models", dir);
    REQUIRE(mkdir(path, 0755) == 0);

    snprintf(yaml, sizeof(yaml), "%s/slmd.yaml", dir);
    f = fopen(yaml, "w");
    REQUIRE(f);
    fputs("server:\n  socket_group: root\n  allowed_groups: [root, 0]\nmodels:\n"
          "  - {name: a, path: tiny.gguf}\n  - {name: b, path: models}\n",
          f);
    fclose(f);
    struct slmd_config *c = NULL;
    struct slmd_diagnostics diag;
    int r = slmd_config_load(yaml, SLMD_CONFIG_FULL, &c, &diag);
    for (size_t i = 0; i < diag.n; i++)
        fprintf(stderr, "unexpected: %s\n", diag.lines[i]);
    REQUIRE(r == 0 && c);
    CHECK(strcmp(c->models[0].path, model) == 0);
    CHECK(strcmp(c->models[1].path, path) == 0);
    CHECK(c->server.has_socket_group && c->server.socket_group == 0);
    CHECK(c->server.n_allowed_groups == 2 && c->server.allowed_groups[0] == 0);
    slmd_config_free(c);
    slmd_diagnostics_clear(&diag);

    /* a missing model file, and something that is neither a file nor a directory */
    f = fopen(yaml, "w");
    REQUIRE(f);
    fputs("models:\n  - name: gone\n    path: gone.gguf\n  - name: dev\n    path: /dev/null\n", f);
    fclose(f);
    r = slmd_config_load(yaml, SLMD_CONFIG_FULL, &c, &diag);
    CHECK(r < 0);
    char expected[512];
    snprintf(expected, sizeof(expected), "%s:3:11: path: %s/gone.gguf: No such file or directory",
             yaml, dir);
    CHECK(diag.n == 2 && strcmp(diag.lines[0], expected) == 0);
    CHECK(diag.n == 2 && strcmp(diag.lines[1], "" ) != 0 &&
          strstr(diag.lines[1], ":5:11: path: /dev/null: not a model file or a model directory"));
    slmd_diagnostics_clear(&diag);
    /* without CHECK_PATHS the same file is accepted */
    r = slmd_config_load(yaml, 0, &c, &diag);
    CHECK(r == 0);
    slmd_config_free(c);
    slmd_diagnostics_clear(&diag);

    /* the file itself */
    r = slmd_config_load("/nonexistent/slmd.yaml", SLMD_CONFIG_FULL, &c, &diag);
    CHECK(r < 0 && strcmp(slmd_diagnostics_first(&diag),
                          "/nonexistent/slmd.yaml: cannot open: No such file or directory") == 0);
    slmd_diagnostics_clear(&diag);
    r = slmd_config_load(dir, SLMD_CONFIG_FULL, &c, &diag);
    CHECK(r < 0 && strstr(slmd_diagnostics_first(&diag), ": not a regular file"));
    slmd_diagnostics_clear(&diag);
    /* a FIFO is refused at once instead of blocking the reader */
    char fifo[256];
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    REQUIRE(mkfifo(fifo, 0600) == 0);
    r = slmd_config_load(fifo, SLMD_CONFIG_FULL, &c, &diag);
    CHECK(r < 0 && strstr(slmd_diagnostics_first(&diag), ": not a regular file"));
    slmd_diagnostics_clear(&diag);
    unlink(fifo);

    unlink(yaml);
    unlink(model);
    rmdir(path);
    rmdir(dir);
}

int main(void)
{
    test_defaults();
    test_every_key();
    test_sizes();
    test_durations();
    test_errors();
    test_many_errors_at_once();
    test_bounds();
    test_files();
    return test_report();
}
#endif
