/*
 * tests/unit/test_cases.c - run the verdict tables, tests/cases/NAME.test.
 *
 * Format, in the spirit of jq's tests: '#' comments, a line
 * `policy: PATH` (relative to the repository root) that applies to the
 * cases after it, and one case a line, tab- or space-separated:
 *
 *     NAME  VERDICT  TARGET|-  TECHNIQUE|-
 *
 * NAME is in presentation format (escapes allowed).  Run from the
 * repository root.  All the files make one test, unit/cases/tables; each
 * case that fails is printed above its line, with its file and line.
 */
#include "doppel.h"
#include "test.h"

#include <dirent.h>

#define CASES_DIR "tests/cases"

static int cases_run;

/** Compare a verdict field with the expected text ("-" for NULL). */
static int
field_ok(const char* got, const char* want)
{
	if(strcmp(want, "-") == 0)
		return got == NULL;
	return got && strcmp(got, want) == 0;
}

static void
run_file(const char* path)
{
	FILE* f = fopen(path, "r");
	char line[2048];
	struct dp_policy* p = NULL;
	int lineno = 0;
	if(!f) {
		TEST_FAIL_AT("cannot open %s", path);
		return;
	}
	while(fgets(line, sizeof(line), f)) {
		char name[1024], verdict[32], target[1024], tech[64];
		char canon[DP_NAME_MAX];
		struct dp_verdict v;
		struct dp_error err;
		lineno++;
		line[strcspn(line, "\r\n")] = 0;
		if(line[0] == '#' || line[0] == 0)
			continue;
		if(strncmp(line, "policy:", 7) == 0) {
			char* s = line + 7;
			while(*s == ' ')
				s++;
			dp_policy_free(p);
			if(dp_policy_load(s, &p, &err) != DP_OK) {
				TEST_FAIL_AT("%s:%d: %s", path, lineno, err.msg);
				p = NULL;
			}
			continue;
		}
		if(sscanf(line, "%1023s %31s %1023s %63s", name, verdict, target,
			tech) != 4) {
			TEST_FAIL_AT("%s:%d: expected NAME VERDICT TARGET "
				"TECHNIQUE", path, lineno);
			continue;
		}
		if(!p) {
			TEST_FAIL_AT("%s:%d: no policy loaded", path, lineno);
			continue;
		}
		if(dp_name_from_text(name, canon, sizeof(canon)) != DP_OK) {
			TEST_FAIL_AT("%s:%d: bad name %s", path, lineno, name);
			continue;
		}
		dp_policy_check(p, canon, &v);
		cases_run++;
		if(strcmp(dp_action_str(v.action), verdict) != 0 ||
			!field_ok(v.target, target) ||
			!field_ok(v.technique, tech))
			TEST_FAIL_AT("%s:%d: %s: want %s %s %s, got %s %s %s "
				"(%s)", path, lineno, name, verdict, target,
				tech, dp_action_str(v.action),
				v.target ? v.target : "-",
				v.technique ? v.technique : "-", v.why);
	}
	fclose(f);
	dp_policy_free(p);
}

static void
test_tables(void)
{
	DIR* d = opendir(CASES_DIR);
	struct dirent* e;
	int files = 0;
	if(!d) {
		TEST_FAIL_AT("cannot open %s (run from the repository root)",
			CASES_DIR);
		return;
	}
	while((e = readdir(d)) != NULL) {
		char path[512];
		size_t n = strlen(e->d_name);
		if(n < 6 || strcmp(e->d_name + n - 5, ".test") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", CASES_DIR, e->d_name);
		run_file(path);
		files++;
	}
	closedir(d);
	ASSERT(files > 0);
	ASSERT(cases_run > 0);
	printf("    %d cases in %d files\n", cases_run, files);
}

static const struct test_entry tests[] = {
	TEST_ENTRY(tables),
};

TEST_MAIN("cases", tests)
