"""The page's static files and the headers they are served with: no data in them, so no token needed.

The browser fetches the page without an Authorization header (a bearer
token is typed into its login form and kept in sessionStorage, never in a
cookie), so these are answered before authentication, like /version. The
Content-Security-Policy lets the page run only its own script and talk only
to its own origin; nothing it shows is ever parsed as HTML.
"""
import pathlib

PREFIX = "/dashboard"
_STATIC = pathlib.Path(__file__).with_name("static")
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8"}
FILES = {"/": "index.html", "/dashboard.js": "dashboard.js", "/dashboard.css": "dashboard.css"}
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self' data:; base-uri 'none'; form-action 'none'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def is_asset(path: str) -> bool:
    """`path` (the request's, unstripped) names the page or one of its files, or is the bare prefix."""
    return path == PREFIX or (path.startswith(PREFIX + "/") and path[len(PREFIX):] in FILES)


def asset(path: str) -> tuple[int, bytes, dict]:
    """(HTTP code, body, headers) for an `is_asset` path; the bare prefix redirects to the page."""
    if path == PREFIX:
        return 301, b"", {"Location": PREFIX + "/"}
    name = FILES[path[len(PREFIX):]]
    return 200, (_STATIC / name).read_bytes(), {**HEADERS, "Content-Type": _TYPES[pathlib.Path(name).suffix]}
