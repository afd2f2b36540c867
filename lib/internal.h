/*
 * lib/internal.h - declarations shared between libdoppel's source files;
 * not installed, not part of the API.
 */
#ifndef DOPPEL_INTERNAL_H
#define DOPPEL_INTERNAL_H

#include "doppel.h"
#include "fold.h"
#include "index.h"

#include <libpsl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

/** One protected domain, in the policy's arrays. */
struct dp_prot {
	/** offset of the canonical name in the policy's strings */
	uint32_t name;
	/** offset of the expected countries ("US,DE"), or DP_NONE */
	uint32_t countries;
	/** its registered label and its public suffix (struct dp_label,
	 * struct dp_suffix) */
	uint32_t label, suffix;
	/** the registered label is name + label_off, label_len bytes */
	uint16_t label_off;
	uint16_t label_len;
	/** the public suffix starts at name + suffix_off */
	uint16_t suffix_off;
	/** the suffix is closed to the public (mil, gov, edu, int) */
	uint8_t closed;
	/** the strongest action its lookalikes get (protect action=) */
	uint8_t action_cap;
};

/** The techniques the engine names, in the order of dp_technique_names
 * (the answers' own, country-mismatch and hijack, are strings only). */
enum dp_technique {
	DP_TECH_NONE = -1,
	DP_TECH_TLD_SWAP,
	DP_TECH_TLD_TYPO,
	DP_TECH_OMISSION,
	DP_TECH_INSERTION,
	DP_TECH_REPETITION,
	DP_TECH_REPLACEMENT,
	DP_TECH_TRANSPOSITION,
	DP_TECH_VOWEL_SWAP,
	DP_TECH_BITSQUATTING,
	DP_TECH_HYPHENATION,
	DP_TECH_HOMOGLYPH,
	DP_TECH_IDN_CONFUSABLE,
	DP_TECH_MISSING_DOT,
	DP_TECH_SUBDOMAIN,
	DP_TECH_TARGET_EMBEDDING,
	DP_TECH_COMBO_SQUATTING,
	DP_TECH_LISTED
};
#define DP_NTECH 17

/** Their names, as verdicts and policies say them ("tld-swap"). */
extern const char* const dp_technique_names[DP_NTECH];

/** A policy's rule for one technique. */
struct dp_tech_rule {
	/** thresholds overriding the policy's, or -1 */
	double block_at, warn_at;
	/** 0, or 1 + the strongest action the technique may give */
	uint8_t action_cap;
};

/** Labels up to this length minus one are kept in their record. */
#define DP_LABEL_HEAD 31

/** The dictionary whose lower-case entries are ordinary words (Debian's
 * wamerican-small: common words only). */
#define DP_DICT_DEFAULT "/usr/share/dict/american-english-small"

/** The label is an ordinary word of the dictionary (office,
 * live, apple): as a word of somebody else's name it is weak evidence. */
#define DP_LABEL_WORD 0x1
/** The label begins (HEAD) or ends (TAIL) words of the dictionary
 * longer by three letters or more (intel in intellect, apple in
 * pineapple): glued to other letters on that side it is more often
 * part of such a word than a brand. */
#define DP_LABEL_HEAD_WORD 0x2
#define DP_LABEL_TAIL_WORD 0x4

/**
 * A registered label shared by protected domains ("army" of army.mil and
 * army.gov): typos and look-alikes are a matter of the label, so the
 * engine weighs each label once, then its domains' suffixes.
 */
struct dp_label {
	/** offsets of the label and of its folds (struct dp_folded) */
	uint32_t str, strong, loose, flat;
	uint16_t len, nstrong, nloose, nflat;
	/** its protected domains: prot[first .. first + n) */
	uint32_t first, n;
	/** the label itself when shorter than DP_LABEL_HEAD (NUL padded),
	 * so that weighing it reads no other cache line than its record */
	char head[DP_LABEL_HEAD];
	/** DP_LABEL_* bits */
	uint8_t flags;
};

