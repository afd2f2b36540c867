/*
 * tests/unit/test_audit.c - audit records are hand-formatted JSON on the
 * hot path: parse them back with jansson, odd names and all.
 */
#include "audit.h"
#include "test.h"

#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static const char* const odd_names[] = { "army.ml", "a\\046b.example",
	"quote\\034.example", "\\000\\001.example", "back\\092slash.example",
	"", "x" };

/** Records the log dropped so far. */
static uint64_t
audit_dropped(struct dp_audit* a)
{
	struct dp_audit_counts c;
	dp_audit_get_counts(a, &c);
	return c.dropped;
}

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

/* The longest record the module can hand over (a name of escaped octets
 * up to DP_NAME_MAX, a long client, type and rcode, an explanation full
 * of quotes) is written whole, not dropped: it once was, silently, over
 * about 1,530 bytes. */
static void
test_longest_record(void)
{
	char dir[512], path[600], name[DP_NAME_MAX];
	char client[128], qtype[32], rcode[32], line[DP_AUDIT_REC_MAX + 2];
	struct dp_audit* a = NULL;
	struct dp_verdict v;
	struct dp_audit_rec r;
	struct dp_error err;
	json_error_t je;
	json_t* o;
	FILE* f;
	size_t i;
	snprintf(dir, sizeof(dir), "%s/audit-XXXXXX", test_dir());
	if(!mkdtemp(dir)) {
		TEST_FAIL_AT("mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	for(i = 0; i + 4 < sizeof(name) - 1; i += 4)
		memcpy(name + i, "\\092", 4);
	name[i] = 0;
	memset(client, '9', sizeof(client) - 1);
	client[sizeof(client) - 1] = 0;
	memset(qtype, 'T', sizeof(qtype) - 1);
	qtype[sizeof(qtype) - 1] = 0;
	memset(rcode, 'R', sizeof(rcode) - 1);
	rcode[sizeof(rcode) - 1] = 0;
	memset(&v, 0, sizeof(v));
	v.action = DP_BLOCK;
	v.target = name;
	v.technique = "target-embedding";
	v.score = 0.9;
	memset(v.why, '"', sizeof(v.why) - 1);
	memset(&r, 0, sizeof(r));
	r.usec = 1795845000123456ULL;
	r.client = client;
	r.qname = name;
	r.qtype = qtype;
	r.rcode = rcode;
	r.v = &v;
	r.stage = "alias";
	ASSERT_EQ(dp_audit_open(path, NULL, &a, &err), DP_OK);
	if(a) {
		dp_audit_write(a, &r);
		ASSERT_EQ(audit_dropped(a), 0);
		dp_audit_close(a);
	}
	if(!(f = fopen(path, "r"))) {
		TEST_FAIL_AT("cannot read %s", path);
	} else {
		ASSERT(fgets(line, sizeof(line), f) != NULL);
		ASSERT(strlen(line) > 3000 && line[strlen(line) - 1] == '\n');
		o = json_loads(line, 0, &je);
		ASSERT(o != NULL);
		if(o)
			ASSERT_STR_EQ(json_string_value(json_object_get(o,
				"qname")), name);
		json_decref(o);
		fclose(f);
	}
	unlink(path);
	rmdir(dir);
}

static pthread_mutex_t said_mx = PTHREAD_MUTEX_INITIALIZER;
static char said[512];

static void
keep_said(const char* msg)
{
	pthread_mutex_lock(&said_mx);
	snprintf(said, sizeof(said), "%s", msg);
	pthread_mutex_unlock(&said_mx);
}

static void
on_alarm(int sig)
{
	static const char m[] = "FAIL unit/audit/stuck_write: dp_audit_close "
		"still waiting after 30 s\n";
	(void)sig;
	if(write(1, m, sizeof(m) - 1) < 0)
		_exit(1);
	_exit(1);
}

/* A writer stuck in write() (here: a FIFO whose reader never reads) must
 * not hold up dp_audit_close, which Unbound's reload calls: it is left
 * behind, said once, and frees itself when the write returns. */
static void
test_stuck_write(void)
{
	char dir[512], path[600];
	struct dp_audit* a = NULL;
	struct dp_verdict v;
	struct dp_audit_rec r;
	struct dp_error err;
	int rd, i;
	snprintf(dir, sizeof(dir), "%s/audit-XXXXXX", test_dir());
	if(!mkdtemp(dir)) {
		TEST_FAIL_AT("mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/audit.fifo", dir);
	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(mkfifo(path, 0600), 0);
	/* a reader that never reads, so that opening for writing does not
	 * wait and writing fills the pipe */
	rd = open(path, O_RDONLY | O_NONBLOCK);
	ASSERT(rd >= 0);
	ASSERT_EQ(dp_audit_open(path, keep_said, &a, &err), DP_OK);
	if(!a || rd < 0)
		return;
	memset(&v, 0, sizeof(v));
	v.action = DP_BLOCK;
	v.target = "army.mil";
	v.technique = "tld-swap";
	memset(&r, 0, sizeof(r));
	r.qname = "army.ml";
	r.v = &v;
	/* far more than a pipe holds (64 KiB) */
	for(i = 0; i < 2000; i++)
		dp_audit_write(a, &r);
	signal(SIGALRM, on_alarm);
	alarm(30);
	dp_audit_close(a);
	alarm(0);
	pthread_mutex_lock(&said_mx);
	ASSERT(strstr(said, "audit.fifo: a write has not returned") != NULL);
	pthread_mutex_unlock(&said_mx);
	/* the write fails now (EPIPE), and the writer frees itself */
	close(rd);
	unlink(path);
	rmdir(dir);
}

/* A fresh log in a new directory under the test directory, repeats
 * collapsed for 60 s; dir and path receive where (PATH_CAP bytes). */
#define PATH_CAP 600
static struct dp_audit*
open_collapsing(char* dir, char* path)
{
	struct dp_audit* a = NULL;
	struct dp_error err;
	snprintf(dir, PATH_CAP, "%s/audit-XXXXXX", test_dir());
	if(!mkdtemp(dir)) {
		TEST_FAIL_AT("mkdtemp");
		return NULL;
	}
	snprintf(path, PATH_CAP, "%s/audit.jsonl", dir);
	ASSERT_EQ(dp_audit_open(path, NULL, &a, &err), DP_OK);
	if(a)
		dp_audit_set_collapse(a, 60);
	return a;
}

/* Every record of the log at path, each line parsed (a JSON array);
 * the log and its directory removed. */
static json_t*
take_records(const char* dir, const char* path)
{
	char line[DP_AUDIT_REC_MAX];
	json_error_t je;
	json_t* all = json_array();
	FILE* f = fopen(path, "r");
	if(!f) {
		TEST_FAIL_AT("cannot read %s", path);
		return all;
	}
	while(fgets(line, sizeof(line), f)) {
		json_t* o = json_loads(line, 0, &je);
		ASSERT(o != NULL);
		if(o)
			json_array_append_new(all, o);
	}
	fclose(f);
	unlink(path);
	rmdir(dir);
	return all;
}

/* A flood of one (client, name, type, verdict): the first record is
 * written, the repeats within the window come out as one record that
 * counts them, with the first and last time; other clients and names are
 * not merged; every query is accounted for. */
static void
test_collapse(void)
{
	char dir[PATH_CAP], path[PATH_CAP];
	struct dp_audit* a = NULL;
	struct dp_verdict v;
	struct dp_audit_rec r;
	json_t *recs, *o;
	size_t k;
	uint64_t t0 = 1795845000000000ULL, total = 0;
	int i, nrec = 0, summaries = 0;
	memset(&v, 0, sizeof(v));
	v.action = DP_BLOCK;
	v.target = "army.mil";
	v.technique = "tld-swap";
	v.score = 0.95;
	memset(&r, 0, sizeof(r));
	r.qname = "army.ml";
	r.qtype = "A";
	r.rcode = "NXDOMAIN";
	r.v = &v;
	r.stage = "name";
	r.from_cache = 1;
	if(!(a = open_collapsing(dir, path)))
		return;
	/* 10,000 from one client over 10 s, in one window; 3 from another */
	for(i = 0; i < 10000; i++) {
		r.client = "192.0.2.1";
		r.usec = t0 + (uint64_t)i * 1000;
		dp_audit_write(a, &r);
	}
	for(i = 0; i < 3; i++) {
		r.client = "192.0.2.2";
		r.usec = t0 + (uint64_t)i * 1000;
		dp_audit_write(a, &r);
	}
	/* the same client after the window: a new first record */
	r.client = "192.0.2.1";
	r.usec = t0 + 61000000ULL;
	dp_audit_write(a, &r);
	ASSERT_EQ(audit_dropped(a), 0);
	dp_audit_close(a);	/* closes the open windows */
	recs = take_records(dir, path);
	json_array_foreach(recs, k, o) {
		json_t* rep;
		nrec++;
		/* a collapsed record stands for its repeats, any other
		 * for its own query */
		if((rep = json_object_get(o, "repeats")) != NULL) {
			summaries++;
			total += (uint64_t)json_integer_value(rep);
			ASSERT(json_object_get(o, "first") != NULL);
			ASSERT(json_object_get(o, "last") != NULL);
		} else
			total++;
		if(rep) {
			if(strcmp(json_string_value(json_object_get(o,
				"client")), "192.0.2.1") == 0) {
				ASSERT_EQ(json_integer_value(rep), 9999);
				ASSERT_STR_EQ(json_string_value(json_object_get(o,
					"first")), "2026-11-28T05:50:00.001000Z");
				ASSERT_STR_EQ(json_string_value(json_object_get(o,
					"last")), "2026-11-28T05:50:09.999000Z");
				ASSERT_STR_EQ(json_string_value(json_object_get(o,
					"time")), "2026-11-28T05:50:09.999000Z");
			} else
				ASSERT_EQ(json_integer_value(rep), 2);
		}
	}
	json_decref(recs);
	/* two firsts and a later first; two collapsed records */
	ASSERT_EQ(nrec, 5);
	ASSERT_EQ(summaries, 2);
	ASSERT_EQ(total, 10004);
}

/* What makes two records repeats: every field but the time, the score
 * and the explanation.  A record that differs in any one of them (or
 * whose fields split the same octets differently) starts its own group;
 * one that differs only in those three is counted as a repeat. */
static void
test_collapse_fields(void)
{
	char dir[PATH_CAP], path[PATH_CAP];
	struct dp_audit* a = NULL;
	struct dp_verdict base_v, v;
	struct dp_audit_rec base, r;
	json_t *recs, *o;
	size_t k;
	int i, nrec = 0, summaries = 0, variants = 0;
	memset(&base_v, 0, sizeof(base_v));
	base_v.action = DP_WARN;
	base_v.target = "army.mil";
	base_v.technique = "tld-swap";
	base_v.score = 0.7;
	snprintf(base_v.countries, sizeof(base_v.countries), "ML");
	snprintf(base_v.why, sizeof(base_v.why), "first");
	memset(&base, 0, sizeof(base));
	base.client = "192.0.2.1";
	base.qname = "army.ml";
	base.qtype = "A";
	base.rcode = "NOERROR";
	base.stage = "name";
	base.usec = 1795845000000000ULL;
	if(!(a = open_collapsing(dir, path)))
		return;
	base.v = &base_v;
	dp_audit_write(a, &base);
	for(i = 0; i < 13; i++) {
		v = base_v;
		r = base;
		r.v = &v;
		r.usec += (uint64_t)(i + 1) * 1000;
		switch(i) {
		case 0: r.client = "192.0.2.2"; break;
		case 1: r.qname = "navy.ml"; break;
		case 2: r.qtype = "AAAA"; break;
		case 3: r.rcode = "NXDOMAIN"; break;
		case 4: v.technique = "typo"; break;
		case 5: v.target = "navy.mil"; break;
		case 6: r.stage = "answer"; break;
		case 7: snprintf(v.countries, sizeof(v.countries), "MX");
			break;
		case 8: v.action = DP_BLOCK; break;
		case 9: r.from_cache = 1; break;
		case 10: r.monitor = 1; break;
		/* the same octets, split between two fields otherwise */
		case 11: r.client = "192.0.2.1army.m"; r.qname = "l"; break;
		default: v.target = NULL; break;
		}
		dp_audit_write(a, &r);
		variants++;
	}
	/* the first record again, with another score and explanation */
	v = base_v;
	v.score = 0.8;
	snprintf(v.why, sizeof(v.why), "second");
	r = base;
	r.v = &v;
	r.usec += 50000;
	dp_audit_write(a, &r);
	dp_audit_close(a);
	recs = take_records(dir, path);
	json_array_foreach(recs, k, o) {
		json_t* rep;
		nrec++;
		if((rep = json_object_get(o, "repeats")) != NULL) {
			summaries++;
			ASSERT_EQ(json_integer_value(rep), 1);
			ASSERT_STR_EQ(json_string_value(json_object_get(o,
				"qname")), "army.ml");
			ASSERT_STR_EQ(json_string_value(json_object_get(o,
				"client")), "192.0.2.1");
		}
	}
	json_decref(recs);
	/* the first, each variant, and the first's group with its repeat */
	ASSERT_EQ(nrec, 1 + variants + 1);
	ASSERT_EQ(summaries, 1);
}

/* Records that give the name in wire format: written with its canonical
 * text, and repeats of each other whatever the case of its letters; a
 * name that differs otherwise is not. */
static void
test_collapse_wire(void)
{
	static const uint8_t upper[] = "\004ArMy\002ML";
	static const uint8_t lower[] = "\004army\002ml";
	static const uint8_t other[] = "\004army\002mk";
	char dir[PATH_CAP], path[PATH_CAP];
	struct dp_audit* a = NULL;
	struct dp_verdict v;
	struct dp_audit_rec r;
	json_t *recs, *o;
	size_t k;
	int nrec = 0, summaries = 0, ml = 0, mk = 0;
	memset(&v, 0, sizeof(v));
	v.action = DP_ALLOW;
	memset(&r, 0, sizeof(r));
	r.client = "192.0.2.1";
	r.qtype = "A";
	r.rcode = "NOERROR";
	r.stage = "name";
	r.v = &v;
	r.from_cache = 1;
	r.usec = 1795845000000000ULL;
	if(!(a = open_collapsing(dir, path)))
		return;
	r.qname_wire = upper;
	r.qname_wire_len = sizeof(upper);
	dp_audit_write(a, &r);
	r.qname_wire = lower;
	r.usec += 1000;
	dp_audit_write(a, &r);
	r.qname_wire = other;
	r.usec += 1000;
	dp_audit_write(a, &r);
	dp_audit_close(a);
	recs = take_records(dir, path);
	json_array_foreach(recs, k, o) {
		const char* q;
		nrec++;
		q = json_string_value(json_object_get(o, "qname"));
		ASSERT(q != NULL);
		if(q && strcmp(q, "army.ml") == 0)
			ml++;
		else if(q && strcmp(q, "army.mk") == 0)
			mk++;
		if(json_object_get(o, "repeats")) {
			summaries++;
			ASSERT_EQ(json_integer_value(json_object_get(o,
				"repeats")), 1);
		}
	}
	json_decref(recs);
	/* army.ml, its group with the repeat, army.mk */
	ASSERT_EQ(nrec, 3);
	ASSERT_EQ(summaries, 1);
	ASSERT_EQ(ml, 2);
	ASSERT_EQ(mk, 1);
}

static const struct test_entry tests[] = {
	TEST_ENTRY(round_trip),
	TEST_ENTRY(too_long),
	TEST_ENTRY(longest_record),
	TEST_ENTRY(stuck_write),
	TEST_ENTRY(collapse),
	TEST_ENTRY(collapse_fields),
	TEST_ENTRY(collapse_wire),
};

TEST_MAIN("audit", tests)
