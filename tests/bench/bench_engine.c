/*
 * tests/bench/bench_engine.c - cost of checking one name against 1k, 100k
 * and 1M protected domains, side by side in one run.
 *
 * Protected domains are built from a word list and real suffixes (one or
 * two words: "harbor.de", "bluefinch.co.uk"), with a fixed seed, from the
 * words at even positions of the list.  The query mix is half clean names
 * (words at odd positions, alone or in pairs, under the same suffixes),
 * half lookalikes of protected names (TLD swaps, one-edit typos,
 * homoglyphs, hyphens, keywords, embedding), with 1% IDN labels.  Timed
 * apart from the mix: namesakes (the protected words under any suffix)
 * and made-up names ("vorkelanu.com").  With a million protected names
 * from 32k words, most short words are one edit from a protected one, so
 * the last table says how many of each kind the engine flags.
 * Each query is timed on its own (canonicalisation + check), so the
 * figures include ~45 ns of clock_gettime and canonicalisation.  Rounds
 * alternate between the sizes, so that a noisy neighbour on the VM hits
 * all of them alike.
 *
 * With --compound, the names take the shape of a real list of a million
 * registered domains instead: 95% two-word labels ("bluefinch"), and
 * half of them under .com (8% .net, 7% .org, the rest spread over all
 * 24 suffixes), so that a word is protected under a few suffixes, not
 * under nearly all of them.  Queries are drawn the same way.
 *
 * usage: bench_engine [--compound] WORDLIST [QUERIES_PER_ROUND] [ROUNDS]
 *	[SIZES...]
 */
#include "doppel.h"

#include <idn2.h>
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char* const suffixes[] = { "com", "net", "org", "de", "co.uk",
	"fr", "nl", "io", "ru", "jp", "com.au", "ca", "it", "es", "ch", "se",
	"pl", "be", "gov", "mil", "ml", "cn", "info", "biz" };
#define NSUFFIX (sizeof(suffixes) / sizeof(suffixes[0]))

static const char* const keywords[] = { "login", "secure", "account",
	"mail", "webmail", "support", "verify" };

/** xorshift64*, fixed seed: the same names every run. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static char** words;
static size_t nwords;

static void
load_words(const char* path)
{
	FILE* f = fopen(path, "r");
	char line[256];
	size_t cap = 0;
	if(!f) {
		perror(path);
		exit(2);
	}
	while(fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\n"), i;
		int ok = n >= 3 && n <= 12;
		for(i = 0; i < n && ok; i++)
			ok = line[i] >= 'a' && line[i] <= 'z';
		if(!ok)
			continue;
		if(nwords == cap) {
			cap = cap ? cap * 2 : 65536;
			words = realloc(words, cap * sizeof(*words));
		}
		line[n] = 0;
		words[nwords++] = strdup(line);
	}
	fclose(f);
}

static psl_ctx_t* psl;

/** A word of one half of the list: protected names are made of the
 * words at even positions, clean names of those at odd ones. */
static const char*
word(int half)
{
	size_t i = (rng() % (nwords / 2)) * 2 + (size_t)half;
	return words[i < nwords ? i : nwords - 1];
}

/** The halves of the word list. */
#define PROTECTED_WORDS 0
#define CLEAN_WORDS 1

/** The shape of the names: --compound, or the default dense one. */
static int compound;

/** A suffix: uniform over the list, or skewed to .com (--compound). */
static const char*
random_suffix(void)
{
	unsigned u;
	if(!compound)
		return suffixes[rng() % NSUFFIX];
	u = (unsigned)(rng() % 100);
	return u < 50 ? "com" : u < 58 ? "net" : u < 65 ? "org" :
		suffixes[rng() % NSUFFIX];
}

/** A random registrable domain: one or two words of a half (two in one
 * case of three, or 19 of 20 with --compound) and a suffix.  Names that
 * are public suffixes themselves (tourism.pl) are drawn again: a policy
 * rightly refuses to protect them. */
