/*
 * lib/suffix.c - the Public Suffix List in the match index.
 *
 * libpsl reads the list and stays the reference: the policy compiler and
 * the tests use it.  On the query path, though, psl_registrable_domain()
 * costs a binary search per label (~0.3 us a name, a third of a check),
 * and its tables are not where the rest of the check looks.  So the
 * rules also go into the index (DP_KEY_PSL), keyed by their text, and a
 * name's public suffix comes from the same walk over its labels that
 * finds its listed parents: one batch of index lookups.  The matching
 * follows libpsl 0.21's is_public_suffix() exactly (rules loaded from a
 * text list), including its quirks: a single label is always public, a
 * wildcard rule "*.foo.bar" makes "foo.bar" public too, and an
 * exception "!www.foo.bar" settles the question for that name alone.
 * tests/unit/test_policy.c holds the two side by side over every rule.
 */
#include "internal.h"

#include <idn2.h>
#include <stdlib.h>
#include <string.h>

/** libpsl ignores rules this long or longer. */
#define RULE_MAX 127

/** Whitespace as libpsl's list reader sees it. */
static int
psl_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/** What to do with each rule of the list. */
typedef int (*rule_fn)(struct dp_policy* p, const char* s, size_t n,
	unsigned flags);

/**
 * Call fn for each rule of a Public Suffix List text, read as libpsl
 * reads it, and for the ACE form of each rule that is not ASCII
 * (as libpsl adds it: same conversion, same flags).
 * @return how many calls, or -1 when fn failed.
 */
static int64_t
each_rule(struct dp_policy* p, const char* text, size_t len, rule_fn fn)
{
	const char* s = text;
	const char* end = s ? s + len : NULL;
	int64_t count = 0;
	/* A list in libpsl's binary (DAFSA) form is left to libpsl. */
	if(!s || (len >= 11 && memcmp(s, ".DAFSA@PSL_", 11) == 0))
		return 0;
	while(s < end) {
		const char* eol = memchr(s, '\n', (size_t)(end - s));
		const char* e;
		unsigned flags = DP_PSL_PLAIN;
		size_t n, i;
		int ascii = 1;
		if(!eol)
			eol = end;
		while(s < eol && psl_space(*s))
			s++;
		if(s == eol || (eol - s >= 2 && s[0] == '/' && s[1] == '/')) {
			s = eol + 1;
			continue;
		}
		for(e = s; e < eol && !psl_space(*e); e++)
			;
		if(*s == '!') {
			flags = DP_PSL_EXCEPTION;
			s++;
		} else if(*s == '*') {
			if(e - s < 2 || s[1] != '.') {
				s = eol + 1;
				continue; /* libpsl ignores "*foo" */
			}
			/* "*.foo.bar" makes "foo.bar" a public suffix too */
			flags = DP_PSL_WILDCARD | DP_PSL_PLAIN;
			s += 2;
		}
		n = (size_t)(e - s);
		if(n >= RULE_MAX) {
			s = eol + 1;
			continue;
		}
		for(i = 0; i < n; i++)
			if((unsigned char)s[i] >= 0x80)
				ascii = 0;
		count++;
		if(fn && fn(p, s, n, flags) != 0)
			return -1;
		if(!ascii) {
			char utf8[RULE_MAX + 1];
			uint8_t* ace = NULL;
			int rc = 0;
			memcpy(utf8, s, n);
			utf8[n] = 0;
			if(idn2_lookup_u8((const uint8_t*)utf8, &ace,
				IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) ==
				IDN2_OK && ace && strcmp((char*)ace, utf8) != 0 &&
				strlen((char*)ace) < RULE_MAX) {
				count++;
				if(fn)
					rc = fn(p, (char*)ace, strlen((char*)ace),
						flags);
			}
			idn2_free(ace);
			if(rc != 0)
				return -1;
		}
		s = eol + 1;
	}
	return count;
}

/**
 * Add one rule: its text after a flags byte in the string area, and an
 * index entry pointing at the flags byte.
 * @return 0, or -1 when out of memory.
 */
static int
put_rule(struct dp_policy* p, const char* s, size_t n, unsigned flags)
{
	char buf[RULE_MAX + 2];
	uint32_t off;
	buf[0] = (char)(DP_PSL_MARK | flags);
	memcpy(buf + 1, s, n);
	if((off = dp_policy_add_string(p, buf, n + 1)) == DP_NONE)
		return -1;
	dp_index_put(&p->index, dp_key_hash(DP_KEY_PSL, s, n), off);
	return 0;
}

int64_t
dp_psl_rules(struct dp_policy* p, int put)
{
	return each_rule(p, p->psl_text, p->psl_len, put ? put_rule : NULL);
}

/** One of the two filter bits of a rule key's hash. */
static inline uint64_t
filter_bit(const struct dp_policy* p, uint64_t h, int second)
{
	return (h >> (second ? 39 : 7)) & p->psl_filter_mask;
}

