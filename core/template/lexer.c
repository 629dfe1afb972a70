#include "template/lexer.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/pystr.h"
#include "util/checked.h"

/* Brackets open at once inside one tag; Jinja has no limit, real templates nest a few. */
#define MAX_BRACKET_NESTING 256

struct lexer {
    struct tpl_arena *arena;
    const char *src; /* normalised copy */
    size_t len;
    size_t pos;
    uint32_t line;
    bool line_starting; /* the previous match ended with a newline */
    struct tpl_tokens *out;
    slm_error *err;
};

static const struct {
    const char *text;
    enum tpl_op op;
} operators[] = {
    /* two-character operators first: the longest match wins */
    {"//", OP_FLOORDIV}, {"**", OP_POW},   {"==", OP_EQ},      {"!=", OP_NE},      {">=", OP_GE},
    {"<=", OP_LE},       {"+", OP_ADD},    {"-", OP_SUB},      {"*", OP_MUL},      {"/", OP_DIV},
    {"%", OP_MOD},       {"~", OP_TILDE},  {"[", OP_LBRACKET}, {"]", OP_RBRACKET}, {"(", OP_LPAREN},
    {")", OP_RPAREN},    {"{", OP_LBRACE}, {"}", OP_RBRACE},   {">", OP_GT},       {"<", OP_LT},
    {"=", OP_ASSIGN},    {".", OP_DOT},    {":", OP_COLON},    {"|", OP_PIPE},     {",", OP_COMMA},
    {";", OP_SEMICOLON},
};

const char *tpl_op_text(enum tpl_op op)
{
    for (size_t i = 0; i < sizeof(operators) / sizeof(operators[0]); i++)
        if (operators[i].op == op) return operators[i].text;
    return "?";
}

static int lex_fail(struct lexer *lx, const char *what)
{
    return slm_errorf(lx->err, SLM_ERR_TEMPLATE, "line %" PRIu32 ": %s", lx->line, what);
}

static int emit(struct lexer *lx, struct tpl_token tok)
{
    struct tpl_tokens *t = lx->out;
    if (t->len == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        size_t old_bytes = t->cap * sizeof(*t->items), new_bytes;
        if (slm_mul_size(cap, sizeof(*t->items), &new_bytes))
            return slm_errorf(lx->err, SLM_ERR_TEMPLATE, "template too large");
        struct tpl_token *items = tpl_arena_grow(lx->arena, t->items, old_bytes, new_bytes);
        if (!items) return slm_errorf(lx->err, SLM_ERR_TEMPLATE, "template too large");
        t->items = items;
        t->cap = cap;
    }
    t->items[t->len++] = tok;
    return 0;
}

static int emit_simple(struct lexer *lx, enum tpl_tok type, uint32_t line)
{
    return emit(lx, (struct tpl_token){.type = type, .line = line});
}

static uint32_t count_newlines(const char *p, size_t n)
{
    uint32_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += p[i] == '\n';
    return c;
}

/* Advances over the text [lx->pos, to), keeping the line count. */
static void advance_to(struct lexer *lx, size_t to)
{
    lx->line += count_newlines(lx->src + lx->pos, to - lx->pos);
    lx->pos = to;
}

static size_t skip_space(const struct lexer *lx, size_t pos)
{
    size_t n;
    while (pos < lx->len && (n = tpl_py_space_at(lx->src + pos, lx->src + lx->len)) > 0)
        pos += n;
    return pos;
}

static bool all_space(struct tpl_str s)
{
    const char *p = s.ptr, *end = s.ptr + s.len;
    size_t n;
    while (p < end) {
        if ((n = tpl_py_space_at(p, end)) == 0) return false;
        p += n;
    }
    return true;
}

/* Applies the whitespace control that the tag after `text` asks for: "-" strips all
 * whitespace before it; otherwise lstrip_blocks removes the indentation before a block or
 * comment tag that starts its line ("+" keeps it). */
static struct tpl_str control_before(const struct lexer *lx, struct tpl_str text, char sign,
                                     bool is_variable)
{
    if (sign == '-') return tpl_py_strip(text, false, true, NULL);
    if (sign == '+' || is_variable) return text;
    size_t line_start = 0;
    for (size_t i = text.len; i > 0; i--) {
        if (text.ptr[i - 1] == '\n') {
            line_start = i;
            break;
        }
    }
    if (line_start > 0 || lx->line_starting) {
        struct tpl_str tail = {text.ptr + line_start, text.len - line_start};
        if (tail.len > 0 && all_space(tail)) text.len = line_start;
    }
    return text;
}

