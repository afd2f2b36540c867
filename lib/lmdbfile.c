/*
 * lib/lmdbfile.c - whether an LMDB file (a compiled policy, the verdict
 * cache) may be handed to LMDB (see dp_lmdb_whole in internal.h).
 *
 * LMDB trusts its file: it maps it and follows page numbers and node
 * offsets without checking them against the file's end.  A file cut
 * short, or one whose bytes were damaged or crafted, then faults the
 * process that reads it (SIGBUS past the end, SIGSEGV through a wild
 * offset), and the process is the resolver.  So every page LMDB would
 * read is read here first, through read(), and checked: the meta pages,
 * then the two trees (free pages and the main database) from their roots,
 * with every node inside its page and every child and overflow run inside
 * the file.  doppel's files use neither sub-databases nor duplicate keys,
 * so pages or nodes of those kinds are refused too.
 *
 * The layout is LMDB 0.9's (lmdb.h's on-disk format, version 1), 64-bit:
 * a page is a 16-byte header (page number, pad, flags, lower and upper
 * bounds of its free space; an overflow page's page count where lower and
 * upper would be), then 16-bit offsets of its nodes; a node is an 8-byte
 * header (data size or child page number, flags, key size), its key, and
 * its data or the page number of the overflow run holding it.
 */
#include "internal.h"

#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/** Page header size, and page flags. */
#define PAGE_HDR 16
#define P_BRANCH 0x01
#define P_LEAF 0x02
#define P_OVERFLOW 0x04
/** Node header size, and leaf node flags. */
#define NODE_HDR 8
#define F_BIGDATA 0x01
/** The deepest tree walked (LMDB's own cursor stack holds 32). */
#define MAX_DEPTH 32
/** Meta page: offsets (after the page header) of the free and main
 * databases' records, and in such a record of its depth and root. */
#define META_FREE_DB 24
#define META_MAIN_DB 72
#define DB_ROOT 40
/** In a database's record: its depth (levels of its tree) */
#define DB_DEPTH 6
/** In a database's record: its flags, and those that change how its
 * keys sort or allow duplicates (lmdb.h's MDB_REVERSEKEY .. MDB_REVERSEDUP). */
#define DB_FLAGS 4
#define DB_KEY_FLAGS (MDB_REVERSEKEY | MDB_DUPSORT | MDB_INTEGERKEY | \
	MDB_DUPFIXED | MDB_INTEGERDUP | MDB_REVERSEDUP)

/** A walk of one file. */
struct walk {
	int fd;
	const char* path;
	size_t psize;
	/** pages in the file (the meta page's last page + 1) */
	uint64_t npages;
	/** pages read so far: a tree of more pages than the file holds
	 * goes round in a loop */
	uint64_t visited;
	unsigned char* page;
	struct dp_error* err;
};

