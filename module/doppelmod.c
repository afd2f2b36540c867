/*
 * module/doppelmod.c - doppel's Unbound module: answer NXDOMAIN for names
 * that imitate an organisation's protected domains.
 *
 * This is the only doppel code that includes Unbound headers.  It is built
 * as a shared object for Unbound's dynlib module and must be compiled
 * against the very source tree and configure line of the Unbound that loads
 * it: dynlib has no ABI check, and a mismatch corrupts memory silently.
 *
 * Lifecycle, as Unbound drives it:
 *
 *  - init() runs once per process, after chroot and privilege drop, before
 *    the worker threads start (and again after deinit() on
 *    `unbound-control reload`).  It reads the settings file named by
 *    $DOPPEL_CONF (default /etc/doppel/doppel.conf) and loads the policy
 *    (a source or a compiled database).  If that fails on a reload, the
 *    policy in force stays (deinit() keeps it aside).  If it fails at
 *    start-up, the error is logged and init still succeeds: with
 *    `on-error: open` queries pass through unprotected, with
 *    `on-error: closed` every query is answered SERVFAIL.  The resolver
 *    keeps running either way, so a fixed policy can be loaded later.
 *    init() also starts a watcher thread that looks at the policy file
 *    every policy-check-interval seconds and swaps in a new version
 *    (loaded beside the old one, swapped under a write lock held only for
 *    the swap).  The next query that reaches operate() then flushes
 *    Unbound's message cache, so that no answer from before the change is
 *    served from it.  No query ever waits for disk.  The watcher and the
 *    audit and verdict-cache writers never call into Unbound: see
 *    doppelmod_mail.
 *  - operate() runs on every worker thread at once.  The settings are
 *    read-only after init(); the policy is read under a read lock;
 *    per-query state lives in the query's region and is never freed by
 *    hand.
 *    On the way down (module_event_new, or module_event_pass with no
 *    per-query state yet, which is how subqueries arrive) the queried name
 *    is checked.  A blocked name is answered at once with NXDOMAIN and an
 *    SOA, without recursion, so the lookalike's servers never see the
 *    query.  That answer is also stored in the message cache: cache hits
 *    never reach modules, and without the stored answer a second query
 *    would be answered from whatever the cache held.
 *    On the way back (module_event_moddone) every owner name and CNAME or
 *    DNAME target of the answer is checked, so that a clean name aliased
 *    to a lookalike is blocked as well; the cached answer is replaced.
 *    From the first name of the chain the policy lists as the owner's
 *    own (protected, allowed, known good, ours), the rest of the chain
 *    and the MX exchanges are the owner's delegation (a CDN, a mail
 *    host) and are not checked; the country check of a protected name
 *    weighs only the addresses its owner's own names hold.
 *  - For an MX answer whose exchanges came without glue, and whose name's
 *    verdict depends on countries, the module starts subqueries (A and
 *    AAAA, a few exchanges at most) and waits; inform_super() adds their
 *    addresses' countries to the super's state (copied, the sub's region
 *    goes away), and the super, woken with module_event_pass, decides
 *    once none is pending.  A failed subquery adds nothing.
 *  - clear() drops the per-query pointer; deinit() stops the watcher and
 *    keeps the policy for the next init().
 *
 * Only the six dynlib entry points are exported; everything else is hidden
 * (-fvisibility=hidden), because Unbound loads the module RTLD_GLOBAL.
 */
#include "doppelmod.h"

/** Per-query progress, kept in qstate->minfo[id]. */
enum doppelmod_state {
	/** the queried name was checked and passed on to the next module */
	DOPPELMOD_PASSED_DOWN = 1,
	/** the answer is back; the addresses of MX exchanges that came
	 * without glue are being looked up by subqueries */
	DOPPELMOD_WAIT_SUBS
};

/** Most distinct countries weighed per answer. */
#define DOPPELMOD_MAX_CC 8
/** Most MX exchanges looked up by subquery, per answer. */
#define DOPPELMOD_MAX_SUBS 3

/** Per-query state. */
struct doppelmod_qstate {
	enum doppelmod_state state;
	/** the verdict to audit, NULL if none was noted */
	struct doppelmod_noted* noted;
	/** subqueries not yet answered */
	int pending;
	/** countries of the answer's addresses so far */
	char cc[DOPPELMOD_MAX_CC][3];
	size_t ncc;
	/** the queried name was checked on the way down, under the policy
	 * of this hash: whether it is the owner's own (listed), so that the
	 * way back need not weigh it again */
	int qname_checked;
	enum dp_listed qname_listed;
	uint64_t qname_policy;
};

/** TTL of synthesised answers: the policy's negative-ttl, else the
 * settings' block-ttl.  Called with the policy lock held. */
static uint32_t
doppelmod_ttl(struct doppelmod_env* g)
{
	int t = g->policy ? dp_policy_negative_ttl(g->policy) : -1;
	return t >= 0 ? (uint32_t)t : g->settings.block_ttl;
}

/** The RR type as text, for log lines. */
static void
type_str(uint16_t t, char* buf, size_t len)
{
	const sldns_rr_descriptor* d = sldns_rr_descript(t);
	if(d && d->_name && strlen(d->_name) < len) {
		/* the table, without a trip through snprintf */
		memcpy(buf, d->_name, strlen(d->_name) + 1);
		return;
	}
	sldns_wire2str_type_buf(t, buf, len);
}

/** The rcode as text, for log lines. */
static void
rcode_str(int rcode, char* buf, size_t len)
{
	sldns_lookup_table* lt = sldns_lookup_by_id(sldns_rcodes, rcode);
	if(lt && lt->name && strlen(lt->name) < len) {
		memcpy(buf, lt->name, strlen(lt->name) + 1);
		return;
	}
	sldns_wire2str_rcode_buf(rcode, buf, len);
}

/** A client address as text (no port), for audit records: IPv4 by hand,
 * the rest through inet_ntop. */
static void
client_str(struct sockaddr_storage* a, socklen_t alen, char* buf, size_t len)
{
	buf[0] = 0;
	if(a->ss_family == AF_INET && alen >= (socklen_t)sizeof(struct
		sockaddr_in) && len >= 16) {
		const uint8_t* b = (const uint8_t*)&((struct sockaddr_in*)a)->
			sin_addr;
		size_t o = 0;
		int i;
		for(i = 0; i < 4; i++) {
			unsigned v = b[i];
			if(v >= 100)
				buf[o++] = (char)('0' + v / 100);
			if(v >= 10)
				buf[o++] = (char)('0' + v / 10 % 10);
			buf[o++] = (char)('0' + v % 10);
			buf[o++] = i < 3 ? '.' : 0;
		}
		return;
	}
	addr_to_str(a, alen, buf, len);
}

/** Find the global state of the module. */
static struct doppelmod_env*
doppelmod_getenv(struct module_env* env, int id)
{
	struct dynlibmod_env* de = (struct dynlibmod_env*)env->modinfo[id];
	return de ? (struct doppelmod_env*)de->dyn_env : NULL;
}

/**
 * Build the SOA that goes in the authority section of a synthesised
 * NXDOMAIN, so that downstream caches get a negative TTL (RFC 2308).
 * @param region: where to allocate; the rrset data is contiguous, as
 *	packed_rrset_copy_alloc() requires when the reply is cached.
 * @param apex: owner name, wire format.
 * @param apexlen: its length.
 * @param ttl: TTL and SOA minimum.
 * @return the rrset, or NULL when out of memory.
 */
