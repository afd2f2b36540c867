/*
 * tests/cli/mkcache.c - write a verdict cache for the CLI tests: one
 * verdict for each NAME, as the module would note it.
 * usage: mkcache CACHE NAME...
 */
#include "doppel.h"
#include "vcache.h"

#include <stdio.h>
#include <time.h>

int
main(int argc, char** argv)
{
	struct dp_policy* p;
	struct dp_vcache* vc;
	struct dp_error err;
	int i;
	if(argc < 3) {
		fprintf(stderr, "usage: mkcache CACHE NAME...\n");
		return 2;
	}
	if(dp_policy_load("conf/policy.txt", &p, &err) != DP_OK ||
		dp_vcache_open(argv[1], 1 << 20, 0, &vc, &err) != DP_OK) {
		fprintf(stderr, "mkcache: %s\n", err.msg);
		return 1;
	}
	for(i = 2; i < argc; i++) {
		struct dp_verdict v;
		dp_policy_check(p, argv[i], &v);
		dp_vcache_note(vc, argv[i], &v, 1, (uint64_t)time(NULL),
			86400);
	}
	dp_vcache_close(vc);
	dp_policy_free(p);
	return 0;
}