static int emit_data(struct lexer *lx, struct tpl_str text, uint32_t line)
{
    if (text.len == 0) return 0;
    return emit(lx, (struct tpl_token){.type = TOK_DATA, .line = line, .text = text});
}

static bool starts_with(const struct lexer *lx, size_t pos, const char *s)
{
    size_t n = strlen(s);
    return pos <= lx->len && lx->len - pos >= n && memcmp(lx->src + pos, s, n) == 0;
}

static bool is_name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
static bool is_name_char(unsigned char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}
static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Matches "(\d+_)*\d+" at pos; returns the end or pos when there is none. */
static size_t scan_digits(const struct lexer *lx, size_t pos)
{
    size_t p = pos;
    if (p >= lx->len || !is_digit(lx->src[p])) return pos;
    for (;;) {
        while (p < lx->len && is_digit(lx->src[p]))
            p++;
        if (p + 1 < lx->len && lx->src[p] == '_' && is_digit(lx->src[p + 1]))
            p++;
        else
            return p;
    }
}

/* Jinja's float: digits with a fraction, an exponent or both; not right after a dot. */
static size_t scan_float(const struct lexer *lx, size_t pos)
{
    if (pos > 0 && lx->src[pos - 1] == '.') return pos;
    size_t p = scan_digits(lx, pos);
    if (p == pos) return pos;
    size_t frac_end = p;
    if (p < lx->len && lx->src[p] == '.') {
        size_t q = scan_digits(lx, p + 1);
        if (q > p + 1) frac_end = q;
    }
    size_t e = frac_end;
    if (e < lx->len && (lx->src[e] == 'e' || lx->src[e] == 'E')) {
        size_t q = e + 1;
        if (q < lx->len && (lx->src[q] == '+' || lx->src[q] == '-')) q++;
        size_t r = scan_digits(lx, q);
        if (r > q) return r;
    }
    return frac_end > p ? frac_end : pos;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Accumulates digits "(_?D)+" of `base` from pos; returns the end (pos when none). */
static size_t scan_digit_run(const struct lexer *lx, size_t pos, int base, uint64_t *v,
                             bool *overflow)
{
    size_t p = pos;
    for (;;) {
        size_t q = p;
        if (q < lx->len && lx->src[q] == '_') q++;
        int d = q < lx->len ? hex_value(lx->src[q]) : -1;
        if (d < 0 || d >= base) return p;
        if (slm_mul_u64(*v, (uint64_t)base, v) || slm_add_u64(*v, (uint64_t)d, v) ||
            *v > (uint64_t)INT64_MAX)
            *overflow = true;
        p = q + 1;
    }
}

/* Jinja's integer: 0b, 0o and 0x forms, or decimal, "_" between digits allowed. */
static size_t scan_int(const struct lexer *lx, size_t pos, int64_t *value, bool *overflow)
{
    const char *s = lx->src;
    uint64_t v = 0;
    *overflow = false;
    if (pos >= lx->len || !is_digit(s[pos])) return pos;
    if (s[pos] == '0') {
        char k = pos + 1 < lx->len ? (char)(s[pos + 1] | 0x20) : 0;
        int base = k == 'b' ? 2 : k == 'o' ? 8 : k == 'x' ? 16 : 0;
        if (base) {
            size_t end = scan_digit_run(lx, pos + 2, base, &v, overflow);
            if (end > pos + 2) {
                *value = (int64_t)v;
                return end;
            }
        }
        /* "0(_?0)*" */
        size_t end = pos + 1;
        for (;;) {
            size_t q = end < lx->len && s[end] == '_' ? end + 1 : end;
            if (q < lx->len && s[q] == '0')
                end = q + 1;
            else
                break;
        }
        *value = 0;
        return end;
    }
    v = (uint64_t)(s[pos] - '0');
    size_t end = scan_digit_run(lx, pos + 1, 10, &v, overflow);
    *value = (int64_t)v;
    return end;
}

static int add_utf8(char *out, size_t *n, uint32_t cp)
{
    *n += tpl_utf8_encode(cp, out + *n);
    return 0;
}

/* Resolves the escapes of a string literal as Python's "unicode-escape" codec does. */
static int unescape(struct lexer *lx, const char *p, size_t len, struct tpl_str *out)
{
    /* the result is never longer than the source: every escape shrinks or keeps size */
    char *buf = tpl_arena_alloc(lx->arena, len + 1);
    if (!buf) return slm_errorf(lx->err, SLM_ERR_TEMPLATE, "template too large");
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        if (p[i] != '\\' || i + 1 >= len) {
            buf[n++] = p[i++];
            continue;
        }
        char c = p[i + 1];
        i += 2;
        int digits = 0;
        switch (c) {
        case '\n':
            break;
        case '\\':
            buf[n++] = '\\';
            break;
        case '\'':
            buf[n++] = '\'';
            break;
        case '"':
            buf[n++] = '"';
            break;
        case 'a':
            buf[n++] = '\a';
            break;
        case 'b':
            buf[n++] = '\b';
            break;
        case 'f':
            buf[n++] = '\f';
            break;
        case 'n':
            buf[n++] = '\n';
            break;
        case 'r':
            buf[n++] = '\r';
            break;
        case 't':
            buf[n++] = '\t';
            break;
        case 'v':
            buf[n++] = '\v';
            break;
        case 'x':
            digits = 2;
            break;
        case 'u':
            digits = 4;
            break;
        case 'U':
            digits = 8;
            break;
        default:
            if (c >= '0' && c <= '7') {
                uint32_t v = (uint32_t)(c - '0');
                for (int k = 0; k < 2 && i < len && p[i] >= '0' && p[i] <= '7'; k++)
                    v = v * 8 + (uint32_t)(p[i++] - '0');
                add_utf8(buf, &n, v);
            } else {
                /* unknown escapes stay as they are */
                buf[n++] = '\\';
                buf[n++] = c;
            }
        }
        if (digits) {
            uint32_t v = 0;
            for (int k = 0; k < digits; k++) {
                int d = i < len ? hex_value(p[i]) : -1;
                if (d < 0) return lex_fail(lx, "truncated escape in string literal");
                v = v * 16 + (uint32_t)d;
                i++;
            }
            if (v > 0x10ffff) return lex_fail(lx, "illegal Unicode character in string literal");
            add_utf8(buf, &n, v);
        }
    }
    buf[n] = '\0';
    *out = (struct tpl_str){buf, n};
    return 0;
}

