/*
 * tests/fuzz/fuzz_vcache.c - libFuzzer target over the verdict cache's
 * record decoder: any bytes may sit in the LMDB file (another version, a
 * damaged page, a hand edit).  A value that decodes must give terminated
 * strings and a known action.
 */
#include "doppel.h"
#include "vcache.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	struct dp_vrecord r;
	if(!dp_vcache_decode(data, size, &r))
		return 0;
	if(r.action != DP_ALLOW && r.action != DP_WARN &&
		r.action != DP_BLOCK)
		abort();
	if(!memchr(r.target, 0, sizeof(r.target)) ||
		!memchr(r.technique, 0, sizeof(r.technique)) ||
		!memchr(r.countries, 0, sizeof(r.countries)))
		abort();
	return 0;
}
