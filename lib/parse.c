/*
 * lib/parse.c - read a policy source: directives, included files and name
 * lists, every error reported with file, line and column, then have the
 * engine index what was read.
 *
 * The reader does not stop at the first error: a policy is reviewed by
 * people, and a compile that lists every problem at once saves them rounds.
 * Nothing is kept if there was any error.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <idn2.h>
#include <unicode/uloc.h>

/** Deepest nesting of include and *-file directives. */
#define MAX_DEPTH 16
/** Errors reported before the reader gives up. */
#define MAX_ERRORS 200

/** A word of a line and where it starts. */
struct word_at {
	char* s;
	int col;
};

/** Reading state. */
struct parse_ctx {
	struct dp_policy* p;
	/** the file and line being read */
	const char* file;
	int line;
	/** where problems go, and how many there were */
	dp_diag_fn diag;
	void* diag_arg;
	int nerr;
	/** a problem that is not the input's fault (memory, I/O) */
	dp_status fatal;
	/** real paths of the files being read, outermost first */
	char* stack[MAX_DEPTH];
	int depth;
	/** a running hash of every byte read, the source's fingerprint */
	uint64_t hash;
	/** blanks stripped from the start of the current line */
	int lead;
	/** where the last threshold line was, for the final check */
	char thr_file[256];
	int thr_line, thr_col;
};

/** Report a problem at a column of the current line. */
static void
problem(struct parse_ctx* c, int col, const char* fmt, ...)
#ifdef __GNUC__
	__attribute__((format(printf, 3, 4)))
#endif
	;

