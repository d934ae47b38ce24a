"""Teams (api-contracts.md §7.2): every organization has an ``owners`` team.

Teams live in ``state.collections["teams"]`` (id -> :class:`Team`). The owners team of an organization is made the
first time anything asks for the organization's teams (organizations are created by ``routes_organizations``),
and its members are the organization's owners (``Organization.owners``), so the two never disagree.

Who sees a team: a site admin, a member of the organization's owners team, a member of the team, the organization
token and a token of the owners team or of the team itself. Anyone else with a valid token gets 404 (never 401 or
403); a missing or invalid token gets 401.

Control endpoints (no auth, not logged):

* ``POST /_emulator/teams`` ``{"organization", "name", "members": [usernames], "visibility"}`` -> the team;
* ``GET /_emulator/teams`` -> every team.
"""
from __future__ import annotations

from . import jsonapi
from .routing import Response, control_handler, route

COLLECTION = "teams"
OWNERS = "owners"


class Team:
    """A team of an organization; ``members`` holds user ids (for the owners team: the organization's owners)."""

    def __init__(self, team_id, name, organization, members=None, visibility="secret"):
        self.id = team_id
        self.name = name
        self.organization = organization
        self.members = set(members or ())
        self.visibility = visibility
        self.created_at = jsonapi.now()

    def to_dict(self):
        """Control-API view."""
        return {"id": self.id, "name": self.name, "organization": self.organization,
                "members": sorted(self.members), "visibility": self.visibility}


def teams(state):
    """Every team by id, with an owners team for every organization."""
    with state.lock:
        records = state.collections.setdefault(COLLECTION, {})
        have = {t.organization for t in records.values() if t.name == OWNERS}
        for name in state.organizations:
            if name not in have:
                team = Team(state.new_id("team"), OWNERS, name)
                records[team.id] = team
        for team_id in [t.id for t in records.values() if t.organization not in state.organizations]:
            del records[team_id]
        return records


def owners_team(state, org_name):
    """The owners team of an organization."""
    for team in teams(state).values():
        if team.organization == org_name and team.name == OWNERS:
            return team
    return None


def members(state, team):
    """The user ids of a team's members."""
    if team.name == OWNERS:
        org = state.organizations.get(team.organization)
        return set(org.owners) if org else set()
    return set(team.members)


def is_org_manager(req, org):
    """Owners-team members, the owners team's token and the organization token manage an organization's tokens."""
    token = jsonapi.require_token(req)
    if req.user is not None:
        return req.user.id in org.owners
    if token.kind == "organization":
        return token.owner_id == org.name
    if token.kind == "team":
        team = teams(req.state).get(token.owner_id)
        return team is not None and team.organization == org.name and team.name == OWNERS
    return False


def may_see_team(req, team):
    """Whether the caller may see (and manage the tokens of) ``team``."""
    token = jsonapi.require_token(req)
    org = req.state.organizations.get(team.organization)
    if org is None:
        return False
    if req.user is not None and (req.user.site_admin or req.user.id in members(req.state, team)):
        return True
    if token.kind == "team" and token.owner_id == team.id:
        return True
    return is_org_manager(req, org)


def visible_team(req, team_id):
    """The team if the caller may see it; 401 without a valid token, else 404."""
    jsonapi.require_token(req)
    team = teams(req.state).get(team_id)
    if team is None or not may_see_team(req, team):
        raise jsonapi.abort(jsonapi.not_found())
    return team


def team_resource(state, team):
    """A ``teams`` resource."""
    users = sorted(members(state, team))
    owners = team.name == OWNERS
    return {
        "id": team.id,
        "type": "teams",
        "attributes": {
            "name": team.name, "users-count": len(users), "visibility": team.visibility,
            "sso-team-id": None, "allow-member-token-management": True,
            "permissions": {"can-update-membership": owners, "can-destroy": not owners,
                            "can-update-organization-access": not owners, "can-update-api-token": True,
                            "can-update-visibility": not owners},
            "organization-access": {"manage-policies": owners, "manage-workspaces": owners,
                                    "manage-vcs-settings": owners, "manage-providers": owners,
                                    "manage-modules": owners, "manage-run-tasks": owners,
                                    "manage-projects": owners, "read-workspaces": owners,
                                    "read-projects": owners, "manage-membership": owners},
        },
        "relationships": {
            "organization": {"data": {"id": team.organization, "type": "organizations"}},
            "users": {"data": [{"id": user_id, "type": "users"} for user_id in users]},
            "organization-memberships": {"data": []},
            "authentication-token": {"meta": {}},
        },
        "links": {"self": "/api/v2/teams/%s" % team.id},
    }


