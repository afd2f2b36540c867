/*
 * tests/unit/test_vcache.c - the verdict cache: round trip, merging of
 * repeated verdicts, expiry, a full map (no crash, expired entries go
 * first, losses counted), restart, a file that is not a cache, a file
 * changed under a running writer, and the bound on what memory holds.
 */
#include "vcache.h"
#include "test.h"

#include <time.h>
#include <unistd.h>

static char path[512];

static void
setup(void)
{
	test_path(path, sizeof(path), "verdicts.mdb");
}

static void
teardown(void)
{
}

static struct dp_verdict
verdict(const char* target, const char* tech, double score)
{
	struct dp_verdict v;
	memset(&v, 0, sizeof(v));
	v.action = DP_BLOCK;
	v.target = target;
	v.technique = tech;
	v.score = score;
	return v;
}

static void
test_round_trip_and_restart(void)
{
	struct dp_vcache* vc;
	struct dp_error err;
	struct dp_vrecord r;
	struct dp_verdict v = verdict("army.mil", "tld-swap", 0.95);
	ASSERT_EQ(dp_vcache_open(path, 1 << 20, 1, &vc, &err), DP_OK);
	if(!vc)
		return;
	dp_vcache_note(vc, "army.ml", &v, 42, 1000, 3600);
	dp_vcache_note(vc, "army.ml", &v, 42, 1010, 3600);
	dp_vcache_flush(vc);
	dp_vcache_close(vc); /* the writer also flushes on close */
	/* restart */
	ASSERT_EQ(dp_vcache_open(path, 1 << 20, 0, &vc, &err), DP_OK);
	if(!vc)
		return;
	ASSERT_EQ(dp_vcache_get(vc, "army.ml", 2000, &r), 1);
	ASSERT_EQ(r.action, DP_BLOCK);
	ASSERT_STR_EQ(r.target, "army.mil");
	ASSERT_STR_EQ(r.technique, "tld-swap");
	ASSERT_EQ(r.hits, 2);
	ASSERT_EQ(r.first_seen, 1000);
	ASSERT_EQ(r.last_seen, 1010);
	ASSERT_EQ(r.policy_hash, 42);
	ASSERT(r.score > 0.94 && r.score < 0.96);
	ASSERT_EQ(dp_vcache_get(vc, "navy.ml", 2000, &r), 0);
	/* expiry: 1010 + 3600 */
	ASSERT_EQ(dp_vcache_get(vc, "army.ml", 4611, &r), 0);
	ASSERT_EQ(dp_vcache_purge(vc, "army.ml"), 1);
	ASSERT_EQ(dp_vcache_get(vc, "army.ml", 2000, &r), 0);
	dp_vcache_close(vc);
}

static void
test_full_map(void)
{
	struct dp_vcache* vc;
	struct dp_error err;
	struct dp_vcache_stats st;
	struct dp_vrecord r;
	char name[300];
	int i, found = 0;
	/* The writer purges by the real clock. */
	uint64_t now = (uint64_t)time(NULL);
	struct dp_verdict v = verdict("paypal.com", "homoglyph", 0.9);
	test_path(name, sizeof(name), "small.mdb");
	ASSERT_EQ(dp_vcache_open(name, 256 << 10, 0, &vc, &err), DP_OK);
	if(!vc)
		return;
	/* Old entries, expired ... */
	for(i = 0; i < 200; i++) {
		char n[64];
		snprintf(n, sizeof(n), "old-%04d.example", i);
		dp_vcache_note(vc, n, &v, 1, now - 1000, 10);
	}
	dp_vcache_flush(vc);
	/* ... then far more than 64 KB of new ones. */
	for(i = 0; i < 3000; i++) {
		char n[300];
		snprintf(n, sizeof(n), "new-%05d-%0200d.example", i, i);
		dp_vcache_note(vc, n, &v, 1, now, 3600);
		if(i % 500 == 499)
			dp_vcache_flush(vc);
	}
	dp_vcache_flush(vc);
	dp_vcache_get_stats(vc, now, &st);
	/* the expired entries made room first */
	for(i = 0; i < 200; i++) {
		char n[64];
		snprintf(n, sizeof(n), "old-%04d.example", i);
		found += dp_vcache_get(vc, n, now - 999, &r);
	}
	ASSERT_EQ(found, 0);
	ASSERT(st.dropped_full > 0);
	ASSERT(st.entries > 0);
	ASSERT(st.used_bytes <= st.map_size);
	dp_vcache_close(vc);
}

