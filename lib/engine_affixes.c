/*
 * lib/engine_affixes.c - the affixes family: a brand glued to a word without a
 * hyphen, as a prefix or a suffix of the label.
 */
#include "engine.h"

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
	/** where that keyword starts in the rest */
	size_t kw_at;
	/** a lure is at either end of the rest, or is the rest */
	int kw_lure;
	/** the label one of whose domains was weighed as an open one
	 * under another suffix, with its label first in its name: its
	 * other such domains would make the same offers, which do not
	 * displace the first (DP_NONE: none yet) */
	uint32_t done_label;
};

#define KW_UNKNOWN ((size_t)-1)

/**
 * The keyword in the rest of a glued label: the whole rest, or the
 * longest keyword of 4 letters or more next to the brand (brand first:
 * yahoo+mail+customersupport; rest first: my+...+account+paypal), else
 * the longest at the rest's far end (instagram+business+help); shorter
 * ones (id, my, app) begin and end too many words.
 * @param at: set to where the keyword starts in the rest.
 * @param lure: if not NULL, set to whether the rest is a lure or has one
 *	at an end (yahoo+mail+customersupport: the brand's service, then
 *	the lure).
 * @return its length, or 0.
 */
static inline int is_keyword_raw(const struct query* q, const char* s,
	size_t n, uint64_t raw);

static size_t
glued_keyword(const struct query* q, const char* rest, size_t n, int before,
	size_t* at, int* lure)
{
	uint64_t head = 0, tail = 0, pw = 1;
	size_t k, near = 0, far = 0;
	int lured = 0;
	*at = 0;
	if(engine_is_keyword(q, rest, n)) {
		if(lure)
			*lure = in_list(engine_lures, engine_nlures, rest, n);
		return n;
	}
	/* the polynomials (dp_key_raw) of the rest's first and last k
	 * characters, one character at a time; a keyword is at most 12 */
	for(k = 1; k < n && k <= 12; k++) {
		head = head * DP_HASH_B + (uint64_t)(unsigned char)rest[k - 1] +
			1;
		tail += ((uint64_t)(unsigned char)rest[n - k] + 1) * pw;
		pw *= DP_HASH_B;
		if(k < 4)
			continue;
		if(is_keyword_raw(q, rest, k, head)) {
			if(before)
				far = k;
			else
				near = k;
			lured |= lure && in_list(engine_lures, engine_nlures,
				rest, k);
		}
		if(is_keyword_raw(q, rest + n - k, k, tail)) {
			if(before)
				near = k;
			else
				far = k;
			lured |= lure && in_list(engine_lures, engine_nlures,
				rest + n - k, k);
		}
	}
	if(lure)
		*lure = lured;
	if(!near && !far)
		return 0;
	/* the near end first (googlemail, yahoomail: the brand names its
	 * service first); the keyword starts the rest when it is at its
	 * head */
	k = near ? near : far;
	if((near && before) || (!near && !before))
		*at = n - k;
	return k;
}

/** Whether a lure glued to a brand of 4 letters or more that is no word
 * and not under a closed suffix makes a block, as next to a long brand
 * (uspstrackings.com): glued to letters, a shorter brand is inside too
 * many other names. */
static int
short_brand_lured(const struct query* q, const struct dp_prot* d)
{
	return !d->closed && d->label_len >= 4 &&
		!(q->p->labels[d->label].flags & DP_LABEL_WORD);
}

/** Whether s is a word of the dictionary that ends in a protected
 * label (pineapple, purchase: engine_build.c). */
static int
is_tail_word(const struct query* q, const char* s, size_t n)
{
	const struct dp_policy* p = q->p;
	struct dp_index_iter it;
	uint32_t val;
	if(!dp_index_find(&p->index, dp_key_hash(DP_KEY_WORD, s, n), &it))
		return 0;
	while(dp_index_next(&it, &val))
		if(val < p->strings_len && strlen(p->strings + val) == n &&
			memcmp(p->strings + val, s, n) == 0)
			return 1;
	return 0;
}

