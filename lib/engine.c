/*
 * lib/engine.c - the lookalike engine: decide for a queried name whether
 * it imitates a protected domain, how, and how surely.
 *
 * A queried name is split, with the Public Suffix List (its rules are in
 * the index too: lib/suffix.c), into the labels under the registered
 * domain, the registered label and the public suffix ("login.army" .
 * "ml").  Candidates come from the index, each lookup a constant cost:
 *
 *  - the folded registered label and each of its one-character deletions
 *    (symmetric deletion neighbourhood): every protected label within one
 *    edit of it, after confusables are folded (typos, homoglyphs, IDN);
 *  - the label with the suffix glued on ("googlec"+"om" = "googlecom"):
 *    a shifted dot;
 *  - the tokens of the name split at dots and hyphens, and the label's
 *    prefixes and suffixes: a brand embedded with its suffix, a keyword,
 *    or a lost dot.
 *
 * All the keys of a name are worked out first and their buckets asked
 * for in one batch, then the candidates' records in another: at a
 * million protected domains the index is far larger than the CPU's
 * caches, and the cost of a name is its memory round trips.
 *
 * Each candidate is verified on the real strings and scored; the best
 * score wins.  Scores depend on the kind of change, the length of the
 * protected label (a one-letter change to a three-letter name is weak
 * evidence) and the suffixes (a .mil name reappearing under a ccTLD, or
 * under a typo of its own suffix, is strong; under .com it is usually a
 * namesake).
 *
 * The files: engine_build.c indexes a policy; engine_edits.c,
 * engine_concat.c, engine_tokens.c, engine_affixes.c and engine_split.c
 * are the families of checks (engine.h: what they share); this file runs
 * them for a name, decides, and weighs the countries of answers.
 */
#include "engine.h"

#include <stdarg.h>

void
offer_why(struct query* q, const struct dp_prot* d, double score,
	int technique, const char* fmt, ...)
{
	va_list ap;
	char* sep;
	score = final_score(q, d->closed, d->suffix, score);
	if(q->explained || (uint32_t)(d - q->p->prot) != q->win_pid ||
		score != q->v->score || technique != q->win_tech)
		return;
	q->explained = 1;
	va_start(ap, fmt);
	dp_vformat(q->v->why, sizeof(q->v->why), fmt, ap);
	va_end(ap);
	/* DETAIL_SEP parts the explanation from its details (see
	 * dp_verdict_detail) */
	q->v->detail_at = 0;
	if((sep = strchr(q->v->why, DETAIL_SEP[0])) != NULL) {
		*sep = 0;
		q->v->detail_at = (uint8_t)(sep - q->v->why + 1);
	}
}

/** Run one family of checks. */
static void
run_family(struct query* q, int family)
{
	q->family = family;
	switch(family) {
	case FAM_SPLIT: engine_check_split(q); break;
	case FAM_EDITS: engine_check_edits(q); break;
	case FAM_CONCAT: engine_check_concat(q); break;
	case FAM_TOKENS: engine_check_tokens(q); break;
	case FAM_AFFIXES: engine_check_affixes(q); break;
	}
}

/** The closest enclosing listed name of each kind.*/
struct listed {
	const struct dp_namerec *allow, *protected, *known, *block;
};

/** The keys of a name and its parents: for the listed names, and (when
 * the policy has the Public Suffix List's rules in its index) for the
 * rules and for the protected domains' suffixes. */
struct listed_keys {
	uint64_t h[DP_NAME_LABELS], rule[DP_NAME_LABELS], sfx[DP_NAME_LABELS];
	/** the polynomials (dp_key_raw) of the name and its parents */
	uint64_t raw[DP_NAME_LABELS];
	/** where each parent starts in the name; k = 0 is the last label */
	uint16_t start[DP_NAME_LABELS];
	size_t n;
};

/**
 * The hashes of the name and of each of its parents, all from one pass;
 * their buckets are asked for at once.
 */
