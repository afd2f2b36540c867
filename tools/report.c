/*
 * tools/report.c - `doppel audit report`: one self-contained HTML page of
 * an audit summary.  The charts are inline SVG drawn here; the page has
 * no script, loads nothing (its Content-Security-Policy forbids every
 * fetch), and opens from a file or a mail attachment as it is.
 */
#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/** A key of an object of counts and its count. */
struct kv {
	const char* k;
	long long v;
};

static int
kv_by_count(const void* a, const void* b)
{
	const struct kv *x = a, *y = b;
	if(x->v != y->v)
		return x->v < y->v ? 1 : -1;
	return strcmp(x->k, y->k);
}

static int
kv_by_key(const void* a, const void* b)
{
	return strcmp(((const struct kv*)a)->k, ((const struct kv*)b)->k);
}

/** The counts of obj, sorted. @return how many (NULL when out of memory
 * or empty). */
static struct kv*
sorted(json_t* obj, int by_key, size_t* n)
{
	const char* key;
	json_t* val;
	struct kv* kv;
	size_t i = 0;
	*n = json_object_size(obj);
	if(!*n || !(kv = calloc(*n, sizeof(*kv)))) {
		*n = 0;
		return NULL;
	}
	json_object_foreach(obj, key, val) {
		kv[i].k = key;
		kv[i++].v = json_is_integer(val) ? json_integer_value(val) : 0;
	}
	qsort(kv, *n, sizeof(*kv), by_key ? kv_by_key : kv_by_count);
	return kv;
}

/** Write text escaped for HTML. */
static void
html(FILE* f, const char* s)
{
	for(; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if(c == '<')
			fputs("&lt;", f);
		else if(c == '>')
			fputs("&gt;", f);
		else if(c == '&')
			fputs("&amp;", f);
		else if(c == '"')
			fputs("&quot;", f);
		else if(c < 0x20 || c == 0x7f)
			fprintf(f, "\\%03u", c);
		else
			fputc(c, f);
	}
}

/** Colours of the techniques in the chart, in turn. */
static const char* const colours[] = {
	"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
	"#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"
};
#define NCOLOURS (sizeof(colours) / sizeof(colours[0]))

/** A chart of horizontal bars: the top of an object of counts. */
static void
bar_chart(FILE* f, const char* id, const char* title, json_t* obj,
	size_t top)
{
	size_t n, i, shown;
	struct kv* kv = sorted(obj, 0, &n);
	long long max = n ? kv[0].v : 0;
	shown = n < top ? n : top;
	fprintf(f, "<section id=\"%s\"><h2>", id);
	html(f, title);
	fprintf(f, "</h2>\n");
	if(!shown) {
		fprintf(f, "<p class=\"none\">none</p></section>\n");
		free(kv);
		return;
	}
	fprintf(f, "<svg class=\"chart\" role=\"img\" width=\"760\" "
		"height=\"%zu\" viewBox=\"0 0 760 %zu\">\n", shown * 22 + 4,
		shown * 22 + 4);
	for(i = 0; i < shown; i++) {
		double w = max > 0 ? 400.0 * (double)kv[i].v / (double)max : 0;
		fprintf(f, "<text x=\"290\" y=\"%zu\" text-anchor=\"end\">",
			i * 22 + 16);
		html(f, kv[i].k);
		fprintf(f, "</text><rect class=\"bar\" x=\"300\" y=\"%zu\" "
			"width=\"%.1f\" height=\"18\" fill=\"%s\"><title>",
			i * 22 + 2, w < 1 ? 1 : w, colours[0]);
		html(f, kv[i].k);
		fprintf(f, ": %lld</title></rect><text x=\"%.1f\" y=\"%zu\">"
			"%lld</text>\n", kv[i].v, 306 + w, i * 22 + 16,
			kv[i].v);
	}
	fprintf(f, "</svg></section>\n");
	free(kv);
}

/** The chart of verdicts per day, one stacked bar a day, a colour per
 * technique. */