/** is_tail_word of the registered label, worked out once a query: a
 * label's brands may each have dozens of domains. */
static int
label_is_tail_word(struct query* q)
{
	if(!q->label_tail_word)
		q->label_tail_word = is_tail_word(q, q->label, q->label_len) ?
			2 : 1;
	return q->label_tail_word == 2;
}

static void
affix_cb(struct query* q, uint32_t pid, void* arg)
{
	struct affix_arg* aa = arg;
	const struct dp_prot* d = &q->p->prot[pid];
	const char* pname = q->p->strings + d->name;
	int same = d->suffix == q->suffix_id, inword;
	unsigned flags;
	size_t k;
	double s;
	if(!same && !d->closed && d->label_off == 0) {
		if(aa->done_label == d->label)
			return;
		aa->done_label = d->label;
	}
	if(aa->before && same && d->label_off == 0) {
		/* "wwwarmy.mil", "financecorpudyne.com", "ausintel.com": a
		 * subdomain whose dot was lost.  Before a brand of fewer
		 * than 8 letters, a longer prefix that is no host name is
		 * more likely a word ("purchase" is not pur.chase.com,
		 * "googlegroups" not googlegro.ups.com); a short one is a
		 * site's or a country's host label (aus.intel.com, the
		 * "doppelganger" domains), worth a warning, and so is any
		 * under a closed suffix, where only the owner registers.
		 * A host name or a country code rebuilds the owner's own
		 * subdomain exactly (www.icloud.com, aus.intel.com,
		 * chn.dell.com): a block, but for a brand that is a word or
		 * ends words, where two letters more make another word
		 * (snapple). */
		double sc = in_list(engine_host_words, engine_nhost_words,
			aa->rest, aa->rest_n) || (is_country_code(aa->rest,
			aa->rest_n) && !(q->p->labels[d->label].flags &
			(DP_LABEL_WORD | DP_LABEL_TAIL_WORD))) ? 0.85 :
			d->label_len >= 8 ? 0.8 : (aa->rest_n <= 3 ||
			d->closed) && !is_keyword(aa->rest, aa->rest_n) ?
			0.55 : -1;
		/* a word that ends in the brand is that word (purchase) */
		if(sc > 0 && (q->p->labels[d->label].flags &
			DP_LABEL_TAIL_WORD) && label_is_tail_word(q))
			sc = -1;
		if(sc > 0) {
			offer(q, d, sc, DP_TECH_MISSING_DOT, "%.*s is %.*s.%s with "
				"the dot dropped", (int)q->label_len, q->label,
				(int)aa->rest_n, aa->rest, pname);
			return;
		}
	}
	if(aa->kw_n == KW_UNKNOWN)
		aa->kw_n = glued_keyword(q, aa->rest, aa->rest_n,
			aa->before, &aa->kw_at, &aa->kw_lure);
	if((k = aa->kw_n) != 0) {
		/* Glued to a keyword, under an open suffix, is how brands
		 * name their own other domains (googlemail,
		 * microsoftonline, amazonservices): a warning at most,
		 * unless the keyword is a lure. */
		const char* kw = aa->rest + aa->kw_at;
		s = length_weight(d->label_len) - 0.05;
		if(!d->closed && s > 0.75 && !aa->kw_lure)
			s = 0.75;
		else if(s < 0.8 && !same && prot_pretence(q, d))
			s = 0.8; /* fbioffice.ml */
		else if(s < 0.8 && aa->kw_lure && short_brand_lured(q, d))
			s = 0.8; /* uspstrackings.com */
		offer(q, d, s, DP_TECH_COMBO_SQUATTING, "%.*s is '%.*s' plus the "
			"keyword '%.*s'%s", (int)q->label_len, q->label,
			(int)d->label_len, pname + d->label_off, (int)k, kw,
			k < aa->rest_n ? " and more" : "");
		return;
	}
	/* A brand glued to any other word: a warning under its own suffix
	 * (paypalobjects), for a brand of 4 letters or more (shorter ones
	 * are inside too many words: ups in backups), or any under a
	 * closed suffix (afblue.mil); under another suffix, for a brand
	 * that is no word, of 6 letters or more next to 3 or more
	 * (facebooktoken.org, whatsappdownload.site), or of 4 or 5 next
	 * to 4 or more (uspspost.me; wendell is a name, not wen + dell).
	 * A brand that begins words, glued to letters after it, is more
	 * often part of such a word (intellicorp); one that ends words,
	 * glued to letters before it, only when the label is one of them
	 * (pineapple, steeplechase; blueapple still warns). */
	if(d->label_off != 0)
		return;
	flags = q->p->labels[d->label].flags;
	inword = aa->before ? (flags & DP_LABEL_TAIL_WORD) &&
		label_is_tail_word(q) : (flags & DP_LABEL_HEAD_WORD) != 0;
	if(same && (d->closed || (d->label_len >= 4 && !inword)))
		offer(q, d, 0.55, DP_TECH_COMBO_SQUATTING, "%.*s is '%.*s' plus "
			"'%.*s', under %s's own suffix", (int)q->label_len,
			q->label, (int)d->label_len, pname + d->label_off,
			(int)aa->rest_n, aa->rest, pname);
	else if(!same && !inword && !(flags & DP_LABEL_WORD) &&
		d->label_len >= 4 && aa->rest_n >= (d->label_len >= 6 ? 3 : 4) &&
		!memchr(aa->rest, '-', aa->rest_n))
		offer(q, d, 0.5, DP_TECH_COMBO_SQUATTING, "%.*s is '%.*s' plus "
			"'%.*s'", (int)q->label_len, q->label, (int)d->label_len,
			pname + d->label_off, (int)aa->rest_n, aa->rest);
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
	for(i = 0; i < engine_nkeywords; i++) {
		uint64_t h = dp_key_hash(DP_KEY_WORD, engine_keywords[i].s,
			engine_keywords[i].n);
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

/** The slot of label_heads of the four bytes at s. */
static inline size_t
head_slot(const struct dp_policy* p, const char* s)
{
	uint32_t x;
	memcpy(&x, s, sizeof(x));
	return (size_t)(((uint64_t)x * 0x9e3779b97f4a7c15ULL) >> 24) &
		p->head_mask;
}

dp_status
dp_affix_init(struct dp_policy* p)
{
	uint64_t bits = 1u << 16, heads;
	size_t i;
	/* whatever the engine's memo knows of the policy before is void */
	p->memo_gen = dp_memo_generation();
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
	/* a word a label for each half, 1,024 at least */
	heads = 1024;
	while(heads < ((uint64_t)1 << 24) && heads < (uint64_t)p->nlabels)
		heads <<= 1;
	p->label_heads = NULL;
	if(!(p->affix_bits = calloc(bits / 64 + 2 * heads,
		sizeof(uint64_t))) || !p->prot_suffix)
		return DP_ERR_NOMEM;
	p->label_heads = p->affix_bits + bits / 64;
	p->head_mask = heads - 1;
	for(i = 0; i < p->nlabels; i++) {
		const struct dp_label* l = &p->labels[i];
		const char* t = dp_label_text(p, l);
		if(l->len < 4 || l->len > 63)
			continue;
		p->label_heads[head_slot(p, t)] |= (uint64_t)1 << l->len;
		p->label_heads[heads + head_slot(p, t + l->len - 4)] |=
			(uint64_t)1 << l->len;
	}
	for(i = 0; i < p->nprot; i++)
		p->prot_suffix[i] = p->prot[i].suffix;
	p->has_ours = 0;
	for(i = 0; i < p->nnames && !p->has_ours; i++)
		p->has_ours = (p->names[i].flags & DP_NAME_OURS) != 0;
	p->affix_mask = bits - 1;
	if(dp_del_filter_init(p) != DP_OK)
		return DP_ERR_NOMEM;
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
	for(i = 0; i < engine_nkeywords; i++) {
		unsigned b = kw_bit(engine_keywords[i].s, engine_keywords[i].n);
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
	if(n < 2 || n > 12)
		return 0; /* no keyword is that short or that long */
	if(p->affix_bits) {
		unsigned b = kw_bit(s, n);
		if(!((p->kw_filter[b >> 6] >> (b & 63)) & 1))
			return 0;
	}
	h = dp_key_fin(DP_KEY_WORD, n, raw);
	i = (size_t)h & (DP_KW_SLOTS - 1);
	while(q->p->kw_hash[i]) {
		if(q->p->kw_hash[i] == h) {
			const struct word* w = &engine_keywords[q->p->kw_word[i]];
			return same_str(w->s, w->n, s, n);
		}
		i = (i + 1) & (DP_KW_SLOTS - 1);
	}
	return 0;
}

int
engine_is_keyword(const struct query* q, const char* s, size_t n)
{
	return n >= 2 && n <= 12 && is_keyword_raw(q, s, n, dp_key_raw(s, n));
}

int
engine_keyword_word(const struct query* q, const char* s, size_t n)
{
	size_t at;
	return glued_keyword(q, s, n, 0, &at, NULL) != 0;
}

/*
 * A brand glued to a word without a hyphen: prefixes and suffixes.  A
 * brand with a keyword is looked up by label, under any suffix; a brand
 * with any other word only when the affix filter (the protected labels'
 * lengths and polynomials) lets it through, so words that merely
 * contain a brand mostly cost a filter probe and nothing more.  The
 * polynomials of all of them come from two passes over the label.
 */
/** The polynomials (dp_key_raw) of s's first i characters, pre[i], and
 * of its last i, suf[i], for i from 0 to n. */
static void
affix_polys(const char* s, size_t n, uint64_t* pre, uint64_t* suf)
{
	uint64_t pw = 1;
	size_t i;
	pre[0] = suf[0] = 0;
	for(i = 0; i < n; i++) {
		pre[i + 1] = pre[i] * DP_HASH_B + (uint64_t)(unsigned char)
			s[i] + 1;
		suf[i + 1] = suf[i] + ((uint64_t)(unsigned char)s[n - 1 - i] +
			1) * pw;
		pw *= DP_HASH_B;
	}
}

/**
 * The polynomials of the label's prefixes and suffixes, for
 * engine_check_affixes; the affix filter's words for them are asked for.
 */
void
engine_prepare_affixes(struct query* q)
{
	const char* s = q->label;
	size_t n = q->label_len, i;
	const uint64_t* heads = q->p->label_heads;
	if(n < 4 || n >= AFFIX_MAX)
		return;
	affix_polys(s, n, q->af.pre, q->af.suf);
	/* brands of two and three letters are always offered; past 63
	 * letters, no table */
	q->af.head = q->af.tail = ~(uint64_t)0;
	if(heads && n <= 64) {
		q->af.head = heads[head_slot(q->p, s)] | 12;
		q->af.tail = heads[q->p->head_mask + 1 + head_slot(q->p,
			s + n - 4)] | 12;
	}
	if(!q->p->affix_bits)
		return;
	for(i = 2; i + 1 < n; i++) {
		if((q->af.head >> (i & 63)) & 1) {
			q->af.pre_b[i] = (uint32_t)affix_bit(q->p,
				q->af.pre[i], i);
			__builtin_prefetch(&q->p->affix_bits[
				q->af.pre_b[i] >> 6]);
		}
		if((q->af.tail >> (i & 63)) & 1) {
			q->af.suf_b[i] = (uint32_t)affix_bit(q->p,
				q->af.suf[i], i);
			__builtin_prefetch(&q->p->affix_bits[
				q->af.suf_b[i] >> 6]);
		}
	}
}

/** Whether the affix filter lets the label's first (or last) i
 * characters through as a brand, from the bits engine_prepare_affixes
 * worked out. */
static inline int
affix_has(const struct query* q, const uint32_t* bits, size_t i)
{
	const uint64_t* f = q->p->affix_bits;
	return !f || ((f[bits[i] >> 6] >> (bits[i] & 63)) & 1);
}

/**
 * Whether a brand of n letters glued to a rest of r letters that is no
 * keyword can be offered at all: under one of the protected suffixes,
 * any; under another, only a brand of 4 letters or more with a rest
 * long enough for a word or a keyword (affix_cb), so that short
 * prefixes of names under other suffixes cost no lookup.
 */
static inline int
word_look(const struct query* q, size_t n, size_t r)
{
	return q->suffix_id != DP_NONE || (n >= 4 && r >= (n >= 6 ? 3 : 4));
}

#define ADD_LOOK(hash, bn, bf, lb) do { \
		h[nl] = (hash); \
		look[nl].brand_n = (uint8_t)(bn); \
		look[nl].before = (bf); \
		look[nl].look = (lb); \
		nl++; \
	} while(0)

/**
 * The affix lookups, in the order they are weighed: a brand and a
 * keyword, or a brand and another word when the affix filter lets it
 * through, each by the brand's label; their buckets are asked for.
 */
void
engine_prepare_affix_keys(struct query* q)
{
	const char* s = q->label;
	size_t n = q->label_len, i, nl = 0;
	const uint64_t *pre = q->af.pre, *suf = q->af.suf;
	uint64_t* h = q->af.affix_h;
	struct affix_look* look = q->af.affix_look;
	q->af.naffix = 0;
	if(n < 4 || n >= AFFIX_MAX)
		return;
	for(i = 2; i + 1 < n; i++) {
		/* brand + rest: only when a registered label of i letters
		 * starts as the label does (else the lookup finds none) */
		if(((q->af.head >> (i & 63)) & 1) && s[i] != '-' &&
			s[i - 1] != '-') {
			if(is_keyword_raw(q, s + i, n - i, suf[n - i]))
				ADD_LOOK(dp_key_fin(DP_KEY_LABEL, i, pre[i]), i,
					0, LOOK_KEYWORD);
			else if(word_look(q, i, n - i) &&
				affix_has(q, q->af.pre_b, i))
				ADD_LOOK(dp_key_fin(DP_KEY_LABEL, i, pre[i]), i,
					0, LOOK_WORD);
		}
		/* rest + brand: likewise, ending as it does */
		if(((q->af.tail >> (i & 63)) & 1) && s[n - i] != '-' &&
			s[n - i - 1] != '-') {
			if(is_keyword_raw(q, s, n - i, pre[n - i]))
				ADD_LOOK(dp_key_fin(DP_KEY_LABEL, i, suf[i]), i,
					1, LOOK_KEYWORD);
			else if(word_look(q, i, n - i) &&
				affix_has(q, q->af.suf_b, i))
				ADD_LOOK(dp_key_fin(DP_KEY_LABEL, i, suf[i]), i,
					1, LOOK_WORD);
		}
	}
	for(i = 0; i < nl; i++)
		dp_index_prefetch(&q->p->index, h[i]);
	q->af.naffix = nl;
}

/** A brand glued inside one hyphenated token of the label
 * (my-paypalaccount, securepaypal-login, myapple-id): what it is
 * glued to, and which token it is. */
struct token_affix_arg {
	const char* tok;
	size_t tok_n, brand_at, brand_n, ti;
};

static void
token_affix_cb(struct query* q, uint32_t pid, void* arg)
{
	const struct token_affix_arg* ta = arg;
	const struct dp_prot* d = &q->p->prot[pid];
	const char* pname = q->p->strings + d->name;
	const char* rest = ta->brand_at ? ta->tok : ta->tok + ta->brand_n;
	size_t rest_n = ta->tok_n - ta->brand_n, at = 0, k;
	unsigned flags = q->p->labels[d->label].flags;
	int same = d->suffix == q->suffix_id, lure;
	struct token_words w;
	double s;
	if(d->label_off != 0 || (!ta->brand_at && (flags &
		DP_LABEL_HEAD_WORD)) || (ta->brand_at && (flags &
		DP_LABEL_TAIL_WORD) && is_tail_word(q, ta->tok, ta->tok_n)))
		return;
	/* the rest of the token, then the label's other tokens */
	k = glued_keyword(q, rest, rest_n, ta->brand_at != 0, &at, &lure);
	engine_count_words(q, q->tk.label_tok, q->tk.suffix_tok, ta->ti, &w);
	lure |= w.lures;
	if(k || w.kw) {
		s = length_weight(d->label_len) - 0.05;
		if(!d->closed && s > 0.75 && !lure)
			s = 0.75;
		else if(s < 0.8 && lure && short_brand_lured(q, d))
			s = 0.8;
		offer(q, d, s, DP_TECH_COMBO_SQUATTING, "%.*s is '%.*s' glued "
			"to '%.*s', plus keywords", (int)q->label_len, q->label,
			(int)d->label_len, pname + d->label_off, (int)rest_n,
			rest);
		return;
	}
	/* words only: as a brand glued to a word in a whole label */
	if(flags & DP_LABEL_WORD)
		return;
	if(same ? d->label_len >= 4 : d->label_len >= 6 && rest_n >= 3)
		offer(q, d, same ? 0.55 : 0.5, DP_TECH_COMBO_SQUATTING,
			"%.*s is '%.*s' glued to '%.*s', plus words",
			(int)q->label_len, q->label, (int)d->label_len,
			pname + d->label_off, (int)rest_n, rest);
}

/**
 * A brand glued to a word inside one token of a hyphenated label: each
 * token's heads and tails of 4 letters or more that the affix filter
 * lets through are looked up as labels.  Only hyphenated labels pay.
 */
static void
check_token_affixes(struct query* q)
{
	struct token_affix_arg ta;
	size_t j, i;
	if(!memchr(q->label, '-', q->label_len))
		return;
	for(j = q->tk.label_tok; j < q->tk.suffix_tok; j++) {
		const struct token* t = &q->tk.tok[j];
		uint64_t pre[AFFIX_MAX], suf[AFFIX_MAX];
		if(t->n < 6 || t->n >= AFFIX_MAX)
			continue;
		affix_polys(t->s, t->n, pre, suf);
		ta.tok = t->s;
		ta.tok_n = t->n;
		ta.ti = j;
		for(i = 4; i + 2 <= t->n; i++) {
			ta.brand_n = i;
			if(affix_maybe(q->p, pre[i], i)) {
				ta.brand_at = 0;
				lookup_label_raw(q, t->s, i, pre[i], token_affix_cb,
					&ta);
			}
			if(affix_maybe(q->p, suf[i], i)) {
				ta.brand_at = t->n - i;
				lookup_label_raw(q, t->s + t->n - i, i, suf[i],
					token_affix_cb, &ta);
			}
		}
	}
}

void
engine_check_affixes(struct query* q)
{
	struct affix_arg aa;
	const char* s = q->label;
	size_t n = q->label_len, np, j;
	struct dp_index_iter it[2 * AFFIX_MAX];
	uint16_t which[2 * AFFIX_MAX];
	np = find_batch(&q->p->index, q->af.affix_h, q->af.naffix, it, which);
	for(j = 0; j < np; j++) {
		const struct affix_look* lk = &q->af.affix_look[which[j]];
		struct label_arg la;
		uint32_t val;
		aa.brand_n = lk->brand_n;
		aa.before = lk->before;
		aa.brand = lk->before ? s + n - lk->brand_n : s;
		aa.rest = lk->before ? s : s + lk->brand_n;
		aa.rest_n = n - lk->brand_n;
		/* a keyword rest was looked up as one; another may hold one
		 * at an end */
		aa.kw_n = lk->look == LOOK_KEYWORD ? aa.rest_n : KW_UNKNOWN;
		aa.kw_at = 0;
		aa.done_label = DP_NONE;
		aa.kw_lure = lk->look == LOOK_KEYWORD && in_list(engine_lures,
			engine_nlures, aa.rest, aa.rest_n);
		la.key = aa.brand;
		la.n = aa.brand_n;
		la.fn = affix_cb;
		la.arg = &aa;
		while(dp_index_next(&it[j], &val))
			label_cb(q, val, &la);
	}
	check_token_affixes(q);
}
