/*
 * engine-vocab.h - build the tokenizer of a model from its GGUF metadata
 * (the glue between the formats and tokenizer rooms).
 */
#ifndef MOESCOPE_ENGINE_VOCAB_H
#define MOESCOPE_ENGINE_VOCAB_H

#include "formats/formats.h"
#include "tokenizer/tokenizer.h"

/*
 * Read the tokenizer.* keys of g (tokenizer.ggml.model, .pre, .tokens,
 * .scores, .token_type, .merges, the special ids and add_* flags, and
 * general.name) and build the vocabulary. On error *out is NULL and e
 * names the file and the field.
 */
int engine_vocab_load(struct tok **out, const struct gguf *g,
    struct err *e);

#endif
