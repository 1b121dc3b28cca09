/*
 * tokenizer-pre.c - the byte-level BPE pre-tokenizer: the regex set each
 * tokenizer.ggml.pre value names, compiled once with PCRE2 (UTF, UCP,
 * JIT), and the split of a text into words.
 *
 * The sets and their order are llama.cpp's (llm_tokenizer_bpe). Each
 * regex of a set is applied within every piece the previous one left,
 * and both the matches and the unmatched gaps between them become
 * pieces, as llama.cpp's unicode_regex_split does.
 *
 * llama.cpp runs these regexes either through hand-written matchers
 * (GPT-2, llama3) or std::regex over a text in which every non-ASCII
 * whitespace code point has been replaced by U+000B. The caller gives us
 * that same substituted subject (tokenizer-bpe.c), and here "\s" and
 * "\S" are rewritten into the ASCII class [\t\n\v\f\r ], so PCRE2 sees
 * exactly the whitespace llama.cpp sees; \p{..} classes are PCRE2's
 * Unicode properties. In llama.cpp's ASCII table '~' is in neither
 * \p{P} nor \p{S}; the sets that use \p{S} spell that out.
 */
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tokenizer/tokenizer-int.h"

#define MAX_RX 8

enum pre_set {
	SET_DEFAULT, SET_GPT2, SET_LLAMA3, SET_QWEN2, SET_QWEN35,
	SET_DEEPSEEK_LLM, SET_DEEPSEEK_CODER, SET_DEEPSEEK3, SET_FALCON,
	SET_STARCODER, SET_PORO, SET_VIKING, SET_TEKKEN, SET_GPT4O,
	SET_JAIS2, SET_SEED_CODER, SET_UFAKZEKA, SET_LAGUNA, SET_EXAONE_MOE,
	SET_MINICPM5, SET_TINY_AYA, SET_YOUTU, SET_BAILINGMOE, SET_CHAMELEON,
	SET_SPARK2_5, SET_GRANITE_EMB_MULTI, SET_SUPERBPE, SET_N
};

#define RX_GPT2 \
	"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+" \
	"|\\s+(?!\\S)"
#define RX_CONTR \
	"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
#define RX_LLAMA3 \
	RX_CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}" \
	"| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_QWEN2 \
	RX_CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" \
	"| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_TAIL "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_CASED(opt) \
	"[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])" \
	"([^A-Z]))+" opt "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+" \
	"((?=[\\p{L}])([^A-Z]))*" opt
#define RX_CJK_DS "[\xe4\xb8\x80-\xe9\xbe\xa5\xe0\xa0\x80-\xe4\xb8\x80" \
	"\xea\xb0\x80-\xed\x9f\xbf]+"
#define RX_CJK_KANA "[\xe4\xb8\x80-\xe9\xbe\xa5\xe3\x81\x80-\xe3\x82\x9f" \
	"\xe3\x82\xa0-\xe3\x83\xbf]+"
/* [\p{P}\p{S}] and its complement with llama.cpp's '~' */
#define RX_PS "(?:(?!~)[\\p{P}\\p{S}])"
#define RX_NOT_LPS "(?:~|[^\\r\\n\\p{L}\\p{P}\\p{S}])"
#define RX_ASCII_PUNCT "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~]"
#define RX_PORO " ?[^(\\s|.,!?\xe2\x80\xa6\xe3\x80\x82\xef\xbc\x8c" \
	"\xe3\x80\x81\xe0\xa5\xa4\xdb\x94\xd8\x8c)]+"

