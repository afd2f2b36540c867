/*
 * lib/engine_split.c - the split family: a dot inserted into the label
 * ("a.rmy.mil").
 */
#include "engine.h"

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

void
engine_check_split(struct query* q)
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
