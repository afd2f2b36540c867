/*
 * tests/geo/test_geo.c - check the country .mmdb writer against the text
 * ranges it was built from, through libmaxminddb and mmdblookup.
 *
 * The expected answers come from a separate, simpler reading of tor's
 * files (sscanf, byte arrays, memcmp) rather than from the writer's own
 * parser, so a parsing mistake in the writer shows up as a mismatch.
 *
 * Usage: test_geo [TOR4 TOR6]   (defaults: Debian's tor-geoipdb files)
 * Prints "PASS geo/NAME" or "FAIL geo/NAME: why" per test, with details
 * on indented lines and figures on "# " lines; exits 1 if any failed.
 * Set DOPPEL_GEO_BIG=1 to also build a ~17M-node tree that needs 28-bit
 * records (slow: about 120 MB of file).
 */
#include "mmdb_write.h"
#include "../unit/test_dir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

/** Random addresses checked against the text ranges. */
#define NUM_RANDOM 100000
/** Mismatches shown in detail per test. */
#define SHOW_MAX 5

/** One range as the test reads it: big-endian 16-byte addresses. */
struct trange {
	uint8_t s[16];
	uint8_t e[16];
	/** country, or "??" for unknown (not in the database) */
	char cc[3];
};

/** A sorted list of ranges of one family. */
struct tlist {
	struct trange* r;
	size_t n;
	size_t cap;
};

/** State shared by the tests. */
static struct {
	const char* tor4;
	const char* tor6;
	const char* dir;
	char db_path[300];
	int db_ok;
	MMDB_s db;
	struct dp_geo_info info;
	struct tlist v4;
	struct tlist v6;
	int failures;
	uint64_t rng;
} g;

/** Failures in the running test. */
static int test_failures;
/** The first failure's reason, for the FAIL line. */
static char test_reason[512];

/** Record a failure; the first one's text goes on the FAIL line. */
static void
fail(const char* fmt, ...)
#ifdef __GNUC__
	__attribute__((format(printf, 1, 2)))
#endif
	;

static void
fail(const char* fmt, ...)
{
	va_list ap;
	char buf[512];
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if(test_failures == 0)
		snprintf(test_reason, sizeof(test_reason), "%s", buf);
	else if(test_failures <= SHOW_MAX)
		printf("    %s\n", buf);
	test_failures++;
}

