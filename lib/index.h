/*
 * lib/index.h - the match index: a hash multimap from (kind, key) to a
 * protected-domain number, in buckets of one cache line.
 *
 * The index holds only hashes, never the keys: every hit is a candidate
 * that the engine verifies against the protected domain's own strings.
 * A lookup costs the one cache line of its bucket (rarely two), whatever
 * the number of protected domains.  Both arrays are plain,
 * position-independent memory, so they can be written to and mapped from
 * a compiled policy.
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
	DP_KEY_NAME,
	/** a public suffix of a protected domain */
	DP_KEY_SUFFIX,
	/** a keyword of combo-squatting ("login") */
	DP_KEY_WORD,
	/** a rule of the Public Suffix List, without its "!" or "*." */
	DP_KEY_PSL
};

/** One entry: upper hash bits as a tag, and the value. */
struct dp_slot {
	uint32_t tag;
	uint32_t val;
};

/** Entries a bucket holds in its own cache line. */
#define DP_BUCKET_ENTRIES 7

/**
 * A bucket: one 64-byte cache line with up to DP_BUCKET_ENTRIES entries;
 * the bucket's further entries are in the overflow area.
 */
struct dp_bucket {
	uint32_t tag[DP_BUCKET_ENTRIES];
	/** bits 0-2: entries here; bits 3-10: a bit per (tag & 7) of the
	 * entries in overflow; bits 11-31: how many are in overflow */
	uint32_t meta;
	uint32_t val[DP_BUCKET_ENTRIES];
	/** where the bucket's overflow entries start */
	uint32_t ovf;
};

/** Most overflow entries of one bucket. */
#define DP_BUCKET_OVF_MAX ((1u << 21) - 1)

/** An entry waiting for dp_index_finish: its bucket, tag and value. */
struct dp_pending {
	uint32_t bucket, tag, val;
};

/**
 * The index: a hash table of one-line buckets.  A lookup reads the one
 * cache line of its bucket (the 32-bit tags stand in for a filter: a key
 * that is absent matches a tag about once in a billion), and a few
 * buckets in eight also a line of overflow entries.
 */
struct dp_index {
	uint64_t nbuckets;
	struct dp_bucket* buckets;
	/** overflow entries, grouped by bucket */
	uint64_t novf;
	struct dp_slot* ovf;
	/** entries stored (after dp_index_finish: distinct ones) */
	uint64_t count;
	/** while building: entries put and not yet finished, and room */
	struct dp_pending* pending;
	uint64_t npending, cap;
};

/**
 * Keys are hashed in two steps: a polynomial over the bytes,
 *   raw(s) = sum over j of (s[j] + 1) * B^(n-1-j)   (mod 2^64),
 * then a finaliser that mixes in the kind and the length.  The polynomial
 * lets a caller get the hashes of all one-character deletions of a string,
 * or of all its suffixes, in one pass instead of one pass each.
 */
#define DP_HASH_B 0x100000001b3ULL

/** The polynomial of a key (see above). */
uint64_t dp_key_raw(const char* key, size_t len);

