"""Security headers on every portal response (pure ASGI, no per-request objects).

* ``Content-Security-Policy``: scripts, styles and images only from the portal itself, no
  inline script or style (the pages have none: charts are SVG with presentation attributes),
  forms post only here, no framing (OWASP Secure Headers; CSP Level 3).
* ``X-Frame-Options: DENY`` for browsers that ignore ``frame-ancestors``.
* ``Referrer-Policy: no-referrer``: portal paths never leak to another site.
* ``X-Content-Type-Options: nosniff``; ``Cross-Origin-Opener-Policy: same-origin``;
  ``Permissions-Policy`` turning off what the portal never uses.
* ``Cache-Control: no-store`` on pages (they carry CSRF tokens and operators' data);
  static files are cacheable for an hour.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "SecurityHeaders"]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

_ALWAYS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)
_STATIC_PREFIX = "/static/"


class SecurityHeaders:
    """Adds the headers above; ``no-store`` unless the path is a static file."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        root: str = scope.get("root_path", "")
        path: str = scope["path"]
        relative = path[len(root) :] if root and path.startswith(root) else path
        cache = b"public, max-age=3600" if relative.startswith(_STATIC_PREFIX) else b"no-store"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"
                ]
                headers.extend(_ALWAYS)
                headers.append((b"cache-control", cache))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
