/*
 * tests/fuzz/fuzz_review.c - libFuzzer target over `doppel review`'s
 * reader (tools/review.c): the input is an audit log, fed line by line as
 * the command reads it; every line must be a record, blank or skipped,
 * and the ranking, the suggested policy lines, the JSON and the printed
 * table must come out of whatever was read.
 */
#include "review.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	static FILE* sink;
	struct dp_review* r = dp_review_create();
	const char* p = (const char*)data;
	const char* end = p + size;
	uint64_t lines = 0, blank = 0;
	json_t* out;
	char* text;
	if(!r)
		return 0;
	if(!sink && !(sink = fopen("/dev/null", "w")))
		abort();
	while(p < end) {
		const char* nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		enum dp_review_status st = dp_review_line(r, p, n);
		if(st == DP_REVIEW_NOMEM)
			abort();
		blank += st == DP_REVIEW_BLANK;
		lines++;
		p += n;
	}
	if(dp_review_records(r) + dp_review_skipped(r) + blank != lines)
		abort();
	if(dp_review_suggest(r, NULL, 1, 50) != 0)
		abort();
	if(!(out = dp_review_json(r, 50)))
		abort();
	if(!(text = json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT)))
		abort();
	free(text);
	json_decref(out);
	if(dp_review_print(r, 50, 1, sink) != 0)
		abort();
	dp_review_free(r);
	return 0;
}
