/*
 * convert-run.c - the conversion driver: open the checkpoint, plan,
 * choose types, write the GGUF header, then stream every tensor.
 *
 * Each output tensor is produced in chunks of rows: a row is gathered
 * from the mmap'd source (converted to float, permuted, stacked, split
 * or de-interleaved as the plan says), quantized with the quant room's
 * reference quantizers, and appended to the writer, which writes to a
 * temporary file renamed into place at the end. The rows of a chunk are
 * shared among --threads workers (quantizing is the slow part: Q4_K's
 * reference search runs at tens of MB/s a core); the output does not
 * depend on their number. Peak memory is one
 * chunk (about 16 MiB) plus the plan, whatever the checkpoint size: the
 * source pages a chunk has consumed are advised away (MADV_DONTNEED)
 * after each chunk, so the mapped shards do not pile up in the resident
 * set either.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include "convert/convert-int.h"
#include "quant/quant.h"

#define CHUNK_BYTES (16u << 20)

static const char *const type_names[CONVERT_TYPE_COUNT] = {
	"f32", "f16", "bf16", "q8_0", "q4_0", "q4_k_m", "q5_k_m", "q6_k"
};

void
convert_opts_init(struct convert_opts *o)
{
	memset(o, 0, sizeof *o);
	o->type = CONVERT_F32;
}

int
convert_type_parse(const char *s)
{
	int i;

	for (i = 0; i < CONVERT_TYPE_COUNT; i++)
		if (strcasecmp(s, type_names[i]) == 0)
			return i;
	return -1;
}

const char *
convert_type_name(int type)
{
	return type >= 0 && type < CONVERT_TYPE_COUNT ? type_names[type] :
	    "?";
}

/* n source elements from element offset off, as float. */
static void
load_f32(const struct st_tensor *s, uint64_t off, uint64_t n, float *dst)
{
	const uint8_t *p = s->data;
	uint64_t i;

	switch (s->dtype) {
	case ST_F32:
		memcpy(dst, p + off * 4, n * 4);
		break;
	case ST_BF16:
		for (i = 0; i < n; i++) {
			uint16_t h;

			memcpy(&h, p + (off + i) * 2, 2);
			dst[i] = util_bf16_to_f32(h);
		}
		break;
	case ST_F16:
		for (i = 0; i < n; i++) {
			uint16_t h;

			memcpy(&h, p + (off + i) * 2, 2);
			dst[i] = util_fp16_to_f32(h);
		}
		break;
	case ST_F64:
		for (i = 0; i < n; i++) {
			double d;

			memcpy(&d, p + (off + i) * 8, 8);
			dst[i] = (float)d;
		}
		break;
	default:
		memset(dst, 0, n * sizeof *dst);
	}
}

/* Row r of an MXFP4 tensor in ggml's layout (nb blocks of 17 bytes). */
static void
row_mxfp4(const struct cv_tensor *t, uint64_t r, uint8_t *dst)
{
	const struct st_tensor *b = t->src[0], *s = t->src[1];
	uint64_t e = r / t->ne[1], o = r % t->ne[1], src_rows = b->shape[1];
	uint64_t nb = t->ne[0] / 32, row, k;
	const uint8_t *q, *sc;
	int j;

	row = t->sel == 0 ? o : 2 * o + (uint64_t)(t->sel - 1);
	q = (const uint8_t *)b->data + (e * src_rows + row) * nb * 16;
	sc = (const uint8_t *)s->data + (e * src_rows + row) * nb;
	for (k = 0; k < nb; k++) {
		uint8_t *d = dst + k * 17;
		const uint8_t *x = q + k * 16;

		d[0] = sc[k];
		/* checkpoint: byte i holds elements 2i (low), 2i+1 (high);
		 * ggml: byte j holds elements j (low), j+16 (high) */
		for (j = 0; j < 16; j++) {
			int lo = j, hi = j + 16;
			uint8_t a = (uint8_t)((x[lo / 2] >> (lo % 2 * 4)) & 15);
			uint8_t c = (uint8_t)((x[hi / 2] >> (hi % 2 * 4)) & 15);

			d[1 + j] = (uint8_t)(a | c << 4);
		}
	}
}

