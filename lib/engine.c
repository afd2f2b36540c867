/*
 * lib/engine.c - the lookalike engine: index the protected domains, then
 * decide for a queried name whether it imitates one, how, and how surely.
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
 */
#include "internal.h"
#include "edit.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Most tokens of a name looked at for brand embedding. */
#define MAX_TOKENS 24

/** Most tokens with digits read as letters (amaz0n-aws) looked up too,
 * and their longest length. */
#define LEET_TOKENS 4
#define LEET_MAX 32

/** A word and its length, so that looking one up is cheap. */
struct word {
	const char* s;
	size_t n;
};
#define W(s) { s, sizeof(s) - 1 }

/** Words that turn a brand into a phishing name. */
static const struct word keywords[] = {
	W("access"), W("account"), W("accounts"), W("admin"), W("alert"),
	W("app"), W("auth"), W("bank"), W("banking"), W("billing"), W("cloud"),
	W("confirm"), W("customer"), W("email"), W("help"), W("home"), W("id"),
	W("info"), W("login"), W("logon"), W("mail"), W("mobile"), W("my"),
	W("notice"), W("office"), W("official"), W("online"), W("owa"),
	W("password"), W("pay"), W("payment"), W("payments"), W("portal"),
	W("recovery"), W("register"), W("reset"), W("secure"), W("security"),
	W("service"), W("services"), W("signin"), W("signon"), W("signup"),
	W("sso"), W("support"), W("update"), W("user"), W("verify"),
	W("verification"), W("vpn"), W("wallet"), W("web"), W("webmail"),
	W("www"),
};

/** Keywords that ask the victim to act: glued to a brand they lure
 * (paypalaccount, googlelogin), where the others name a brand's own
 * services (googlemail, microsoftonline, amazonservices). */
static const struct word lures[] = {
	W("account"), W("accounts"), W("alert"), W("billing"), W("confirm"),
	W("login"), W("logon"), W("password"), W("recovery"), W("reset"),
	W("secure"), W("security"), W("signin"), W("signon"), W("update"),
	W("verify"), W("verification"),
};

/** Subdomain labels whose lost dot gives "wwwarmy.mil". */
static const struct word host_words[] = {
	W("www"), W("ww"), W("mail"), W("smtp"), W("webmail"), W("owa"), W("vpn"),
	W("portal"), W("login"), W("secure"),
};

static int
in_list(const struct word* list, size_t n, const char* s, size_t len)
{
	size_t i;
	if(len < 2 || len > 12)
		return 0;
	for(i = 0; i < n; i++)
		if(list[i].n == len && list[i].s[0] == s[0] &&
			memcmp(list[i].s, s, len) == 0)
			return 1;
	return 0;
}

static int
is_keyword(const char* s, size_t len)
{
	return in_list(keywords, sizeof(keywords) / sizeof(keywords[0]), s,
		len);
}

/** Copy s without '.' and '-' into out. @return length. */
static size_t
flatten(const char* s, size_t n, char* out)
{
	size_t i, o = 0;
	for(i = 0; i < n; i++)
		if(s[i] != '.' && s[i] != '-')
			out[o++] = s[i];
	return o;
}

/*
 * Building.
 */

static int
same_str(const char* a, size_t an, const char* b, size_t bn)
{
	return an == bn && memcmp(a, b, an) == 0;
}

/**
 * Put s and its one-character deletions under (DP_KEY_DEL, val), or only
 * count them when ix is NULL.
 * @return number of keys.
 */
static uint64_t
put_deletions(struct dp_index* ix, const char* s, size_t n, uint32_t val)
{
	uint64_t h[DP_FOLD_MAX + 1];
	uint8_t pos[DP_FOLD_MAX + 1];
	size_t k = dp_key_deletions(s, n, h, pos), i;
	for(i = 0; ix && i < k; i++)
		dp_index_put(ix, h[i], DP_DEL_VAL(val, pos[i]));
	return k;
}

/**
 * Mark the labels that are ordinary words: the lower-case entries of the
 * small dictionary of common words (Debian's wamerican-small, whose
 * 50,000 words leave out google, yahoo, intel and the like, which the
 * larger lists take in as nouns and verbs); capitalised entries are
 * names, and brands among them.  Without a dictionary no label is a word.
 * The keywords of combo-squatting (login, mail, office) are words too.
 */
static void
mark_words(struct dp_policy* p, struct dp_strmap* lmap)
{
	FILE* f = fopen(DP_DICT_DEFAULT, "r");
	char line[256];
	uint32_t i;
	for(i = 0; i < p->nlabels; i++)
		if(is_keyword(p->strings + p->labels[i].str, p->labels[i].len))
			p->labels[i].flags |= DP_LABEL_WORD;
	if(!f)
		return;
	while(fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\r\n");
		uintptr_t v;
		int found;
		if(line[0] < 'a' || line[0] > 'z')
			continue;
		v = (uintptr_t)dp_strmap_get(lmap, line, n, &found);
		if(found && v < p->nlabels)
			p->labels[v].flags |= DP_LABEL_WORD;
	}
	fclose(f);
}

/** Intern a string in a build map: its id, new or old. */
static uint32_t
intern(struct dp_strmap* m, const char* s, size_t n, uint32_t* count,
	int* fresh)
{
	int found;
	uintptr_t v = (uintptr_t)dp_strmap_get(m, s, n, &found);
	*fresh = !found;
	if(found)
		return (uint32_t)v;
	if(dp_strmap_put(m, s, n, (void*)(uintptr_t)*count, NULL) != DP_OK)
		return DP_NONE;
	return (*count)++;
}

dp_status
dp_engine_build(struct dp_policy* p)
{
	struct dp_strmap lmap, smap;
	struct dp_folded* fold = malloc(sizeof(*fold));
	uint32_t i, *fill = NULL;
	uint64_t keys = p->nnames;
	int64_t psl;
	char flat[DP_NAME_MAX];
	dp_status st = DP_ERR_NOMEM;
	/* the capacities of the label and suffix tables while they grow */
	uint32_t lcap = 0, scap = 0;

	dp_strmap_init(&lmap);
	dp_strmap_init(&smap);
	if(!fold)
		goto cleanup;
	/* Labels and suffixes, each once. */
	for(i = 0; i < p->nprot; i++) {
		struct dp_prot* d = &p->prot[i];
		const char* name = p->strings + d->name;
		int fresh;
		d->label = intern(&lmap, name + d->label_off, d->label_len,
			&p->nlabels, &fresh);
		if(d->label == DP_NONE)
			goto cleanup;
		if(fresh) {
			struct dp_label* l;
			if(!dp_grow_array((void**)&p->labels, d->label, &lcap,
				sizeof(*l)))
				goto cleanup;
			l = p->labels;
			memset(&l[d->label], 0, sizeof(*l));
			l[d->label].str = d->name + d->label_off;
			l[d->label].len = d->label_len;
		}
		p->labels[d->label].n++;
		d->suffix = intern(&smap, name + d->suffix_off,
			strlen(name + d->suffix_off), &p->nsuffixes, &fresh);
		if(d->suffix == DP_NONE)
			goto cleanup;
		if(fresh) {
			struct dp_suffix* x;
			if(!dp_grow_array((void**)&p->suffixes, d->suffix,
				&scap, sizeof(*x)))
				goto cleanup;
			x = p->suffixes;
			x[d->suffix].str = d->name + d->suffix_off;
			x[d->suffix].len = (uint16_t)strlen(name +
				d->suffix_off);
			x[d->suffix].closed = d->closed;
		}
	}
	/* Group the domains by label: reorder them so that each label's
	 * domains are neighbours in memory (a counting sort), and renumber
	 * the name records that point at them. */
	{
		struct dp_prot* sorted = malloc((p->nprot + 1) *
			sizeof(*sorted));
		uint32_t* newpid = malloc((p->nprot + 1) * sizeof(*newpid));
		fill = calloc(p->nlabels + 1, sizeof(*fill));
		if(!sorted || !newpid || !fill) {
			free(sorted);
			free(newpid);
			goto cleanup;
		}
		for(i = 1; i < p->nlabels; i++)
			p->labels[i].first = p->labels[i - 1].first +
				p->labels[i - 1].n;
		for(i = 0; i < p->nprot; i++) {
			uint32_t lid = p->prot[i].label;
			newpid[i] = p->labels[lid].first + fill[lid]++;
			sorted[newpid[i]] = p->prot[i];
		}
		for(i = 0; i < p->nnames; i++)
			if(p->names[i].pid != DP_NONE)
				p->names[i].pid = newpid[p->names[i].pid];
		free(p->prot);
		free(newpid);
		p->prot = sorted;
		p->prot_cap = p->nprot + 1;
	}
	/* Records of one cache line each, on line boundaries. */
	{
		struct dp_label* a = dp_alloc_table((size_t)p->nlabels *
			sizeof(*a));
		if(!a)
			goto cleanup;
		if(p->nlabels)
			memcpy(a, p->labels, p->nlabels * sizeof(*a));
		free(p->labels);
		p->labels = a;
	}
	/* Fold each label; the folds go into the string area. */
	for(i = 0; i < p->nlabels; i++) {
		struct dp_label* l = &p->labels[i];
		memset(l->head, 0, sizeof(l->head));
		l->flags = 0;
		if(l->len < DP_LABEL_HEAD)
			memcpy(l->head, p->strings + l->str, l->len);
		dp_fold_label(p->folder, p->strings + l->str, l->len, fold);
		if((l->strong = dp_policy_add_string(p, fold->strong,
			fold->nstrong)) == DP_NONE ||
			(l->loose = dp_policy_add_string(p, fold->loose,
			fold->nloose)) == DP_NONE ||
			(l->flat = dp_policy_add_string(p, fold->flat,
			fold->nflat)) == DP_NONE)
			goto cleanup;
		l->nstrong = (uint16_t)fold->nstrong;
		l->nloose = (uint16_t)fold->nloose;
		l->nflat = (uint16_t)fold->nflat;
		keys += put_deletions(NULL, fold->flat, fold->nflat, 0) + 1;
		if(!same_str(fold->loose, fold->nloose, fold->flat,
			fold->nflat))
			keys += put_deletions(NULL, fold->loose, fold->nloose,
				0);
	}
	mark_words(p, &lmap);
	keys += p->nprot + p->nsuffixes;
	if((psl = dp_psl_rules(p, 0)) < 0)
		goto cleanup;
	keys += (uint64_t)psl;
	if(p->nlabels > DP_DEL_MAX_LABELS) {
		st = DP_ERR_SPACE;
		goto cleanup;
	}
	if(dp_index_init(&p->index, keys) != 0)
		goto cleanup;
	for(i = 0; i < p->nlabels; i++) {
		const struct dp_label* l = &p->labels[i];
		put_deletions(&p->index, p->strings + l->flat, l->nflat, i);
		if(!same_str(p->strings + l->loose, l->nloose, p->strings +
			l->flat, l->nflat))
			put_deletions(&p->index, p->strings + l->loose,
				l->nloose, i);
		dp_index_put(&p->index, dp_key_hash(DP_KEY_LABEL, p->strings +
			l->str, l->len), i);
	}
	for(i = 0; i < p->nprot; i++) {
		const struct dp_prot* d = &p->prot[i];
		const char* lab = p->strings + d->name + d->label_off;
		size_t fl = flatten(lab, strlen(lab), flat);
		dp_index_put(&p->index, dp_key_hash(DP_KEY_CONCAT, flat, fl), i);
	}
	for(i = 0; i < p->nsuffixes; i++)
		dp_index_put(&p->index, dp_key_hash(DP_KEY_SUFFIX, p->strings +
			p->suffixes[i].str, p->suffixes[i].len), i);
	dp_keywords_index(p);
	for(i = 0; i < p->nnames; i++) {
		const char* name = p->strings + p->names[i].name;
		dp_index_put(&p->index, dp_key_hash(DP_KEY_NAME, name,
			strlen(name)), i);
	}
	if((psl = dp_psl_rules(p, 1)) < 0)
		goto cleanup;
	p->psl_rules = (uint64_t)psl;
	if(dp_index_finish(&p->index) != 0)
		goto cleanup;
	/* The build maps' copies of the names are no longer needed. */
	dp_strmap_clear(&p->build_names);
	if((st = dp_affix_init(p)) == DP_OK)
		st = dp_psl_filter_init(p, p->psl_text, p->psl_len);
cleanup:
	dp_strmap_clear(&lmap);
	dp_strmap_clear(&smap);
	free(fill);
	free(fold);
	return st;
}

