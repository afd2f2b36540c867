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
	/** the explanation given when the verdict was made */
	char why[160];
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

/** How a cache is opened (flags of dp_vcache_open's mode). */
enum {
	/** start the background writer and answer from memory (the
	 * module); without it, reads and writes go to the file directly */
	DP_VCACHE_WRITER = 1,
	/** the file must exist (never created), its map size is the one it
	 * records (map_size is ignored), and the PATH-lock file is removed
	 * at close if this open made it (the `doppel cache` commands) */
	DP_VCACHE_EXISTING = 2,
	/** read only: the file is not written */
	DP_VCACHE_RDONLY = 4
};

/**
 * Open (creating it if needed, unless DP_VCACHE_EXISTING) a verdict cache.
 * A file that holds entries none of which is a verdict (a compiled
 * policy, another program's LMDB file) is refused and left as it is.
 * @param path: the file (an LMDB environment without subdirectory; a
 *	PATH-lock file sits beside it).
 * @param map_size: most bytes it may hold.
 * @param mode: DP_VCACHE_* flags, 0 for a cache read and written in place.
 * @return DP_OK, or DP_ERR_IO / DP_ERR_FORMAT with a message.
 */
dp_status dp_vcache_open(const char* path, uint64_t map_size, int mode,
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

/** Fill counters (reads every entry of the file: for tools). */
void dp_vcache_get_stats(struct dp_vcache* vc, uint64_t now,
	struct dp_vcache_stats* st);

/** What this process did, cheaply (no read of the file): verdicts
 * written, and dropped (queue full, file full, failing or replaced). */
void dp_vcache_counts(struct dp_vcache* vc, uint64_t* written,
	uint64_t* dropped);

#endif /* DOPPEL_VCACHE_H */
