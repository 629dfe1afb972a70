#include "mapped_file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"
#include "slm/model.h"

/* Transparent huge page size on x86-64 and on arm64 with 4 KiB base pages; private copies
 * start on such a boundary so that every 2 MiB of weights can be one TLB entry. */
#define HUGE_PAGE_BYTES ((size_t)2 << 20)

/* Bytes per read() while copying a file in: large enough to keep the device busy, small
 * enough to be interruptible. */
#define READ_CHUNK_BYTES ((size_t)16 << 20)

/* Enough for every model a gateway keeps resident plus tokenizer-only files. */
#define GUARD_SLOTS 128

struct guard {
    _Atomic(uintptr_t) start; /* 0 = free slot */
    _Atomic(uintptr_t) end;
    atomic_bool damaged;
};

static struct guard guards[GUARD_SLOTS];
static struct sigaction previous_sigbus;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;

static void sigbus_handler(int sig, siginfo_t *si, void *uctx)
{
    uintptr_t addr = (uintptr_t)si->si_addr;
    for (int i = 0; i < GUARD_SLOTS; i++) {
        uintptr_t start = atomic_load(&guards[i].start);
        uintptr_t end = atomic_load(&guards[i].end);
        if (start && addr >= start && addr < end) {
            /* mmap is a plain system call: safe enough here. The mapping keeps its
             * address, so every pointer into it stays valid and now reads zeros. */
            mmap((void *)start, end - start, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                 -1, 0);
            atomic_store(&guards[i].damaged, true);
            return;
        }
    }
    /* Not ours: behave as if we had never been installed. */
    if (previous_sigbus.sa_flags & SA_SIGINFO && previous_sigbus.sa_sigaction) {
        previous_sigbus.sa_sigaction(sig, si, uctx);
        return;
    }
    if (previous_sigbus.sa_handler != SIG_DFL && previous_sigbus.sa_handler != SIG_IGN &&
        previous_sigbus.sa_handler) {
        previous_sigbus.sa_handler(sig);
        return;
    }
    signal(SIGBUS, SIG_DFL);
    raise(SIGBUS);
}

static void install_sigbus_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = sigbus_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &previous_sigbus);
}

static int guard_register(const void *data, size_t size)
{
    pthread_once(&guard_once, install_sigbus_handler);
    for (int i = 0; i < GUARD_SLOTS; i++) {
        uintptr_t expected = 0;
        /* Claim with a sentinel first so the handler never sees a half-filled slot. */
        if (atomic_compare_exchange_strong(&guards[i].start, &expected, (uintptr_t)1)) {
            atomic_store(&guards[i].damaged, false);
            atomic_store(&guards[i].end, (uintptr_t)data + size);
            atomic_store(&guards[i].start, (uintptr_t)data);
            return i;
        }
    }
    return -1; /* table full: the file is still usable, just unguarded */
}

static void guard_unregister(int slot)
{
    if (slot < 0)
        return;
    atomic_store(&guards[slot].end, 0);
    atomic_store(&guards[slot].start, 0);
}

/* ---- how files are held ---- */

#define WEIGHT_MEMORY_UNSET (-1)
#define WEIGHT_MEMORY_BAD_ENV (-2)

static _Atomic int weight_memory = WEIGHT_MEMORY_UNSET;

bool slm_weight_memory_parse(const char *text, enum slm_weight_memory *mode)
{
    if (text && strcmp(text, "private") == 0)
        *mode = SLM_WEIGHTS_PRIVATE;
    else if (text && strcmp(text, "mapped") == 0)
        *mode = SLM_WEIGHTS_MAPPED;
    else
        return false;
    return true;
}

const char *slm_weight_memory_name(enum slm_weight_memory mode)
{
    return mode == SLM_WEIGHTS_MAPPED ? "mapped" : mode == SLM_WEIGHTS_PRIVATE ? "private" : "default";
}

void slm_set_weight_memory(enum slm_weight_memory mode)
{
    atomic_store(&weight_memory, mode == SLM_WEIGHTS_DEFAULT ? WEIGHT_MEMORY_UNSET : (int)mode);
}

/* The mode, taken from SLM_WEIGHTS on first use unless set; WEIGHT_MEMORY_BAD_ENV if the
 * variable holds something else than the two names. */
static int weight_memory_mode(void)
{
    int mode = atomic_load(&weight_memory);
    if (mode != WEIGHT_MEMORY_UNSET)
        return mode;
    const char *env = getenv("SLM_WEIGHTS");
    enum slm_weight_memory parsed = SLM_WEIGHTS_PRIVATE;
    int from_env = env && !slm_weight_memory_parse(env, &parsed) ? WEIGHT_MEMORY_BAD_ENV
                                                                    : (int)parsed;
    /* not stored: a later change of the setting back to DEFAULT reads the variable again */
    return from_env;
}

enum slm_weight_memory slm_get_weight_memory(void)
{
    int mode = weight_memory_mode();
    return mode == SLM_WEIGHTS_MAPPED ? SLM_WEIGHTS_MAPPED : SLM_WEIGHTS_PRIVATE;
}

/* Reads the whole file into anonymous memory aligned to a huge page, advised for
 * transparent huge pages, then read-only. */
