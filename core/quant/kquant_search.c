/* Scale searches of the K-quant quantizers; see kquant_search.h. The arithmetic is kept
 * in the reference's order (this file is built without floating-point contraction) so
 * that every choice it makes is the reference's choice. */
#include "quant/kquant_search.h"

#include <math.h>

#include "quant/fp16.h"
#include "quant/quants.h"

#define MAX_SUB_BLOCK 32

static int clamp_int(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Weighted error of x against scale * L + min. */
static float fit_error(int n, const float *x, const float *weights, const uint8_t *L,
                       float scale, float min, bool use_mad)
{
    float error = 0;
    for (int i = 0; i < n; i++) {
        float diff = scale * L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        error += weights[i] * diff;
    }
    return error;
}

float slm_kq_fit_scale_min(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                           float *neg_min, float rmin, float rdelta, int nstep, bool use_mad)
{
    uint8_t candidate[MAX_SUB_BLOCK];
    float min = x[0], max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min)
            min = x[i];
        if (x[i] > max)
            max = x[i];
        sum_w += weights[i];
        sum_x += weights[i] * x[i];
    }
    if (min > 0) /* the min is subtracted, so a positive one would only waste levels */
        min = 0;
    if (max == min) {
        for (int i = 0; i < n; i++)
            L[i] = 0;
        *neg_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    for (int i = 0; i < n; i++)
        L[i] = (uint8_t)clamp_int(slm_nearest_int(iscale * (x[i] - min)), 0, nmax);
    float best_error = fit_error(n, x, weights, L, scale, min, use_mad);

    for (int step = 0; step <= nstep; step++) {
        iscale = (rmin + rdelta * step + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = clamp_int(slm_nearest_int(iscale * (x[i] - min)), 0, nmax);
            candidate[i] = (uint8_t)l;
            float w = weights[i];
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * x[i];
        }
        /* Least squares for x ≈ s * l + m over the candidate levels. */
        float det = sum_w * sum_l2 - sum_l * sum_l;
        if (!(det > 0))
            continue;
        float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
        float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
        if (this_min > 0) {
            this_min = 0;
            this_scale = sum_xl / sum_l2;
        }
        float error = fit_error(n, x, weights, candidate, this_scale, this_min, use_mad);
        if (error < best_error) {
            for (int i = 0; i < n; i++)
                L[i] = candidate[i];
            best_error = error;
            scale = this_scale;
            min = this_min;
        }
    }
    *neg_min = -min;
    return scale;
}

/* The element of largest magnitude with its sign; *amax gets the magnitude. */
static float signed_absmax(int n, const float *x, float *amax)
{
    float max = 0, best = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > best) {
            best = ax;
            max = x[i];
        }
    }
    *amax = best;
    return max;
}

float slm_kq_fit_symmetric(int n, int nmax, const float *x, int8_t *L)
{
    float amax;
    float max = signed_absmax(n, x, &amax);
    if (amax < SLM_KQ_GROUP_EPS) {
        for (int i = 0; i < n; i++)
            L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = clamp_int(slm_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    /* best = sumlx^2 / suml2 is the error reduction of the least-squares scale; a
     * candidate wins when its reduction is larger. */
    float best = scale * sumlx;
    for (int step = -9; step <= 9; step++) {
        if (step == 0)
            continue;
        iscale = -(nmax + 0.1f * step) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = clamp_int(slm_nearest_int(iscale * x[i]), -nmax, nmax - 1);
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++)
                L[i] = (int8_t)(nmax + clamp_int(slm_nearest_int(iscale * x[i]), -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

float slm_kq_fit_q3(int n, int nmax, const float *x, int8_t *L)
{
    float amax;
    float max = signed_absmax(n, x, &amax);
    if (amax < SLM_KQ_GROUP_EPS) {
        for (int i = 0; i < n; i++)
            L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = clamp_int(slm_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)l;
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    for (int pass = 0; pass < 5; pass++) {
        int changed = 0;
        for (int i = 0; i < n; i++) {
            float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * L[i];
            if (!(slx > 0))
                continue;
            float sl2 = suml2 - w * L[i] * L[i];
            int new_l = clamp_int(slm_nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
            if (new_l == L[i])
                continue;
            slx += w * x[i] * new_l;
            sl2 += w * new_l * new_l;
            /* Keep the move if it raises sumlx^2 / suml2 (the fit's error reduction). */
            if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                L[i] = (int8_t)new_l;
                sumlx = slx;
                suml2 = sl2;
                changed++;
            }
        }
        if (!changed)
            break;
    }
    for (int i = 0; i < n; i++)
        L[i] = (int8_t)(L[i] + nmax);
    return sumlx / suml2;
}

void slm_kq_pack_scale_min(const float scales[8], const float mins[8], uint8_t packed[12],
                           uint16_t *d, uint16_t *dmin)
{
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        if (scales[j] > max_scale)
            max_scale = scales[j];
        if (mins[j] > max_min)
            max_min = mins[j];
    }
    float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < 8; j++) {
        /* The reference stores the rounded value in a uint8_t before clamping, so a
         * negative one wraps and then saturates at 63; keep that. */
        uint8_t ls = (uint8_t)slm_nearest_int(inv_scale * scales[j]);
        uint8_t lm = (uint8_t)slm_nearest_int(inv_min * mins[j]);
        if (ls > 63)
            ls = 63;
        if (lm > 63)
            lm = 63;
        if (j < 4) {
            packed[j] = ls;
            packed[j + 4] = lm;
        } else {
            packed[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
            packed[j - 4] |= (uint8_t)((ls >> 4) << 6);
            packed[j] |= (uint8_t)((lm >> 4) << 6);
        }
    }
    *d = slm_f32_to_fp16(max_scale / 63.f);
    *dmin = slm_f32_to_fp16(max_min / 63.f);
}
