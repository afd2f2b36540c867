/*
 * tools/ops.c - the commands an operator runs against a live setup:
 * `doppel conf-check`, which opens what the module would open, and
 * `doppel stats`, which prints the counters the module publishes.
 */
#include "doppel.h"
#include "cli.h"
#include "commands.h"
#include "vcache.h"

#include <errno.h>
#include <grp.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/** The settings file a command reads: its operand, else $DOPPEL_CONF,
 * else the default path (as the module finds it). */
static const char*
settings_path(const struct cli_args* a)
{
	const char* path = a->nops ? a->ops[0] : getenv(DP_SETTINGS_ENV);
	return path && *path ? path : DP_SETTINGS_DEFAULT_PATH;
}

/** The user the resolver runs as, for the checks of what it may write. */
struct runner {
	const char* name;
	uid_t uid;
	gid_t groups[64];
	int ngroups;
};

/** Find the user; "" or unknown: the one running this command. */
static void
runner_find(struct runner* r, const char* name)
{
	struct passwd* pw = name && *name ? getpwnam(name) : NULL;
	if(!pw)
		pw = getpwuid(getuid());
	memset(r, 0, sizeof(*r));
	r->ngroups = (int)(sizeof(r->groups) / sizeof(r->groups[0]));
	if(!pw) {
		r->name = "?";
		r->uid = getuid();
		r->groups[0] = getgid();
		r->ngroups = 1;
		return;
	}
	r->name = pw->pw_name;
	r->uid = pw->pw_uid;
	if(getgrouplist(pw->pw_name, pw->pw_gid, r->groups, &r->ngroups) < 0)
		r->ngroups = (int)(sizeof(r->groups) / sizeof(r->groups[0]));
}

/** Whether the user may write what st describes (by its mode bits). */
static int
runner_may_write(const struct runner* r, const struct stat* st)
{
	int i;
	if(r->uid == 0)
		return 1;
	if(st->st_uid == r->uid)
		return (st->st_mode & S_IWUSR) != 0;
	for(i = 0; i < r->ngroups; i++)
		if(st->st_gid == r->groups[i])
			return (st->st_mode & S_IWGRP) != 0;
	return (st->st_mode & S_IWOTH) != 0;
}

/** The directory of a path, into out. */
static void
dir_of(const char* path, char* out, size_t cap)
{
	const char* slash = strrchr(path, '/');
	if(!slash)
		snprintf(out, cap, ".");
	else if(slash == path)
		snprintf(out, cap, "/");
	else
		snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

/** Check that the resolver's user can write a file there (the file if it
 * exists, else its directory). @return 0, or 1 with the problem said. */
static int
check_writable(const char* what, const char* path, const struct runner* r)
{
	struct stat st;
	char dir[4096];
	if(stat(path, &st) == 0) {
		if(S_ISDIR(st.st_mode)) {
			fprintf(stderr, "doppel: %s %s: a directory, not a "
				"file\n", what, path);
			return 1;
		}
		if(!runner_may_write(r, &st)) {
			fprintf(stderr, "doppel: %s %s: not writable by user "
				"%s, whom the resolver runs as\n", what, path,
				r->name);
			return 1;
		}
		return 0;
	}
	dir_of(path, dir, sizeof(dir));
	if(stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "doppel: %s %s: no directory %s\n", what, path,
			dir);
		return 1;
	}
	if(!runner_may_write(r, &st)) {
		fprintf(stderr, "doppel: %s %s: user %s, whom the resolver "
			"runs as, cannot create it in %s\n", what, path,
			r->name, dir);
		return 1;
	}
	return 0;
}

enum { CC_USER };
static const struct cli_opt conf_check_opts[] = {
	{ "--user", "-u", 1 }, { NULL, NULL, 0 }
};

