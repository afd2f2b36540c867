/*
 * lib/engine.h - what the engine's files share (not a public header):
 * the state of a query being checked, how a candidate is scored and
 * offered, and the index lookups every family of checks uses.  The
 * engine: engine_build.c indexes a policy; engine_edits.c, _concat.c,
 * _tokens.c, _affixes.c and _split.c are the families of checks;
 * engine.c runs them for a name and decides.
 */
#ifndef DOPPEL_ENGINE_H
#define DOPPEL_ENGINE_H

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
static const struct word engine_keywords[] __attribute__((unused)) = {
	W("access"), W("account"), W("accounts"), W("admin"), W("alert"),
	W("app"), W("auth"), W("bank"), W("banking"), W("billing"), W("claim"),
	W("cloud"), W("confirm"), W("contact"), W("customer"), W("delivery"),
	W("download"), W("email"), W("help"), W("helpdesk"), W("helpline"),
	W("home"), W("id"), W("info"), W("invoice"), W("login"), W("logon"),
	W("mail"), W("mobile"), W("my"), W("notice"), W("office"),
	W("official"), W("online"), W("owa"), W("parcel"), W("password"),
	W("pay"), W("payment"), W("payments"), W("portal"), W("recovery"),
	W("refund"), W("register"), W("renew"), W("renewal"), W("reset"),
	W("secure"), W("security"), W("service"), W("services"), W("signin"),
	W("signon"), W("signup"), W("sso"), W("subscription"), W("support"),
	W("suspended"), W("track"), W("tracking"), W("unlock"), W("update"),
	W("user"), W("validate"), W("validation"), W("verification"),
	W("verify"), W("vpn"), W("wallet"), W("web"), W("webmail"), W("www"),
};
#define engine_nkeywords (sizeof(engine_keywords) / sizeof(engine_keywords[0]))

/** Keywords that ask the victim to act: glued to a brand they lure
 * (paypalaccount, googlelogin, and the support and download scams:
 * microsoftlivehelp, whatsappdownload), where the others name a brand's
 * own services (googlemail, microsoftonline, amazonservices). */
static const struct word engine_lures[] __attribute__((unused)) = {
	W("account"), W("accounts"), W("alert"), W("billing"), W("claim"),
	W("confirm"), W("contact"), W("customer"), W("download"), W("help"),
	W("helpdesk"), W("helpline"), W("invoice"), W("login"), W("logon"),
	W("official"), W("password"), W("recovery"), W("refund"), W("renew"),
	W("renewal"), W("reset"), W("secure"), W("security"), W("signin"),
	W("signon"), W("subscription"), W("support"), W("suspended"),
	W("tracking"), W("unlock"), W("update"), W("validate"),
	W("validation"), W("verification"), W("verify"),
};
#define engine_nlures (sizeof(engine_lures) / sizeof(engine_lures[0]))

/** Subdomain labels whose lost dot gives "wwwarmy.mil". */
static const struct word engine_host_words[] __attribute__((unused)) = {
	W("www"), W("ww"), W("mail"), W("smtp"), W("webmail"), W("owa"), W("vpn"),
	W("portal"), W("login"), W("secure"),
};
#define engine_nhost_words \
	(sizeof(engine_host_words) / sizeof(engine_host_words[0]))

/** The country codes of ISO 3166-1 (alpha-2 with uk and eu, then
 * alpha-3), from Debian's iso-codes: a country's host label whose dot
 * was lost (aus.intel.com as ausintel.com, ca.ibm.com as caibm.com).
 * Each code is followed by a space. */
static const char engine_countries2[] __attribute__((unused)) =
	"ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg "
	"bh bi bj bl bm bn bo bq br bs bt bv bw by bz ca cc cd cf cg ch ci "
	"ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg eh "
	"er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp "
	"gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is "
	"it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr "
	"ls lt lu lv ly ma mc md me mf mg mh mk ml mm mn mo mp mq mr ms mt "
	"mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf "
	"pg ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se "
	"sg sh si sj sk sl sm sn so sr ss st sv sx sy sz tc td tf tg th tj "
	"tk tl tm tn to tr tt tv tw tz ua ug uk um us uy uz va vc ve vg vi "
	"vn vu wf ws ye yt za zm zw ";