static const char *const sets[SET_N][MAX_RX] = {
	[SET_DEFAULT] = {
		"[\\p{P}\\$\\+<=>\\^~\\|]+", RX_GPT2, "\\p{N}+",
		"[0-9][0-9][0-9]" },
	[SET_GPT2] = { RX_GPT2 },
	[SET_LLAMA3] = { RX_LLAMA3 },
	[SET_QWEN2] = { RX_QWEN2 },
	[SET_QWEN35] = {
		RX_CONTR "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}"
		"| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*" RX_TAIL },
	[SET_DEEPSEEK_LLM] = {
		"[\r\n]",
		"\\s?[A-Za-z\xc2\xb5\xc3\x80-\xc3\x96\xc3\x98-\xc3\xb6"
		"\xc3\xb8-\xc6\xba\xc6\xbc-\xc6\xbf\xc7\x84-\xca\x93"
		"\xca\x95-\xca\xaf\xcd\xb0-\xcd\xb3\xcd\xb6\xcd\xb7"
		"\xcd\xbb-\xcd\xbd\xcd\xbf\xce\x86\xce\x88-\xce\x8a\xce\x8c"
		"\xce\x8e-\xce\xa1\xce\xa3-\xcf\xb5\xcf\xb7-\xd2\x81"
		"\xd2\x8a-\xd4\xaf\xd4\xb1-\xd5\x96\xe1\x82\xa0-\xe1\x83\x85"
		"\xe1\x8e\xa0-\xe1\x8f\xb5\xe1\x8f\xb8-\xe1\x8f\xbd"
		"\xe1\xb2\x90-\xe1\xb2\xba\xe1\xb2\xbd-\xe1\xb2\xbf"
		"\xe1\xb4\x80-\xe1\xb4\xab\xe1\xb5\xab-\xe1\xb5\xb7"
		"\xe1\xb5\xb9-\xe1\xb6\x9a\xe1\xb8\x80-\xe1\xbc\x95"
		"\xe1\xbc\x98-\xe1\xbc\x9d\xe1\xbc\xa0-\xe1\xbd\x85"
		"\xe1\xbd\x88-\xe1\xbd\x8d\xe1\xbd\x90-\xe1\xbd\x97"
		"\xe1\xbd\x99\xe1\xbd\x9b\xe1\xbd\x9d\xe1\xbd\x9f-\xe1\xbd\xbd"
		"\xe1\xbe\x80-\xe1\xbe\xb4\xe1\xbe\xb6-\xe1\xbe\xbc\xe1\xbe\xbe"
		"\xe1\xbf\x82-\xe1\xbf\x84\xe1\xbf\x86-\xe1\xbf\x8c"
		"\xe1\xbf\x90-\xe1\xbf\x93\xe1\xbf\x96-\xe1\xbf\x9b"
		"\xe1\xbf\xa0-\xe1\xbf\xac\xe1\xbf\xb2-\xe1\xbf\xb4"
		"\xe1\xbf\xb6-\xe1\xbf\xbc\xe2\x84\x82\xe2\x84\x87"
		"\xe2\x84\x8a-\xe2\x84\x93\xe2\x84\x95\xe2\x84\x99-\xe2\x84\x9d"
		"\xe2\x84\xa4\xe2\x84\xa6\xe2\x84\xa8\xe2\x84\xaa-\xe2\x84\xad"
		"\xe2\x84\xaf-\xe2\x84\xb4\xe2\x84\xb9\xe2\x84\xbc-\xe2\x84\xbf"
		"\xe2\x85\x85-\xe2\x85\x89\xe2\x85\x8e\xe2\x86\x83\xe2\x86\x84"
		"\xe2\xb0\x80-\xe2\xb1\xbb\xe2\xb1\xbe-\xe2\xb3\xa4"
		"\xe2\xb3\xab-\xe2\xb3\xae\xe2\xb3\xb2\xe2\xb3\xb3"
		"\xea\x99\x80-\xea\x99\xad\xea\x9a\x80-\xea\x9a\x9b"
		"\xea\x9c\xa2-\xea\x9d\xaf\xea\x9d\xb1-\xea\x9e\x87"
		"\xea\x9e\x8b-\xea\x9e\x8e\xea\xad\xb0-\xea\xae\xbf"
		"\xef\xac\x80-\xef\xac\x86\xef\xac\x93-\xef\xac\x97"
		"\xef\xbc\xa1-\xef\xbc\xba\xef\xbd\x81-\xef\xbd\x9a"
		"\xf0\x90\x90\x80-\xf0\x90\x91\x8f"
		"\xf0\x90\x92\xb0-\xf0\x90\x93\x93"
		"\xf0\x90\x93\x98-\xf0\x90\x93\xbb"
		"\xf0\x90\xb2\x80-\xf0\x90\xb2\xb2"
		"\xf0\x90\xb3\x80-\xf0\x90\xb3\xb2"
		"\xf0\x91\xa2\xa0-\xf0\x91\xa3\x9f"
		"\xf0\x9e\xa4\x80-\xf0\x9e\xa5\x83]+",
		"\\s?[!-/:-~\xef\xbc\x81-\xef\xbc\x8f\xef\xbc\x9a-\xef\xbd\x9e"
		"\xe2\x80\x98-\xe2\x80\x9f\xe3\x80\x80-\xe3\x80\x82]+",
		"\\s+$",
		RX_CJK_DS,
		"\\p{N}+" },
	[SET_DEEPSEEK_CODER] = {
		"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", RX_CJK_DS, "\\p{N}" },
	[SET_DEEPSEEK3] = {
		"\\p{N}{1,3}", RX_CJK_KANA,
		RX_ASCII_PUNCT "[A-Za-z]+|" RX_NOT_LPS "?[\\p{L}\\p{M}]+"
		"| ?" RX_PS "+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+" },
	[SET_FALCON] = {
		"[\\p{P}\\$\\+<=>\\^~\\|`]+", RX_GPT2, "[0-9][0-9][0-9]" },
	[SET_STARCODER] = { "\\p{N}", RX_GPT2 },
	[SET_PORO] = { RX_PORO },
	[SET_VIKING] = { RX_PORO, "\\p{N}" },
	[SET_TEKKEN] = {
		RX_CASED("") "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*"
		RX_TAIL },
	[SET_GPT4O] = {
		RX_CASED(RX_CONTR "?") "|\\p{N}{1,3}"
		"| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*" RX_TAIL },
	[SET_JAIS2] = {
		RX_CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
		"| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+"
		"|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}(?!\\S)"
		"|\\s{64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)"
		"|\\s{4}(?!\\S)|\\s{1,2}(?!\\S)|\\s{1}" },
	[SET_SEED_CODER] = {
		RX_CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}"
		"| ?[^\\s\\p{L}\\p{N}\\r\\n]+" RX_TAIL },
	[SET_UFAKZEKA] = {
		"[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
		"| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*" RX_TAIL },
	[SET_LAGUNA] = { "[^\\n]+|[\\n]+", RX_QWEN2 },
	[SET_EXAONE_MOE] = {
		RX_CONTR "|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*"
		"(?: \\p{L}\\p{M}*)*)+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?"
		"|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+" },
	[SET_MINICPM5] = {
		"\\p{N}{1,3}",
		RX_CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+"
		"| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*" RX_TAIL },
	[SET_TINY_AYA] = {
		"\\d{1,3}(?=(?:\\d{3})*\\b)",
		"[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*"
		"[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+" RX_CONTR "?"
		"|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
		"[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*" RX_CONTR "?"
		"|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*" RX_TAIL },
	[SET_YOUTU] = {
		"[\xea\xb0\x80-\xed\x9e\xa3\xe3\x84\xb1-\xe3\x86\x8e]+"
		"|[\xef\xbc\x81\xe2\x80\xa6\xe2\x80\x9c\xe2\x80\x9d"
		"\xe2\x80\x98\xe2\x80\x99\xe2\x80\x94\xef\xbc\x9a\xef\xbc\x9b"
		"\xef\xbc\x8c\xe3\x80\x81-\xe3\x80\xbf"
		"\xef\xb8\xb0-\xef\xb9\x8f]+"
		"|[\xe3\x84\x85-\xe3\x84\xaf]+|" RX_CJK_KANA,
		"[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*"
		"[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+" RX_CONTR "?"
		"|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
		"[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*" RX_CONTR "?"
		"|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*" RX_TAIL },
	[SET_BAILINGMOE] = {
		"'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])"
		"|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
		"| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)"
		"|\\s+" },
	[SET_CHAMELEON] = {
		"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
		"([\\t\\n]|    |  )", "\\p{N}", "[\\p{P}!-/:-@\\[-`{-~]",
		RX_GPT2 },
	[SET_SPARK2_5] = {
		"\\p{N}{1,3}", RX_CJK_KANA,
		RX_ASCII_PUNCT "[A-Za-z]+|" RX_NOT_LPS "?[\\p{L}\\p{M}]+"
		"| ?" RX_PS "+|[\r\n]|\\s+(?!\\S)|\\s+",
		"\\p{N}" },
	[SET_GRANITE_EMB_MULTI] = {
		"[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))*"
		"((?=[\\p{L}\\p{M}])([^A-Z]))+" RX_CONTR "?"
		"|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))+"
		"((?=[\\p{L}\\p{M}])([^A-Z]))*" RX_CONTR "?"
		"|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*" RX_TAIL },
	[SET_SUPERBPE] = { "\\p{N}+", "(?=(\\d{3})+(?!\\d))" },
};