/** The text of a label (len bytes, NUL terminated). */
static inline const char*
dp_label_text(const struct dp_policy* p, const struct dp_label* l);

/** A public suffix some protected domain is under. */
struct dp_suffix {
	uint32_t str;
	uint16_t len;
	uint8_t closed;
};

/** Slots of the keyword table (at least twice the keywords). */
#define DP_KW_SLOTS 128

/** No string. */
#define DP_NONE UINT32_MAX

/** What a listed name is; a name can be several. */
#define DP_NAME_PROTECTED 0x1
#define DP_NAME_ALLOW 0x2
#define DP_NAME_KNOWN 0x4
#define DP_NAME_BLOCK 0x8
/** "LABEL.*" (policy: ours LABEL.*): the label under every suffix is the
 * owner's; such a record's name ends in ".*" and matches no real name */
#define DP_NAME_OURS 0x10

/** A listed name (protected, allowed, known good, blocked). */
struct dp_namerec {
	/** offset of the canonical name in strings */
	uint32_t name;
	/** DP_NAME_* bits */
	uint32_t flags;
	/** the protected domain, if DP_NAME_PROTECTED */
	uint32_t pid;
};

/**
 * Grow an array of n used elements of size sz to hold one more, doubling
 * its capacity *cap when it is full.
 * @return 0 when out of memory (the array is left as it was).
 */
int dp_grow_array(void** arr, uint32_t n, uint32_t* cap, size_t sz);

/** Fill the policy's table of the combo-squatting keywords (kw_hash,
 * kw_word) from the engine's list: at build, and at load, where the copy a
 * compiled file carries is not trusted. */
void dp_keywords_index(struct dp_policy* p);

/** FNV-1a's offset basis, and FNV-1a of len bytes of data continued from
 * h (DP_FNV_SEED to start): for hash tables of short keys. */
#define DP_FNV_SEED 1469598103934665603ULL
uint64_t dp_fnv1a(uint64_t h, const void* data, size_t len);
/** A hash of len bytes for in-memory tables, eight bytes at a time
 * (several times faster than dp_fnv1a on names), from a seed (another
 * hash, to chain fields); not for anything kept in a file. */
uint64_t dp_hash_bytes(uint64_t seed, const void* data, size_t len);

/**
 * Check that an LMDB file (a compiled policy, the verdict cache) may be
 * given to LMDB (lib/lmdbfile.c): it holds every page its meta page says
 * it has, and every page of its two trees, read through read(), keeps its
 * nodes inside it and its children and overflow runs inside the file.
 * LMDB maps the file and would fault (SIGBUS, SIGSEGV) on a page past a
 * truncated end or through a damaged offset, so such a file must be
 * refused before it is opened.
 * @param fd: the file, open for reading; @param size: its size.
 * @return 0 if the file is whole, else -1 with err set.
 */
int dp_lmdb_whole(int fd, const char* path, uint64_t size,
	struct dp_error* err);

/** The map size an LMDB file records (its newer meta page), or 0. */
uint64_t dp_lmdb_map_size(int fd);

/** dp_lmdb_whole's checks of the meta pages only (their format, and the
 * pages and roots they name inside the file), without walking the trees:
 * cheap enough for the verdict cache's writer before every batch. */
int dp_lmdb_meta_ok(int fd, const char* path, uint64_t size,
	struct dp_error* err);

/** A new, empty policy with the default thresholds. */
struct dp_policy* dp_policy_new(void);

/** Append a zeroed protected domain. @return it, or NULL (no memory). */
struct dp_prot* dp_policy_add_prot(struct dp_policy* p);

/**
 * Find or add a listed name and set flags on it.
 * @return its record, or NULL when out of memory.
 */
struct dp_namerec* dp_policy_name_record(struct dp_policy* p,
	const char* name, uint32_t flags);

/** Whether a suffix is closed to the public (mil, gov, edu, int and
 * their second-level forms): the same label elsewhere is an impostor. */
int dp_closed_suffix(const char* suffix);