@route("GET", r"/api/v2/teams/(?P<team_id>[^/]+)")
def show_team(req):
    """200 / 404 / 401."""
    team = visible_team(req, req.params["team_id"])
    return jsonapi.document(team_resource(req.state, team))


@route("GET", r"/api/v2/organizations/(?P<org>[^/]+)/teams")
def list_teams(req):
    """The organization's teams the caller may see."""
    jsonapi.require_token(req)
    org = req.state.organizations.get(req.params["org"])
    if org is None:
        return jsonapi.not_found()
    shown = [t for t in sorted(teams(req.state).values(), key=lambda t: t.name)
             if t.organization == org.name and may_see_team(req, t)]
    if not shown:
        return jsonapi.not_found()
    return jsonapi.paginated(req, shown, lambda t: team_resource(req.state, t))


@route("POST", r"/api/v2/organizations/(?P<org>[^/]+)/teams")
def create_team(req):
    """201; 404 unless the caller manages the organization; 422 on a missing or taken name."""
    jsonapi.require_token(req)
    state = req.state
    org = state.organizations.get(req.params["org"])
    if org is None or not is_org_manager(req, org) or not state.entitlements_for(org).get("teams"):
        return jsonapi.not_found()
    body = req.json if isinstance(req.json, dict) else {}
    attrs = (body.get("data") or {}).get("attributes") or {}
    name = attrs.get("name")
    if not isinstance(name, str) or not name:
        return jsonapi.error(422, "invalid attribute", "Name can't be blank", "/data/attributes/name")
    with state.lock:
        if any(t.organization == org.name and t.name == name for t in teams(state).values()):
            return jsonapi.error(422, "invalid attribute", "Name has already been taken", "/data/attributes/name")
        team = Team(state.new_id("team"), name, org.name, visibility=attrs.get("visibility") or "secret")
        teams(state)[team.id] = team
    return jsonapi.document(team_resource(state, team), status=201)


@route("DELETE", r"/api/v2/teams/(?P<team_id>[^/]+)")
def delete_team(req):
    """204; the owners team cannot be deleted (422)."""
    team = visible_team(req, req.params["team_id"])
    org = req.state.organizations[team.organization]
    if not is_org_manager(req, org):
        return jsonapi.not_found()
    if team.name == OWNERS:
        return jsonapi.error(422, "invalid attribute", "The owners team cannot be deleted")
    with req.state.lock:
        teams(req.state).pop(team.id, None)
        for value in [v for v, t in req.state.tokens.items() if t.kind == "team" and t.owner_id == team.id]:
            del req.state.tokens[value]
    return jsonapi.empty(204)


@control_handler
def control(state, method, sub, data):
    """``/_emulator/teams``: seed a team, or list every team."""
    if sub != "/teams":
        return None
    if method == "GET":
        return Response(200, [t.to_dict() for t in teams(state).values()])
    if method == "POST":
        data = data or {}
        if data.get("organization") not in state.organizations:
            return Response(400, {"error": "no organization %r" % data.get("organization")})
        with state.lock:
            if data.get("name") == OWNERS:
                return Response(200, owners_team(state, data["organization"]).to_dict())
            ids = []
            for username in data.get("members") or []:
                user = state.user_by_name(username)
                if user is None:
                    return Response(400, {"error": "no user %r" % username})
                ids.append(user.id)
            team = Team(state.new_id("team"), data["name"], data["organization"], members=ids,
                        visibility=data.get("visibility") or "secret")
            teams(state)[team.id] = team
        return Response(201, team.to_dict())
    return None
