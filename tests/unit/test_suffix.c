/*
 * tests/unit/test_suffix.c - the Public Suffix List rules in the index
 * (lib/suffix.c) against libpsl itself: for every rule of Debian's list,
 * and names built around it, both must find the same registrable
 * domain, from a policy built in memory and from a compiled one.
 */
#include "doppel.h"
#include "internal.h"
#include "test.h"

#include <idn2.h>
#include <stdlib.h>
#include <unistd.h>

#define PSL_PATH "/usr/share/publicsuffix/public_suffix_list.dat"

static struct dp_policy *built, *compiled;
/** names compared, and how many of them have a registrable domain */
static size_t compared, registrable;

static void
setup(void)
{
	char path[512], db[512];
	struct dp_error err;
	FILE* f;
	test_path(path, sizeof(path), "policy.txt");
	test_path(db, sizeof(db), "policy.db");
	if(!(f = fopen(path, "w")))
		return;
	fputs("protect army.mil\n", f);
	fclose(f);
	if(dp_policy_load(path, &built, &err) != DP_OK ||
		dp_policy_compile(built, db, &err) != DP_OK ||
		dp_policy_load(db, &compiled, &err) != DP_OK)
		printf("setup: %s\n", err.msg);
}

static void
teardown(void)
{
	dp_policy_free(built);
	dp_policy_free(compiled);
}

/** Compare the two for a name in text form (made canonical first). */
static void
same_as_libpsl(const char* text)
{
	char name[DP_NAME_MAX];
	const char *want, *got;
	if(dp_name_from_text(text, name, sizeof(name)) != DP_OK)
		return;
	want = psl_registrable_domain(built->psl, name);
	got = dp_registrable(built, name);
	if(got != want)
		TEST_FAIL_AT("%s: libpsl says %s, the index %s", name,
			want ? want : "(none)", got ? got : "(none)");
	got = dp_registrable(compiled, name);
	if(got != want)
		TEST_FAIL_AT("%s (compiled): libpsl says %s, the index %s",
			name, want ? want : "(none)", got ? got : "(none)");
	compared++;
	registrable += want != NULL;
}

/** Names around one rule's text: itself, under one and two more
 * labels, and under a label that could be a wildcard's. */
static void
around(const char* rule)
{
	char buf[600];
	same_as_libpsl(rule);
	snprintf(buf, sizeof(buf), "a.%s", rule);
	same_as_libpsl(buf);
	snprintf(buf, sizeof(buf), "b.a.%s", rule);
	same_as_libpsl(buf);
	snprintf(buf, sizeof(buf), "www.c.b.a.%s", rule);
	same_as_libpsl(buf);
	/* its parent, with a label the rule does not have */
	if(strchr(rule, '.')) {
		snprintf(buf, sizeof(buf), "zz.%s", strchr(rule, '.') + 1);
		same_as_libpsl(buf);
	}
}

static void
test_every_rule(void)
{
	FILE* f = fopen(PSL_PATH, "r");
	char line[512];
	size_t rules = 0;
	ASSERT(built != NULL && compiled != NULL);
	ASSERT(built && built->psl_rules > 8000);
	if(!f || !built || !compiled) {
		if(f)
			fclose(f);
		return;
	}
	while(fgets(line, sizeof(line), f)) {
		char* s = line;
		char* ace = NULL;
		size_t n;
		while(*s == ' ' || *s == '\t')
			s++;
		n = strcspn(s, " \t\r\n");
		s[n] = 0;
		if(n == 0 || (s[0] == '/' && s[1] == '/'))
			continue;
		if(*s == '!' || *s == '*')
			s += *s == '!' ? 1 : 2;
		rules++;
		around(s);
		if(idn2_lookup_u8((const uint8_t*)s, (uint8_t**)&ace,
			IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) == IDN2_OK &&
			ace && strcmp(ace, s) != 0)
			around(ace);
		idn2_free(ace);
	}
	fclose(f);
	/* names no rule speaks of */
	around("example.unknowntld");
	around("a.b.c.d.e.f.g");
	printf("    %zu rules, %zu names compared (%zu registrable)\n", rules,
		compared, registrable);
	ASSERT(rules > 8000);
}

static const struct test_entry tests[] = {
	TEST_ENTRY(every_rule),
};

TEST_MAIN_WITH("suffix", tests, setup, teardown)
