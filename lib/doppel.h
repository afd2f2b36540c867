/*
 * lib/doppel.h - libdoppel: decide whether a domain name imitates a
 * protected domain.
 *
 * libdoppel has no Unbound dependency: the Unbound module (module/) and
 * the command line tool (tools/) both link against the same library and
 * so give the same verdict for the same name.  Its public headers are
 * this one (names, policies, verdicts, settings, countries), checker.h
 * (a name in, a verdict out, through the verdict cache), vcache.h (the
 * verdict cache), audit.h (the audit log) and counters.h (the module's
 * counters); internal.h and writer.h are the library's own.
 *
 * Ownership: every object returned by a *_load() or *_create() function is
 * owned by the caller and released with the matching *_free().  Strings
 * inside a struct dp_verdict point into the policy and live as long as the
 * policy does.
 *
 * Threads: a loaded struct dp_policy is read-only; any number of threads may
 * call dp_policy_check() on it at once.
 */
#ifndef DOPPEL_H
#define DOPPEL_H

#include <stddef.h>
#include <stdint.h>

/** Version of libdoppel, printed by `doppel version`. */
#define DP_VERSION "0.1.0"

/** The Public Suffix List a policy reads unless it names another
 * (psl-file): Debian's publicsuffix. */
#define DP_PSL_DEFAULT "/usr/share/publicsuffix/public_suffix_list.dat"

/**
 * Longest presentation form of a canonical name, with its terminating NUL:
 * 255 wire octets can expand to 4 characters each (\DDD escapes).
 */
#define DP_NAME_MAX 1024

/** Status codes returned by libdoppel functions. */
typedef enum dp_status {
	DP_OK = 0,
	/** out of memory */
	DP_ERR_NOMEM,
	/** a file could not be opened or read */
	DP_ERR_IO,
	/** a settings or policy file has a syntax error */
	DP_ERR_SYNTAX,
	/** a domain name is malformed (bad escape, label or name too long) */
	DP_ERR_NAME,
	/** the public suffix list could not be loaded */
	DP_ERR_PSL,
	/** an output buffer is too small */
	DP_ERR_SPACE,
	/** a compiled policy or cache is corrupt, truncated or of another
	 * format version */
	DP_ERR_FORMAT
} dp_status;

/**
 * Describe a status code.
 * @param st: status.
 * @return static string, never NULL.
 */
const char* dp_strerror(dp_status st);

/**
 * Details of a failure, for people: what was wrong and where
 * ("policy.txt:12: unknown directive 'protec'").
 */
struct dp_error {
	/** the message, NUL terminated; empty if there is none */
	char msg[512];
};

/*
 * Names.
 *
 * libdoppel compares names in one canonical text form: labels separated by
 * '.', no trailing dot, ASCII letters lower-cased, and every octet that is
 * not a letter, digit, '-' or '_' written as a \DDD decimal escape.  The
 * root name is the empty string.  Any octet string that is a legal DNS name
 * has exactly one canonical form, so the form can be compared and hashed
 * byte-wise.
 */

/**
 * Canonicalise an uncompressed wire-format name.
 * @param wire: the name, a sequence of length-prefixed labels ending in the
 *	zero-length root label.
 * @param len: bytes available at wire.
 * @param out: buffer for the canonical text, at least DP_NAME_MAX bytes.
 * @param outlen: size of out.
 * @return DP_OK, DP_ERR_NAME for a truncated or over-long name or a
 *	compression pointer, DP_ERR_SPACE if out is too small.
 */
dp_status dp_name_from_wire(const uint8_t* wire, size_t len, char* out,
	size_t outlen);

/**
 * Canonicalise a name in presentation format: any case, trailing dot or
 * not, with \X and \DDD escapes.
 * @param text: the name, NUL terminated.
 * @param out: buffer for the canonical text, at least DP_NAME_MAX bytes.
 * @param outlen: size of out.
 * @return DP_OK, DP_ERR_NAME for an empty label, a bad escape, a label over
 *	63 octets or a name over 255 wire octets, DP_ERR_SPACE.
 */
dp_status dp_name_from_text(const char* text, char* out, size_t outlen);

/** dp_name_from_text, and for DP_ERR_NAME the reason, for people ("a label
 * longer than 63 octets ..."), in *why (a static string; NULL if none). */
dp_status dp_name_from_text_why(const char* text, char* out, size_t outlen,
	const char** why);

/**
 * Count the labels of a canonical name.
 * @param name: canonical name.
 * @return number of labels, 0 for the root.
 */
int dp_name_labels(const char* name);

/*
 * Module and tool settings (doppel.conf).
 */

