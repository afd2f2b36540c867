/*
 * tools/rpz.h - the RPZ export of `doppel compile --rpz`.
 */
#ifndef DOPPEL_RPZ_H
#define DOPPEL_RPZ_H

#include "doppel.h"

/**
 * Write the lookalikes of every protected domain that the policy blocks as
 * an RPZ zone file (atomically), and check it with ldns.
 * @param src: the policy source, named in the zone's header.
 * @param zone: the zone's name.
 * @param path: the file to write.
 * @param psl_path: Public Suffix List to take the top-level domains from.
 * @return exit status: 0 written, 1 failed (said on stderr).
 */
int dp_rpz_write(struct dp_policy* p, const char* src, const char* zone,
	const char* path, const char* psl_path);

#endif /* DOPPEL_RPZ_H */
