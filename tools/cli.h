/*
 * tools/cli.h - what every doppel command shares: its options parsed the
 * same way (anywhere among the operands, "--" ends them, --help), one
 * table of exit statuses, text made safe for a terminal, input files
 * that may be compressed or standard input.
 */
#ifndef DOPPEL_CLI_H
#define DOPPEL_CLI_H

#include <stdio.h>

/** Exit statuses, the same for every command. */
enum {
	/** done; nothing blocked */
	CLI_OK = 0,
	/** done, and something was found: a name blocked (check, scan), a
	 * name not in the cache (cache show) */
	CLI_FOUND = 1,
	/** usage error, or an input missing, unreadable or malformed */
	CLI_USAGE = 2,
	/** an output could not be written, or out of memory */
	CLI_FAIL = 3
};

/** An option a command takes. */
struct cli_opt {
	/** its spellings ("-p", "--policy"); the second may be NULL */
	const char* name;
	const char* alias;
	/** whether a value follows it */
	int takes_value;
};

/** What parsing found: the values in the order given (an option given
 * twice is there twice), and the operands. */
struct cli_args {
	int nopts;
	struct {
		int opt;
		const char* value;
	} opts[64];
	int nops;
	char** ops;
};

/**
 * Parse argv[first..] against a command's options.  --help and -h print
 * help (to stdout) and make the command exit 0.
 * @param cmd: the command's name, for messages and help.
 * @return -1 to go on, or the status to exit with (help given, usage
 *	error said).
 */
int cli_parse(int argc, char** argv, int first, const char* cmd,
	const struct cli_opt* opts, struct cli_args* a);

/** The last value given for option i, or NULL. */
const char* cli_value(const struct cli_args* a, int i);

/** Whether option i was given. */
int cli_given(const struct cli_args* a, int i);

/** Print a command's help (usage and description) to out.
 * @return 0 if the command is known. */
int cli_help(FILE* out, const char* cmd);

/** Print a usage error for cmd, and its usage line, to stderr.
 * @return CLI_USAGE. */
int cli_usage_error(const char* cmd, const char* fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** Write s for a terminal: octets below 0x20 and 0x7f as \DDD (UTF-8 is
 * kept). */
void cli_put_safe(FILE* out, const char* s);

/** Open an input: "-" is standard input; a file ending in .gz (or any
 * gzip file) is read decompressed.  @return NULL with errno set. */
struct cli_in* cli_open(const char* path);

/** Read a line (with its newline) into buf. @return its length, or -1 at
 * the end. */
long cli_gets(struct cli_in* in, char* buf, int cap);

/** Whether reading failed (not just ended). */
int cli_error(struct cli_in* in);

void cli_close(struct cli_in* in);

#endif /* DOPPEL_CLI_H */
