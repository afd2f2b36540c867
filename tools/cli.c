/*
 * tools/cli.c - what every doppel command shares (see cli.h).
 */
#include "cli.h"
#include "doppel.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/** A command's help: its usage lines and what it does. */
static const struct {
	const char* cmd;
	const char* usage;
	const char* about;
} helps[] = {
	{ "check", "doppel check -p POLICY [--json] [--verbose] [--answer IP]... "
		"[--geoip MMDB] NAME...",
		"Explain the verdict for each NAME under POLICY (a policy "
		"source or a\ncompiled policy).  --answer gives the addresses "
		"an answer held, to weigh\ntheir countries (--geoip names the "
		"country database).  --verbose adds\nthe details of the "
		"match (skeletons).  Exit 1 if a name is blocked, 2 if\na "
		"name is not a domain name." },
	{ "scan", "doppel scan -p POLICY [--json] [--verbose] [FILE...]",
		"Read names, one a line, from the FILEs or standard input "
		"(\"-\"), and\nprint one verdict a line.  Blank lines and "
		"lines starting with # are\nskipped.  Exit 1 if a name is "
		"blocked, 2 if a line is not a domain name." },
	{ "compile", "doppel compile SRC -o DB\n"
		"       doppel compile SRC --rpz ZONE -o FILE",
		"Check a policy source and write it compiled (the file the "
		"module maps),\nor write what it blocks as a Response Policy "
		"Zone named ZONE.  On any\nproblem in SRC nothing is written "
		"(exit 2)." },
	{ "info", "doppel info DB",
		"Say what a compiled policy (or a policy source) holds." },
	{ "audit", "doppel audit summary [--json] LOG...\n"
		"       doppel audit report -o REPORT.html LOG...",
		"Count audit logs (files, .gz files, or - for standard "
		"input): verdicts,\nprotected domains imitated, techniques, "
		"countries, lookalikes, clients,\ndays.  `report` writes one "
		"self-contained HTML page of the same." },
	{ "review", "doppel review [--min-clients N] [--top N] [--json] "
		"LOG...",
		"Rank the names audit logs flagged, and suggest policy lines "
		"for the\nfalse alarms among them (names seen from at least "
		"--min-clients\nclients, 2 by default)." },
	{ "geo", "doppel geo build -o OUT.mmdb [--tor4 PATH] [--tor6 PATH]\n"
		"       doppel geo build -o OUT.mmdb --fixture FILE...",
		"Write the country database from Debian's tor-geoipdb ranges, "
		"or from\ntest fixtures (lines of CIDR and country code)." },
	{ "cache", "doppel cache list|show NAME|purge [NAME]|stats -d CACHE "
		"[--json]",
		"Read or purge the module's verdict cache.  A file that is not "
		"a verdict\ncache is refused and left as it is.  Exit 1 if "
		"`show` does not find\nthe name." },
	{ "stats", "doppel stats [--json | --prometheus] [CONF]",
		"Print the counters of the running module, found through the "
		"settings\nfile CONF (default: $DOPPEL_CONF, then " 
		DP_SETTINGS_DEFAULT_PATH ").\n--prometheus writes the "
		"Prometheus text exposition format (for\nnode_exporter's "
		"textfile collector or any scraper)." },
	{ "conf-check", "doppel conf-check [--user USER] [CONF]",
		"Open what the module would open with the settings file CONF "
		"(default:\n$DOPPEL_CONF, then " DP_SETTINGS_DEFAULT_PATH
		"): the policy, the country\ndatabase, the audit log's "
		"directory, the verdict cache; warn of settings\nthat do "
		"nothing.  What the resolver writes is checked as USER "
		"(default:\nunbound, if there is such a user).  Exit 2 on "
		"any error." },
	{ "version", "doppel version | doppel --version",
		"Print the version." },
	{ "help", "doppel help [COMMAND] | doppel COMMAND --help",
		"Print the commands, or one command's help." },
};

int
cli_help(FILE* out, const char* cmd)
{
	size_t i, n = sizeof(helps) / sizeof(helps[0]);
	if(!cmd) {
		fprintf(out, "usage: doppel COMMAND [ARGS]\n\ncommands:\n");
		for(i = 0; i < n; i++)
			fprintf(out, "  %s\n", helps[i].usage);
		fprintf(out, "\noptions and operands may come in any order; "
			"-- ends the options.\n"
			"exit status: 0 done, nothing blocked; 1 a name "
			"blocked (check, scan)\nor not found (cache show); 2 "
			"usage error, or an input missing,\nunreadable or "
			"malformed; 3 an output could not be written.\n");
		return 0;
	}
	for(i = 0; i < n; i++)
		if(strcmp(helps[i].cmd, cmd) == 0) {
			fprintf(out, "usage: %s\n\n%s\n", helps[i].usage,
				helps[i].about);
			return 0;
		}
	return -1;
}

