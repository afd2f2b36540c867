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
	uint64_t pw[768], sfx[768], pfx = 0;
	size_t i, k = 0;
	if(n >= 250)
		n = 250;
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
	/* Load at most 0.8 keeps linear probes short; sizes are not
	 * rounded to powers of two, which would waste up to half. */
	ix->nslots = n + n / 4 + 16;
	/* 16 filter bits per key: 512-bit blocks hold 32 keys. */
	ix->nblocks = n / 32 + 1;
	ix->slots = calloc(ix->nslots, sizeof(*ix->slots));
	ix->bloom = aligned_alloc(64, ix->nblocks * BLOCK_WORDS *
		sizeof(uint64_t));
	if(!ix->slots || !ix->bloom) {
		dp_index_clear(ix);
		return -1;
	}
	memset(ix->bloom, 0, ix->nblocks * BLOCK_WORDS * sizeof(uint64_t));
	return 0;
}

void
dp_index_clear(struct dp_index* ix)
{
	free(ix->slots);
	free(ix->bloom);
	memset(ix, 0, sizeof(*ix));
}

/** Tag of a hash: its upper half, never 0 (0 marks an empty slot). */
static uint32_t
tag_of(uint64_t h)
{
	uint32_t t = (uint32_t)(h >> 32);
	return t ? t : 1;
}

/**
 * The filter bits of a hash: block from the low bits, BLOOM_K bit
 * positions of 9 bits each from the bits above them.
 */
static uint64_t*
bloom_block(const struct dp_index* ix, uint64_t h)
{
	/* The block from the low half, rotated up; the bit positions
	 * come from bits 10 to 63, and the slot from the hash remixed. */
	return ix->bloom + mulhi(h << 32 | h >> 32, ix->nblocks) * BLOCK_WORDS;
}

/** First slot to probe for a hash. */
static uint64_t
slot_of(const struct dp_index* ix, uint64_t h)
{
	return mulhi(h * 0x9e3779b97f4a7c15ULL, ix->nslots);
}

void
dp_index_put(struct dp_index* ix, uint64_t h, uint32_t val)
{
	uint64_t* b = bloom_block(ix, h);
	uint64_t pos = slot_of(ix, h);
	uint32_t tag = tag_of(h);
	uint64_t bits = h >> 10;
	int i;
	for(i = 0; i < BLOOM_K; i++, bits >>= 9)
		b[(bits >> 6) & 7] |= 1ULL << (bits & 63);
	while(ix->slots[pos].tag) {
		if(ix->slots[pos].tag == tag && ix->slots[pos].val == val)
			return;
		if(++pos == ix->nslots)
			pos = 0;
	}
	ix->slots[pos].tag = tag;
	ix->slots[pos].val = val;
	ix->count++;
}

void
dp_index_prefetch(const struct dp_index* ix, uint64_t h)
{
	if(ix->nblocks)
		__builtin_prefetch(bloom_block(ix, h));
}

int
dp_index_find(const struct dp_index* ix, uint64_t h, struct dp_index_iter* it)
{
	const uint64_t* b;
	uint64_t bits = h >> 10;
	int i;
	if(ix->nslots == 0)
		return 0;
	b = bloom_block(ix, h);
	for(i = 0; i < BLOOM_K; i++, bits >>= 9)
		if(!(b[(bits >> 6) & 7] & (1ULL << (bits & 63))))
			return 0;
	it->ix = ix;
	it->pos = slot_of(ix, h);
	it->tag = tag_of(h);
	return 1;
}

int
dp_index_next(struct dp_index_iter* it, uint32_t* val)
{
	const struct dp_slot* s = it->ix->slots;
	while(s[it->pos].tag) {
		uint64_t p = it->pos;
		if(++it->pos == it->ix->nslots)
			it->pos = 0;
		if(s[p].tag == it->tag) {
			*val = s[p].val;
			return 1;
		}
	}
	return 0;
}
