/*
 * lib/counters.c - the module's counters (see counters.h).
 */
#include "counters.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/** Slots: one per worker thread, the last one shared by any more. */
#define SLOTS 64
/** Targets a slot keeps apart; more are counted as "other". */
#define SLOT_TARGETS 32
/** Targets published, largest first. */
#define TOP_TARGETS 20
/** Techniques counted apart: the engine's, the answers' two, other. */
#define TECH_MISMATCH DP_NTECH
#define TECH_HIJACK (DP_NTECH + 1)
#define TECH_OTHER (DP_NTECH + 2)
#define NTECH (DP_NTECH + 3)
/** Actions counted: warn, block, would-block (a block in monitor mode). */
#define NACT 3

/** A target a slot counts: name written once by the slot's thread, then
 * published by `ready` (release); the count is the thread's own. */
struct target {
	_Atomic uint32_t ready;
	char name[60];
	_Atomic uint64_t n;
};

struct slot {
	_Atomic uint64_t ctr[DP_CTR_N];
	_Atomic uint64_t verdicts[NACT][NTECH];
	_Atomic uint64_t other_targets;
	struct target targets[SLOT_TARGETS];
} __attribute__((aligned(64)));

struct dp_counters {
	struct slot slots[SLOTS];
	/** slots taken so far */
	_Atomic unsigned taken;
	/** this set's number, so that a thread's slot of an earlier set (a
	 * reload frees one and makes another) is not taken for this one */
	uint64_t gen;
};

static _Atomic uint64_t generations;

/** The calling thread's slot, and whether it is the thread's alone. */
static _Thread_local struct {
	uint64_t gen;
	const struct dp_counters* of;
	struct slot* s;
	int shared;
} mine;

