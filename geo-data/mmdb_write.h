/*
 * geo-data/mmdb_write.h - build a country MaxMind DB (format 2.0) from text
 * lists of address ranges.
 *
 * doppel asks "which country is this address in?" through libmaxminddb.
 * Debian has no current country database in MaxMind format, but its
 * tor-geoipdb package ships current IPFire Location ranges (CC BY-SA 4.0)
 * as text.  This module reads those ranges, or a small "CIDR CC" fixture
 * file for tests, and writes a .mmdb that libmaxminddb and mmdblookup read
 * like any GeoIP2/GeoLite2 country file:
 *
 *	mmdblookup --file doppel-country.mmdb --ip 8.8.8.8 country iso_code
 *
 * The database is an IPv6 tree (ip_version 6).  IPv4 ranges are reachable
 * at ::a.b.c.d (where libmaxminddb looks IPv4 addresses up in an IPv6
 * database) and at the IPv4-mapped ::ffff:a.b.c.d, which share one subtree.
 * Each record is {"country": {"iso_code": "XX"}}, stored once per country.
 *
 * Usage: dp_geo_ranges_create(), one or more dp_geo_ranges_read_*() calls,
 * dp_geo_write_mmdb(), dp_geo_ranges_free().
 *
 * Ownership: the caller owns the struct dp_geo_ranges and frees it.
 * Threads: nothing is shared; use one struct dp_geo_ranges per thread.
 *
 * Caveats:
 *  - Ranges may not overlap, within a file or across the files read into
 *    one struct dp_geo_ranges; the reader says where both ranges are.  A
 *    more specific range does not override a larger one.
 *  - IPv6 ranges may not touch ::/96 or ::ffff:0:0/96: those hold the IPv4
 *    tree, so give IPv4 ranges in IPv4 form.
 *  - Tor's "??" (country unknown) ranges are skipped: addresses in them are
 *    "not found" in the database, as are addresses in no range at all.
 *  - build_epoch is the current time, or $SOURCE_DATE_EPOCH if set, so
 *    that two builds of the same input can give identical files.
 */
#ifndef DP_MMDB_WRITE_H
#define DP_MMDB_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "doppel.h"

/** Address family of a tor range file: IPv4 ("geoip"). */
#define DP_GEO_V4 4
/** Address family of a tor range file: IPv6 ("geoip6"). */
#define DP_GEO_V6 6

/** Where Debian's tor-geoipdb installs its IPv4 ranges. */
#define DP_GEO_TOR4_PATH "/usr/share/tor/geoip"
/** Where Debian's tor-geoipdb installs its IPv6 ranges. */
#define DP_GEO_TOR6_PATH "/usr/share/tor/geoip6"

/**
 * One range of addresses in one country.  Addresses are 128-bit numbers
 * split into high and low 64-bit halves; an IPv4 address a.b.c.d is stored
 * as ::a.b.c.d (hi 0, lo the 32-bit address).
 */
struct dp_geo_range {
	/** first address, high and low half */
	uint64_t start_hi, start_lo;
	/** last address (inclusive), high and low half */
	uint64_t end_hi, end_lo;
	/** line of the file it was read from, for error messages */
	uint32_t line;
	/** index of that file in struct dp_geo_ranges.files */
	uint16_t file;
	/** ISO 3166 alpha-2 country code, upper case, not NUL terminated */
	char cc[2];
};

/** A set of non-overlapping ranges, IPv4 and IPv6, sorted by start. */
struct dp_geo_ranges {
	/** the ranges, sorted by start address; IPv4 ranges come first */
	struct dp_geo_range* r;
	/** number of ranges in r */
	size_t num;
	/** allocated length of r */
	size_t cap;
	/** names of the files read, indexed by dp_geo_range.file */
	char** files;
	/** number of names in files */
	size_t num_files;
	/** ranges skipped because their country is unknown ("??") */
	size_t skipped;
};

/** What dp_geo_write_mmdb() wrote, for the user. */
struct dp_geo_info {
	/** nodes in the search tree */
	uint32_t node_count;
	/** bits per record: 24, 28 or 32 */
	uint16_t record_size;
	/** distinct countries, i.e. data records */
	uint32_t countries;
	/** size of the file in bytes */
	uint64_t file_size;
	/** the build_epoch stored in the metadata */
	uint64_t build_epoch;
};

/**
 * Create an empty set of ranges.
 * @return the set, or NULL if out of memory.  Free with
 *	dp_geo_ranges_free().
 */
struct dp_geo_ranges* dp_geo_ranges_create(void);

/**
 * Free a set of ranges.
 * @param gr: the set; NULL is allowed.
 */
void dp_geo_ranges_free(struct dp_geo_ranges* gr);

/**
 * Read one of tor's geoip files and add its ranges.  Lines are
 * "START,END,CC"; START and END are decimal 32-bit numbers (or dotted
 * quads) for DP_GEO_V4 and IPv6 addresses for DP_GEO_V6; CC is two letters
 * or "??" (unknown, skipped).  Blank lines and lines starting with '#' are
 * ignored.
 * @param gr: the set to add to.
 * @param path: the file.
 * @param family: DP_GEO_V4 or DP_GEO_V6.
 * @param err: set on failure ("geoip:12: range start ... is after its
 *	end ..."); may be NULL.
 * @return DP_OK; DP_ERR_IO if the file cannot be read; DP_ERR_SYNTAX for a
 *	malformed line, a start after its end, a bad country code or ranges
 *	that overlap; DP_ERR_NOMEM.  On failure gr is left as it was.
 */
dp_status dp_geo_ranges_read_tor(struct dp_geo_ranges* gr, const char* path,
	int family, struct dp_error* err);

/**
 * Read a fixture file of "CIDR CC" lines and add its ranges, e.g.
 * "192.0.2.0/24 ML" or "2001:db8::/32 US".  A bare address means one
 * address (/32 or /128).  Text after '#' and blank lines are ignored;
 * country codes may be in either case.  "??" is not allowed here: leave
 * an address out to make it "not found".
 * @param gr: the set to add to.
 * @param path: the file.
 * @param err: set on failure ("fixture.txt:3: 192.0.2.1/24 has host bits
 *	set; did you mean 192.0.2.0/24?"); may be NULL.
 * @return as dp_geo_ranges_read_tor().  On failure gr is left as it was.
 */
dp_status dp_geo_ranges_read_cidr(struct dp_geo_ranges* gr, const char* path,
	struct dp_error* err);

/**
 * Write the ranges as a MaxMind DB country database.  The file is written
 * under a temporary name in the same directory, synced, made mode 0644 and
 * renamed over out_path, so readers see the old file or the new one, never
 * a part.
 * @param gr: the ranges (an empty set gives a valid, empty database).
 * @param out_path: the .mmdb to write.
 * @param description: the English description in the metadata, or NULL
 *	for one that credits IPFire Location data (CC BY-SA 4.0).
 * @param info: if not NULL, filled in with what was written.
 * @param err: set on failure; may be NULL.
 * @return DP_OK; DP_ERR_IO if the file cannot be written; DP_ERR_SPACE if
 *	the tree does not fit 32-bit records; DP_ERR_NOMEM.
 */
dp_status dp_geo_write_mmdb(const struct dp_geo_ranges* gr,
	const char* out_path, const char* description, struct dp_geo_info* info,
	struct dp_error* err);

#endif /* DP_MMDB_WRITE_H */
