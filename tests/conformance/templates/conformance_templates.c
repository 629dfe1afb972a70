/* Renders every case of ../shared/templates.json and compares with the Jinja2 reference
 * byte for byte (or expects the error the reference raised), then renders every case of
 * templates-extra.json, which must succeed.
 *
 *   conformance_templates                 the ctest check
 *   conformance_templates --dump FILE     writes each case's result as JSON lines, for
 *                                         check_with_jinja2.py to compare with Python
 *   conformance_templates --cases FILE    renders a JSON list of {"template", "vars"} and
 *                                         prints one JSON line per case (differential.py) */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slm/template.h"
#include "test.h"

struct result {
    int rc;
    char *output;
    slm_error err;
};

static struct result render_case(struct json_object *c)
{
    struct result res = {0};
    struct json_object *tmpl_j, *messages_j, *bos_j, *eos_j, *agp_j;
    json_object_object_get_ex(c, "template", &tmpl_j);
    json_object_object_get_ex(c, "messages", &messages_j);
    json_object_object_get_ex(c, "bos_token", &bos_j);
    json_object_object_get_ex(c, "eos_token", &eos_j);
    json_object_object_get_ex(c, "add_generation_prompt", &agp_j);
    const char *source = json_object_get_string(tmpl_j);
    slm_template *tmpl =
        slm_template_compile(source, (size_t)json_object_get_string_len(tmpl_j), &res.err);
    if (!tmpl) {
        res.rc = -1;
        return res;
    }
    struct slm_template_input in = {
        .add_generation_prompt = json_object_get_boolean(agp_j),
        .bos_token = json_object_get_string(bos_j),
        .eos_token = json_object_get_string(eos_j),
    };
    struct slm_template_options options = {
        .messages_json = json_object_to_json_string_ext(messages_j, JSON_C_TO_STRING_PLAIN),
        /* the reference renders were made without strftime_now (see slm/template.h) */
        .without_strftime_now = true,
    };
    res.rc = slm_template_render_ex(tmpl, &in, &options, NULL, &res.output, NULL, &res.err);
    slm_template_free(tmpl);
    return res;
}

static const char *case_name(struct json_object *c, char *buf, size_t size)
{
    struct json_object *name, *variant;
    json_object_object_get_ex(c, "name", &name);
    json_object_object_get_ex(c, "variant", &variant);
    snprintf(buf, size, "%s [%s]", json_object_get_string(name),
             variant ? json_object_get_string(variant) : "");
    return buf;
}

static int check_file(const char *path, bool extra)
{
    struct json_object *cases = json_object_from_file(path);
    REQUIRE(cases && json_object_is_type(cases, json_type_array));
    size_t n = json_object_array_length(cases), passed = 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *c = json_object_array_get_idx(cases, i), *expected, *error;
        char name[256];
        case_name(c, name, sizeof(name));
        struct result res = render_case(c);
        /* error cases carry "expected": null */
        if (json_object_object_get_ex(c, "expected", &expected) && expected) {
            const char *want = json_object_get_string(expected);
            CHECKF(res.rc == 0, "%s: %s", name, res.err.message);
            if (res.rc == 0) {
                bool same = strcmp(res.output, want) == 0;
                CHECKF(same, "%s: output differs\n--- expected\n%s\n--- got\n%s", name, want,
                       res.output);
                passed += same;
            }
        } else if (json_object_object_get_ex(c, "error", &error) && error) {
            CHECKF(res.rc < 0, "%s: rendered but the reference raised %s", name,
                   json_object_get_string(error));
            CHECKF(res.err.status == SLM_ERR_TEMPLATE, "%s: wrong status %d", name, res.err.status);
            passed += res.rc < 0;
        } else {
            CHECKF(extra && res.rc == 0, "%s: %s", name, res.err.message);
            passed += res.rc == 0;
        }
        free(res.output);
    }
    printf("%s: %zu of %zu cases pass\n", path, passed, n);
    json_object_put(cases);
    return 0;
}

static int dump(const char *shared, const char *out_path)
{
    FILE *out = fopen(out_path, "w");
    REQUIRE(out);
    const char *files[] = {"templates.json", "templates-extra.json"};
    for (size_t f = 0; f < 2; f++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", shared, files[f]);
        struct json_object *cases = json_object_from_file(path);
        REQUIRE(cases);
        for (size_t i = 0; i < json_object_array_length(cases); i++) {
            struct result res = render_case(json_object_array_get_idx(cases, i));
            struct json_object *line = json_object_new_object();
            json_object_object_add(line, "file", json_object_new_string(files[f]));
            json_object_object_add(line, "index", json_object_new_int((int)i));
            json_object_object_add(line, "ok", json_object_new_boolean(res.rc == 0));
            json_object_object_add(
                line, res.rc == 0 ? "output" : "error",
                json_object_new_string(res.rc == 0 ? res.output : res.err.message));
            fprintf(out, "%s\n", json_object_to_json_string_ext(line, JSON_C_TO_STRING_PLAIN));
            json_object_put(line);
            free(res.output);
        }
        json_object_put(cases);
    }
    fclose(out);
    return 0;
}

static int render_cases(const char *path)
{
    struct json_object *cases = json_object_from_file(path);
    REQUIRE(cases && json_object_is_type(cases, json_type_array));
    for (size_t i = 0; i < json_object_array_length(cases); i++) {
        struct json_object *c = json_object_array_get_idx(cases, i), *source, *vars;
        json_object_object_get_ex(c, "template", &source);
        json_object_object_get_ex(c, "vars", &vars);
        slm_error err = {0};
        char *output = NULL;
        int rc = -1;
        slm_template *tmpl = slm_template_compile(json_object_get_string(source),
                                                  (size_t)json_object_get_string_len(source), &err);
        if (tmpl) {
            struct slm_template_input in = {.bos_token = "<s>", .eos_token = "</s>"};
            struct slm_template_options options = {
                .variables_json = json_object_to_json_string_ext(vars, JSON_C_TO_STRING_PLAIN),
                .without_strftime_now = true,
            };
            rc = slm_template_render_ex(tmpl, &in, &options, NULL, &output, NULL, &err);
            slm_template_free(tmpl);
        }
        struct json_object *line = json_object_new_object();
        json_object_object_add(line, "ok", json_object_new_boolean(rc == 0));
        json_object_object_add(line, rc == 0 ? "output" : "error",
                               json_object_new_string(rc == 0 ? output : err.message));
        printf("%s\n", json_object_to_json_string_ext(line, JSON_C_TO_STRING_PLAIN));
        json_object_put(line);
        free(output);
    }
    json_object_put(cases);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--cases") == 0) return render_cases(argv[2]);
    const char *shared = test_shared_dir();
    if (!shared) return 0;
    if (argc == 3 && strcmp(argv[1], "--dump") == 0) return dump(shared, argv[2]);
    char path[4096];
    snprintf(path, sizeof(path), "%s/templates.json", shared);
    check_file(path, false);
    snprintf(path, sizeof(path), "%s/templates-extra.json", shared);
    check_file(path, true);
    return test_report();
}
