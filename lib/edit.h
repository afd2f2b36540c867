/*
 * lib/edit.h - what single edit turns one label into another, and what
 * kind of mistake that edit is (keyboard slip, flipped bit, ...).
 */
#ifndef DOPPEL_EDIT_H
#define DOPPEL_EDIT_H

#include <stddef.h>

/** The shape of a single edit from the protected label to the query. */
enum dp_edit_kind {
	DP_EDIT_NONE = 0,    /* more than one edit apart */
	DP_EDIT_SAME,        /* equal */
	DP_EDIT_OMISSION,    /* a character of the protected label is missing */
	DP_EDIT_INSERTION,   /* a character was added */
	DP_EDIT_REPLACEMENT, /* a character was changed */
	DP_EDIT_TRANSPOSITION /* two neighbours were swapped */
};

/** An edit and where it is. */
struct dp_edit {
	enum dp_edit_kind kind;
	/** position in the protected label (0-based) */
	size_t pos;
	/** the protected label's character (omission, replacement,
	 * transposition: the first of the pair) */
	char from;
	/** the query's character (insertion, replacement) */
	char to;
};

/**
 * Find the single edit (Damerau: with adjacent transposition) from p to q.
 * @return the edit; kind DP_EDIT_NONE if there is none.
 */
struct dp_edit dp_edit_find(const char* q, size_t qn, const char* p,
	size_t pn);

/**
 * The number of edits (Damerau, with adjacent transposition: optimal
 * string alignment) from p to q, or max + 1 if it is more than max.
 * Labels longer than 63 characters count as max + 1.
 */
unsigned dp_edit_distance(const char* q, size_t qn, const char* p,
	size_t pn, unsigned max);

/**
 * The technique of an edit in the query q: omission, insertion,
 * repetition, hyphenation, replacement, vowel-swap, bitsquatting,
 * homoglyph or transposition (an enum dp_technique of internal.h);
 * DP_TECH_NONE (-1) for no edit or more than one.
 * @param detail: receives a short note ("keyboard neighbours"), or "".
 */
int dp_edit_technique(const struct dp_edit* e, const char* q, size_t qn,
	const char** detail);

/**
 * Whether two characters are neighbours on a QWERTY, QWERTZ or AZERTY
 * keyboard.
 */
int dp_keyboard_adjacent(char a, char b);

#endif /* DOPPEL_EDIT_H */
