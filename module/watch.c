/*
 * module/watch.c - the module over its life: the settings and the policy
 * at init(), kept across a reload when the new ones cannot be read; the
 * watcher thread that swaps in a changed policy file and publishes the
 * counters; the mailbox through which this thread and the writers speak
 * to Unbound.
 */
#include "doppelmod.h"

#include <dlfcn.h>

/**
 * A policy kept across `unbound-control reload`: deinit() leaves the
 * policy in force here, and init() falls back to it if the new one cannot
 * be loaded, so a bad file never leaves the resolver unprotected.  The
 * module pins itself in memory (RTLD_NODELETE) so that this survives the
 * dlclose() between deinit() and init().
 */
static struct dp_policy* doppelmod_stash;
static struct stat doppelmod_stash_stat;
/** The settings in force, kept the same way: a reload with a settings
 * file that cannot be read keeps them (and so the audit log, the verdict
 * cache and the country database). */
static struct dp_settings doppelmod_stash_settings;
static int doppelmod_stash_has_settings;

struct doppelmod_mailbox doppelmod_mail = { PTHREAD_MUTEX_INITIALIZER, 0, 0,
	{0}, {{0}}, 0, 0 };

void
doppelmod_post(int flush, int level, const char* fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&doppelmod_mail.mx);
	if(flush)
		doppelmod_mail.flush = 1;
	if(fmt && doppelmod_mail.n < DOPPELMOD_MAIL_LINES) {
		size_t i = doppelmod_mail.n++;
		doppelmod_mail.level[i] = level;
		va_start(ap, fmt);
		vsnprintf(doppelmod_mail.line[i], sizeof(doppelmod_mail.line[i]),
			fmt, ap);
		va_end(ap);
	} else if(fmt)
		doppelmod_mail.lost++;
	atomic_store_explicit(&doppelmod_mail.pending, 1,
		memory_order_release);
	pthread_mutex_unlock(&doppelmod_mail.mx);
}

/** Take the mailbox over (doppelmod_take_mail: something waits). */
__attribute__((noinline)) void
doppelmod_take_mail_now(struct doppelmod_env* g, enum doppelmod_taker who)
{
	int level[DOPPELMOD_MAIL_LINES], flush;
	char line[DOPPELMOD_MAIL_LINES][sizeof(doppelmod_mail.line[0])];
	size_t n, lost, i;
	pthread_mutex_lock(&doppelmod_mail.mx);
	if(who == DOPPELMOD_IN_CALLBACK && doppelmod_mail.flush) {
		/* The lines wait with the flush, so that the policy's line
		 * comes after it. */
		pthread_mutex_unlock(&doppelmod_mail.mx);
		return;
	}
	n = doppelmod_mail.n;
	lost = doppelmod_mail.lost;
	memcpy(level, doppelmod_mail.level, n * sizeof(level[0]));
	memcpy(line, doppelmod_mail.line, n * sizeof(line[0]));
	doppelmod_mail.n = doppelmod_mail.lost = 0;
	flush = doppelmod_mail.flush && who == DOPPELMOD_IN_OPERATE;
	doppelmod_mail.flush = 0;
	atomic_store_explicit(&doppelmod_mail.pending, 0,
		memory_order_relaxed);
	pthread_mutex_unlock(&doppelmod_mail.mx);
	if(flush && g) {
		doppelmod_flags_clear(g);
		if(g->msg_cache)
			slabhash_clear(g->msg_cache);
	}
	for(i = 0; i < n; i++) {
		if(level[i] == DOPPELMOD_ERR)
			log_err("%s", line[i]);
		else if(level[i] == DOPPELMOD_WARN)
			log_warn("%s", line[i]);
		else
			log_info("%s", line[i]);
	}
	if(lost)
		log_warn("doppel: %zu more lines of doppel's own threads were "
			"dropped", lost);
}

void
doppelmod_audit_said(const char* msg)
{
	doppelmod_post(0, DOPPELMOD_WARN, "doppel: %s", msg);
}

/** Load the policy named by the settings; NULL and what went wrong in
 * err if it cannot be.  file receives what stat() said of it before. */
static struct dp_policy*
doppelmod_load(struct doppelmod_env* g, struct stat* file,
	struct dp_error* err)
{
	struct dp_policy* p = NULL;
	dp_status st;
	err->msg[0] = 0;
	if(stat(g->settings.policy, file) != 0)
		memset(file, 0, sizeof(*file));
	st = dp_policy_load(g->settings.policy, &p, err);
	if(st != DP_OK) {
		if(!err->msg[0])
			snprintf(err->msg, sizeof(err->msg), "%s",
				dp_strerror(st));
		return NULL;
	}
	return p;
}