/** Build the filter in front of the deletion keys (del_bits) from the
 * labels' folds.  @return DP_OK or DP_ERR_NOMEM. */
dp_status dp_del_filter_init(struct dp_policy* p);

/** A number for a policy's memo_gen that no policy had before. */
uint64_t dp_memo_generation(void);

/** Load a Public Suffix List file into the policy, keeping its text. */
dp_status dp_policy_load_psl(struct dp_policy* p, const char* path);

/** Number of a technique by name, or -1. */
int dp_technique_index(const char* name);

/** Name of a technique by number, or NULL. */
const char* dp_technique_name(int i);

/** An open compiled policy (lib/db.c). */
struct dp_db;

/** Whether a file is a compiled policy (an LMDB file of doppel's). */
int dp_db_is_compiled(const char* path);

/**
 * Open a compiled policy: its tables are copied into memory of their own,
 * checked, and the file is closed again.
 * @return DP_OK or DP_ERR_IO / DP_ERR_FORMAT with a message in err.
 */
dp_status dp_db_open(const char* path, struct dp_policy** out,
	struct dp_error* err);

/** Free the tables of a compiled policy. */
void dp_db_close(struct dp_db* db);

/** Fill in what the database records about itself (version, build). */
void dp_db_info(const struct dp_db* db, struct dp_policy_info* info);

/**
 * Copy a string into the policy's string area (NUL terminated).
 * @return its offset, or DP_NONE when out of memory.
 */
uint32_t dp_policy_add_string(struct dp_policy* p, const char* s, size_t n);

/**
 * Build the match index of a parsed policy.
 * @return DP_OK or DP_ERR_NOMEM.
 */
dp_status dp_engine_build(struct dp_policy* p);

/**
 * A string-keyed hash map, open addressing, filled once and then read-only.
 * Keys are copied into the map; values are opaque pointers.
 */
struct dp_strmap {
	/** slots, a power of two */
	size_t cap;
	/** used slots */
	size_t count;
	/** keys (NULL when the slot is empty) */
	char** keys;
	/** values, parallel to keys */
	void** vals;
};

/** Initialise an empty map. */
void dp_strmap_init(struct dp_strmap* m);
/** Release the map's storage (not what the values point to). */
void dp_strmap_clear(struct dp_strmap* m);
/**
 * Insert key (len bytes) unless present.
 * @param stored: if not NULL, receives the map's own copy of the key.
 * @return DP_OK (also when present: the old value is kept), DP_ERR_NOMEM.
 */
dp_status dp_strmap_put(struct dp_strmap* m, const char* key, size_t len,
	void* val, const char** stored);
/**
 * Look up key (len bytes, need not be NUL terminated).
 * @param found: set to 1 if the key is present (the value may be NULL).
 * @return the value, NULL if absent.
 */
void* dp_strmap_get(const struct dp_strmap* m, const char* key, size_t len,
	int* found);

/**
 * A small, fast printf for explanations: %s, %.*s, %c, %zu and %% only
 * (anything else is copied as it is).  The octets of the arguments that
 * are not printable ASCII come out as \DDD, so that an explanation is
 * always printable ASCII, fit for a log line, an EDE text (UTF-8) and a
 * terminal.  Always NUL terminates.
 * @return the length written (at most cap - 1).
 */
size_t dp_vformat(char* out, size_t cap, const char* fmt, va_list ap);

/** dp_vformat with arguments. */
size_t dp_format(char* out, size_t cap, const char* fmt, ...)
#ifdef __GNUC__
	__attribute__((format(printf, 3, 4)))
#endif
	;


/**
 * Read one line of a configuration file into buf, without its newline;
 * strips a '#' comment and surrounding blanks.
 * @param lead: if not NULL, receives how many leading blanks were
 *	stripped (so that columns can still be reported).
 * @return 1 if a line was read, 0 at end of file, -1 if the line is longer
 *	than the buffer.
 */
int dp_read_line(FILE* f, char* buf, size_t len, size_t* lead);

