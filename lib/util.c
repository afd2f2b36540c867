/*
 * lib/util.c - small helpers shared by libdoppel: a read-only string hash
 * map, error messages, line reading, relative paths, status strings.
 */
#include "internal.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char*
dp_strerror(dp_status st)
{
	switch(st) {
	case DP_OK: return "no error";
	case DP_ERR_NOMEM: return "out of memory";
	case DP_ERR_IO: return "cannot read file";
	case DP_ERR_SYNTAX: return "syntax error";
	case DP_ERR_NAME: return "malformed domain name";
	case DP_ERR_PSL: return "cannot load the public suffix list";
	case DP_ERR_SPACE: return "buffer too small";
	case DP_ERR_FORMAT: return "corrupt or incompatible database";
	}
	return "unknown status";
}

const char*
dp_action_str(enum dp_action a)
{
	switch(a) {
	case DP_ALLOW: return "allow";
	case DP_WARN: return "warn";
	case DP_BLOCK: return "block";
	}
	return "allow";
}

void
dp_error_set(struct dp_error* err, const char* fmt, ...)
{
	char raw[sizeof(err->msg)];
	size_t i, o = 0;
	va_list ap;
	if(!err)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* A message may quote a file's bytes (a damaged settings file, a
	 * policy line): it goes to logs and terminals as printable ASCII,
	 * other octets as \DDD. */
	for(i = 0; raw[i] && o + 5 < sizeof(err->msg); i++) {
		unsigned char c = (unsigned char)raw[i];
		if(c >= 0x20 && c < 0x7f) {
			err->msg[o++] = (char)c;
		} else {
			err->msg[o++] = '\\';
			err->msg[o++] = (char)('0' + c / 100);
			err->msg[o++] = (char)('0' + c / 10 % 10);
			err->msg[o++] = (char)('0' + c % 10);
		}
	}
	err->msg[o] = 0;
}

