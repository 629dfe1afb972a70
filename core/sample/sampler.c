/* Token sampling. See slm/sampler.h for the order of the steps. */
#include "slm/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/cleanup.h"

/* Built-in defaults: the values common local runners use, so a model behaves as people
 * expect when neither the request nor the config says otherwise. */
#define DEFAULT_TEMPERATURE 0.8f
#define DEFAULT_TOP_K 40
#define DEFAULT_TOP_P 0.95f
#define DEFAULT_MIN_P 0.05f
#define DEFAULT_REPEAT_LAST_N 64

void slm_sampling_unset(struct slm_sampling *s)
{
    s->temperature = -1;
    s->top_k = -1;
    s->top_p = -1;
    s->min_p = -1;
    s->repeat_penalty = -1;
    s->repeat_last_n = -1;
    s->frequency_penalty = NAN;
    s->presence_penalty = NAN;
    s->has_seed = false;
    s->seed = 0;
}

void slm_sampling_merge(struct slm_sampling *s, const struct slm_sampling *f)
{
    if (s->temperature < 0)
        s->temperature = f->temperature;
    if (s->top_k < 0)
        s->top_k = f->top_k;
    if (s->top_p < 0)
        s->top_p = f->top_p;
    if (s->min_p < 0)
        s->min_p = f->min_p;
    if (s->repeat_penalty < 0)
        s->repeat_penalty = f->repeat_penalty;
    if (s->repeat_last_n < 0)
        s->repeat_last_n = f->repeat_last_n;
    if (isnan(s->frequency_penalty))
        s->frequency_penalty = f->frequency_penalty;
    if (isnan(s->presence_penalty))
        s->presence_penalty = f->presence_penalty;
    if (!s->has_seed && f->has_seed) {
        s->has_seed = true;
        s->seed = f->seed;
    }
}

void slm_sampling_resolve(struct slm_sampling *s)
{
    const struct slm_sampling defaults = {
        .temperature = DEFAULT_TEMPERATURE,
        .top_k = DEFAULT_TOP_K,
        .top_p = DEFAULT_TOP_P,
        .min_p = DEFAULT_MIN_P,
        .repeat_penalty = 1.0f,
        .repeat_last_n = DEFAULT_REPEAT_LAST_N,
        .frequency_penalty = 0.0f,
        .presence_penalty = 0.0f,
    };
    slm_sampling_merge(s, &defaults);
    if (!s->has_seed) {
        uint64_t seed = 0;
        if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
            seed = (uint64_t)(uintptr_t)s ^ 0x9e3779b97f4a7c15ull;
        s->seed = seed;
        s->has_seed = true;
    }
}

static bool in_range(float v, float lo, float hi) { return v >= lo && v <= hi; }

int slm_sampling_validate(const struct slm_sampling *s, slm_error *err)
{
    if (s->temperature >= 0 && !in_range(s->temperature, 0, 100))
        return slm_errorf(err, SLM_ERR_INVALID, "temperature %g is out of range (0 to 100)",
                          s->temperature);
    if (s->top_k >= 0 && s->top_k > 1000000)
        return slm_errorf(err, SLM_ERR_INVALID, "top_k %d is out of range (0 to 1000000)",
                          s->top_k);
    if (s->top_p >= 0 && !in_range(s->top_p, 0, 1))
        return slm_errorf(err, SLM_ERR_INVALID, "top_p %g is out of range (0 to 1)", s->top_p);
    if (s->min_p >= 0 && !in_range(s->min_p, 0, 1))
        return slm_errorf(err, SLM_ERR_INVALID, "min_p %g is out of range (0 to 1)", s->min_p);
    if (s->repeat_penalty >= 0 && !in_range(s->repeat_penalty, 0.01f, 100))
        return slm_errorf(err, SLM_ERR_INVALID, "repeat_penalty %g is out of range (0.01 to "
                          "100)", s->repeat_penalty);
    if (s->repeat_last_n > 1000000)
        return slm_errorf(err, SLM_ERR_INVALID, "repeat_last_n %d is out of range (0 to "
                          "1000000)", s->repeat_last_n);
    if (!isnan(s->frequency_penalty) && !in_range(s->frequency_penalty, -100, 100))
        return slm_errorf(err, SLM_ERR_INVALID, "frequency_penalty %g is out of range (-100 "
                          "to 100)", s->frequency_penalty);
    if (!isnan(s->presence_penalty) && !in_range(s->presence_penalty, -100, 100))
        return slm_errorf(err, SLM_ERR_INVALID, "presence_penalty %g is out of range (-100 "
                          "to 100)", s->presence_penalty);
    return 0;
}

