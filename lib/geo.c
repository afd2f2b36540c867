/*
 * lib/geo.c - the country of an address, from a MaxMind DB country
 * database (doppel's own from geo-data/, or GeoLite2/DB-IP country files:
 * the same country/iso_code path).
 */
#include "internal.h"

#include <errno.h>
#include <maxminddb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct dp_geo {
	MMDB_s db;
};

/**
 * Put a copy of the database's bytes in place of the file's map, at the
 * same address (libmaxminddb keeps pointers into it and unmaps it at
 * close), in memory of the process's own: a file written over in place or
 * cut short under the resolver then cannot fault a lookup (SIGBUS), as it
 * would through the map.
 * @return 0, or -1 with errno set.
 */
static int
keep_a_copy(MMDB_s* db)
{
	size_t size = (size_t)db->file_size;
	void* at = (void*)db->file_content;
	void* tmp;
	if(size == 0)
		return 0;
	if(!(tmp = malloc(size)))
		return -1;
	memcpy(tmp, at, size);
	if(mmap(at, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		MAP_FIXED, -1, 0) == MAP_FAILED) {
		int e = errno;
		free(tmp);
		errno = e;
		return -1;
	}
	memcpy(at, tmp, size);
	free(tmp);
	return mprotect(at, size, PROT_READ);
}

dp_status
dp_geo_open(const char* path, struct dp_geo** out, struct dp_error* err)
{
	struct dp_geo* g = calloc(1, sizeof(*g));
	int rc;
	*out = NULL;
	if(!g) {
		dp_error_set(err, "%s: out of memory", path);
		return DP_ERR_NOMEM;
	}
	/* MMDB_MODE_MMAP (the only mode): read-only, shared by every
	 * thread; keep_a_copy then lets go of the file. */
	if((rc = MMDB_open(path, MMDB_MODE_MMAP, &g->db)) != MMDB_SUCCESS) {
		/* errno says why the file could not be opened or read */
		int sys = rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR;
		const char* why = sys ? strerror(errno) : "";
		dp_error_set(err, "%s: cannot open country database: %s%s%s",
			path, MMDB_strerror(rc), sys ? ": " : "", why);
		free(g);
		return rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR ?
			DP_ERR_IO : DP_ERR_FORMAT;
	}
	if(keep_a_copy(&g->db) != 0) {
		dp_error_set(err, "%s: cannot copy the country database into "
			"memory: %s", path, strerror(errno));
		MMDB_close(&g->db);
		free(g);
		return DP_ERR_NOMEM;
	}
	*out = g;
	return DP_OK;
}

void
dp_geo_close(struct dp_geo* g)
{
	if(!g)
		return;
	MMDB_close(&g->db);
	free(g);
}

int
dp_geo_country(const struct dp_geo* g, const struct sockaddr* sa,
	char cc[3])
{
	MMDB_lookup_result_s r;
	MMDB_entry_data_s d;
	int mmerr = 0;
	cc[0] = 0;
	r = MMDB_lookup_sockaddr((MMDB_s*)&g->db, sa, &mmerr);
	if(mmerr != MMDB_SUCCESS || !r.found_entry)
		return 0;
	if(MMDB_get_value(&r.entry, &d, "country", "iso_code", NULL) !=
		MMDB_SUCCESS || !d.has_data || d.type != MMDB_DATA_TYPE_UTF8_STRING ||
		d.data_size != 2)
		return 0;
	cc[0] = d.utf8_string[0];
	cc[1] = d.utf8_string[1];
	cc[2] = 0;
	return 1;
}
