"""Bootstrap endpoints: health check, IACT retrieval, initial admin, ping, well-known, account details.

Contracts: api-contracts.md §0.4, §0.5, §1, §3.1.
"""
from __future__ import annotations

import ipaddress
import re
import time

from . import jsonapi
from .routing import Response, route

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@route("GET", r"/_health_check")
def health_check(req):
    """200 once up (the boot period is handled by the server before routing)."""
    if "full" in req.query:
        return Response(200, {"passed": True, "checks": {"postgres": "ok", "redis": "ok", "vault": "ok"}})
    return Response(200, "OK", content_type="text/plain; charset=utf-8")


def _networks(value):
    if isinstance(value, str):
        value = value.split(",")
    nets = []
    for item in value or []:
        item = str(item).strip()
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            continue
    return nets


def _in(ip, nets):
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr.version == net.version and addr in net for net in nets)


def iact_client_ip(req):
    """The client address the IACT check uses: X-Forwarded-For counts only when the peer is a trusted proxy.

    Returns (ip, reason-or-None)."""
    trusted = _networks(req.config.get("iact_trusted_proxies") or [])
    xff = req.headers.get("X-Forwarded-For")
    if not xff:
        return req.client_ip, None
    if not _in(req.client_ip, trusted):
        return req.client_ip, "X-Forwarded-For from %s ignored: not in iact_trusted_proxies" % req.client_ip
    hops = [h.strip() for h in xff.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted):
            return hop, None
    return hops[0] if hops else req.client_ip, None


def iact_refusal_reason(req):
    """None if the IACT may be handed out to this request, else why not (for the request log)."""
    ip, note = iact_client_ip(req)
    subnets = _networks(req.config.get("iact_subnet_list") or "")
    if not _in(ip, subnets):
        reason = "client %s not in iact_subnet_list" % ip
        return reason + ("; " + note if note else "")
    limit = str(req.config.get("iact_subnet_time_limit", "60")).strip().lower()
    if limit != "unlimited":
        try:
            minutes = float(limit)
        except ValueError:
            minutes = 60.0
        if time.time() - req.state.installed_at > minutes * 60:
            return "iact_subnet_time_limit of %s minutes has passed" % limit
    return None


@route("GET", r"/admin/retrieve-iact")
def retrieve_iact(req):
    """The raw IACT as text, or the (configurable) opaque refusal."""
    reason = iact_refusal_reason(req)
    if reason:
        req.note = reason
        cfg = req.config
        return Response(int(cfg.get("iact_refusal_status") or 401), cfg.get("iact_refusal_body") or "",
                        content_type=cfg.get("iact_refusal_content_type") or "text/html; charset=utf-8")
    return Response(200, req.state.iact, content_type="text/plain; charset=utf-8")


def _admin_error(status, message):
    return Response(status, {"status": "error", "error": message}, content_type="application/json; charset=utf-8")


@route("POST", r"/admin/initial-admin-user")
def initial_admin_user(req):
    """Create the first admin with the IACT (plain JSON in and out, §1.2)."""
    state = req.state
    cfg = req.config
    with state.lock:
        token = req.query.get("token")
        if not token or token != state.iact:
            req.note = "bad or missing IACT"
            return _admin_error(404, "Unauthorized to perform action")
        if state.users:
            req.note = "users already exist"
            return _admin_error(int(cfg.get("initial_admin_when_users_exist_status") or 404),
                                cfg.get("initial_admin_when_users_exist_error") or "Unauthorized to perform action")
        body = req.json
        if not isinstance(body, dict):
            return _admin_error(422, "Request body must be a JSON object")
        problems = []
        for key in ("username", "email", "password"):
            if key not in body:
                problems.append("%s is missing" % key)
            elif not isinstance(body[key], str):
                problems.append("%s must be a string" % key)
        if problems:
            return _admin_error(422, ", ".join(problems))
        if not USERNAME_RE.match(body["username"]):
            return _admin_error(422, "Username must contain only letters, numbers, '-' and '_'")
        if not EMAIL_RE.match(body["email"]):
            return _admin_error(422, "Email is invalid")
        minimum = int(cfg.get("initial_admin_min_password") or 10)
        if len(body["password"]) < minimum:
            return _admin_error(422, "Password is too short (minimum is %d characters)" % minimum)
        if cfg.get("initial_admin_fail"):
            req.note = "initial_admin_fail"
            return _admin_error(500, "Failed to create user")
        _user, value = state.add_user(body["username"], body["email"], body["password"], site_admin=True)
        state.iact_used = True
        return Response(200, {"status": "created", "token": value}, content_type="application/json; charset=utf-8")