/* ---- the sampler ---- */

struct candidate {
    int32_t id;
    float value; /* logit, then probability */
};

struct slm_sampler {
    struct slm_sampling p;
    uint32_t n_vocab;
    uint64_t rng[4];     /* xoshiro256** state */
    int32_t *history;    /* ring of the last repeat_last_n tokens */
    uint32_t n_history;  /* filled entries */
    uint32_t history_at; /* next write position */
    uint32_t *counts;    /* scratch: occurrences per token within the window */
    struct candidate *cand;
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_u64(uint64_t s[4])
{
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1) with 53 random bits. */
static double next_unit(uint64_t s[4]) { return (double)(next_u64(s) >> 11) * 0x1.0p-53; }

slm_sampler *slm_sampler_new(const struct slm_sampling *s, uint32_t n_vocab, slm_error *err)
{
    if (slm_sampling_validate(s, err) < 0)
        return NULL;
    slm_sampler *smp = calloc(1, sizeof(*smp));
    if (!smp)
        goto nomem;
    smp->p = *s;
    smp->n_vocab = n_vocab;
    uint64_t seed = s->seed;
    for (int i = 0; i < 4; i++)
        smp->rng[i] = splitmix64(&seed);
    uint32_t window = s->repeat_last_n > 0 ? (uint32_t)s->repeat_last_n : 0;
    smp->history = calloc(window ? window : 1, sizeof(*smp->history));
    smp->counts = calloc(n_vocab ? n_vocab : 1, sizeof(*smp->counts));
    smp->cand = calloc(n_vocab ? n_vocab : 1, sizeof(*smp->cand));
    if (!smp->history || !smp->counts || !smp->cand)
        goto nomem;
    return smp;
nomem:
    slm_sampler_free(smp);
    slm_errorf(err, SLM_ERR_NOMEM, "sampler: out of memory");
    return NULL;
}

void slm_sampler_free(slm_sampler *smp)
{
    if (!smp)
        return;
    free(smp->history);
    free(smp->counts);
    free(smp->cand);
    free(smp);
}

void slm_sampler_accept(slm_sampler *smp, int32_t token)
{
    uint32_t window = smp->p.repeat_last_n > 0 ? (uint32_t)smp->p.repeat_last_n : 0;
    if (!window)
        return;
    smp->history[smp->history_at] = token;
    smp->history_at = (smp->history_at + 1) % window;
    if (smp->n_history < window)
        smp->n_history++;
}

/* Repetition penalty (divide positive logits, multiply negative ones), then OpenAI's
 * frequency and presence penalties, over the tokens of the recent window. */
static void apply_penalties(slm_sampler *smp, float *logits)
{
    const struct slm_sampling *p = &smp->p;
    bool repeat = p->repeat_penalty != 1.0f;
    bool freq = p->frequency_penalty != 0.0f, pres = p->presence_penalty != 0.0f;
    if (!smp->n_history || (!repeat && !freq && !pres))
        return;
    for (uint32_t i = 0; i < smp->n_history; i++) {
        int32_t t = smp->history[i];
        if (t >= 0 && (uint32_t)t < smp->n_vocab)
            smp->counts[t]++;
    }
    for (uint32_t i = 0; i < smp->n_history; i++) {
        int32_t t = smp->history[i];
        if (t < 0 || (uint32_t)t >= smp->n_vocab || smp->counts[t] == 0)
            continue;
        if (repeat)
            logits[t] = logits[t] > 0 ? logits[t] / p->repeat_penalty
                                      : logits[t] * p->repeat_penalty;
        logits[t] -= (float)smp->counts[t] * p->frequency_penalty + (pres ? p->presence_penalty
                                                                           : 0.0f);
        smp->counts[t] = 0; /* once per distinct token */
    }
}

static int32_t argmax(const float *logits, uint32_t n)
{
    int32_t best = 0;
    for (uint32_t i = 1; i < n; i++)
        if (logits[i] > logits[best])
            best = (int32_t)i;
    return best;
}

static int cmp_desc(const void *a, const void *b)
{
    float x = ((const struct candidate *)a)->value, y = ((const struct candidate *)b)->value;
    if (x != y)
        return x > y ? -1 : 1;
    /* equal values: lower id first, so results do not depend on the sort's whims */
    return ((const struct candidate *)a)->id - ((const struct candidate *)b)->id;
}

/* Moves the k best candidates to the front (unordered) with a min-heap of size k:
 * O(n log k) instead of sorting the whole vocabulary for every token. */
static bool worse(const struct candidate *a, const struct candidate *b)
{
    return a->value < b->value || (a->value == b->value && a->id > b->id);
}

static void sift_down(struct candidate *h, uint32_t k, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < k && worse(&h[l], &h[m]))
            m = l;
        if (r < k && worse(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        struct candidate t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static uint32_t select_top_k(struct candidate *c, uint32_t n, uint32_t k)
{
    for (uint32_t i = k / 2; i-- > 0;)
        sift_down(c, k, i);
    for (uint32_t i = k; i < n; i++) {
        if (worse(&c[0], &c[i])) {
            c[0] = c[i];
            sift_down(c, k, 0);
        }
    }
    return k;
}

int32_t slm_sampler_sample(slm_sampler *smp, float *logits)
{
    const struct slm_sampling *p = &smp->p;
    const uint32_t n_vocab = smp->n_vocab;
    apply_penalties(smp, logits);
    if (p->temperature <= 0.0f)
        return argmax(logits, n_vocab);

    struct candidate *c = smp->cand;
    uint32_t n = 0;
    for (uint32_t i = 0; i < n_vocab; i++)
        if (isfinite(logits[i]))
            c[n++] = (struct candidate){(int32_t)i, logits[i]};
    if (n == 0)
        return argmax(logits, n_vocab);
    if (p->top_k > 0 && (uint32_t)p->top_k < n)
        n = select_top_k(c, n, (uint32_t)p->top_k);
    qsort(c, n, sizeof(*c), cmp_desc);

    /* softmax at temperature */
    float max = c[0].value;
    double sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        c[i].value = expf((c[i].value - max) / p->temperature);
        sum += c[i].value;
    }
    for (uint32_t i = 0; i < n; i++)
        c[i].value = (float)(c[i].value / sum);

    if (p->top_p < 1.0f) {
        double cum = 0;
        for (uint32_t i = 0; i < n; i++) {
            cum += c[i].value;
            if (cum >= p->top_p) {
                n = i + 1;
                break;
            }
        }
    }
    if (p->min_p > 0.0f) {
        float floor = c[0].value * p->min_p;
        uint32_t keep = 1;
        while (keep < n && c[keep].value >= floor)
            keep++;
        n = keep;
    }
    double total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += c[i].value;
    double r = next_unit(smp->rng) * total;
    for (uint32_t i = 0; i < n; i++) {
        r -= c[i].value;
        if (r < 0)
            return c[i].id;
    }
    return c[n - 1].id;
}
