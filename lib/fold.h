/*
 * lib/fold.h - confusable skeletons of labels (UTS #39 and ASCII look-alikes).
 */
#ifndef DOPPEL_FOLD_H
#define DOPPEL_FOLD_H

#include <stddef.h>

/** Room for a folded label: 63 octets decode to at most 63 code points,
 * whose skeletons may be a few characters each. */
#define DP_FOLD_MAX 768

/** The label was an xn-- label. */
#define DP_FOLD_IDN 0x1
/** ... whose punycode does not decode, or does not re-encode to itself. */
#define DP_FOLD_IDN_INVALID 0x2
/** The label has non-ASCII characters (after IDN decoding). */
#define DP_FOLD_UNICODE 0x4
/** ... from more than one script, beyond UTS #39's "highly restrictive". */
#define DP_FOLD_MIXED_SCRIPT 0x8

/** ICU state for folding; read-only once created, safe to share. */
struct dp_folder;

/**
 * Create the folder (opens ICU's spoof checker).
 * @return folder, or NULL if ICU could not be initialised.
 */
struct dp_folder* dp_folder_create(void);

/** Release a folder; NULL is fine. */
void dp_folder_destroy(struct dp_folder* f);

/** The folds of one label. */
struct dp_folded {
	/**
	 * Strong skeleton: decoded, marks dropped, UTS #39 skeleton, and
	 * the look-alikes nobody tells apart (0/o, 1/l/i, rn/m, vv/w, cl/d).
	 * Equal strong skeletons look the same.
	 */
	char strong[DP_FOLD_MAX];
	/** Loose skeleton: the strong one with weaker look-alikes folded
	 * too (n/m, b/d, c/e, g/q, 3/8, 6/9, 5/s). */
	char loose[DP_FOLD_MAX];
	/** For ASCII labels, the loose single-character folds only: the
	 * same length as the label, so that one typo is one edit here. */
	char flat[DP_FOLD_MAX];
	size_t nstrong, nloose, nflat;
	/** DP_FOLD_* bits */
	unsigned flags;
};

/**
 * Fold one label of a canonical name (with \DDD escapes).
 * Does not allocate, except inside libidn2 for xn-- labels.
 * @param f: folder; NULL folds ASCII look-alikes only.
 * @param label: the label; @param len: its length.
 * @param out: receives the folds.
 */
void dp_fold_label(const struct dp_folder* f, const char* label, size_t len,
	struct dp_folded* out);

#endif /* DOPPEL_FOLD_H */
