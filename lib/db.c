/*
 * lib/db.c - compiled policies: the policy's tables written to an LMDB
 * file, and mapped back read-only so that the module uses them in place.
 *
 * Layout: one LMDB database (MDB_NOSUBDIR file), one key per table.
 * "meta" holds a struct db_meta: magic, format version, counts, settings
 * and a checksum of every other value.
 *
 * dp_policy_compile never writes a compiled file in place: it builds
 * PATH.tmp.PID, syncs it and renames it onto PATH.  But an operator may
 * (cp other-file policy.db), so a reader does not use the map: it copies
 * each table into its own aligned memory (the buckets and label records
 * on cache lines), checks the copies, and closes the file again.  A file
 * changed in place afterwards cannot reach a query; one changed during
 * the copy fails the checksum.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/** Format version; any change to a table's layout bumps it. */
#define DB_VERSION 4
/** First bytes of the meta record. */
static const char db_magic[8] = { 'd', 'o', 'p', 'p', 'e', 'l', 'd', 'b' };

/** The meta record. */
struct db_meta {
	char magic[8];
	uint32_t version;
	uint32_t nprot, nnames, nlabels, nsuffixes;
	int32_t negative_ttl;
	uint32_t country_mismatch, hijack;
	uint64_t strings_len, nbuckets, novf, index_count, psl_len, psl_rules;
	uint64_t source_hash, built, checksum;
	double block_at, warn_at;
	uint64_t kw_hash[DP_KW_SLOTS];
	uint8_t kw_word[DP_KW_SLOTS];
	struct dp_tech_rule tech[DP_NTECH];
};

/** An open compiled policy. */
struct dp_db {
	MDB_env* env;
	MDB_txn* txn;
	struct db_meta meta;
	uint64_t file_size;
	/** the tables, copied out of the map */
	void* copies[16];
	int ncopies;
};

/** The tables, their keys and element sizes. */
enum table { T_STRINGS, T_PROT, T_NAMES, T_LABELS, T_SUFFIXES, T_BUCKETS,
	T_OVF, T_PSL, T_COUNT };
static const char* const table_key[T_COUNT] = { "strings", "prot", "names",
	"labels", "suffixes", "buckets", "overflow", "psl" };

/**
 * Bytes stored before a table.  LMDB puts a large value 16 bytes into its
 * first page, and pages are aligned in the map: 48 bytes more put the
 * index's buckets and the label records on cache-line boundaries, one
 * line each.
 */
static size_t
table_pad(enum table t)
{
	return t == T_BUCKETS || t == T_LABELS ? 48 : 0;
}

/** Where each table of a policy is, and how long. */
static void
tables_of(const struct dp_policy* p, const void** ptr, size_t* len)
{
	ptr[T_STRINGS] = p->strings;
	len[T_STRINGS] = p->strings_len;
	ptr[T_PROT] = p->prot;
	len[T_PROT] = (size_t)p->nprot * sizeof(*p->prot);
	ptr[T_NAMES] = p->names;
	len[T_NAMES] = (size_t)p->nnames * sizeof(*p->names);
	ptr[T_LABELS] = p->labels;
	len[T_LABELS] = (size_t)p->nlabels * sizeof(*p->labels);
	ptr[T_SUFFIXES] = p->suffixes;
	len[T_SUFFIXES] = (size_t)p->nsuffixes * sizeof(*p->suffixes);
	ptr[T_BUCKETS] = p->index.buckets;
	len[T_BUCKETS] = (size_t)p->index.nbuckets * sizeof(*p->index.buckets);
	ptr[T_OVF] = p->index.ovf;
	len[T_OVF] = (size_t)p->index.novf * sizeof(*p->index.ovf);
	ptr[T_PSL] = p->psl_text;
	len[T_PSL] = p->psl_len;
}