/* tokenizer.ggml.pre values and what they select (llama.cpp's table). */
struct pre_name {
	const char	*name;
	int		 set;
	int		 clean_spaces;
	int		 ignore_merges;
	int		 add_bos;
};

static const struct pre_name names[] = {
	{ "default", SET_DEFAULT, 1, 0, 0 },
	{ "llama3", SET_LLAMA3, 1, 1, 1 },
	{ "llama-v3", SET_LLAMA3, 1, 1, 1 },
	{ "llama-bpe", SET_LLAMA3, 1, 1, 1 },
	{ "falcon3", SET_LLAMA3, 1, 1, 1 },
	{ "falcon-h1", SET_LLAMA3, 1, 1, 1 },
	{ "pixtral", SET_LLAMA3, 1, 1, 1 },
	{ "midm-2.0", SET_LLAMA3, 1, 1, 1 },
	{ "lfm2", SET_LLAMA3, 1, 1, 1 },
	{ "jina-v5-nano", SET_LLAMA3, 1, 1, 1 },
	{ "deepseek-llm", SET_DEEPSEEK_LLM, 0, 0, 0 },
	{ "deepseek-coder", SET_DEEPSEEK_CODER, 0, 0, 0 },
	{ "deepseek-v3", SET_DEEPSEEK3, 0, 0, 0 },
	{ "spark2_5", SET_SPARK2_5, 0, 0, 0 },
	{ "youtu", SET_YOUTU, 0, 1, 0 },
	{ "falcon", SET_FALCON, 1, 0, 0 },
	{ "mpt", SET_GPT2, 1, 0, 0 },
	{ "starcoder", SET_STARCODER, 1, 0, 0 },
	{ "gpt-2", SET_GPT2, 1, 0, 0 },
	{ "phi-2", SET_GPT2, 1, 0, 0 },
	{ "jina-es", SET_GPT2, 1, 0, 0 },
	{ "jina-de", SET_GPT2, 1, 0, 0 },
	{ "gigachat", SET_GPT2, 1, 0, 0 },
	{ "jina-v2-es", SET_GPT2, 1, 0, 0 },
	{ "jina-v2-de", SET_GPT2, 1, 0, 0 },
	{ "a.x-4.0", SET_GPT2, 1, 0, 0 },
	{ "mellum", SET_GPT2, 1, 0, 0 },
	{ "modern-bert", SET_GPT2, 1, 0, 0 },
	{ "jais-2", SET_JAIS2, 1, 0, 0 },
	{ "jina-v1-en", SET_GPT2, 1, 0, 0 },
	{ "jina-v2-code", SET_GPT2, 1, 0, 0 },
	{ "roberta-bpe", SET_GPT2, 1, 0, 0 },
	{ "refact", SET_STARCODER, 1, 0, 0 },
	{ "command-r", SET_STARCODER, 0, 0, 0 },
	{ "qwen2", SET_QWEN2, 0, 0, 0 },
	{ "deepseek-r1-qwen", SET_QWEN2, 0, 0, 0 },
	{ "kormo", SET_QWEN2, 0, 0, 0 },
	{ "f2llmv2", SET_QWEN2, 0, 0, 0 },
	{ "qwen35", SET_QWEN35, 0, 0, 0 },
	{ "stablelm2", SET_QWEN2, 1, 0, 0 },
	{ "olmo", SET_GPT2, 1, 0, 0 },
	{ "dbrx", SET_LLAMA3, 1, 0, 0 },
	{ "smaug-bpe", SET_LLAMA3, 1, 0, 0 },
	{ "poro-chat", SET_PORO, 0, 0, 0 },
	{ "glm4", SET_LLAMA3, 1, 0, 0 },
	{ "chatglm-bpe", SET_LLAMA3, 1, 0, 0 },
	{ "viking", SET_VIKING, 0, 0, 0 },
	{ "jais", SET_GPT2, 1, 0, 0 },
	{ "tekken", SET_TEKKEN, 0, 1, 1 },
	{ "smollm", SET_STARCODER, 0, 0, 0 },
	{ "codeshell", SET_STARCODER, 1, 0, 0 },
	{ "bloom", SET_PORO, 1, 0, 0 },
	{ "gpt3-finnish", SET_PORO, 1, 0, 0 },
	{ "exaone", SET_STARCODER, 1, 0, 0 },
	{ "exaone4", SET_GPT2, 1, 0, 0 },
	{ "exaone-moe", SET_EXAONE_MOE, 1, 0, 0 },
	{ "chameleon", SET_CHAMELEON, 0, 0, 1 },
	{ "minerva-7b", SET_STARCODER, 1, 0, 0 },
	{ "megrez", SET_QWEN2, 1, 0, 0 },
	{ "gpt-4o", SET_GPT4O, 0, 0, 0 },
	{ "llama4", SET_GPT4O, 0, 0, 0 },
	{ "kanana2", SET_GPT4O, 0, 0, 0 },
	{ "talkie", SET_GPT4O, 0, 0, 0 },
	{ "granite-embed-multi-97m", SET_GRANITE_EMB_MULTI, 0, 1, 0 },
	{ "tiny_aya", SET_TINY_AYA, 0, 0, 0 },
	{ "cohere2moe", SET_TINY_AYA, 0, 0, 0 },
	{ "superbpe", SET_SUPERBPE, 0, 0, 0 },
	{ "trillion", SET_GPT2, 0, 0, 0 },
	{ "granite-docling", SET_GPT2, 0, 0, 0 },
	{ "bailingmoe", SET_BAILINGMOE, 0, 0, 0 },
	{ "bailingmoe2", SET_BAILINGMOE, 0, 0, 0 },
	{ "llada-moe", SET_BAILINGMOE, 0, 0, 0 },
	{ "seed-coder", SET_SEED_CODER, 0, 0, 0 },
	{ "hunyuan", SET_QWEN2, 0, 0, 0 },
	{ "hunyuan-dense", SET_DEEPSEEK3, 0, 0, 0 },
	{ "hy_v4", SET_DEEPSEEK3, 0, 0, 0 },
	{ "joyai-llm", SET_DEEPSEEK3, 0, 0, 0 },
	{ "ufakzeka", SET_UFAKZEKA, 0, 0, 0 },
	{ "grok-2", SET_QWEN2, 0, 0, 0 },
	{ "laguna", SET_LAGUNA, 0, 0, 0 },
	{ "minimax-m2", SET_GPT4O, 0, 0, 0 },
	{ "solar-open", SET_QWEN2, 0, 0, 0 },
	{ "mellum2", SET_STARCODER, 1, 0, 0 },
	{ "minicpm5", SET_MINICPM5, 1, 1, 0 },
};

