/* Parsers for the scalar values of slmd.yaml: integers, booleans, numbers, sizes,
 * durations, octal modes and group names. Pure text → value functions (group lookup
 * aside), each returning true on success, so config.c only decides what to report. */
#ifndef SLMD_CONFIG_VALUES_H
#define SLMD_CONFIG_VALUES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Group names as useradd/sysusers accept them; longer ones do not exist on Linux. */
#define SLMD_GROUP_NAME_MAX 32

/* Decimal digits only, no sign, no spaces; false on overflow. */
bool slmd_parse_u64(const char *text, uint64_t *out);
/* Decimal with an optional leading '-'. */
bool slmd_parse_i64(const char *text, int64_t *out);
/* true/false, yes/no, on/off in lower, Capitalised or UPPER case (YAML 1.1). */
bool slmd_parse_bool(const char *text, bool *out);
/* A finite decimal number ("0.7", "1", "-2", "1e-3"). */
bool slmd_parse_double(const char *text, double *out);
/* Three or four octal digits ("660", "0660", "0750"), at most 0777. */
bool slmd_parse_mode(const char *text, mode_t *out);
/* [A-Za-z_][A-Za-z0-9_.-]*, optionally ending in '$', 1..SLMD_GROUP_NAME_MAX bytes. */
bool slmd_group_name_valid(const char *text);

#endif
