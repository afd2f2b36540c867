/*
 * geo-data/geo_build.c - build doppel's country .mmdb from Debian's
 * tor-geoipdb ranges or from a "CIDR CC" fixture file.
 *
 * This is the standalone form of `doppel geo build`.  The CLI reuses the
 * command without this file's main(): compile it with -DGEO_BUILD_NO_MAIN
 * and call geo_build_main() (geo_build.h) with the arguments after
 * "build".
 */
#include "geo_build.h"
#include "mmdb_write.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/** Print how to call the program. */
static void
usage(FILE* out, const char* prog)
{
	fprintf(out,
		"usage: %s OUT.mmdb [--tor4 PATH] [--tor6 PATH]\n"
		"       %s OUT.mmdb --fixture FILE [--fixture FILE...]\n"
		"\n"
		"Write a MaxMind DB country database (database_type "
		"doppel-country).\n"
		"  --tor4 PATH     tor IPv4 ranges (default %s)\n"
		"  --tor6 PATH     tor IPv6 ranges (default %s)\n"
		"  --fixture FILE  'CIDR CC' lines instead of tor's files, "
		"e.g. '192.0.2.0/24 ML'\n",
		prog, prog, DP_GEO_TOR4_PATH, DP_GEO_TOR6_PATH);
}

int
geo_build_main(const char* prog, int argc, char** argv)
{
	const char* out = NULL;
	const char* tor4 = NULL;
	const char* tor6 = NULL;
	const char* fixtures[64];
	int nfix = 0, i, rc = 1;
	struct dp_geo_ranges* gr = NULL;
	struct dp_geo_info info;
	struct dp_error err;
	struct timespec t0, t1;
	dp_status st = DP_OK;

	for(i = 0; i < argc; i++) {
		const char* a = argv[i];
		if(strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout, prog);
			return 0;
		}
		if((strcmp(a, "--tor4") == 0 || strcmp(a, "--tor6") == 0 ||
			strcmp(a, "--fixture") == 0) && i + 1 < argc) {
			if(strcmp(a, "--tor4") == 0)
				tor4 = argv[++i];
			else if(strcmp(a, "--tor6") == 0)
				tor6 = argv[++i];
			else if(nfix < (int)(sizeof(fixtures) /
				sizeof(fixtures[0])))
				fixtures[nfix++] = argv[++i];
			else {
				fprintf(stderr, "%s: too many --fixture "
					"files\n", prog);
				return 2;
			}
		} else if(a[0] == '-' || out) {
			fprintf(stderr, "%s: unexpected argument '%s'\n",
				prog, a);
			usage(stderr, prog);
			return 2;
		} else {
			out = a;
		}
	}
	if(!out || (nfix > 0 && (tor4 || tor6))) {
		usage(stderr, prog);
		return 2;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	err.msg[0] = 0;
	if(!(gr = dp_geo_ranges_create())) {
		st = DP_ERR_NOMEM;
		snprintf(err.msg, sizeof(err.msg), "out of memory");
		goto cleanup;
	}
	if(nfix > 0) {
		for(i = 0; i < nfix; i++)
			if((st = dp_geo_ranges_read_cidr(gr, fixtures[i],
				&err)) != DP_OK)
				goto cleanup;
	} else {
		if((st = dp_geo_ranges_read_tor(gr, tor4 ? tor4 :
			DP_GEO_TOR4_PATH, DP_GEO_V4, &err)) != DP_OK)
			goto cleanup;
		if((st = dp_geo_ranges_read_tor(gr, tor6 ? tor6 :
			DP_GEO_TOR6_PATH, DP_GEO_V6, &err)) != DP_OK)
			goto cleanup;
	}
	if((st = dp_geo_write_mmdb(gr, out, nfix > 0 ?
		"doppel test fixture (not real location data)" : NULL, &info,
		&err)) != DP_OK)
		goto cleanup;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%s: %zu ranges (%zu unknown skipped), %u countries, %u "
		"nodes, %u-bit records, %llu bytes, %.2f s\n", out, gr->num,
		gr->skipped, (unsigned)info.countries,
		(unsigned)info.node_count, (unsigned)info.record_size,
		(unsigned long long)info.file_size,
		(double)(t1.tv_sec - t0.tv_sec) +
		(double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	rc = 0;
cleanup:
	if(st != DP_OK)
		fprintf(stderr, "%s: %s\n", prog, err.msg);
	dp_geo_ranges_free(gr);
	return rc;
}

#ifndef GEO_BUILD_NO_MAIN
int
main(int argc, char** argv)
{
	return geo_build_main("geo_build", argc - 1, argv + 1);
}
#endif
