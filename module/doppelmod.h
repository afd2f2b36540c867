/*
 * module/doppelmod.h - what the module's files share: the module's state,
 * the mailbox its own threads leave lines in for Unbound's, and the
 * policy watcher (module/watch.c).  module/doppelmod.c is the glue to
 * Unbound's query path; libdoppel (lib/) does the checking.
 */
#ifndef DOPPELMOD_H
#define DOPPELMOD_H

#include "config.h"
#include "dynlibmod/dynlibmod.h"
#include "services/cache/dns.h"
#include "sldns/parseutil.h"
#include "sldns/rrdef.h"
#include "sldns/sbuffer.h"
#include "sldns/wire2str.h"
#include "util/config_file.h"
#include "util/data/dname.h"
#include "util/data/msgencode.h"
#include "util/data/msgreply.h"
#include "util/data/packed_rrset.h"
#include "util/log.h"
#include "util/module.h"
#include "util/net_help.h"
#include "util/netevent.h"
#include "util/regional.h"
#include "util/storage/slabhash.h"

#include "doppel.h"
#include "audit.h"
#include "dnstap.h"
#include "checker.h"
#include "counters.h"
#include "vcache.h"

#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define DOPPELMOD_EXPORT __attribute__((visibility("default")))

/** Words of the flagged-name filter: 2^14 x 64 bits = 128 KiB. */
#define DOPPELMOD_FLAG_WORDS (1u << 14)
/** Slots of the reasons of cached blocked answers (a power of two). */
#define DOPPELMOD_REASONS 1024
/** Slots of the verdicts on flagged query names (a power of two). */
#define DOPPELMOD_HITS 256

/** A verdict kept for the audit record of the reply (copied: the policy
 * it came from may be swapped before the reply goes out). */
struct doppelmod_noted {
	struct dp_verdict v;
	char target[DP_NAME_MAX];
	char technique[32];
	const char* stage;
	/** the name that matched (the query's, an alias's, an exchange's),
	 * wire format; none (0) for a verdict on the answer's countries,
	 * which keeps the answer's first address instead (4 or 16 octets) */
	uint8_t matched[256];
	size_t matched_len;
	uint8_t addr[16];
	size_t addr_len;
};

/** Global state of the module. */
struct doppelmod_env {
	/** settings from doppel.conf; read-only once init() returns */
	struct dp_settings settings;
	/**
	 * The policy in force; NULL if none could be loaded.  Workers read
	 * it under the read lock, for the few microseconds of a check; the
	 * watcher swaps it under the write lock, which it holds only for
	 * the swap itself (the new policy is loaded before).
	 */
	struct dp_policy* policy;
	pthread_rwlock_t lock;
	/** fingerprint of the policy (verdict cache entries carry it) */
	uint64_t policy_hash;
	/** the policy, verdict cache and counters as lib/checker.h takes
	 * them (under the lock, as policy) */
	struct dp_checker chk;
	/** the policy expects countries somewhere (else no geo stage) */
	int policy_countries;
	/** the verdict cache, or NULL */
	struct dp_vcache* vcache;
	/** the country database, or NULL */
	struct dp_geo* geo;
	/** the audit log, or NULL */
	struct dp_audit* audit;
	/** the audit records as dnstap (audit-dnstap), or NULL */
	struct dp_dnstap* dnstap;
	/**
	 * A Bloom filter over the query names whose replies were flagged
	 * (a verdict other than allow).  A reply served from the cache
	 * never passes operate(); the audit callback asks this filter
	 * first and works the verdict out again only for names it may
	 * hold, so a cache hit of a clean name costs a hash, not a check.
	 * A name gets into the message cache only by being resolved
	 * through this module, which sets its bits then; the filter is
	 * cleared with the cache when a new policy comes in.  Bits are set
	 * and read with relaxed atomics by all worker threads.
	 */
	_Atomic uint64_t flagged[DOPPELMOD_FLAG_WORDS];
	/**
	 * The reasons of the blocked answers stored in the message cache,
	 * by a hash of the query name (the newest wins a slot): a repeat
	 * served from the cache gets its EDE text from here, whatever stage
	 * blocked it (the name, an alias, the countries).  Cleared with the
	 * message cache; under reasons_mx, taken only for names flagged.
	 */
	struct doppelmod_reason {
		uint64_t hash;
		char text[256];
	} reasons[DOPPELMOD_REASONS];
	pthread_mutex_t reasons_mx;
	/**
	 * The verdicts on query names flagged by their name (stage name),
	 * by a hash of the name (the newest wins a slot), each with the
	 * name and the fingerprint of the policy it was made under: a
	 * repeat served from the message cache takes its verdict for the
	 * audit record from here, not from the verdict cache and the
	 * policy again.  The same verdict: both are the checker's on the
	 * same name under the same policy.  Under hits_mx; cleared with
	 * the message cache.
	 */
	struct doppelmod_hit {
		uint64_t hash, policy;
		size_t qname_len;
		uint8_t qname[256];
		struct doppelmod_noted n;
	} hits[DOPPELMOD_HITS];
	pthread_mutex_t hits_mx;
	/** the message cache, flushed when a new policy comes in */
	struct slabhash* msg_cache;
	/** the policy file as the watcher last looked at it */
	struct stat policy_stat;
	/** the watcher thread and how to stop it */
	pthread_t watcher;
	int watching, stopping;
	/** how many of doppelmod_audit_lists the reply callback is on */
	size_t ncallbacks;
	pthread_mutex_t watch_mx;
	pthread_cond_t watch_cv;
	/** the counters (lib/counters.h), published by the watcher to
	 * settings.stats_file; the policy's figures they show (under the
	 * lock); whether the last publishing failed (said once) */
	struct dp_counters* counters;
	uint64_t policy_built, policy_loaded, policy_domains;
	int publish_failing;
};

