/*
 * tools/audit_summary.c - counting an audit log (see audit_summary.h).
 */
#include "audit_summary.h"

#include <stdio.h>
#include <string.h>

int
dp_audit_summary_init(struct dp_audit_summary* s)
{
	memset(s, 0, sizeof(*s));
	s->by_verdict = json_object();
	s->by_target = json_object();
	s->by_tech = json_object();
	s->by_country = json_object();
	s->top = json_object();
	s->by_client = json_object();
	s->by_day = json_object();
	s->day_tech = json_object();
	s->would_block = json_object();
	if(!s->by_verdict || !s->by_target || !s->by_tech || !s->by_country ||
		!s->top || !s->by_client || !s->by_day || !s->day_tech ||
		!s->would_block) {
		dp_audit_summary_free(s);
		return -1;
	}
	return 0;
}

/** Add w to a count in a JSON object of counts. */
static void
count_in(json_t* obj, const char* key, json_int_t w)
{
	json_t* n;
	if(!key)
		key = "-";
	n = json_object_get(obj, key);
	json_object_set_new(obj, key, json_integer(n && json_is_integer(n) ?
		json_integer_value(n) + w : w));
}

int
dp_audit_summary_line(struct dp_audit_summary* s, const char* line,
	size_t len)
{
	json_error_t je;
	json_t* rec = json_loadb(line, len, 0, &je);
	json_t* rep;
	json_int_t w;
	const char *verdict, *cc, *t;
	char day[16];
	s->lines++;
	if(!rec || !json_is_object(rec)) {
		s->bad++;
		snprintf(s->last_error, sizeof(s->last_error), "%s",
			rec ? "not an object" : je.text);
		json_decref(rec);
		return 0;
	}
	/* a collapsed record (audit-collapse) stands for its repeats */
	rep = json_object_get(rec, "repeats");
	w = json_is_integer(rep) && json_integer_value(rep) > 0 ?
		json_integer_value(rep) : 1;
	s->queries += (uint64_t)w;
	verdict = json_string_value(json_object_get(rec, "verdict"));
	count_in(s->by_verdict, verdict, w);
	count_in(s->by_client, json_string_value(json_object_get(rec,
		"client")), w);
	if((t = json_string_value(json_object_get(rec, "time"))) &&
		strlen(t) >= 10) {
		snprintf(day, sizeof(day), "%.10s", t);
		count_in(s->by_day, day, w);
	} else
		snprintf(day, sizeof(day), "-");
	if(verdict && strcmp(verdict, "would-block") == 0)
		count_in(s->would_block, json_string_value(
			json_object_get(rec, "qname")), w);
	if(verdict && strcmp(verdict, "allow") != 0) {
		json_t* dt = json_object_get(s->day_tech, day);
		if(!dt && (dt = json_object()) != NULL &&
			json_object_set_new(s->day_tech, day, dt) != 0)
			dt = NULL;
		if(dt)
			count_in(dt, json_string_value(json_object_get(rec,
				"technique")), w);
		count_in(s->by_target, json_string_value(
			json_object_get(rec, "target")), w);
		count_in(s->by_tech, json_string_value(
			json_object_get(rec, "technique")), w);
		count_in(s->top, json_string_value(
			json_object_get(rec, "qname")), w);
	}
	if((cc = json_string_value(json_object_get(rec, "countries")))) {
		/* "ML,FR": one count each */
		char buf[64], *tok, *save = NULL;
		snprintf(buf, sizeof(buf), "%s", cc);
		for(tok = strtok_r(buf, ",", &save); tok;
			tok = strtok_r(NULL, ",", &save))
			count_in(s->by_country, tok, w);
	}
	json_decref(rec);
	return 1;
}

json_t*
dp_audit_summary_json(const struct dp_audit_summary* s)
{
	return json_pack("{s:I,s:I,s:I,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O}",
		"records", (json_int_t)(s->lines - s->bad), "queries",
		(json_int_t)s->queries, "unreadable",
		(json_int_t)s->bad, "verdicts", s->by_verdict, "targets",
		s->by_target, "techniques", s->by_tech, "countries",
		s->by_country, "lookalikes", s->top, "clients", s->by_client,
		"days", s->by_day, "days_by_technique", s->day_tech,
		"would_block", s->would_block);
}

void
dp_audit_summary_free(struct dp_audit_summary* s)
{
	json_decref(s->by_verdict);
	json_decref(s->by_target);
	json_decref(s->by_tech);
	json_decref(s->by_country);
	json_decref(s->top);
	json_decref(s->by_client);
	json_decref(s->by_day);
	json_decref(s->day_tech);
	json_decref(s->would_block);
	s->by_verdict = s->by_target = s->by_tech = s->by_country = s->top =
		NULL;
	s->by_client = s->by_day = s->day_tech = s->would_block = NULL;
}
