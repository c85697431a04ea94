/*
 * notify: the systemd notification protocol (sd_notify) without linking
 * libsystemd: one datagram per message to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or '@' for an abstract socket). Pure logic plus
 * one socket; every call is a no-op when the variable is unset, so the
 * ticker behaves the same outside systemd.
 *
 * With WatchdogSec= in the unit, systemd sets $WATCHDOG_USEC and restarts
 * the service when no WATCHDOG=1 arrives within it. The render loop calls
 * notify_watchdog() every frame, so a frozen screen (a stuck driver, a
 * deadlock) stops the pings and gets the process restarted.
 */
#ifndef KT_NOTIFY_H
#define KT_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID (a watchdog meant
 * for another PID is ignored). Safe to call again: it re-reads them. */
void notify_init(void);

/* True when a notification socket is configured. */
bool notify_enabled(void);
/* Watchdog period in microseconds (0 = no watchdog). */
uint64_t notify_watchdog_usec(void);

/* Sends one message ("READY=1", "STATUS=...\nX=y"). Returns 0 when sent or
 * when there is no socket, -1 if sending failed (not worth more than a
 * debug line: the service manager decides what a missing ping means). */
int notify_send(const char *msg);

/* READY=1, only the first time it is called. */
void notify_ready(void);
/* STOPPING=1. */
void notify_stopping(void);

/* WATCHDOG=1 when half the watchdog period has passed since the last ping.
 * Per frame it costs a clock read (vDSO, no system call) and a compare; no
 * allocation, no system call unless a ping is due. */
void notify_watchdog(void);

#endif
