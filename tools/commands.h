/*
 * tools/commands.h - doppel commands kept in files of their own.
 */
#ifndef DOPPEL_COMMANDS_H
#define DOPPEL_COMMANDS_H

#include "audit_summary.h"

/** `doppel conf-check [CONF]` (tools/ops.c). */
int dp_conf_check_main(int argc, char** argv);

/** `doppel stats [--json | --prometheus] [CONF]` (tools/ops.c). */
int dp_stats_main(int argc, char** argv);

/**
 * Write the HTML report of an audit summary (tools/report.c): one
 * self-contained page, no scripts, no fetches.
 * @return 0, or -1 (said on stderr).
 */
int dp_report_write(const struct dp_audit_summary* s, const char* path);

#endif /* DOPPEL_COMMANDS_H */
