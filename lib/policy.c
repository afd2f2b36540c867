/*
 * lib/policy.c - read a policy source file into a struct dp_policy: the
 * protected domains and the name lists, then have the engine index them.
 */
#include "internal.h"

#include <errno.h>
#include <libpsl.h>
#include <stdlib.h>
#include <string.h>

/** Debian's copy of the Public Suffix List (package publicsuffix). */
#define DP_PSL_DEFAULT "/usr/share/publicsuffix/public_suffix_list.dat"

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
	if(!p)
		return;
	dp_strmap_clear(&p->build_names);
	dp_index_clear(&p->index);
	free(p->strings);
	free(p->prot);
	free(p->names);
	free(p->labels);
	free(p->suffixes);
	dp_folder_destroy(p->folder);
	if(p->psl)
		psl_free(p->psl);
	free(p);
}

size_t
dp_policy_protected_count(const struct dp_policy* p)
{
	return p->nprot;
}

size_t
dp_policy_memory(const struct dp_policy* p)
{
	return sizeof(*p) + p->strings_cap + p->prot_cap * sizeof(*p->prot) +
		p->names_cap * sizeof(*p->names) +
		p->nlabels * sizeof(*p->labels) +
		p->nsuffixes * sizeof(*p->suffixes) +
		p->index.nslots * sizeof(*p->index.slots) +
		p->index.nblocks * 64;
}


uint32_t
dp_policy_add_string(struct dp_policy* p, const char* s, size_t n)
{
	uint32_t off;
	if(p->strings_len + n + 1 > p->strings_cap) {
		size_t cap = p->strings_cap ? p->strings_cap * 2 : 4096;
		char* ns;
		while(cap < p->strings_len + n + 1)
			cap *= 2;
		if(cap > (size_t)DP_NONE || !(ns = realloc(p->strings, cap)))
			return DP_NONE;
		p->strings = ns;
		p->strings_cap = cap;
	}
	off = (uint32_t)p->strings_len;
	memcpy(p->strings + off, s, n);
	p->strings[off + n] = 0;
	p->strings_len += n + 1;
	return off;
}

/** Grow an array of n used elements of size sz to hold one more. */
static int
grow_array(void** arr, uint32_t n, uint32_t* cap, size_t sz)
{
	void* na;
	uint32_t c;
	if(n < *cap)
		return 1;
	c = *cap ? *cap * 2 : 64;
	if(!(na = realloc(*arr, c * sz)))
		return 0;
	*arr = na;
	*cap = c;
	return 1;
}

/**
 * Find or add a listed name and set flags on it.
 * @return its record, or NULL when out of memory.
 */
static struct dp_namerec*
name_record(struct dp_policy* p, const char* name, uint32_t flags)
{
	size_t n = strlen(name);
	uintptr_t idx = (uintptr_t)dp_strmap_get(&p->build_names, name, n,
		NULL);
	struct dp_namerec* r;
	if(idx == 0) {
		uint32_t off;
		if(!grow_array((void**)&p->names, p->nnames, &p->names_cap,
			sizeof(*p->names)) ||
			(off = dp_policy_add_string(p, name, n)) == DP_NONE)
			return NULL;
		r = &p->names[p->nnames++];
		r->name = off;
		r->flags = 0;
		r->pid = DP_NONE;
		idx = p->nnames;
		if(dp_strmap_put(&p->build_names, name, n, (void*)idx, NULL)
			!= DP_OK)
			return NULL;
	}
	r = &p->names[idx - 1];
	r->flags |= flags;
	return r;
}

/** Suffixes closed to the public: a name under them is not for sale, so
 * the same label elsewhere is an impostor, not a namesake. */
static int
closed_suffix(const char* suffix)
{
	static const char* const closed[] = { "mil", "gov", "edu", "int" };
	size_t i;
	for(i = 0; i < sizeof(closed) / sizeof(closed[0]); i++) {
		size_t n = strlen(closed[i]);
		/* "mil" itself, or a second-level "gov.uk", "mil.br" */
		if(strncmp(suffix, closed[i], n) == 0 &&
			(suffix[n] == 0 || suffix[n] == '.'))
			return 1;
	}
	return 0;
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
	struct dp_policy* p = c->p;
	char name[DP_NAME_MAX];
	const char *reg, *dot;
	struct dp_namerec* r;
	struct dp_prot* d;
	dp_status st;

	if((st = policy_name(c, text, name)) != DP_OK)
		return st;
	if((st = need_psl(c)) != DP_OK)
		return st;
	reg = psl_registrable_domain(p->psl, name);
	if(!reg || !(dot = strchr(reg, '.'))) {
		dp_error_set(c->err, "%s:%d: '%s' is a public suffix, not a "
			"domain that can be protected", c->file, c->line, name);
		return DP_ERR_SYNTAX;
	}
	if(!(r = name_record(p, name, 0)))
		return DP_ERR_NOMEM;
	if(r->flags & DP_NAME_PROTECTED)
		return DP_OK; /* listed twice: harmless */
	r->flags |= DP_NAME_PROTECTED;
	if(!grow_array((void**)&p->prot, p->nprot, &p->prot_cap,
		sizeof(*p->prot)))
		return DP_ERR_NOMEM;
	r->pid = p->nprot;
	d = &p->prot[p->nprot++];
	memset(d, 0, sizeof(*d));
	d->name = r->name;
	d->label_off = (uint16_t)(reg - name);
	d->label_len = (uint16_t)(dot - reg);
	d->suffix_off = (uint16_t)(dot + 1 - name);
	d->closed = (uint8_t)closed_suffix(dot + 1);
	d->label = d->suffix = DP_NONE;
	d->countries = DP_NONE;
	if(countries && (d->countries = dp_policy_add_string(p, countries,
		strlen(countries))) == DP_NONE)
		return DP_ERR_NOMEM;
	return DP_OK;
}

