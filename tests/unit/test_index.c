/*
 * tests/unit/test_index.c - the filters in front of the deletion keys:
 * the parts filter (dp_del_parts_near) must let through every string
 * that has a deletion key the engine would weigh against a protected one
 * (it is only allowed to say "maybe"), and stop most that have none.
 */
#include "doppel.h"
#include "internal.h"
#include "index.h"
#include "test.h"

#include <stdint.h>

/** A small generator, the same on every run. */
static uint64_t rng_state = 20261206;

static unsigned
rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rng_state >> 33) % n);
}

/** A random string of n characters of the first k letters. */
static void
random_string(char* s, size_t n, unsigned k)
{
	size_t i;
	for(i = 0; i < n; i++)
		s[i] = (char)('a' + rnd(k));
	s[n] = 0;
}

/** Apply one random edit (replace, insert, delete, swap neighbours) to
 * s (n characters; room for n + 2). @return the new length. */
static size_t
random_edit(char* s, size_t n, unsigned k)
{
	size_t at = n ? rnd((unsigned)n) : 0;
	switch(n ? rnd(4) : 1) {
	case 0:
		s[at] = (char)('a' + rnd(k));
		return n;
	case 1:
		at = rnd((unsigned)n + 1);
		memmove(s + at + 1, s + at, n - at + 1);
		s[at] = (char)('a' + rnd(k));
		return n + 1;
	case 2:
		memmove(s + at, s + at + 1, n - at);
		return n - 1;
	default:
		if(at + 1 < n) {
			char c = s[at];
			s[at] = s[at + 1];
			s[at + 1] = c;
		}
		return n;
	}
}

/** Whether q has a deletion key equal to one of p's, at positions the
 * engine weighs (at most one apart, or either side whole). */
static int
keys_meet(const char* q, size_t nq, const char* p, size_t np)
{
	uint64_t hq[DP_DEL_KEYS], hp[DP_DEL_KEYS];
	uint8_t pq[DP_DEL_KEYS], pp[DP_DEL_KEYS];
	size_t kq = dp_key_deletions(q, nq, hq, pq), i, j;
	size_t kp = dp_key_deletions(p, np, hp, pp);
	for(i = 0; i < kq; i++)
		for(j = 0; j < kp; j++)
			if(hq[i] == hp[j] && (pq[i] == DP_DEL_NONE ||
				pp[j] == DP_DEL_NONE || (pq[i] <= pp[j] + 1 &&
				pp[j] <= pq[i] + 1)))
				return 1;
	return 0;
}

/** Every string one or two random edits from a protected one whose
 * deletion keys meet the protected one's passes the filter holding only
 * that string; small alphabets make runs and repeats (where deletions
 * coincide) common. */
static void
test_parts_never_miss(void)
{
	uint64_t bits[64];
	char p[40], q[44];
	unsigned k, trial;
	size_t np, nq, met = 0, missed = 0;
	for(trial = 0; trial < 20000; trial++) {
		k = trial % 3 == 0 ? 2 : trial % 3 == 1 ? 4 : 26;
		np = 1 + rnd(20);
		random_string(p, np, k);
		memset(bits, 0, sizeof(bits));
		dp_del_parts_put(bits, 63, p, np);
		memcpy(q, p, np + 1);
		nq = random_edit(q, np, k);
		if(trial & 1)
			nq = random_edit(q, nq, k);
		if(!keys_meet(q, nq, p, np))
			continue;
		met++;
		if(!dp_del_parts_near(bits, 63, q, nq)) {
			if(missed++ < 5)
				TEST_FAIL_AT("'%s' meets '%s' but the parts "
					"filter stops it", q, p);
		}
	}
	ASSERT_EQ(missed, 0);
	/* the trials did reach the case they test */
	ASSERT(met > 10000);
}

/** Strings unrelated to 2,000 protected ones of the same length mostly
 * do not pass: the filter does its work. */
static void
test_parts_stop_unrelated(void)
{
	static uint64_t bits[4096];
	char s[32];
	unsigned i, passed = 0;
	for(i = 0; i < 2000; i++) {
		random_string(s, 14, 26);
		dp_del_parts_put(bits, 4095, s, 14);
	}
	for(i = 0; i < 2000; i++) {
		random_string(s, 14, 26);
		passed += (unsigned)dp_del_parts_near(bits, 4095, s, 14);
	}
	/* six probes of a filter of 16 bits a key (as the engine sizes
	 * it): a few percent */
	if(passed >= 2000 / 10)
		TEST_FAIL_AT("%u of 2000 unrelated strings passed", passed);
	/* no filter, or a string too short to cut: always maybe */
	ASSERT(dp_del_parts_near(NULL, 0, "abcdef", 6));
	ASSERT(dp_del_parts_near(bits, 4095, "ab", 2));
	ASSERT(dp_del_parts_near(bits, 4095, "abc", 3));
}

static const struct test_entry tests[] = {
	TEST_ENTRY(parts_never_miss),
	TEST_ENTRY(parts_stop_unrelated),
};

TEST_MAIN("index", tests)
