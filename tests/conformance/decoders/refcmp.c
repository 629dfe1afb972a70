/* refcmp MINE REF ROWS MAX_ERR MIN_ARGMAX_PERCENT
 * Compares two little-endian float32 files of ROWS rows as the reference data's README
 * defines it: err = max |mine - ref| / std(ref) per row, std over the whole reference.
 * Prints the worst err and the share of rows whose argmax agrees; exits 1 if the worst
 * err exceeds MAX_ERR or the agreement is below MIN_ARGMAX_PERCENT. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static float *load(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    float *v = malloc((size_t)bytes + 4);
    if (!v || fread(v, 1, (size_t)bytes, f) != (size_t)bytes) {
        fprintf(stderr, "%s: read failed\n", path);
        exit(2);
    }
    fclose(f);
    *n = bytes / 4;
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: refcmp MINE REF ROWS MAX_ERR MIN_ARGMAX_PERCENT\n");
        return 2;
    }
    long n_mine, n_ref, rows = atol(argv[3]);
    double max_err = atof(argv[4]), min_agree = atof(argv[5]);
    float *mine = load(argv[1], &n_mine), *ref = load(argv[2], &n_ref);
    if (rows <= 0 || n_ref % rows || n_mine != n_ref) {
        fprintf(stderr, "size mismatch: mine %ld floats, reference %ld, rows %ld\n", n_mine,
                n_ref, rows);
        free(mine);
        free(ref);
        return 1;
    }
    long cols = n_ref / rows;
    double mean = 0, var = 0;
    for (long i = 0; i < n_ref; i++)
        mean += ref[i];
    mean /= (double)n_ref;
    for (long i = 0; i < n_ref; i++)
        var += (ref[i] - mean) * (ref[i] - mean);
    double sd = sqrt(var / (double)n_ref);
    double worst = 0;
    long agree = 0;
    for (long r = 0; r < rows; r++) {
        const float *a = mine + r * cols, *b = ref + r * cols;
        long am = 0, bm = 0;
        for (long c = 0; c < cols; c++) {
            double e = fabs((double)a[c] - (double)b[c]) / sd;
            if (!(e <= worst))
                worst = e; /* also catches NaN */
            if (a[c] > a[am])
                am = c;
            if (b[c] > b[bm])
                bm = c;
        }
        agree += am == bm;
    }
    double pct = 100.0 * (double)agree / (double)rows;
    printf("err %.4f (limit %.4f), argmax agrees on %.0f%% of %ld rows (need %.0f%%)\n", worst,
           max_err, pct, rows, min_agree);
    free(mine);
    free(ref);
    return (worst <= max_err && pct >= min_agree) ? 0 : 1;
}
