/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing to pipes whose reader may be gone, inside a caller's process. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* write(2), except that a reader that went away gives -1/EPIPE and never
 * SIGPIPE: a library must not kill, or leave a signal pending in, the
 * process that uses it. SIGPIPE is blocked in the calling thread for the
 * call, and one that the write raised is taken back (one that was already
 * pending stays). */
ssize_t write_no_sigpipe(int fd, const void *buf, size_t n);
