/*
 * tools/rpz.c - `doppel compile SRC --rpz ZONE -o FILE`: write, as a
 * Response Policy Zone, the concrete lookalikes doppel can enumerate for
 * each protected domain (the same label under every top-level domain of
 * the Public Suffix List, and one-edit typos of the label under its own
 * suffix and under the top-level domains one typo away from it), keeping
 * those the policy blocks.  For resolvers that cannot load doppel.  The zone is
 * read back with ldns before the command says it is done.
 */
#include "doppel.h"
#include "rpz.h"

#include <errno.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/** Characters a typo may bring into a label. */
static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789-";

struct rpz_ctx {
	struct dp_policy* p;
	FILE* out;
	const char* target;
	size_t written;
	/** names written for the current target, to skip duplicates */
	char** names;
	size_t nnames, capnames;
};

/** Write name (with its subtree) if the policy blocks it as a lookalike
 * of the current target. */
static void
consider(struct rpz_ctx* c, const char* name)
{
	char canon[DP_NAME_MAX];
	struct dp_verdict v;
	size_t i;
	if(dp_name_from_text(name, canon, sizeof(canon)) != DP_OK)
		return;
	dp_policy_check(c->p, canon, &v);
	if(v.action != DP_BLOCK || !v.target || strcmp(v.target, c->target))
		return;
	for(i = 0; i < c->nnames; i++)
		if(strcmp(c->names[i], canon) == 0)
			return;
	if(c->nnames == c->capnames) {
		size_t cap = c->capnames ? c->capnames * 2 : 1024;
		char** ns = realloc(c->names, cap * sizeof(*ns));
		if(!ns)
			return;
		c->names = ns;
		c->capnames = cap;
	}
	if(!(c->names[c->nnames] = strdup(canon)))
		return;
	c->nnames++;
	/* CNAME . : NXDOMAIN, for the name and everything under it */
	fprintf(c->out, "%s CNAME .\n*.%s CNAME .\n", canon, canon);
	c->written++;
}