uint64_t
dp_fnv1a(uint64_t h, const void* data, size_t len)
{
	const unsigned char* s = data;
	size_t i;
	for(i = 0; i < len; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/** FNV-1a: short keys, no need for anything stronger in a static map. */
static uint64_t
hash_bytes(const char* s, size_t len)
{
	return dp_fnv1a(DP_FNV_SEED, s, len);
}

void
dp_strmap_init(struct dp_strmap* m)
{
	memset(m, 0, sizeof(*m));
}

void
dp_strmap_clear(struct dp_strmap* m)
{
	size_t i;
	for(i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/** Find the slot of key, or the empty slot where it would go. */
static size_t
find_slot(const struct dp_strmap* m, const char* key, size_t len)
{
	size_t i = (size_t)hash_bytes(key, len) & (m->cap - 1);
	while(m->keys[i]) {
		if(strlen(m->keys[i]) == len && memcmp(m->keys[i], key, len) == 0)
			return i;
		i = (i + 1) & (m->cap - 1);
	}
	return i;
}

/** Double the table. */
static dp_status
grow(struct dp_strmap* m)
{
	struct dp_strmap n;
	size_t i;
	n.cap = m->cap ? m->cap * 2 : 64;
	n.count = m->count;
	n.keys = calloc(n.cap, sizeof(*n.keys));
	n.vals = calloc(n.cap, sizeof(*n.vals));
	if(!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return DP_ERR_NOMEM;
	}
	for(i = 0; i < m->cap; i++) {
		size_t j;
		if(!m->keys[i])
			continue;
		j = find_slot(&n, m->keys[i], strlen(m->keys[i]));
		n.keys[j] = m->keys[i];
		n.vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	*m = n;
	return DP_OK;
}

dp_status
dp_strmap_put(struct dp_strmap* m, const char* key, size_t len, void* val,
	const char** stored)
{
	size_t i;
	/* Keep the load under one half so probes stay short. */
	if((m->count + 1) * 2 > m->cap && grow(m) != DP_OK)
		return DP_ERR_NOMEM;
	i = find_slot(m, key, len);
	if(!m->keys[i]) {
		char* k = malloc(len + 1);
		if(!k)
			return DP_ERR_NOMEM;
		memcpy(k, key, len);
		k[len] = 0;
		m->keys[i] = k;
		m->vals[i] = val;
		m->count++;
	}
	if(stored)
		*stored = m->keys[i];
	return DP_OK;
}

void*
dp_strmap_get(const struct dp_strmap* m, const char* key, size_t len,
	int* found)
{
	size_t i;
	if(found)
		*found = 0;
	if(m->cap == 0)
		return NULL;
	i = find_slot(m, key, len);
	if(!m->keys[i])
		return NULL;
	if(found)
		*found = 1;
	return m->vals[i];
}

int
dp_read_line(FILE* f, char* buf, size_t len, size_t* lead)
{
	size_t n;
	char *hash, *s;
	if(!fgets(buf, (int)len, f))
		return 0;
	n = strlen(buf);
	if(n > 0 && buf[n - 1] == '\n') {
		buf[--n] = 0;
	} else if(!feof(f)) {
		int c;
		/* Skip the rest of the over-long line so that the caller can
		 * report it and, if it wants, go on with the next one. */
		while((c = fgetc(f)) != EOF && c != '\n')
			;
		return -1;
	}
	if((hash = strchr(buf, '#')) != NULL)
		*hash = 0;
	n = strlen(buf);
	while(n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t' ||
		buf[n - 1] == '\r'))
		buf[--n] = 0;
	s = buf;
	while(*s == ' ' || *s == '\t')
		s++;
	if(lead)
		*lead = (size_t)(s - buf);
	if(s != buf)
		memmove(buf, s, strlen(s) + 1);
	return 1;
}

dp_status
dp_path_relative(const char* base, const char* path, char* out, size_t outlen)
{
	const char* slash = strrchr(base, '/');
	int n;
	if(path[0] == '/' || !slash)
		n = snprintf(out, outlen, "%s", path);
	else
		n = snprintf(out, outlen, "%.*s/%s", (int)(slash - base), base,
			path);
	if(n < 0 || (size_t)n >= outlen)
		return DP_ERR_SPACE;
	return DP_OK;
}

/** Append n bytes of s to out (room for cap), keeping room for the NUL. */
static size_t
put_text(char* out, size_t cap, size_t o, const char* s, size_t n)
{
	if(n > cap - 1 - o)
		n = cap - 1 - o;
	memcpy(out + o, s, n);
	return o + n;
}

/** put_text, with every octet that is not printable ASCII written as
 * \DDD, as in a name's presentation form: what an argument holds (a
 * skeleton of decoded octets: NUL, LF, ESC, 0x80 and up) never reaches a
 * log line, an EDE text or a terminal raw. */
static size_t
put_escaped(char* out, size_t cap, size_t o, const char* s, size_t n)
{
	size_t i;
	for(i = 0; i < n && o < cap - 1; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[4];
		if(c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
			continue;
		}
		e[0] = '\\';
		e[1] = (char)('0' + c / 100);
		e[2] = (char)('0' + c / 10 % 10);
		e[3] = (char)('0' + c % 10);
		o = put_text(out, cap, o, e, sizeof(e));
	}
	return o;
}

size_t
dp_vformat(char* out, size_t cap, const char* fmt, va_list ap)
{
	size_t o = 0;
	if(cap == 0)
		return 0;
	while(*fmt && o < cap - 1) {
		const char* pct = strchr(fmt, '%');
		size_t lit = pct ? (size_t)(pct - fmt) : strlen(fmt);
		o = put_text(out, cap, o, fmt, lit);
		fmt += lit;
		if(!pct)
			break;
		if(fmt[1] == 's') {
			const char* s = va_arg(ap, const char*);
			o = put_escaped(out, cap, o, s, strlen(s));
			fmt += 2;
		} else if(fmt[1] == '.' && fmt[2] == '*' && fmt[3] == 's') {
			int n = va_arg(ap, int);
			const char* s = va_arg(ap, const char*);
			o = put_escaped(out, cap, o, s, n > 0 ? (size_t)n : 0);
			fmt += 4;
		} else if(fmt[1] == 'c') {
			char c = (char)va_arg(ap, int);
			o = put_escaped(out, cap, o, &c, 1);
			fmt += 2;
		} else if(fmt[1] == 'z' && fmt[2] == 'u') {
			char d[24];
			size_t v = va_arg(ap, size_t), i = sizeof(d);
			do {
				d[--i] = (char)('0' + v % 10);
				v /= 10;
			} while(v);
			o = put_text(out, cap, o, d + i, sizeof(d) - i);
			fmt += 3;
		} else if(fmt[1] == '%') {
			o = put_text(out, cap, o, "%", 1);
			fmt += 2;
		} else {
			o = put_text(out, cap, o, fmt, 1);
			fmt++;
		}
	}
	out[o] = 0;
	return o;
}

size_t
dp_format(char* out, size_t cap, const char* fmt, ...)
{
	va_list ap;
	size_t n;
	va_start(ap, fmt);
	n = dp_vformat(out, cap, fmt, ap);
	va_end(ap);
	return n;
}

uint64_t
dp_hash_bytes(uint64_t seed, const void* data, size_t len)
{
	const unsigned char* p = data;
	uint64_t h = (seed ^ (uint64_t)len) * 0x9e3779b97f4a7c15ULL, w;
	size_t i, k;
	for(i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	if(i < len) {
		for(w = 0, k = 0; i + k < len; k++)
			w |= (uint64_t)p[i + k] << (8 * k);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

size_t
dp_strlcpy(char* dst, const char* src, size_t cap)
{
	size_t n = strlen(src);
	if(cap == 0)
		return n;
	if(n < cap) {
		memcpy(dst, src, n + 1);
		return n;
	}
	memcpy(dst, src, cap - 1);
	dst[cap - 1] = 0;
	return n;
}

char*
dp_iso_time(uint64_t t, char* out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if(cap == 0)
		return out;
	if(!gmtime_r(&tt, &tm) || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ",
		&tm) == 0)
		snprintf(out, cap, "%llu", (unsigned long long)t);
	return out;
}

const char*
dp_verdict_detail(const struct dp_verdict* v)
{
	size_t at = v->detail_at;
	if(at == 0 || at >= sizeof(v->why) || strnlen(v->why,
		sizeof(v->why)) >= at || !memchr(v->why + at, 0,
		sizeof(v->why) - at))
		return "";
	return v->why + at;
}