static const char engine_countries3[] __attribute__((unused)) =
	"abw afg ago aia ala alb and are arg arm asm ata atf atg aus aut aze "
	"bdi bel ben bes bfa bgd bgr bhr bhs bih blm blr blz bmu bol bra brb "
	"brn btn bvt bwa caf can cck che chl chn civ cmr cod cog cok col com "
	"cpv cri cub cuw cxr cym cyp cze deu dji dma dnk dom dza ecu egy eri "
	"esh esp est eth fin fji flk fra fro fsm gab gbr geo ggy gha gib gin "
	"glp gmb gnb gnq grc grd grl gtm guf gum guy hkg hmd hnd hrv hti hun "
	"idn imn ind iot irl irn irq isl isr ita jam jey jor jpn kaz ken kgz "
	"khm kir kna kor kwt lao lbn lbr lby lca lie lka lso ltu lux lva mac "
	"maf mar mco mda mdg mdv mex mhl mkd mli mlt mmr mne mng mnp moz mrt "
	"msr mtq mus mwi mys myt nam ncl ner nfk nga nic niu nld nor npl nru "
	"nzl omn pak pan pcn per phl plw png pol pri prk prt pry pse pyf qat "
	"reu rou rus rwa sau sdn sen sgp sgs shn sjm slb sle slv smr som spm "
	"srb ssd stp sur svk svn swe swz sxm syc syr tca tcd tgo tha tjk tkl "
	"tkm tls ton tto tun tur tuv twn tza uga ukr umi ury usa uzb vat vct "
	"ven vgb vir vnm vut wlf wsm yem zaf zmb zwe ";

/** Whether s is one of the country codes above. */
static inline int
is_country_code(const char* s, size_t n)
{
	const char* c = n == 2 ? engine_countries2 : n == 3 ?
		engine_countries3 : NULL;
	for(; c && *c; c += n + 1)
		if(memcmp(c, s, n) == 0)
			return 1;
	return 0;
}

static inline int
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

static inline int
is_keyword(const char* s, size_t len)
{
	return in_list(engine_keywords, engine_nkeywords, s,
		len);
}

/** Copy s without '.' and '-' into out. @return length. */
static inline size_t
flatten(const char* s, size_t n, char* out)
{
	size_t i, o = 0;
	for(i = 0; i < n; i++)
		if(s[i] != '.' && s[i] != '-')
			out[o++] = s[i];
	return o;
}

static inline int
same_str(const char* a, size_t an, const char* b, size_t bn)
{
	return an == bn && memcmp(a, b, an) == 0;
}

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

/** One lookup of engine_check_affixes: the brand's length, which side it
 * is on, and what the rest of the label is (LOOK_*). */
struct affix_look {
	uint8_t brand_n, before, look;
};
/** The rest is a keyword. */
#define LOOK_KEYWORD 1
/** The rest is another word, the brand passed the affix filter. */
#define LOOK_WORD 2

/** What the edits family knows of the label it weighed last (cleared
 * for each query). */
struct edits_state {
	/** labels already weighed by engine_check_edits (ek.seen) */
	size_t nseen;
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
	/** whether the query's label is a keyword: 0 not known yet, 1
	 * no, 2 yes */
	uint8_t label_kw;
};

/** The edits family's keys: the deletion keys of the folds and where
 * each deleted, and the labels already weighed. */
struct edits_keys {
	uint32_t seen[64];
	uint64_t del_h[2 * DP_DEL_KEYS];
	uint8_t del_pos[2 * DP_DEL_KEYS];
	size_t ndel;
};

/** The concatenation keys: the flattened label, then it and the
 * flattened suffix (concat_n[1] bytes of concat), and their hashes;
 * then, for a hyphenated label, its first and last tokens (ntok of
 * them, tok[i] of tok_n[i] bytes), each of which may be a name whose
 * dot was dropped (us-fbigov). */
struct concat_keys {
	char concat[DP_NAME_MAX];
	size_t concat_n[2];
	uint64_t concat_h[2];
	const char* tok[2];
	size_t tok_n[2], ntok;
	uint64_t tok_h[2];
};

/** The affixes family's keys: polynomials of the label's prefixes and
 * suffixes (pre[i]: the first i characters, suf[i]: the last i), when
 * 4 <= label_len < AFFIX_MAX, and the lookups made of them
 * (engine_prepare_affix_keys). */
struct affix_keys {
	uint64_t pre[AFFIX_MAX], suf[AFFIX_MAX];
	/** the affix filter's bits of pre[i] and suf[i] as brands of i
	 * letters (engine_prepare_affixes, with the filter) */
	uint32_t pre_b[AFFIX_MAX], suf_b[AFFIX_MAX];
	/** bit i: a registered label of i letters starts as the label
	 * does (head), or ends as it does (tail); only those prefixes and
	 * suffixes are offered, and only their filter bits worked out */
	uint64_t head, tail;
	uint64_t affix_h[2 * AFFIX_MAX];
	struct affix_look affix_look[2 * AFFIX_MAX];
	size_t naffix;
};

/** The tokens of the name (engine_prepare_tokens): the registered
 * label's first, the suffix's first; the keys of those looked up, and
 * the text each key is of: the token's own, or its digits read as
 * letters (leet). */