/** The top-level domains of the Public Suffix List's ICANN section. */
static char**
read_tlds(const char* path, size_t* n)
{
	FILE* f = fopen(path, "r");
	char line[512], **list = NULL;
	size_t cap = 0;
	int icann = 0;
	*n = 0;
	if(!f)
		return NULL;
	while(fgets(line, sizeof(line), f)) {
		if(strstr(line, "===BEGIN ICANN DOMAINS==="))
			icann = 1;
		if(strstr(line, "===END ICANN DOMAINS==="))
			icann = 0;
		line[strcspn(line, "\r\n \t")] = 0;
		if(!icann || !line[0] || line[0] == '/' || line[0] == '!' ||
			line[0] == '*' || strchr(line, '.'))
			continue;
		/* Keep ASCII TLDs; the xn-- forms are not in this file. */
		if(strspn(line, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
			strlen(line))
			continue;
		if(*n == cap) {
			char** nl;
			cap = cap ? cap * 2 : 2048;
			if(!(nl = realloc(list, cap * sizeof(*nl))))
				break;
			list = nl;
		}
		if(!(list[*n] = strdup(line)))
			break;
		(*n)++;
	}
	fclose(f);
	return list;
}

/** Every one-edit typo of label, under suffix. */
static void
typos(struct rpz_ctx* c, const char* label, const char* suffix)
{
	char buf[300], name[600];
	size_t n = strlen(label), i, k;
	if(n + 2 >= sizeof(buf))
		return;
	for(i = 0; i < n; i++) {
		/* omission */
		memcpy(buf, label, i);
		strcpy(buf + i, label + i + 1);
		snprintf(name, sizeof(name), "%s.%s", buf, suffix);
		consider(c, name);
		/* replacement */
		for(k = 0; alphabet[k]; k++) {
			strcpy(buf, label);
			buf[i] = alphabet[k];
			snprintf(name, sizeof(name), "%s.%s", buf, suffix);
			consider(c, name);
		}
		/* transposition */
		if(i + 1 < n) {
			strcpy(buf, label);
			buf[i] = label[i + 1];
			buf[i + 1] = label[i];
			snprintf(name, sizeof(name), "%s.%s", buf, suffix);
			consider(c, name);
		}
	}
	/* insertion, repetition and hyphenation */
	for(i = 0; i <= n; i++)
		for(k = 0; alphabet[k]; k++) {
			memcpy(buf, label, i);
			buf[i] = alphabet[k];
			strcpy(buf + i + 1, label + i);
			snprintf(name, sizeof(name), "%s.%s", buf, suffix);
			consider(c, name);
		}
}

/** Whether a and b differ by exactly one edit (Levenshtein). */
static int
one_edit(const char* a, const char* b)
{
	size_t na = strlen(a), nb = strlen(b), i = 0;
	if(na < nb) {
		const char* t = a;
		a = b;
		b = t;
		i = na;
		na = nb;
		nb = i;
		i = 0;
	}
	if(na - nb > 1)
		return 0;
	while(i < nb && a[i] == b[i])
		i++;
	if(na == nb)
		return i < na && strcmp(a + i + 1, b + i + 1) == 0;
	return strcmp(a + i + 1, b + i) == 0;
}

/** Check the written zone with ldns. @return 0 if it parses. */
static int
check_zone(const char* path, const char* zone)
{
	FILE* f = fopen(path, "r");
	ldns_zone* z = NULL;
	ldns_rdf* origin = ldns_dname_new_frm_str(zone);
	int line = 0;
	ldns_status st;
	if(!f || !origin) {
		if(f)
			fclose(f);
		ldns_rdf_deep_free(origin);
		fprintf(stderr, "doppel: cannot read back %s\n", path);
		return -1;
	}
	st = ldns_zone_new_frm_fp_l(&z, f, origin, 3600, LDNS_RR_CLASS_IN,
		&line);
	fclose(f);
	ldns_rdf_deep_free(origin);
	if(st != LDNS_STATUS_OK) {
		fprintf(stderr, "%s:%d: error: ldns: %s\n", path, line,
			ldns_get_errorstr_by_id(st));
		return -1;
	}
	ldns_zone_deep_free(z);
	return 0;
}

/** The TTL of the zone's records when the policy sets no negative-ttl:
 * doppel.conf's block-ttl default. */
#define DP_RPZ_DEFAULT_TTL 300

/**
 * The SOA serial of a new version of the zone at path: the time (seconds
 * since the epoch, as a 32-bit serial), or one more than the serial the
 * file there has if that is not less (two compiles in one second, or a
 * clock set back), so that secondaries always see a newer zone.
 */
static unsigned
next_serial(const char* path)
{
	FILE* f = fopen(path, "r");
	char line[512];
	unsigned serial = (unsigned)time(NULL), old;
	if(!f)
		return serial;
	while(fgets(line, sizeof(line), f))
		if(sscanf(line, "@ SOA %*s %*s %u", &old) == 1) {
			/* RFC 1982 serial arithmetic: old is not behind */
			if((int)(old - serial) >= 0)
				serial = old + 1;
			break;
		}
	fclose(f);
	return serial;
}

int
dp_rpz_write(struct dp_policy* p, const char* src, const char* zone,
	const char* path, const char* psl_path)
{
	struct rpz_ctx c;
	char tmp[4200];
	char** tlds;
	size_t ntld, i, off, len;
	const char* name;
	unsigned ttl, serial;

	memset(&c, 0, sizeof(c));
	c.p = p;
	if(!(tlds = read_tlds(psl_path, &ntld))) {
		fprintf(stderr, "doppel: cannot read the top-level domains from "
			"%s\n", psl_path);
		return 1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if(!(c.out = fopen(tmp, "w"))) {
		fprintf(stderr, "doppel: %s: %s\n", tmp, strerror(errno));
		return 1;
	}
	ttl = dp_policy_negative_ttl(p) >= 0 ?
		(unsigned)dp_policy_negative_ttl(p) : DP_RPZ_DEFAULT_TTL;
	serial = next_serial(path);
	fprintf(c.out, "; Response Policy Zone written by doppel compile "
		"from %s\n; every name below answers NXDOMAIN (CNAME .)\n"
		"$ORIGIN %s.\n$TTL %u\n@ SOA localhost. hostmaster.localhost. "
		"%u 3600 600 86400 %u\n@ NS localhost.\n", src, zone, ttl,
		serial, ttl);
	/* the policy's own block entries, with what is under them */
	for(i = 0; dp_policy_blocked_at(p, i, &name); i++) {
		struct dp_verdict v;
		if(!name)
			continue;
		dp_policy_check(p, name, &v);
		if(v.action != DP_BLOCK)
			continue;
		fprintf(c.out, "%s CNAME .\n*.%s CNAME .\n", name, name);
		c.written++;
	}
	for(i = 0; dp_policy_protected_at(p, i, &name, &off, &len); i++) {
		char label[300];
		size_t t;
		if(len >= sizeof(label))
			continue;
		memcpy(label, name + off, len);
		label[len] = 0;
		c.target = name;
		for(t = 0; t < ntld; t++) {
			char cand[600];
			/* keep the protected name's subdomain part */
			snprintf(cand, sizeof(cand), "%.*s%s.%s", (int)off, name,
				label, tlds[t]);
			consider(&c, cand);
		}
		typos(&c, label, name + off + len + 1);
		/* and under the top-level domains one typo away from the
		 * protected suffix (arny.ml for army.mil) */
		for(t = 0; t < ntld; t++)
			if(one_edit(tlds[t], name + off + len + 1))
				typos(&c, label, tlds[t]);
		while(c.nnames)
			free(c.names[--c.nnames]);
	}
	free(c.names);
	for(i = 0; i < ntld; i++)
		free(tlds[i]);
	free(tlds);
	if(fclose(c.out) != 0 || check_zone(tmp, zone) != 0 ||
		rename(tmp, path) != 0) {
		fprintf(stderr, "doppel: %s not written\n", path);
		unlink(tmp);
		return 1;
	}
	printf("%s: %zu lookalikes (with their subdomains) in zone %s\n", path,
		c.written, zone);
	return 0;
}
