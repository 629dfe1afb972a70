/* ctest-labels: threads */
/* Chat templates through the public API: limits, error values and line numbers, the ways
 * messages and variables are passed, strftime_now, and rendering from several threads. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slm/template.h"
#include "test.h"

struct rendered {
    int rc;
    char *out;
    size_t len;
    slm_error err;
};

static struct rendered render_opts(const char *source, const struct slm_template_input *in,
                                   const struct slm_template_options *options,
                                   const struct slm_template_limits *limits)
{
    struct rendered res = {.rc = -1};
    slm_template *tmpl = slm_template_compile(source, strlen(source), &res.err);
    if (!tmpl) return res;
    res.rc = slm_template_render_ex(tmpl, in, options, limits, &res.out, &res.len, &res.err);
    slm_template_free(tmpl);
    return res;
}

static struct rendered render_with(const char *source, const struct slm_template_input *in,
                                   const struct slm_template_limits *limits)
{
    return render_opts(source, in, NULL, limits);
}

static struct rendered render(const char *source)
{
    struct slm_template_input in = {.bos_token = "<s>", .eos_token = "</s>"};
    return render_with(source, &in, NULL);
}

static void expect_output(const char *source, const char *expected)
{
    struct rendered res = render(source);
    CHECKF(res.rc == 0, "%s: %s", source, res.err.message);
    CHECKF(res.rc != 0 || strcmp(res.out, expected) == 0, "%s: got [%s], expected [%s]", source,
           res.out, expected);
    free(res.out);
}

static void expect_error(const char *source, const struct slm_template_limits *limits,
                         const char *message)
{
    struct slm_template_input in = {.bos_token = "", .eos_token = ""};
    struct rendered res = render_with(source, &in, limits);
    CHECKF(res.rc < 0, "%s: rendered [%s]", source, res.out ? res.out : "");
    CHECKF(res.rc >= 0 || res.err.status == SLM_ERR_TEMPLATE, "%s: status %d", source,
           res.err.status);
    CHECKF(res.rc >= 0 || strstr(res.err.message, message), "%s: message [%s], expected [%s]",
           source, res.err.message, message);
    free(res.out);
}

static void test_defaults(void)
{
    struct slm_template_limits l;
    slm_template_limits_default(&l);
    CHECK(l.max_output == 1u << 20);
    CHECK(l.max_steps == 10000000);
    CHECK(l.max_depth == 64);
    CHECK(l.max_memory == 32u << 20);
}

static void test_line_numbers(void)
{
    expect_error("line one\n{% if x %}\n{{ 1 + }}\n{% endif %}", NULL, "line 3: ");
    expect_error("a\nb\n{% for x in y %}\n", NULL, "line 3: unexpected end of template");
    expect_error("{# a\nlong\ncomment #}\n\n{{ undefined_thing.attr }}", NULL,
                 "line 5: 'undefined_thing' is undefined");
    expect_error("{% set xs = [1, 2] %}\n{% for x in xs %}\n\n{{ x / 0 }}\n{% endfor %}", NULL,
                 "line 4: division by zero");
    expect_error("{% macro m(a) %}\n{{ a.b.c }}\n{% endmacro %}\n{{ m({}) }}", NULL,
                 "line 2: 'dict object' has no attribute 'b'");
}

static void test_raise_exception(void)
{
    struct rendered res = render("before{{ raise_exception('Only user and assistant roles are "
                                 "supported!') }}after");
    CHECK(res.rc == -SLM_ERR_TEMPLATE);
    CHECK(res.err.status == SLM_ERR_TEMPLATE);
    CHECK(strcmp(res.err.message, "Only user and assistant roles are supported!") == 0);
    CHECK(res.out == NULL);
}

static void test_limits(void)
{
    /* time: a loop nest that would run 10^10 times */
    expect_error("{% set r = range(100000) %}{% for i in r %}{% for j in r %}{% endfor %}"
                 "{% endfor %}",
                 NULL, "limit of 10000000 steps");
    /* the same with a new list per iteration runs out of memory first */
    expect_error("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}"
                 "{% endfor %}",
                 NULL, "memory limit");
    struct slm_template_limits small;
    slm_template_limits_default(&small);
    small.max_steps = 1000;
    expect_error("{% for i in range(2000) %}{{ i }}{% endfor %}", &small, "limit of 1000 steps");
    /* depth: unbounded macro recursion, and deep nesting in one expression */
    expect_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", NULL,
                 "nesting limit of 64");
    expect_error("{% set xs = [] %}{% set _ = xs.append(xs) %}{{ xs|tojson }}", NULL,
                 "nested too deeply");
    expect_error("{% set xs = [] %}{% set _ = xs.append(xs) %}{{ xs }}", NULL, "nesting limit");
    char deep[2048] = "{{ ";
    for (int i = 0; i < 500; i++)
        strcat(deep, "(");
    strcat(deep, "1");
    for (int i = 0; i < 500; i++)
        strcat(deep, ")");
    strcat(deep, " }}");
    expect_error(deep, NULL, "nested too deeply");
    /* output */
    expect_error("{% for i in range(200) %}{{ 'x' * 10000 }}{% endfor %}", NULL,
                 "output exceeded its limit of 1048576 bytes");
    small.max_steps = 1000000;
    small.max_output = 10;
    expect_error("{{ 'hello world' }}", &small, "output exceeded its limit of 10 bytes");
    expect_error("{% set x %}{{ 'hello world' }}{% endset %}", &small, "output exceeded");
    /* memory */
    expect_error("{% set s = 'x' * 100000000 %}", NULL, "memory limit of 33554432 bytes");
    expect_error("{% set s = range(20000000) %}", NULL, "limit");
    slm_template_limits_default(&small);
    small.max_memory = 100000;
    expect_error("{% set s = 'x' * 200000 %}", &small, "memory limit of 100000 bytes");
    /* 0 means the default */
    small.max_memory = 0;
    struct slm_template_input in = {.bos_token = "", .eos_token = ""};
    struct rendered res = render_with("{{ 'x' * 200000 }}", &in, &small);
    CHECK(res.rc == 0 && res.len == 200000);
    free(res.out);
}

