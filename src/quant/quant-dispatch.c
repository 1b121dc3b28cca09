/*
 * quant-dispatch.c - the quant room's public entry points: CPU detection,
 * one kernel table per ISA level, and quant_matmul's cache blocking.
 *
 * Tables are built once (pthread_once): the reference table has every
 * supported type; the AVX2 table is the reference one with the AVX2
 * kernels laid over it; the AVX-512 table is the AVX2 one with AVX-512
 * kernels laid over it (VNNI / BF16 variants only when CPUID says so).
 * A NULL kernel therefore never reaches a caller. quant_set_isa() picks
 * a table (tests), never one above what the CPU can run.
 *
 * quant_matmul: rows are taken in panels of QUANT_PANEL_BYTES of weights
 * (they stay in L2 while every token passes over them); inside a panel,
 * tiles of QUANT_TILE_R rows x QUANT_TILE_T tokens go to the tile kernel,
 * which decodes each weight row once per tile and multiplies the decoded
 * values with the tile's tokens four at a time, sums in registers (see
 * quant-simd.h). With one token the panel loop degenerates into a
 * straight stream over the weights through the fused one-token kernels.
 * Nothing here allocates: the kernels use fixed stack buffers.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "quant/quant-int.h"
#include "util/util.h"

#define QUANT_PANEL_BYTES	(192 * 1024)
/* tokens from which a GEMM kernel runs */
#define QUANT_GEMM_MIN		2

static struct quant_kernels	tables[3];
static enum quant_isa		detected = QUANT_ISA_REF;
static enum quant_isa		current = QUANT_ISA_REF;
static pthread_once_t		once = PTHREAD_ONCE_INIT;

static void
quant_init(void)
{
	int avx2 = 0, avx512 = 0, vnni = 0, bf16 = 0;

#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	avx2 = __builtin_cpu_supports("avx2") &&
	    __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
	avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("avx512dq");
	vnni = avx512 && __builtin_cpu_supports("avx512vnni");
	bf16 = avx512 && __builtin_cpu_supports("avx512bf16");
#endif
	quant_ref_fill(&tables[QUANT_ISA_REF]);
	tables[QUANT_ISA_AVX2] = tables[QUANT_ISA_REF];
	tables[QUANT_ISA_AVX512] = tables[QUANT_ISA_REF];
	if (avx2) {
		quant_avx2_fill(&tables[QUANT_ISA_AVX2]);
		tables[QUANT_ISA_AVX512] = tables[QUANT_ISA_AVX2];
		detected = QUANT_ISA_AVX2;
	}
	if (avx512) {
		quant_avx512_fill(&tables[QUANT_ISA_AVX512], vnni, bf16);
		detected = QUANT_ISA_AVX512;
	}
	current = detected;
}

static const struct quant_kernels *
kern(void)
{
	pthread_once(&once, quant_init);
	return &tables[current];
}

enum quant_isa
quant_isa(void)
{
	pthread_once(&once, quant_init);
	return current;
}

enum quant_isa
quant_set_isa(enum quant_isa isa)
{
	pthread_once(&once, quant_init);
	if ((int)isa < (int)QUANT_ISA_REF)
		isa = QUANT_ISA_REF;
	current = isa > detected ? detected : isa;
	return current;
}

const char *
quant_isa_name(enum quant_isa isa)
{
	switch (isa) {
	case QUANT_ISA_REF:
		return "ref";
	case QUANT_ISA_AVX2:
		return "avx2";
	case QUANT_ISA_AVX512:
		return "avx512";
	}
	return "?";
}

static int
valid_type(int type)
{
	return type >= 0 && type < GGML_TYPE_COUNT;
}

int
quant_supported(int type)
{
	pthread_once(&once, quant_init);
	return valid_type(type) && tables[QUANT_ISA_REF].dot[type] != NULL;
}

int
quant_vec_dot_type(int type)
{
	switch (type) {
	case GGML_TYPE_F32:
	case GGML_TYPE_F16:
	case GGML_TYPE_BF16:
		return type;
	case GGML_TYPE_Q4_0:
	case GGML_TYPE_Q5_0:
	case GGML_TYPE_Q8_0:
	case GGML_TYPE_IQ4_NL:
	case GGML_TYPE_MXFP4:
		return GGML_TYPE_Q8_0;
	case GGML_TYPE_Q4_1:
	case GGML_TYPE_Q5_1:
		return GGML_TYPE_Q8_1;
	case GGML_TYPE_Q2_K:
	case GGML_TYPE_Q3_K:
	case GGML_TYPE_Q4_K:
	case GGML_TYPE_Q5_K:
	case GGML_TYPE_Q6_K:
	case GGML_TYPE_IQ4_XS:
		return GGML_TYPE_Q8_K;
	default:
		return -1;
	}
}