/**
 * Resolve a path found in a file relative to that file's directory.
 * @param base: the file the path was read from.
 * @param path: the path; absolute paths are copied as they are.
 * @return DP_OK or DP_ERR_SPACE.
 */
dp_status dp_path_relative(const char* base, const char* path, char* out,
	size_t outlen);

/** Bits of the keyword filter. */
#define DP_KW_FILTER_BITS 4096

struct dp_policy {
	/** public suffix list */
	psl_ctx_t* psl;
	/** ICU state for confusable skeletons */
	struct dp_folder* folder;
	/** all strings, NUL terminated, referred to by offset */
	char* strings;
	size_t strings_len, strings_cap;
	/** protected domains */
	struct dp_prot* prot;
	uint32_t nprot, prot_cap;
	/** listed names */
	struct dp_namerec* names;
	uint32_t nnames, names_cap;
	/** registered labels and suffixes of the protected domains (the
	 * domains are sorted by label) */
	struct dp_label* labels;
	uint32_t nlabels;
	struct dp_suffix* suffixes;
	uint32_t nsuffixes;
	/** the match index over both */
	struct dp_index index;
	/** canonical name -> 1 + index in names; only while loading */
	struct dp_strmap build_names;
	/** verdict thresholds on the score, and per technique */
	double block_at, warn_at;
	struct dp_tech_rule tech[DP_NTECH];
	/** negative TTL of synthesised answers, -1 if the policy has none */
	int32_t negative_ttl;
	/** what a country mismatch does (DP_ALLOW: log only), for
	 * lookalikes and for the protected domains themselves */
	enum dp_action country_mismatch, hijack;
	/** fingerprint of the source text (every file read) */
	uint64_t source_hash;
	/** the Public Suffix List's text, kept for compiled policies */
	char* psl_text;
	size_t psl_len;
	/** how many of its rules are in the index (DP_KEY_PSL); 0 (a list
	 * in libpsl's DAFSA form) leaves the matching to libpsl */
	uint64_t psl_rules;
	/** a small filter of the rules' keys, which stays in the cache
	 * (dp_psl_filter_init) */
	uint64_t* psl_filter;
	uint64_t psl_filter_mask;
	/** the compiled database this policy was read from, or NULL; its
	 * arrays are then the database's copies, freed with it */
	struct dp_db* db;
	/** the combo-squatting keywords, by hash (0: empty slot), and
	 * their number in the engine's list */
	uint64_t kw_hash[DP_KW_SLOTS];
	uint8_t kw_word[DP_KW_SLOTS];
	/** A filter in front of the affix lookups: a bit per (length, first
	 * two bytes, last byte) of every protected label that starts its
	 * name ("corpudyne" of corpudyne.com), so that the prefixes and
	 * suffixes of a queried label that cannot be a brand cost no hash.
	 * Rebuilt from prot[] after a build or a load (dp_affix_init);
	 * NULL lets everything through. */
	uint64_t* affix_bits;
	uint64_t affix_mask;
	/** The lengths (a bit each, 4 to 63) of the protected domains'
	 * registered labels, by a hash of their first four bytes
	 * (head_mask + 1 words), then by one of their last four: a
	 * prefix or suffix of a queried label whose length is not there
	 * cannot be any of them, and the affix scan passes over it.  In
	 * affix_bits's allocation, past its words; NULL with it. */
	uint64_t* label_heads;
	uint64_t head_mask;
	/** A filter in front of the deletion keys (DP_KEY_DEL): two bits
	 * in one word for each key of every protected label's flat and
	 * loose folds, so that most keys of a clean name cost no bucket.
	 * Rebuilt with the affix filter (dp_del_filter_init); NULL lets
	 * everything through.  del_mask: its words, less one. */
	uint64_t* del_bits;
	uint64_t del_mask;
	/** In front of del_bits, a filter of the folds' parts
	 * (dp_del_parts_near): a clean label whose parts no protected
	 * fold has makes no deletion key.  In del_bits's allocation, past
	 * its mask + 1 words. */
	uint64_t* part_bits;
	uint64_t part_mask;
	/** what the engine's per-thread memo of registered domains knows
	 * this policy by: a number no other policy, nor this one before
	 * its last build or load, had (dp_affix_init) */
	uint64_t memo_gen;
	/** a bit per (length, first byte, last byte) of the keywords, for
	 * the same purpose */
	uint64_t kw_filter[DP_KW_FILTER_BITS / 64];
	/** the suffix of each protected domain (prot[i].suffix), packed,
	 * so that weighing a label's domains reads a line or two; rebuilt
	 * with the filters (dp_affix_init) */
	uint32_t* prot_suffix;
	/** How a query's suffix stands to a protected domain's, when both
	 * are among the policy's suffixes: suffix_rel[q * nsuffixes + d],
	 * 0 until the first query that needs it works it out, then 1 + the
	 * relation.  Shared by the threads that check names (relaxed atomic
	 * bytes: two threads that work out the same entry store the same
	 * value).  Zeroed pages until touched; NULL for more than
	 * DP_SUFFIX_REL_MAX suffixes. */
	_Atomic uint8_t* suffix_rel;
	/** the policy has "ours LABEL.*" records (set with the filters,
	 * dp_affix_init), so that a flagged name looks for one only then */
	int has_ours;
};

