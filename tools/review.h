/*
 * tools/review.h - ranking the names an audit log shows flagged, for
 * `doppel review`, and the policy lines that would accept them.
 *
 * Usage:
 *
 *	doppel review [--min-clients N] [--top N] [--json] LOG...
 *
 * reads audit logs (JSON Lines, as lib/audit.c writes them) and lists the
 * names with a block or warn verdict: their verdicts, the protected domain
 * imitated, the technique, the number of queries, of distinct clients and
 * of distinct days (UTC) they were asked on, first and last seen.  The
 * names most likely to be legitimate traffic come first: ranked by
 * distinct clients times distinct days, then queries, then name.  After
 * the table come policy lines, commented as suggestions, for the names
 * shown that were asked by at least --min-clients distinct clients
 * (default 2): `allow REGISTERED-DOMAIN`, or one `ours LABEL.*` when the
 * protected domain's registered label is flagged under two suffixes or
 * more as a tld-swap or tld-typo (yahoo.de and yahoo.fr for yahoo.com).
 * --top N shows N rows (default 50, 0 for all); --json prints the rows
 * as a JSON array instead, with the suggested line of each row.
 *
 * Lines that are not a record (not JSON, not an object, no "qname" or
 * "verdict") are skipped, reported on stderr as `doppel: FILE:LINE:
 * skipped: REASON` (the first 10 of a file, then a count) and counted;
 * empty lines are passed over silently.  Exit status (doppel's table): 0
 * when every log was read, 2 when a log could not be read, none held a
 * record, or on usage errors, 3 when out of memory.
 *
 * The reader is fed one line at a time and owes nothing to files, so that
 * it can be fuzzed on its own like tools/audit_summary.c.
 */
#ifndef DOPPEL_REVIEW_H
#define DOPPEL_REVIEW_H

#include <jansson.h>
#include <libpsl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** What dp_review_line() made of a line. */
enum dp_review_status {
	/** a record; counted, and added to the table if flagged */
	DP_REVIEW_RECORD = 0,
	/** an empty (or all blank) line, passed over */
	DP_REVIEW_BLANK,
	/** skipped: not JSON, not an object, no usable "qname" or
	 * "verdict"; dp_review_why() says which */
	DP_REVIEW_SKIPPED,
	/** out of memory: the line is lost and the counts are short */
	DP_REVIEW_NOMEM
};

/** One flagged name, as dp_review_row() shows it. */
struct dp_review_row {
	/** the queried name, canonical (see dp_name_from_text()) */
	const char* name;
	/** the verdicts seen: bit (1 << DP_WARN) and/or (1 << DP_BLOCK) */
	unsigned verdicts;
	/** protected domain and technique of its latest record; NULL when
	 * the records had none */
	const char* target;
	const char* technique;
	/** flagged records, distinct clients, distinct UTC days */
	uint64_t queries;
	size_t clients, days;
	/** the "time" of its earliest and latest records, as the log wrote
	 * them; "" when none of its records had a readable time */
	const char* first_seen;
	const char* last_seen;
	/** its registered domain (the name itself when the Public Suffix
	 * List does not give one), and the policy line suggested for it;
	 * both NULL until dp_review_suggest(), and the line stays NULL for a
	 * name seen from fewer clients than asked */
	const char* registered;
	const char* suggest;
};

struct dp_review;

/**
 * Create an empty review.
 * @return the review, owned by the caller (dp_review_free()), or NULL when
 *	out of memory.
 */
struct dp_review* dp_review_create(void);

/** Free a review and every row it gave out.  NULL is fine. */
void dp_review_free(struct dp_review* r);

/**
 * Read one line of an audit log.
 * @param line: the line, with or without its newline; it need not be NUL
 *	terminated and may hold any byte.
 * @param len: its length.
 * @return what it was; for DP_REVIEW_SKIPPED, dp_review_why() says why.
 *	The rows read so far are unranked again (call dp_review_rank()).
 */
enum dp_review_status dp_review_line(struct dp_review* r, const char* line,
	size_t len);

/** Why the last line was skipped: a sentence fragment for people
 * ("not JSON: premature end of input"), valid until the next line. */
const char* dp_review_why(const struct dp_review* r);

/** Records read, and lines skipped, so far. */
uint64_t dp_review_records(const struct dp_review* r);
uint64_t dp_review_skipped(const struct dp_review* r);

/**
 * Rank the flagged names: distinct clients times distinct days, then
 * queries (both the larger first), then name (bytewise): the same input
 * always gives the same order.
 * @return the number of flagged names (rows), or (size_t)-1 when out of
 *	memory.
 */
size_t dp_review_rank(struct dp_review* r);

/**
 * A row of the ranked table.
 * @param i: rank - 1, below the count dp_review_rank() returned.
 * @return the row, owned by the review and valid until the next line is
 *	read or the review is freed; NULL when i is out of range or a line
 *	was read since dp_review_rank().
 */
const struct dp_review_row* dp_review_row(const struct dp_review* r,
	size_t i);

/**
 * Work out the policy line suggested for each of the first rows: `allow`
 * the registered domain, or `ours LABEL.*` (see the top of this file).
 * A name that is itself a public suffix (gov.ml) gets no line: allowing
 * it would allow every name under it.
 * @param psl: the Public Suffix List; NULL to take each name as its own
 *	registered domain (and then suggest no `ours` line).
 * @param min_clients: rows seen from fewer distinct clients get no line.
 * @param rows: how many rows (from the top) to consider.
 * @return 0, or -1 when out of memory.
 */
int dp_review_suggest(struct dp_review* r, const psl_ctx_t* psl,
	size_t min_clients, size_t rows);

/**
 * The first rows of the table as a JSON array of objects (rank, name,
 * verdicts, target, technique, queries, clients, days, first_seen,
 * last_seen, registered, suggest).
 * @return a new reference, or NULL when out of memory.
 */
json_t* dp_review_json(const struct dp_review* r, size_t rows);

/**
 * Print the first rows as a table for people, then the suggested policy
 * lines, each once with the names it covers, under a comment that says
 * what they are.
 * @param min_clients: the threshold used, for the comment.
 * @return 0, or -1 when out of memory (the table is then printed, the
 *	policy lines are not).
 */
int dp_review_print(const struct dp_review* r, size_t rows,
	size_t min_clients, FILE* out);

/**
 * The command `doppel review`: argv[0] is "doppel", argv[1] "review".
 * @return the exit status (0, 2 or 3, see the top of this file).
 */
int dp_review_main(int argc, char** argv);

#endif /* DOPPEL_REVIEW_H */
