/*
 * signal-storm.h: a process that keeps signalling the driver's process
 * group while a case spawns, and a handler that notes when it runs in a
 * process other than the driver (a child that still had the parent's
 * handlers before exec). The signal is SIGWINCH: ignored by default, so a
 * child whose handlers were reset, and the exec'd child, are not hurt.
 */
#ifndef VFC_SIGNAL_STORM_H
#define VFC_SIGNAL_STORM_H

/* Once, in driver mode before anything else: own process group (so the
 * storm reaches only the driver and its children), the handler, the pipe. */
void storm_prepare(void);

/* Installs the handler with handler_flags (SA_*: a case's handler_flags,
 * SA_RESTART without them) and starts the storm process; returns its pid,
 * or -errno. Returns once the storm has sent its first signal. */
long storm_start(unsigned long handler_flags);

/* Stops and reaps the storm process and puts the handler back with
 * SA_RESTART; returns how many times the handler ran in another process
 * since storm_start. */
long storm_stop(long storm_pid);

#endif
