/*
 * lib/audit.c - the per-query audit log (see audit.h).
 */
#include "audit.h"
#include "internal.h"
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/** Seconds dp_audit_close waits for the writer to write what is queued
 * before it leaves a writer stuck in write() behind. */
#define AUDIT_CLOSE_WAIT 2

/** Records queued between two writes, and the bytes they may take. */
#define AUDIT_QCAP 2048
#define AUDIT_QBYTES (AUDIT_QCAP * 1536)

/**
 * Repeats of one record: a client asking the same name and type again and
 * again with the same outcome.  The first is written as it comes; the
 * repeats within the window are counted, and when the window ends one
 * record says how many there were and when the first and last came.
 */
struct group {
	/** the record's key (rec_key); 0: a free slot */
	uint64_t key;
	/** the first repeat's and the last one's time, microseconds */
	uint64_t first, last;
	uint64_t repeats;
	/** when the window ends, seconds */
	time_t until;
	/** the first record, as written */
	char* line;
	size_t len;
};

/** Slots of the repeats table (one per key, the newest key wins). */
#define AUDIT_GROUPS 4096

struct dp_audit {
	int fd;
	char path[4096];
	void (*log_fn)(const char*);
	/** the queue: records back to back, and the batch being written */
	char* q;
	size_t qlen;
	char* batch;
	size_t nq;
	uint64_t dropped, reported;
	/** records taken into the queue for writing */
	uint64_t queued;
	/** writes are failing (reported once); records lost meanwhile */
	int failing;
	uint64_t lost;
	/** the file at path could not be created again (reported once) */
	int reopen_failed;
	/** the writer thread; its mx guards the queue and the counters */
	struct dp_writer w;
	/** what the writer took: its bytes, and the drops counted by then */
	size_t batch_len;
	uint64_t dropped_taken;
	/** seconds repeats are collapsed for (0: never), and their table
	 * (under mx) */
	unsigned window;
	struct group* groups;
	uint64_t collapsed;
	/** the seed of the records' keys (rec_key) */
	uint64_t key_seed;
};

/** Octets a JSON string cannot hold as they are (quote, backslash,
 * controls, anything past ASCII: names are canonical ASCII, anything else
 * is escaped so that the line stays valid JSON), and the NUL that ends
 * the string. */