/** Whether the file behind two stat results changed. */
static int
doppelmod_changed(const struct stat* a, const struct stat* b)
{
	return a->st_ino != b->st_ino || a->st_dev != b->st_dev ||
		a->st_size != b->st_size ||
		a->st_mtim.tv_sec != b->st_mtim.tv_sec ||
		a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

/** Put p in force, with what is worked out from it once (its hash, its
 * figures for the counters), and count the load.  Under the write lock,
 * or before the workers start. */
static void
doppelmod_set_policy(struct doppelmod_env* g, struct dp_policy* p)
{
	struct dp_policy_info info;
	dp_policy_get_info(p, &info);
	g->policy = p;
	g->policy_hash = info.source_hash;
	g->policy_countries = dp_policy_uses_countries(p);
	g->policy_built = info.built;
	g->policy_loaded = (uint64_t)time(NULL);
	g->policy_domains = dp_policy_protected_count(p);
	g->chk.policy = p;
	g->chk.policy_hash = info.source_hash;
	dp_counters_add(g->counters, DP_CTR_POLICY_LOADS, 1);
}

/**
 * Put a new policy in force (on the watcher's thread) and have what the
 * caches learnt under the old one dropped: a name the new policy blocks
 * may sit in the message cache with its real answer, and one it no
 * longer blocks with our NXDOMAIN.  The flush is left in the mailbox,
 * for the next query that reaches operate().
 */
static void
doppelmod_swap(struct doppelmod_env* g, struct dp_policy* p)
{
	struct dp_policy* old;
	pthread_rwlock_wrlock(&g->lock);
	old = g->policy;
	doppelmod_set_policy(g, p);
	pthread_rwlock_unlock(&g->lock);
	dp_policy_free(old);
	doppelmod_post(1, DOPPELMOD_INFO, "doppel: policy %s changed: now "
		"%zu protected domains; message cache flushed",
		g->settings.policy, dp_policy_protected_count(p));
}

/** Look at the policy file; load and swap in a new version. */
static void
doppelmod_watch_once(struct doppelmod_env* g)
{
	struct stat now, loaded;
	struct dp_policy* p;
	struct dp_error err;
	if(stat(g->settings.policy, &now) != 0) {
		/* Gone (or unreachable): said once, and looked at again
		 * when it is back (any stat result differs from zeros). */
		int e = errno;
		memset(&now, 0, sizeof(now));
		if(!doppelmod_changed(&now, &g->policy_stat))
			return;
		g->policy_stat = now;
		doppelmod_post(0, DOPPELMOD_ERR, "doppel: %s: %s; keeping the "
			"policy in force (the file is looked at again when it "
			"is back)", g->settings.policy, strerror(e));
		return;
	}
	if(!doppelmod_changed(&now, &g->policy_stat))
		return;
	/* Remember this version whatever happens, so that a bad file is
	 * reported once, not every few seconds. */
	g->policy_stat = now;
	if(!(p = doppelmod_load(g, &loaded, &err))) {
		dp_counters_add(g->counters, DP_CTR_ERR_POLICY, 1);
		doppelmod_post(0, DOPPELMOD_ERR, "doppel: %s; keeping the "
			"policy in force (the file is looked at again when it "
			"changes)", err.msg);
		return;
	}
	g->policy_stat = loaded;
	doppelmod_swap(g, p);
}

/** Write the counters to the stats file (the watcher thread, and
 * deinit()); a failure is said once, and its end too. */
static void
doppelmod_publish(struct doppelmod_env* g)
{
	struct dp_counters_extra x;
	struct dp_error err;
	memset(&x, 0, sizeof(x));
	if(!g->counters || !g->settings.stats_file[0])
		return;
	if(g->vcache)
		dp_vcache_counts(g->vcache, &x.vcache_written,
			&x.vcache_dropped);
	if(g->audit) {
		struct dp_audit_counts ac;
		dp_audit_get_counts(g->audit, &ac);
		x.audit_written = ac.queued;
		x.audit_collapsed = ac.collapsed;
		x.audit_dropped = ac.dropped;
	}
	if(g->dnstap) {
		struct dp_dnstap_counts dc;
		dp_dnstap_get_counts(g->dnstap, &dc);
		x.dnstap_queued = dc.queued;
		x.dnstap_sent = dc.sent;
		x.dnstap_dropped = dc.dropped;
		x.dnstap_connects = dc.connects;
	}
	pthread_rwlock_rdlock(&g->lock);
	x.has_policy = g->policy != NULL;
	x.policy_hash = g->policy_hash;
	x.policy_built = g->policy_built;
	x.policy_loaded = g->policy_loaded;
	x.policy_domains = g->policy_domains;
	pthread_rwlock_unlock(&g->lock);
	x.monitor = g->settings.monitor;
	err.msg[0] = 0;
	if(dp_counters_publish(g->counters, &x, g->settings.stats_file,
		(uint64_t)time(NULL), &err) != DP_OK) {
		if(!g->publish_failing)
			doppelmod_post(0, DOPPELMOD_WARN, "doppel: stats-file "
				"%s; counters not published until it works",
				err.msg);
		g->publish_failing = 1;
	} else if(g->publish_failing) {
		g->publish_failing = 0;
		doppelmod_post(0, DOPPELMOD_INFO, "doppel: stats-file %s: "
			"published again", g->settings.stats_file);
	}
}

/** Seconds between two publishings of the counters. */
#define DOPPELMOD_STATS_EVERY 5

/** The watcher thread: the policy file every policy-check-interval
 * seconds, the counters every DOPPELMOD_STATS_EVERY. */
static void*
doppelmod_watch(void* arg)
{
	struct doppelmod_env* g = arg;
	uint32_t every = g->settings.policy_check_interval;
	time_t last_check = time(NULL);
	if(g->settings.stats_file[0] && (every == 0 ||
		every > DOPPELMOD_STATS_EVERY))
		every = DOPPELMOD_STATS_EVERY;
	doppelmod_publish(g);
	pthread_mutex_lock(&g->watch_mx);
	while(!g->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)every;
		pthread_cond_timedwait(&g->watch_cv, &g->watch_mx, &until);
		if(g->stopping)
			break;
		pthread_mutex_unlock(&g->watch_mx);
		if(g->settings.policy_check_interval > 0 && time(NULL) -
			last_check >= (time_t)g->settings.policy_check_interval) {
			last_check = time(NULL);
			doppelmod_watch_once(g);
		}
		doppelmod_publish(g);
		pthread_mutex_lock(&g->watch_mx);
	}
	pthread_mutex_unlock(&g->watch_mx);
	return NULL;
}

