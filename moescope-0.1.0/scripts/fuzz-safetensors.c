/*
 * fuzz-safetensors.c - libFuzzer target for the safetensors reader and
 * the config.json accessor (scripts/fuzz).
 *
 * The input is parsed as a safetensors image; when accepted, every
 * tensor's first and last byte is touched (AddressSanitizer catches a
 * view outside the input) and its size is checked against dtype x shape.
 * The same bytes are also parsed as a config.json and every
 * hyper-parameter is looked up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct safetensors *st;
	struct hf_config *c;
	struct hf_hparams hp;
	struct err e;
	uint64_t i;

	if (safetensors_open_mem(&st, data, size, "fuzz", &e) == 0) {
		for (i = 0; i < st->n_tensors; i++) {
			const struct st_tensor *t = &st->tensors[i];

			if (t->nbytes != safetensors_nelem(t) *
			    safetensors_dtype_size(t->dtype))
				__builtin_trap();
			if (safetensors_find(st, t->name) != t)
				__builtin_trap();
			if (t->nbytes > 0)
				sink += ((const uint8_t *)t->data)[0] +
				    ((const uint8_t *)t->data)[t->nbytes - 1];
		}
		safetensors_meta(st, "format");
		safetensors_close(st);
	} else if (strncmp(e.msg, "fuzz", 4) != 0)
		__builtin_trap();
	if (hf_config_open_mem(&c, (const char *)data, size, "fuzz", &e) ==
	    0) {
		hf_config_hparams(c, &hp, &e);
		sink += (uint64_t)hp.n_layers + (uint64_t)hp.n_experts;
		hf_config_close(c);
	}
	return 0;
}
