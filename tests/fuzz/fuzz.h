/* The libFuzzer entry points, declared for -Wmissing-prototypes. */
#ifndef SLM_FUZZ_H
#define SLM_FUZZ_H
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
#endif