/*
 * Checking.
 */

/** Longest label (in characters) looked at for affixes: a label is at
 * most 63 octets, 252 characters with escapes. */
#define AFFIX_MAX 256

/** Suffix relations remembered per query. */
#define SUFFIX_MEMO 64

/** A token of the name, between dots and hyphens. */
struct token {
	const char* s;
	size_t n;
	/** the token ends a label (a dot or the suffix follows) */
	int label_end;
};

/** One lookup of check_affixes: the brand's length, which side it is on,
 * and whether it is a label (with a keyword) or a whole name. */
struct affix_look {
	uint8_t brand_n, before, label;
};

/** What is known about the queried name while it is checked. */
struct query {
	const struct dp_policy* p;
	const char* name;
	/** the registered domain, within name */
	const char* reg;
	/** registered label */
	const char* label;
	size_t label_len;
	/** public suffix, its length, and its number among the protected
	 * domains' suffixes (DP_NONE if none has it) */
	const char* suffix;
	size_t suffix_len;
	uint32_t suffix_id;
	unsigned fold_flags;
	/** the best verdict so far */
	struct dp_verdict* v;
	size_t nseen;
	/** the check running now (enum family) */
	int family;
	/** Explaining costs more than checking, so the checks first run
	 * with explain 0 and only keep score, target and technique; then
	 * the winning check runs again with explain 1 to word its why. */
	int explain, explained;
	int win_family;
	uint32_t win_pid;
	/** the best offer's technique (enum dp_technique): the second run
	 * words the offer of this domain, score and technique */
	int win_tech;
	/** the edit of the label last weighed, for its other domains, and
	 * what kind of mistake it is */
	uint32_t edit_lid;
	struct dp_edit edit;
	/** how the skeletons of the label last compared stand to the
	 * query's (skeleton_of), and the evidence of a near one */
	uint32_t skel_lid;
	int skel;
	double skel_base;
	/** the technique of that edit (DP_TECH_NONE: not one), and a note */
	int edit_tech;
	const char* edit_detail;
	double edit_base;
	/** suffix relations already worked out: suffix id + 1, relation */
	uint32_t memo_suffix[SUFFIX_MEMO];
	uint8_t memo_rel[SUFFIX_MEMO];

	/* What follows is written before it is read: a new query clears
	 * only the fields above (QUERY_CLEAR). */

	/** labels already weighed by check_edits (nseen of them) */
	uint32_t seen[64];
	/** folds of the registered label */
	struct dp_folded fold;
	/** the hash of the suffix's key */
	uint64_t suffix_h;
	/** the concatenation keys: the flattened label, then it and the
	 * flattened suffix (concat_n[1] bytes of concat), and their hashes */
	char concat[DP_NAME_MAX];
	size_t concat_n[2];
	uint64_t concat_h[2];
	/** polynomials of the label's prefixes and suffixes (pre[i]: the
	 * first i characters, suf[i]: the last i), when 4 <= label_len <
	 * AFFIX_MAX */
	uint64_t pre[AFFIX_MAX], suf[AFFIX_MAX];
	/** the affix lookups (prepare_affix_keys) */
	uint64_t affix_h[2 * AFFIX_MAX];
	struct affix_look affix_look[2 * AFFIX_MAX];
	size_t naffix;
	/** the deletion keys of the folds, and where each deleted */
	uint64_t del_h[2 * DP_DEL_KEYS];
	uint8_t del_pos[2 * DP_DEL_KEYS];
	size_t ndel;
	/** the tokens of the name (prepare_tokens): the registered label's
	 * first, the suffix's first; and the keys of those looked up */
	struct token tok[MAX_TOKENS];
	size_t ntok, label_tok, suffix_tok;
	uint64_t tok_h[MAX_TOKENS + LEET_TOKENS];
	uint8_t tok_which[MAX_TOKENS + LEET_TOKENS];
	/** the text each key is of: the token's own, or its digits read
	 * as letters (leet) */
	const char* tok_key[MAX_TOKENS + LEET_TOKENS];
	size_t ntok_h, nleet;
	char leet[LEET_TOKENS][LEET_MAX];
};

/** The part of struct query a new query clears. */
#define QUERY_CLEAR offsetof(struct query, seen)

/** The checks, in the order they run. */
enum family {
	FAM_SPLIT,
	FAM_EDITS,
	FAM_CONCAT,
	FAM_TOKENS,
	FAM_AFFIXES
};

/** How the query's suffix relates to the protected domain's. */
enum suffix_rel {
	SUFFIX_SAME,
	/** one edit away ("ml" for "mil", "om" for "com") */
	SUFFIX_TYPO,
	/** a country code, for a protected domain under a closed suffix */
	SUFFIX_CC,
	SUFFIX_OTHER
};

/**
 * How a query's suffix qs stands to a protected suffix ps.  A typo of
 * the whole suffix ("ml" for "mil", "om" for "com"), or the first labels
 * of a longer one ("co" for "co.uk"), is one slip.  For a closed suffix,
 * a country's second level ending in a typo of it ("com.ml") is as
 * strong; a bare country code ("mx") is the protected label moved to a
 * country; another country's closed second level ("mil.ng", "gov.uk")
 * is that government's own, and any other suffix ("co.uk", "org.za") is
 * only another place.
 */
static enum suffix_rel
suffix_relation_of(const char* qs, size_t qn, const char* ps, size_t pn,
	int closed)
{
	const char* s;
	if(dp_edit_find(qs, qn, ps, pn).kind != DP_EDIT_NONE)
		return SUFFIX_TYPO;
	if(!closed)
		return qn < pn && memcmp(qs, ps, qn) == 0 && ps[qn] == '.' ?
			SUFFIX_TYPO : SUFFIX_OTHER;
	for(s = qs + qn; s > qs && s[-1] != '.'; s--)
		;
	if(s == qs)
		return qn == 2 ? SUFFIX_CC : SUFFIX_OTHER;
	if(dp_closed_suffix(qs))
		return SUFFIX_OTHER;
	return dp_edit_find(s, (size_t)(qs + qn - s), ps, pn).kind !=
		DP_EDIT_NONE ? SUFFIX_TYPO : SUFFIX_OTHER;
}