/** What to do when the policy cannot be loaded. */
enum dp_on_error {
	/** keep resolving without protection, and say so in the log */
	DP_ON_ERROR_OPEN = 0,
	/** answer SERVFAIL to every query until a good policy is loaded */
	DP_ON_ERROR_CLOSED
};

/** Which replies get an audit record (doppel.conf's audit). */
enum dp_audit_level {
	DP_AUDIT_OFF = 0,
	/** those with a verdict other than allow */
	DP_AUDIT_FLAGGED = 1,
	DP_AUDIT_ALL = 2
};

/** Settings read from doppel.conf. */

struct dp_settings {
	/** path of the policy file */
	char policy[4096];
	/** behaviour when the policy cannot be used */
	enum dp_on_error on_error;
	/** monitor mode: no answer is changed; what would be blocked is
	 * logged and audited as would-block.  0: enforce */
	int monitor;
	/** TTL, in seconds, of synthesised NXDOMAIN answers and their SOA */
	uint32_t block_ttl;
	/** whether every non-allow verdict is written to the resolver log */
	int log_verdicts;
	/** seconds between checks of the policy file for a new version;
	 * 0: only on reload */
	uint32_t policy_check_interval;
	/** path of the LMDB verdict cache, "" for none */
	char verdict_cache[4096];
	/** its map size in bytes */
	uint64_t verdict_cache_size;
	/** seconds a cached verdict stays valid */
	uint32_t verdict_ttl;
	/** path of the country database (MaxMind DB); "" for the default
	 * (the one `make` built, if any), "off" for none */
	char geoip[4096];
	/** what goes to the audit log */
	enum dp_audit_level audit;
	/** path of the audit log, "" for none */
	char audit_log[4096];
	/** seconds within which repeats of a record are collapsed into one
	 * (dp_audit_set_collapse); 0: never */
	uint32_t audit_collapse;
	/** path of the counters file (lib/counters.h), written every few
	 * seconds; "" for none */
	char stats_file[4096];
	/** where the audit records also go as dnstap ("unix:/path" or
	 * "tcp:HOST:PORT", lib/dnstap.h); "" for nowhere */
	char audit_dnstap[4200];
};

/** Default settings file of the module. */
#define DP_SETTINGS_DEFAULT_PATH "/etc/doppel/doppel.conf"
/** Environment variable that names the settings file. */
#define DP_SETTINGS_ENV "DOPPEL_CONF"

/**
 * Fill settings with the defaults: no policy, on-error open, block-ttl
 * 300, log-verdicts yes, policy-check-interval 5, no verdict cache (64 MB
 * when set), verdict-ttl 86400.
 * @param s: settings to fill.
 */
void dp_settings_default(struct dp_settings* s);

/**
 * Read a settings file of `key: value` lines ('#' starts a comment).
 * Keys: policy, on-error (open|closed), block-ttl (seconds), log-verdicts
 * (yes|no), policy-check-interval (seconds), verdict-cache (path),
 * verdict-cache-size (MB), verdict-ttl (seconds), geoip (path), audit
 * (all|flagged|off), audit-log (path), audit-collapse (seconds), mode
 * (enforce|monitor), stats-file (path), audit-dnstap (unix:/PATH or
 * tcp:HOST:PORT).  Relative paths are
 * taken relative to the directory of the settings file.
 * @param path: file to read.
 * @param s: settings, filled with defaults first; on error the fields read
 *	so far are kept (so on-error is honoured if it came before the error).
 * @param err: receives "path:line: what" on failure.
 * @return DP_OK, DP_ERR_IO, DP_ERR_SYNTAX (also when no policy is set).
 */
dp_status dp_settings_load(const char* path, struct dp_settings* s,
	struct dp_error* err);

/*
 * Policy.
 */

/** A loaded policy: protected domains, allow and block lists, indexes. */
struct dp_policy;

/**
 * Open a policy: a compiled database (see dp_policy_compile) or a source
 * (see dp_policy_parse), whichever the file is.
 * @param path: policy file.
 * @param out: receives the policy.
 * @param err: receives "path:line:col: error: what" for the first problem
 *	(and how many more there were).
 * @return DP_OK or the first error; nothing is allocated on error.
 */
dp_status dp_policy_load(const char* path, struct dp_policy** out,
	struct dp_error* err);

/**
 * Where a problem of a policy source was found and what it is; called once
 * per problem by dp_policy_parse.
 * @param line: 1-based, or 0 for a problem of the whole file.
 * @param col: 1-based column, or 0 if none applies.
 */
typedef void (*dp_diag_fn)(void* arg, const char* file, int line, int col,
	const char* msg);

