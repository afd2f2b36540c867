/*
 * lib/engine.c - the lookalike engine: index the protected domains, then
 * decide for a queried name whether it imitates one, how, and how surely.
 *
 * A queried name is split, with the Public Suffix List, into the labels
 * under the registered domain, the registered label and the public suffix
 * ("login.army" . "ml").  Candidates come from the index, each lookup a
 * constant cost:
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
 * Each candidate is verified on the real strings and scored; the best
 * score wins.  Scores depend on the kind of change, the length of the
 * protected label (a one-letter change to a three-letter name is weak
 * evidence) and the suffixes (a .mil name reappearing under a ccTLD, or
 * under a typo of its own suffix, is strong; under .com it is usually a
 * namesake).
 */
#include "internal.h"
#include "edit.h"

#include <stdlib.h>
#include <string.h>

/** Most tokens of a name looked at for brand embedding. */
#define MAX_TOKENS 24

/** Words that turn a brand into a phishing name. */
static const char* const keywords[] = {
	"access", "account", "accounts", "admin", "alert", "app", "auth",
	"bank", "banking", "billing", "cloud", "confirm", "customer", "email",
	"help", "home", "id", "info", "login", "logon", "mail", "mobile", "my",
	"notice", "office", "official", "online", "owa", "password", "pay",
	"payment", "payments", "portal", "recovery", "register", "reset",
	"secure", "security", "service", "services", "signin", "signon",
	"signup", "sso", "support", "update", "user", "verify",
	"verification", "vpn", "wallet", "web", "webmail", "www",
};

/** Subdomain labels whose lost dot gives "wwwarmy.mil". */
static const char* const host_words[] = { "www", "ww", "mail", "smtp",
	"webmail", "owa", "vpn", "portal", "login", "secure" };