/** Lines the mailbox holds between two drains; more are counted. */
#define DOPPELMOD_MAIL_LINES 16

/**
 * The mailbox: what the module's own threads (the policy watcher, the audit and
 * verdict-cache writers) have for Unbound.  They never call into
 * Unbound themselves: on a reload Unbound's main thread rewrites its
 * logging globals (config_apply(), log_init()) and may replace the
 * message cache before it calls deinit(), and there is no hook that
 * would stop our threads first.  So they leave their log lines and the
 * request to flush the message cache here, and a thread of Unbound's
 * takes them over: a worker entering operate() (lines and flush), a
 * worker in a reply callback (lines only: it holds a cache entry's lock
 * there), or the main thread in deinit() (lines; the reload has emptied
 * the caches).  A line is thus logged by the next query, and a swapped
 * policy's flush comes with the next query that misses the cache.
 */
struct doppelmod_mailbox {
	pthread_mutex_t mx;
	/** something is waiting: the cheap test of every query */
	atomic_int pending;
	/** the message cache must be flushed (a new policy is in force) */
	int flush;
	int level[DOPPELMOD_MAIL_LINES];
	char line[DOPPELMOD_MAIL_LINES][sizeof(((struct dp_error*)0)->msg) + 128];
	size_t n, lost;
};
extern struct doppelmod_mailbox doppelmod_mail;

/** Levels of the mailbox's lines. */
enum { DOPPELMOD_ERR, DOPPELMOD_WARN, DOPPELMOD_INFO };

/** Leave a line (and maybe a flush) for a thread of Unbound's. */
void doppelmod_post(int flush, int level, const char* fmt, ...)
	ATTR_FORMAT(printf, 3, 4);

/** Where the mailbox is taken over, which decides the flush. */
enum doppelmod_taker {
	/** operate(): no lock held, the flush is done here */
	DOPPELMOD_IN_OPERATE,
	/** a reply callback: a cache lock may be held; if a flush waits,
	 * everything waits */
	DOPPELMOD_IN_CALLBACK,
	/** deinit(): the reload has emptied the caches, the flush goes */
	DOPPELMOD_IN_DEINIT
};

/** Take the mailbox over (doppelmod_take_mail: something waits). */
void doppelmod_take_mail_now(struct doppelmod_env* g,
	enum doppelmod_taker who);

/** Take the mailbox over, on a thread of Unbound's, if anything waits
 * there: one atomic load when nothing does. */
static inline void
doppelmod_take_mail(struct doppelmod_env* g, enum doppelmod_taker who)
{
	if(atomic_load_explicit(&doppelmod_mail.pending,
		memory_order_acquire))
		doppelmod_take_mail_now(g, who);
}

/** What the audit and verdict-cache writers say, from their threads:
 * through the mailbox. */
void doppelmod_audit_said(const char* msg);

/* module/watch.c: settings, policy and counters over the module's life. */

/**
 * Read the settings (the file at path) and load the policy they name into
 * g, falling back on those kept from before a reload when they cannot be
 * read; say what is in force.
 * @return DP_OK if settings are in force (the policy may still be
 *	missing: g->policy NULL, on-error decides).
 */
dp_status doppelmod_start(struct doppelmod_env* g, const char* path);

/** Keep g's policy and settings for the init() of a reload. */
void doppelmod_keep_for_reload(struct doppelmod_env* g);

/** Start the watcher thread if the settings ask for one (a policy to
 * look at, counters to publish). */
void doppelmod_watch_start(struct doppelmod_env* g);

/** Stop it; then publish the counters a last time. */
void doppelmod_watch_stop(struct doppelmod_env* g);

/** Keep this module mapped across dlclose(), for what is kept for a
 * reload. */
void doppelmod_pin(void);

/* module/doppelmod.c */

/** Forget which names were flagged (their cached answers are flushed). */
void doppelmod_flags_clear(struct doppelmod_env* g);

#endif /* DOPPELMOD_H */