/**
 * Read a policy source and report every problem, not just the first.
 * Directives, one per line, '#' comments: see conf/README.md.
 * @param path: policy file.
 * @param out: receives the policy; NULL if there was any problem.
 * @param diag: called for each problem (may be NULL).
 * @return DP_OK, DP_ERR_SYNTAX if the source had problems, or the status
 *	of a failure that is not the source's (DP_ERR_NOMEM, DP_ERR_PSL).
 */
dp_status dp_policy_parse(const char* path, struct dp_policy** out,
	dp_diag_fn diag, void* arg);

/**
 * Format a problem as "file:line:col: error: msg" (parts that do not
 * apply left out).
 */
void dp_format_problem(struct dp_error* err, const char* file, int line,
	int col, const char* msg);

/**
 * Write a policy as a compiled database: to PATH.tmp.PID, synced, then
 * renamed onto PATH, so that a reader sees the old file or the new one,
 * never half of one.  On failure PATH is untouched.
 * @return DP_OK, or DP_ERR_IO with a message in err.
 */
dp_status dp_policy_compile(const struct dp_policy* p, const char* path,
	struct dp_error* err);

/** What a compiled policy records about itself. */
struct dp_policy_info {
	/** format version of the database */
	uint32_t version;
	/** fingerprint of the source text */
	uint64_t source_hash;
	/** seconds since the epoch when it was compiled (0 for a source) */
	uint64_t built;
	/** counts */
	uint64_t protected_domains, labels, suffixes, names, index_keys;
	/** bytes of the database file (0 for a source) */
	uint64_t file_size;
};

/**
 * Describe a policy.
 * @param p: policy.
 * @param info: filled in.
 */
void dp_policy_get_info(const struct dp_policy* p, struct dp_policy_info* info);

/**
 * The negative TTL the policy sets for synthesised answers.
 * @return seconds, or -1 if the policy leaves it to the settings.
 */
int dp_policy_negative_ttl(const struct dp_policy* p);

/**
 * Release a policy.
 * @param p: policy, may be NULL.
 */
void dp_policy_free(struct dp_policy* p);

/**
 * Number of protected domains in a policy.
 * @param p: policy.
 * @return count.
 */
size_t dp_policy_protected_count(const struct dp_policy* p);

/**
 * Memory held by a policy: its indexes, strings and tables.
 * @param p: policy.
 * @return bytes.
 */
size_t dp_policy_memory(const struct dp_policy* p);

/**
 * The i-th listed name of a policy, if it is a block entry.
 * @param name: receives the canonical name (owned by the policy), or NULL
 *	when the i-th listed name is not a block entry.
 * @return 1, or 0 if i is past the last listed name.
 */
int dp_policy_blocked_at(const struct dp_policy* p, size_t i,
	const char** name);

/**
 * The i-th protected domain of a policy.
 * @param name: receives the canonical name (owned by the policy).
 * @param label_off: receives where its registered label starts in name.
 * @param label_len: receives the label's length (the public suffix
 *	follows it, after a dot).
 * @return 1, or 0 if i is past the last one.
 */
int dp_policy_protected_at(const struct dp_policy* p, size_t i,
	const char** name, size_t* label_off, size_t* label_len);

/** The action a verdict asks for. */
enum dp_action {
	DP_ALLOW = 0,
	DP_WARN,
	DP_BLOCK
};

/** Why the policy never flags a name: it (or a name above it) is the
 * owner's own.  An alias chain or a mail exchange that starts at such a
 * name is the owner's delegation (a CDN, a mail host), not a lookalike. */
enum dp_listed {
	DP_LISTED_NONE = 0,
	/** allow NAME, or ours NAME */
	DP_LISTED_ALLOW,
	/** protect NAME */
	DP_LISTED_PROTECTED,
	/** a known-good list */
	DP_LISTED_KNOWN,
	/** ours LABEL.* */
	DP_LISTED_OURS
};

/**
 * Name of an action: "allow", "warn" or "block".
 * @param a: action.
 * @return static string.
 */
const char* dp_action_str(enum dp_action a);

/** The outcome of checking one name. */
struct dp_verdict {
	/** what to do */
	enum dp_action action;
	/** strength of the evidence, 0 (none) to 1 (certain) */
	double score;
	/** protected domain or block entry imitated, NULL if none */
	const char* target;
	/** technique that matched ("tld-swap", "listed", ...), NULL if none */
	const char* technique;
	/**
	 * Number of trailing labels of the checked name that form the
	 * lookalike zone (the registered name, or the block entry); the
	 * apex of a synthesised NXDOMAIN's SOA.  0 when action is allow.
	 */
	int zone_labels;
	/** a short explanation for people, NUL terminated */
	char why[160];
	/** where in why, past the explanation's NUL, the details of the
	 * match (skeletons) start, NUL terminated; 0: none (see
	 * dp_verdict_detail) */
	uint8_t detail_at;
	/** countries of the answers that were weighed ("ML,FR"), or "" */
	char countries[24];
	/** the owner's own name (action is then allow), or DP_LISTED_NONE */
	enum dp_listed listed;
};

