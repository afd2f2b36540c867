/*
 * lib/edit.c - classify the single edit between two labels.
 */
#include "edit.h"
#include "internal.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

struct dp_edit
dp_edit_find(const char* q, size_t qn, const char* p, size_t pn)
{
	struct dp_edit e;
	size_t i = 0, j;
	memset(&e, 0, sizeof(e));
	/* Common prefix, then see what is left. */
	while(i < qn && i < pn && q[i] == p[i])
		i++;
	if(qn == pn) {
		if(i == qn) {
			e.kind = DP_EDIT_SAME;
			return e;
		}
		if(memcmp(q + i + 1, p + i + 1, qn - i - 1) == 0) {
			e.kind = DP_EDIT_REPLACEMENT;
			e.pos = i;
			e.from = p[i];
			e.to = q[i];
			return e;
		}
		if(i + 1 < qn && q[i] == p[i + 1] && q[i + 1] == p[i] &&
			memcmp(q + i + 2, p + i + 2, qn - i - 2) == 0) {
			e.kind = DP_EDIT_TRANSPOSITION;
			e.pos = i;
			e.from = p[i];
			e.to = p[i + 1];
			return e;
		}
		return e;
	}
	if(qn + 1 == pn) {
		/* p[i] is missing from q */
		if(memcmp(q + i, p + i + 1, qn - i) == 0) {
			e.kind = DP_EDIT_OMISSION;
			/* Report the first of a run of equal characters. */
			for(j = i; j > 0 && p[j - 1] == p[i]; j--)
				;
			e.pos = j;
			e.from = p[i];
		}
		return e;
	}
	if(qn == pn + 1) {
		/* q[i] was added */
		if(memcmp(q + i + 1, p + i, pn - i) == 0) {
			e.kind = DP_EDIT_INSERTION;
			e.pos = i;
			e.to = q[i];
		}
		return e;
	}
	return e;
}

/** Keyboard rows, top to bottom, of the layouts people type domains on. */
static const char* const layouts[][4] = {
	{ "1234567890-", "qwertyuiop", "asdfghjkl", "zxcvbnm" },
	{ "1234567890", "qwertzuiop", "asdfghjkl", "yxcvbnm" },
	{ "1234567890", "azertyuiop", "qsdfghjklm", "wxcvbn" },
};

/** Character at row r, column c of a layout, or 0. */
static char
key_at(const char* const* rows, int r, int c)
{
	if(r < 0 || r > 3 || c < 0 || (size_t)c >= strlen(rows[r]))
		return 0;
	return rows[r][c];
}

/** Keyboard neighbours: a bit per pair of 7-bit characters, filled from
 * the layouts once, as a check asks on every typo it weighs. */
static uint64_t adjacent[128][2];
static pthread_once_t adjacent_once = PTHREAD_ONCE_INIT;

static void
fill_adjacent(void)
{
	/* Rows are staggered: a key touches two keys of the row above
	 * (same column and one right) and two of the row below (one left
	 * and same column). */
	static const int dr[6] = { 0, 0, -1, -1, 1, 1 };
	static const int dc[6] = { -1, 1, 0, 1, -1, 0 };
	size_t l;
	int r, c, k;
	for(l = 0; l < sizeof(layouts) / sizeof(layouts[0]); l++)
		for(r = 0; r < 4; r++)
			for(c = 0; layouts[l][r][c]; c++)
				for(k = 0; k < 6; k++) {
					unsigned a = (unsigned char)
						layouts[l][r][c];
					unsigned b = (unsigned char)key_at(
						layouts[l], r + dr[k], c + dc[k]);
					if(b)
						adjacent[a][b >> 6] |=
							(uint64_t)1 << (b & 63);
				}
}