struct token_keys {
	struct token tok[MAX_TOKENS];
	size_t ntok, label_tok, suffix_tok;
	uint64_t tok_h[MAX_TOKENS + LEET_TOKENS];
	uint8_t tok_which[MAX_TOKENS + LEET_TOKENS];
	const char* tok_key[MAX_TOKENS + LEET_TOKENS];
	size_t ntok_h, nleet;
	char leet[LEET_TOKENS][LEET_MAX];
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
	/** whether the registered label is a dictionary word that ends
	 * in a protected label (pineapple): 0 not known yet, 1 no, 2 yes
	 * (engine_affixes.c) */
	uint8_t label_tail_word;
	/** whether the query's public suffix is a platform's (the Public
	 * Suffix List's private section): 0 not known yet, 1 no, 2 yes */
	uint8_t platform;
	/** the edits family's (engine_edits.c) */
	struct edits_state ed;
	/** suffix relations already worked out: suffix id + 1, relation */
	uint32_t memo_suffix[SUFFIX_MEMO];
	uint8_t memo_rel[SUFFIX_MEMO];

	/* What follows is written before it is read: a new query clears
	 * only the fields above (QUERY_CLEAR). */

	/** the edits family's keys */
	struct edits_keys ek;
	/** folds of the registered label */
	struct dp_folded fold;
	/** the hash of the suffix's key */
	uint64_t suffix_h;
	/** the concatenation family's keys (engine_concat.c) */
	struct concat_keys cc;
	/** the affixes family's keys (engine_affixes.c) */
	struct affix_keys af;
	/** the tokens family's keys (engine_tokens.c) */
	struct token_keys tk;
};

/** The part of struct query a new query clears. */
#define QUERY_CLEAR offsetof(struct query, ek)

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
static inline enum suffix_rel
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

static inline enum suffix_rel
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
static inline double
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
static inline double
typo_weight(size_t n, const struct dp_edit* e, int tech)
{
	/* a hyphen or a look-alike character still stands out */
	if(n <= 3)
		return tech == DP_TECH_HYPHENATION || tech ==
			DP_TECH_HOMOGLYPH ? length_weight(n) : 0.45;
	/* A letter of four put for another letter that is neither its
	 * key's neighbour, a look-alike, a vowel for a vowel nor a flipped
	 * bit is no slip: the three left make another word (well, bell,
	 * tell for dell).  A digit for a letter is a disguise (e8ay). */
	if(n == 4 && tech == DP_TECH_REPLACEMENT && e->to >= 'a' &&
		e->to <= 'z' && !dp_keyboard_adjacent(e->from, e->to))
		return 0.45;
	if(e->pos == 0 && e->kind != DP_EDIT_TRANSPOSITION)
		return length_weight(n) - 0.1;
	return length_weight(n);
}

/** The score a candidate would get, with the query's own signals. */
static inline double
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
void
offer_why(struct query* q, const struct dp_prot* d, double score,
	int technique, const char* fmt, ...)
#ifdef __GNUC__
	__attribute__((format(printf, 5, 6)))
#endif
	;

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

/**
 * Score a change of the registered label, by the suffix relation.  A
 * slip in the label and another suffix are two changes, and weaker
 * still when
 *  - the label is an ordinary word (login, live): edited under a
 *    country's or an unrelated suffix it is another word there (logix.cz)
 *    far more often than a lookalike;
 *  - the label has three letters or fewer, under an open suffix, where
 *    it has namesakes everywhere (aoi.dyndns.org for aol.com; d0d.com
 *    for dod.mil stays);
 *  - the slip is a flipped bit: a bit flips in a name on its way, not
 *    in a name somebody chose a suffix for (metamark.com, metamask.io).
 * @param l: the protected label.
 * @param tech: the label's change (DP_TECH_*).
 * @param closed: the protected domain's suffix is closed.
 */
static inline double
typo_score(enum suffix_rel rel, double base, const struct dp_label* l,
	int tech, int closed)
{
	double word = (l->flags & DP_LABEL_WORD) ? 0.3 : 0;
	if(rel != SUFFIX_SAME && tech == DP_TECH_BITSQUATTING)
		base -= 0.2;
	switch(rel) {
	case SUFFIX_SAME:
		return base;
	case SUFFIX_TYPO:
		return base - 0.15;
	case SUFFIX_CC:
		return base - 0.15 - word;
	case SUFFIX_OTHER:
		break;
	}
	return base - 0.4 - word - (l->len <= 3 && !closed ? 0.1 : 0);
}

/** Which of the two a change of suffix alone is. */
static inline int
swap_tech(enum suffix_rel rel, int closed)
{
	return rel == SUFFIX_TYPO && !closed ? DP_TECH_TLD_TYPO :
		DP_TECH_TLD_SWAP;
}