struct tok_pre {
	int			 n_rx;
	pcre2_code		*code[MAX_RX];
	/* bytes a match can start with (NULL: any), and the shortest
	 * match: pieces that cannot match skip the regex engine */
	const uint8_t		*first[MAX_RX];
	int			 uses_p[MAX_RX];	/* \p{..} in it */
	uint32_t		 minlen[MAX_RX];
	pcre2_match_data	*md;
	pcre2_match_context	*mctx;
	pcre2_jit_stack		*jit;
};

static const struct pre_name *
pre_lookup(const char *pre)
{
	size_t i;

	if (pre == NULL || *pre == '\0')
		pre = "default";
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(names[i].name, pre) == 0)
			return &names[i];
	return NULL;
}

int
tokenizer_pre_flags(const char *pre, struct tok_pre_flags *f,
    const char **canon)
{
	const struct pre_name *p = pre_lookup(pre);

	if (p == NULL)
		return ERR_UNSUPPORTED;
	f->clean_spaces = p->clean_spaces;
	f->ignore_merges = p->ignore_merges;
	f->add_bos = p->add_bos;
	*canon = p->name;
	return 0;
}

#define WS_CHARS "\\t\\n\\x0b\\f\\r "

/*
 * Rewrite \s and \S into llama.cpp's whitespace (ASCII; the subject has
 * every other whitespace code point replaced by U+000B), and \p{Lu},
 * \p{Ll}, \p{Lt}, \p{Lm}, \p{Lo} into \p{L}: llama.cpp's regex path
 * knows letters only as one class. Returns a malloc'd string or NULL.
 */
