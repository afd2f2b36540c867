/*
 * tests/unit/test_db.c - compiled policies: the same verdicts as the
 * source, and a damaged file (flipped byte, truncated, other version)
 * refused at open with a message, never a crash.
 */
#include "doppel.h"
#include "internal.h"
#include "test.h"

#include <sys/stat.h>
#include <unistd.h>

static char src[512], db[512];

static void
setup(void)
{
	FILE* f;
	test_path(src, sizeof(src), "policy.txt");
	test_path(db, sizeof(db), "policy.db");
	if(!(f = fopen(src, "w")))
		exit(2);
	fputs("protect army.mil countries=US\nprotect paypal.com\n"
		"allow army.ml\nblock evil.example\nnegative-ttl 120\n"
		"technique combo-squatting action=warn\n", f);
	fclose(f);
}

static void
teardown(void)
{
}

/** Names whose verdicts must not change through compilation. */
static const char* const names[] = { "army.ml", "army.mil", "arny.mil",
	"navy.ml", "paypa1.com", "paypal-login.com", "xn--pypal-4ve.com",
	"x.evil.example", "googlec.om", "example.org" };

/**
 * Load the policy source at text, compile it to path and load that.
 * @param source: the source's policy (NULL if it did not load), for the
 *	caller to free.
 * @return the compiled policy, or NULL (the failure is recorded).
 */
static struct dp_policy*
compiled(const char* text, const char* path, struct dp_policy** source)
{
	struct dp_policy* p = NULL;
	struct dp_error err;
	err.msg[0] = 0;
	*source = NULL;
	if(dp_policy_load(text, source, &err) != DP_OK ||
		dp_policy_compile(*source, path, &err) != DP_OK ||
		dp_policy_load(path, &p, &err) != DP_OK) {
		TEST_FAIL_AT("%s -> %s: %s", text, path, err.msg);
		return NULL;
	}
	return p;
}

static void
test_same_verdicts(void)
{
	struct dp_policy *ps, *pd;
	struct dp_policy_info info;
	size_t i;
	if(!(pd = compiled(src, db, &ps))) {
		dp_policy_free(ps);
		return;
	}
	for(i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct dp_verdict a, b;
		char n[DP_NAME_MAX];
		ASSERT_EQ(dp_name_from_text(names[i], n, sizeof(n)), DP_OK);
		dp_policy_check(ps, n, &a);
		dp_policy_check(pd, n, &b);
		ASSERT_EQ(a.action, b.action);
		ASSERT_STR_EQ(a.why, b.why);
		ASSERT((a.target == NULL) == (b.target == NULL));
		if(a.target && b.target)
			ASSERT_STR_EQ(a.target, b.target);
	}
	ASSERT_EQ(dp_policy_negative_ttl(pd), 120);
	dp_policy_get_info(pd, &info);
	ASSERT_EQ(info.version, 4);
	ASSERT_EQ(info.protected_domains, 2);
	ASSERT(info.built > 0);
	dp_policy_free(ps);
	dp_policy_free(pd);
}

/** Copy the database with one change, then try to open it. */
static dp_status
open_damaged(long offset, int byte, long truncate_to, struct dp_error* err)
{
	char bad[160];
	FILE *in, *out;
	struct dp_policy* p = NULL;
	long i = 0;
	int c;
	dp_status st;
	test_path(bad, sizeof(bad), "bad.db");
	in = fopen(db, "rb");
	out = fopen(bad, "wb");
	if(!in || !out)
		exit(2);
	while((c = fgetc(in)) != EOF && (truncate_to < 0 || i < truncate_to)) {
		fputc(i == offset ? byte : c, out);
		i++;
	}
	fclose(in);
	fclose(out);
	st = dp_policy_load(bad, &p, err);
	dp_policy_free(p);
	return st;
}

/** Offset of the first occurrence of a string in the database. */
static long
find_in_db(const char* s)
{
	FILE* f = fopen(db, "rb");
	static char buf[1 << 20];
	size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0, i;
	if(f)
		fclose(f);
	for(i = 0; i + strlen(s) <= n; i++)
		if(memcmp(buf + i, s, strlen(s)) == 0)
			return (long)i;
	return -1;
}