/**
 * The score of the very label under another suffix (a TLD swap or a
 * mistyped suffix), by how the suffixes relate; -1 under the same one.
 */
static inline double
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
 * Whether the query names an agency under an open suffix: a protected
 * label of 3 letters or more under a closed suffix (fbi.gov,
 * irs.gov, dod.mil) that is no word and no country's code (army, usa
 * and af have namesakes everywhere), while the query's suffix is open to
 * anyone (fbi.camera, fbi-news.com).  Only the agency holds its name
 * under its own suffix, and it does not run its services from a
 * registrar's shelf: such a name is a pretence.
 */
static inline int
agency_pretence(const struct query* q, const struct dp_label* l, int closed)
{
	return closed && l->len >= 3 && q->suffix &&
		!(l->flags & DP_LABEL_WORD) &&
		!is_country_code(dp_label_text(q->p, l), l->len) &&
		!dp_closed_suffix(q->suffix);
}

/** agency_pretence for a protected domain. */
static inline int
prot_pretence(const struct query* q, const struct dp_prot* d)
{
	return agency_pretence(q, &q->p->labels[d->label], d->closed);
}

/** Whether a public suffix is a platform's (the Public Suffix List's
 * private section: github.io, blogspot.com), where the label is an
 * account, not a registration.  Asked only of names about to be
 * flagged. */
static inline int
platform_suffix(const struct dp_policy* p, const char* suffix)
{
	return suffix && p->psl && psl_is_public_suffix2(p->psl, suffix,
		PSL_TYPE_PRIVATE | PSL_TYPE_NO_STAR_RULE) &&
		!psl_is_public_suffix2(p->psl, suffix, PSL_TYPE_ICANN |
		PSL_TYPE_NO_STAR_RULE);
}

/**
 * swap_score for the query's label, which is the protected label l,
 * under an unrelated suffix:
 *  - an agency's name under an open suffix is strong (agency_pretence);
 *  - an open brand of one or two letters has namesakes under every
 *    suffix (x.org, hp.is): weak;
 *  - so is a registered brand's own name as an account on a platform
 *    (google.github.io): platforms give a brand's name to the brand,
 *    and its impostors come with words (paypal-login.web.app, still a
 *    combo-squat).  An account protected on one platform is another
 *    matter: the same name on another platform (doppel.gitlab.io for
 *    doppel.github.io) is how such a name is impersonated.
 * @param sid: the protected domain's suffix.
 */
static inline double
label_swap_score(struct query* q, enum suffix_rel rel, uint32_t sid,
	const struct dp_label* l)
{
	const struct dp_suffix* x = &q->p->suffixes[sid];
	double sc = swap_score(rel, x->closed, l->len);
	if(rel != SUFFIX_OTHER)
		return sc;
	if(x->closed)
		return sc < 0.8 && agency_pretence(q, l, 1) ? 0.8 : sc;
	if(l->len <= 2)
		return 0.45;
	/* asked once a query: a label may have dozens of domains */
	if(!q->platform)
		q->platform = platform_suffix(q->p, q->suffix) ? 2 : 1;
	return q->platform == 2 && !platform_suffix(q->p, q->p->strings +
		x->str) ? 0.45 : sc;
}

/** Call fn for every value stored under a hash. */
static inline void
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

static inline void
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
static inline void
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
static inline void
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
static inline size_t
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

/* The families of checks, one file each: prepare_X works out a name's
 * keys and asks for their buckets, check_X weighs the candidates. */
void engine_prepare_edits(struct query* q);
void engine_check_edits(struct query* q);
void engine_prepare_concat(struct query* q);
void engine_check_concat(struct query* q);
void engine_prepare_tokens(struct query* q);
void engine_check_tokens(struct query* q);
void engine_prepare_affixes(struct query* q);
void engine_prepare_affix_keys(struct query* q);
void engine_check_affixes(struct query* q);
void engine_check_split(struct query* q);
/** Whether s is a keyword: the filter and one probe of the policy's
 * keyword table (is_keyword's list scan costs ~300 instructions). */
int engine_is_keyword(const struct query* q, const char* s, size_t n);
/** Whether s is a keyword or starts or ends with one of 4 letters or
 * more (customerservice, mails). */
int engine_keyword_word(const struct query* q, const char* s, size_t n);

/** The words of the tokens [from, to) of a name but one: how many are
 * keywords (engine_keyword_word), how many not, how many lures. */
struct token_words {
	size_t kw, other, lures;
};
void engine_count_words(const struct query* q, size_t from, size_t to,
	size_t skip, struct token_words* out);

#endif /* DOPPEL_ENGINE_H */
