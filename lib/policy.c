/*
 * lib/policy.c - the struct dp_policy: its tables, how they grow while a
 * source is read, and how a policy is opened (source or compiled).
 */
#include "internal.h"

#include <errno.h>
#include <libpsl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>



const char* const dp_technique_names[DP_NTECH] = {
	"tld-swap", "tld-typo", "omission", "insertion", "repetition",
	"replacement", "transposition", "vowel-swap", "bitsquatting",
	"hyphenation", "homoglyph", "idn-confusable", "missing-dot",
	"subdomain", "target-embedding", "combo-squatting", "listed",
};

int
dp_technique_index(const char* name)
{
	int i;
	/* The engine's verdicts point into the table itself: compare the
	 * pointers first, the text only for names read from elsewhere. */
	for(i = 0; i < DP_NTECH; i++)
		if(dp_technique_names[i] == name)
			return i;
	for(i = 0; i < DP_NTECH; i++)
		if(strcmp(dp_technique_names[i], name) == 0)
			return i;
	return -1;
}

const char*
dp_technique_name(int i)
{
	return i >= 0 && i < DP_NTECH ? dp_technique_names[i] : NULL;
}

struct dp_policy*
dp_policy_new(void)
{
	struct dp_policy* p = calloc(1, sizeof(*p));
	int i;
	if(!p)
		return NULL;
	p->block_at = 0.8;
	p->warn_at = 0.5;
	p->negative_ttl = -1;
	p->country_mismatch = DP_BLOCK;
	p->hijack = DP_WARN;
	for(i = 0; i < DP_NTECH; i++) {
		p->tech[i].block_at = -1;
		p->tech[i].warn_at = -1;
	}
	return p;
}

struct dp_prot*
dp_policy_add_prot(struct dp_policy* p)
{
	struct dp_prot* d;
	if(!dp_grow_array((void**)&p->prot, p->nprot, &p->prot_cap,
		sizeof(*p->prot)))
		return NULL;
	d = &p->prot[p->nprot++];
	memset(d, 0, sizeof(*d));
	d->label = d->suffix = DP_NONE;
	d->countries = DP_NONE;
	d->action_cap = DP_BLOCK;
	return d;
}

dp_status
dp_policy_load_psl(struct dp_policy* p, const char* path)
{
	FILE* f = fopen(path, "rb");
	char* buf = NULL;
	size_t len = 0, cap = 0, n;
	FILE* mem;
	if(!f)
		return DP_ERR_IO;
	for(;;) {
		if(len + 65536 > cap) {
			char* nb;
			cap = cap ? cap * 2 : 262144;
			if(!(nb = realloc(buf, cap))) {
				free(buf);
				fclose(f);
				return DP_ERR_NOMEM;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if(n == 0)
			break;
	}
	fclose(f);
	/* Keep the text: a compiled policy carries its own copy, so that
	 * it means the same wherever it is opened. */
	if(!(mem = fmemopen(buf, len, "r"))) {
		free(buf);
		return DP_ERR_NOMEM;
	}
	p->psl = psl_load_fp(mem);
	fclose(mem);
	if(!p->psl) {
		free(buf);
		return DP_ERR_PSL;
	}
	p->psl_text = buf;
	p->psl_len = len;
	return DP_OK;
}

void
dp_policy_free(struct dp_policy* p)
{
	if(!p)
		return;
	free(p->psl_text);
	free(p->affix_bits);
	free(p->del_bits);
	free(p->prot_suffix);
	free((void*)p->suffix_rel);
	free(p->psl_filter);
	if(p->db) {
		/* The tables live in the database's map. */
		dp_folder_destroy(p->folder);
		if(p->psl)
			psl_free(p->psl);
		dp_db_close(p->db);
		free(p);
		return;
	}
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

int
dp_policy_negative_ttl(const struct dp_policy* p)
{
	return p->negative_ttl;
}

void
dp_policy_get_info(const struct dp_policy* p, struct dp_policy_info* info)
{
	memset(info, 0, sizeof(*info));
	info->source_hash = p->source_hash;
	info->protected_domains = p->nprot;
	info->labels = p->nlabels;
	info->suffixes = p->nsuffixes;
	info->names = p->nnames;
	info->index_keys = p->index.count;
	if(p->db)
		dp_db_info(p->db, info);
}

int
dp_policy_protected_at(const struct dp_policy* p, size_t i,
	const char** name, size_t* label_off, size_t* label_len)
{
	if(i >= p->nprot)
		return 0;
	*name = p->strings + p->prot[i].name;
	*label_off = p->prot[i].label_off;
	*label_len = p->prot[i].label_len;
	return 1;
}

int
dp_policy_blocked_at(const struct dp_policy* p, size_t i, const char** name)
{
	if(i >= p->nnames)
		return 0;
	*name = (p->names[i].flags & DP_NAME_BLOCK) ? p->strings +
		p->names[i].name : NULL;
	return 1;
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
		p->index.nbuckets * sizeof(*p->index.buckets) +
		p->index.novf * sizeof(*p->index.ovf);
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

int
dp_grow_array(void** arr, uint32_t n, uint32_t* cap, size_t sz)
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

struct dp_namerec*
dp_policy_name_record(struct dp_policy* p, const char* name, uint32_t flags)
{
	size_t n = strlen(name);
	uintptr_t idx = (uintptr_t)dp_strmap_get(&p->build_names, name, n,
		NULL);
	struct dp_namerec* r;
	if(idx == 0) {
		uint32_t off;
		if(!dp_grow_array((void**)&p->names, p->nnames, &p->names_cap,
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

int
dp_closed_suffix(const char* suffix)
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

/** Keep the first problem of a source, for dp_policy_load's callers. */
struct first_problem {
	struct dp_error* err;
	int count;
};

static void
keep_first(void* arg, const char* file, int line, int col, const char* msg)
{
	struct first_problem* fp = arg;
	if(fp->count++ == 0)
		dp_format_problem(fp->err, file, line, col, msg);
}

void
dp_format_problem(struct dp_error* err, const char* file, int line, int col,
	const char* msg)
{
	if(!err)
		return;
	if(line <= 0)
		dp_error_set(err, "%s: error: %s", file, msg);
	else if(col <= 0)
		dp_error_set(err, "%s:%d: error: %s", file, line, msg);
	else
		dp_error_set(err, "%s:%d:%d: error: %s", file, line, col, msg);
}

dp_status
dp_policy_load(const char* path, struct dp_policy** out,
	struct dp_error* err)
{
	struct first_problem fp;
	struct dp_error dummy;
	dp_status st;
	fp.err = err ? err : &dummy;
	fp.err->msg[0] = 0;
	fp.count = 0;
	*out = NULL;
	/* A file of no bytes at all is what a copy cut short or a full disk
	 * leaves: taking it for a policy with nothing in it would drop every
	 * protection without a word.  (A policy that protects nothing yet
	 * has at least a comment line.) */
	{
		struct stat sb;
		if(stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
			sb.st_size == 0) {
			dp_error_set(fp.err, "%s: empty file (0 bytes): not a "
				"policy; a policy that protects nothing needs "
				"at least a comment line", path);
			return DP_ERR_FORMAT;
		}
	}
	if(dp_db_is_compiled(path))
		return dp_db_open(path, out, fp.err);
	st = dp_policy_parse(path, out, keep_first, &fp);
	if(st != DP_OK && fp.count > 1) {
		size_t n = strlen(fp.err->msg);
		snprintf(fp.err->msg + n, sizeof(fp.err->msg) - n, " (and %d "
			"more: run 'doppel compile %s' to see all)",
			fp.count - 1, path);
	}
	return st;
}
