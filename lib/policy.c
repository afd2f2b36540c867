/*
 * lib/policy.c - load a policy source file and check names against it.
 *
 * This is the first, small engine: explicit block entries, the allowlist,
 * the known-good list, and the TLD swap (the protected domain's registered
 * label under another public suffix, e.g. army.ml for army.mil).  The
 * indexes are hash maps built at load time, so a check costs a handful of
 * lookups whatever the number of protected domains.
 */
#include "internal.h"

#include <errno.h>
#include <libpsl.h>
#include <stdlib.h>
#include <string.h>

/** Debian's copy of the Public Suffix List (package publicsuffix). */
#define DP_PSL_DEFAULT "/usr/share/publicsuffix/public_suffix_list.dat"

/** One protected domain. */
struct protected_dom {
	/** canonical name, owned by the policy's protected map */
	const char* name;
	/** public suffix of the name ("mil", "co.uk"), owned here */
	char* suffix;
	/** expected countries, "CC,CC" or NULL, owned here */
	char* countries;
	/** next in the policy's list of all protected domains */
	struct protected_dom* next;
};

struct dp_policy {
	/** public suffix list */
	psl_ctx_t* psl;
	/** canonical protected name -> struct protected_dom */
	struct dp_strmap protected;
	/** registered label of a protected domain ("army") -> first
	 * struct protected_dom with that label */
	struct dp_strmap by_label;
	/** allowlisted names (whole subtree) */
	struct dp_strmap allow;
	/** known-good names (whole subtree) */
	struct dp_strmap known_good;
	/** blocked names (whole subtree) */
	struct dp_strmap block;
	/** all protected domains, for freeing */
	struct protected_dom* list;
};

/** Parsing context: the file and line being read, for messages. */
struct parse_ctx {
	struct dp_policy* p;
	const char* file;
	int line;
	struct dp_error* err;
	/** nesting depth of *-file directives */
	int depth;
};

void
dp_policy_free(struct dp_policy* p)
{
	struct protected_dom *d, *next;
	if(!p)
		return;
	for(d = p->list; d; d = next) {
		next = d->next;
		free(d->suffix);
		free(d->countries);
		free(d);
	}
	dp_strmap_clear(&p->protected);
	dp_strmap_clear(&p->by_label);
	dp_strmap_clear(&p->allow);
	dp_strmap_clear(&p->known_good);
	dp_strmap_clear(&p->block);
	if(p->psl)
		psl_free(p->psl);
	free(p);
}

size_t
dp_policy_protected_count(const struct dp_policy* p)
{
	return p->protected.count;
}

/** Canonicalise a name read from a policy, with a located error. */
static dp_status
policy_name(struct parse_ctx* c, const char* text, char* out)
{
	dp_status st = dp_name_from_text(text, out, DP_NAME_MAX);
	if(st != DP_OK)
		dp_error_set(c->err, "%s:%d: '%s' is not a valid domain name "
			"(%s)", c->file, c->line, text, dp_strerror(st));
	else if(out[0] == 0) {
		dp_error_set(c->err, "%s:%d: the root '.' cannot be used here",
			c->file, c->line);
		st = DP_ERR_NAME;
	}
	return st;
}

/** The public suffix list must be there before names are classified. */
static dp_status
need_psl(struct parse_ctx* c)
{
	if(c->p->psl)
		return DP_OK;
	c->p->psl = psl_load_file(DP_PSL_DEFAULT);
	if(!c->p->psl)
		c->p->psl = psl_latest(NULL);
	if(!c->p->psl) {
		dp_error_set(c->err, "%s:%d: cannot load the public suffix "
			"list %s (install the 'publicsuffix' package or set "
			"psl-file)", c->file, c->line, DP_PSL_DEFAULT);
		return DP_ERR_PSL;
	}
	return DP_OK;
}

/** Add a protected domain. */
static dp_status
add_protected(struct parse_ctx* c, const char* text, const char* countries)
{
	char name[DP_NAME_MAX];
	const char *reg, *stored, *dot;
	struct protected_dom* d;
	int found;
	dp_status st;

	if((st = policy_name(c, text, name)) != DP_OK)
		return st;
	if((st = need_psl(c)) != DP_OK)
		return st;
	dp_strmap_get(&c->p->protected, name, strlen(name), &found);
	if(found)
		return DP_OK; /* listed twice: harmless */
	reg = psl_registrable_domain(c->p->psl, name);
	if(!reg || !(dot = strchr(reg, '.'))) {
		dp_error_set(c->err, "%s:%d: '%s' is a public suffix, not a "
			"domain that can be protected", c->file, c->line, name);
		return DP_ERR_SYNTAX;
	}
	if(!(d = calloc(1, sizeof(*d))) || !(d->suffix = strdup(dot + 1)) ||
		(countries && !(d->countries = strdup(countries)))) {
		if(d) {
			free(d->suffix);
			free(d);
		}
		return DP_ERR_NOMEM;
	}
	d->next = c->p->list;
	c->p->list = d;
	if((st = dp_strmap_put(&c->p->protected, name, strlen(name), d,
		&stored)) != DP_OK)
		return st;
	d->name = stored;
	return dp_strmap_put(&c->p->by_label, reg, (size_t)(dot - reg), d,
		NULL);
}

