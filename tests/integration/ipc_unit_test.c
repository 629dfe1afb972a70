/* Unit tests of ipc/'s pure parts: object-path escaping, UTF-8 repair, option parsing,
 * the status table, /metrics text, request-body parsing, D-Bus argument reading, the
 * introspection XML, the caller check, and slm's HTTP response parser and SSE splitter. */
#include <dbus/dbus.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/auth.h"
#include "ipc/client/http_client.h"
#include "ipc/common/buf.h"
#include "ipc/common/path_escape.h"
#include "ipc/common/protocol.h"
#include "ipc/common/utf8.h"
#include "ipc/dbus_args.h"
#include "ipc/dbus_object.h"
#include "ipc/dbus_service.h"
#include "ipc/http_api.h"
#include "ipc/json_util.h"
#include "ipc/metrics.h"
#include "ipc/options.h"
#include "ipc/status_map.h"
#include "test.h"

/* ---- object paths ---- */

static void test_path_escape(void)
{
    char out[256], back[256];
    CHECK(slm_path_label_escape("tinyllama", out, sizeof(out)) && !strcmp(out, "tinyllama"));
    CHECK(slm_path_label_escape("tiny-llama", out, sizeof(out)) && !strcmp(out, "tiny_2dllama"));
    CHECK(slm_path_label_escape("a.b_c", out, sizeof(out)) && !strcmp(out, "a_2eb_5fc"));
    CHECK(slm_path_label_escape("", out, sizeof(out)) && !strcmp(out, "_"));
    CHECK(!slm_path_label_escape("abc", out, 3)); /* no room for the NUL */
    CHECK(!slm_path_label_escape("a-", out, 4));  /* "a_2d" needs 5 */
    const char *names[] = {"phi-3", "x", "Qwen2.5-0.5B_instruct", "a b"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        CHECK(slm_path_label_escape(names[i], out, sizeof(out)));
        CHECK(slm_path_label_unescape(out, back, sizeof(back)) && !strcmp(back, names[i]));
        /* a valid object-path element: [A-Za-z0-9_] only */
        CHECK(strspn(out, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
              strlen(out));
    }
    CHECK(slm_path_label_unescape("_", back, sizeof(back)) && !strcmp(back, ""));
    /* one spelling per name: uppercase hex, escaped plain bytes, NUL, stray bytes */
    const char *bad[] = {"_2D", "_41", "_00", "a-b", "_2", "_zz", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECKF(!slm_path_label_unescape(bad[i], back, sizeof(back)), "%s", bad[i]);
    CHECK(slm_model_object_path("tiny-llama", out, sizeof(out)) &&
          !strcmp(out, "/org/slmd/Slmd1/models/tiny_2dllama"));
}

/* ---- UTF-8 ---- */

static void test_utf8(void)
{
    CHECK(slm_utf8_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15));
    CHECK(slm_utf8_valid("", 0));
    const char *bad[] = {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80",
                         "\x80", "a\0b"};
    size_t lens[] = {1, 2, 3, 2, 4, 1, 3};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECKF(!slm_utf8_valid(bad[i], lens[i]), "case %zu", i);
    size_t n;
    char *s = slm_utf8_sanitize("a\xff" "b\0c\xe2\x82", 7, &n);
    REQUIRE(s);
    CHECK(!strcmp(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd"));
    CHECK(n == strlen(s) && slm_utf8_valid(s, n));
    free(s);
}

/* ---- options ---- */

static void test_options(void)
{
    struct ipc_generation g;
    ipc_generation_init(&g);
    slm_error err;
    CHECK(ipc_option_parse(&g, "max_tokens", "32", &err) == 0 && g.max_tokens == 32);
    CHECK(ipc_option_parse(&g, "temperature", "0.7", &err) == 0 &&
          fabsf(g.sampling.temperature - 0.7f) < 1e-6f);
    CHECK(ipc_option_parse(&g, "top_p", "1", &err) == 0 && g.sampling.top_p == 1.0f);
    CHECK(ipc_option_parse(&g, "top_k", "40", &err) == 0 && g.sampling.top_k == 40);
    CHECK(ipc_option_parse(&g, "min_p", "1e-2", &err) == 0);
    CHECK(ipc_option_parse(&g, "seed", "18446744073709551615", &err) == 0 &&
          g.sampling.has_seed && g.sampling.seed == UINT64_MAX);
    CHECK(ipc_option_parse(&g, "stop", "\n\n", &err) == 0 && g.n_stop == 1);
    CHECK(ipc_option_parse(&g, "ignore_eos", "true", &err) == 0 && g.ignore_eos);
    CHECK(ipc_option_parse(&g, "frequency_penalty", "-2", &err) == 0);

    struct {
        const char *key, *value, *says;
    } bad[] = {
        {"max_tokens", "-1", "max_tokens"},     {"max_tokens", "1e3", "integer"},
        {"max_tokens", "1000001", "1e+06"},     {"max_tokens", " 5", "integer"},
        {"max_tokens", "", "integer"},          {"temperature", "nan", "temperature"},
        {"temperature", "inf", "temperature"},  {"temperature", "-0.5", "from 0 to 100"},
        {"temperature", "101", "temperature"},  {"top_p", "1.5", "top_p"},
        {"top_k", "4.5", "top_k"},              {"seed", "-1", "seed"},
        {"seed", "18446744073709551616", "seed"}, {"ignore_eos", "yes", "ignore_eos"},
        {"stop", "", "stop"},                   {"colour", "red", "unknown option 'colour'"},
        {"presence_penalty", "3", "presence_penalty"}, {"temperature", "0x10", "temperature"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = ipc_option_parse(&g, bad[i].key, bad[i].value, &err);
        CHECKF(r < 0 && err.status == SLM_ERR_INVALID && strstr(err.message, bad[i].says),
               "%s=%s: %s", bad[i].key, bad[i].value, err.message);
    }
    for (int i = 1; i < IPC_MAX_STOP; i++)
        CHECK(ipc_option_parse(&g, "stop", "x", &err) == 0);
    CHECK(ipc_option_parse(&g, "stop", "y", &err) < 0 && strstr(err.message, "stop"));

    struct slm_request_params p;
    slm_request_params_init(&p, SLM_REQ_GENERATE);
    ipc_generation_apply(&g, &p);
    CHECK(p.max_tokens == 32 && p.n_stop == IPC_MAX_STOP && p.ignore_eos);
    CHECK(slm_sampling_validate(&p.sampling, &err) == 0);
    ipc_generation_deinit(&g);
    CHECK(g.n_stop == 0 && g.max_tokens == -1);
}

/* ---- errors ---- */

static void test_status_map(void)
{
    CHECK(!strcmp(ipc_dbus_error_name(SLM_ERR_NOT_FOUND), SLM_DBUS_ERROR_NO_SUCH_MODEL));
    CHECK(!strcmp(ipc_dbus_error_name(SLM_ERR_INVALID), SLM_DBUS_ERROR_INVALID_ARGS));
    CHECK(!strcmp(ipc_dbus_error_name(SLM_ERR_BUSY), SLM_DBUS_ERROR_BUSY));
    CHECK(!strcmp(ipc_dbus_error_name(SLM_ERR_CONTEXT), SLM_DBUS_ERROR_CONTEXT_EXCEEDED));
    CHECK(!strcmp(ipc_dbus_error_name(SLM_ERR_CANCELLED), SLM_DBUS_ERROR_CANCELLED));
    CHECK(!strcmp(ipc_dbus_error_name(SLM_ERR_INTERNAL), SLM_DBUS_ERROR_FAILED));
    CHECK(!strcmp(ipc_dbus_error_name((enum slm_status)999), SLM_DBUS_ERROR_FAILED));
    CHECK(ipc_http_status(SLM_ERR_INVALID) == 400 && ipc_http_status(SLM_ERR_NOT_FOUND) == 404);
    CHECK(ipc_http_status(SLM_ERR_BUSY) == 429 && ipc_http_status(SLM_ERR_CONTEXT) == 400);
    CHECK(ipc_http_status(SLM_ERR_INTERNAL) == 500 && ipc_http_status(SLM_ERR_NOMEM) == 500);
    CHECK(!strcmp(ipc_openai_error_code(SLM_ERR_CONTEXT), "context_length_exceeded"));
    for (int s = 1; s < SLM_STATUS_COUNT; s++) {
        unsigned h = ipc_http_status((enum slm_status)s);
        CHECKF(h >= 400 && h < 600, "status %d → %u", s, h);
        CHECK(!strncmp(ipc_dbus_error_name((enum slm_status)s), SLM_DBUS_ERROR_PREFIX,
                       strlen(SLM_DBUS_ERROR_PREFIX)));
    }
}

/* ---- /metrics ---- */

static void test_metrics(void)
{
    struct slm_model_status m[2];
    memset(m, 0, sizeof(m));
    strcpy(m[0].name, "tiny");
    m[0].state = SLM_MODEL_READY;
    m[0].active_sequences = 2;
    m[0].queued = 3;
    m[0].requests_ok = 7;
    m[0].prompt_tokens_total = 100;
    m[0].generated_tokens_total = 50;
    m[0].prompt_cache_hits = 4;
    strcpy(m[1].name, "we\"ird\\");
    m[1].state = SLM_MODEL_DECLARED;
    struct slm_engine_stats st = {.queue_depth = 3, .resident_bytes = 12345};
    struct ipc_http_counters h = {.connections_total = 9};
    h.requests_by_class[4] = 2;
    struct slm_buf out;
    slm_buf_init(&out, 0);
    ipc_metrics_render(&out, m, 2, &st, &h);
    REQUIRE(!out.failed);
    const char *want[] = {
        "slmd_model_loaded{model=\"tiny\"} 1\n",
        "slmd_model_loaded{model=\"we\\\"ird\\\\\"} 0\n",
        "slmd_sequences_active{model=\"tiny\"} 2\n",
        "slmd_queue_depth{model=\"tiny\"} 3\n",
        "slmd_requests_total{model=\"tiny\",status=\"ok\"} 7\n",
        "slmd_prompt_tokens_total{model=\"tiny\"} 100\n",
        "slmd_generated_tokens_total{model=\"tiny\"} 50\n",
        "slmd_prompt_cache_hits_total{model=\"tiny\"} 4\n",
        "slmd_resident_bytes 12345\n",
        "# TYPE slmd_requests_total counter\n",
        "slmd_http_responses_total{code=\"4xx\"} 2\n",
        "slmd_http_connections_total 9\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        CHECKF(strstr(out.data, want[i]) != NULL, "missing %s", want[i]);
    /* every sample line is "name{labels} value" or "name value" */
    for (char *line = out.data; *line;) {
        char *nl = strchr(line, '\n');
        REQUIRE(nl);
        if (*line != '#') {
            char *space = memrchr(line, ' ', (size_t)(nl - line));
            CHECK(space && space > line);
        }
        line = nl + 1;
    }
    slm_buf_deinit(&out);
}

/* ---- request bodies ---- */

static int parse(enum http_api_kind kind, const char *body, struct http_api_request *r,
                 slm_error *err)
{
    return http_api_parse(kind, body, strlen(body), r, err);
}

static void expect_error(enum http_api_kind kind, const char *body, const char *says)
{
    struct http_api_request r;
    slm_error err;
    int rc = parse(kind, body, &r, &err);
    CHECKF(rc < 0 && err.status == SLM_ERR_INVALID && strstr(err.message, says),
           "%s: %s", body, rc < 0 ? err.message : "accepted");
    if (rc == 0)
        http_api_request_free(&r);
}

static void test_http_api(void)
{
    struct http_api_request r;
    slm_error err;
    REQUIRE(parse(HTTP_API_COMPLETION,
                  "{\"model\":\"tiny\",\"prompt\":\"Hi\",\"max_tokens\":8,\"temperature\":0,"
                  "\"stop\":[\"a\",\"b\"],\"seed\":7,\"stream\":true,\"user\":\"x\","
                  "\"stream_options\":{\"include_usage\":true},\"unknown\":{\"a\":[1]}}",
                  &r, &err) == 0);
    CHECK(!strcmp(r.model, "tiny") && r.prompt_len == 2 && !strcmp(r.prompt, "Hi"));
    CHECK(r.gen.max_tokens == 8 && r.gen.sampling.temperature == 0 && r.gen.n_stop == 2);
    CHECK(r.gen.sampling.has_seed && r.gen.sampling.seed == 7 && r.stream && r.include_usage);
    http_api_request_free(&r);
    REQUIRE(parse(HTTP_API_COMPLETION, "{\"model\":\"m\",\"prompt\":[\"one\"]}", &r, &err) == 0);
    CHECK(!strcmp(r.prompt, "one"));
    http_api_request_free(&r);
    REQUIRE(parse(HTTP_API_COMPLETION, "{\"model\":\"m\",\"prompt\":[1,2,3],\"n\":1}", &r,
                  &err) == 0);
    CHECK(r.n_tokens == 3 && r.tokens[2] == 3 && !r.prompt);
    http_api_request_free(&r);
    REQUIRE(parse(HTTP_API_CHAT,
                  "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"S\"},"
                  "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
                  "{\"type\":\"text\",\"text\":\"b\"}]},{\"role\":\"assistant\",\"content\":null}],"
                  "\"max_completion_tokens\":5}",
                  &r, &err) == 0);
    CHECK(r.n_messages == 3 && !strcmp(r.messages[1].content, "ab") &&
          !strcmp(r.messages[2].content, "") && r.gen.max_tokens == 5);
    http_api_request_free(&r);
    REQUIRE(parse(HTTP_API_EMBEDDINGS,
                  "{\"model\":\"e\",\"input\":[\"a\",\"bb\"],\"encoding_format\":\"base64\"}", &r,
                  &err) == 0);
    CHECK(r.n_inputs == 2 && r.input_lens[1] == 2 && r.base64 && !r.normalize);
    http_api_request_free(&r);
    REQUIRE(parse(HTTP_API_CLASSIFY, "{\"model\":\"c\",\"input\":\"text\"}", &r, &err) == 0);
    CHECK(r.n_inputs == 1 && !strcmp(r.inputs[0], "text"));
    http_api_request_free(&r);
    REQUIRE(parse(HTTP_API_TOKENIZE, "{\"model\":\"t\",\"text\":\"x y\",\"add_special\":false}",
                  &r, &err) == 0);
    CHECK(r.prompt_len == 3 && !r.add_special);
    http_api_request_free(&r);
    REQUIRE(parse(HTTP_API_DETOKENIZE, "{\"model\":\"t\",\"tokens\":[1, 15043]}", &r, &err) == 0);
    CHECK(r.n_tokens == 2 && r.tokens[1] == 15043);
    http_api_request_free(&r);

    expect_error(HTTP_API_COMPLETION, "{\"prompt\":\"x\"}", "'model' is required");
    expect_error(HTTP_API_COMPLETION, "{\"model\":3,\"prompt\":\"x\"}", "'model' must be");
    expect_error(HTTP_API_COMPLETION, "{\"model\":\"m\"}", "'prompt' is required");
    expect_error(HTTP_API_COMPLETION, "{\"model\":\"m\",\"prompt\":[\"a\",\"b\"]}", "one per");
    expect_error(HTTP_API_COMPLETION, "{\"model\":\"m\",\"prompt\":\"x\",\"n\":2}", "'n'");
    expect_error(HTTP_API_COMPLETION, "{\"model\":\"m\",\"prompt\":\"x\",\"echo\":true}", "echo");
    expect_error(HTTP_API_COMPLETION, "{\"model\":\"m\",\"prompt\":\"x\",\"logprobs\":3}",
                 "logprobs");
    expect_error(HTTP_API_COMPLETION, "{\"model\":\"m\",\"prompt\":\"x\",\"max_tokens\":-1}",
                 "'max_tokens'");
    expect_error(HTTP_API_COMPLETION, "{\"model\":\"m\",\"prompt\":\"x\",\"max_tokens\":1.5}",
                 "'max_tokens'");
    expect_error(HTTP_API_COMPLETION, "{\"model\":\"m\",\"prompt\":\"x\",\"temperature\":\"hot\"}",
                 "'temperature' must be a number");
    expect_error(HTTP_API_COMPLETION, "{\"model\":\"m\",\"prompt\":\"x\",\"top_p\":2}", "top_p");
    expect_error(HTTP_API_COMPLETION, "{\"model\":\"m\",\"prompt\":\"x\",\"seed\":-5}", "seed");
    expect_error(HTTP_API_COMPLETION, "{\"model\":\"m\",\"prompt\":\"x\",\"stream\":1}", "stream");
    expect_error(HTTP_API_COMPLETION, "{\"model\":\"m\",\"prompt\":\"x\",\"stop\":[1]}", "stop");
    expect_error(HTTP_API_COMPLETION, "{\"model\":\"m\",\"prompt\":[-1]}", "out of range");
    expect_error(HTTP_API_COMPLETION, "{\"model\":\"m\",\"prompt\":\"x\"} x", "JSON");
    expect_error(HTTP_API_COMPLETION, "[1]", "JSON object");
    expect_error(HTTP_API_COMPLETION, "{\"model\":\"m\",", "not complete");
    expect_error(HTTP_API_COMPLETION, "{\"model\":\"m\",\"prompt\":\"\xff\"}", "valid JSON");
    expect_error(HTTP_API_COMPLETION, "{\"model\":\"m\",\"prompt\":\"x\",}", "valid JSON");
    expect_error(HTTP_API_CHAT, "{\"model\":\"m\",\"messages\":[]}", "'messages' is empty");
    expect_error(HTTP_API_CHAT, "{\"model\":\"m\",\"messages\":[{\"content\":\"x\"}]}", "role");
    expect_error(HTTP_API_CHAT,
                 "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
                 "\"image_url\"}]}]}",
                 "text");
    expect_error(HTTP_API_CHAT,
                 "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\\u0000b\"}]}",
                 "NUL");
    expect_error(HTTP_API_EMBEDDINGS, "{\"model\":\"m\",\"input\":[]}", "empty");
    expect_error(HTTP_API_EMBEDDINGS, "{\"model\":\"m\",\"input\":[[1,2]]}", "token lists");
    expect_error(HTTP_API_EMBEDDINGS, "{\"model\":\"m\",\"input\":\"a\",\"encoding_format\":\"x\"}",
                 "encoding_format");
    expect_error(HTTP_API_DETOKENIZE, "{\"model\":\"m\",\"tokens\":\"1 2\"}", "tokens");
    expect_error(HTTP_API_TOKENIZE, "{\"model\":\"m\"}", "'text' is required");

    /* more inputs than one request may carry */
    struct slm_buf big;
    slm_buf_init(&big, 0);
    slm_buf_puts(&big, "{\"model\":\"m\",\"input\":[");
    for (int i = 0; i <= HTTP_API_MAX_INPUTS; i++)
        slm_buf_puts(&big, i ? ",\"x\"" : "\"x\"");
    slm_buf_puts(&big, "]}");
    expect_error(HTTP_API_EMBEDDINGS, big.data, "at most");
    /* nesting past the parser's depth limit */
    slm_buf_clear(&big);
    slm_buf_puts(&big, "{\"model\":\"m\",\"prompt\":\"x\",\"deep\":");
    for (int i = 0; i < 100; i++)
        slm_buf_puts(&big, "[");
    for (int i = 0; i < 100; i++)
        slm_buf_puts(&big, "]");
    slm_buf_puts(&big, "}");
    expect_error(HTTP_API_COMPLETION, big.data, "valid JSON");
    slm_buf_deinit(&big);
}

static void test_json_output(void)
{
    json_object *v = json_new_real(1.0);
    CHECK(!strcmp(json_to_text(v, NULL), "1"));
    json_object_put(v);
    v = json_new_real(0.1f);
    CHECK(!strcmp(json_to_text(v, NULL), "0.100000001"));
    json_object_put(v);
    CHECK(json_new_real(NAN) == NULL && json_new_real(INFINITY) == NULL);
    v = json_new_text("a\xff", 2);
    CHECK(!strcmp(json_object_get_string(v), "a\xef\xbf\xbd"));
    json_object_put(v);
}

/* ---- D-Bus arguments ---- */

static DBusMessage *options_message(const char *const *pairs, size_t n)
{
    DBusMessage *m = dbus_message_new_method_call(SLM_DBUS_NAME, "/x", "a.b", "C");
    DBusMessageIter iter, dict, entry;
    dbus_message_iter_init_append(m, &iter);
    dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{ss}", &dict);
    for (size_t i = 0; i < n; i++) {
        dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry);
        dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &pairs[2 * i]);
        dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &pairs[2 * i + 1]);
        dbus_message_iter_close_container(&dict, &entry);
    }
    dbus_message_iter_close_container(&iter, &dict);
    return m;
}

static void test_dbus_args(void)
{
    const char *good[] = {"max_tokens", "16", "temperature", "0", "stop", "."};
    DBusMessage *m = options_message(good, 3);
    DBusMessageIter iter;
    dbus_message_iter_init(m, &iter);
    struct ipc_generation g;
    ipc_generation_init(&g);
    slm_error err;
    CHECK(dbus_args_read_options(&iter, &g, &err) == 0);
    CHECK(g.max_tokens == 16 && g.sampling.temperature == 0 && g.n_stop == 1);
    ipc_generation_deinit(&g);
    dbus_message_unref(m);

    const char *bad[] = {"max_tokens", "lots"};
    m = options_message(bad, 1);
    dbus_message_iter_init(m, &iter);
    CHECK(dbus_args_read_options(&iter, &g, &err) < 0 && strstr(err.message, "max_tokens"));
    ipc_generation_deinit(&g);
    dbus_message_unref(m);

    /* messages a(ss) */
    m = dbus_message_new_method_call(SLM_DBUS_NAME, "/x", "a.b", "C");
    DBusMessageIter array, entry;
    dbus_message_iter_init_append(m, &iter);
    dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "(ss)", &array);
    const char *rows[] = {"system", "be brief", "user", "hello"};
    for (int i = 0; i < 2; i++) {
        dbus_message_iter_open_container(&array, DBUS_TYPE_STRUCT, NULL, &entry);
        dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &rows[2 * i]);
        dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &rows[2 * i + 1]);
        dbus_message_iter_close_container(&array, &entry);
    }
    dbus_message_iter_close_container(&iter, &array);
    dbus_message_iter_init(m, &iter);
    struct dbus_chat chat;
    CHECK(dbus_args_read_messages(&iter, &chat, &err) == 0 && chat.n == 2 &&
          !strcmp(chat.messages[1].content, "hello"));
    dbus_chat_deinit(&chat);
    dbus_message_unref(m);

    /* replies: model text that is not UTF-8 must not reach libdbus as such (it aborts) */
    m = dbus_message_new_signal("/x", "a.b", "C");
    dbus_message_iter_init_append(m, &iter);
    CHECK(dbus_args_append_text(&iter, "ok\xff\0z", 5));
    struct slm_result res = {.status = SLM_ERR_CONTEXT, .error = "too long",
                             .finish_reason = "error", .prompt_tokens = 3,
                             .completion_tokens = 4};
    CHECK(dbus_args_append_info(&iter, "tiny", &res));
    CHECK(!strcmp(dbus_message_get_signature(m), "sa{ss}"));
    dbus_message_iter_init(m, &iter);
    const char *text;
    dbus_message_iter_get_basic(&iter, &text);
    CHECK(!strcmp(text, "ok\xef\xbf\xbd\xef\xbf\xbdz"));
    dbus_message_iter_next(&iter);
    dbus_message_iter_recurse(&iter, &array);
    int found = 0;
    for (; dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_DICT_ENTRY;
         dbus_message_iter_next(&array)) {
        const char *k, *v;
        dbus_message_iter_recurse(&array, &entry);
        dbus_message_iter_get_basic(&entry, &k);
        dbus_message_iter_next(&entry);
        dbus_message_iter_get_basic(&entry, &v);
        found += !strcmp(k, "total_tokens") && !strcmp(v, "7");
        found += !strcmp(k, "error_name") && !strcmp(v, SLM_DBUS_ERROR_CONTEXT_EXCEEDED);
        found += !strcmp(k, "model") && !strcmp(v, "tiny");
    }
    CHECK(found == 3);
    dbus_message_unref(m);
}