unsigned
dp_edit_distance(const char* q, size_t qn, const char* p, size_t pn,
	unsigned max)
{
	/* three rows of the dynamic programme: two back, one back, this */
	unsigned row[3][64];
	size_t i, j;
	if(qn > 63 || pn > 63 || (qn > pn ? qn - pn : pn - qn) > max)
		return max + 1;
	for(j = 0; j <= pn; j++)
		row[1][j] = (unsigned)j;
	for(i = 1; i <= qn; i++) {
		/* row k lives in row[(k + 1) % 3] */
		unsigned* two = row[(i + 2) % 3];
		unsigned* one = row[i % 3];
		unsigned* cur = row[(i + 1) % 3];
		unsigned best;
		cur[0] = (unsigned)i;
		best = cur[0];
		for(j = 1; j <= pn; j++) {
			unsigned c = one[j - 1] + (q[i - 1] != p[j - 1]);
			if(one[j] + 1 < c)
				c = one[j] + 1;
			if(cur[j - 1] + 1 < c)
				c = cur[j - 1] + 1;
			if(i > 1 && j > 1 && q[i - 1] == p[j - 2] &&
				q[i - 2] == p[j - 1] && two[j - 2] + 1 < c)
				c = two[j - 2] + 1;
			cur[j] = c;
			if(c < best)
				best = c;
		}
		if(best > max)
			return max + 1;
	}
	return row[(qn + 1) % 3][pn] > max ? max + 1 : row[(qn + 1) % 3][pn];
}

int
dp_keyboard_adjacent(char a, char b)
{
	unsigned x = (unsigned char)a, y = (unsigned char)b;
	/* no layout has a key beyond ASCII */
	if(x >= 128 || y >= 128)
		return 0;
	(void)pthread_once(&adjacent_once, fill_adjacent);
	return (int)(adjacent[x][y >> 6] >> (y & 63) & 1);
}

static int
is_vowel(char c)
{
	return c && strchr("aeiou", c) != NULL;
}

/** Single characters that look alike in common fonts. */
static int
glyph_pair(char a, char b)
{
	static const char* const pairs[] = { "0o", "1l", "1i", "il", "5s",
		"bd", "ce", "gq", "nm", "38", "69", "2z", "uv", "vy", "rn" };
	size_t i;
	for(i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if((pairs[i][0] == a && pairs[i][1] == b) ||
			(pairs[i][0] == b && pairs[i][1] == a))
			return 1;
	return 0;
}

int
dp_edit_technique(const struct dp_edit* e, const char* q, size_t qn,
	const char** detail)
{
	unsigned x;
	*detail = "";
	switch(e->kind) {
	case DP_EDIT_OMISSION:
		return DP_TECH_OMISSION;
	case DP_EDIT_INSERTION:
		if(e->to == '-')
			return DP_TECH_HYPHENATION;
		if((e->pos > 0 && q[e->pos - 1] == e->to) ||
			(e->pos + 1 < qn && q[e->pos + 1] == e->to))
			return DP_TECH_REPETITION;
		if((e->pos > 0 && dp_keyboard_adjacent(q[e->pos - 1], e->to)) ||
			(e->pos + 1 < qn &&
			dp_keyboard_adjacent(q[e->pos + 1], e->to)))
			*detail = "keyboard neighbours";
		return DP_TECH_INSERTION;
	case DP_EDIT_REPLACEMENT:
		if(glyph_pair(e->from, e->to)) {
			*detail = "look-alike characters";
			return DP_TECH_HOMOGLYPH;
		}
		if(is_vowel(e->from) && is_vowel(e->to))
			return DP_TECH_VOWEL_SWAP;
		if(dp_keyboard_adjacent(e->from, e->to)) {
			*detail = "keyboard neighbours";
			return DP_TECH_REPLACEMENT;
		}
		x = (unsigned char)e->from ^ (unsigned char)e->to;
		if((x & (x - 1)) == 0) {
			*detail = "one bit flipped";
			return DP_TECH_BITSQUATTING;
		}
		return DP_TECH_REPLACEMENT;
	case DP_EDIT_TRANSPOSITION:
		return DP_TECH_TRANSPOSITION;
	case DP_EDIT_SAME:
	case DP_EDIT_NONE:
		break;
	}
	return DP_TECH_NONE;
}
