/*
 * lib/vcache.h - the verdict cache: every flagged name, kept in an LMDB
 * environment of its own, across restarts.
 *
 * The module (a cache opened with a writer) answers from a bounded table
 * in memory, filled from the file at open: its queries never read the
 * file's map, so that a file damaged or replaced under the resolver
 * cannot fault one.  Writers never write: dp_vcache_note() puts the
 * verdict in the table and in a bounded queue (and drops it from the
 * queue, counted, when the queue is full), and one background thread
 * writes the queue in batches.  Before each batch it checks that the file
 * is still the one it opened, and whole; if not, it stops writing and
 * says so once.  When the map is full, expired entries are purged first;
 * a batch that still does not fit is dropped and counted.  Tools (no
 * writer) read the file with short read transactions.
 *
 * Caveats: one writing process per cache file (the module; `doppel cache
 * purge` while the resolver runs waits for LMDB's writer lock, which is
 * fine, but two resolvers must not share a file).  The running module
 * sees such a purge at its next reload, when it reads the file again.
 */
#ifndef DOPPEL_VCACHE_H
#define DOPPEL_VCACHE_H

#include "doppel.h"

/** A cached verdict. */
struct dp_vrecord {
	enum dp_action action;
	double score;
	char target[DP_NAME_MAX];
	char technique[32];
	char countries[64];
	/** seconds since the epoch */
	uint64_t first_seen, last_seen, expiry;
	uint64_t hits;
	/** fingerprint of the policy that gave the verdict */
	uint64_t policy_hash;
	/** the verdict's zone_labels (the apex of a synthesised SOA) */
	int zone_labels;
};

/** Counters of a cache. */
struct dp_vcache_stats {
	uint64_t entries, expired;
	uint64_t map_size, used_bytes;
	/** records dropped: queue full (this process), map full (stored) */
	uint64_t dropped_queue, dropped_full;
	uint64_t written;
};

struct dp_vcache;

/**
 * Open (creating it if needed) a verdict cache.
 * @param path: the file (an LMDB environment without subdirectory; a
 *	PATH-lock file sits beside it).
 * @param map_size: most bytes it may hold.
 * @param writer: 1 to start the background writer (the module), 0 for
 *	tools that read and purge.
 * @return DP_OK, or DP_ERR_IO / DP_ERR_FORMAT with a message.
 */
dp_status dp_vcache_open(const char* path, uint64_t map_size, int writer,
	struct dp_vcache** out, struct dp_error* err);

/** Flush the queue, stop the writer, close.  NULL is fine. */
void dp_vcache_close(struct dp_vcache* vc);

/**
 * Look a name up.
 * @param now: the time, seconds since the epoch.
 * @return 1 and rec filled if present and not expired, else 0.
 */
int dp_vcache_get(struct dp_vcache* vc, const char* name, uint64_t now,
	struct dp_vrecord* rec);

/**
 * Queue a verdict for the writer (merged with what is stored: first seen
 * kept, hits added).  Never blocks on I/O; drops when the queue is full.
 * @param ttl: seconds the verdict stays valid.
 */
void dp_vcache_note(struct dp_vcache* vc, const char* name,
	const struct dp_verdict* v, uint64_t policy_hash, uint64_t now,
	uint32_t ttl);

/** Write the queue now (tests, tools); the writer thread does this by
 * itself every second. */
void dp_vcache_flush(struct dp_vcache* vc);

/**
 * Call fn for each entry, in name order.
 * @return number of entries visited.
 */
size_t dp_vcache_each(struct dp_vcache* vc,
	void (*fn)(void* arg, const char* name, const struct dp_vrecord* r),
	void* arg);

/**
 * Remove one name, or all entries (name NULL).
 * @return entries removed, or -1 on error.
 */
long dp_vcache_purge(struct dp_vcache* vc, const char* name);

/** Fill counters. */
/**
 * Where to say, once per streak, that verdicts cannot be stored (the map
 * is full, the file is not writable) and that storing works again.
 * @param log_fn: called from the writer thread; NULL for silence.
 * @param path: the file's path, for those lines.
 */
void dp_vcache_set_log(struct dp_vcache* vc, void (*log_fn)(const char* msg),
	const char* path);

/**
 * Decode a stored value (the bytes LMDB holds for a name), as
 * dp_vcache_get does: a value of another version, with lengths that do
 * not add up or strings too long is refused.
 * @return 1 and r filled in, or 0 (r zeroed).
 */
int dp_vcache_decode(const void* data, size_t len, struct dp_vrecord* r);

void dp_vcache_get_stats(struct dp_vcache* vc, uint64_t now,
	struct dp_vcache_stats* st);

#endif /* DOPPEL_VCACHE_H */