/** Most suffixes for which the suffix relations are kept (4 MB). */
#define DP_SUFFIX_REL_MAX 2048

/** Flags of a Public Suffix List rule, in the byte before its text. */
#define DP_PSL_PLAIN 0x1
#define DP_PSL_WILDCARD 0x2
#define DP_PSL_EXCEPTION 0x4
#define DP_PSL_MARK 0x40

/**
 * Put the rules of the policy's Public Suffix List text into its index,
 * or only count them when put is 0.  Each rule's text goes into the
 * string area after a byte of DP_PSL_* flags (with DP_PSL_MARK), and the
 * index maps (DP_KEY_PSL, text) to that byte's offset.
 * @return how many index entries, or -1 when out of memory.
 */
int64_t dp_psl_rules(struct dp_policy* p, int put);

/** Most labels of a name: 255 wire octets, two each at least. */
#define DP_NAME_LABELS 128

/**
 * Where each label-suffix of a name starts ("com", "army.com",
 * "www.army.com": k = 0 is the last label) and its key polynomial
 * (dp_key_raw), all from one pass from the right.
 * @return how many (at most max).
 */
size_t dp_name_suffixes(const char* name, uint16_t* start, uint64_t* raw,
	size_t max);

/**
 * The registrable domain of a name from the hashes (DP_KEY_PSL) of its
 * label-suffixes (dp_name_suffixes): see dp_registrable.  The policy
 * must have its rules in the index (psl_rules).
 */
const char* dp_psl_match(const struct dp_policy* p, const char* name,
	size_t nk, const uint16_t* start, const uint64_t* h);

/**
 * Build the filter of the rules' keys of a built or loaded policy, from
 * the list's text (len bytes) its index was built from.
 * @return DP_OK or DP_ERR_NOMEM.
 */
dp_status dp_psl_filter_init(struct dp_policy* p, const char* text,
	size_t len);

/**
 * The registrable domain of a canonical name, as libpsl's
 * psl_registrable_domain() finds it, from the rules in the index.
 * @return a pointer into name, or NULL when the name is a public suffix.
 */
const char* dp_registrable(const struct dp_policy* p, const char* name);

/**
 * Build the tables derived from a built or loaded policy: the affix and
 * keyword filters, and the packed suffixes of the protected domains.
 * @return DP_OK or DP_ERR_NOMEM.
 */
dp_status dp_affix_init(struct dp_policy* p);

static inline const char*
dp_label_text(const struct dp_policy* p, const struct dp_label* l)
{
	return l->len < DP_LABEL_HEAD ? l->head : p->strings + l->str;
}

#endif /* DOPPEL_INTERNAL_H */
