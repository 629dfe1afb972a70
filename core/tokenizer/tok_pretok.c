/* Byte-level BPE pre-tokenizers: the regexes chosen by tokenizer.ggml.pre.
 *
 * The patterns are those of the models' tokenizer.json files as the reference engine
 * adapts them (llm_tokenizer_bpe), written for PCRE2 in UTF mode without UCP. How the
 * reference applies them, and how this file reproduces it:
 *  - Several regexes run in sequence; each splits every piece the previous one left, and
 *    the text between matches becomes a piece of its own. A regex sees only its piece
 *    (lookaheads and `$` stop at the piece's end).
 *  - `\s` there matches the ASCII white space, and every non-ASCII White_Space character
 *    is turned into U+000B before matching (std::regex knows no Unicode spaces). The
 *    subject given to PCRE2 gets the same substitution, so `\s` (ASCII without UCP) and
 *    classes such as [\x{800}-\x{4E00}] behave identically.
 *  - The GPT-2 and Llama-3 patterns run as hand-written code in the reference, which
 *    differs from the regex in one way: an unassigned code point (category Cn) matches no
 *    alternative and becomes a piece of one character. Those two patterns therefore leave
 *    \p{Cn} out of their "other" class and end with a one-character catch-all.
 * Non-ASCII characters in patterns are written as \x{...} so this file stays ASCII. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"
#include "tokenizer/tok_utf8.h"
#include "util/checked.h"
#include "util/cleanup.h"

#define CONTRACTIONS "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S) */
#define RE_GPT2                                                                            \
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}\\p{Cn}]+|\\s+(?!\\S)" \
    "|[\\s\\S]"

/* Llama 3: (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
 * \s*[\r\n]+|\s+(?!\S)|\s+ */
#define RE_LLAMA3                                                                          \
    CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"                               \
                 "| ?[^\\s\\p{L}\\p{N}\\p{Cn}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+|[\\s\\S]"

#define RE_QWEN2                                                                           \
    CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"    \
                 "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

#define RE_QWEN35                                                                          \
    CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}"                           \
                 "| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* "[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+..." as the
 * reference rewrites it: upper = a letter other than a-z, lower = a letter other than A-Z. */
#define RE_UPPER "((?=[\\p{L}])([^a-z]))"
#define RE_LOWER "((?=[\\p{L}])([^A-Z]))"
#define RE_GPT4O                                                                           \
    "[^\\r\\n\\p{L}\\p{N}]?" RE_UPPER "*" RE_LOWER "+" CONTRACTIONS "?"                      \
    "|[^\\r\\n\\p{L}\\p{N}]?" RE_UPPER "+" RE_LOWER "*" CONTRACTIONS "?"                     \
    "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_TEKKEN                                                                          \
    "[^\\r\\n\\p{L}\\p{N}]?" RE_UPPER "*" RE_LOWER "+"                                      \
    "|[^\\r\\n\\p{L}\\p{N}]?" RE_UPPER "+" RE_LOWER "*"                                     \
    "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

#define RE_BAILINGMOE                                                                      \
    "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"       \
    "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"

#define RE_SEED_CODER                                                                      \
    CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+"    \
                 "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

#define RE_MINICPM5                                                                        \
    CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"   \
                 "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* BLOOM, Poro, Viking: " ?[^(\s|.,!?…。，、।۔،)]+" */
#define RE_BLOOM                                                                           \
    " ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{964}\\x{6D4}\\x{60C})]+"

/* DeepSeek LLM: Latin, Greek, Cyrillic ... cased letters, as its tokenizer.json lists them. */
#define RE_DEEPSEEK_LETTERS                                                                \
    "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}"      \
    "\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}"   \
    "\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}"            \
    "\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}"                \
    "\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}"           \
    "\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}"           \
    "\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}"           \
    "\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}"   \
    "\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}"  \
    "\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}"            \
    "\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}"             \
    "\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}"  \
    "\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}"   \
    "\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}"            \
    "\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}"           \
    "\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}"         \
    "\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}"   \
    "\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+"
#define RE_DEEPSEEK_PUNCT                                                                  \
    "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+"
#define RE_DEEPSEEK_CJK "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+"


struct tok_pretok {
    const char *name; /* the family, for messages */
    const char *regex[TOK_MAX_REGEX + 1];
};

static const struct tok_pretok pretok_default = {
    "default", {"[\\p{P}$+<=>^~|]+", RE_GPT2, "\\p{N}+", "[0-9][0-9][0-9]", NULL}};
