/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Built without libcurl: no http probe. */
#include <errno.h>

#include "executor-private.h"

int mk_executor_add_http_probe(MkExecutor *e, const MkHttpProbe *probe) {
        if (!e)
                return -EINVAL;
        executor_set_error(e, "http probe: mirakuru was built without libcurl");
        return -EOPNOTSUPP;
}
