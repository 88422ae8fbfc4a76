/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who holds a listening socket: the socket's inode from /proc/net/{tcp,tcp6,unix},
 * then the process with an fd on "socket:[inode]" from /proc/<pid>/fd. Only
 * processes we may look into are found (our own user's, or all as root). */
#pragma once

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* The process holding a TCP socket listening on port PORT at address ADDR
 * (an AF_INET or AF_INET6 sockaddr; its port is ignored), or on the
 * wildcard address of that family. -ENOENT when not found. */
int socket_owner_tcp(const struct sockaddr *addr, socklen_t len, pid_t *ret_pid);
/* The process holding a stream socket listening at PATH. */
int socket_owner_unix(const char *path, pid_t *ret_pid);
/* "pid 1234 (redis-server)" for messages; NULL on allocation failure. */
char *socket_owner_describe(pid_t pid);