static const struct tok_pretok pretok_gpt2 = {"gpt-2", {RE_GPT2, NULL}};
static const struct tok_pretok pretok_llama3 = {"llama3", {RE_LLAMA3, NULL}};
static const struct tok_pretok pretok_falcon = {
    "falcon", {"[\\p{P}$+<=>^~|`]+", RE_GPT2, "[0-9][0-9][0-9]", NULL}};
static const struct tok_pretok pretok_starcoder = {"starcoder", {"\\p{N}", RE_GPT2, NULL}};
static const struct tok_pretok pretok_deepseek_llm = {
    "deepseek-llm",
    {"[\\r\\n]", RE_DEEPSEEK_LETTERS, RE_DEEPSEEK_PUNCT, "\\s+$", RE_DEEPSEEK_CJK, "\\p{N}+",
     NULL}};
static const struct tok_pretok pretok_deepseek_coder = {
    "deepseek-coder",
    {"[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", RE_DEEPSEEK_CJK, "\\p{N}", NULL}};
static const struct tok_pretok pretok_qwen2 = {"qwen2", {RE_QWEN2, NULL}};
static const struct tok_pretok pretok_qwen35 = {"qwen35", {RE_QWEN35, NULL}};
static const struct tok_pretok pretok_gpt4o = {"gpt-4o", {RE_GPT4O, NULL}};
static const struct tok_pretok pretok_tekken = {"tekken", {RE_TEKKEN, NULL}};
static const struct tok_pretok pretok_bloom = {"bloom", {RE_BLOOM, NULL}};
static const struct tok_pretok pretok_viking = {"viking", {RE_BLOOM, "\\p{N}", NULL}};
static const struct tok_pretok pretok_bailingmoe = {"bailingmoe", {RE_BAILINGMOE, NULL}};
static const struct tok_pretok pretok_seed_coder = {"seed-coder", {RE_SEED_CODER, NULL}};
static const struct tok_pretok pretok_minicpm5 = {"minicpm5",
                                                  {"\\p{N}{1,3}", RE_MINICPM5, NULL}};

/* tokenizer.ggml.pre names, as the reference engine maps them (llama_vocab::impl::load).
 * Names it maps to pre-tokenizers that need code beyond regexes (chameleon, kimi-k2,
 * gemma4 ...) are not listed and so fail to load with a clear message. */
static const struct {
    const char *name;
    const struct tok_pretok *pretok;
    bool ignore_merges;
    bool add_bos;
} pretok_names[] = {
    {"default", &pretok_default, false, false},
    {"llama3", &pretok_llama3, true, true},
    {"llama-v3", &pretok_llama3, true, true},
    {"llama-bpe", &pretok_llama3, true, true},
    {"falcon3", &pretok_llama3, true, true},
    {"falcon-h1", &pretok_llama3, true, true},
    {"pixtral", &pretok_llama3, true, true},
    {"midm-2.0", &pretok_llama3, true, true},
    {"lfm2", &pretok_llama3, true, true},
    {"dbrx", &pretok_llama3, false, false},
    {"smaug-bpe", &pretok_llama3, false, false},
    {"deepseek-llm", &pretok_deepseek_llm, false, false},
    {"deepseek-coder", &pretok_deepseek_coder, false, false},
    {"falcon", &pretok_falcon, false, false},
    {"mpt", &pretok_gpt2, false, false},
    {"gpt-2", &pretok_gpt2, false, false},
    {"phi-2", &pretok_gpt2, false, false},
    {"jina-es", &pretok_gpt2, false, false},
    {"jina-de", &pretok_gpt2, false, false},
    {"gigachat", &pretok_gpt2, false, false},
    {"jina-v2-es", &pretok_gpt2, false, false},
    {"jina-v2-de", &pretok_gpt2, false, false},
    {"jina-v1-en", &pretok_gpt2, false, false},
    {"jina-v2-code", &pretok_gpt2, false, false},
    {"roberta-bpe", &pretok_gpt2, false, false},
    {"a.x-4.0", &pretok_gpt2, false, false},
    {"mellum", &pretok_gpt2, false, false},
    {"modern-bert", &pretok_gpt2, false, false},
    {"olmo", &pretok_gpt2, false, false},
    {"jais", &pretok_gpt2, false, false},
    {"exaone4", &pretok_gpt2, false, false},
    {"trillion", &pretok_gpt2, false, false},
    {"granite-docling", &pretok_gpt2, false, false},
    {"starcoder", &pretok_starcoder, false, false},
    {"refact", &pretok_starcoder, false, false},
    {"command-r", &pretok_starcoder, false, false},
    {"smollm", &pretok_starcoder, false, false},
    {"codeshell", &pretok_starcoder, false, false},
    {"exaone", &pretok_starcoder, false, false},
    {"minerva-7b", &pretok_starcoder, false, false},
    {"mellum2", &pretok_starcoder, false, false},
    {"qwen2", &pretok_qwen2, false, false},
    {"deepseek-r1-qwen", &pretok_qwen2, false, false},
    {"kormo", &pretok_qwen2, false, false},
    {"f2llmv2", &pretok_qwen2, false, false},
    {"stablelm2", &pretok_qwen2, false, false},
    {"megrez", &pretok_qwen2, false, false},
    {"hunyuan", &pretok_qwen2, false, false},
    {"solar-open", &pretok_qwen2, false, false},
    {"grok-2", &pretok_qwen2, false, false},
    {"qwen35", &pretok_qwen35, false, false},
    {"gpt-4o", &pretok_gpt4o, false, false},
    {"llama4", &pretok_gpt4o, false, false},
    {"minimax-m2", &pretok_gpt4o, false, false},
    {"tekken", &pretok_tekken, true, true},
    {"poro-chat", &pretok_bloom, false, false},
    {"bloom", &pretok_bloom, false, false},
    {"gpt3-finnish", &pretok_bloom, false, false},
    {"viking", &pretok_viking, false, false},
    {"bailingmoe", &pretok_bailingmoe, false, false},
    {"bailingmoe2", &pretok_bailingmoe, false, false},
    {"llada-moe", &pretok_bailingmoe, false, false},
    {"seed-coder", &pretok_seed_coder, false, false},
    {"minicpm5", &pretok_minicpm5, true, false},
};