/**
 * Decide whether a name imitates a protected domain.  Does not allocate.
 * @param p: policy.
 * @param name: canonical name (see dp_name_from_wire/dp_name_from_text).
 * @param v: receives the verdict.
 */
void dp_policy_check(const struct dp_policy* p, const char* name,
	struct dp_verdict* v);

/*
 * Countries of answers.
 */

struct sockaddr;

/** A country database (MaxMind DB format), read-only, thread-safe. */
struct dp_geo;

/**
 * Open a country database.
 * @return DP_OK, DP_ERR_IO or DP_ERR_FORMAT with a message in err.
 */
dp_status dp_geo_open(const char* path, struct dp_geo** out,
	struct dp_error* err);

/** Close a country database; NULL is fine. */
void dp_geo_close(struct dp_geo* g);

/**
 * The country of an address.
 * @param sa: an IPv4 or IPv6 socket address.
 * @param cc: receives the ISO 3166-1 code, NUL terminated.
 * @return 1, or 0 if the database does not place the address (neutral).
 */
int dp_geo_country(const struct dp_geo* g, const struct sockaddr* sa,
	char cc[3]);

/**
 * Whether a verdict kept from before (the verdict cache) may stand under
 * the policy: the name is none of the owner's own (allowed, protected,
 * known good, ours: the policy wins), and the verdict's target is still
 * a protected domain or a block entry of the policy.
 * @param name: canonical name; @param target: the kept verdict's target.
 * @return 1 if it may stand, 0 if the name must be checked again.
 */
int dp_policy_vouches(const struct dp_policy* p, const char* name,
	const char* target);

/**
 * Whether any protected domain of the policy expects countries: if none
 * does, answers never need placing.  Scans the domains: call it once per
 * policy, not per query.
 */
int dp_policy_uses_countries(const struct dp_policy* p);

/**
 * Whether the countries of a name's answers matter, and which are
 * expected (see dp_policy_check_answer for when they do).
 * @param v: the name's verdict (dp_policy_check).
 * @return the expected countries ("US,DE", owned by the policy), or NULL.
 */
const char* dp_policy_expected_countries(const struct dp_policy* p,
	const char* name, const struct dp_verdict* v);

/**
 * Weigh the countries of a name's answers.  A lookalike whose verdict is
 * below block, answered from outside its target's expected countries, gets
 * the policy's country-mismatch action; a protected domain (or a name
 * under it) answered from outside its expected countries is a possible
 * hijack: the policy's hijack action.  Names whose target expects no
 * particular countries, and countries the database did not know, change
 * nothing.
 * @param name: canonical name.
 * @param countries: the answers' country codes; n of them.
 * @param v: in: the name's verdict (dp_policy_check); out: the verdict
 *	with the answers weighed (technique "country-mismatch" or "hijack"
 *	when they changed it).
 * @return 1 if the answers told something (a mismatch), 0 if not.
 */
int dp_policy_check_answer(const struct dp_policy* p, const char* name,
	const char (*countries)[3], size_t n, struct dp_verdict* v);

/** The details of a verdict's match (the skeletons compared), or "":
 * internals for --verbose, not part of the explanation. */
const char* dp_verdict_detail(const struct dp_verdict* v);

/** Format "what" into err (printf style); err may be NULL.  Octets of
 * the result below 0x20 and 0x7f are written as \DDD. */
void dp_error_set(struct dp_error* err, const char* fmt, ...)
#ifdef __GNUC__
	__attribute__((format(printf, 2, 3)))
#endif
	;

/**
 * Append s as a JSON string literal at buf + *o ("null" for NULL): '"'
 * and '\\' escaped, octets below 0x20 and from 0x7f up as \u00XX, so that
 * the text is valid JSON whatever it holds.  The one JSON escaper of the
 * audit log and the command line.
 * @return 1, or 0 if buf is full (*o then says how far it got).
 */
int dp_json_str(char* buf, size_t len, size_t* o, const char* s);

/**
 * Copy a string into cap bytes, cut short if it does not fit, always
 * terminated (when cap > 0): snprintf's "%s" without its cost.
 * @return the length of src.
 */
size_t dp_strlcpy(char* dst, const char* src, size_t cap);

/**
 * Write a time for people: ISO 8601 in UTC ("2026-12-06T10:55:59Z").
 * @param t: seconds since the epoch.
 * @return out.
 */
char* dp_iso_time(uint64_t t, char* out, size_t cap);

#endif /* DOPPEL_H */
