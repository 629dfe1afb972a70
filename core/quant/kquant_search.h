/* Scale searches shared by the K-quant quantizers (quants_q*_K.c).
 *
 * A K-quant block stores small integers per element plus a scale (and for the asymmetric
 * types a min) per sub-block of 16 or 32 elements; the quality of the file depends on how
 * those scales are chosen. These follow the published reference quantizer step for step
 * (same candidate grids, same weights, same float operation order), so that slmd's output
 * is the reference's output for the same input. */
#ifndef SLM_QUANT_KQUANT_SEARCH_H
#define SLM_QUANT_KQUANT_SEARCH_H

#include <stdbool.h>
#include <stdint.h>

/* Sub-blocks whose largest magnitude is below this are stored as zeros (the reference's
 * GROUP_MAX_EPS). */
#define SLM_KQ_GROUP_EPS 1e-15f

/* Asymmetric fit x ≈ scale * L - min with L in [0, nmax] (the min is returned as a
 * positive offset in *neg_min). Starts from the min/max grid, then tries nstep + 1 inverse
 * scales (nmax + rmin + rdelta * k) / (max - min), refitting scale and min by weighted
 * least squares for each and keeping the one with the smallest weighted error (absolute
 * error when use_mad). n <= 32. Returns the scale; L holds the chosen integers. */
float slm_kq_fit_scale_min(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                           float *neg_min, float rmin, float rdelta, int nstep, bool use_mad);

/* Symmetric fit x ≈ scale * (L - nmax) with L - nmax in [-nmax, nmax - 1], weighting each
 * element by x^2 and trying 18 inverse scales around -nmax / max (Q6_K). n <= 32. */
float slm_kq_fit_symmetric(int n, int nmax, const float *x, int8_t *L);

/* Symmetric fit for Q3_K: start from -nmax / max, then move single elements to the level
 * that improves the x^2-weighted fit, up to five passes. L holds values + nmax. n <= 32. */
float slm_kq_fit_q3(int n, int nmax, const float *x, int8_t *L);

/* Quantizes 8 sub-block scales and mins (both >= 0 in practice) to 6 bits against their
 * maxima and packs them as Q4_K/Q5_K store them; writes the two fp16 super-scales. */
void slm_kq_pack_scale_min(const float scales[8], const float mins[8], uint8_t packed[12],
                           uint16_t *d, uint16_t *dmin);

#endif