/** Finish a polynomial into the hash of a key of a kind and length. */
static inline uint64_t
dp_key_fin(enum dp_key_kind kind, size_t len, uint64_t h)
{
	/* murmur3's fmix64, after the kind and length are mixed in, so
	 * that every bit of the result depends on every input bit; inline,
	 * as a clean name finishes a dozen keys or more */
	h ^= ((uint64_t)kind << 56) ^ ((uint64_t)len << 48) ^
		0x9e3779b97f4a7c15ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/** The position of "no deletion" (the whole string). */
#define DP_DEL_NONE 255

/** Most keys dp_key_deletions gives for one string. */
#define DP_DEL_KEYS 251

/**
 * Hashes (kind DP_KEY_DEL) of s and of each distinct one-character
 * deletion of s (deleting any of a run of equal characters is the same:
 * it is done once, at the run's last character).
 * @param s: the string; only its first DP_DEL_KEYS - 1 bytes are used.
 * @param out: room for DP_DEL_KEYS (or n + 1) hashes.
 * @param pos: room for as many positions: where the character was
 *	deleted, DP_DEL_NONE for s itself.
 * @return how many were written.
 */
size_t dp_key_deletions(const char* s, size_t n, uint64_t* out,
	uint8_t* pos);

/**
 * The word of a deletion filter (mask + 1 words of 64 bits) that a
 * deletion key's two bits are in, and the bits, from the key's
 * polynomial (dp_key_raw) and length: a filter in front of the deletion
 * keys of a policy (its del_bits), so that most keys of a clean name are
 * neither finished nor looked up.
 */
static inline uint64_t
dp_del_filter_bits(uint64_t mask, uint64_t raw, size_t len, size_t* word)
{
	uint64_t x = (raw ^ ((uint64_t)len << 56)) * 0x9e3779b97f4a7c15ULL;
	*word = (size_t)((x >> 20) & mask);
	return ((uint64_t)1 << (x >> 58)) | ((uint64_t)1 << ((x >> 52) & 63));
}

/** Set the deletion filter's bits (mask + 1 words) of s and its
 * one-character deletions. */
void dp_del_filter_put(uint64_t* bits, uint64_t mask, const char* s,
	size_t n);

/** Put s's parts (see index.c) into a parts filter (mask + 1 words). */
void dp_del_parts_put(uint64_t* bits, uint64_t mask, const char* s,
	size_t n);

/**
 * Whether a deletion key of s may meet one of the strings put into the
 * parts filter bits (mask + 1 words; NULL: yes) in a pair the engine
 * weighs (deletions at most one position apart).  0 is sure: none can.
 */
int dp_del_parts_near(const uint64_t* bits, uint64_t mask, const char* s,
	size_t n);

/** dp_key_deletions, keeping only the keys that the deletion filter
 * bits (mask + 1 words; NULL: all) lets through. */
size_t dp_key_deletions_in(const char* s, size_t n, uint64_t* out,
	uint8_t* pos, const uint64_t* bits, uint64_t mask);

/**
 * A deletion key's value: the label, and where the deletion was.  Two
 * strings one edit apart share a deletion at most one position apart
 * (or one of them is the other's deletion); values far apart are
 * rejected before the label is read.
 */
#define DP_DEL_VAL(label, pos) ((uint32_t)(label) | ((uint32_t)(pos) << 24))
#define DP_DEL_LABEL(val) ((val) & 0xffffffu)
#define DP_DEL_POS(val) ((val) >> 24)
/** Most labels a deletion value can name. */
#define DP_DEL_MAX_LABELS 0xffffffu

/**
 * Hash a key of a kind: dp_key_fin(kind, len, dp_key_raw(key, len)).
 * @return 64-bit hash.
 */
uint64_t dp_key_hash(enum dp_key_kind kind, const char* key, size_t len);

/**
 * Memory for a large table that is read at random, on cache-line
 * boundaries.  A table of several huge pages is aligned on one and the
 * kernel is asked to back it with huge pages (MADV_HUGEPAGE), so that its
 * random reads miss the TLB less: with 4 kB pages each read of a table of
 * hundreds of MB also walks the page tables (tests/bench/memlat.c
 * measures the difference).  Freed with free().
 * @return the memory, or NULL when out of memory.
 */
void* dp_alloc_table(size_t size);

/**
 * Start building an index of at most n entries.
 * @return 0 on success, -1 when out of memory or n is too large.
 */
int dp_index_init(struct dp_index* ix, uint64_t n);

/** Release an index's arrays. */
void dp_index_clear(struct dp_index* ix);

/**
 * Add (hash, val); duplicates of the same pair are kept once.  At most
 * the n of dp_index_init; more are dropped (and dp_index_finish fails).
 */
void dp_index_put(struct dp_index* ix, uint64_t h, uint32_t val);

/**
 * Lay the entries put out in their buckets; the index can be searched
 * from then on.
 * @return 0 on success, -1 when out of memory, too many were put, or a
 *	bucket overflows beyond DP_BUCKET_OVF_MAX.
 */
int dp_index_finish(struct dp_index* ix);

/**
 * Whether a finished or loaded index is well formed: counts and overflow
 * ranges within bounds (a corrupt compiled policy must not make a lookup
 * read out of bounds).
 */
int dp_index_valid(const struct dp_index* ix);

/** Iterator over the values stored under one hash. */
struct dp_index_iter {
	const struct dp_bucket* b;
	/** a bit per entry of the bucket's line whose tag matches */
	unsigned mask;
	const struct dp_slot* pos;
	const struct dp_slot* end;
	uint32_t tag;
};

/** The number of the bucket of a hash among n, from the hash's lower
 * half (the tag is the upper). */
static inline uint64_t
dp_index_bucket_no(uint64_t n, uint64_t h)
{
	__extension__ typedef unsigned __int128 dp_u128;
	return (uint64_t)(((dp_u128)(h << 32) * n) >> 64);
}

/** The bucket of a hash. */
static inline const struct dp_bucket*
dp_index_bucket(const struct dp_index* ix, uint64_t h)
{
	return &ix->buckets[dp_index_bucket_no(ix->nbuckets, h)];
}

/**
 * Start a lookup.
 * @return 0 if the key is certainly absent (the iterator is then not
 *	usable), 1 otherwise.
 */
int dp_index_find(const struct dp_index* ix, uint64_t h,
	struct dp_index_iter* it);

/**
 * Ask the CPU to fetch the bucket of a hash.  Looking up a batch of
 * hashes costs about one memory latency instead of one each when their
 * buckets are asked for first.
 */
static inline void
dp_index_prefetch(const struct dp_index* ix, uint64_t h)
{
	if(ix->nbuckets)
		__builtin_prefetch(dp_index_bucket(ix, h));
}

/**
 * Next value stored under the hash of the lookup.
 * @return 1 and *val set, or 0 when there are no more.
 */
static inline int
dp_index_next(struct dp_index_iter* it, uint32_t* val)
{
	if(it->mask) {
		unsigned i = (unsigned)__builtin_ctz(it->mask);
		it->mask &= it->mask - 1;
		*val = it->b->val[i];
		return 1;
	}
	while(it->pos < it->end) {
		const struct dp_slot* s = it->pos++;
		if(s->tag == it->tag) {
			*val = s->val;
			return 1;
		}
	}
	return 0;
}

#endif /* DOPPEL_INDEX_H */
