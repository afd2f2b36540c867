/*
 * lib/checker.h - a name in, a verdict out: the verdict cache first, then
 * the engine, and a flagged verdict noted in the cache, counted.  What the
 * module asks of libdoppel for every name it sees; it holds the policy
 * lock around the call.
 */
#ifndef DOPPEL_CHECKER_H
#define DOPPEL_CHECKER_H

#include "doppel.h"
#include "counters.h"
#include "vcache.h"

/** What a check needs: the policy in force, the cache, the counters. */
struct dp_checker {
	/** the policy in force, and its source's hash (a cached verdict is
	 * used only when made under the same) */
	const struct dp_policy* policy;
	uint64_t policy_hash;
	/** the verdict cache, or NULL */
	struct dp_vcache* vcache;
	/** how long a verdict is cached, seconds */
	uint32_t verdict_ttl;
	/** the counters, or NULL */
	struct dp_counters* counters;
};

/**
 * The verdict cache's verdict for a canonical name: one made under the
 * policy in force, not allow, still vouched for by it (its allow list
 * wins), with the explanation it was made with.
 * @param rec: storage the verdict's strings then point into.
 * @return 1 and v filled in, or 0 (not cached).
 */
int dp_checker_cached(const struct dp_checker* c, const char* name,
	uint64_t now, struct dp_vrecord* rec, struct dp_verdict* v);

/**
 * The verdict for a canonical name: the cached one, else the engine's.
 * @param record: note a flagged verdict in the verdict cache (for
 *	verdict_ttl seconds).
 * @param rec: storage the verdict's strings may point into.
 */
void dp_checker_check(const struct dp_checker* c, const char* name,
	uint64_t now, int record, struct dp_vrecord* rec,
	struct dp_verdict* v);

#endif /* DOPPEL_CHECKER_H */