/* Row r of a float-sourced tensor (t->ne[0] floats). */
static void
row_f32(const struct cv_tensor *t, uint64_t r, float *dst)
{
	const struct st_tensor *s = t->src[0];
	uint64_t n = t->ne[0], dim, half, h, rem, per, k;

	switch (t->op) {
	case CV_COPY:
		load_f32(s, r * n, n, dst);
		break;
	case CV_PERMUTE:
		dim = t->ne[1] / (uint64_t)t->n_head;
		half = dim / 2;
		h = r / dim;
		rem = r % dim;
		load_f32(s, (h * dim + (rem % 2) * half + rem / 2) * n, n, dst);
		break;
	case CV_STACK:
		per = t->ne[1];
		load_f32(t->src[r / per], (r % per) * n, n, dst);
		break;
	case CV_KB: {
		uint64_t kvl = t->ne[1], c = r % kvl, stride;

		h = r / kvl;
		stride = (uint64_t)(t->nope + t->vdim);
		for (k = 0; k < n; k++)
			load_f32(s, (h * stride + k) * kvl + c, 1, dst + k);
		break;
	}
	case CV_VB: {
		uint64_t v = t->ne[1], stride = (uint64_t)(t->nope + t->vdim);

		h = r / v;
		load_f32(s, (h * stride + (uint64_t)t->nope + r % v) * n, n,
		    dst);
		break;
	}
	case CV_EVEN:
	case CV_ODD:
		for (k = 0; k < n; k++)
			load_f32(s, r * 2 * n + 2 * k +
			    (t->op == CV_ODD ? 1 : 0), 1, dst + k);
		break;
	default:
		memset(dst, 0, n * sizeof *dst);
	}
}

/* Tell the kernel that len bytes at p are no longer needed (whole
 * pages inside the range only). */
static void
drop_range(const void *p, uint64_t len)
{
	uintptr_t pg = 4096, a = (uintptr_t)p, b = a + (uintptr_t)len;

	a = (a + pg - 1) & ~(pg - 1);
	b &= ~(pg - 1);
	if (b > a)
		(void)madvise((void *)a, b - a, MADV_DONTNEED);
}

/* Drop the source pages that rows [0, r) of t have consumed: whole
 * experts of a stack, a prefix of a copy, whole heads of a permutation;
 * r == all rows drops everything. Keeps the resident set to about one
 * chunk whatever the tensor size. */
static void
drop_pages(const struct cv_tensor *t, uint64_t r, uint64_t rows)
{
	const struct st_tensor *s = t->src[0];
	uint64_t per, dim, esz;
	int i;

	if (r >= rows) {
		for (i = 0; i < t->n_src; i++)
			drop_range(t->src[i]->data, t->src[i]->nbytes);
		return;
	}
	esz = safetensors_dtype_size(s->dtype);
	switch (t->op) {
	case CV_COPY:
		drop_range(s->data, r * t->ne[0] * esz);
		break;
	case CV_PERMUTE:
		dim = t->ne[1] / (uint64_t)t->n_head;
		drop_range(s->data, r / dim * dim * t->ne[0] * esz);
		break;
	case CV_STACK:
		per = t->ne[1];
		for (i = 0; (uint64_t)i < r / per; i++)
			drop_range(t->src[i]->data, t->src[i]->nbytes);
		break;
	default:
		break;
	}
}

/* One worker's share of a chunk: rows [r0, r1) into out. */
struct job {
	const struct cv_tensor	*t;
	uint64_t		 r0, r1;
	uint8_t			*out;
	size_t			 rb;
	float			*row;		/* ne[0] floats */
	uint8_t			*raw;		/* one MXFP4 row */
	int			 rc;
	pthread_t		 th;
	int			 th_ok;		/* th to be joined */
};

static void *
run_job(void *arg)
{
	struct job *j = arg;
	const struct cv_tensor *t = j->t;
	int64_t n = (int64_t)t->ne[0];
	uint8_t *o = j->out;
	uint64_t r;

	for (r = j->r0; r < j->r1; r++, o += j->rb) {
		if (t->src_type == GGML_TYPE_MXFP4) {
			if (t->type == GGML_TYPE_MXFP4) {
				row_mxfp4(t, r, o);
				continue;
			}
			row_mxfp4(t, r, j->raw);
			quant_dequant_row(GGML_TYPE_MXFP4, j->raw, j->row, n);
		} else
			row_f32(t, r, j->row);
		if (t->type == GGML_TYPE_F32)
			memcpy(o, j->row, j->rb);
		else if (quant_quantize_row(t->type, j->row, o, n) != 0) {
			j->rc = ERR_UNSUPPORTED;
			break;
		}
	}
	return NULL;
}

