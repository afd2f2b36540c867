/*
 * tools/doppel.c - the doppel command line: explain verdicts, scan name
 * lists, validate settings.  One binary, git-style subcommands; options
 * parsed, help given and exit statuses chosen the same way for all
 * (tools/cli.h).
 */
#include "doppel.h"
#include "cli.h"
#include "mmdb_write.h"
#include "audit_summary.h"
#include "commands.h"
#include "review.h"
#include "rpz.h"
#include "vcache.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/** Write s as a JSON string literal (dp_json_str). */
static void
json_str(FILE* out, const char* s)
{
	size_t cap = (s ? strlen(s) : 0) * 6 + 8, o = 0;
	char* buf = malloc(cap);
	if(buf && dp_json_str(buf, cap, &o, s))
		fwrite(buf, 1, o, out);
	else
		fputs("null", out);
	free(buf);
}

/** Print one verdict, for people or as a JSON object.
 * @param name: the canonical name, NULL if input is not one (v->why then
 *	says why). */
static void
print_verdict(FILE* out, const char* input, const char* name,
	const struct dp_verdict* v, int json, int verbose)
{
	const char* detail = dp_verdict_detail(v);
	if(json) {
		fputs("{\"name\":", out);
		json_str(out, name);
		fputs(",\"input\":", out);
		json_str(out, input);
		if(!name) {
			fputs(",\"verdict\":\"error\",\"error\":", out);
			json_str(out, v->why);
			fputs("}\n", out);
			return;
		}
		fprintf(out, ",\"verdict\":\"%s\",\"target\":",
			dp_action_str(v->action));
		json_str(out, v->target);
		fputs(",\"technique\":", out);
		json_str(out, v->technique);
		fprintf(out, ",\"score\":%.3f,\"why\":", v->score);
		json_str(out, v->why);
		fputs(",\"countries\":", out);
		json_str(out, v->countries[0] ? v->countries : NULL);
		if(verbose) {
			fputs(",\"detail\":", out);
			json_str(out, detail[0] ? detail : NULL);
		}
		fputs("}\n", out);
		return;
	}
	if(!name) {
		cli_put_safe(out, input);
		fputs(": error: ", out);
		cli_put_safe(out, v->why);
		fputc('\n', out);
		return;
	}
	fprintf(out, "%s: %s", name, dp_action_str(v->action));
	if(v->action != DP_ALLOW)
		fprintf(out, " (%s of %s, score %.2f)", v->technique, v->target,
			v->score);
	fputs(": ", out);
	cli_put_safe(out, v->why);
	if(verbose && detail[0]) {
		fputs(" [", out);
		cli_put_safe(out, detail);
		fputc(']', out);
	}
	fputc('\n', out);
}

/** What check and scan share: the policy, the answers given with
 * --answer and the database to place them, the output form. */
struct checker {
	struct dp_policy* policy;
	struct dp_geo* geo;
	const char* answers[16];
	int nanswers;
	int json, verbose;
};

/** The countries of the --answer addresses. @return how many. */
static size_t
answer_countries(const struct checker* c, char (*cc)[3])
{
	size_t n = 0;
	int i;
	for(i = 0; i < c->nanswers; i++) {
		struct sockaddr_storage ss;
		struct sockaddr_in* s4 = (struct sockaddr_in*)&ss;
		struct sockaddr_in6* s6 = (struct sockaddr_in6*)&ss;
		memset(&ss, 0, sizeof(ss));
		if(inet_pton(AF_INET, c->answers[i], &s4->sin_addr) == 1)
			s4->sin_family = AF_INET;
		else if(inet_pton(AF_INET6, c->answers[i], &s6->sin6_addr) == 1)
			s6->sin6_family = AF_INET6;
		else
			continue;
		if(dp_geo_country(c->geo, (struct sockaddr*)&ss, cc[n]))
			n++;
	}
	return n;
}

/** Check one name from text and print its verdict.
 * @return CLI_OK, CLI_FOUND (blocked) or CLI_USAGE (not a name). */