static enum suffix_rel
suffix_relation(struct query* q, uint32_t sid)
{
	const struct dp_suffix* x = &q->p->suffixes[sid];
	uint32_t slot = sid % SUFFIX_MEMO;
	_Atomic uint8_t* shared = NULL;
	enum suffix_rel rel;
	if(sid == q->suffix_id)
		return SUFFIX_SAME;
	/* A label's domains share few suffixes, and queries share their
	 * suffixes: remember the answers, for the policy when the query's
	 * suffix is one of its own, else for the query. */
	if(q->p->suffix_rel && q->suffix_id != DP_NONE) {
		unsigned r;
		shared = &q->p->suffix_rel[(size_t)q->suffix_id *
			q->p->nsuffixes + sid];
		r = atomic_load_explicit(shared, memory_order_relaxed);
		if(r)
			return (enum suffix_rel)(r - 1);
	} else if(q->memo_suffix[slot] == sid + 1)
		return (enum suffix_rel)q->memo_rel[slot];
	rel = suffix_relation_of(q->suffix, q->suffix_len, q->p->strings +
		x->str, x->len, x->closed);
	if(shared)
		atomic_store_explicit(shared, (uint8_t)(rel + 1),
			memory_order_relaxed);
	else {
		q->memo_suffix[slot] = sid + 1;
		q->memo_rel[slot] = (uint8_t)rel;
	}
	return rel;
}

/** Evidence grows with the length of the protected label. */
static double
length_weight(size_t n)
{
	if(n >= 6)
		return 0.9;
	if(n == 5)
		return 0.85;
	if(n == 4)
		return 0.75;
	return 0.6;
}

/**
 * The evidence of one plain edit of a protected label of n characters.
 * A label of three letters or fewer has dozens of real neighbours one
 * edit away (nsa/ssa, mlb/mtb, uol/ual): one edit of it is too weak to
 * report.  A letter dropped, added or changed at the very start of the
 * label turns it into another word more often than people slip there
 * (mail, email and ymail next to gmail).
 */
static double
typo_weight(size_t n, const struct dp_edit* e, int tech)
{
	/* a hyphen or a look-alike character still stands out */
	if(n <= 3)
		return tech == DP_TECH_HYPHENATION || tech ==
			DP_TECH_HOMOGLYPH ? length_weight(n) : 0.45;
	if(e->pos == 0 && e->kind != DP_EDIT_TRANSPOSITION)
		return length_weight(n) - 0.1;
	return length_weight(n);
}

/** The score a candidate would get, with the query's own signals. */
static double
adjusted(const struct query* q, double score)
{
	if(q->fold_flags & DP_FOLD_IDN_INVALID)
		score += 0.05;
	if(q->fold_flags & DP_FOLD_MIXED_SCRIPT)
		score += 0.05;
	return score > 1.0 ? 1.0 : score;
}

/** A candidate's final score: the query's signals, and the cap of
 * protected domains under a closed suffix. */
static inline double
final_score(const struct query* q, int closed, uint32_t suffix, double score)
{
	score = adjusted(q, score);
	/* Nobody but the owner registers under .mil: whatever looks like
	 * army.mil under .mil itself is more likely a sibling than an
	 * impostor, and only worth a warning. */
	if(closed && suffix == q->suffix_id && score > 0.65)
		score = 0.65;
	return score;
}

/**
 * A candidate verdict on the first run, its score final: kept if the
 * strongest so far.  The winner's target is filled in at the end, so
 * that offering reads nothing of the protected domain.
 */
static inline void
offer_pid(struct query* q, uint32_t pid, double score, int technique)
{
	/* On a tie within one check, the longer brand is the more specific
	 * target (youtube, not tube, in youtube-tube.com). */
	if(score < q->v->score || (score == q->v->score && (q->win_pid ==
		DP_NONE || q->family != q->win_family ||
		q->p->prot[pid].label_len <=
		q->p->prot[q->win_pid].label_len)))
		return;
	q->v->score = score;
	q->v->technique = dp_technique_names[technique];
	q->win_tech = technique;
	q->win_pid = pid;
	q->win_family = q->family;
	/* the winner's record is read for its explanation */
	__builtin_prefetch(&q->p->prot[pid]);
}

/** A candidate verdict on the first run. */
static inline void
offer_score(struct query* q, const struct dp_prot* d, double score,
	int technique)
{
	offer_pid(q, (uint32_t)(d - q->p->prot), final_score(q, d->closed,
		d->suffix, score), technique);
}

/** Parts an explanation (for everyone) from the details of the match
 * (for --verbose) in an offer's format. */
#define DETAIL_SEP "\037"

/** The second run: word the winner's offer, and only that one. */
static void
offer_why(struct query* q, const struct dp_prot* d, double score,
	int technique, const char* fmt, ...)
#ifdef __GNUC__
	__attribute__((format(printf, 5, 6)))
#endif
	;

static void
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

/**
 * Offer a candidate verdict; the strongest one is kept.  On the first
 * run only its score counts, and the explanation's arguments are not
 * even evaluated.
 */
#define offer(q, d, score, technique, ...) do { \
		if(!(q)->explain) \
			offer_score((q), (d), (score), (technique)); \
		else \
			offer_why((q), (d), (score), (technique), __VA_ARGS__); \
	} while(0)

/** Score a change of the registered label, by the suffix relation. */
static double
typo_score(enum suffix_rel rel, double base)
{
	switch(rel) {
	case SUFFIX_SAME:
		return base;
	case SUFFIX_TYPO:
	case SUFFIX_CC:
		return base - 0.15;
	case SUFFIX_OTHER:
		break;
	}
	/* a slip in the label and another suffix: two changes */
	return base - 0.4;
}


/** Which of the two a change of suffix alone is. */
static int
swap_tech(enum suffix_rel rel, int closed)
{
	return rel == SUFFIX_TYPO && !closed ? DP_TECH_TLD_TYPO :
		DP_TECH_TLD_SWAP;
}

/**
 * The score of the very label under another suffix (a TLD swap or a
 * mistyped suffix), by how the suffixes relate; -1 under the same one.
 */
static double
swap_score(enum suffix_rel rel, int closed, size_t label_len)
{
	switch(rel) {
	case SUFFIX_SAME:
		return -1;
	case SUFFIX_TYPO:
		return closed ? 0.95 : 0.9;
	case SUFFIX_CC:
		/* dod.de is strong, af.de is one of many two-letter names */
		return label_len >= 4 ? 0.95 : label_len == 3 ? 0.85 : 0.6;
	case SUFFIX_OTHER:
		break;
	}
	/* An unrelated suffix: a namesake more often than not, worth a
	 * warning (dod.com, af.org.za), less for a short label. */
	return label_len >= 5 || closed ? 0.6 : 0.5;
}

/**
 * The edit from a protected label to the query's (ASCII) label, what
 * kind of mistake it is, and the base score of a typo of that label;
 * worked out once per label, the same for all its domains.
 */
static void
edit_of(struct query* q, uint32_t lid)
{
	const struct dp_label* l = &q->p->labels[lid];
	if(q->edit_lid == lid)
		return;
	q->edit = dp_edit_find(q->label, q->label_len, dp_label_text(q->p, l),
		l->len);
	q->edit_tech = dp_edit_technique(&q->edit, q->label, q->label_len,
		&q->edit_detail);
	/* A look-alike character whose strong skeleton is the protected
	 * label's own is as good as the label itself. */
	if(q->edit_tech == DP_TECH_NONE)
		q->edit_base = length_weight(l->len);
	else if(q->edit_tech == DP_TECH_HOMOGLYPH && same_str(
		q->fold.strong, q->fold.nstrong, q->p->strings + l->strong,
		l->nstrong))
		q->edit_base = 0.95;
	else
		q->edit_base = typo_weight(l->len, &q->edit, q->edit_tech);
	q->edit_lid = lid;
}

/** How the query's skeletons stand to a protected label's. */
enum skeleton_rel {
	/** the strong skeletons are the same */
	SKEL_SAME,
	/** one edit apart, and worth an offer (skel_base) */
	SKEL_NEAR,
	SKEL_FAR
};

/**
 * How the query's skeletons stand to a label's, and the evidence of a
 * near one; worked out once per label, the same for all its domains.
 * Every difference costs evidence, by what explains it:
 *  - all of them characters nobody tells apart (the strong skeletons are
 *    the same): SKEL_SAME;
 *  - all of them look-alikes, some only weak ones (b/d, n/m, c/e, g/q:
 *    the loose or flat skeletons are the same): the label's weight, 0.1
 *    less for each weak one after the first (g00glc, q00qle for google);
 *  - one of them a typo and the rest strong look-alikes (the strong
 *    skeletons are one edit apart): the label's weight, 0.2 less for
 *    every real change beyond the typo (dgii is dell after i/l twice and
 *    a typo; sco is cisco without "ci", read as "cl", read as "d");
 *  - weak look-alikes and a typo: two or more real changes (bbc and
 *    dell, imdb and intel, pobox and roblox are different names); only
 *    a long label (7 letters or more) two edits away keeps a warning.
 * An internationalised label is weighed on its UTS #39 skeleton: one
 * character off is 0.85.
 */