/** Add a name to one of the plain name sets. */
static dp_status
add_name(struct parse_ctx* c, struct dp_strmap* m, const char* text)
{
	char name[DP_NAME_MAX];
	dp_status st;
	if((st = policy_name(c, text, name)) != DP_OK)
		return st;
	return dp_strmap_put(m, name, strlen(name), NULL, NULL);
}

/** Validate "countries=CC,CC" and return the list part. */
static dp_status
parse_countries(struct parse_ctx* c, const char* opt, const char** out)
{
	const char* s;
	if(strncmp(opt, "countries=", 10) != 0) {
		dp_error_set(c->err, "%s:%d: unknown option '%s' (expected "
			"countries=CC,...)", c->file, c->line, opt);
		return DP_ERR_SYNTAX;
	}
	s = opt + 10;
	for(;;) {
		if(!(s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z')) {
			dp_error_set(c->err, "%s:%d: countries: expected "
				"two-letter upper-case codes separated by "
				"commas, got '%s'", c->file, c->line, opt + 10);
			return DP_ERR_SYNTAX;
		}
		s += 2;
		if(*s == 0)
			break;
		if(*s++ != ',') {
			dp_error_set(c->err, "%s:%d: countries: expected ',' "
				"between codes in '%s'", c->file, c->line,
				opt + 10);
			return DP_ERR_SYNTAX;
		}
	}
	*out = opt + 10;
	return DP_OK;
}

static dp_status parse_file(struct parse_ctx* c, const char* path,
	int names_only, struct dp_strmap* names_into);

/** Handle one policy line (already stripped of comments). */
static dp_status
parse_directive(struct parse_ctx* c, char* line)
{
	char *words[4], *s = line;
	int n = 0;
	char path[4096];

	while(*s && n < 4) {
		words[n++] = s;
		while(*s && *s != ' ' && *s != '\t')
			s++;
		if(*s) {
			*s++ = 0;
			while(*s == ' ' || *s == '\t')
				s++;
		}
	}
	if(*s || n == 0 || (n > 2 && strcmp(words[0], "protect") != 0) ||
		n > 3) {
		dp_error_set(c->err, "%s:%d: too many words on the line",
			c->file, c->line);
		return DP_ERR_SYNTAX;
	}
	if(n < 2) {
		dp_error_set(c->err, "%s:%d: '%s' needs an argument", c->file,
			c->line, words[0]);
		return DP_ERR_SYNTAX;
	}
	if(strcmp(words[0], "protect") == 0) {
		const char* countries = NULL;
		dp_status st;
		if(n == 3 && (st = parse_countries(c, words[2], &countries))
			!= DP_OK)
			return st;
		return add_protected(c, words[1], countries);
	}
	if(strcmp(words[0], "allow") == 0)
		return add_name(c, &c->p->allow, words[1]);
	if(strcmp(words[0], "block") == 0)
		return add_name(c, &c->p->block, words[1]);
	if(strcmp(words[0], "protect-file") == 0 ||
		strcmp(words[0], "known-good-file") == 0 ||
		strcmp(words[0], "psl-file") == 0) {
		if(dp_path_relative(c->file, words[1], path, sizeof(path))
			!= DP_OK) {
			dp_error_set(c->err, "%s:%d: path too long", c->file,
				c->line);
			return DP_ERR_SYNTAX;
		}
		if(words[0][0] == 'p' && words[0][1] == 's') {
			if(c->p->psl) {
				dp_error_set(c->err, "%s:%d: psl-file must come "
					"before the first protect line",
					c->file, c->line);
				return DP_ERR_SYNTAX;
			}
			if(!(c->p->psl = psl_load_file(path))) {
				dp_error_set(c->err, "%s:%d: cannot load public "
					"suffix list '%s'", c->file, c->line,
					path);
				return DP_ERR_PSL;
			}
			return DP_OK;
		}
		if(words[0][0] == 'p')
			return parse_file(c, path, 1, NULL);
		return parse_file(c, path, 1, &c->p->known_good);
	}
	dp_error_set(c->err, "%s:%d: unknown directive '%s' (known: protect, "
		"protect-file, allow, block, known-good-file, psl-file)",
		c->file, c->line, words[0]);
	return DP_ERR_SYNTAX;
}

/**
 * Read a policy file, or a list file of one name per line.
 * @param names_only: the file is a list of names, not directives.
 * @param names_into: for a list, the set to fill; NULL means protected.
 */
static dp_status
parse_file(struct parse_ctx* c, const char* path, int names_only,
	struct dp_strmap* names_into)
{
	struct parse_ctx sub = *c;
	char line[4200];
	FILE* f;
	int r;
	dp_status st = DP_OK;

	if(c->depth > 8) {
		dp_error_set(c->err, "%s:%d: files nested too deeply", c->file,
			c->line);
		return DP_ERR_SYNTAX;
	}
	if(!(f = fopen(path, "r"))) {
		if(c->depth == 0)
			dp_error_set(c->err, "%s: cannot open policy: %s", path,
				strerror(errno));
		else
			dp_error_set(c->err, "%s:%d: cannot open '%s': %s",
				c->file, c->line, path, strerror(errno));
		return DP_ERR_IO;
	}
	sub.file = path;
	sub.line = 0;
	sub.depth = c->depth + 1;
	while((r = dp_read_line(f, line, sizeof(line))) != 0) {
		sub.line++;
		if(r < 0) {
			dp_error_set(c->err, "%s:%d: line too long", path,
				sub.line);
			st = DP_ERR_SYNTAX;
			break;
		}
		if(line[0] == 0)
			continue;
		if(!names_only)
			st = parse_directive(&sub, line);
		else if(strpbrk(line, " \t")) {
			dp_error_set(c->err, "%s:%d: expected one name per line",
				path, sub.line);
			st = DP_ERR_SYNTAX;
		} else if(names_into)
			st = add_name(&sub, names_into, line);
		else
			st = add_protected(&sub, line, NULL);
		if(st != DP_OK)
			break;
	}
	if(st == DP_OK && ferror(f)) {
		dp_error_set(c->err, "%s: read error", path);
		st = DP_ERR_IO;
	}
	fclose(f);
	return st;
}

dp_status
dp_policy_load(const char* path, struct dp_policy** out,
	struct dp_error* err)
{
	struct parse_ctx c;
	dp_status st;
	struct dp_error dummy;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.err = err ? err : &dummy;
	c.err->msg[0] = 0;
	c.file = path;
	if(!(c.p = calloc(1, sizeof(*c.p)))) {
		dp_error_set(c.err, "%s: out of memory", path);
		return DP_ERR_NOMEM;
	}
	st = parse_file(&c, path, 0, NULL);
	if(st == DP_OK)
		st = need_psl(&c);
	if(st != DP_OK) {
		if(st == DP_ERR_NOMEM && c.err->msg[0] == 0)
			dp_error_set(c.err, "%s: out of memory", path);
		dp_policy_free(c.p);
		return st;
	}
	*out = c.p;
	return DP_OK;
}

/**
 * Find the closest enclosing name of name (itself included) in a map.
 * @return the matching suffix of name, or NULL.
 */
static const char*
find_enclosing(const struct dp_strmap* m, const char* name, void** val)
{
	const char* s = name;
	int found;
	if(m->count == 0)
		return NULL;
	while(*s) {
		void* v = dp_strmap_get(m, s, strlen(s), &found);
		const char* dot;
		if(found) {
			if(val)
				*val = v;
			return s;
		}
		if(!(dot = strchr(s, '.')))
			break;
		s = dot + 1;
	}
	return NULL;
}

void
dp_policy_check(const struct dp_policy* p, const char* name,
	struct dp_verdict* v)
{
	const char *hit, *reg, *dot;
	void* val = NULL;
	struct protected_dom* d;

	memset(v, 0, sizeof(*v));
	v->action = DP_ALLOW;
	if(name[0] == 0) {
		snprintf(v->why, sizeof(v->why), "the root");
		return;
	}
	if((hit = find_enclosing(&p->allow, name, NULL)) != NULL) {
		snprintf(v->why, sizeof(v->why), "allowlisted (allow %s)", hit);
		return;
	}
	if((hit = find_enclosing(&p->protected, name, NULL)) != NULL) {
		snprintf(v->why, sizeof(v->why), "protected domain %s", hit);
		return;
	}
	if((hit = find_enclosing(&p->known_good, name, NULL)) != NULL) {
		snprintf(v->why, sizeof(v->why), "known good (%s)", hit);
		return;
	}
	if((hit = find_enclosing(&p->block, name, &val)) != NULL) {
		v->action = DP_BLOCK;
		v->score = 1.0;
		v->target = hit;
		v->technique = "listed";
		v->zone_labels = dp_name_labels(hit);
		snprintf(v->why, sizeof(v->why), "listed (block %s)", hit);
		return;
	}
	reg = psl_registrable_domain(p->psl, name);
	if(!reg || !(dot = strchr(reg, '.'))) {
		snprintf(v->why, sizeof(v->why), "no registered domain");
		return;
	}
	d = dp_strmap_get(&p->by_label, reg, (size_t)(dot - reg), NULL);
	if(d && strcmp(d->suffix, dot + 1) != 0) {
		v->action = DP_BLOCK;
		v->score = 0.9;
		v->target = d->name;
		v->technique = "tld-swap";
		v->zone_labels = dp_name_labels(reg);
		snprintf(v->why, sizeof(v->why), "%s is %s with suffix '%s' "
			"instead of '%s'", reg, d->name, dot + 1, d->suffix);
		return;
	}
	snprintf(v->why, sizeof(v->why), "no lookalike found");
}
