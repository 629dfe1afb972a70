/* engine_hide_path: errors sent to API callers name the model, not its file's path. */
#include <string.h>

#include "engine/engine_internal.h"
#include "test.h"

static void check_hidden(const char *input, size_t size, const char *path, const char *name,
                         const char *want)
{
    char buf[512];
    memset(buf, 'X', sizeof(buf));
    strcpy(buf, input);
    engine_hide_path(buf, size, path, name);
    CHECKF(strcmp(buf, want) == 0, "'%s' -> '%s', want '%s'", input, buf, want);
    CHECKF(strlen(buf) < size, "'%s' overran %zu bytes", buf, size);
    if (size < sizeof(buf) && strlen(input) < size) /* the byte after the buffer is untouched */
        CHECKF(buf[size] == 'X', "wrote past %zu bytes", size);
}

int main(void)
{
    const char *file = "/var/lib/slmd/models/tiny.gguf";
    check_hidden("/var/lib/slmd/models/tiny.gguf: tensor 'x' is missing", 512, file, "tiny",
                 "tiny: tensor 'x' is missing");
    check_hidden("model 'tiny' failed to load: /var/lib/slmd/models/tiny.gguf: bad magic", 512,
                 file, "tiny", "model 'tiny' failed to load: tiny: bad magic");
    /* a directory model: the file inside keeps its name */
    check_hidden("/srv/m/sst2/model.safetensors: header past the end", 512, "/srv/m/sst2",
                 "sentiment", "sentiment/model.safetensors: header past the end");
    /* every occurrence */
    check_hidden("/a/b: x /a/b: y", 512, "/a/b", "m", "m: x m: y");
    /* nothing to hide */
    check_hidden("the request was cancelled", 512, file, "tiny", "the request was cancelled");
    /* a name longer than the path, in a buffer just big enough for the input: cut, ended */
    check_hidden("/p: tail", 9, "/p", "a-much-longer-name", "a-much-l");
    check_hidden("/p: tail", 12, "/p", "longer", "longer: tai");
    /* a one-character path would match everywhere: left alone */
    check_hidden("a/b: c", 512, "/", "m", "a/b: c");
    check_hidden("x", 512, NULL, "m", "x");
    return test_report();
}
