/*
 * lib/settings.c - read doppel.conf, the module's own settings file.
 *
 * unbound.conf has no room for a dynlib module's options, so doppel keeps
 * its settings in a file of unbound.conf-like `key: value` lines.
 */
#include "internal.h"
#include "dnstap.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
dp_settings_default(struct dp_settings* s)
{
	memset(s, 0, sizeof(*s));
	s->on_error = DP_ON_ERROR_OPEN;
	s->block_ttl = 300;
	s->log_verdicts = 1;
	s->policy_check_interval = 5;
	s->verdict_cache_size = 64ULL << 20;
	s->verdict_ttl = 86400;
	s->audit = DP_AUDIT_FLAGGED;
	s->audit_collapse = 60;
}

/** Parse an unsigned number up to max. @return 1 if ok. */
static int
parse_uint(const char* val, unsigned long max, unsigned long* out)
{
	char* end;
	errno = 0;
	*out = strtoul(val, &end, 10);
	return val[0] != 0 && val[0] != '-' && *end == 0 && errno == 0 &&
		*out <= max;
}

/** Strip one pair of matching double quotes, as unbound.conf allows. */
static char*
unquote(char* v)
{
	size_t n = strlen(v);
	if(n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v[n - 1] = 0;
		return v + 1;
	}
	return v;
}

/** What a setting's value is. */
enum kind {
	/** a path, relative to the settings file's directory */
	K_PATH,
	/** a path, or "off" (stored as "off") */
	K_PATH_OFF,
	/** a whole number in [min, max]; times scale (MB: 1 << 20) */
	K_NUMBER,
	/** one of choices, stored as its index (a bool: no, yes) */
	K_CHOICE,
	/** a dnstap destination: unix:/PATH or tcp:HOST:PORT */
	K_DNSTAP
};

/** One setting: its key, kind, bounds or choices, and where it goes. */
struct setting {
	const char* key;
	enum kind kind;
	/** K_NUMBER: bounds, the unit said in messages, and the scale */
	uint64_t min, max;
	const char* unit;
	uint64_t scale;
	/** K_CHOICE: the words, in the order of their values; NULL ends */
	const char* const* choices;
	/** the field, and its size */
	size_t off, size;
};

static const char* const on_error_words[] = { "open", "closed", NULL };
static const char* const mode_words[] = { "enforce", "monitor", NULL };
static const char* const bool_words[] = { "no", "yes", NULL };
static const char* const audit_words[] = { "off", "flagged", "all", NULL };

/* K_CHOICE stores an int: the enums it fills are ints */
_Static_assert(sizeof(enum dp_on_error) == sizeof(int), "enum size");
_Static_assert(sizeof(enum dp_audit_level) == sizeof(int), "enum size");

#define F(field) offsetof(struct dp_settings, field), \
	sizeof(((struct dp_settings*)0)->field)

