"""Flask's signed session cookie, each cookie checked once per worker rather than on every request.

A signed-in user's browser sends the same cookie with every request until the session changes (it is not re-signed
on each request: SESSION_REFRESH_EACH_REQUEST is off), and Flask checks its signature and decodes it every time: a
new serializer, a key derivation, an HMAC, base64 and JSON, about a tenth of a kept page's time. Here a cookie
that has passed that check is remembered, byte for byte, with what it holds and when it was signed; the same bytes
again give the same answer, as long as the cookie is still within PERMANENT_SESSION_LIFETIME of its signing (checked
on every request, as Flask does). Any other cookie, a changed one included, is checked in full.

Only sessions made of plain values (strings, numbers, true or false) are remembered, and each request gets its own
copy, so nothing a request does to its session can reach the next one. Up to MAX_REMEMBERED cookies per worker,
least recently used first out.
"""

import threading
import time
from collections import OrderedDict

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

MAX_REMEMBERED = 4096
_PLAIN = (str, int, float, bool, type(None))


class CheckedOnceSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._checked: OrderedDict[tuple, tuple[dict, float]] = OrderedDict()
        self._lock = threading.Lock()

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie or not app.secret_key:
            return super().open_session(app, request)
        max_age = app.permanent_session_lifetime.total_seconds()
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()), cookie)
        with self._lock:
            found = self._checked.get(key)
            if found is not None:
                self._checked.move_to_end(key)
        if found is not None:
            data, signed_at = found
            if 0 <= time.time() - signed_at <= max_age:
                return self.session_class(dict(data))
        serializer = self.get_signing_serializer(app)
        try:
            data, signed = serializer.loads(cookie, max_age=int(max_age), return_timestamp=True)
        except BadSignature:  # a bad or expired signature: an empty session, as Flask gives
            return self.session_class()
        if isinstance(data, dict) and all(isinstance(value, _PLAIN) for value in data.values()):
            with self._lock:
                self._checked[key] = (dict(data), signed.timestamp())
                while len(self._checked) > MAX_REMEMBERED:
                    self._checked.popitem(last=False)
        return self.session_class(data)