static int read_private_copy(slm_mapped_file *mf, int fd, slm_error *err)
{
    size_t reserve;
    if (mf->size > SIZE_MAX - HUGE_PAGE_BYTES)
        return slm_errorf(err, SLM_ERR_LIMIT, "%s: file of %zu bytes does not fit in this "
                          "process's address space", mf->path, mf->size);
    reserve = mf->size + HUGE_PAGE_BYTES;
    void *region = mmap(NULL, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                        -1, 0);
    if (region == MAP_FAILED)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: cannot reserve %zu MiB for the model: %s",
                          mf->path, mf->size >> 20, strerror(errno));
    uint8_t *data = (uint8_t *)(((uintptr_t)region + HUGE_PAGE_BYTES - 1) &
                                ~(uintptr_t)(HUGE_PAGE_BYTES - 1));
#ifdef MADV_HUGEPAGE
    /* Refused where the kernel has no transparent huge pages: 4 KiB pages still work. */
    (void)madvise(data, mf->size, MADV_HUGEPAGE);
#endif
    size_t done = 0;
    while (done < mf->size) {
        size_t want = mf->size - done < READ_CHUNK_BYTES ? mf->size - done : READ_CHUNK_BYTES;
        ssize_t got = pread(fd, data + done, want, (off_t)done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got < 0)
                slm_errorf(err, SLM_ERR_IO, "%s: read: %s", mf->path, strerror(errno));
            else
                slm_errorf(err, SLM_ERR_IO, "%s: the file shrank while it was read (%zu of "
                           "%zu bytes)", mf->path, done, mf->size);
            munmap(region, reserve);
            return -1;
        }
        done += (size_t)got;
    }
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    (void)mprotect(data, (mf->size + page - 1) / page * page, PROT_READ);
    mf->data = data;
    mf->region = region;
    mf->region_size = reserve;
    mf->private_copy = true;
    return 0;
}

int slm_mapped_file_set_writable(slm_mapped_file *mf, bool writable)
{
    if (!mf->private_copy || !mf->data) {
        errno = EPERM;
        return -1;
    }
    /* the whole copy at once: a partial change would split its huge pages */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return mprotect((void *)(uintptr_t)mf->data, (mf->size + page - 1) / page * page,
                    writable ? PROT_READ | PROT_WRITE : PROT_READ);
}

slm_mapped_file *slm_mapped_file_open(const char *path, slm_error *err)
{
    int mode = weight_memory_mode();
    if (mode == WEIGHT_MEMORY_BAD_ENV) {
        slm_errorf(err, SLM_ERR_INVALID, "SLM_WEIGHTS=%s: expected private or mapped",
                   getenv("SLM_WEIGHTS"));
        return NULL;
    }
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        slm_errorf(err, SLM_ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        slm_errorf(err, SLM_ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        slm_errorf(err, SLM_ERR_IO, "%s: not a regular file", path);
        return NULL;
    }
    if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX) {
        slm_errorf(err, SLM_ERR_LIMIT, "%s: file of %llu bytes does not fit in this process's "
                   "address space", path, (unsigned long long)st.st_size);
        return NULL;
    }
    slm_mapped_file *mf = calloc(1, sizeof(*mf));
    if (!mf || !(mf->path = strdup(path))) {
        free(mf);
        slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    mf->size = (size_t)st.st_size;
    mf->dev = st.st_dev;
    mf->ino = st.st_ino;
    mf->mtime = st.st_mtim;
    mf->guard_slot = -1;
    if (mf->size > 0 && mode == SLM_WEIGHTS_PRIVATE) {
        if (read_private_copy(mf, fd, err) < 0) {
            free(mf->path);
            free(mf);
            return NULL;
        }
    } else if (mf->size > 0) {
        void *p = mmap(NULL, mf->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            slm_errorf(err, SLM_ERR_IO, "%s: mmap: %s", path, strerror(errno));
            free(mf->path);
            free(mf);
            return NULL;
        }
        mf->data = p;
        mf->region = p;
        mf->region_size = mf->size;
        mf->guard_slot = guard_register(p, mf->size);
    }
    return mf;
}

void slm_mapped_file_close(slm_mapped_file *mf)
{
    if (!mf)
        return;
    guard_unregister(mf->guard_slot);
    if (mf->region)
        munmap(mf->region, mf->region_size);
    free(mf->path);
    free(mf);
}

bool slm_mapped_file_damaged(const slm_mapped_file *mf)
{
    return mf && mf->guard_slot >= 0 && atomic_load(&guards[mf->guard_slot].damaged);
}

bool slm_mapped_file_changed(const slm_mapped_file *mf)
{
    if (!mf)
        return false;
    if (slm_mapped_file_damaged(mf))
        return true;
    struct stat st;
    if (stat(mf->path, &st) < 0)
        return true;
    return st.st_dev != mf->dev || st.st_ino != mf->ino || (uint64_t)st.st_size != mf->size ||
           st.st_mtim.tv_sec != mf->mtime.tv_sec || st.st_mtim.tv_nsec != mf->mtime.tv_nsec;
}

void slm_mapped_file_release(slm_mapped_file *mf, size_t offset, size_t len)
{
    if (!mf || !mf->data || offset >= mf->size)
        return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t base = (uintptr_t)mf->data;
    uintptr_t start = (base + offset + page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t end = (base + SLM_MIN(offset + len, mf->size)) & ~(uintptr_t)(page - 1);
    if (end > start)
        madvise((void *)start, end - start, MADV_DONTNEED);
}
