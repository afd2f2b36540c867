/*
 * tools/doppel.c - the doppel command line: explain verdicts, scan name
 * lists, validate settings.  One binary, git-style subcommands.
 */
#include "doppel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
usage(FILE* out)
{
	fprintf(out,
		"usage: doppel COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  check -p POLICY [--json] NAME...  explain the verdict for each NAME\n"
		"  scan -p POLICY [--json]           read names on stdin, one verdict a line\n"
		"  conf-check [FILE]                 validate doppel.conf and its policy\n"
		"                                    (default: $DOPPEL_CONF, then %s)\n"
		"  version                           print the version\n"
		"\n"
		"exit status: 0 ok, 1 a name was blocked (check), 2 usage or input error\n",
		DP_SETTINGS_DEFAULT_PATH);
}

/** Write s as a JSON string literal. */
static void
json_str(FILE* out, const char* s)
{
	if(!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for(; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if(c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if(c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/** Print one verdict, for people or as a JSON object. */
static void
print_verdict(FILE* out, const char* input, const char* name,
	const struct dp_verdict* v, int json)
{
	if(json) {
		fputs("{\"name\":", out);
		json_str(out, name ? name : input);
		fputs(",\"input\":", out);
		json_str(out, input);
		fprintf(out, ",\"verdict\":\"%s\",\"target\":",
			dp_action_str(v->action));
		json_str(out, v->target);
		fputs(",\"technique\":", out);
		json_str(out, v->technique);
		fprintf(out, ",\"score\":%.3f,\"why\":", v->score);
		json_str(out, v->why);
		fputs("}\n", out);
		return;
	}
	if(!name) {
		fprintf(out, "%s: %s\n", input, v->why);
		return;
	}
	fprintf(out, "%s: %s", name, dp_action_str(v->action));
	if(v->action != DP_ALLOW)
		fprintf(out, " (%s of %s, score %.2f)", v->technique, v->target,
			v->score);
	fprintf(out, ": %s\n", v->why);
}

/** Check one name from text; an unreadable name is reported, not fatal. */
static enum dp_action
check_one(const struct dp_policy* p, const char* input, int json)
{
	char name[DP_NAME_MAX];
	struct dp_verdict v;
	dp_status st = dp_name_from_text(input, name, sizeof(name));
	if(st != DP_OK) {
		memset(&v, 0, sizeof(v));
		snprintf(v.why, sizeof(v.why), "not a domain name (%s)",
			dp_strerror(st));
		print_verdict(stdout, input, NULL, &v, json);
		return DP_ALLOW;
	}
	dp_policy_check(p, name, &v);
	print_verdict(stdout, input, name, &v, json);
	return v.action;
}

/** Parse "-p POLICY [--json]" and load the policy. @return argv index of
 * the first operand, or -1 on error. */
static int
policy_args(int argc, char** argv, struct dp_policy** p, int* json)
{
	const char* path = NULL;
	struct dp_error err;
	int i;
	dp_status st;
	*json = 0;
	for(i = 2; i < argc; i++) {
		if(strcmp(argv[i], "-p") == 0 && i + 1 < argc)
			path = argv[++i];
		else if(strcmp(argv[i], "--json") == 0)
			*json = 1;
		else if(strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if(argv[i][0] == '-' && argv[i][1] != 0) {
			fprintf(stderr, "doppel %s: unknown option '%s'\n",
				argv[1], argv[i]);
			return -1;
		} else
			break;
	}
	if(!path) {
		fprintf(stderr, "doppel %s: -p POLICY is required\n", argv[1]);
		return -1;
	}
	if((st = dp_policy_load(path, p, &err)) != DP_OK) {
		fprintf(stderr, "doppel: %s\n",
			err.msg[0] ? err.msg : dp_strerror(st));
		return -1;
	}
	return i;
}

static int
cmd_check(int argc, char** argv)
{
	struct dp_policy* p;
	int json, i, first, blocked = 0;
	if((first = policy_args(argc, argv, &p, &json)) < 0)
		return 2;
	if(first >= argc) {
		fprintf(stderr, "doppel check: no NAME given\n");
		dp_policy_free(p);
		return 2;
	}
	for(i = first; i < argc; i++)
		if(check_one(p, argv[i], json) == DP_BLOCK)
			blocked = 1;
	dp_policy_free(p);
	return blocked;
}

static int
cmd_scan(int argc, char** argv)
{
	struct dp_policy* p;
	char line[4096];
	int json, first;
	if((first = policy_args(argc, argv, &p, &json)) < 0)
		return 2;
	if(first < argc) {
		fprintf(stderr, "doppel scan: names come on stdin, not as "
			"arguments\n");
		dp_policy_free(p);
		return 2;
	}
	while(fgets(line, sizeof(line), stdin)) {
		size_t n = strlen(line);
		while(n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
			line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = 0;
		check_one(p, line, json);
	}
	dp_policy_free(p);
	return 0;
}

static int
cmd_conf_check(int argc, char** argv)
{
	struct dp_settings s;
	struct dp_policy* p;
	struct dp_error err;
	const char* path = argc > 2 ? argv[2] : getenv(DP_SETTINGS_ENV);
	dp_status st;
	if(!path || !*path)
		path = DP_SETTINGS_DEFAULT_PATH;
	if((st = dp_settings_load(path, &s, &err)) != DP_OK ||
		(st = dp_policy_load(s.policy, &p, &err)) != DP_OK) {
		fprintf(stderr, "doppel: %s\n",
			err.msg[0] ? err.msg : dp_strerror(st));
		return 2;
	}
	printf("%s: ok; policy %s: %zu protected domains; on-error %s; "
		"block-ttl %u\n", path, s.policy, dp_policy_protected_count(p),
		s.on_error == DP_ON_ERROR_CLOSED ? "closed" : "open",
		(unsigned)s.block_ttl);
	dp_policy_free(p);
	return 0;
}

int
main(int argc, char** argv)
{
	if(argc < 2) {
		usage(stderr);
		return 2;
	}
	if(strcmp(argv[1], "check") == 0)
		return cmd_check(argc, argv);
	if(strcmp(argv[1], "scan") == 0)
		return cmd_scan(argc, argv);
	if(strcmp(argv[1], "conf-check") == 0)
		return cmd_conf_check(argc, argv);
	if(strcmp(argv[1], "version") == 0) {
		printf("doppel %s\n", DP_VERSION);
		return 0;
	}
	if(strcmp(argv[1], "help") == 0 || strcmp(argv[1], "-h") == 0 ||
		strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "doppel: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
