/*
 * lib/counters.h - the module's counters: kept per thread, without locks
 * or system calls on the query path, and published as a small file in
 * the Prometheus text format that `doppel stats` reads.
 *
 * Each worker thread takes a slot of its own the first time it counts
 * (a slot is a few cache lines, written by that thread alone); a thread
 * beyond the slots shares the last one, with atomic additions.  The
 * publisher (the module's watcher thread) sums the slots and writes the
 * file: a temporary file renamed over the old one, so a reader never sees
 * half of it, and nothing maps it, so nothing done to it can fault the
 * resolver.
 */
#ifndef DOPPEL_COUNTERS_H
#define DOPPEL_COUNTERS_H

#include "doppel.h"

/** What is counted, besides verdicts and targets. */
enum dp_ctr {
	/** names checked on the way down (queries that reached doppel) */
	DP_CTR_QUERIES,
	/** verdicts found in the verdict cache, and names looked for there
	 * and not found */
	DP_CTR_VCACHE_HIT,
	DP_CTR_VCACHE_MISS,
	/** addresses whose country was looked up */
	DP_CTR_GEO_LOOKUPS,
	/** errors: a name that could not be read, out of memory in a
	 * query, a policy file that could not be loaded */
	DP_CTR_ERR_NAME,
	DP_CTR_ERR_NOMEM,
	DP_CTR_ERR_POLICY,
	/** policies loaded (the first one and every new version) */
	DP_CTR_POLICY_LOADS,
	DP_CTR_N
};

struct dp_counters;

/** @return new counters, all zero, or NULL when out of memory. */
struct dp_counters* dp_counters_create(void);

/** Free them (no thread may count any more).  NULL is fine. */
void dp_counters_free(struct dp_counters* c);

/** Add n to a counter of the calling thread.  NULL c is fine. */
void dp_counters_add(struct dp_counters* c, enum dp_ctr which, uint64_t n);

/** Count a verdict that is not allow: by action (a block in monitor mode
 * as would-block), technique and target. */
void dp_counters_verdict(struct dp_counters* c, const struct dp_verdict* v,
	int monitor);

/** What the publisher adds from elsewhere (the verdict cache, the audit
 * log, the policy in force). */
struct dp_counters_extra {
	uint64_t vcache_written, vcache_dropped;
	uint64_t audit_written, audit_collapsed, audit_dropped;
	uint64_t dnstap_queued, dnstap_sent, dnstap_dropped, dnstap_connects;
	/** the policy in force: its source's hash, when it was built and
	 * loaded (seconds since the epoch; 0 if unknown), protected domains */
	uint64_t policy_hash, policy_built, policy_loaded, policy_domains;
	int has_policy, monitor;
};

/**
 * Write every counter, in the Prometheus text exposition format, to path
 * (through path.tmp and a rename).
 * @param now: seconds since the epoch, written as the time of the figures.
 * @return DP_OK, or DP_ERR_IO with a message.
 */
dp_status dp_counters_publish(struct dp_counters* c,
	const struct dp_counters_extra* x, const char* path, uint64_t now,
	struct dp_error* err);

#endif /* DOPPEL_COUNTERS_H */
