/*
 * lib/engine_edits.c - the edits family: a protected label within one (folded)
 * edit of the query's (typos, homoglyphs, IDN confusables, TLD swaps).
 */
#include "engine.h"

/**
 * The edit from a protected label to the query's (ASCII) label, what
 * kind of mistake it is, and the base score of a typo of that label;
 * worked out once per label, the same for all its domains.
 */
static void
edit_of(struct query* q, uint32_t lid)
{
	const struct dp_label* l = &q->p->labels[lid];
	if(q->ed.edit_lid == lid)
		return;
	q->ed.edit = dp_edit_find(q->label, q->label_len, dp_label_text(q->p, l),
		l->len);
	q->ed.edit_tech = dp_edit_technique(&q->ed.edit, q->label, q->label_len,
		&q->ed.edit_detail);
	/* A look-alike character whose strong skeleton is the protected
	 * label's own is as good as the label itself. */
	if(q->ed.edit_tech == DP_TECH_NONE)
		q->ed.edit_base = length_weight(l->len);
	else if(q->ed.edit_tech == DP_TECH_HOMOGLYPH && same_str(
		q->fold.strong, q->fold.nstrong, q->p->strings + l->strong,
		l->nstrong))
		q->ed.edit_base = 0.95;
	else
		q->ed.edit_base = typo_weight(l->len, &q->ed.edit,
			q->ed.edit_tech);
	/* A label that is itself a keyword (mail, email next to gmail) is
	 * a word of its own, not a slip. */
	if(q->ed.edit_tech != DP_TECH_NONE && !q->ed.label_kw)
		q->ed.label_kw = engine_is_keyword(q, q->label,
			q->label_len) ? 2 : 1;
	if(q->ed.edit_tech != DP_TECH_NONE && q->ed.label_kw == 2)
		q->ed.edit_base -= 0.3;
	q->ed.edit_lid = lid;
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
 *    skeletons are one edit apart): the label's weight, 0.4 less for
 *    every real change beyond the typo, so that only a long label
 *    keeps a warning (dgii is dell after i/l twice and a typo; sco is
 *    cisco without "ci", read as "cl", read as "d": neither is
 *    reported);
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
	if(q->ed.skel_lid == lid)
		return q->ed.skel;
	q->ed.skel_lid = lid;
	if(same_str(q->fold.strong, q->fold.nstrong, st + l->strong,
		l->nstrong))
		return q->ed.skel = SKEL_SAME;
	q->ed.skel = SKEL_NEAR;
	strong_near = dp_edit_find(q->fold.strong, q->fold.nstrong,
		st + l->strong, l->nstrong).kind != DP_EDIT_NONE;
	if(q->fold_flags & DP_FOLD_UNICODE) {
		q->ed.skel_base = 0.85;
		if(!strong_near && dp_edit_find(q->fold.loose, q->fold.nloose,
			st + l->loose, l->nloose).kind == DP_EDIT_NONE)
			q->ed.skel = SKEL_FAR;
		return q->ed.skel;
	}
	if(same_str(q->fold.loose, q->fold.nloose, st + l->loose,
		l->nloose) || same_str(q->fold.flat, q->fold.nflat, st + l->flat,
		l->nflat)) {
		unsigned w = dp_edit_distance(q->fold.strong, q->fold.nstrong,
			st + l->strong, l->nstrong, 4);
		q->ed.skel_base = length_weight(l->len) -
			0.1 * (w > 1 ? w - 1 : 0);
		return q->ed.skel;
	}
	if(strong_near) {
		/* An escaped octet (army\000) is one odd character. */
		unsigned d = memchr(q->label, '\\', q->label_len) ? 1 :
			dp_edit_distance(q->label, q->label_len, pl, l->len, 4);
		q->ed.skel_base = (l->len <= 3 ? 0.45 : length_weight(l->len)) -
			0.4 * (d > 1 ? d - 1 : 0);
		return q->ed.skel;
	}
	loose_near = dp_edit_find(q->fold.loose, q->fold.nloose, st + l->loose,
		l->nloose).kind != DP_EDIT_NONE || dp_edit_find(q->fold.flat,
		q->fold.nflat, st + l->flat, l->nflat).kind != DP_EDIT_NONE;
	if(loose_near && l->len >= 7 && dp_edit_distance(q->label,
		q->label_len, pl, l->len, 2) <= 2)
		q->ed.skel_base = 0.6;
	else
		q->ed.skel = SKEL_FAR;
	return q->ed.skel;
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
		e = q->ed.edit;
		if(e.kind == DP_EDIT_SAME) {
			double sc = label_swap_score(q, rel, d->suffix, l);
			int pretence = rel == SUFFIX_OTHER &&
				agency_pretence(q, l, d->closed);
			if(rel == SUFFIX_SAME)
				return; /* the protected domain itself */
			if(swap_tech(rel, d->closed) == DP_TECH_TLD_TYPO)
				offer(q, d, sc, DP_TECH_TLD_TYPO, "%s is %s with "
					"the suffix mistyped: '%s' for '%s'",
					q->reg, pname, q->suffix, ps);
			else
				offer(q, d, sc, DP_TECH_TLD_SWAP, "%s is %s "
					"under '%s' instead of '%s'%s", q->reg,
					pname, q->suffix, ps, pretence ?
					" (an agency's name, open to anyone)" :
					rel != SUFFIX_OTHER && d->closed ?
					" (closed to the public)" : "");
			return;
		}
		if(e.kind != DP_EDIT_NONE) {
			char why[sizeof(q->v->why)];
			size_t w = 0;
			tech = q->ed.edit_tech;
			base = typo_score(rel, q->ed.edit_base, l, tech,
				d->closed);
			detail = q->ed.edit_detail;
			if(!q->explain) {
				offer(q, d, base, tech, "-");
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
			offer(q, d, base, tech, "%s", why);
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
	base = typo_score(rel, q->ed.skel_base, l, tech, d->closed);
	offer(q, d, base, tech, "%.*s looks like '%.*s' but for one "
		"character" DETAIL_SEP "skeletons '%.*s' and '%.*s'",
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
		if(q->ed.edit.kind == DP_EDIT_SAME)
			return adjusted(q, 0.95);
		/* a typo scores its base under the same suffix, less under
		 * others */
		if(q->ed.edit.kind != DP_EDIT_NONE)
			return adjusted(q, q->ed.edit_base);
	}
	if(same_str(q->fold.strong, q->fold.nstrong, q->p->strings + l->strong,
		l->nstrong))
		return adjusted(q, 0.95);
	return adjusted(q, (q->fold_flags & DP_FOLD_UNICODE) ? 0.85 :
		length_weight(l->len));
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
	if((q->fold_flags & DP_FOLD_UNICODE) || q->ed.edit.kind == DP_EDIT_NONE) {
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
		double sc = q->ed.edit.kind == DP_EDIT_SAME ?
			label_swap_score(q, rel, sid, l) : typo_score(rel, q->ed.edit_base,
			l, q->ed.edit_tech, closed);
		if(sc < 0)
			continue;
		sc = final_score(q, closed, sid, sc);
		if(sc > top) {
			top = sc;
			best = i;
			tech = q->ed.edit.kind != DP_EDIT_SAME ? q->ed.edit_tech :
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
 * tokens and affixes find), so that
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
	for(i = 0; i < q->tk.ntok_h; i++)
		if(dp_index_find(&p->index, q->tk.tok_h[i], &it))
			while(dp_index_next(&it, &val))
				if(val < p->nlabels)
					__builtin_prefetch(&p->labels[val]);
	for(i = 0; i < q->af.naffix; i++)
		if(dp_index_find(&p->index, q->af.affix_h[i], &it))
			while(dp_index_next(&it, &val))
				if(val < p->nlabels)
					__builtin_prefetch(&p->labels[val]);
}

/** Typos, homoglyphs, TLD swaps: the deletion neighbourhoods of the
 * flat and loose folds.  Every candidate label is weighed once, in the
 * order its keys were found. */
void
engine_check_edits(struct query* q)
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
	np = find_batch(&q->p->index, q->ek.del_h, q->ek.ndel, it, which);
	for(i = 0; i < np; i++) {
		uint32_t val, qpos = q->ek.del_pos[which[i]];
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
			for(j = 0; j < q->ed.nseen; j++)
				if(q->ek.seen[j] == lid)
					break;
			if(j < q->ed.nseen)
				continue;
			if(q->ed.nseen < sizeof(q->ek.seen) /
				sizeof(q->ek.seen[0]))
				q->ek.seen[q->ed.nseen++] = lid;
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

dp_status
dp_del_filter_init(struct dp_policy* p)
{
	uint64_t keys = 0, strs = 0, words = 64, parts = 64;
	uint32_t i;
	free(p->del_bits);
	p->del_bits = NULL;
	p->part_bits = NULL;
	for(i = 0; i < p->nlabels; i++) {
		keys += (uint64_t)p->labels[i].nflat + p->labels[i].nloose + 2;
		strs += 2;
	}
	/* eight bits a key: a clean key passes one time in twenty; the
	 * parts, six keys a fold, sixteen bits each */
	while(words < ((uint64_t)1 << 28) && words * 64 < keys * 8)
		words <<= 1;
	while(parts < ((uint64_t)1 << 26) && parts * 64 < strs * 6 * 16)
		parts <<= 1;
	if(!(p->del_bits = calloc(words + parts, sizeof(uint64_t))))
		return DP_ERR_NOMEM;
	p->del_mask = words - 1;
	p->part_bits = p->del_bits + words;
	p->part_mask = parts - 1;
	for(i = 0; i < p->nlabels; i++) {
		const struct dp_label* l = &p->labels[i];
		dp_del_filter_put(p->del_bits, p->del_mask, p->strings +
			l->flat, l->nflat);
		dp_del_parts_put(p->part_bits, p->part_mask, p->strings +
			l->flat, l->nflat);
		if(!same_str(p->strings + l->loose, l->nloose, p->strings +
			l->flat, l->nflat)) {
			dp_del_filter_put(p->del_bits, p->del_mask,
				p->strings + l->loose, l->nloose);
			dp_del_parts_put(p->part_bits, p->part_mask,
				p->strings + l->loose, l->nloose);
		}
	}
	return DP_OK;
}

/** The deletion keys of the flat and loose folds that the filter lets
 * through; their buckets are asked for. */
void
engine_prepare_edits(struct query* q)
{
	const struct dp_policy* p = q->p;
	size_t i, n;
	n = 0;
	if(dp_del_parts_near(p->part_bits, p->part_mask, q->fold.flat,
		q->fold.nflat))
		n = dp_key_deletions_in(q->fold.flat, q->fold.nflat,
			q->ek.del_h, q->ek.del_pos, p->del_bits, p->del_mask);
	if(!same_str(q->fold.loose, q->fold.nloose, q->fold.flat,
		q->fold.nflat) && dp_del_parts_near(p->part_bits,
		p->part_mask, q->fold.loose, q->fold.nloose))
		n += dp_key_deletions_in(q->fold.loose, q->fold.nloose,
			q->ek.del_h + n, q->ek.del_pos + n, p->del_bits,
			p->del_mask);
	for(i = 0; i < n; i++)
		dp_index_prefetch(&p->index, q->ek.del_h[i]);
	q->ek.ndel = n;
}