bool tok_pretok_lookup(const char *name, struct tok_pretok_info *info)
{
    for (size_t i = 0; i < SLM_ARRAY_SIZE(pretok_names); i++) {
        if (strcmp(pretok_names[i].name, name) == 0) {
            info->pretok = pretok_names[i].pretok;
            info->ignore_merges = pretok_names[i].ignore_merges;
            info->add_bos = pretok_names[i].add_bos;
            return true;
        }
    }
    return false;
}

int tok_pretok_compile(const struct tok_pretok *p, struct tok_regexes *out, slm_error *err)
{
    out->n = 0;
    for (size_t i = 0; p->regex[i]; i++) {
        int code;
        PCRE2_SIZE at;
        /* UTF without UCP: \s stays ASCII like the reference's std::regex, \p{..} still
         * uses Unicode properties; `$` means the end of the piece only. */
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)p->regex[i], PCRE2_ZERO_TERMINATED,
                                       PCRE2_UTF | PCRE2_NO_UTF_CHECK | PCRE2_DOLLAR_ENDONLY,
                                       &code, &at, NULL);
        if (!re) {
            tok_regexes_free(out);
            return slm_errorf(err, SLM_ERR_INTERNAL,
                              "pre-tokenizer %s: regex %zu does not compile (error %d at %zu)",
                              p->name, i, code, (size_t)at);
        }
        out->code[out->n++] = re;
    }
    return 0;
}

void tok_regexes_free(struct tok_regexes *r)
{
    for (size_t i = 0; i < r->n; i++)
        pcre2_code_free(r->code[i]);
    r->n = 0;
}

const char *tok_pretok_name(const struct tok_pretok *p) { return p->name; }

/* ---- splitting ---- */

int tok_decode_ref(const char *text, size_t start, size_t end, struct tok_cps *cps,
                   slm_error *err)
{
    size_t n = end - start;
    cps->cp = malloc((n + 1) * sizeof(uint32_t));
    cps->src = malloc((n + 1) * sizeof(uint32_t));
    if (!cps->cp || !cps->src)
        return slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");
    size_t k = 0;
    for (size_t off = start; off < end;) {
        size_t used;
        cps->cp[k] = tok_utf8_decode((const uint8_t *)text + off, end - off, &used);
        cps->src[k++] = (uint32_t)off;
        off += used;
    }
    cps->src[k] = (uint32_t)end;
    cps->n = k;
    return 0;
}

void tok_cps_free(struct tok_cps *cps)
{
    free(cps->cp);
    free(cps->src);
    cps->cp = cps->src = NULL;
    cps->n = 0;
}

