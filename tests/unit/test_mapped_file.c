/* A mapped model file that is truncated or rewritten under us (cp over it) must not kill
 * the process: the SIGBUS guard turns the mapping into zeros and reports it damaged, and
 * replacement by rename is noticed as a change. A private copy (the default) keeps its
 * bytes whatever happens to the file, and notices the change just the same. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slm/model.h"
#include "test.h"
#include "util/mapped_file.h"

static void write_file(const char *path, size_t n, char fill)
{
    FILE *f = fopen(path, "wb");
    REQUIRE(f);
    for (size_t i = 0; i < n; i++)
        fputc(fill, f);
    fclose(f);
}

int main(void)
{
    char dir[] = "/tmp/slm-test-map-XXXXXX";
    REQUIRE(mkdtemp(dir));
    char path[256], other[256];
    snprintf(path, sizeof(path), "%s/model.bin", dir);
    snprintf(other, sizeof(other), "%s/new.bin", dir);
    const size_t size = 1 << 20;
    write_file(path, size, 'a');

    slm_error err;
    if (!getenv("SLM_WEIGHTS"))
        CHECK(slm_get_weight_memory() == SLM_WEIGHTS_PRIVATE); /* the default */
    enum slm_weight_memory parsed;
    CHECK(slm_weight_memory_parse("mapped", &parsed) && parsed == SLM_WEIGHTS_MAPPED);
    CHECK(slm_weight_memory_parse("private", &parsed) && parsed == SLM_WEIGHTS_PRIVATE);
    CHECK(!slm_weight_memory_parse("Mapped", &parsed) && !slm_weight_memory_parse("", &parsed));

    /* private copy: on a huge-page boundary, read-only, immune to the file changing */
    slm_set_weight_memory(SLM_WEIGHTS_PRIVATE);
    slm_mapped_file *mf = slm_mapped_file_open(path, &err);
    REQUIRE(mf);
    CHECK(mf->private_copy && mf->guard_slot < 0);
    CHECK(((uintptr_t)mf->data & ((2u << 20) - 1)) == 0);
    CHECK(mf->size == size && mf->data[0] == 'a' && mf->data[size - 1] == 'a');
    CHECK(!slm_mapped_file_changed(mf) && !slm_mapped_file_damaged(mf));
    REQUIRE(truncate(path, 4096) == 0);
    CHECK(mf->data[size - 1] == 'a' && !slm_mapped_file_damaged(mf));
    CHECK(slm_mapped_file_changed(mf));
    slm_mapped_file_close(mf);
    write_file(path, size, 'a');
    /* an empty file holds nothing */
    char empty[256];
    snprintf(empty, sizeof(empty), "%s/empty.bin", dir);
    write_file(empty, 0, 0);
    mf = slm_mapped_file_open(empty, &err);
    REQUIRE(mf);
    CHECK(mf->size == 0 && mf->data == NULL);
    slm_mapped_file_close(mf);
    unlink(empty);

    slm_set_weight_memory(SLM_WEIGHTS_MAPPED);
    mf = slm_mapped_file_open(path, &err);
    REQUIRE(mf);
    CHECK(!mf->private_copy);
    CHECK(mf->size == size && mf->data[size - 1] == 'a');
    CHECK(!slm_mapped_file_changed(mf) && !slm_mapped_file_damaged(mf));

    /* truncate in place, as `cp new old` does first: touching a page past the end faults.
     * qemu-user (the Arm test runs, which set QEMU_CPU) does not raise SIGBUS with the
     * faulting address for its guest, so the guard cannot be exercised there. */
    if (getenv("QEMU_CPU")) {
        printf("note: SIGBUS guard not exercised under qemu-user\n");
    } else {
        REQUIRE(truncate(path, 4096) == 0);
        volatile unsigned char c = mf->data[size - 1]; /* SIGBUS without the guard */
        CHECK(c == 0);
        CHECK(slm_mapped_file_damaged(mf));
        CHECK(slm_mapped_file_changed(mf));
    }
    slm_mapped_file_close(mf);

    /* replacement by rename (package upgrades): the old inode stays mapped and intact */
    write_file(path, size, 'b');
    mf = slm_mapped_file_open(path, &err);
    REQUIRE(mf);
    write_file(other, size, 'c');
    REQUIRE(rename(other, path) == 0);
    CHECK(mf->data[size / 2] == 'b');
    CHECK(!slm_mapped_file_damaged(mf));
    CHECK(slm_mapped_file_changed(mf));
    slm_mapped_file_close(mf);

    /* errors name the path */
    CHECK(slm_mapped_file_open("/nonexistent/model.gguf", &err) == NULL &&
          strstr(err.message, "/nonexistent/model.gguf"));
    CHECK(slm_mapped_file_open(dir, &err) == NULL && strstr(err.message, "not a regular"));
    slm_set_weight_memory(SLM_WEIGHTS_PRIVATE);
    CHECK(slm_mapped_file_open("/nonexistent/model.gguf", &err) == NULL &&
          strstr(err.message, "/nonexistent/model.gguf"));
    unlink(path);
    rmdir(dir);
    return test_report();
}