static void
test_not_a_cache(void)
{
	struct dp_vcache* vc;
	struct dp_error err;
	char name[300];
	FILE* f;
	test_path(name, sizeof(name), "junk.mdb");
	if(!(f = fopen(name, "w")))
		return;
	fputs("this is not an LMDB file, just text that is long enough to "
		"fill the first page of one and then some more text text text",
		f);
	fclose(f);
	ASSERT(dp_vcache_open(name, 1 << 20, 0, &vc, &err) != DP_OK);
	ASSERT(strstr(err.msg, "junk.mdb") != NULL);
}

/* A cache cut short, or whose meta page says it has more pages than the
 * file holds, is refused with a message: LMDB would map it and fault
 * (SIGBUS) at start-up, in the resolver or in `doppel cache list`. */
static void
test_cut_short(void)
{
	struct dp_vcache* vc;
	struct dp_error err;
	struct dp_verdict v = verdict("army.mil", "tld-swap", 0.95);
	char big[300], cmd[700];
	int i;
	test_path(big, sizeof(big), "big.mdb");
	ASSERT_EQ(dp_vcache_open(big, 8 << 20, 1, &vc, &err), DP_OK);
	if(!vc)
		return;
	for(i = 0; i < 3000; i++) {
		char name[64];
		snprintf(name, sizeof(name), "n%d.army.ml", i);
		dp_vcache_note(vc, name, &v, 42, 1000, 3600);
	}
	dp_vcache_close(vc);
	/* the first two pages (the meta pages) only */
	snprintf(cmd, sizeof(cmd), "truncate -s 8192 '%s'", big);
	ASSERT_EQ(system(cmd), 0);
	vc = NULL;
	ASSERT(dp_vcache_open(big, 8 << 20, 0, &vc, &err) != DP_OK);
	ASSERT(vc == NULL);
	ASSERT(strstr(err.msg, "big.mdb: truncated") != NULL);
}

/* Records that say what no engine would say (a NaN or out-of-range
 * score, an unknown technique, raw octets in the target) are passed
 * over as a damaged file's would be: never printed, logged or used. */
static void
test_records_not_verdicts(void)
{
	struct dp_vcache* vc;
	struct dp_error err;
	struct dp_vrecord r;
	struct dp_verdict nan_score = verdict("army.mil", "tld-swap", 0.0 / 0.0);
	struct dp_verdict big = verdict("army.mil", "tld-swap", 7.5);
	struct dp_verdict tech = verdict("army.mil", "bogus", 0.9);
	struct dp_verdict raw = verdict("army\nmil", "tld-swap", 0.9);
	struct dp_verdict hijack = verdict("army.mil", "hijack", 1.0);
	ASSERT_EQ(dp_vcache_open(path, 1 << 20, 1, &vc, &err), DP_OK);
	if(!vc)
		return;
	dp_vcache_note(vc, "nan.example", &nan_score, 42, 1000, 3600);
	dp_vcache_note(vc, "big.example", &big, 42, 1000, 3600);
	dp_vcache_note(vc, "tech.example", &tech, 42, 1000, 3600);
	dp_vcache_note(vc, "raw.example", &raw, 42, 1000, 3600);
	dp_vcache_note(vc, "army.mil", &hijack, 42, 1000, 3600);
	dp_vcache_flush(vc);
	ASSERT_EQ(dp_vcache_get(vc, "nan.example", 1001, &r), 0);
	ASSERT_EQ(dp_vcache_get(vc, "big.example", 1001, &r), 0);
	ASSERT_EQ(dp_vcache_get(vc, "tech.example", 1001, &r), 0);
	ASSERT_EQ(dp_vcache_get(vc, "raw.example", 1001, &r), 0);
	ASSERT_EQ(dp_vcache_get(vc, "army.mil", 1001, &r), 1);
	dp_vcache_close(vc);
}

static char said[1024];
static int said_count;

static void
say(const char* msg)
{
	snprintf(said, sizeof(said), "%s", msg);
	said_count++;
}

