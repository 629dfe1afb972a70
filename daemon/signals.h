/* SIGTERM, SIGINT and SIGHUP delivered to the event loop, whichever thread the kernel
 * picks.
 *
 * sd-event's signal sources read a signalfd, which only sees signals every thread
 * blocks. slmd cannot promise that: libraries start threads before main() (OpenBLAS
 * starts its pool from a constructor) with the signals unblocked, and a SIGHUP landing
 * on such a thread would kill the process. So slmd installs plain handlers that write
 * the signal number into a pipe, and the loop reads the pipe (the self-pipe trick).
 * One instance per process. */
#ifndef SLMD_SIGNALS_H
#define SLMD_SIGNALS_H

#include <signal.h>
#include <stddef.h>
#include <systemd/sd-event.h>

struct slmd_signals;

/* Called on the loop thread, once per signal received. */
typedef void (*slmd_signal_fn)(void *userdata, int signo);

/* Blocks `signals` in the calling thread, so that threads it starts from now on inherit
 * the block and are never interrupted by them; slmd_signals_new() unblocks them again
 * in this thread. */
void slmd_signals_block(const int *signals, size_t n);

/* Installs the handlers, watches the pipe from `event`, and unblocks `signals` in the
 * calling (loop) thread. Returns 0 or a negative errno. */
int slmd_signals_new(sd_event *event, const int *signals, size_t n, slmd_signal_fn fn,
                     void *userdata, struct slmd_signals **out);

/* Restores the default actions and closes the pipe. */
void slmd_signals_free(struct slmd_signals *signals);

#endif