struct dp_counters*
dp_counters_create(void)
{
	struct dp_counters* c = aligned_alloc(64, sizeof(*c));
	if(!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->gen = atomic_fetch_add(&generations, 1) + 1;
	return c;
}

void
dp_counters_free(struct dp_counters* c)
{
	free(c);
}

static struct slot*
my_slot(struct dp_counters* c, int* shared)
{
	if(mine.of != c || mine.gen != c->gen) {
		unsigned i = atomic_fetch_add(&c->taken, 1);
		mine.of = c;
		mine.gen = c->gen;
		mine.shared = i >= SLOTS - 1;
		mine.s = &c->slots[i < SLOTS - 1 ? i : SLOTS - 1];
	}
	*shared = mine.shared;
	return mine.s;
}

/** Add to a counter: a plain load and store when the slot is the
 * thread's alone, an atomic addition when it is shared. */
static inline void
bump(_Atomic uint64_t* x, uint64_t n, int shared)
{
	if(shared)
		atomic_fetch_add_explicit(x, n, memory_order_relaxed);
	else
		atomic_store_explicit(x, atomic_load_explicit(x,
			memory_order_relaxed) + n, memory_order_relaxed);
}

void
dp_counters_add(struct dp_counters* c, enum dp_ctr which, uint64_t n)
{
	int shared;
	struct slot* s;
	if(!c || which >= DP_CTR_N)
		return;
	s = my_slot(c, &shared);
	bump(&s->ctr[which], n, shared);
}

/** Count a target in a slot. */
static void
count_target(struct slot* s, const char* name, int shared)
{
	size_t n = strlen(name) < sizeof(s->targets[0].name) - 1 ?
		strlen(name) : sizeof(s->targets[0].name) - 1;
	uint64_t h = dp_fnv1a(DP_FNV_SEED, name, n);
	unsigned i, k;
	for(k = 0; k < SLOT_TARGETS; k++) {
		struct target* t = &s->targets[(h + k) % SLOT_TARGETS];
		if(atomic_load_explicit(&t->ready, memory_order_acquire)) {
			if(strncmp(t->name, name, n) == 0 && t->name[n] == 0) {
				bump(&t->n, 1, shared);
				return;
			}
			continue;
		}
		if(shared) {
			/* a shared slot keeps no new targets: two threads
			 * could claim one entry */
			break;
		}
		memcpy(t->name, name, n);
		t->name[n] = 0;
		for(i = 0; t->name[i]; i++)
			if(t->name[i] == '"' || t->name[i] == '\\' ||
				(unsigned char)t->name[i] < 0x20)
				t->name[i] = '?';
		bump(&t->n, 1, 0);
		atomic_store_explicit(&t->ready, 1, memory_order_release);
		return;
	}
	bump(&s->other_targets, 1, shared);
}

void
dp_counters_verdict(struct dp_counters* c, const struct dp_verdict* v,
	int monitor)
{
	int shared, act, tech;
	struct slot* s;
	if(!c || v->action == DP_ALLOW)
		return;
	s = my_slot(c, &shared);
	act = v->action == DP_WARN ? 0 : monitor ? 2 : 1;
	tech = v->technique ? dp_technique_index(v->technique) : -1;
	if(tech < 0)
		tech = !v->technique ? TECH_OTHER :
			strcmp(v->technique, "country-mismatch") == 0 ?
			TECH_MISMATCH : strcmp(v->technique, "hijack") == 0 ?
			TECH_HIJACK : TECH_OTHER;
	bump(&s->verdicts[act][tech], 1, shared);
	if(v->target)
		count_target(s, v->target, shared);
}

static const char*
tech_name(int t)
{
	return t < DP_NTECH ? dp_technique_name(t) : t == TECH_MISMATCH ?
		"country-mismatch" : t == TECH_HIJACK ? "hijack" : "other";
}

/** A target and its count summed over the slots. */
struct tsum {
	const char* name;
	uint64_t n;
};

static int
tsum_cmp(const void* a, const void* b)
{
	const struct tsum *x = a, *y = b;
	if(x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->name, y->name);
}

static void
metric(FILE* f, const char* name, const char* type, const char* help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/** A metric of one sample without labels. */
static void
scalar(FILE* f, const char* name, const char* type, const char* help,
	uint64_t value)
{
	metric(f, name, type, help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)value);
}

/** Write the counters to f. */
static void
write_all(struct dp_counters* c, const struct dp_counters_extra* x,
	uint64_t now, FILE* f)
{
	static const char* const acts[NACT] = { "warn", "block",
		"would-block" };
	static const char* const ctr_names[DP_CTR_N] = { NULL, "hit", "miss",
		NULL, "name", "nomem", "policy", NULL };
	uint64_t sum[DP_CTR_N], v[NACT][NTECH], other = 0;
	struct tsum* ts = calloc(SLOTS * SLOT_TARGETS, sizeof(*ts));
	size_t nts = 0, i, j;
	unsigned used = atomic_load(&c->taken), si, k;
	int a, t;
	if(used > SLOTS)
		used = SLOTS;
	memset(sum, 0, sizeof(sum));
	memset(v, 0, sizeof(v));
	for(si = 0; si < used; si++) {
		struct slot* s = &c->slots[si];
		for(k = 0; k < DP_CTR_N; k++)
			sum[k] += atomic_load_explicit(&s->ctr[k],
				memory_order_relaxed);
		for(a = 0; a < NACT; a++)
			for(t = 0; t < NTECH; t++)
				v[a][t] += atomic_load_explicit(
					&s->verdicts[a][t],
					memory_order_relaxed);
		other += atomic_load_explicit(&s->other_targets,
			memory_order_relaxed);
		for(k = 0; ts && k < SLOT_TARGETS; k++) {
			struct target* tg = &s->targets[k];
			uint64_t n;
			if(!atomic_load_explicit(&tg->ready,
				memory_order_acquire))
				continue;
			n = atomic_load_explicit(&tg->n, memory_order_relaxed);
			for(j = 0; j < nts; j++)
				if(strcmp(ts[j].name, tg->name) == 0)
					break;
			if(j == nts) {
				ts[nts].name = tg->name;
				ts[nts++].n = 0;
			}
			ts[j].n += n;
		}
	}
	scalar(f, "doppel_queries_total", "counter", "Names checked on the "
		"way down (queries that reached doppel).", sum[DP_CTR_QUERIES]);
	metric(f, "doppel_verdicts_total", "counter", "Verdicts other than "
		"allow, by action and technique.");
	for(a = 0; a < NACT; a++)
		for(t = 0; t < NTECH; t++)
			if(v[a][t])
				fprintf(f, "doppel_verdicts_total{action=\"%s\","
					"technique=\"%s\"} %llu\n", acts[a],
					tech_name(t),
					(unsigned long long)v[a][t]);
	metric(f, "doppel_target_verdicts_total", "counter", "Verdicts "
		"other than allow, by protected domain imitated (the largest "
		"20; other: the rest).");
	if(ts)
		qsort(ts, nts, sizeof(*ts), tsum_cmp);
	for(i = 0; i < nts; i++) {
		if(i < TOP_TARGETS)
			fprintf(f, "doppel_target_verdicts_total{target="
				"\"%s\"} %llu\n", ts[i].name,
				(unsigned long long)ts[i].n);
		else
			other += ts[i].n;
	}
	if(other)
		fprintf(f, "doppel_target_verdicts_total{target=\"other\"} "
			"%llu\n", (unsigned long long)other);
	metric(f, "doppel_verdict_cache_total", "counter", "Verdict cache: "
		"hits, misses, verdicts written to the file, verdicts dropped.");
	fprintf(f, "doppel_verdict_cache_total{event=\"hit\"} %llu\n"
		"doppel_verdict_cache_total{event=\"miss\"} %llu\n"
		"doppel_verdict_cache_total{event=\"write\"} %llu\n"
		"doppel_verdict_cache_total{event=\"drop\"} %llu\n",
		(unsigned long long)sum[DP_CTR_VCACHE_HIT],
		(unsigned long long)sum[DP_CTR_VCACHE_MISS],
		(unsigned long long)x->vcache_written,
		(unsigned long long)x->vcache_dropped);
	metric(f, "doppel_audit_records_total", "counter", "Audit records "
		"written (queued for the file), repeats collapsed into them, "
		"records dropped.");
	fprintf(f, "doppel_audit_records_total{event=\"written\"} %llu\n"
		"doppel_audit_records_total{event=\"collapsed\"} %llu\n"
		"doppel_audit_records_total{event=\"dropped\"} %llu\n",
		(unsigned long long)x->audit_written,
		(unsigned long long)x->audit_collapsed,
		(unsigned long long)x->audit_dropped);
	metric(f, "doppel_dnstap_records_total", "counter", "Audit records "
		"sent as dnstap: queued, read by the collector, dropped (queue "
		"full, no collector, lost with a connection).");
	fprintf(f, "doppel_dnstap_records_total{event=\"queued\"} %llu\n"
		"doppel_dnstap_records_total{event=\"sent\"} %llu\n"
		"doppel_dnstap_records_total{event=\"dropped\"} %llu\n",
		(unsigned long long)x->dnstap_queued,
		(unsigned long long)x->dnstap_sent,
		(unsigned long long)x->dnstap_dropped);
	scalar(f, "doppel_dnstap_connections_total", "counter", "Connections "
		"made to the dnstap collector.", x->dnstap_connects);
	scalar(f, "doppel_country_lookups_total", "counter", "Answer "
		"addresses whose country was looked up.",
		sum[DP_CTR_GEO_LOOKUPS]);
	metric(f, "doppel_errors_total", "counter", "Errors by kind: names "
		"that could not be read, out of memory, policy files that "
		"could not be loaded.");
	for(k = 0; k < DP_CTR_N; k++)
		if(k >= DP_CTR_ERR_NAME && k <= DP_CTR_ERR_POLICY)
			fprintf(f, "doppel_errors_total{kind=\"%s\"} %llu\n",
				ctr_names[k], (unsigned long long)sum[k]);
	scalar(f, "doppel_policy_loads_total", "counter", "Policies loaded "
		"(the first and every new version).", sum[DP_CTR_POLICY_LOADS]);
	metric(f, "doppel_policy_info", "gauge", "The policy in force: its "
		"source's hash (serial) and the mode; 0 if none is.");
	fprintf(f, "doppel_policy_info{hash=\"%016llx\",mode=\"%s\"} %d\n",
		(unsigned long long)x->policy_hash, x->monitor ? "monitor" :
		"enforce", x->has_policy);
	scalar(f, "doppel_policy_protected_domains", "gauge", "Protected "
		"domains of the policy in force.", x->policy_domains);
	scalar(f, "doppel_policy_built_timestamp_seconds", "gauge", "When "
		"the policy in force was compiled (0: a source).",
		x->policy_built);
	scalar(f, "doppel_policy_loaded_timestamp_seconds", "gauge", "When "
		"the policy in force was loaded.", x->policy_loaded);
	scalar(f, "doppel_stats_timestamp_seconds", "gauge", "When these "
		"figures were written.", now);
	free(ts);
}

dp_status
dp_counters_publish(struct dp_counters* c, const struct dp_counters_extra* x,
	const char* path, uint64_t now, struct dp_error* err)
{
	char tmp[4200];
	FILE* f;
	int fd, ok;
	if(snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		dp_error_set(err, "%s: path too long", path);
		return DP_ERR_IO;
	}
	if((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
		O_NOFOLLOW, 0644)) < 0 || !(f = fdopen(fd, "w"))) {
		dp_error_set(err, "%s: cannot write: %s", tmp,
			strerror(errno));
		if(fd >= 0)
			close(fd);
		return DP_ERR_IO;
	}
	write_all(c, x, now, f);
	ok = fflush(f) == 0 && !ferror(f);
	if(!ok)
		dp_error_set(err, "%s: cannot write: %s", tmp,
			strerror(errno ? errno : EIO));
	if(fclose(f) != 0 && ok) {
		ok = 0;
		dp_error_set(err, "%s: cannot write: %s", tmp,
			strerror(errno));
	}
	if(ok && rename(tmp, path) != 0) {
		ok = 0;
		dp_error_set(err, "%s: cannot rename %s over it: %s", path,
			tmp, strerror(errno));
	}
	if(!ok)
		unlink(tmp);
	return ok ? DP_OK : DP_ERR_IO;
}