static char *
rx_rewrite(const char *src)
{
	size_t n = strlen(src), i, o = 0;
	int inside = 0;
	char *dst;

	dst = malloc(n * 12 + 1);
	if (dst == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (src[i] == '\\' && i + 1 < n) {
			if (src[i + 1] == 's' || src[i + 1] == 'S') {
				const char *cls = WS_CHARS;

				if (inside) {
					/* only \s occurs inside a class */
					memcpy(dst + o, cls, strlen(cls));
					o += strlen(cls);
				} else {
					dst[o++] = '[';
					if (src[i + 1] == 'S')
						dst[o++] = '^';
					memcpy(dst + o, cls, strlen(cls));
					o += strlen(cls);
					dst[o++] = ']';
				}
				i++;
				continue;
			}
			if (i + 5 < n && strncmp(src + i + 1, "p{L", 3) == 0 &&
			    strchr("ultmo", src[i + 4]) != NULL &&
			    src[i + 5] == '}') {
				memcpy(dst + o, "\\p{L}", 5);
				o += 5;
				i += 5;
				continue;
			}
			dst[o++] = src[i++];
			dst[o++] = src[i];
			continue;
		}
		if (src[i] == '[' && !inside)
			inside = 1;
		else if (src[i] == ']' && inside)
			inside = 0;
		dst[o++] = src[i];
	}
	dst[o] = '\0';
	return dst;
}