static struct ub_packed_rrset_key*
doppelmod_make_soa(struct regional* region, uint8_t* apex, size_t apexlen,
	uint32_t ttl)
{
	/* RFC 6761: .invalid names cannot clash with real servers. */
	static const uint8_t mname[] = "\006doppel\007invalid";
	static const uint8_t rname[] = "\007blocked\006doppel\007invalid";
	uint32_t fields[5];
	size_t rdlen = sizeof(mname) + sizeof(rname) + sizeof(fields);
	struct packed_rrset_data* d;
	struct ub_packed_rrset_key* k;
	uint8_t* p;
	int i;

	d = regional_alloc_zero(region, sizeof(*d) + sizeof(size_t) +
		sizeof(uint8_t*) + sizeof(time_t) + 2 + rdlen);
	k = regional_alloc_zero(region, sizeof(*k));
	if(!d || !k)
		return NULL;
	d->ttl = ttl;
	d->count = 1;
	d->rrsig_count = 0;
	/* The lowest trust there is: this SOA is ours, and must never
	 * replace a real one in the rrset cache (a hijack block's SOA sits
	 * at a real zone apex). */
	d->trust = rrset_trust_add_noAA;
	d->security = sec_status_insecure;
	d->rr_len = (size_t*)((uint8_t*)d + sizeof(*d));
	d->rr_len[0] = 2 + rdlen;
	packed_rrset_ptr_fixup(d);
	d->rr_ttl[0] = ttl;
	p = d->rr_data[0];
	sldns_write_uint16(p, (uint16_t)rdlen);
	p += 2;
	memcpy(p, mname, sizeof(mname));
	p += sizeof(mname);
	memcpy(p, rname, sizeof(rname));
	p += sizeof(rname);
	fields[0] = 1;    /* serial */
	fields[1] = 3600; /* refresh */
	fields[2] = 600;  /* retry */
	fields[3] = 86400; /* expire */
	fields[4] = ttl;  /* minimum: the negative TTL */
	for(i = 0; i < 5; i++, p += 4)
		sldns_write_uint32(p, fields[i]);

	k->entry.key = k;
	k->entry.data = d;
	k->rk.dname = regional_alloc_init(region, apex, apexlen);
	if(!k->rk.dname)
		return NULL;
	/* The client's letter case (0x20 or typing) is not ours to echo. */
	query_dname_tolower(k->rk.dname);
	k->rk.dname_len = apexlen;
	k->rk.type = htons(LDNS_RR_TYPE_SOA);
	k->rk.rrset_class = htons(LDNS_RR_CLASS_IN);
	k->entry.hash = rrset_key_hash(&k->rk);
	return k;
}

/**
 * Build an NXDOMAIN answer for qinfo, with an SOA owned by apex, in the
 * query's region.
 * @return the message, or NULL when out of memory.
 */
static struct dns_msg*
doppelmod_nxdomain_msg(struct module_qstate* qstate, struct doppelmod_env* g,
	struct query_info* qinfo, uint8_t* apex, size_t apexlen)
{
	uint32_t ttl = doppelmod_ttl(g);
	struct dns_msg* msg;
	struct ub_packed_rrset_key* soa;
	time_t expttl = (time_t)ttl;

	if(qstate->env->cfg->serve_expired)
		expttl += qstate->env->cfg->serve_expired_ttl;
	msg = regional_alloc_zero(qstate->region, sizeof(*msg));
	soa = doppelmod_make_soa(qstate->region, apex, apexlen, ttl);
	if(!msg || !soa)
		return NULL;
	msg->qinfo = *qinfo;
	msg->rep = construct_reply_info_base(qstate->region,
		BIT_QR | BIT_RA | LDNS_RCODE_NXDOMAIN, 1, (time_t)ttl,
		PREFETCH_TTL_CALC((time_t)ttl), expttl, 0, 1, 0, 1,
		sec_status_insecure);
	if(!msg->rep)
		return NULL;
	msg->rep->rrsets[0] = soa;
	return msg;
}

/**
 * Store a synthesised answer in the message cache, so that repeated
 * queries, which do not reach modules, stay blocked until it expires (and
 * then reach doppel again).
 */
static void
doppelmod_cache_store(struct module_qstate* qstate, struct doppelmod_env* g,
	struct dns_msg* msg)
{
	if(qstate->no_cache_store)
		return;
	if(doppelmod_ttl(g) == 0) {
		/* Nothing of ours to keep, but what the iterator may have
		 * cached for the name must go, or the next query gets it. */
		msg_cache_remove(qstate->env, msg->qinfo.qname,
			msg->qinfo.qname_len, msg->qinfo.qtype,
			msg->qinfo.qclass, qstate->query_flags);
		return;
	}
	if(!dns_cache_store(qstate->env, &msg->qinfo, msg->rep, 0, 0, 0, NULL,
		qstate->query_flags, qstate->qstarttime))
		log_err("doppel: out of memory storing a blocked answer in "
			"the cache");
}

/**
 * Find the zone of a blocked name: its trailing zone_labels labels.
 * @param name: wire name; @param len: in: its length, out: the zone's.
 * @return the zone, a pointer into name.
 */
static uint8_t*
doppelmod_zone_of(uint8_t* name, size_t* len, int zone_labels)
{
	int skip = dname_count_labels(name) - 1 - zone_labels;
	while(skip-- > 0)
		dname_remove_label(&name, len);
	return name;
}

/**
 * A lookalike met in an answer's chain (an alias, a mail exchange): the
 * iterator cached the lookalike's own answer while following the chain;
 * put a blocked answer in its place, or a direct query for that name
 * would be answered from the cache without reaching doppel.
 * @param name: the lookalike, wire format, len octets (0: nothing done).
 * @param zone_labels: the verdict's (the apex of the answer's SOA).
 */
static void
doppelmod_replace_cached(struct module_qstate* qstate,
	struct doppelmod_env* g, uint8_t* name, size_t len, int zone_labels)
{
	struct query_info hq = qstate->qinfo;
	struct dns_msg* msg;
	size_t alen = len;
	uint8_t* apex;
	if(len == 0)
		return;
	apex = doppelmod_zone_of(name, &alen, zone_labels);
	hq.qname = name;
	hq.qname_len = len;
	if((msg = doppelmod_nxdomain_msg(qstate, g, &hq, apex, alen)) != NULL)
		doppelmod_cache_store(qstate, g, msg);
}

/**
 * Check one wire-format name: the verdict cache first, then the engine;
 * a flagged name is queued for the verdict cache.
 * @param v: receives the verdict.
 * @param text: receives the canonical name (DP_NAME_MAX bytes).
 * @param rec: storage for a cached verdict, which v may point into.
 * @return 0 if the name could not be read (it is then allowed).
 */
static int
doppelmod_check_name(struct doppelmod_env* g, struct module_qstate* qstate,
	uint8_t* name, size_t len, struct dp_verdict* v, char* text,
	struct dp_vrecord* rec, int record)
{
	uint64_t now = (uint64_t)*qstate->env->now;
	if(dp_name_from_wire(name, len, text, DP_NAME_MAX) != DP_OK) {
		memset(v, 0, sizeof(*v));
		v->action = DP_ALLOW;
		dp_counters_add(g->counters, DP_CTR_ERR_NAME, 1);
		return 0;
	}
	dp_checker_check(&g->chk, text, now, record, rec, v);
	return 1;
}

/**
 * Whether the policy lists a wire name as the owner's own (protected,
 * allowed, known good, ours): where its alias chain or mail exchanges
 * lead is the owner's delegation.
 * @param listed: if not NULL, receives how it is listed.
 */
static int
doppelmod_owned(struct doppelmod_env* g, struct module_qstate* qstate,
	uint8_t* name, size_t len, enum dp_listed* listed)
{
	struct dp_verdict v;
	struct dp_vrecord rec;
	char text[DP_NAME_MAX];
	if(!doppelmod_check_name(g, qstate, name, len, &v, text, &rec, 0))
		v.listed = DP_LISTED_NONE;
	if(listed)
		*listed = v.listed;
	return v.listed != DP_LISTED_NONE;
}

/** Whether two wire names are the same name (case folded): most often
 * they are the very same octets, and names of other lengths differ. */
