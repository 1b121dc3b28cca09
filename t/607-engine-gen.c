/*
 * 607-engine-gen.c - the shared generation loop (eng_gen_run) without a
 * tokenizer, on the qwen3moe fixture: the token limit ends a generation
 * as "length", a full context as its own reason (still named "length"),
 * an EOS id ends it before the callback sees that token unless the
 * sampler ignores EOS, and the cache then holds the prompt and all
 * sampled tokens but the last.
 */
#include <string.h>

#include "tap.h"
#include "engine/engine.h"
#include "engine/engine-gen.h"

struct seen {
	int	 n;
	int32_t	 last;
};

static int
count(void *arg, int32_t tok, const char *text, size_t len)
{
	struct seen *s = arg;

	(void)len;
	if (tok >= 0 && text == NULL) {
		s->n++;
		s->last = tok;
	}
	return 0;
}

static int
gen(struct eng_model *m, int n_ctx, int max_tokens, int has_eos,
    int32_t eos, int ignore_eos, struct eng_gen_result *r,
    struct seen *sn, int *pos)
{
	static const int32_t prompt[4] = { 1, 2, 3, 4 };
	struct eng_params ep = { 0 };
	struct eng_sampler_params sp;
	struct eng_gen_params gp = { 0 };
	struct eng_sampler *s = NULL;
	struct eng_ctx *c = NULL;
	struct err e = { 0 };
	int rc;

	ep.n_ctx = n_ctx;
	ep.n_threads = 2;
	eng_sampler_defaults(&sp);
	sp.temp = 0;
	sp.ignore_eos = ignore_eos;
	memset(sn, 0, sizeof *sn);
	if (eng_ctx_new(&c, m, &ep, &e) != 0 ||
	    eng_sampler_new(&s, eng_model_hparams(m)->n_vocab, &sp, &e) != 0) {
		diag("%s", e.msg);
		eng_ctx_free(c);
		return -1;
	}
	gp.max_tokens = max_tokens;
	gp.on_token = count;
	gp.arg = sn;
	gp.has_eos = has_eos;
	gp.eos = eos;
	rc = eng_gen_run(c, s, NULL, prompt, 4, 0, &gp, r, &e);
	*pos = eng_ctx_pos(c);
	eng_sampler_free(s);
	eng_ctx_free(c);
	return rc;
}

int
main(void)
{
	const char *fx = tap_fixtures();
	struct eng_model *m = NULL;
	struct eng_gen_result r;
	struct seen sn;
	struct err e = { 0 };
	int32_t first;
	int pos = 0, rc;

	if (fx == NULL || eng_model_open(&m, tap_path("%s/models/qwen3moe/"
	    "qwen3moe-f32.gguf", fx), &e) != 0) {
		printf("1..0 # SKIP no fixtures (%s)\n", e.msg);
		return 0;
	}

	rc = gen(m, 64, 3, 0, 0, 0, &r, &sn, &pos);
	ok(rc == 0 &&
	    r.finish == ENG_GEN_LENGTH && r.n_gen == 3 && sn.n == 3 &&
	    pos == 4 + 2, "token limit: 3 sampled, the last not evaluated");
	is_str(eng_gen_finish_name(r.finish), "length", "named length");
	first = r.n_gen > 0 ? r.ids[0] : -1;
	eng_gen_result_fini(&r);

	rc = gen(m, 10, 100, 0, 0, 0, &r, &sn, &pos);
	ok(rc == 0 &&
	    r.finish == ENG_GEN_CONTEXT && pos == 10 && r.n_gen == 10 - 4 + 1,
	    "full context: its own reason, every position used (%d "
	    "sampled, position %d)", r.n_gen, pos);
	is_str(eng_gen_finish_name(r.finish), "length",
	    "a full context is still named length");
	eng_gen_result_fini(&r);

	rc = gen(m, 64, 10, 1, first, 0, &r, &sn, &pos);
	ok(rc == 0 &&
	    r.finish == ENG_GEN_STOP && r.n_gen == 1 && sn.n == 0 &&
	    pos == 4, "EOS id without a tokenizer: stops at once, the "
	    "callback never sees it");
	eng_gen_result_fini(&r);

	rc = gen(m, 64, 3, 1, first, 1, &r, &sn, &pos);
	ok(rc == 0 &&
	    r.finish == ENG_GEN_LENGTH && r.n_gen == 3 && sn.n == 3 &&
	    sn.last == r.ids[2], "ignore-eos runs past the EOS id");
	eng_gen_result_fini(&r);

	eng_model_free(m);
	return tap_done();
}