void
tokenizer_pre_free(struct tok_pre *p)
{
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n_rx; i++)
		pcre2_code_free(p->code[i]);
	pcre2_match_data_free(p->md);
	pcre2_match_context_free(p->mctx);
	if (p->jit != NULL)
		pcre2_jit_stack_free(p->jit);
	free(p);
}

int
tokenizer_pre_new(struct tok_pre **out, const char *pre, struct err *e)
{
	const struct pre_name *pn = pre_lookup(pre);
	struct tok_pre *p;
	int i;

	*out = NULL;
	if (pn == NULL)
		return err_set(e, ERR_UNSUPPORTED,
		    "tokenizer.ggml.pre: unknown pre-tokenizer type '%s'",
		    pre);
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (i = 0; i < MAX_RX && sets[pn->set][i] != NULL; i++) {
		PCRE2_SIZE eoff;
		int ecode;
		char *rx = rx_rewrite(sets[pn->set][i]);

		p->uses_p[i] = strstr(sets[pn->set][i], "\\p{") != NULL;
		if (rx == NULL) {
			tokenizer_pre_free(p);
			return err_set(e, ERR_NOMEM, "out of memory");
		}
		p->code[i] = pcre2_compile((PCRE2_SPTR)rx,
		    PCRE2_ZERO_TERMINATED,
		    PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY |
		    PCRE2_NO_UTF_CHECK, &ecode, &eoff, NULL);
		free(rx);
		if (p->code[i] == NULL) {
			PCRE2_UCHAR msg[256];

			pcre2_get_error_message(ecode, msg, sizeof msg);
			tokenizer_pre_free(p);
			return err_set(e, ERR_FORMAT,
			    "pre-tokenizer '%s': regex %d: %s at %zu",
			    pn->name, i, (const char *)msg, (size_t)eoff);
		}
		p->n_rx = i + 1;
		/* no JIT (e.g. SELinux) only costs speed */
		(void)pcre2_jit_compile(p->code[i], PCRE2_JIT_COMPLETE);
		if (pcre2_pattern_info(p->code[i], PCRE2_INFO_FIRSTBITMAP,
		    &p->first[i]) != 0)
			p->first[i] = NULL;
		if (pcre2_pattern_info(p->code[i], PCRE2_INFO_MINLENGTH,
		    &p->minlen[i]) != 0)
			p->minlen[i] = 0;
	}
	p->md = pcre2_match_data_create(4, NULL);
	p->mctx = pcre2_match_context_create(NULL);
	p->jit = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, NULL);
	if (p->md == NULL || p->mctx == NULL) {
		tokenizer_pre_free(p);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	if (p->jit != NULL)
		pcre2_jit_stack_assign(p->mctx, NULL, p->jit);
	*out = p;
	return 0;
}