/** Add a name to one of the name lists. */
static dp_status
add_name(struct parse_ctx* c, uint32_t flag, const char* text)
{
	char name[DP_NAME_MAX];
	dp_status st;
	if((st = policy_name(c, text, name)) != DP_OK)
		return st;
	return name_record(c->p, name, flag) ? DP_OK : DP_ERR_NOMEM;
}

/** Parse "block=0.8" or "warn=0.5" of a threshold line. */
static dp_status
parse_threshold(struct parse_ctx* c, const char* opt)
{
	double* where;
	char* end;
	double v;
	if(strncmp(opt, "block=", 6) == 0)
		where = &c->p->block_at;
	else if(strncmp(opt, "warn=", 5) == 0)
		where = &c->p->warn_at;
	else {
		dp_error_set(c->err, "%s:%d: threshold: expected block=SCORE or "
			"warn=SCORE, got '%s'", c->file, c->line, opt);
		return DP_ERR_SYNTAX;
	}
	opt = strchr(opt, '=') + 1;
	v = strtod(opt, &end);
	if(end == opt || *end || !(v >= 0.0 && v <= 1.0)) {
		dp_error_set(c->err, "%s:%d: threshold: '%s' is not a score "
			"from 0 to 1", c->file, c->line, opt);
		return DP_ERR_SYNTAX;
	}
	*where = v;
	return DP_OK;
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
	int names_only, uint32_t names_flag);

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
	if(*s || n == 0 || (n > 2 && strcmp(words[0], "protect") != 0 &&
		strcmp(words[0], "threshold") != 0) || n > 3) {
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
	if(strcmp(words[0], "threshold") == 0) {
		dp_status st = parse_threshold(c, words[1]);
		if(st == DP_OK && n == 3)
			st = parse_threshold(c, words[2]);
		if(st == DP_OK && c->p->warn_at > c->p->block_at) {
			dp_error_set(c->err, "%s:%d: threshold: warn (%.2f) is "
				"above block (%.2f)", c->file, c->line,
				c->p->warn_at, c->p->block_at);
			st = DP_ERR_SYNTAX;
		}
		return st;
	}
	if(strcmp(words[0], "allow") == 0)
		return add_name(c, DP_NAME_ALLOW, words[1]);
	if(strcmp(words[0], "block") == 0)
		return add_name(c, DP_NAME_BLOCK, words[1]);
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
			return parse_file(c, path, 1, DP_NAME_PROTECTED);
		return parse_file(c, path, 1, DP_NAME_KNOWN);
	}
	dp_error_set(c->err, "%s:%d: unknown directive '%s' (known: protect, "
		"protect-file, allow, block, known-good-file, psl-file, "
		"threshold)",
		c->file, c->line, words[0]);
	return DP_ERR_SYNTAX;
}

/**
 * Read a policy file, or a list file of one name per line.
 * @param names_only: the file is a list of names, not directives.
 * @param names_flag: for a list, what its names are.
 */
static dp_status
parse_file(struct parse_ctx* c, const char* path, int names_only,
	uint32_t names_flag)
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
		} else if(names_flag != DP_NAME_PROTECTED)
			st = add_name(&sub, names_flag, line);
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
	c.p->block_at = 0.8;
	c.p->warn_at = 0.5;
	st = parse_file(&c, path, 0, 0);
	if(st == DP_OK)
		st = need_psl(&c);
	if(st == DP_OK && !(c.p->folder = dp_folder_create())) {
		dp_error_set(c.err, "%s: cannot initialise ICU's spoof checker",
			path);
		st = DP_ERR_NOMEM;
	}
	if(st == DP_OK)
		st = dp_engine_build(c.p);
	if(st != DP_OK) {
		if(st == DP_ERR_NOMEM && c.err->msg[0] == 0)
			dp_error_set(c.err, "%s: out of memory", path);
		dp_policy_free(c.p);
		return st;
	}
	*out = c.p;
	return DP_OK;
}