static int
doppelmod_same_name(uint8_t* a, size_t alen, uint8_t* b, size_t blen)
{
	if(alen != blen)
		return 0;
	return memcmp(a, b, alen) == 0 || query_dname_compare(a, b) == 0;
}

/** Hash of a wire name, case folded (the message cache ignores case):
 * eight octets at a time, each with bit 0x20 set, which folds A-Z onto
 * a-z (and some other octets onto each other: a collision costs only a
 * check). */
static uint64_t
doppelmod_name_hash(const uint8_t* name, size_t len)
{
	uint64_t h = (uint64_t)len * 0x9e3779b97f4a7c15ULL, w;
	size_t i;
	for(i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, name + i, 8);
		h = (h ^ (w | 0x2020202020202020ULL)) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	if(i < len) {
		w = 0;
		memcpy(&w, name + i, len - i);
		h = (h ^ (w | 0x2020202020202020ULL)) * 0xff51afd7ed558ccdULL;
	}
	return h ^ (h >> 29);
}

/** The filter word of a name hash and its two bits. */
static _Atomic uint64_t*
doppelmod_flag_word(struct doppelmod_env* g, uint64_t h, uint64_t* bits)
{
	*bits = (1ULL << ((h >> 40) & 63)) | (1ULL << ((h >> 52) & 63));
	return &g->flagged[h & (DOPPELMOD_FLAG_WORDS - 1)];
}

static void
doppelmod_flag(struct doppelmod_env* g, const uint8_t* name, size_t len)
{
	uint64_t bits;
	_Atomic uint64_t* w = doppelmod_flag_word(g,
		doppelmod_name_hash(name, len), &bits);
	atomic_fetch_or_explicit(w, bits, memory_order_relaxed);
}

/** Was a reply for this name flagged since the last policy swap?  False
 * positives only cost a check. */
static int
doppelmod_maybe_flagged(struct doppelmod_env* g, uint64_t name_hash)
{
	uint64_t bits;
	_Atomic uint64_t* w = doppelmod_flag_word(g, name_hash, &bits);
	return (atomic_load_explicit(w, memory_order_relaxed) & bits) == bits;
}

void
doppelmod_flags_clear(struct doppelmod_env* g)
{
	size_t i;
	for(i = 0; i < DOPPELMOD_FLAG_WORDS; i++)
		atomic_store_explicit(&g->flagged[i], 0, memory_order_relaxed);
	pthread_mutex_lock(&g->reasons_mx);
	memset(g->reasons, 0, sizeof(g->reasons));
	pthread_mutex_unlock(&g->reasons_mx);
	pthread_mutex_lock(&g->hits_mx);
	memset(g->hits, 0, sizeof(g->hits));
	pthread_mutex_unlock(&g->hits_mx);
}

/** Keep the reason of a blocked answer for its repeats from the cache. */
static void
doppelmod_reason_keep(struct doppelmod_env* g, const uint8_t* name,
	size_t len, const char* text)
{
	uint64_t h = doppelmod_name_hash(name, len) | 1;
	struct doppelmod_reason* r = &g->reasons[h & (DOPPELMOD_REASONS - 1)];
	pthread_mutex_lock(&g->reasons_mx);
	r->hash = h;
	snprintf(r->text, sizeof(r->text), "%s", text);
	pthread_mutex_unlock(&g->reasons_mx);
}

/** The reason kept for a name, into text. @return 0 if none. */
static int
doppelmod_reason_find(struct doppelmod_env* g, const uint8_t* name,
	size_t len, char* text, size_t cap)
{
	uint64_t h = doppelmod_name_hash(name, len) | 1;
	struct doppelmod_reason* r = &g->reasons[h & (DOPPELMOD_REASONS - 1)];
	int found;
	pthread_mutex_lock(&g->reasons_mx);
	if((found = r->hash == h))
		snprintf(text, cap, "%s", r->text);
	pthread_mutex_unlock(&g->reasons_mx);
	return found;
}

/** Keep a copy of a verdict whose strings outlive the policy (and the
 * verdict cache record) they point into. */
static void
doppelmod_noted_set(struct doppelmod_noted* s, const struct dp_verdict* v,
	const char* stage)
{
	s->v = *v;
	s->stage = stage;
	s->target[0] = s->technique[0] = 0;
	if(v->target)
		dp_strlcpy(s->target, v->target, sizeof(s->target));
	if(v->technique)
		dp_strlcpy(s->technique, v->technique, sizeof(s->technique));
	s->v.target = v->target ? s->target : NULL;
	s->v.technique = v->technique ? s->technique : NULL;
}

/** Keep the verdict on a flagged query name for its repeats from the
 * message cache.  Called under the policy lock (g->policy_hash). */
static void
doppelmod_hit_keep(struct doppelmod_env* g, const uint8_t* qname,
	size_t len, const struct dp_verdict* v)
{
	uint64_t h = doppelmod_name_hash(qname, len) | 1;
	struct doppelmod_hit* e = &g->hits[h & (DOPPELMOD_HITS - 1)];
	if(v->action == DP_ALLOW || len > sizeof(e->qname))
		return;
	pthread_mutex_lock(&g->hits_mx);
	e->hash = h;
	e->policy = g->policy_hash;
	e->qname_len = len;
	memcpy(e->qname, qname, len);
	doppelmod_noted_set(&e->n, v, "name");
	pthread_mutex_unlock(&g->hits_mx);
}

/**
 * The verdict kept for a flagged query name (doppelmod_hit_keep) under
 * the policy in force, into s as doppelmod_noted_set would make it.
 * Called under the policy lock.  @return 0 if none is kept.
 */
static int
doppelmod_hit_find(struct doppelmod_env* g, uint64_t name_hash,
	const uint8_t* qname, size_t len, struct doppelmod_noted* s)
{
	uint64_t h = name_hash | 1;
	struct doppelmod_hit* e = &g->hits[h & (DOPPELMOD_HITS - 1)];
	int found;
	pthread_mutex_lock(&g->hits_mx);
	found = e->hash == h && e->policy == g->policy_hash &&
		e->qname_len == len && query_dname_compare(e->qname,
		(uint8_t*)qname) == 0;
	if(found)
		doppelmod_noted_set(s, &e->n.v, "name");
	pthread_mutex_unlock(&g->hits_mx);
	return found;
}

/** The first address of the answer section into out (4 or 16 octets):
 * what a verdict on the answer's countries matched, for dnstap.
 * @return its length, 0 if there is none. */
static size_t
doppelmod_first_address(const struct reply_info* rep, uint8_t* out)
{
	size_t i, j;
	for(i = 0; rep && i < rep->an_numrrsets && i < rep->rrset_count; i++) {
		struct ub_packed_rrset_key* k = rep->rrsets[i];
		struct packed_rrset_data* d =
			(struct packed_rrset_data*)k->entry.data;
		uint16_t t = ntohs(k->rk.type);
		size_t want = t == LDNS_RR_TYPE_A ? 4 :
			t == LDNS_RR_TYPE_AAAA ? 16 : 0;
		for(j = 0; want && j < d->count; j++)
			if(d->rr_len[j] == 2 + want) {
				memcpy(out, d->rr_data[j] + 2, want);
				return want;
			}
	}
	return 0;
}

/** Keep a verdict for the audit record of this query's reply, and the
 * name it was made on (wire format; NULL for a verdict on the answer's
 * countries). */
