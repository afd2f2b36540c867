/*
 * lib/writer.c - the background writer (see writer.h).
 */
#include "writer.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

void
dp_writer_init(struct dp_writer* w, const struct dp_writer_ops* ops,
	void* owner)
{
	w->ops = ops;
	w->owner = owner;
	w->started = w->stopping = w->finished = w->left_behind = 0;
	pthread_mutex_init(&w->mx, NULL);
	pthread_cond_init(&w->cv, NULL);
	pthread_cond_init(&w->done_cv, NULL);
}

static void*
writer_main(void* arg)
{
	struct dp_writer* w = arg;
	sigset_t xfsz;
	int left;
	/* Past a file-size limit, write() fails with EFBIG; unblocked,
	 * SIGXFSZ would kill the whole resolver. */
	sigemptyset(&xfsz);
	sigaddset(&xfsz, SIGXFSZ);
	pthread_sigmask(SIG_BLOCK, &xfsz, NULL);
	pthread_mutex_lock(&w->mx);
	for(;;) {
		int last;
		if(!w->stopping && !w->ops->due(w->owner)) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			pthread_cond_timedwait(&w->cv, &w->mx, &until);
		}
		last = w->stopping;
		w->ops->take(w->owner, last);
		pthread_mutex_unlock(&w->mx);
		w->ops->write(w->owner);
		pthread_mutex_lock(&w->mx);
		if(w->stopping && w->ops->empty(w->owner))
			break;
	}
	w->finished = 1;
	pthread_cond_broadcast(&w->done_cv);
	left = w->left_behind;
	pthread_mutex_unlock(&w->mx);
	/* left behind: the owner is ours to free; w is part of it */
	if(left && w->ops->release)
		w->ops->release(w->owner);
	return NULL;
}

int
dp_writer_start(struct dp_writer* w)
{
	if(pthread_create(&w->thread, NULL, writer_main, w) != 0)
		return -1;
	w->started = 1;
	return 0;
}

void
dp_writer_kick(struct dp_writer* w)
{
	pthread_cond_signal(&w->cv);
}

int
dp_writer_stop(struct dp_writer* w, int wait_seconds,
	void (*abandon)(void* owner, void* arg), void* arg)
{
	struct timespec until;
	pthread_t t = w->thread;
	if(!w->started)
		return 0;
	pthread_mutex_lock(&w->mx);
	w->stopping = 1;
	pthread_cond_signal(&w->cv);
	if(wait_seconds > 0) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += wait_seconds;
		while(!w->finished && pthread_cond_timedwait(&w->done_cv,
			&w->mx, &until) != ETIMEDOUT)
			;
		if(!w->finished) {
			/* stuck in a write (a hung network file system, a
			 * FIFO nobody reads): waiting would hold up whoever
			 * stops it, Unbound's reload */
			if(abandon)
				abandon(w->owner, arg);
			w->left_behind = 1;
			pthread_mutex_unlock(&w->mx);
			pthread_detach(t);
			return -1;
		}
	}
	pthread_mutex_unlock(&w->mx);
	pthread_join(t, NULL);
	w->started = 0;
	return 0;
}

void
dp_writer_destroy(struct dp_writer* w)
{
	pthread_mutex_destroy(&w->mx);
	pthread_cond_destroy(&w->cv);
	pthread_cond_destroy(&w->done_cv);
}
