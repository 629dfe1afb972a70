/* libyaml events → struct slmd_yaml_node, with the bounds from yaml_tree.h. */
#include "daemon/yaml_tree.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/checked.h"
#include "util/cleanup.h"

struct tree_builder {
    struct slmd_yaml_node *root;
    struct slmd_yaml_node *open[SLMD_YAML_MAX_DEPTH]; /* containers not yet closed */
    size_t depth;
    size_t n_nodes;
    unsigned n_documents;
    struct slmd_yaml_error *error;
};

static int tree_fail(struct tree_builder *b, yaml_mark_t mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int tree_fail(struct tree_builder *b, yaml_mark_t mark, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->error->message, sizeof(b->error->message), fmt, ap);
    va_end(ap);
    b->error->line = (uint32_t)SLM_MIN(mark.line + 1, (size_t)UINT32_MAX);
    b->error->column = (uint32_t)SLM_MIN(mark.column + 1, (size_t)UINT32_MAX);
    return -1;
}

void slmd_yaml_free(struct slmd_yaml_node *node)
{
    if (!node)
        return;
    for (size_t i = 0; i < node->n_children; i++)
        slmd_yaml_free(node->children[i]);
    free(node->children);
    free(node->text);
    free(node);
}

static int append_child(struct slmd_yaml_node *parent, struct slmd_yaml_node *child)
{
    if (parent->n_children == parent->cap_children) {
        size_t cap = parent->cap_children ? parent->cap_children * 2 : 8;
        size_t bytes;
        if (slm_mul_size(cap, sizeof(*parent->children), &bytes))
            return -1;
        struct slmd_yaml_node **grown = realloc(parent->children, bytes);
        if (!grown)
            return -1;
        parent->children = grown;
        parent->cap_children = cap;
    }
    parent->children[parent->n_children++] = child;
    return 0;
}

/* Creates a node at `mark` and hangs it under the innermost open container (or makes it
 * the root). The tree owns it from then on, so an error later frees it with the rest. */
static struct slmd_yaml_node *tree_add(struct tree_builder *b, enum slmd_yaml_kind kind,
                                       yaml_mark_t mark)
{
    if (b->n_nodes >= SLMD_YAML_MAX_NODES) {
        tree_fail(b, mark, "the config has more than %d YAML nodes", SLMD_YAML_MAX_NODES);
        return NULL;
    }
    struct slmd_yaml_node *node = calloc(1, sizeof(*node));
    if (!node) {
        tree_fail(b, mark, "out of memory");
        return NULL;
    }
    node->kind = kind;
    node->line = (uint32_t)SLM_MIN(mark.line + 1, (size_t)UINT32_MAX);
    node->column = (uint32_t)SLM_MIN(mark.column + 1, (size_t)UINT32_MAX);
    if (b->depth == 0) {
        if (b->root) {
            /* libyaml never emits two roots in one document; be safe anyway */
            free(node);
            tree_fail(b, mark, "more than one value at the top level");
            return NULL;
        }
        b->root = node;
    } else if (append_child(b->open[b->depth - 1], node) < 0) {
        free(node);
        tree_fail(b, mark, "out of memory");
        return NULL;
    }
    b->n_nodes++;
    return node;
}

static int on_scalar(struct tree_builder *b, const yaml_event_t *ev)
{
    const char *value = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (len > SLMD_YAML_MAX_SCALAR)
        return tree_fail(b, ev->start_mark, "value is longer than %d bytes",
                         SLMD_YAML_MAX_SCALAR);
    if (memchr(value, '\0', len))
        return tree_fail(b, ev->start_mark, "value contains a NUL character");
    struct slmd_yaml_node *node = tree_add(b, SLMD_YAML_SCALAR, ev->start_mark);
    if (!node)
        return -1;
    node->text = strndup(value, len);
    if (!node->text)
        return tree_fail(b, ev->start_mark, "out of memory");
    node->text_len = len;
    node->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    return 0;
}