static int
check_one(const struct checker* c, const char* input)
{
	char name[DP_NAME_MAX];
	struct dp_verdict v;
	const char* why;
	dp_status st = dp_name_from_text_why(input, name, sizeof(name), &why);
	if(st != DP_OK) {
		memset(&v, 0, sizeof(v));
		snprintf(v.why, sizeof(v.why), "not a domain name: %s",
			why ? why : dp_strerror(st));
		print_verdict(stdout, input, NULL, &v, c->json, 0);
		return CLI_USAGE;
	}
	dp_policy_check(c->policy, name, &v);
	if(c->geo) {
		char cc[16][3];
		size_t n = answer_countries(c, cc);
		dp_policy_check_answer(c->policy, name, (const char(*)[3])cc,
			n, &v);
	}
	print_verdict(stdout, input, name, &v, c->json, c->verbose);
	return v.action == DP_BLOCK ? CLI_FOUND : CLI_OK;
}

/** The worse of two statuses: an error over a finding over nothing. */
static int
worse(int a, int b)
{
	return a > b ? a : b;
}

/** Load a policy for a command. @return CLI_OK or CLI_USAGE (said). */
static int
load_policy(const char* cmd, const char* path, struct dp_policy** p)
{
	struct dp_error err;
	dp_status st;
	if(!path)
		return cli_usage_error(cmd, "-p POLICY is required");
	if((st = dp_policy_load(path, p, &err)) != DP_OK) {
		fprintf(stderr, "doppel: %s\n",
			err.msg[0] ? err.msg : dp_strerror(st));
		return CLI_USAGE;
	}
	return CLI_OK;
}

enum { CK_POLICY, CK_JSON, CK_VERBOSE, CK_ANSWER, CK_GEOIP };
static const struct cli_opt check_opts[] = {
	{ "-p", "--policy", 1 }, { "--json", NULL, 0 },
	{ "--verbose", "-v", 0 }, { "--answer", NULL, 1 },
	{ "--geoip", NULL, 1 }, { NULL, NULL, 0 }
};

/** Parse check's and scan's options into c. @return -1 to go on, or the
 * status to exit with. */
static int
checker_args(int argc, char** argv, const char* cmd, struct checker* c,
	struct cli_args* a)
{
	int rc, k;
	memset(c, 0, sizeof(*c));
	if((rc = cli_parse(argc, argv, 2, cmd, check_opts, a)) >= 0)
		return rc;
	c->json = cli_given(a, CK_JSON);
	c->verbose = cli_given(a, CK_VERBOSE);
	for(k = 0; k < a->nopts; k++) {
		if(a->opts[k].opt != CK_ANSWER)
			continue;
		if(strcmp(cmd, "check") != 0)
			return cli_usage_error(cmd, "--answer is for check");
		if(c->nanswers == (int)(sizeof(c->answers) /
			sizeof(c->answers[0])))
			return cli_usage_error(cmd, "at most %d answers",
				c->nanswers);
		c->answers[c->nanswers++] = a->opts[k].value;
	}
	return -1;
}

static void
checker_free(struct checker* c, struct cli_args* a)
{
	dp_geo_close(c->geo);
	dp_policy_free(c->policy);
	free(a->ops);
}

static int
cmd_check(int argc, char** argv)
{
	struct checker c;
	struct cli_args a;
	int rc, i;
	if((rc = checker_args(argc, argv, "check", &c, &a)) >= 0) {
		free(a.ops);
		return rc;
	}
	if(a.nops == 0) {
		free(a.ops);
		return cli_usage_error("check", "no NAME given");
	}
	if((rc = load_policy("check", cli_value(&a, CK_POLICY),
		&c.policy)) != CLI_OK) {
		free(a.ops);
		return rc;
	}
	if(c.nanswers) {
		struct dp_error err;
		const char* g = cli_value(&a, CK_GEOIP);
		if(dp_geo_open(g ? g : "build/geo/country.mmdb", &c.geo,
			&err) != DP_OK) {
			fprintf(stderr, "doppel: %s (--geoip PATH)\n", err.msg);
			checker_free(&c, &a);
			return CLI_USAGE;
		}
	}
	for(i = 0; i < a.nops; i++)
		rc = worse(rc, check_one(&c, a.ops[i]));
	checker_free(&c, &a);
	return rc;
}