static void
random_domain(char* out, size_t len, int half)
{
	do {
		const char* w1 = word(half);
		const char* sfx = random_suffix();
		if(compound ? rng() % 20 != 0 : rng() % 3 == 0)
			snprintf(out, len, "%s%s.%s", w1, word(half), sfx);
		else
			snprintf(out, len, "%s.%s", w1, sfx);
	} while(psl_is_public_suffix(psl, out));
}

static int
cmp_str(const void* a, const void* b)
{
	return strcmp(*(char* const*)a, *(char* const*)b);
}

/** n distinct random domains (a policy refuses duplicates), shuffled. */
static char**
unique_domains(size_t n)
{
	size_t cap = n + n / 4 + 16, m = 0, i, u = 0;
	char** v = malloc(cap * sizeof(char*));
	char name[DP_NAME_MAX];
	for(;;) {
		while(m < cap) {
			random_domain(name, sizeof(name), PROTECTED_WORDS);
			v[m++] = strdup(name);
		}
		qsort(v, m, sizeof(char*), cmp_str);
		for(i = 0, u = 0; i < m; i++) {
			if(u && strcmp(v[u - 1], v[i]) == 0) {
				free(v[i]);
				continue;
			}
			v[u++] = v[i];
		}
		m = u;
		if(m >= n)
			break;
	}
	for(i = m; i > 1; i--) {
		size_t j = rng() % i;
		char* t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
	for(i = n; i < m; i++)
		free(v[i]);
	return v;
}

/** A lookalike of a protected domain. */
static void
lookalike(const char* prot, char* out, size_t len)
{
	char label[256];
	const char* dot = strchr(prot, '.');
	const char* sfx = dot + 1;
	size_t n = (size_t)(dot - prot), i;
	char* uni;
	char* ace = NULL;
	memcpy(label, prot, n);
	label[n] = 0;
	i = rng() % n;
	switch(rng() % 9) {
	case 0: /* tld swap */
		snprintf(out, len, "%s.%s", label, suffixes[rng() % NSUFFIX]);
		return;
	case 1: /* omission */
		memmove(label + i, label + i + 1, n - i);
		break;
	case 2: /* insertion */
		memmove(label + i + 1, label + i, n - i + 1);
		label[i] = (char)('a' + rng() % 26);
		break;
	case 3: /* replacement */
		label[i] = (char)('a' + rng() % 26);
		break;
	case 4: /* transposition */
		if(i + 1 < n) {
			char c = label[i];
			label[i] = label[i + 1];
			label[i + 1] = c;
		}
		break;
	case 5: /* homoglyph */
		for(i = 0; i < n; i++)
			if(label[i] == 'o' || label[i] == 'l')
				label[i] = label[i] == 'o' ? '0' : '1';
		break;
	case 6: /* hyphenation */
		if(n > 2) {
			memmove(label + i + 1, label + i, n - i + 1);
			label[i ? i : 1] = '-';
		}
		break;
	case 7: /* combo-squatting */
		snprintf(out, len, "%s-%s.%s", keywords[rng() % 7], label, sfx);
		return;
	default: /* target embedding */
		snprintf(out, len, "%s-%s.example.net", label, sfx);
		for(i = 0; out[i]; i++)
			if(out[i] == '.' && i < n + 1 + strlen(sfx))
				out[i] = '-';
		return;
	}
	if(rng() % 50 == 0 && (uni = malloc(4 * n + 8)) != NULL) {
		/* 1% IDN: a Cyrillic 'а' for the first 'a' */
		char* a = strchr(label, 'a');
		if(a) {
			size_t pre = (size_t)(a - label);
			memcpy(uni, label, pre);
			memcpy(uni + pre, "\xd0\xb0", 2);
			strcpy(uni + pre + 2, a + 1);
			if(idn2_to_ascii_8z(uni, &ace, 0) == IDN2_OK) {
				snprintf(out, len, "%s.%s", ace, sfx);
				idn2_free(ace);
				free(uni);
				return;
			}
		}
		free(uni);
	}
	snprintf(out, len, "%s.%s", label, sfx);
}

/** A made-up name of syllables, unlike any dictionary word. */
static void
novel_domain(char* out, size_t len)
{
	static const char* const cons = "bdfgklmnprstvz";
	static const char* const vow = "aeiou";
	size_t n = 3 + rng() % 3, i, o = 0;
	for(i = 0; i < n && o + 3 < len; i++) {
		out[o++] = cons[rng() % 14];
		out[o++] = vow[rng() % 5];
	}
	snprintf(out + o, len - o, ".%s", random_suffix());
}

/** Kinds of queries. */
enum qkind { Q_CLEAN, Q_LOOKALIKE, Q_NAMESAKE, Q_NOVEL, Q_KINDS };
static const char* const qkind_name[Q_KINDS] = { "clean", "lookalike",
	"namesake", "made-up" };

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_u32(const void* a, const void* b)
{
	uint32_t x = *(const uint32_t*)a, y = *(const uint32_t*)b;
	return x < y ? -1 : x > y;
}

/** How much of this process's file maps are in huge pages, in words. */
static const char*
file_pmd(void)
{
	static char out[64];
	char line[256];
	long kb = -1;
	FILE* f = fopen("/proc/self/smaps_rollup", "r");
	while(f && fgets(line, sizeof(line), f))
		if(sscanf(line, "FilePmdMapped: %ld kB", &kb) == 1)
			break;
	if(f)
		fclose(f);
	if(kb < 0)
		return "unknown";
	snprintf(out, sizeof(out), "%.1f MB", kb / 1024.0);
	return out;
}

/** The head line of a table with a row per size. */
static void
size_head(const char* what, const char* a, const char* b)
{
	printf("%-10s %10s %10s %10s %10s %10s %9s\n", what, a, b,
		"median_ns", "p99_ns", "flagged%", "median/1k");
}

/**
 * Sort a size's times and print its row: the size, two figures of its
 * own (a, b), median, p99, share flagged, and the median against base
 * (the first size's; 0 for the first size itself).
 * @return the median.
 */
static double
size_row(size_t n, double a, double b, uint32_t* ns, size_t nns,
	double flagged_pct, double base)
{
	double med, p99;
	qsort(ns, nns, sizeof(uint32_t), cmp_u32);
	med = ns[nns / 2];
	p99 = ns[nns * 99 / 100];
	printf("%-10zu %10.2f %10.1f %10.0f %10.0f %10.1f %9.2f\n", n, a, b,
		med, p99, flagged_pct, med / (base > 0 ? base : med));
	return med;
}

/** The head line of a table with a column per kind of query. */
static void
kind_header(const char* what, const char* tail)
{
	int k;
	printf("%-10s", what);
	for(k = 0; k < Q_KINDS; k++)
		printf(" %12s", qkind_name[k]);
	printf("%s\n", tail);
}

struct size_run {
	size_t n;
	struct dp_policy* p;
	double compile_s;
	/** the same policy compiled to a file and mapped, as the module
	 * uses it; the time to write it and its size */
	struct dp_policy* mp;
	double write_s, db_mb;
	char** prot;
	char** queries;
	uint32_t* ns;
	size_t nns;
	size_t flagged;
	/** the mix against the mapped policy */
	uint32_t* mns;
	size_t nmns;
	size_t mflagged;
	/** names timed apart from the mix: namesakes and made-up ones */
	char** extra;
	/** per kind of query: times, and how many were flagged (of the
	 * first round) */
	uint32_t* kns[Q_KINDS];
	size_t nkns[Q_KINDS];
	size_t kflagged[Q_KINDS];
};

/**
 * Canonicalise and check one name; the time taken in ns (with two
 * clock_gettime calls).
 */
static uint32_t
time_check(const struct dp_policy* p, const char* text, int* flagged)
{
	struct timespec a, b;
	struct dp_verdict v;
	char name[DP_NAME_MAX];
	clock_gettime(CLOCK_MONOTONIC, &a);
	if(dp_name_from_text(text, name, sizeof(name)) == DP_OK)
		dp_policy_check(p, name, &v);
	else
		v.action = DP_ALLOW;
	clock_gettime(CLOCK_MONOTONIC, &b);
	*flagged = v.action != DP_ALLOW;
	return (uint32_t)((b.tv_sec - a.tv_sec) * 1000000000L +
		(b.tv_nsec - a.tv_nsec));
}

int
main(int argc, char** argv)
{
	size_t nq;
	int rounds;
	struct size_run runs[8];
	int nruns = 0, r, k;
	double base;
	char dir[] = "/tmp/doppel-bench-XXXXXX";
	char path[256], name[DP_NAME_MAX];

	if(argc > 1 && strcmp(argv[1], "--compound") == 0) {
		compound = 1;
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if(argc < 2) {
		fprintf(stderr, "usage: %s [--compound] WORDLIST [QUERIES] "
			"[ROUNDS] [SIZES...]\n", argv[0]);
		return 2;
	}
	nq = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	rounds = argc > 3 ? atoi(argv[3]) : 5;
	load_words(argv[1]);
	psl = psl_load_file("/usr/share/publicsuffix/public_suffix_list.dat");
	if(!psl)
		psl = psl_latest(NULL);
	if(!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	for(k = 4; k < argc || (argc <= 4 && nruns < 3); k++) {
		size_t n = k < argc ? strtoul(argv[k], NULL, 10) :
			(size_t[]){ 1000, 100000, 1000000 }[nruns];
		struct size_run* s = &runs[nruns++];
		struct dp_error err;
		struct stat sb;
		FILE* f;
		size_t i;
		double t0;
		memset(s, 0, sizeof(*s));
		s->n = n;
		s->prot = unique_domains(n);
		snprintf(path, sizeof(path), "%s/protect-%zu.list", dir, n);
		f = fopen(path, "w");
		for(i = 0; i < n; i++)
			fprintf(f, "%s\n", s->prot[i]);
		fclose(f);
		snprintf(path, sizeof(path), "%s/policy-%zu.txt", dir, n);
		f = fopen(path, "w");
		fprintf(f, "protect-file protect-%zu.list\n", n);
		fclose(f);
		t0 = now_s();
		if(dp_policy_load(path, &s->p, &err) != DP_OK) {
			fprintf(stderr, "load: %s\n", err.msg);
			return 1;
		}
		s->compile_s = now_s() - t0;
		snprintf(path, sizeof(path), "%s/policy-%zu.db", dir, n);
		t0 = now_s();
		if(dp_policy_compile(s->p, path, &err) != DP_OK ||
			stat(path, &sb) != 0) {
			fprintf(stderr, "compile: %s\n", err.msg);
			return 1;
		}
		s->write_s = now_s() - t0;
		s->db_mb = (double)sb.st_size / 1e6;
		if(dp_policy_load(path, &s->mp, &err) != DP_OK) {
			fprintf(stderr, "load %s: %s\n", path, err.msg);
			return 1;
		}
		s->queries = malloc(nq * sizeof(char*));
		for(i = 0; i < nq; i++) {
			if(i % 2)
				lookalike(s->prot[rng() % n], name,
					sizeof(name));
			else
				random_domain(name, sizeof(name),
					CLEAN_WORDS);
			s->queries[i] = strdup(name);
		}
		/* namesakes: the protected names' own words, under any
		 * suffix (most are TLD swaps of some protected name once
		 * the set is large) */
		s->extra = malloc((nq / 2 + 1) * sizeof(char*));
		for(i = 0; i < nq / 2; i++) {
			if(i % 2)
				novel_domain(name, sizeof(name));
			else
				random_domain(name, sizeof(name),
					PROTECTED_WORDS);
			s->extra[i] = strdup(name);
		}
		s->ns = malloc(nq * rounds * sizeof(uint32_t));
		s->mns = malloc(nq * rounds * sizeof(uint32_t));
		for(i = 0; i < Q_KINDS; i++)
			s->kns[i] = malloc(nq * rounds * sizeof(uint32_t));
		if(k >= 7)
			break;
	}
	for(r = 0; r < rounds; r++) {
		for(k = 0; k < nruns; k++) {
			struct size_run* s = &runs[k];
			size_t i;
			for(i = 0; i < nq; i++) {
				int flagged;
				uint32_t ns = time_check(s->p, s->queries[i],
					&flagged);
				s->ns[s->nns++] = ns;
				s->kns[i % 2][s->nkns[i % 2]++] = ns;
				if(r == 0) {
					s->flagged += flagged;
					s->kflagged[i % 2] += flagged;
				}
			}
			/* the mix again, against the mapped policy */
			for(i = 0; i < nq; i++) {
				int flagged;
				s->mns[s->nmns++] = time_check(s->mp,
					s->queries[i], &flagged);
				if(r == 0)
					s->mflagged += flagged;
			}
			/* namesakes and made-up names, timed apart from the
			 * mix */
			for(i = 0; i < nq / 2; i++) {
				int kind = i % 2 ? Q_NOVEL : Q_NAMESAKE, flagged;
				uint32_t ns = time_check(s->p, s->extra[i],
					&flagged);
				s->kns[kind][s->nkns[kind]++] = ns;
				if(r == 0)
					s->kflagged[kind] += flagged;
			}
		}
	}
	size_head("protected", "compile_s", "memory_MB");
	for(k = 0, base = 0; k < nruns; k++) {
		struct size_run* s = &runs[k];
		double med = size_row(s->n, s->compile_s,
			dp_policy_memory(s->p) / 1e6, s->ns, s->nns,
			100.0 * s->flagged / nq, base);
		if(k == 0)
			base = med;
	}
	printf("(%s names; %zu queries x %d rounds per size; half "
		"lookalikes of protected names, half clean names of other "
		"words; timing includes canonicalisation and clock_gettime)"
		"\n\n", compound ? "compound-shaped" : "dense", nq, rounds);
	/* The module maps the compiled policy; its pages come from the
	 * page cache (huge ones when the kernel gives them), where the
	 * policy built in memory above sits in the heap's. */
	size_head("compiled", "write_s", "db_MB");
	for(k = 0, base = 0; k < nruns; k++) {
		struct size_run* s = &runs[k];
		double med = size_row(s->n, s->write_s, s->db_mb, s->mns,
			s->nmns, 100.0 * s->mflagged / nq, base);
		if(k == 0)
			base = med;
		if(s->mflagged != s->flagged) {
			fprintf(stderr, "bench_engine: at %zu the compiled "
				"policy flags %zu names, the built one %zu\n",
				s->n, s->mflagged, s->flagged);
			return 1;
		}
	}
	printf("(the same mix against the policy compiled to a file and "
		"mapped, as the module uses it; page cache huge pages %s)\n\n",
		file_pmd());
	kind_header("median_ns", "   made-up/1k");
	for(k = 0; k < nruns; k++) {
		struct size_run* s = &runs[k];
		int j;
		printf("%-10zu", s->n);
		for(j = 0; j < Q_KINDS; j++) {
			qsort(s->kns[j], s->nkns[j], sizeof(uint32_t), cmp_u32);
			printf(" %12u", s->kns[j][s->nkns[j] / 2]);
		}
		printf("   %10.2f\n", s->kns[Q_NOVEL][s->nkns[Q_NOVEL] / 2] /
			(double)runs[0].kns[Q_NOVEL][runs[0].nkns[Q_NOVEL] /
			2]);
	}
	printf("\n");
	kind_header("flagged%", "");
	for(k = 0; k < nruns; k++) {
		struct size_run* s = &runs[k];
		int j;
		printf("%-10zu", s->n);
		for(j = 0; j < Q_KINDS; j++)
			printf(" %12.1f", s->nkns[j] ? 100.0 * s->kflagged[j] /
				(s->nkns[j] / rounds) : 0.0);
		printf("\n");
	}
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if(system(path) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return 0;
}
