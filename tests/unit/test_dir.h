/*
 * tests/unit/test_dir.h - the scratch directory of a test program: made
 * at its first use under $TMPDIR (else /tmp), removed with all it holds
 * when the program exits.  The unit tests (through test.h) and
 * tests/geo/test_geo.c use it.
 */
#ifndef DOPPEL_TEST_DIR_H
#define DOPPEL_TEST_DIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char test_dir_path[256];

/** Remove path and, if it is a directory, all it holds (links are
 * removed, not followed). */
static void
test_dir_rm(const char* path)
{
	struct stat st;
	DIR* d;
	struct dirent* e;
	if(lstat(path, &st) != 0)
		return;
	if(S_ISDIR(st.st_mode) && (d = opendir(path)) != NULL) {
		while((e = readdir(d)) != NULL) {
			char sub[1024];
			if(e->d_name[0] == '.' && (e->d_name[1] == 0 ||
				(e->d_name[1] == '.' && e->d_name[2] == 0)))
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			test_dir_rm(sub);
		}
		closedir(d);
	}
	remove(path);
}

static void
test_dir_remove(void)
{
	if(test_dir_path[0])
		test_dir_rm(test_dir_path);
}

/** The scratch directory (made, and its removal at exit arranged, at the
 * first call; the program exits with status 2 if it cannot be made). */
static const char* test_dir(void) __attribute__((unused));
static const char*
test_dir(void)
{
	if(!test_dir_path[0]) {
		const char* t = getenv("TMPDIR");
		snprintf(test_dir_path, sizeof(test_dir_path),
			"%s/doppel-test.XXXXXX", t && *t ? t : "/tmp");
		if(!mkdtemp(test_dir_path)) {
			perror("mkdtemp");
			exit(2);
		}
		atexit(test_dir_remove);
	}
	return test_dir_path;
}

/** dir/NAME in out. @return out. */
static char* test_path(char* out, size_t cap, const char* name)
	__attribute__((unused));
static char*
test_path(char* out, size_t cap, const char* name)
{
	snprintf(out, cap, "%s/%s", test_dir(), name);
	return out;
}

#endif /* DOPPEL_TEST_DIR_H */