static void
doppelmod_note(struct module_qstate* qstate, struct doppelmod_env* g,
	const struct dp_verdict* v, const char* stage,
	const uint8_t* matched, int id)
{
	struct doppelmod_qstate* mq = qstate->minfo[id];
	struct doppelmod_noted* s;
	if(v->action != DP_ALLOW) {
		doppelmod_flag(g, qstate->qinfo.qname, qstate->qinfo.qname_len);
		dp_counters_verdict(g->counters, v, g->settings.monitor);
	}
	if((!g->audit && !g->dnstap) || !mq)
		return;
	/* Only audit all writes a reply with nothing flagged: else a first
	 * allow verdict would be noted for nothing (a later note replaces
	 * the one before it, so none is the same as an allow). */
	if(v->action == DP_ALLOW && !mq->noted &&
		g->settings.audit != DP_AUDIT_ALL)
		return;
	if(!(s = mq->noted) && !(s = mq->noted = regional_alloc(qstate->region,
		sizeof(*s))))
		return;
	doppelmod_noted_set(s, v, stage);
	s->matched_len = 0;
	s->addr_len = 0;
	if(!matched && qstate->return_msg)
		s->addr_len = doppelmod_first_address(qstate->return_msg->rep,
			s->addr);
	if(matched) {
		/* a name from a packet Unbound has parsed: uncompressed,
		 * within 255 octets; measured with a bound all the same */
		size_t n = 0;
		while(n < sizeof(s->matched) && matched[n] &&
			n + 1 + matched[n] < sizeof(s->matched))
			n += 1 + (size_t)matched[n];
		if(n < sizeof(s->matched) && !matched[n]) {
			memcpy(s->matched, matched, n + 1);
			s->matched_len = n + 1;
		}
	}
}

/** Log a verdict that is not allow, when the settings ask for it. */
static void
doppelmod_log_verdict(struct doppelmod_env* g, struct module_qstate* qstate,
	const char* name, const struct dp_verdict* v, const char* via)
{
	char qname[DP_NAME_MAX], qtype[32];
	if(!g->settings.log_verdicts || v->action == DP_ALLOW)
		return;
	type_str(qstate->qinfo.qtype, qtype, sizeof(qtype));
	if(dp_name_from_wire(qstate->qinfo.qname, qstate->qinfo.qname_len,
		qname, sizeof(qname)) != DP_OK)
		strcpy(qname, "?");
	log_info("doppel: %s %s %s: %s%s%s%s%s%s of %s, score %.2f: %s",
		g->settings.monitor && v->action == DP_BLOCK ? "would-block" :
		dp_action_str(v->action), qname, qtype, via ? "via " : "",
		via ? via : "", via ? " " : "", via ? name : "",
		via ? ": " : "", v->technique, v->target, v->score, v->why);
}

/** The text of Extended DNS Error 15 for a verdict. */
static void
doppelmod_ede_text(const struct dp_verdict* v, char* ede, size_t cap)
{
	snprintf(ede, cap, "doppel: %s of %s: %s",
		v->technique ? v->technique : "lookalike",
		v->target ? v->target : "?", v->why);
}

/**
 * Block the query: answer NXDOMAIN with the SOA of the lookalike zone (the
 * trailing zone_labels labels of name) and cache that answer.
 */
static void
doppelmod_block(struct module_qstate* qstate, struct doppelmod_env* g,
	uint8_t* name, const struct dp_verdict* v, int id)
{
	size_t len;
	uint8_t* apex;
	struct dns_msg* msg;
	if(g->settings.monitor) {
		/* Monitor mode: logged and audited as would-block, the
		 * answer left as it is (on the way down, the query goes on
		 * to be resolved). */
		qstate->ext_state[id] = qstate->return_msg ? module_finished :
			module_wait_module;
		return;
	}
	len = dname_valid(name, LDNS_MAX_DOMAINLEN + 1);
	apex = doppelmod_zone_of(name, &len, v->zone_labels);
	msg = doppelmod_nxdomain_msg(qstate, g, &qstate->qinfo, apex, len);
	if(!msg) {
		log_err("doppel: out of memory answering a blocked name");
		dp_counters_add(g->counters, DP_CTR_ERR_NOMEM, 1);
		qstate->ext_state[id] = module_error;
		return;
	}
	qstate->return_msg = msg;
	/* The rcode travels in the reply flags; return_rcode stays NOERROR
	 * or the mesh would send a bare error without the SOA. */
	qstate->return_rcode = LDNS_RCODE_NOERROR;
	/* RFC 8914 Extended DNS Error 15, Blocked; repeats answered from
	 * the message cache get it from doppelmod_reply_cb. */
	{
		char ede[256];
		doppelmod_ede_text(v, ede, sizeof(ede));
		(void)edns_opt_list_append_ede(&qstate->edns_opts_front_out,
			qstate->region, LDNS_EDE_BLOCKED, ede);
		doppelmod_reason_keep(g, qstate->qinfo.qname,
			qstate->qinfo.qname_len, ede);
	}
	doppelmod_cache_store(qstate, g, msg);
	qstate->ext_state[id] = module_finished;
}

/** On the way down: check the queried name. */
static void
doppelmod_check_query(struct module_qstate* qstate, struct doppelmod_env* g,
	int id)
{
	struct doppelmod_qstate* mq;
	struct dp_verdict v;
	struct dp_vrecord rec;
	char text[DP_NAME_MAX];

	if(!g || !g->policy) {
		if(g && g->settings.on_error == DP_ON_ERROR_CLOSED) {
			qstate->return_rcode = LDNS_RCODE_SERVFAIL;
			qstate->ext_state[id] = module_finished;
			return;
		}
		qstate->ext_state[id] = module_wait_module;
		return;
	}
	if(!(mq = regional_alloc_zero(qstate->region, sizeof(*mq)))) {
		log_err("doppel: out of memory");
		dp_counters_add(g->counters, DP_CTR_ERR_NOMEM, 1);
		qstate->ext_state[id] = module_error;
		return;
	}
	mq->state = DOPPELMOD_PASSED_DOWN;
	qstate->minfo[id] = mq;
	dp_counters_add(g->counters, DP_CTR_QUERIES, 1);
	if(doppelmod_check_name(g, qstate, qstate->qinfo.qname,
		qstate->qinfo.qname_len, &v, text, &rec, 1)) {
		doppelmod_note(qstate, g, &v, "name", qstate->qinfo.qname,
			id);
		doppelmod_hit_keep(g, qstate->qinfo.qname,
			qstate->qinfo.qname_len, &v);
		mq->qname_listed = v.listed;
	} else
		mq->qname_listed = DP_LISTED_NONE;
	mq->qname_checked = 1;
	mq->qname_policy = g->policy_hash;
	if(v.action == DP_BLOCK) {
		doppelmod_log_verdict(g, qstate, text, &v, NULL);
		doppelmod_block(qstate, g, qstate->qinfo.qname, &v, id);
		return;
	}
	doppelmod_log_verdict(g, qstate, text, &v, NULL);
	qstate->ext_state[id] = module_wait_module;
}

/** Add the country of an A or AAAA rdata to the list, once. */
static void
doppelmod_add_country(struct doppelmod_env* g, uint16_t type, uint8_t* rd,
	size_t rdlen, char (*cc)[3], size_t* n)
{
	struct sockaddr_storage ss;
	char c[3];
	size_t i;
	memset(&ss, 0, sizeof(ss));
	if(type == LDNS_RR_TYPE_A && rdlen == 2 + 4) {
		struct sockaddr_in* s4 = (struct sockaddr_in*)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, rd + 2, 4);
	} else if(type == LDNS_RR_TYPE_AAAA && rdlen == 2 + 16) {
		struct sockaddr_in6* s6 = (struct sockaddr_in6*)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, rd + 2, 16);
	} else
		return;
	/* An address the database does not place is neutral. */
	dp_counters_add(g->counters, DP_CTR_GEO_LOOKUPS, 1);
	if(!dp_geo_country(g->geo, (struct sockaddr*)&ss, c))
		return;
	for(i = 0; i < *n; i++)
		if(cc[i][0] == c[0] && cc[i][1] == c[1])
			return;
	if(*n < DOPPELMOD_MAX_CC)
		memcpy(cc[(*n)++], c, 3);
}

/** Add the countries of every A/AAAA rrset (in rrsets [from, to)) whose
 * owner is name, or of all of them when name is NULL; with own, only of
 * those whose owner is the owner's own (doppelmod_owned). */
