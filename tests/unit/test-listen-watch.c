/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which addresses the listen watch covers (probe/listen-watch.c): this
 * machine's, and never a remote host's, which keeps the back-off alone. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>

#include "probe/listen-watch.h"
#include "test-util.h"

static bool local(const char *address) {
        struct sockaddr_storage ss = {};
        struct sockaddr_in *in = (struct sockaddr_in *) &ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;

        if (inet_pton(AF_INET, address, &in->sin_addr) == 1)
                in->sin_family = AF_INET;
        else {
                assert_int_equal(inet_pton(AF_INET6, address, &in6->sin6_addr), 1);
                in6->sin6_family = AF_INET6;
        }
        return listen_watch_address_is_local((const struct sockaddr *) &ss);
}

static void test_loopback_and_wildcard(void **state) {
        assert_true(local("127.0.0.1"));
        assert_true(local("127.1.2.3"));
        assert_true(local("::1"));
        assert_true(local("0.0.0.0"));
        assert_true(local("::"));
        assert_true(local("::ffff:127.0.0.1"));
}

/* Documentation ranges (RFC 5737, RFC 3849) that no interface here has. */
static void test_remote(void **state) {
        struct ifaddrs *list = NULL;
        const char *remote[] = { "198.51.100.7", "203.0.113.9", "2001:db8::7", "::ffff:198.51.100.7" };

        assert_int_equal(getifaddrs(&list), 0);
        for (size_t i = 0; i < ELEMENTSOF(remote); i++) {
                bool on_an_interface = false;
                for (const struct ifaddrs *a = list; a; a = a->ifa_next) {
                        char buf[INET6_ADDRSTRLEN] = "";
                        if (!a->ifa_addr || (a->ifa_addr->sa_family != AF_INET && a->ifa_addr->sa_family != AF_INET6))
                                continue;
                        inet_ntop(a->ifa_addr->sa_family,
                                  a->ifa_addr->sa_family == AF_INET
                                          ? (const void *) &((struct sockaddr_in *) a->ifa_addr)->sin_addr
                                          : (const void *) &((struct sockaddr_in6 *) a->ifa_addr)->sin6_addr,
                                  buf, sizeof buf);
                        on_an_interface = on_an_interface || strcmp(buf, remote[i]) == 0;
                }
                if (!on_an_interface)
                        assert_false(local(remote[i]));
        }
        freeifaddrs(list);
}

/* Every address of every interface counts (not only loopback). */
static void test_interface_addresses(void **state) {
        struct ifaddrs *list = NULL;

        assert_int_equal(getifaddrs(&list), 0);
        for (const struct ifaddrs *a = list; a; a = a->ifa_next)
                if (a->ifa_addr && (a->ifa_addr->sa_family == AF_INET || a->ifa_addr->sa_family == AF_INET6))
                        assert_true(listen_watch_address_is_local(a->ifa_addr));
        freeifaddrs(list);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_loopback_and_wildcard),
                cmocka_unit_test(test_remote),
                cmocka_unit_test(test_interface_addresses),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