/*
 * Produce, convert and append every row of tensor idx, a chunk at a
 * time; the rows of a chunk are split among the jobs (one thread each
 * after the first, which runs on the caller). Rows are independent, so
 * the bytes do not depend on the number of threads.
 */
static int
write_tensor(struct gguf_writer *w, uint64_t idx, const struct cv_tensor *t,
    uint8_t *chunk, struct job *jobs, int n_jobs,
    const struct convert_opts *o, uint64_t done, uint64_t total,
    struct err *e)
{
	uint64_t rows = t->ne[1] * t->ne[2] * t->ne[3], r, n = t->ne[0];
	uint64_t per, k, each;
	size_t rb;
	int rc, i, nj;

	if ((rc = quant_row_bytes(t->type, (int64_t)n, &rb)) != 0)
		return err_set(e, ERR_RANGE, "%s: rows of %llu do not fit "
		    "type %s", t->name, (unsigned long long)n,
		    quant_type_info(t->type)->name);
	if (rb > CHUNK_BYTES)
		return err_set(e, ERR_RANGE, "%s: a row of %zu bytes is too "
		    "long", t->name, rb);
	per = CHUNK_BYTES / rb;
	for (r = 0; r < rows; r += k) {
		k = rows - r < per ? rows - r : per;
		/* at least 16 rows a job: small tensors stay on one */
		nj = (int)(k / 16 < (uint64_t)n_jobs ? k / 16 : (uint64_t)n_jobs);
		if (nj < 1)
			nj = 1;
		each = (k + (uint64_t)nj - 1) / (uint64_t)nj;
		for (i = 0; i < nj; i++) {
			struct job *j = &jobs[i];

			j->t = t;
			j->r0 = r + (uint64_t)i * each;
			j->r1 = j->r0 + each < r + k ? j->r0 + each : r + k;
			if (j->r0 > j->r1)
				j->r0 = j->r1;
			j->out = chunk + (j->r0 - r) * rb;
			j->rb = rb;
			j->rc = 0;
			if (i > 0 && pthread_create(&j->th, NULL, run_job,
			    j) != 0)
				run_job(j);	/* no thread: do it here */
			else if (i > 0)
				j->th_ok = 1;
		}
		run_job(&jobs[0]);
		rc = 0;
		for (i = 0; i < nj; i++) {
			if (i > 0 && jobs[i].th_ok) {
				pthread_join(jobs[i].th, NULL);
				jobs[i].th_ok = 0;
			}
			if (jobs[i].rc != 0)
				rc = jobs[i].rc;
		}
		if (rc != 0)
			return err_set(e, ERR_UNSUPPORTED, "%s: cannot "
			    "quantize to %s", t->name,
			    quant_type_info(t->type)->name);
		if ((rc = gguf_writer_write_data(w, idx, chunk,
		    (size_t)k * rb, e)) != 0)
			return rc;
		drop_pages(t, r + k, rows);
		/* a long tensor reports (and may be cancelled) per chunk */
		if (r + k < rows && o->progress != NULL &&
		    o->progress(o->progress_arg, t->name, done + (uint64_t)(
		    (double)t->in_bytes * (double)(r + k) / (double)rows),
		    total) != 0)
			return err_set(e, ERR_CANCELLED, "conversion "
			    "cancelled");
	}
	return 0;
}

static void
model_free(struct cv_model *m)
{
	size_t i;

	for (i = 0; i < m->n_t; i++)
		free(m->t[i].src);
	free(m->t);
	free(m->exp);
	free(m->exp_count);
	safetensors_close(m->st);
	hf_config_close(m->cfg);
}