static enum skeleton_rel
skeleton_of(struct query* q, uint32_t lid)
{
	const struct dp_label* l = &q->p->labels[lid];
	const char* st = q->p->strings;
	const char* pl = dp_label_text(q->p, l);
	int loose_near, strong_near;
	if(q->skel_lid == lid)
		return q->skel;
	q->skel_lid = lid;
	if(same_str(q->fold.strong, q->fold.nstrong, st + l->strong,
		l->nstrong))
		return q->skel = SKEL_SAME;
	q->skel = SKEL_NEAR;
	strong_near = dp_edit_find(q->fold.strong, q->fold.nstrong,
		st + l->strong, l->nstrong).kind != DP_EDIT_NONE;
	if(q->fold_flags & DP_FOLD_UNICODE) {
		q->skel_base = 0.85;
		if(!strong_near && dp_edit_find(q->fold.loose, q->fold.nloose,
			st + l->loose, l->nloose).kind == DP_EDIT_NONE)
			q->skel = SKEL_FAR;
		return q->skel;
	}
	if(same_str(q->fold.loose, q->fold.nloose, st + l->loose,
		l->nloose) || same_str(q->fold.flat, q->fold.nflat, st + l->flat,
		l->nflat)) {
		unsigned w = dp_edit_distance(q->fold.strong, q->fold.nstrong,
			st + l->strong, l->nstrong, 4);
		q->skel_base = length_weight(l->len) - 0.1 * (w > 1 ? w - 1 : 0);
		return q->skel;
	}
	if(strong_near) {
		/* An escaped octet (army\000) is one odd character. */
		unsigned d = memchr(q->label, '\\', q->label_len) ? 1 :
			dp_edit_distance(q->label, q->label_len, pl, l->len, 4);
		q->skel_base = (l->len <= 3 ? 0.45 : length_weight(l->len)) -
			0.2 * (d > 1 ? d - 1 : 0);
		return q->skel;
	}
	loose_near = dp_edit_find(q->fold.loose, q->fold.nloose, st + l->loose,
		l->nloose).kind != DP_EDIT_NONE || dp_edit_find(q->fold.flat,
		q->fold.nflat, st + l->flat, l->nflat).kind != DP_EDIT_NONE;
	if(loose_near && l->len >= 7 && dp_edit_distance(q->label,
		q->label_len, pl, l->len, 2) <= 2)
		q->skel_base = 0.6;
	else
		q->skel = SKEL_FAR;
	return q->skel;
}

/** A protected label within one (folded) edit of the query's label. */
static void
consider_edit(struct query* q, uint32_t pid)
{
	const struct dp_prot* d = &q->p->prot[pid];
	const struct dp_label* l = &q->p->labels[d->label];
	const char* pname = q->p->strings + d->name;
	const char* pl = dp_label_text(q->p, l);
	const char* ps = q->p->strings + q->p->suffixes[d->suffix].str;
	enum suffix_rel rel;
	int unicode = (q->fold_flags & DP_FOLD_UNICODE) != 0;
	struct dp_edit e;
	const char* detail;
	int tech;
	enum skeleton_rel skel;
	double base;

	if(q->explain && pid != q->win_pid)
		return;
	rel = suffix_relation(q, d->suffix);

	if(!unicode) {
		/* The edit is the label's, the same for all its domains. */
		edit_of(q, d->label);
		e = q->edit;
		if(e.kind == DP_EDIT_SAME) {
			double sc = swap_score(rel, d->closed, d->label_len);
			if(rel == SUFFIX_SAME)
				return; /* the protected domain itself */
			if(swap_tech(rel, d->closed) == DP_TECH_TLD_TYPO)
				offer(q, d, sc, DP_TECH_TLD_TYPO, "%s is %s with the "
					"suffix mistyped: '%s' for '%s'",
					q->reg, pname, q->suffix, ps);
			else
				offer(q, d, sc, DP_TECH_TLD_SWAP, "%s is %s under "
					"'%s' instead of '%s'%s", q->reg, pname,
					q->suffix, ps, rel != SUFFIX_OTHER &&
					d->closed ? " (closed to the public)" :
					"");
			return;
		}
		if(e.kind != DP_EDIT_NONE) {
			char why[sizeof(q->v->why)];
			size_t w = 0;
			base = q->edit_base;
			tech = q->edit_tech;
			detail = q->edit_detail;
			if(!q->explain) {
				offer(q, d, typo_score(rel, base), tech, "-");
				return;
			}
			switch(e.kind) {
			case DP_EDIT_OMISSION:
				w = dp_format(why, sizeof(why), "'%.*s' is '%.*s' "
					"without the '%c' at position %zu",
					(int)q->label_len, q->label,
					(int)d->label_len, pl, e.from, e.pos + 1);
				break;
			case DP_EDIT_INSERTION:
				w = dp_format(why, sizeof(why), "'%.*s' is '%.*s' "
					"with '%c' added at position %zu",
					(int)q->label_len, q->label,
					(int)d->label_len, pl, e.to, e.pos + 1);
				break;
			case DP_EDIT_REPLACEMENT:
				w = dp_format(why, sizeof(why), "'%.*s' is '%.*s' "
					"with '%c' for '%c' at position %zu",
					(int)q->label_len, q->label,
					(int)d->label_len, pl, e.to, e.from,
					e.pos + 1);
				break;
			default:
				w = dp_format(why, sizeof(why), "'%.*s' is '%.*s' "
					"with '%c%c' swapped at position %zu",
					(int)q->label_len, q->label,
					(int)d->label_len, pl, e.from, e.to,
					e.pos + 1);
				break;
			}
			if(*detail)
				w += dp_format(why + w, sizeof(why) - w,
					" (%s)", detail);
			if(rel != SUFFIX_SAME)
				dp_format(why + w, sizeof(why) - w,
					", and suffix '%s' for '%s'", q->suffix,
					ps);
			offer(q, d, typo_score(rel, base), tech, "%s", why);
			return;
		}
	}
	/* Not one plain edit: compare the skeletons. */
	tech = unicode ? DP_TECH_IDN_CONFUSABLE : DP_TECH_HOMOGLYPH;
	skel = skeleton_of(q, d->label);
	if(skel == SKEL_SAME) {
		base = rel == SUFFIX_SAME ? 0.95 :
			rel == SUFFIX_OTHER ? 0.75 : 0.9;
		offer(q, d, base, tech, "%.*s looks like '%.*s'%s%s"
			DETAIL_SEP "skeleton '%.*s'", (int)q->label_len,
			q->label, (int)d->label_len, pl, (q->fold_flags &
			DP_FOLD_MIXED_SCRIPT) ? ", mixing scripts" : "",
			rel == SUFFIX_SAME ? "" : ", under another suffix",
			(int)l->nstrong, q->p->strings + l->strong);
		return;
	}
	if(skel == SKEL_FAR)
		return;
	offer(q, d, typo_score(rel, q->skel_base), tech, "%.*s looks like "
		"'%.*s' but for one character" DETAIL_SEP "skeletons '%.*s' "
		"and '%.*s'",
		(int)q->label_len, q->label, (int)d->label_len, pl,
		(int)q->fold.nloose, q->fold.loose, (int)l->nloose,
		q->p->strings + l->loose);
}

/**
 * The best score any domain of a label could get for the query: the
 * label's own relation under the most favourable suffix.
 */
static double
label_bound(struct query* q, uint32_t lid)
{
	const struct dp_label* l = &q->p->labels[lid];
	if(!(q->fold_flags & DP_FOLD_UNICODE)) {
		edit_of(q, lid);
		if(q->edit.kind == DP_EDIT_SAME)
			return adjusted(q, 0.95);
		/* a typo scores its base under the same suffix, less under
		 * others */
		if(q->edit.kind != DP_EDIT_NONE)
			return adjusted(q, q->edit_base);
	}
	if(same_str(q->fold.strong, q->fold.nstrong, q->p->strings + l->strong,
		l->nstrong))
		return adjusted(q, 0.95);
	return adjusted(q, (q->fold_flags & DP_FOLD_UNICODE) ? 0.85 :
		length_weight(l->len));
}

/** Call fn for every value stored under a hash. */
static void
lookup_hash(struct query* q, uint64_t h,
	void (*fn)(struct query*, uint32_t, void*), void* arg)
{
	struct dp_index_iter it;
	uint32_t val;
	if(!dp_index_find(&q->p->index, h, &it))
		return;
	while(dp_index_next(&it, &val))
		fn(q, val, arg);
}

/** What a label lookup passes on to each of the label's domains. */
struct label_arg {
	const char* key;
	size_t n;
	void (*fn)(struct query*, uint32_t, void*);
	void* arg;
};

static void
label_cb(struct query* q, uint32_t lid, void* arg)
{
	const struct label_arg* la = arg;
	const struct dp_label* l;
	uint32_t i;
	if(lid >= q->p->nlabels)
		return;
	l = &q->p->labels[lid];
	if(!same_str(dp_label_text(q->p, l), l->len, la->key, la->n))
		return; /* a hash collision */
	for(i = l->first; i < l->first + l->n; i++)
		la->fn(q, i, la->arg);
}

/** Call fn for the domains whose label is key, whose polynomial is raw. */
static void
lookup_label_raw(struct query* q, const char* key, size_t n, uint64_t raw,
	void (*fn)(struct query*, uint32_t, void*), void* arg)
{
	struct label_arg la;
	la.key = key;
	la.n = n;
	la.fn = fn;
	la.arg = arg;
	lookup_hash(q, dp_key_fin(DP_KEY_LABEL, n, raw), label_cb, &la);
}

/** Call fn for every protected domain whose registered label is key. */
static void
lookup_label(struct query* q, const char* key, size_t n,
	void (*fn)(struct query*, uint32_t, void*), void* arg)
{
	lookup_label_raw(q, key, n, dp_key_raw(key, n), fn, arg);
}

/**
 * Start the lookups of k hashes at once, so that their memory latencies
 * overlap instead of adding up: the buckets of all of them first.
 * @param it: room for k iterators, filled for the hashes that may be
 *	present.
 * @param which: room for k numbers: which hash each iterator is for.
 * @return how many may be present.
 */
