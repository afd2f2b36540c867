/*
 * geo-data/mmdb_write.c - read tor's geoip range files and "CIDR CC"
 * fixtures, and write them as a MaxMind DB (format 2.0) country database.
 *
 * The file has three parts, as the MaxMind DB File Format Specification
 * describes: a binary search tree with one level per address bit, 16 zero
 * bytes, a data section of MaxMind-encoded values, then the marker
 * "\xAB\xCD\xEFMaxMind.com" and a metadata map.
 *
 * The tree is built straight from the sorted ranges, without splitting
 * them into CIDR prefixes first: a prefix that no range touches is an empty
 * record, a prefix inside one range is a data record, anything else is a
 * node whose halves are built the same way.  Each node finds the ranges of
 * its two halves by a binary search, so the build is about
 * O(nodes * log(ranges)), and a node whose halves come out as the same
 * data record is folded into that record, so the tree is minimal even when
 * neighbouring ranges share a country.
 */
#if !defined(_DEFAULT_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "mmdb_write.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/** Longest line accepted in a range file. */
#define LINE_MAX_LEN 1024

/** ::ffff:0:0, the start of the IPv4-mapped /96 (its high half is 0). */
#define MAPPED_LO 0x0000ffff00000000ULL

/*
 * Record values while the tree is built: a node index, a country, or
 * empty.  They become file record values once the node count is known.
 */
#define REC_EMPTY 0xffffffffu
#define REC_LEAF 0x80000000u
#define REC_IS_NODE(v) ((v) < REC_LEAF)

/** Number of possible two-letter country codes. */
#define NUM_CC (26 * 26)

/** MaxMind DB data types used here. */
enum mm_type {
	MM_STRING = 2,
	MM_UINT16 = 5,
	MM_UINT32 = 6,
	MM_MAP = 7,
	MM_UINT64 = 9,
	MM_ARRAY = 11
};

/** The metadata marker; its last occurrence starts the metadata. */
static const char mm_marker[] = "\xAB\xCD\xEFMaxMind.com";

/** Default description: the data's licence asks for attribution. */
static const char default_description[] =
	"doppel country database built from Debian tor-geoipdb; "
	"IPFire Location data CC BY-SA 4.0 (https://location.ipfire.org/)";

/** A growable byte buffer for the data and metadata sections. */
struct buf {
	uint8_t* p;
	size_t n;
	size_t cap;
	/** set if an allocation failed; later appends do nothing */
	int nomem;
};

/** State of one tree build. */
struct builder {
	const struct dp_geo_range* r;
	/** two records per node, as REC_* values */
	uint32_t* nodes;
	/** nodes in use */
	size_t num;
	/** nodes allocated */
	size_t cap;
	/** whether ::ffff:0:0/96 must lead to the IPv4 subtree */
	int alias;
	/** the value of ::/96, the IPv4 subtree; set when it is built */
	uint32_t v4root;
	/** set if an allocation failed */
	int nomem;
};

/** a < b, for 128-bit numbers given as halves */
static int
lt128(uint64_t ahi, uint64_t alo, uint64_t bhi, uint64_t blo)
{
	return ahi < bhi || (ahi == bhi && alo < blo);
}

/** Whether a range holds IPv4 addresses (it lies in ::/96). */
static int
range_is_v4(const struct dp_geo_range* g)
{
	return g->end_hi == 0 && g->end_lo <= 0xffffffffULL;
}

