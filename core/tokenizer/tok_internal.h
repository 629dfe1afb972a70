/* The tokenizer object shared by the SentencePiece, byte-level BPE and WordPiece code.
 *
 * A vocabulary is one arena of NUL-terminated token strings, a parallel array of token
 * records, and a compact string→id index. Everything is built once by a loader and is
 * read-only afterwards, so one tokenizer serves many threads; every tokenize call keeps
 * its scratch memory to itself. */
#ifndef SLM_TOKENIZER_TOK_INTERNAL_H
#define SLM_TOKENIZER_TOK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slm/tokenizer.h"
#include "tokenizer/id_index.h"
#include "util/strmap.h"

/* Bounds on what a vocabulary may hold, so a crafted file cannot make loading cost
 * unbounded memory or time. The largest real vocabularies hold ~260k tokens and their
 * longest token is a few hundred bytes (runs of spaces in code models). */
#define SLM_TOKENIZER_MAX_VOCAB (1u << 20)
#define SLM_TOKENIZER_MAX_TOKEN_BYTES 1024u
#define SLM_TOKENIZER_MAX_MERGES (1u << 21)

/* Per-token flags beside the attribute. */
enum {
    TOK_FLAG_EOG = 1u << 0,    /* ends generation */
    TOK_FLAG_LSTRIP = 1u << 1, /* special match eats the whitespace before it */
    TOK_FLAG_RSTRIP = 1u << 2, /* ... and after it */
};

struct tok_token {
    uint32_t offset; /* of the NUL-terminated text in tok->arena */
    uint32_t len;
    float score; /* SentencePiece merge score; 0 elsewhere */
    uint8_t attr; /* enum slm_token_attr */
    uint8_t flags;
};

/* One byte-level BPE merge: the pair (left, right) of symbols becomes `result`. Symbols
 * are token ids, or ids >= n_vocab for strings that a merge mentions but the vocabulary
 * lacks (the reference merges by string, so such chains must still be followed). */
struct tok_merge {
    uint32_t left, right, result, rank;
};

/* A pre-tokenizer: the regexes applied one after another (tok_pretok.c), and their
 * compiled form (compiled per tokenizer: pcre2 code is read-only while matching, so one
 * tokenizer may be used from many threads). */
struct tok_pretok;
#define TOK_MAX_REGEX 6
struct pcre2_real_code_8;
struct tok_regexes {
    struct pcre2_real_code_8 *code[TOK_MAX_REGEX];
    size_t n;
};

/* WordPiece settings: how a word-start and a continuation token are spelled in the
 * vocabulary, and which normalization rules apply. GGUF vocabularies follow the
 * reference engine (phantom-space "▁word" and bare "ing"), Hugging Face files follow
 * the tokenizers library ("word" and "##ing"). */
struct tok_wordpiece {
    char word_prefix[8];
    uint32_t word_prefix_len;
    char cont_prefix[16];
    uint32_t cont_prefix_len;
    bool lowercase;
    bool strip_accents;
    bool clean_text;            /* HF: drop controls, map whitespace to ' ' */
    bool chinese_chars;         /* CJK ideographs become one-character words */
    bool hf_rules;              /* tokenizers-library details instead of the reference's */
    uint32_t max_chars_per_word; /* longer words become [UNK]; 0 = no limit */
};

struct slm_tokenizer {
    enum slm_tokenizer_kind kind;
    char kind_name[8];
    char *pre_name; /* tokenizer.ggml.pre, or the HF normalizer family */
    char *source;   /* file or directory name, for messages */

    /* vocabulary */
    uint32_t n_vocab;
    struct tok_token *tokens;
    char *arena;
    size_t arena_len;
    uint32_t max_token_len;
    struct tok_id_index index; /* text → id */

    struct slm_special_tokens special;

    /* Tokens matched as whole strings before ordinary tokenization (control, user
     * defined, unknown), ordered as the reference tries them: longest first. */
    uint32_t *special_by_priority;
    uint32_t n_special;
    /* The same ids sorted by text, for the prefix search; rank[k] is the position in
     * special_by_priority of special_sorted[k]. */
    uint32_t *special_sorted;
    uint32_t *special_rank;
    uint8_t special_first_byte[32]; /* bitmap of first bytes of special texts */

    /* SentencePiece */
    bool add_space_prefix;
    int32_t byte_tokens[256]; /* <0xXX> (or the raw byte) for byte fallback; -1 if absent */

    /* byte-level BPE */
    const struct tok_pretok *pretok;
    struct tok_regexes regexes;
    bool ignore_merges; /* a word that is a whole token skips the merges (llama3) */
    struct tok_merge *merges;
    uint32_t n_merges;
    struct tok_pair_index merge_index; /* (left, right) → merge */
    uint32_t byte_symbol[256];         /* symbol of each byte's GPT-2 character */
    /* Strings named by merges that are not tokens; symbol id = n_vocab + k. */
    char **extra_symbols;
    uint32_t *extra_symbol_len;
    uint32_t n_extra_symbols;