static size_t
find_batch(const struct dp_index* ix, const uint64_t* h, size_t k,
	struct dp_index_iter* it, uint16_t* which)
{
	size_t i, np = 0;
	for(i = 0; i < k; i++)
		dp_index_prefetch(ix, h[i]);
	for(i = 0; i < k; i++)
		if(dp_index_find(ix, h[i], &it[np]))
			which[np++] = (uint16_t)i;
	return np;
}

/** Weigh a label within one (folded) edit of the query's, then, if it
 * could win, each of its domains. */
static void
weigh_label(struct query* q, uint32_t lid)
{
	const struct dp_label* l = &q->p->labels[lid];
	uint32_t i, best = DP_NONE;
	double top = q->v->score;
	int tech = DP_TECH_NONE;
	/* A label that cannot beat the best so far, whatever its domains'
	 * suffixes, is not worth weighing domain by domain. */
	if(label_bound(q, lid) <= q->v->score)
		return;
	if((q->fold_flags & DP_FOLD_UNICODE) || q->edit.kind == DP_EDIT_NONE) {
		/* Skeletons to compare: the label's own, so a label whose
		 * skeletons are not near the query's is done with at once,
		 * not once per domain; the others domain by domain. */
		if(skeleton_of(q, lid) == SKEL_FAR)
			return;
		for(i = l->first; i < l->first + l->n; i++)
			consider_edit(q, i);
		return;
	}
	/* One plain edit of an ASCII label: a domain's score depends only
	 * on its suffix, read from the compact table; the first of the
	 * best is offered, as weighing them one by one would. */
	for(i = l->first; i < l->first + l->n; i++) {
		uint32_t sid = q->p->prot_suffix[i];
		enum suffix_rel rel = suffix_relation(q, sid);
		int closed = q->p->suffixes[sid].closed;
		double sc = q->edit.kind == DP_EDIT_SAME ? swap_score(rel,
			closed, l->len) : typo_score(rel, q->edit_base);
		if(sc < 0)
			continue;
		sc = final_score(q, closed, sid, sc);
		if(sc > top) {
			top = sc;
			best = i;
			tech = q->edit.kind != DP_EDIT_SAME ? q->edit_tech :
				swap_tech(rel, closed);
		}
	}
	if(best != DP_NONE)
		offer_pid(q, best, top, tech);
}

/** Candidate labels fetched together before they are weighed. */
#define EDIT_BATCH 32

/** Weigh a batch of candidate labels: their records were asked for when
 * they were found; ask for their domains' suffixes (and long labels'
 * text), then weigh. */
static void
weigh_batch(struct query* q, const uint32_t* lid, size_t n)
{
	size_t i;
	for(i = 0; i < n; i++) {
		const struct dp_label* l = &q->p->labels[lid[i]];
		const uint32_t* d = &q->p->prot_suffix[l->first];
		const uint32_t* e = d + l->n;
		if(l->len >= DP_LABEL_HEAD)
			__builtin_prefetch(q->p->strings + l->str);
		/* the suffixes of the label's domains, up to 4 lines */
		for(; d < e && d < &q->p->prot_suffix[l->first] + 64; d += 16)
			__builtin_prefetch(d);
	}
	for(i = 0; i < n; i++)
		weigh_label(q, lid[i]);
}

/**
 * Ask for the records the later checks will read (the labels their
 * tokens and keywords find, the name records of their affixes), so that
 * they come in while the edits are weighed.  Their buckets were asked
 * for with the edits' own.
 */
static void
warm_later(const struct query* q)
{
	const struct dp_policy* p = q->p;
	struct dp_index_iter it;
	uint32_t val;
	size_t i;
	for(i = 0; i < q->ntok_h; i++)
		if(dp_index_find(&p->index, q->tok_h[i], &it))
			while(dp_index_next(&it, &val))
				if(val < p->nlabels)
					__builtin_prefetch(&p->labels[val]);
	for(i = 0; i < q->naffix; i++)
		if(dp_index_find(&p->index, q->affix_h[i], &it))
			while(dp_index_next(&it, &val)) {
				if(q->affix_look[i].label && val < p->nlabels)
					__builtin_prefetch(&p->labels[val]);
				else if(!q->affix_look[i].label &&
					val < p->nnames)
					__builtin_prefetch(&p->names[val]);
			}
}

/** Typos, homoglyphs, TLD swaps: the deletion neighbourhoods of the
 * flat and loose folds.  Every candidate label is weighed once, in the
 * order its keys were found. */
static void
check_edits(struct query* q)
{
	struct dp_index_iter it[2 * DP_DEL_KEYS];
	uint16_t which[2 * DP_DEL_KEYS];
	uint32_t batch[EDIT_BATCH];
	size_t i, np, nb = 0;
	if(q->explain) {
		/* Only the winner is worded, and it is known. */
		consider_edit(q, q->win_pid);
		return;
	}
	np = find_batch(&q->p->index, q->del_h, q->ndel, it, which);
	for(i = 0; i < np; i++) {
		uint32_t val, qpos = q->del_pos[which[i]];
		while(dp_index_next(&it[i], &val)) {
			uint32_t lid = DP_DEL_LABEL(val), ipos = DP_DEL_POS(val);
			size_t j;
			if(lid >= q->p->nlabels)
				continue;
			/* Deletions at positions more than one apart: two
			 * edits. */
			if(ipos != DP_DEL_NONE && qpos != DP_DEL_NONE &&
				(ipos > qpos + 1 || qpos > ipos + 1))
				continue;
			/* Several deletions lead to the same label. */
			for(j = 0; j < q->nseen; j++)
				if(q->seen[j] == lid)
					break;
			if(j < q->nseen)
				continue;
			if(q->nseen < sizeof(q->seen) / sizeof(q->seen[0]))
				q->seen[q->nseen++] = lid;
			__builtin_prefetch(&q->p->labels[lid]);
			batch[nb++] = lid;
			if(nb == EDIT_BATCH) {
				weigh_batch(q, batch, nb);
				nb = 0;
			}
		}
	}
	warm_later(q);
	weigh_batch(q, batch, nb);
}

/** The deletion keys of the flat and loose folds; their buckets are
 * asked for. */
static void
prepare_edits(struct query* q)
{
	size_t i;
	q->ndel = dp_key_deletions(q->fold.flat, q->fold.nflat, q->del_h,
		q->del_pos);
	if(!same_str(q->fold.loose, q->fold.nloose, q->fold.flat,
		q->fold.nflat))
		q->ndel += dp_key_deletions(q->fold.loose, q->fold.nloose,
			q->del_h + q->ndel, q->del_pos + q->ndel);
	for(i = 0; i < q->ndel; i++)
		dp_index_prefetch(&q->p->index, q->del_h[i]);
}

/** What a concatenation hit means. */
struct concat_arg {
	/** the label alone was the concatenation ("armymil"), not
	 * label + suffix ("googlec" + "om") */
	int label_only;
	/** the key looked up */
	const char* key;
	size_t n;
};

static void
concat_cb(struct query* q, uint32_t pid, void* arg)
{
	const struct concat_arg* ca = arg;
	const struct dp_prot* d;
	const char* pname;
	char flat[DP_NAME_MAX];
	size_t n;
	if(pid >= q->p->nprot)
		return;
	d = &q->p->prot[pid];
	pname = q->p->strings + d->name;
	n = flatten(pname + d->label_off, strlen(pname + d->label_off), flat);
	if(!same_str(flat, n, ca->key, ca->n))
		return; /* a hash collision */
	if(ca->label_only) {
		const struct dp_suffix* x = &q->p->suffixes[d->suffix];
		double sc = d->label_len >= 4 ? 0.85 : 0.8;
		/* A name glued to "com" or "net" is a business name more
		 * often than a lost dot (intelcom, telecom, unicom): only a
		 * long brand that is no word (paypalcom) is worth a
		 * warning.  A hyphen for the dot, a closed suffix (armymil)
		 * or a longer one (bbccouk) stays strong. */
		if(!x->closed && !memchr(q->p->strings + x->str, '.', x->len) &&
			!memchr(q->label, '-', q->label_len))
			sc = d->label_len >= 6 && !(q->p->labels[d->label].flags &
				DP_LABEL_WORD) ? 0.6 : 0.45;
		offer(q, d, sc, DP_TECH_MISSING_DOT,
			"%.*s is %s with its dot%s dropped", (int)q->label_len,
			q->label, pname, memchr(q->label, '-', q->label_len) ?
			" turned into a hyphen or" : "");
		return;
	}
	/* "ar-my.mil" flattens like "army.mil" but its dot has not
	 * moved: that is a hyphenation, for the edit check. */
	if(q->label_len == d->label_len || flatten(q->label, q->label_len,
		flat) == d->label_len)
		return;
	offer(q, d, 0.9, DP_TECH_TLD_TYPO, "%s is %s with the dot shifted",
		q->reg, pname);
}

/** Shifted dots and dropped dots: the concatenation keys. */
static void
check_concat(struct query* q)
{
	struct concat_arg ca;
	ca.label_only = 1;
	ca.key = q->concat;
	ca.n = q->concat_n[0];
	lookup_hash(q, q->concat_h[0], concat_cb, &ca);
	ca.label_only = 0;
	ca.n = q->concat_n[1];
	lookup_hash(q, q->concat_h[1], concat_cb, &ca);
}