int
dp_conf_check_main(int argc, char** argv)
{
	struct dp_settings s;
	struct dp_policy* p = NULL;
	struct dp_error err;
	struct cli_args a;
	struct runner run;
	const char* path;
	int rc, errors = 0, warnings = 0;
	dp_status st;
	if((rc = cli_parse(argc, argv, 2, "conf-check", conf_check_opts,
		&a)) >= 0)
		return rc;
	if(a.nops > 1) {
		free(a.ops);
		return cli_usage_error("conf-check", "one CONF at most");
	}
	path = settings_path(&a);
	/* the resolver's user: --user, else Debian's "unbound" if there */
	runner_find(&run, cli_value(&a, CC_USER) ? cli_value(&a, CC_USER) :
		getpwnam("unbound") ? "unbound" : NULL);
	if(cli_value(&a, CC_USER) && strcmp(run.name,
		cli_value(&a, CC_USER)) != 0) {
		fprintf(stderr, "doppel: no user '%s'\n", cli_value(&a,
			CC_USER));
		free(a.ops);
		return CLI_USAGE;
	}
	free(a.ops);
	if((st = dp_settings_load(path, &s, &err)) != DP_OK) {
		fprintf(stderr, "doppel: %s\n",
			err.msg[0] ? err.msg : dp_strerror(st));
		return CLI_USAGE;
	}
	if((st = dp_policy_load(s.policy, &p, &err)) != DP_OK) {
		fprintf(stderr, "doppel: %s\n",
			err.msg[0] ? err.msg : dp_strerror(st));
		errors++;
	}
	if(s.geoip[0] && strcmp(s.geoip, "off") != 0) {
		struct dp_geo* g;
		if(dp_geo_open(s.geoip, &g, &err) != DP_OK) {
			fprintf(stderr, "doppel: geoip: %s\n", err.msg);
			errors++;
		} else
			dp_geo_close(g);
	}
	if(s.audit_log[0] && s.audit)
		errors += check_writable("audit-log", s.audit_log, &run);
	if(s.verdict_cache[0]) {
		struct stat sb;
		if(stat(s.verdict_cache, &sb) == 0) {
			struct dp_vcache* vc;
			if(dp_vcache_open(s.verdict_cache, 0, DP_VCACHE_EXISTING |
				DP_VCACHE_RDONLY, &vc, &err) != DP_OK) {
				fprintf(stderr, "doppel: verdict-cache: %s\n",
					err.msg);
				errors++;
			} else
				dp_vcache_close(vc);
		}
		errors += check_writable("verdict-cache", s.verdict_cache,
			&run);
	}
	if(s.stats_file[0])
		errors += check_writable("stats-file", s.stats_file, &run);
	/* settings that do nothing */
	if(s.audit == DP_AUDIT_ALL && !s.audit_log[0] && !s.audit_dnstap[0]) {
		fprintf(stderr, "doppel: warning: %s: 'audit: all' does "
			"nothing without 'audit-log:' or 'audit-dnstap:'\n",
			path);
		warnings++;
	}
	if(!s.audit && s.audit_log[0]) {
		fprintf(stderr, "doppel: warning: %s: 'audit-log:' does "
			"nothing with 'audit: off'\n", path);
		warnings++;
	}
	if(!s.verdict_cache[0] && (s.verdict_cache_size != 64ULL << 20 ||
		s.verdict_ttl != 86400)) {
		fprintf(stderr, "doppel: warning: %s: 'verdict-cache-size:' "
			"and 'verdict-ttl:' do nothing without "
			"'verdict-cache:'\n", path);
		warnings++;
	}
	if(s.audit_collapse != 60 && !(s.audit && s.audit_log[0])) {
		fprintf(stderr, "doppel: warning: %s: 'audit-collapse:' "
			"does nothing without an audit log\n", path);
		warnings++;
	}
	if(errors) {
		fprintf(stderr, "doppel: %s: %d error%s, %d warning%s\n", path,
			errors, errors == 1 ? "" : "s", warnings,
			warnings == 1 ? "" : "s");
		dp_policy_free(p);
		return CLI_USAGE;
	}
	printf("%s: ok%s; policy %s: %zu protected domains; mode %s; "
		"on-error %s; block-ttl %u; geoip %s; audit %s; verdict-cache "
		"%s; stats-file %s; checked as user %s\n", path,
		warnings ? " (with warnings)" : "", s.policy,
		dp_policy_protected_count(p), s.monitor ? "monitor" :
		"enforce", s.on_error == DP_ON_ERROR_CLOSED ? "closed" : "open",
		(unsigned)s.block_ttl, s.geoip[0] ? s.geoip : "default",
		s.audit && s.audit_log[0] ? s.audit_log : "off",
		s.verdict_cache[0] ? s.verdict_cache : "off",
		s.stats_file[0] ? s.stats_file : "off", run.name);
	dp_policy_free(p);
	return CLI_OK;
}

/** One sample of the stats file: "name{labels} value". @return 0 if the
 * line is one (name, labels and value cut out of it, in place). */
