/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Low fd slots for spawning from a process with a large fd table.
 *
 * A child created without CLONE_FILES gets a copy of the whole fd table
 * and then closes every entry (close_range() or close-on-exec), which costs
 * the kernel a filp_flush() per open fd: with N services open that is O(N)
 * per spawn, O(N^2) for N services (2,000 services: ~18,000 fds, most of
 * the system time of a compose start). Instead the fds a child needs are
 * duplicated into a few slots low in the table, the child is created with
 * CLONE_FILES (nothing copied), and its first act is
 * close_range(BOUND, ~0U, CLOSE_RANGE_UNSHARE): the kernel then copies
 * only the fds below BOUND into the child's own table, and closes nothing
 * of ours.
 *
 * The slots are made the first time a spawn needs an fd numbered 64 or
 * higher (below that the copy costs nothing worth saving), at the lowest
 * free numbers then, hold /dev/null while idle (O_CLOEXEC) and are kept
 * for the life of the process. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Fds below this need no slots. */
#define SPAWN_SLOTS_THRESHOLD 64

/* Takes the slots' lock and makes sure N slots exist. Returns 0 and the
 * bound (one above the highest slot) or a negative errno (no lock held). */
int spawn_slots_acquire(size_t n, int *ret_bound);

/* Under the lock: duplicates FD into slot I (I < N of the acquire) and
 * gives the slot's number in RET; FD itself when FD < 0 (none). */
int spawn_slots_put(size_t i, int fd, int *ret);

/* Resets the slots used since the acquire to /dev/null (dropping our
 * references to the child's fds) and releases the lock. */
void spawn_slots_release(void);