static void
doppelmod_rrset_countries(struct doppelmod_env* g,
	struct module_qstate* qstate, struct reply_info* rep, size_t from,
	size_t to, uint8_t* name, int own, char (*cc)[3], size_t* n)
{
	size_t i, j;
	for(i = from; i < to && i < rep->rrset_count; i++) {
		struct ub_packed_rrset_key* k = rep->rrsets[i];
		struct packed_rrset_data* d =
			(struct packed_rrset_data*)k->entry.data;
		uint16_t t = ntohs(k->rk.type);
		if(t != LDNS_RR_TYPE_A && t != LDNS_RR_TYPE_AAAA)
			continue;
		if(name && query_dname_compare(k->rk.dname, name) != 0)
			continue;
		if(own && !doppelmod_owned(g, qstate, k->rk.dname,
			k->rk.dname_len, NULL))
			continue;
		for(j = 0; j < d->count; j++)
			doppelmod_add_country(g, t, d->rr_data[j], d->rr_len[j],
				cc, n);
	}
}

/**
 * Start subqueries for the addresses of the MX exchanges of the answer
 * that came without glue (a few at most); with own, only of those that
 * are the owner's own names.
 * @return number started.
 */
static int
doppelmod_start_subs(struct module_qstate* qstate, struct doppelmod_env* g,
	struct doppelmod_qstate* mq, int own, int id)
{
	struct reply_info* rep = qstate->return_msg->rep;
	size_t i, j, an = rep->an_numrrsets;
	int started = 0;
	for(i = 0; i < an && i < rep->rrset_count; i++) {
		struct ub_packed_rrset_key* k = rep->rrsets[i];
		struct packed_rrset_data* d =
			(struct packed_rrset_data*)k->entry.data;
		if(ntohs(k->rk.type) != LDNS_RR_TYPE_MX)
			continue;
		for(j = 0; j < d->count; j++) {
			uint8_t* ex = d->rr_data[j] + 4;
			size_t k2, exlen;
			int glue = 0, t;
			if(d->rr_len[j] <= 2 + 2 + 1 || started >=
				2 * DOPPELMOD_MAX_SUBS)
				continue;
			exlen = dname_valid(ex, d->rr_len[j] - 4);
			if(exlen == 0 || (own && !doppelmod_owned(g, qstate, ex,
				exlen, NULL)))
				continue;
			for(k2 = an; k2 < rep->rrset_count; k2++) {
				uint16_t tt = ntohs(rep->rrsets[k2]->rk.type);
				if((tt == LDNS_RR_TYPE_A || tt == LDNS_RR_TYPE_AAAA)
					&& query_dname_compare(
					rep->rrsets[k2]->rk.dname, ex) == 0)
					glue = 1;
			}
			if(glue)
				continue;
			for(t = 0; t < 2; t++) {
				struct query_info qi;
				struct module_qstate* sub = NULL;
				memset(&qi, 0, sizeof(qi));
				qi.qname = regional_alloc_init(qstate->region, ex,
					exlen);
				if(!qi.qname)
					return started;
				qi.qname_len = exlen;
				qi.qtype = t ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A;
				qi.qclass = LDNS_RR_CLASS_IN;
				if((*qstate->env->detect_cycle)(qstate, &qi,
					(uint16_t)BIT_RD, 0, 0))
					continue;
				if(!(*qstate->env->attach_sub)(qstate, &qi,
					(uint16_t)BIT_RD, 0, 0, &sub)) {
					log_err("doppel: out of memory starting a "
						"subquery");
					return started;
				}
				started++;
			}
		}
	}
	mq->pending += started;
	(void)id;
	return started;
}

/**
 * Weigh the countries collected for the queried name.
 * @return 1 if the verdict is now block (v holds it).
 */
static int
doppelmod_decide_countries(struct module_qstate* qstate,
	struct doppelmod_env* g, const char (*cc)[3], size_t n,
	struct dp_verdict* v, char* text, struct dp_vrecord* rec, int id)
{
	struct reply_info* rep = qstate->return_msg->rep;
	size_t i;
	if(n == 0)
		return 0;
	/* The queried name, then the other names of the answer's chain: a
	 * weak lookalike reached through a clean alias is weighed too. */
	for(i = 0; i <= rep->an_numrrsets && i <= rep->rrset_count; i++) {
		uint8_t* name = qstate->qinfo.qname;
		size_t len = qstate->qinfo.qname_len;
		if(i > 0) {
			struct ub_packed_rrset_key* k = rep->rrsets[i - 1];
			if(i - 1 >= rep->rrset_count ||
				query_dname_compare(k->rk.dname, name) == 0)
				continue;
			name = k->rk.dname;
			len = k->rk.dname_len;
		}
		/* recorded below, once, if the answers change anything */
		if(!doppelmod_check_name(g, qstate, name, len, v, text, rec,
			0) ||
			!dp_policy_check_answer(g->policy, text, cc, n, v))
			continue;
		doppelmod_log_verdict(g, qstate, text, v, i ? "alias" : NULL);
		doppelmod_note(qstate, g, v, "answer", NULL, id);
		/* A verdict made from this answer holds as long as the
		 * answer does, not verdict-ttl: one odd answer must not
		 * block the name for a day. */
		if(g->vcache && v->action != DP_ALLOW)
			dp_vcache_note(g->vcache, text, v, g->policy_hash,
				(uint64_t)*qstate->env->now,
				rep->ttl < (time_t)g->settings.verdict_ttl ?
				(uint32_t)(rep->ttl > 0 ? rep->ttl : 0) :
				g->settings.verdict_ttl);
		if(v->action != DP_BLOCK)
			continue;
		if(i > 0 && !g->settings.monitor) {
			/* The iterator cached the member's own answer while
			 * following the chain: replace it too. */
			doppelmod_replace_cached(qstate, g, name, len,
				v->zone_labels);
			v->zone_labels = dname_count_labels(
				qstate->qinfo.qname) - 1;
		}
		return 1;
	}
	return 0;
}

/** What the geo stage asks of the caller. */
enum geo_step { GEO_DONE, GEO_BLOCK, GEO_WAIT };

/**
 * The geo stage: the countries of the answer's addresses (A/AAAA in the
 * answer section; for MX, the exchanges' addresses from the additional
 * section, or from subqueries when they came without glue), weighed
 * against the queried name's verdict.
 * @param listed: how the policy lists the queried name (doppelmod_owned).
 */
static enum geo_step
doppelmod_check_countries(struct module_qstate* qstate,
	struct doppelmod_env* g, enum dp_listed listed, struct dp_verdict* v,
	char* text, struct dp_vrecord* rec, int id)
{
	struct reply_info* rep = qstate->return_msg->rep;
	struct doppelmod_qstate* mq = qstate->minfo[id];
	size_t n = 0, i, j, an = rep->an_numrrsets;
	char cc[DOPPELMOD_MAX_CC][3];
	/* A protected name answers from its own zone; where its chain or
	 * its mail leaves for another's name (a CDN edge near the client, a
	 * mail host), the addresses are that name's, and a country check
	 * on them would call every query a hijack.  Only its own names'
	 * addresses are weighed for it. */
	int own = listed == DP_LISTED_PROTECTED;
	doppelmod_rrset_countries(g, qstate, rep, 0, an, NULL, own, cc, &n);
	for(i = 0; i < an && i < rep->rrset_count; i++) {
		struct ub_packed_rrset_key* k = rep->rrsets[i];
		struct packed_rrset_data* d =
			(struct packed_rrset_data*)k->entry.data;
		if(ntohs(k->rk.type) != LDNS_RR_TYPE_MX)
			continue;
		/* rdata: rdlength, preference, exchange */
		for(j = 0; j < d->count; j++)
			if(d->rr_len[j] > 2 + 2 + 1)
				doppelmod_rrset_countries(g, qstate, rep, an,
					rep->rrset_count, d->rr_data[j] + 4,
					own, cc, &n);
	}
	/* Subqueries only when the answers matter for this name. */
	if(mq && qstate->qinfo.qtype == LDNS_RR_TYPE_MX) {
		if(doppelmod_check_name(g, qstate, qstate->qinfo.qname,
			qstate->qinfo.qname_len, v, text, rec, 0) &&
			dp_policy_expected_countries(g->policy, text, v) &&
			doppelmod_start_subs(qstate, g, mq, own, id) > 0) {
			memcpy(mq->cc, cc, sizeof(cc));
			mq->ncc = n;
			mq->state = DOPPELMOD_WAIT_SUBS;
			return GEO_WAIT;
		}
	}
	return doppelmod_decide_countries(qstate, g, (const char(*)[3])cc, n,
		v, text, rec, id) ? GEO_BLOCK : GEO_DONE;
}

