/*
 * lib/index.c - hash multimap and blocked Bloom filter of the match index.
 */
#include "index.h"

#include <stdlib.h>
#include <sys/mman.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <string.h>

/** The huge page size of x86-64 and arm64 (with 4 kB base pages). */
#define HUGE_PAGE ((size_t)2 << 20)

void*
dp_alloc_table(size_t size)
{
	void* p;
	size = size ? (size + 63) & ~(size_t)63 : 64;
	if(size < 4 * HUGE_PAGE)
		return aligned_alloc(64, size);
	size = (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	if(!(p = aligned_alloc(HUGE_PAGE, size)))
		return NULL;
#ifdef MADV_HUGEPAGE
	/* Advice only: without transparent huge pages it does nothing. */
	(void)madvise(p, size, MADV_HUGEPAGE);
#endif
	return p;
}

uint64_t
dp_key_raw(const char* key, size_t len)
{
	uint64_t h = 0;
	size_t i;
	for(i = 0; i < len; i++)
		h = h * DP_HASH_B + (uint64_t)(unsigned char)key[i] + 1;
	return h;
}

/**
 * The one-character deletions of s, as dp_key_deletions gives them.
 * With bits, only those the deletion filter lets through, or, with set,
 * none: their filter bits are set instead.
 */
static size_t
deletions(const char* s, size_t n, uint64_t* out, uint8_t* pos,
	uint64_t* bits, uint64_t mask, int set)
{
	uint64_t pw[DP_DEL_KEYS], sfx[DP_DEL_KEYS], pfx = 0, r;
	size_t i, k = 0, w;
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
	/* the whole string, then each deletion; the filter is asked with
	 * the polynomial, so that a key it stops is never finished */
	for(i = 0; i <= n; i++) {
		size_t len = n;
		uint8_t at = DP_DEL_NONE;
		if(i > 0) {
			size_t j = i - 1;
			/* Deleting any character of a run of equal ones
			 * gives the same string: once, at the run's last
			 * character. */
			int skip = j + 1 < n && s[j] == s[j + 1];
			r = pfx * pw[n - 1 - j] + sfx[j + 1];
			pfx = pfx * DP_HASH_B + (uint64_t)(unsigned char)s[j] + 1;
			if(skip)
				continue;
			len = n - 1;
			at = (uint8_t)j;
		} else
			r = sfx[0];
		if(bits) {
			uint64_t b = dp_del_filter_bits(mask, r, len, &w);
			if(set) {
				bits[w] |= b;
				continue;
			}
			if((bits[w] & b) != b)
				continue;
		}
		pos[k] = at;
		out[k++] = dp_key_fin(DP_KEY_DEL, len, r);
	}
	return k;
}

size_t
dp_key_deletions_in(const char* s, size_t n, uint64_t* out, uint8_t* pos,
	const uint64_t* bits, uint64_t mask)
{
	return deletions(s, n, out, pos, (uint64_t*)bits, mask, 0);
}

void
dp_del_filter_put(uint64_t* bits, uint64_t mask, const char* s, size_t n)
{
	deletions(s, n, NULL, NULL, bits, mask, 1);
}

size_t
dp_key_deletions(const char* s, size_t n, uint64_t* out, uint8_t* pos)
{
	return deletions(s, n, out, pos, NULL, 0, 0);
}

/*
 * Parts.  When a deletion key of a query q meets one of a protected p,
 * both are one string d, c characters long: q, or q less its character
 * at i; p, or p less its character at j.  The engine weighs the pair only
 * with i and j at most one apart.  Then q and p agree on d's first
 * min(i, j) characters and on its last c - max(i, j) (when nothing was
 * deleted from one of them, on d's first j and last c - j, or the same
 * with i): on all of d but one position at most.  Cut d in three, its
 * first t = c/3 characters (rounded down), its last t, and the middle:
 * the one position is in one of them, so q and p agree on d's first 2t
 * characters (counted from their starts), or on its last 2t (counted
 * from their ends), or on both its first t and its last t.  c is |q| or
 * |q| - 1, and |p| or |p| - 1.  Keyed by t and the kind, those parts of
 * every protected fold go into a filter; a query whose parts (three, or
 * six when its two lengths c give two t) all miss it cannot meet any
 * deletion key, and needs none of them made.
 */

/** The word of a parts filter a part's three bits are in, and the bits
 * (three: a clean label asks three parts, or six). */
static inline uint64_t
part_bits(uint64_t mask, uint64_t raw, size_t* word)
{
	uint64_t x = raw * 0x9e3779b97f4a7c15ULL;
	x ^= x >> 29;
	*word = (size_t)((x >> 20) & mask);
	return ((uint64_t)1 << (x >> 58)) | ((uint64_t)1 << ((x >> 52) & 63)) |
		((uint64_t)1 << ((x >> 46) & 63));
}

/**
 * s's parts for the deletion lengths c = n - 1 and c = n (three or
 * more): their filter bits set (set) or asked.
 * @return whether one was there (0 when set).
 */
static int
parts(const char* s, size_t n, uint64_t* bits, uint64_t mask, int set)
{
	/* polynomials of s's first and last i characters, the last read
	 * from the end */
	uint64_t pre[DP_DEL_KEYS], suf[DP_DEL_KEYS];
	size_t t, i, w, k, j;
	if(n < 3 || n > DP_DEL_KEYS - 1)
		return 0;
	pre[0] = suf[0] = 0;
	for(i = 0; i < 2 * (n / 3); i++) {
		pre[i + 1] = pre[i] * DP_HASH_B + (unsigned char)s[i] + 1;
		suf[i + 1] = suf[i] * DP_HASH_B +
			(unsigned char)s[n - 1 - i] + 1;
	}
	/* t for c = n, then for c = n - 1 when it differs (n a multiple
	 * of three); the parts are keyed by t, not c, so that the two
	 * lengths mostly share theirs */
	for(j = 0; j < 2; j++) {
		t = j == 0 ? n / 3 : (n - 1) / 3;
		if(t < 1 || (j == 1 && t == n / 3))
			continue;
		for(k = 0; k < 3; k++) {
			uint64_t r = k == 0 ? pre[2 * t] : k == 1 ? suf[2 * t] :
				pre[t] * 0x9e3779b97f4a7c15ULL + suf[t];
			uint64_t b = part_bits(mask, r * DP_HASH_B + 3 * t +
				k + 1, &w);
			if(set)
				bits[w] |= b;
			else if((bits[w] & b) == b)
				return 1;
		}
	}
	return 0;
}

void
dp_del_parts_put(uint64_t* bits, uint64_t mask, const char* s, size_t n)
{
	parts(s, n, bits, mask, 1);
}

int
dp_del_parts_near(const uint64_t* bits, uint64_t mask, const char* s,
	size_t n)
{
	/* a deletion of two characters or fewer shares too little; strings
	 * past the deletion keys' length are cut there */
	if(!bits || n < 4 || n > DP_DEL_KEYS - 1)
		return 1;
	return parts(s, n, (uint64_t*)bits, mask, 0);
}

uint64_t
dp_key_hash(enum dp_key_kind kind, const char* key, size_t len)
{
	return dp_key_fin(kind, len, dp_key_raw(key, len));
}

int
dp_index_init(struct dp_index* ix, uint64_t n)
{
	memset(ix, 0, sizeof(*ix));
	if(n < 16)
		n = 16;
	/* Positions are 32 bits wide. */
	if(n >= UINT32_MAX)
		return -1;
	/* Five entries a bucket of seven on average: about one bucket in
	 * eight overflows, by one or two entries. */
	ix->nbuckets = n / 5 + 1;
	ix->cap = n;
	if(!(ix->pending = malloc(n * sizeof(*ix->pending)))) {
		dp_index_clear(ix);
		return -1;
	}
	return 0;
}

void
dp_index_clear(struct dp_index* ix)
{
	free(ix->pending);
	free(ix->buckets);
	free(ix->ovf);
	memset(ix, 0, sizeof(*ix));
}

/** Tag of a hash: its upper half. */
static uint32_t
tag_of(uint64_t h)
{
	return (uint32_t)(h >> 32);
}

void
dp_index_put(struct dp_index* ix, uint64_t h, uint32_t val)
{
	struct dp_pending* e;
	if(ix->npending >= ix->cap) {
		ix->npending = ix->cap + 1; /* dp_index_finish fails */
		return;
	}
	e = &ix->pending[ix->npending++];
	e->bucket = (uint32_t)dp_index_bucket_no(ix->nbuckets, h);
	e->tag = tag_of(h);
	e->val = val;
}

/** Whether bucket b already holds (tag, val) (for the build). */
static int
bucket_has(const struct dp_index* ix, const struct dp_bucket* b,
	uint32_t tag, uint32_t val)
{
	unsigned i, n = b->meta & 7;
	uint64_t j;
	for(i = 0; i < n; i++)
		if(b->tag[i] == tag && b->val[i] == val)
			return 1;
	for(j = b->ovf; j < b->ovf + (b->meta >> 11); j++)
		if(ix->ovf[j].tag == tag && ix->ovf[j].val == val)
			return 1;
	return 0;
}

int
dp_index_finish(struct dp_index* ix)
{
	uint64_t i, n = ix->npending;
	uint32_t *first, *next;
	if(n > ix->cap)
		return -1;
	/* Chain the entries of each bucket, in the order they were put. */
	ix->buckets = dp_alloc_table(ix->nbuckets * sizeof(*ix->buckets));
	ix->ovf = malloc((n ? n : 1) * sizeof(*ix->ovf));
	first = malloc(ix->nbuckets * sizeof(*first));
	next = malloc((n ? n : 1) * sizeof(*next));
	if(!ix->buckets || !ix->ovf || !first || !next) {
		free(first);
		free(next);
		return -1;
	}
	memset(ix->buckets, 0, ix->nbuckets * sizeof(*ix->buckets));
	memset(first, 0xff, ix->nbuckets * sizeof(*first));
	for(i = n; i > 0; i--) {
		uint32_t b = ix->pending[i - 1].bucket;
		next[i - 1] = first[b];
		first[b] = (uint32_t)(i - 1);
	}
	/* Fill each bucket's line, then its overflow, skipping repeats. */
	ix->count = ix->novf = 0;
	for(i = 0; i < ix->nbuckets; i++) {
		struct dp_bucket* b = &ix->buckets[i];
		uint32_t e;
		b->ovf = (uint32_t)ix->novf;
		for(e = first[i]; e != UINT32_MAX; e = next[e]) {
			const struct dp_pending* p = &ix->pending[e];
			unsigned k = b->meta & 7;
			if(bucket_has(ix, b, p->tag, p->val))
				continue;
			if(k < DP_BUCKET_ENTRIES) {
				b->tag[k] = p->tag;
				b->val[k] = p->val;
				b->meta++;
			} else {
				if((b->meta >> 11) >= DP_BUCKET_OVF_MAX) {
					free(first);
					free(next);
					return -1;
				}
				ix->ovf[ix->novf].tag = p->tag;
				ix->ovf[ix->novf].val = p->val;
				ix->novf++;
				b->meta += 1u << 11;
				b->meta |= 1u << (3 + (p->tag & 7));
			}
			ix->count++;
		}
	}
	free(first);
	free(next);
	free(ix->pending);
	ix->pending = NULL;
	ix->npending = ix->cap = 0;
	/* Room was made for every entry to overflow. */
	if(ix->novf) {
		struct dp_slot* o = realloc(ix->ovf, ix->novf * sizeof(*o));
		if(o)
			ix->ovf = o;
	}
	return 0;
}

int
dp_index_valid(const struct dp_index* ix)
{
	uint64_t i;
	if(ix->nbuckets == 0 || !ix->buckets)
		return 0;
	for(i = 0; i < ix->nbuckets; i++) {
		const struct dp_bucket* b = &ix->buckets[i];
		if((b->meta & 7) > DP_BUCKET_ENTRIES ||
			(uint64_t)b->ovf + (b->meta >> 11) > ix->novf)
			return 0;
	}
	return 1;
}


/** A bit per entry of a bucket's line whose tag is tag. */
static unsigned
tag_mask(const struct dp_bucket* b, uint32_t tag)
{
	unsigned n = b->meta & 7, m;
#ifdef __SSE2__
	/* Entries 0-3 and 3-6, four at a time. */
	__m128i t = _mm_set1_epi32((int)tag);
	__m128i lo = _mm_loadu_si128((const __m128i*)(const void*)&b->tag[0]);
	__m128i hi = _mm_loadu_si128((const __m128i*)(const void*)&b->tag[3]);
	m = (unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(lo,
		t))) | (unsigned)_mm_movemask_ps(_mm_castsi128_ps(
		_mm_cmpeq_epi32(hi, t))) << 3;
#else
	unsigned i;
	for(m = 0, i = 0; i < DP_BUCKET_ENTRIES; i++)
		m |= (unsigned)(b->tag[i] == tag) << i;
#endif
	/* Only the entries in use. */
	return m & ((1u << n) - 1);
}

int
dp_index_find(const struct dp_index* ix, uint64_t h, struct dp_index_iter* it)
{
	const struct dp_bucket* b;
	uint32_t tag = tag_of(h);
	if(ix->nbuckets == 0)
		return 0;
	b = dp_index_bucket(ix, h);
	it->b = b;
	it->mask = tag_mask(b, tag);
	it->tag = tag;
	it->pos = it->end = NULL;
	if((b->meta >> 11) && (b->meta >> (3 + (tag & 7)) & 1)) {
		it->pos = ix->ovf + b->ovf;
		it->end = it->pos + (b->meta >> 11);
		__builtin_prefetch(it->pos);
		return 1;
	}
	return it->mask != 0;
}
