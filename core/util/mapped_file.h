/* Read-only model files, held one of two ways (slm_set_weight_memory, slm/model.h):
 *
 * Private (the default): the file is read once into anonymous memory of our own, aligned
 * to and advised for transparent huge pages, then made read-only. Decode streams every
 * weight once per token; with 2 MiB pages the TLB covers the weights and the hardware
 * prefetchers run on without stopping at each 4 KiB page, which measured 62-66% of the
 * read-bandwidth bound with the file mapped against 82-85% private (TinyLlama-1.1B shape,
 * Q4_0, 2 threads, bench/README.md). The file changing on disk later cannot touch the copy.
 *
 * Mapped: a MAP_PRIVATE, PROT_READ mapping of the page cache (shared with other
 * processes, paged in on first use). If the file is truncated or rewritten in place while
 * mapped (`cp new.gguf model.gguf`), touching a page past the new end raises SIGBUS. A
 * process-wide SIGBUS handler recognises addresses inside a registered mapping, replaces
 * the whole mapping with zero pages, marks it damaged and lets the faulting instruction
 * continue: the request computing on it produces garbage and the owner, which polls
 * `slm_mapped_file_damaged()` / `slm_mapped_file_changed()`, reports an error and reloads.
 * Replacing the file by rename (package upgrades) never faults: the old inode stays mapped.
 */
#ifndef SLM_UTIL_MAPPED_FILE_H
#define SLM_UTIL_MAPPED_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "slm/error.h"

typedef struct slm_mapped_file {
    char *path;
    const uint8_t *data; /* NULL for an empty file */
    size_t size;         /* file size at open time == bytes mapped */
    dev_t dev;           /* identity at open time, to notice replacement */
    ino_t ino;
    struct timespec mtime;
    int guard_slot; /* index in the SIGBUS guard table, -1 if none */
    bool private_copy;  /* data is our own copy, not a mapping of the file */
    void *region;       /* what to munmap: the mapping, or the aligned copy's reservation */
    size_t region_size;
} slm_mapped_file;

/* Opens `path` read-only as the process's weight memory setting says. Errors name the
 * path and the reason. */
slm_mapped_file *slm_mapped_file_open(const char *path, slm_error *err);
void slm_mapped_file_close(slm_mapped_file *mf);

/* True once a SIGBUS inside this mapping was caught (the bytes are zeros now). */
bool slm_mapped_file_damaged(const slm_mapped_file *mf);

/* True if the file at `path` is no longer the one mapped (other inode, size or mtime), or
 * the mapping is damaged. Costs one stat(). */
bool slm_mapped_file_changed(const slm_mapped_file *mf);

/* A private copy is read-only once read. A loader that rewrites tensors in place (Q4_0
 * regrouped for the active kernels, model_load.c) makes it writable for that, then
 * read-only again. -1 (errno set) for a mapping of the file, which is never written. */
int slm_mapped_file_set_writable(slm_mapped_file *mf, bool writable);

/* Drops pages [offset, offset+len) of the mapping from this process (after the tensor
 * living there was repacked into memory of our own). The range is shrunk to whole pages. */
void slm_mapped_file_release(slm_mapped_file *mf, size_t offset, size_t len);

#endif
