/*
 * lib/index.c - hash multimap and blocked Bloom filter of the match index.
 */
#include "index.h"

#include <stdlib.h>
#include <string.h>

/** Bits set per key in its filter block; ~0.5% false positives at 16
 * bits per key. */
#define BLOOM_K 6
/** 64-bit words per filter block: one 64-byte cache line. */
#define BLOCK_WORDS 8

uint64_t
dp_key_raw(const char* key, size_t len)
{
	uint64_t h = 0;
	size_t i;
	for(i = 0; i < len; i++)
		h = h * DP_HASH_B + (uint64_t)(unsigned char)key[i] + 1;
	return h;
}

uint64_t
dp_key_fin(enum dp_key_kind kind, size_t len, uint64_t h)
{
	/* murmur3's fmix64, after the kind and length are mixed in, so
	 * that every bit of the result depends on every input bit. */
	h ^= ((uint64_t)kind << 56) ^ ((uint64_t)len << 48) ^
		0x9e3779b97f4a7c15ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

size_t
dp_key_deletions(const char* s, size_t n, uint64_t* out, uint8_t* pos)
{
	uint64_t pw[DP_DEL_KEYS], sfx[DP_DEL_KEYS], pfx = 0;
	size_t i, k = 0;
	if(n >= DP_DEL_KEYS - 1)
		n = DP_DEL_KEYS - 1;
	pw[0] = 1;
	for(i = 1; i <= n; i++)
		pw[i] = pw[i - 1] * DP_HASH_B;
	/* sfx[i]: the polynomial of s[i..n), weighted as within s. */
	sfx[n] = 0;
	for(i = n; i > 0; i--)
		sfx[i - 1] = sfx[i] + ((uint64_t)(unsigned char)s[i - 1] + 1) *
			pw[n - i];
	pos[k] = DP_DEL_NONE;
	out[k++] = dp_key_fin(DP_KEY_DEL, n, sfx[0]);
	for(i = 0; i < n; i++) {
		/* Deleting any character of a run of equal ones gives the
		 * same string: once, at the run's last character. */
		if(i + 1 == n || s[i] != s[i + 1]) {
			pos[k] = (uint8_t)i;
			out[k++] = dp_key_fin(DP_KEY_DEL, n - 1,
				pfx * pw[n - 1 - i] + sfx[i + 1]);
		}
		pfx = pfx * DP_HASH_B + (uint64_t)(unsigned char)s[i] + 1;
	}
	return k;
}

uint64_t
dp_key_hash(enum dp_key_kind kind, const char* key, size_t len)
{
	return dp_key_fin(kind, len, dp_key_raw(key, len));
}

__extension__ typedef unsigned __int128 u128;

/** The high half of a * b: a uniform number below b from a hash a. */
static uint64_t
mulhi(uint64_t a, uint64_t b)
{
	return (uint64_t)(((u128)a * b) >> 64);
}

int
dp_index_init(struct dp_index* ix, uint64_t n)
{
	memset(ix, 0, sizeof(*ix));
	if(n < 16)
		n = 16;
	/* Offsets are 32 bits wide. */
	if(n >= UINT32_MAX)
		return -1;
	/* Two entries a bucket on average: one line of entries. */
	ix->nbuckets = n / 2 + 1;
	/* 16 filter bits per key: 512-bit blocks hold 32 keys. */
	ix->nblocks = n / 32 + 1;
	ix->cap = n;
	ix->pending = malloc(n * sizeof(*ix->pending));
	ix->bloom = aligned_alloc(64, ix->nblocks * BLOCK_WORDS *
		sizeof(uint64_t));
	if(!ix->pending || !ix->bloom) {
		dp_index_clear(ix);
		return -1;
	}
	memset(ix->bloom, 0, ix->nblocks * BLOCK_WORDS * sizeof(uint64_t));
	return 0;
}

void
dp_index_clear(struct dp_index* ix)
{
	free(ix->pending);
	free(ix->offs);
	free(ix->slots);
	free(ix->bloom);
	memset(ix, 0, sizeof(*ix));
}

/** Tag of a hash: its upper half. */
static uint32_t
tag_of(uint64_t h)
{
	return (uint32_t)(h >> 32);
}

/**
 * The filter block of a hash: from the low half, rotated up; the bit
 * positions come from bits 10 to 63, the bucket from the hash remixed.
 */
static uint64_t*
bloom_block(const struct dp_index* ix, uint64_t h)
{
	return ix->bloom + mulhi(h << 32 | h >> 32, ix->nblocks) * BLOCK_WORDS;
}

/** The bucket of a hash. */
static uint64_t
bucket_of(const struct dp_index* ix, uint64_t h)
{
	return mulhi(h * 0x9e3779b97f4a7c15ULL, ix->nbuckets);
}

void
dp_index_put(struct dp_index* ix, uint64_t h, uint32_t val)
{
	uint64_t* b;
	uint64_t bits = h >> 10;
	struct dp_pending* e;
	int i;
	if(ix->npending >= ix->cap) {
		ix->npending = ix->cap + 1; /* dp_index_finish fails */
		return;
	}
	b = bloom_block(ix, h);
	for(i = 0; i < BLOOM_K; i++, bits >>= 9)
		b[(bits >> 6) & 7] |= 1ULL << (bits & 63);
	e = &ix->pending[ix->npending++];
	e->bucket = (uint32_t)bucket_of(ix, h);
	e->tag = tag_of(h);
	e->val = val;
}

int
dp_index_finish(struct dp_index* ix)
{
	uint64_t i, n = ix->npending;
	uint32_t* fill;
	if(n > ix->cap)
		return -1;
	ix->offs = calloc(ix->nbuckets + 1, sizeof(*ix->offs));
	ix->slots = malloc((n ? n : 1) * sizeof(*ix->slots));
	fill = calloc(ix->nbuckets, sizeof(*fill));
	if(!ix->offs || !ix->slots || !fill) {
		free(fill);
		return -1;
	}
	/* A counting sort by bucket, keeping the order of the puts within
	 * a bucket; then each bucket loses its repeated pairs. */
	for(i = 0; i < n; i++)
		ix->offs[ix->pending[i].bucket + 1]++;
	for(i = 0; i < ix->nbuckets; i++)
		ix->offs[i + 1] += ix->offs[i];
	for(i = 0; i < n; i++) {
		const struct dp_pending* e = &ix->pending[i];
		struct dp_slot* s = &ix->slots[ix->offs[e->bucket] +
			fill[e->bucket]++];
		s->tag = e->tag;
		s->val = e->val;
	}
	free(fill);
	free(ix->pending);
	ix->pending = NULL;
	ix->npending = ix->cap = 0;
	ix->count = 0;
	for(i = 0; i < ix->nbuckets; i++) {
		uint32_t a = ix->offs[i], e = ix->offs[i + 1], j, k;
		ix->offs[i] = (uint32_t)ix->count;
		for(j = a; j < e; j++) {
			struct dp_slot s = ix->slots[j];
			for(k = ix->offs[i]; k < ix->count; k++)
				if(ix->slots[k].tag == s.tag &&
					ix->slots[k].val == s.val)
					break;
			if(k == ix->count)
				ix->slots[ix->count++] = s;
		}
	}
	ix->offs[ix->nbuckets] = (uint32_t)ix->count;
	ix->nslots = ix->count;
	return 0;
}

int
dp_index_valid(const struct dp_index* ix)
{
	uint64_t i;
	if(ix->nbuckets == 0 || ix->nblocks == 0 || !ix->offs ||
		ix->offs[0] != 0 || ix->offs[ix->nbuckets] != ix->nslots)
		return 0;
	for(i = 0; i < ix->nbuckets; i++)
		if(ix->offs[i] > ix->offs[i + 1])
			return 0;
	return 1;
}

void
dp_index_prefetch(const struct dp_index* ix, uint64_t h)
{
	__builtin_prefetch(bloom_block(ix, h));
}

/** Whether the filter block lets h through. */
static int
bloom_has(const struct dp_index* ix, uint64_t h)
{
	const uint64_t* b = bloom_block(ix, h);
	uint64_t bits = h >> 10;
	int i;
	for(i = 0; i < BLOOM_K; i++, bits >>= 9)
		if(!(b[(bits >> 6) & 7] & (1ULL << (bits & 63))))
			return 0;
	return 1;
}

int
dp_index_maybe(const struct dp_index* ix, uint64_t h)
{
	if(ix->nbuckets == 0 || !bloom_has(ix, h))
		return 0;
	__builtin_prefetch(&ix->offs[bucket_of(ix, h)]);
	return 1;
}

int
dp_index_find(const struct dp_index* ix, uint64_t h, struct dp_index_iter* it)
{
	uint64_t b;
	if(ix->nbuckets == 0 || !bloom_has(ix, h))
		return 0;
	b = bucket_of(ix, h);
	it->pos = ix->slots + ix->offs[b];
	it->end = ix->slots + ix->offs[b + 1];
	it->tag = tag_of(h);
	return 1;
}
