/*
 * lib/vcache.c - the verdict cache (see vcache.h).
 *
 * Value layout, little-endian host order (the file is not meant to move
 * between machines): struct vrec, then the target, technique, countries
 * and explanation strings, unterminated, lengths in the header (records
 * written before the explanation was kept have a zero whylen there).
 */
#include "vcache.h"
#include "internal.h"
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/** Queued verdicts between two writes. */
#define QCAP 1024
/** Most bytes of an encoded record. */
#define VREC_MAX (sizeof(struct vrec) + DP_NAME_MAX + 32 + 64 + 160)
/** Version tag of a stored record. */
#define VREC_MAGIC 0x31767064u /* "dpv1" */
/** Ways of a set of the in-memory table, and its locks. */
#define HOT_WAYS 4
#define HOT_LOCKS 64
/** Key of the stored counters; no canonical name starts with \001. */
static const char stats_key[] = "\001stats";

struct vrec {
	uint32_t magic;
	uint8_t action;
	uint8_t zone_labels;
	uint16_t tlen, techlen, clen, whylen;
	uint16_t pad2[2];
	double score;
	uint64_t first, last, expiry, hits, policy_hash;
};

/** Stored counters. */
struct vstats {
	uint64_t dropped_full, written;
};

/** A verdict in the in-memory table: the name, then the record encoded as
 * in the file. */
struct hot_entry {
	uint64_t last;
	uint16_t nlen, vlen;
	char data[];
};

/** A set of the table, one cache line: the names' hashes beside the
 * entries, so that a name not in the table costs no more than this line. */
struct hot_set {
	uint64_t hash[HOT_WAYS];
	struct hot_entry* e[HOT_WAYS];
};

/** One queued verdict. */
struct qitem {
	char name[DP_NAME_MAX];
	struct dp_vrecord r;
};

struct dp_vcache {
	MDB_env* env;
	MDB_dbi dbi;
	/** the queue, and the batch being written (swapped under mx) */
	struct qitem* q;
	struct qitem* batch;
	size_t nq;
	uint64_t dropped_queue;
	/** the writer thread (started for the module); its mx guards the
	 * queue */
	struct dp_writer w;
	int has_writer;
	/** how many items the writer took into batch */
	size_t batch_n;
	/** serialises writes (writer thread, flush) */
	pthread_mutex_t write_mx;
	/**
	 * The module's verdicts (a cache opened with a writer): a bounded,
	 * set-associative table in memory, filled from the file at open and
	 * by dp_vcache_note.  Queries read only this table, never the map,
	 * so that a file changed under the resolver cannot fault a query;
	 * the file is the table's copy on disk, written by the writer.
	 * NULL for tools, which read the file.
	 */
	struct hot_set* hot;
	uint64_t hot_mask;
	pthread_mutex_t hot_mx[HOT_LOCKS];
	/** the file LMDB has open, to see it replaced */
	dev_t dev;
	ino_t ino;
	/** the file changed under the writer: no longer written */
	int broken;
	/** this open made PATH-lock, which close removes (tools) */
	int made_lock;
	/** where to say that writes fail and recover (the writer thread
	 * only), or NULL; the path for those lines; whether failing */
	void (*log_fn)(const char* msg);
	char path[512];
	int failing;
	uint64_t lost;
	/** verdicts written by this process, and dropped by its writer
	 * (file full, failing or changed under it); under write_mx */
	uint64_t wrote, dropped_write;
};

static uint64_t
name_hash(const char* name, size_t n)
{
	return dp_hash_bytes(0, name, n);
}

static void
decode(const MDB_val* v, struct dp_vrecord* r)
{
	struct vrec h;
	const char* s = (const char*)v->mv_data + sizeof(h);
	memset(r, 0, sizeof(*r));
	memcpy(&h, v->mv_data, sizeof(h));
	r->action = h.action <= DP_BLOCK ? (enum dp_action)h.action : DP_ALLOW;
	r->score = h.score;
	r->first_seen = h.first;
	r->last_seen = h.last;
	r->expiry = h.expiry;
	r->hits = h.hits;
	r->policy_hash = h.policy_hash;
	r->zone_labels = h.zone_labels;
	memcpy(r->target, s, h.tlen);
	memcpy(r->technique, s + h.tlen, h.techlen);
	memcpy(r->countries, s + h.tlen + h.techlen, h.clen);
	memcpy(r->why, s + h.tlen + h.techlen + h.clen, h.whylen);
}

/** Whether n bytes of s are all in [lo, hi] or in extra. */
static int
all_in(const char* s, size_t n, char lo, char hi, const char* extra)
{
	size_t i;
	for(i = 0; i < n; i++)
		if((s[i] < lo || s[i] > hi) && (s[i] == 0 ||
			!strchr(extra, s[i])))
			return 0;
	return 1;
}

