/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mirakuru-run -f FILE [SERVICE...]: start a group of services from a
 * compose file, then run --then's command or supervise them in the
 * foreground, and tear everything down in reverse dependency order. */
#pragma once

#include "options.h"

/* Returns mirakuru-run's exit status. */
int group_run(const Options *o);