static const unsigned char json_stop[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

int
dp_json_str(char* buf, size_t len, size_t* op, const char* s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char* p = (const unsigned char*)s;
	size_t o = *op, run;
	if(!s) {
		if(o + 4 >= len)
			return 0;
		memcpy(buf + o, "null", 4);
		*op = o + 4;
		return 1;
	}
	if(o + 1 >= len)
		return 0;
	buf[o++] = '"';
	for(;;) {
		/* a run of octets that go as they are, copied at once */
		for(run = 0; !json_stop[p[run]]; run++)
			;
		if(o + run + 6 >= len) {
			*op = o;
			return 0;
		}
		memcpy(buf + o, p, run);
		o += run;
		p += run;
		if(!*p)
			break;
		buf[o++] = '\\';
		if(*p == '"' || *p == '\\')
			buf[o++] = (char)*p;
		else {
			buf[o++] = 'u';
			buf[o++] = '0';
			buf[o++] = '0';
			buf[o++] = hex[*p >> 4];
			buf[o++] = hex[*p & 15];
		}
		p++;
	}
	buf[o++] = '"';
	*op = o;
	return 1;
}

/** Append formatted text. @return 0 if full. */
static int
put_fmt(char* buf, size_t len, size_t* o, const char* fmt, ...)
#ifdef __GNUC__
	__attribute__((format(printf, 4, 5)))
#endif
	;

static int
put_fmt(char* buf, size_t len, size_t* o, const char* fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(buf + *o, len - *o, fmt, ap);
	va_end(ap);
	if(n < 0 || (size_t)n >= len - *o)
		return 0;
	*o += (size_t)n;
	return 1;
}

/** The small appenders are inlined: a record makes some twenty calls. */
#ifdef __GNUC__
#define DP_AUDIT_INLINE inline __attribute__((always_inline))
#else
#define DP_AUDIT_INLINE inline
#endif

/** Append n bytes. @return 0 if full. */
static DP_AUDIT_INLINE int
put_raw(char* buf, size_t len, size_t* o, const char* s, size_t n)
{
	if(*o + n >= len)
		return 0;
	memcpy(buf + *o, s, n);
	*o += n;
	return 1;
}

/** Append a string literal. */
#define PUT_LIT(buf, len, o, lit) put_raw(buf, len, o, lit, sizeof(lit) - 1)

/** Append v as exactly `digits` decimal digits (leading zeros). */
static DP_AUDIT_INLINE int
put_digits(char* buf, size_t len, size_t* o, unsigned v, int digits)
{
	int i;
	if(*o + (size_t)digits >= len)
		return 0;
	for(i = digits - 1; i >= 0; i--) {
		buf[*o + (size_t)i] = (char)('0' + v % 10);
		v /= 10;
	}
	*o += (size_t)digits;
	return 1;
}

/** "YYYY-MM-DDTHH:MM:SS" of a second, kept per thread: records come many
 * to a second, and gmtime and strftime cost more than the rest of the
 * line. */
static const char*
utc_second(time_t sec)
{
	static _Thread_local time_t last = (time_t)-1;
	static _Thread_local char when[40];
	struct tm tm;
	if(sec != last) {
		gmtime_r(&sec, &tm);
		if(strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
			when[0] = 0;
		last = sec;
	}
	return when;
}

size_t
dp_audit_format(const struct dp_audit_rec* r, char* buf, size_t len)
{
	const struct dp_verdict* v = r->v;
	const char* when = utc_second((time_t)(r->usec / 1000000));
	const char* act = r->monitor && v->action == DP_BLOCK ?
		"would-block" : dp_action_str(v->action);
	size_t o = 0;
	int ok;
	/* The score is printed with three decimals; a score is in [0, 1],
	 * anything else takes the slow road. */
	ok = PUT_LIT(buf, len, &o, "{\"time\":\"") &&
		put_raw(buf, len, &o, when, strlen(when)) &&
		PUT_LIT(buf, len, &o, ".") &&
		put_digits(buf, len, &o, (unsigned)(r->usec % 1000000), 6) &&
		PUT_LIT(buf, len, &o, "Z\",\"client\":") &&
		dp_json_str(buf, len, &o, r->client && r->client[0] ?
		r->client : NULL) &&
		PUT_LIT(buf, len, &o, ",\"qname\":") &&
		dp_json_str(buf, len, &o, r->qname) &&
		PUT_LIT(buf, len, &o, ",\"qtype\":") &&
		dp_json_str(buf, len, &o, r->qtype) &&
		PUT_LIT(buf, len, &o, ",\"rcode\":") &&
		dp_json_str(buf, len, &o, r->rcode) &&
		PUT_LIT(buf, len, &o, ",\"verdict\":\"") &&
		put_raw(buf, len, &o, act, strlen(act)) &&
		PUT_LIT(buf, len, &o, "\",\"technique\":") &&
		dp_json_str(buf, len, &o, v->technique) &&
		PUT_LIT(buf, len, &o, ",\"target\":") &&
		dp_json_str(buf, len, &o, v->target) &&
		PUT_LIT(buf, len, &o, ",\"score\":");
	if(!ok)
		return 0;
	if(v->score >= 0.0 && v->score <= 1.0) {
		unsigned m = (unsigned)(v->score * 1000.0 + 0.5);
		ok = put_digits(buf, len, &o, m / 1000, 1) &&
			PUT_LIT(buf, len, &o, ".") &&
			put_digits(buf, len, &o, m % 1000, 3);
	} else
		ok = put_fmt(buf, len, &o, "%.3f", v->score);
	ok = ok && PUT_LIT(buf, len, &o, ",\"stage\":") &&
		dp_json_str(buf, len, &o, r->stage) &&
		PUT_LIT(buf, len, &o, ",\"countries\":") &&
		dp_json_str(buf, len, &o, v->countries[0] ? v->countries :
		NULL) &&
		(r->from_cache ? PUT_LIT(buf, len, &o, ",\"cache\":true") :
		PUT_LIT(buf, len, &o, ",\"cache\":false")) &&
		(r->monitor ? PUT_LIT(buf, len, &o, ",\"mode\":\"monitor\"") :
		PUT_LIT(buf, len, &o, ",\"mode\":\"enforce\"")) &&
		PUT_LIT(buf, len, &o, ",\"why\":") &&
		dp_json_str(buf, len, &o, v->why) &&
		PUT_LIT(buf, len, &o, "}\n");
	if(!ok)
		return 0;
	buf[o] = 0;	/* put_raw leaves room for it */
	return o;
}

#define KEY_MUL 0xff51afd7ed558ccdULL

/** A field into a record's key (NULL as ""); the length goes into the
 * hash, so "ab", "c" and "a", "bc" differ. */
static inline uint64_t
key_add(uint64_t h, const char* f)
{
	return dp_hash_bytes(h, f ? f : "", f ? strlen(f) : 0);
}

/** Eight octets with A-Z turned to a-z, the others as they are. */
static inline uint64_t
lower8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t high = 0x8080808080808080ULL;
	uint64_t low7 = w & ~high;
	/* the high bit of each octet: from 'A' up, past 'Z' */
	uint64_t ge_a = low7 + (0x80 - 'A') * ones;
	uint64_t gt_z = low7 + (0x7f - 'Z') * ones;
	return w | ((ge_a & ~gt_z & ~w & high) >> 2);
}

/** A wire name into a record's key, its letters in lower case as its
 * canonical text has them (the label lengths are all below 'A'); its
 * text is then the same for two names exactly when their keys' octets
 * are. */
static uint64_t
key_wire(uint64_t h, const uint8_t* wire, size_t len)
{
	uint64_t w;
	size_t i, k;
	for(i = 0; i < len; i += 8) {
		if(i + 8 <= len)
			memcpy(&w, wire + i, 8);
		else
			for(w = 0, k = 0; i + k < len; k++)
				w |= (uint64_t)wire[i + k] << (8 * k);
		h = (h ^ lower8(w)) * KEY_MUL;
		h ^= h >> 32;
	}
	h = (h ^ (uint64_t)(len + 1)) * KEY_MUL;
	return h ^ (h >> 29);
}

/**
 * The key of a record: its fields but the time, the score and the
 * explanation, hashed from the record itself, before (and so that a
 * repeat needs no) formatting.  Keyed with the log's own random seed:
 * records are repeats when their keys are equal, and a client that
 * cannot know the seed cannot make its queries pass for another's.
 */
static uint64_t
rec_key(const struct dp_audit* a, const struct dp_audit_rec* r)
{
	const struct dp_verdict* v = r->v;
	uint64_t h = a->key_seed;
	h = key_add(h, r->client);
	h = r->qname || !r->qname_wire ? key_add(h, r->qname) :
		key_wire(h, r->qname_wire, r->qname_wire_len);
	h = key_add(h, r->qtype);
	h = key_add(h, r->rcode);
	h = key_add(h, v->technique);
	h = key_add(h, v->target);
	h = key_add(h, r->stage);
	h = key_add(h, v->countries);
	h = (h ^ ((uint64_t)v->action | (uint64_t)(r->from_cache != 0) << 8 |
		(uint64_t)(r->monitor != 0) << 9)) * KEY_MUL;
	h ^= h >> 29;
	return h ? h : 1;
}

/**
 * Queue the record that closes a group: the group's first line with its
 * time set to the last repeat's, and the repeats, first and last added.
 * A group that saw no repeat writes nothing.  Called with mx held.
 */
static void
close_group(struct dp_audit* a, struct group* gr)
{
	/* {"time":"YYYY-MM-DDTHH:MM:SS.uuuuuuZ" */
	static const size_t tpos = 9;
	char first[40], last[40], extra[160];
	size_t n, elen, tlen;
	if(gr->key == 0)
		return;
	if(gr->repeats > 0) {
		n = gr->len - 2;	/* without "}\n" */
		snprintf(first, sizeof(first), "%s.%06uZ",
			utc_second((time_t)(gr->first / 1000000)),
			(unsigned)(gr->first % 1000000));
		snprintf(last, sizeof(last), "%s.%06uZ",
			utc_second((time_t)(gr->last / 1000000)),
			(unsigned)(gr->last % 1000000));
		tlen = strlen(last);
		elen = (size_t)snprintf(extra, sizeof(extra), ",\"repeats\":"
			"%llu,\"first\":\"%s\",\"last\":\"%s\"}\n",
			(unsigned long long)gr->repeats, first, last);
		if(a->nq >= AUDIT_QCAP || a->qlen + n + elen > AUDIT_QBYTES ||
			n < tpos + tlen || gr->line[tpos + tlen] != '"') {
			a->dropped += gr->repeats;
		} else {
			memcpy(a->q + a->qlen, gr->line, n);
			memcpy(a->q + a->qlen + tpos, last, tlen);
			memcpy(a->q + a->qlen + n, extra, elen);
			a->qlen += n + elen;
			a->nq++;
			a->collapsed += gr->repeats;
		}
	}
	free(gr->line);
	memset(gr, 0, sizeof(*gr));
}

/** Close the groups whose window has ended (all, if all is set). Called
 * with mx held. */
static void
close_groups(struct dp_audit* a, time_t now, int all)
{
	size_t i;
	if(!a->groups)
		return;
	for(i = 0; i < AUDIT_GROUPS; i++)
		if(a->groups[i].key && (all || a->groups[i].until <= now))
			close_group(a, &a->groups[i]);
}

/**
 * Whether a record of this key repeats one written within the window:
 * then it is counted in its group.  Called with mx held.
 */
static int
group_repeat(struct dp_audit* a, uint64_t key, uint64_t usec)
{
	struct group* gr = &a->groups[key & (AUDIT_GROUPS - 1)];
	if(gr->key != key || (time_t)(usec / 1000000) >= gr->until)
		return 0;
	if(gr->repeats++ == 0)
		gr->first = usec;
	gr->last = usec;
	return 1;
}

/** Start a new group with a record that repeats none (when the line can
 * be kept); the caller writes it.  Called with mx held. */
static void
group_start(struct dp_audit* a, uint64_t key, uint64_t usec,
	const char* line, size_t n)
{
	struct group* gr = &a->groups[key & (AUDIT_GROUPS - 1)];
	close_group(a, gr);
	if((gr->line = malloc(n)) != NULL) {
		memcpy(gr->line, line, n);
		gr->len = n;
		gr->key = key;
		gr->until = (time_t)(usec / 1000000) + (time_t)a->window;
	}
}

void
dp_audit_set_collapse(struct dp_audit* a, unsigned seconds)
{
	pthread_mutex_lock(&a->w.mx);
	close_groups(a, 0, 1);
	if(seconds && !a->groups)
		a->groups = calloc(AUDIT_GROUPS, sizeof(*a->groups));
	a->window = a->groups ? seconds : 0;
	pthread_mutex_unlock(&a->w.mx);
}

/** Say something through the log callback. */
static void
say(struct dp_audit* a, const char* fmt, ...)
#ifdef __GNUC__
	__attribute__((format(printf, 2, 3)))
#endif
	;

static void
say(struct dp_audit* a, const char* fmt, ...)
{
	char msg[4400];
	void (*log_fn)(const char*);
	va_list ap;
	/* a writer left behind by dp_audit_close says nothing more: the
	 * callback may be gone with the module that gave it */
	pthread_mutex_lock(&a->w.mx);
	log_fn = a->log_fn;
	pthread_mutex_unlock(&a->w.mx);
	if(!log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_fn(msg);
}

/** Free an audit log whose writer is done. */
static void
audit_free(struct dp_audit* a)
{
	close(a->fd);
	dp_writer_destroy(&a->w);
	if(a->groups) {
		size_t i;
		for(i = 0; i < AUDIT_GROUPS; i++)
			free(a->groups[i].line);
	}
	free(a->groups);
	free(a->q);
	free(a->batch);
	free(a);
}

/** If the file at the path is no longer the one open (deleted, or renamed
 * away by a log rotation), write to a new one there from now on. */
static void
reopen_if_moved(struct dp_audit* a)
{
	struct stat at_path, open_now;
	int fd;
	if(fstat(a->fd, &open_now) != 0 || (stat(a->path, &at_path) == 0 &&
		at_path.st_dev == open_now.st_dev &&
		at_path.st_ino == open_now.st_ino))
		return;
	fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if(fd < 0) {
		if(!a->reopen_failed)
			say(a, "audit log %s: the file was removed or renamed, "
				"and cannot be created again: %s; writing on to "
				"the old file", a->path, strerror(errno));
		a->reopen_failed = 1;
		return;
	}
	close(a->fd);
	a->fd = fd;
	a->reopen_failed = 0;
	say(a, "audit log %s: the file was removed or renamed; writing to a "
		"new file there", a->path);
}

/** Records (lines) in n bytes. */
static uint64_t
count_lines(const char* buf, size_t n)
{
	uint64_t k = 0;
	const char* e = buf + n;
	while(buf < e && (buf = memchr(buf, '\n', (size_t)(e - buf))) != NULL) {
		k++;
		buf++;
	}
	return k;
}

/** Write all of buf, whole records; on failure say so once per failure
 * streak, and again when writing works again. */
static void
write_all(struct dp_audit* a, const char* buf, size_t n)
{
	size_t done = 0;
	if(n == 0)
		return;
	reopen_if_moved(a);
	while(done < n) {
		ssize_t w = write(a->fd, buf + done, n - done);
		int e = errno;
		if(w < 0 && e == EINTR)
			continue;
		if(w <= 0) {
			size_t keep = done;
			if(w == 0)
				e = EIO;
			/* A record cut in two would be glued to the next one
			 * written: take the piece back out of the file. */
			while(keep > 0 && buf[keep - 1] != '\n')
				keep--;
			if(keep < done) {
				off_t end = lseek(a->fd, 0, SEEK_CUR);
				if(end >= (off_t)(done - keep) &&
					ftruncate(a->fd, end - (off_t)(done -
					keep)) != 0) {
					/* nothing better to do */
				}
			}
			a->lost += count_lines(buf + keep, n - keep);
			if(!a->failing)
				say(a, "audit log %s: write failed: %s; records "
					"are lost until it can be written again",
					a->path, strerror(e));
			a->failing = 1;
			return;
		}
		done += (size_t)w;
	}
	if(a->failing)
		say(a, "audit log %s: writing again, %llu records were lost",
			a->path, (unsigned long long)a->lost);
	a->failing = 0;
	a->lost = 0;
}

/* The writer's side (lib/writer.h). */

static int
audit_due(void* owner)
{
	struct dp_audit* a = owner;
	return a->nq >= AUDIT_QCAP / 2;
}

static void
audit_take(void* owner, int last)
{
	struct dp_audit* a = owner;
	char* b = a->q;
	close_groups(a, time(NULL), last);
	a->q = a->batch;
	a->batch = b;
	a->batch_len = a->qlen;
	a->qlen = 0;
	a->nq = 0;
	a->dropped_taken = a->dropped;
}

static void
audit_write_batch(void* owner)
{
	struct dp_audit* a = owner;
	write_all(a, a->batch, a->batch_len);
	if(a->dropped_taken != a->reported) {
		say(a, "audit log %s: %llu records dropped so far (the queue "
			"was full: the writer could not keep up)", a->path,
			(unsigned long long)a->dropped_taken);
		a->reported = a->dropped_taken;
	}
}

static int
audit_empty(void* owner)
{
	return ((struct dp_audit*)owner)->qlen == 0;
}

static void
audit_release(void* owner)
{
	audit_free(owner);
}

static const struct dp_writer_ops audit_ops = {
	audit_due, audit_take, audit_write_batch, audit_empty, audit_release
};

dp_status
dp_audit_open(const char* path, void (*log_fn)(const char* msg),
	struct dp_audit** out, struct dp_error* err)
{
	struct dp_audit* a = calloc(1, sizeof(*a));
	*out = NULL;
	if(!a || !(a->q = malloc(AUDIT_QBYTES)) ||
		!(a->batch = malloc(AUDIT_QBYTES))) {
		if(a) {
			free(a->q);
			free(a);
		}
		dp_error_set(err, "%s: out of memory", path);
		return DP_ERR_NOMEM;
	}
	snprintf(a->path, sizeof(a->path), "%s", path);
	a->log_fn = log_fn;
	if(getrandom(&a->key_seed, sizeof(a->key_seed), GRND_NONBLOCK) !=
		(ssize_t)sizeof(a->key_seed))
		a->key_seed = (uint64_t)time(NULL) * KEY_MUL ^ (uint64_t)
			(uintptr_t)a;
	a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if(a->fd < 0) {
		dp_error_set(err, "%s: cannot open audit log: %s", path,
			strerror(errno));
		free(a->q);
		free(a->batch);
		free(a);
		return DP_ERR_IO;
	}
	dp_writer_init(&a->w, &audit_ops, a);
	if(dp_writer_start(&a->w) != 0) {
		dp_error_set(err, "%s: cannot start the audit writer", path);
		audit_free(a);
		return DP_ERR_NOMEM;
	}
	*out = a;
	return DP_OK;
}

/** What dp_audit_close says of a writer it leaves behind. */
struct abandoned {
	char msg[4400];
	void (*log_fn)(const char*);
};

/** With the queue's lock held: the writer is left behind, stuck in a
 * write; it says nothing more (the callback may go with the module). */
static void
audit_abandon(void* owner, void* arg)
{
	struct dp_audit* a = owner;
	struct abandoned* ab = arg;
	snprintf(ab->msg, sizeof(ab->msg), "audit log %s: a write has not "
		"returned for %d seconds; leaving it behind, with %zu records "
		"queued", a->path, AUDIT_CLOSE_WAIT, a->nq);
	ab->log_fn = a->log_fn;
	a->log_fn = NULL;
}

void
dp_audit_close(struct dp_audit* a)
{
	struct abandoned ab;
	if(!a)
		return;
	ab.log_fn = NULL;
	if(dp_writer_stop(&a->w, AUDIT_CLOSE_WAIT, audit_abandon, &ab) == 0) {
		audit_free(a);
		return;
	}
	/* a is the writer's from here on */
	if(ab.log_fn)
		ab.log_fn(ab.msg);
}

void
dp_audit_write(struct dp_audit* a, const struct dp_audit_rec* r)
{
	/* per thread rather than on the stack: the reply callback that
	 * calls this keeps a small frame */
	static _Thread_local char line[DP_AUDIT_REC_MAX];
	uint64_t key = rec_key(a, r);
	size_t n;
	/* a repeat is counted before it is formatted: with the window on,
	 * most records of a busy resolver are repeats */
	pthread_mutex_lock(&a->w.mx);
	if(a->window && group_repeat(a, key, r->usec)) {
		pthread_mutex_unlock(&a->w.mx);
		return;
	}
	pthread_mutex_unlock(&a->w.mx);
	if(!r->qname && r->qname_wire) {
		/* the name as text, now that the record is written */
		static _Thread_local char qname[DP_NAME_MAX];
		struct dp_audit_rec rt = *r;
		rt.qname = qname;
		n = dp_name_from_wire(r->qname_wire, r->qname_wire_len, qname,
			sizeof(qname)) == DP_OK ? dp_audit_format(&rt, line,
			sizeof(line)) : 0;
	} else
		n = dp_audit_format(r, line, sizeof(line));
	pthread_mutex_lock(&a->w.mx);
	/* a record that does not fit (fields beyond their bounds: never
	 * from the module) is counted as dropped, as a full queue's are;
	 * another thread may have started the group meanwhile */
	if(n > 0 && a->window) {
		if(group_repeat(a, key, r->usec)) {
			pthread_mutex_unlock(&a->w.mx);
			return;
		}
		group_start(a, key, r->usec, line, n);
	}
	if(n == 0 || a->nq >= AUDIT_QCAP || a->qlen + n > AUDIT_QBYTES) {
		a->dropped++;
		pthread_mutex_unlock(&a->w.mx);
		return;
	}
	memcpy(a->q + a->qlen, line, n);
	a->qlen += n;
	a->nq++;
	a->queued++;
	if(a->nq == AUDIT_QCAP / 2)
		dp_writer_kick(&a->w);
	pthread_mutex_unlock(&a->w.mx);
}

void
dp_audit_get_counts(struct dp_audit* a, struct dp_audit_counts* c)
{
	pthread_mutex_lock(&a->w.mx);
	c->queued = a->queued;
	c->collapsed = a->collapsed;
	c->dropped = a->dropped;
	pthread_mutex_unlock(&a->w.mx);
}
