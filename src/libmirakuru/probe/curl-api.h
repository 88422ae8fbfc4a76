/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libcurl, loaded with dlopen() the first time an HTTP probe is added, so
 * that programs that never probe HTTP do not map libcurl and the forty
 * libraries it pulls in (see docs/performance.md: the footprint figure). */
#pragma once

#include <curl/curl.h>

typedef struct CurlApi {
        typeof(curl_global_init) *global_init;
        typeof(curl_easy_init) *easy_init;
        typeof(curl_easy_cleanup) *easy_cleanup;
        typeof(curl_easy_setopt) *easy_setopt;
        typeof(curl_easy_getinfo) *easy_getinfo;
        typeof(curl_easy_perform) *easy_perform;
        typeof(curl_easy_strerror) *easy_strerror;
        typeof(curl_multi_init) *multi_init;
        typeof(curl_multi_cleanup) *multi_cleanup;
        typeof(curl_multi_setopt) *multi_setopt;
        typeof(curl_multi_add_handle) *multi_add_handle;
        typeof(curl_multi_remove_handle) *multi_remove_handle;
        typeof(curl_multi_socket_action) *multi_socket_action;
        typeof(curl_multi_info_read) *multi_info_read;
        typeof(curl_slist_append) *slist_append;
        typeof(curl_slist_free_all) *slist_free_all;
        typeof(curl_free) *free;
        typeof(curl_url) *url;
        typeof(curl_url_cleanup) *url_cleanup;
        typeof(curl_url_get) *url_get;
        typeof(curl_url_set) *url_set;
        typeof(curl_url_strerror) *url_strerror;
} CurlApi;

/* Filled by curl_api_load(). */
extern CurlApi curl_api;

/* Loads libcurl (once per process, thread safe) and runs curl_global_init().
 * 0 on success; -EOPNOTSUPP when libcurl is not installed or lacks a
 * function (RET_WHY, if given, says which), -EIO when it cannot initialize. */
int curl_api_load(const char **ret_why);
