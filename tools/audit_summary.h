/*
 * tools/audit_summary.h - counting an audit log (JSON Lines, one record a
 * line, as lib/audit.c writes them) for `doppel audit summary`.  Kept
 * apart from the command so that the reader can be fuzzed on its own
 * (tests/fuzz/fuzz_audit.c).
 */
#ifndef DOPPEL_AUDIT_SUMMARY_H
#define DOPPEL_AUDIT_SUMMARY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/** Counts over the records read so far. */
struct dp_audit_summary {
	/** lines seen, and those that were no JSON object */
	size_t lines, bad;
	/** queries the readable records stand for (a collapsed record, its
	 * "repeats") */
	uint64_t queries;
	/** counts by verdict; by target, technique and queried name of the
	 * non-allow records; by country of the answers */
	json_t *by_verdict, *by_target, *by_tech, *by_country, *top;
	/** counts by client and by UTC day ("2026-12-06") of all records;
	 * by day and technique of the non-allow ones ({day: {tech: n}});
	 * by queried name of the would-block ones (monitor mode) */
	json_t *by_client, *by_day, *day_tech, *would_block;
	/** the parser's message for the last bad line */
	char last_error[160];
};

/** @return 0, or -1 when out of memory. */
int dp_audit_summary_init(struct dp_audit_summary* s);

/**
 * Count one line (a record, without its newline or with it).
 * @return 1 if it was a record, 0 if it was no JSON object.
 */
int dp_audit_summary_line(struct dp_audit_summary* s, const char* line,
	size_t len);

/** The summary as one JSON object (a new reference). */
json_t* dp_audit_summary_json(const struct dp_audit_summary* s);

void dp_audit_summary_free(struct dp_audit_summary* s);

#endif
