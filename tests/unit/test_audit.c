/*
 * tests/unit/test_audit.c - audit records are hand-formatted JSON on the
 * hot path: parse them back with jansson, odd names and all.
 */
#include "audit.h"
#include "test.h"

#include <jansson.h>

static const char* const odd_names[] = { "army.ml", "a\\046b.example",
	"quote\\034.example", "\\000\\001.example", "back\\092slash.example",
	"", "x" };

static void
test_round_trip(void)
{
	size_t i;
	for(i = 0; i < sizeof(odd_names) / sizeof(odd_names[0]); i++) {
		struct dp_verdict v;
		struct dp_audit_rec r;
		char line[2048];
		json_error_t je;
		json_t* o;
		size_t n;
		memset(&v, 0, sizeof(v));
		memset(&r, 0, sizeof(r));
		v.action = DP_BLOCK;
		v.target = "army.mil";
		v.technique = "tld-swap";
		v.score = 0.95;
		strcpy(v.countries, "ML,FR");
		snprintf(v.why, sizeof(v.why), "why \"%s\"\t\x01", odd_names[i]);
		r.usec = 1795845000123456ULL;
		r.client = "127.0.0.1 port 5353";
		r.qname = odd_names[i];
		r.qtype = "MX";
		r.rcode = "NXDOMAIN";
		r.v = &v;
		r.stage = "name";
		r.from_cache = (int)(i & 1);
		n = dp_audit_format(&r, line, sizeof(line));
		ASSERT(n > 0 && line[n - 1] == '\n');
		o = json_loads(line, 0, &je);
		if(!o) {
			TEST_FAIL_AT("case %zu: %s: %s", i, je.text, line);
			continue;
		}
		ASSERT_STR_EQ(json_string_value(json_object_get(o, "qname")),
			odd_names[i]);
		ASSERT_STR_EQ(json_string_value(json_object_get(o, "why")),
			v.why);
		ASSERT_STR_EQ(json_string_value(json_object_get(o, "time")),
			"2026-11-28T05:50:00.123456Z");
		ASSERT_STR_EQ(json_string_value(json_object_get(o,
			"countries")), "ML,FR");
		ASSERT_EQ(json_is_true(json_object_get(o, "cache")),
			(int)(i & 1));
		json_decref(o);
	}
}

static void
test_too_long(void)
{
	struct dp_verdict v;
	struct dp_audit_rec r;
	char line[64];
	memset(&v, 0, sizeof(v));
	memset(&r, 0, sizeof(r));
	r.qname = "army.ml";
	r.v = &v;
	/* does not fit: nothing, rather than half a record */
	ASSERT_EQ(dp_audit_format(&r, line, sizeof(line)), 0);
}

static const struct test_entry tests[] = {
	TEST_ENTRY(round_trip),
	TEST_ENTRY(too_long),
};

TEST_MAIN("audit", tests)
