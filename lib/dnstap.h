/*
 * lib/dnstap.h - audit records as dnstap messages (the dnstap schema's
 * Message, type CLIENT_RESPONSE, with its Policy field) sent over Frame
 * Streams to a collector on a Unix or TCP socket.
 *
 * Workers encode a record into a bounded queue (under a mutex held for a
 * copy, never across I/O); a writer thread (lib/writer.h) sends the queue
 * at least every second.  The query path never waits for the collector:
 * a full queue drops the record and counts it.  The writer connects, and
 * after a failure reconnects with back-off (1 s doubling to 30 s); what it
 * cannot send is dropped and counted, and said once per failure streak.
 * A record counts as sent only once the collector has read it (the
 * socket's send queue has drained), so that a collector killed and
 * restarted loses nothing beyond what the counters say.
 */
#ifndef DOPPEL_DNSTAP_H
#define DOPPEL_DNSTAP_H

#include "doppel.h"

/** The policy action a record reports (the schema's Policy.Action). */
enum dp_dnstap_action {
	DP_DNSTAP_NXDOMAIN = 1,
	DP_DNSTAP_PASS = 3
};

/** What matched (the schema's Policy.Match). */
enum dp_dnstap_match {
	DP_DNSTAP_QNAME = 1,
	DP_DNSTAP_RESPONSE_IP = 3
};

/** One record: the client, the question, the answer, the policy. */
struct dp_dnstap_rec {
	/** when the answer went out, microseconds since the epoch */
	uint64_t usec;
	/** the client: AF_INET or AF_INET6 (0: unknown), its address (4 or
	 * 16 octets) and port, and whether it came over TCP */
	int family;
	uint8_t addr[16];
	uint16_t port;
	int tcp;
	/** the question: wire-format name, type, class */
	const uint8_t* qname;
	size_t qname_len;
	uint16_t qtype, qclass;
	/** the answer as sent (wire format), or NULL; its rcode */
	const uint8_t* response;
	size_t response_len;
	int rcode;
	/** the rule: technique and protected target ("tld-swap army.mil") */
	const char* rule;
	enum dp_dnstap_action action;
	enum dp_dnstap_match match;
	/** what matched: a wire-format name (QNAME) or an address (4 or 16
	 * octets, RESPONSE_IP) */
	const uint8_t* value;
	size_t value_len;
};

/** The longest message dp_dnstap_encode makes; longer answers are left
 * out of it (the rest of the record is sent). */
#define DP_DNSTAP_REC_MAX 8192

/**
 * Encode a record as one dnstap protobuf message.
 * @param identity, version: the Dnstap fields (may be NULL).
 * @return its length, or 0 if it did not fit in cap.
 */
size_t dp_dnstap_encode(const struct dp_dnstap_rec* r, const char* identity,
	const char* version, uint8_t* buf, size_t cap);

struct dp_dnstap;

/**
 * Check a destination: "unix:/path" or "tcp:HOST:PORT" (an IPv4 or IPv6
 * address; "tcp:[::1]:PORT" too).
 * @return DP_OK, or DP_ERR_SYNTAX with a message in err.
 */
dp_status dp_dnstap_check_spec(const char* spec, struct dp_error* err);

/**
 * Start sending to a collector (which need not be up yet).
 * @param identity: the Dnstap identity field (e.g. the host name).
 * @param log_fn: called from the writer thread with what it has to say.
 */
dp_status dp_dnstap_open(const char* spec, const char* identity,
	void (*log_fn)(const char* msg), struct dp_dnstap** out,
	struct dp_error* err);

/** Send what is queued (within a few seconds), stop, close. NULL is fine. */
void dp_dnstap_close(struct dp_dnstap* d);

/** Queue a record: never blocks on I/O; dropped and counted if full. */
void dp_dnstap_write(struct dp_dnstap* d, const struct dp_dnstap_rec* r);

/** What a dnstap output has done so far. */
struct dp_dnstap_counts {
	/** records queued, read by the collector, dropped (queue full,
	 * no collector, or lost with a broken connection) */
	uint64_t queued, sent, dropped;
	/** connections made (the first one included) */
	uint64_t connects;
};

void dp_dnstap_get_counts(struct dp_dnstap* d, struct dp_dnstap_counts* c);

#endif /* DOPPEL_DNSTAP_H */