/** A line of scan's input, trimmed: NULL if blank or a comment. */
static char*
scan_line(char* line)
{
	size_t n;
	char* hash;
	while(*line == ' ' || *line == '\t')
		line++;
	/* a name in presentation form has no unescaped '#'; a comment
	 * follows blanks */
	for(hash = line; (hash = strchr(hash, '#')) != NULL; hash++)
		if(hash == line || hash[-1] == ' ' || hash[-1] == '\t') {
			*hash = 0;
			break;
		}
	n = strlen(line);
	while(n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
		line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = 0;
	return n ? line : NULL;
}

static int
cmd_scan(int argc, char** argv)
{
	struct checker c;
	struct cli_args a;
	char line[4096];
	char* stdin_only[] = { (char*)"-" };
	char** files;
	int rc, i, nfiles;
	if((rc = checker_args(argc, argv, "scan", &c, &a)) >= 0) {
		free(a.ops);
		return rc;
	}
	if((rc = load_policy("scan", cli_value(&a, CK_POLICY),
		&c.policy)) != CLI_OK) {
		free(a.ops);
		return rc;
	}
	files = a.nops ? a.ops : stdin_only;
	nfiles = a.nops ? a.nops : 1;
	for(i = 0; i < nfiles; i++) {
		struct cli_in* in = cli_open(files[i]);
		long n;
		if(!in) {
			fprintf(stderr, "doppel: %s: %s\n", files[i],
				strerror(errno));
			rc = worse(rc, CLI_USAGE);
			continue;
		}
		while((n = cli_gets(in, line, sizeof(line))) >= 0) {
			char* name;
			if(n == (long)sizeof(line) - 1 && line[n - 1] != '\n') {
				/* longer than any name: say so, skip the rest */
				fprintf(stderr, "doppel: %s: a line over %zu "
					"bytes, not a name; skipped\n",
					files[i], sizeof(line) - 2);
				while((n = cli_gets(in, line, sizeof(line))) > 0
					&& line[n - 1] != '\n')
					;
				rc = worse(rc, CLI_USAGE);
				continue;
			}
			if((name = scan_line(line)) != NULL)
				rc = worse(rc, check_one(&c, name));
		}
		if(cli_error(in)) {
			fprintf(stderr, "doppel: %s: cannot read it to the "
				"end\n", files[i]);
			rc = worse(rc, CLI_USAGE);
		}
		cli_close(in);
	}
	if(fflush(stdout) != 0) {
		fprintf(stderr, "doppel: cannot write: %s\n", strerror(errno));
		rc = CLI_FAIL;
	}
	checker_free(&c, &a);
	return rc;
}

/** Print one problem of a policy source, compiler style. */
static void
print_problem(void* arg, const char* file, int line, int col,
	const char* msg)
{
	struct dp_error e;
	int* count = arg;
	(*count)++;
	dp_format_problem(&e, file, line, col, msg);
	fprintf(stderr, "%s\n", e.msg);
}

enum { CO_OUT, CO_RPZ };
static const struct cli_opt compile_opts[] = {
	{ "-o", "--output", 1 }, { "--rpz", NULL, 1 }, { NULL, NULL, 0 }
};

static int
cmd_compile(int argc, char** argv)
{
	const char *src, *out, *rpz;
	struct dp_policy* p;
	struct dp_error err;
	struct dp_policy_info info;
	struct cli_args a;
	int problems = 0, rc;
	dp_status st;
	if((rc = cli_parse(argc, argv, 2, "compile", compile_opts, &a)) >= 0)
		return rc;
	out = cli_value(&a, CO_OUT);
	rpz = cli_value(&a, CO_RPZ);
	src = a.nops ? a.ops[0] : NULL;
	rc = a.nops;
	free(a.ops);
	if(rc != 1)
		return cli_usage_error("compile", rc ? "one source only" :
			"no SRC given");
	if(!out)
		return cli_usage_error("compile", "-o FILE is required");
	st = dp_policy_parse(src, &p, print_problem, &problems);
	if(st != DP_OK) {
		fprintf(stderr, "doppel compile: %d problem%s in %s; %s left "
			"as it was\n", problems, problems == 1 ? "" : "s", src,
			out);
		return CLI_USAGE;
	}
	if(rpz) {
		rc = dp_rpz_write(p, src, rpz, out, DP_PSL_DEFAULT);
		dp_policy_free(p);
		return rc ? CLI_FAIL : CLI_OK;
	}
	if(dp_policy_compile(p, out, &err) != DP_OK) {
		fprintf(stderr, "doppel compile: %s\n", err.msg);
		dp_policy_free(p);
		return CLI_FAIL;
	}
	dp_policy_get_info(p, &info);
	printf("%s: %" PRIu64 " protected domains, %" PRIu64 " listed names, "
		"%" PRIu64 " index keys\n", out, info.protected_domains,
		info.names, info.index_keys);
	dp_policy_free(p);
	return CLI_OK;
}

static int
cmd_info(int argc, char** argv)
{
	struct dp_policy* p;
	struct dp_error err;
	struct dp_policy_info info;
	struct cli_args a;
	char when[64] = "-";
	const char* path;
	int rc;
	dp_status st;
	if((rc = cli_parse(argc, argv, 2, "info", NULL, &a)) >= 0)
		return rc;
	path = a.nops == 1 ? a.ops[0] : NULL;
	free(a.ops);
	if(!path)
		return cli_usage_error("info", "one DB, please");
	if((st = dp_policy_load(path, &p, &err)) != DP_OK) {
		fprintf(stderr, "doppel: %s\n",
			err.msg[0] ? err.msg : dp_strerror(st));
		return CLI_USAGE;
	}
	dp_policy_get_info(p, &info);
	if(info.built)
		dp_iso_time(info.built, when, sizeof(when));
	printf("file:              %s\n", path);
	printf("kind:              %s\n", info.version ?
		"compiled policy" : "policy source");
	if(info.version)
		printf("format version:    %u\n", info.version);
	printf("source hash:       %016" PRIx64 "\n", info.source_hash);
	printf("built:             %s\n", when);
	printf("protected domains: %" PRIu64 "\n", info.protected_domains);
	printf("labels:            %" PRIu64 "\n", info.labels);
	printf("suffixes:          %" PRIu64 "\n", info.suffixes);
	printf("listed names:      %" PRIu64 "\n", info.names);
	printf("index keys:        %" PRIu64 "\n", info.index_keys);
	if(info.file_size)
		printf("file size:         %" PRIu64 " bytes\n",
			info.file_size);
	printf("memory:            %zu bytes\n", dp_policy_memory(p));
	dp_policy_free(p);
	return CLI_OK;
}

/** One cache entry, for people or as JSON; times in ISO 8601. */
static void
print_entry(void* arg, const char* name, const struct dp_vrecord* r)
{
	const int* json = arg;
	char first[24], last[24], expiry[24];
	dp_iso_time(r->first_seen, first, sizeof(first));
	dp_iso_time(r->last_seen, last, sizeof(last));
	dp_iso_time(r->expiry, expiry, sizeof(expiry));
	if(*json) {
		printf("{\"name\":");
		json_str(stdout, name);
		printf(",\"verdict\":\"%s\",\"target\":",
			dp_action_str(r->action));
		json_str(stdout, r->target[0] ? r->target : NULL);
		printf(",\"technique\":");
		json_str(stdout, r->technique[0] ? r->technique : NULL);
		printf(",\"countries\":");
		json_str(stdout, r->countries[0] ? r->countries : NULL);
		printf(",\"why\":");
		json_str(stdout, r->why[0] ? r->why : NULL);
		printf(",\"score\":%.3f,\"first_seen\":\"%s\",\"last_seen\":"
			"\"%s\",\"hits\":%llu,\"expires\":\"%s\"}\n", r->score,
			first, last, (unsigned long long)r->hits, expiry);
		return;
	}
	printf("%s %s %s %s %.2f hits=%llu first=%s last=%s expires=%s",
		name, dp_action_str(r->action),
		r->target[0] ? r->target : "-",
		r->technique[0] ? r->technique : "-", r->score,
		(unsigned long long)r->hits, first, last, expiry);
	if(r->why[0]) {
		fputs(": ", stdout);
		cli_put_safe(stdout, r->why);
	}
	fputc('\n', stdout);
}

enum { CA_DB, CA_JSON };
static const struct cli_opt cache_opts[] = {
	{ "-d", "--cache", 1 }, { "--json", NULL, 0 }, { NULL, NULL, 0 }
};

static int
cmd_cache(int argc, char** argv)
{
	const char *sub, *db, *arg;
	struct dp_vcache* vc;
	struct dp_error err;
	struct cli_args a;
	char name[DP_NAME_MAX];
	int json, rc, mode = DP_VCACHE_EXISTING;
	if((rc = cli_parse(argc, argv, 2, "cache", cache_opts, &a)) >= 0)
		return rc;
	sub = a.nops > 0 ? a.ops[0] : "";
	arg = a.nops > 1 ? a.ops[1] : NULL;
	db = cli_value(&a, CA_DB);
	json = cli_given(&a, CA_JSON);
	rc = a.nops;
	free(a.ops);
	if(strcmp(sub, "list") && strcmp(sub, "show") &&
		strcmp(sub, "purge") && strcmp(sub, "stats"))
		return *sub ? cli_usage_error("cache", "unknown subcommand "
			"'%s'", sub) : cli_usage_error("cache", "list, show, "
			"purge or stats?");
	if(!db)
		return cli_usage_error("cache", "-d CACHE is required");
	if(rc > 2 || (rc > 1 && (!strcmp(sub, "list") ||
		!strcmp(sub, "stats"))))
		return cli_usage_error("cache", "too many arguments");
	if(strcmp(sub, "show") == 0 && !arg)
		return cli_usage_error("cache", "show which NAME?");
	if(arg && dp_name_from_text(arg, name, sizeof(name)) != DP_OK) {
		fprintf(stderr, "doppel: '");
		cli_put_safe(stderr, arg);
		fprintf(stderr, "' is not a domain name\n");
		return CLI_USAGE;
	}
	if(strcmp(sub, "purge") != 0)
		mode |= DP_VCACHE_RDONLY;
	if(dp_vcache_open(db, 0, mode, &vc, &err) != DP_OK) {
		fprintf(stderr, "doppel: %s\n", err.msg);
		return CLI_USAGE;
	}
	rc = CLI_OK;
	if(strcmp(sub, "list") == 0)
		dp_vcache_each(vc, print_entry, &json);
	else if(strcmp(sub, "show") == 0) {
		struct dp_vrecord r;
		if(dp_vcache_get(vc, name, 0, &r))
			print_entry(&json, name, &r);
		else {
			fprintf(stderr, "doppel: %s is not in the cache\n",
				name);
			rc = CLI_FOUND;
		}
	} else if(strcmp(sub, "purge") == 0) {
		long n = dp_vcache_purge(vc, arg ? name : NULL);
		if(n < 0) {
			fprintf(stderr, "doppel: cannot purge %s\n", db);
			rc = CLI_FAIL;
		} else
			printf("%ld entr%s removed\n", n, n == 1 ? "y" : "ies");
	} else {
		struct dp_vcache_stats st;
		dp_vcache_get_stats(vc, (uint64_t)time(NULL), &st);
		if(json)
			printf("{\"entries\":%llu,\"expired\":%llu,"
				"\"map_size\":%llu,\"used_bytes\":%llu,"
				"\"written\":%llu,\"dropped_full\":%llu}\n",
				(unsigned long long)st.entries,
				(unsigned long long)st.expired,
				(unsigned long long)st.map_size,
				(unsigned long long)st.used_bytes,
				(unsigned long long)st.written,
				(unsigned long long)st.dropped_full);
		else
			printf("entries:        %llu (%llu expired)\n"
				"used:           %llu of %llu bytes\n"
				"written:        %llu\n"
				"dropped (full): %llu\n",
				(unsigned long long)st.entries,
				(unsigned long long)st.expired,
				(unsigned long long)st.used_bytes,
				(unsigned long long)st.map_size,
				(unsigned long long)st.written,
				(unsigned long long)st.dropped_full);
	}
	dp_vcache_close(vc);
	return rc;
}

/** Print an object of counts, largest first, at most top of them. */
static void
print_counts(const char* title, json_t* obj, size_t top)
{
	const char* key;
	json_t* val;
	size_t n = json_object_size(obj), i = 0, j;
	struct kv {
		const char* k;
		json_int_t v;
	}* kv = calloc(n + 1, sizeof(*kv));
	if(!kv)
		return;
	json_object_foreach(obj, key, val) {
		kv[i].k = key;
		kv[i].v = json_integer_value(val);
		i++;
	}
	/* a small selection sort: these lists are short */
	printf("%s:\n", title);
	for(j = 0; j < n && j < top; j++) {
		size_t best = j, m;
		struct kv t;
		for(m = j + 1; m < n; m++)
			if(kv[m].v > kv[best].v || (kv[m].v == kv[best].v &&
				strcmp(kv[m].k, kv[best].k) < 0))
				best = m;
		t = kv[j];
		kv[j] = kv[best];
		kv[best] = t;
		printf("  %8lld  ", (long long)kv[j].v);
		cli_put_safe(stdout, kv[j].k);
		fputc('\n', stdout);
	}
	free(kv);
}

/** Read audit logs into a summary. @return CLI_OK, or CLI_USAGE when a
 * log could not be read (said). */
static int
read_logs(struct dp_audit_summary* sum, char** logs, int nlogs)
{
	char line[8192];
	int i, rc = CLI_OK;
	for(i = 0; i < nlogs; i++) {
		struct cli_in* in = cli_open(logs[i]);
		size_t lineno = 0, bad = sum->bad;
		if(!in) {
			fprintf(stderr, "doppel: %s: %s\n", logs[i],
				strerror(errno));
			rc = CLI_USAGE;
			continue;
		}
		while(cli_gets(in, line, sizeof(line)) >= 0) {
			lineno++;
			if(!dp_audit_summary_line(sum, line, strlen(line)) &&
				sum->bad - bad <= 5) {
				fprintf(stderr, "doppel: %s:%zu: not a JSON "
					"object: ", logs[i], lineno);
				cli_put_safe(stderr, sum->last_error);
				fputc('\n', stderr);
			}
		}
		if(cli_error(in)) {
			fprintf(stderr, "doppel: %s: cannot read it to the "
				"end (a damaged .gz?)\n", logs[i]);
			rc = CLI_USAGE;
		}
		cli_close(in);
	}
	return rc;
}

enum { AU_JSON, AU_OUT };
static const struct cli_opt audit_opts[] = {
	{ "--json", NULL, 0 }, { "-o", "--output", 1 }, { NULL, NULL, 0 }
};

static int
cmd_audit(int argc, char** argv)
{
	struct dp_audit_summary sum;
	struct cli_args a;
	const char* sub;
	int rc;
	if((rc = cli_parse(argc, argv, 2, "audit", audit_opts, &a)) >= 0)
		return rc;
	sub = a.nops ? a.ops[0] : "";
	if(strcmp(sub, "summary") != 0 && strcmp(sub, "report") != 0) {
		free(a.ops);
		return *sub ? cli_usage_error("audit", "unknown subcommand "
			"'%s'", sub) : cli_usage_error("audit", "summary or "
			"report?");
	}
	if(a.nops < 2) {
		free(a.ops);
		return cli_usage_error("audit", "no LOG given (- reads "
			"standard input)");
	}
	if(strcmp(sub, "report") == 0 && !cli_value(&a, AU_OUT)) {
		free(a.ops);
		return cli_usage_error("audit", "report needs -o "
			"REPORT.html");
	}
	if(dp_audit_summary_init(&sum) != 0) {
		free(a.ops);
		fprintf(stderr, "doppel: out of memory\n");
		return CLI_FAIL;
	}
	rc = read_logs(&sum, a.ops + 1, a.nops - 1);
	if(sum.lines && sum.bad == sum.lines)
		rc = CLI_USAGE;
	if(strcmp(sub, "report") == 0) {
		if(dp_report_write(&sum, cli_value(&a, AU_OUT)) != 0)
			rc = CLI_FAIL;
	} else if(cli_given(&a, AU_JSON)) {
		json_t* out = dp_audit_summary_json(&sum);
		json_dumpf(out, stdout, JSON_SORT_KEYS | JSON_COMPACT);
		printf("\n");
		json_decref(out);
	} else {
		printf("%zu records", sum.lines - sum.bad);
		if(sum.queries != sum.lines - sum.bad)
			printf(" for %llu queries (collapsed repeats)",
				(unsigned long long)sum.queries);
		if(sum.bad)
			printf(" (%zu unreadable lines)", sum.bad);
		printf(" from %d log%s\n", a.nops - 1, a.nops == 2 ? "" : "s");
		print_counts("verdicts", sum.by_verdict, 10);
		print_counts("protected domains imitated", sum.by_target, 20);
		print_counts("techniques", sum.by_tech, 20);
		print_counts("countries of answers", sum.by_country, 20);
		print_counts("top lookalikes", sum.top, 20);
		print_counts("clients", sum.by_client, 20);
		print_counts("days", sum.by_day, 31);
		if(json_object_size(sum.would_block))
			print_counts("would block (monitor mode)",
				sum.would_block, 50);
	}
	dp_audit_summary_free(&sum);
	free(a.ops);
	return rc;
}

enum { GE_OUT, GE_TOR4, GE_TOR6, GE_FIXTURE };
static const struct cli_opt geo_opts[] = {
	{ "-o", "--output", 1 }, { "--tor4", NULL, 1 }, { "--tor6", NULL, 1 },
	{ "--fixture", NULL, 1 }, { NULL, NULL, 0 }
};

static int
cmd_geo(int argc, char** argv)
{
	const char *out, *tor4, *tor6;
	struct dp_geo_ranges* gr;
	struct dp_geo_info info;
	struct dp_error err;
	struct cli_args a;
	struct timespec t0, t1;
	size_t nranges, nskipped;
	int k, nfix = 0, rc;
	dp_status st = DP_OK;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if((rc = cli_parse(argc, argv, 2, "geo", geo_opts, &a)) >= 0)
		return rc;
	if(a.nops != 1 || strcmp(a.ops[0], "build") != 0) {
		free(a.ops);
		return cli_usage_error("geo", "geo build, please");
	}
	out = cli_value(&a, GE_OUT);
	tor4 = cli_value(&a, GE_TOR4);
	tor6 = cli_value(&a, GE_TOR6);
	if(!out) {
		free(a.ops);
		return cli_usage_error("geo", "-o OUT.mmdb is required");
	}
	if(!(gr = dp_geo_ranges_create())) {
		free(a.ops);
		fprintf(stderr, "doppel: out of memory\n");
		return CLI_FAIL;
	}
	err.msg[0] = 0;
	for(k = 0; k < a.nopts && st == DP_OK; k++)
		if(a.opts[k].opt == GE_FIXTURE) {
			st = dp_geo_ranges_read_cidr(gr, a.opts[k].value, &err);
			nfix++;
		}
	if(!nfix) {
		st = dp_geo_ranges_read_tor(gr, tor4 ? tor4 : DP_GEO_TOR4_PATH,
			DP_GEO_V4, &err);
		if(st == DP_OK)
			st = dp_geo_ranges_read_tor(gr, tor6 ? tor6 :
				DP_GEO_TOR6_PATH, DP_GEO_V6, &err);
	}
	free(a.ops);
	if(st != DP_OK) {
		dp_geo_ranges_free(gr);
		fprintf(stderr, "doppel: %s\n",
			err.msg[0] ? err.msg : dp_strerror(st));
		return CLI_USAGE;
	}
	nranges = gr->num;
	nskipped = gr->skipped;
	st = dp_geo_write_mmdb(gr, out, nfix ? "doppel test fixture (not "
		"real location data)" : NULL, &info, &err);
	dp_geo_ranges_free(gr);
	if(st != DP_OK) {
		fprintf(stderr, "doppel: %s\n",
			err.msg[0] ? err.msg : dp_strerror(st));
		return CLI_FAIL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%s: %zu ranges (%zu unknown skipped), %u countries, %u "
		"nodes, %u-bit records, %llu bytes, %.2f s\n", out, nranges,
		nskipped, (unsigned)info.countries, (unsigned)info.node_count,
		(unsigned)info.record_size, (unsigned long long)info.file_size,
		(double)(t1.tv_sec - t0.tv_sec) +
		(double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return CLI_OK;
}

static int
cmd_version(int argc, char** argv)
{
	struct cli_args a;
	int rc;
	if((rc = cli_parse(argc, argv, 2, "version", NULL, &a)) >= 0)
		return rc;
	rc = a.nops;
	free(a.ops);
	if(rc)
		return cli_usage_error("version", "no arguments, please");
	printf("doppel %s\n", DP_VERSION);
	return CLI_OK;
}

static int
cmd_help(int argc, char** argv)
{
	struct cli_args a;
	int rc;
	if((rc = cli_parse(argc, argv, 2, "help", NULL, &a)) >= 0)
		return rc;
	if(a.nops > 1) {
		free(a.ops);
		return cli_usage_error("help", "one COMMAND at most");
	}
	if(cli_help(stdout, a.nops ? a.ops[0] : NULL) != 0) {
		fprintf(stderr, "doppel: no command '");
		cli_put_safe(stderr, a.ops[0]);
		fprintf(stderr, "'\n");
		cli_help(stderr, NULL);
		free(a.ops);
		return CLI_USAGE;
	}
	free(a.ops);
	return CLI_OK;
}

static const struct {
	const char* name;
	int (*fn)(int argc, char** argv);
} commands[] = {
	{ "check", cmd_check }, { "scan", cmd_scan },
	{ "compile", cmd_compile }, { "info", cmd_info },
	{ "cache", cmd_cache }, { "geo", cmd_geo }, { "audit", cmd_audit },
	{ "review", dp_review_main }, { "conf-check", dp_conf_check_main },
	{ "stats", dp_stats_main }, { "version", cmd_version },
	{ "help", cmd_help },
};

int
main(int argc, char** argv)
{
	size_t i;
	int rc;
	if(argc < 2) {
		cli_help(stderr, NULL);
		return CLI_USAGE;
	}
	if(strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return cmd_version(1, argv);
	if(strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		cli_help(stdout, NULL);
		return CLI_OK;
	}
	for(i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if(strcmp(argv[1], commands[i].name) == 0) {
			rc = commands[i].fn(argc, argv);
			if(fflush(stdout) != 0 || ferror(stdout)) {
				fprintf(stderr, "doppel: cannot write: %s\n",
					strerror(errno));
				return CLI_FAIL;
			}
			return rc;
		}
	fprintf(stderr, "doppel: unknown command '");
	cli_put_safe(stderr, argv[1]);
	fprintf(stderr, "'\n");
	cli_help(stderr, NULL);
	return CLI_USAGE;
}
