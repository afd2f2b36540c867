/*
 * lib/audit.h - the per-query audit log: one JSON object a line, written
 * by a background thread so that a resolver worker never waits for disk.
 *
 * Workers format a record into a slot of a bounded queue (under a mutex
 * held for a copy, never across I/O); the writer thread writes the queue
 * out at least every second.  When the queue is full the record is
 * dropped and counted; the count is reported through the log callback.
 */
#ifndef DOPPEL_AUDIT_H
#define DOPPEL_AUDIT_H

#include "doppel.h"

/** What an audit record says about one reply. */
struct dp_audit_rec {
	/** microseconds since the epoch */
	uint64_t usec;
	/** the client's address, as text ("" when there is none) */
	const char* client;
	/** canonical queried name */
	const char* qname;
	/** or, when qname is NULL, the queried name in wire format (as
	 * Unbound parsed it, any case): made text only for a record that
	 * is written, as a repeat is known without it */
	const uint8_t* qname_wire;
	size_t qname_wire_len;
	/** query type as text ("MX") */
	const char* qtype;
	/** the rcode returned ("NXDOMAIN") */
	const char* rcode;
	/** the verdict (action, target, technique, score, countries) */
	const struct dp_verdict* v;
	/** where it was decided: "name", "alias", "exchange", "answer" */
	const char* stage;
	/** the reply came from Unbound's cache */
	int from_cache;
	/** written in monitor mode: a block is "would-block" (the answer
	 * went out unchanged), and "mode" says "monitor" */
	int monitor;
};

struct dp_audit;

/**
 * Open (append, mode 0640) an audit log and start its writer.
 * @param log_fn: called (from the writer thread) with a message when
 *	records had to be dropped or the file could not be written; may be
 *	NULL.
 * @return DP_OK or DP_ERR_IO with a message in err.
 */
dp_status dp_audit_open(const char* path, void (*log_fn)(const char* msg),
	struct dp_audit** out, struct dp_error* err);

/** Write what is queued, stop the writer, close.  NULL is fine. */
void dp_audit_close(struct dp_audit* a);

/** Queue a record (never blocks on I/O; dropped and counted if full). */
void dp_audit_write(struct dp_audit* a, const struct dp_audit_rec* r);

/**
 * The longest record dp_audit_format makes from fields within the bounds
 * the module keeps them in (client under 128 octets, qtype and rcode
 * under 32, canonical names under DP_NAME_MAX, the verdict's own
 * arrays), every octet escaped: dp_audit_write formats into this much,
 * so no record is ever dropped for its length.
 */
#define DP_AUDIT_REC_MAX 8192

/** Format a record as one JSON line (with '\n'); for tests.
 * @return its length, or 0 if it did not fit. */
size_t dp_audit_format(const struct dp_audit_rec* r, char* buf, size_t len);

/**
 * Collapse repeats: a record with the same client, name, type, rcode,
 * verdict (action, technique, target, countries), stage and cache flag as
 * one written less than `seconds` before is not written but counted;
 * when that window ends, one record (the first one's fields, its time
 * the last repeat's) adds "repeats" (how many), "first" and "last" (when
 * the first and last repeat came).  Every query stays accounted for: a
 * record with "repeats" stands for that many queries, any other for its
 * own.  0 (the default) turns it off; a change closes the open windows.
 */
void dp_audit_set_collapse(struct dp_audit* a, unsigned seconds);

/** What an audit log has done so far. */
struct dp_audit_counts {
	/** records taken for writing (a collapsed record counts once) */
	uint64_t queued;
	/** repeats written as part of a collapsed record */
	uint64_t collapsed;
	/** records dropped (a dropped collapsed record counts its
	 * repeats) */
	uint64_t dropped;
};

void dp_audit_get_counts(struct dp_audit* a, struct dp_audit_counts* c);

#endif /* DOPPEL_AUDIT_H */