static int
parse_sample(char* line, char** name, char** labels, char** value)
{
	char *sp, *brace;
	size_t n = strlen(line);
	while(n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = 0;
	if(!n || line[0] == '#' || !(sp = strrchr(line, ' ')))
		return -1;
	*sp = 0;
	*value = sp + 1;
	*name = line;
	*labels = NULL;
	if((brace = strchr(line, '{')) != NULL) {
		char* end = strrchr(brace, '}');
		if(!end)
			return -1;
		*brace = 0;
		*end = 0;
		*labels = brace + 1;
	}
	return 0;
}

/** Labels a="x",b="y" as a JSON object. */
static json_t*
labels_json(const char* labels)
{
	json_t* o = json_object();
	char buf[512], *save = NULL, *tok;
	snprintf(buf, sizeof(buf), "%s", labels);
	for(tok = strtok_r(buf, ",", &save); tok && o;
		tok = strtok_r(NULL, ",", &save)) {
		char* eq = strchr(tok, '=');
		size_t vl;
		if(!eq)
			continue;
		*eq = 0;
		vl = strlen(eq + 1);
		if(vl >= 2 && eq[1] == '"' && eq[vl] == '"') {
			eq[vl] = 0;
			json_object_set_new(o, tok, json_string(eq + 2));
		}
	}
	return o;
}

enum { ST_JSON, ST_PROM };
static const struct cli_opt stats_opts[] = {
	{ "--json", NULL, 0 }, { "--prometheus", NULL, 0 }, { NULL, NULL, 0 }
};

int
dp_stats_main(int argc, char** argv)
{
	struct dp_settings s;
	struct dp_error err;
	struct cli_args a;
	const char* path;
	char line[1024];
	json_t* out = NULL;
	FILE* f;
	int rc, json, prom;
	dp_status st;
	if((rc = cli_parse(argc, argv, 2, "stats", stats_opts, &a)) >= 0)
		return rc;
	json = cli_given(&a, ST_JSON);
	prom = cli_given(&a, ST_PROM);
	if(a.nops > 1 || (json && prom)) {
		free(a.ops);
		return cli_usage_error("stats", a.nops > 1 ? "one CONF at "
			"most" : "--json or --prometheus, not both");
	}
	path = settings_path(&a);
	free(a.ops);
	if((st = dp_settings_load(path, &s, &err)) != DP_OK) {
		fprintf(stderr, "doppel: %s\n",
			err.msg[0] ? err.msg : dp_strerror(st));
		return CLI_USAGE;
	}
	if(!s.stats_file[0]) {
		fprintf(stderr, "doppel: %s sets no 'stats-file:': the module "
			"publishes no counters\n", path);
		return CLI_USAGE;
	}
	if(!(f = fopen(s.stats_file, "r"))) {
		fprintf(stderr, "doppel: %s: %s (the module writes it every "
			"few seconds while the resolver runs)\n", s.stats_file,
			strerror(errno));
		return CLI_USAGE;
	}
	if(json && !(out = json_object())) {
		fclose(f);
		fprintf(stderr, "doppel: out of memory\n");
		return CLI_FAIL;
	}
	while(fgets(line, sizeof(line), f)) {
		char *name, *labels, *value;
		if(prom) {
			fputs(line, stdout);
			continue;
		}
		if(parse_sample(line, &name, &labels, &value) != 0)
			continue;
		if(json) {
			json_t* v = json_integer(strtoll(value, NULL, 10));
			if(!labels)
				json_object_set_new(out, name, v);
			else {
				json_t* arr = json_object_get(out, name);
				json_t* o = labels_json(labels);
				if(!arr) {
					arr = json_array();
					json_object_set_new(out, name, arr);
				}
				json_object_set_new(o, "value", v);
				json_array_append_new(arr, o);
			}
			continue;
		}
		if(strncmp(name, "doppel_", 7) == 0)
			name += 7;
		if(strstr(name, "_timestamp_seconds") &&
			strtoull(value, NULL, 10) > 0) {
			char when[32];
			dp_iso_time(strtoull(value, NULL, 10), when,
				sizeof(when));
			printf("%-36s %-44s %s\n", name, "", when);
		} else if(labels)
			printf("%-36s %-44s %s\n", name, labels, value);
		else
			printf("%-36s %-44s %s\n", name, "", value);
	}
	fclose(f);
	if(json) {
		json_dumpf(out, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("\n");
		json_decref(out);
	}
	return CLI_OK;
}