/**
 * On the way back: check the owner names and alias targets in the answer
 * section.  The queried name itself was checked on the way down.
 */
static void
doppelmod_check_answer(struct module_qstate* qstate, struct doppelmod_env* g,
	int id)
{
	struct reply_info* rep;
	struct dp_verdict v;
	struct dp_vrecord rec;
	char text[DP_NAME_MAX];
	const char* via = "alias";
	uint8_t* hit = NULL;
	size_t i;
	enum dp_listed listed;
	struct doppelmod_qstate* mq;
	int owned;

	qstate->ext_state[id] = module_finished;
	if(!g || !g->policy || !qstate->return_msg || !qstate->return_msg->rep)
		return;
	rep = qstate->return_msg->rep;
	/* A chain that starts at, or passes through, the owner's own name
	 * is the owner's delegation from there on: www.army.mil CNAME
	 * www.army.mil.edgekey.net is Akamai fronting army.mil, and its
	 * mail may go to army-mil.mail.protection.outlook.com.  A foreign
	 * name aliased into such a name is still caught, by its own
	 * link.  The answer section holds the chain in order. */
	mq = qstate->minfo[id];
	if(mq && mq->qname_checked && mq->qname_policy == g->policy_hash) {
		/* weighed on the way down, under this policy */
		listed = mq->qname_listed;
		owned = listed != DP_LISTED_NONE;
	} else
		owned = doppelmod_owned(g, qstate, qstate->qinfo.qname,
			qstate->qinfo.qname_len, &listed);
	for(i = 0; i < rep->an_numrrsets && i < rep->rrset_count && !owned;
		i++) {
		struct ub_packed_rrset_key* k = rep->rrsets[i];
		struct packed_rrset_data* d =
			(struct packed_rrset_data*)k->entry.data;
		uint16_t t = ntohs(k->rk.type);
		size_t j;
		hit = k->rk.dname;
		via = "alias";
		if(!doppelmod_same_name(hit, k->rk.dname_len,
			qstate->qinfo.qname, qstate->qinfo.qname_len) &&
			doppelmod_check_name(g, qstate, hit, k->rk.dname_len, &v,
			text, &rec, 1)) {
			if(v.action == DP_BLOCK)
				goto block;
			if(v.listed != DP_LISTED_NONE)
				break;
		}
		if(t != LDNS_RR_TYPE_CNAME && t != LDNS_RR_TYPE_DNAME &&
			t != LDNS_RR_TYPE_MX)
			continue;
		for(j = 0; j < d->count; j++) {
			/* rdata: 2 octets rdlength, then the target name (for
			 * MX, after 2 octets of preference): mail for a clean
			 * name must not go to a lookalike's exchange either */
			size_t skip = t == LDNS_RR_TYPE_MX ? 4 : 2;
			if(d->rr_len[j] < skip + 1)
				continue;
			via = t == LDNS_RR_TYPE_MX ? "exchange" : "alias";
			hit = d->rr_data[j] + skip;
			if(!doppelmod_check_name(g, qstate, hit,
				d->rr_len[j] - skip, &v, text, &rec, 1))
				continue;
			if(v.action == DP_BLOCK)
				goto block;
			/* aliased into the owner's own name: the rest of the
			 * chain is the owner's */
			if(v.listed != DP_LISTED_NONE && t != LDNS_RR_TYPE_MX)
				owned = 1;
		}
	}
	if(g->geo && g->policy_countries) {
		switch(doppelmod_check_countries(qstate, g, listed, &v, text,
			&rec, id)) {
		case GEO_BLOCK:
			/* The queried name's answers lie where its target
			 * does not: block the name itself. */
			doppelmod_block(qstate, g, qstate->qinfo.qname, &v, id);
			break;
		case GEO_WAIT:
			qstate->ext_state[id] = module_wait_subquery;
			break;
		case GEO_DONE:
			break;
		}
	}
	return;
block:
	doppelmod_log_verdict(g, qstate, text, &v, via);
	doppelmod_note(qstate, g, &v, via, hit, id);
	/* The iterator has cached its answer for the lookalike itself while
	 * following the chain; replace it, or a direct query for that name
	 * would be answered from the cache without reaching doppel. */
	if(via[0] == 'a' && !g->settings.monitor &&
		query_dname_compare(hit, qstate->qinfo.qname) != 0)
		doppelmod_replace_cached(qstate, g, hit, dname_valid(hit,
			LDNS_MAX_DOMAINLEN + 1), v.zone_labels);
	/* The SOA apex of the answer is the queried name: the lookalike is
	 * elsewhere in the chain, and the queried name's zone is not known
	 * here. */
	v.zone_labels = dname_count_labels(qstate->qinfo.qname) - 1;
	doppelmod_block(qstate, g, qstate->qinfo.qname, &v, id);
}

/** A subquery came back; when all have, weigh the countries. */
static void
doppelmod_subs_back(struct module_qstate* qstate, struct doppelmod_env* g,
	int id)
{
	struct doppelmod_qstate* mq = qstate->minfo[id];
	struct dp_verdict v;
	struct dp_vrecord rec;
	char text[DP_NAME_MAX];
	if(mq->pending > 0) {
		qstate->ext_state[id] = module_wait_subquery;
		return;
	}
	qstate->ext_state[id] = module_finished;
	mq->state = DOPPELMOD_PASSED_DOWN;
	if(!g || !g->policy || !qstate->return_msg || !qstate->return_msg->rep)
		return;
	if(doppelmod_decide_countries(qstate, g, (const char(*)[3])mq->cc,
		mq->ncc, &v, text, &rec, id))
		doppelmod_block(qstate, g, qstate->qinfo.qname, &v, id);
}

/** Send a reply's audit record as dnstap: the client, the question, the
 * answer as it goes out (for a flagged reply), and the policy. */