/* Lexes the inside of a {{ }} or {% %} tag up to and including its end. */
static int lex_tag(struct lexer *lx, bool is_block)
{
    char closers[MAX_BRACKET_NESTING];
    size_t depth = 0;
    for (;;) {
        size_t pos = lx->pos;
        const char *s = lx->src;
        if (depth == 0) {
            const char *end = is_block ? "%}" : "}}";
            if (is_block && s[pos] == '+' && starts_with(lx, pos + 1, end)) {
                advance_to(lx, pos + 3);
                lx->line_starting = false;
                return emit_simple(lx, TOK_BLOCK_END, lx->line);
            }
            if (s[pos] == '-' && starts_with(lx, pos + 1, end)) {
                uint32_t line = lx->line;
                size_t after = skip_space(lx, pos + 3);
                lx->line_starting = after > pos + 3 && s[after - 1] == '\n';
                advance_to(lx, after);
                return emit_simple(lx, is_block ? TOK_BLOCK_END : TOK_VAR_END, line);
            }
            if (starts_with(lx, pos, end)) {
                uint32_t line = lx->line;
                size_t after = pos + 2;
                if (is_block && after < lx->len && s[after] == '\n') after++; /* trim_blocks */
                lx->line_starting = s[after - 1] == '\n';
                advance_to(lx, after);
                return emit_simple(lx, is_block ? TOK_BLOCK_END : TOK_VAR_END, line);
            }
        }
        if (pos >= lx->len)
            return lex_fail(lx, is_block ? "unexpected end of template: unclosed '{%' tag"
                                         : "unexpected end of template: unclosed '{{' tag");
        size_t ws = skip_space(lx, pos);
        if (ws > pos) {
            advance_to(lx, ws);
            continue;
        }
        struct tpl_token tok = {.line = lx->line};
        size_t end;
        bool overflow;
        unsigned char c = (unsigned char)s[pos];
        if ((end = scan_float(lx, pos)) > pos) {
            char tmp[64];
            size_t n = 0;
            for (size_t i = pos; i < end && n < sizeof(tmp) - 1; i++)
                if (s[i] != '_') tmp[n++] = s[i];
            tmp[n] = '\0';
            tok.type = TOK_FLOAT;
            tok.fval = strtod(tmp, NULL);
        } else if ((end = scan_int(lx, pos, &tok.ival, &overflow)) > pos) {
            if (overflow) return lex_fail(lx, "integer literal too large");
            tok.type = TOK_INT;
        } else if (is_name_start(c)) {
            end = pos + 1;
            while (end < lx->len && is_name_char((unsigned char)s[end]))
                end++;
            tok.type = TOK_NAME;
            /* names are kept NUL-terminated: they end up in error messages */
            char *name = tpl_arena_strndup(lx->arena, s + pos, end - pos);
            if (!name) return slm_errorf(lx->err, SLM_ERR_TEMPLATE, "template too large");
            tok.text = (struct tpl_str){name, end - pos};
        } else if (c == '\'' || c == '"') {
            end = pos + 1;
            while (end < lx->len && s[end] != (char)c)
                end += s[end] == '\\' && end + 1 < lx->len ? 2 : 1;
            if (end >= lx->len) return lex_fail(lx, "unterminated string literal");
            tok.type = TOK_STRING;
            if (unescape(lx, s + pos + 1, end - pos - 1, &tok.text) < 0) return -1;
            end++;
        } else {
            size_t i;
            for (i = 0; i < sizeof(operators) / sizeof(operators[0]); i++)
                if (starts_with(lx, pos, operators[i].text)) break;
            if (i == sizeof(operators) / sizeof(operators[0])) {
                char msg[64];
                if (c >= 0x20 && c < 0x7f)
                    snprintf(msg, sizeof(msg), "unexpected character '%c'", c);
                else
                    snprintf(msg, sizeof(msg), "unexpected byte 0x%02x", c);
                return lex_fail(lx, msg);
            }
            tok.type = TOK_OP;
            tok.op = operators[i].op;
            end = pos + strlen(operators[i].text);
            if (tok.op == OP_LBRACE || tok.op == OP_LPAREN || tok.op == OP_LBRACKET) {
                if (depth == MAX_BRACKET_NESTING) return lex_fail(lx, "brackets nested too deeply");
                closers[depth++] = tok.op == OP_LBRACE ? '}' : tok.op == OP_LPAREN ? ')' : ']';
            } else if (tok.op == OP_RBRACE || tok.op == OP_RPAREN || tok.op == OP_RBRACKET) {
                char msg[64];
                if (depth == 0) {
                    snprintf(msg, sizeof(msg), "unexpected '%c'", s[pos]);
                    return lex_fail(lx, msg);
                }
                if (closers[depth - 1] != s[pos]) {
                    snprintf(msg, sizeof(msg), "unexpected '%c', expected '%c'", s[pos],
                             closers[depth - 1]);
                    return lex_fail(lx, msg);
                }
                depth--;
            }
        }
        if (emit(lx, tok) < 0) return -1;
        advance_to(lx, end);
    }
}