static void
listed_keys(const struct dp_policy* p, const char* name, struct listed_keys* k)
{
	size_t n = strlen(name), j;
	uint64_t* raw = k->raw;
	k->n = dp_name_suffixes(name, k->start, raw, DP_NAME_LABELS);
	for(j = 0; j < k->n; j++) {
		size_t len = n - k->start[j];
		if(p->nnames) {
			k->h[j] = dp_key_fin(DP_KEY_NAME, len, raw[j]);
			dp_index_prefetch(&p->index, k->h[j]);
		}
		if(p->psl_rules) {
			/* the rules' buckets are mostly in the cache, and the
			 * filter in front of them spares the others */
			k->rule[j] = dp_key_fin(DP_KEY_PSL, len, raw[j]);
			k->sfx[j] = dp_key_fin(DP_KEY_SUFFIX, len, raw[j]);
			dp_index_prefetch(&p->index, k->sfx[j]);
		}
	}
}

/**
 * The closest enclosing listed name of each kind, from the keys of
 * listed_keys.
 */
static void
find_listed_keys(const struct dp_policy* p, const char* name,
	const struct listed_keys* k, struct listed* out)
{
	size_t j;
	memset(out, 0, sizeof(*out));
	if(p->nnames == 0)
		return;
	/* Walking outwards: the last hit is the closest. */
	for(j = 0; j < k->n; j++) {
		struct dp_index_iter it;
		uint32_t val;
		if(!dp_index_find(&p->index, k->h[j], &it))
			continue;
		while(dp_index_next(&it, &val)) {
			const struct dp_namerec* r;
			if(val >= p->nnames)
				continue;
			r = &p->names[val];
			if(strcmp(p->strings + r->name, name + k->start[j]) != 0)
				continue;
			if(r->flags & DP_NAME_ALLOW)
				out->allow = r;
			if(r->flags & DP_NAME_PROTECTED)
				out->protected = r;
			if(r->flags & DP_NAME_KNOWN)
				out->known = r;
			if(r->flags & DP_NAME_BLOCK)
				out->block = r;
		}
	}
}

/** Walk the name and its parents, finding the closest listed name of
 * each kind. */
static void
find_listed(const struct dp_policy* p, const char* name, struct listed* out)
{
	struct listed_keys k;
	listed_keys(p, name, &k);
	find_listed_keys(p, name, &k, out);
}

/** The key (DP_KEY_SUFFIX) of the name's suffix: from the walk over its
 * labels if it made them, else worked out and its bucket asked for. */
static uint64_t
suffix_key(const struct dp_policy* p, const char* name,
	const struct listed_keys* lk, const char* suffix, size_t n)
{
	uint64_t h;
	size_t k;
	if(p->psl_rules)
		for(k = 0; k < lk->n; k++)
			if(name + lk->start[k] == suffix)
				return lk->sfx[k];
	h = dp_key_hash(DP_KEY_SUFFIX, suffix, n);
	dp_index_prefetch(&p->index, h);
	return h;
}

/**
 * The "ours LABEL.*" record of a registered label, if the policy has one.
 * Looked up only for a name about to be flagged, so clean names never
 * pay for it.
 */
static const struct dp_namerec*
find_ours(const struct dp_policy* p, const char* label, size_t n)
{
	char key[DP_NAME_MAX];
	struct dp_index_iter it;
	uint32_t val;
	if(!p->has_ours || n + 3 > sizeof(key))
		return NULL;
	memcpy(key, label, n);
	memcpy(key + n, ".*", 3);
	if(!dp_index_find(&p->index, dp_key_hash(DP_KEY_NAME, key, n + 2),
		&it))
		return NULL;
	while(dp_index_next(&it, &val))
		if(val < p->nnames && (p->names[val].flags & DP_NAME_OURS) &&
			strcmp(p->strings + p->names[val].name, key) == 0)
			return &p->names[val];
	return NULL;
}

/** Number of a suffix among the protected domains', or DP_NONE. */
static uint32_t
find_suffix(const struct dp_policy* p, const char* s, size_t n, uint64_t h)
{
	struct dp_index_iter it;
	uint32_t val;
	if(!dp_index_find(&p->index, h, &it))
		return DP_NONE;
	while(dp_index_next(&it, &val))
		if(val < p->nsuffixes && same_str(p->strings +
			p->suffixes[val].str, p->suffixes[val].len, s, n))
			return val;
	return DP_NONE;
}

/** Put a new explanation in v, cut to fit, keeping the details of the
 * match after it if they still fit. */
