/*
 * tests/bench/memlat.c - the memory floor under the engine benchmark: what
 * a wave of K random cache lines costs in an array as large as a policy
 * at 1k protected domains (in the CPU's caches) and at 1M (in DRAM).
 *
 *	memlat [MB ...]		(default: 1 334 600)
 *
 * A wave asks for K lines at once, as the engine asks for the buckets of
 * a name's keys, then reads them; the next wave's addresses depend on
 * what was read, so waves never overlap and a figure is the latency of
 * one wave, not the throughput of many.  K = 1 is one dependent access:
 * the latency a lookup pays for each step that needs the one before (a
 * bucket, then the candidate's record).  Each size is measured with the
 * array in 4 kB pages and with transparent huge pages asked for
 * (MADV_HUGEPAGE); the row says how much of it the kernel really gave in
 * huge pages.  The smallest size is the baseline: the difference to it is
 * what the memory adds.  Figures are the median of 5 runs of 100,000
 * waves.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define LINE 64
#define HUGE_PAGE ((size_t)2 << 20)
#define WAVES 100000
#define RUNS 5

static const int wave_sizes[] = { 1, 2, 4, 8, 16, 24, 32, 48 };
#define NWAVE (sizeof(wave_sizes) / sizeof(wave_sizes[0]))

static double
now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/** How many kB of this process's anonymous memory are in huge pages. */
static long
anon_huge_kb(void)
{
	char line[256];
	long kb = -1;
	FILE* f = fopen("/proc/self/smaps_rollup", "r");
	if(!f)
		return -1;
	while(fgets(line, sizeof(line), f))
		if(sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int
cmp_double(const void* a, const void* b)
{
	double x = *(const double*)a, y = *(const double*)b;
	return x < y ? -1 : x > y;
}

/**
 * The median over RUNS of the mean ns per wave of k lines.
 * @param a: the array, n lines.
 */
static double
wave_ns(const char* a, size_t n, int k)
{
	double runs[RUNS];
	uint64_t s = 88172645463325252ULL, dep = 0, sink = 0;
	int r;
	for(r = 0; r < RUNS; r++) {
		double t0 = now_ns();
		long w;
		for(w = 0; w < WAVES; w++) {
			uint64_t idx[64], acc = 0;
			int j;
			for(j = 0; j < k; j++) {
				s ^= s << 13;
				s ^= s >> 7;
				s ^= s << 17;
				idx[j] = (s + dep) % n;
				__builtin_prefetch(a + idx[j] * LINE);
			}
			for(j = 0; j < k; j++)
				acc += *(const uint64_t*)(a + idx[j] * LINE);
			/* The values are small: dep is 0, but the CPU cannot
			 * know it before the loads are done. */
			dep = acc >> 63;
			sink += acc;
		}
		runs[r] = (now_ns() - t0) / WAVES;
	}
	if(sink == 42)
		printf("#\n"); /* keeps the loads */
	qsort(runs, RUNS, sizeof(runs[0]), cmp_double);
	return runs[RUNS / 2];
}

/** Measure one size with one page kind; print a row. */
static int
measure(size_t mb, int huge)
{
	size_t len = mb << 20, n = len / LINE, i, w;
	long before = anon_huge_kb(), after;
	char *map, *a;
	map = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if(map == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	a = (char*)(((uintptr_t)map + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
	(void)madvise(a, len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	for(i = 0; i < len; i += 8)
		*(uint64_t*)(a + i) = i;
	after = anon_huge_kb();
	printf("%7zu  %-5s %5.0f%%", mb, huge ? "2M" : "4k",
		before >= 0 && after >= 0 ? 100.0 * (double)(after - before) /
		(double)(len >> 10) : -1.0);
	for(w = 0; w < NWAVE; w++)
		printf(" %7.1f", wave_ns(a, n, wave_sizes[w]));
	printf("\n");
	fflush(stdout);
	munmap(map, len + HUGE_PAGE);
	return 0;
}

int
main(int argc, char** argv)
{
	static const size_t dflt[] = { 1, 334, 600 };
	size_t w;
	int i, huge;
	printf("ns per wave of K random lines (median of %d x %d waves)\n",
		RUNS, WAVES);
	printf("size_MB  pages   huge");
	for(w = 0; w < NWAVE; w++)
		printf("    K=%-2d", wave_sizes[w]);
	printf("\n");
	for(i = 0; i < (argc > 1 ? argc - 1 : 3); i++) {
		size_t mb = argc > 1 ? (size_t)strtoul(argv[i + 1], NULL, 10) :
			dflt[i];
		if(mb == 0 || mb > 65536) {
			fprintf(stderr, "memlat: size %s MB out of range\n",
				argv[i + 1]);
			return 2;
		}
		for(huge = 0; huge < 2; huge++)
			if(measure(mb, huge) != 0)
				return 1;
	}
	return 0;
}
