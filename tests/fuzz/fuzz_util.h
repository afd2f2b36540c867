/*
 * tests/fuzz/fuzz_util.h - what the file-reading fuzz targets share: a
 * scratch directory (on /dev/shm when there is one, so that the syncs of
 * the writers cost little) and writing an input into a file there.
 */
#ifndef DOPPEL_FUZZ_UTIL_H
#define DOPPEL_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir[64];

/** Make the scratch directory (removed at exit by fuzz_cleanup). */
static void
fuzz_scratch(const char* tag)
{
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/doppel-fuzz-%s.XXXXXX",
		access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", tag);
	if(!mkdtemp(fuzz_dir)) {
		perror("mkdtemp");
		exit(2);
	}
}

/** path = scratch/name; write data there. @return 0, or -1. */
static int
fuzz_write(const char* name, const uint8_t* data, size_t size, char* path,
	size_t pathlen)
{
	FILE* f;
	snprintf(path, pathlen, "%s/%s", fuzz_dir, name);
	if(!(f = fopen(path, "wb")))
		return -1;
	if(size && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

#endif