static void
set_why(struct dp_verdict* v, const char* why)
{
	char detail[sizeof(v->why)];
	size_t n;
	snprintf(detail, sizeof(detail), "%s", dp_verdict_detail(v));
	snprintf(v->why, sizeof(v->why), "%s", why);
	n = strlen(v->why);
	v->detail_at = 0;
	if(detail[0] && n + 1 + strlen(detail) < sizeof(v->why)) {
		memcpy(v->why + n + 1, detail, strlen(detail) + 1);
		v->detail_at = (uint8_t)(n + 1);
	}
}

/**
 * Turn a score into an action: the technique's thresholds or the
 * policy's, then the caps of the technique and of the protected domain.
 * @param cap: the protected domain's cap (DP_BLOCK for none).
 */
static void
decide(const struct dp_policy* p, struct dp_verdict* v, int cap)
{
	int t = dp_technique_index(v->technique);
	const struct dp_tech_rule* r = t >= 0 ? &p->tech[t] : NULL;
	double block_at = r && r->block_at >= 0 ? r->block_at : p->block_at;
	double warn_at = r && r->warn_at >= 0 ? r->warn_at : p->warn_at;
	/* Scores are sums of tenths: compare with a margin, or 0.95 - 0.15
	 * would fall short of 0.8. */
	if(v->score >= block_at - 1e-9)
		v->action = DP_BLOCK;
	else if(v->score >= warn_at - 1e-9)
		v->action = DP_WARN;
	else
		v->action = DP_ALLOW;
	if(r && r->action_cap && (int)v->action > r->action_cap - 1)
		v->action = (enum dp_action)(r->action_cap - 1);
	if((int)v->action > cap)
		v->action = (enum dp_action)cap;
	if(v->action == DP_ALLOW) {
		/* Too weak to report, or not wanted: keep the explanation,
		 * drop the target, so callers see a clean allow. */
		char why[2 * sizeof(v->why) + 64];
		snprintf(why, sizeof(why), "%s %s (%s, score %.2f): %s",
			v->score >= warn_at - 1e-9 ? "not reported by policy:" :
			"weak resemblance to", v->target, v->technique,
			v->score, v->why);
		set_why(v, why);
		v->target = NULL;
		v->technique = NULL;
		v->zone_labels = 0;
	}
}

/*
 * The memo of registered domains.  The edits, concatenation and affixes
 * families weigh only the registered label and its suffix: every name
 * under one registered domain (www.example.com, cdn.example.com,
 * a1b2.example.com) gets the same candidates from them.  A resolver's
 * names are mostly under a few registered domains, so each thread keeps
 * the last such domains it weighed, with the winner of each of the three
 * families on its own, and the flags of the label's folds; a name under
 * one of them runs only the families that read the rest of the name
 * (split, tokens) and offers the three winners in their place.
 *
 * Offering a family's winner alone, where the family would have run,
 * gives the same verdict: an offer displaces the one before it only when
 * it scores more, or as much within one family with a longer brand, so
 * the family's own best offer (the first of the longest brands at its
 * highest score) is what stands after it, whatever came before, unless
 * what came before scored as much or more, which then stands either way.
 * The explanation of a winner from the memo is worked out in full.
 *
 * An entry is the policy's memo_gen (a new number at every build and
 * load), the whole registered domain (compared, not only hashed: a
 * crafted name must not take another's answer) and the answers.
 */
#define MEMO_SLOTS 128
#define MEMO_REG 48

/** The families a memo entry holds, in the order they run. */
static const int memo_families[] = { FAM_EDITS, FAM_CONCAT, FAM_AFFIXES };
#define MEMO_FAMILIES (sizeof(memo_families) / sizeof(memo_families[0]))

struct memo_win {
	double score;
	uint32_t pid;
	uint8_t tech;
};

struct memo_slot {
	uint64_t gen, h;
	unsigned fold_flags;
	uint8_t n;
	char reg[MEMO_REG];
	struct memo_win win[MEMO_FAMILIES];
};

static _Thread_local struct memo_slot memo[MEMO_SLOTS];
static _Atomic uint64_t memo_next = 1;

uint64_t
dp_memo_generation(void)
{
	return atomic_fetch_add_explicit(&memo_next, 1, memory_order_relaxed);
}

