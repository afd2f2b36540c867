/*
 * lib/engine_build.c - indexing a policy for the engine: the protected labels,
 * their deletion neighbourhoods and skeletons, the concatenation and token
 * keys (see engine.c).
 */
#include "engine.h"

/*
 * Building.
 */

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
 * Labels that begin words longer by three letters or more are marked
 * (intel: intellect); the words that end in a label (pineapple,
 * steeplechase) are kept in the string area, their offsets in *words,
 * to be indexed as DP_KEY_WORD.
 * @return 0, or -1 when out of memory.
 */
static int
mark_words(struct dp_policy* p, struct dp_strmap* lmap, uint32_t** words,
	uint32_t* nwords)
{
	FILE* f = fopen(DP_DICT_DEFAULT, "r");
	char line[256];
	uint32_t i, cap = 0;
	*words = NULL;
	*nwords = 0;
	for(i = 0; i < p->nlabels; i++)
		if(is_keyword(p->strings + p->labels[i].str, p->labels[i].len))
			p->labels[i].flags |= DP_LABEL_WORD;
	if(!f)
		return 0;
	while(fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\r\n"), k;
		uintptr_t v;
		int found, tail = 0;
		if(line[0] < 'a' || line[0] > 'z')
			continue;
		v = (uintptr_t)dp_strmap_get(lmap, line, n, &found);
		if(found && v < p->nlabels)
			p->labels[v].flags |= DP_LABEL_WORD;
		/* the word's heads and tails of 3 letters or more, three
		 * letters shorter than it at least (apple begins no word:
		 * apples is the same one), not of "apple's" */
		if(strspn(line, "abcdefghijklmnopqrstuvwxyz") != n)
			continue;
		for(k = 3; k + 3 <= n; k++) {
			v = (uintptr_t)dp_strmap_get(lmap, line, k, &found);
			if(found && v < p->nlabels)
				p->labels[v].flags |= DP_LABEL_HEAD_WORD;
			v = (uintptr_t)dp_strmap_get(lmap, line + n - k, k,
				&found);
			if(found && v < p->nlabels) {
				p->labels[v].flags |= DP_LABEL_TAIL_WORD;
				tail = 1;
			}
		}
		if(tail) {
			uint32_t off = dp_policy_add_string(p, line, n);
			if(off == DP_NONE || !dp_grow_array((void**)words,
				*nwords, &cap, sizeof(**words))) {
				fclose(f);
				return -1;
			}
			(*words)[(*nwords)++] = off;
		}
	}
	fclose(f);
	return 0;
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
	uint32_t i, *fill = NULL, *words = NULL, nwords = 0;
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
	if(mark_words(p, &lmap, &words, &nwords) != 0)
		goto cleanup;
	keys += p->nprot + p->nsuffixes + nwords;
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
	for(i = 0; i < nwords; i++)
		dp_index_put(&p->index, dp_key_hash(DP_KEY_WORD, p->strings +
			words[i], strlen(p->strings + words[i])), words[i]);
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
	free(words);
	free(fill);
	free(fold);
	return st;
}
