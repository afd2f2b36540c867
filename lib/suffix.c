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
	const char* s = p->psl_text;
	const char* end = s ? s + p->psl_len : NULL;
	int64_t count = 0;
	/* A list in libpsl's binary (DAFSA) form is left to libpsl. */
	if(!s || (p->psl_len >= 11 && memcmp(s, ".DAFSA@PSL_", 11) == 0))
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
		if(put && put_rule(p, s, n, flags) != 0)
			return -1;
		if(!ascii) {
			/* Names arrive in ACE form: add it, as libpsl does
			 * (same conversion, same flags). */
			char utf8[RULE_MAX + 1];
			uint8_t* ace = NULL;
			memcpy(utf8, s, n);
			utf8[n] = 0;
			if(idn2_lookup_u8((const uint8_t*)utf8, &ace,
				IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) ==
				IDN2_OK && ace && strcmp((char*)ace, utf8) != 0 &&
				strlen((char*)ace) < RULE_MAX) {
				count++;
				if(put && put_rule(p, (char*)ace,
					strlen((char*)ace), flags) != 0) {
					idn2_free(ace);
					return -1;
				}
			}
			idn2_free(ace);
		}
		s = eol + 1;
	}
	return count;
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
	if(!dp_index_find(&p->index, h, &it))
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
