/*
 * tests/fuzz/fuzz_policy.c - libFuzzer target over the policy parser and
 * compiler.  The input is a policy source; it is parsed with a small
 * Public Suffix List named first (loading Debian's full list would make
 * each run ~100 times slower; an input's own psl-file line is an error
 * then, which is parsed all the same).  A source that parses is compiled
 * to a database, the database is opened again, and both must give the same
 * verdict for a handful of names: the compiler and the loader may not
 * change what a policy means.
 */
#include "doppel.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int* argc, char*** argv);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static char psl_line[128];

int
LLVMFuzzerInitialize(int* argc, char*** argv)
{
	static const char psl[] = "// fuzz\ncom\nnet\norg\nmil\ngov\nml\n"
		"uk\nco.uk\n*.ck\n!www.ck\nde\nblogspot.com\n";
	char path[128];
	(void)argc;
	(void)argv;
	fuzz_scratch("policy");
	if(fuzz_write("psl.dat", (const uint8_t*)psl, sizeof(psl) - 1, path,
		sizeof(path)) != 0)
		exit(2);
	snprintf(psl_line, sizeof(psl_line), "psl-file %s\n", path);
	return 0;
}

static const char* const probes[] = { "army.ml", "army.mil", "arrny.mil",
	"xn--rmy-5cd.mil", "login-army.mil.evil.com", "googlec.om",
	"www.example.co.uk", "a.b.ck", "navy.mil", "x" };

int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	char src[128], db[128];
	uint8_t* text;
	struct dp_policy *p = NULL, *q = NULL;
	struct dp_error err;
	size_t n = strlen(psl_line), i;
	if(size > 65536)
		return 0;
	if(!(text = malloc(n + size)))
		return 0;
	memcpy(text, psl_line, n);
	memcpy(text + n, data, size);
	if(fuzz_write("policy.txt", text, n + size, src, sizeof(src)) != 0) {
		free(text);
		return 0;
	}
	free(text);
	if(dp_policy_parse(src, &p, NULL, NULL) != DP_OK || !p)
		return 0;
	snprintf(db, sizeof(db), "%s/policy.db", fuzz_dir);
	if(dp_policy_compile(p, db, &err) != DP_OK) {
		/* a policy that parsed and does not compile: only a full
		 * scratch directory excuses that */
		fprintf(stderr, "fuzz_policy: compile: %s\n", err.msg);
		abort();
	}
	if(dp_policy_load(db, &q, &err) != DP_OK) {
		fprintf(stderr, "fuzz_policy: the compiled policy does not "
			"load: %s\n", err.msg);
		abort();
	}
	for(i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		struct dp_verdict a, b;
		dp_policy_check(p, probes[i], &a);
		dp_policy_check(q, probes[i], &b);
		if(a.action != b.action || a.score != b.score ||
			(a.target == NULL) != (b.target == NULL) ||
			(a.target && strcmp(a.target, b.target) != 0)) {
			fprintf(stderr, "fuzz_policy: %s: source and compiled "
				"policies disagree\n", probes[i]);
			abort();
		}
	}
	dp_policy_free(q);
	dp_policy_free(p);
	return 0;
}