static void test_introspection(void)
{
    char sig[64];
    const struct dbus_method *generate = NULL, *chat = NULL;
    for (size_t i = 0; i < dbus_model_interface.n_methods; i++) {
        if (!strcmp(dbus_model_interface.methods[i].name, "Generate"))
            generate = &dbus_model_interface.methods[i];
        if (!strcmp(dbus_model_interface.methods[i].name, "Chat"))
            chat = &dbus_model_interface.methods[i];
    }
    REQUIRE(generate && chat);
    CHECK(dbus_method_signature(generate, sig, sizeof(sig)) && !strcmp(sig, "sa{ss}"));
    CHECK(dbus_method_signature(chat, sig, sizeof(sig)) && !strcmp(sig, "a(ss)a{ss}"));
    const struct dbus_interface *const ifaces[] = {&dbus_model_interface, NULL};
    const struct dbus_object_type type = {ifaces};
    const char *children[] = {"child_2d1"};
    struct slm_buf xml;
    slm_buf_init(&xml, 0);
    dbus_object_introspect(&xml, &type, children, 1);
    REQUIRE(!xml.failed);
    const char *want[] = {
        "<interface name=\"org.slmd.Slmd1.Model\">",
        "<method name=\"Generate\">",
        "<arg type=\"a{ss}\" name=\"options\" direction=\"in\"/>",
        "<arg type=\"a(suud)\" name=\"entities\" direction=\"out\"/>",
        "<property name=\"ContextLength\" type=\"u\" access=\"read\"/>",
        "<interface name=\"org.freedesktop.DBus.Properties\">",
        "<node name=\"child_2d1\"/>",
        "EmitsChangedSignal\" value=\"false\"",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        CHECKF(strstr(xml.data, want[i]) != NULL, "missing %s", want[i]);
    slm_buf_deinit(&xml);
    /* Manager and Request interfaces: the signatures DESIGN.md fixes */
    for (size_t i = 0; i < dbus_manager_interface.n_methods; i++)
        if (!strcmp(dbus_manager_interface.methods[i].name, "ListModels"))
            CHECK(!strcmp(dbus_manager_interface.methods[i].out[0].type, "a(sssb)"));
    CHECK(dbus_request_interface.n_signals == 2 &&
          !strcmp(dbus_request_interface.signals[1].args[1].type, "a{ss}"));
}

/* ---- callers ---- */

static void test_auth(void)
{
    struct slmd_server_config config;
    slmd_server_config_init(&config);
    CHECK(ipc_caller_allowed(&config, 0, 0));
    CHECK(ipc_caller_allowed(&config, geteuid(), (gid_t)-1));
    if (geteuid() != 54321)
        CHECK(!ipc_caller_allowed(&config, 54321, 54321)); /* no such user, no groups */
    config.allowed_groups[config.n_allowed_groups++] = 54321;
    CHECK(ipc_caller_allowed(&config, 54321, 54321)); /* its gid (SO_PEERCRED) is allowed */
    CHECK(!ipc_caller_allowed(&config, 54322, (gid_t)-1));
    CHECK(ipc_caller_is_root(0) && !ipc_caller_is_root(1));
}

/* ---- slm's HTTP client ---- */

static int collect(void *userdata, int status, const char *data, size_t len)
{
    slm_buf_append(userdata, data, len);
    return 0;
}

static int feed_response(const char *text, size_t chunk, struct slm_buf *body, int *status)
{
    struct slm_http_parser p;
    slm_http_parser_init(&p, collect, body);
    size_t len = strlen(text);
    int r = 0;
    for (size_t i = 0; i < len && r == 0; i += chunk)
        r = slm_http_parser_feed(&p, text + i, SLM_MIN(chunk, len - i));
    if (r == 0)
        r = slm_http_parser_eof(&p);
    *status = p.status;
    slm_http_parser_deinit(&p);
    return r;
}

static void test_http_client_parser(void)
{
    const struct {
        const char *response, *body;
        int status;
        bool ok;
    } cases[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA", "hello", 200, true},
        {"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nTransfer-Encoding: "
         "chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: y\r\n\r\n",
         "abcde", 404, true},
        {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", "ok",
         201, true},
        {"HTTP/1.0 200 OK\r\n\r\nuntil close", "until close", 200, true},
        {"HTTP/1.1 200 OK\nContent-Length: 1\n\nx", "x", 200, true},
        {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "short", 200, false},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "", 200, false},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "", 200, false},
        {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "", 200, false},
        {"SMTP ready\r\n", "", 0, false},
        {"HTTP/1.1 200 OK\r\nbad header\r\n\r\n", "", 200, false},
        {"", "", 0, false},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcdX\r\n0\r\n\r\n", "abcd", 200,
         false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (size_t chunk = 1; chunk <= 4096; chunk *= 64) {
            struct slm_buf body;
            slm_buf_init(&body, 0);
            int status = 0;
            int r = feed_response(cases[i].response, chunk, &body, &status);
            CHECKF((r == 0) == cases[i].ok, "case %zu chunk %zu", i, chunk);
            if (cases[i].ok)
                CHECKF(status == cases[i].status && body.len == strlen(cases[i].body) &&
                           (!body.len || !memcmp(body.data, cases[i].body, body.len)),
                       "case %zu chunk %zu: %d '%s'", i, chunk, status,
                       body.data ? body.data : "");
            slm_buf_deinit(&body);
        }
    }
    /* a header line longer than the limit */
    struct slm_buf huge;
    slm_buf_init(&huge, 0);
    slm_buf_puts(&huge, "HTTP/1.1 200 OK\r\nX: ");
    for (int i = 0; i < SLM_HTTP_LINE_MAX; i++)
        slm_buf_puts(&huge, "a");
    slm_buf_puts(&huge, "\r\n\r\n");
    struct slm_buf body;
    slm_buf_init(&body, 0);
    int status;
    CHECK(feed_response(huge.data, 1000, &body, &status) < 0);
    slm_buf_deinit(&body);
    slm_buf_deinit(&huge);
}

