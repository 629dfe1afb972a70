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

slm_mapped_file *slm_mapped_file_open(const char *path, slm_error *err)
{
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
    if (mf->size > 0) {
        void *p = mmap(NULL, mf->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            slm_errorf(err, SLM_ERR_IO, "%s: mmap: %s", path, strerror(errno));
            free(mf->path);
            free(mf);
            return NULL;
        }
        mf->data = p;
        mf->guard_slot = guard_register(p, mf->size);
    }
    return mf;
}

void slm_mapped_file_close(slm_mapped_file *mf)
{
    if (!mf)
        return;
    guard_unregister(mf->guard_slot);
    if (mf->data)
        munmap((void *)mf->data, mf->size);
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