/** Whether the filter lets a rule key's hash through. */
static inline int
filter_has(const struct dp_policy* p, uint64_t h)
{
	uint64_t a = filter_bit(p, h, 0), b = filter_bit(p, h, 1);
	return (p->psl_filter[a >> 6] >> (a & 63) & 1) &&
		(p->psl_filter[b >> 6] >> (b & 63) & 1);
}

/** Set a rule's filter bits. */
static int
filter_rule(struct dp_policy* p, const char* s, size_t n, unsigned flags)
{
	uint64_t h = dp_key_hash(DP_KEY_PSL, s, n), a, b;
	(void)flags;
	a = filter_bit(p, h, 0);
	b = filter_bit(p, h, 1);
	p->psl_filter[a >> 6] |= (uint64_t)1 << (a & 63);
	p->psl_filter[b >> 6] |= (uint64_t)1 << (b & 63);
	return 0;
}

dp_status
dp_psl_filter_init(struct dp_policy* p, const char* text, size_t len)
{
	uint64_t bits = 4096;
	free(p->psl_filter);
	p->psl_filter = NULL;
	if(!p->psl_rules)
		return DP_OK;
	while(bits < p->psl_rules * 16)
		bits <<= 1;
	if(!(p->psl_filter = calloc(bits / 64, sizeof(uint64_t))))
		return DP_ERR_NOMEM;
	p->psl_filter_mask = bits - 1;
	if(each_rule(p, text, len, filter_rule) != (int64_t)p->psl_rules) {
		/* not the list the index was built from: no filter, which
		 * costs time, not answers */
		free(p->psl_filter);
		p->psl_filter = NULL;
	}
	return DP_OK;
}

/**
 * The flags of the rules whose text is s (n bytes), by the hash h of its
 * key; 0 when there is none.
 */
static unsigned
rule_flags(const struct dp_policy* p, const char* s, size_t n, uint64_t h)
{
	struct dp_index_iter it;
	unsigned flags = 0;
	uint32_t val;
	/* Most suffixes of a name are no rule: the small filter, which
	 * stays in the cache, spares their buckets' cache misses. */
	if((p->psl_filter && !filter_has(p, h)) ||
		!dp_index_find(&p->index, h, &it))
		return 0;
	while(dp_index_next(&it, &val)) {
		const char* r = p->strings + val;
		if(val + (uint64_t)n + 2 > p->strings_len ||
			!((unsigned char)r[0] & DP_PSL_MARK) ||
			memcmp(r + 1, s, n) != 0 || r[n + 1] != 0)
			continue; /* another key's entry */
		flags |= (unsigned char)r[0];
	}
	return flags;
}

const char*
dp_psl_match(const struct dp_policy* p, const char* name, size_t nk,
	const uint16_t* start, const uint64_t* h)
{
	size_t len = strlen(name), k;
	unsigned prev = 0, cur;
	if(nk == 0)
		return NULL;
	/* k = 0 is the last label, always public: libpsl's implicit "*"
	 * rule.  Walking outwards, the first suffix that is not public
	 * marks the end; libpsl walks inwards from the whole name and
	 * stops at the first public one, which is the same suffix only if
	 * public suffixes nest.  They need not ("*.kawasaki.jp" makes
	 * "foo.kawasaki.jp" public but not "bar.foo.kawasaki.jp"), so the
	 * longest public suffix is what counts, as with libpsl. */
	{
		size_t best = 0;
		for(k = 0; k < nk; k++) {
			int pub;
			cur = rule_flags(p, name + start[k], len - start[k],
				h[k]);
			if(k == 0)
				pub = 1;
			else if(cur)
				pub = !(cur & DP_PSL_EXCEPTION);
			else
				pub = (prev & DP_PSL_WILDCARD) != 0;
			if(pub)
				best = k;
			prev = cur;
		}
		if(best + 1 >= nk)
			return NULL; /* the whole name is a public suffix */
		return name + start[best + 1];
	}
}

size_t
dp_name_suffixes(const char* name, uint16_t* start, uint64_t* raw,
	size_t max)
{
	size_t n = strlen(name), i, k = 0;
	uint64_t r = 0, pw = 1;
	for(i = n; i > 0 && k < max; i--) {
		r += ((uint64_t)(unsigned char)name[i - 1] + 1) * pw;
		pw *= DP_HASH_B;
		if(i - 1 > 0 && name[i - 2] != '.')
			continue;
		/* name + i - 1 starts a label */
		start[k] = (uint16_t)(i - 1);
		raw[k] = r;
		k++;
	}
	return k;
}

const char*
dp_registrable(const struct dp_policy* p, const char* name)
{
	uint16_t start[DP_NAME_LABELS];
	uint64_t raw[DP_NAME_LABELS];
	size_t n = strlen(name), nk, k;
	if(!p->psl_rules)
		return psl_registrable_domain(p->psl, name);
	nk = dp_name_suffixes(name, start, raw, DP_NAME_LABELS);
	for(k = 0; k < nk; k++)
		raw[k] = dp_key_fin(DP_KEY_PSL, n - start[k], raw[k]);
	return dp_psl_match(p, name, nk, start, raw);
}