static int on_event(void *userdata, const char *data, size_t len)
{
    struct slm_buf *events = userdata;
    slm_buf_append(events, data, len);
    slm_buf_puts(events, "|");
    return 0;
}

static void test_sse(void)
{
    const char *stream = ": comment\r\ndata: {\"a\":1}\r\n\r\nevent: x\ndata:two\ndata: lines\n\n"
                         "data: [DONE]\n\nid: 4\n\n";
    for (size_t chunk = 1; chunk <= 64; chunk *= 4) {
        struct slm_buf events;
        slm_buf_init(&events, 0);
        struct slm_sse sse;
        slm_sse_init(&sse, on_event, &events);
        for (size_t i = 0; i < strlen(stream); i += chunk)
            CHECK(slm_sse_feed(&sse, stream + i, SLM_MIN(chunk, strlen(stream) - i)) == 0);
        CHECKF(events.data && !strcmp(events.data, "{\"a\":1}|two\nlines|[DONE]|"), "%s",
               events.data ? events.data : "(none)");
        slm_sse_deinit(&sse);
        slm_buf_deinit(&events);
    }
}

static void test_buf(void)
{
    struct slm_buf b;
    slm_buf_init(&b, 8);
    CHECK(slm_buf_puts(&b, "12345678") && b.len == 8);
    CHECK(!slm_buf_puts(&b, "9") && b.failed);
    CHECK(!slm_buf_puts(&b, "")); /* stays failed */
    slm_buf_clear(&b);
    CHECK(slm_buf_printf(&b, "%d-%s", 42, "x") && !strcmp(b.data, "42-x"));
    slm_buf_consume(&b, 3);
    CHECK(!strcmp(b.data, "x") && b.len == 1);
    size_t n;
    char *s = slm_buf_steal(&b, &n);
    CHECK(s && !strcmp(s, "x") && n == 1 && !b.data);
    free(s);
    slm_buf_deinit(&b);
}

int main(void)
{
    test_path_escape();
    test_utf8();
    test_options();
    test_status_map();
    test_metrics();
    test_http_api();
    test_json_output();
    test_dbus_args();
    test_introspection();
    test_auth();
    test_http_client_parser();
    test_sse();
    test_buf();
    return test_report();
}
