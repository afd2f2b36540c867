/*
 * geo-data/geo_build.h - the "build the country database" command, for the
 * standalone geo_build program and for `doppel geo build`.
 */
#ifndef DP_GEO_BUILD_H
#define DP_GEO_BUILD_H

/**
 * Run the command: read tor's range files (or --fixture files), write
 * OUT.mmdb atomically and print one summary line on stdout; errors go to
 * stderr as "PROG: FILE:LINE: what".
 *	PROG OUT.mmdb [--tor4 PATH] [--tor6 PATH]
 *	PROG OUT.mmdb --fixture FILE [--fixture FILE...]
 * @param prog: name for messages, e.g. "geo_build" or "doppel geo build".
 * @param argc, argv: the arguments, without the program or command name.
 * @return exit status: 0 done, 1 failed, 2 bad usage.
 */
int geo_build_main(const char* prog, int argc, char** argv);

#endif /* DP_GEO_BUILD_H */