static int on_container_start(struct tree_builder *b, const yaml_event_t *ev,
                               enum slmd_yaml_kind kind)
{
    if (b->depth >= SLMD_YAML_MAX_DEPTH)
        return tree_fail(b, ev->start_mark, "nesting deeper than %d levels",
                         SLMD_YAML_MAX_DEPTH);
    struct slmd_yaml_node *node = tree_add(b, kind, ev->start_mark);
    if (!node)
        return -1;
    b->open[b->depth++] = node;
    return 0;
}

/* Handles one event; returns 1 at the end of the stream, 0 to go on, -1 on error. */
static int on_event(struct tree_builder *b, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_STREAM_START_EVENT:
    case YAML_DOCUMENT_END_EVENT:
    case YAML_NO_EVENT:
        return 0;
    case YAML_STREAM_END_EVENT:
        return 1;
    case YAML_DOCUMENT_START_EVENT:
        if (++b->n_documents > 1)
            return tree_fail(b, ev->start_mark,
                             "a second YAML document ('---'); the config is one document");
        return 0;
    case YAML_ALIAS_EVENT:
        return tree_fail(b, ev->start_mark, "aliases (*%s) are not supported in the config",
                         (const char *)ev->data.alias.anchor);
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_container_start(b, ev, SLMD_YAML_SEQUENCE);
    case YAML_MAPPING_START_EVENT:
        return on_container_start(b, ev, SLMD_YAML_MAPPING);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (b->depth == 0) /* libyaml pairs them; this is only a guard */
            return tree_fail(b, ev->start_mark, "unbalanced end of a collection");
        b->depth--;
        return 0;
    }
    return tree_fail(b, ev->start_mark, "unexpected YAML event");
}

static int parser_fail(struct tree_builder *b, const yaml_parser_t *parser)
{
    const char *problem = parser->problem ? parser->problem : "malformed YAML";
    if (parser->error == YAML_MEMORY_ERROR)
        problem = "out of memory";
    yaml_mark_t mark = parser->problem_mark;
    if (parser->context)
        return tree_fail(b, mark, "%s (%s at line %zu, column %zu)", problem,
                         parser->context, parser->context_mark.line + 1,
                         parser->context_mark.column + 1);
    return tree_fail(b, mark, "%s", problem);
}

static void yaml_parser_deletep(yaml_parser_t *p) { yaml_parser_delete(p); }

int slmd_yaml_parse(const char *data, size_t len, struct slmd_yaml_node **root,
                    struct slmd_yaml_error *error)
{
    struct tree_builder b = {.error = error};
    memset(error, 0, sizeof(*error));

    _cleanup_(yaml_parser_deletep) yaml_parser_t parser;
    memset(&parser, 0, sizeof(parser)); /* safe to delete even if initialisation fails */
    if (!yaml_parser_initialize(&parser)) {
        snprintf(error->message, sizeof(error->message), "out of memory");
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);

    int r = 0;
    while (r == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            r = parser_fail(&b, &parser);
            break;
        }
        r = on_event(&b, &ev);
        yaml_event_delete(&ev);
    }
    if (r < 0) {
        slmd_yaml_free(b.root);
        return -1;
    }
    *root = b.root;
    return 0;
}

const char *slmd_yaml_kind_name(const struct slmd_yaml_node *node)
{
    switch (node->kind) {
    case SLMD_YAML_SEQUENCE:
        return "a list";
    case SLMD_YAML_MAPPING:
        return "a mapping";
    case SLMD_YAML_SCALAR:
        break;
    }
    if (slmd_yaml_is_null(node))
        return "nothing (null)";
    return node->quoted ? "a quoted string" : "a plain value";
}

bool slmd_yaml_is_null(const struct slmd_yaml_node *node)
{
    if (node->kind != SLMD_YAML_SCALAR || node->quoted)
        return false;
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    for (size_t i = 0; i < SLM_ARRAY_SIZE(nulls); i++)
        if (strcmp(node->text, nulls[i]) == 0)
            return true;
    return false;
}
