/*
 * lib/fold.c - fold a label to its confusable skeleton.
 *
 * Two names that look alike fold to the same skeleton.  ASCII labels go
 * through a small table of look-alike characters and character pairs
 * (0/o, 1/l/i, rn/m, vv/w, cl/d, ...).  Labels with other characters (UTF-8
 * on the wire, or xn-- labels, which are decoded with libidn2) first go
 * through ICU: canonical decomposition with the combining marks dropped
 * (so 'á' is 'a'), case folding, and the UTS #39 skeleton (so Cyrillic 'а'
 * is 'a'); then through the ASCII table.
 */
#include "fold.h"

#include <idn2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>

/** Longest label we fold, in UTF-16 units after decoding and
 * decomposition; longer ones are folded by the ASCII table only. */
#define U16_MAX 256

/** Most Latin letters with a hook, stroke, tail or small-capital form. */
#define LATIN_MAX 1024

struct dp_folder {
	USpoofChecker* spoof;
	const UNormalizer2* nfd;
	/** Latin letter variants UTS #39 leaves alone (r with fishhook, y
	 * with stroke, small capital b ...) and the ASCII letter each one
	 * is a variant of, sorted by code point */
	uint16_t latin_cp[LATIN_MAX];
	char latin_to[LATIN_MAX];
	int nlatin;
};

/** Unicode blocks of Latin letters and their variants. */
static const struct {
	uint16_t lo, hi;
} latin_blocks[] = {
	{ 0x0080, 0x02AF }, { 0x1D00, 0x1DBF }, { 0x1E00, 0x1EFF },
	{ 0x2C60, 0x2C7F }, { 0xA720, 0xA7FF },
};

/**
 * The ASCII letter a Latin character is a variant of, read from its
 * Unicode name: "LATIN SMALL LETTER R WITH FISHHOOK" is r, "LATIN LETTER
 * SMALL CAPITAL B" is b, "LATIN SMALL LETTER DOTLESS I" is i.
 * @return the letter, or 0.
 */
static char
latin_base(UChar32 c)
{
	static const char* const prefixes[] = { "LATIN SMALL LETTER ",
		"LATIN CAPITAL LETTER ", "LATIN LETTER SMALL CAPITAL ",
		"LATIN LETTER " };
	static const char* const adjectives[] = { "SMALL CAPITAL ",
		"DOTLESS ", "SCRIPT ", "BARRED ", "CLOSED " };
	char name[128];
	const char* s = NULL;
	UErrorCode st = U_ZERO_ERROR;
	size_t i;
	u_charName(c, U_UNICODE_CHAR_NAME, name, sizeof(name), &st);
	if(U_FAILURE(st))
		return 0;
	for(i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]) && !s; i++)
		if(strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			s = name + strlen(prefixes[i]);
	if(!s)
		return 0;
	for(i = 0; i < sizeof(adjectives) / sizeof(adjectives[0]); i++)
		if(strncmp(s, adjectives[i], strlen(adjectives[i])) == 0)
			s += strlen(adjectives[i]);
	if(strcmp(s, "ALPHA") == 0)
		return 'a';
	if(strcmp(s, "IOTA") == 0)
		return 'i';
	if(s[0] < 'A' || s[0] > 'Z' || (s[1] != 0 && strncmp(s + 1, " WITH ",
		6) != 0 && strcmp(s + 1, " BAR") != 0))
		return 0;
	return (char)(s[0] - 'A' + 'a');
}

/** Fill the folder's Latin variant table. */
static void
latin_table(struct dp_folder* f)
{
	size_t b;
	for(b = 0; b < sizeof(latin_blocks) / sizeof(latin_blocks[0]); b++) {
		UChar32 c;
		for(c = latin_blocks[b].lo; c <= latin_blocks[b].hi; c++) {
			char to = latin_base(c);
			if(to && f->nlatin < LATIN_MAX) {
				f->latin_cp[f->nlatin] = (uint16_t)c;
				f->latin_to[f->nlatin] = to;
				f->nlatin++;
			}
		}
	}
}

