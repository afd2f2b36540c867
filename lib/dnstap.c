/*
 * lib/dnstap.c - audit records as dnstap messages over Frame Streams
 * (lib/dnstap.h).
 *
 * The protobuf encoding is written out here: a record is a dozen fields of
 * three wire types, and encoding it on the worker into the queue keeps the
 * writer thread to plain socket I/O.  The Frame Streams side is the
 * bidirectional handshake (READY, ACCEPT, START; STOP, FINISH at the end)
 * and length-prefixed data frames.  It is done here rather than through
 * libfstrm because the writer must see its own socket: a record counts as
 * sent only when the collector has read it (SIOCOUTQ back at zero), which
 * is what makes "received + dropped = written" hold across a collector
 * restart.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* POLLRDHUP */
#endif
#include "dnstap.h"
#include "writer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/** Records and bytes the queue holds. */
#define DT_QCAP 4096
#define DT_QBYTES (4u << 20)
/** Seconds between connection attempts: from 1, doubling, up to this. */
#define DT_BACKOFF_MAX 30
/** Milliseconds a handshake step or a write may take before the
 * connection is given up. */
#define DT_IO_MS 5000
/** Milliseconds a sent batch may wait to be read before the writer moves
 * on (it is confirmed later, or lost with the connection). */
#define DT_DRAIN_MS 2000
/** Seconds dp_dnstap_close waits for the writer (a write stuck longer
 * leaves it behind, as the audit log's does). */
#define DT_CLOSE_WAIT 4

/* Frame Streams: control frame types, and the one field used. */
#define FS_ACCEPT 1
#define FS_START 2
#define FS_STOP 3
#define FS_READY 4
#define FS_FINISH 5
#define FS_CONTENT_TYPE 1
#define FS_CONTENT "protobuf:dnstap.Dnstap"

/* --- the protobuf encoding ------------------------------------------- */

struct pb {
	uint8_t* p;
	size_t len, cap;
	int full;
};

