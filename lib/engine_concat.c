/*
 * lib/engine_concat.c - the concatenation family: a shifted or dropped dot
 * ("googlec.om", "armymil.com").
 */
#include "engine.h"

/** What a concatenation hit means. */
struct concat_arg {
	/** the label alone was the concatenation ("armymil"), not
	 * label + suffix ("googlec" + "om") */
	int label_only;
	/** the concatenation was one hyphenated token of the label, with
	 * other words next to it ("us-fbigov") */
	int token;
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
			(ca->token || !memchr(q->label, '-', q->label_len)))
			sc = d->label_len >= 6 && !(q->p->labels[d->label].flags &
				DP_LABEL_WORD) ? 0.6 : 0.45;
		if(ca->token) {
			/* another word next to it: a little less sure, but
			 * for an agency's name (us-fbigov.com) */
			offer(q, d, prot_pretence(q, d) ? sc : sc - 0.1,
				DP_TECH_MISSING_DOT, "%.*s holds %s with its dot "
				"dropped", (int)q->label_len, q->label, pname);
			return;
		}
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
void
engine_check_concat(struct query* q)
{
	struct concat_arg ca;
	size_t i;
	ca.label_only = 1;
	ca.token = 0;
	ca.key = q->cc.concat;
	ca.n = q->cc.concat_n[0];
	lookup_hash(q, q->cc.concat_h[0], concat_cb, &ca);
	ca.token = 1;
	for(i = 0; i < q->cc.ntok; i++) {
		ca.key = q->cc.tok[i];
		ca.n = q->cc.tok_n[i];
		lookup_hash(q, q->cc.tok_h[i], concat_cb, &ca);
	}
	ca.label_only = 0;
	ca.token = 0;
	ca.key = q->cc.concat;
	ca.n = q->cc.concat_n[1];
	lookup_hash(q, q->cc.concat_h[1], concat_cb, &ca);
}

/** The concatenation keys: the label without its dots and hyphens, then
 * with its suffix glued on, then a hyphenated label's first and last
 * tokens; their buckets are asked for. */
/** flatten(), continuing the polynomial (dp_key_raw) *raw over what it
 * copies. */
static size_t
flatten_raw(const char* s, size_t n, char* out, uint64_t* raw)
{
	uint64_t h = *raw;
	size_t i, o = 0;
	for(i = 0; i < n; i++)
		if(s[i] != '.' && s[i] != '-') {
			out[o++] = s[i];
			h = h * DP_HASH_B + (uint64_t)(unsigned char)s[i] + 1;
		}
	*raw = h;
	return o;
}

void
engine_prepare_concat(struct query* q)
{
	uint64_t raw = 0;
	size_t n = flatten_raw(q->label, q->label_len, q->cc.concat, &raw), i;
	const char *first, *last;
	q->cc.concat_n[0] = n;
	q->cc.concat_h[0] = dp_key_fin(DP_KEY_CONCAT, n, raw);
	n += flatten_raw(q->suffix, q->suffix_len, q->cc.concat + n, &raw);
	q->cc.concat_n[1] = n;
	q->cc.concat_h[1] = dp_key_fin(DP_KEY_CONCAT, n, raw);
	dp_index_prefetch(&q->p->index, q->cc.concat_h[0]);
	dp_index_prefetch(&q->p->index, q->cc.concat_h[1]);
	/* a hyphenated label's first and last tokens, of 5 characters or
	 * more (a label of 3 and a suffix of 2 at least) */
	q->cc.ntok = 0;
	first = memchr(q->label, '-', q->label_len);
	if(!first)
		return;
	for(last = q->label + q->label_len; last[-1] != '-'; last--)
		;
	if(first - q->label >= 5) {
		q->cc.tok[q->cc.ntok] = q->label;
		q->cc.tok_n[q->cc.ntok++] = (size_t)(first - q->label);
	}
	if(q->label + q->label_len - last >= 5) {
		q->cc.tok[q->cc.ntok] = last;
		q->cc.tok_n[q->cc.ntok++] = (size_t)(q->label +
			q->label_len - last);
	}
	for(i = 0; i < q->cc.ntok; i++) {
		q->cc.tok_h[i] = dp_key_hash(DP_KEY_CONCAT, q->cc.tok[i],
			q->cc.tok_n[i]);
		dp_index_prefetch(&q->p->index, q->cc.tok_h[i]);
	}
}
