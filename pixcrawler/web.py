"""What every HTTP request and response of the app goes through: which proxies are believed,
bad bytes in parameters refused as the client's error, and the security headers.

Cheap to import and to run: the command line builds the app too.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, Response, abort, current_app, request

# A year, the usual HSTS lifetime once a site is HTTPS-only; sent in production only.
HSTS = "max-age=31536000; includeSubDomains"

BAD_BYTES = "A parameter holds a NUL character or bytes that are not UTF-8."


def register_web(app: Flask) -> None:
    """Trust X-Forwarded-* only from TRUSTED_PROXY_COUNT proxies; check requests; add headers."""
    proxies = int(app.config["TRUSTED_PROXY_COUNT"])
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix  # late: behind proxies only

        # The client address (for session protection and the login rate limit) and the scheme
        # (for Secure cookies and HSTS) come from the last `proxies` hops; by default the
        # headers are ignored, since any client can send them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.before_request(refuse_bad_bytes)
    app.after_request(add_security_headers)


def refuse_bad_bytes() -> None:
    """A NUL or a byte that is not UTF-8 in the path, a query parameter or a form field is the
    client's mistake (400), caught before anything reaches the database, which would fail on
    it (PostgreSQL refuses NUL in text).

    Werkzeug keeps an undecodable %-escape as its text in query strings and urlencoded bodies,
    so those are checked as raw bytes; it turns bad bytes in the path and in multipart fields
    into U+FFFD.
    """
    raw = [request.query_string]
    if request.mimetype == "application/x-www-form-urlencoded":
        raw.append(request.get_data(cache=True))  # Werkzeug parses the form from this copy
    texts = [request.path]
    for source in (request.args, request.form):
        for key, values in source.lists():
            texts += [key, *values]
    if not all(is_utf8(unquote_to_bytes(data)) for data in raw) or any(
        "\x00" in text or "\ufffd" in text for text in texts
    ):
        abort(400, BAD_BYTES)


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def add_security_headers(response: Response) -> Response:
    """No framing (clickjacking), no MIME sniffing, no full URLs in Referer to other sites,
    nothing stored by caches except static files, and HSTS in production."""
    headers = response.headers
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if not (request.endpoint or "").endswith("static"):
        headers["Cache-Control"] = "no-store"
    if current_app.config["ENV_NAME"] == "production":
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response
