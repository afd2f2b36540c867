/*
 * tests/unit/test_settings.c - doppel.conf parsing: values, defaults, and
 * errors that name the file and line.
 */
#include "doppel.h"
#include "test.h"

#include <unistd.h>

/** Write text to a fresh file in the scratch directory; returns its path
 * (static). */
static const char*
write_tmp(const char* text)
{
	static char path[512];
	FILE* f;
	int fd;
	test_path(path, sizeof(path), "settings-XXXXXX");
	fd = mkstemp(path);
	if(fd < 0 || !(f = fdopen(fd, "w")))
		return NULL;
	fputs(text, f);
	fclose(f);
	return path;
}

static void
test_values(void)
{
	struct dp_settings s;
	struct dp_error err;
	const char* p = write_tmp("# doppel\npolicy: /etc/doppel/p.txt\n"
		"on-error: closed   # fail closed\nblock-ttl: 60\n"
		"log-verdicts: no\n");
	ASSERT_EQ(dp_settings_load(p, &s, &err), DP_OK);
	ASSERT_STR_EQ(s.policy, "/etc/doppel/p.txt");
	ASSERT_EQ(s.on_error, DP_ON_ERROR_CLOSED);
	ASSERT_EQ(s.block_ttl, 60);
	ASSERT_EQ(s.log_verdicts, 0);
	unlink(p);
}

static void
test_defaults_and_relative(void)
{
	struct dp_settings s;
	struct dp_error err;
	const char* p = write_tmp("policy: \"policy.txt\"\n");
	char want[512];
	ASSERT_EQ(dp_settings_load(p, &s, &err), DP_OK);
	ASSERT_STR_EQ(s.policy, test_path(want, sizeof(want), "policy.txt"));
	ASSERT_EQ(s.on_error, DP_ON_ERROR_OPEN);
	ASSERT_EQ(s.block_ttl, 300);
	ASSERT_EQ(s.log_verdicts, 1);
	unlink(p);
}

/** Bad input and the message it must produce. */
static const struct {
	const char* text;
	dp_status st;
	const char* in_msg;
} bad[] = {
	{ "policy: p\nfrobnicate: yes\n", DP_ERR_SYNTAX,
		":2: unknown setting 'frobnicate'" },
	{ "policy p\n", DP_ERR_SYNTAX, ":1: expected 'key: value'" },
	{ "policy: p\non-error: maybe\n", DP_ERR_SYNTAX,
		":2: on-error: expected 'open' or 'closed', got 'maybe'" },
	{ "policy: p\nblock-ttl: -5\n", DP_ERR_SYNTAX, ":2: block-ttl" },
	{ "policy: p\nblock-ttl: 1x\n", DP_ERR_SYNTAX, ":2: block-ttl" },
	{ "on-error: closed\n", DP_ERR_SYNTAX, "no 'policy:' setting" },
	{ "policy:\n", DP_ERR_SYNTAX, ":1: policy: needs a path" },
	{ "policy: p\naudit-dnstap: udp:127.0.0.1:6000\n", DP_ERR_SYNTAX,
		":2: audit-dnstap 'udp:127.0.0.1:6000': expected unix:/PATH "
		"or tcp:HOST:PORT" },
	{ "policy: p\naudit-dnstap: unix:tap.sock\n", DP_ERR_SYNTAX,
		":2: audit-dnstap 'unix:tap.sock': unix: wants an absolute" },
	{ "policy: p\naudit-dnstap: tcp:collector.example:6000\n",
		DP_ERR_SYNTAX, "'collector.example' is not an IPv4 or IPv6" },
	{ "policy: p\naudit-dnstap: tcp:127.0.0.1:0\n", DP_ERR_SYNTAX,
		"the port must be 1 to 65535" },
	{ "policy: p\naudit-dnstap: tcp:127.0.0.1\n", DP_ERR_SYNTAX,
		"tcp: wants HOST:PORT" },
};

static void
test_dnstap_destinations(void)
{
	static const char* const good[] = { "unix:/run/doppel/tap.sock",
		"tcp:127.0.0.1:6000", "tcp:[::1]:6000", "tcp:2001:db8::1:53" };
	size_t i;
	for(i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct dp_settings s;
		struct dp_error err;
		char text[256];
		const char* p;
		snprintf(text, sizeof(text), "policy: p\naudit-dnstap: %s\n",
			good[i]);
		p = write_tmp(text);
		err.msg[0] = 0;
		if(dp_settings_load(p, &s, &err) != DP_OK)
			TEST_FAIL_AT("%s refused: %s", good[i], err.msg);
		else
			ASSERT_STR_EQ(s.audit_dnstap, good[i]);
		unlink(p);
	}
}

static void
test_errors(void)
{
	size_t i;
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dp_settings s;
		struct dp_error err;
		const char* p = write_tmp(bad[i].text);
		err.msg[0] = 0;
		ASSERT_EQ(dp_settings_load(p, &s, &err), bad[i].st);
		if(!strstr(err.msg, bad[i].in_msg) || !strstr(err.msg, p))
			TEST_FAIL_AT("case %zu: message '%s' lacks '%s' or the "
				"path", i, err.msg, bad[i].in_msg);
		unlink(p);
	}
}

static void
test_on_error_kept_on_failure(void)
{
	/* on-error closed must still apply when a later line is bad. */
	struct dp_settings s;
	struct dp_error err;
	const char* p = write_tmp("on-error: closed\nbogus\n");
	ASSERT_EQ(dp_settings_load(p, &s, &err), DP_ERR_SYNTAX);
	ASSERT_EQ(s.on_error, DP_ON_ERROR_CLOSED);
	unlink(p);
}

static void
test_missing_file(void)
{
	struct dp_settings s;
	struct dp_error err;
	ASSERT_EQ(dp_settings_load("/nonexistent/doppel.conf", &s, &err),
		DP_ERR_IO);
	ASSERT(strstr(err.msg, "/nonexistent/doppel.conf") != NULL);
	ASSERT(strstr(err.msg, "No such file") != NULL);
}

static const struct test_entry tests[] = {
	TEST_ENTRY(values),
	TEST_ENTRY(defaults_and_relative),
	TEST_ENTRY(errors),
	TEST_ENTRY(dnstap_destinations),
	TEST_ENTRY(on_error_kept_on_failure),
	TEST_ENTRY(missing_file),
};

TEST_MAIN("settings", tests)