static void test_messages(void)
{
    static const char *chatml =
        "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% if m.content is none %}"
        "(none){% endif %}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";
    struct slm_chat_message msgs[] = {{"system", "S"}, {"user", "héllo"}, {"assistant", NULL}};
    struct slm_template_input in = {.messages = msgs,
                                    .n_messages = 3,
                                    .add_generation_prompt = true,
                                    .bos_token = "<s>",
                                    .eos_token = "</s>"};
    struct rendered res = render_with(chatml, &in, NULL);
    CHECK(res.rc == 0);
    /* trim_blocks eats the newline after {% endif %} */
    CHECK(res.rc == 0 &&
          strcmp(res.out, "<|system|>S<|user|>héllo<|assistant|>None(none)<|assistant|>") == 0);
    free(res.out);

    /* messages_json: every key reaches the template */
    in = (struct slm_template_input){.bos_token = "", .eos_token = ""};
    struct slm_template_options options = {
        .messages_json = "[{\"role\": \"assistant\", \"content\": null, \"tool_calls\": "
                         "[{\"function\": {\"name\": \"get\", \"arguments\": {\"q\": 1}}}]}]",
    };
    res = render_opts("{% for m in messages %}{{ m.content is none }} "
                      "{{ m.tool_calls[0].function.name }}{{ m.tool_calls[0].function.arguments"
                      "|tojson }}{% endfor %}",
                      &in, &options, NULL);
    CHECKF(res.rc == 0, "%s", res.err.message);
    CHECK(res.rc == 0 && strcmp(res.out, "True get{\"q\": 1}") == 0);
    free(res.out);

    options.messages_json = "[{\"role\": \"user\"";
    res = render_opts("x", &in, &options, NULL);
    CHECK(res.rc == -SLM_ERR_INVALID && strstr(res.err.message, "messages: invalid JSON"));
    options.messages_json = "{\"role\": \"user\"}";
    res = render_opts("x", &in, &options, NULL);
    CHECK(res.rc == -SLM_ERR_INVALID && strstr(res.err.message, "expected a JSON array"));
    options.messages_json = "[] trailing";
    res = render_opts("x", &in, &options, NULL);
    CHECK(res.rc == -SLM_ERR_INVALID);
}

