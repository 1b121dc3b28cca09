/*
 * engine-chat.h - a model's text interface: its tokenizer and chat
 * template, loaded once from the GGUF, turning text or a conversation
 * into the token ids the model is fed (the glue between the formats and
 * tokenizer rooms that chat, batch mode, run and route share).
 */
#ifndef MOESCOPE_ENGINE_CHAT_H
#define MOESCOPE_ENGINE_CHAT_H

#include "formats/formats.h"
#include "tokenizer/tokenizer.h"

struct eng_chat {
	struct tok			*tok;
	struct tokenizer_template	*tmpl;
	char				*tmpl_src;	/* the template text */
	const char			*tmpl_name;	/* "model", "chatml",
							 * or a file name */
	char				*bos, *eos;	/* their strings */
};

/*
 * Load the tokenizer of g and its chat template: override (a file path
 * or a built-in name, may be NULL), else the GGUF's
 * tokenizer.chat_template, else the built-in ChatML. Errors name the
 * file and field, or the template construct and line.
 */
int eng_chat_load(struct eng_chat *c, const struct gguf *g,
    const char *override, struct err *e);
void eng_chat_fini(struct eng_chat *c);

/*
 * Render msgs with the template (add_gen: end with the assistant's turn
 * opener) and tokenize the text as chat markup (special tokens parsed,
 * BOS added when the vocabulary asks and the template did not). Ids are
 * appended to out. *text (may be NULL) receives the rendering, malloc'd.
 */
int eng_chat_encode(struct eng_chat *c, const struct tokenizer_chat_msg *msgs,
    size_t n, int add_gen, struct tok_ids *out, char **text, struct err *e);

/*
 * Like eng_chat_encode, but the messages' contents are data: text in a
 * content that spells a special token ("<|im_start|>") is tokenized as
 * text, never as the token; only the template's own markup becomes
 * special tokens. Without such text the result is eng_chat_encode's.
 * (engine-chatsafe.c)
 */
int eng_chat_encode_safe(struct eng_chat *c,
    const struct tokenizer_chat_msg *msgs, size_t n, int add_gen,
    struct tok_ids *out, char **text, struct err *e);

/*
 * Tokenize plain text as a raw completion prompt: BOS as the vocabulary
 * says, special-token text left as text unless parse_special.
 */
int eng_chat_encode_text(struct eng_chat *c, const char *text, size_t len,
    int parse_special, struct tok_ids *out, struct err *e);

#endif
