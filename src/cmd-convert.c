/*
 * cmd-convert.c - `moescope convert HF_DIR -o OUT.gguf [--type T]`: a
 * Hugging Face checkpoint folder to GGUF through the convert room, with
 * a one-line progress report on a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "convert/convert.h"
#include "util/util.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: moescope convert HF_DIR -o OUT.gguf [--type T]\n"
	    "\n"
	    "Convert a Hugging Face checkpoint folder (config.json,\n"
	    "safetensors shards, tokenizer.json or tokenizer.model) to GGUF,\n"
	    "as llama.cpp's converter and llama-quantize would.\n"
	    "Architectures: Mixtral, Qwen2-MoE, Qwen3-MoE, OLMoE,\n"
	    "DeepSeek-V2, gpt-oss.\n"
	    "\n"
	    "  -o, --output FILE  the GGUF to write (temporary file, then\n"
	    "                     renamed)\n"
	    "  --type T           f32 (default), f16, bf16, q8_0, q4_0,\n"
	    "                     q4_k_m, q5_k_m, q6_k\n"
	    "  --name NAME        general.name (default: from the folder)\n"
	    "  --pre NAME         tokenizer.ggml.pre when the pre-tokenizer\n"
	    "                     is not recognised (llama-bpe, qwen2, ...)\n"
	    "  --threads N        worker threads (default: one per CPU)\n"
	    "  -q, --quiet        no progress\n"
	    "  -h, --help         this help\n");
}

int
cmd_convert_main(int argc, char **argv)
{
	struct convert_opts o;
	struct err e;
	int i, quiet = 0, t;

	if (cmd_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	convert_opts_init(&o);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) &&
		    i + 1 < argc)
			o.out = argv[++i];
		else if (strcmp(a, "--type") == 0 && i + 1 < argc) {
			if ((t = convert_type_parse(argv[++i])) < 0) {
				fprintf(stderr, "moescope convert: unknown "
				    "--type '%s'\n", argv[i]);
				return 2;
			}
			o.type = t;
		} else if (strcmp(a, "--name") == 0 && i + 1 < argc)
			o.name = argv[++i];
		else if (strcmp(a, "--pre") == 0 && i + 1 < argc)
			o.pre = argv[++i];
		else if (strcmp(a, "--threads") == 0 && i + 1 < argc) {
			long n;

			if (util_parse_long(argv[++i], 1, 64, &n) != 0) {
				fprintf(stderr, "moescope convert: bad "
				    "--threads '%s'\n", argv[i]);
				return 2;
			}
			o.threads = (int)n;
		}
		else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
			quiet = 1;
		else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "moescope convert: bad option '%s'\n",
			    a);
			usage(stderr);
			return 2;
		} else if (o.hf_dir == NULL)
			o.hf_dir = a;
		else {
			fprintf(stderr, "moescope convert: extra argument "
			    "'%s'\n", a);
			return 2;
		}
	}
	if (o.hf_dir == NULL || o.out == NULL) {
		usage(stderr);
		return 2;
	}
	if (!quiet && isatty(2))
		o.progress = cmd_convert_progress;
	err_clear(&e);
	if (convert_run(&o, &e) != 0)
		return cmd_fail(&e);
	return 0;
}
