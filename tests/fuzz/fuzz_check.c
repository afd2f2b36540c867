/*
 * tests/fuzz/fuzz_check.c - libFuzzer target over name normalisation and
 * matching: the input is read both as a wire-format name and as a name in
 * presentation format, and every name that parses is checked against a
 * policy (default tests/recall/policy.txt, or $DOPPEL_FUZZ_POLICY).
 *
 * Besides the sanitisers' findings it asserts the engine's invariants:
 * canonical names are fixed points of dp_name_from_text, verdicts name a
 * target and a technique exactly when they are not allow, scores stay in
 * [0, 1], explanations are terminated, and the registrable domain the
 * index's suffix rules give is libpsl's.
 */
#include "doppel.h"
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct dp_policy* policy;

int LLVMFuzzerInitialize(int* argc, char*** argv);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int
LLVMFuzzerInitialize(int* argc, char*** argv)
{
	struct dp_error err;
	const char* path = getenv("DOPPEL_FUZZ_POLICY");
	(void)argc;
	(void)argv;
	if(!path)
		path = "tests/recall/policy.txt";
	if(dp_policy_load(path, &policy, &err) != DP_OK) {
		fprintf(stderr, "fuzz_check: %s\n", err.msg);
		exit(2);
	}
	return 0;
}

static void
check(const char* name)
{
	struct dp_verdict v;
	char again[DP_NAME_MAX];
	if(dp_name_from_text(name[0] ? name : ".", again, sizeof(again))
		!= DP_OK || strcmp(again, name) != 0)
		abort(); /* a canonical name must parse to itself */
	if(dp_registrable(policy, name) !=
		psl_registrable_domain(policy->psl, name))
		abort(); /* lib/suffix.c must match as libpsl does */
	dp_policy_check(policy, name, &v);
	if(!(v.score >= 0.0 && v.score <= 1.0))
		abort();
	if((v.action == DP_ALLOW) != (v.target == NULL) ||
		(v.target == NULL) != (v.technique == NULL))
		abort();
	if(memchr(v.why, 0, sizeof(v.why)) == NULL)
		abort();
	if(v.action != DP_ALLOW &&
		(v.zone_labels < 1 || v.zone_labels > dp_name_labels(name)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	char name[DP_NAME_MAX];
	char* text;
	if(dp_name_from_wire(data, size, name, sizeof(name)) == DP_OK)
		check(name);
	if(!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if(dp_name_from_text(text, name, sizeof(name)) == DP_OK)
		check(name);
	free(text);
	return 0;
}
