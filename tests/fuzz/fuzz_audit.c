/*
 * tests/fuzz/fuzz_audit.c - libFuzzer target over the audit-log summary
 * reader (`doppel audit summary`): the input is a log, read line by line
 * as the command reads it; the counts must add up and serialise.
 */
#include "audit_summary.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	struct dp_audit_summary s;
	const char* p = (const char*)data;
	const char* end = p + size;
	size_t records = 0;
	json_t* out;
	char* text;
	if(dp_audit_summary_init(&s) != 0)
		return 0;
	while(p < end) {
		const char* nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		records += (size_t)dp_audit_summary_line(&s, p, n);
		p += n;
	}
	if(records + s.bad != s.lines)
		abort();
	if(!(out = dp_audit_summary_json(&s)))
		abort();
	if(!(text = json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT)))
		abort();
	free(text);
	json_decref(out);
	dp_audit_summary_free(&s);
	return 0;
}
