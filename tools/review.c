/*
 * tools/review.c - ranking the names an audit log shows flagged, and the
 * policy lines that would accept them (see review.h).
 */
#include "review.h"
#include "cli.h"
#include "doppel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/** Skipped lines reported per file; the rest are only counted. */
#define REVIEW_SHOWN_SKIPS 10

/** Longest "time" kept (lib/audit.c writes 27 characters). */
#define REVIEW_TIME_MAX 40

/** Names listed after a suggested policy line, in its comment. */
#define REVIEW_COVERED_NAMES 4

/** What a technique means for the suggestions: the registered label
 * under another suffix, or anything else. */
enum review_tech {
	REVIEW_TECH_OTHER = 0,
	REVIEW_TECH_SUFFIX
};

/** One flagged name and what it takes to count its distinct values. */
struct entry {
	/** what dp_review_row() gives out; its strings point below */
	struct dp_review_row row;
	char* name;
	char* target;
	char* technique;
	enum review_tech tech;
	/** the target and technique come from a record with a time */
	int tt_timed;
	char first[REVIEW_TIME_MAX];
	char last[REVIEW_TIME_MAX];
	/** sets (keys to null) of the client addresses and the days */
	json_t* clients;
	json_t* days;
	char* registered;
	char* suggest;
};

struct dp_review {
	/** the flagged names, in the order first read (stable addresses) */
	struct entry** entries;
	size_t n, cap;
	/** name -> its position in entries, as an integer */
	json_t* index;
	/** entries in rank order; valid while ranked */
	struct entry** order;
	int ranked;
	uint64_t records, skipped;
	char why[200];
};

struct dp_review*
dp_review_create(void)
{
	struct dp_review* r = calloc(1, sizeof(*r));
	if(!r)
		return NULL;
	if(!(r->index = json_object())) {
		free(r);
		return NULL;
	}
	return r;
}

/** Free one entry and what it owns. */
static void
entry_free(struct entry* e)
{
	if(!e)
		return;
	free(e->name);
	free(e->target);
	free(e->technique);
	free(e->registered);
	free(e->suggest);
	json_decref(e->clients);
	json_decref(e->days);
	free(e);
}

void
dp_review_free(struct dp_review* r)
{
	size_t i;
	if(!r)
		return;
	for(i = 0; i < r->n; i++)
		entry_free(r->entries[i]);
	free(r->entries);
	free(r->order);
	json_decref(r->index);
	free(r);
}

/** Replace *dst by a copy of src (NULL stays NULL). @return 0 when out
 * of memory, *dst then unchanged. */
static int
set_str(char** dst, const char* src)
{
	char* c = NULL;
	if(src && !(c = strdup(src)))
		return 0;
	free(*dst);
	*dst = c;
	return 1;
}

/** The entry of a name, created empty if it is new. @return NULL when
 * out of memory. */
static struct entry*
entry_get(struct dp_review* r, const char* name)
{
	json_t* at = json_object_get(r->index, name);
	struct entry* e;
	if(at)
		return r->entries[json_integer_value(at)];
	if(r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct entry** grown = realloc(r->entries,
			cap * sizeof(*grown));
		if(!grown)
			return NULL;
		r->entries = grown;
		r->cap = cap;
	}
	if(!(e = calloc(1, sizeof(*e))))
		return NULL;
	if(!(e->name = strdup(name)) || !(e->clients = json_object()) ||
		!(e->days = json_object()) ||
		json_object_set_new_nocheck(r->index, name,
		json_integer((json_int_t)r->n)) != 0) {
		entry_free(e);
		return NULL;
	}
	e->row.name = e->name;
	e->row.first_seen = e->first;
	e->row.last_seen = e->last;
	r->entries[r->n++] = e;
	return e;
}

/** Add key to a set. @return 0 when out of memory. */
static int
set_add(json_t* set, const char* key)
{
	if(json_object_get(set, key))
		return 1;
	return json_object_set_new(set, key, json_null()) == 0;
}

