"""JSON:API helpers for the PTFE emulator's route modules (wire shapes per api-contracts.md §0)."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote

from .routing import ApiError, Response

MEDIA_TYPE = "application/vnd.api+json"


def rfc3339(dt):
    """``2017-11-29T19:11:28.075Z`` (UTC, milliseconds), or None."""
    if dt is None:
        return None
    if isinstance(dt, (int, float)):
        dt = datetime.fromtimestamp(dt, tz=timezone.utc)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def now():
    """The current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def error(status, title, detail=None, pointer=None):
    """A JSON:API error response: ``{"errors":[{"status":"<str>","title":...}]}``."""
    item = {"status": str(status), "title": title}
    if detail is not None:
        item["detail"] = detail
    if pointer is not None:
        item["source"] = {"pointer": pointer}
    return Response(status, {"errors": [item]}, content_type=MEDIA_TYPE)


def unauthorized():
    """401 exactly as TFE sends it."""
    return Response(401, {"errors": [{"status": "401", "title": "unauthorized"}]}, content_type=MEDIA_TYPE)


def not_found():
    """404 exactly as TFE sends it."""
    return Response(404, {"errors": [{"status": "404", "title": "not found"}]}, content_type=MEDIA_TYPE)


def rate_limited(limit, reset):
    """429 with the documented body (note the integer status) and headers."""
    body = {"errors": [{"detail": "You have exceeded the API's rate limit.", "status": 429, "title": "Too many requests"}]}
    headers = {"X-RateLimit-Limit": "%g" % limit, "X-RateLimit-Reset": "%.3f" % max(0.0, reset),
               "X-RateLimit-Remaining": "0"}
    return Response(429, body, headers=headers, content_type=MEDIA_TYPE)


def document(data, status=200, included=None, links=None, meta=None):
    """A JSON:API document response."""
    body = {"data": data}
    if included is not None:
        body["included"] = included
    if links is not None:
        body["links"] = links
    if meta is not None:
        body["meta"] = meta
    return Response(status, body, content_type=MEDIA_TYPE)


def empty(status=204):
    """An empty response (204 by default)."""
    return Response(status, None)


def abort(response):
    """Return an exception to raise that sends ``response``: ``raise abort(error(422, ...))``."""
    return ApiError(response)


def require_user(req):
    """Return ``req.user``; without a valid user token raise -> 401 (§0.1)."""
    if req.user is None:
        raise ApiError(unauthorized())
    return req.user


def require_token(req):
    """Return the Token object for any valid token (user, team, organization); else raise -> 401."""
    if req.token_obj is None:
        raise ApiError(unauthorized())
    return req.token_obj


def require_site_admin(req):
    """Return the user if it is a site admin; no token -> 401; a non-admin -> 404 (never 403)."""
    user = require_user(req)
    if not getattr(user, "site_admin", False):
        raise ApiError(not_found())
    return user


def _int(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def page_params(req, default_size=20):
    """(number, size) from ``page[number]`` / ``page[size]``; size capped at 100."""
    number = max(1, _int(req.query.get("page[number]"), 1))
    size = _int(req.query.get("page[size]"), default_size)
    size = min(100, max(1, size))
    return number, size


def _page_url(req, number, size):
    others = [(k, v) for k, v in req.query_list if k not in ("page[number]", "page[size]")]
    others += [("page[number]", str(number)), ("page[size]", str(size))]
    query = "&".join("%s=%s" % (quote(k, safe=""), quote(v, safe="")) for k, v in others)
    return "%s%s?%s" % (req.base_url, req.path, query)


def paginated(req, items, serialize, included=None, default_size=20):
    """A paginated list document: ``data`` for the requested page, ``links`` and ``meta.pagination`` (§0.2).

    A page past the end is 200 with empty ``data`` and ``current-page`` echoing the request.
    """
    items = list(items)
    number, size = page_params(req, default_size)
    total = len(items)
    pages = max(1, (total + size - 1) // size)
    chunk = items[(number - 1) * size:number * size]
    prev_page = number - 1 if 1 < number <= pages + 1 else None
    next_page = number + 1 if number < pages else None
    links = {
        "self": _page_url(req, number, size),
        "first": _page_url(req, 1, size),
        "prev": _page_url(req, prev_page, size) if prev_page else None,
        "next": _page_url(req, next_page, size) if next_page else None,
        "last": _page_url(req, pages, size),
    }
    meta = {"pagination": {"current-page": number, "page-size": size, "prev-page": prev_page,
                           "next-page": next_page, "total-pages": pages, "total-count": total}}
    return document([serialize(item) for item in chunk], included=included, links=links, meta=meta)
