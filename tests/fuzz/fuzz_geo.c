/*
 * tests/fuzz/fuzz_geo.c - libFuzzer target over the readers of country
 * ranges (tor's geoip files for IPv4 and IPv6, and the "CIDR CC" fixture
 * format) and the MaxMind DB writer behind them: the first byte of the
 * input picks the reader, the rest is the file.  Ranges that read are
 * written as a database, which must open and answer lookups.
 */
#include "doppel.h"
#include "mmdb_write.h"
#include "fuzz_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

int LLVMFuzzerInitialize(int* argc, char*** argv);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int
LLVMFuzzerInitialize(int* argc, char*** argv)
{
	(void)argc;
	(void)argv;
	fuzz_scratch("geo");
	return 0;
}

static void
lookups(const struct dp_geo* g)
{
	static const char* const v4[] = { "0.0.0.0", "1.2.3.4", "192.0.2.1",
		"255.255.255.255" };
	static const char* const v6[] = { "::", "2001:db8::1",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" };
	char cc[3];
	size_t i;
	for(i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		struct sockaddr_in a;
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		inet_pton(AF_INET, v4[i], &a.sin_addr);
		if(dp_geo_country(g, (struct sockaddr*)&a, cc) &&
			(strlen(cc) != 2))
			abort();
	}
	for(i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		struct sockaddr_in6 a;
		memset(&a, 0, sizeof(a));
		a.sin6_family = AF_INET6;
		inet_pton(AF_INET6, v6[i], &a.sin6_addr);
		if(dp_geo_country(g, (struct sockaddr*)&a, cc) &&
			(strlen(cc) != 2))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	char path[128], db[128];
	struct dp_geo_ranges* gr;
	struct dp_geo* g = NULL;
	struct dp_error err;
	dp_status st;
	if(size < 1 || size > 65536)
		return 0;
	if(fuzz_write("ranges.txt", data + 1, size - 1, path,
		sizeof(path)) != 0)
		return 0;
	if(!(gr = dp_geo_ranges_create()))
		return 0;
	switch(data[0] % 3) {
	case 0:
		st = dp_geo_ranges_read_tor(gr, path, DP_GEO_V4, &err);
		break;
	case 1:
		st = dp_geo_ranges_read_tor(gr, path, DP_GEO_V6, &err);
		break;
	default:
		st = dp_geo_ranges_read_cidr(gr, path, &err);
		break;
	}
	if(st == DP_OK) {
		snprintf(db, sizeof(db), "%s/country.mmdb", fuzz_dir);
		if(dp_geo_write_mmdb(gr, db, NULL, NULL, &err) == DP_OK) {
			if(dp_geo_open(db, &g, &err) != DP_OK) {
				fprintf(stderr, "fuzz_geo: the database written "
					"does not open: %s\n", err.msg);
				abort();
			}
			lookups(g);
			dp_geo_close(g);
		}
	}
	dp_geo_ranges_free(gr);
	return 0;
}
