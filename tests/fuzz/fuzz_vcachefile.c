/*
 * tests/fuzz/fuzz_vcachefile.c - libFuzzer target over the verdict cache
 * as a whole file (fuzz_vcache takes single records): opened as the module
 * opens it (with the writer, which reads every record into memory and
 * writes to the file) and as `doppel cache` does (listing, counting,
 * purging).  A file that cannot be used must be refused, never fault.
 */
#include "doppel.h"
#include "vcache.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int* argc, char*** argv);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int
LLVMFuzzerInitialize(int* argc, char*** argv)
{
	(void)argc;
	(void)argv;
	fuzz_scratch("vcachefile");
	return 0;
}

static void
count(void* arg, const char* name, const struct dp_vrecord* r)
{
	(void)name;
	(void)r;
	(*(size_t*)arg)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	struct dp_vcache* vc;
	struct dp_vcache_stats st;
	struct dp_vrecord r;
	struct dp_verdict v;
	struct dp_error err;
	char path[128], lock[160];
	size_t n = 0;
	if(size > (1 << 20) || fuzz_write("verdicts.mdb", data, size, path,
		sizeof(path)) != 0)
		return 0;
	snprintf(lock, sizeof(lock), "%s-lock", path);
	unlink(lock);
	memset(&v, 0, sizeof(v));
	v.action = DP_BLOCK;
	v.score = 0.9;
	v.target = "army.mil";
	v.technique = "tld-swap";
	if(dp_vcache_open(path, 4 << 20, 1, &vc, &err) == DP_OK) {
		dp_vcache_get(vc, "army.ml", 1000, &r);
		dp_vcache_note(vc, "navy.ml", &v, 1, 1000, 60);
		dp_vcache_flush(vc);
		dp_vcache_close(vc);
	}
	if(dp_vcache_open(path, 4 << 20, 0, &vc, &err) == DP_OK) {
		dp_vcache_each(vc, count, &n);
		dp_vcache_get(vc, "army.ml", 1000, &r);
		dp_vcache_get_stats(vc, 1000, &st);
		dp_vcache_purge(vc, "navy.ml");
		dp_vcache_close(vc);
	}
	return 0;
}
