/* The STATUS= line (daemon/status.c): wording, plurals, draining models, the reload error,
 * and the cut at SLMD_STATUS_MAX. */
#include "test.h"

#include "daemon/status.h"

static struct slm_model_status row(const char *name, enum slm_model_state state)
{
    struct slm_model_status s;
    memset(&s, 0, sizeof(s));
    snprintf(s.name, sizeof(s.name), "%s", name);
    s.state = state;
    return s;
}

int main(void)
{
    char line[SLMD_STATUS_MAX];

    slmd_status_format(line, NULL, 0, 0, NULL);
    CHECK(strcmp(line, "No models configured; 0 requests queued") == 0);

    struct slm_model_status two[] = {row("tinyllama", SLM_MODEL_READY),
                                     row("sentiment", SLM_MODEL_LOADING)};
    slmd_status_format(line, two, 2, 0, NULL);
    CHECKF(strcmp(line, "Serving 2 models (tinyllama: ready, sentiment: loading); 0 requests "
                        "queued") == 0,
           "%s", line);

    struct slm_model_status one[] = {row("m", SLM_MODEL_DECLARED)};
    slmd_status_format(line, one, 1, 1, "");
    CHECKF(strcmp(line, "Serving 1 model (m: not loaded); 1 request queued") == 0, "%s", line);

    struct slm_model_status all[] = {row("a", SLM_MODEL_FAILED), row("b", SLM_MODEL_DRAINING),
                                     row("c", SLM_MODEL_READY)};
    slmd_status_format(line, all, 3, 7, "reload failed: x.yaml:3:1: unknown key 'q'");
    CHECKF(strcmp(line, "Serving 2 models (a: failed, b: draining, c: ready); 7 requests "
                        "queued; reload failed: x.yaml:3:1: unknown key 'q'") == 0,
           "%s", line);

    /* 64 long names do not fit: the line is cut, ends in "…", and stays in bounds */
    static struct slm_model_status many[64];
    for (int i = 0; i < 64; i++) {
        char name[72];
        snprintf(name, sizeof(name), "model-with-a-rather-long-name-%02d", i);
        many[i] = row(name, SLM_MODEL_READY);
    }
    memset(line, 'x', sizeof(line));
    slmd_status_format(line, many, 64, 0, "reload failed");
    size_t len = strnlen(line, sizeof(line));
    CHECK(len < sizeof(line));
    CHECK(len >= sizeof(line) - 8); /* filled up, not cut early */
    CHECK(len >= 3 && strcmp(line + len - 3, "…") == 0);
    CHECK(strncmp(line, "Serving 64 models (model-with-a-rather-long-name-00: ready", 58) == 0);

    CHECK(strcmp(slmd_status_state_word(SLM_MODEL_DECLARED), "not loaded") == 0);
    CHECK(strcmp(slmd_status_state_word(SLM_MODEL_DRAINING), "draining") == 0);
    return test_report();
}