static void
problem(struct parse_ctx* c, int col, const char* fmt, ...)
{
	char msg[600];
	va_list ap;
	c->nerr++;
	if(c->nerr > MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if(c->nerr == MAX_ERRORS)
		snprintf(msg, sizeof(msg), "too many errors, giving up");
	if(c->diag)
		c->diag(c->diag_arg, c->file, c->line, col > 0 ? col + c->lead :
			col, msg);
}

/** Out of memory: stop everything. */
static void
nomem(struct parse_ctx* c)
{
	if(c->fatal == DP_OK)
		problem(c, 0, "out of memory");
	c->fatal = DP_ERR_NOMEM;
}

/** Whether code is an ISO 3166-1 alpha-2 country code (ICU's list). */
static int
iso_country(const char* code)
{
	const char* const* list = uloc_getISOCountries();
	for(; list && *list; list++)
		if(strcmp(*list, code) == 0)
			return 1;
	return 0;
}

/** Canonicalise a name of a policy; reports problems. @return 1 if ok. */
static int
policy_name(struct parse_ctx* c, const struct word_at* w, char* out)
{
	dp_status st;
	const char* s;
	char* ace = NULL;
	for(s = w->s; *s && (unsigned char)*s < 0x80; s++)
		;
	if(*s) {
		/* A name written in Unicode: its wire form is the xn-- one. */
		int rc = idn2_to_ascii_8z(w->s, &ace, IDN2_NONTRANSITIONAL);
		if(rc != IDN2_OK) {
			problem(c, w->col, "'%s' is not a valid internationalised "
				"domain name (%s)", w->s, idn2_strerror(rc));
			return 0;
		}
		st = dp_name_from_text(ace, out, DP_NAME_MAX);
		idn2_free(ace);
	} else
		st = dp_name_from_text(w->s, out, DP_NAME_MAX);
	if(st != DP_OK) {
		problem(c, w->col, "'%s' is not a valid domain name (%s)", w->s,
			dp_strerror(st));
		return 0;
	}
	if(out[0] == 0) {
		problem(c, w->col, "the root '.' cannot be used here");
		return 0;
	}
	return 1;
}

/** The Public Suffix List must be there before names are classified. */
static int
need_psl(struct parse_ctx* c)
{
	if(c->p->psl)
		return 1;
	if(dp_policy_load_psl(c->p, DP_PSL_DEFAULT) != DP_OK) {
		problem(c, 0, "cannot load the public suffix list %s (install "
			"the 'publicsuffix' package or set psl-file)",
			DP_PSL_DEFAULT);
		c->fatal = DP_ERR_PSL;
		return 0;
	}
	return 1;
}

/** Describe what a name already is, for duplicate/conflict messages. */
static const char*
kind_of(uint32_t flags)
{
	if(flags & DP_NAME_PROTECTED)
		return "protected";
	if(flags & DP_NAME_ALLOW)
		return "allowed";
	if(flags & DP_NAME_BLOCK)
		return "blocked";
	return "known good";
}

/**
 * Check that a name may take a new role; report a duplicate or conflict.
 * Known-good lists may repeat themselves and agree with allow.
 */
static int
role_ok(struct parse_ctx* c, const struct word_at* w, const char* name,
	uint32_t have, uint32_t want)
{
	static const uint32_t clash[][2] = {
		{ DP_NAME_PROTECTED, DP_NAME_ALLOW },
		{ DP_NAME_PROTECTED, DP_NAME_BLOCK },
		{ DP_NAME_PROTECTED, DP_NAME_KNOWN },
		{ DP_NAME_ALLOW, DP_NAME_BLOCK },
		{ DP_NAME_KNOWN, DP_NAME_BLOCK },
	};
	size_t i;
	if((have & want) && want != DP_NAME_KNOWN) {
		problem(c, w->col, "duplicate entry: '%s' is already %s", name,
			kind_of(want));
		return 0;
	}
	for(i = 0; i < sizeof(clash) / sizeof(clash[0]); i++)
		if(((have & clash[i][0]) && want == clash[i][1]) ||
			((have & clash[i][1]) && want == clash[i][0])) {
			problem(c, w->col, "conflicting entries: '%s' is "
				"already %s", name, kind_of(have));
			return 0;
		}
	return 1;
}

/** Add a name to a list. */
static void
add_name(struct parse_ctx* c, uint32_t flag, const struct word_at* w)
{
	char name[DP_NAME_MAX];
	struct dp_namerec* r;
	if(!policy_name(c, w, name))
		return;
	if(!(r = dp_policy_name_record(c->p, name, 0))) {
		nomem(c);
		return;
	}
	if(role_ok(c, w, name, r->flags, flag))
		r->flags |= flag;
}

/**
 * ours NAME | LABEL.* ...: the owner's own names.  A name is allowed, as
 * with allow; "LABEL.*" is the registered label LABEL under every suffix
 * (yahoo.* for yahoo.de, yahoo.fr, ...), kept as a record "LABEL.*" that
 * the engine looks up for a name it would flag.
 */
static void
d_ours(struct parse_ctx* c, struct word_at* w, int n)
{
	int i;
	for(i = 1; i < n; i++) {
		size_t len = strlen(w[i].s);
		char name[DP_NAME_MAX];
		struct dp_namerec* r;
		if(len < 2 || strcmp(w[i].s + len - 2, ".*") != 0) {
			add_name(c, DP_NAME_ALLOW, &w[i]);
			continue;
		}
		w[i].s[len - 2] = 0;
		if(!policy_name(c, &w[i], name))
			continue;
		if(strchr(name, '.') || strlen(name) + 3 > sizeof(name)) {
			problem(c, w[i].col, "ours: expected a name or one label "
				"followed by '.*', got '%s.*'", w[i].s);
			continue;
		}
		strcat(name, ".*");
		if(!(r = dp_policy_name_record(c->p, name, 0))) {
			nomem(c);
			return;
		}
		if(r->flags & DP_NAME_OURS)
			problem(c, w[i].col, "duplicate entry: '%s' is already "
				"ours", name);
		r->flags |= DP_NAME_OURS;
	}
}

/** Add a protected domain. */
static void
add_protected(struct parse_ctx* c, const struct word_at* w,
	const char* countries, enum dp_action cap)
{
	struct dp_policy* p = c->p;
	char name[DP_NAME_MAX];
	const char *reg, *dot;
	struct dp_namerec* r;
	struct dp_prot* d;

	if(!policy_name(c, w, name) || !need_psl(c))
		return;
	reg = psl_registrable_domain(p->psl, name);
	if(!reg || !(dot = strchr(reg, '.'))) {
		problem(c, w->col, "'%s' is a public suffix, not a domain that "
			"can be protected", name);
		return;
	}
	if(!(r = dp_policy_name_record(p, name, 0))) {
		nomem(c);
		return;
	}
	if(!role_ok(c, w, name, r->flags, DP_NAME_PROTECTED))
		return;
	if(!(d = dp_policy_add_prot(p))) {
		nomem(c);
		return;
	}
	r->flags |= DP_NAME_PROTECTED;
	r->pid = p->nprot - 1;
	d->name = r->name;
	d->label_off = (uint16_t)(reg - name);
	d->label_len = (uint16_t)(dot - reg);
	d->suffix_off = (uint16_t)(dot + 1 - name);
	d->closed = (uint8_t)dp_closed_suffix(dot + 1);
	d->action_cap = (uint8_t)cap;
	if(countries && (d->countries = dp_policy_add_string(p, countries,
		strlen(countries))) == DP_NONE)
		nomem(c);
}

/** Parse a score from 0 to 1. @return 1 if ok. */
static int
parse_score(struct parse_ctx* c, const struct word_at* w, const char* v,
	double* out)
{
	char* end;
	double d;
	errno = 0;
	d = strtod(v, &end);
	if(end == v || *end || errno || !(d >= 0.0 && d <= 1.0)) {
		problem(c, w->col, "'%s' is not a score from 0 to 1", v);
		return 0;
	}
	*out = d;
	return 1;
}

/** Validate "CC,CC" country codes. @return 1 if ok. */
static int
parse_countries(struct parse_ctx* c, const struct word_at* w, const char* v)
{
	const char* s = v;
	int col = w->col + (int)(v - w->s);
	for(;;) {
		char cc[3];
		if(!(s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z')) {
			problem(c, col + (int)(s - v), "countries: expected "
				"two-letter upper-case codes separated by commas, "
				"got '%s'", v);
			return 0;
		}
		cc[0] = s[0];
		cc[1] = s[1];
		cc[2] = 0;
		if(!iso_country(cc)) {
			problem(c, col + (int)(s - v), "countries: '%s' is not "
				"an ISO 3166-1 country code", cc);
			return 0;
		}
		s += 2;
		if(*s == 0)
			return 1;
		if(*s++ != ',') {
			problem(c, col + (int)(s - 1 - v), "countries: expected "
				"',' between codes in '%s'", v);
			return 0;
		}
	}
}

/** Parse an action word. @return 1 if ok. */
static int
parse_action(struct parse_ctx* c, const struct word_at* w, const char* v,
	int allow_ok, enum dp_action* out)
{
	if(strcmp(v, "block") == 0)
		*out = DP_BLOCK;
	else if(strcmp(v, "warn") == 0)
		*out = DP_WARN;
	else if(allow_ok && strcmp(v, "allow") == 0)
		*out = DP_ALLOW;
	else {
		problem(c, w->col, "action: expected block%s or warn, got '%s'",
			allow_ok ? ", allow" : "", v);
		return 0;
	}
	return 1;
}

static void parse_file(struct parse_ctx* c, const char* path, int col,
	int names_only, uint32_t names_flag);

/** Resolve a path of a directive relative to the current file. */
static int
directive_path(struct parse_ctx* c, const struct word_at* w, char* out,
	size_t outlen)
{
	if(dp_path_relative(c->file, w->s, out, outlen) != DP_OK) {
		problem(c, w->col, "path too long");
		return 0;
	}
	return 1;
}

/** protect DOMAIN [countries=CC,...] [action=block|warn] */
static void
d_protect(struct parse_ctx* c, struct word_at* w, int n)
{
	const char* countries = NULL;
	enum dp_action cap = DP_BLOCK;
	int i, ok = 1;
	for(i = 2; i < n; i++) {
		if(strncmp(w[i].s, "countries=", 10) == 0) {
			if(parse_countries(c, &w[i], w[i].s + 10))
				countries = w[i].s + 10;
			else
				ok = 0;
		} else if(strncmp(w[i].s, "action=", 7) == 0) {
			if(!parse_action(c, &w[i], w[i].s + 7, 0, &cap))
				ok = 0;
		} else {
			problem(c, w[i].col, "unknown option '%s' (expected "
				"countries=CC,... or action=block|warn)",
				w[i].s);
			ok = 0;
		}
	}
	if(ok)
		add_protected(c, &w[1], countries, cap);
}

/** threshold block=SCORE warn=SCORE */
static void
d_threshold(struct parse_ctx* c, struct word_at* w, int n)
{
	int i;
	for(i = 1; i < n; i++) {
		if(strncmp(w[i].s, "block=", 6) == 0)
			parse_score(c, &w[i], w[i].s + 6, &c->p->block_at);
		else if(strncmp(w[i].s, "warn=", 5) == 0)
			parse_score(c, &w[i], w[i].s + 5, &c->p->warn_at);
		else
			problem(c, w[i].col, "threshold: expected block=SCORE or "
				"warn=SCORE, got '%s'", w[i].s);
	}
	/* warn above block is checked once the whole policy is read: the
	 * two may be set on separate lines, in any order */
	snprintf(c->thr_file, sizeof(c->thr_file), "%s", c->file);
	c->thr_line = c->line;
	c->thr_col = w[0].col + c->lead;
}

/** technique NAME [action=block|warn|allow] [block=SCORE] [warn=SCORE] */
static void
d_technique(struct parse_ctx* c, struct word_at* w, int n)
{
	int t = dp_technique_index(w[1].s), i;
	struct dp_tech_rule r;
	if(t < 0) {
		problem(c, w[1].col, "unknown technique '%s' (see conf/README.md "
			"for the list)", w[1].s);
		return;
	}
	r = c->p->tech[t];
	if(n < 3)
		problem(c, w[0].col, "technique %s: nothing to set (action=, "
			"block=, warn=)", w[1].s);
	for(i = 2; i < n; i++) {
		enum dp_action a;
		if(strncmp(w[i].s, "action=", 7) == 0) {
			if(parse_action(c, &w[i], w[i].s + 7, 1, &a))
				r.action_cap = (uint8_t)(a + 1);
		} else if(strncmp(w[i].s, "block=", 6) == 0)
			parse_score(c, &w[i], w[i].s + 6, &r.block_at);
		else if(strncmp(w[i].s, "warn=", 5) == 0)
			parse_score(c, &w[i], w[i].s + 5, &r.warn_at);
		else
			problem(c, w[i].col, "technique: expected action=, block= "
				"or warn=, got '%s'", w[i].s);
	}
	if(r.block_at >= 0 && r.warn_at >= 0 && r.warn_at > r.block_at)
		problem(c, w[0].col, "technique %s: warn (%.2f) is above block "
			"(%.2f)", w[1].s, r.warn_at, r.block_at);
	c->p->tech[t] = r;
}

static void
d_allow(struct parse_ctx* c, struct word_at* w, int n)
{
	(void)n;
	add_name(c, DP_NAME_ALLOW, &w[1]);
}

static void
d_block(struct parse_ctx* c, struct word_at* w, int n)
{
	(void)n;
	add_name(c, DP_NAME_BLOCK, &w[1]);
}

static void
d_negative_ttl(struct parse_ctx* c, struct word_at* w, int n)
{
	char* end;
	unsigned long v;
	(void)n;
	errno = 0;
	v = strtoul(w[1].s, &end, 10);
	if(*end || end == w[1].s || errno || v > 86400 || w[1].s[0] == '-')
		problem(c, w[1].col, "negative-ttl: expected seconds from 0 "
			"to 86400, got '%s'", w[1].s);
	else
		c->p->negative_ttl = (int32_t)v;
}

/** country-mismatch and hijack: what to do with such an answer. */
static void
d_answer_action(struct parse_ctx* c, struct word_at* w, int n)
{
	enum dp_action* a = w[0].s[0] == 'c' ? &c->p->country_mismatch :
		&c->p->hijack;
	(void)n;
	if(strcmp(w[1].s, "block") == 0)
		*a = DP_BLOCK;
	else if(strcmp(w[1].s, "warn") == 0)
		*a = DP_WARN;
	else if(strcmp(w[1].s, "log") == 0)
		*a = DP_WARN; /* resolve and log: what warn does */
	else
		problem(c, w[1].col, "%s: expected block, warn or log, got "
			"'%s'", w[0].s, w[1].s);
}

/** The directives that name a file: psl-file, include and the lists. */
static void
d_file(struct parse_ctx* c, struct word_at* w, int n)
{
	char path[PATH_MAX];
	const char* d = w[0].s;
	(void)n;
	if(!directive_path(c, &w[1], path, sizeof(path)))
		return;
	if(strcmp(d, "psl-file") == 0) {
		if(c->p->psl)
			problem(c, w[0].col, "psl-file must come before the "
				"first protect line");
		else if(dp_policy_load_psl(c->p, path) != DP_OK)
			problem(c, w[1].col, "cannot load public suffix list "
				"'%s'", path);
	} else if(strcmp(d, "include") == 0)
		parse_file(c, path, w[1].col, 0, 0);
	else if(strcmp(d, "protect-file") == 0)
		parse_file(c, path, w[1].col, 1, DP_NAME_PROTECTED);
	else if(strcmp(d, "allow-file") == 0)
		parse_file(c, path, w[1].col, 1, DP_NAME_ALLOW);
	else
		parse_file(c, path, w[1].col, 1, DP_NAME_KNOWN);
}

/** Every directive: its name, whether it takes exactly one argument
 * (else one or more), what a line without one needs, its reader. */
static const struct directive {
	const char* name;
	int one;
	const char* needs;
	void (*fn)(struct parse_ctx* c, struct word_at* w, int n);
} directives[] = {
	{ "protect", 0, NULL, d_protect },
	{ "protect-file", 1, NULL, d_file },
	{ "allow", 1, NULL, d_allow },
	{ "allow-file", 1, NULL, d_file },
	{ "ours", 0, NULL, d_ours },
	{ "block", 1, NULL, d_block },
	{ "known-good-file", 1, NULL, d_file },
	{ "include", 1, NULL, d_file },
	{ "threshold", 0, "block=SCORE and/or warn=SCORE", d_threshold },
	{ "technique", 0, NULL, d_technique },
	{ "country-mismatch", 1, NULL, d_answer_action },
	{ "hijack", 1, NULL, d_answer_action },
	{ "negative-ttl", 1, NULL, d_negative_ttl },
	{ "psl-file", 1, NULL, d_file },
};
#define NDIRECTIVES (sizeof(directives) / sizeof(directives[0]))

/** Handle one policy line (already stripped of comments). */
static void
parse_directive(struct parse_ctx* c, char* line)
{
	struct word_at w[8];
	char* s = line;
	int n = 0;
	size_t k;

	while(*s) {
		if(n == 8) {
			problem(c, (int)(s - line) + 1, "too many words on the "
				"line");
			return;
		}
		w[n].s = s;
		w[n].col = (int)(s - line) + 1;
		n++;
		while(*s && *s != ' ' && *s != '\t')
			s++;
		if(*s) {
			*s++ = 0;
			while(*s == ' ' || *s == '\t')
				s++;
		}
	}
	if(n == 0)
		return;
	for(k = 0; k < NDIRECTIVES; k++)
		if(strcmp(w[0].s, directives[k].name) == 0)
			break;
	if(k == NDIRECTIVES) {
		char known[300];
		size_t i, o = 0;
		for(i = 0; i < NDIRECTIVES && o < sizeof(known); i++)
			o += (size_t)snprintf(known + o, sizeof(known) - o,
				"%s%s", i ? ", " : "", directives[i].name);
		problem(c, w[0].col, "unknown directive '%s' (known: %s)",
			w[0].s, known);
		return;
	}
	if(directives[k].one && n != 2) {
		problem(c, n < 2 ? (int)strlen(line) + 1 : w[2].col,
			"'%s' takes exactly one argument", w[0].s);
		return;
	}
	if(n < 2) {
		problem(c, (int)strlen(line) + 1, "'%s' needs %s", w[0].s,
			directives[k].needs ? directives[k].needs :
			"an argument");
		return;
	}
	directives[k].fn(c, w, n);
}

/** Feed bytes to the source fingerprint (FNV-1a, 64 bits). */
static void
hash_bytes(struct parse_ctx* c, const char* s, size_t n)
{
	c->hash = dp_fnv1a(c->hash, s, n);
}

/**
 * Read a policy file, or a list file of one name per line.
 * @param col: column of the path in the including line, for messages.
 * @param names_only: the file is a list of names, not directives.
 * @param names_flag: for a list, what its names are.
 */
static void
parse_file(struct parse_ctx* c, const char* path, int col, int names_only,
	uint32_t names_flag)
{
	const char* outer_file = c->file;
	int outer_line = c->line, outer_lead = c->lead, i, r;
	size_t lead = 0;
	char line[4200], *real;
	FILE* f;

	if(c->depth >= MAX_DEPTH) {
		problem(c, col, "files nested more than %d deep", MAX_DEPTH);
		return;
	}
	if(!(f = fopen(path, "r"))) {
		if(c->depth == 0) {
			problem(c, 0, "cannot open policy: %s", strerror(errno));
			c->fatal = DP_ERR_IO;
		} else
			problem(c, col, "cannot open '%s': %s", path,
				strerror(errno));
		return;
	}
	if(dp_db_is_compiled(path)) {
		problem(c, col, "'%s' is a compiled policy; %s a policy source",
			path, c->depth ? "include" : "give");
		fclose(f);
		return;
	}
	if(!(real = realpath(path, NULL))) {
		fclose(f);
		nomem(c);
		return;
	}
	for(i = 0; i < c->depth; i++)
		if(strcmp(c->stack[i], real) == 0) {
			problem(c, col, "'%s' includes itself (through %s)",
				path, c->stack[c->depth - 1]);
			free(real);
			fclose(f);
			return;
		}
	c->stack[c->depth++] = real;
	c->file = path;
	c->line = 0;
	{
		/* A policy is text: a NUL in its first block means some
		 * other file (or a damaged database) is in its place. */
		char head[4096];
		size_t hn = fread(head, 1, sizeof(head), f);
		if(memchr(head, 0, hn)) {
			problem(c, 0, "not a policy source (binary data) nor a "
				"compiled doppel policy");
			hn = 0;
			fseek(f, 0, SEEK_END);
		} else
			rewind(f);
	}
	while(c->fatal == DP_OK && (r = dp_read_line(f, line, sizeof(line),
		&lead)) != 0) {
		c->line++;
		c->lead = r > 0 ? (int)lead : 0;
		if(r < 0) {
			problem(c, 1, "line too long");
			continue;
		}
		hash_bytes(c, line, strlen(line));
		hash_bytes(c, "\n", 1);
		if(line[0] == 0)
			continue;
		if(!names_only)
			parse_directive(c, line);
		else {
			struct word_at w;
			char* sp = strpbrk(line, " \t");
			w.s = line;
			w.col = 1;
			if(sp)
				problem(c, (int)(sp - line) + 1, "expected one "
					"name per line");
			else if(names_flag == DP_NAME_PROTECTED)
				add_protected(c, &w, NULL, DP_BLOCK);
			else
				add_name(c, names_flag, &w);
		}
	}
	if(ferror(f))
		problem(c, 0, "read error");
	fclose(f);
	free(c->stack[--c->depth]);
	c->file = outer_file;
	c->line = outer_line;
	c->lead = outer_lead;
}

dp_status
dp_policy_parse(const char* path, struct dp_policy** out, dp_diag_fn diag,
	void* arg)
{
	struct parse_ctx c;
	dp_status st;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.diag = diag;
	c.diag_arg = arg;
	c.file = path;
	c.hash = DP_FNV_SEED;
	if(!(c.p = dp_policy_new())) {
		if(diag)
			diag(arg, path, 0, 0, "out of memory");
		return DP_ERR_NOMEM;
	}
	parse_file(&c, path, 0, 0, 0);
	if(c.p->warn_at > c.p->block_at && c.diag) {
		char msg[128];
		snprintf(msg, sizeof(msg), "threshold: warn (%.2f) is above "
			"block (%.2f)", c.p->warn_at, c.p->block_at);
		c.nerr++;
		c.diag(c.diag_arg, c.thr_file, c.thr_line, c.thr_col, msg);
	} else if(c.p->warn_at > c.p->block_at)
		c.nerr++;
	if(c.fatal == DP_OK && c.nerr == 0)
		need_psl(&c);
	if(c.fatal == DP_OK && c.nerr == 0 &&
		!(c.p->folder = dp_folder_create())) {
		problem(&c, 0, "cannot initialise ICU's spoof checker");
		c.fatal = DP_ERR_NOMEM;
	}
	st = c.fatal;
	if(st == DP_OK && c.nerr)
		st = DP_ERR_SYNTAX;
	if(st == DP_OK) {
		c.p->source_hash = c.hash;
		if((st = dp_engine_build(c.p)) != DP_OK && diag)
			diag(arg, path, 0, 0, st == DP_ERR_SPACE ? "too many "
				"protected domains for the index" :
				"out of memory building the index");
	}
	if(st != DP_OK) {
		dp_policy_free(c.p);
		return st;
	}
	*out = c.p;
	return DP_OK;
}