int
convert_run(const struct convert_opts *o, struct err *e)
{
	struct cv_model m;
	struct gguf_writer *w = NULL;
	uint8_t *chunk = NULL;
	struct job *jobs = NULL;
	uint64_t max_row = 0, done = 0, total = 0;
	size_t i;
	int rc, n_jobs, k;

	memset(&m, 0, sizeof m);
	m.dir = o->hf_dir;
	m.type = o->type;
	m.pre = o->pre;
	if (o->type < 0 || o->type >= CONVERT_TYPE_COUNT)
		return err_set(e, ERR_USAGE, "bad output type");
	if ((rc = hf_config_open(&m.cfg, o->hf_dir, e)) != 0)
		return rc;
	if ((rc = hf_config_hparams(m.cfg, &m.hp, e)) != 0)
		goto done;
	if ((m.arch = cv_arch_find(m.hp.architecture)) == NULL) {
		rc = err_set(e, ERR_UNSUPPORTED, "%s: architecture '%s' is "
		    "not supported (Mixtral, Qwen2-MoE, Qwen3-MoE, OLMoE, "
		    "DeepSeek-V2, gpt-oss)", hf_config_path(m.cfg),
		    m.hp.architecture[0] ? m.hp.architecture : "(none)");
		goto done;
	}
	m.n_layer = m.hp.n_layers;
	m.n_expert = m.hp.n_experts;
	if (m.n_layer <= 0 || m.n_layer > 100000 || m.n_expert <= 0 ||
	    m.n_expert > 65536 || m.hp.n_heads <= 0 ||
	    m.hp.hidden_size <= 0) {
		rc = err_set(e, ERR_FORMAT, "%s: num_hidden_layers, the "
		    "expert count, num_attention_heads or hidden_size is "
		    "missing or out of range", hf_config_path(m.cfg));
		goto done;
	}
	if ((rc = safetensors_open(&m.st, o->hf_dir, e)) != 0)
		goto done;
	if ((rc = cv_arch_plan(&m, e)) != 0 ||
	    (rc = cv_qtype_assign(&m, e)) != 0)
		goto done;
	if ((rc = gguf_writer_new(&w, e)) != 0 ||
	    (rc = cv_arch_meta(&m, w, e)) != 0 ||
	    (rc = cv_vocab_meta(&m, w, e)) != 0)
		goto done;
	if (o->name != NULL && (rc = gguf_writer_set_str(w, "general.name",
	    o->name, e)) != 0)
		goto done;
	/* llama-quantize re-sets these two, which moves them to the end */
	if (m.type > CONVERT_BF16) {
		gguf_writer_remove(w, "general.quantization_version");
		gguf_writer_remove(w, "general.file_type");
		if ((rc = gguf_writer_set_u32(w,
		    "general.quantization_version", 2, e)) != 0 ||
		    (rc = gguf_writer_set_u32(w, "general.file_type",
		    cv_file_type(&m), e)) != 0)
			goto done;
	}
	for (i = 0; i < m.n_t; i++) {
		struct cv_tensor *t = &m.t[i];

		if ((rc = gguf_writer_add_tensor(w, t->name, t->type,
		    t->n_dims, t->ne, NULL, e)) != 0)
			goto done;
		if (t->ne[0] > max_row)
			max_row = t->ne[0];
		total += t->in_bytes;
	}
	n_jobs = o->threads > 0 ? o->threads : util_ncpu();
	if (n_jobs > 64)
		n_jobs = 64;
	chunk = malloc(CHUNK_BYTES);
	jobs = calloc((size_t)n_jobs, sizeof *jobs);
	if (chunk == NULL || jobs == NULL) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto done;
	}
	for (k = 0; k < n_jobs; k++) {
		jobs[k].row = malloc((max_row + 256) * sizeof *jobs[k].row);
		jobs[k].raw = malloc((max_row / 32 + 8) * 17);
		if (jobs[k].row == NULL || jobs[k].raw == NULL) {
			rc = err_set(e, ERR_NOMEM, "out of memory");
			goto done;
		}
	}
	if ((rc = gguf_writer_begin(w, o->out, e)) != 0)
		goto done;
	if (o->progress != NULL && o->progress(o->progress_arg, "", 0,
	    total) != 0) {
		rc = err_set(e, ERR_CANCELLED, "conversion cancelled");
		goto done;
	}
	for (i = 0; i < m.n_t; i++) {
		if ((rc = write_tensor(w, i, &m.t[i], chunk, jobs, n_jobs, o,
		    done, total, e)) != 0)
			goto done;
		done += m.t[i].in_bytes;
		if (o->progress != NULL && o->progress(o->progress_arg,
		    m.t[i].name, done, total) != 0) {
			rc = err_set(e, ERR_CANCELLED, "conversion "
			    "cancelled");
			goto done;
		}
	}
	rc = gguf_writer_finish(w, e);
done:
	if (rc != 0 && w != NULL)
		gguf_writer_abort(w);
	gguf_writer_free(w);
	if (jobs != NULL)
		for (k = 0; k < n_jobs; k++) {
			free(jobs[k].row);
			free(jobs[k].raw);
		}
	free(jobs);
	free(chunk);
	model_free(&m);
	return rc;
}
