/*
 * lib/index.h - the match index: a hash multimap from (kind, key) to a
 * protected-domain number, behind a blocked Bloom filter.
 *
 * The index holds only 64-bit hashes, never the keys: every hit is a
 * candidate that the engine verifies against the protected domain's own
 * strings.  A lookup costs one cache line of the filter, and for the few
 * keys that pass it, one or two lines of the table, whatever the number of
 * protected domains.  Both arrays are plain, position-independent memory,
 * so they can be written to and mapped from a compiled policy.
 */
#ifndef DOPPEL_INDEX_H
#define DOPPEL_INDEX_H

#include <stddef.h>
#include <stdint.h>

/** What a key is; part of the hash, so kinds never collide. */
enum dp_key_kind {
	/** a folded label, or the folded label with one character deleted */
	DP_KEY_DEL = 1,
	/** a registered label exactly ("army") */
	DP_KEY_LABEL,
	/** the label and its suffix with the dots taken out ("armymil") */
	DP_KEY_CONCAT,
	/** a whole name of a name list (protected, allow, block, known) */
	DP_KEY_NAME
};

/** One slot: upper hash bits as a tag (0 = empty), and the value. */
struct dp_slot {
	uint32_t tag;
	uint32_t val;
};

/** The index. */
struct dp_index {
	/** table slots, a power of two */
	uint64_t nslots;
	struct dp_slot* slots;
	/** filter blocks of 512 bits, a power of two */
	uint64_t nblocks;
	uint64_t* bloom;
	/** entries inserted */
	uint64_t count;
};

/**
 * Hash a key of a kind.
 * @return 64-bit hash.
 */
uint64_t dp_key_hash(enum dp_key_kind kind, const char* key, size_t len);

/**
 * Size an empty index for n entries.
 * @return 0 on success, -1 when out of memory.
 */
int dp_index_init(struct dp_index* ix, uint64_t n);

/** Release an index's arrays. */
void dp_index_clear(struct dp_index* ix);

/**
 * Insert (hash, val); duplicates of the same pair are kept once.
 * The index must have been sized for it.
 */
void dp_index_put(struct dp_index* ix, uint64_t h, uint32_t val);

/** Iterator over the values stored under one hash. */
struct dp_index_iter {
	const struct dp_index* ix;
	uint64_t pos;
	uint32_t tag;
};

/**
 * Start a lookup.
 * @return 0 if the filter says the hash is certainly absent (the iterator
 *	is then not usable), 1 otherwise.
 */
int dp_index_find(const struct dp_index* ix, uint64_t h,
	struct dp_index_iter* it);

/**
 * Next value stored under the hash of the lookup.
 * @return 1 and *val set, or 0 when there are no more.
 */
int dp_index_next(struct dp_index_iter* it, uint32_t* val);

#endif /* DOPPEL_INDEX_H */