static void
test_damaged(void)
{
	struct dp_error err;
	struct stat sb;
	long at;
	ASSERT_EQ(stat(db, &sb), 0);
	/* a flipped byte in a table: the checksum */
	at = find_in_db("paypal.com");
	ASSERT(at > 0);
	ASSERT_EQ(open_damaged(at, 'q', -1, &err), DP_ERR_FORMAT);
	ASSERT(strstr(err.msg, "checksum") != NULL);
	/* another format version */
	at = find_in_db("doppeldb");
	ASSERT(at > 0);
	ASSERT_EQ(open_damaged(at + 8, 99, -1, &err), DP_ERR_FORMAT);
	ASSERT(strstr(err.msg, "format 99") != NULL);
	/* truncated: refused before LMDB maps pages that are not there */
	ASSERT(open_damaged(-1, 0, (long)sb.st_size / 2, &err) != DP_OK);
	ASSERT(strstr(err.msg, "truncated") != NULL);
	ASSERT(open_damaged(-1, 0, 100, &err) != DP_OK);
	/* a bucket count whose table size wraps around (2^58 more buckets
	 * of 64 bytes: the same size mod 2^64), in the meta record, which
	 * the checksum does not cover; the top byte of the count sits at
	 * offset 55 of the record */
	at = find_in_db("doppeldb");
	ASSERT_EQ(open_damaged(at + 55, 0x04, -1, &err), DP_ERR_FORMAT);
	ASSERT(strstr(err.msg, "index buckets") != NULL);
}

static void
test_compile_failure_leaves_file(void)
{
	struct dp_policy* p;
	struct dp_error err;
	ASSERT_EQ(dp_policy_load(src, &p, &err), DP_OK);
	/* a directory where the file should go: the rename fails */
	ASSERT(dp_policy_compile(p, "/nonexistent-dir/policy.db", &err) !=
		DP_OK);
	ASSERT(strstr(err.msg, "/nonexistent-dir/policy.db") != NULL);
	dp_policy_free(p);
}

/* Found by tests/fuzz/fuzz_policy.c: a policy with nothing in it (every
 * line commented out) compiled to a file that did not open again
 * ("string table not terminated"). */
static void
test_empty_policy(void)
{
	struct dp_policy *ps = NULL, *pd;
	struct dp_verdict v;
	char empty[160], emptydb[160];
	FILE* f;
	test_path(empty, sizeof(empty), "empty.txt");
	test_path(emptydb, sizeof(emptydb), "empty.db");
	ASSERT((f = fopen(empty, "w")) != NULL);
	if(!f)
		return;
	fputs("# nothing protected yet\n", f);
	fclose(f);
	if((pd = compiled(empty, emptydb, &ps)) != NULL) {
		dp_policy_check(pd, "army.ml", &v);
		ASSERT_EQ(v.action, DP_ALLOW);
		dp_policy_free(pd);
	}
	dp_policy_free(ps);
}

static void
test_overwritten_in_place(void)
{
	/* A policy large enough that its tables live on LMDB's overflow
	 * pages.  Its buckets and label records sit on cache lines; after
	 * the file is cut to nothing and filled with garbage in place
	 * (cp other-file policy.db), the open policy still answers: it does
	 * not read the file any more (it used to, and died of SIGBUS). */
	char big[128], bigdb[128], junk[4096];
	struct dp_policy *p = NULL, *c;
	struct dp_verdict v;
	FILE* f;
	int i;
	test_path(big, sizeof(big), "big.txt");
	test_path(bigdb, sizeof(bigdb), "big.db");
	if(!(f = fopen(big, "w")))
		return;
	for(i = 0; i < 3000; i++)
		fprintf(f, "protect brand%dname.com\n", i);
	fprintf(f, "protect army.mil\n");
	fclose(f);
	if((c = compiled(big, bigdb, &p)) != NULL) {
		ASSERT_EQ(((uintptr_t)c->index.buckets & 63), 0);
		ASSERT_EQ(((uintptr_t)c->labels & 63), 0);
		for(i = 0; i < (int)sizeof(junk); i++)
			junk[i] = (char)(i * 131 + 7);
		ASSERT((f = fopen(bigdb, "w")) != NULL);
		if(f) {
			fwrite(junk, 1, 1000, f);
			fclose(f);
		}
		dp_policy_check(c, "army.ml", &v);
		ASSERT_EQ(v.action, DP_BLOCK);
		dp_policy_check(c, "brand1234name.co", &v);
		ASSERT(v.action != DP_ALLOW);
	}
	dp_policy_free(p);
	dp_policy_free(c);
}

static const struct test_entry tests[] = {
	TEST_ENTRY(overwritten_in_place),
	TEST_ENTRY(same_verdicts),
	TEST_ENTRY(empty_policy),
	TEST_ENTRY(damaged),
	TEST_ENTRY(compile_failure_leaves_file),
};

TEST_MAIN_WITH("db", tests, setup, teardown)
