/*
 * tests/unit/test.h - a tiny test harness in the style of libuv's task.h.
 *
 * A test file defines functions `static void test_NAME(void)` and lists them
 * in a TESTS table; TEST_MAIN runs each one and prints one line per test,
 * "PASS unit/FILE/NAME" or "FAIL unit/FILE/NAME" after indented lines that
 * say where and what failed; tests/run.sh counts them.
 * The ASSERT_* macros print both values on failure.
 */
#ifndef DOPPEL_TEST_H
#define DOPPEL_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_dir.h"

/** Failures in the running test. */
static int test_failures;

#define TEST_FAIL_AT(...)                                                   \
	do {                                                                \
		test_failures++;                                            \
		printf("    %s:%d: ", __FILE__, __LINE__);                  \
		printf(__VA_ARGS__);                                        \
		printf("\n");                                               \
	} while(0)

#define ASSERT(cond)                                                        \
	do {                                                                \
		if(!(cond))                                                 \
			TEST_FAIL_AT("assertion failed: %s", #cond);        \
	} while(0)

#define ASSERT_EQ(a, b)                                                     \
	do {                                                                \
		long long a_ = (long long)(a), b_ = (long long)(b);         \
		if(a_ != b_)                                                \
			TEST_FAIL_AT("%s == %s: %lld != %lld", #a, #b, a_,  \
				b_);                                        \
	} while(0)

#define ASSERT_STR_EQ(a, b)                                                 \
	do {                                                                \
		const char *a_ = (a), *b_ = (b);                            \
		if(!a_ || !b_ || strcmp(a_, b_) != 0)                       \
			TEST_FAIL_AT("%s == %s: \"%s\" != \"%s\"", #a, #b,  \
				a_ ? a_ : "(null)", b_ ? b_ : "(null)");    \
	} while(0)

struct test_entry {
	const char* name;
	void (*fn)(void);
};

#define TEST_ENTRY(name) { #name, test_##name }

/** No fixture. */
static void
test_nothing(void) __attribute__((unused));
static void
test_nothing(void)
{
}

/** Run every test in the table; exit status 1 if any failed. */
#define TEST_MAIN(group, table) TEST_MAIN_WITH(group, table, test_nothing, \
	test_nothing)

/** The same, with a fixture set up before the first test and torn down
 * after the last. */
#define TEST_MAIN_WITH(group, table, before, after)                         \
	int main(void)                                                      \
	{                                                                   \
		size_t i_;                                                  \
		int bad_ = 0;                                               \
		before();                                                   \
		for(i_ = 0; i_ < sizeof(table) / sizeof(table[0]); i_++) {  \
			test_failures = 0;                                  \
			fflush(stdout);                                     \
			table[i_].fn();                                     \
			if(test_failures) {                                 \
				printf("FAIL unit/%s/%s: %d check(s) "     \
					"failed, above\n", group,          \
					table[i_].name, test_failures);     \
				bad_ = 1;                                   \
			} else                                              \
				printf("PASS unit/%s/%s\n", group,          \
					table[i_].name);                    \
		}                                                           \
		after();                                                    \
		return bad_;                                                \
	}

#endif /* DOPPEL_TEST_H */