#define CHECK(cond)                                                         \
	do {                                                                \
		if(!(cond))                                                 \
			fail("%s:%d: check failed: %s", __FILE__, __LINE__, \
				#cond);                                     \
	} while(0)

#define CHECK_EQ(a, b)                                                      \
	do {                                                                \
		long long a_ = (long long)(a), b_ = (long long)(b);         \
		if(a_ != b_)                                                \
			fail("%s:%d: %s == %s: %lld != %lld", __FILE__,     \
				__LINE__, #a, #b, a_, b_);                  \
	} while(0)

/** splitmix64: a fixed-seed generator, the same on every platform. */
static uint64_t
rnd(void)
{
	uint64_t z = (g.rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The test's own reading of tor's files.
 */

static void
v4_bytes(uint32_t a, uint8_t out[16])
{
	memset(out, 0, 16);
	out[12] = (uint8_t)(a >> 24);
	out[13] = (uint8_t)(a >> 16);
	out[14] = (uint8_t)(a >> 8);
	out[15] = (uint8_t)a;
}

static int
trange_cmp(const void* a, const void* b)
{
	return memcmp(((const struct trange*)a)->s,
		((const struct trange*)b)->s, 16);
}

/** Read a tor file the simple way; 0 on any trouble. */
static int
tlist_read(struct tlist* l, const char* path, int v6)
{
	char line[512], a[128], b[128], cc[8];
	FILE* f = fopen(path, "r");
	if(!f)
		return 0;
	while(fgets(line, sizeof(line), f)) {
		struct trange t;
		char* c;
		if(line[0] == '#' || line[0] == '\n')
			continue;
		for(c = line; *c; c++)
			if(*c == ',')
				*c = ' ';
		if(sscanf(line, "%127s %127s %7s", a, b, cc) != 3)
			goto bad;
		if(v6) {
			if(inet_pton(AF_INET6, a, t.s) != 1 ||
				inet_pton(AF_INET6, b, t.e) != 1)
				goto bad;
		} else {
			v4_bytes((uint32_t)strtoul(a, NULL, 10), t.s);
			v4_bytes((uint32_t)strtoul(b, NULL, 10), t.e);
		}
		if(strlen(cc) != 2)
			goto bad;
		memcpy(t.cc, cc, 3);
		if(l->n == l->cap) {
			struct trange* n;
			l->cap = l->cap ? l->cap * 2 : 4096;
			if(!(n = realloc(l->r, l->cap * sizeof(*n))))
				goto bad;
			l->r = n;
		}
		l->r[l->n++] = t;
	}
	fclose(f);
	qsort(l->r, l->n, sizeof(l->r[0]), trange_cmp);
	return 1;
bad:
	fclose(f);
	return 0;
}

/** The country the text ranges give an address: "" if none or "??". */
static const char*
tlist_find(const struct tlist* l, const uint8_t a[16])
{
	size_t lo = 0, hi = l->n;
	/* Last range starting at or before a. */
	while(lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if(memcmp(l->r[m].s, a, 16) <= 0)
			lo = m + 1;
		else
			hi = m;
	}
	if(lo == 0 || memcmp(l->r[lo - 1].e, a, 16) < 0 ||
		strcmp(l->r[lo - 1].cc, "??") == 0)
		return "";
	return l->r[lo - 1].cc;
}

/** a + 1 (or - 1 if down); 0 if it wraps. */
static int
step(uint8_t a[16], int down)
{
	int i;
	for(i = 15; i >= 0; i--) {
		if(down) {
			if(a[i]-- != 0)
				return 1;
		} else {
			if(++a[i] != 0)
				return 1;
		}
	}
	return 0;
}

/*
 * Looking up.
 */

/**
 * Look an address up: v4 as sockaddr_in when mode is 4, else the 16 bytes
 * as sockaddr_in6.
 * @return 1 and the country in cc, 0 if not found, -1 on error.
 */
static int
lookup(MMDB_s* db, const uint8_t a[16], int mode, char cc[3])
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	const struct sockaddr* sa;
	MMDB_lookup_result_s res;
	MMDB_entry_data_s d;
	int err;
	if(mode == 4) {
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		memcpy(&s4.sin_addr, a + 12, 4);
		sa = (const struct sockaddr*)&s4;
	} else {
		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		memcpy(&s6.sin6_addr, a, 16);
		sa = (const struct sockaddr*)&s6;
	}
	res = MMDB_lookup_sockaddr(db, sa, &err);
	if(err != MMDB_SUCCESS)
		return -1;
	if(!res.found_entry)
		return 0;
	if(MMDB_get_value(&res.entry, &d, "country", "iso_code", NULL) !=
		MMDB_SUCCESS || !d.has_data ||
		d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size != 2)
		return -1;
	memcpy(cc, d.utf8_string, 2);
	cc[2] = 0;
	return 1;
}

/** Text form of an address for messages. */
static const char*
addr_str(const uint8_t a[16], int v4, char* buf, size_t len)
{
	if(v4)
		inet_ntop(AF_INET, a + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a, buf, (socklen_t)len);
	return buf;
}

/**
 * Check one address: the database (in the given lookup mode) must say
 * what the text ranges say.
 * @return 1 if it agrees.
 */
static int
agree(MMDB_s* db, const struct tlist* l, const uint8_t key[16],
	const uint8_t q[16], int mode, int v4)
{
	const char* want = tlist_find(l, key);
	char got[3] = "", s[INET6_ADDRSTRLEN];
	int r = lookup(db, q, mode, got);
	if(r >= 0 && strcmp(want, got) == 0)
		return 1;
	fail("%s: expected %s, got %s", addr_str(q, v4 && mode == 4, s,
		sizeof(s)), *want ? want : "not found",
		r < 0 ? "an error" : r == 0 ? "not found" : got);
	return 0;
}

/*
 * Helpers for files.
 */

static void
path_in_dir(char* out, size_t len, const char* name)
{
	snprintf(out, len, "%s/%s", g.dir, name);
}

static int
write_file(const char* path, const char* text)
{
	FILE* f = fopen(path, "w");
	if(!f)
		return 0;
	fputs(text, f);
	return fclose(f) == 0;
}

/** Build a database from a fixture text; 1 if it worked. */
static int
build_fixture(const char* name, const char* text, const char* db_path,
	struct dp_geo_info* info)
{
	char fx[256];
	struct dp_geo_ranges* gr = dp_geo_ranges_create();
	struct dp_error err;
	int ok = 0;
	path_in_dir(fx, sizeof(fx), name);
	if(!gr || !write_file(fx, text)) {
		fail("cannot write %s", fx);
		goto cleanup;
	}
	if(dp_geo_ranges_read_cidr(gr, fx, &err) != DP_OK ||
		dp_geo_write_mmdb(gr, db_path, NULL, info, &err) != DP_OK) {
		fail("%s", err.msg);
		goto cleanup;
	}
	ok = 1;
cleanup:
	dp_geo_ranges_free(gr);
	return ok;
}

/*
 * The tests.
 */

/** Build from the real tor files; time it. */
static void
test_build_tor(void)
{
	struct dp_geo_ranges* gr = dp_geo_ranges_create();
	struct dp_error err;
	struct stat sb;
	double t0 = now(), t1;
	int st;
	CHECK(gr != NULL);
	if(!gr)
		return;
	if(dp_geo_ranges_read_tor(gr, g.tor4, DP_GEO_V4, &err) != DP_OK ||
		dp_geo_ranges_read_tor(gr, g.tor6, DP_GEO_V6, &err) != DP_OK ||
		dp_geo_write_mmdb(gr, g.db_path, NULL, &g.info, &err) !=
		DP_OK) {
		fail("%s", err.msg);
		goto cleanup;
	}
	t1 = now();
	CHECK(stat(g.db_path, &sb) == 0);
	CHECK_EQ(sb.st_size, g.info.file_size);
	CHECK_EQ(sb.st_mode & 0777, 0644);
	printf("# geo: built %s from %zu ranges (%zu unknown skipped) in "
		"%.3f s: %llu bytes, %u nodes, %u-bit records, %u "
		"countries\n", g.db_path, gr->num, gr->skipped, t1 - t0,
		(unsigned long long)g.info.file_size,
		(unsigned)g.info.node_count, (unsigned)g.info.record_size,
		(unsigned)g.info.countries);
	/* Generous: the point is to notice a quadratic build. */
	if(t1 - t0 > 30.0)
		fail("build took %.1f s", t1 - t0);
	st = MMDB_open(g.db_path, MMDB_MODE_MMAP, &g.db);
	if(st != MMDB_SUCCESS)
		fail("MMDB_open: %s", MMDB_strerror(st));
	else
		g.db_ok = 1;
	if(!tlist_read(&g.v4, g.tor4, 0) || !tlist_read(&g.v6, g.tor6, 1))
		fail("cannot read the tor files for the expected answers");
cleanup:
	dp_geo_ranges_free(gr);
}

/** The metadata says what the format and the brief require. */
static void
test_metadata(void)
{
	MMDB_metadata_s* m = &g.db.metadata;
	if(!g.db_ok) {
		fail("no database");
		return;
	}
	CHECK_EQ(m->binary_format_major_version, 2);
	CHECK_EQ(m->binary_format_minor_version, 0);
	CHECK_EQ(m->ip_version, 6);
	CHECK_EQ(m->node_count, g.info.node_count);
	CHECK_EQ(m->record_size, g.info.record_size);
	CHECK_EQ(m->build_epoch, g.info.build_epoch);
	CHECK(m->database_type &&
		strcmp(m->database_type, "doppel-country") == 0);
	CHECK(m->languages.count == 1 &&
		strcmp(m->languages.names[0], "en") == 0);
	CHECK(m->description.count == 1 &&
		strcmp(m->description.descriptions[0]->language, "en") == 0 &&
		strstr(m->description.descriptions[0]->description,
		"IPFire Location data CC BY-SA 4.0") != NULL);
}

/** Follow an address's bits from the root for `bits` levels. */
static uint64_t
walk(MMDB_s* db, const uint8_t a[16], int bits, int* depth)
{
	MMDB_search_node_s n;
	uint64_t rec = 0;
	uint32_t node = 0;
	int i;
	*depth = 0;
	for(i = 0; i < bits; i++) {
		if(MMDB_read_node(db, node, &n) != MMDB_SUCCESS)
			return ~0ULL;
		rec = (a[i / 8] >> (7 - i % 8)) & 1 ? n.right_record :
			n.left_record;
		if(rec >= db->metadata.node_count)
			break;
		node = (uint32_t)rec;
	}
	*depth = i;
	return rec;
}

static int
u64_cmp(const void* a, const void* b)
{
	uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
	return x < y ? -1 : x > y;
}

/**
 * Every record is a node, empty or data; every data record decodes to a
 * country; there is one data record per country; ::ffff:0:0/96 leads to
 * the same IPv4 subtree as ::/96.
 */
static void
test_tree(void)
{
	MMDB_search_node_s n;
	uint32_t i, nc = g.db.metadata.node_count;
	uint64_t* data = NULL;
	size_t nd = 0, distinct = 0, k;
	uint8_t zero[16], mapped[16];
	int d1, d2, side, back = 0;
	uint64_t v4node;
	if(!g.db_ok) {
		fail("no database");
		return;
	}
	memset(zero, 0, sizeof(zero));
	v4node = walk(&g.db, zero, 96, &d1);
	if(!(data = malloc(2 * (size_t)nc * sizeof(*data)))) {
		fail("out of memory");
		return;
	}
	for(i = 0; i < nc; i++) {
		if(MMDB_read_node(&g.db, i, &n) != MMDB_SUCCESS) {
			fail("node %u: cannot read", (unsigned)i);
			break;
		}
		for(side = 0; side < 2; side++) {
			uint8_t type = side ? n.right_record_type :
				n.left_record_type;
			uint64_t rec = side ? n.right_record : n.left_record;
			MMDB_entry_s e = side ? n.right_record_entry :
				n.left_record_entry;
			MMDB_entry_data_s d;
			if(type == MMDB_RECORD_TYPE_INVALID)
				fail("node %u: invalid record %llu",
					(unsigned)i, (unsigned long long)rec);
			/* Only the IPv4-mapped alias may point back. */
			if(type == MMDB_RECORD_TYPE_SEARCH_NODE && rec <= i &&
				(rec != v4node || ++back > 1))
				fail("node %u: points back to node %llu",
					(unsigned)i, (unsigned long long)rec);
			if(type != MMDB_RECORD_TYPE_DATA)
				continue;
			data[nd++] = rec;
			if(MMDB_get_value(&e, &d, "country", "iso_code",
				NULL) != MMDB_SUCCESS || !d.has_data ||
				d.data_size != 2)
				fail("node %u: data record %llu has no "
					"country.iso_code", (unsigned)i,
					(unsigned long long)rec);
		}
	}
	qsort(data, nd, sizeof(*data), u64_cmp);
	for(k = 0; k < nd; k++)
		if(k == 0 || data[k] != data[k - 1])
			distinct++;
	CHECK_EQ(distinct, g.info.countries);
	memcpy(mapped, zero, sizeof(mapped));
	mapped[10] = mapped[11] = 0xff;
	CHECK_EQ(walk(&g.db, zero, 96, &d1), walk(&g.db, mapped, 96, &d2));
	CHECK_EQ(d1, 96);
	CHECK_EQ(d2, 96);
	CHECK_EQ(back, 1);
	printf("# geo: %u nodes, %zu data records, %zu distinct\n",
		(unsigned)nc, nd, distinct);
	free(data);
}

/** 100,000 random IPv4 addresses, as IPv4, IPv4-mapped and
 * IPv4-compatible. */
static void
test_ipv4_random(void)
{
	uint8_t a[16], m[16];
	size_t i, bad = 0, found = 0;
	char cc[3];
	if(!g.db_ok) {
		fail("no database");
		return;
	}
	g.rng = 20240601;
	for(i = 0; i < NUM_RANDOM; i++) {
		v4_bytes((uint32_t)rnd(), a);
		memcpy(m, a, 16);
		m[10] = m[11] = 0xff;
		bad += !agree(&g.db, &g.v4, a, a, 4, 1);
		bad += !agree(&g.db, &g.v4, a, m, 6, 0);
		bad += !agree(&g.db, &g.v4, a, a, 6, 0);
		found += lookup(&g.db, a, 4, cc) == 1;
	}
	printf("# geo: ipv4_random: %d addresses x 3 forms, %zu in a "
		"country, %zu mismatches\n", NUM_RANDOM, found, bad);
}

/**
 * Both ends of every range, and the addresses just outside, whatever
 * covers them (a neighbour, a "??" range, or nothing).
 */
static void
check_range_ends(const struct tlist* l, int v4)
{
	size_t i, bad = 0, n = 0;
	int mode = v4 ? 4 : 6;
	for(i = 0; i < l->n; i++) {
		uint8_t a[16];
		bad += !agree(&g.db, l, l->r[i].s, l->r[i].s, mode, v4);
		bad += !agree(&g.db, l, l->r[i].e, l->r[i].e, mode, v4);
		n += 2;
		memcpy(a, l->r[i].s, 16);
		if(step(a, 1) && (!v4 || (a[11] == 0 && a[10] == 0))) {
			bad += !agree(&g.db, l, a, a, mode, v4);
			n++;
		}
		memcpy(a, l->r[i].e, 16);
		if(step(a, 0) && (!v4 || (a[11] == 0 && a[10] == 0 &&
			a[9] == 0 && a[8] == 0))) {
			bad += !agree(&g.db, l, a, a, mode, v4);
			n++;
		}
	}
	printf("# geo: %s range ends: %zu ranges, %zu addresses, %zu "
		"mismatches\n", v4 ? "IPv4" : "IPv6", l->n, n, bad);
}

static void
test_ipv4_range_ends(void)
{
	if(!g.db_ok) {
		fail("no database");
		return;
	}
	check_range_ends(&g.v4, 1);
}

static void
test_ipv6_range_ends(void)
{
	if(!g.db_ok) {
		fail("no database");
		return;
	}
	check_range_ends(&g.v6, 0);
}

/** Random addresses inside random IPv6 ranges, and fully random ones in
 * 2000::/3. */
static void
test_ipv6_random(void)
{
	uint8_t a[16];
	size_t i, j, bad = 0;
	if(!g.db_ok || g.v6.n == 0) {
		fail("no database");
		return;
	}
	g.rng = 6;
	for(i = 0; i < NUM_RANDOM; i++) {
		const struct trange* t = &g.v6.r[rnd() % g.v6.n];
		/* Start, with random low bits where start and end differ. */
		for(j = 0; j < 16; j++)
			a[j] = t->s[j];
		for(j = 0; j < 16 && t->s[j] == t->e[j]; j++)
			;
		for(j++; j < 16; j++)
			a[j] = (uint8_t)rnd();
		if(memcmp(a, t->e, 16) > 0)
			memcpy(a, t->e, 16);
		bad += !agree(&g.db, &g.v6, a, a, 6, 0);
		for(j = 0; j < 16; j++)
			a[j] = (uint8_t)rnd();
		a[0] = (uint8_t)(0x20 | (a[0] & 0x1f));
		bad += !agree(&g.db, &g.v6, a, a, 6, 0);
	}
	printf("# geo: ipv6_random: %d x 2 addresses, %zu mismatches\n",
		NUM_RANDOM, bad);
}

/** mmdblookup reads the file and gives 8.8.8.8 the text's country. */
static void
test_mmdblookup(void)
{
	char cmd[512], line[256], *q;
	uint8_t a[16];
	const char* want;
	FILE* p;
	int got = 0;
	if(!g.db_ok) {
		fail("no database");
		return;
	}
	v4_bytes(0x08080808, a);
	want = tlist_find(&g.v4, a);
	snprintf(cmd, sizeof(cmd), "mmdblookup --file '%s' --ip 8.8.8.8 "
		"country iso_code 2>&1", g.db_path);
	if(!(p = popen(cmd, "r"))) {
		fail("popen: %s", strerror(errno));
		return;
	}
	while(fgets(line, sizeof(line), p))
		if((q = strchr(line, '"')) && strstr(q, "<utf8_string>")) {
			got = 1;
			if(strncmp(q + 1, want, 2) != 0 || q[3] != '"')
				fail("mmdblookup said %s, expected \"%s\"", q,
					want);
		}
	if(pclose(p) != 0)
		fail("mmdblookup failed (is mmdb-bin installed?)");
	else if(!got)
		fail("mmdblookup printed no string");
}

/** A malformed range file and the message it must give. */
struct bad_case {
	const char* name;
	/** 4 or 6: a tor file; 0: a fixture */
	int kind;
	const char* text;
	/** the line the message must name */
	int line;
	/** words the message must contain */
	const char* words;
};

static const struct bad_case bad_cases[] = {
	{ "v4_fields", 4, "# c\n1,2\n", 2, "expected START,END,COUNTRY" },
	{ "v4_more_fields", 4, "1,5,US,x\n", 1, "more fields" },
	{ "v4_bad_number", 4, "1,2,US\nabc,5,US\n", 2, "bad IPv4 start 'abc'" },
	{ "v4_too_big", 4, "1,4294967296,US\n", 1, "bad IPv4 end" },
	{ "v4_negative", 4, "-1,5,US\n", 1, "bad IPv4 start" },
	{ "v4_start_after_end", 4, "\n\n10,5,US\n", 3, "is after its end" },
	{ "v4_unknown_start_after_end", 4, "10,5,??\n", 1, "is after its end" },
	{ "v4_bad_cc", 4, "1,5,U1\n", 1, "bad country code 'U1'" },
	{ "v4_long_cc", 4, "1,5,USA\n", 1, "bad country code 'USA'" },
	{ "v4_overlap", 4, "1,10,US\n11,12,DE\n5,20,FR\n", 3,
		"overlaps range 0.0.0.1-0.0.0.10 at" },
	{ "v6_bad_end", 6, "2001:db8::,2001:db8::zz,US\n", 1,
		"bad IPv6 end '2001:db8::zz'" },
	{ "v6_ipv4_text", 6, "1.2.3.4,1.2.3.5,US\n", 1, "bad IPv6 start" },
	{ "v6_start_after_end", 6, "2001:db8::ffff,2001:db8::,US\n", 1,
		"is after its end" },
	{ "v6_mapped", 6, "::ffff:1.2.3.0,::ffff:1.2.3.255,US\n", 1,
		"give IPv4 ranges as IPv4" },
	{ "v6_compat", 6, "::1,::2,US\n", 1, "touches ::/96" },
	{ "v6_overlap", 6, "2001:db8::,2001:db8::ff,US\n"
		"2001:db8::80,2001:db9::,US\n", 2, "overlaps" },
	{ "fixture_host_bits", 0, "# lab\n192.0.2.1/24 ML\n", 2,
		"did you mean 192.0.2.0/24?" },
	{ "fixture_v6_host_bits", 0, "2001:db8::1/32 US\n", 1,
		"did you mean 2001:db8::/32?" },
	{ "fixture_prefix_len", 0, "192.0.2.0/33 ML\n", 1,
		"bad prefix length '/33'" },
	{ "fixture_no_cc", 0, "192.0.2.0/24\n", 1, "expected 'CIDR COUNTRY'" },
	{ "fixture_extra", 0, "192.0.2.0/24 ML x\n", 1,
		"expected 'CIDR COUNTRY'" },
	{ "fixture_unknown_cc", 0, "192.0.2.0/24 ??\n", 1, "bad country code" },
	{ "fixture_bad_addr", 0, "300.0.2.0/24 ML\n", 1, "bad address" },
	{ "fixture_decimal", 0, "3221225984 ML\n", 1, "bad address" },
	{ "fixture_overlap", 0, "192.0.2.128/25 US\n192.0.2.0/24 ML\n", 2,
		"overlaps range 192.0.2.128-192.0.2.255 at" },
};

/** Each malformed file fails with "FILE:LINE: what" and changes nothing. */
static void
test_bad_files(void)
{
	size_t i;
	struct dp_geo_ranges* gr = dp_geo_ranges_create();
	char path[256], want[512], big[2100];
	struct dp_error err;
	dp_status st;
	if(!gr) {
		fail("out of memory");
		return;
	}
	/* A good range first: a failed read must leave it alone. */
	path_in_dir(path, sizeof(path), "good.txt");
	CHECK(write_file(path, "203.0.113.0/24 US\n"));
	CHECK_EQ(dp_geo_ranges_read_cidr(gr, path, &err), DP_OK);
	for(i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case* c = &bad_cases[i];
		char name[128];
		snprintf(name, sizeof(name), "bad-%s.txt", c->name);
		path_in_dir(path, sizeof(path), name);
		if(!write_file(path, c->text)) {
			fail("cannot write %s", path);
			continue;
		}
		err.msg[0] = 0;
		st = c->kind ? dp_geo_ranges_read_tor(gr, path, c->kind, &err) :
			dp_geo_ranges_read_cidr(gr, path, &err);
		snprintf(want, sizeof(want), "%s:%d: ", path, c->line);
		if(st != DP_ERR_SYNTAX || strncmp(err.msg, want,
			strlen(want)) != 0 || !strstr(err.msg, c->words))
			fail("%s: status %d, message '%s'; expected '%s...%s'",
				c->name, (int)st, err.msg, want, c->words);
		if(gr->num != 1 || gr->num_files != 1 || gr->skipped != 0)
			fail("%s: the failed read left %zu ranges, %zu files",
				c->name, gr->num, gr->num_files);
	}
	/* Overlap across files names both. */
	path_in_dir(path, sizeof(path), "overlap2.txt");
	CHECK(write_file(path, "\n203.0.113.64/26 DE\n"));
	st = dp_geo_ranges_read_cidr(gr, path, &err);
	snprintf(want, sizeof(want), "%s:2: range 203.0.113.64-203.0.113.127 "
		"overlaps range 203.0.113.0-203.0.113.255 at %s/good.txt:1",
		path, g.dir);
	if(st != DP_ERR_SYNTAX || strcmp(err.msg, want) != 0)
		fail("cross-file overlap: '%s', expected '%s'", err.msg, want);
	/* A line too long. */
	memset(big, '1', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = 0;
	path_in_dir(path, sizeof(path), "long.txt");
	CHECK(write_file(path, big));
	st = dp_geo_ranges_read_tor(gr, path, DP_GEO_V4, &err);
	snprintf(want, sizeof(want), "%s:1: line longer than", path);
	if(st != DP_ERR_SYNTAX || strncmp(err.msg, want, strlen(want)) != 0)
		fail("long line: '%s'", err.msg);
	/* A missing file. */
	path_in_dir(path, sizeof(path), "missing.txt");
	st = dp_geo_ranges_read_tor(gr, path, DP_GEO_V4, &err);
	snprintf(want, sizeof(want), "%s: cannot open: ", path);
	if(st != DP_ERR_IO || strncmp(err.msg, want, strlen(want)) != 0)
		fail("missing file: status %d, '%s'", (int)st, err.msg);
	/* A bad family. */
	CHECK_EQ(dp_geo_ranges_read_tor(gr, path, 5, &err), DP_ERR_SYNTAX);
	CHECK_EQ(gr->num, 1);
	CHECK_EQ(gr->num_files, 1);
	dp_geo_ranges_free(gr);
}

/** One lookup in a fixture database and the answer expected. */
struct fixture_case {
	const char* addr;
	/** "" for not found */
	const char* cc;
};

static const char fixture_text[] =
	"# the lab's documentation ranges\n"
	"192.0.2.0/24 ML\n"
	"198.51.100.0/24 om   # lower case is fine\n"
	"203.0.113.0/24 US\n"
	"102.165.96.0/20 ML\n"
	"198.18.0.1 FR\n"
	"\n"
	"2001:db8::/32 US\n"
	"3fff::/20 DE\n"
	"2001:db9::1 GB\n";

static const struct fixture_case fixture_cases[] = {
	{ "192.0.2.0", "ML" },
	{ "192.0.2.1", "ML" },
	{ "192.0.2.255", "ML" },
	{ "192.0.1.255", "" },
	{ "192.0.3.0", "" },
	{ "198.51.100.7", "OM" },
	{ "203.0.113.200", "US" },
	{ "102.165.96.0", "ML" },
	{ "102.165.111.255", "ML" },
	{ "102.165.112.0", "" },
	{ "102.165.95.255", "" },
	{ "198.18.0.1", "FR" },
	{ "198.18.0.0", "" },
	{ "198.18.0.2", "" },
	{ "8.8.8.8", "" },
	{ "0.0.0.0", "" },
	{ "255.255.255.255", "" },
	{ "::ffff:192.0.2.1", "ML" },
	{ "::ffff:102.165.100.1", "ML" },
	{ "::ffff:8.8.8.8", "" },
	{ "::192.0.2.1", "ML" },
	{ "2001:db8::", "US" },
	{ "2001:db8::1", "US" },
	{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "US" },
	{ "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "" },
	{ "2001:db9::", "" },
	{ "2001:db9::1", "GB" },
	{ "2001:db9::2", "" },
	{ "3fff:fff:1::", "DE" },
	{ "3fff:1000::", "" },
	{ "::", "" },
	{ "::1", "" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "" },
};

/** Look up a table of addresses in a fixture database. */
static void
check_cases(MMDB_s* db, const struct fixture_case* cases, size_t n)
{
	size_t i;
	for(i = 0; i < n; i++) {
		uint8_t a[16];
		char got[3] = "";
		int r, mode = 6;
		memset(a, 0, sizeof(a));
		if(inet_pton(AF_INET, cases[i].addr, a + 12) == 1)
			mode = 4;
		else if(inet_pton(AF_INET6, cases[i].addr, a) != 1) {
			fail("bad test address %s", cases[i].addr);
			continue;
		}
		r = lookup(db, a, mode, got);
		if(r < 0 || strcmp(got, cases[i].cc) != 0)
			fail("%s: expected %s, got %s", cases[i].addr,
				*cases[i].cc ? cases[i].cc : "not found",
				r < 0 ? "an error" : r == 0 ? "not found" : got);
	}
}

/** The lab's kind of fixture builds and answers as written. */
static void
test_fixture(void)
{
	char db_path[256];
	struct dp_geo_info info;
	MMDB_s db;
	int st;
	path_in_dir(db_path, sizeof(db_path), "fixture.mmdb");
	if(!build_fixture("fixture.txt", fixture_text, db_path, &info))
		return;
	CHECK_EQ(info.countries, 6);
	CHECK_EQ(info.record_size, 24);
	if((st = MMDB_open(db_path, MMDB_MODE_MMAP, &db)) != MMDB_SUCCESS) {
		fail("MMDB_open: %s", MMDB_strerror(st));
		return;
	}
	check_cases(&db, fixture_cases,
		sizeof(fixture_cases) / sizeof(fixture_cases[0]));
	MMDB_close(&db);
}

/** Corner cases: no ranges, only IPv6, one range covering all IPv4. */
static void
test_corners(void)
{
	static const struct {
		const char* text;
		struct fixture_case cases[4];
	} t[] = {
		{ "# nothing\n", { { "8.8.8.8", "" }, { "2001:db8::", "" },
			{ "::ffff:8.8.8.8", "" }, { "::", "" } } },
		{ "2001:db8::/32 US\n", { { "8.8.8.8", "" },
			{ "2001:db8::", "US" }, { "::ffff:8.8.8.8", "" },
			{ "2001:db9::", "" } } },
		{ "0.0.0.0/0 US\n", { { "8.8.8.8", "US" },
			{ "255.255.255.255", "US" }, { "::ffff:1.2.3.4", "US" },
			{ "2001:db8::", "" } } },
		{ "0.0.0.0/1 US\n128.0.0.0/1 US\n::1:0:0/96 DE\n"
			"8000::/1 FR\n", { { "8.8.8.8", "US" },
			{ "::ffff:200.1.2.3", "US" }, { "::1:0:1", "DE" },
			{ "8000::", "FR" } } },
	};
	size_t i;
	for(i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char db_path[256], name[64];
		struct dp_geo_info info;
		MMDB_s db;
		int st;
		snprintf(name, sizeof(name), "corner%zu.mmdb", i);
		path_in_dir(db_path, sizeof(db_path), name);
		snprintf(name, sizeof(name), "corner%zu.txt", i);
		if(!build_fixture(name, t[i].text, db_path, &info))
			continue;
		if((st = MMDB_open(db_path, MMDB_MODE_MMAP, &db)) !=
			MMDB_SUCCESS) {
			fail("corner %zu: MMDB_open: %s", i, MMDB_strerror(st));
			continue;
		}
		check_cases(&db, t[i].cases, 4);
		MMDB_close(&db);
	}
}

/**
 * Neighbouring ranges of one country make the same tree as one range:
 * the tree has no node whose halves are the same record.
 */
static void
test_minimal(void)
{
	static const char* texts[] = {
		"0.0.0.0/0 US\n2001:db8::/32 DE\n",
		"0.0.0.0/1 US\n128.0.0.0/2 US\n192.0.0.0/2 US\n"
		"2001:db8::/33 DE\n2001:db8:8000::/33 DE\n",
	};
	uint32_t nodes[2] = { 0, 0 };
	size_t i;
	for(i = 0; i < 2; i++) {
		char db_path[256], name[64];
		struct dp_geo_info info;
		snprintf(name, sizeof(name), "minimal%zu.mmdb", i);
		path_in_dir(db_path, sizeof(db_path), name);
		snprintf(name, sizeof(name), "minimal%zu.txt", i);
		if(build_fixture(name, texts[i], db_path, &info))
			nodes[i] = info.node_count;
	}
	CHECK_EQ(nodes[0], nodes[1]);
	CHECK(nodes[0] > 0);
}

/** Read a whole file into memory. */
static char*
slurp(const char* path, size_t* len)
{
	FILE* f = fopen(path, "rb");
	char* p = NULL;
	long n;
	if(!f)
		return NULL;
	if(fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
		fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)n + 1)) &&
		fread(p, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	else {
		free(p);
		p = NULL;
	}
	fclose(f);
	return p;
}

/**
 * Writing replaces the file whole and leaves no temporary behind; the same
 * input and SOURCE_DATE_EPOCH give the same bytes; an unwritable target
 * is an error that names it.
 */
static void
test_write_file(void)
{
	char a[256], b[256], bad[300];
	struct dp_geo_ranges* gr = dp_geo_ranges_create();
	struct dp_geo_info info;
	struct dp_error err;
	char *pa = NULL, *pb = NULL;
	size_t la = 0, lb = 0;
	DIR* d;
	struct dirent* e;
	path_in_dir(a, sizeof(a), "repro-a.mmdb");
	path_in_dir(b, sizeof(b), "repro-b.mmdb");
	memset(&info, 0, sizeof(info));
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	CHECK(write_file(a, "not a database\n"));
	CHECK(build_fixture("repro.txt", fixture_text, a, &info));
	CHECK(build_fixture("repro.txt", fixture_text, b, &info));
	unsetenv("SOURCE_DATE_EPOCH");
	CHECK_EQ(info.build_epoch, 1700000000);
	pa = slurp(a, &la);
	pb = slurp(b, &lb);
	CHECK(pa && pb && la == lb && la == info.file_size &&
		memcmp(pa, pb, la) == 0);
	if((d = opendir(g.dir))) {
		while((e = readdir(d)))
			if(strstr(e->d_name, ".mmdb."))
				fail("temporary file left: %s", e->d_name);
		closedir(d);
	}
	snprintf(bad, sizeof(bad), "%s/no/such/dir/x.mmdb", g.dir);
	if(gr && dp_geo_write_mmdb(gr, bad, NULL, NULL, &err) != DP_ERR_IO)
		fail("writing into a missing directory did not fail");
	else if(gr && strncmp(err.msg, bad, strlen(bad)) != 0)
		fail("error does not name the file: %s", err.msg);
	free(pa);
	free(pb);
	dp_geo_ranges_free(gr);
}

/**
 * Enough scattered single addresses to need more than 2^24 nodes: the
 * 28-bit record layout.  Only with DOPPEL_GEO_BIG=1.
 */
static void
test_big(void)
{
	const char* on = getenv("DOPPEL_GEO_BIG");
	char fx[256], db_path[256];
	struct dp_geo_ranges* gr = NULL;
	struct dp_geo_info info;
	struct dp_error err;
	MMDB_s db;
	FILE* f;
	size_t i, n = 160000, bad = 0;
	double t0;
	int st;
	if(!on || strcmp(on, "1") != 0) {
		printf("# geo: big: skipped (set DOPPEL_GEO_BIG=1)\n");
		return;
	}
	path_in_dir(fx, sizeof(fx), "big.txt");
	path_in_dir(db_path, sizeof(db_path), "big.mmdb");
	if(!(f = fopen(fx, "w"))) {
		fail("cannot write %s", fx);
		return;
	}
	g.rng = 28;
	for(i = 0; i < n; i++) {
		uint8_t a[16];
		char s[INET6_ADDRSTRLEN];
		size_t j;
		for(j = 0; j < 16; j++)
			a[j] = (uint8_t)rnd();
		a[0] = (uint8_t)(0x20 | (a[0] & 0x1f));
		fprintf(f, "%s %c%c\n", inet_ntop(AF_INET6, a, s, sizeof(s)),
			'A' + (int)(i % 26), 'A' + (int)(i / 26 % 26));
	}
	fprintf(f, "192.0.2.0/24 ML\n");
	fclose(f);
	t0 = now();
	if(!(gr = dp_geo_ranges_create()) ||
		dp_geo_ranges_read_cidr(gr, fx, &err) != DP_OK ||
		dp_geo_write_mmdb(gr, db_path, NULL, &info, &err) != DP_OK) {
		fail("%s", gr ? err.msg : "out of memory");
		goto cleanup;
	}
	printf("# geo: big: %zu ranges in %.2f s: %u nodes, %u-bit records, "
		"%llu bytes\n", gr->num, now() - t0, (unsigned)info.node_count,
		(unsigned)info.record_size,
		(unsigned long long)info.file_size);
	CHECK(info.record_size == 28);
	if((st = MMDB_open(db_path, MMDB_MODE_MMAP, &db)) != MMDB_SUCCESS) {
		fail("MMDB_open: %s", MMDB_strerror(st));
		goto cleanup;
	}
	for(i = 0; i < gr->num; i++) {
		const struct dp_geo_range* r = &gr->r[i];
		uint8_t a[16];
		char got[3] = "";
		int j;
		for(j = 0; j < 8; j++) {
			a[j] = (uint8_t)(r->start_hi >> (56 - 8 * j));
			a[8 + j] = (uint8_t)(r->start_lo >> (56 - 8 * j));
		}
		if(lookup(&db, a, 6, got) != 1 || got[0] != r->cc[0] ||
			got[1] != r->cc[1])
			bad++;
	}
	CHECK_EQ(bad, 0);
	MMDB_close(&db);
cleanup:
	unlink(fx);
	unlink(db_path);
	dp_geo_ranges_free(gr);
}

static int
dbl_cmp(const void* a, const void* b)
{
	double x = *(const double*)a, y = *(const double*)b;
	return x < y ? -1 : x > y;
}

/** Nanoseconds per lookup: median of rounds over random addresses. */
static void
test_bench(void)
{
	enum { N = 65536, ROUNDS = 15 };
	static struct sockaddr_in s4[N];
	static struct sockaddr_in6 s6[N];
	double t[3][ROUNDS];
	int i, k, r, err;
	size_t found = 0;
	if(!g.db_ok) {
		fail("no database");
		return;
	}
	g.rng = 77;
	for(i = 0; i < N; i++) {
		uint32_t v = (uint32_t)rnd();
		const struct trange* tr = &g.v6.r[rnd() % g.v6.n];
		s4[i].sin_family = AF_INET;
		s4[i].sin_addr.s_addr = htonl(v);
		s6[i].sin6_family = AF_INET6;
		memcpy(&s6[i].sin6_addr, tr->s, 16);
	}
	for(r = 0; r < ROUNDS; r++) {
		for(k = 0; k < 3; k++) {
			double t0 = now();
			for(i = 0; i < N; i++) {
				const struct sockaddr* sa = k == 1 ?
					(const struct sockaddr*)&s6[i] :
					(const struct sockaddr*)&s4[i];
				MMDB_lookup_result_s res =
					MMDB_lookup_sockaddr(&g.db, sa, &err);
				if(k == 2 && res.found_entry) {
					MMDB_entry_data_s d;
					if(MMDB_get_value(&res.entry, &d,
						"country", "iso_code", NULL) ==
						MMDB_SUCCESS && d.has_data)
						found++;
				} else if(res.found_entry)
					found++;
			}
			t[k][r] = (now() - t0) * 1e9 / N;
		}
	}
	for(k = 0; k < 3; k++)
		qsort(t[k], ROUNDS, sizeof(double), dbl_cmp);
	printf("# geo: MMDB_lookup_sockaddr median ns/lookup: IPv4 %.0f, "
		"IPv6 %.0f; IPv4 + MMDB_get_value %.0f (%d rounds of %d; "
		"min %.0f/%.0f/%.0f)\n", t[0][ROUNDS / 2], t[1][ROUNDS / 2],
		t[2][ROUNDS / 2], ROUNDS, N, t[0][0], t[1][0], t[2][0]);
	CHECK(found > 0);
}

struct test_entry {
	const char* name;
	void (*fn)(void);
};

#define TEST_ENTRY(name) { #name, test_##name }

static const struct test_entry tests[] = {
	TEST_ENTRY(build_tor),
	TEST_ENTRY(metadata),
	TEST_ENTRY(tree),
	TEST_ENTRY(ipv4_random),
	TEST_ENTRY(ipv4_range_ends),
	TEST_ENTRY(ipv6_range_ends),
	TEST_ENTRY(ipv6_random),
	TEST_ENTRY(mmdblookup),
	TEST_ENTRY(bad_files),
	TEST_ENTRY(fixture),
	TEST_ENTRY(corners),
	TEST_ENTRY(minimal),
	TEST_ENTRY(write_file),
	TEST_ENTRY(big),
	TEST_ENTRY(bench),
};

int
main(int argc, char** argv)
{
	size_t i;
	int bad = 0;
	g.tor4 = argc > 2 ? argv[1] : DP_GEO_TOR4_PATH;
	g.tor6 = argc > 2 ? argv[2] : DP_GEO_TOR6_PATH;
	g.dir = test_dir();
	snprintf(g.db_path, sizeof(g.db_path), "%s/country.mmdb", g.dir);
	for(i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		test_failures = 0;
		test_reason[0] = 0;
		fflush(stdout);
		tests[i].fn();
		if(test_failures) {
			printf("FAIL geo/%s: %s%s\n", tests[i].name, test_reason,
				test_failures > 1 ? " (and more, above)" : "");
			bad = 1;
		} else
			printf("PASS geo/%s\n", tests[i].name);
	}
	if(g.db_ok)
		MMDB_close(&g.db);
	free(g.v4.r);
	free(g.v6.r);
	return bad;
}