/** A registered domain's hash for the memo, from its polynomial. */
static inline uint64_t
memo_hash(const struct dp_policy* p, size_t n, uint64_t raw)
{
	uint64_t h = (raw ^ p->memo_gen) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29) ^ n;
}

/** The polynomial of the registered domain, from the walk over the
 * name's labels if it made one. */
static uint64_t
reg_raw(const char* name, const struct listed_keys* lk, const char* reg,
	size_t n)
{
	size_t k;
	for(k = 0; k < lk->n; k++)
		if(name + lk->start[k] == reg)
			return lk->raw[k];
	return dp_key_raw(reg, n);
}

/** Work out the keys of the registered label for the families that
 * weigh it alone. */
static void
prepare_label(struct query* q)
{
	engine_prepare_concat(q);
	engine_prepare_affixes(q);
	dp_fold_label(q->p->folder, q->label, q->label_len, &q->fold);
	q->fold_flags = q->fold.flags;
	engine_prepare_edits(q);
}

/** Run a family from no verdict, keep its winner in w, and offer that
 * winner alone against the verdict so far. */
static void
run_kept(struct query* q, int family, struct memo_win* w)
{
	double score = q->v->score;
	const char* technique = q->v->technique;
	uint32_t pid = q->win_pid;
	int tech = q->win_tech, fam = q->win_family;
	if(pid == DP_NONE) {
		/* no verdict yet (most names): the family's winner is what
		 * stands after it */
		run_family(q, family);
		w->score = q->v->score;
		w->pid = q->win_pid;
		w->tech = (uint8_t)q->win_tech;
		return;
	}
	q->v->score = 0;
	q->v->technique = NULL;
	q->win_pid = DP_NONE;
	run_family(q, family);
	w->score = q->v->score;
	w->pid = q->win_pid;
	w->tech = (uint8_t)q->win_tech;
	q->v->score = score;
	q->v->technique = technique;
	q->win_pid = pid;
	q->win_tech = tech;
	q->win_family = fam;
	q->family = family;
	if(w->pid != DP_NONE)
		offer_pid(q, w->pid, w->score, w->tech);
}

/** Offer a family's winner from the memo where the family would run. */
static void
run_memo(struct query* q, int family, const struct memo_win* w)
{
	q->family = family;
	if(w->pid != DP_NONE)
		offer_pid(q, w->pid, w->score, w->tech);
}

void
dp_policy_check(const struct dp_policy* p, const char* name,
	struct dp_verdict* v)
{
	const struct dp_namerec* r;
	struct listed_keys lk;
	struct listed l;
	struct query q;
	const char *dot, *reg;
	struct memo_slot* m = NULL;
	uint64_t mh = 0;
	int memo_hit = 0;
	size_t f;