/** Every setting of doppel.conf, one line each. */
static const struct setting settings[] = {
	{ "policy", K_PATH, 0, 0, NULL, 0, NULL, F(policy) },
	{ "mode", K_CHOICE, 0, 0, NULL, 0, mode_words, F(monitor) },
	{ "on-error", K_CHOICE, 0, 0, NULL, 0, on_error_words, F(on_error) },
	{ "block-ttl", K_NUMBER, 0, 86400, "seconds", 1, NULL, F(block_ttl) },
	{ "log-verdicts", K_CHOICE, 0, 0, NULL, 0, bool_words,
		F(log_verdicts) },
	{ "policy-check-interval", K_NUMBER, 0, 86400, "seconds", 1, NULL,
		F(policy_check_interval) },
	{ "verdict-cache", K_PATH, 0, 0, NULL, 0, NULL, F(verdict_cache) },
	{ "verdict-cache-size", K_NUMBER, 1, 1048576, "megabytes", 1 << 20,
		NULL, F(verdict_cache_size) },
	{ "verdict-ttl", K_NUMBER, 1, 31536000, "seconds", 1, NULL,
		F(verdict_ttl) },
	{ "geoip", K_PATH_OFF, 0, 0, NULL, 0, NULL, F(geoip) },
	{ "audit", K_CHOICE, 0, 0, NULL, 0, audit_words, F(audit) },
	{ "audit-log", K_PATH, 0, 0, NULL, 0, NULL, F(audit_log) },
	{ "audit-collapse", K_NUMBER, 0, 86400, "seconds", 1, NULL,
		F(audit_collapse) },
	{ "stats-file", K_PATH, 0, 0, NULL, 0, NULL, F(stats_file) },
	{ "audit-dnstap", K_DNSTAP, 0, 0, NULL, 0, NULL, F(audit_dnstap) },
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

/** Store an integer value in a field of 4 or 8 bytes. */
static void
store_uint(void* field, size_t size, uint64_t v)
{
	if(size == sizeof(uint64_t)) {
		uint64_t w = v;
		memcpy(field, &w, sizeof(w));
	} else {
		uint32_t w = (uint32_t)v;
		memcpy(field, &w, sizeof(w));
	}
}

/** Say what a choice setting expects: 'a' or 'b'; a, b or c. */
static void
expected_choices(const struct setting* d, char* out, size_t cap)
{
	size_t n = 0, i, o = 0;
	while(d->choices[n])
		n++;
	out[0] = 0;
	for(i = 0; i < n && o < cap; i++) {
		const char* sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		o += (size_t)snprintf(out + o, cap - o, n == 2 ? "%s'%s'" :
			"%s%s", sep, d->choices[i]);
	}
}

/**
 * Read one value into s.
 * @return DP_OK, or DP_ERR_SYNTAX with err set ("path:line: key: what").
 */
static dp_status
set_one(const struct setting* d, const char* path, int lineno,
	const char* val, struct dp_settings* s, struct dp_error* err)
{
	char* field = (char*)s + d->off;
	char words[64];
	unsigned long v;
	int i;
	switch(d->kind) {
	case K_PATH_OFF:
		if(strcmp(val, "off") == 0) {
			/* no such feature, not even the default */
			snprintf(field, d->size, "off");
			return DP_OK;
		}
		/* fall through */
	case K_PATH:
		if(val[0] != 0 && dp_path_relative(path, val, field,
			d->size) == DP_OK)
			return DP_OK;
		dp_error_set(err, "%s:%d: %s: needs a path (shorter than %zu "
			"bytes)", path, lineno, d->key, d->size);
		return DP_ERR_SYNTAX;
	case K_DNSTAP: {
		struct dp_error e;
		if(strlen(val) >= d->size) {
			dp_error_set(err, "%s:%d: %s: longer than %zu bytes",
				path, lineno, d->key, d->size - 1);
			return DP_ERR_SYNTAX;
		}
		if(dp_dnstap_check_spec(val, &e) != DP_OK) {
			dp_error_set(err, "%s:%d: %s", path, lineno, e.msg);
			return DP_ERR_SYNTAX;
		}
		memcpy(field, val, strlen(val) + 1);
		return DP_OK;
	}
	case K_NUMBER:
		if(!parse_uint(val, (unsigned long)d->max, &v) || v < d->min) {
			dp_error_set(err, "%s:%d: %s: expected %s from %llu to "
				"%llu, got '%s'", path, lineno, d->key, d->unit,
				(unsigned long long)d->min,
				(unsigned long long)d->max, val);
			return DP_ERR_SYNTAX;
		}
		store_uint(field, d->size, (uint64_t)v * d->scale);
		return DP_OK;
	case K_CHOICE:
		for(i = 0; d->choices[i]; i++)
			if(strcmp(val, d->choices[i]) == 0) {
				memcpy(field, &i, sizeof(i));
				return DP_OK;
			}
		expected_choices(d, words, sizeof(words));
		dp_error_set(err, "%s:%d: %s: expected %s, got '%s'", path,
			lineno, d->key, words, val);
		return DP_ERR_SYNTAX;
	}
	return DP_ERR_SYNTAX;
}

dp_status
dp_settings_load(const char* path, struct dp_settings* s, struct dp_error* err)
{
	char line[4200], known[512];
	FILE* f;
	int lineno = 0, r;
	size_t i, o;
	dp_status st = DP_OK;

	dp_settings_default(s);
	if(!(f = fopen(path, "r"))) {
		dp_error_set(err, "%s: cannot open settings file: %s", path,
			strerror(errno));
		return DP_ERR_IO;
	}
	while((r = dp_read_line(f, line, sizeof(line), NULL)) != 0) {
		char *colon, *key, *val;
		lineno++;
		if(r < 0) {
			dp_error_set(err, "%s:%d: line too long", path, lineno);
			st = DP_ERR_SYNTAX;
			goto cleanup;
		}
		if(line[0] == 0)
			continue;
		if(!(colon = strchr(line, ':'))) {
			dp_error_set(err, "%s:%d: expected 'key: value', got '%s'",
				path, lineno, line);
			st = DP_ERR_SYNTAX;
			goto cleanup;
		}
		*colon = 0;
		key = line;
		val = colon + 1;
		while(*val == ' ' || *val == '\t')
			val++;
		val = unquote(val);
		for(i = 0; i < NSETTINGS; i++)
			if(strcmp(key, settings[i].key) == 0)
				break;
		if(i < NSETTINGS) {
			if((st = set_one(&settings[i], path, lineno, val, s,
				err)) != DP_OK)
				goto cleanup;
			continue;
		}
		for(i = 0, o = 0; i < NSETTINGS && o < sizeof(known); i++)
			o += (size_t)snprintf(known + o, sizeof(known) - o,
				"%s%s", i ? ", " : "", settings[i].key);
		dp_error_set(err, "%s:%d: unknown setting '%s' (known: %s)",
			path, lineno, key, known);
		st = DP_ERR_SYNTAX;
		goto cleanup;
	}
	if(ferror(f)) {
		dp_error_set(err, "%s: cannot read it: %s", path,
			strerror(errno));
		st = DP_ERR_IO;
		goto cleanup;
	}
	if(s->policy[0] == 0) {
		dp_error_set(err, "%s: no 'policy:' setting; add a line "
			"'policy: /path/to/policy'", path);
		st = DP_ERR_SYNTAX;
	}
cleanup:
	fclose(f);
	return st;
}
