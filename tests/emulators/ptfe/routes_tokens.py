"""Organization, team and user tokens (api-contracts.md §3.6, §7.2), as the Vault Terraform secrets engine uses them.

* ``POST|GET|DELETE /organizations/:org/authentication-token``: one organization token; a POST replaces it (the old
  one stops working). Only owners-team members, the owners team's token and the organization token (else 404).
* ``POST|GET|DELETE /teams/:id/authentication-token``: the legacy team token, one per team, replaced by a POST.
* ``POST|GET /teams/:id/authentication-tokens``: multi-team tokens, ``description`` unique within the team (422).
* ``GET /organizations/:org/team-tokens``: the organization's team tokens.
* ``POST|GET /users/:id/authentication-tokens``: only with that user's own user token (else 404; the list is empty).
* ``GET|DELETE /authentication-tokens/:id``: any token by id, for whoever may manage it.

A missing or invalid token is 401; a valid token without access is 404 (§7.1 item 3). The ``teams`` entitlement
gates team tokens. No ``data.type`` validation on any create (go-tfe sends ``""``, pytfe the singular or plural
type); an absent body is accepted. ``token`` is only in a create response.
"""
from __future__ import annotations

from datetime import datetime

from . import jsonapi
from .routes_teams import is_org_manager, may_see_team, teams, visible_team
from .routing import route

MULTI = "multi"
LEGACY = "legacy"


def _attributes(req):
    body = req.json if isinstance(req.json, dict) else {}
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    attrs = data.get("attributes") if isinstance(data.get("attributes"), dict) else {}
    return attrs


def _expiry(attrs):
    raw = attrs.get("expired-at")
    if raw in (None, ""):
        return None
    try:
        when = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise jsonapi.abort(jsonapi.error(422, "invalid attribute", "Expired at is invalid",
                                          "/data/attributes/expired-at")) from None
    if when.tzinfo is None:
        raise jsonapi.abort(jsonapi.error(422, "invalid attribute", "Expired at needs a time zone",
                                          "/data/attributes/expired-at"))
    if when <= jsonapi.now():
        raise jsonapi.abort(jsonapi.error(422, "invalid attribute", "Expired at must be in the future",
                                          "/data/attributes/expired-at"))
    return when


def _creator(req):
    token = req.token_obj
    if req.user is not None:
        return {"id": req.user.id, "type": "users"}
    if token.kind == "team":
        return {"id": token.owner_id, "type": "teams"}
    return {"id": token.owner_id, "type": "organizations"}


def token_resource(token, value=None):
    """An ``authentication-tokens`` resource; ``token`` only when ``value`` is given (the create response)."""
    relationships = {}
    if getattr(token, "creator", None):
        relationships["created-by"] = {"data": token.creator}
    if token.kind == "team":
        relationships["team"] = {"data": {"id": token.owner_id, "type": "teams"}}
    return {
        "id": token.id,
        "type": "authentication-tokens",
        "attributes": {"created-at": jsonapi.rfc3339(token.created_at),
                       "last-used-at": jsonapi.rfc3339(token.last_used_at),
                       "description": token.description, "token": value,
                       "expired-at": jsonapi.rfc3339(token.expired_at)},
        "relationships": relationships,
        "links": {"self": "/api/v2/authentication-tokens/%s" % token.id},
    }


def _find(state, predicate):
    with state.lock:
        return [t for t in state.tokens.values() if predicate(t)]


def _remove(state, tokens):
    with state.lock:
        for token in tokens:
            state.tokens.pop(token.value, None)


def _mint(req, kind, owner_id, description=None, expired_at=None, **extra):
    token = req.state.add_token(kind, owner_id, description=description, expired_at=expired_at)
    token.creator = _creator(req)
    for key, value in extra.items():
        setattr(token, key, value)
    return jsonapi.document(token_resource(token, token.value), status=201)


def _org(req):
    jsonapi.require_token(req)
    org = req.state.organizations.get(req.params["org"])
    if org is None or not is_org_manager(req, org):
        raise jsonapi.abort(jsonapi.not_found())
    return org


def _team(req):
    team = visible_team(req, req.params["team_id"])
    org = req.state.organizations[team.organization]
    if not req.state.entitlements_for(org).get("teams"):
        raise jsonapi.abort(jsonapi.not_found())
    return team


def _org_tokens(state, org):
    return _find(state, lambda t: t.kind == "organization" and t.owner_id == org.name)


def _legacy_tokens(state, team):
    return _find(state, lambda t: t.kind == "team" and t.owner_id == team.id and getattr(t, "flavour", "") == LEGACY)


# -- the one organization token and the one legacy team token ---------------------------------------------------


def _replace(req, found, kind, owner_id, **extra):
    """201 with a new token that replaces ``found``."""
    expired_at = _expiry(_attributes(req))
    with req.state.lock:
        _remove(req.state, found)
        return _mint(req, kind, owner_id, expired_at=expired_at, **extra)


def _show(found):
    return jsonapi.document(token_resource(found[0])) if found else jsonapi.not_found()


def _delete(req, found):
    if not found:
        return jsonapi.not_found()
    _remove(req.state, found)
    return jsonapi.empty(204)


@route("POST", r"/api/v2/organizations/(?P<org>[^/]+)/authentication-token")
def create_org_token(req):
    """201; replaces the organization's token."""
    org = _org(req)
    return _replace(req, _org_tokens(req.state, org), "organization", org.name)


@route("GET", r"/api/v2/organizations/(?P<org>[^/]+)/authentication-token")
def show_org_token(req):
    """200, or 404 when there is none."""
    return _show(_org_tokens(req.state, _org(req)))


