/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mk_raise_fd_limit(): the soft RLIMIT_NOFILE children get back. */
#pragma once

#include <sys/resource.h>

/* The RLIMIT_NOFILE every child libmirakuru starts is given (the limit the
 * process had before mk_raise_fd_limit() raised it), or NULL: inherited. */
const struct rlimit *fd_limit_for_children(void);
