/*
 * lib/checker.c - a name in, a verdict out (see checker.h).
 */
#include "checker.h"

#include <stdio.h>
#include <string.h>

int
dp_checker_cached(const struct dp_checker* c, const char* name,
	uint64_t now, struct dp_vrecord* rec, struct dp_verdict* v)
{
	if(!c->vcache)
		return 0;
	if(!dp_vcache_get(c->vcache, name, now, rec) ||
		rec->policy_hash != c->policy_hash || rec->action == DP_ALLOW ||
		!dp_policy_vouches(c->policy, name, rec->target)) {
		dp_counters_add(c->counters, DP_CTR_VCACHE_MISS, 1);
		return 0;
	}
	dp_counters_add(c->counters, DP_CTR_VCACHE_HIT, 1);
	memset(v, 0, sizeof(*v));
	v->action = rec->action;
	v->score = rec->score;
	v->target = rec->target;
	v->technique = rec->technique;
	v->zone_labels = rec->zone_labels;
	{
		/* at most 23 octets of the record's field, which need not
		 * end within them */
		size_t n = strnlen(rec->countries, sizeof(v->countries) - 1);
		memcpy(v->countries, rec->countries, n);
		v->countries[n] = 0;
	}
	if(rec->why[0])
		dp_strlcpy(v->why, rec->why, sizeof(v->why));
	else {
		/* a record stored before explanations were kept */
		char when[24];
		dp_iso_time(rec->first_seen, when, sizeof(when));
		snprintf(v->why, sizeof(v->why), "%.31s of %.60s, in the "
			"verdict cache since %.23s", rec->technique,
			rec->target, when);
	}
	return 1;
}

void
dp_checker_check(const struct dp_checker* c, const char* name, uint64_t now,
	int record, struct dp_vrecord* rec, struct dp_verdict* v)
{
	if(!dp_checker_cached(c, name, now, rec, v))
		dp_policy_check(c->policy, name, v);
	if(record && c->vcache && v->action != DP_ALLOW)
		dp_vcache_note(c->vcache, name, v, c->policy_hash, now,
			c->verdict_ttl);
}
