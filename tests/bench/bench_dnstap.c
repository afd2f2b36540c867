/*
 * tests/bench/bench_dnstap.c - how many dnstap records per second one
 * writer thread (lib/dnstap.c) gets read by a collector.
 *
 *   bench_dnstap SOCKET SECONDS
 *
 * A collector (fstrm_capture, started by tests/bench/run.sh) listens on
 * SOCKET.  One producer thread queues a typical block record (the
 * question, a 70-octet NXDOMAIN answer, the policy) as fast as the queue
 * takes it, for SECONDS; then the output is closed (what is queued is
 * sent).  Printed: records queued, sent (read by the collector) and
 * dropped, and sent per second of the whole run.
 */
#include "dnstap.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
said(const char* msg)
{
	fprintf(stderr, "%s\n", msg);
}

int
main(int argc, char** argv)
{
	static const uint8_t qname[] = "\004army\002ml";
	uint8_t resp[70];
	char spec[300];
	struct dp_dnstap* d;
	struct dp_dnstap_rec r;
	struct dp_dnstap_counts c;
	struct dp_error err;
	double t0, until, t1;
	unsigned long long offered = 0;
	if(argc != 3) {
		fprintf(stderr, "usage: bench_dnstap SOCKET SECONDS\n");
		return 2;
	}
	snprintf(spec, sizeof(spec), "unix:%s", argv[1]);
	if(dp_dnstap_open(spec, "bench", said, &d, &err) != DP_OK) {
		fprintf(stderr, "bench_dnstap: %s\n", err.msg);
		return 1;
	}
	memset(resp, 0x5a, sizeof(resp));
	memset(&r, 0, sizeof(r));
	r.family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", r.addr);
	r.port = 53000;
	r.qname = qname;
	r.qname_len = sizeof(qname);
	r.qtype = 15;
	r.qclass = 1;
	r.response = resp;
	r.response_len = sizeof(resp);
	r.rcode = 3;
	r.rule = "tld-swap army.mil";
	r.action = DP_DNSTAP_NXDOMAIN;
	r.match = DP_DNSTAP_QNAME;
	r.value = qname;
	r.value_len = sizeof(qname);
	/* the writer connects on its first round: give it that second */
	sleep(1);
	t0 = now_s();
	until = t0 + atof(argv[2]);
	while(now_s() < until) {
		int i;
		for(i = 0; i < 256; i++) {
			struct timespec wall;
			clock_gettime(CLOCK_REALTIME, &wall);
			r.usec = (uint64_t)wall.tv_sec * 1000000 +
				(uint64_t)wall.tv_nsec / 1000;
			dp_dnstap_write(d, &r);
			offered++;
		}
		/* a full queue drops: back off a little, as a resolver's
		 * flagged traffic is never this dense */
		dp_dnstap_get_counts(d, &c);
		if(c.dropped)
			usleep(100);
	}
	/* until everything queued is read by the collector (or lost) */
	do {
		usleep(1000);
		dp_dnstap_get_counts(d, &c);
		/* dropped = offered - queued (queue full) + lost */
	} while(c.sent + (c.dropped - (offered - c.queued)) < c.queued);
	t1 = now_s();
	dp_dnstap_close(d);
	printf("dnstap writer: %llu records offered, %llu queued, %llu read "
		"by the collector, %llu dropped (queue full); %.0f records/s "
		"read over %.2f s\n", offered, (unsigned long long)c.queued,
		(unsigned long long)c.sent, (unsigned long long)c.dropped,
		(double)c.sent / (t1 - t0), t1 - t0);
	return 0;
}
