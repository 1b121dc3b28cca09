/*
 * 702-net-sha256.c - the streaming SHA-256 against FIPS 180-4 vectors
 * (empty, "abc", the 448-bit message, a million 'a's), fed in one piece
 * and in awkward pieces (1, 63, 64, 65 bytes) that cross block edges,
 * with the plain C version and with the SHA-NI one when the CPU has it;
 * and the two agree on random data of every length up to 300 bytes.
 */
#include <string.h>

#include "tap.h"
#include "net/net.h"

static void
hash(const void *p, size_t n, size_t step, char out[65])
{
	struct net_sha256 s;
	uint8_t d[32];
	size_t i, k;

	net_sha256_init(&s);
	for (i = 0; i < n; i += k) {
		k = step == 0 || n - i < step ? n - i : step;
		net_sha256_update(&s, (const char *)p + i, k);
	}
	net_sha256_final(&s, d);
	net_sha256_hex(d, out);
}

int
main(void)
{
	static const struct { const char *msg, *want; } v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
		    "7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb4"
		    "10ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd4"
		    "19db06c1" },
	};
	static const size_t steps[] = { 0, 1, 63, 64, 65 };
	static char mil[1000000];
	char out[65], out2[65];
	size_t i, k;
	int good, pass, ni;

	ni = net_sha256_accel(1);
	for (pass = 0; pass < 2; pass++) {
	if (pass == 1 && !ni)
		break;
	net_sha256_accel(pass == 1);
	diag("%s", pass ? "SHA-NI" : "plain C");
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		good = 1;
		for (k = 0; k < sizeof steps / sizeof steps[0]; k++) {
			hash(v[i].msg, strlen(v[i].msg), steps[k], out);
			good &= strcmp(out, v[i].want) == 0;
		}
		ok(good, "sha256(\"%.10s...\") in pieces of 1/63/64/65",
		    v[i].msg);
	}
	memset(mil, 'a', sizeof mil);
	for (k = 0; k < sizeof steps / sizeof steps[0]; k++) {
		hash(mil, sizeof mil, steps[k] ? steps[k] * 1001 : 0, out);
		is_str(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e04"
		    "6d39ccc7112cd0", "a million 'a's, pieces of %zu",
		    steps[k] * 1001);
	}
	}
	if (ni) {
		good = 1;
		srand(7);
		for (i = 0; i < sizeof mil; i++)
			mil[i] = (char)rand();
		for (i = 0; i <= 300; i++) {
			net_sha256_accel(0);
			hash(mil, i, 0, out);
			net_sha256_accel(1);
			hash(mil, i, 0, out2);
			good &= strcmp(out, out2) == 0;
		}
		ok(good, "SHA-NI equals plain C on 0..300 random bytes");
	}
	return tap_done();
}
