/* A small, bounded YAML tree for the config: libyaml's events turned into scalars,
 * sequences and mappings, each with the 1-based line and column where it starts, so that
 * every config error can say `FILE:LINE:COLUMN: message`.
 *
 * Only what a config file needs is accepted: one document, no aliases (so no
 * "billion laughs"), bounded depth, node count and scalar length. Everything is text;
 * config.c decides what a scalar means. libyaml types stay inside yaml_tree.c. */
#ifndef SLMD_YAML_TREE_H
#define SLMD_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting of a complete config is 4 (top level → models → a model → defaults); 16 leaves
 * room for any future section while keeping a hostile file from building a deep tree. */
#define SLMD_YAML_MAX_DEPTH 16
/* A config with 64 models of ~20 keys each has about 3000 nodes. */
#define SLMD_YAML_MAX_NODES 20000
/* The longest legitimate scalar is a path: PATH_MAX (4096) bytes. */
#define SLMD_YAML_MAX_SCALAR 4096

enum slmd_yaml_kind {
    SLMD_YAML_SCALAR,
    SLMD_YAML_SEQUENCE,
    SLMD_YAML_MAPPING,
};

struct slmd_yaml_node {
    enum slmd_yaml_kind kind;
    uint32_t line; /* 1-based */
    uint32_t column;
    /* SCALAR: NUL-terminated text (YAML escapes already decoded). A scalar with an
     * embedded NUL is refused by the parser, so `text` is always the whole value. */
    char *text;
    size_t text_len;
    bool quoted; /* written in quotes or as a block: always a string, never a number */
    /* SEQUENCE: `n_children` items. MAPPING: keys and values alternate (2 per entry). */
    struct slmd_yaml_node **children;
    size_t n_children;
    size_t cap_children;
};

struct slmd_yaml_error {
    uint32_t line;
    uint32_t column;
    char message[256];
};

/* Parses `len` bytes. On success returns 0 and sets *root (NULL for an empty document).
 * On failure returns -1 with `error` filled; *root is untouched. */
int slmd_yaml_parse(const char *data, size_t len, struct slmd_yaml_node **root,
                    struct slmd_yaml_error *error);

void slmd_yaml_free(struct slmd_yaml_node *node);

/* Mapping entries: key i is children[2i], its value children[2i+1]. */
static inline size_t slmd_yaml_map_size(const struct slmd_yaml_node *map)
{
    return map->n_children / 2;
}

/* "a mapping", "a list", "a string" ... for "expected X, got Y" messages. */
const char *slmd_yaml_kind_name(const struct slmd_yaml_node *node);

/* True if the scalar is YAML's null: plain `~`, `null`, `Null`, `NULL` or empty. */
bool slmd_yaml_is_null(const struct slmd_yaml_node *node);

#endif