    /* WordPiece */
    struct tok_wordpiece wp;
};

/* ---- vocabulary building (tok_vocab.c) ---- */

/* Allocates `n` token records and copies the texts (given by a callback so that GGUF
 * arrays, vocab.txt lines and JSON objects share the checks). Duplicate texts are an
 * error naming both ids; empty texts are kept but cannot be looked up. */
typedef int (*tok_text_fn)(void *ctx, uint32_t i, const char **text, size_t *len,
                           slm_error *err);
int tok_vocab_init(slm_tokenizer *tok, uint32_t n, tok_text_fn get_text, void *ctx,
                   const char *what, slm_error *err);
/* After attributes and special ids are set: EOG set, byte tokens, the special-token
 * match tables, and checks that every special id is in range. */
int tok_vocab_finish(slm_tokenizer *tok, slm_error *err);
/* Tokens matched as whole strings before ordinary tokenization. */
static inline bool tok_is_special_attr(uint8_t attr)
{
    return attr == SLM_TOKEN_CONTROL || attr == SLM_TOKEN_USER_DEFINED ||
           attr == SLM_TOKEN_UNKNOWN;
}
/* Id of an exact text, or -1. */
int32_t tok_find(const slm_tokenizer *tok, const char *text, size_t len);
static inline const char *tok_text(const slm_tokenizer *tok, uint32_t id)
{
    return tok->arena + tok->tokens[id].offset;
}

/* A tokenizer.json held in memory (fuzzing; the directory loader reads the file). */
slm_tokenizer *tok_hf_json_from_memory(const char *data, size_t size, const char *name,
                                       slm_error *err);

/* ---- output ---- */
struct tok_out {
    int32_t *ids;
    uint32_t *starts, *ends;
    size_t n, cap;
    bool offsets;
};
int tok_out_push(struct tok_out *o, int32_t id, size_t start, size_t end, slm_error *err);

/* ---- algorithms; each tokenizes one raw fragment [start, end) of `text` ---- */
int tok_spm_fragment(const slm_tokenizer *tok, const char *text, size_t start, size_t end,
                     bool prefix_space, struct tok_out *out, slm_error *err);
int tok_bpe_fragment(const slm_tokenizer *tok, const char *text, size_t start, size_t end,
                     struct tok_out *out, slm_error *err);
int tok_wordpiece_fragment(const slm_tokenizer *tok, const char *text, size_t start,
                           size_t end, struct tok_out *out, slm_error *err);

/* ---- special-token partition (tok_special.c) ---- */
struct tok_piece {
    size_t start, end; /* bytes of the input; for a token, the matched text */
    int32_t token;     /* -1 for raw text */
};
/* Splits text into raw pieces and special-token pieces as the reference does. Control
 * and unknown tokens take part only when `parse_special`; user-defined tokens always. */
int tok_partition(const slm_tokenizer *tok, const char *text, size_t len, bool parse_special,
                  struct tok_piece **pieces, size_t *n_pieces, slm_error *err);

/* ---- byte-level BPE ---- */
/* GPT-2's byte → printable code point table (bpe.c). */
uint32_t tok_byte_to_cp(uint8_t b);
/* Inverse: the byte a code point stands for, or -1. */
int tok_cp_to_byte(uint32_t cp);
/* Builds merges, extra symbols and byte symbols from "left right" strings. */
typedef int (*tok_merge_fn)(void *ctx, uint32_t i, const char **text, size_t *len,
                            slm_error *err);
int tok_bpe_init_merges(slm_tokenizer *tok, uint32_t n, tok_merge_fn get, void *ctx,
                        const char *what, slm_error *err);

/* Pre-tokenizer table (tok_pretok.c). */
struct tok_pretok_info {
    const struct tok_pretok *pretok;
    struct tok_regexes regexes;
    bool ignore_merges;
    bool add_bos; /* the reference's default for add_bos with this pre-tokenizer */
};
/* Looks a tokenizer.ggml.pre name up; false if unknown. */
bool tok_pretok_lookup(const char *name, struct tok_pretok_info *info);
/* Compiles the pre-tokenizer's regexes; fails only on allocation or a bug in the table. */
int tok_pretok_compile(const struct tok_pretok *p, struct tok_regexes *out, slm_error *err);
void tok_regexes_free(struct tok_regexes *r);
const char *tok_pretok_name(const struct tok_pretok *p);

/* A piece of text split by the pre-tokenizer: code points [cp_start, cp_end). */
struct tok_span {
    uint32_t start, end;
};
struct tok_cps {
    uint32_t *cp;   /* decoded as the reference decodes (invalid byte → U+FFFD) */
    uint32_t *src;  /* byte offset in the input of each code point; src[n] = end */
    size_t n;
};
int tok_decode_ref(const char *text, size_t start, size_t end, struct tok_cps *cps,
                   slm_error *err);
void tok_cps_free(struct tok_cps *cps);
int tok_pretok_split(const struct tok_regexes *res, const struct tok_cps *cps,
                     struct tok_span **words, size_t *n_words, slm_error *err);

#endif
