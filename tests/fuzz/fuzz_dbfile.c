/*
 * tests/fuzz/fuzz_dbfile.c - libFuzzer target over the compiled-policy
 * loader: the input is a whole file, as a damaged disk, a copy cut short
 * or a crafted file would leave it (the seeds are small compiled policies,
 * so that mutations hit the meta pages, the page headers, the nodes and
 * the meta record).  dp_policy_load must refuse what it cannot use and
 * never fault; a policy it accepts must answer a few names.
 */
#include "doppel.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int* argc, char*** argv);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int
LLVMFuzzerInitialize(int* argc, char*** argv)
{
	(void)argc;
	(void)argv;
	fuzz_scratch("dbfile");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	static const char* const probes[] = { "army.ml", "army.mil",
		"arrny.mil", "googlec.om", "x" };
	struct dp_policy* p = NULL;
	struct dp_verdict v;
	struct dp_error err;
	char path[128];
	size_t i;
	if(size > (1 << 20) || fuzz_write("policy.db", data, size, path,
		sizeof(path)) != 0)
		return 0;
	if(dp_policy_load(path, &p, &err) != DP_OK || !p)
		return 0;
	for(i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		dp_policy_check(p, probes[i], &v);
	dp_policy_free(p);
	return 0;
}
