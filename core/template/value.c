#include "template/value.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "template/pystr.h"
#include "util/checked.h"

/* ---- failures ---- */

static bool failed(const struct tpl_render *r)
{
    return r->error.status != SLM_OK;
}

int tpl_fail(struct tpl_render *r, const char *fmt, ...)
{
    if (failed(r)) return -1;
    char msg[SLM_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    slm_errorf(&r->error, SLM_ERR_TEMPLATE, "line %" PRIu32 ": %s", r->line, msg);
    return -1;
}

int tpl_raise(struct tpl_render *r, struct tpl_str message)
{
    if (failed(r)) return -1;
    int len = message.len > SLM_ERROR_MSG_MAX ? SLM_ERROR_MSG_MAX : (int)message.len;
    slm_errorf(&r->error, SLM_ERR_TEMPLATE, "%.*s", len, message.ptr);
    return -1;
}

int tpl_fail_undefined(struct tpl_render *r, struct tpl_value v)
{
    if (v.undef.name && v.undef.owner)
        return tpl_fail(r, "'%s object' has no attribute '%s'", v.undef.owner, v.undef.name);
    if (v.undef.name) return tpl_fail(r, "'%s' is undefined", v.undef.name);
    return tpl_fail(r, "use of an undefined value");
}

int tpl_step(struct tpl_render *r, uint64_t n)
{
    if (slm_add_u64(r->steps, n, &r->steps) || r->steps > r->limits.max_steps)
        return tpl_fail(r, "template exceeded its limit of %" PRIu64 " steps", r->limits.max_steps);
    return 0;
}

int tpl_fail_memory(struct tpl_render *r)
{
    if (failed(r)) return -1;
    if (tpl_arena_over_limit(r->arena))
        return tpl_fail(r, "template exceeded its memory limit of %zu bytes", r->limits.max_memory);
    slm_errorf(&r->error, SLM_ERR_NOMEM, "line %" PRIu32 ": out of memory", r->line);
    return -1;
}

void *tpl_alloc(struct tpl_render *r, size_t size)
{
    void *p = tpl_arena_alloc(r->arena, size);
    if (!p) tpl_fail_memory(r);
    return p;
}

void *tpl_alloc_array(struct tpl_render *r, size_t count, size_t size)
{
    size_t bytes;
    if (slm_mul_size(count, size, &bytes)) {
        tpl_fail(r, "template exceeded its memory limit of %zu bytes", r->limits.max_memory);
        return NULL;
    }
    return tpl_alloc(r, bytes);
}

/* Grows an arena array to hold at least `need` elements, doubling. */
static int grow_array(struct tpl_render *r, void **items, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t new_cap = *cap ? *cap : 4;
    while (new_cap < need) {
        if (slm_mul_size(new_cap, 2, &new_cap))
            return tpl_fail(r, "template exceeded its memory limit of %zu bytes",
                            r->limits.max_memory);
    }
    size_t old_bytes = *cap * elem, new_bytes;
    if (slm_mul_size(new_cap, elem, &new_bytes))
        return tpl_fail(r, "template exceeded its memory limit of %zu bytes", r->limits.max_memory);
    void *p = tpl_arena_grow(r->arena, *items, old_bytes, new_bytes);
    if (!p) return tpl_fail_memory(r);
    *items = p;
    *cap = new_cap;
    return 0;
}

/* ---- constructors ---- */

int tpl_new_str(struct tpl_render *r, const char *ptr, size_t len, struct tpl_value *out)
{
    char *p = tpl_alloc(r, len + (len < SIZE_MAX));
    if (!p) return -1;
    if (len) memcpy(p, ptr, len);
    *out = tpl_strv(p, len);
    return 0;
}

struct tpl_list *tpl_list_new(struct tpl_render *r, size_t cap)
{
    struct tpl_list *l = tpl_alloc(r, sizeof(*l));
    if (!l) return NULL;
    l->len = 0;
    l->cap = 0;
    l->items = NULL;
    if (cap && grow_array(r, (void **)&l->items, &l->cap, cap, sizeof(struct tpl_value)) < 0)
        return NULL;
    return l;
}

int tpl_list_push(struct tpl_render *r, struct tpl_list *list, struct tpl_value v)
{
    if (grow_array(r, (void **)&list->items, &list->cap, list->len + 1, sizeof(struct tpl_value)) <
        0)
        return -1;
    list->items[list->len++] = v;
    return 0;
}

int tpl_pair(struct tpl_render *r, struct tpl_value a, struct tpl_value b, struct tpl_value *out)
{
    struct tpl_list *l = tpl_list_new(r, 2);
    if (!l) return -1;
    l->items[0] = a;
    l->items[1] = b;
    l->len = 2;
    *out = tpl_tuplev(l);
    return 0;
}

struct tpl_dict *tpl_dict_new(struct tpl_render *r)
{
    struct tpl_dict *d = tpl_alloc(r, sizeof(*d));
    if (d) {
        d->len = d->cap = 0;
        d->entries = NULL;
    }
    return d;
}

int tpl_dict_find(struct tpl_render *r, const struct tpl_dict *d, struct tpl_value key,
                  size_t *index)
{
    *index = SIZE_MAX;
    if (!tpl_hashable(key)) return tpl_fail(r, "unhashable type: '%s'", tpl_type_name(key));
    if (tpl_step(r, 1 + d->len / 16) < 0) return -1;
    for (size_t i = 0; i < d->len; i++) {
        bool eq;
        if (tpl_equal(r, d->entries[i].key, key, &eq) < 0) return -1;
        if (eq) {
            *index = i;
            return 0;
        }
    }
    return 0;
}

int tpl_dict_set(struct tpl_render *r, struct tpl_dict *d, struct tpl_value key,
                 struct tpl_value value)
{
    size_t i;
    if (tpl_dict_find(r, d, key, &i) < 0) return -1;
    if (i != SIZE_MAX) {
        d->entries[i].value = value;
        return 0;
    }
    if (grow_array(r, (void **)&d->entries, &d->cap, d->len + 1, sizeof(struct tpl_dict_entry)) < 0)
        return -1;
    d->entries[d->len].key = key;
    d->entries[d->len].value = value;
    d->len++;
    return 0;
}

bool tpl_dict_get_str(const struct tpl_dict *d, const char *key, size_t key_len,
                      struct tpl_value *out)
{
    for (size_t i = 0; i < d->len; i++) {
        const struct tpl_value *k = &d->entries[i].key;
        if (k->kind == TPL_STR && k->s.len == key_len && memcmp(k->s.ptr, key, key_len) == 0) {
            *out = d->entries[i].value;
            return true;
        }
    }
    return false;
}

struct tpl_value tpl_native(struct tpl_render *r, const char *name, tpl_native_fn fn,
                            struct tpl_value self)
{
    struct tpl_func *f = tpl_alloc(r, sizeof(*f));
    if (!f) return tpl_undefined(NULL, NULL);
    memset(f, 0, sizeof(*f));
    f->name = name;
    f->native = fn;
    f->self = self;
    return (struct tpl_value){.kind = TPL_FUNC, .func = f};
}

/* ---- scopes ---- */

struct tpl_scope *tpl_scope_new(struct tpl_render *r, struct tpl_scope *parent)
{
    struct tpl_scope *s = tpl_alloc(r, sizeof(*s));
    if (s) {
        s->parent = parent;
        s->len = s->cap = 0;
        s->vars = NULL;
        s->captured = false;
    }
    return s;
}

static bool name_eq(struct tpl_str a, struct tpl_str b)
{
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

int tpl_scope_set(struct tpl_render *r, struct tpl_scope *scope, struct tpl_str name,
                  struct tpl_value value)
{
    for (size_t i = 0; i < scope->len; i++) {
        if (name_eq(scope->vars[i].name, name)) {
            scope->vars[i].value = value;
            return 0;
        }
    }
    if (grow_array(r, (void **)&scope->vars, &scope->cap, scope->len + 1, sizeof(struct tpl_var)) <
        0)
        return -1;
    scope->vars[scope->len].name = name;
    scope->vars[scope->len].value = value;
    scope->len++;
    return 0;
}

bool tpl_scope_lookup(const struct tpl_scope *scope, struct tpl_str name, struct tpl_value *out)
{
    for (; scope; scope = scope->parent) {
        for (size_t i = scope->len; i-- > 0;) {
            if (name_eq(scope->vars[i].name, name)) {
                *out = scope->vars[i].value;
                return true;
            }
        }
    }
    return false;
}

/* ---- string builder ---- */

int tpl_sbuf_put(struct tpl_render *r, struct tpl_sbuf *b, const char *p, size_t n)
{
    size_t need;
    if (slm_add_size(b->len, n, &need)) return tpl_fail(r, "string too long");
    if (b->max && need > b->max)
        return tpl_fail(r, "template output exceeded its limit of %zu bytes", b->max);
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need)
            if (slm_mul_size(cap, 2, &cap)) return tpl_fail(r, "string too long");
        char *q = tpl_arena_grow(r->arena, b->ptr, b->cap, cap);
        if (!q) return tpl_fail_memory(r);
        b->ptr = q;
        b->cap = cap;
    }
    if (n) memcpy(b->ptr + b->len, p, n);
    b->len = need;
    return 0;
}

