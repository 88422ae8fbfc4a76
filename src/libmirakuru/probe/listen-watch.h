/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Watching for a TCP listener on this machine without connecting: an inet
 * sock_diag lookup of the probed address and port (the kernel finds the
 * listener as for an incoming connect, in one hash lookup), or where the
 * kernel refuses that, a dump filtered to listening sockets on the port
 * (as `ss -ltn sport = :PORT` does), tells whether something listens
 * where a connect would land. Nothing reaches the service, so nothing shows
 * in its log. When to ask: on each sock:inet_sock_set_state tracepoint
 * event for the port (listen-event.h) and shortly after it, where the
 * kernel allows perf (mk_executor_set_listen_event()), so nothing runs
 * while the service starts; else every mk_executor_set_listen_poll()
 * interval (1 ms). Which path was taken, and why, is kept on the executor
 * (mk_executor_get_listen_watch()).
 *
 * An accelerator, never a gate: the tcp and http probes keep their own
 * backing-off connects (a listener in another network namespace is not
 * visible here, a remote host never is), and only the real connect or HTTP
 * request decides readiness. When a matching listener appears (and on the
 * first query that finds one), the watch calls the probe back so it tries
 * at once. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "probe.h"

typedef struct ListenWatch ListenWatch;

/* Called from the loop when a matching listener appears. */
typedef void (*listen_watch_handler_t)(Probe *p);

/* Is SA (AF_INET or AF_INET6) an address whose listeners this machine's
 * kernel holds: loopback, the wildcard (a connect there reaches loopback),
 * v4-mapped forms of those, or an address of a local interface? */
bool listen_watch_address_is_local(const struct sockaddr *sa);

/* Starts watching for a listener at any of the N addresses (sockaddr_in or
 * sockaddr_in6, each with its port) that is local; the rest are ignored.
 * -EREMOTE when none is local, -EPROTONOSUPPORT (or another negative errno)
 * when the kernel does not answer sock_diag queries, -ECANCELED when the
 * executor's listen poll is off: then there is nothing to watch and the
 * caller's connects are all there is. Queries every probe_listen_poll(). */
int listen_watch_new(Probe *p, const struct sockaddr_storage *addrs, size_t n,
                     listen_watch_handler_t handler, ListenWatch **ret);
/* The same for HOST (a numeric address, "[::1]" included, or "localhost"
 * and its *.localhost names, which mean ::1 and 127.0.0.1) and PORT. Other
 * names give -EREMOTE: resolving them could block the loop. */
int listen_watch_new_for_host(Probe *p, const char *host, uint16_t port,
                              listen_watch_handler_t handler, ListenWatch **ret);
ListenWatch *listen_watch_free(ListenWatch *w);