static void
doppelmod_dnstap(struct doppelmod_env* g, struct query_info* qinfo,
	struct reply_info* rep, int rcode, struct comm_reply* repinfo,
	struct regional* region, int from_cache,
	const struct dp_audit_rec* r, const struct doppelmod_noted* noted)
{
	/* per thread, not on the reply callback's small stack */
	static _Thread_local uint8_t wire[4096];
	struct dp_dnstap_rec t;
	char rule[DP_NAME_MAX + 48];
	const struct dp_verdict* v = r->v;
	memset(&t, 0, sizeof(t));
	t.usec = r->usec;
	if(repinfo && repinfo->remote_addr.ss_family == AF_INET) {
		struct sockaddr_in* a = (struct sockaddr_in*)&repinfo->remote_addr;
		t.family = AF_INET;
		memcpy(t.addr, &a->sin_addr, 4);
		t.port = ntohs(a->sin_port);
	} else if(repinfo && repinfo->remote_addr.ss_family == AF_INET6) {
		struct sockaddr_in6* a =
			(struct sockaddr_in6*)&repinfo->remote_addr;
		t.family = AF_INET6;
		memcpy(t.addr, &a->sin6_addr, 16);
		t.port = ntohs(a->sin6_port);
	}
	t.tcp = repinfo && repinfo->c && repinfo->c->type != comm_udp;
	t.qname = qinfo->qname;
	t.qname_len = qinfo->qname_len;
	t.qtype = qinfo->qtype;
	t.qclass = qinfo->qclass;
	t.rcode = rcode;
	/* The answer as the client gets it (TTLs of a cached one count
	 * down from now), for a flagged reply. */
	if(v->action != DP_ALLOW && rep && region &&
		FLAGS_GET_RCODE(rep->flags) == rcode) {
		sldns_buffer b;
		sldns_buffer_init_frm_data(&b, wire, sizeof(wire));
		if(reply_info_encode(qinfo, rep, 0, (uint16_t)rep->flags, &b,
			from_cache ? time(NULL) : 0, region,
			(uint16_t)sizeof(wire), 0, 0)) {
			t.response = sldns_buffer_begin(&b);
			t.response_len = sldns_buffer_limit(&b);
		}
	}
	if(v->technique && v->target)
		snprintf(rule, sizeof(rule), "%s %s", v->technique, v->target);
	else
		snprintf(rule, sizeof(rule), "%s",
			v->action == DP_ALLOW ? "allow" : "doppel");
	t.rule = rule;
	t.action = v->action == DP_BLOCK && !r->monitor ? DP_DNSTAP_NXDOMAIN :
		DP_DNSTAP_PASS;
	t.match = DP_DNSTAP_QNAME;
	if(noted && strcmp(noted->stage, "answer") == 0) {
		t.match = DP_DNSTAP_RESPONSE_IP;
		t.value = noted->addr;
		t.value_len = noted->addr_len;
	} else if(noted && noted->matched_len) {
		t.value = noted->matched;
		t.value_len = noted->matched_len;
	} else {
		t.value = qinfo->qname;
		t.value_len = qinfo->qname_len;
	}
	dp_dnstap_write(g->dnstap, &t);
}

/**
 * Inplace callback on every reply to a client, cache hits included (they
 * never reach operate()): write its audit record (to the log, and as
 * dnstap).
 */
