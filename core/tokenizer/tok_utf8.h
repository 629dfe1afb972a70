/* UTF-8 as the reference tokenizers read it.
 *
 * Tokenizer inputs are untrusted bytes. The reference engine splits text into characters
 * by the lead byte alone (SentencePiece, merges) and, where it needs code points, decodes
 * each invalid byte as U+FFFD while accepting overlong forms and surrogates; slmd does the
 * same so that ids agree byte for byte. */
#ifndef SLM_TOKENIZER_TOK_UTF8_H
#define SLM_TOKENIZER_TOK_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define TOK_REPLACEMENT_CHAR 0xFFFDu

/* Sequence length announced by a lead byte; continuation and invalid bytes count 1. */
static inline size_t tok_utf8_len(uint8_t lead)
{
    static const uint8_t len_by_high_nibble[16] = {1, 1, 1, 1, 1, 1, 1, 1,
                                                   1, 1, 1, 1, 2, 2, 3, 4};
    return len_by_high_nibble[lead >> 4];
}

/* Decodes one code point at s[0..n) (n >= 1) the reference's way: the continuation bytes
 * must be present and of the form 10xxxxxx, nothing else is checked. On failure, or for a
 * value past U+10FFFF, returns U+FFFD having consumed one byte. */
static inline uint32_t tok_utf8_decode(const uint8_t *s, size_t n, size_t *consumed)
{
    uint8_t b0 = s[0];
    size_t need;
    uint32_t cp;
    if (b0 < 0x80) {
        *consumed = 1;
        return b0;
    } else if ((b0 & 0xE0) == 0xC0) {
        need = 1;
        cp = b0 & 0x1Fu;
    } else if ((b0 & 0xF0) == 0xE0) {
        need = 2;
        cp = b0 & 0x0Fu;
    } else if ((b0 & 0xF8) == 0xF0) {
        need = 3;
        cp = b0 & 0x07u;
    } else {
        *consumed = 1;
        return TOK_REPLACEMENT_CHAR;
    }
    if (need >= n) {
        *consumed = 1;
        return TOK_REPLACEMENT_CHAR;
    }
    for (size_t i = 1; i <= need; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *consumed = 1;
            return TOK_REPLACEMENT_CHAR;
        }
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp > 0x10FFFF) {
        *consumed = 1;
        return TOK_REPLACEMENT_CHAR;
    }
    *consumed = need + 1;
    return cp;
}

/* Encodes cp (<= 0x10FFFF; surrogates are written as they are) into out[0..4). */
static inline size_t tok_utf8_encode(uint32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the valid UTF-8 character at s[0..n) (shortest form, no surrogates, at most
 * U+10FFFF); 0 if invalid, or -1 cast to size_t if valid so far but cut off by n. */
#define TOK_UTF8_INCOMPLETE ((size_t)-1)
static inline size_t tok_utf8_valid_len(const uint8_t *s, size_t n)
{
    uint8_t b0 = s[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (b0 < 0x80)
        return 1;
    if (b0 >= 0xC2 && b0 <= 0xDF)
        need = 1;
    else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        if (b0 == 0xE0)
            lo = 0xA0;
        else if (b0 == 0xED)
            hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        if (b0 == 0xF0)
            lo = 0x90;
        else if (b0 == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    for (size_t i = 1; i <= need; i++) {
        if (i >= n)
            return TOK_UTF8_INCOMPLETE;
        uint8_t b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80)
            return 0;
    }
    return need + 1;
}

#endif