int
cli_usage_error(const char* cmd, const char* fmt, ...)
{
	size_t i, n = sizeof(helps) / sizeof(helps[0]);
	va_list ap;
	fprintf(stderr, "doppel %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	for(i = 0; i < n; i++)
		if(strcmp(helps[i].cmd, cmd) == 0)
			fprintf(stderr, "usage: %s\n", helps[i].usage);
	return CLI_USAGE;
}

/** The option that arg spells, or -1. */
static int
find_opt(const struct cli_opt* opts, const char* arg, size_t len)
{
	int i;
	for(i = 0; opts && opts[i].name; i++)
		if((strlen(opts[i].name) == len &&
			strncmp(opts[i].name, arg, len) == 0) ||
			(opts[i].alias && strlen(opts[i].alias) == len &&
			strncmp(opts[i].alias, arg, len) == 0))
			return i;
	return -1;
}

int
cli_parse(int argc, char** argv, int first, const char* cmd,
	const struct cli_opt* opts, struct cli_args* a)
{
	int i, opt_on = 1;
	memset(a, 0, sizeof(*a));
	if(!(a->ops = calloc((size_t)argc + 1, sizeof(*a->ops)))) {
		fprintf(stderr, "doppel: out of memory\n");
		return CLI_FAIL;
	}
	for(i = first; i < argc; i++) {
		const char* s = argv[i];
		const char* eq;
		size_t len;
		int o;
		if(!opt_on || s[0] != '-' || s[1] == 0) {
			a->ops[a->nops++] = argv[i];
			continue;
		}
		if(strcmp(s, "--") == 0) {
			opt_on = 0;
			continue;
		}
		if(strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
			cli_help(stdout, cmd);
			free(a->ops);
			a->ops = NULL;
			return CLI_OK;
		}
		/* --name=value as well as --name value */
		eq = strncmp(s, "--", 2) == 0 ? strchr(s, '=') : NULL;
		len = eq ? (size_t)(eq - s) : strlen(s);
		if((o = find_opt(opts, s, len)) < 0) {
			free(a->ops);
			a->ops = NULL;
			return cli_usage_error(cmd, "unknown option '%s'", s);
		}
		if(a->nopts == (int)(sizeof(a->opts) / sizeof(a->opts[0]))) {
			free(a->ops);
			a->ops = NULL;
			return cli_usage_error(cmd, "too many options");
		}
		a->opts[a->nopts].opt = o;
		a->opts[a->nopts].value = NULL;
		if(opts[o].takes_value) {
			if(eq)
				a->opts[a->nopts].value = eq + 1;
			else if(i + 1 < argc)
				a->opts[a->nopts].value = argv[++i];
			else {
				free(a->ops);
				a->ops = NULL;
				return cli_usage_error(cmd, "%s needs a value",
					opts[o].name);
			}
		} else if(eq) {
			free(a->ops);
			a->ops = NULL;
			return cli_usage_error(cmd, "%s takes no value",
				opts[o].name);
		}
		a->nopts++;
	}
	return -1;
}

const char*
cli_value(const struct cli_args* a, int i)
{
	const char* v = NULL;
	int k;
	for(k = 0; k < a->nopts; k++)
		if(a->opts[k].opt == i)
			v = a->opts[k].value;
	return v;
}

int
cli_given(const struct cli_args* a, int i)
{
	int k;
	for(k = 0; k < a->nopts; k++)
		if(a->opts[k].opt == i)
			return 1;
	return 0;
}

void
cli_put_safe(FILE* out, const char* s)
{
	for(; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if(c < 0x20 || c == 0x7f)
			fprintf(out, "\\%03u", c);
		else
			fputc(c, out);
	}
}

struct cli_in {
	gzFile gz;
	int err;
};

struct cli_in*
cli_open(const char* path)
{
	struct cli_in* in = calloc(1, sizeof(*in));
	FILE* f;
	if(!in)
		return NULL;
	/* gzdopen reads a plain file as it is, and a gzip file unpacked */
	if(strcmp(path, "-") == 0)
		in->gz = gzdopen(dup(0), "rb");
	else if((f = fopen(path, "rb")) != NULL) {
		in->gz = gzdopen(dup(fileno(f)), "rb");
		fclose(f);
	}
	if(!in->gz) {
		int e = errno ? errno : ENOMEM;
		free(in);
		errno = e;
		return NULL;
	}
	return in;
}

long
cli_gets(struct cli_in* in, char* buf, int cap)
{
	int e;
	if(!gzgets(in->gz, buf, cap)) {
		(void)gzerror(in->gz, &e);
		if(e != Z_OK && e != Z_STREAM_END)
			in->err = 1;
		return -1;
	}
	return (long)strlen(buf);
}

int
cli_error(struct cli_in* in)
{
	return in->err;
}

void
cli_close(struct cli_in* in)
{
	if(!in)
		return;
	gzclose(in->gz);
	free(in);
}