/** The concatenation keys: the label without its dots and hyphens, then
 * with its suffix glued on; their filter blocks are asked for. */
static void
prepare_concat(struct query* q)
{
	size_t n = flatten(q->label, q->label_len, q->concat);
	q->concat_n[0] = n;
	q->concat_h[0] = dp_key_hash(DP_KEY_CONCAT, q->concat, n);
	n += flatten(q->suffix, q->suffix_len, q->concat + n);
	q->concat_n[1] = n;
	q->concat_h[1] = dp_key_hash(DP_KEY_CONCAT, q->concat, n);
	dp_index_prefetch(&q->p->index, q->concat_h[0]);
	dp_index_prefetch(&q->p->index, q->concat_h[1]);
}

struct embed_arg {
	const struct token* tok;
	size_t ntok, i;
	/** tokens [label_tok, suffix_tok) are the registered label's */
	size_t label_tok, suffix_tok;
	/** token i is in the registered label, not a subdomain */
	int in_label;
	/** the other tokens: how many are keywords, how many not; worked
	 * out for the first domain that needs them (NOT_COUNTED before) */
	size_t kw, other;
	/** token i matched with its digits read as letters (amaz0n) */
	int leet;
};

#define NOT_COUNTED ((size_t)-1)

/** A brand token: with its suffix after it, or with a keyword. */
static void
embed_cb(struct query* q, uint32_t pid, void* arg)
{
	struct embed_arg* ea = arg;
	const struct dp_prot* d = &q->p->prot[pid];
	const char* pname = q->p->strings + d->name;
	/* The suffix from the shared table, which stays in the cache,
	 * rather than from the domain's own name. */
	const struct dp_suffix* x = &q->p->suffixes[d->suffix];
	const char* ps = q->p->strings + x->str;
	const struct token* t = ea->tok;
	size_t j = ea->i + 1, k = 0, plen = x->len;
	int same = d->suffix == q->suffix_id;
	int word = (q->p->labels[d->label].flags & DP_LABEL_WORD) != 0;
	double s;

	/* Does the protected suffix follow, as tokens ("army" "mil")? */
	while(j < ea->ntok && k < plen) {
		if(t[j].n > plen - k || memcmp(t[j].s, ps + k, t[j].n) != 0)
			break;
		k += t[j].n;
		if(k < plen && ps[k] == '.')
			k++;
		j++;
	}
	/* The protected name's own labels, before the name's suffix
	 * (paypal.com.evil.net, login-paypal-com.net).  A label that only
	 * ends in the brand before the very suffix (python-office.com) is
	 * a brand and a word, below. */
	if(k == plen && j <= ea->suffix_tok) {
		if(ea->i == ea->label_tok && j == ea->suffix_tok &&
			j + 1 == ea->ntok)
			offer(q, d, 0.85, DP_TECH_MISSING_DOT, "%.*s is %s with its "
				"dot turned into a hyphen", (int)q->label_len,
				q->label, pname);
		else
			offer(q, d, 0.9, DP_TECH_TARGET_EMBEDDING, "%s contains %s",
				q->name, pname);
		return;
	}
	/* A brand spelled with look-alike digits among other words is a
	 * disguise nobody needs for a name of their own (amaz0n-aws.com,
	 * facebo0k-login.com). */
	if(ea->leet) {
		offer(q, d, length_weight(d->label_len) - 0.05,
			DP_TECH_COMBO_SQUATTING, "%s is %.*s, written with "
			"look-alike "
			"digits, plus other words", q->name, (int)d->label_len,
			pname + d->label_off);
		return;
	}
	if(!ea->in_label && (!same || word))
		return; /* "army.example.net", "office.example.com": a word */
	if(ea->kw == NOT_COUNTED) {
		/* The same for every domain of the token's label.  Words of
		 * the suffix are none; a brand in the registered label
		 * counts only that label's words, since a site's host
		 * labels (support.yahoo-inc.com) say nothing of a lure. */
		ea->kw = ea->other = 0;
		for(j = ea->in_label ? ea->label_tok : 0; j < ea->suffix_tok;
			j++) {
			if(j == ea->i)
				continue;
			if(is_keyword(t[j].s, t[j].n))
				ea->kw++;
			else
				ea->other++;
		}
	}
	if(ea->kw + ea->other == 0)
		return;
	if(ea->kw) {
		s = length_weight(d->label_len) - 0.05;
		offer(q, d, s, DP_TECH_COMBO_SQUATTING, "%s is %.*s plus %s",
			q->name, (int)d->label_len, pname + d->label_off,
			ea->kw > 1 ? "keywords" : "a keyword");
		return;
	}
	/* Brand and another word: a namesake unless under the very suffix
	 * (python-office.com: a combo-squat at most, a warning), or unless
	 * the brand is no word and comes hyphenated into the registered
	 * label (usa-usps.shop). */
	if(same)
		offer(q, d, 0.55, DP_TECH_COMBO_SQUATTING, "%s is %.*s plus a "
			"word, under %s's own suffix", q->name, (int)d->label_len,
			pname + d->label_off, pname);
	else if(!word && ea->in_label && d->label_len >= 4)
		offer(q, d, 0.5, DP_TECH_COMBO_SQUATTING, "%s is %.*s plus a word",
			q->name, (int)d->label_len, pname + d->label_off);
}

/**
 * A token with digits among its letters read as letters (0 o, 1 l, 3 e,
 * 4 a, 5 s, 7 t, 8 b), as a brand written with look-alike digits in a
 * longer name (amaz0n-aws, facebo0k-login) reads.
 * @param out: LEET_MAX bytes.
 * @return 1 if the token has such digits and letters, and no other digit.
 */
static int
read_leet(const char* s, size_t n, char* out)
{
	static const char from[] = "0134578", to[] = "oleastb";
	size_t i;
	int digit = 0, letter = 0;
	if(n < 4 || n >= LEET_MAX)
		return 0;
	for(i = 0; i < n; i++) {
		const char* d = s[i] >= '0' && s[i] <= '9' ? strchr(from, s[i]) :
			NULL;
		if(s[i] >= '0' && s[i] <= '9' && !d)
			return 0;
		if(d) {
			out[i] = to[d - from];
			digit = 1;
		} else {
			out[i] = s[i];
			letter |= s[i] >= 'a' && s[i] <= 'z';
		}
	}
	return digit && letter;
}

/**
 * Split the name at dots and hyphens into tokens, up to and with the
 * suffix's own labels (so "army" can be followed by "mil"), and hash
 * those looked up as brands; their buckets are asked for.
 */
static void
prepare_tokens(struct query* q)
{
	struct token* tok = q->tok;
	size_t ntok = 0, i;
	const char* s = q->name;
	const char* end = q->suffix - 1; /* the dot before the suffix */
	q->label_tok = 0;
	while(s < end && ntok < MAX_TOKENS) {
		const char* e = s;
		while(e < end && *e != '.' && *e != '-')
			e++;
		if(s == q->label)
			q->label_tok = ntok;
		if(e > s) {
			tok[ntok].s = s;
			tok[ntok].n = (size_t)(e - s);
			tok[ntok].label_end = (e == end || *e == '.');
			ntok++;
		}
		s = e + 1;
	}
	q->suffix_tok = ntok;
	s = q->suffix;
	while(*s && ntok < MAX_TOKENS) {
		const char* e = strchr(s, '.');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		tok[ntok].s = s;
		tok[ntok].n = n;
		tok[ntok].label_end = 1;
		ntok++;
		if(!e)
			break;
		s = e + 1;
	}
	q->ntok = ntok;
	q->ntok_h = 0;
	if(ntok < 2)
		return;
	q->nleet = 0;
	for(i = 0; i < ntok && tok[i].s < q->suffix; i++) {
		/* A token equal to the whole label is a typo or TLD
		 * matter, handled by the edit check. */
		if(tok[i].s == q->label && tok[i].n == q->label_len)
			continue;
		q->tok_which[q->ntok_h] = (uint8_t)i;
		q->tok_key[q->ntok_h] = tok[i].s;
		q->tok_h[q->ntok_h] = dp_key_hash(DP_KEY_LABEL, tok[i].s,
			tok[i].n);
		dp_index_prefetch(&q->p->index, q->tok_h[q->ntok_h]);
		q->ntok_h++;
		if(q->nleet < LEET_TOKENS && read_leet(tok[i].s, tok[i].n,
			q->leet[q->nleet])) {
			q->tok_which[q->ntok_h] = (uint8_t)i;
			q->tok_key[q->ntok_h] = q->leet[q->nleet];
			q->tok_h[q->ntok_h] = dp_key_hash(DP_KEY_LABEL,
				q->leet[q->nleet], tok[i].n);
			dp_index_prefetch(&q->p->index, q->tok_h[q->ntok_h]);
			q->ntok_h++;
			q->nleet++;
		}
	}
}

/** Brand embedding and combo-squatting, on the tokens of prepare_tokens. */
static void
check_tokens(struct query* q)
{
	struct dp_index_iter it[MAX_TOKENS + LEET_TOKENS];
	uint16_t which[MAX_TOKENS + LEET_TOKENS];
	struct embed_arg ea;
	size_t np, j;
	ea.tok = q->tok;
	ea.ntok = q->ntok;
	ea.label_tok = q->label_tok;
	ea.suffix_tok = q->suffix_tok;
	np = find_batch(&q->p->index, q->tok_h, q->ntok_h, it, which);
	for(j = 0; j < np; j++) {
		const struct token* t = &q->tok[q->tok_which[which[j]]];
		struct label_arg la;
		uint32_t val;
		ea.i = q->tok_which[which[j]];
		ea.in_label = t->s >= q->label;
		ea.kw = ea.other = NOT_COUNTED;
		la.key = q->tok_key[which[j]];
		ea.leet = la.key != t->s;
		la.n = t->n;
		la.fn = embed_cb;
		la.arg = &ea;
		while(dp_index_next(&it[j], &val))
			label_cb(q, val, &la);
	}
}

