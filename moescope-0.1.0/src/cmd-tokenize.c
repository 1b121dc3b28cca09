/*
 * cmd-tokenize.c - `moescope tokenize MODEL TEXT|-f FILE`: print the token
 * ids of a text, one per line, or as a JSON array with --json;
 * --show-pieces adds each token's vocabulary string. The text is taken
 * verbatim (no trailing newline added or removed); -f - reads stdin.
 * By default no BOS/EOS is added and special-token text is plain text;
 * --add-special and --parse-special turn those on.
 */
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "engine/engine-vocab.h"
#include "formats/formats.h"
#include "tokenizer/tokenizer.h"

/* CPU time of this process: a fair clock on a busy machine. */
static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: moescope tokenize MODEL TEXT|-f FILE [--json] "
	    "[--show-pieces]\n"
	    "                         [--add-special] [--parse-special] "
	    "[--stats]\n"
	    "\n"
	    "Print the token ids of TEXT (or of FILE; - is stdin), one per\n"
	    "line. MODEL is a GGUF file.\n"
	    "  --json           one JSON array instead\n"
	    "  --show-pieces    each id with its vocabulary string\n"
	    "  --add-special    add BOS/EOS as the model does\n"
	    "  --parse-special  treat special-token text as tokens\n"
	    "  --stats          print sizes and encoding speed to stderr\n");
}

static int
read_stream(FILE *fp, char **out, size_t *len)
{
	size_t cap = 65536, n = 0, k;
	char *buf = malloc(cap), *q;

	if (buf == NULL)
		return -1;
	while ((k = fread(buf + n, 1, cap - n, fp)) > 0) {
		n += k;
		if (n == cap) {
			q = realloc(buf, cap * 2);
			if (q == NULL) {
				free(buf);
				return -1;
			}
			buf = q;
			cap *= 2;
		}
	}
	if (ferror(fp)) {
		free(buf);
		return -1;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Write s as the inside of a JSON string. */
static void
json_str(FILE *fp, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", fp);
		else if (c == '\t')
			fputs("\\t", fp);
		else if (c == '\r')
			fputs("\\r", fp);
		else if (c < 0x20)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
}

int
cmd_tokenize_main(int argc, char **argv)
{
	const char *model = NULL, *text = NULL, *file = NULL;
	int json = 0, pieces = 0, stats = 0, i, rc = 1;
	double t0 = 0, t1 = 0, t2 = 0, c1 = 0, c2 = 0;
	unsigned flags = 0;
	struct tok_ids ids = { NULL, 0, 0 };
	struct gguf *g = NULL;
	struct tok *t = NULL;
	char *buf = NULL;
	size_t len = 0, k;
	struct err e;

	err_clear(&e);
	if (cmd_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--show-pieces") == 0)
			pieces = 1;
		else if (strcmp(argv[i], "--add-special") == 0)
			flags |= TOK_ENC_ADD_SPECIAL;
		else if (strcmp(argv[i], "--parse-special") == 0)
			flags |= TOK_ENC_PARSE_SPECIAL;
		else if (strcmp(argv[i], "--stats") == 0)
			stats = 1;
		else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (strcmp(argv[i], "--") == 0 && i + 1 < argc &&
		    model != NULL && text == NULL && file == NULL)
			text = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "moescope tokenize: unknown option "
			    "'%s'\n", argv[i]);
			usage(stderr);
			return 2;
		} else if (model == NULL)
			model = argv[i];
		else if (text == NULL && file == NULL)
			text = argv[i];
		else {
			fprintf(stderr, "moescope tokenize: unexpected "
			    "argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (model == NULL || (text == NULL) == (file == NULL)) {
		usage(stderr);
		return 2;
	}
	if (file != NULL) {
		if (strcmp(file, "-") == 0) {
			if (read_stream(stdin, &buf, &len) != 0) {
				fprintf(stderr, "moescope tokenize: cannot "
				    "read stdin\n");
				return 1;
			}
		} else if (util_read_file(file, &buf, &len, &e) != 0) {
			fprintf(stderr, "moescope tokenize: %s\n", e.msg);
			return 1;
		}
		text = buf;
	} else {
		len = strlen(text);
	}
	t0 = util_now_s();
	if (gguf_open(&g, model, &e) != 0 ||
	    engine_vocab_load(&t, g, &e) != 0) {
		fprintf(stderr, "moescope tokenize: %s\n", e.msg);
		goto done;
	}
	t1 = util_now_s();
	c1 = cpu_s();
	if (tokenizer_vocab_encode(t, text, len, flags, &ids, &e) != 0) {
		fprintf(stderr, "moescope tokenize: %s\n", e.msg);
		goto done;
	}
	c2 = cpu_s();
	t2 = util_now_s();
	if (stats)
		fprintf(stderr, "tokenize: %zu bytes -> %zu tokens in %.3f s "
		    "CPU, %.3f s wall (%.1f MB/s of CPU time, one thread); "
		    "vocabulary loaded in %.3f s\n", len, ids.n, c2 - c1,
		    t2 - t1, c2 > c1 ? len / 1e6 / (c2 - c1) : 0.0, t1 - t0);
	if (json)
		putchar('[');
	for (k = 0; k < ids.n; k++) {
		size_t pl;
		const char *p = tokenizer_vocab_text(t, ids.v[k], &pl);

		if (json && pieces) {
			printf("%s{\"id\":%d,\"piece\":\"", k ? "," : "",
			    (int)ids.v[k]);
			json_str(stdout, p, pl);
			fputs("\"}", stdout);
		} else if (json) {
			printf("%s%d", k ? "," : "", (int)ids.v[k]);
		} else if (pieces) {
			printf("%d\t", (int)ids.v[k]);
			fwrite(p, 1, pl, stdout);
			putchar('\n');
		} else {
			printf("%d\n", (int)ids.v[k]);
		}
	}
	if (json)
		puts("]");
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "moescope tokenize: write error\n");
		goto done;
	}
	rc = 0;
done:
	free(ids.v);
	free(buf);
	tokenizer_vocab_free(t);
	gguf_close(g);
	return rc;
}