	memset(v, 0, sizeof(*v));
	v->action = DP_ALLOW;
	if(name[0] == 0) {
		snprintf(v->why, sizeof(v->why), "the root");
		return;
	}
	/* One walk over the labels gives the keys of the listed names, of
	 * the suffix rules and of the protected suffixes.  The rules are
	 * mostly in the cache, so the label and the suffix are known at
	 * once; the keys of every check are worked out and their buckets
	 * asked for together with the listed names'. */
	listed_keys(p, name, &lk);
	reg = p->psl_rules ? dp_psl_match(p, name, lk.n, lk.start, lk.rule) :
		psl_registrable_domain(p->psl, name);
	memset(&q, 0, QUERY_CLEAR);
	q.p = p;
	q.name = name;
	q.v = v;
	q.reg = reg;
	q.win_pid = DP_NONE;
	if(!q.reg && strchr(name, '.')) {
		/* The name is itself a public suffix of the list's private
		 * section (github.io, blogspot.com): whoever runs it is a
		 * registrant too, so read it as label + suffix. */
		q.reg = name;
	}
	dot = q.reg ? strchr(q.reg, '.') : NULL;
	if(dot) {
		q.label = q.reg;
		q.label_len = (size_t)(dot - q.reg);
		q.suffix = dot + 1;
		q.suffix_len = strlen(q.suffix);
		size_t rn = q.label_len + 1 + q.suffix_len;
		q.suffix_h = suffix_key(p, name, &lk, q.suffix, q.suffix_len);
		if(rn < MEMO_REG && p->memo_gen) {
			mh = memo_hash(p, rn, reg_raw(name, &lk, q.reg, rn));
			m = &memo[(mh >> 40) & (MEMO_SLOTS - 1)];
			memo_hit = m->h == mh && m->gen == p->memo_gen &&
				m->n == rn && memcmp(m->reg, q.reg, rn) == 0;
		}
		if(memo_hit)
			q.fold_flags = m->fold_flags;
		else
			prepare_label(&q);
		engine_prepare_tokens(&q);
		/* the protected suffixes are few and their buckets stay in
		 * the cache; the affix filter's words have come in by now */
		q.suffix_id = find_suffix(p, q.suffix, q.suffix_len,
			q.suffix_h);
		if(!memo_hit)
			engine_prepare_affix_keys(&q);
	}
	find_listed_keys(p, name, &lk, &l);
	if((r = l.allow) != NULL) {
		v->listed = DP_LISTED_ALLOW;
		snprintf(v->why, sizeof(v->why), "allowlisted (allow %s)",
			p->strings + r->name);
		return;
	}
	if((r = l.protected) != NULL) {
		v->listed = DP_LISTED_PROTECTED;
		snprintf(v->why, sizeof(v->why), "protected domain %s",
			p->strings + r->name);
		return;
	}
	if((r = l.known) != NULL) {
		v->listed = DP_LISTED_KNOWN;
		snprintf(v->why, sizeof(v->why), "known good (%s)",
			p->strings + r->name);
		return;
	}
	if((r = l.block) != NULL) {
		v->score = 1.0;
		v->target = p->strings + r->name;
		v->technique = dp_technique_names[DP_TECH_LISTED];
		v->zone_labels = dp_name_labels(v->target);
		snprintf(v->why, sizeof(v->why), "listed (block %s)",
			v->target);
		decide(p, v, DP_BLOCK);
		return;
	}
	if(!dot) {
		snprintf(v->why, sizeof(v->why), "a top-level domain, nothing "
			"registered");
		return;
	}

	/* On equal scores the first offer stands: the more specific
	 * explanations go first. */
	q.ed.edit_lid = q.ed.skel_lid = DP_NONE;
	run_family(&q, FAM_SPLIT);
	for(f = 0; f < MEMO_FAMILIES; f++) {
		/* the tokens family reads the whole name: before affixes */
		if(memo_families[f] == FAM_AFFIXES)
			run_family(&q, FAM_TOKENS);
		if(!m)
			run_family(&q, memo_families[f]);
		else if(memo_hit)
			run_memo(&q, memo_families[f], &m->win[f]);
		else
			run_kept(&q, memo_families[f], &m->win[f]);
	}
	if(m && !memo_hit) {
		m->gen = p->memo_gen;
		m->h = mh;
		m->fold_flags = q.fold_flags;
		m->n = (uint8_t)(q.label_len + 1 + q.suffix_len);
		memcpy(m->reg, q.reg, m->n);
	}
	if(q.win_pid != DP_NONE && (r = find_ours(p, q.label,
		q.label_len)) != NULL) {
		memset(v, 0, sizeof(*v));
		v->action = DP_ALLOW;
		v->listed = DP_LISTED_OURS;
		snprintf(v->why, sizeof(v->why), "ours (ours %s)",
			p->strings + r->name);
		return;
	}
	if(q.win_pid != DP_NONE) {
		const struct dp_prot* w = &p->prot[q.win_pid];
		__builtin_prefetch(p->strings + w->name);
		v->target = p->strings + w->name;
		if(memo_hit && q.win_family != FAM_SPLIT &&
			q.win_family != FAM_TOKENS) {
			prepare_label(&q);
			engine_prepare_affix_keys(&q);
		}
		q.explain = 1;
		q.ed.nseen = 0;
		q.ed.edit_lid = q.ed.skel_lid = DP_NONE;
		run_family(&q, q.win_family);
	}

	if(!v->target) {
		strcpy(v->why, (q.fold_flags & DP_FOLD_IDN_INVALID) ?
			"no lookalike found (but its punycode is not valid "
			"IDNA)" : "no lookalike found");
		return;
	}
	v->zone_labels = dp_name_labels(q.reg);
	decide(p, v, p->prot[q.win_pid].action_cap);
}