struct affix_arg {
	/** the rest of the label, besides the brand */
	const char* rest;
	size_t rest_n;
	/** the brand */
	const char* brand;
	size_t brand_n;
	/** the rest comes before the brand */
	int before;
	/** the length of the keyword next to the brand in the rest
	 * (glued_keyword), worked out by the first domain that needs it
	 * and kept for the others (KW_UNKNOWN before) */
	size_t kw_n;
};

#define KW_UNKNOWN ((size_t)-1)

/**
 * The keyword next to the brand in the rest of a glued label: the whole
 * rest, or the longest keyword of 4 letters or more it starts with
 * (brand first: yahoo+mail+customersupport) or ends with (rest first);
 * shorter ones (id, my, app) begin and end too many words.
 * @return its length, or 0.
 */
static inline int is_keyword_raw(const struct query* q, const char* s,
	size_t n, uint64_t raw);

static size_t
glued_keyword(const struct query* q, const char* rest, size_t n, int before)
{
	uint64_t raw = 0, pw = 1;
	size_t k, best = 0;
	if(is_keyword(rest, n))
		return n;
	/* the polynomials (dp_key_raw) of the rest's first or last k
	 * characters, one character at a time; a keyword is at most 12 */
	for(k = 1; k < n && k <= 12; k++) {
		if(!before)
			raw = raw * DP_HASH_B + (uint64_t)(unsigned char)
				rest[k - 1] + 1;
		else {
			raw += ((uint64_t)(unsigned char)rest[n - k] + 1) * pw;
			pw *= DP_HASH_B;
		}
		if(k >= 4 && is_keyword_raw(q, before ? rest + n - k : rest, k,
			raw))
			best = k;
	}
	return best;
}

static void
affix_cb(struct query* q, uint32_t pid, void* arg)
{
	struct affix_arg* aa = arg;
	const struct dp_prot* d = &q->p->prot[pid];
	const char* pname = q->p->strings + d->name;
	int same = d->suffix == q->suffix_id;
	size_t k;
	double s;
	if(aa->before && same) {
		/* "wwwarmy.mil", "financecorpudyne.com", "ausintel.com": a
		 * subdomain whose dot was lost.  Before a brand of fewer
		 * than 8 letters, a longer prefix that is no host name is
		 * more likely a word ("purchase" is not pur.chase.com,
		 * "googlegroups" not googlegro.ups.com); a short one is a
		 * site's or a country's host label (aus.intel.com, the
		 * "doppelganger" domains), worth a warning, and so is any
		 * under a closed suffix, where only the owner registers. */
		double sc = in_list(host_words, sizeof(host_words) /
			sizeof(host_words[0]), aa->rest, aa->rest_n) ? 0.85 :
			d->label_len >= 8 ? 0.8 : (aa->rest_n <= 3 ||
			d->closed) && !is_keyword(aa->rest, aa->rest_n) ?
			0.55 : -1;
		if(sc > 0) {
			offer(q, d, sc, DP_TECH_MISSING_DOT, "%.*s is %.*s.%s with "
				"the dot dropped", (int)q->label_len, q->label,
				(int)aa->rest_n, aa->rest, pname);
			return;
		}
	}
	if(aa->kw_n == KW_UNKNOWN)
		aa->kw_n = glued_keyword(q, aa->rest, aa->rest_n,
			aa->before);
	if((k = aa->kw_n) != 0) {
		/* Glued to a keyword, under an open suffix, is how brands
		 * name their own other domains (googlemail,
		 * microsoftonline, amazonservices): a warning at most,
		 * unless the keyword is a lure. */
		const char* kw = aa->before ? aa->rest + aa->rest_n - k :
			aa->rest;
		s = length_weight(d->label_len) - 0.05;
		if(!d->closed && s > 0.75 && !in_list(lures, sizeof(lures) /
			sizeof(lures[0]), kw, k))
			s = 0.75;
		offer(q, d, s, DP_TECH_COMBO_SQUATTING, "%.*s is '%.*s' plus the "
			"keyword '%.*s'%s", (int)q->label_len, q->label,
			(int)d->label_len, pname + d->label_off, (int)k, kw,
			k < aa->rest_n ? " and more" : "");
		return;
	}
	/* A brand glued to any other word under its own suffix: a warning
	 * (paypalobjects, pineapple), for a brand of 4 letters or more
	 * (shorter ones are inside too many words: ups in backups), or any
	 * under a closed suffix (afblue.mil). */
	if(same && (d->closed || d->label_len >= 4))
		offer(q, d, 0.55, DP_TECH_COMBO_SQUATTING, "%.*s is '%.*s' plus "
			"'%.*s', under %s's own suffix", (int)q->label_len,
			q->label, (int)d->label_len, pname + d->label_off,
			(int)aa->rest_n, aa->rest, pname);
}

/** The filter bit of a brand, from its polynomial (dp_key_raw) and
 * length. */
static inline uint64_t
affix_bit(const struct dp_policy* p, uint64_t raw, size_t n)
{
	return (((raw ^ ((uint64_t)n << 56)) * 0x9e3779b97f4a7c15ULL) >> 20) &
		p->affix_mask;
}

/** Whether the brand with polynomial raw and length n could be a
 * protected label that starts its name. */
static inline int
affix_maybe(const struct dp_policy* p, uint64_t raw, size_t n)
{
	uint64_t b;
	if(!p->affix_bits)
		return 1;
	b = affix_bit(p, raw, n);
	return (p->affix_bits[b >> 6] >> (b & 63)) & 1;
}

void
dp_keywords_index(struct dp_policy* p)
{
	size_t i;
	memset(p->kw_hash, 0, sizeof(p->kw_hash));
	memset(p->kw_word, 0, sizeof(p->kw_word));
	for(i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		uint64_t h = dp_key_hash(DP_KEY_WORD, keywords[i].s,
			keywords[i].n);
		size_t k = (size_t)h & (DP_KW_SLOTS - 1);
		while(p->kw_hash[k])
			k = (k + 1) & (DP_KW_SLOTS - 1);
		p->kw_hash[k] = h;
		p->kw_word[k] = (uint8_t)i;
	}
}

/** The keyword filter bit of s: its length, first and last bytes. */
static inline unsigned
kw_bit(const char* s, size_t n)
{
	return (unsigned)(n * 977 + (unsigned char)s[0] * 31 +
		(unsigned char)s[n - 1]) & (DP_KW_FILTER_BITS - 1);
}

dp_status
dp_affix_init(struct dp_policy* p)
{
	uint64_t bits = 1u << 16;
	size_t i;
	while(bits < ((uint64_t)1 << 30) && bits < (uint64_t)p->nprot * 16)
		bits <<= 1;
	free(p->affix_bits);
	free(p->prot_suffix);
	free((void*)p->suffix_rel);
	p->suffix_rel = NULL;
	if(p->nsuffixes <= DP_SUFFIX_REL_MAX && !(p->suffix_rel = calloc(
		(size_t)p->nsuffixes * p->nsuffixes + 1, 1)))
		return DP_ERR_NOMEM;
	p->prot_suffix = malloc(((size_t)p->nprot + 1) *
		sizeof(*p->prot_suffix));
	if(!(p->affix_bits = calloc(bits / 64, sizeof(uint64_t))) ||
		!p->prot_suffix)
		return DP_ERR_NOMEM;
	for(i = 0; i < p->nprot; i++)
		p->prot_suffix[i] = p->prot[i].suffix;
	p->has_ours = 0;
	for(i = 0; i < p->nnames && !p->has_ours; i++)
		p->has_ours = (p->names[i].flags & DP_NAME_OURS) != 0;
	p->affix_mask = bits - 1;
	for(i = 0; i < p->nprot; i++) {
		const struct dp_prot* d = &p->prot[i];
		uint64_t b;
		if(d->label_off != 0 || d->label_len == 0)
			continue;
		b = affix_bit(p, dp_key_raw(p->strings + d->name,
			d->label_len), d->label_len);
		p->affix_bits[b >> 6] |= (uint64_t)1 << (b & 63);
	}
	memset(p->kw_filter, 0, sizeof(p->kw_filter));
	for(i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		unsigned b = kw_bit(keywords[i].s, keywords[i].n);
		p->kw_filter[b >> 6] |= (uint64_t)1 << (b & 63);
	}
	return DP_OK;
}

/** Whether s (whose polynomial is raw) is a keyword: one probe of the
 * policy's small keyword table, which stays in the CPU's cache. */
static inline int
is_keyword_raw(const struct query* q, const char* s, size_t n, uint64_t raw)
{
	const struct dp_policy* p = q->p;
	uint64_t h;
	size_t i;
	if(n == 0)
		return 0;
	if(p->affix_bits) {
		unsigned b = kw_bit(s, n);
		if(!((p->kw_filter[b >> 6] >> (b & 63)) & 1))
			return 0;
	}
	h = dp_key_fin(DP_KEY_WORD, n, raw);
	i = (size_t)h & (DP_KW_SLOTS - 1);
	while(q->p->kw_hash[i]) {
		if(q->p->kw_hash[i] == h) {
			const struct word* w = &keywords[q->p->kw_word[i]];
			return same_str(w->s, w->n, s, n);
		}
		i = (i + 1) & (DP_KW_SLOTS - 1);
	}
	return 0;
}

