/* Tokenizers: SentencePiece-style (GGUF "llama"), byte-level BPE (GGUF "gpt2", with the
 * pre-tokenizer named by tokenizer.ggml.pre) and WordPiece (GGUF "bert", vocab.txt,
 * tokenizer.json), behind one interface.
 *
 * A tokenizer is immutable after creation and safe to use from several threads at once. */
#ifndef SLM_TOKENIZER_H
#define SLM_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slm/error.h"
#include "slm/gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct slm_tokenizer slm_tokenizer;

enum slm_tokenizer_kind {
    SLM_TOKENIZER_SPM = 0,   /* SentencePiece BPE with scores and byte fallback */
    SLM_TOKENIZER_BPE,       /* byte-level BPE with merges (GPT-2 family) */
    SLM_TOKENIZER_WORDPIECE, /* BERT */
};

/* Token attributes, from tokenizer.ggml.token_type (GGUF) or added_tokens (HF). */
enum slm_token_attr {
    SLM_TOKEN_NORMAL = 1,
    SLM_TOKEN_UNKNOWN = 2,
    SLM_TOKEN_CONTROL = 3,      /* <s>, </s>, [CLS]: never produced from plain text */
    SLM_TOKEN_USER_DEFINED = 4, /* added tokens: matched as whole strings */
    SLM_TOKEN_UNUSED = 5,
    SLM_TOKEN_BYTE = 6, /* <0x0A> */
};

/* Reads tokenizer.* metadata. Errors name the file and the key. */
slm_tokenizer *slm_tokenizer_from_gguf(const slm_gguf *gguf, slm_error *err);
/* A Hugging Face model directory: tokenizer.json, or vocab.txt (+ tokenizer_config.json). */
slm_tokenizer *slm_tokenizer_from_hf_dir(const char *dir, slm_error *err);
void slm_tokenizer_free(slm_tokenizer *tok);

enum slm_tokenizer_kind slm_tokenizer_kind(const slm_tokenizer *tok);
const char *slm_tokenizer_kind_name(const slm_tokenizer *tok); /* "llama", "gpt2", "bert" */
const char *slm_tokenizer_pre_name(const slm_tokenizer *tok);  /* pre-tokenizer in use */
uint32_t slm_tokenizer_n_vocab(const slm_tokenizer *tok);

/* Special token ids; -1 when the model has none. */
struct slm_special_tokens {
    int32_t bos, eos, eot, eom, unk, pad, sep, cls, mask;
    bool add_bos; /* prepend BOS (SPM/BPE) or CLS (WordPiece) when adding specials */
    bool add_eos; /* append EOS (SPM/BPE) or SEP (WordPiece) */
};
const struct slm_special_tokens *slm_tokenizer_special(const slm_tokenizer *tok);

/* True for tokens that end generation (EOS, EOT, EOM and those marked so in the file). */
bool slm_tokenizer_is_eog(const slm_tokenizer *tok, int32_t id);
enum slm_token_attr slm_tokenizer_attr(const slm_tokenizer *tok, int32_t id);
/* The vocabulary string of a token as stored (e.g. "▁the", "Ġthe", "##ing", "<s>"). */
const char *slm_tokenizer_token_text(const slm_tokenizer *tok, int32_t id, size_t *len);
/* Id of an exact vocabulary string, or -1. */
int32_t slm_tokenizer_find(const slm_tokenizer *tok, const char *text, size_t len);
/* SentencePiece merge score of a token (0 for other tokenizers or an id out of range). */
float slm_tokenizer_score(const slm_tokenizer *tok, int32_t id);

enum {
    SLM_TOKENIZE_ADD_SPECIAL = 1u << 0,   /* BOS/EOS or CLS/SEP as the model says */
    SLM_TOKENIZE_PARSE_SPECIAL = 1u << 1, /* control/user-defined token text becomes the token */
};

struct slm_tokens {
    int32_t *ids;
    uint32_t *starts; /* byte offset in the input of each token's first byte (or NULL) */
    uint32_t *ends;   /* one past its last byte; special tokens added get start == end */
    size_t n;
};
void slm_tokens_free(struct slm_tokens *t);

/* Tokenizes `len` bytes of text (any bytes: invalid UTF-8 is handled as the reference
 * tokenizers handle it). `want_offsets` fills starts/ends (needed for entity spans).
 * Input longer than SLM_TOKENIZE_MAX_INPUT bytes is refused with SLM_ERR_LIMIT. */
/* 8 MiB: far above any context (128k tokens is ~512 KiB of text), and low enough that the
 * tokenizer's working memory (tens of bytes per input byte) stays bounded. */
#define SLM_TOKENIZE_MAX_INPUT (8u << 20)
int slm_tokenize(const slm_tokenizer *tok, const char *text, size_t len, unsigned flags,
                 bool want_offsets, struct slm_tokens *out, slm_error *err);

/* The bytes one token stands for when decoded on its own: "▁the" → " the", "<0x0A>" →
 * "\n", "Ġthe" → " the", "##ing" → "ing". Control tokens give their text only when
 * `render_special`. Returns the byte count written (up to cap) or needed. */
size_t slm_token_to_bytes(const slm_tokenizer *tok, int32_t id, bool render_special,
                          char *buf, size_t cap);

/* Streaming detokenizer: feeds ids, emits text made only of whole UTF-8 characters (bytes
 * of a character split across tokens are held back until it is complete; invalid
 * sequences become U+FFFD), and joins WordPiece "##" continuations. With
 * `strip_leading_space`, the space SentencePiece puts before the first word is dropped
 * (decoding a whole text; a continuation after a prompt keeps it). */
struct slm_detok {
    const slm_tokenizer *tok;
    bool render_special;
    bool strip_leading_space;
    bool at_start; /* no text emitted yet */
    unsigned char pending[8];
    size_t n_pending;
};
void slm_detok_init(struct slm_detok *d, const slm_tokenizer *tok, bool render_special,
                    bool strip_leading_space);
/* Appends the text for `id` to out (grown with realloc); returns bytes appended or < 0. */
int slm_detok_push(struct slm_detok *d, int32_t id, char **out, size_t *len, size_t *cap);
/* Flushes held-back bytes (as U+FFFD) at the end of a stream. */
int slm_detok_finish(struct slm_detok *d, char **out, size_t *len, size_t *cap);

/* Whole-sequence convenience (leading space stripped as above): malloc'd NUL-terminated. */
int slm_detokenize(const slm_tokenizer *tok, const int32_t *ids, size_t n, bool render_special,
                   char **out, size_t *out_len, slm_error *err);

#ifdef __cplusplus
}
#endif
#endif