/** Whether the two-letter code cc is in the list "US,DE". */
static int
country_in(const char* list, const char* cc)
{
	for(; list[0] && list[1]; list += list[2] ? 3 : 2) {
		if(list[0] == cc[0] && list[1] == cc[1])
			return 1;
		if(!list[2])
			break;
	}
	return 0;
}

/**
 * The protected domain whose countries a name's answers are weighed
 * against: its target if it is a lookalike that warns, or the protected
 * domain it is (or is under).
 * @param hijack: set to 1 in the second case.
 * @return the domain, or NULL if the answers do not matter.
 */
static const struct dp_prot*
weighed_against(const struct dp_policy* p, const char* name,
	const struct dp_verdict* v, int* hijack)
{
	const struct dp_prot* d;
	struct listed l;
	*hijack = 0;
	if(v->action == DP_ALLOW) {
		find_listed(p, name, &l);
		if(!l.protected || l.allow)
			return NULL;
		*hijack = 1;
	} else if(v->action == DP_WARN && v->target) {
		find_listed(p, v->target, &l);
		if(!l.protected)
			return NULL;
	} else
		return NULL;
	d = &p->prot[l.protected->pid];
	return d->countries == DP_NONE ? NULL : d;
}

int
dp_policy_vouches(const struct dp_policy* p, const char* name,
	const char* target)
{
	struct listed_keys lk;
	struct listed l;
	const char *reg, *dot;
	listed_keys(p, name, &lk);
	find_listed_keys(p, name, &lk, &l);
	if(l.allow || l.protected || l.known)
		return 0;
	/* ours LABEL.*: the registered label is the owner's */
	reg = p->psl_rules ? dp_psl_match(p, name, lk.n, lk.start, lk.rule) :
		psl_registrable_domain(p->psl, name);
	if(reg && (dot = strchr(reg, '.')) != NULL && find_ours(p, reg,
		(size_t)(dot - reg)))
		return 0;
	find_listed(p, target, &l);
	return (l.protected && strcmp(p->strings + l.protected->name,
		target) == 0) || (l.block && strcmp(p->strings +
		l.block->name, target) == 0);
}

int
dp_policy_uses_countries(const struct dp_policy* p)
{
	uint32_t i;
	for(i = 0; i < p->nprot; i++)
		if(p->prot[i].countries != DP_NONE)
			return 1;
	return 0;
}

const char*
dp_policy_expected_countries(const struct dp_policy* p, const char* name,
	const struct dp_verdict* v)
{
	int hijack;
	const struct dp_prot* d = weighed_against(p, name, v, &hijack);
	return d ? p->strings + d->countries : NULL;
}

int
dp_policy_check_answer(const struct dp_policy* p, const char* name,
	const char (*countries)[3], size_t n, struct dp_verdict* v)
{
	const struct dp_prot* d;
	const char* expected;
	const char* bad = NULL;
	enum dp_action act;
	size_t i, o = 0;
	int hijack;

	if(n == 0)
		return 0;
	/* The countries seen, for the records, whatever comes of them. */
	for(i = 0; i < n && o + 3 < sizeof(v->countries); i++) {
		if(o)
			v->countries[o++] = ',';
		v->countries[o++] = countries[i][0];
		v->countries[o++] = countries[i][1];
	}
	v->countries[o] = 0;
	if(!(d = weighed_against(p, name, v, &hijack)))
		return 0;
	expected = p->strings + d->countries;
	for(i = 0; i < n && !bad; i++)
		if(!country_in(expected, countries[i]))
			bad = countries[i];
	if(!bad)
		return 0;
	act = hijack ? p->hijack : p->country_mismatch;
	if(hijack) {
		v->score = 1.0;
		v->target = p->strings + d->name;
		v->technique = "hijack";
		v->zone_labels = dp_name_labels(name);
		snprintf(v->why, sizeof(v->why), "protected domain %s answered "
			"from %s, expected %s: possible hijack", v->target, bad,
			expected);
		v->detail_at = 0;
		v->action = act;
		return 1;
	}
	{
		char why[sizeof(v->why) + 128];
		snprintf(why, sizeof(why), "%s; answered from %s, expected %s",
			v->why, bad, expected);
		set_why(v, why);
	}
	if(act > v->action)
		v->action = act;
	return 1;
}
