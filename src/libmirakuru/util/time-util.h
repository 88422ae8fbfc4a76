/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC now, in microseconds. */
uint64_t now_usec(void);
/* A + B, saturating at UINT64_MAX (MK_USEC_INFINITY). */
uint64_t usec_add(uint64_t a, uint64_t b);
