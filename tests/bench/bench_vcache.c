/*
 * tests/bench/bench_vcache.c - what a verdict-cache lookup costs the
 * module as flagged names pile up (issue 15, item 9).
 *
 * usage: bench_vcache DIR [MAP_MB]
 *
 * Opens a verdict cache in DIR as the module does (with the writer), then
 * notes distinct flagged names in steps up to a million, the way a flood
 * of new lookalikes would.  After each step it times, single-threaded,
 * 200,000 lookups of names never flagged (every query of clean traffic
 * pays this) and 200,000 of the latest flagged names (a cache hit), and
 * prints ns per lookup.  The lookups go through dp_vcache_get, the only
 * call the module makes per name.
 */
#include "doppel.h"
#include "vcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOOKUPS 200000

static double
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int
main(int argc, char** argv)
{
	static const long steps[] = { 0, 1000, 10000, 100000, 1000000 };
	struct dp_vcache* vc;
	struct dp_error err;
	struct dp_verdict v;
	struct dp_vrecord r;
	char path[512], n[64];
	long noted = 0, i;
	size_t s;
	uint64_t t = (uint64_t)time(NULL);
	if(argc < 2) {
		fprintf(stderr, "usage: bench_vcache DIR [MAP_MB]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/bench-verdicts.mdb", argv[1]);
	remove(path);
	if(dp_vcache_open(path, (uint64_t)(argc > 2 ? atol(argv[2]) : 64) << 20,
		1, &vc, &err) != DP_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	memset(&v, 0, sizeof(v));
	v.action = DP_BLOCK;
	v.score = 0.95;
	v.target = "paypal.com";
	v.technique = "homoglyph";
	printf("%-12s %14s %14s %10s\n", "flagged", "clean ns", "hit ns",
		"hits found");
	for(s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		double t0, clean, hit;
		long found = 0;
		for(; noted < steps[s]; noted++) {
			snprintf(n, sizeof(n), "paypa1-%07ld.example", noted);
			dp_vcache_note(vc, n, &v, 1, t, 86400);
		}
		t0 = now_ns();
		for(i = 0; i < LOOKUPS; i++) {
			snprintf(n, sizeof(n), "clean-%07ld.example", i);
			found += dp_vcache_get(vc, n, t, &r);
		}
		clean = (now_ns() - t0) / LOOKUPS;
		found = 0;
		t0 = now_ns();
		for(i = 0; i < LOOKUPS; i++) {
			long k = noted ? noted - 1 - i % (noted < 1000 ?
				noted : 1000) : 0;
			snprintf(n, sizeof(n), "paypa1-%07ld.example", k);
			found += dp_vcache_get(vc, n, t, &r);
		}
		hit = (now_ns() - t0) / LOOKUPS;
		printf("%-12ld %14.0f %14.0f %9.1f%%\n", noted, clean, hit,
			100.0 * found / LOOKUPS);
	}
	dp_vcache_close(vc);
	remove(path);
	snprintf(n, sizeof(n), "-lock");
	strncat(path, n, sizeof(path) - strlen(path) - 1);
	remove(path);
	return 0;
}