/** Whether a "time" can be compared and gives a day: it starts with
 * YYYY-MM-DD and fits. */
static int
time_usable(const char* t)
{
	static const char shape[] = "dddd-dd-dd";
	size_t i, n = t ? strlen(t) : 0;
	if(n < sizeof(shape) - 1 || n >= REVIEW_TIME_MAX)
		return 0;
	for(i = 0; i < sizeof(shape) - 1; i++)
		if(shape[i] == 'd' ? t[i] < '0' || t[i] > '9' : t[i] != '-')
			return 0;
	return t[i] == 0 || t[i] == 'T' || t[i] == ' ';
}

/** The action a verdict names, through the one table of their names.
 * @return 0 if it names none. */
static int
action_of(const char* verdict, enum dp_action* a)
{
	static const enum dp_action all[] = { DP_ALLOW, DP_WARN, DP_BLOCK };
	size_t i;
	/* monitor mode's block, which let the answer through */
	if(strcmp(verdict, "would-block") == 0) {
		*a = DP_BLOCK;
		return 1;
	}
	for(i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if(strcmp(dp_action_str(all[i]), verdict) == 0) {
			*a = all[i];
			return 1;
		}
	return 0;
}

/** What a technique named in a record means for the suggestions. */
static enum review_tech
tech_of(const char* technique)
{
	if(technique && (strcmp(technique, "tld-swap") == 0 ||
		strcmp(technique, "tld-typo") == 0))
		return REVIEW_TECH_SUFFIX;
	return REVIEW_TECH_OTHER;
}

/** Count a time of a record into its entry: its day, its first sighting.
 * @return 0 when out of memory. */
static int
note_time(struct entry* e, const char* when)
{
	char day[11];
	memcpy(day, when, 10);
	day[10] = 0;
	if(!set_add(e->days, day))
		return 0;
	if(!e->first[0] || strcmp(when, e->first) < 0)
		memcpy(e->first, when, strlen(when) + 1);
	return 1;
}

/** Count a flagged record of name into its entry. */
static enum dp_review_status
add_flagged(struct dp_review* r, const char* name, enum dp_action a,
	json_t* rec)
{
	const char* when = json_string_value(json_object_get(rec, "time"));
	const char* client = json_string_value(json_object_get(rec, "client"));
	const char* target = json_string_value(json_object_get(rec, "target"));
	const char* tech = json_string_value(json_object_get(rec, "technique"));
	/* A collapsed record (audit-collapse) stands for its "repeats",
	 * the first of which came at "first". */
	json_t* rep = json_object_get(rec, "repeats");
	const char* from = json_string_value(json_object_get(rec, "first"));
	json_int_t weight = json_is_integer(rep) &&
		json_integer_value(rep) > 0 ? json_integer_value(rep) : 1;
	struct entry* e = entry_get(r, name);
	int timed = time_usable(when), latest;
	if(!e)
		return DP_REVIEW_NOMEM;
	if(client && client[0] && !set_add(e->clients, client))
		return DP_REVIEW_NOMEM;
	if(timed && (!note_time(e, when) ||
		(time_usable(from) && !note_time(e, from))))
		return DP_REVIEW_NOMEM;
	/* The target and technique of the latest record: the policy as it
	 * is now.  A record without a time is older than any with one. */
	latest = timed ? !e->last[0] || strcmp(when, e->last) >= 0 :
		!e->tt_timed;
	if(timed && latest)
		memcpy(e->last, when, strlen(when) + 1);
	if(latest) {
		if(!set_str(&e->target, target) ||
			!set_str(&e->technique, tech))
			return DP_REVIEW_NOMEM;
		e->tech = tech_of(tech);
		e->tt_timed = timed;
		e->row.target = e->target;
		e->row.technique = e->technique;
	}
	e->row.verdicts |= 1u << a;
	e->row.queries += (uint64_t)weight;
	e->row.clients = json_object_size(e->clients);
	e->row.days = json_object_size(e->days);
	return DP_REVIEW_RECORD;
}

/** Whether n bytes are all blank. */
static int
blank(const char* s, size_t n)
{
	size_t i;
	for(i = 0; i < n; i++)
		if(s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/** What a JSON value is, for a message. */
static const char*
json_kind(const json_t* v)
{
	switch(json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "something else";
}

enum dp_review_status
dp_review_line(struct dp_review* r, const char* line, size_t len)
{
	enum dp_review_status st = DP_REVIEW_SKIPPED;
	json_error_t je;
	json_t* rec = NULL;
	const char *qname, *verdict;
	char name[DP_NAME_MAX];
	enum dp_action a;
	r->why[0] = 0;
	if(blank(line, len))
		return DP_REVIEW_BLANK;
	r->ranked = 0;
	if(!(rec = json_loadb(line, len, 0, &je))) {
		snprintf(r->why, sizeof(r->why), "not JSON: %.150s", je.text);
		goto done;
	}
	if(!json_is_object(rec)) {
		snprintf(r->why, sizeof(r->why), "not a JSON object but %s",
			json_kind(rec));
		goto done;
	}
	if(!(qname = json_string_value(json_object_get(rec, "qname")))) {
		snprintf(r->why, sizeof(r->why), "no \"qname\" (a string)");
		goto done;
	}
	/* Canonical names only: they are what the policy compares, and
	 * they hold nothing that would break a suggested policy line. */
	if(dp_name_from_text(qname, name, sizeof(name)) != DP_OK ||
		!name[0]) {
		snprintf(r->why, sizeof(r->why), "\"qname\" \"%.60s\" is not "
			"a domain name", qname);
		goto done;
	}
	if(!(verdict = json_string_value(json_object_get(rec, "verdict")))) {
		snprintf(r->why, sizeof(r->why), "no \"verdict\" (a string)");
		goto done;
	}
	if(!action_of(verdict, &a)) {
		snprintf(r->why, sizeof(r->why), "unknown verdict \"%.40s\" "
			"(known: allow, warn, block, would-block)", verdict);
		goto done;
	}
	st = a == DP_ALLOW ? DP_REVIEW_RECORD : add_flagged(r, name, a, rec);
	if(st == DP_REVIEW_RECORD)
		r->records++;
	else
		snprintf(r->why, sizeof(r->why), "out of memory");
done:
	if(st == DP_REVIEW_SKIPPED)
		r->skipped++;
	json_decref(rec);
	return st;
}

const char*
dp_review_why(const struct dp_review* r)
{
	return r->why;
}

uint64_t
dp_review_records(const struct dp_review* r)
{
	return r->records;
}

uint64_t
dp_review_skipped(const struct dp_review* r)
{
	return r->skipped;
}

/** The rank key: distinct clients times distinct days. */
static uint64_t
spread(const struct entry* e)
{
	return (uint64_t)e->row.clients * (uint64_t)e->row.days;
}

/** qsort order: the most widely seen first (see dp_review_rank()). */
static int
rank_cmp(const void* a, const void* b)
{
	const struct entry* x = *(struct entry* const*)a;
	const struct entry* y = *(struct entry* const*)b;
	uint64_t sx = spread(x), sy = spread(y);
	if(sx != sy)
		return sx > sy ? -1 : 1;
	if(x->row.queries != y->row.queries)
		return x->row.queries > y->row.queries ? -1 : 1;
	return strcmp(x->name, y->name);
}

size_t
dp_review_rank(struct dp_review* r)
{
	struct entry** order;
	if(r->ranked)
		return r->n;
	if(!(order = realloc(r->order, (r->n ? r->n : 1) * sizeof(*order))))
		return (size_t)-1;
	r->order = order;
	if(r->n)
		memcpy(order, r->entries, r->n * sizeof(*order));
	qsort(order, r->n, sizeof(*order), rank_cmp);
	r->ranked = 1;
	return r->n;
}

const struct dp_review_row*
dp_review_row(const struct dp_review* r, size_t i)
{
	if(!r->ranked || i >= r->n)
		return NULL;
	return &r->order[i]->row;
}

/** The registered label of a registered domain: its first label.
 * @return its length, 0 if the domain has a single label. */
static size_t
label_len(const char* reg)
{
	const char* dot = strchr(reg, '.');
	return dot ? (size_t)(dot - reg) : 0;
}

/** The registered domain of a name: from the list, else the name. */
static const char*
registered_of(const psl_ctx_t* psl, const char* name)
{
	const char* reg = psl ? psl_registrable_domain(psl, name) : NULL;
	return reg ? reg : name;
}

/** Whether e is a tld-swap or tld-typo whose registered label is that of
 * its target (yahoo.de for yahoo.com, not googlec.om for google.com),
 * and only ever warned: a blocked one (navy.ml for navy.mil) is strong
 * evidence that `ours navy.*` must not wave through with a namesake. */
static int
same_label_elsewhere(const psl_ctx_t* psl, const struct entry* e)
{
	const char* treg;
	size_t n = label_len(e->registered);
	if(!psl || e->tech != REVIEW_TECH_SUFFIX || !e->target || n == 0 ||
		(e->row.verdicts & (1u << DP_BLOCK)))
		return 0;
	treg = registered_of(psl, e->target);
	return label_len(treg) == n && memcmp(treg, e->registered, n) == 0;
}

/** Whether e gets a policy line: seen from enough clients, and not a
 * public suffix itself (`allow co.uk` would let every lookalike under
 * co.uk through, and `ours gov.*` from gov.ml more still). */
static int
eligible(const psl_ctx_t* psl, const struct entry* e, size_t min_clients)
{
	return e->row.clients >= min_clients &&
		!(psl && psl_is_public_suffix(psl, e->name));
}

int
dp_review_suggest(struct dp_review* r, const psl_ctx_t* psl,
	size_t min_clients, size_t rows)
{
	/* registered label -> set of the suffixes it is flagged under */
	json_t* suffixes = json_object();
	char key[DP_NAME_MAX];
	size_t i;
	int ok = 0;
	if(!suffixes || dp_review_rank(r) == (size_t)-1)
		goto cleanup;
	if(rows > r->n)
		rows = r->n;
	for(i = 0; i < rows; i++) {
		struct entry* e = r->order[i];
		free(e->suggest);
		e->suggest = NULL;
		e->row.suggest = NULL;
		if(!set_str(&e->registered, registered_of(psl, e->name)))
			goto cleanup;
		e->row.registered = e->registered;
		if(!eligible(psl, e, min_clients) ||
			!same_label_elsewhere(psl, e))
			continue;
		snprintf(key, sizeof(key), "%.*s", (int)label_len(
			e->registered), e->registered);
		if(!json_object_get(suffixes, key) &&
			json_object_set_new(suffixes, key, json_object()) != 0)
			goto cleanup;
		if(!set_add(json_object_get(suffixes, key),
			e->registered + label_len(e->registered) + 1))
			goto cleanup;
	}
	for(i = 0; i < rows; i++) {
		struct entry* e = r->order[i];
		size_t n = label_len(e->registered);
		char line[DP_NAME_MAX + 16];
		json_t* under;
		if(!eligible(psl, e, min_clients))
			continue;
		snprintf(key, sizeof(key), "%.*s", (int)n, e->registered);
		under = n ? json_object_get(suffixes, key) : NULL;
		/* `ours yahoo.*` covers every name whose registered label is
		 * yahoo, whatever flagged it. */
		if(under && json_object_size(under) >= 2)
			snprintf(line, sizeof(line), "ours %s.*", key);
		else
			snprintf(line, sizeof(line), "allow %s",
				e->registered);
		if(!set_str(&e->suggest, line))
			goto cleanup;
		e->row.suggest = e->suggest;
	}
	ok = 1;
cleanup:
	json_decref(suffixes);
	return ok ? 0 : -1;
}

/** The verdicts of a row as text ("block", "warn", "block,warn"). */
static const char*
verdicts_str(unsigned v)
{
	if((v & (1u << DP_BLOCK)) && (v & (1u << DP_WARN)))
		return "block,warn";
	return v & (1u << DP_BLOCK) ? "block" : "warn";
}

json_t*
dp_review_json(const struct dp_review* r, size_t rows)
{
	json_t* arr = json_array();
	size_t i;
	int ok = 0;
	if(!arr || !r->ranked)
		goto cleanup;
	for(i = 0; i < rows && i < r->n; i++) {
		const struct dp_review_row* w = &r->order[i]->row;
		json_t* verdicts = json_array();
		json_t* o;
		if(!verdicts)
			goto cleanup;
		if(w->verdicts & (1u << DP_BLOCK))
			json_array_append_new(verdicts,
				json_string(dp_action_str(DP_BLOCK)));
		if(w->verdicts & (1u << DP_WARN))
			json_array_append_new(verdicts,
				json_string(dp_action_str(DP_WARN)));
		/* "o" hands verdicts over, even when packing fails */
		o = json_pack("{s:I,s:s,s:o,s:s?,s:s?,s:I,s:I,s:I,s:s?,s:s?,"
			"s:s?,s:s?}", "rank", (json_int_t)(i + 1), "name",
			w->name, "verdicts", verdicts, "target", w->target,
			"technique", w->technique, "queries",
			(json_int_t)w->queries, "clients",
			(json_int_t)w->clients, "days", (json_int_t)w->days,
			"first_seen", w->first_seen[0] ? w->first_seen : NULL,
			"last_seen", w->last_seen[0] ? w->last_seen : NULL,
			"registered", w->registered, "suggest", w->suggest);
		if(!o || json_array_append_new(arr, o) != 0)
			goto cleanup;
	}
	ok = 1;
cleanup:
	if(!ok) {
		json_decref(arr);
		arr = NULL;
	}
	return arr;
}

/** Widen *w to the length of s. */
static void
widen(int* w, const char* s)
{
	int n = (int)strlen(s);
	if(n > *w)
		*w = n;
}

/** Widen *w to the digits of v. */
static void
widen_num(int* w, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	widen(w, buf);
}

/** A time as people read it: to the second, "-" when there is none. */
static const char*
seen_str(const char* t, char* buf, size_t len)
{
	if(!t[0])
		return "-";
	snprintf(buf, len, "%.19s", t);
	return buf;
}

/** Print the table's rows. */
static void
print_table(const struct dp_review* r, size_t rows, FILE* out)
{
	int wr = 4, wn = 4, wv = 7, wt = 6, wq = 7, wc = 7, wd = 4, wk = 9;
	char first[REVIEW_TIME_MAX], last[REVIEW_TIME_MAX];
	size_t i;
	widen_num(&wr, rows);
	for(i = 0; i < rows; i++) {
		const struct dp_review_row* w = &r->order[i]->row;
		widen(&wn, w->name);
		widen(&wv, verdicts_str(w->verdicts));
		widen(&wt, w->target ? w->target : "-");
		widen(&wk, w->technique ? w->technique : "-");
		widen_num(&wq, w->queries);
		widen_num(&wc, w->clients);
		widen_num(&wd, w->days);
	}
	fprintf(out, "%*s  %-*s  %-*s  %-*s  %-*s  %*s  %*s  %*s  %-19s  %s\n",
		wr, "rank", wn, "name", wv, "verdict", wt, "target", wk,
		"technique", wq, "queries", wc, "clients", wd, "days",
		"first seen (UTC)", "last seen (UTC)");
	for(i = 0; i < rows; i++) {
		const struct dp_review_row* w = &r->order[i]->row;
		fprintf(out, "%*zu  %-*s  %-*s  %-*s  %-*s  %*llu  %*zu  %*zu  "
			"%-19s  %s\n", wr, i + 1, wn, w->name, wv,
			verdicts_str(w->verdicts), wt, w->target ? w->target :
			"-", wk, w->technique ? w->technique : "-", wq,
			(unsigned long long)w->queries, wc, w->clients, wd,
			w->days, seen_str(w->first_seen, first, sizeof(first)),
			seen_str(w->last_seen, last, sizeof(last)));
	}
}

int
dp_review_print(const struct dp_review* r, size_t rows, size_t min_clients,
	FILE* out)
{
	/* each suggested line once, in rank order, with the names it
	 * covers */
	json_t* lines = json_array();
	json_t* covers = json_object();
	size_t i, k;
	int wl = 0, ok = 0;
	if(rows > r->n)
		rows = r->n;
	if(!r->ranked)
		goto cleanup;
	print_table(r, rows, out);
	if(!lines || !covers)
		goto cleanup;
	for(i = 0; i < rows; i++) {
		const struct dp_review_row* w = &r->order[i]->row;
		json_t* names;
		if(!w->suggest)
			continue;
		if(!(names = json_object_get(covers, w->suggest))) {
			if(!(names = json_array()) ||
				json_object_set_new(covers, w->suggest,
				names) != 0 || json_array_append_new(lines,
				json_string(w->suggest)) != 0)
				goto cleanup;
			widen(&wl, w->suggest);
		}
		if(json_array_append_new(names, json_string(w->name)) != 0)
			goto cleanup;
	}
	fprintf(out, "\n# Suggested policy lines: they accept as legitimate "
		"the names above seen\n# from at least %zu distinct client%s. "
		"Nothing is changed; paste the lines\n# you agree with into "
		"the policy (`ours LABEL.*`: that registered label is\n# ours "
		"under every suffix).\n", min_clients, min_clients == 1 ? "" :
		"s");
	if(json_array_size(lines) == 0)
		fprintf(out, "# (none: no name shown was seen from that many "
			"clients)\n");
	for(k = 0; k < json_array_size(lines); k++) {
		const char* line = json_string_value(json_array_get(lines, k));
		json_t* names = json_object_get(covers, line);
		size_t j, n = json_array_size(names);
		fprintf(out, "%-*s  #", wl, line);
		for(j = 0; j < n && j < REVIEW_COVERED_NAMES; j++)
			fprintf(out, "%s %s", j ? "," : "", json_string_value(
				json_array_get(names, j)));
		if(n > REVIEW_COVERED_NAMES)
			fprintf(out, " and %zu more", n - REVIEW_COVERED_NAMES);
		fprintf(out, "\n");
	}
	ok = 1;
cleanup:
	json_decref(lines);
	json_decref(covers);
	return ok ? 0 : -1;
}

/** Read one log into the review, reporting skipped lines.
 * @return 1 if it was read to the end, 0 if it could not be read, -1 when
 *	out of memory. */
static int
read_log(struct dp_review* r, const char* path, char** line, size_t* cap)
{
	uint64_t lineno = 0, bad = 0;
	FILE* f = fopen(path, "r");
	ssize_t n;
	int rc = 1;
	if(!f) {
		fprintf(stderr, "doppel: %s: cannot read: %s\n", path,
			strerror(errno));
		return 0;
	}
	errno = 0;
	while((n = getline(line, cap, f)) >= 0) {
		enum dp_review_status st = dp_review_line(r, *line, (size_t)n);
		lineno++;
		if(st == DP_REVIEW_NOMEM) {
			rc = -1;
			break;
		}
		if(st == DP_REVIEW_SKIPPED && ++bad <= REVIEW_SHOWN_SKIPS)
			fprintf(stderr, "doppel: %s:%llu: skipped: %s\n", path,
				(unsigned long long)lineno, dp_review_why(r));
		errno = 0;
	}
	if(rc == 1 && ferror(f)) {
		fprintf(stderr, "doppel: %s: cannot read: %s\n", path,
			strerror(errno ? errno : EIO));
		rc = 0;
	}
	if(bad > REVIEW_SHOWN_SKIPS)
		fprintf(stderr, "doppel: %s: %llu more lines skipped\n", path,
			(unsigned long long)(bad - REVIEW_SHOWN_SKIPS));
	fclose(f);
	return rc;
}

/** Read a count option's value. @return 0 if it is not one. */
static int
parse_count(const char* s, size_t* out)
{
	unsigned long long v;
	char* end;
	if(!s || s[0] < '0' || s[0] > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if(*end || errno || v > (unsigned long long)SIZE_MAX)
		return 0;
	*out = (size_t)v;
	return 1;
}

enum { RV_MIN_CLIENTS, RV_TOP, RV_JSON };
static const struct cli_opt review_opts[] = {
	{ "--min-clients", NULL, 1 }, { "--top", NULL, 1 },
	{ "--json", NULL, 0 }, { NULL, NULL, 0 }
};

int
dp_review_main(int argc, char** argv)
{
	size_t min_clients = 2, top = 50, nrows, shown;
	struct cli_args a;
	char** logs;
	struct dp_review* r = NULL;
	psl_ctx_t* psl = NULL;
	json_t* arr = NULL;
	char* line = NULL;
	size_t cap = 0;
	int i, k, nlogs, nread = 0, json, rc, oom = 0;
	if((rc = cli_parse(argc, argv, 2, "review", review_opts, &a)) >= 0)
		return rc;
	logs = a.ops;
	nlogs = a.nops;
	json = cli_given(&a, RV_JSON);
	rc = 2;
	for(k = 0; k < a.nopts; k++)
		if(a.opts[k].opt != RV_JSON && !parse_count(a.opts[k].value,
			a.opts[k].opt == RV_TOP ? &top : &min_clients)) {
			rc = cli_usage_error("review", "%s needs a count (0 or "
				"more)", review_opts[a.opts[k].opt].name);
			goto cleanup;
		}
	if(nlogs == 0) {
		rc = cli_usage_error("review", "no LOG given");
		goto cleanup;
	}
	/* From here on a log that cannot be read is 2, out of memory 3
	 * (said at the end). */
	rc = 3;
	oom = 1;
	if(!(r = dp_review_create()))
		goto cleanup;
	for(i = 0; i < nlogs; i++) {
		int got = read_log(r, logs[i], &line, &cap);
		if(got < 0)
			goto cleanup;
		nread += got;
	}
	if((nrows = dp_review_rank(r)) == (size_t)-1)
		goto cleanup;
	shown = top && top < nrows ? top : nrows;
	fprintf(json ? stderr : stdout, "%llu records read, %llu lines "
		"skipped, from %d of %d log%s; %zu flagged names, %zu shown\n",
		(unsigned long long)dp_review_records(r),
		(unsigned long long)dp_review_skipped(r), nread, nlogs,
		nlogs == 1 ? "" : "s", nrows, shown);
	if(dp_review_records(r) == 0) {
		fprintf(stderr, "doppel: no audit record read\n");
		oom = 0;
		rc = 2;
		goto cleanup;
	}
	if(shown && !(psl = psl_load_file(DP_PSL_DEFAULT)))
		fprintf(stderr, "doppel: cannot load the Public Suffix List "
			"%s: suggesting whole names\n", DP_PSL_DEFAULT);
	if(dp_review_suggest(r, psl, min_clients, shown) != 0)
		goto cleanup;
	if(json) {
		if(!(arr = dp_review_json(r, shown)))
			goto cleanup;
		json_dumpf(arr, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("\n");
	} else if(dp_review_print(r, shown, min_clients, stdout) != 0)
		goto cleanup;
	oom = 0;
	/* a log that could not be read: the others' figures, and 2 */
	rc = nread < nlogs ? 2 : 0;
cleanup:
	if(oom)
		fprintf(stderr, "doppel: out of memory\n");
	json_decref(arr);
	psl_free(psl);
	dp_review_free(r);
	free(line);
	free(a.ops);
	return rc;
}