static int
doppelmod_reply_cb(struct query_info* qinfo, struct module_qstate* qstate,
	struct reply_info* rep, int rcode, struct edns_data* edns,
	struct edns_option** opt_list_out, struct comm_reply* repinfo,
	struct regional* region, struct timeval* start_time, int id,
	void* arg)
{
	struct doppelmod_env* g = arg;
	struct doppelmod_qstate* mq = qstate ? qstate->minfo[id] : NULL;
	struct doppelmod_noted cached;
	struct dp_audit_rec r;
	struct dp_verdict allow;
	struct timeval now;
	char name[DP_NAME_MAX], client[128], qtype[32], rc[32];
	struct dp_vrecord rec;
	uint64_t qhash = 0;
	int hit_clean;
	(void)edns;
	(void)start_time;
	if(!g)
		return 1;
	doppelmod_take_mail(g, DOPPELMOD_IN_CALLBACK);
	/* A cache hit of a name never flagged: nothing to work out again,
	 * and in flagged mode nothing to write. */
	if(!qstate) {
		qhash = doppelmod_name_hash(qinfo->qname, qinfo->qname_len);
		hit_clean = !doppelmod_maybe_flagged(g, qhash);
	} else
		hit_clean = 0;
	if(!g->audit && !g->dnstap && (qstate || hit_clean))
		return 1;
	if(hit_clean && g->settings.audit != DP_AUDIT_ALL)
		return 1;
	/* A reply worked out by operate() with nothing flagged: in flagged
	 * mode there is nothing to write either. */
	if(qstate && g->settings.audit != DP_AUDIT_ALL && (!mq || !mq->noted ||
		mq->noted->v.action == DP_ALLOW))
		return 1;
	memset(&r, 0, sizeof(r));
	memset(&allow, 0, sizeof(allow));
	/* the record takes the name as it came; the audit log makes it text
	 * when it writes the record (a repeat it counts needs none) */
	r.qname_wire = qinfo->qname;
	r.qname_wire_len = qinfo->qname_len;
	if(mq && mq->noted) {
		r.v = &mq->noted->v;
		r.stage = mq->noted->stage;
	} else if(hit_clean) {
		r.from_cache = 1;
	} else if(!qstate) {
		/* A cache hit: the verdict of the name, worked out again.
		 * Unbound holds the cached entry's lock while it calls this,
		 * and operate() takes cache locks under the policy lock: only
		 * try the policy lock (it fails only while the watcher swaps
		 * policies), or the two orders could deadlock. */
		if(pthread_rwlock_tryrdlock(&g->lock) != 0)
			return 1;
		if(g->policy) {
			/* the verdict kept when the name was resolved, else
			 * the verdict cache's: a flagged name asked again
			 * and again should not be weighed each time */
			if(!doppelmod_hit_find(g, qhash, qinfo->qname,
				qinfo->qname_len, &cached)) {
				struct dp_verdict v;
				if(dp_name_from_wire(qinfo->qname,
					qinfo->qname_len, name, sizeof(name)) !=
					DP_OK) {
					pthread_rwlock_unlock(&g->lock);
					return 1;
				}
				dp_checker_check(&g->chk, name,
					(uint64_t)time(NULL), 0, &rec, &v);
				doppelmod_noted_set(&cached, &v, "name");
				doppelmod_hit_keep(g, qinfo->qname,
					qinfo->qname_len, &v);
			}
			r.v = &cached.v;
		}
		pthread_rwlock_unlock(&g->lock);
		r.stage = "name";
		r.from_cache = 1;
	}
	if(!r.v) {
		allow.action = DP_ALLOW;
		r.v = &allow;
		r.stage = "name";
	}
	if(!rcode && rep)
		rcode = FLAGS_GET_RCODE(rep->flags);
	/* A blocked answer repeated from the message cache carries the
	 * reason as the first one did. */
	if(!qstate && rcode == LDNS_RCODE_NXDOMAIN && !g->settings.monitor &&
		opt_list_out && region) {
		char ede[256];
		int have = doppelmod_reason_find(g, qinfo->qname,
			qinfo->qname_len, ede, sizeof(ede));
		if(!have && r.v->action == DP_BLOCK) {
			doppelmod_ede_text(r.v, ede, sizeof(ede));
			have = 1;
		}
		if(have)
			(void)edns_opt_list_append_ede(opt_list_out, region,
				LDNS_EDE_BLOCKED, ede);
	}
	if((!g->audit && !g->dnstap) || (g->settings.audit != DP_AUDIT_ALL &&
		r.v->action == DP_ALLOW))
		return 1;
	rcode_str(rcode, rc, sizeof(rc));
	type_str(qinfo->qtype, qtype, sizeof(qtype));
	client[0] = 0;
	if(repinfo)
		client_str(&repinfo->remote_addr, repinfo->remote_addrlen,
			client, sizeof(client));
	gettimeofday(&now, NULL);
	r.usec = (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_usec;
	r.client = client;
	r.qtype = qtype;
	r.rcode = rc;
	r.monitor = g->settings.monitor;
	if(g->audit)
		dp_audit_write(g->audit, &r);
	if(g->dnstap)
		doppelmod_dnstap(g, qinfo, rep, rcode, repinfo, region,
			r.from_cache, &r, mq ? mq->noted : NULL);
	return 1;
}

/** The reply lists the audit callback sits on; without an audit log,
 * only the first (cache hits, which never reach operate()), for the
 * mailbox and the reason (EDE) of blocked answers from the cache. */
static const enum inplace_cb_list_type doppelmod_audit_lists[] = {
	inplace_cb_reply_cache, inplace_cb_reply, inplace_cb_reply_servfail
};

/** Put the reply callback on its lists. */
static void
doppelmod_callbacks(struct doppelmod_env* g, struct dynlibmod_env* de,
	struct module_env* env, int id)
{
	/* dynlib takes the callback as void*; ISO C has no cast from a
	 * function pointer to one, so copy its bytes. */
	inplace_cb_reply_func_type* f = &doppelmod_reply_cb;
	void* cb;
	size_t n = 0, k;
	memcpy(&cb, &f, sizeof(cb));
	if(g->audit || g->dnstap)
		n = sizeof(doppelmod_audit_lists) /
			sizeof(doppelmod_audit_lists[0]);
	else
		n = 1;
	for(k = 0; k < n; k++) {
		if(!de->inplace_cb_register_wrapped(cb,
			doppelmod_audit_lists[k], g, env, id)) {
			log_err("doppel: cannot register the reply callback");
			break;
		}
		g->ncallbacks = k + 1;
	}
}

DOPPELMOD_EXPORT int
init(struct module_env* env, int id)
{
	struct dynlibmod_env* de = (struct dynlibmod_env*)env->modinfo[id];
	struct doppelmod_env* g;
	struct dp_error err;
	const char* path = getenv(DP_SETTINGS_ENV);
	dp_status st;

	doppelmod_pin();
	if(!path || !*path)
		path = DP_SETTINGS_DEFAULT_PATH;
	if(!(g = calloc(1, sizeof(*g)))) {
		log_err("doppel: out of memory");
		return 0;
	}
	/* without counters (out of memory) nothing is counted */
	g->counters = dp_counters_create();
	g->chk.counters = g->counters;

	pthread_rwlock_init(&g->lock, NULL);
	pthread_mutex_init(&g->watch_mx, NULL);
	pthread_mutex_init(&g->reasons_mx, NULL);
	pthread_mutex_init(&g->hits_mx, NULL);
	pthread_cond_init(&g->watch_cv, NULL);
	g->msg_cache = env->msg_cache;
	de->dyn_env = g;
	st = doppelmod_start(g, path);
#ifdef DOPPEL_GEOIP_DEFAULT
	/* No geoip: setting: the database `make` built, if it is there. */
	if(st == DP_OK && !g->settings.geoip[0] &&
		access(DOPPEL_GEOIP_DEFAULT, R_OK) == 0)
		snprintf(g->settings.geoip, sizeof(g->settings.geoip), "%s",
			DOPPEL_GEOIP_DEFAULT);
#endif
	if(st == DP_OK && g->settings.geoip[0] &&
		strcmp(g->settings.geoip, "off") != 0) {
		err.msg[0] = 0;
		if(dp_geo_open(g->settings.geoip, &g->geo, &err) != DP_OK)
			log_err("doppel: %s; going on without country checks",
				err.msg);
	}
	if(st == DP_OK && g->settings.audit && g->settings.audit_log[0]) {
		err.msg[0] = 0;
		if(dp_audit_open(g->settings.audit_log, doppelmod_audit_said,
			&g->audit, &err) != DP_OK)
			log_err("doppel: %s; going on without an audit log",
				err.msg);
		else
			dp_audit_set_collapse(g->audit,
				g->settings.audit_collapse);
	}
	if(st == DP_OK && g->settings.audit && g->settings.audit_dnstap[0]) {
		char host[256];
		if(gethostname(host, sizeof(host)) != 0)
			host[0] = 0;
		host[sizeof(host) - 1] = 0;
		err.msg[0] = 0;
		if(dp_dnstap_open(g->settings.audit_dnstap, host,
			doppelmod_audit_said, &g->dnstap, &err) != DP_OK)
			log_err("doppel: %s; going on without dnstap",
				err.msg);
	}
	if(st == DP_OK && g->settings.verdict_cache[0]) {
		err.msg[0] = 0;
		if(dp_vcache_open(g->settings.verdict_cache,
			g->settings.verdict_cache_size, 1, &g->vcache, &err)
			!= DP_OK)
			log_err("doppel: %s; going on without a verdict cache",
				err.msg);
		else
			dp_vcache_set_log(g->vcache, doppelmod_audit_said,
				g->settings.verdict_cache);
	}
	g->chk.vcache = g->vcache;
	g->chk.verdict_ttl = g->settings.verdict_ttl;
	if(st == DP_OK)
		doppelmod_watch_start(g);
	doppelmod_callbacks(g, de, env, id);
	return 1;
}

DOPPELMOD_EXPORT void
deinit(struct module_env* env, int id)
{
	struct dynlibmod_env* de = (struct dynlibmod_env*)env->modinfo[id];
	struct doppelmod_env* g;
	if(!de || !(g = de->dyn_env))
		return;
	doppelmod_watch_stop(g);
	while(g->ncallbacks > 0)
		de->inplace_cb_delete_wrapped(env,
			doppelmod_audit_lists[--g->ncallbacks], id);
	/* Write what is queued, then close. */
	dp_audit_close(g->audit);
	dp_dnstap_close(g->dnstap);
	dp_vcache_close(g->vcache);
	/* Our threads are gone: log what they left. */
	doppelmod_take_mail(g, DOPPELMOD_IN_DEINIT);
	dp_geo_close(g->geo);
	doppelmod_keep_for_reload(g);
	pthread_rwlock_destroy(&g->lock);
	pthread_mutex_destroy(&g->watch_mx);
	pthread_cond_destroy(&g->watch_cv);
	pthread_mutex_destroy(&g->reasons_mx);
	pthread_mutex_destroy(&g->hits_mx);
	dp_counters_free(g->counters);
	free(g);
	de->dyn_env = NULL;
}

DOPPELMOD_EXPORT void
operate(struct module_qstate* qstate, enum module_ev event, int id,
	struct outbound_entry* outbound)
{
	struct doppelmod_env* g = doppelmod_getenv(qstate->env, id);
	(void)outbound;
	/* Before the policy lock: a flush takes cache locks. */
	doppelmod_take_mail(g, DOPPELMOD_IN_OPERATE);
	if(g)
		pthread_rwlock_rdlock(&g->lock);
	if(event == module_event_new ||
		(event == module_event_pass && qstate->minfo[id] == NULL))
		doppelmod_check_query(qstate, g, id);
	else if(event == module_event_moddone)
		doppelmod_check_answer(qstate, g, id);
	else if(event == module_event_pass &&
		((struct doppelmod_qstate*)qstate->minfo[id])->state ==
		DOPPELMOD_WAIT_SUBS)
		doppelmod_subs_back(qstate, g, id);
	else if(event == module_event_pass)
		qstate->ext_state[id] = module_wait_module;
	else
		qstate->ext_state[id] = module_error;
	if(g)
		pthread_rwlock_unlock(&g->lock);
}

DOPPELMOD_EXPORT void
inform_super(struct module_qstate* qstate, int id,
	struct module_qstate* super)
{
	struct doppelmod_env* g = doppelmod_getenv(super->env, id);
	struct doppelmod_qstate* mq = super->minfo[id];
	if(!mq || mq->state != DOPPELMOD_WAIT_SUBS)
		return;
	mq->pending--;
	/* A failed subquery adds nothing; it never fails the client's. */
	if(g && g->geo && qstate->return_rcode == LDNS_RCODE_NOERROR &&
		qstate->return_msg && qstate->return_msg->rep)
		doppelmod_rrset_countries(g, qstate, qstate->return_msg->rep,
			0, qstate->return_msg->rep->an_numrrsets, NULL, 0,
			mq->cc, &mq->ncc);
}

DOPPELMOD_EXPORT void
clear(struct module_qstate* qstate, int id)
{
	/* The per-query state is in the query's region, freed with it. */
	qstate->minfo[id] = NULL;
}

DOPPELMOD_EXPORT size_t
get_mem(struct module_env* env, int id)
{
	struct doppelmod_env* g = doppelmod_getenv(env, id);
	size_t n;
	if(!g)
		return 0;
	pthread_rwlock_rdlock(&g->lock);
	n = sizeof(*g) + (g->policy ? dp_policy_memory(g->policy) : 0);
	pthread_rwlock_unlock(&g->lock);
	return n;
}