static void
test_changed_under_writer(void)
{
	/* The resolver's cache file, written over in place with garbage
	 * (cp other-file cache.mdb) while the module runs: lookups go on
	 * from memory (they read the map and died of SIGBUS), the writer
	 * says once that the file changed, and stops writing to it. */
	struct dp_vcache* vc;
	struct dp_error err;
	struct dp_vrecord r;
	struct dp_verdict v = verdict("army.mil", "tld-swap", 0.95);
	char junk[3000];
	FILE* f;
	int i;
	ASSERT_EQ(dp_vcache_open(path, 1 << 20, 1, &vc, &err), DP_OK);
	if(!vc)
		return;
	dp_vcache_set_log(vc, say, path);
	said_count = 0;
	dp_vcache_note(vc, "army.ml", &v, 42, 1000, 3600);
	dp_vcache_flush(vc);
	for(i = 0; i < (int)sizeof(junk); i++)
		junk[i] = (char)(i * 37 + 11);
	ASSERT((f = fopen(path, "w")) != NULL);
	if(f) {
		fwrite(junk, 1, sizeof(junk), f);
		fclose(f);
	}
	ASSERT_EQ(dp_vcache_get(vc, "army.ml", 2000, &r), 1);
	ASSERT_STR_EQ(r.target, "army.mil");
	dp_vcache_note(vc, "navy.ml", &v, 42, 1000, 3600);
	dp_vcache_flush(vc);
	dp_vcache_note(vc, "af.ml", &v, 42, 1000, 3600);
	dp_vcache_flush(vc);
	ASSERT_EQ(said_count, 1);
	ASSERT(strstr(said, "changed under the resolver") != NULL);
	ASSERT(strstr(said, path) != NULL);
	ASSERT_EQ(dp_vcache_get(vc, "navy.ml", 2000, &r), 1);
	ASSERT_EQ(dp_vcache_get(vc, "army.ml", 2000, &r), 1);
	ASSERT_EQ(r.hits, 1);
	dp_vcache_close(vc);
	/* the garbage is refused at the next open */
	ASSERT(dp_vcache_open(path, 1 << 20, 1, &vc, &err) != DP_OK);
	unlink(path);
}

static void
test_memory_bounded(void)
{
	/* A million distinct flagged names: memory holds at most 4 per set
	 * (4,096 for a 1 MB map), the newest are found, hits merge. */
	struct dp_vcache* vc;
	struct dp_error err;
	struct dp_vrecord r;
	struct dp_verdict v = verdict("paypal.com", "homoglyph", 0.9);
	char n[64];
	int i, found = 0;
	ASSERT_EQ(dp_vcache_open(path, 1 << 20, 1, &vc, &err), DP_OK);
	if(!vc)
		return;
	for(i = 0; i < 1000000; i++) {
		snprintf(n, sizeof(n), "p%07d.example", i);
		dp_vcache_note(vc, n, &v, 1, 1000 + (uint64_t)i, 3600000);
	}
	for(i = 0; i < 1000000; i++) {
		snprintf(n, sizeof(n), "p%07d.example", i);
		found += dp_vcache_get(vc, n, 2000, &r);
	}
	ASSERT(found > 0 && found <= 4096);
	found = 0;
	for(i = 999000; i < 1000000; i++) {
		snprintf(n, sizeof(n), "p%07d.example", i);
		found += dp_vcache_get(vc, n, 2000, &r);
	}
	ASSERT(found > 700);
	dp_vcache_note(vc, "p0999999.example", &v, 1, 5000, 3600);
	ASSERT_EQ(dp_vcache_get(vc, "p0999999.example", 5001, &r), 1);
	ASSERT_EQ(r.hits, 2);
	ASSERT_EQ(r.first_seen, 1000 + 999999);
	dp_vcache_close(vc);
	unlink(path);
}

/* Pages LMDB would follow without checking them: a node offset out of
 * its page, a child past the last page, a root on a meta page.  Each is
 * refused at open (LMDB faulted on such files: found by fuzz_vcachefile). */