void
doppelmod_pin(void)
{
	static int pinned;
	static const char anchor = 0;
	Dl_info info;
	if(pinned)
		return;
	if(dladdr(&anchor, &info) && info.dli_fname &&
		dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE))
		pinned = 1;
}

dp_status
doppelmod_start(struct doppelmod_env* g, const char* path)
{
	struct dp_error err;
	dp_status st;
	err.msg[0] = 0;
	st = dp_settings_load(path, &g->settings, &err);
	if(st != DP_OK && doppelmod_stash_has_settings) {
		/* A reload with a bad settings file: the old ones stay. */
		log_err("doppel: %s; keeping the settings that were in force",
			err.msg[0] ? err.msg : dp_strerror(st));
		g->settings = doppelmod_stash_settings;
		st = DP_OK;
	} else if(st != DP_OK)
		log_err("doppel: %s", err.msg[0] ? err.msg : dp_strerror(st));
	if(st == DP_OK) {
		doppelmod_stash_settings = g->settings;
		doppelmod_stash_has_settings = 1;
		if(!(g->policy = doppelmod_load(g, &g->policy_stat, &err)))
			log_err("doppel: %s", err.msg);
	}
	if(g->policy) {
		dp_policy_free(doppelmod_stash);
		doppelmod_stash = NULL;
		log_info("doppel %s: policy %s loaded, %zu protected domains",
			DP_VERSION, g->settings.policy,
			dp_policy_protected_count(g->policy));
	} else if(doppelmod_stash) {
		/* A reload with a bad policy: the old one stays. */
		g->policy = doppelmod_stash;
		g->policy_stat = doppelmod_stash_stat;
		doppelmod_stash = NULL;
		log_err("doppel: keeping the policy that was in force (%zu "
			"protected domains)",
			dp_policy_protected_count(g->policy));
	} else if(g->settings.on_error == DP_ON_ERROR_CLOSED)
		log_err("doppel: on-error is closed: every query will be "
			"answered SERVFAIL until a good policy is loaded "
			"(unbound-control reload)");
	else
		log_err("doppel: on-error is open: resolving WITHOUT "
			"lookalike protection until a good policy is loaded "
			"(unbound-control reload)");
	if(g->policy)
		doppelmod_set_policy(g, g->policy);
	else
		dp_counters_add(g->counters, DP_CTR_ERR_POLICY, 1);
	return st;
}

void
doppelmod_keep_for_reload(struct doppelmod_env* g)
{
	/* a policy that is never reused is freed by the next keep */
	dp_policy_free(doppelmod_stash);
	doppelmod_stash = g->policy;
	doppelmod_stash_stat = g->policy_stat;
}

void
doppelmod_watch_start(struct doppelmod_env* g)
{
	if(g->settings.policy_check_interval == 0 && !g->settings.stats_file[0])
		return;
	if(pthread_create(&g->watcher, NULL, doppelmod_watch, g) == 0)
		g->watching = 1;
	else
		log_err("doppel: cannot start the policy watcher: %s",
			strerror(errno));
}

void
doppelmod_watch_stop(struct doppelmod_env* g)
{
	if(g->watching) {
		pthread_mutex_lock(&g->watch_mx);
		g->stopping = 1;
		pthread_cond_signal(&g->watch_cv);
		pthread_mutex_unlock(&g->watch_mx);
		pthread_join(g->watcher, NULL);
		g->watching = 0;
	}
	/* the last figures */
	doppelmod_publish(g);
}