/* "{% raw %}" with optional whitespace control: returns the end of the tag or 0. */
static size_t match_raw_begin(const struct lexer *lx, size_t pos, char *strip_after)
{
    size_t p = pos + 2;
    if (p < lx->len && (lx->src[p] == '-' || lx->src[p] == '+')) p++;
    p = skip_space(lx, p);
    if (!starts_with(lx, p, "raw")) return 0;
    p = skip_space(lx, p + 3);
    if (starts_with(lx, p, "-%}")) {
        *strip_after = '-';
        return p + 3;
    }
    if (starts_with(lx, p, "%}")) {
        *strip_after = 0;
        return p + 2;
    }
    return 0;
}

/* Finds "{% endraw %}" from pos: sets its start, its sign, and returns its end (0: none). */
static size_t match_raw_end(const struct lexer *lx, size_t pos, size_t *tag_start, char *sign)
{
    for (size_t t = pos; t + 1 < lx->len; t++) {
        if (lx->src[t] != '{' || lx->src[t + 1] != '%') continue;
        size_t p = t + 2;
        *sign = 0;
        if (p < lx->len && (lx->src[p] == '-' || lx->src[p] == '+')) *sign = lx->src[p++];
        p = skip_space(lx, p);
        if (!starts_with(lx, p, "endraw")) continue;
        p = skip_space(lx, p + 6);
        *tag_start = t;
        if (starts_with(lx, p, "+%}")) return p + 3;
        if (starts_with(lx, p, "-%}")) return skip_space(lx, p + 3);
        if (starts_with(lx, p, "%}")) {
            p += 2;
            return p < lx->len && lx->src[p] == '\n' ? p + 1 : p;
        }
    }
    return 0;
}