static void test_messages_file(void)
{
    char path[] = "/tmp/slm-template-test-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    const char *json = "[{\"role\": \"user\", \"content\": \"Hi\"},\n"
                       " {\"role\": \"assistant\", \"content\": \"Hello\"}]\n";
    REQUIRE(write(fd, json, strlen(json)) == (ssize_t)strlen(json));
    close(fd);
    static const char *source =
        "{{ bos_token }}{% for m in messages %}{{ m.role }}={{ m.content }};"
        "{% endfor %}{% if add_generation_prompt %}>{% endif %}";
    slm_template *tmpl = slm_template_compile(source, strlen(source), NULL);
    REQUIRE(tmpl);
    char *out;
    size_t len;
    slm_error err;
    CHECK(slm_template_render_messages_file(tmpl, path, true, "<s>", "</s>", &out, &len, &err) ==
          0);
    CHECK(strcmp(out, "<s>user=Hi;assistant=Hello;>") == 0 && len == strlen(out));
    free(out);
    /* broken JSON names the file */
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs("[{\"role\": ", f);
    fclose(f);
    CHECK(slm_template_render_messages_file(tmpl, path, false, "", "", &out, NULL, &err) ==
          -SLM_ERR_INVALID);
    CHECK(strncmp(err.message, path, strlen(path)) == 0 && out == NULL);
    unlink(path);
    CHECK(slm_template_render_messages_file(tmpl, path, false, "", "", &out, NULL, &err) ==
          -SLM_ERR_IO);
    CHECK(strstr(err.message, "No such file") != NULL);
    slm_template_free(tmpl);
}

static void test_variables(void)
{
    expect_output("{{ tools is defined }}{{ documents is defined }}{{ bos_token }}{{ eos_token }}"
                  "{{ add_generation_prompt }}{{ messages|length }}",
                  "FalseFalse<s></s>False0");
    struct slm_template_input in = {.bos_token = "", .eos_token = ""};
    struct slm_template_options options = {
        .variables_json = "{\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}],"
                          " \"date_string\": \"1 Jan 2030\", \"add_generation_prompt\": true}",
    };
    struct rendered res = render_opts("{{ tools|map(attribute='function.name')|list }} "
                                      "{{ date_string }} {{ add_generation_prompt }}",
                                      &in, &options, NULL);
    CHECKF(res.rc == 0, "%s", res.err.message);
    CHECK(res.rc == 0 && strcmp(res.out, "['f'] 1 Jan 2030 True") == 0);
    free(res.out);
    options.variables_json = "[1]";
    res = render_opts("x", &in, &options, NULL);
    CHECK(res.rc == -SLM_ERR_INVALID && strstr(res.err.message, "variables"));
}

static void test_strftime_now(void)
{
    char year[16];
    time_t now = time(NULL);
    struct tm local;
    localtime_r(&now, &local);
    strftime(year, sizeof(year), "%Y", &local);
    struct rendered res = render("{{ strftime_now('%Y') }}|{{ strftime_now is defined }}");
    char expected[64];
    snprintf(expected, sizeof(expected), "%s|True", year);
    CHECKF(res.rc == 0 && strcmp(res.out, expected) == 0, "got [%s]", res.out);
    free(res.out);
    struct slm_template_input in = {.bos_token = "", .eos_token = ""};
    struct slm_template_options options = {.without_strftime_now = true};
    res = render_opts("{% if strftime_now is defined %}{{ strftime_now('%d %b %Y') }}"
                      "{% else %}26 Jul 2024{% endif %}",
                      &in, &options, NULL);
    CHECK(res.rc == 0 && strcmp(res.out, "26 Jul 2024") == 0);
    free(res.out);
}

static void test_edges(void)
{
    expect_output("", "");
    expect_output("\n", "");
    expect_output("plain text", "plain text");
    /* an embedded NUL is text like any other byte */
    slm_error err;
    slm_template *tmpl = slm_template_compile("a\0b{{ 1 }}", 10, &err);
    REQUIRE(tmpl);
    struct slm_template_input in = {.bos_token = "", .eos_token = ""};
    char *out;
    size_t len;
    CHECK(slm_template_render(tmpl, &in, NULL, &out, &len, NULL) == 0);
    CHECK(len == 4 && memcmp(out, "a\0b1", 4) == 0);
    free(out);
    slm_template_free(tmpl);
    /* the compiled template does not point into the source */
    char *source = strdup("{% for m in messages %}{{ m.role }}{% endfor %}{{ 'done' }}");
    tmpl = slm_template_compile(source, strlen(source), NULL);
    memset(source, 'x', strlen(source));
    free(source);
    REQUIRE(tmpl);
    struct slm_chat_message msgs[] = {{"user", "u"}};
    in = (struct slm_template_input){
        .messages = msgs, .n_messages = 1, .bos_token = "", .eos_token = ""};
    CHECK(slm_template_render(tmpl, &in, NULL, &out, NULL, NULL) == 0);
    CHECK(strcmp(out, "userdone") == 0);
    free(out);
    /* NULL arguments are errors, not crashes */
    CHECK(slm_template_render(NULL, &in, NULL, &out, NULL, &err) == -SLM_ERR_INVALID);
    CHECK(slm_template_render(tmpl, NULL, NULL, &out, NULL, &err) == -SLM_ERR_INVALID);
    slm_template_free(tmpl);
    slm_template_free(NULL);
    CHECK(slm_template_compile(NULL, 5, &err) == NULL && err.status == SLM_ERR_INVALID);
    tmpl = slm_template_compile(NULL, 0, &err);
    CHECK(tmpl != NULL);
    slm_template_free(tmpl);
}

/* One compiled template rendered from several threads at once. */
struct thread_job {
    const slm_template *tmpl;
    const char *expected;
    int failures;
};

static void *render_many(void *p)
{
    struct thread_job *job = p;
    struct slm_chat_message msgs[] = {
        {"system", "sys"}, {"user", "question"}, {"assistant", "answer"}};
    struct slm_template_input in = {.messages = msgs,
                                    .n_messages = 3,
                                    .add_generation_prompt = true,
                                    .bos_token = "<s>",
                                    .eos_token = "</s>"};
    for (int i = 0; i < 200; i++) {
        char *out = NULL;
        if (slm_template_render(job->tmpl, &in, NULL, &out, NULL, NULL) != 0 ||
            strcmp(out, job->expected) != 0)
            job->failures++;
        free(out);
    }
    return NULL;
}

static void test_threads(void)
{
    static const char *source = "{{ bos_token }}{% set ns = namespace(n=0) %}{% for m in messages "
                                "%}{% set ns.n = ns.n + 1 %}"
                                "[{{ m.role|upper }}:{{ m.content|title }}]{% endfor %}{{ ns.n }}"
                                "{% if add_generation_prompt %}>{% endif %}";
    slm_template *tmpl = slm_template_compile(source, strlen(source), NULL);
    REQUIRE(tmpl);
    struct thread_job jobs[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] =
            (struct thread_job){tmpl, "<s>[SYSTEM:Sys][USER:Question][ASSISTANT:Answer]3>", 0};
        REQUIRE(pthread_create(&threads[i], NULL, render_many, &jobs[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        CHECK(jobs[i].failures == 0);
    }
    slm_template_free(tmpl);
}

/* A long conversation through a ChatML template stays fast and within the default limits. */
static void test_long_conversation(void)
{
    enum { N = 2000 };
    static struct slm_chat_message msgs[N];
    char content[] = "This is a message of moderate length, about one hundred bytes long, "
                     "to be repeated many times.";
    for (int i = 0; i < N; i++)
        msgs[i] = (struct slm_chat_message){i % 2 ? "assistant" : "user", content};
    struct slm_template_input in = {.messages = msgs,
                                    .n_messages = N,
                                    .add_generation_prompt = true,
                                    .bos_token = "",
                                    .eos_token = ""};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct rendered res =
        render_with("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
                    "message['content'] | trim + '<|im_end|>' + '\\n' }}{% endfor %}"
                    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
                    &in, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECKF(res.rc == 0, "%s", res.err.message);
    size_t per = strlen("<|im_start|>user\n<|im_end|>\n") + strlen(content);
    CHECK(res.len > N * per && res.len < N * (per + 5) + 40);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("2000 messages rendered in %.1f ms (%zu bytes)\n", ms, res.len);
    free(res.out);
}

int main(void)
{
    test_defaults();
    test_line_numbers();
    test_raise_exception();
    test_limits();
    test_messages();
    test_messages_file();
    test_variables();
    test_strftime_now();
    test_edges();
    test_threads();
    test_long_conversation();
    return test_report();
}