static void
day_chart(FILE* f, const struct dp_audit_summary* s)
{
	size_t nd, nt, i, t;
	struct kv* days = sorted(s->day_tech, 1, &nd);
	struct kv* techs = sorted(s->by_tech, 0, &nt);
	long long max = 0;
	double bw;
	fprintf(f, "<section id=\"days\"><h2>Verdicts per day, by "
		"technique</h2>\n");
	if(!nd) {
		fprintf(f, "<p class=\"none\">none</p></section>\n");
		free(days);
		free(techs);
		return;
	}
	for(i = 0; i < nd; i++) {
		json_t* dt = json_object_get(s->day_tech, days[i].k);
		const char* k;
		json_t* v;
		long long sum = 0;
		json_object_foreach(dt, k, v)
			sum += json_integer_value(v);
		days[i].v = sum;
		if(sum > max)
			max = sum;
	}
	bw = 700.0 / (double)nd;
	if(bw > 60)
		bw = 60;
	fprintf(f, "<svg class=\"chart\" role=\"img\" width=\"760\" "
		"height=\"260\" viewBox=\"0 0 760 260\">\n");
	for(i = 0; i < nd; i++) {
		json_t* dt = json_object_get(s->day_tech, days[i].k);
		double y = 220, x = 40 + (double)i * bw;
		fprintf(f, "<g class=\"day\"><title>");
		html(f, days[i].k);
		fprintf(f, ": %lld</title>", days[i].v);
		for(t = 0; t < nt; t++) {
			json_t* v = json_object_get(dt, techs[t].k);
			double h;
			if(!v || json_integer_value(v) <= 0)
				continue;
			h = 200.0 * (double)json_integer_value(v) /
				(double)max;
			y -= h;
			fprintf(f, "<rect class=\"seg\" x=\"%.1f\" y=\"%.1f\" "
				"width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
				"<title>", x, y, bw * 0.8, h,
				colours[t % NCOLOURS]);
			html(f, techs[t].k);
			fprintf(f, ": %lld</title></rect>",
				(long long)json_integer_value(v));
		}
		fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" "
			"width=\"%.1f\" height=\"%.1f\" fill=\"none\"/>", x, y,
			bw * 0.8, 220 - y);
		fprintf(f, "<text x=\"%.1f\" y=\"240\" font-size=\"10\">",
			x);
		html(f, days[i].k + (strlen(days[i].k) == 10 ? 5 : 0));
		fprintf(f, "</text></g>\n");
	}
	fprintf(f, "</svg>\n<p class=\"legend\">");
	for(t = 0; t < nt; t++) {
		fprintf(f, "<span style=\"color:%s\">&#9632;</span> ",
			colours[t % NCOLOURS]);
		html(f, techs[t].k);
		fprintf(f, " ");
	}
	fprintf(f, "</p></section>\n");
	free(days);
	free(techs);
}

/** The would-block list of monitor mode, as a table. */
static void
would_block(FILE* f, const struct dp_audit_summary* s)
{
	size_t n, i;
	struct kv* kv = sorted(s->would_block, 0, &n);
	fprintf(f, "<section id=\"would-block\"><h2>Would have been blocked "
		"(monitor mode)</h2>\n");
	if(!n) {
		fprintf(f, "<p class=\"none\">none</p></section>\n");
		return;
	}
	fprintf(f, "<table><tr><th>name</th><th>queries</th></tr>\n");
	for(i = 0; i < n && i < 500; i++) {
		fprintf(f, "<tr><td>");
		html(f, kv[i].k);
		fprintf(f, "</td><td>%lld</td></tr>\n", kv[i].v);
	}
	fprintf(f, "</table></section>\n");
	free(kv);
}

int
dp_report_write(const struct dp_audit_summary* s, const char* path)
{
	char tmp[4200];
	FILE* f;
	int ok;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if(!(f = fopen(tmp, "w"))) {
		fprintf(stderr, "doppel: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
		"<meta charset=\"utf-8\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\""
		"default-src 'none'; style-src 'unsafe-inline'\">\n"
		"<title>doppel audit report</title>\n<style>\n"
		"body{font-family:sans-serif;margin:2em;color:#222}\n"
		"svg.chart text{font-size:12px;fill:#222}\n"
		"table{border-collapse:collapse}td,th{padding:2px 8px;"
		"border-bottom:1px solid #ddd;text-align:left}\n"
		".none{color:#888}\n</style></head><body>\n"
		"<h1>doppel audit report</h1>\n<p id=\"totals\">%zu records "
		"for %llu queries", s->lines - s->bad,
		(unsigned long long)s->queries);
	if(s->bad)
		fprintf(f, " (%zu unreadable lines)", s->bad);
	fprintf(f, "</p>\n");
	day_chart(f, s);
	bar_chart(f, "verdicts", "Verdicts", s->by_verdict, 10);
	bar_chart(f, "targets", "Protected domains imitated", s->by_target,
		20);
	bar_chart(f, "lookalikes", "Top lookalikes", s->top, 20);
	bar_chart(f, "clients", "Top clients", s->by_client, 20);
	would_block(f, s);
	fprintf(f, "</body></html>\n");
	ok = fflush(f) == 0 && !ferror(f);
	if(fclose(f) != 0)
		ok = 0;
	if(!ok || rename(tmp, path) != 0) {
		fprintf(stderr, "doppel: %s: cannot write: %s\n", path,
			strerror(errno));
		unlink(tmp);
		return -1;
	}
	printf("%s: %zu records\n", path, s->lines - s->bad);
	return 0;
}