/** A listed name found for an affix: its protected domain, if any. */
static void
affix_name_cb(struct query* q, uint32_t idx, void* arg)
{
	const struct affix_arg* aa = arg;
	const struct dp_namerec* r;
	const struct dp_prot* d;
	const char* name;
	if(idx >= q->p->nnames)
		return;
	r = &q->p->names[idx];
	if(!(r->flags & DP_NAME_PROTECTED))
		return;
	d = &q->p->prot[r->pid];
	name = q->p->strings + r->name;
	/* verify: the brand, a dot, the query's suffix */
	if(d->suffix != q->suffix_id || d->label_off != 0 ||
		d->label_len != aa->brand_n ||
		memcmp(name, aa->brand, aa->brand_n) != 0)
		return;
	affix_cb(q, r->pid, arg);
}

/*
 * A brand glued to a word without a hyphen: prefixes and suffixes.  A
 * brand with a keyword is looked up by label, under any suffix; a brand
 * with any other word only under the query's own suffix, as a whole
 * protected name ("financecorpudyne.com": corpudyne.com), so words that
 * merely contain a brand cost a filter probe and nothing more.  The
 * polynomials of all of them come from two passes over the label.
 */
/**
 * The polynomials of the label's prefixes and suffixes, for
 * check_affixes; the affix filter's words for them are asked for.
 */
static void
prepare_affixes(struct query* q)
{
	const char* s = q->label;
	size_t n = q->label_len, i;
	uint64_t pw = 1;
	if(n < 4 || n >= AFFIX_MAX)
		return;
	q->pre[0] = 0;
	for(i = 0; i < n; i++)
		q->pre[i + 1] = q->pre[i] * DP_HASH_B +
			(uint64_t)(unsigned char)s[i] + 1;
	q->suf[0] = 0;
	for(i = 1; i <= n; i++) {
		q->suf[i] = q->suf[i - 1] + ((uint64_t)(unsigned char)
			s[n - i] + 1) * pw;
		pw *= DP_HASH_B;
	}
	if(!q->p->affix_bits)
		return;
	for(i = 2; i + 1 < n; i++) {
		__builtin_prefetch(&q->p->affix_bits[affix_bit(q->p,
			q->pre[i], i) >> 6]);
		__builtin_prefetch(&q->p->affix_bits[affix_bit(q->p,
			q->suf[i], i) >> 6]);
	}
}

#define ADD_LOOK(hash, bn, bf, lb) do { \
		h[nl] = (hash); \
		look[nl].brand_n = (uint8_t)(bn); \
		look[nl].before = (bf); \
		look[nl].label = (lb); \
		nl++; \
	} while(0)

/**
 * The affix lookups, in the order they are weighed: a brand and a
 * keyword by label, a brand and another word as a whole name under the
 * query's suffix (when the affix filter lets it through); their buckets
 * are asked for.
 */
static void
prepare_affix_keys(struct query* q)
{
	const char* s = q->label;
	size_t n = q->label_len, i, nl = 0;
	const uint64_t *pre = q->pre, *suf = q->suf;
	uint64_t *h = q->affix_h, dotsfx, sfxpw;
	struct affix_look* look = q->affix_look;
	q->naffix = 0;
	if(n < 4 || n >= AFFIX_MAX)
		return;
	/* brand + "." + suffix = raw(brand) * B^(1 + |suffix|) + raw(".suffix") */
	dotsfx = dp_key_raw(q->suffix - 1, q->suffix_len + 1);
	for(sfxpw = 1, i = 0; i <= q->suffix_len; i++)
		sfxpw *= DP_HASH_B;
	for(i = 2; i + 1 < n; i++) {
		/* brand + rest */
		if(s[i] != '-' && s[i - 1] != '-') {
			if(is_keyword_raw(q, s + i, n - i, suf[n - i]))
				ADD_LOOK(dp_key_fin(DP_KEY_LABEL, i, pre[i]), i,
					0, 1);
			else if(q->suffix_id != DP_NONE &&
				affix_maybe(q->p, pre[i], i))
				ADD_LOOK(dp_key_fin(DP_KEY_NAME, i + 1 +
					q->suffix_len, pre[i] * sfxpw + dotsfx),
					i, 0, 0);
		}
		/* rest + brand */
		if(s[n - i] != '-' && s[n - i - 1] != '-') {
			if(q->suffix_id != DP_NONE &&
				affix_maybe(q->p, suf[i], i))
				ADD_LOOK(dp_key_fin(DP_KEY_NAME, i + 1 +
					q->suffix_len, suf[i] * sfxpw + dotsfx),
					i, 1, 0);
			if(is_keyword_raw(q, s, n - i, pre[n - i]))
				ADD_LOOK(dp_key_fin(DP_KEY_LABEL, i, suf[i]), i,
					1, 1);
		}
	}
	for(i = 0; i < nl; i++)
		dp_index_prefetch(&q->p->index, h[i]);
	q->naffix = nl;
}

static void
check_affixes(struct query* q)
{
	struct affix_arg aa;
	const char* s = q->label;
	size_t n = q->label_len, np, j;
	struct dp_index_iter it[2 * AFFIX_MAX];
	uint16_t which[2 * AFFIX_MAX];
	np = find_batch(&q->p->index, q->affix_h, q->naffix, it, which);
	/* The name records came in while the edits were weighed
	 * (warm_later): ask for the names' text before reading them. */
	for(j = 0; j < np; j++) {
		struct dp_index_iter t = it[j];
		uint32_t val;
		if(q->affix_look[which[j]].label)
			continue;
		while(dp_index_next(&t, &val))
			if(val < q->p->nnames)
				__builtin_prefetch(q->p->strings +
					q->p->names[val].name);
	}
	for(j = 0; j < np; j++) {
		const struct affix_look* lk = &q->affix_look[which[j]];
		uint32_t val;
		aa.brand_n = lk->brand_n;
		aa.before = lk->before;
		aa.brand = lk->before ? s + n - lk->brand_n : s;
		aa.rest = lk->before ? s : s + lk->brand_n;
		aa.rest_n = n - lk->brand_n;
		/* looked up by label: the rest is a keyword */
		aa.kw_n = lk->label ? aa.rest_n : KW_UNKNOWN;
		while(dp_index_next(&it[j], &val)) {
			if(lk->label) {
				struct label_arg la;
				la.key = aa.brand;
				la.n = aa.brand_n;
				la.fn = affix_cb;
				la.arg = &aa;
				label_cb(q, val, &la);
			} else
				affix_name_cb(q, val, &aa);
		}
	}
}

/** "a.rmy.mil": a dot inserted into the label. */
static void
split_cb(struct query* q, uint32_t pid, void* arg)
{
	const struct dp_prot* d = &q->p->prot[pid];
	const char* pname = q->p->strings + d->name;
	(void)arg;
	if(d->suffix != q->suffix_id)
		return;
	offer(q, d, 0.8, DP_TECH_SUBDOMAIN, "%s is %s with a "
		"dot inserted", q->name, pname);
}

static void
check_split(struct query* q)
{
	char buf[DP_NAME_MAX];
	const char* prev;
	size_t n;
	if(q->label == q->name)
		return;
	/* the label before the registered one */
	prev = q->label - 1;
	while(prev > q->name && prev[-1] != '.')
		prev--;
	n = (size_t)(q->label - 1 - prev);
	if(n + q->label_len >= sizeof(buf))
		return;
	memcpy(buf, prev, n);
	memcpy(buf + n, q->label, q->label_len);
	lookup_label(q, buf, n + q->label_len, split_cb, NULL);
}

/** Run one family of checks. */
static void
run_family(struct query* q, int family)
{
	q->family = family;
	switch(family) {
	case FAM_SPLIT: check_split(q); break;
	case FAM_EDITS: check_edits(q); break;
	case FAM_CONCAT: check_concat(q); break;
	case FAM_TOKENS: check_tokens(q); break;
	case FAM_AFFIXES: check_affixes(q); break;
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
	uint64_t raw[DP_NAME_LABELS];
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

void
dp_policy_check(const struct dp_policy* p, const char* name,
	struct dp_verdict* v)
{
	const struct dp_namerec* r;
	struct listed_keys lk;
	struct listed l;
	struct query q;
	const char *dot, *reg;

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
		q.suffix_h = suffix_key(p, name, &lk, q.suffix, q.suffix_len);
		prepare_concat(&q);
		prepare_affixes(&q);
		dp_fold_label(p->folder, q.label, q.label_len, &q.fold);
		q.fold_flags = q.fold.flags;
		prepare_edits(&q);
		prepare_tokens(&q);
		/* the protected suffixes are few and their buckets stay in
		 * the cache; the affix filter's words have come in by now */
		q.suffix_id = find_suffix(p, q.suffix, q.suffix_len,
			q.suffix_h);
		prepare_affix_keys(&q);
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
	q.edit_lid = q.skel_lid = DP_NONE;
	run_family(&q, FAM_SPLIT);
	run_family(&q, FAM_EDITS);
	run_family(&q, FAM_CONCAT);
	run_family(&q, FAM_TOKENS);
	run_family(&q, FAM_AFFIXES);
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
		q.explain = 1;
		q.nseen = 0;
		q.edit_lid = q.skel_lid = DP_NONE;
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
