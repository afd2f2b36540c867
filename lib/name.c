/*
 * lib/name.c - canonical text form of domain names, from wire and text.
 *
 * DNS labels may hold any octet.  The canonical form keeps letters, digits,
 * '-' and '_' as they are (letters lower-cased) and writes every other octet
 * as \DDD, so that two names are equal exactly when their canonical forms
 * are equal byte for byte.
 */
#include "doppel.h"

#include <ctype.h>
#include <string.h>

/** Longest wire name, octets, and label. */
#define WIRE_NAME_MAX 255
#define LABEL_MAX 63

/** Whether an octet is written as itself in the canonical form. */
static int
plain_octet(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		c == '_';
}

/** Lower-case ASCII only: the DNS compares names case-insensitively for
 * ASCII letters and for nothing else. */
static uint8_t
dns_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
}

/** Each octet in the canonical form: itself, lower-cased, when it is
 * written as itself, else 0 (written as \\DDD). */
static const uint8_t canon_octet[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 45, 0, 0,
	48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 0, 0,
	0, 0, 0, 0, 0, 97, 98, 99, 100, 101, 102, 103,
	104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115,
	116, 117, 118, 119, 120, 121, 122, 0, 0, 0, 0, 95,
	0, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107,
	108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119,
	120, 121, 122, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0,
};

/**
 * Append one label's octets in canonical form.
 * @return DP_OK or DP_ERR_SPACE.
 */
static dp_status
put_label(const uint8_t* lab, size_t n, char* out, size_t outlen, size_t* pos)
{
	size_t i, o = *pos;
	if(o + 4 * n + 1 < outlen) {
		/* room for the worst case: no bounds to check per octet */
		for(i = 0; i < n; i++) {
			uint8_t c = lab[i];
			if(canon_octet[c])
				out[o++] = (char)canon_octet[c];
			else {
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + (c / 10) % 10);
				out[o++] = (char)('0' + c % 10);
			}
		}
		*pos = o;
		return DP_OK;
	}
	for(i = 0; i < n; i++) {
		uint8_t c = dns_lower(lab[i]);
		if(plain_octet(c)) {
			if(*pos + 1 >= outlen)
				return DP_ERR_SPACE;
			out[(*pos)++] = (char)c;
		} else {
			if(*pos + 4 >= outlen)
				return DP_ERR_SPACE;
			out[(*pos)++] = '\\';
			out[(*pos)++] = (char)('0' + c / 100);
			out[(*pos)++] = (char)('0' + (c / 10) % 10);
			out[(*pos)++] = (char)('0' + c % 10);
		}
	}
	return DP_OK;
}

dp_status
dp_name_from_wire(const uint8_t* wire, size_t len, char* out, size_t outlen)
{
	size_t off = 0, pos = 0;
	dp_status st;
	if(outlen == 0)
		return DP_ERR_SPACE;
	out[0] = 0;
	for(;;) {
		uint8_t n;
		if(off >= len)
			return DP_ERR_NAME;
		n = wire[off];
		if(n == 0)
			break;
		if(n > LABEL_MAX) /* compression pointer or reserved type */
			return DP_ERR_NAME;
		if(off + 1 + n > len || off + 1 + n + 1 > WIRE_NAME_MAX)
			return DP_ERR_NAME;
		if(pos > 0) {
			if(pos + 1 >= outlen)
				return DP_ERR_SPACE;
			out[pos++] = '.';
		}
		if((st = put_label(wire + off + 1, n, out, outlen, &pos)) != DP_OK)
			return st;
		off += 1 + (size_t)n;
	}
	out[pos] = 0;
	return DP_OK;
}

/** Fail with the reason in *why (if why is not NULL). */
#define NAME_FAIL(r) do { if(why) *why = (r); return DP_ERR_NAME; } while(0)

dp_status
dp_name_from_text_why(const char* text, char* out, size_t outlen,
	const char** why)
{
	uint8_t lab[LABEL_MAX];
	size_t n = 0, pos = 0, wire = 1; /* the root label */
	const char* s = text;
	dp_status st;
	if(why)
		*why = NULL;
	if(outlen == 0)
		return DP_ERR_SPACE;
	out[0] = 0;
	if(strcmp(text, ".") == 0)
		return DP_OK;
	for(;;) {
		int c = (unsigned char)*s;
		if(c == 0 || c == '.') {
			if(n == 0) {
				/* An empty label is legal only as the
				 * trailing root: "a.b." but not "a..b" or "". */
				if(c == '.' || s == text)
					NAME_FAIL("an empty label");
				break;
			}
			wire += 1 + n;
			if(wire > WIRE_NAME_MAX)
				NAME_FAIL("longer than 255 octets (the limit "
					"of a name in RFC 1035)");
			if(pos > 0) {
				if(pos + 1 >= outlen)
					return DP_ERR_SPACE;
				out[pos++] = '.';
			}
			if((st = put_label(lab, n, out, outlen, &pos)) != DP_OK)
				return st;
			n = 0;
			if(c == 0 || s[1] == 0)
				break;
			s++;
			continue;
		}
		if(n >= LABEL_MAX)
			NAME_FAIL("a label longer than 63 octets (the limit "
				"of a label in RFC 1035)");
		if(c == '\\') {
			s++;
			if(isdigit((unsigned char)s[0])) {
				int v;
				if(!isdigit((unsigned char)s[1]) ||
					!isdigit((unsigned char)s[2]))
					NAME_FAIL("an escape \\DDD without three "
						"digits");
				v = (s[0] - '0') * 100 + (s[1] - '0') * 10 +
					(s[2] - '0');
				if(v > 255)
					NAME_FAIL("an escape \\DDD over 255");
				lab[n++] = (uint8_t)v;
				s += 3;
			} else if(s[0] == 0) {
				NAME_FAIL("a backslash at its end");
			} else {
				lab[n++] = (uint8_t)s[0];
				s++;
			}
			continue;
		}
		lab[n++] = (uint8_t)c;
		s++;
	}
	out[pos] = 0;
	return DP_OK;
}

dp_status
dp_name_from_text(const char* text, char* out, size_t outlen)
{
	return dp_name_from_text_why(text, out, outlen, NULL);
}

int
dp_name_labels(const char* name)
{
	int n = 0;
	if(*name == 0)
		return 0;
	/* Dots inside labels are always escaped as \046, so every '.'
	 * separates labels. */
	for(n = 1; *name; name++)
		if(*name == '.')
			n++;
	return n;
}