/** Map a Latin variant to its ASCII letter; other characters unchanged. */
static UChar
latin_fold(const struct dp_folder* f, UChar c)
{
	int lo = 0, hi = f->nlatin - 1;
	if(c < 0x80)
		return c;
	/* Left alone by UTS #39 but drawn like a Latin letter. */
	switch(c) {
	case 0x044C: /* Cyrillic soft sign */
	case 0x0185: /* Latin tone six */
		return 'b';
	case 0x01BD: /* Latin tone five */
		return 's';
	case 0x01BF: /* wynn */
		return 'p';
	case 0x0259: /* schwa */
	case 0x01DD: /* turned e, the schwa's skeleton */
		return 'a';
	default:
		break;
	}
	while(lo <= hi) {
		int mid = (lo + hi) / 2;
		if(f->latin_cp[mid] == c)
			return (UChar)f->latin_to[mid];
		if(f->latin_cp[mid] < c)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return c;
}

struct dp_folder*
dp_folder_create(void)
{
	UErrorCode st = U_ZERO_ERROR;
	struct dp_folder* f = calloc(1, sizeof(*f));
	if(!f)
		return NULL;
	f->spoof = uspoof_open(&st);
	if(U_SUCCESS(st))
		uspoof_setChecks(f->spoof, USPOOF_RESTRICTION_LEVEL, &st);
	if(U_SUCCESS(st))
		uspoof_setRestrictionLevel(f->spoof, USPOOF_HIGHLY_RESTRICTIVE);
	if(U_SUCCESS(st))
		f->nfd = unorm2_getNFDInstance(&st);
	if(U_FAILURE(st)) {
		dp_folder_destroy(f);
		return NULL;
	}
	latin_table(f);
	return f;
}

void
dp_folder_destroy(struct dp_folder* f)
{
	if(!f)
		return;
	if(f->spoof)
		uspoof_close(f->spoof);
	free(f);
}

/*
 * The ASCII look-alikes as tables, so that folding a label takes no
 * branch per character (labels are random to the branch predictor, and
 * a switch per character cost more than all the rest of the fold).
 */

/** Single ASCII characters nobody tells apart in a URL bar: 0/o and
 * 1/i/|/l. */
static const unsigned char strong_from[] = "01i|";
static const unsigned char strong_to[] = "olll";

/** ... and those that only look alike at a glance. */
static const unsigned char weak_from[] = "nbeq395";
static const unsigned char weak_to[] = "mdcg86s";

/**
 * Character pairs that look like one character: rn rr nn -> m, vv -> w,
 * cl dl -> d, lh -> h, lb -> b, lk lc -> k.  Pair j is pair_first[j]
 * then pair_second[j], read as pair_to[j].
 */
static const unsigned char pair_first[] = "rrnvcdllll";
static const unsigned char pair_second[] = "nrnvllhbkc";
static const unsigned char pair_to[] = "mmmwddhbkk";
#define NPAIRS (sizeof(pair_to) - 1)

/** Byte maps and pair masks, filled once (tables_init); the weak map
 * folds the strong look-alikes too. */
static unsigned char strong_map[256], weak_map[256];
/** pair_a[c]: the pairs c can start, pair_b[c]: those it can end */
static uint16_t pair_a[256], pair_b[256];

static void
tables_build(void)
{
	unsigned c;
	size_t j;
	for(c = 0; c < 256; c++)
		strong_map[c] = weak_map[c] = (unsigned char)c;
	for(j = 0; strong_from[j]; j++)
		strong_map[strong_from[j]] = weak_map[strong_from[j]] =
			strong_to[j];
	for(j = 0; weak_from[j]; j++)
		weak_map[weak_from[j]] = weak_to[j];
	for(j = 0; j < NPAIRS; j++) {
		pair_a[pair_first[j]] |= (uint16_t)(1u << j);
		pair_b[pair_second[j]] |= (uint16_t)(1u << j);
	}
}

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/** Make sure the tables are filled. */
static void
tables_init(void)
{
	pthread_once(&tables_once, tables_build);
}

/**
 * Replace look-alike pairs, scanning from the right, so "arnny" reads as
 * "ar" + "nn" + "y" -> "army" rather than "a" + "rn" + "ny".
 * @param s: n bytes (not const only because GCC then takes the caller's
 *	partly filled buffer for one read whole).
 * @return the new length.
 */
static size_t
fold_pairs_rtl(unsigned char* s, size_t n, char* out)
{
	char tmp[DP_FOLD_MAX];
	size_t i = n, o = sizeof(tmp);
	while(i > 0) {
		unsigned c = s[i - 1];
		unsigned m = i >= 2 ? (unsigned)(pair_a[s[i - 2]] & pair_b[c]) :
			0;
		tmp[--o] = (char)(m ? pair_to[__builtin_ctz(m)] : c);
		i -= 1 + (m != 0);
	}
	memcpy(out, tmp + o, sizeof(tmp) - o);
	return sizeof(tmp) - o;
}

/**
 * Fill the strong, loose and flat folds from a decoded label.  Pairs are
 * read after the strong single folds, so "c1" is "cl" is "d"; the loose
 * form folds the weak singles and reads pairs again ("el" is "cl").
 */
static void
fold_ascii(const char* s, size_t n, int unicode, struct dp_folded* out)
{
	unsigned char tmp[DP_FOLD_MAX], prev = 0;
	unsigned pairs = 0;
	size_t i, m;
	/* Most labels hold no look-alike pair at all: whether one does is
	 * found in the same pass, and spares the pair scan. */
	for(i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		tmp[i] = strong_map[c];
		pairs |= pair_a[prev] & pair_b[tmp[i]];
		prev = tmp[i];
		/* the flat fold too */
		out->flat[i] = (char)weak_map[c];
	}
	out->nflat = n;
	if(pairs)
		out->nstrong = fold_pairs_rtl(tmp, n, out->strong);
	else {
		memcpy(out->strong, tmp, n);
		out->nstrong = n;
	}
	pairs = 0;
	prev = 0;
	for(i = 0; i < out->nstrong; i++) {
		tmp[i] = weak_map[(unsigned char)out->strong[i]];
		pairs |= pair_a[prev] & pair_b[tmp[i]];
		prev = tmp[i];
	}
	m = out->nstrong;
	if(pairs)
		out->nloose = fold_pairs_rtl(tmp, m, out->loose);
	else {
		memcpy(out->loose, tmp, m);
		out->nloose = m;
	}
	if(unicode) {
		/* UTS #39 skeletons already trade m for rn: no flat form
		 * that would line up with an ASCII label. */
		memcpy(out->flat, out->loose, out->nloose);
		out->nflat = out->nloose;
	}
}

/**
 * Unicode path: UTF-8 in, folded UTF-8 out.
 * @return length, or -1 if ICU refused the input (it is then folded as
 *	bytes).
 */
static int
fold_unicode(const struct dp_folder* f, const char* in, size_t n, char* out,
	size_t cap, unsigned* flags)
{
	UChar a[U16_MAX], b[U16_MAX];
	UErrorCode st = U_ZERO_ERROR;
	int32_t la, lb, i, j, lo;
	int32_t checks;

	u_strFromUTF8(a, U16_MAX, &la, in, (int32_t)n, &st);
	if(U_FAILURE(st) || la >= U16_MAX)
		return -1;
	checks = uspoof_check2(f->spoof, a, la, NULL, &st);
	if(U_SUCCESS(st) && (checks & USPOOF_RESTRICTION_LEVEL))
		*flags |= DP_FOLD_MIXED_SCRIPT;
	st = U_ZERO_ERROR;
	lb = unorm2_normalize(f->nfd, a, la, b, U16_MAX, &st);
	if(U_FAILURE(st) || lb >= U16_MAX)
		return -1;
	/* Drop combining marks: á is a, ṃ is m.  Map the Latin variants
	 * before the skeleton, which would turn some of them into other
	 * letters (small capital M into turned w). */
	for(i = 0, j = 0; i < lb; i++)
		if(u_charType(b[i]) != U_NON_SPACING_MARK)
			b[j++] = latin_fold(f, b[i]);
	lb = j;
	la = u_strFoldCase(a, U16_MAX, b, lb, U_FOLD_CASE_DEFAULT, &st);
	if(U_FAILURE(st) || la >= U16_MAX)
		return -1;
	lb = uspoof_getSkeleton(f->spoof, 0, a, la, b, U16_MAX, &st);
	if(U_FAILURE(st) || lb >= U16_MAX)
		return -1;
	/* Skeletons keep case distinctions (0 -> O) and may add marks
	 * (y with stroke -> y + overlay): fold and strip again, then map
	 * the Latin variants UTS #39 does not. */
	la = u_strFoldCase(a, U16_MAX, b, lb, U_FOLD_CASE_DEFAULT, &st);
	if(U_FAILURE(st) || la >= U16_MAX)
		return -1;
	lb = unorm2_normalize(f->nfd, a, la, b, U16_MAX, &st);
	if(U_FAILURE(st) || lb >= U16_MAX)
		return -1;
	for(i = 0, j = 0; i < lb; i++)
		if(u_charType(b[i]) != U_NON_SPACING_MARK)
			a[j++] = latin_fold(f, b[i]);
	la = j;
	u_strToUTF8(out, (int32_t)cap, &lo, a, la, &st);
	if(U_FAILURE(st) || (size_t)lo >= cap)
		return -1;
	return lo;
}

/** Undo the \DDD escapes of a canonical label. @return length. */
static size_t
unescape(const char* s, size_t n, char* out)
{
	size_t i, o = 0;
	for(i = 0; i < n; i++) {
		if(s[i] == '\\' && i + 3 < n) {
			out[o++] = (char)((s[i + 1] - '0') * 100 +
				(s[i + 2] - '0') * 10 + (s[i + 3] - '0'));
			i += 3;
		} else
			out[o++] = s[i];
	}
	return o;
}

void
dp_fold_label(const struct dp_folder* f, const char* label, size_t len,
	struct dp_folded* out)
{
	char raw[DP_FOLD_MAX], uni_out[DP_FOLD_MAX];
	char* uni = NULL;
	size_t n, i;
	int nonascii = 0, r;

	tables_init();
	out->flags = 0;
	if(len > 4 * 63)
		len = 4 * 63;
	if(!memchr(label, '\\', len) && !(len >= 4 &&
		memcmp(label, "xn--", 4) == 0)) {
		/* nothing to unescape or decode: an ASCII label is folded
		 * where it is */
		for(i = 0; i < len; i++)
			if((unsigned char)label[i] >= 0x80)
				break;
		if(i == len) {
			fold_ascii(label, len, 0, out);
			return;
		}
	}
	n = unescape(label, len, raw);
	if(n >= 4 && memcmp(raw, "xn--", 4) == 0) {
		char* back = NULL;
		raw[n] = 0;
		out->flags |= DP_FOLD_IDN;
		if(idn2_to_unicode_8z8z(raw, &uni, 0) != IDN2_OK || !uni) {
			out->flags |= DP_FOLD_IDN_INVALID;
			uni = NULL;
		} else if(idn2_to_ascii_8z(uni, &back, IDN2_NONTRANSITIONAL)
			!= IDN2_OK || !back || strcmp(back, raw) != 0) {
			/* Decodes, but is not what IDNA 2008 would
			 * produce for it: hand-made punycode. */
			out->flags |= DP_FOLD_IDN_INVALID;
		}
		idn2_free(back);
		if(uni) {
			size_t un = strlen(uni);
			if(un < sizeof(raw)) {
				memcpy(raw, uni, un);
				n = un;
			}
			idn2_free(uni);
		}
	}
	for(i = 0; i < n; i++)
		if((unsigned char)raw[i] >= 0x80)
			nonascii = 1;
	if(nonascii && f) {
		out->flags |= DP_FOLD_UNICODE;
		r = fold_unicode(f, raw, n, uni_out, sizeof(uni_out),
			&out->flags);
		if(r >= 0) {
			fold_ascii(uni_out, (size_t)r, 1, out);
			return;
		}
	}
	fold_ascii(raw, n, 0, out);
}