static int
cut_push(struct tok_scratch *sc, int w, size_t *m, uint32_t a, uint32_t b)
{
	if (util_grow(&sc->cut[w], &sc->cut_cap[w], 2 * (*m + 1),
	    sizeof(uint32_t)) != 0)
		return ERR_NOMEM;
	sc->cut[w][2 * *m] = a;
	sc->cut[w][2 * *m + 1] = b;
	(*m)++;
	return 0;
}

/* Length of the UTF-8 character starting at s[0] (s valid UTF-8). */
static size_t
u8len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c < 0xe0)
		return 2;
	if (c < 0xf0)
		return 3;
	return 4;
}

/* Whether regex r cannot match anywhere in s[0..n). */
static int
cannot_match(const struct tok_pre *p, int r, const char *s, size_t n)
{
	const uint8_t *f = p->first[r];
	size_t i;

	if (n < p->minlen[r])
		return 1;
	if (f == NULL || p->minlen[r] == 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (f[c >> 3] & (1u << (c & 7)))
			return 0;
	}
	return 1;
}

/* Split one piece [a, b) of subj with regex r into sc->cut[w]. */
static int
split_piece(struct tok_pre *p, int r, struct tok_scratch *sc, int w,
    size_t *m, const char *subj, uint32_t a, uint32_t b, struct err *e)
{
	pcre2_code *code = p->code[r];
	PCRE2_SIZE *ov, len = b - a, pos = 0, last = 0;
	uint32_t opts = 0;
	int rc;

	if (cannot_match(p, r, subj + a, len))
		return cut_push(sc, w, m, a, b) != 0 ?
		    err_set(e, ERR_NOMEM, "out of memory") : 0;

	while (pos <= len) {
		rc = pcre2_match(code, (PCRE2_SPTR)(subj + a), len, pos,
		    opts | PCRE2_NO_UTF_CHECK, p->md, p->mctx);
		if (rc == PCRE2_ERROR_NOMATCH) {
			if (opts == 0 || pos >= len)
				break;
			/* after an empty match: go on one character later */
			pos += u8len((unsigned char)subj[a + pos]);
			opts = 0;
			continue;
		}
		if (rc < 0) {
			PCRE2_UCHAR msg[256];

			pcre2_get_error_message(rc, msg, sizeof msg);
			return err_set(e, ERR_RANGE,
			    "pre-tokenizer: regex failed on a %zu-byte piece: "
			    "%s", (size_t)len, (const char *)msg);
		}
		ov = pcre2_get_ovector_pointer(p->md);
		if (ov[0] > last && cut_push(sc, w, m, a + (uint32_t)last,
		    a + (uint32_t)ov[0]) != 0)
			return err_set(e, ERR_NOMEM, "out of memory");
		if (ov[1] > ov[0] && cut_push(sc, w, m, a + (uint32_t)ov[0],
		    a + (uint32_t)ov[1]) != 0)
			return err_set(e, ERR_NOMEM, "out of memory");
		if (ov[1] > last)
			last = ov[1];
		if (ov[1] == ov[0]) {
			opts = PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED;
			pos = ov[1];
		} else {
			opts = 0;
			pos = ov[1];
		}
	}
	if (last < len && cut_push(sc, w, m, a + (uint32_t)last, b) != 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	return 0;
}

int
tokenizer_pre_split(struct tok_pre *p, struct tok_scratch *sc,
    const char *subj, const char *subj_p, size_t len, int *which,
    size_t *n, struct err *e)
{
	size_t cur_n = 0, m, j;
	int cur = 0, r, rc;

	if (len >= UINT32_MAX)
		return err_set(e, ERR_RANGE, "text too long (%zu bytes)", len);
	if (len > 0 && cut_push(sc, cur, &cur_n, 0, (uint32_t)len) != 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (r = 0; r < p->n_rx; r++) {
		int w = 1 - cur;

		m = 0;
		for (j = 0; j < cur_n; j++) {
			rc = split_piece(p, r, sc, w, &m,
			    p->uses_p[r] ? subj_p : subj,
			    sc->cut[cur][2 * j], sc->cut[cur][2 * j + 1], e);
			if (rc != 0)
				return rc;
		}
		cur = w;
		cur_n = m;
	}
	*which = cur;
	*n = cur_n;
	return 0;
}
