/*
 * lib/internal.h - declarations shared between libdoppel's source files;
 * not installed, not part of the API.
 */
#ifndef DOPPEL_INTERNAL_H
#define DOPPEL_INTERNAL_H

#include "doppel.h"

#include <stdarg.h>
#include <stdio.h>

/**
 * A string-keyed hash map, open addressing, filled once and then read-only.
 * Keys are copied into the map; values are opaque pointers.
 */
struct dp_strmap {
	/** slots, a power of two */
	size_t cap;
	/** used slots */
	size_t count;
	/** keys (NULL when the slot is empty) */
	char** keys;
	/** values, parallel to keys */
	void** vals;
};

/** Initialise an empty map. */
void dp_strmap_init(struct dp_strmap* m);
/** Release the map's storage (not what the values point to). */
void dp_strmap_clear(struct dp_strmap* m);
/**
 * Insert key (len bytes) unless present.
 * @param stored: if not NULL, receives the map's own copy of the key.
 * @return DP_OK (also when present: the old value is kept), DP_ERR_NOMEM.
 */
dp_status dp_strmap_put(struct dp_strmap* m, const char* key, size_t len,
	void* val, const char** stored);
/**
 * Look up key (len bytes, need not be NUL terminated).
 * @param found: set to 1 if the key is present (the value may be NULL).
 * @return the value, NULL if absent.
 */
void* dp_strmap_get(const struct dp_strmap* m, const char* key, size_t len,
	int* found);

/** Format "what" into err (printf style); err may be NULL. */
void dp_error_set(struct dp_error* err, const char* fmt, ...)
#ifdef __GNUC__
	__attribute__((format(printf, 2, 3)))
#endif
	;

/**
 * Read one line of a configuration file into buf, without its newline;
 * strips a '#' comment and surrounding blanks.
 * @return 1 if a line was read, 0 at end of file, -1 if the line is longer
 *	than the buffer.
 */
int dp_read_line(FILE* f, char* buf, size_t len);

/**
 * Resolve a path found in a file relative to that file's directory.
 * @param base: the file the path was read from.
 * @param path: the path; absolute paths are copied as they are.
 * @return DP_OK or DP_ERR_SPACE.
 */
dp_status dp_path_relative(const char* base, const char* path, char* out,
	size_t outlen);

#endif /* DOPPEL_INTERNAL_H */