static int
in_list(const char* const* list, size_t n, const char* s, size_t len)
{
	size_t i;
	for(i = 0; i < n; i++)
		if(strlen(list[i]) == len && memcmp(list[i], s, len) == 0)
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

/** Call fn for the folded label and each distinct one-deletion of it. */
static void
deletions(const char* s, size_t n, void (*fn)(void*, const char*, size_t),
	void* arg)
{
	char buf[DP_FOLD_MAX];
	size_t i;
	fn(arg, s, n);
	for(i = 0; i < n; i++) {
		/* Deleting either of two equal neighbours gives the same
		 * string: once is enough. */
		if(i > 0 && s[i] == s[i - 1])
			continue;
		memcpy(buf, s, i);
		memcpy(buf + i, s + i + 1, n - i - 1);
		fn(arg, buf, n - 1);
	}
}

struct put_arg {
	struct dp_index* ix;
	uint32_t pid;
};

static void
put_deletion(void* a, const char* s, size_t n)
{
	struct put_arg* pa = a;
	dp_index_put(pa->ix, dp_key_hash(DP_KEY_DEL, s, n), pa->pid);
}

static void
count_deletion(void* a, const char* s, size_t n)
{
	(void)s;
	(void)n;
	(*(uint64_t*)a)++;
}

static int
same_str(const char* a, size_t an, const char* b, size_t bn)
{
	return an == bn && memcmp(a, b, an) == 0;
}

/** Copy a fold into the string area. @return offset or DP_NONE. */
static uint32_t
fold_string(struct dp_policy* p, const char* s, size_t n)
{
	uint32_t off = (uint32_t)p->strings_len;
	if(p->strings_len + n + 1 > p->strings_cap) {
		size_t cap = p->strings_cap * 2 + n + 1;
		char* ns;
		if(cap > (size_t)DP_NONE || !(ns = realloc(p->strings, cap)))
			return DP_NONE;
		p->strings = ns;
		p->strings_cap = cap;
	}
	memcpy(p->strings + off, s, n);
	p->strings[off + n] = 0;
	p->strings_len += n + 1;
	return off;
}

dp_status
dp_engine_build(struct dp_policy* p)
{
	uint64_t keys = p->nnames;
	uint32_t i;
	char flat[DP_NAME_MAX];
	struct dp_folded* fold = malloc(sizeof(*fold));

	if(!fold)
		return DP_ERR_NOMEM;

	/* Fold every protected label first: the folds go into the
	 * string area, and their lengths size the index. */
	for(i = 0; i < p->nprot; i++) {
		struct dp_prot* d = &p->prot[i];
		const char* name = p->strings + d->name;
		dp_fold_label(p->folder, name + d->label_off, d->label_len,
			fold);
		if(!(d->strong = fold_string(p, fold->strong, fold->nstrong),
			d->strong != DP_NONE) ||
			!(d->loose = fold_string(p, fold->loose, fold->nloose),
			d->loose != DP_NONE) ||
			!(d->flat = fold_string(p, fold->flat, fold->nflat),
			d->flat != DP_NONE)) {
			free(fold);
			return DP_ERR_NOMEM;
		}
		d->nstrong = (uint16_t)fold->nstrong;
		d->nloose = (uint16_t)fold->nloose;
		d->nflat = (uint16_t)fold->nflat;
		deletions(fold->flat, fold->nflat, count_deletion, &keys);
		if(!same_str(fold->loose, fold->nloose, fold->flat,
			fold->nflat))
			deletions(fold->loose, fold->nloose, count_deletion,
				&keys);
		keys += 2; /* label, concat */
	}
	free(fold);
	if(dp_index_init(&p->index, keys) != 0)
		return DP_ERR_NOMEM;
	for(i = 0; i < p->nprot; i++) {
		struct dp_prot* d = &p->prot[i];
		const char* name = p->strings + d->name;
		struct put_arg pa;
		size_t fl;
		pa.ix = &p->index;
		pa.pid = i;
		deletions(p->strings + d->flat, d->nflat, put_deletion, &pa);
		if(!same_str(p->strings + d->loose, d->nloose, p->strings +
			d->flat, d->nflat))
			deletions(p->strings + d->loose, d->nloose, put_deletion,
				&pa);
		dp_index_put(&p->index, dp_key_hash(DP_KEY_LABEL, name +
			d->label_off, d->label_len), i);
		fl = flatten(name + d->label_off, strlen(name + d->label_off),
			flat);
		dp_index_put(&p->index, dp_key_hash(DP_KEY_CONCAT, flat, fl), i);
	}
	for(i = 0; i < p->nnames; i++) {
		const char* name = p->strings + p->names[i].name;
		dp_index_put(&p->index, dp_key_hash(DP_KEY_NAME, name,
			strlen(name)), i);
	}
	/* The build map's copies of the names are no longer needed. */
	dp_strmap_clear(&p->build_names);
	return DP_OK;
}

/*
 * Checking.
 */

/** What is known about the queried name while it is checked. */
struct query {
	const struct dp_policy* p;
	const char* name;
	/** the registered domain, within name */
	const char* reg;
	/** registered label */
	const char* label;
	size_t label_len;
	/** public suffix */
	const char* suffix;
	/** folds of the registered label */
	struct dp_folded fold;
	unsigned fold_flags;
	/** the best verdict so far */
	struct dp_verdict* v;
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

static enum suffix_rel
suffix_relation(const struct query* q, const struct dp_prot* d)
{
	const char* ps = q->p->strings + d->name + d->suffix_off;
	size_t qn = strlen(q->suffix), pn = strlen(ps);
	const char* last;
	struct dp_edit e;
	if(qn == pn && memcmp(q->suffix, ps, qn) == 0)
		return SUFFIX_SAME;
	e = dp_edit_find(q->suffix, qn, ps, pn);
	if(e.kind != DP_EDIT_NONE)
		return SUFFIX_TYPO;
	last = strrchr(q->suffix, '.');
	last = last ? last + 1 : q->suffix;
	if(d->closed && strlen(last) == 2)
		return SUFFIX_CC;
	return SUFFIX_OTHER;
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

/** Offer a candidate verdict; the strongest one is kept. */
static void
offer(struct query* q, const struct dp_prot* d, double score,
	const char* technique, const char* fmt, ...)
#ifdef __GNUC__
	__attribute__((format(printf, 5, 6)))
#endif
	;

static void
offer(struct query* q, const struct dp_prot* d, double score,
	const char* technique, const char* fmt, ...)
{
	va_list ap;
	if(q->fold_flags & DP_FOLD_IDN_INVALID)
		score += 0.05;
	if(q->fold_flags & DP_FOLD_MIXED_SCRIPT)
		score += 0.05;
	if(score > 1.0)
		score = 1.0;
	if(score <= q->v->score)
		return;
	q->v->score = score;
	q->v->target = q->p->strings + d->name;
	q->v->technique = technique;
	va_start(ap, fmt);
	vsnprintf(q->v->why, sizeof(q->v->why), fmt, ap);
	va_end(ap);
}

/** Score a change of the registered label, by the suffix relation. */
static double
typo_score(const struct dp_prot* d, enum suffix_rel rel, double base)
{
	switch(rel) {
	case SUFFIX_SAME:
		/* Nobody but the owner registers under .mil: a typo
		 * there is more likely a sibling than an impostor. */
		return d->closed && base > 0.65 ? 0.65 : base;
	case SUFFIX_TYPO:
	case SUFFIX_CC:
		return base - 0.15;
	case SUFFIX_OTHER:
		break;
	}
	return base - 0.3;
}

/** A protected label within one (folded) edit of the query's label. */
static void
consider_edit(struct query* q, uint32_t pid)
{
	const struct dp_prot* d = &q->p->prot[pid];
	const char* pname = q->p->strings + d->name;
	const char* pl = pname + d->label_off;
	const char* ps = pname + d->suffix_off;
	enum suffix_rel rel = suffix_relation(q, d);
	int unicode = (q->fold_flags & DP_FOLD_UNICODE) != 0;
	struct dp_edit e;
	const char *tech, *detail;

	if(!unicode) {
		e = dp_edit_find(q->label, q->label_len, pl, d->label_len);
		if(e.kind == DP_EDIT_SAME) {
			if(rel == SUFFIX_SAME)
				return; /* the protected domain itself */
			if(rel == SUFFIX_TYPO && !d->closed)
				offer(q, d, 0.9, "tld-typo", "%s is %s with the "
					"suffix mistyped: '%s' for '%s'",
					q->reg, pname, q->suffix, ps);
			else if(rel == SUFFIX_TYPO || rel == SUFFIX_CC)
				offer(q, d, 0.95, "tld-swap", "%s is %s under "
					"'%s' instead of '%s'%s", q->reg, pname,
					q->suffix, ps, d->closed ? " (closed to "
					"the public)" : "");
			else
				offer(q, d, d->label_len >= 5 || d->closed ?
					0.6 : 0.5, "tld-swap", "%s is %s under "
					"'%s' instead of '%s'", q->reg, pname,
					q->suffix, ps);
			return;
		}
		if(e.kind != DP_EDIT_NONE) {
			char why[sizeof(q->v->why)];
			double base = length_weight(d->label_len);
			int w = 0;
			tech = dp_edit_technique(&e, q->label, q->label_len,
				&detail);
			if(strcmp(tech, "homoglyph") == 0 && same_str(
				q->fold.strong, q->fold.nstrong, q->p->strings +
				d->strong, d->nstrong))
				base = 0.95;
			switch(e.kind) {
			case DP_EDIT_OMISSION:
				w = snprintf(why, sizeof(why), "'%.*s' is '%.*s' "
					"without the '%c' at position %zu",
					(int)q->label_len, q->label,
					(int)d->label_len, pl, e.from, e.pos + 1);
				break;
			case DP_EDIT_INSERTION:
				w = snprintf(why, sizeof(why), "'%.*s' is '%.*s' "
					"with '%c' added at position %zu",
					(int)q->label_len, q->label,
					(int)d->label_len, pl, e.to, e.pos + 1);
				break;
			case DP_EDIT_REPLACEMENT:
				w = snprintf(why, sizeof(why), "'%.*s' is '%.*s' "
					"with '%c' for '%c' at position %zu",
					(int)q->label_len, q->label,
					(int)d->label_len, pl, e.to, e.from,
					e.pos + 1);
				break;
			default:
				w = snprintf(why, sizeof(why), "'%.*s' is '%.*s' "
					"with '%c%c' swapped at position %zu",
					(int)q->label_len, q->label,
					(int)d->label_len, pl, e.from, e.to,
					e.pos + 1);
				break;
			}
			if(w < 0 || (size_t)w >= sizeof(why))
				w = (int)sizeof(why) - 1;
			if(*detail)
				w += snprintf(why + w, sizeof(why) - (size_t)w,
					" (%s)", detail);
			if((size_t)w < sizeof(why) && rel != SUFFIX_SAME)
				snprintf(why + w, sizeof(why) - (size_t)w,
					", and suffix '%s' for '%s'", q->suffix,
					ps);
			offer(q, d, typo_score(d, rel, base), tech, "%s", why);
			return;
		}
	}
	/* Not one plain edit: compare the skeletons. */
	tech = unicode ? "idn-confusable" : "homoglyph";
	if(same_str(q->fold.strong, q->fold.nstrong, q->p->strings + d->strong,
		d->nstrong)) {
		double base = rel == SUFFIX_SAME ? 0.95 :
			rel == SUFFIX_OTHER ? 0.75 : 0.9;
		offer(q, d, base, tech, "%.*s looks like '%.*s'%s (skeleton "
			"'%.*s')%s", (int)q->label_len, q->label,
			(int)d->label_len, pl, (q->fold_flags &
			DP_FOLD_MIXED_SCRIPT) ? ", mixing scripts" : "",
			(int)d->nstrong, q->p->strings + d->strong,
			rel == SUFFIX_SAME ? "" : ", under another suffix");
		return;
	}
	if(dp_edit_find(q->fold.loose, q->fold.nloose, q->p->strings +
		d->loose, d->nloose).kind == DP_EDIT_NONE &&
		dp_edit_find(q->fold.flat, q->fold.nflat, q->p->strings +
		d->flat, d->nflat).kind == DP_EDIT_NONE)
		return;
	offer(q, d, typo_score(d, rel, unicode ? 0.85 :
		length_weight(d->label_len)), tech, "%.*s looks like '%.*s' "
		"but for one character (skeletons '%.*s' and '%.*s')",
		(int)q->label_len, q->label, (int)d->label_len, pl,
		(int)q->fold.nloose, q->fold.loose, (int)d->nloose,
		q->p->strings + d->loose);
}

/** Call fn for every protected domain stored under (kind, key). */
static void
lookup(struct query* q, enum dp_key_kind kind, const char* key, size_t n,
	void (*fn)(struct query*, uint32_t, void*), void* arg)
{
	struct dp_index_iter it;
	uint32_t val;
	if(!dp_index_find(&q->p->index, dp_key_hash(kind, key, n), &it))
		return;
	while(dp_index_next(&it, &val))
		if(val < q->p->nprot)
			fn(q, val, arg);
}

static void
edit_cb(struct query* q, uint32_t pid, void* arg)
{
	(void)arg;
	consider_edit(q, pid);
}

/** Look up a fold and each of its one-character deletions. */
static void
lookup_deletions(struct query* q, const char* s, size_t n)
{
	char buf[DP_FOLD_MAX];
	size_t i;
	lookup(q, DP_KEY_DEL, s, n, edit_cb, NULL);
	for(i = 0; i < n; i++) {
		if(i > 0 && s[i] == s[i - 1])
			continue;
		memcpy(buf, s, i);
		memcpy(buf + i, s + i + 1, n - i - 1);
		lookup(q, DP_KEY_DEL, buf, n - 1, edit_cb, NULL);
	}
}

/** Typos, homoglyphs, TLD swaps: the deletion neighbourhoods. */
static void
check_edits(struct query* q)
{
	lookup_deletions(q, q->fold.flat, q->fold.nflat);
	if(!same_str(q->fold.loose, q->fold.nloose, q->fold.flat,
		q->fold.nflat))
		lookup_deletions(q, q->fold.loose, q->fold.nloose);
}

/** What a concatenation hit means. */
struct concat_arg {
	/** the label alone was the concatenation ("armymil"), not
	 * label + suffix ("googlec" + "om") */
	int label_only;
};

static void
concat_cb(struct query* q, uint32_t pid, void* arg)
{
	const struct concat_arg* ca = arg;
	const struct dp_prot* d = &q->p->prot[pid];
	const char* pname = q->p->strings + d->name;
	if(ca->label_only) {
		offer(q, d, d->label_len >= 4 ? 0.85 : 0.8, "missing-dot",
			"%.*s is %s with its dot%s dropped", (int)q->label_len,
			q->label, pname, memchr(q->label, '-', q->label_len) ?
			" turned into a hyphen or" : "");
		return;
	}
	if(strcmp(q->reg, pname) == 0)
		return;
	offer(q, d, 0.9, "tld-typo", "%s is %s with the dot shifted", q->reg,
		pname);
}

/** Shifted dots and dropped dots: the concatenation keys. */
static void
check_concat(struct query* q)
{
	char flat[DP_NAME_MAX];
	struct concat_arg ca;
	size_t n = flatten(q->label, q->label_len, flat);
	ca.label_only = 1;
	lookup(q, DP_KEY_CONCAT, flat, n, concat_cb, &ca);
	n += flatten(q->suffix, strlen(q->suffix), flat + n);
	ca.label_only = 0;
	lookup(q, DP_KEY_CONCAT, flat, n, concat_cb, &ca);
}

/** A token of the name, between dots and hyphens. */
struct token {
	const char* s;
	size_t n;
	/** the token ends a label (a dot or the suffix follows) */
	int label_end;
};

struct embed_arg {
	const struct token* tok;
	size_t ntok, i;
	/** tokens [label_tok, suffix_tok) are the registered label's */
	size_t label_tok, suffix_tok;
	/** token i is in the registered label, not a subdomain */
	int in_label;
};

/** A brand token: with its suffix after it, or with a keyword. */
static void
embed_cb(struct query* q, uint32_t pid, void* arg)
{
	const struct embed_arg* ea = arg;
	const struct dp_prot* d = &q->p->prot[pid];
	const char* pname = q->p->strings + d->name;
	const char* ps = pname + d->suffix_off;
	const struct token* t = ea->tok;
	size_t j = ea->i + 1, k = 0, plen = strlen(ps), kw = 0, other = 0;
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
	if(k == plen) {
		if(ea->i == ea->label_tok && j == ea->suffix_tok &&
			j + 1 == ea->ntok)
			offer(q, d, 0.85, "missing-dot", "%.*s is %s with its "
				"dot turned into a hyphen", (int)q->label_len,
				q->label, pname);
		else
			offer(q, d, 0.9, "target-embedding", "%s contains %s",
				q->name, pname);
		return;
	}
	if(!ea->in_label && strcmp(q->suffix, ps) != 0)
		return; /* "army.example.net": a word, not a brand */
	for(j = 0; j < ea->ntok; j++) {
		if(j == ea->i)
			continue;
		if(is_keyword(t[j].s, t[j].n))
			kw++;
		else
			other++;
	}
	if(kw + other == 0)
		return;
	if(kw) {
		s = length_weight(d->label_len) - 0.05;
		if(d->closed && strcmp(q->suffix, ps) == 0 && s > 0.65)
			s = 0.65;
		offer(q, d, s, "combo-squatting", "%s is %.*s plus %s",
			q->name, (int)d->label_len, pname + d->label_off,
			kw > 1 ? "keywords" : "a keyword");
		return;
	}
	/* Brand and another word: a namesake unless under the very suffix. */
	if(strcmp(q->suffix, ps) == 0)
		offer(q, d, 0.55, "combo-squatting", "%s is %.*s plus a word, "
			"under %s's own suffix", q->name, (int)d->label_len,
			pname + d->label_off, pname);
}

/** Brand embedding and combo-squatting, on tokens split at '.' and '-'. */
static void
check_tokens(struct query* q)
{
	struct token tok[MAX_TOKENS];
	struct embed_arg ea;
	size_t ntok = 0, i, label_tok = 0, suffix_tok;
	const char* s = q->name;
	const char* end = q->suffix - 1; /* the dot before the suffix */
	while(s < end && ntok < MAX_TOKENS) {
		const char* e = s;
		while(e < end && *e != '.' && *e != '-')
			e++;
		if(s == q->label)
			label_tok = ntok;
		if(e > s) {
			tok[ntok].s = s;
			tok[ntok].n = (size_t)(e - s);
			tok[ntok].label_end = (e == end || *e == '.');
			ntok++;
		}
		s = e + 1;
	}
	/* The suffix's own labels, so "army" can be followed by "mil". */
	suffix_tok = ntok;
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
	if(ntok < 2)
		return;
	ea.tok = tok;
	ea.ntok = ntok;
	ea.label_tok = label_tok;
	ea.suffix_tok = suffix_tok;
	for(i = 0; i < ntok && tok[i].s < q->suffix; i++) {
		/* A token equal to the whole label is a typo or TLD
		 * matter, handled by the edit check. */
		if(tok[i].s == q->label && tok[i].n == q->label_len)
			continue;
		ea.i = i;
		ea.in_label = tok[i].s >= q->label;
		lookup(q, DP_KEY_LABEL, tok[i].s, tok[i].n, embed_cb, &ea);
	}
}

struct affix_arg {
	/** the rest of the label, besides the brand */
	const char* rest;
	size_t rest_n;
	/** the rest comes before the brand */
	int before;
};

static void
affix_cb(struct query* q, uint32_t pid, void* arg)
{
	const struct affix_arg* aa = arg;
	const struct dp_prot* d = &q->p->prot[pid];
	const char* pname = q->p->strings + d->name;
	const char* ps = pname + d->suffix_off;
	int same = strcmp(q->suffix, ps) == 0;
	double s;
	if(aa->before && same) {
		/* "wwwarmy.mil", "financecorpudyne.com": a subdomain
		 * whose dot was lost. */
		s = d->closed ? 0.65 : 0.85;
		if(!in_list(host_words, sizeof(host_words) /
			sizeof(host_words[0]), aa->rest, aa->rest_n) &&
			d->label_len < 5)
			s -= 0.1;
		offer(q, d, s, "missing-dot", "%.*s is %.*s.%s with the dot "
			"dropped", (int)q->label_len, q->label,
			(int)aa->rest_n, aa->rest, pname);
		return;
	}
	if(is_keyword(aa->rest, aa->rest_n)) {
		s = length_weight(d->label_len) - 0.05;
		if(d->closed && same && s > 0.65)
			s = 0.65;
		offer(q, d, s, "combo-squatting", "%.*s is '%.*s' plus the "
			"keyword '%.*s'", (int)q->label_len, q->label,
			(int)d->label_len, pname + d->label_off,
			(int)aa->rest_n, aa->rest);
		return;
	}
	if(same)
		offer(q, d, 0.55, "combo-squatting", "%.*s is '%.*s' plus "
			"'%.*s', under %s's own suffix", (int)q->label_len,
			q->label, (int)d->label_len, pname + d->label_off,
			(int)aa->rest_n, aa->rest, pname);
}

/** A brand glued to a word without a hyphen: prefixes and suffixes. */
static void
check_affixes(struct query* q)
{
	struct affix_arg aa;
	size_t i;
	if(q->label_len < 4)
		return;
	for(i = 2; i + 1 < q->label_len; i++) {
		/* brand + rest */
		aa.rest = q->label + i;
		aa.rest_n = q->label_len - i;
		aa.before = 0;
		if(aa.rest[0] != '-' && q->label[i - 1] != '-')
			lookup(q, DP_KEY_LABEL, q->label, i, affix_cb, &aa);
		/* rest + brand */
		aa.rest = q->label;
		aa.rest_n = q->label_len - i;
		aa.before = 1;
		if(q->label[q->label_len - i] != '-' &&
			q->label[q->label_len - i - 1] != '-')
			lookup(q, DP_KEY_LABEL, q->label + q->label_len - i, i,
				affix_cb, &aa);
	}
}

/** "a.rmy.mil": a dot inserted into the label. */
static void
split_cb(struct query* q, uint32_t pid, void* arg)
{
	const struct dp_prot* d = &q->p->prot[pid];
	const char* pname = q->p->strings + d->name;
	const char* ps = pname + d->suffix_off;
	(void)arg;
	if(strcmp(q->suffix, ps) != 0)
		return;
	offer(q, d, d->closed ? 0.65 : 0.8, "subdomain", "%s is %s with a "
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
	lookup(q, DP_KEY_LABEL, buf, n + q->label_len, split_cb, NULL);
}

/** Find a listed name: the closest enclosing one with a flag. */
static const struct dp_namerec*
find_listed(const struct dp_policy* p, const char* name, uint32_t flag)
{
	const char* s = name;
	while(*s) {
		struct dp_index_iter it;
		uint32_t val;
		size_t n = strlen(s);
		const char* dot;
		if(dp_index_find(&p->index, dp_key_hash(DP_KEY_NAME, s, n),
			&it)) {
			while(dp_index_next(&it, &val)) {
				const struct dp_namerec* r;
				if(val >= p->nnames)
					continue;
				r = &p->names[val];
				if((r->flags & flag) &&
					strcmp(p->strings + r->name, s) == 0)
					return r;
			}
		}
		if(!(dot = strchr(s, '.')))
			break;
		s = dot + 1;
	}
	return NULL;
}

void
dp_policy_check(const struct dp_policy* p, const char* name,
	struct dp_verdict* v)
{
	const struct dp_namerec* r;
	struct query q;
	const char* dot;

	memset(v, 0, sizeof(*v));
	v->action = DP_ALLOW;
	if(name[0] == 0) {
		snprintf(v->why, sizeof(v->why), "the root");
		return;
	}
	if((r = find_listed(p, name, DP_NAME_ALLOW)) != NULL) {
		snprintf(v->why, sizeof(v->why), "allowlisted (allow %s)",
			p->strings + r->name);
		return;
	}
	if((r = find_listed(p, name, DP_NAME_PROTECTED)) != NULL) {
		snprintf(v->why, sizeof(v->why), "protected domain %s",
			p->strings + r->name);
		return;
	}
	if((r = find_listed(p, name, DP_NAME_KNOWN)) != NULL) {
		snprintf(v->why, sizeof(v->why), "known good (%s)",
			p->strings + r->name);
		return;
	}
	if((r = find_listed(p, name, DP_NAME_BLOCK)) != NULL) {
		v->action = DP_BLOCK;
		v->score = 1.0;
		v->target = p->strings + r->name;
		v->technique = "listed";
		v->zone_labels = dp_name_labels(v->target);
		snprintf(v->why, sizeof(v->why), "listed (block %s)",
			v->target);
		return;
	}
	memset(&q, 0, sizeof(q));
	q.p = p;
	q.name = name;
	q.v = v;
	q.reg = psl_registrable_domain(p->psl, name);
	if(!q.reg && strchr(name, '.')) {
		/* The name is itself a public suffix of the list's private
		 * section (github.io, blogspot.com): whoever runs it is a
		 * registrant too, so read it as label + suffix. */
		q.reg = name;
	}
	if(!q.reg || !(dot = strchr(q.reg, '.'))) {
		snprintf(v->why, sizeof(v->why), "a top-level domain, nothing "
			"registered");
		return;
	}
	q.label = q.reg;
	q.label_len = (size_t)(dot - q.reg);
	q.suffix = dot + 1;
	dp_fold_label(p->folder, q.label, q.label_len, &q.fold);
	q.fold_flags = q.fold.flags;

	/* On equal scores the first offer stands: the more specific
	 * explanations go first. */
	check_split(&q);
	check_edits(&q);
	check_concat(&q);
	check_tokens(&q);
	check_affixes(&q);

	if(!v->target) {
		snprintf(v->why, sizeof(v->why), "no lookalike found%s",
			(q.fold_flags & DP_FOLD_IDN_INVALID) ? " (but its "
			"punycode is not valid IDNA)" : "");
		return;
	}
	v->zone_labels = dp_name_labels(q.reg);
	if(v->score >= p->block_at)
		v->action = DP_BLOCK;
	else if(v->score >= p->warn_at)
		v->action = DP_WARN;
	else {
		/* Too weak to report: keep the explanation, drop the
		 * target, so callers see a clean allow. */
		char why[2 * sizeof(v->why) + 64];
		snprintf(why, sizeof(why), "weak resemblance to %s (%s, score "
			"%.2f): %s", v->target, v->technique, v->score,
			v->why);
		memcpy(v->why, why, sizeof(v->why) - 1);
		v->why[sizeof(v->why) - 1] = 0;
		v->target = NULL;
		v->technique = NULL;
		v->zone_labels = 0;
	}
}