static uint16_t
u16(const unsigned char* p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t
u32(const unsigned char* p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t
u64(const unsigned char* p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/** Read page pgno into buf. @return 0, or -1 with the error set. */
static int
read_page(struct walk* w, uint64_t pgno, unsigned char* buf)
{
	ssize_t got;
	if(pgno >= w->npages || ++w->visited > w->npages) {
		dp_error_set(w->err, "%s: corrupt: page %llu is past its "
			"last page, or its tree loops", w->path,
			(unsigned long long)pgno);
		return -1;
	}
	got = pread(w->fd, buf, w->psize, (off_t)(pgno * w->psize));
	if(got != (ssize_t)w->psize) {
		dp_error_set(w->err, "%s: cannot read page %llu: %s", w->path,
			(unsigned long long)pgno, got < 0 ? strerror(errno) :
			"short read");
		return -1;
	}
	if(u64(buf) != pgno) {
		dp_error_set(w->err, "%s: corrupt: page %llu says it is page "
			"%llu", w->path, (unsigned long long)pgno,
			(unsigned long long)u64(buf));
		return -1;
	}
	return 0;
}

static int
corrupt(struct walk* w, uint64_t pgno, const char* what)
{
	dp_error_set(w->err, "%s: corrupt: page %llu: %s", w->path,
		(unsigned long long)pgno, what);
	return -1;
}

/** Check the overflow run at pgno that holds size bytes. */
static int
check_overflow(struct walk* w, uint64_t pgno, uint64_t size)
{
	unsigned char* p = w->page;
	uint32_t n;
	if(read_page(w, pgno, p) != 0)
		return -1;
	n = u32(p + 12);
	if(!(u16(p + 10) & P_OVERFLOW) || n == 0 ||
		pgno + n > w->npages ||
		size > (uint64_t)n * w->psize - PAGE_HDR)
		return corrupt(w, pgno, "bad overflow run");
	/* the run's other pages are data, read by no one but the caller */
	w->visited += n - 1;
	return 0;
}

/** Check the tree under page pgno, depth levels deep at most. */
static int
check_tree(struct walk* w, uint64_t pgno, int depth)
{
	unsigned char* p;
	uint16_t flags, lower, upper;
	size_t i, nkeys;
	int rc = -1;
	if(depth > MAX_DEPTH)
		return corrupt(w, pgno, "tree too deep");
	if(!(p = malloc(w->psize))) {
		dp_error_set(w->err, "%s: out of memory", w->path);
		return -1;
	}
	if(read_page(w, pgno, p) != 0)
		goto done;
	flags = u16(p + 10);
	lower = u16(p + 12);
	upper = u16(p + 14);
	if((flags & (P_BRANCH | P_LEAF)) == 0 ||
		(flags & (P_BRANCH | P_LEAF)) == (P_BRANCH | P_LEAF) ||
		(flags & ~(P_BRANCH | P_LEAF)) != 0) {
		corrupt(w, pgno, "neither a branch nor a plain leaf");
		goto done;
	}
	if(lower < PAGE_HDR || (lower & 1) || lower > upper ||
		upper > w->psize) {
		corrupt(w, pgno, "free space bounds out of the page");
		goto done;
	}
	nkeys = (size_t)(lower - PAGE_HDR) / 2;
	if((flags & P_BRANCH) && nkeys == 0) {
		corrupt(w, pgno, "a branch without children");
		goto done;
	}
	for(i = 0; i < nkeys; i++) {
		size_t off = u16(p + PAGE_HDR + 2 * i), ksize;
		const unsigned char* n = p + off;
		uint64_t lo;
		if(off < upper || off + NODE_HDR > w->psize) {
			corrupt(w, pgno, "a node out of the page");
			goto done;
		}
		lo = (uint64_t)u16(n) | (uint64_t)u16(n + 2) << 16;
		ksize = u16(n + 6);
		if(off + NODE_HDR + ksize > w->psize) {
			corrupt(w, pgno, "a key out of the page");
			goto done;
		}
		if(flags & P_BRANCH) {
			/* the flags field holds the child's high bits */
			if(check_tree(w, lo | (uint64_t)u16(n + 4) << 32,
				depth + 1) != 0)
				goto done;
		} else if(u16(n + 4) == F_BIGDATA) {
			if(off + NODE_HDR + ksize + 8 > w->psize ||
				check_overflow(w, u64(n + NODE_HDR + ksize),
				lo) != 0) {
				if(!w->err->msg[0])
					corrupt(w, pgno, "a value out of the "
						"page");
				goto done;
			}
		} else if(u16(n + 4) != 0 ||
			off + NODE_HDR + ksize + lo > w->psize) {
			corrupt(w, pgno, "a value out of the page, or of a "
				"kind doppel does not write");
			goto done;
		}
	}
	rc = 0;
done:
	free(p);
	return rc;
}

/** Whether a tree's root is none, or a page after the meta pages up to
 * the last one. */
static int
root_in(uint64_t root, uint64_t last)
{
	return root == ~(uint64_t)0 || (root >= 2 && root <= last);
}

/** The checks of dp_lmdb_whole; the trees are walked if walk is set. */
static int
check_file(int fd, const char* path, uint64_t size, int walk,
	struct dp_error* err)
{
	unsigned char b[2 * 65536];
	ssize_t got = pread(fd, b, sizeof(b), 0);
	size_t n = got > 0 ? (size_t)got : 0, psize, i, best_i = 0;
	uint64_t best_txn = 0, last_pg = 0;
	const unsigned char* best = NULL;
	struct dp_error none;
	struct walk w;
	int d, rc;
	if(!err)
		err = &none;
	/* The meta page: a 16-byte page header, then magic, version,
	 * address, map size, two 48-byte database records (the first's
	 * pad field holds the page size), last page, transaction id. */
	if(n < PAGE_HDR + 136) {
		dp_error_set(err, "%s: truncated (%zu bytes)", path, n);
		return -1;
	}
	psize = u32(b + PAGE_HDR + 24);
	if(psize < 512 || psize > 65536 || (psize & (psize - 1))) {
		dp_error_set(err, "%s: corrupt: page size %zu", path, psize);
		return -1;
	}
	/* LMDB refuses the file unless both meta pages are meta pages of
	 * its format; it would then leak what it allocated (LMDB 0.9.24's
	 * mdb_env_close after a failed open), so they are checked here. */
	for(i = 0; i < 2; i++) {
		const unsigned char* m = b + i * psize + PAGE_HDR;
		if((i + 1) * psize > n || !(u16(m - PAGE_HDR + 10) & 0x08) ||
			u32(m) != 0xBEEFC0DE || u32(m + 4) != 1) {
			dp_error_set(err, "%s: not an LMDB file of this format "
				"(meta page %zu)", path, i);
			return -1;
		}
		/* the map it asks for: at most 1 TB (verdict-cache-size's
		 * bound), or mapping it fails; its last page and its trees'
		 * roots in the file, past the meta pages (either meta page
		 * may be the one LMDB goes back to) */
		if(u64(m + 120) >= size / psize) {
			dp_error_set(err, "%s: truncated: %llu bytes, its "
				"pages need %llu", path,
				(unsigned long long)size, (unsigned long long)
				((u64(m + 120) + 1) * (uint64_t)psize));
			return -1;
		}
		if(u64(m + 16) > (1ULL << 40) || u64(m + 120) < 1 ||
			!root_in(u64(m + META_FREE_DB + DB_ROOT), u64(m + 120)) ||
			!root_in(u64(m + META_MAIN_DB + DB_ROOT), u64(m + 120))) {
			dp_error_set(err, "%s: corrupt: meta page %zu points "
				"outside the file", path, i);
			return -1;
		}
		/* the trees' flags: the free pages' are the environment's
		 * (LMDB keeps its flags there) with integer keys; doppel's
		 * files sort keys plainly and hold no duplicates.  A flag for
		 * duplicates makes LMDB's own assertion abort the process
		 * when it next writes. */
		if((u16(m + META_FREE_DB + DB_FLAGS) & DB_KEY_FLAGS &
			~MDB_INTEGERKEY) || (u16(m + META_MAIN_DB + DB_FLAGS) &
			DB_KEY_FLAGS)) {
			dp_error_set(err, "%s: corrupt: meta page %zu gives its "
				"trees flags this file never uses", path, i);
			return -1;
		}
		/* the trees' depths: LMDB reads them when it estimates the
		 * pages a write may dirty, and a depth no tree can have
		 * makes LMDB 0.9.24 spill pages, whose list it then leaks
		 * (1 MB a transaction) */
		if(u16(m + META_FREE_DB + DB_DEPTH) > MAX_DEPTH ||
			u16(m + META_MAIN_DB + DB_DEPTH) > MAX_DEPTH) {
			dp_error_set(err, "%s: corrupt: meta page %zu gives a "
				"tree more than %d levels", path, i, MAX_DEPTH);
			return -1;
		}
		if(!best || u64(m + 128) > best_txn) {
			best_txn = u64(m + 128);
			last_pg = u64(m + 120);
			best = m;
			best_i = i;
		}
	}
	/* LMDB takes the newest transaction's number from the meta page
	 * with the higher one, and then its trees from the page that
	 * number's parity names: a number on the wrong page makes it walk
	 * the other page's trees, which were never checked against this
	 * page's last page (a fault, found by fuzz/vcachefile) */
	if(best && best_i != (best_txn & 1)) {
		dp_error_set(err, "%s: corrupt: meta page %zu holds transaction "
			"%llu, which LMDB looks for on page %d", path, best_i,
			(unsigned long long)best_txn, (int)(best_txn & 1));
		return -1;
	}
	/* LMDB maps both meta pages, reads the one it picks, and takes the
	 * page size from it */
	if(best && u32(best + 24) != psize) {
		dp_error_set(err, "%s: corrupt: its two meta pages disagree "
			"on the page size", path);
		return -1;
	}
	if(!best || last_pg < 1 || last_pg >= size / psize) {
		dp_error_set(err, "%s: truncated: %llu bytes, its pages need "
			"%llu", path, (unsigned long long)size,
			(unsigned long long)((last_pg + 1) * (uint64_t)psize));
		return -1;
	}
	if(!walk)
		return 0;
	memset(&w, 0, sizeof(w));
	w.fd = fd;
	w.path = path;
	w.psize = psize;
	w.npages = last_pg + 1;
	w.err = err;
	if(!(w.page = malloc(psize))) {
		dp_error_set(err, "%s: out of memory", path);
		return -1;
	}
	err->msg[0] = 0;
	rc = 0;
	for(d = 0; d < 2 && rc == 0; d++) {
		const unsigned char* db = best + (d ? META_MAIN_DB :
			META_FREE_DB);
		uint64_t root = u64(db + DB_ROOT);
		/* an empty database has no root (page number ~0) */
		if(root != ~(uint64_t)0)
			rc = check_tree(&w, root, 1);
	}
	free(w.page);
	return rc;
}

int
dp_lmdb_whole(int fd, const char* path, uint64_t size, struct dp_error* err)
{
	return check_file(fd, path, size, 1, err);
}

int
dp_lmdb_meta_ok(int fd, const char* path, uint64_t size, struct dp_error* err)
{
	return check_file(fd, path, size, 0, err);
}

uint64_t
dp_lmdb_map_size(int fd)
{
	unsigned char b[2 * 65536];
	ssize_t got = pread(fd, b, sizeof(b), 0);
	size_t n = got > 0 ? (size_t)got : 0, psize, i;
	uint64_t best_txn = 0, map = 0;
	if(n < PAGE_HDR + 136)
		return 0;
	psize = u32(b + PAGE_HDR + 24);
	if(psize < 512 || psize > 65536 || (psize & (psize - 1)))
		return 0;
	for(i = 0; i < 2 && (i + 1) * psize <= n; i++) {
		const unsigned char* m = b + i * psize + PAGE_HDR;
		if(u32(m) == 0xBEEFC0DE && (i == 0 ||
			u64(m + 128) > best_txn)) {
			best_txn = u64(m + 128);
			map = u64(m + 16);
		}
	}
	return map;
}