@route("DELETE", r"/api/v2/organizations/(?P<org>[^/]+)/authentication-token")
def delete_org_token(req):
    """204, or 404 when there is none."""
    return _delete(req, _org_tokens(req.state, _org(req)))


@route("POST", r"/api/v2/teams/(?P<team_id>[^/]+)/authentication-token")
def create_legacy_team_token(req):
    """201; replaces the team's legacy token."""
    team = _team(req)
    return _replace(req, _legacy_tokens(req.state, team), "team", team.id, flavour=LEGACY,
                    organization=team.organization)


@route("GET", r"/api/v2/teams/(?P<team_id>[^/]+)/authentication-token")
def show_legacy_team_token(req):
    """200, or 404 when there is none."""
    return _show(_legacy_tokens(req.state, _team(req)))


@route("DELETE", r"/api/v2/teams/(?P<team_id>[^/]+)/authentication-token")
def delete_legacy_team_token(req):
    """204, or 404 when there is none."""
    return _delete(req, _legacy_tokens(req.state, _team(req)))


# -- multi-team tokens -------------------------------------------------------------------------------------------


@route("POST", r"/api/v2/teams/(?P<team_id>[^/]+)/authentication-tokens")
def create_team_token(req):
    """201; ``description`` unique within the team (422)."""
    team = _team(req)
    attrs = _attributes(req)
    description = attrs.get("description")
    if description is not None and not isinstance(description, str):
        return jsonapi.error(422, "invalid attribute", "Description is invalid", "/data/attributes/description")
    expired_at = _expiry(attrs)
    with req.state.lock:
        taken = _find(req.state, lambda t: t.kind == "team" and t.owner_id == team.id
                      and getattr(t, "flavour", "") == MULTI and t.description == description)
        if taken:
            return jsonapi.error(422, "invalid attribute", "Description has already been taken",
                                 "/data/attributes/description")
        return _mint(req, "team", team.id, description=description, expired_at=expired_at, flavour=MULTI,
                     organization=team.organization)


@route("GET", r"/api/v2/teams/(?P<team_id>[^/]+)/authentication-tokens")
def list_team_tokens(req):
    """The team's multi-team tokens."""
    team = _team(req)
    found = _find(req.state, lambda t: t.kind == "team" and t.owner_id == team.id and getattr(t, "flavour", "") == MULTI)
    return jsonapi.paginated(req, sorted(found, key=lambda t: t.created_at), token_resource)


@route("GET", r"/api/v2/organizations/(?P<org>[^/]+)/team-tokens")
def list_org_team_tokens(req):
    """Every team token of the organization's teams the caller may see."""
    jsonapi.require_token(req)
    org = req.state.organizations.get(req.params["org"])
    if org is None:
        return jsonapi.not_found()
    visible = {t.id for t in teams(req.state).values() if t.organization == org.name and may_see_team(req, t)}
    if not visible:
        return jsonapi.not_found()
    found = _find(req.state, lambda t: t.kind == "team" and t.owner_id in visible)
    return jsonapi.paginated(req, sorted(found, key=lambda t: t.created_at), token_resource)


# -- user tokens -------------------------------------------------------------------------------------------------


@route("POST", r"/api/v2/users/(?P<user_id>[^/]+)/authentication-tokens")
def create_user_token(req):
    """201 with the caller's own user token only; anyone else 404."""
    jsonapi.require_token(req)
    if req.user is None or req.user.id != req.params["user_id"]:
        return jsonapi.not_found()
    attrs = _attributes(req)
    description = attrs.get("description")
    if description is not None and not isinstance(description, str):
        return jsonapi.error(422, "invalid attribute", "Description is invalid", "/data/attributes/description")
    return _mint(req, "user", req.user.id, description=description, expired_at=_expiry(attrs))


@route("GET", r"/api/v2/users/(?P<user_id>[^/]+)/authentication-tokens")
def list_user_tokens(req):
    """The user's tokens for the user itself (all of them without page parameters); an empty list for others."""
    jsonapi.require_token(req)
    mine = req.user is not None and req.user.id == req.params["user_id"]
    found = _find(req.state, lambda t: mine and t.kind == "user" and t.owner_id == req.params["user_id"])
    found.sort(key=lambda t: t.created_at)
    if "page[number]" in req.query or "page[size]" in req.query:
        return jsonapi.paginated(req, found, token_resource)
    return jsonapi.document([token_resource(t) for t in found])


# -- any token by id ---------------------------------------------------------------------------------------------


def _by_id(req):
    jsonapi.require_token(req)
    found = _find(req.state, lambda t: t.id == req.params["token_id"])
    if not found:
        raise jsonapi.abort(jsonapi.not_found())
    token = found[0]
    state = req.state
    if token.kind == "user":
        allowed = req.user is not None and req.user.id == token.owner_id
    elif token.kind == "team":
        team = teams(state).get(token.owner_id)
        allowed = team is not None and may_see_team(req, team)
    else:
        org = state.organizations.get(token.owner_id)
        allowed = org is not None and is_org_manager(req, org)
    if not allowed:
        raise jsonapi.abort(jsonapi.not_found())
    return token


@route("GET", r"/api/v2/authentication-tokens/(?P<token_id>[^/]+)")
def show_token(req):
    """200 / 404."""
    return jsonapi.document(token_resource(_by_id(req)))


@route("DELETE", r"/api/v2/authentication-tokens/(?P<token_id>[^/]+)")
def delete_token(req):
    """204 / 404."""
    _remove(req.state, [_by_id(req)])
    return jsonapi.empty(204)