static int lex_raw(struct lexer *lx, size_t begin_end, char strip_after)
{
    if (strip_after == '-') begin_end = skip_space(lx, begin_end);
    lx->line_starting = begin_end > 0 && lx->src[begin_end - 1] == '\n';
    advance_to(lx, begin_end);
    size_t tag_start;
    char sign;
    size_t end = match_raw_end(lx, lx->pos, &tag_start, &sign);
    if (!end) return lex_fail(lx, "missing end of raw directive");
    struct tpl_str text = {lx->src + lx->pos, tag_start - lx->pos};
    text = control_before(lx, text, sign, false);
    if (emit_data(lx, text, lx->line) < 0) return -1;
    lx->line_starting = lx->src[end - 1] == '\n';
    advance_to(lx, end);
    return 0;
}

static int lex_comment(struct lexer *lx)
{
    const char *s = lx->src;
    for (size_t q = lx->pos; q + 1 < lx->len; q++) {
        if (s[q] != '#' || s[q + 1] != '}') continue;
        size_t after = q + 2;
        if (q > lx->pos && s[q - 1] == '-')
            after = skip_space(lx, after);
        else if (!(q > lx->pos && s[q - 1] == '+') && after < lx->len && s[after] == '\n')
            after++; /* trim_blocks */
        lx->line_starting = s[after - 1] == '\n';
        advance_to(lx, after);
        return 0;
    }
    return lex_fail(lx, "missing end of comment tag");
}

/* Jinja normalises "\r\n" and "\r" to "\n" and drops one trailing newline
 * (keep_trailing_newline is off). */
static int normalise(struct lexer *lx, const char *source, size_t len)
{
    char *copy = tpl_arena_alloc(lx->arena, len + 1);
    if (!copy) return slm_errorf(lx->err, SLM_ERR_TEMPLATE, "template too large");
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (source[i] == '\r') {
            copy[n++] = '\n';
            if (i + 1 < len && source[i + 1] == '\n') i++;
        } else {
            copy[n++] = source[i];
        }
    }
    if (n > 0 && copy[n - 1] == '\n') n--;
    copy[n] = '\0';
    lx->src = copy;
    lx->len = n;
    return 0;
}

int tpl_lex(struct tpl_arena *arena, const char *source, size_t len, struct tpl_tokens *out,
            slm_error *err)
{
    struct lexer lx = {.arena = arena, .line = 1, .line_starting = true, .out = out, .err = err};
    out->items = NULL;
    out->len = out->cap = 0;
    if (normalise(&lx, source, len) < 0) return -1;
    const char *s = lx.src;
    while (lx.pos < lx.len) {
        size_t t = lx.pos;
        while (t + 1 < lx.len &&
               !(s[t] == '{' && (s[t + 1] == '{' || s[t + 1] == '%' || s[t + 1] == '#')))
            t++;
        if (t + 1 >= lx.len) {
            if (emit_data(&lx, (struct tpl_str){s + lx.pos, lx.len - lx.pos}, lx.line) < 0)
                return -1;
            advance_to(&lx, lx.len);
            break;
        }
        char kind = s[t + 1];
        char sign = t + 2 < lx.len && (s[t + 2] == '-' || s[t + 2] == '+') ? s[t + 2] : 0;
        struct tpl_str text = {s + lx.pos, t - lx.pos};
        text = control_before(&lx, text, sign, kind == '{');
        if (emit_data(&lx, text, lx.line) < 0) return -1;
        advance_to(&lx, t);
        char raw_strip;
        size_t raw_end = kind == '%' ? match_raw_begin(&lx, t, &raw_strip) : 0;
        if (raw_end) {
            if (lex_raw(&lx, raw_end, raw_strip) < 0) return -1;
            continue;
        }
        uint32_t line = lx.line;
        advance_to(&lx, t + 2 + (sign != 0));
        if (kind == '#') {
            if (lex_comment(&lx) < 0) return -1;
            continue;
        }
        if (emit_simple(&lx, kind == '%' ? TOK_BLOCK_BEGIN : TOK_VAR_BEGIN, line) < 0 ||
            lex_tag(&lx, kind == '%') < 0)
            return -1;
    }
    return emit_simple(&lx, TOK_EOF, lx.line);
}