static void
test_crafted_pages(void)
{
	struct dp_vcache* vc;
	struct dp_error err;
	struct dp_verdict v = verdict("army.mil", "tld-swap", 0.95);
	char f[300];
	unsigned char page[4096];
	uint64_t root, bad;
	uint16_t off;
	FILE* fp;
	int i, kind;
	test_path(f, sizeof(f), "crafted.mdb");
	for(kind = 0; kind < 5; kind++) {
		unlink(f);
		ASSERT_EQ(dp_vcache_open(f, 1 << 20, 0, &vc, &err), DP_OK);
		if(!vc)
			return;
		for(i = 0; i < 400; i++) {
			char name[64];
			snprintf(name, sizeof(name), "n%d.army.ml", i);
			dp_vcache_note(vc, name, &v, 42, 1000, 3600);
		}
		dp_vcache_close(vc);
		ASSERT((fp = fopen(f, "r+b")) != NULL);
		if(!fp)
			return;
		/* the newer meta page's main root (both pages hold one) */
		for(i = 0, root = 0; i < 2; i++) {
			uint64_t txn, r;
			ASSERT(fseek(fp, i * 4096 + 16 + 128, SEEK_SET) == 0);
			ASSERT(fread(&txn, 8, 1, fp) == 1);
			ASSERT(fseek(fp, i * 4096 + 16 + 112, SEEK_SET) == 0);
			ASSERT(fread(&r, 8, 1, fp) == 1);
			if(i == 0 || (txn & 1))
				root = r;
		}
		ASSERT(fseek(fp, (long)(root * 4096), SEEK_SET) == 0);
		ASSERT(fread(page, 1, sizeof(page), fp) == sizeof(page));
		if(kind == 0) {
			/* the first node's offset, past the page */
			off = 4095;
			memcpy(page + 16, &off, 2);
		} else if(kind == 1) {
			/* a branch whose first child is far past the end */
			memcpy(&off, page + 16, 2);
			bad = 1000000;
			if(page[10] & 1)
				memcpy(page + off, &bad, 4);
			else
				page[10] = 0x40; /* a sub-page: no such here */
		} else if(kind == 3) {
			/* a main tree of more levels than any file holds
			 * (the pages stay as they are) */
			off = 65535;
			ASSERT(fseek(fp, 16 + 78, SEEK_SET) == 0);
			ASSERT(fwrite(&off, 2, 1, fp) == 1);
		} else if(kind == 4) {
			/* page 0 holds the newest transaction, with an odd
			 * number: LMDB would take the trees of page 1 */
			uint64_t t0, t1;
			ASSERT(fseek(fp, 16 + 128, SEEK_SET) == 0);
			ASSERT(fread(&t0, 8, 1, fp) == 1);
			ASSERT(fseek(fp, 4096 + 16 + 128, SEEK_SET) == 0);
			ASSERT(fread(&t1, 8, 1, fp) == 1);
			bad = (t0 > t1 ? t0 : t1) * 2 + 1;
			ASSERT(fseek(fp, 16 + 128, SEEK_SET) == 0);
			ASSERT(fwrite(&bad, 8, 1, fp) == 1);
		} else {
			/* the root on a meta page */
			bad = 1;
			ASSERT(fseek(fp, 16 + 112, SEEK_SET) == 0);
			ASSERT(fwrite(&bad, 8, 1, fp) == 1);
			ASSERT(fseek(fp, 4096 + 16 + 112, SEEK_SET) == 0);
			ASSERT(fwrite(&bad, 8, 1, fp) == 1);
		}
		if(kind < 2) {
			ASSERT(fseek(fp, (long)(root * 4096), SEEK_SET) == 0);
			ASSERT(fwrite(page, 1, sizeof(page), fp) ==
				sizeof(page));
		}
		fclose(fp);
		vc = NULL;
		ASSERT(dp_vcache_open(f, 1 << 20, 1, &vc, &err) != DP_OK);
		ASSERT(vc == NULL);
		ASSERT(strstr(err.msg, "corrupt") != NULL);
	}
	unlink(f);
}

static const struct test_entry tests[] = {
	TEST_ENTRY(round_trip_and_restart),
	TEST_ENTRY(changed_under_writer),
	TEST_ENTRY(memory_bounded),
	TEST_ENTRY(full_map),
	TEST_ENTRY(not_a_cache),
	TEST_ENTRY(records_not_verdicts),
	TEST_ENTRY(cut_short),
	TEST_ENTRY(crafted_pages),
};

TEST_MAIN_WITH("vcache", tests, setup, teardown)
