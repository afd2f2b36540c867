/*
 * lib/engine_tokens.c - the tokens family: a brand embedded among the name's
 * tokens, with its suffix or a keyword (target embedding, combo-squatting).
 */
#include "engine.h"

struct embed_arg {
	const struct token* tok;
	size_t ntok, i;
	/** tokens [label_tok, suffix_tok) are the registered label's */
	size_t label_tok, suffix_tok;
	/** token i is in the registered label, not a subdomain */
	int in_label;
	/** the other tokens' words; worked out for the first domain that
	 * needs them (kw NOT_COUNTED before) */
	struct token_words w;
	/** token i matched with its digits read as letters (amaz0n) */
	int leet;
};

#define NOT_COUNTED ((size_t)-1)

void
engine_count_words(const struct query* q, size_t from, size_t to,
	size_t skip, struct token_words* out)
{
	const struct token* t = q->tk.tok;
	size_t j;
	out->kw = out->other = out->lures = 0;
	for(j = from; j < to; j++) {
		if(j == skip)
			continue;
		if(engine_keyword_word(q, t[j].s, t[j].n))
			out->kw++;
		else
			out->other++;
		if(in_list(engine_lures, engine_nlures, t[j].s, t[j].n))
			out->lures++;
	}
}

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
	if(ea->w.kw == NOT_COUNTED)
		/* The same for every domain of the token's label.  Words of
		 * the suffix are none; a brand in the registered label
		 * counts only that label's words, since a site's host
		 * labels (support.yahoo-inc.com) say nothing of a lure. */
		engine_count_words(q, ea->in_label ? ea->label_tok : 0,
			ea->suffix_tok, ea->i, &ea->w);
	if(ea->w.kw + ea->w.other == 0)
		return;
	if(ea->w.kw) {
		/* A lure next to the short name of an agency that is no
		 * word (irs-refund.com, fbi-official.com) is as strong as
		 * next to a long brand: nobody else registers that name
		 * under its closed suffix. */
		s = length_weight(d->label_len) - 0.05;
		if(s < 0.8 && !same && ((ea->w.lures && d->closed && !word) ||
			prot_pretence(q, d)))
			s = 0.8;
		/* and so is a lure next to a short brand that is no word
		 * (usps-tracking-delivery.com, dhl-parcel-tracking.com) */
		else if(s < 0.8 && ea->w.lures && !d->closed && !word &&
			d->label_len >= 3)
			s = 0.8;
		offer(q, d, s, DP_TECH_COMBO_SQUATTING, "%s is %.*s plus %s",
			q->name, (int)d->label_len, pname + d->label_off,
			ea->w.kw > 1 ? "keywords" : "a keyword");
		return;
	}
	/* Brand and another word: a namesake unless under the very suffix
	 * (python-office.com: a combo-squat at most, a warning), or unless
	 * the brand is no word and comes hyphenated into the registered
	 * label (usa-usps.shop), with 4 letters or more, or 3 for a name
	 * under a closed suffix, which nobody else may register
	 * (fbi-news.com, cyber-crime-fbi.org), unless they are a
	 * country's code, the way companies name a branch (ricoh-usa). */
	if(same)
		offer(q, d, 0.55, DP_TECH_COMBO_SQUATTING, "%s is %.*s plus a "
			"word, under %s's own suffix", q->name, (int)d->label_len,
			pname + d->label_off, pname);
	else if(ea->in_label && prot_pretence(q, d))
		offer(q, d, 0.8, DP_TECH_COMBO_SQUATTING, "%s is the agency "
			"name %.*s plus a word, under a suffix open to anyone",
			q->name, (int)d->label_len, pname + d->label_off);
	else if(!word && ea->in_label && (d->label_len >= 4 ||
		(d->closed && d->label_len == 3 &&
		!is_country_code(pname + d->label_off, 3))))
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
void
engine_prepare_tokens(struct query* q)
{
	struct token* tok = q->tk.tok;
	size_t ntok = 0, i;
	const char* s = q->name;
	const char* end = q->suffix - 1; /* the dot before the suffix */
	q->tk.label_tok = 0;
	while(s < end && ntok < MAX_TOKENS) {
		const char* e = s;
		while(e < end && *e != '.' && *e != '-')
			e++;
		if(s == q->label)
			q->tk.label_tok = ntok;
		if(e > s) {
			tok[ntok].s = s;
			tok[ntok].n = (size_t)(e - s);
			tok[ntok].label_end = (e == end || *e == '.');
			ntok++;
		}
		s = e + 1;
	}
	q->tk.suffix_tok = ntok;
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
	q->tk.ntok = ntok;
	q->tk.ntok_h = 0;
	if(ntok < 2)
		return;
	q->tk.nleet = 0;
	for(i = 0; i < ntok && tok[i].s < q->suffix; i++) {
		/* A token equal to the whole label is a typo or TLD
		 * matter, handled by the edit check. */
		if(tok[i].s == q->label && tok[i].n == q->label_len)
			continue;
		q->tk.tok_which[q->tk.ntok_h] = (uint8_t)i;
		q->tk.tok_key[q->tk.ntok_h] = tok[i].s;
		q->tk.tok_h[q->tk.ntok_h] = dp_key_hash(DP_KEY_LABEL, tok[i].s,
			tok[i].n);
		dp_index_prefetch(&q->p->index, q->tk.tok_h[q->tk.ntok_h]);
		q->tk.ntok_h++;
		if(q->tk.nleet < LEET_TOKENS && read_leet(tok[i].s, tok[i].n,
			q->tk.leet[q->tk.nleet])) {
			q->tk.tok_which[q->tk.ntok_h] = (uint8_t)i;
			q->tk.tok_key[q->tk.ntok_h] = q->tk.leet[q->tk.nleet];
			q->tk.tok_h[q->tk.ntok_h] = dp_key_hash(DP_KEY_LABEL,
				q->tk.leet[q->tk.nleet], tok[i].n);
			dp_index_prefetch(&q->p->index, q->tk.tok_h[q->tk.ntok_h]);
			q->tk.ntok_h++;
			q->tk.nleet++;
		}
	}
}

/** Brand embedding and combo-squatting, on the tokens of
 * engine_prepare_tokens. */
void
engine_check_tokens(struct query* q)
{
	struct dp_index_iter it[MAX_TOKENS + LEET_TOKENS];
	uint16_t which[MAX_TOKENS + LEET_TOKENS];
	struct embed_arg ea;
	size_t np, j;
	ea.tok = q->tk.tok;
	ea.ntok = q->tk.ntok;
	ea.label_tok = q->tk.label_tok;
	ea.suffix_tok = q->tk.suffix_tok;
	np = find_batch(&q->p->index, q->tk.tok_h, q->tk.ntok_h, it, which);
	for(j = 0; j < np; j++) {
		const struct token* t = &q->tk.tok[q->tk.tok_which[which[j]]];
		struct label_arg la;
		uint32_t val;
		ea.i = q->tk.tok_which[which[j]];
		ea.in_label = t->s >= q->label;
		ea.w.kw = NOT_COUNTED;
		la.key = q->tk.tok_key[which[j]];
		ea.leet = la.key != t->s;
		la.n = t->n;
		la.fn = embed_cb;
		la.arg = &ea;
		while(dp_index_next(&it[j], &val))
			label_cb(q, val, &la);
	}
}