/** Write an address (hi, lo) as text; IPv4 if v4 is set. */
static void
fmt_addr(uint64_t hi, uint64_t lo, int v4, char* out, size_t len)
{
	uint8_t a[16];
	int i;
	if(v4) {
		snprintf(out, len, "%u.%u.%u.%u", (unsigned)(lo >> 24) & 0xff,
			(unsigned)(lo >> 16) & 0xff, (unsigned)(lo >> 8) & 0xff,
			(unsigned)lo & 0xff);
		return;
	}
	for(i = 0; i < 8; i++) {
		a[i] = (uint8_t)(hi >> (56 - 8 * i));
		a[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
	}
	if(!inet_ntop(AF_INET6, a, out, (socklen_t)len))
		snprintf(out, len, "?");
}

/** Write a range as "start-end" text. */
static void
fmt_range(const struct dp_geo_range* g, char* out, size_t len)
{
	char s[INET6_ADDRSTRLEN], e[INET6_ADDRSTRLEN];
	int v4 = range_is_v4(g);
	fmt_addr(g->start_hi, g->start_lo, v4, s, sizeof(s));
	fmt_addr(g->end_hi, g->end_lo, v4, e, sizeof(e));
	snprintf(out, len, "%s-%s", s, e);
}

/** Parse a decimal 32-bit number: digits only, at most 4294967295. */
static int
parse_u32(const char* s, uint32_t* v)
{
	uint64_t x = 0;
	size_t n = 0;
	for(; *s; s++, n++) {
		if(*s < '0' || *s > '9' || n >= 10)
			return 0;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	if(n == 0 || x > 0xffffffffULL)
		return 0;
	*v = (uint32_t)x;
	return 1;
}

/** Parse an IPv4 address, dotted or (if dec) a decimal number. */
static int
parse_v4(const char* s, int dec, uint64_t* lo)
{
	struct in_addr a;
	uint32_t v;
	if(strchr(s, '.')) {
		if(inet_pton(AF_INET, s, &a) != 1)
			return 0;
		*lo = ntohl(a.s_addr);
		return 1;
	}
	if(!dec || !parse_u32(s, &v))
		return 0;
	*lo = v;
	return 1;
}

/** Parse an IPv6 address into halves. */
static int
parse_v6(const char* s, uint64_t* hi, uint64_t* lo)
{
	uint8_t a[16];
	int i;
	if(inet_pton(AF_INET6, s, a) != 1)
		return 0;
	*hi = *lo = 0;
	for(i = 0; i < 8; i++) {
		*hi = (*hi << 8) | a[i];
		*lo = (*lo << 8) | a[8 + i];
	}
	return 1;
}

/**
 * Check a country code: two ASCII letters, upper-cased into cc.
 * @return 1 if good, 0 if not, -1 for tor's "??" if unknown_ok.
 */
static int
parse_cc(const char* s, int unknown_ok, char cc[2])
{
	int i;
	if(unknown_ok && strcmp(s, "??") == 0)
		return -1;
	if(strlen(s) != 2)
		return 0;
	for(i = 0; i < 2; i++) {
		char c = s[i];
		if(c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if(c < 'A' || c > 'Z')
			return 0;
		cc[i] = c;
	}
	return 1;
}

/** Strip blanks (and a CR) from both ends of s, in place. */
static char*
trim(char* s)
{
	size_t n;
	while(*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while(n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
		s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = 0;
	return s;
}

struct dp_geo_ranges*
dp_geo_ranges_create(void)
{
	return calloc(1, sizeof(struct dp_geo_ranges));
}

void
dp_geo_ranges_free(struct dp_geo_ranges* gr)
{
	size_t i;
	if(!gr)
		return;
	for(i = 0; i < gr->num_files; i++)
		free(gr->files[i]);
	free(gr->files);
	free(gr->r);
	free(gr);
}

/** Check that a range does not start after its end; say where if so. */
static int
check_order(const char* path, uint32_t line, int v6, uint64_t shi,
	uint64_t slo, uint64_t ehi, uint64_t elo, struct dp_error* err)
{
	char s[INET6_ADDRSTRLEN], e[INET6_ADDRSTRLEN];
	if(!lt128(ehi, elo, shi, slo))
		return 1;
	fmt_addr(shi, slo, !v6, s, sizeof(s));
	fmt_addr(ehi, elo, !v6, e, sizeof(e));
	dp_error_set(err, "%s:%u: range start %s is after its end %s", path,
		(unsigned)line, s, e);
	return 0;
}

/**
 * Append a range read from line `line` of file `fidx`, after checking it.
 * @return DP_OK, DP_ERR_SYNTAX (message set) or DP_ERR_NOMEM.
 */
static dp_status
add_range(struct dp_geo_ranges* gr, uint16_t fidx, uint32_t line, int v6,
	uint64_t shi, uint64_t slo, uint64_t ehi, uint64_t elo,
	const char cc[2], struct dp_error* err)
{
	struct dp_geo_range* g;
	const char* path = gr->files[fidx];
	if(!check_order(path, line, v6, shi, slo, ehi, elo, err))
		return DP_ERR_SYNTAX;
	/* ::/96 and ::ffff:0:0/96 are where the IPv4 tree lives. */
	if(v6 && shi == 0 && (slo <= 0xffffffffULL ||
		(slo <= (MAPPED_LO | 0xffffffffULL) &&
		(ehi != 0 || elo >= MAPPED_LO)))) {
		dp_error_set(err, "%s:%u: IPv6 range touches ::/96 or ::ffff:0:0/96, "
			"where the IPv4 ranges live; give IPv4 ranges as IPv4",
			path, (unsigned)line);
		return DP_ERR_SYNTAX;
	}
	if(gr->num == gr->cap) {
		size_t cap = gr->cap ? gr->cap * 2 : 4096;
		struct dp_geo_range* n = realloc(gr->r, cap * sizeof(*n));
		if(!n) {
			dp_error_set(err, "%s:%u: out of memory", path,
				(unsigned)line);
			return DP_ERR_NOMEM;
		}
		gr->r = n;
		gr->cap = cap;
	}
	g = &gr->r[gr->num++];
	g->start_hi = shi;
	g->start_lo = slo;
	g->end_hi = ehi;
	g->end_lo = elo;
	g->line = line;
	g->file = fidx;
	g->cc[0] = cc[0];
	g->cc[1] = cc[1];
	return DP_OK;
}

/** qsort order: by start address. */
static int
range_cmp(const void* a, const void* b)
{
	const struct dp_geo_range* x = a;
	const struct dp_geo_range* y = b;
	if(lt128(x->start_hi, x->start_lo, y->start_hi, y->start_lo))
		return -1;
	if(lt128(y->start_hi, y->start_lo, x->start_hi, x->start_lo))
		return 1;
	return 0;
}

/**
 * Sort the ranges (unless they already are: tor's files are) and check
 * that no two overlap.  The message names the range read last.
 */
static dp_status
sort_and_check(struct dp_geo_ranges* gr, struct dp_error* err)
{
	size_t i;
	for(i = 1; i < gr->num; i++)
		if(range_cmp(&gr->r[i - 1], &gr->r[i]) > 0)
			break;
	if(i < gr->num)
		qsort(gr->r, gr->num, sizeof(gr->r[0]), range_cmp);
	for(i = 1; i < gr->num; i++) {
		const struct dp_geo_range* a = &gr->r[i - 1];
		const struct dp_geo_range* b = &gr->r[i];
		const struct dp_geo_range* late, *early;
		char lr[2 * INET6_ADDRSTRLEN + 2], er[2 * INET6_ADDRSTRLEN + 2];
		if(lt128(a->end_hi, a->end_lo, b->start_hi, b->start_lo))
			continue;
		if(a->file > b->file || (a->file == b->file &&
			a->line > b->line)) {
			late = a;
			early = b;
		} else {
			late = b;
			early = a;
		}
		fmt_range(late, lr, sizeof(lr));
		fmt_range(early, er, sizeof(er));
		dp_error_set(err, "%s:%u: range %s overlaps range %s at %s:%u",
			gr->files[late->file], (unsigned)late->line, lr, er,
			gr->files[early->file], (unsigned)early->line);
		return DP_ERR_SYNTAX;
	}
	return DP_OK;
}

/** Take back a failed read: drop the ranges of the last file and its name. */
static void
undo_read(struct dp_geo_ranges* gr, size_t old_skipped)
{
	uint16_t fidx = (uint16_t)(gr->num_files - 1);
	size_t i, j = 0;
	for(i = 0; i < gr->num; i++)
		if(gr->r[i].file != fidx)
			gr->r[j++] = gr->r[i];
	gr->num = j;
	free(gr->files[fidx]);
	gr->num_files--;
	gr->skipped = old_skipped;
}

/** Open a range file and register its name. */
static FILE*
open_ranges(struct dp_geo_ranges* gr, const char* path, dp_status* st,
	struct dp_error* err)
{
	FILE* f;
	char** nf;
	if(gr->num_files >= 0xffff) {
		dp_error_set(err, "%s: too many range files", path);
		*st = DP_ERR_SPACE;
		return NULL;
	}
	nf = realloc(gr->files, (gr->num_files + 1) * sizeof(*nf));
	if(!nf) {
		dp_error_set(err, "%s: out of memory", path);
		*st = DP_ERR_NOMEM;
		return NULL;
	}
	gr->files = nf;
	if(!(gr->files[gr->num_files] = strdup(path))) {
		dp_error_set(err, "%s: out of memory", path);
		*st = DP_ERR_NOMEM;
		return NULL;
	}
	if(!(f = fopen(path, "r"))) {
		dp_error_set(err, "%s: cannot open: %s", path, strerror(errno));
		free(gr->files[gr->num_files]);
		*st = DP_ERR_IO;
		return NULL;
	}
	gr->num_files++;
	return f;
}

/**
 * Read the next line into buf.
 * @return 1 for a line, 0 at end of file, -1 for a line too long,
 *	-2 for a read error.
 */
static int
next_line(FILE* f, char* buf, size_t len)
{
	size_t n;
	if(!fgets(buf, (int)len, f))
		return ferror(f) ? -2 : 0;
	n = strlen(buf);
	if(n == len - 1 && buf[n - 1] != '\n' && !feof(f))
		return -1;
	return 1;
}

/** One line of a tor file: "START,END,CC". */
static dp_status
tor_line(struct dp_geo_ranges* gr, char* s, int v6, uint32_t line,
	struct dp_error* err)
{
	uint16_t fidx = (uint16_t)(gr->num_files - 1);
	const char* path = gr->files[fidx];
	char* f[3];
	char* c;
	uint64_t shi = 0, slo, ehi = 0, elo;
	char cc[2];
	int i, r;
	f[0] = s;
	for(i = 1; i < 3; i++) {
		if(!(c = strchr(f[i - 1], ','))) {
			dp_error_set(err, "%s:%u: expected START,END,COUNTRY, got "
				"'%s'", path, (unsigned)line, s);
			return DP_ERR_SYNTAX;
		}
		*c = 0;
		f[i] = c + 1;
	}
	for(i = 0; i < 3; i++)
		f[i] = trim(f[i]);
	if(strchr(f[2], ',')) {
		dp_error_set(err, "%s:%u: expected START,END,COUNTRY, got more "
			"fields", path, (unsigned)line);
		return DP_ERR_SYNTAX;
	}
	for(i = 0; i < 2; i++) {
		uint64_t* hi = i == 0 ? &shi : &ehi;
		uint64_t* lo = i == 0 ? &slo : &elo;
		int ok = v6 ? parse_v6(f[i], hi, lo) : parse_v4(f[i], 1, lo);
		if(!ok) {
			dp_error_set(err, "%s:%u: bad %s %s '%s': expected %s", path,
				(unsigned)line, v6 ? "IPv6" : "IPv4",
				i == 0 ? "start" : "end", f[i],
				v6 ? "an IPv6 address" :
				"a number 0..4294967295 or a dotted quad");
			return DP_ERR_SYNTAX;
		}
	}
	if((r = parse_cc(f[2], 1, cc)) == 0) {
		dp_error_set(err, "%s:%u: bad country code '%s': expected two letters "
			"A-Z, or ?? for unknown", path, (unsigned)line, f[2]);
		return DP_ERR_SYNTAX;
	}
	if(r < 0) {
		/* Unknown country: checked, but left out of the database. */
		if(!check_order(path, line, v6, shi, slo, ehi, elo, err))
			return DP_ERR_SYNTAX;
		gr->skipped++;
		return DP_OK;
	}
	return add_range(gr, fidx, line, v6, shi, slo, ehi, elo, cc, err);
}

/** One line of a fixture: "CIDR CC". */
static dp_status
cidr_line(struct dp_geo_ranges* gr, char* s, uint32_t line,
	struct dp_error* err)
{
	uint16_t fidx = (uint16_t)(gr->num_files - 1);
	const char* path = gr->files[fidx];
	char *addr, *ccs, *rest, *slash;
	uint64_t hi = 0, lo = 0, mhi, mlo;
	uint32_t len;
	char cc[2];
	int v6, max;
	addr = s;
	ccs = addr + strcspn(addr, " \t");
	if(*ccs)
		*ccs++ = 0;
	ccs += strspn(ccs, " \t");
	rest = ccs + strcspn(ccs, " \t");
	if(*rest)
		*rest++ = 0;
	rest += strspn(rest, " \t");
	if(!*ccs || *rest) {
		dp_error_set(err, "%s:%u: expected 'CIDR COUNTRY' (e.g. "
			"'192.0.2.0/24 ML'), got '%s%s%s%s%s'", path,
			(unsigned)line, addr, *ccs ? " " : "", ccs,
			*rest ? " " : "", rest);
		return DP_ERR_SYNTAX;
	}
	if((slash = strchr(addr, '/')))
		*slash = 0;
	v6 = strchr(addr, ':') != NULL;
	max = v6 ? 128 : 32;
	if(!(v6 ? parse_v6(addr, &hi, &lo) : parse_v4(addr, 0, &lo))) {
		dp_error_set(err, "%s:%u: bad address '%s': expected an IPv4 or IPv6 "
			"address, optionally with /LENGTH", path,
			(unsigned)line, addr);
		return DP_ERR_SYNTAX;
	}
	len = (uint32_t)max;
	if(slash && (!parse_u32(slash + 1, &len) || len > (uint32_t)max)) {
		dp_error_set(err, "%s:%u: bad prefix length '/%s' for %s: expected "
			"0..%d", path, (unsigned)line, slash + 1, addr, max);
		return DP_ERR_SYNTAX;
	}
	/* Host bits: the mask of what the prefix leaves free. */
	if(v6) {
		mhi = len >= 64 ? 0 : (~0ULL >> len);
		mlo = len == 128 ? 0 : len <= 64 ? ~0ULL : (~0ULL >> (len - 64));
	} else {
		mhi = 0;
		mlo = len == 32 ? 0 : (0xffffffffULL >> len);
	}
	if((hi & mhi) || (lo & mlo)) {
		char fixed[INET6_ADDRSTRLEN];
		fmt_addr(hi & ~mhi, lo & ~mlo, !v6, fixed, sizeof(fixed));
		dp_error_set(err, "%s:%u: %s/%u has host bits set; did you mean "
			"%s/%u?", path, (unsigned)line, addr, (unsigned)len,
			fixed, (unsigned)len);
		return DP_ERR_SYNTAX;
	}
	if(parse_cc(ccs, 0, cc) != 1) {
		dp_error_set(err, "%s:%u: bad country code '%s': expected two letters "
			"A-Z", path, (unsigned)line, ccs);
		return DP_ERR_SYNTAX;
	}
	return add_range(gr, fidx, line, v6, hi, lo, hi | mhi, lo | mlo, cc,
		err);
}

/** Read a range file, one line at a time, with tor or fixture syntax. */
static dp_status
read_file(struct dp_geo_ranges* gr, const char* path, int tor, int v6,
	struct dp_error* err)
{
	char buf[LINE_MAX_LEN];
	size_t old_skipped = gr->skipped;
	uint32_t line = 0;
	dp_status st = DP_OK;
	FILE* f;
	int r;
	if(!(f = open_ranges(gr, path, &st, err)))
		return st;
	while((r = next_line(f, buf, sizeof(buf))) != 0) {
		char* s;
		line++;
		if(r == -1) {
			dp_error_set(err, "%s:%u: line longer than %d characters",
				path, (unsigned)line, LINE_MAX_LEN - 2);
			st = DP_ERR_SYNTAX;
			goto cleanup;
		}
		if(r == -2) {
			dp_error_set(err, "%s:%u: read error: %s", path,
				(unsigned)line, strerror(errno));
			st = DP_ERR_IO;
			goto cleanup;
		}
		if(!tor && (s = strchr(buf, '#')))
			*s = 0;
		s = trim(buf);
		if(*s == 0 || *s == '#')
			continue;
		st = tor ? tor_line(gr, s, v6, line, err) :
			cidr_line(gr, s, line, err);
		if(st != DP_OK)
			goto cleanup;
	}
	st = sort_and_check(gr, err);
cleanup:
	fclose(f);
	if(st != DP_OK)
		undo_read(gr, old_skipped);
	return st;
}

dp_status
dp_geo_ranges_read_tor(struct dp_geo_ranges* gr, const char* path,
	int family, struct dp_error* err)
{
	if(family != DP_GEO_V4 && family != DP_GEO_V6) {
		dp_error_set(err, "%s: unknown address family %d", path, family);
		return DP_ERR_SYNTAX;
	}
	return read_file(gr, path, 1, family == DP_GEO_V6, err);
}

dp_status
dp_geo_ranges_read_cidr(struct dp_geo_ranges* gr, const char* path,
	struct dp_error* err)
{
	return read_file(gr, path, 0, 0, err);
}

/*
 * The tree.
 */

/** Last address of the prefix (phi, plo)/depth. */
static void
prefix_end(uint64_t phi, uint64_t plo, unsigned depth, uint64_t* ehi,
	uint64_t* elo)
{
	if(depth < 64) {
		*ehi = phi | (~0ULL >> depth);
		*elo = ~0ULL;
	} else if(depth == 64) {
		*ehi = phi;
		*elo = ~0ULL;
	} else if(depth < 128) {
		*ehi = phi;
		*elo = plo | (~0ULL >> (depth - 64));
	} else {
		*ehi = phi;
		*elo = plo;
	}
}

/** Country index of a range, 0..NUM_CC-1. */
static uint32_t
cc_index(const struct dp_geo_range* g)
{
	return (uint32_t)(g->cc[0] - 'A') * 26 + (uint32_t)(g->cc[1] - 'A');
}

/** Allocate a node; its records are filled in by the caller. */
static uint32_t
node_new(struct builder* b)
{
	if(b->num == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 65536;
		uint32_t* n;
		if(cap > (size_t)REC_LEAF ||
			!(n = realloc(b->nodes, cap * 2 * sizeof(*n)))) {
			b->nomem = 1;
			return REC_EMPTY;
		}
		b->nodes = n;
		b->cap = cap;
	}
	b->nodes[2 * b->num] = REC_EMPTY;
	b->nodes[2 * b->num + 1] = REC_EMPTY;
	return (uint32_t)b->num++;
}

/**
 * Build the record for the prefix (phi, plo)/depth.
 * @param lo, hi: the ranges r[lo..hi) that overlap the prefix.
 * @return a REC_* value; nodes are numbered in preorder, the root is 0.
 */
static uint32_t
tree_build(struct builder* b, size_t lo, size_t hi, uint64_t phi,
	uint64_t plo, unsigned depth)
{
	const struct dp_geo_range* r = b->r;
	uint64_t ehi, elo, mhi, mlo;
	uint32_t v, idx, lv, rv;
	size_t a, z, left_hi;
	int forced;

	/* The IPv4-mapped /96 shares the IPv4 subtree, built before it. */
	if(depth == 96 && phi == 0 && plo == MAPPED_LO)
		return b->v4root;
	prefix_end(phi, plo, depth, &ehi, &elo);
	/* The path to ::ffff:0:0/96 must exist to carry the alias. */
	forced = b->alias && depth < 96 && phi == 0 && plo <= MAPPED_LO &&
		elo >= MAPPED_LO;
	if(lo == hi && !forced && depth > 0) {
		v = REC_EMPTY;
	} else if(depth >= 128 || (hi - lo == 1 && !forced && depth > 0 &&
		!lt128(phi, plo, r[lo].start_hi, r[lo].start_lo) &&
		!lt128(r[lo].end_hi, r[lo].end_lo, ehi, elo))) {
		/* One address is always inside the one range overlapping
		 * it, since ranges do not overlap. */
		v = REC_LEAF | cc_index(&r[lo]);
	} else {
		/* Start of the right half. */
		mhi = phi;
		mlo = plo;
		if(depth < 64)
			mhi |= 1ULL << (63 - depth);
		else
			mlo |= 1ULL << (127 - depth);
		/* First range that reaches into the right half. */
		a = lo;
		z = hi;
		while(a < z) {
			size_t m = a + (z - a) / 2;
			if(lt128(r[m].end_hi, r[m].end_lo, mhi, mlo))
				a = m + 1;
			else
				z = m;
		}
		left_hi = a;
		if(a < hi && lt128(r[a].start_hi, r[a].start_lo, mhi, mlo))
			left_hi++;
		if((idx = node_new(b)) == REC_EMPTY)
			return REC_EMPTY;
		lv = tree_build(b, lo, left_hi, phi, plo, depth + 1);
		rv = tree_build(b, a, hi, mhi, mlo, depth + 1);
		if(b->nomem)
			return REC_EMPTY;
		if(lv == rv && !REC_IS_NODE(lv) && depth > 0) {
			/* Both halves alike: no node needed.  Neither half
			 * made a node, so this one is the last. */
			b->num--;
			v = lv;
		} else {
			b->nodes[2 * idx] = lv;
			b->nodes[2 * idx + 1] = rv;
			v = idx;
		}
	}
	if(depth == 96 && phi == 0 && plo == 0)
		b->v4root = v;
	return v;
}

/*
 * The data encoding.
 */

/** Append n bytes. */
static void
buf_add(struct buf* b, const void* p, size_t n)
{
	if(b->nomem)
		return;
	if(b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t* np;
		while(cap < b->n + n)
			cap *= 2;
		if(!(np = realloc(b->p, cap))) {
			b->nomem = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

/** Append a control byte (and extended type and size bytes). */
static void
enc_ctrl(struct buf* b, int type, size_t size)
{
	uint8_t c[6];
	size_t n = 0, extra = 0, ext;
	uint8_t t = (uint8_t)((type <= 7 ? type : 0) << 5);
	if(size < 29) {
		c[n++] = (uint8_t)(t | size);
	} else if(size < 29 + 256) {
		c[n++] = t | 29;
		extra = 1;
		ext = size - 29;
	} else if(size < 285 + 65536) {
		c[n++] = t | 30;
		extra = 2;
		ext = size - 285;
	} else {
		c[n++] = t | 31;
		extra = 3;
		ext = size - 65821;
	}
	if(type > 7)
		c[n++] = (uint8_t)(type - 7);
	while(extra > 0) {
		extra--;
		c[n++] = (uint8_t)(ext >> (8 * extra));
	}
	buf_add(b, c, n);
}

/** Append a UTF-8 string. */
static void
enc_str(struct buf* b, const char* s)
{
	size_t n = strlen(s);
	enc_ctrl(b, MM_STRING, n);
	buf_add(b, s, n);
}

/** Append an unsigned integer of the given type, in as few bytes as it
 * needs. */
static void
enc_uint(struct buf* b, int type, uint64_t v)
{
	uint8_t d[8];
	size_t n = 0;
	int i;
	for(i = 7; i >= 0; i--)
		if(n > 0 || ((v >> (8 * i)) & 0xff) != 0)
			d[n++] = (uint8_t)(v >> (8 * i));
	enc_ctrl(b, type, n);
	buf_add(b, d, n);
}

/** The build time: $SOURCE_DATE_EPOCH for reproducible builds, or now. */
static uint64_t
build_epoch(void)
{
	const char* s = getenv("SOURCE_DATE_EPOCH");
	char* end;
	unsigned long long v;
	if(s && *s) {
		errno = 0;
		v = strtoull(s, &end, 10);
		if(errno == 0 && *end == 0)
			return v;
	}
	return (uint64_t)time(NULL);
}

/** Final record value for a REC_* value. */
static uint32_t
rec_final(uint32_t v, uint32_t node_count, const uint32_t* data_off)
{
	if(REC_IS_NODE(v))
		return v;
	if(v == REC_EMPTY)
		return node_count;
	return node_count + 16 + data_off[v & ~REC_LEAF];
}

/** Write the tree nodes with the given record size. */
static int
write_tree(FILE* f, const struct builder* bd, int record_size,
	const uint32_t* data_off)
{
	uint32_t nc = (uint32_t)bd->num;
	uint8_t o[8];
	size_t i, n;
	for(i = 0; i < bd->num; i++) {
		uint32_t l = rec_final(bd->nodes[2 * i], nc, data_off);
		uint32_t r = rec_final(bd->nodes[2 * i + 1], nc, data_off);
		n = 0;
		o[n++] = (uint8_t)(l >> (record_size == 32 ? 24 : 16));
		o[n++] = (uint8_t)(l >> (record_size == 32 ? 16 : 8));
		o[n++] = (uint8_t)(l >> (record_size == 32 ? 8 : 0));
		if(record_size == 32)
			o[n++] = (uint8_t)l;
		else if(record_size == 28)
			o[n++] = (uint8_t)(((l >> 24) & 0x0f) << 4 |
				((r >> 24) & 0x0f));
		if(record_size == 32)
			o[n++] = (uint8_t)(r >> 24);
		o[n++] = (uint8_t)(r >> 16);
		o[n++] = (uint8_t)(r >> 8);
		o[n++] = (uint8_t)r;
		if(fwrite(o, 1, n, f) != n)
			return 0;
	}
	return 1;
}

dp_status
dp_geo_write_mmdb(const struct dp_geo_ranges* gr, const char* out_path,
	const char* description, struct dp_geo_info* info,
	struct dp_error* err)
{
	static const uint8_t zeros[16];
	struct builder bd;
	struct buf data, meta;
	uint32_t data_off[NUM_CC];
	uint8_t used[NUM_CC];
	uint32_t countries = 0, node_count, maxval;
	uint64_t epoch = build_epoch(), file_size;
	char* tmp = NULL;
	FILE* f = NULL;
	int fd = -1, record_size;
	dp_status st = DP_OK;
	size_t i;

	memset(&bd, 0, sizeof(bd));
	memset(&data, 0, sizeof(data));
	memset(&meta, 0, sizeof(meta));
	memset(used, 0, sizeof(used));
	if(!description)
		description = default_description;

	/* Data section: one record per country, in code order. */
	for(i = 0; i < gr->num; i++) {
		used[cc_index(&gr->r[i])] = 1;
		if(range_is_v4(&gr->r[i]))
			bd.alias = 1;
	}
	for(i = 0; i < NUM_CC; i++) {
		char cc[3];
		if(!used[i])
			continue;
		cc[0] = (char)('A' + i / 26);
		cc[1] = (char)('A' + i % 26);
		cc[2] = 0;
		data_off[i] = (uint32_t)data.n;
		enc_ctrl(&data, MM_MAP, 1);
		enc_str(&data, "country");
		enc_ctrl(&data, MM_MAP, 1);
		enc_str(&data, "iso_code");
		enc_str(&data, cc);
		countries++;
	}

	/* The tree. */
	bd.r = gr->r;
	bd.v4root = REC_EMPTY;
	(void)tree_build(&bd, 0, gr->num, 0, 0, 0);
	if(bd.nomem || data.nomem) {
		dp_error_set(err, "%s: out of memory building the search tree",
			out_path);
		st = DP_ERR_NOMEM;
		goto cleanup;
	}
	node_count = (uint32_t)bd.num;
	if((uint64_t)node_count + 16 + data.n >= 0xffffffffULL) {
		dp_error_set(err, "%s: %u nodes do not fit 32-bit records", out_path,
			(unsigned)node_count);
		st = DP_ERR_SPACE;
		goto cleanup;
	}
	maxval = node_count + 16 + (uint32_t)data.n;
	record_size = maxval < (1u << 24) ? 24 : maxval < (1u << 28) ? 28 : 32;

	/* Metadata. */
	buf_add(&meta, mm_marker, sizeof(mm_marker) - 1);
	enc_ctrl(&meta, MM_MAP, 9);
	enc_str(&meta, "binary_format_major_version");
	enc_uint(&meta, MM_UINT16, 2);
	enc_str(&meta, "binary_format_minor_version");
	enc_uint(&meta, MM_UINT16, 0);
	enc_str(&meta, "build_epoch");
	enc_uint(&meta, MM_UINT64, epoch);
	enc_str(&meta, "database_type");
	enc_str(&meta, "doppel-country");
	enc_str(&meta, "description");
	enc_ctrl(&meta, MM_MAP, 1);
	enc_str(&meta, "en");
	enc_str(&meta, description);
	enc_str(&meta, "ip_version");
	enc_uint(&meta, MM_UINT16, 6);
	enc_str(&meta, "languages");
	enc_ctrl(&meta, MM_ARRAY, 1);
	enc_str(&meta, "en");
	enc_str(&meta, "node_count");
	enc_uint(&meta, MM_UINT32, node_count);
	enc_str(&meta, "record_size");
	enc_uint(&meta, MM_UINT16, (uint64_t)record_size);
	if(meta.nomem) {
		dp_error_set(err, "%s: out of memory", out_path);
		st = DP_ERR_NOMEM;
		goto cleanup;
	}

	/* Write beside the target, then rename over it. */
	if(!(tmp = malloc(strlen(out_path) + 8))) {
		dp_error_set(err, "%s: out of memory", out_path);
		st = DP_ERR_NOMEM;
		goto cleanup;
	}
	snprintf(tmp, strlen(out_path) + 8, "%s.XXXXXX", out_path);
	if((fd = mkstemp(tmp)) < 0) {
		dp_error_set(err, "%s: cannot create a temporary file beside it: %s",
			out_path, strerror(errno));
		free(tmp);
		tmp = NULL;
		st = DP_ERR_IO;
		goto cleanup;
	}
	if(!(f = fdopen(fd, "wb"))) {
		dp_error_set(err, "%s: %s", tmp, strerror(errno));
		st = DP_ERR_IO;
		goto cleanup;
	}
	fd = -1;
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	if(!write_tree(f, &bd, record_size, data_off) ||
		fwrite(zeros, 1, sizeof(zeros), f) != sizeof(zeros) ||
		(data.n > 0 && fwrite(data.p, 1, data.n, f) != data.n) ||
		fwrite(meta.p, 1, meta.n, f) != meta.n || fflush(f) != 0 ||
		fchmod(fileno(f), 0644) != 0 || fsync(fileno(f)) != 0) {
		dp_error_set(err, "%s: cannot write: %s", tmp, strerror(errno));
		st = DP_ERR_IO;
		goto cleanup;
	}
	if(fclose(f) != 0) {
		f = NULL;
		dp_error_set(err, "%s: cannot write: %s", tmp, strerror(errno));
		st = DP_ERR_IO;
		goto cleanup;
	}
	f = NULL;
	if(rename(tmp, out_path) != 0) {
		dp_error_set(err, "%s: cannot rename %s to it: %s", out_path, tmp,
			strerror(errno));
		st = DP_ERR_IO;
		goto cleanup;
	}
	free(tmp);
	tmp = NULL;
	file_size = (uint64_t)node_count * (uint64_t)record_size / 4 + 16 +
		data.n + meta.n;
	if(info) {
		info->node_count = node_count;
		info->record_size = (uint16_t)record_size;
		info->countries = countries;
		info->file_size = file_size;
		info->build_epoch = epoch;
	}
cleanup:
	if(f)
		fclose(f);
	if(fd >= 0)
		close(fd);
	if(tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(bd.nodes);
	free(data.p);
	free(meta.p);
	return st;
}
