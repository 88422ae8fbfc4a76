/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "curl-api.h"

CurlApi curl_api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_result;
static char load_why[256];

#define SYMBOL(field, name) { offsetof(CurlApi, field), name }
static const struct {
        size_t offset;
        const char *name;
} symbols[] = {
        SYMBOL(global_init, "curl_global_init"),
        SYMBOL(easy_init, "curl_easy_init"),
        SYMBOL(easy_cleanup, "curl_easy_cleanup"),
        SYMBOL(easy_setopt, "curl_easy_setopt"),
        SYMBOL(easy_getinfo, "curl_easy_getinfo"),
        SYMBOL(easy_perform, "curl_easy_perform"),
        SYMBOL(easy_strerror, "curl_easy_strerror"),
        SYMBOL(multi_init, "curl_multi_init"),
        SYMBOL(multi_cleanup, "curl_multi_cleanup"),
        SYMBOL(multi_setopt, "curl_multi_setopt"),
        SYMBOL(multi_add_handle, "curl_multi_add_handle"),
        SYMBOL(multi_remove_handle, "curl_multi_remove_handle"),
        SYMBOL(multi_socket_action, "curl_multi_socket_action"),
        SYMBOL(multi_info_read, "curl_multi_info_read"),
        SYMBOL(slist_append, "curl_slist_append"),
        SYMBOL(slist_free_all, "curl_slist_free_all"),
        SYMBOL(free, "curl_free"),
        SYMBOL(url, "curl_url"),
        SYMBOL(url_cleanup, "curl_url_cleanup"),
        SYMBOL(url_get, "curl_url_get"),
        SYMBOL(url_set, "curl_url_set"),
        SYMBOL(url_strerror, "curl_url_strerror"),
};

static void load(void) {
        /* The library stays loaded for the life of the process, like any
         * linked library: curl_global_cleanup() is never called. */
        void *dl = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
        if (!dl) {
                snprintf(load_why, sizeof load_why, "libcurl could not be loaded: %s", dlerror());
                load_result = -EOPNOTSUPP;
                return;
        }
        for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
                void *f = dlsym(dl, symbols[i].name);
                if (!f) {
                        snprintf(load_why, sizeof load_why, "libcurl lacks %s (too old?)", symbols[i].name);
                        load_result = -EOPNOTSUPP;
                        return;
                }
                *(void **) ((char *) &curl_api + symbols[i].offset) = f;
        }
        if (curl_api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                snprintf(load_why, sizeof load_why, "libcurl could not be initialized");
                load_result = -EIO;
        }
}

int curl_api_load(const char **ret_why) {
        (void) pthread_once(&load_once, load);
        if (load_result < 0 && ret_why)
                *ret_why = load_why;
        return load_result;
}
