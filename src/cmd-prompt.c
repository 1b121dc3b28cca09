/*
 * cmd-prompt.c - the prompt arguments run and route share: -p TEXT (a raw
 * completion, or with --chat a user message rendered by the model's chat
 * template), -f FILE (the same, read from a file; - is stdin) or --tokens
 * 1,2,3 (ids as they are).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

int
cmd_prompt_parse(struct cmd_prompt *p, int argc, char **argv, int *i)
{
	const char *f = argv[*i];

	if (strcmp(f, "--chat") == 0) {
		p->chat = 1;
		return 1;
	}
	if (strcmp(f, "--system") == 0 || strcmp(f, "-p") == 0 ||
	    strcmp(f, "--prompt") == 0 || strcmp(f, "-f") == 0 ||
	    strcmp(f, "--tokens") == 0 || strcmp(f, "--chat-template") == 0) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "moescope: %s needs a value\n", f);
			return -1;
		}
		(*i)++;
		if (strcmp(f, "--system") == 0)
			p->system = argv[*i];
		else if (strcmp(f, "-f") == 0)
			p->file = argv[*i];
		else if (strcmp(f, "--tokens") == 0)
			p->tokens = argv[*i];
		else if (strcmp(f, "--chat-template") == 0)
			p->tmpl = argv[*i];
		else
			p->text = argv[*i];
		return 1;
	}
	return 0;
}

int
cmd_prompt_given(const struct cmd_prompt *p)
{
	return (p->text != NULL) + (p->file != NULL) + (p->tokens != NULL) == 1;
}

int
cmd_prompt_encode(const struct cmd_prompt *p, struct eng_chat *chat,
    int32_t **ids, int *n, struct err *e)
{
	struct tok_ids out = { 0 };
	struct tokenizer_chat_msg msgs[2];
	char *buf = NULL;
	const char *text = p->text;
	size_t len = text ? strlen(text) : 0;
	int rc, nm = 0;

	*ids = NULL;
	*n = 0;
	if (p->tokens != NULL) {
		if (cmd_parse_tokens(p->tokens, ids, n) != 0)
			return err_set(e, ERR_USAGE, "bad --tokens list");
		return 0;
	}
	if (p->file != NULL) {
		if ((rc = util_read_file(p->file, &buf, &len, e)) != 0)
			return rc;
		text = buf;
	}
	if (p->chat) {
		if (p->system != NULL) {
			msgs[nm].role = "system";
			msgs[nm++].content = p->system;
		}
		msgs[nm].role = "user";
		msgs[nm++].content = text;
		rc = eng_chat_encode_safe(chat, msgs, (size_t)nm, 1, &out, NULL,
		    e);
	} else
		rc = eng_chat_encode_text(chat, text, len, 0, &out, e);
	free(buf);
	if (rc != 0) {
		free(out.v);
		return rc;
	}
	if (out.n == 0) {
		free(out.v);
		return err_set(e, ERR_USAGE, "the prompt is empty (no tokens)");
	}
	*ids = out.v;
	*n = (int)out.n;
	return 0;
}

const char cmd_prompt_help[] =
    "prompt:\n"
    "  -p, --prompt TEXT   the prompt (a raw completion unless --chat)\n"
    "  -f FILE             read the prompt from FILE (- for stdin)\n"
    "  --tokens 1,2,3      the prompt as token ids\n"
    "  --chat              render the prompt as a user message with the\n"
    "                      model's chat template\n"
    "  --system TEXT       a system message (with --chat)\n"
    "  --chat-template FILE|NAME  override the model's template (chatml)\n";