@route("GET", r"/api/v2/ping")
def ping(req):
    """204 with the identity and rate-limit headers go-tfe reads (§0.4)."""
    cfg = req.config
    headers = {
        "X-RateLimit-Limit": "%g" % float(cfg.get("rate_limit") or 30),
        "TFP-API-Version": cfg.get("tfp_api_version"),
        "TFP-AppName": cfg.get("tfp_app_name"),
        "X-TFE-Version": cfg.get("tfe_version"),
        "X-TFE-Current-Version": cfg.get("tfe_current_version"),
    }
    # A configured product_version (routes_health) is what the headers report: a calendar version has no
    # X-TFE-Current-Version, an FDO version is the current one.
    version = cfg.get("product_version")
    if version and version[:1] == "v" and "-" in version:
        headers["X-TFE-Version"] = version
        del headers["X-TFE-Current-Version"]
    elif version:
        headers["X-TFE-Current-Version"] = version
    return Response(204, None, headers=headers)


@route("GET", r"/\.well-known/terraform\.json")
def well_known(req):  # pylint: disable=unused-argument
    """Service discovery, as terrasnek and the Terraform CLI read it."""
    return Response(200, {
        "modules.v1": "/api/registry/v1/modules/",
        "motd.v1": "/api/terraform/motd",
        "state.v2": "/api/v2/",
        "tfe.v2": "/api/v2/",
        "tfe.v2.1": "/api/v2/",
        "tfe.v2.2": "/api/v2/",
        "providers.v1": "/api/registry/v1/providers/",
        "versions.v1": "https://checkpoint-api.hashicorp.com/v1/versions/",
    })


def user_resource(user):
    """A ``users`` resource object (§3.1)."""
    return {
        "id": user.id,
        "type": "users",
        "attributes": {
            "username": user.username, "is-service-account": False, "auth-method": "tfe",
            "avatar-url": "https://www.gravatar.com/avatar/0?s=100&d=mm", "v2-only": False,
            "is-site-admin": user.site_admin, "is-sso-login": False, "email": user.email,
            "unconfirmed-email": None,
            "permissions": {"can-create-organizations": True, "can-change-email": True,
                            "can-change-username": True},
        },
        "relationships": {
            "authentication-tokens": {"links": {"related": "/api/v2/users/%s/authentication-tokens" % user.id}},
            "authenticated-resource": {"data": {"id": user.id, "type": "users"},
                                       "links": {"related": "/api/v2/users/%s" % user.id}},
        },
        "links": {"self": "/api/v2/users/%s" % user.id},
    }


@route("GET", r"/api/v2/account/details")
def account_details(req):
    """Who am I: the token's user, or a synthetic service user for team/organization tokens."""
    token = jsonapi.require_token(req)
    if req.user is not None:
        return jsonapi.document(user_resource(req.user))
    kind = "teams" if token.kind == "team" else "organizations"
    return jsonapi.document({
        "id": "user-" + token.id[3:], "type": "users",
        "attributes": {"username": "api-%s-%s" % (token.kind, token.owner_id), "is-service-account": True,
                       "is-site-admin": False, "email": None, "auth-method": "tfc", "v2-only": True,
                       "is-sso-login": False, "unconfirmed-email": None, "avatar-url": None,
                       "permissions": {"can-create-organizations": False, "can-change-email": False,
                                       "can-change-username": False}},
        "relationships": {"authenticated-resource": {"data": {"id": token.owner_id, "type": kind}}},
    })


@route("GET", r"/api/v2/users/(?P<user_id>[^/]+)")
def show_user(req):
    """A user, visible to itself and site admins."""
    user = jsonapi.require_user(req)
    target = req.state.users.get(req.params["user_id"])
    if target is None or (target.id != user.id and not user.site_admin):
        return jsonapi.not_found()
    return jsonapi.document(user_resource(target))