static void
pb_raw(struct pb* b, const void* d, size_t n)
{
	if(b->full || n > b->cap - b->len) {
		b->full = 1;
		return;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void
pb_varint(struct pb* b, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;
	do {
		t[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if(v)
			t[n] |= 0x80;
		n++;
	} while(v);
	pb_raw(b, t, n);
}

/** A varint field (wire type 0). */
static void
pb_uint(struct pb* b, unsigned field, uint64_t v)
{
	pb_varint(b, (uint64_t)field << 3);
	pb_varint(b, v);
}

/** A fixed32 field (wire type 5), little-endian. */
static void
pb_fixed32(struct pb* b, unsigned field, uint32_t v)
{
	uint8_t t[4];
	t[0] = (uint8_t)v;
	t[1] = (uint8_t)(v >> 8);
	t[2] = (uint8_t)(v >> 16);
	t[3] = (uint8_t)(v >> 24);
	pb_varint(b, ((uint64_t)field << 3) | 5);
	pb_raw(b, t, 4);
}

/** A length-delimited field (wire type 2): bytes, a string, a message. */
static void
pb_bytes(struct pb* b, unsigned field, const void* d, size_t n)
{
	pb_varint(b, ((uint64_t)field << 3) | 2);
	pb_varint(b, n);
	pb_raw(b, d, n);
}

/* Field numbers of the dnstap schema. */
enum {
	DT_IDENTITY = 1, DT_VERSION = 2, DT_MESSAGE = 14, DT_TYPE = 15,
	M_TYPE = 1, M_FAMILY = 2, M_PROTOCOL = 3, M_QADDR = 4, M_QPORT = 6,
	M_QSEC = 8, M_QNSEC = 9, M_QMSG = 10, M_RSEC = 12, M_RNSEC = 13,
	M_RMSG = 14, M_POLICY = 15,
	P_TYPE = 1, P_RULE = 2, P_ACTION = 3, P_MATCH = 4, P_VALUE = 5
};
#define DT_TYPE_MESSAGE 1
#define M_CLIENT_RESPONSE 6

size_t
dp_dnstap_encode(const struct dp_dnstap_rec* r, const char* identity,
	const char* version, uint8_t* buf, size_t cap)
{
	uint8_t pol[1024], msg[DP_DNSTAP_REC_MAX], q[12 + 256 + 4];
	struct pb pp = { pol, 0, sizeof(pol), 0 };
	struct pb mp = { msg, 0, sizeof(msg), 0 };
	struct pb out = { buf, 0, cap, 0 };
	uint64_t sec = r->usec / 1000000;
	uint32_t nsec = (uint32_t)(r->usec % 1000000) * 1000;
	size_t qlen = 0;

	/* the question as the client sent it, less its ID and options */
	if(r->qname && r->qname_len <= 255) {
		memset(q, 0, 12);
		q[2] = 0x01;	/* RD */
		q[5] = 1;	/* QDCOUNT */
		memcpy(q + 12, r->qname, r->qname_len);
		qlen = 12 + r->qname_len;
		q[qlen++] = (uint8_t)(r->qtype >> 8);
		q[qlen++] = (uint8_t)r->qtype;
		q[qlen++] = (uint8_t)(r->qclass >> 8);
		q[qlen++] = (uint8_t)r->qclass;
	}

	pb_bytes(&pp, P_TYPE, "doppel", 6);
	if(r->rule)
		pb_bytes(&pp, P_RULE, r->rule, strlen(r->rule));
	pb_uint(&pp, P_ACTION, (uint64_t)r->action);
	pb_uint(&pp, P_MATCH, (uint64_t)r->match);
	if(r->value && r->value_len)
		pb_bytes(&pp, P_VALUE, r->value, r->value_len);
	if(pp.full)
		return 0;

	pb_uint(&mp, M_TYPE, M_CLIENT_RESPONSE);
	if(r->family == AF_INET || r->family == AF_INET6) {
		pb_uint(&mp, M_FAMILY, r->family == AF_INET ? 1 : 2);
		pb_uint(&mp, M_PROTOCOL, r->tcp ? 2 : 1);
		pb_bytes(&mp, M_QADDR, r->addr, r->family == AF_INET ? 4 : 16);
		pb_uint(&mp, M_QPORT, r->port);
	}
	pb_uint(&mp, M_QSEC, sec);
	pb_fixed32(&mp, M_QNSEC, nsec);
	if(qlen)
		pb_bytes(&mp, M_QMSG, q, qlen);
	pb_uint(&mp, M_RSEC, sec);
	pb_fixed32(&mp, M_RNSEC, nsec);
	/* an answer too long for the message is left out, not the record */
	if(r->response && r->response_len &&
		r->response_len + pp.len + mp.len + 64 < sizeof(msg))
		pb_bytes(&mp, M_RMSG, r->response, r->response_len);
	pb_bytes(&mp, M_POLICY, pol, pp.len);
	if(mp.full)
		return 0;

	if(identity)
		pb_bytes(&out, DT_IDENTITY, identity, strlen(identity));
	if(version)
		pb_bytes(&out, DT_VERSION, version, strlen(version));
	pb_bytes(&out, DT_MESSAGE, msg, mp.len);
	pb_uint(&out, DT_TYPE, DT_TYPE_MESSAGE);
	return out.full ? 0 : out.len;
}

/* --- where to send ------------------------------------------------------ */

struct dest {
	struct sockaddr_storage sa;
	socklen_t salen;
};

static dp_status
parse_spec(const char* spec, struct dest* d, struct dp_error* err)
{
	memset(d, 0, sizeof(*d));
	if(strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un* u = (struct sockaddr_un*)&d->sa;
		const char* path = spec + 5;
		if(!*path || path[0] != '/') {
			dp_error_set(err, "audit-dnstap '%s': unix: wants an "
				"absolute socket path", spec);
			return DP_ERR_SYNTAX;
		}
		if(strlen(path) >= sizeof(u->sun_path)) {
			dp_error_set(err, "audit-dnstap '%s': the socket path "
				"is longer than %zu octets", spec,
				sizeof(u->sun_path) - 1);
			return DP_ERR_SYNTAX;
		}
		u->sun_family = AF_UNIX;
		memcpy(u->sun_path, path, strlen(path) + 1);
		d->salen = (socklen_t)sizeof(*u);
		return DP_OK;
	}
	if(strncmp(spec, "tcp:", 4) == 0) {
		char host[64];
		const char* h = spec + 4;
		const char* colon = strrchr(h, ':');
		char* end;
		unsigned long port;
		size_t hl;
		if(!colon || colon == h) {
			dp_error_set(err, "audit-dnstap '%s': tcp: wants "
				"HOST:PORT", spec);
			return DP_ERR_SYNTAX;
		}
		hl = (size_t)(colon - h);
		if(h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
			h++;
			hl -= 2;
		}
		if(hl >= sizeof(host)) {
			dp_error_set(err, "audit-dnstap '%s': not an address",
				spec);
			return DP_ERR_SYNTAX;
		}
		memcpy(host, h, hl);
		host[hl] = 0;
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if(!colon[1] || *end || errno || port == 0 || port > 65535) {
			dp_error_set(err, "audit-dnstap '%s': the port must be "
				"1 to 65535", spec);
			return DP_ERR_SYNTAX;
		}
		if(inet_pton(AF_INET, host,
			&((struct sockaddr_in*)&d->sa)->sin_addr) == 1) {
			struct sockaddr_in* s = (struct sockaddr_in*)&d->sa;
			s->sin_family = AF_INET;
			s->sin_port = htons((uint16_t)port);
			d->salen = (socklen_t)sizeof(*s);
			return DP_OK;
		}
		if(inet_pton(AF_INET6, host,
			&((struct sockaddr_in6*)&d->sa)->sin6_addr) == 1) {
			struct sockaddr_in6* s = (struct sockaddr_in6*)&d->sa;
			s->sin6_family = AF_INET6;
			s->sin6_port = htons((uint16_t)port);
			d->salen = (socklen_t)sizeof(*s);
			return DP_OK;
		}
		dp_error_set(err, "audit-dnstap '%s': '%s' is not an IPv4 or "
			"IPv6 address", spec, host);
		return DP_ERR_SYNTAX;
	}
	dp_error_set(err, "audit-dnstap '%s': expected unix:/PATH or "
		"tcp:HOST:PORT", spec);
	return DP_ERR_SYNTAX;
}

dp_status
dp_dnstap_check_spec(const char* spec, struct dp_error* err)
{
	struct dest d;
	return parse_spec(spec, &d, err);
}

/* --- the output ------------------------------------------------------- */

struct dp_dnstap {
	char spec[4200];
	struct dest dest;
	char identity[256];
	void (*log_fn)(const char*);
	/** the connection, -1 when there is none; when to try again */
	int fd;
	time_t next_try;
	unsigned backoff;
	/** the queue: length-prefixed frames back to back; the batch taken */
	uint8_t* q;
	size_t qlen;
	uint64_t nq;
	uint8_t* batch;
	size_t batch_len;
	uint64_t batch_n;
	int last;
	/** counters (under w.mx); full: drops of a full queue, also in
	 * dropped */
	uint64_t queued, sent, dropped, connects, full;
	/** the writer's own: records written and not yet seen read; drops
	 * already reported; whether the collector is away (said once) */
	uint64_t pending, reported;
	int away;
	uint64_t away_lost;
	struct dp_writer w;
};

static void say(struct dp_dnstap* d, const char* fmt, ...)
#ifdef __GNUC__
	__attribute__((format(printf, 2, 3)))
#endif
	;

static void
say(struct dp_dnstap* d, const char* fmt, ...)
{
	char msg[4600];
	int n;
	va_list ap;
	if(!d->log_fn)
		return;
	n = snprintf(msg, sizeof(msg), "dnstap %s: ", d->spec);
	if(n < 0 || (size_t)n >= sizeof(msg))
		return;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	d->log_fn(msg);
}

/** Count records as sent or lost (the writer thread's news). */
static void
account(struct dp_dnstap* d, uint64_t sent, uint64_t lost)
{
	pthread_mutex_lock(&d->w.mx);
	d->sent += sent;
	d->dropped += lost;
	pthread_mutex_unlock(&d->w.mx);
	if(lost && d->away)
		d->away_lost += lost;
}

/** Milliseconds since some fixed point. */
static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/** Send all of buf. @return 0, or -1 (errno set). */
static int
send_all(int fd, const void* buf, size_t n)
{
	const uint8_t* p = buf;
	while(n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if(w < 0 && errno == EINTR)
			continue;
		if(w <= 0) {
			if(w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/** Read exactly n octets (the socket has a receive timeout). */
static int
recv_all(int fd, void* buf, size_t n)
{
	uint8_t* p = buf;
	while(n > 0) {
		ssize_t r = recv(fd, p, n, 0);
		if(r < 0 && errno == EINTR)
			continue;
		if(r <= 0) {
			if(r == 0)
				errno = ECONNRESET;
			else if(errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void
put32(uint8_t* p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t* p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

/** Send a control frame, with the content type unless it is STOP. */
static int
send_control(int fd, uint32_t type)
{
	uint8_t f[64];
	size_t clen = sizeof(FS_CONTENT) - 1, n = 12;
	put32(f, 0);
	put32(f + 8, type);
	if(type != FS_STOP) {
		put32(f + 12, FS_CONTENT_TYPE);
		put32(f + 16, (uint32_t)clen);
		memcpy(f + 20, FS_CONTENT, clen);
		n = 20 + clen;
	}
	put32(f + 4, (uint32_t)(n - 8));
	return send_all(fd, f, n);
}

/** Read a control frame; @return its type, or -1. */
static int
recv_control(int fd)
{
	uint8_t h[8], body[512];
	uint32_t len;
	if(recv_all(fd, h, 8) != 0)
		return -1;
	len = get32(h + 4);
	if(get32(h) != 0 || len < 4 || len > sizeof(body)) {
		errno = EPROTO;
		return -1;
	}
	if(recv_all(fd, body, len) != 0)
		return -1;
	return (int)get32(body);
}

/** Connect and shake hands. @return the socket, or -1 (errno set). */
static int
dt_connect(struct dp_dnstap* d)
{
	int fd, e, type;
	struct timeval tv = { DT_IO_MS / 1000, (DT_IO_MS % 1000) * 1000 };
	struct pollfd p;
	socklen_t el = sizeof(e);

	fd = socket(d->dest.sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
		SOCK_NONBLOCK, 0);
	if(fd < 0)
		return -1;
	if(connect(fd, (struct sockaddr*)&d->dest.sa, d->dest.salen) != 0) {
		if(errno != EINPROGRESS)
			goto fail;
		p.fd = fd;
		p.events = POLLOUT;
		if(poll(&p, 1, DT_IO_MS) != 1) {
			errno = ETIMEDOUT;
			goto fail;
		}
		if(getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
			goto fail;
		if(e) {
			errno = e;
			goto fail;
		}
	}
	if(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0 ||
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
		goto fail;
	if(send_control(fd, FS_READY) != 0)
		goto fail;
	if((type = recv_control(fd)) != FS_ACCEPT) {
		if(type >= 0)
			errno = EPROTO;
		goto fail;
	}
	if(send_control(fd, FS_START) != 0)
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/** Whether the collector has gone (closed, reset) while we were idle. */
static int
peer_gone(int fd)
{
	struct pollfd p;
	uint8_t b[64];
	p.fd = fd;
	p.events = POLLIN | POLLRDHUP;
	p.revents = 0;
	if(poll(&p, 1, 0) <= 0)
		return 0;
	if(p.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL))
		return 1;
	/* end of stream, or an error; anything a collector says in the data
	 * phase is not ours to read */
	{
		ssize_t r = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		return r == 0 || (r < 0 && errno != EAGAIN &&
			errno != EWOULDBLOCK && errno != EINTR);
	}
}

/** Drop the connection; what it had not confirmed is lost. */
static void
dt_disconnect(struct dp_dnstap* d, const char* why)
{
	if(d->fd < 0)
		return;
	close(d->fd);
	d->fd = -1;
	if(!d->away)
		say(d, "%s; records are dropped (and counted) until the "
			"collector is back", why);
	d->away = 1;
	account(d, 0, d->pending);
	d->pending = 0;
	d->next_try = 0;
}

/** Whether everything written has been read by the collector; waits up
 * to ms for it. */
static int
drained(struct dp_dnstap* d, unsigned ms)
{
	uint64_t until = now_ms() + ms;
	unsigned nap = 200;
	for(;;) {
		int outq = 0;
		struct timespec ts;
		if(ioctl(d->fd, SIOCOUTQ, &outq) != 0 || outq == 0)
			return 1;
		if(peer_gone(d->fd) || now_ms() >= until)
			return 0;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)nap * 1000;
		nanosleep(&ts, NULL);
		if(nap < 20000)
			nap *= 2;
	}
}

/** Be connected if possible (not before the back-off allows). */
static void
ensure_connected(struct dp_dnstap* d)
{
	time_t now = time(NULL);
	if(d->fd >= 0 && peer_gone(d->fd))
		dt_disconnect(d, "the collector closed the connection");
	if(d->fd >= 0 || now < d->next_try)
		return;
	if((d->fd = dt_connect(d)) < 0) {
		if(!d->away)
			say(d, "cannot connect: %s; records are dropped (and "
				"counted) until the collector is back",
				strerror(errno));
		d->away = 1;
		d->next_try = now + (time_t)d->backoff;
		if(d->backoff < DT_BACKOFF_MAX)
			d->backoff = d->backoff * 2 > DT_BACKOFF_MAX ?
				DT_BACKOFF_MAX : d->backoff * 2;
		return;
	}
	d->backoff = 1;
	pthread_mutex_lock(&d->w.mx);
	d->connects++;
	pthread_mutex_unlock(&d->w.mx);
	if(d->away)
		say(d, "connected again; %llu records were dropped while the "
			"collector was away", (unsigned long long)d->away_lost);
	d->away = 0;
	d->away_lost = 0;
}

/** At the end: STOP, and a moment for the collector's FINISH. */
static void
dt_finish(struct dp_dnstap* d)
{
	if(d->fd < 0)
		return;
	if(send_control(d->fd, FS_STOP) == 0) {
		struct timeval tv = { 1, 0 };
		(void)setsockopt(d->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
			sizeof(tv));
		(void)recv_control(d->fd);
	}
	close(d->fd);
	d->fd = -1;
}

/* The writer's side (lib/writer.h). */

static int
dt_due(void* owner)
{
	struct dp_dnstap* d = owner;
	return d->nq >= DT_QCAP / 2;
}

static void
dt_take(void* owner, int last)
{
	struct dp_dnstap* d = owner;
	uint8_t* b = d->q;
	d->q = d->batch;
	d->batch = b;
	d->batch_len = d->qlen;
	d->batch_n = d->nq;
	d->qlen = 0;
	d->nq = 0;
	d->last = last;
}

static void
dt_write(void* owner)
{
	struct dp_dnstap* d = owner;
	uint64_t n = d->batch_n, full_drops;
	if(n > 0 || d->last)
		ensure_connected(d);
	if(n > 0) {
		if(d->fd < 0) {
			account(d, 0, n);
		} else if(send_all(d->fd, d->batch, d->batch_len) != 0) {
			char why[300];
			snprintf(why, sizeof(why), "write failed: %s",
				strerror(errno));
			d->pending += n;
			dt_disconnect(d, why);
		} else
			d->pending += n;
	}
	/* at the end, a second for the collector to read the rest: a stop
	 * (Unbound's reload) must not wait on a stalled collector */
	if(d->fd >= 0 && d->pending &&
		drained(d, d->last ? 1000 : n ? DT_DRAIN_MS : 0)) {
		account(d, d->pending, 0);
		d->pending = 0;
	}
	if(d->last) {
		if(d->fd >= 0 && d->pending)
			dt_disconnect(d, "closing before the collector read "
				"everything");
		dt_finish(d);
	}
	pthread_mutex_lock(&d->w.mx);
	full_drops = d->full;
	pthread_mutex_unlock(&d->w.mx);
	if(full_drops != d->reported) {
		say(d, "%llu records dropped so far because the queue was "
			"full (the collector could not keep up)",
			(unsigned long long)full_drops);
		d->reported = full_drops;
	}
}

static int
dt_empty(void* owner)
{
	struct dp_dnstap* d = owner;
	return d->qlen == 0 && d->pending == 0;
}

static void
dt_free(struct dp_dnstap* d)
{
	if(d->fd >= 0)
		close(d->fd);
	dp_writer_destroy(&d->w);
	free(d->q);
	free(d->batch);
	free(d);
}

static void
dt_release(void* owner)
{
	dt_free(owner);
}

static const struct dp_writer_ops dnstap_ops = {
	dt_due, dt_take, dt_write, dt_empty, dt_release
};

dp_status
dp_dnstap_open(const char* spec, const char* identity,
	void (*log_fn)(const char* msg), struct dp_dnstap** out,
	struct dp_error* err)
{
	struct dp_dnstap* d;
	dp_status st;
	*out = NULL;
	if(!(d = calloc(1, sizeof(*d))) || !(d->q = malloc(DT_QBYTES)) ||
		!(d->batch = malloc(DT_QBYTES))) {
		if(d)
			free(d->q);
		free(d);
		dp_error_set(err, "audit-dnstap %s: out of memory", spec);
		return DP_ERR_NOMEM;
	}
	if((st = parse_spec(spec, &d->dest, err)) != DP_OK) {
		free(d->q);
		free(d->batch);
		free(d);
		return st;
	}
	snprintf(d->spec, sizeof(d->spec), "%s", spec);
	snprintf(d->identity, sizeof(d->identity), "%s",
		identity ? identity : "");
	d->log_fn = log_fn;
	d->fd = -1;
	d->backoff = 1;
	dp_writer_init(&d->w, &dnstap_ops, d);
	if(dp_writer_start(&d->w) != 0) {
		dp_error_set(err, "audit-dnstap %s: cannot start its writer",
			spec);
		dt_free(d);
		return DP_ERR_NOMEM;
	}
	*out = d;
	return DP_OK;
}

/** With the queue's lock held: the writer is stuck in a write; it says
 * nothing more and frees itself when the write returns. */
static void
dt_abandon(void* owner, void* arg)
{
	struct dp_dnstap* d = owner;
	(void)arg;
	d->log_fn = NULL;
}

void
dp_dnstap_close(struct dp_dnstap* d)
{
	if(!d)
		return;
	if(dp_writer_stop(&d->w, DT_CLOSE_WAIT, dt_abandon, NULL) == 0)
		dt_free(d);
}

void
dp_dnstap_write(struct dp_dnstap* d, const struct dp_dnstap_rec* r)
{
	/* per thread, not on the reply callback's small stack */
	static _Thread_local uint8_t frame[4 + DP_DNSTAP_REC_MAX];
	size_t n = dp_dnstap_encode(r, d->identity[0] ? d->identity : NULL,
		"doppel " DP_VERSION, frame + 4, DP_DNSTAP_REC_MAX);
	put32(frame, (uint32_t)n);
	pthread_mutex_lock(&d->w.mx);
	if(n == 0 || d->nq >= DT_QCAP || d->qlen + 4 + n > DT_QBYTES) {
		d->dropped++;
		d->full++;
		pthread_mutex_unlock(&d->w.mx);
		return;
	}
	memcpy(d->q + d->qlen, frame, 4 + n);
	d->qlen += 4 + n;
	d->nq++;
	d->queued++;
	if(d->nq == DT_QCAP / 2)
		dp_writer_kick(&d->w);
	pthread_mutex_unlock(&d->w.mx);
}

void
dp_dnstap_get_counts(struct dp_dnstap* d, struct dp_dnstap_counts* c)
{
	pthread_mutex_lock(&d->w.mx);
	c->queued = d->queued;
	c->sent = d->sent;
	c->dropped = d->dropped;
	c->connects = d->connects;
	pthread_mutex_unlock(&d->w.mx);
}
