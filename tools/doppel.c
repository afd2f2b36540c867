/*
 * tools/doppel.c - the doppel command line: explain verdicts, scan name
 * lists, validate settings.  One binary, git-style subcommands.
 */
#include "doppel.h"
#include "mmdb_write.h"
#include "audit_summary.h"
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

static void
usage(FILE* out)
{
	fprintf(out,
		"usage: doppel COMMAND [ARGS]\n"
		"\n"
		"commands:\n"
		"  check -p POLICY [--json] [--answer IP]... [--geoip MMDB] NAME...\n"
		"                                    explain the verdict for each NAME\n"
		"  scan -p POLICY [--json]           read names on stdin, one verdict a line\n"
		"  compile SRC -o DB                 check a policy source, write it compiled\n"
		"  compile SRC --rpz ZONE -o FILE    write its lookalikes as an RPZ zone\n"
		"  info DB                           what a compiled policy records\n"
		"  audit summary LOG [--json]        counts of an audit log, top lookalikes\n"
		"  review [--min-clients N] [--top N] [--json] LOG...\n"
		"                                    rank flagged names, suggest policy lines\n"
		"  geo build -o OUT.mmdb [--tor4 P] [--tor6 P] | [--fixture F]...\n"
		"                                    write the country database\n"
		"  cache list|show NAME|purge [NAME]|stats -d CACHE [--json]\n"
		"                                    the module's verdict cache\n"
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
		fputs(",\"countries\":", out);
		json_str(out, v->countries[0] ? v->countries : NULL);
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

/** Answers given with --answer, and the database to place them. */
static const char* answers[16];
static int nanswers;
static const char* geoip_path = "build/geo/country.mmdb";

/** The countries of the --answer addresses. @return how many. */
static size_t
answer_countries(const struct dp_geo* g, char (*cc)[3])
{
	size_t n = 0;
	int i;
	for(i = 0; i < nanswers; i++) {
		struct sockaddr_storage ss;
		struct sockaddr_in* s4 = (struct sockaddr_in*)&ss;
		struct sockaddr_in6* s6 = (struct sockaddr_in6*)&ss;
		memset(&ss, 0, sizeof(ss));
		if(inet_pton(AF_INET, answers[i], &s4->sin_addr) == 1)
			s4->sin_family = AF_INET;
		else if(inet_pton(AF_INET6, answers[i], &s6->sin6_addr) == 1)
			s6->sin6_family = AF_INET6;
		else
			continue;
		if(dp_geo_country(g, (struct sockaddr*)&ss, cc[n]))
			n++;
	}
	return n;
}

static struct dp_geo* geo;

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
	if(geo) {
		char cc[16][3];
		size_t n = answer_countries(geo, cc);
		dp_policy_check_answer(p, name, (const char(*)[3])cc, n, &v);
	}
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
		else if(strcmp(argv[i], "--answer") == 0 && i + 1 < argc &&
			strcmp(argv[1], "check") == 0) {
			if(nanswers == (int)(sizeof(answers) /
				sizeof(answers[0]))) {
				fprintf(stderr, "doppel check: at most %d "
					"answers\n", nanswers);
				return -1;
			}
			answers[nanswers++] = argv[++i];
		} else if(strcmp(argv[i], "--geoip") == 0 && i + 1 < argc)
			geoip_path = argv[++i];
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
	if(nanswers) {
		struct dp_error err;
		if(dp_geo_open(geoip_path, &geo, &err) != DP_OK) {
			fprintf(stderr, "doppel: %s (--geoip PATH)\n", err.msg);
			dp_policy_free(p);
			return 2;
		}
	}
	for(i = first; i < argc; i++)
		if(check_one(p, argv[i], json) == DP_BLOCK)
			blocked = 1;
	dp_geo_close(geo);
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

static int
cmd_compile(int argc, char** argv)
{
	const char *src = NULL, *out = NULL, *rpz = NULL;
	struct dp_policy* p;
	struct dp_error err;
	struct dp_policy_info info;
	int i, problems = 0;
	dp_status st;
	for(i = 2; i < argc; i++) {
		if(strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else if(strcmp(argv[i], "--rpz") == 0 && i + 1 < argc)
			rpz = argv[++i];
		else if(argv[i][0] == '-' && argv[i][1] != 0) {
			fprintf(stderr, "doppel compile: unknown option '%s'\n",
				argv[i]);
			return 2;
		} else if(!src)
			src = argv[i];
		else {
			fprintf(stderr, "doppel compile: one source only\n");
			return 2;
		}
	}
	if(!src || !out) {
		fprintf(stderr, "usage: doppel compile SRC [--rpz ZONE] -o "
			"FILE\n");
		return 2;
	}
	st = dp_policy_parse(src, &p, print_problem, &problems);
	if(st != DP_OK) {
		fprintf(stderr, "doppel compile: %d problem%s in %s; %s left "
			"as it was\n", problems, problems == 1 ? "" : "s", src,
			out);
		return 1;
	}
	if(rpz) {
		int rc = dp_rpz_write(p, src, rpz, out, DP_PSL_DEFAULT);
		dp_policy_free(p);
		return rc;
	}
	if(dp_policy_compile(p, out, &err) != DP_OK) {
		fprintf(stderr, "doppel compile: %s\n", err.msg);
		dp_policy_free(p);
		return 1;
	}
	dp_policy_get_info(p, &info);
	printf("%s: %" PRIu64 " protected domains, %" PRIu64 " listed names, "
		"%" PRIu64 " index keys\n", out, info.protected_domains,
		info.names, info.index_keys);
	dp_policy_free(p);
	return 0;
}

static int
cmd_info(int argc, char** argv)
{
	struct dp_policy* p;
	struct dp_error err;
	struct dp_policy_info info;
	char when[64] = "-";
	dp_status st;
	if(argc != 3) {
		fprintf(stderr, "usage: doppel info DB\n");
		return 2;
	}
	if((st = dp_policy_load(argv[2], &p, &err)) != DP_OK) {
		fprintf(stderr, "doppel: %s\n",
			err.msg[0] ? err.msg : dp_strerror(st));
		return 1;
	}
	dp_policy_get_info(p, &info);
	if(info.built) {
		time_t t = (time_t)info.built;
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	}
	printf("file:              %s\n", argv[2]);
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
	return 0;
}

/** One cache entry, for people or as JSON. */
static void
print_entry(void* arg, const char* name, const struct dp_vrecord* r)
{
	const int* json = arg;
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
		printf(",\"score\":%.3f,\"first_seen\":%llu,\"last_seen\":"
			"%llu,\"hits\":%llu,\"expiry\":%llu}\n", r->score,
			(unsigned long long)r->first_seen,
			(unsigned long long)r->last_seen,
			(unsigned long long)r->hits,
			(unsigned long long)r->expiry);
		return;
	}
	printf("%s %s %s %s %.2f hits=%llu first=%llu last=%llu "
		"expires=%llu\n", name, dp_action_str(r->action),
		r->target[0] ? r->target : "-",
		r->technique[0] ? r->technique : "-", r->score,
		(unsigned long long)r->hits, (unsigned long long)r->first_seen,
		(unsigned long long)r->last_seen,
		(unsigned long long)r->expiry);
}

static int
cmd_cache(int argc, char** argv)
{
	const char *sub = argc > 2 ? argv[2] : "", *db = NULL, *arg = NULL;
	struct dp_vcache* vc;
	struct dp_error err;
	int i, json = 0, rc = 0;
	for(i = 3; i < argc; i++) {
		if(strcmp(argv[i], "-d") == 0 && i + 1 < argc)
			db = argv[++i];
		else if(strcmp(argv[i], "--json") == 0)
			json = 1;
		else if(!arg)
			arg = argv[i];
		else {
			fprintf(stderr, "doppel cache: too many arguments\n");
			return 2;
		}
	}
	if(!db || (strcmp(sub, "list") && strcmp(sub, "show") &&
		strcmp(sub, "purge") && strcmp(sub, "stats")) ||
		(strcmp(sub, "show") == 0 && !arg)) {
		fprintf(stderr, "usage: doppel cache list|show NAME|purge "
			"[NAME]|stats -d CACHE [--json]\n");
		return 2;
	}
	if(access(db, F_OK) != 0) {
		fprintf(stderr, "doppel: %s: no verdict cache there\n", db);
		return 1;
	}
	/* A small map size: LMDB then takes the one the file records, so
	 * a tool never grows the module's cache. */
	if(dp_vcache_open(db, 1ULL << 20, 0, &vc, &err) != DP_OK) {
		fprintf(stderr, "doppel: %s\n", err.msg);
		return 1;
	}
	if(strcmp(sub, "list") == 0)
		dp_vcache_each(vc, print_entry, &json);
	else if(strcmp(sub, "show") == 0) {
		char name[DP_NAME_MAX];
		struct dp_vrecord r;
		if(dp_name_from_text(arg, name, sizeof(name)) != DP_OK) {
			fprintf(stderr, "doppel: '%s' is not a domain name\n",
				arg);
			rc = 2;
		} else if(dp_vcache_get(vc, name, 0, &r))
			print_entry(&json, name, &r);
		else {
			fprintf(stderr, "doppel: %s is not in the cache\n",
				name);
			rc = 1;
		}
	} else if(strcmp(sub, "purge") == 0) {
		char name[DP_NAME_MAX];
		long n;
		if(arg && dp_name_from_text(arg, name, sizeof(name)) != DP_OK) {
			fprintf(stderr, "doppel: '%s' is not a domain name\n",
				arg);
			dp_vcache_close(vc);
			return 2;
		}
		n = dp_vcache_purge(vc, arg ? name : NULL);
		if(n < 0) {
			fprintf(stderr, "doppel: cannot purge %s\n", db);
			rc = 1;
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
		printf("  %8lld  %s\n", (long long)kv[j].v, kv[j].k);
	}
	free(kv);
}

static int
cmd_audit(int argc, char** argv)
{
	const char* path = NULL;
	struct dp_audit_summary sum;
	int json = 0, i;
	char line[8192];
	FILE* f;
	for(i = 3; i < argc; i++) {
		if(strcmp(argv[i], "--json") == 0)
			json = 1;
		else if(!path)
			path = argv[i];
	}
	if(argc < 3 || strcmp(argv[2], "summary") != 0 || !path) {
		fprintf(stderr, "usage: doppel audit summary LOG [--json]\n");
		return 2;
	}
	if(!(f = fopen(path, "r"))) {
		fprintf(stderr, "doppel: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if(dp_audit_summary_init(&sum) != 0) {
		fclose(f);
		fprintf(stderr, "doppel: out of memory\n");
		return 1;
	}
	while(fgets(line, sizeof(line), f)) {
		if(!dp_audit_summary_line(&sum, line, strlen(line)) &&
			sum.bad <= 5)
			fprintf(stderr, "doppel: %s:%zu: not a JSON object: "
				"%s\n", path, sum.lines, sum.last_error);
	}
	fclose(f);
	if(json) {
		json_t* out = dp_audit_summary_json(&sum);
		json_dumpf(out, stdout, JSON_SORT_KEYS | JSON_COMPACT);
		printf("\n");
		json_decref(out);
	} else {
		printf("%s: %zu records", path, sum.lines - sum.bad);
		if(sum.queries != sum.lines - sum.bad)
			printf(" for %llu queries (collapsed repeats)",
				(unsigned long long)sum.queries);
		if(sum.bad)
			printf(" (%zu unreadable lines)", sum.bad);
		printf("\n");
		print_counts("verdicts", sum.by_verdict, 10);
		print_counts("protected domains imitated", sum.by_target, 20);
		print_counts("techniques", sum.by_tech, 20);
		print_counts("countries of answers", sum.by_country, 20);
		print_counts("top lookalikes", sum.top, 20);
	}
	dp_audit_summary_free(&sum);
	return sum.bad && sum.bad == sum.lines ? 1 : 0;
}

static int
cmd_geo(int argc, char** argv)
{
	const char *out = NULL, *tor4 = DP_GEO_TOR4_PATH,
		*tor6 = DP_GEO_TOR6_PATH, *fixtures[32];
	struct dp_geo_ranges* gr;
	struct dp_geo_info info;
	struct dp_error err;
	int i, nfix = 0;
	dp_status st = DP_OK;
	if(argc < 3 || strcmp(argv[2], "build") != 0) {
		fprintf(stderr, "usage: doppel geo build -o OUT.mmdb [--tor4 "
			"PATH] [--tor6 PATH] | [--fixture FILE]...\n");
		return 2;
	}
	for(i = 3; i < argc; i++) {
		if(strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else if(strcmp(argv[i], "--tor4") == 0 && i + 1 < argc)
			tor4 = argv[++i];
		else if(strcmp(argv[i], "--tor6") == 0 && i + 1 < argc)
			tor6 = argv[++i];
		else if(strcmp(argv[i], "--fixture") == 0 && i + 1 < argc &&
			nfix < 32)
			fixtures[nfix++] = argv[++i];
		else {
			fprintf(stderr, "doppel geo build: unexpected '%s'\n",
				argv[i]);
			return 2;
		}
	}
	if(!out) {
		fprintf(stderr, "doppel geo build: -o OUT.mmdb is required\n");
		return 2;
	}
	if(!(gr = dp_geo_ranges_create())) {
		fprintf(stderr, "doppel: out of memory\n");
		return 1;
	}
	err.msg[0] = 0;
	if(nfix)
		for(i = 0; i < nfix && st == DP_OK; i++)
			st = dp_geo_ranges_read_cidr(gr, fixtures[i], &err);
	else {
		st = dp_geo_ranges_read_tor(gr, tor4, DP_GEO_V4, &err);
		if(st == DP_OK)
			st = dp_geo_ranges_read_tor(gr, tor6, DP_GEO_V6, &err);
	}
	if(st == DP_OK)
		st = dp_geo_write_mmdb(gr, out, nfix ? "doppel test fixture (not "
			"real location data)" : NULL, &info, &err);
	dp_geo_ranges_free(gr);
	if(st != DP_OK) {
		fprintf(stderr, "doppel: %s\n",
			err.msg[0] ? err.msg : dp_strerror(st));
		return 1;
	}
	printf("%s: %llu bytes\n", out, (unsigned long long)info.file_size);
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
	if(strcmp(argv[1], "compile") == 0)
		return cmd_compile(argc, argv);
	if(strcmp(argv[1], "info") == 0)
		return cmd_info(argc, argv);
	if(strcmp(argv[1], "cache") == 0)
		return cmd_cache(argc, argv);
	if(strcmp(argv[1], "geo") == 0)
		return cmd_geo(argc, argv);
	if(strcmp(argv[1], "audit") == 0)
		return cmd_audit(argc, argv);
	if(strcmp(argv[1], "review") == 0)
		return dp_review_main(argc, argv);
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
