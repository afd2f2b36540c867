/*
 * tests/unit/test_name.c - canonical names from wire and text, including
 * the octets DNS allows but hostnames do not.
 */
#include "doppel.h"
#include "internal.h"
#include "test.h"

#include <stdio.h>

/** Text input and its canonical form ("ERR" for DP_ERR_NAME). */
static const struct {
	const char* in;
	const char* want;
} text_cases[] = {
	{ "army.mil", "army.mil" },
	{ "ARMY.MIL.", "army.mil" },
	{ "Army.Ml", "army.ml" },
	{ ".", "" },
	{ "a\\.b.com", "a\\046b.com" },
	{ "a\\046b.com", "a\\046b.com" },
	{ "sp\\032ace.com", "sp\\032ace.com" },
	{ "\\000.com", "\\000.com" },
	{ "under_score.com", "under_score.com" },
	{ "\\065BC.com", "abc.com" },
	{ "xn--pypal-4ve.com", "xn--pypal-4ve.com" },
	{ "\xd0\xb0.com", "\\208\\176.com" },
	{ "", "ERR" },
	{ "a..b", "ERR" },
	{ ".com", "ERR" },
	{ "a\\", "ERR" },
	{ "a\\25", "ERR" },
	{ "a\\256", "ERR" },
	/* 64-octet label */
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
		"ERR" },
};

static void
test_text(void)
{
	size_t i;
	char out[DP_NAME_MAX];
	for(i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]); i++) {
		dp_status st = dp_name_from_text(text_cases[i].in, out,
			sizeof(out));
		if(strcmp(text_cases[i].want, "ERR") == 0)
			ASSERT_EQ(st, DP_ERR_NAME);
		else {
			ASSERT_EQ(st, DP_OK);
			ASSERT_STR_EQ(out, text_cases[i].want);
		}
	}
}

static void
test_name_length_limit(void)
{
	/* 4 labels of 63 = 4*64 + 1 = 257 wire octets: too long; 3 labels
	 * of 63 and one of 61 = 255: the longest legal name. */
	char name[300], out[DP_NAME_MAX];
	memset(name, 'a', sizeof(name));
	name[63] = name[127] = name[191] = '.';
	name[255] = 0;
	ASSERT_EQ(dp_name_from_text(name, out, sizeof(out)), DP_ERR_NAME);
	name[253] = 0;
	ASSERT_EQ(dp_name_from_text(name, out, sizeof(out)), DP_OK);
	ASSERT_EQ(dp_name_labels(out), 4);
}

static void
test_wire(void)
{
	char out[DP_NAME_MAX];
	static const uint8_t army[] = "\004ARMY\002ml";
	static const uint8_t odd[] = "\003a.b\001\377\003com";
	static const uint8_t ptr[] = { 3, 'w', 'w', 'w', 0xc0, 12 };
	static const uint8_t trunc[] = { 4, 'a', 'r' };
	uint8_t big[5 * 64 + 1];
	size_t i;

	ASSERT_EQ(dp_name_from_wire(army, sizeof(army), out, sizeof(out)),
		DP_OK);
	ASSERT_STR_EQ(out, "army.ml");
	ASSERT_EQ(dp_name_from_wire(odd, sizeof(odd), out, sizeof(out)),
		DP_OK);
	ASSERT_STR_EQ(out, "a\\046b.\\255.com");
	ASSERT_EQ(dp_name_from_wire((const uint8_t*)"", 1, out, sizeof(out)),
		DP_OK);
	ASSERT_STR_EQ(out, "");
	ASSERT_EQ(dp_name_from_wire(ptr, sizeof(ptr), out, sizeof(out)),
		DP_ERR_NAME);
	ASSERT_EQ(dp_name_from_wire(trunc, sizeof(trunc), out, sizeof(out)),
		DP_ERR_NAME);
	ASSERT_EQ(dp_name_from_wire(army, 0, out, sizeof(out)), DP_ERR_NAME);
	/* 5 labels of 63: over 255 octets */
	for(i = 0; i < 5 * 64; i += 64) {
		big[i] = 63;
		memset(big + i + 1, 'x', 63);
	}
	big[5 * 64] = 0;
	ASSERT_EQ(dp_name_from_wire(big, sizeof(big), out, sizeof(out)),
		DP_ERR_NAME);
	/* the same name cut to 3 labels (193 octets) is fine */
	big[3 * 64] = 0;
	ASSERT_EQ(dp_name_from_wire(big, sizeof(big), out, sizeof(out)),
		DP_OK);
	ASSERT_EQ(dp_name_labels(out), 3);
	/* a too-small output buffer is reported, not overrun */
	ASSERT_EQ(dp_name_from_wire(army, sizeof(army), out, 4),
		DP_ERR_SPACE);
}

static void
test_wire_all_octets(void)
{
	/* Every octet value in a label round-trips through the escape. */
	uint8_t wire[4];
	char out[DP_NAME_MAX], again[DP_NAME_MAX];
	int c;
	for(c = 0; c < 256; c++) {
		wire[0] = 1;
		wire[1] = (uint8_t)c;
		wire[2] = 0;
		ASSERT_EQ(dp_name_from_wire(wire, 3, out, sizeof(out)), DP_OK);
		ASSERT_EQ(dp_name_from_text(out, again, sizeof(again)), DP_OK);
		ASSERT_STR_EQ(again, out);
	}
}

static void
test_format(void)
{
	/* dp_format writes what snprintf writes, for the conversions the
	 * engine's explanations use, and truncates the same way. */
	char a[64], b[64];
	size_t caps[] = { 1, 2, 8, 17, sizeof(a) }, i;
	for(i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		size_t n = dp_format(a, caps[i], "'%.*s' is '%s' with '%c' at "
			"%zu, 100%%", 4, "armyxyz", "army.mil", 'q',
			(size_t)1234567);
		snprintf(b, caps[i], "'%.*s' is '%s' with '%c' at %zu, 100%%",
			4, "armyxyz", "army.mil", 'q', (size_t)1234567);
		ASSERT_STR_EQ(a, b);
		ASSERT_EQ(n, strlen(b));
	}
	ASSERT_EQ(dp_format(a, sizeof(a), "%zu%s", (size_t)0, ""), 1);
	ASSERT_STR_EQ(a, "0");
}

static const struct test_entry tests[] = {
	TEST_ENTRY(format),
	TEST_ENTRY(text),
	TEST_ENTRY(name_length_limit),
	TEST_ENTRY(wire),
	TEST_ENTRY(wire_all_octets),
};

TEST_MAIN("name", tests)