/** Whether n bytes of s hold no control character (UTF-8 is fine). */
static int
printable(const char* s, size_t n)
{
	size_t i;
	for(i = 0; i < n; i++)
		if((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/**
 * Whether a stored value is a record this code can read and may act on:
 * the sizes add up, and what it says is a verdict the engine could give
 * (an action, a score in [0, 1], a known technique, a target in
 * presentation form, country codes): a damaged or crafted record is
 * passed over, never logged, printed or answered with.
 */
static int
valid(const MDB_val* v)
{
	struct vrec h;
	const char *t, *tech;
	char techname[32];
	if(v->mv_size < sizeof(h))
		return 0;
	memcpy(&h, v->mv_data, sizeof(h));
	if(h.magic != VREC_MAGIC || h.tlen >= DP_NAME_MAX ||
		h.techlen >= 32 || h.clen >= 64 || h.whylen >= 160 ||
		v->mv_size != sizeof(h) + h.tlen + h.techlen + h.clen +
		h.whylen)
		return 0;
	if(h.action > DP_BLOCK || !(h.score >= 0.0 && h.score <= 1.0) ||
		h.zone_labels > 127)
		return 0;
	t = (const char*)v->mv_data + sizeof(h);
	tech = t + h.tlen;
	memcpy(techname, tech, h.techlen);
	techname[h.techlen] = 0;
	return all_in(t, h.tlen, '!', '~', "") &&
		(h.techlen == 0 || dp_technique_index(techname) >= 0 ||
		strcmp(techname, "hijack") == 0) &&
		all_in(tech + h.techlen, h.clen, 'A', 'Z', ",") &&
		printable(tech + h.techlen + h.clen, h.whylen);
}

/** Encode a record into buf. @return its size. */
static size_t
encode(const struct dp_vrecord* r, char* buf)
{
	struct vrec h;
	memset(&h, 0, sizeof(h));
	h.magic = VREC_MAGIC;
	h.action = (uint8_t)r->action;
	h.zone_labels = (uint8_t)(r->zone_labels > 127 ? 127 :
		r->zone_labels < 0 ? 0 : r->zone_labels);
	h.tlen = (uint16_t)strnlen(r->target, DP_NAME_MAX - 1);
	h.techlen = (uint16_t)strnlen(r->technique, 31);
	h.clen = (uint16_t)strnlen(r->countries, 63);
	h.whylen = (uint16_t)strnlen(r->why, 159);
	h.score = r->score;
	h.first = r->first_seen;
	h.last = r->last_seen;
	h.expiry = r->expiry;
	h.hits = r->hits;
	h.policy_hash = r->policy_hash;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), r->target, h.tlen);
	memcpy(buf + sizeof(h) + h.tlen, r->technique, h.techlen);
	memcpy(buf + sizeof(h) + h.tlen + h.techlen, r->countries, h.clen);
	memcpy(buf + sizeof(h) + h.tlen + h.techlen + h.clen, r->why,
		h.whylen);
	return sizeof(h) + h.tlen + h.techlen + h.clen + h.whylen;
}

/** Size the table for the map: a set of HOT_WAYS verdicts per 4 KB, at
 * least 1,024 sets, at most 2^18 (1M verdicts). */
static int
hot_init(struct dp_vcache* vc, uint64_t map_size)
{
	uint64_t sets = 1024;
	int i;
	while(sets < (1u << 18) && sets * 4096 < map_size)
		sets <<= 1;
	if(!(vc->hot = aligned_alloc(64, sets * sizeof(*vc->hot))))
		return ENOMEM;
	memset(vc->hot, 0, sets * sizeof(*vc->hot));
	vc->hot_mask = sets - 1;
	for(i = 0; i < HOT_LOCKS; i++)
		pthread_mutex_init(&vc->hot_mx[i], NULL);
	return 0;
}

static void
hot_free(struct dp_vcache* vc)
{
	uint64_t s;
	int i;
	if(!vc->hot)
		return;
	for(s = 0; s <= vc->hot_mask; s++)
		for(i = 0; i < HOT_WAYS; i++)
			free(vc->hot[s].e[i]);
	for(i = 0; i < HOT_LOCKS; i++)
		pthread_mutex_destroy(&vc->hot_mx[i]);
	free(vc->hot);
	vc->hot = NULL;
}

/** The set of a name, locked. @return the lock to release. */
static pthread_mutex_t*
hot_lock(struct dp_vcache* vc, uint64_t h, struct hot_set** set)
{
	pthread_mutex_t* mx = &vc->hot_mx[h & vc->hot_mask & (HOT_LOCKS - 1)];
	pthread_mutex_lock(mx);
	*set = &vc->hot[h & vc->hot_mask];
	return mx;
}

/** The way of a set that holds name, or -1. */
static int
hot_find(const struct hot_set* set, uint64_t h, const char* name, size_t n)
{
	int i;
	for(i = 0; i < HOT_WAYS; i++) {
		const struct hot_entry* e = set->e[i];
		if(set->hash[i] == h && e && e->nlen == n &&
			memcmp(e->data, name, n) == 0)
			return i;
	}
	return -1;
}

/**
 * Put a record into the table (merged: the stored first sighting kept,
 * its hits added), in place of the name's old one, else into an empty way,
 * else into that of the verdict noted longest ago.  A record that is not
 * one (valid()) is not kept.
 */
static void
hot_put(struct dp_vcache* vc, const char* name, size_t n,
	const struct dp_vrecord* rec, int merge)
{
	uint64_t h = name_hash(name, n);
	char buf[VREC_MAX];
	struct dp_vrecord r = *rec;
	struct hot_set* set;
	struct hot_entry* e;
	pthread_mutex_t* mx = hot_lock(vc, h, &set);
	int w = hot_find(set, h, name, n), i;
	MDB_val v;
	if(w >= 0 && merge) {
		struct dp_vrecord old;
		v.mv_data = set->e[w]->data + n;
		v.mv_size = set->e[w]->vlen;
		decode(&v, &old);
		r.first_seen = old.first_seen;
		r.hits += old.hits;
	}
	v.mv_data = buf;
	v.mv_size = encode(&r, buf);
	if(!valid(&v)) {
		pthread_mutex_unlock(mx);
		return;
	}
	if(w >= 0 && set->e[w]->vlen == v.mv_size) {
		e = set->e[w];
	} else {
		if(!(e = malloc(sizeof(*e) + n + v.mv_size))) {
			pthread_mutex_unlock(mx);
			return;
		}
		if(w < 0) {
			for(w = 0, i = 0; i < HOT_WAYS; i++) {
				if(!set->e[i]) {
					w = i;
					break;
				}
				if(set->e[i]->last < set->e[w]->last)
					w = i;
			}
		}
		free(set->e[w]);
		set->e[w] = e;
		set->hash[w] = h;
		e->nlen = (uint16_t)n;
		e->vlen = (uint16_t)v.mv_size;
		memcpy(e->data, name, n);
	}
	e->last = r.last_seen;
	memcpy(e->data + n, buf, v.mv_size);
	pthread_mutex_unlock(mx);
}

/** Look a name up in the table. @return 1 and rec filled if present. */
static int
hot_get(struct dp_vcache* vc, const char* name, size_t n,
	struct dp_vrecord* rec)
{
	uint64_t h = name_hash(name, n);
	struct hot_set* set;
	pthread_mutex_t* mx = hot_lock(vc, h, &set);
	int w = hot_find(set, h, name, n);
	if(w >= 0) {
		MDB_val v;
		v.mv_data = set->e[w]->data + n;
		v.mv_size = set->e[w]->vlen;
		decode(&v, rec);
	}
	pthread_mutex_unlock(mx);
	return w >= 0;
}

/** Take a name, or every name (NULL), out of the table. */
static void
hot_drop(struct dp_vcache* vc, const char* name)
{
	uint64_t h, s;
	struct hot_set* set;
	pthread_mutex_t* mx;
	int w;
	if(!name) {
		for(s = 0; s <= vc->hot_mask; s++) {
			mx = hot_lock(vc, s, &set);
			for(w = 0; w < HOT_WAYS; w++) {
				free(set->e[w]);
				set->e[w] = NULL;
				set->hash[w] = 0;
			}
			pthread_mutex_unlock(mx);
		}
		return;
	}
	h = name_hash(name, strlen(name));
	mx = hot_lock(vc, h, &set);
	if((w = hot_find(set, h, name, strlen(name))) >= 0) {
		free(set->e[w]);
		set->e[w] = NULL;
		set->hash[w] = 0;
	}
	pthread_mutex_unlock(mx);
}

struct fill_arg {
	struct dp_vcache* vc;
	uint64_t now;
};

/** Filling the table: one of the file's verdicts, kept if not expired. */
static void
fill_one(void* arg, const char* name, const struct dp_vrecord* r)
{
	struct fill_arg* fa = arg;
	if(r->expiry > fa->now)
		hot_put(fa->vc, name, strlen(name), r, 0);
}

/** Fill the table with the file's verdicts that have not expired. */
static void
hot_fill(struct dp_vcache* vc)
{
	struct fill_arg fa;
	fa.vc = vc;
	fa.now = (uint64_t)time(NULL);
	dp_vcache_each(vc, fill_one, &fa);
}

/** Delete expired entries in a write transaction. @return count. */
static size_t
purge_expired(MDB_txn* txn, MDB_dbi dbi, uint64_t now)
{
	MDB_cursor* cur;
	MDB_val k, v;
	size_t n = 0;
	int rc;
	if(mdb_cursor_open(txn, dbi, &cur) != 0)
		return 0;
	for(rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct vrec h;
		if(k.mv_size && ((char*)k.mv_data)[0] == '\001')
			continue;
		if(valid(&v)) {
			memcpy(&h, v.mv_data, sizeof(h));
			if(h.expiry > now)
				continue;
		}
		/* expired, or unreadable: either way it goes */
		if(mdb_cursor_del(cur, 0) == 0)
			n++;
	}
	mdb_cursor_close(cur);
	return n;
}

/** Add to the stored counters within a transaction. */
static int
add_stats(MDB_txn* txn, MDB_dbi dbi, uint64_t dropped, uint64_t written)
{
	MDB_val k, v;
	struct vstats s;
	memset(&s, 0, sizeof(s));
	k.mv_data = (void*)stats_key;
	k.mv_size = sizeof(stats_key) - 1;
	if(mdb_get(txn, dbi, &k, &v) == 0 && v.mv_size == sizeof(s))
		memcpy(&s, v.mv_data, sizeof(s));
	s.dropped_full += dropped;
	s.written += written;
	v.mv_data = &s;
	v.mv_size = sizeof(s);
	return mdb_put(txn, dbi, &k, &v, 0);
}

/** Write a batch in one transaction. @return an LMDB status. */
static int
write_batch_once(struct dp_vcache* vc, struct qitem* b, size_t n)
{
	MDB_txn* txn;
	size_t i;
	int rc;
	char buf[VREC_MAX];
	if((rc = mdb_txn_begin(vc->env, NULL, 0, &txn)) != 0)
		return rc;
	for(i = 0; i < n; i++) {
		MDB_val k, v;
		struct dp_vrecord r = b[i].r;
		k.mv_data = b[i].name;
		k.mv_size = strlen(b[i].name);
		if(k.mv_size == 0 || k.mv_size > 511)
			continue;
		if(mdb_get(txn, vc->dbi, &k, &v) == 0 && valid(&v)) {
			struct dp_vrecord old;
			decode(&v, &old);
			r.first_seen = old.first_seen;
			r.hits += old.hits;
		}
		v.mv_data = buf;
		v.mv_size = encode(&r, buf);
		if((rc = mdb_put(txn, vc->dbi, &k, &v, 0)) != 0) {
			mdb_txn_abort(txn);
			return rc;
		}
	}
	if((rc = add_stats(txn, vc->dbi, 0, n)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

/** Nothing to do when a purge cannot be committed: the retry that
 * follows fails as well, and the batch is counted as dropped. */
static void
purge_failed(struct dp_vcache* vc)
{
	(void)vc;
}

/**
 * Whether the file at the cache's path is still the one LMDB has open,
 * and whole (dp_lmdb_meta_ok, through read(), not the map): someone may
 * have written over it in place (cp other-file cache.mdb), cut it short
 * or renamed another file onto it.  LMDB would fault on such a file.
 * @return 0 if it is, else -1 with why set.
 */
static int
file_changed(struct dp_vcache* vc, struct dp_error* why)
{
	struct stat at, open_sb;
	int fd;
	if(stat(vc->path, &at) != 0) {
		dp_error_set(why, "%s: %s", vc->path, strerror(errno));
		return -1;
	}
	if(mdb_env_get_fd(vc->env, &fd) != 0 || fstat(fd, &open_sb) != 0 ||
		at.st_dev != vc->dev || at.st_ino != vc->ino) {
		dp_error_set(why, "%s: another file was put in its place",
			vc->path);
		return -1;
	}
	return dp_lmdb_meta_ok(fd, vc->path, (uint64_t)open_sb.st_size, why);
}

/** Write a batch; when the map is full, purge expired entries and try
 * again; if it still does not fit, drop it and count. */
static void
write_batch(struct dp_vcache* vc, struct qitem* b, size_t n)
{
	struct dp_error why;
	int rc;
	if(n == 0)
		return;
	pthread_mutex_lock(&vc->write_mx);
	if(!vc->broken && file_changed(vc, &why) != 0) {
		/* Never touch that file again: the verdicts in memory
		 * still answer, a reload opens the file anew. */
		vc->broken = 1;
		if(vc->log_fn) {
			char msg[700];
			snprintf(msg, sizeof(msg), "verdict cache changed "
				"under the resolver (%s): no longer written; "
				"the verdicts in memory stay in use, a reload "
				"opens the file again", why.msg);
			vc->log_fn(msg);
		}
	}
	if(vc->broken) {
		vc->lost += n;
		vc->dropped_write += n;
		pthread_mutex_unlock(&vc->write_mx);
		return;
	}
	rc = write_batch_once(vc, b, n);
	if(rc == MDB_MAP_FULL) {
		MDB_txn* txn;
		if(mdb_txn_begin(vc->env, NULL, 0, &txn) == 0) {
			purge_expired(txn, vc->dbi, (uint64_t)time(NULL));
			if(mdb_txn_commit(txn) != 0)
				purge_failed(vc);
		}
		/* LMDB reuses the pages a commit frees only from the
		 * second transaction after it: commit an empty one. */
		if(mdb_txn_begin(vc->env, NULL, 0, &txn) == 0 &&
			mdb_txn_commit(txn) != 0)
			purge_failed(vc);
		rc = write_batch_once(vc, b, n);
	}
	if(rc != 0 && vc->log_fn && !vc->failing) {
		/* once per failure streak, not once per batch */
		char msg[700];
		snprintf(msg, sizeof(msg), "verdict cache %s: cannot store "
			"verdicts: %s; blocking goes on, new verdicts are not "
			"kept", vc->path, rc == MDB_MAP_FULL ? "it is full "
			"(raise verdict-cache-size, or purge it)" :
			mdb_strerror(rc));
		vc->log_fn(msg);
	} else if(rc == 0 && vc->failing && vc->log_fn) {
		char msg[700];
		snprintf(msg, sizeof(msg), "verdict cache %s: storing again, "
			"%llu verdicts were not kept", vc->path,
			(unsigned long long)vc->lost);
		vc->log_fn(msg);
	}
	if(rc == 0) {
		vc->failing = 0;
		vc->lost = 0;
		vc->wrote += n;
	} else {
		vc->failing = 1;
		vc->lost += n;
		vc->dropped_write += n;
	}
	if(rc != 0) {
		MDB_txn* txn;
		/* Record the loss if even that fits; never more than that. */
		if(mdb_txn_begin(vc->env, NULL, 0, &txn) == 0) {
			if(add_stats(txn, vc->dbi, n, 0) == 0)
				mdb_txn_commit(txn);
			else
				mdb_txn_abort(txn);
		}
	}
	pthread_mutex_unlock(&vc->write_mx);
}

/* The writer's side (lib/writer.h). */

static int
vc_due(void* owner)
{
	return ((struct dp_vcache*)owner)->nq >= QCAP / 2;
}

/** Take the queue for writing into vc->batch. */
static void
vc_take(void* owner, int last)
{
	struct dp_vcache* vc = owner;
	struct qitem* t = vc->batch;
	(void)last;
	vc->batch_n = vc->nq;
	vc->batch = vc->q;
	vc->q = t;
	vc->nq = 0;
}

static void
vc_write(void* owner)
{
	struct dp_vcache* vc = owner;
	write_batch(vc, vc->batch, vc->batch_n);
}

static int
vc_empty(void* owner)
{
	return ((struct dp_vcache*)owner)->nq == 0;
}

static const struct dp_writer_ops vc_ops = {
	vc_due, vc_take, vc_write, vc_empty, NULL
};

/**
 * Whether the file at path may be opened by LMDB: missing or empty (LMDB
 * makes a new cache), or whole (dp_lmdb_whole).  A cache cut short, or
 * whose header points past its end, would fault the resolver at start-up.
 * @param map_size: if not NULL, receives the map size the file records
 *	(0 for a missing or empty file).
 */
static int
whole_or_new(const char* path, uint64_t* map_size, struct dp_error* err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ok;
	if(fd < 0)
		return 1; /* missing or unreadable: mdb_env_open says which */
	ok = fstat(fd, &st) == 0 && (st.st_size == 0 || dp_lmdb_whole(fd,
		path, (uint64_t)st.st_size, err) == 0);
	if(ok && map_size)
		*map_size = st.st_size ? dp_lmdb_map_size(fd) : 0;
	close(fd);
	if(!ok && err && err->msg[0] == 0)
		dp_error_set(err, "%s: cannot read it", path);
	return ok;
}

/** Bytes given to LMDB's lock file before it opens it: more than its
 * reader table takes (126 readers of 64 bytes and a header). */
#define LOCK_RESERVE 16384

/**
 * LMDB maps its lock file (PATH-lock) and writes through the map: on a
 * full file system, a page of it without a block behind it faults
 * (SIGBUS, at start-up).  Give the file its blocks first, so that a full
 * disk is an error that says so.
 * @param made: set to 1 if the lock file did not exist before.
 * @return 0, or -1 with err set.
 */
static int
reserve_lock_file(const char* path, int* made, struct dp_error* err)
{
	char lock[4200];
	int fd, rc;
	snprintf(lock, sizeof(lock), "%s-lock", path);
	*made = 0;
	if((fd = open(lock, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		0640)) >= 0)
		*made = 1;
	else if((fd = open(lock, O_RDWR | O_CLOEXEC)) < 0)
		return 0;	/* mdb_env_open says why */
	rc = posix_fallocate(fd, 0, LOCK_RESERVE);
	close(fd);
	if(rc != 0 && rc != EINVAL && rc != EOPNOTSUPP) {
		dp_error_set(err, "%s: cannot open verdict cache: %s: %s",
			path, lock, strerror(rc));
		if(*made)
			unlink(lock);
		*made = 0;
		return -1;
	}
	return 0;
}

/**
 * Whether the open database is a verdict cache: empty, or holding the
 * stored counters or at least one verdict.  A compiled policy or another
 * program's LMDB file holds neither, and must not be written (a purge
 * would empty it).
 */
static int
is_verdict_cache(MDB_txn* txn, MDB_dbi dbi)
{
	MDB_cursor* cur;
	MDB_val k, v;
	int rc, yes = 1;
	if(mdb_cursor_open(txn, dbi, &cur) != 0)
		return 0;
	for(rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if((k.mv_size == sizeof(stats_key) - 1 &&
			memcmp(k.mv_data, stats_key, k.mv_size) == 0) ||
			valid(&v)) {
			yes = 1;
			break;
		}
		yes = 0;
	}
	mdb_cursor_close(cur);
	return yes;
}

/** Note which file LMDB opened (file_changed compares). */
static void
remember_file(struct dp_vcache* vc, const char* path)
{
	struct stat sb;
	int fd;
	if(mdb_env_get_fd(vc->env, &fd) == 0 && fstat(fd, &sb) == 0) {
		vc->dev = sb.st_dev;
		vc->ino = sb.st_ino;
	}
	snprintf(vc->path, sizeof(vc->path), "%s", path);
}

dp_status
dp_vcache_open(const char* path, uint64_t map_size, int mode,
	struct dp_vcache** out, struct dp_error* err)
{
	struct dp_vcache* vc = calloc(1, sizeof(*vc));
	int writer = (mode & DP_VCACHE_WRITER) != 0, rc, dead, cache = 1;
	unsigned flags = MDB_NOSUBDIR | MDB_NOTLS | MDB_NOMETASYNC;
	uint64_t file_map = 0;
	MDB_txn* txn;
	struct stat st;
	*out = NULL;
	if(!vc || !(vc->q = calloc(QCAP, sizeof(*vc->q))) ||
		!(vc->batch = calloc(QCAP, sizeof(*vc->batch)))) {
		dp_error_set(err, "%s: out of memory", path);
		if(vc) {
			free(vc->q);
			free(vc);
		}
		return DP_ERR_NOMEM;
	}
	snprintf(vc->path, sizeof(vc->path), "%s", path);
	dp_writer_init(&vc->w, &vc_ops, vc);
	pthread_mutex_init(&vc->write_mx, NULL);
	if(mode & DP_VCACHE_EXISTING) {
		const char* no = stat(path, &st) != 0 ? strerror(errno) :
			!S_ISREG(st.st_mode) ? "not a regular file" :
			st.st_size == 0 ? "an empty file" : NULL;
		if(no) {
			dp_error_set(err, "%s: no verdict cache there (%s)",
				path, no);
			dp_vcache_close(vc);
			return DP_ERR_IO;
		}
	}
	if(!whole_or_new(path, &file_map, err)) {
		dp_vcache_close(vc);
		return DP_ERR_FORMAT;
	}
	if(mode & DP_VCACHE_EXISTING)
		map_size = file_map;
	if(mode & DP_VCACHE_RDONLY)
		flags |= MDB_RDONLY;
	if(reserve_lock_file(path, &vc->made_lock, err) != 0) {
		dp_vcache_close(vc);
		return DP_ERR_IO;
	}
	if(!(mode & DP_VCACHE_EXISTING))
		vc->made_lock = 0;
	if((rc = mdb_env_create(&vc->env)) != 0 ||
		(rc = mdb_env_set_mapsize(vc->env, map_size)) != 0 ||
		(rc = mdb_env_open(vc->env, path, flags, 0640)) != 0 ||
		(rc = mdb_reader_check(vc->env, &dead)) != 0 ||
		(rc = mdb_txn_begin(vc->env, NULL, flags & MDB_RDONLY,
		&txn)) != 0) {
		dp_error_set(err, "%s: cannot open verdict cache: %s", path,
			mdb_strerror(rc));
		dp_vcache_close(vc);
		return rc == ENOENT || rc == EACCES ? DP_ERR_IO :
			DP_ERR_FORMAT;
	}
	if((rc = mdb_dbi_open(txn, NULL, 0, &vc->dbi)) != 0 ||
		!(cache = is_verdict_cache(txn, vc->dbi))) {
		mdb_txn_abort(txn);
		if(!cache)
			dp_error_set(err, "%s: not a verdict cache (it holds "
				"entries, none of them a verdict); left as it "
				"is", path);
		else
			dp_error_set(err, "%s: cannot open verdict cache: %s",
				path, mdb_strerror(rc));
		dp_vcache_close(vc);
		return DP_ERR_FORMAT;
	}
	if((rc = mdb_txn_commit(txn)) != 0 ||
		(writer && (rc = hot_init(vc, map_size)) != 0)) {
		dp_error_set(err, "%s: cannot open verdict cache: %s", path,
			mdb_strerror(rc));
		dp_vcache_close(vc);
		return rc == ENOMEM ? DP_ERR_NOMEM : DP_ERR_FORMAT;
	}
	remember_file(vc, path);
	if(writer) {
		hot_fill(vc);
		if(dp_writer_start(&vc->w) != 0) {
			dp_error_set(err, "%s: cannot start the writer thread",
				path);
			dp_vcache_close(vc);
			return DP_ERR_NOMEM;
		}
		vc->has_writer = 1;
	}
	*out = vc;
	return DP_OK;
}

void
dp_vcache_close(struct dp_vcache* vc)
{
	if(!vc)
		return;
	if(vc->has_writer)
		dp_writer_stop(&vc->w, 0, NULL, NULL);
	else if(vc->env)
		dp_vcache_flush(vc);
	if(vc->env)
		mdb_env_close(vc->env);
	if(vc->made_lock) {
		char lock[sizeof(vc->path) + 8];
		snprintf(lock, sizeof(lock), "%s-lock", vc->path);
		unlink(lock);
	}
	dp_writer_destroy(&vc->w);
	pthread_mutex_destroy(&vc->write_mx);
	free(vc->q);
	free(vc->batch);
	hot_free(vc);
	free(vc);
}

void
dp_vcache_set_log(struct dp_vcache* vc, void (*log_fn)(const char* msg),
	const char* path)
{
	pthread_mutex_lock(&vc->write_mx);
	vc->log_fn = log_fn;
	snprintf(vc->path, sizeof(vc->path), "%s", path);
	pthread_mutex_unlock(&vc->write_mx);
}

int
dp_vcache_decode(const void* data, size_t len, struct dp_vrecord* r)
{
	MDB_val v;
	v.mv_data = (void*)data;
	v.mv_size = len;
	memset(r, 0, sizeof(*r));
	if(!valid(&v))
		return 0;
	decode(&v, r);
	return 1;
}

int
dp_vcache_get(struct dp_vcache* vc, const char* name, uint64_t now,
	struct dp_vrecord* rec)
{
	MDB_txn* txn;
	MDB_val k, v;
	int found = 0;
	k.mv_data = (void*)name;
	k.mv_size = strlen(name);
	if(k.mv_size == 0 || k.mv_size >= DP_NAME_MAX)
		return 0;
	if(vc->hot)
		return hot_get(vc, name, k.mv_size, rec) && rec->expiry > now;
	if(mdb_txn_begin(vc->env, NULL, MDB_RDONLY, &txn) != 0)
		return 0;
	if(mdb_get(txn, vc->dbi, &k, &v) == 0 && valid(&v)) {
		decode(&v, rec);
		found = rec->expiry > now;
	}
	mdb_txn_abort(txn);
	return found;
}

void
dp_vcache_note(struct dp_vcache* vc, const char* name,
	const struct dp_verdict* v, uint64_t policy_hash, uint64_t now,
	uint32_t ttl)
{
	struct dp_vrecord r;
	size_t n = strlen(name);
	if(n == 0 || n >= DP_NAME_MAX)
		return;
	memset(&r, 0, sizeof(r));
	r.action = v->action;
	r.score = v->score;
	if(v->target)
		snprintf(r.target, sizeof(r.target), "%s", v->target);
	if(v->technique)
		snprintf(r.technique, sizeof(r.technique), "%s", v->technique);
	snprintf(r.countries, sizeof(r.countries), "%s", v->countries);
	snprintf(r.why, sizeof(r.why), "%s", v->why);
	r.first_seen = r.last_seen = now;
	r.expiry = now + ttl;
	r.hits = 1;
	r.policy_hash = policy_hash;
	r.zone_labels = v->zone_labels;
	if(vc->hot)
		hot_put(vc, name, n, &r, 1);
	pthread_mutex_lock(&vc->w.mx);
	if(vc->nq >= QCAP) {
		vc->dropped_queue++;
		pthread_mutex_unlock(&vc->w.mx);
		return;
	}
	memcpy(vc->q[vc->nq].name, name, n + 1);
	vc->q[vc->nq++].r = r;
	if(vc->nq >= QCAP / 2)
		dp_writer_kick(&vc->w);
	pthread_mutex_unlock(&vc->w.mx);
}

void
dp_vcache_flush(struct dp_vcache* vc)
{
	struct qitem* b;
	size_t n;
	if(vc->has_writer) {
		/* Let the writer do it, and wait until the queue is empty. */
		pthread_mutex_lock(&vc->w.mx);
		dp_writer_kick(&vc->w);
		pthread_mutex_unlock(&vc->w.mx);
	}
	pthread_mutex_lock(&vc->w.mx);
	n = vc->nq;
	if(n == 0) {
		pthread_mutex_unlock(&vc->w.mx);
		return;
	}
	if(!(b = malloc(n * sizeof(*b)))) {
		pthread_mutex_unlock(&vc->w.mx);
		return;
	}
	memcpy(b, vc->q, n * sizeof(*b));
	vc->nq = 0;
	pthread_mutex_unlock(&vc->w.mx);
	write_batch(vc, b, n);
	free(b);
}

size_t
dp_vcache_each(struct dp_vcache* vc,
	void (*fn)(void* arg, const char* name, const struct dp_vrecord* r),
	void* arg)
{
	MDB_txn* txn;
	MDB_cursor* cur;
	MDB_val k, v;
	size_t n = 0;
	int rc;
	if(mdb_txn_begin(vc->env, NULL, MDB_RDONLY, &txn) != 0)
		return 0;
	if(mdb_cursor_open(txn, vc->dbi, &cur) != 0) {
		mdb_txn_abort(txn);
		return 0;
	}
	for(rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char name[DP_NAME_MAX];
		struct dp_vrecord r;
		if(k.mv_size == 0 || k.mv_size >= sizeof(name) ||
			((char*)k.mv_data)[0] == '\001' || !valid(&v))
			continue;
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = 0;
		decode(&v, &r);
		fn(arg, name, &r);
		n++;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return n;
}

long
dp_vcache_purge(struct dp_vcache* vc, const char* name)
{
	MDB_txn* txn;
	long n = 0;
	int rc;
	pthread_mutex_lock(&vc->write_mx);
	if(mdb_txn_begin(vc->env, NULL, 0, &txn) != 0) {
		pthread_mutex_unlock(&vc->write_mx);
		return -1;
	}
	if(name) {
		MDB_val k;
		k.mv_data = (void*)name;
		k.mv_size = strlen(name);
		rc = k.mv_size ? mdb_del(txn, vc->dbi, &k, NULL) : MDB_NOTFOUND;
		n = rc == 0;
	} else {
		MDB_stat st;
		if(mdb_stat(txn, vc->dbi, &st) == 0)
			n = (long)st.ms_entries;
		rc = mdb_drop(txn, vc->dbi, 0);
		n = rc == 0 ? n : 0;
	}
	if(rc != 0 && rc != MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		pthread_mutex_unlock(&vc->write_mx);
		return -1;
	}
	rc = mdb_txn_commit(txn);
	pthread_mutex_unlock(&vc->write_mx);
	if(vc->hot)
		hot_drop(vc, name);
	return rc == 0 ? n : -1;
}

struct stats_arg {
	uint64_t now;
	struct dp_vcache_stats* st;
};

static void
count_entry(void* arg, const char* name, const struct dp_vrecord* r)
{
	struct stats_arg* sa = arg;
	(void)name;
	sa->st->entries++;
	if(r->expiry <= sa->now)
		sa->st->expired++;
}

void
dp_vcache_get_stats(struct dp_vcache* vc, uint64_t now,
	struct dp_vcache_stats* st)
{
	struct stats_arg sa;
	MDB_envinfo info;
	MDB_stat ms;
	MDB_txn* txn;
	MDB_val k, v;
	memset(st, 0, sizeof(*st));
	sa.now = now;
	sa.st = st;
	dp_vcache_each(vc, count_entry, &sa);
	if(mdb_env_info(vc->env, &info) == 0 && mdb_env_stat(vc->env, &ms) == 0) {
		st->map_size = info.me_mapsize;
		st->used_bytes = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	}
	pthread_mutex_lock(&vc->w.mx);
	st->dropped_queue = vc->dropped_queue;
	pthread_mutex_unlock(&vc->w.mx);
	if(mdb_txn_begin(vc->env, NULL, MDB_RDONLY, &txn) == 0) {
		k.mv_data = (void*)stats_key;
		k.mv_size = sizeof(stats_key) - 1;
		if(mdb_get(txn, vc->dbi, &k, &v) == 0 &&
			v.mv_size == sizeof(struct vstats)) {
			struct vstats s;
			memcpy(&s, v.mv_data, sizeof(s));
			st->dropped_full = s.dropped_full;
			st->written = s.written;
		}
		mdb_txn_abort(txn);
	}
}

void
dp_vcache_counts(struct dp_vcache* vc, uint64_t* written, uint64_t* dropped)
{
	uint64_t q;
	pthread_mutex_lock(&vc->w.mx);
	q = vc->dropped_queue;
	pthread_mutex_unlock(&vc->w.mx);
	pthread_mutex_lock(&vc->write_mx);
	*written = vc->wrote;
	*dropped = q + vc->dropped_write;
	pthread_mutex_unlock(&vc->write_mx);
}
