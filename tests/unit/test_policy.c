/*
 * tests/unit/test_policy.c - policy files: directives, nested files, and
 * errors that say what and where.  Verdict tables are in tests/cases/.
 */
#include "doppel.h"
#include "test.h"

#include <unistd.h>

/** Write text to the scratch directory's name; returns the path (static
 * buffer). */
static const char*
write_file(const char* name, const char* text)
{
	static char path[256];
	FILE* f;
	test_path(path, sizeof(path), name);
	if(!(f = fopen(path, "w")))
		return NULL;
	fputs(text, f);
	fclose(f);
	return path;
}

/** Load a policy from text; returns its status and message. */
static dp_status
load_text(const char* text, struct dp_policy** p, struct dp_error* err)
{
	const char* path = write_file("policy.txt", text);
	err->msg[0] = 0;
	return dp_policy_load(path, p, err);
}

static void
test_directives(void)
{
	struct dp_policy* p;
	struct dp_error err;
	struct dp_verdict v;
	write_file("protected.list", "# list\nnavy.mil\nDOD.MIL.\n");
	write_file("good.list", "navy.com\n");
	ASSERT_EQ(load_text("protect army.mil countries=US,DE  # army\n"
		"protect-file protected.list\nknown-good-file good.list\n"
		"allow army.ml\nblock evil.example\n", &p, &err), DP_OK);
	if(!p) {
		TEST_FAIL_AT("load failed: %s", err.msg);
		return;
	}
	ASSERT_EQ(dp_policy_protected_count(p), 3);
	dp_policy_check(p, "dod.ml", &v);
	ASSERT_EQ(v.action, DP_BLOCK);
	ASSERT_STR_EQ(v.target, "dod.mil");
	dp_policy_check(p, "army.ml", &v);
	ASSERT_EQ(v.action, DP_ALLOW);
	dp_policy_check(p, "navy.com", &v);
	ASSERT_EQ(v.action, DP_ALLOW);
	dp_policy_check(p, "x.evil.example", &v);
	ASSERT_EQ(v.action, DP_BLOCK);
	ASSERT_STR_EQ(v.technique, "listed");
	ASSERT_EQ(v.zone_labels, 2);
	dp_policy_free(p);
}

/** Policy text and a part of the message it must produce. */
static const struct {
	const char* text;
	dp_status st;
	const char* in_msg;
} bad[] = {
	{ "protect army.mil\nprotec navy.mil\n", DP_ERR_SYNTAX,
		"policy.txt:2:1: error: unknown directive 'protec'" },
	{ "protect\n", DP_ERR_SYNTAX, ":1:8: error: 'protect' needs an "
		"argument" },
	{ "protect a..b\n", DP_ERR_SYNTAX, ":1:9: error: 'a..b' is not a "
		"valid domain" },
	{ "protect mil\n", DP_ERR_SYNTAX, ":1:9: error: 'mil' is a public "
		"suffix" },
	{ "protect co.uk\n", DP_ERR_SYNTAX, ":1:9: error: 'co.uk' is a "
		"public suffix" },
	{ "protect army.mil countries=us\n", DP_ERR_SYNTAX,
		":1:28: error: countries: expected two-letter" },
	{ "protect army.mil countries=US,XX\n", DP_ERR_SYNTAX,
		":1:31: error: countries: 'XX' is not an ISO 3166-1" },
	{ "protect army.mil colour=green\n", DP_ERR_SYNTAX,
		":1:18: error: unknown option 'colour=green'" },
	{ "allow a b\n", DP_ERR_SYNTAX, ":1:9: error: 'allow' takes exactly "
		"one argument" },
	{ "protect-file nothere.list\n", DP_ERR_SYNTAX,
		":1:14: error: cannot open '" },
	{ "block .\n", DP_ERR_SYNTAX, ":1:7: error: the root" },
	{ "protect army.mil\nallow army.mil\n", DP_ERR_SYNTAX,
		":2:7: error: conflicting entries: 'army.mil' is already "
		"protected" },
	{ "block x.example\nblock x.example\n", DP_ERR_SYNTAX,
		":2:7: error: duplicate entry: 'x.example' is already blocked" },
};

static void
test_errors(void)
{
	size_t i;
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dp_policy* p = (struct dp_policy*)1;
		struct dp_error err;
		ASSERT_EQ(load_text(bad[i].text, &p, &err), bad[i].st);
		ASSERT(p == NULL);
		if(!strstr(err.msg, bad[i].in_msg))
			TEST_FAIL_AT("case %zu: message '%s' lacks '%s'", i,
				err.msg, bad[i].in_msg);
	}
}

static void
test_error_in_nested_file(void)
{
	struct dp_policy* p;
	struct dp_error err;
	write_file("bad.list", "army.mil\nnot a name\n");
	ASSERT_EQ(load_text("protect-file bad.list\n", &p, &err),
		DP_ERR_SYNTAX);
	ASSERT(strstr(err.msg, "bad.list:2:4: error: expected one name per "
		"line"));
}

static void
test_missing_policy(void)
{
	struct dp_policy* p;
	struct dp_error err;
	ASSERT_EQ(dp_policy_load("/nonexistent/policy.txt", &p, &err),
		DP_ERR_IO);
	ASSERT(strstr(err.msg, "/nonexistent/policy.txt: error: cannot open "
		"policy"));
}


/* A verdict kept in the verdict cache stands only while the policy in
 * force says nothing against it: the owner's names win (allow, protect,
 * known good, ours), and a target no longer protected voids it; from a
 * source and from the compiled policy alike. */
static void
test_vouches(void)
{
	struct dp_policy *p, *c;
	struct dp_error err;
	char db[128];
	ASSERT_EQ(load_text("protect army.mil\nallow army.ml\n"
		"ours yahoo.*\nblock bad.example\n", &p, &err), DP_OK);
	if(!p)
		return;
	test_path(db, sizeof(db), "vouches.db");
	ASSERT_EQ(dp_policy_compile(p, db, &err), DP_OK);
	ASSERT_EQ(dp_policy_load(db, &c, &err), DP_OK);
	if(!c) {
		dp_policy_free(p);
		return;
	}
	ASSERT_EQ(dp_policy_vouches(p, "navy.ml", "army.mil"), 1);
	ASSERT_EQ(dp_policy_vouches(p, "x.bad.example", "bad.example"), 1);
	ASSERT_EQ(dp_policy_vouches(p, "army.ml", "army.mil"), 0);
	ASSERT_EQ(dp_policy_vouches(p, "www.army.ml", "army.mil"), 0);
	ASSERT_EQ(dp_policy_vouches(p, "www.army.mil", "army.mil"), 0);
	ASSERT_EQ(dp_policy_vouches(p, "mail.yahoo.de", "yahoo.com"), 0);
	ASSERT_EQ(dp_policy_vouches(p, "navy.ml", "navy.mil"), 0);
	ASSERT_EQ(dp_policy_vouches(c, "navy.ml", "army.mil"), 1);
	ASSERT_EQ(dp_policy_vouches(c, "army.ml", "army.mil"), 0);
	ASSERT_EQ(dp_policy_vouches(c, "mail.yahoo.de", "yahoo.com"), 0);
	ASSERT_EQ(dp_policy_vouches(c, "navy.ml", "navy.mil"), 0);
	dp_policy_free(c);
	dp_policy_free(p);
}

static const struct test_entry tests[] = {
	TEST_ENTRY(directives),
	TEST_ENTRY(errors),
	TEST_ENTRY(error_in_nested_file),
	TEST_ENTRY(missing_policy),
	TEST_ENTRY(vouches),
};

TEST_MAIN("policy", tests)
