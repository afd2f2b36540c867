/*
 * lib/settings.c - read doppel.conf, the module's own settings file.
 *
 * unbound.conf has no room for a dynlib module's options, so doppel keeps
 * its settings in a file of unbound.conf-like `key: value` lines.
 */
#include "internal.h"

#include <errno.h>
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
	s->audit = 1;
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

/** Parse yes/no. @return 1, 0, or -1 if neither. */
static int
parse_bool(const char* v)
{
	if(strcmp(v, "yes") == 0)
		return 1;
	if(strcmp(v, "no") == 0)
		return 0;
	return -1;
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

dp_status
dp_settings_load(const char* path, struct dp_settings* s, struct dp_error* err)
{
	char line[4200];
	FILE* f;
	int lineno = 0, r;
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
		if(strcmp(key, "policy") == 0) {
			if(val[0] == 0 || dp_path_relative(path, val, s->policy,
				sizeof(s->policy)) != DP_OK) {
				dp_error_set(err, "%s:%d: policy: needs a path "
					"(shorter than %zu bytes)", path, lineno,
					sizeof(s->policy));
				st = DP_ERR_SYNTAX;
				goto cleanup;
			}
		} else if(strcmp(key, "on-error") == 0) {
			if(strcmp(val, "open") == 0)
				s->on_error = DP_ON_ERROR_OPEN;
			else if(strcmp(val, "closed") == 0)
				s->on_error = DP_ON_ERROR_CLOSED;
			else {
				dp_error_set(err, "%s:%d: on-error: expected "
					"'open' or 'closed', got '%s'", path,
					lineno, val);
				st = DP_ERR_SYNTAX;
				goto cleanup;
			}
		} else if(strcmp(key, "block-ttl") == 0) {
			unsigned long v;
			if(!parse_uint(val, 86400, &v)) {
				dp_error_set(err, "%s:%d: block-ttl: expected "
					"seconds from 0 to 86400, got '%s'",
					path, lineno, val);
				st = DP_ERR_SYNTAX;
				goto cleanup;
			}
			s->block_ttl = (uint32_t)v;
		} else if(strcmp(key, "policy-check-interval") == 0) {
			unsigned long v;
			if(!parse_uint(val, 86400, &v)) {
				dp_error_set(err, "%s:%d: policy-check-interval: "
					"expected seconds from 0 to 86400, got "
					"'%s'", path, lineno, val);
				st = DP_ERR_SYNTAX;
				goto cleanup;
			}
			s->policy_check_interval = (uint32_t)v;
		} else if(strcmp(key, "verdict-ttl") == 0) {
			unsigned long v;
			if(!parse_uint(val, 31536000, &v) || v == 0) {
				dp_error_set(err, "%s:%d: verdict-ttl: expected "
					"seconds from 1 to 31536000, got '%s'",
					path, lineno, val);
				st = DP_ERR_SYNTAX;
				goto cleanup;
			}
			s->verdict_ttl = (uint32_t)v;
		} else if(strcmp(key, "verdict-cache-size") == 0) {
			unsigned long v;
			if(!parse_uint(val, 1048576, &v) || v == 0) {
				dp_error_set(err, "%s:%d: verdict-cache-size: "
					"expected megabytes from 1 to 1048576, got "
					"'%s'", path, lineno, val);
				st = DP_ERR_SYNTAX;
				goto cleanup;
			}
			s->verdict_cache_size = (uint64_t)v << 20;
		} else if(strcmp(key, "audit") == 0) {
			if(strcmp(val, "off") == 0)
				s->audit = 0;
			else if(strcmp(val, "flagged") == 0)
				s->audit = 1;
			else if(strcmp(val, "all") == 0)
				s->audit = 2;
			else {
				dp_error_set(err, "%s:%d: audit: expected all, "
					"flagged or off, got '%s'", path, lineno,
					val);
				st = DP_ERR_SYNTAX;
				goto cleanup;
			}
		} else if(strcmp(key, "audit-collapse") == 0) {
			unsigned long v;
			if(!parse_uint(val, 86400, &v)) {
				dp_error_set(err, "%s:%d: audit-collapse: expected "
					"seconds from 0 to 86400, got '%s'", path,
					lineno, val);
				st = DP_ERR_SYNTAX;
				goto cleanup;
			}
			s->audit_collapse = (uint32_t)v;
		} else if(strcmp(key, "audit-log") == 0) {
			if(val[0] == 0 || dp_path_relative(path, val,
				s->audit_log, sizeof(s->audit_log)) != DP_OK) {
				dp_error_set(err, "%s:%d: audit-log: needs a path",
					path, lineno);
				st = DP_ERR_SYNTAX;
				goto cleanup;
			}
		} else if(strcmp(key, "geoip") == 0 &&
			strcmp(val, "off") == 0) {
			/* no country checks, not even with the default */
			strcpy(s->geoip, "off");
		} else if(strcmp(key, "geoip") == 0) {
			if(val[0] == 0 || dp_path_relative(path, val, s->geoip,
				sizeof(s->geoip)) != DP_OK) {
				dp_error_set(err, "%s:%d: geoip: needs a path",
					path, lineno);
				st = DP_ERR_SYNTAX;
				goto cleanup;
			}
		} else if(strcmp(key, "verdict-cache") == 0) {
			if(val[0] == 0 || dp_path_relative(path, val,
				s->verdict_cache, sizeof(s->verdict_cache))
				!= DP_OK) {
				dp_error_set(err, "%s:%d: verdict-cache: needs a "
					"path", path, lineno);
				st = DP_ERR_SYNTAX;
				goto cleanup;
			}
		} else if(strcmp(key, "stats-file") == 0) {
			if(val[0] == 0 || dp_path_relative(path, val,
				s->stats_file, sizeof(s->stats_file)) != DP_OK) {
				dp_error_set(err, "%s:%d: stats-file: needs a "
					"path", path, lineno);
				st = DP_ERR_SYNTAX;
				goto cleanup;
			}
		} else if(strcmp(key, "mode") == 0) {
			if(strcmp(val, "enforce") == 0)
				s->monitor = 0;
			else if(strcmp(val, "monitor") == 0)
				s->monitor = 1;
			else {
				dp_error_set(err, "%s:%d: mode: expected enforce "
					"or monitor, got '%s'", path, lineno, val);
				st = DP_ERR_SYNTAX;
				goto cleanup;
			}
		} else if(strcmp(key, "log-verdicts") == 0) {
			int b = parse_bool(val);
			if(b < 0) {
				dp_error_set(err, "%s:%d: log-verdicts: expected "
					"'yes' or 'no', got '%s'", path, lineno,
					val);
				st = DP_ERR_SYNTAX;
				goto cleanup;
			}
			s->log_verdicts = b;
		} else {
			dp_error_set(err, "%s:%d: unknown setting '%s' (known: "
				"policy, mode, on-error, block-ttl, log-verdicts, "
				"policy-check-interval, verdict-cache, "
				"verdict-cache-size, verdict-ttl, geoip, audit, "
				"audit-log, audit-collapse, stats-file)", path,
				lineno, key);
			st = DP_ERR_SYNTAX;
			goto cleanup;
		}
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
