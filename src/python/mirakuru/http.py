"""HTTPExecutor: ready once a URL answers with an expected status."""

import re
import socket
from http.client import HTTPConnection, HTTPException
from logging import getLogger
from typing import Any
from urllib.parse import urlencode, urlparse

from mirakuru.base import Executor
from mirakuru.tcp import TCPExecutor

LOG = getLogger(__name__)


def status_codes_regex(status: str, status_re: "re.Pattern[str]") -> str:
    """A POSIX extended regex matching exactly the three-digit status codes
    that Python mirakuru accepts (`code == status or
    status_re.match(code)`), so libmirakuru's probe judges with Python's
    re semantics."""
    accepted = [c for c in range(100, 1000) if str(c) == status or status_re.match(str(c))]
    terms = []
    for hundred in range(1, 10):
        tens = []
        full_tens = True
        for ten in range(10):
            units = [c % 10 for c in accepted if c // 10 == hundred * 10 + ten]
            if len(units) != 10:
                full_tens = False
            if units:
                if len(units) == 10:
                    tens.append(f"{ten}[0-9]")
                else:
                    tens.append(f"{ten}[{''.join(str(u) for u in units)}]")
        if full_tens:
            terms.append(f"{hundred}[0-9][0-9]")
        else:
            terms.extend(f"{hundred}{t}" for t in tens)
    if not terms:
        return "^$"  # nothing is accepted: never ready, as with Python mirakuru
    return "^(" + "|".join(terms) + ")$"


class HTTPExecutor(TCPExecutor):
    """Starts a process and waits until URL answers with STATUS."""

    DEFAULT_PORT = 80
    """Default TCP port for the HTTP protocol."""

    def __init__(
        self,
        command: str | list[str] | tuple[str, ...],
        url: str,
        status: str | int = r"^2\d\d$",
        method: str = "HEAD",
        payload: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        """ValueError when URL has no host name. STATUS: a code or a
        Python regular expression (re.match) for the code."""
        self.url = urlparse(url)
        """The URL as urllib.parse.urlparse() splits it."""
        if not self.url.hostname:
            raise ValueError("Url provided does not contain hostname")

        port = self.url.port
        if port is None:
            port = self.DEFAULT_PORT

        self.status = str(status)
        self.status_re = re.compile(str(status))
        self.method = method
        self.payload = payload
        self.headers = headers

        super().__init__(command, host=self.url.hostname, port=port, **kwargs)

    def after_start_check(self) -> bool:
        """True when a METHOD request of the URL's path answers with STATUS."""
        conn = HTTPConnection(self.host, self.port)
        try:
            body = urlencode(self.payload) if self.payload else None
            headers = self.headers if self.headers else {}
            conn.request(self.method, self.url.path, body, headers)
            try:
                status = str(conn.getresponse().status)
            finally:
                conn.close()
            return status == self.status or bool(self.status_re.match(status))
        except (HTTPException, socket.timeout, socket.error) as ex:
            LOG.debug("Encounter %s while trying to check if service has started.", ex)
            return False

    def _mk_probes(self, service: Any) -> None:
        # libmirakuru's HTTP probe (libcurl on the loop), asking what
        # after_start_check() asks: plain HTTP to host:port, the URL's path.
        if _overridden(self, HTTPExecutor, "after_start_check") or _overridden(
            self, Executor, "check_subprocess"
        ):
            return
        host = str(self.host)
        if ":" in host:
            host = f"[{host}]"
        url = f"http://{host}:{int(self.port)}{self.url.path or '/'}"
        headers = [f"{k}: {v}" for k, v in (self.headers or {}).items()]
        body = urlencode(self.payload) if self.payload else None
        regex = status_codes_regex(self.status, self.status_re)
        r = service.add_http_probe(url, str(self.method), regex, headers, body)
        if r < 0:
            raise OSError(-r, service.error() or "cannot add the HTTP probe")


def _overridden(obj: object, base: type, name: str) -> bool:
    return getattr(type(obj), name, None) is not getattr(base, name, None)