/** A fast 64-bit checksum, 8 bytes a step. */
static uint64_t
checksum(uint64_t h, const void* data, size_t len)
{
	const unsigned char* s = data;
	size_t i;
	for(i = 0; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	for(; i < len; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return h ^ len;
}

int
dp_db_is_compiled(const char* path)
{
	unsigned char b[20];
	FILE* f = fopen(path, "rb");
	size_t n;
	if(!f)
		return 0;
	n = fread(b, 1, sizeof(b), f);
	fclose(f);
	/* LMDB's magic, 0xBEEFC0DE, after the first page's header */
	return n == sizeof(b) && b[16] == 0xde && b[17] == 0xc0 &&
		b[18] == 0xef && b[19] == 0xbe;
}

dp_status
dp_policy_compile(const struct dp_policy* p, const char* path,
	struct dp_error* err)
{
	const void* ptr[T_COUNT];
	size_t len[T_COUNT], total = sizeof(struct db_meta);
	char tmp[4200], lock[4300];
	struct db_meta m;
	MDB_env* env = NULL;
	MDB_txn* txn = NULL;
	MDB_dbi dbi;
	MDB_val k, v;
	int rc, i;
	dp_status st = DP_ERR_IO;

	tables_of(p, ptr, len);
	memset(&m, 0, sizeof(m));
	memcpy(m.magic, db_magic, sizeof(db_magic));
	m.version = DB_VERSION;
	m.nprot = p->nprot;
	m.nnames = p->nnames;
	m.nlabels = p->nlabels;
	m.nsuffixes = p->nsuffixes;
	m.negative_ttl = p->negative_ttl;
	m.country_mismatch = (uint32_t)p->country_mismatch;
	m.hijack = (uint32_t)p->hijack;
	m.strings_len = p->strings_len;
	m.nbuckets = p->index.nbuckets;
	m.novf = p->index.novf;
	m.index_count = p->index.count;
	m.psl_len = p->psl_len;
	m.psl_rules = p->psl_rules;
	m.source_hash = p->source_hash;
	m.built = (uint64_t)time(NULL);
	m.block_at = p->block_at;
	m.warn_at = p->warn_at;
	memcpy(m.kw_hash, p->kw_hash, sizeof(m.kw_hash));
	memcpy(m.kw_word, p->kw_word, sizeof(m.kw_word));
	memcpy(m.tech, p->tech, sizeof(m.tech));
	m.checksum = 1469598103934665603ULL;
	for(i = 0; i < T_COUNT; i++) {
		m.checksum = checksum(m.checksum, ptr[i], len[i]);
		total += len[i] + 8192;
	}

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	snprintf(lock, sizeof(lock), "%s-lock", tmp);
	unlink(tmp);
	if((rc = mdb_env_create(&env)) != 0 ||
		(rc = mdb_env_set_mapsize(env, total + total / 4 + 1048576))
		!= 0 ||
		(rc = mdb_env_open(env, tmp, MDB_NOSUBDIR | MDB_NOSYNC |
		MDB_NOLOCK, 0644)) != 0) {
		dp_error_set(err, "%s: cannot create: %s", tmp,
			mdb_strerror(rc));
		goto cleanup;
	}
	if((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
		(rc = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0)
		goto lmdb_error;
	k.mv_data = "meta";
	k.mv_size = 4;
	v.mv_data = &m;
	v.mv_size = sizeof(m);
	if((rc = mdb_put(txn, dbi, &k, &v, 0)) != 0)
		goto lmdb_error;
	for(i = 0; i < T_COUNT; i++) {
		size_t pad = table_pad((enum table)i);
		k.mv_data = (void*)table_key[i];
		k.mv_size = strlen(table_key[i]);
		v.mv_data = NULL;
		v.mv_size = pad + len[i];
		if((rc = mdb_put(txn, dbi, &k, &v, MDB_RESERVE)) != 0)
			goto lmdb_error;
		memset(v.mv_data, 0, pad);
		if(len[i])
			memcpy((char*)v.mv_data + pad, ptr[i], len[i]);
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if(rc != 0 || (rc = mdb_env_sync(env, 1)) != 0)
		goto lmdb_error;
	mdb_env_close(env);
	env = NULL;
	if(rename(tmp, path) != 0) {
		dp_error_set(err, "%s: cannot replace with %s: %s", path, tmp,
			strerror(errno));
		goto cleanup;
	}
	st = DP_OK;
	goto cleanup;
lmdb_error:
	dp_error_set(err, "%s: cannot write: %s", tmp, mdb_strerror(rc));
cleanup:
	if(txn)
		mdb_txn_abort(txn);
	if(env)
		mdb_env_close(env);
	if(st != DP_OK)
		unlink(tmp);
	unlink(lock);
	return st;
}

/**
 * Copy a table out of the map into memory of its own: on a cache line,
 * and on huge pages when it is large (dp_alloc_table), as the index of a
 * policy built in memory is.
 * @return 0 on success.
 */
static int
get_table(struct dp_db* db, MDB_dbi dbi, enum table t, size_t want,
	void** out, struct dp_error* err, const char* path)
{
	MDB_val k, v;
	int rc;
	k.mv_data = (void*)table_key[t];
	k.mv_size = strlen(table_key[t]);
	if((rc = mdb_get(db->txn, dbi, &k, &v)) != 0) {
		dp_error_set(err, "%s: table '%s' missing (%s)", path,
			table_key[t], mdb_strerror(rc));
		return -1;
	}
	if(v.mv_size != want + table_pad(t)) {
		dp_error_set(err, "%s: table '%s' has %zu bytes, want %zu "
			"(truncated or corrupt)", path, table_key[t],
			v.mv_size, want + table_pad(t));
		return -1;
	}
	if(db->ncopies >= (int)(sizeof(db->copies) / sizeof(db->copies[0])) ||
		!(*out = dp_alloc_table(want))) {
		dp_error_set(err, "%s: out of memory", path);
		return -1;
	}
	memcpy(*out, (char*)v.mv_data + table_pad(t), want);
	db->copies[db->ncopies++] = *out;
	return 0;
}

/** Whether a threshold is a score in [0, 1], or -1 (unset) where allowed. */
static int
threshold_ok(double t, int unset_ok)
{
	return (t >= 0.0 && t <= 1.0) || (unset_ok && t == -1.0);
}

/**
 * Check that every offset and number in the tables points inside them,
 * so that a corrupt file is refused at open instead of crashing a query.
 */
static int
validate(const struct dp_policy* p, struct dp_error* err, const char* path)
{
	uint32_t i;
	const size_t sl = p->strings_len;
#define BAD(what) do { dp_error_set(err, "%s: corrupt: %s", path, what); \
		return -1; } while(0)
	if(sl > 0 && p->strings[sl - 1] != 0)
		BAD("string table not terminated");
	for(i = 0; i < p->nprot; i++) {
		const struct dp_prot* d = &p->prot[i];
		if(d->name >= sl || d->label >= p->nlabels ||
			d->suffix >= p->nsuffixes ||
			(d->countries != DP_NONE && d->countries >= sl) ||
			d->label_off + d->label_len > strlen(p->strings +
			d->name) || d->action_cap > DP_BLOCK)
			BAD("protected domain record out of range");
	}
	for(i = 0; i < p->nnames; i++)
		if(p->names[i].name >= sl || (p->names[i].pid != DP_NONE &&
			p->names[i].pid >= p->nprot))
			BAD("name record out of range");
	for(i = 0; i < p->nlabels; i++) {
		const struct dp_label* l = &p->labels[i];
		if(l->str >= sl || l->strong >= sl || l->loose >= sl ||
			l->flat >= sl || l->str + (uint64_t)l->len >= sl ||
			l->strong + (uint64_t)l->nstrong >= sl ||
			l->loose + (uint64_t)l->nloose >= sl ||
			l->flat + (uint64_t)l->nflat >= sl ||
			(uint64_t)l->first + l->n > p->nprot)
			BAD("label record out of range");
	}
	for(i = 0; i < p->nsuffixes; i++)
		if(p->suffixes[i].str + (uint64_t)p->suffixes[i].len >= sl)
			BAD("suffix record out of range");
	if(!threshold_ok(p->block_at, 0) || !threshold_ok(p->warn_at, 0) ||
		p->negative_ttl < -1 || p->negative_ttl > 86400)
		BAD("thresholds or negative-ttl out of range");
	for(i = 0; i < DP_NTECH; i++)
		if(!threshold_ok(p->tech[i].block_at, 1) ||
			!threshold_ok(p->tech[i].warn_at, 1) ||
			p->tech[i].action_cap > 1 + DP_BLOCK)
			BAD("technique rule out of range");
	if(!dp_index_valid(&p->index))
		BAD("index bucket out of range");
#undef BAD
	return 0;
}

dp_status
dp_db_open(const char* path, struct dp_policy** out, struct dp_error* err)
{
	struct dp_db* db = calloc(1, sizeof(*db));
	struct dp_policy* p = dp_policy_new();
	void* ptr[T_COUNT];
	MDB_dbi dbi;
	MDB_val k, v;
	struct stat sb;
	uint64_t sum = 1469598103934665603ULL;
	size_t len[T_COUNT];
	FILE* mem;
	int rc, i, attempt;
	dp_status st = DP_ERR_FORMAT;

	*out = NULL;
	if(!db || !p) {
		dp_error_set(err, "%s: out of memory", path);
		st = DP_ERR_NOMEM;
		goto fail;
	}
	p->db = db;
	/* The file may be replaced (renamed over) at any moment: check the
	 * one that is open, and make sure LMDB maps that very file. */
	for(attempt = 0;; attempt++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC), lfd;
		struct stat lsb;
		if(fd < 0 || fstat(fd, &sb) != 0) {
			dp_error_set(err, "%s: cannot open: %s", path,
				strerror(errno));
			if(fd >= 0)
				close(fd);
			st = DP_ERR_IO;
			goto fail;
		}
		db->file_size = (uint64_t)sb.st_size;
		if(dp_lmdb_whole(fd, path, db->file_size, err) != 0) {
			close(fd);
			goto fail;
		}
		if((rc = mdb_env_create(&db->env)) != 0 ||
			(rc = mdb_env_open(db->env, path, MDB_RDONLY |
			MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOTLS, 0444)) != 0) {
			close(fd);
			dp_error_set(err, "%s: cannot open compiled policy: %s",
				path, mdb_strerror(rc));
			st = rc == ENOENT || rc == EACCES ? DP_ERR_IO :
				DP_ERR_FORMAT;
			goto fail;
		}
		close(fd);
		if(mdb_env_get_fd(db->env, &lfd) == 0 && fstat(lfd, &lsb) == 0 &&
			lsb.st_ino == sb.st_ino && lsb.st_dev == sb.st_dev)
			break;
		/* replaced between our check and LMDB's open: again */
		mdb_env_close(db->env);
		db->env = NULL;
		if(attempt == 5) {
			dp_error_set(err, "%s: keeps being replaced while it is "
				"opened", path);
			goto fail;
		}
	}
	if((rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &db->txn)) != 0 ||
		(rc = mdb_dbi_open(db->txn, NULL, 0, &dbi)) != 0) {
		dp_error_set(err, "%s: cannot open compiled policy: %s", path,
			mdb_strerror(rc));
		goto fail;
	}
	k.mv_data = "meta";
	k.mv_size = 4;
	if((rc = mdb_get(db->txn, dbi, &k, &v)) != 0 ||
		v.mv_size < sizeof(db->meta.magic) + 4 ||
		memcmp(v.mv_data, db_magic, sizeof(db_magic)) != 0) {
		dp_error_set(err, "%s: not a doppel policy database", path);
		goto fail;
	}
	memcpy(&db->meta.version, (char*)v.mv_data + 8, 4);
	if(db->meta.version != DB_VERSION || v.mv_size != sizeof(db->meta)) {
		dp_error_set(err, "%s: policy database format %u, this doppel "
			"reads format %d: compile the policy again", path,
			db->meta.version, DB_VERSION);
		goto fail;
	}
	memcpy(&db->meta, v.mv_data, sizeof(db->meta));
	/* The tables' sizes are counts times element sizes: a count so
	 * large that the product wraps would pass the size check below
	 * with a small table and send the index far past it. */
	if(db->meta.nbuckets > SIZE_MAX / sizeof(*p->index.buckets) ||
		db->meta.novf > SIZE_MAX / sizeof(*p->index.ovf) ||
		db->meta.strings_len > SIZE_MAX ||
		db->meta.psl_len > SIZE_MAX ||
		/* a rule takes a line: more rules than bytes would size
		 * the list's filter from nothing */
		db->meta.psl_rules > db->meta.psl_len) {
		dp_error_set(err, "%s: corrupt: %llu index buckets, %llu "
			"overflow slots, %llu suffix rules in %llu bytes", path,
			(unsigned long long)db->meta.nbuckets,
			(unsigned long long)db->meta.novf,
			(unsigned long long)db->meta.psl_rules,
			(unsigned long long)db->meta.psl_len);
		goto fail;
	}
	p->nprot = p->prot_cap = db->meta.nprot;
	p->nnames = p->names_cap = db->meta.nnames;
	p->nlabels = db->meta.nlabels;
	p->nsuffixes = db->meta.nsuffixes;
	p->strings_len = p->strings_cap = db->meta.strings_len;
	p->index.nbuckets = db->meta.nbuckets;
	p->index.novf = db->meta.novf;
	p->index.count = db->meta.index_count;
	p->psl_len = db->meta.psl_len;
	p->psl_rules = db->meta.psl_rules;
	p->negative_ttl = db->meta.negative_ttl;
	p->country_mismatch = db->meta.country_mismatch > DP_BLOCK ? DP_BLOCK :
		(enum dp_action)db->meta.country_mismatch;
	p->hijack = db->meta.hijack > DP_BLOCK ? DP_WARN :
		(enum dp_action)db->meta.hijack;
	p->source_hash = db->meta.source_hash;
	p->block_at = db->meta.block_at;
	p->warn_at = db->meta.warn_at;
	/* the file's keyword table is rebuilt, not trusted (an index out
	 * of the engine's list, or a full table that never ends a probe) */
	dp_keywords_index(p);
	memcpy(p->tech, db->meta.tech, sizeof(p->tech));
	/* sizes the meta promises, each checked against the table */
	tables_of(p, (const void**)ptr, len);
	for(i = 0; i < T_COUNT; i++) {
		if(get_table(db, dbi, (enum table)i, len[i], &ptr[i], err,
			path) != 0)
			goto fail;
		sum = checksum(sum, ptr[i], len[i]);
	}
	if(sum != db->meta.checksum) {
		dp_error_set(err, "%s: corrupt: checksum mismatch", path);
		goto fail;
	}
	/* every table is copied: let go of the file */
	mdb_txn_abort(db->txn);
	db->txn = NULL;
	mdb_env_close(db->env);
	db->env = NULL;
	p->strings = ptr[T_STRINGS];
	p->prot = ptr[T_PROT];
	p->names = ptr[T_NAMES];
	p->labels = ptr[T_LABELS];
	p->suffixes = ptr[T_SUFFIXES];
	p->index.buckets = ptr[T_BUCKETS];
	p->index.ovf = ptr[T_OVF];
	if(validate(p, err, path) != 0)
		goto fail;
	/* The Public Suffix List travels with the policy. */
	if(!(mem = fmemopen(ptr[T_PSL], p->psl_len, "r"))) {
		dp_error_set(err, "%s: out of memory", path);
		st = DP_ERR_NOMEM;
		goto fail;
	}
	p->psl = psl_load_fp(mem);
	fclose(mem);
	if(!p->psl || !(p->folder = dp_folder_create())) {
		dp_error_set(err, "%s: cannot load its public suffix list or "
			"ICU", path);
		goto fail;
	}
	if(dp_affix_init(p) != DP_OK ||
		dp_psl_filter_init(p, ptr[T_PSL], p->psl_len) != DP_OK) {
		dp_error_set(err, "%s: out of memory", path);
		st = DP_ERR_NOMEM;
		goto fail;
	}
	*out = p;
	return DP_OK;
fail:
	if(p && p->db) {
		free(p->affix_bits);
		free(p->del_bits);
		free(p->prot_suffix);
		free((void*)p->suffix_rel);
		free(p->psl_filter);
		if(p->psl)
			psl_free(p->psl);
		dp_folder_destroy(p->folder);
		dp_db_close(p->db);
		free(p);
	} else {
		free(p);
		dp_db_close(db);
	}
	return st;
}

void
dp_db_close(struct dp_db* db)
{
	int i;
	if(!db)
		return;
	if(db->txn)
		mdb_txn_abort(db->txn);
	if(db->env)
		mdb_env_close(db->env);
	for(i = 0; i < db->ncopies; i++)
		free(db->copies[i]);
	free(db);
}

void
dp_db_info(const struct dp_db* db, struct dp_policy_info* info)
{
	info->version = db->meta.version;
	info->built = db->meta.built;
	info->file_size = db->file_size;
}