/* White_Space code points above ASCII (the Z categories plus U+0085). */
static bool is_non_ascii_space(uint32_t cp)
{
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* The subject PCRE2 sees: the code points re-encoded, non-ASCII spaces as U+000B and
 * surrogates (valid for the reference's decoder, not for PCRE2) as a private-use
 * character, which falls in the same classes ("other"). off[i] is the subject offset of
 * code point i. */
static int build_subject(const struct tok_cps *cps, char **subject, uint32_t **off,
                         slm_error *err)
{
    size_t max;
    if (slm_mul_size(cps->n, 4, &max) || max > UINT32_MAX)
        return slm_errorf(err, SLM_ERR_LIMIT, "tokenize: input too large");
    *subject = malloc(max + 1);
    *off = malloc((cps->n + 1) * sizeof(uint32_t));
    if (!*subject || !*off)
        return slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");
    size_t n = 0;
    for (size_t i = 0; i < cps->n; i++) {
        uint32_t cp = cps->cp[i];
        if (is_non_ascii_space(cp))
            cp = 0x0B;
        else if (cp >= 0xD800 && cp <= 0xDFFF)
            cp = 0xE000;
        (*off)[i] = (uint32_t)n;
        n += tok_utf8_encode(cp, (uint8_t *)*subject + n);
    }
    (*off)[cps->n] = (uint32_t)n;
    return 0;
}

/* Code point index whose subject offset is `o` (offsets of matches are always at
 * character boundaries). */
static uint32_t cp_at(const uint32_t *off, uint32_t lo, uint32_t hi, size_t o)
{
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (off[mid] < o)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct span_list {
    struct tok_span *v;
    size_t n, cap;
};

static int span_push(struct span_list *l, uint32_t start, uint32_t end, slm_error *err)
{
    if (start >= end)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct tok_span *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (struct tok_span){start, end};
    return 0;
}

static void match_data_freep(pcre2_match_data **md)
{
    if (*md)
        pcre2_match_data_free(*md);
}

/* Splits one piece [s, e) with one regex: matches and the gaps between them. */
static int split_piece(const pcre2_code *re, pcre2_match_data *md, const char *subject,
                       const uint32_t *off, uint32_t s, uint32_t e, struct span_list *out,
                       slm_error *err)
{
    const char *piece = subject + off[s];
    size_t len = off[e] - off[s], pos = 0, prev = 0;
    while (pos <= len) {
        int rc = pcre2_match(re, (PCRE2_SPTR)piece, len, pos, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0)
            return slm_errorf(err, SLM_ERR_LIMIT,
                              "tokenize: pre-tokenizer regex failed (PCRE2 error %d)", rc);
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1];
        if (me == ms) {
            /* An empty match splits nothing; step over one character. */
            if (ms >= len)
                break;
            pos = ms + tok_utf8_len((uint8_t)piece[ms]);
            continue;
        }
        int r;
        if ((r = span_push(out, cp_at(off, s, e, off[s] + prev), cp_at(off, s, e, off[s] + ms),
                           err)) < 0 ||
            (r = span_push(out, cp_at(off, s, e, off[s] + ms), cp_at(off, s, e, off[s] + me),
                           err)) < 0)
            return r;
        prev = pos = me;
    }
    return span_push(out, cp_at(off, s, e, off[s] + prev), e, err);
}

int tok_pretok_split(const struct tok_regexes *res, const struct tok_cps *cps,
                     struct tok_span **words, size_t *n_words, slm_error *err)
{
    *words = NULL;
    *n_words = 0;
    if (cps->n == 0)
        return 0;
    _cleanup_free_ char *subject = NULL;
    _cleanup_free_ uint32_t *off = NULL;
    int r = build_subject(cps, &subject, &off, err);
    if (r < 0)
        return r;

    struct span_list cur = {0}, next = {0};
    if ((r = span_push(&cur, 0, (uint32_t)cps->n, err)) < 0)
        return r;
    for (size_t k = 0; k < res->n; k++) {
        _cleanup_(match_data_freep) pcre2_match_data *md =
            pcre2_match_data_create_from_pattern(res->code[k], NULL);
        if (!md) {
            r = slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");
            break;
        }
        next.n = 0;
        for (size_t i = 0; i < cur.n && r == 0; i++)
            r = split_piece(res->code[k], md, subject, off, cur.v[i].start, cur.v[i].end,
                            &next, err);
        if (r < 0)
            break;
        struct span_list t = cur;
        cur = next;
        next = t;
    }
    free(next.v);
    if (r < 0) {
        free(cur.v);
        return r;
    }
    *words = cur.v;
    *n_words = cur.n;
    return 0;
}
