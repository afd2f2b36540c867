/*
 * lib/writer.h - the background writer of the audit log and of the
 * verdict cache: one thread that takes what others queue and writes it,
 * at least once a second or as soon as the queue is half full, with
 * SIGXFSZ blocked (a file-size limit fails the write instead of killing
 * the resolver), and that writes what is left when it is stopped.
 *
 * The owner keeps its queue under the writer's mutex (mx): it queues with
 * mx held and calls dp_writer_kick() when the queue is due.
 */
#ifndef DOPPEL_WRITER_H
#define DOPPEL_WRITER_H

#include <pthread.h>

/** What the writer does with its owner's queue. */
struct dp_writer_ops {
	/** With mx held: whether the queue is to be written at once. */
	int (*due)(void* owner);
	/** With mx held: take the queue for writing (swap buffers); last is
	 * set when the writer stops after this round. */
	void (*take)(void* owner, int last);
	/** Without mx: write what take took. */
	void (*write)(void* owner);
	/** With mx held: whether nothing is queued. */
	int (*empty)(void* owner);
	/** Without mx, from the writer thread, after its last write: free the
	 * owner, when dp_writer_stop left the writer behind; NULL if it
	 * never does. */
	void (*release)(void* owner);
};

struct dp_writer {
	pthread_mutex_t mx;
	pthread_cond_t cv, done_cv;
	pthread_t thread;
	const struct dp_writer_ops* ops;
	void* owner;
	int started, stopping, finished, left_behind;
};

/** Set up the lock and conditions (the owner may queue from now on). */
void dp_writer_init(struct dp_writer* w, const struct dp_writer_ops* ops,
	void* owner);

/** Start the thread. @return 0, or -1 if it could not be. */
int dp_writer_start(struct dp_writer* w);

/** With mx held: wake the writer (the queue is due). */
void dp_writer_kick(struct dp_writer* w);

/**
 * Stop the writer after it has written what is queued.
 * @param wait_seconds: how long to wait for it; 0 for as long as it takes.
 * @param abandon: called with mx held if the writer is still busy after
 *	wait_seconds (stuck in a write); it is then left behind, and frees
 *	the owner itself (ops->release) when the write returns.  arg is
 *	abandon's.
 * @return 0 when the writer is done and joined, -1 when left behind (the
 *	owner is then the writer's: not to be touched).
 */
int dp_writer_stop(struct dp_writer* w, int wait_seconds,
	void (*abandon)(void* owner, void* arg), void* arg);

/** Free the lock and conditions (the writer done, or never started). */
void dp_writer_destroy(struct dp_writer* w);

#endif /* DOPPEL_WRITER_H */