int tpl_sbuf_putc(struct tpl_render *r, struct tpl_sbuf *b, char c)
{
    return tpl_sbuf_put(r, b, &c, 1);
}

int tpl_sbuf_printf(struct tpl_render *r, struct tpl_sbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) return tpl_fail(r, "formatting failed");
    return tpl_sbuf_put(r, b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* ---- Python semantics ---- */

bool tpl_truthy(struct tpl_value v)
{
    switch (v.kind) {
    case TPL_UNDEFINED:
    case TPL_NONE:
        return false;
    case TPL_BOOL:
        return v.b;
    case TPL_INT:
        return v.i != 0;
    case TPL_FLOAT:
        return v.f != 0.0;
    case TPL_STR:
        return v.s.len > 0;
    case TPL_LIST:
    case TPL_TUPLE:
        return v.list->len > 0;
    case TPL_DICT:
        return v.dict->len > 0;
    case TPL_NAMESPACE:
    case TPL_FUNC:
    case TPL_LOOP:
        return true;
    }
    return false;
}

const char *tpl_type_name(struct tpl_value v)
{
    switch (v.kind) {
    case TPL_UNDEFINED:
        return "Undefined";
    case TPL_NONE:
        return "NoneType";
    case TPL_BOOL:
        return "bool";
    case TPL_INT:
        return "int";
    case TPL_FLOAT:
        return "float";
    case TPL_STR:
        return "str";
    case TPL_LIST:
        return "list";
    case TPL_TUPLE:
        return "tuple";
    case TPL_DICT:
        return "dict";
    case TPL_NAMESPACE:
        return "Namespace";
    case TPL_FUNC:
        return v.func->macro ? "Macro" : "builtin_function_or_method";
    case TPL_LOOP:
        return "LoopContext";
    }
    return "object";
}

bool tpl_hashable(struct tpl_value v)
{
    switch (v.kind) {
    case TPL_LIST:
    case TPL_DICT:
    case TPL_NAMESPACE:
        return false;
    case TPL_TUPLE:
        for (size_t i = 0; i < v.list->len; i++)
            if (!tpl_hashable(v.list->items[i])) return false;
        return true;
    default:
        return true;
    }
}

static int enter(struct tpl_render *r)
{
    if (r->depth >= r->limits.max_depth)
        return tpl_fail(r, "template exceeded its nesting limit of %" PRIu32, r->limits.max_depth);
    r->depth++;
    return 0;
}

/* Compares two numbers as Python does; 2 means unordered (NaN). */
static int number_order(struct tpl_value a, struct tpl_value b)
{
    if (a.kind != TPL_FLOAT && b.kind != TPL_FLOAT) {
        int64_t x = a.kind == TPL_BOOL ? a.b : a.i;
        int64_t y = b.kind == TPL_BOOL ? b.b : b.i;
        return x < y ? -1 : x > y;
    }
    double x = a.kind == TPL_FLOAT ? a.f : (double)(a.kind == TPL_BOOL ? a.b : a.i);
    double y = b.kind == TPL_FLOAT ? b.f : (double)(b.kind == TPL_BOOL ? b.b : b.i);
    if (isnan(x) || isnan(y)) return 2;
    if (x != y) return x < y ? -1 : 1;
    /* equal as doubles; an int beyond 2^53 may still differ from the float */
    if (a.kind == TPL_INT && b.kind == TPL_FLOAT && fabs(y) < 9.2e18)
        return a.i < (int64_t)y ? -1 : a.i > (int64_t)y;
    if (b.kind == TPL_INT && a.kind == TPL_FLOAT && fabs(x) < 9.2e18)
        return (int64_t)x < b.i ? -1 : (int64_t)x > b.i;
    return 0;
}

static int str_order(struct tpl_str a, struct tpl_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    if (c) return c < 0 ? -1 : 1;
    return a.len < b.len ? -1 : a.len > b.len;
}

int tpl_equal(struct tpl_render *r, struct tpl_value a, struct tpl_value b, bool *equal)
{
    *equal = false;
    if (tpl_is_number(a) && tpl_is_number(b)) {
        *equal = number_order(a, b) == 0;
        return 0;
    }
    if (a.kind != b.kind) return 0;
    switch (a.kind) {
    case TPL_UNDEFINED:
    case TPL_NONE:
        *equal = true;
        return 0;
    case TPL_STR:
        *equal = a.s.len == b.s.len && memcmp(a.s.ptr, b.s.ptr, a.s.len) == 0;
        return 0;
    case TPL_LIST:
    case TPL_TUPLE: {
        if (a.list == b.list) {
            *equal = true;
            return 0;
        }
        if (a.list->len != b.list->len) return 0;
        if (enter(r) < 0 || tpl_step(r, a.list->len) < 0) return -1;
        bool eq = true;
        for (size_t i = 0; i < a.list->len && eq; i++) {
            if (tpl_equal(r, a.list->items[i], b.list->items[i], &eq) < 0) return -1;
        }
        r->depth--;
        *equal = eq;
        return 0;
    }
    case TPL_DICT:
    case TPL_NAMESPACE: {
        if (a.dict == b.dict) {
            *equal = true;
            return 0;
        }
        if (a.kind == TPL_NAMESPACE || a.dict->len != b.dict->len) return 0;
        if (enter(r) < 0) return -1;
        bool eq = true;
        for (size_t i = 0; i < a.dict->len && eq; i++) {
            size_t j;
            if (tpl_dict_find(r, b.dict, a.dict->entries[i].key, &j) < 0) return -1;
            if (j == SIZE_MAX)
                eq = false;
            else if (tpl_equal(r, a.dict->entries[i].value, b.dict->entries[j].value, &eq) < 0)
                return -1;
        }
        r->depth--;
        *equal = eq;
        return 0;
    }
    case TPL_FUNC:
        *equal = a.func == b.func;
        return 0;
    case TPL_LOOP:
        *equal = a.loop == b.loop;
        return 0;
    default:
        return 0;
    }
}

int tpl_compare(struct tpl_render *r, struct tpl_value a, struct tpl_value b, const char *op,
                int *order)
{
    if (a.kind == TPL_UNDEFINED) return tpl_fail_undefined(r, a);
    if (b.kind == TPL_UNDEFINED) return tpl_fail_undefined(r, b);
    if (tpl_is_number(a) && tpl_is_number(b)) {
        *order = number_order(a, b);
        return 0;
    }
    if (a.kind == TPL_STR && b.kind == TPL_STR) {
        *order = str_order(a.s, b.s);
        return 0;
    }
    if (tpl_is_seq(a) && a.kind == b.kind) {
        if (enter(r) < 0 || tpl_step(r, 1) < 0) return -1;
        size_t n = a.list->len < b.list->len ? a.list->len : b.list->len;
        for (size_t i = 0; i < n; i++) {
            bool eq;
            if (tpl_equal(r, a.list->items[i], b.list->items[i], &eq) < 0) return -1;
            if (!eq) {
                int rc = tpl_compare(r, a.list->items[i], b.list->items[i], op, order);
                r->depth--;
                return rc;
            }
        }
        r->depth--;
        *order = a.list->len < b.list->len ? -1 : a.list->len > b.list->len;
        return 0;
    }
    return tpl_fail(r, "'%s' not supported between instances of '%s' and '%s'", op,
                    tpl_type_name(a), tpl_type_name(b));
}

int tpl_to_str(struct tpl_render *r, struct tpl_value v, struct tpl_str *out)
{
    switch (v.kind) {
    case TPL_STR:
        *out = v.s;
        return 0;
    case TPL_UNDEFINED:
        *out = (struct tpl_str){"", 0};
        return 0;
    case TPL_NONE:
        *out = (struct tpl_str){"None", 4};
        return 0;
    case TPL_BOOL:
        *out = v.b ? (struct tpl_str){"True", 4} : (struct tpl_str){"False", 5};
        return 0;
    default: {
        struct tpl_sbuf b = {0};
        if (tpl_write_str(r, &b, v) < 0) return -1;
        *out = tpl_sbuf_value(&b).s;
        return 0;
    }
    }
}

int tpl_write_str(struct tpl_render *r, struct tpl_sbuf *b, struct tpl_value v)
{
    switch (v.kind) {
    case TPL_STR:
        return tpl_sbuf_puts(r, b, v.s);
    case TPL_UNDEFINED:
        return 0;
    default:
        return tpl_write_repr(r, b, v);
    }
}

static int write_str_repr(struct tpl_render *r, struct tpl_sbuf *b, struct tpl_str s)
{
    bool has_single = memchr(s.ptr, '\'', s.len) != NULL;
    bool has_double = memchr(s.ptr, '"', s.len) != NULL;
    char quote = has_single && !has_double ? '"' : '\'';
    if (tpl_step(r, 1 + s.len / 64) < 0 || tpl_sbuf_putc(r, b, quote) < 0) return -1;
    const char *p = s.ptr, *end = s.ptr + s.len;
    while (p < end) {
        uint32_t cp;
        size_t n = tpl_utf8_decode(p, end, &cp);
        int rc;
        if (cp == (uint32_t)quote || cp == '\\') {
            char esc[2] = {'\\', (char)cp};
            rc = tpl_sbuf_put(r, b, esc, 2);
        } else if (cp == '\t') {
            rc = tpl_sbuf_put(r, b, "\\t", 2);
        } else if (cp == '\n') {
            rc = tpl_sbuf_put(r, b, "\\n", 2);
        } else if (cp == '\r') {
            rc = tpl_sbuf_put(r, b, "\\r", 2);
        } else if (cp < 0x20 || cp == 0x7f) {
            rc = tpl_sbuf_printf(r, b, "\\x%02x", cp);
        } else if (cp < 0x7f || n == 1 || tpl_py_isprintable(cp)) {
            /* printable (or a stray byte, kept as it is) */
            rc = tpl_sbuf_put(r, b, p, n);
        } else if (cp <= 0xff) {
            rc = tpl_sbuf_printf(r, b, "\\x%02x", cp);
        } else if (cp <= 0xffff) {
            rc = tpl_sbuf_printf(r, b, "\\u%04x", cp);
        } else {
            rc = tpl_sbuf_printf(r, b, "\\U%08x", cp);
        }
        if (rc < 0) return -1;
        p += n;
    }
    return tpl_sbuf_putc(r, b, quote);
}

static int write_items_repr(struct tpl_render *r, struct tpl_sbuf *b, const struct tpl_list *l)
{
    for (size_t i = 0; i < l->len; i++) {
        if (i && tpl_sbuf_put(r, b, ", ", 2) < 0) return -1;
        if (tpl_write_repr(r, b, l->items[i]) < 0) return -1;
    }
    return 0;
}

static int write_dict_repr(struct tpl_render *r, struct tpl_sbuf *b, const struct tpl_dict *d)
{
    if (tpl_sbuf_putc(r, b, '{') < 0) return -1;
    for (size_t i = 0; i < d->len; i++) {
        if (i && tpl_sbuf_put(r, b, ", ", 2) < 0) return -1;
        if (tpl_write_repr(r, b, d->entries[i].key) < 0 || tpl_sbuf_put(r, b, ": ", 2) < 0 ||
            tpl_write_repr(r, b, d->entries[i].value) < 0)
            return -1;
    }
    return tpl_sbuf_putc(r, b, '}');
}

int tpl_write_repr(struct tpl_render *r, struct tpl_sbuf *b, struct tpl_value v)
{
    char num[32];
    switch (v.kind) {
    case TPL_UNDEFINED:
        return tpl_sbuf_put(r, b, "Undefined", 9);
    case TPL_NONE:
        return tpl_sbuf_put(r, b, "None", 4);
    case TPL_BOOL:
        return v.b ? tpl_sbuf_put(r, b, "True", 4) : tpl_sbuf_put(r, b, "False", 5);
    case TPL_INT:
        return tpl_sbuf_printf(r, b, "%" PRId64, v.i);
    case TPL_FLOAT:
        tpl_format_float(v.f, num);
        return tpl_sbuf_put(r, b, num, strlen(num));
    case TPL_STR:
        return write_str_repr(r, b, v.s);
    case TPL_FUNC:
        if (v.func->macro) return tpl_sbuf_printf(r, b, "<Macro '%s'>", v.func->name);
        return tpl_sbuf_printf(r, b, "<built-in method %s>", v.func->name);
    case TPL_LOOP:
        return tpl_sbuf_printf(r, b, "<LoopContext %zu/%zu>", v.loop->index0 + 1,
                               v.loop->items->len);
    default:
        break;
    }
    /* containers: bounded recursion (a list can hold itself) */
    if (enter(r) < 0 || tpl_step(r, 1) < 0) return -1;
    int rc;
    if (v.kind == TPL_LIST) {
        rc = tpl_sbuf_putc(r, b, '[') < 0 || write_items_repr(r, b, v.list) < 0 ||
                     tpl_sbuf_putc(r, b, ']') < 0
                 ? -1
                 : 0;
    } else if (v.kind == TPL_TUPLE) {
        rc = tpl_sbuf_putc(r, b, '(') < 0 || write_items_repr(r, b, v.list) < 0 ||
                     (v.list->len == 1 && tpl_sbuf_putc(r, b, ',') < 0) ||
                     tpl_sbuf_putc(r, b, ')') < 0
                 ? -1
                 : 0;
    } else if (v.kind == TPL_DICT) {
        rc = write_dict_repr(r, b, v.dict);
    } else {
        rc = tpl_sbuf_put(r, b, "<Namespace ", 11) < 0 || write_dict_repr(r, b, v.dict) < 0 ||
                     tpl_sbuf_putc(r, b, '>') < 0
                 ? -1
                 : 0;
    }
    r->depth--;
    return rc;
}

int tpl_iterate(struct tpl_render *r, struct tpl_value v, const struct tpl_list **items)
{
    static const struct tpl_list empty = {0, 0, NULL};
    switch (v.kind) {
    case TPL_LIST:
    case TPL_TUPLE:
        *items = v.list;
        return 0;
    case TPL_UNDEFINED:
        *items = &empty;
        return 0;
    case TPL_DICT: {
        struct tpl_list *keys = tpl_list_new(r, v.dict->len);
        if (!keys || tpl_step(r, v.dict->len) < 0) return -1;
        for (size_t i = 0; i < v.dict->len; i++)
            keys->items[i] = v.dict->entries[i].key;
        keys->len = v.dict->len;
        *items = keys;
        return 0;
    }
    case TPL_STR: {
        size_t n = tpl_utf8_count(v.s);
        struct tpl_list *chars = tpl_list_new(r, n);
        if (!chars || tpl_step(r, n) < 0) return -1;
        const char *p = v.s.ptr, *end = v.s.ptr + v.s.len;
        while (p < end) {
            uint32_t cp;
            size_t len = tpl_utf8_decode(p, end, &cp);
            chars->items[chars->len++] = tpl_strv(p, len);
            p += len;
        }
        *items = chars;
        return 0;
    }
    default:
        return tpl_fail(r, "'%s' object is not iterable", tpl_type_name(v));
    }
}

int tpl_length(struct tpl_render *r, struct tpl_value v, size_t *len)
{
    switch (v.kind) {
    case TPL_UNDEFINED:
        *len = 0;
        return 0;
    case TPL_STR:
        *len = tpl_utf8_count(v.s);
        return tpl_step(r, v.s.len / 64);
    case TPL_LIST:
    case TPL_TUPLE:
        *len = v.list->len;
        return 0;
    case TPL_DICT:
        *len = v.dict->len;
        return 0;
    default:
        return tpl_fail(r, "object of type '%s' has no len()", tpl_type_name(v));
    }
}