int
quant_row_bytes(int type, int64_t n, size_t *bytes)
{
	const struct quant_type_info *ti = quant_type_info(type);
	size_t r;

	if (ti == NULL)
		return ERR_UNSUPPORTED;
	if (n < 0 || n % ti->blck != 0)
		return ERR_RANGE;
	if (util_mul((size_t)(n / ti->blck), ti->size, &r) != 0)
		return ERR_RANGE;
	*bytes = r;
	return 0;
}

/* n is a usable element count for type (block multiple, >= 0). */
static int
n_ok(int type, int64_t n)
{
	const struct quant_type_info *ti = quant_type_info(type);

	return ti != NULL && n >= 0 && n % ti->blck == 0;
}

void
quant_dequant_row(int type, const void *src, float *dst, int64_t n)
{
	const struct quant_kernels *k = kern();

	if (!valid_type(type) || k->dequant[type] == NULL || !n_ok(type, n)) {
		if (n > 0)
			memset(dst, 0, (size_t)n * sizeof(float));
		return;
	}
	k->dequant[type](src, dst, n);
}

void
quant_dequant_row_ref(int type, const void *src, float *dst, int64_t n)
{
	const struct quant_kernels *k = &tables[QUANT_ISA_REF];

	pthread_once(&once, quant_init);
	if (!valid_type(type) || k->dequant[type] == NULL || !n_ok(type, n)) {
		if (n > 0)
			memset(dst, 0, (size_t)n * sizeof(float));
		return;
	}
	k->dequant[type](src, dst, n);
}

int
quant_quantize_row(int type, const float *src, void *dst, int64_t n)
{
	if (quant_type_info(type) == NULL)
		return ERR_UNSUPPORTED;
	if (!n_ok(type, n))
		return ERR_RANGE;
	return quant_quantize_weight_ref(type, src, dst, n);
}

int
quant_quantize_act(int type, const float *src, void *dst, int64_t n)
{
	const struct quant_kernels *k = kern();

	if (!valid_type(type) || k->act[type] == NULL)
		return ERR_UNSUPPORTED;
	if (!n_ok(type, n))
		return ERR_RANGE;
	k->act[type](src, dst, n);
	return 0;
}

float
quant_vec_dot(int type, int64_t n, const void *w, const void *x)
{
	const struct quant_kernels *k = kern();

	if (!valid_type(type) || k->dot[type] == NULL || !n_ok(type, n))
		return 0.0f;
	return k->dot[type](n, w, x);
}

float
quant_vec_dot_ref(int type, int64_t n, const void *w, const void *x)
{
	const struct quant_kernels *k = &tables[QUANT_ISA_REF];

	pthread_once(&once, quant_init);
	if (!valid_type(type) || k->dot[type] == NULL || !n_ok(type, n))
		return 0.0f;
	return k->dot[type](n, w, x);
}

void
quant_axpy_f32(int64_t n, float a, const float *x, float *y)
{
	kern()->axpy(n, a, x, y);
}

void
quant_axpy_f16(int64_t n, float a, const uint16_t *x, float *y)
{
	kern()->axpy16(n, a, x, y);
}

void
quant_matmul(int type, int64_t n, const void *w, size_t w_stride,
    int64_t r0, int64_t r1, const void *x, size_t x_stride, int ntok,
    float *y, size_t y_stride)
{
	const struct quant_kernels *k = kern();
	quant_tile_fn *tile;
	const char *wb = w, *xb = x;
	size_t rb = 0;
	int64_t p0, p1, r, panel;
	int t, nt, nr;

	if (r1 <= r0 || ntok <= 0)
		return;
	if (!valid_type(type) || k->tile[type] == NULL || !n_ok(type, n) ||
	    quant_row_bytes(type, n, &rb) != 0) {
		for (t = 0; t < ntok; t++)
			for (r = r0; r < r1; r++)
				y[(size_t)t * y_stride + (size_t)r] = 0.0f;
		return;
	}
	if (ntok >= QUANT_GEMM_MIN && k->gemm[type] != NULL &&
	    k->gemm[type](n, wb + (size_t)r0 * w_stride, w_stride, r1 - r0,
	    x, x_stride, ntok, y + r0, y_stride))
		return;
	tile = k->tile[type];
	panel = rb > 0 ? (int64_t)(QUANT_PANEL_BYTES / rb) : 64;
	if (panel < QUANT_TILE_R)
		panel = QUANT_TILE_R;
	panel -= panel % QUANT_TILE_R;
	if (ntok == 1)
		panel = r1 - r0;
	for (p0 = r0; p0 < r1; p0 = p1) {
		p1 = r1 - p0 > panel ? p0 + panel : r1;
		for (t = 0; t < ntok; t += nt) {
			nt = ntok - t > QUANT_TILE_T ? QUANT_TILE_T : ntok - t;
			for (r = p0; r < p1; r += nr) {
				nr = p1 - r > QUANT_TILE_R ? QUANT_TILE_R :
				    (int)(p1 - r);
				tile(n, wb + (size_t)r * w_stride, w_stride, nr,
				    xb + (size_t)t * x_stride, x_stride, nt,
				    y + (size_t)t * y_stride + (size_t)r,
				    y_stride);
			}
		}
	}
}
