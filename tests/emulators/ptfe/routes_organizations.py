"""Organizations and entitlement sets (api-contracts.md §3.2, §3.3)."""
from __future__ import annotations

import re

from . import jsonapi
from .routing import route

NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

OPTIONAL_ATTRIBUTES = {
    "session-timeout": None, "session-remember": None, "collaborator-auth-policy": "password",
    "cost-estimation-enabled": True, "send-passing-statuses-for-untriggered-speculative-plans": False,
    "aggregated-commit-status-enabled": False, "speculative-plan-management-enabled": True,
    "owners-team-saml-role-id": None, "assessments-enforced": False, "allow-force-delete-workspaces": False,
    "default-execution-mode": "remote", "default-agent-pool-id": None,
}


def entitlement_resource(state, org):
    """An ``entitlement-sets`` resource; its id is the organization's external id."""
    return {"id": org.external_id, "type": "entitlement-sets", "attributes": state.entitlements_for(org),
            "links": {"self": "/api/v2/entitlement-sets/%s" % org.external_id}}


def organization_resource(state, org, user):
    """An ``organizations`` resource; ``id`` is the name."""
    attrs = {"name": org.name, "external-id": org.external_id, "email": org.email,
             "created-at": jsonapi.rfc3339(org.created_at), "plan-expired": False, "plan-expires-at": None,
             "plan-is-trial": False, "plan-is-enterprise": True, "trial-expires-at": None,
             "two-factor-conformant": True, "saml-enabled": False, "fair-run-queuing-enabled": True}
    for key, default in OPTIONAL_ATTRIBUTES.items():
        attrs[key] = org.attributes.get(key, default)
    owner = user is not None and (user.id in org.owners or user.site_admin)
    attrs["permissions"] = {
        "can-update": owner, "can-destroy": owner, "can-access-via-teams": True, "can-create-module": owner,
        "can-create-team": owner, "can-create-workspace": owner, "can-manage-users": owner,
        "can-manage-subscription": owner, "can-manage-sso": owner, "can-update-oauth": owner,
        "can-update-sentinel": owner, "can-update-ssh-keys": owner, "can-update-api-token": owner,
        "can-traverse": True, "can-start-trial": False, "can-update-agent-pools": owner,
        "can-manage-tags": owner, "can-manage-public-modules": owner, "can-manage-public-providers": owner,
        "can-manage-run-tasks": owner, "can-read-run-tasks": True, "can-create-provider": owner,
    }
    return {
        "id": org.name,
        "type": "organizations",
        "attributes": attrs,
        "relationships": {
            "entitlement-set": {"data": {"id": org.external_id, "type": "entitlement-sets"},
                                "links": {"related": "/api/v2/organizations/%s/entitlement-set" % org.name}},
            "oauth-tokens": {"links": {"related": "/api/v2/organizations/%s/oauth-tokens" % org.name}},
            "authentication-token": {"links": {"related": "/api/v2/organizations/%s/authentication-token" % org.name}},
            "subscription": {"links": {"related": "/api/v2/organizations/%s/subscription" % org.name}},
        },
        "links": {"self": "/api/v2/organizations/%s" % org.name},
    }


def visible_org(req, name):
    """The organization if the caller may see it (member or site admin), else raise -> 404."""
    token = jsonapi.require_token(req)
    org = req.state.organizations.get(name)
    if org is None:
        raise jsonapi.abort(jsonapi.not_found())
    if req.user is not None:
        if req.user.site_admin or req.user.id in org.owners:
            return org
    elif token.kind == "organization" and token.owner_id == org.name:
        return org
    elif getattr(token, "organization", None) == org.name:
        return org
    raise jsonapi.abort(jsonapi.not_found())


def _attributes(req):
    body = req.json
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise jsonapi.abort(jsonapi.error(422, "invalid attribute", "Request must be a JSON:API document",
                                          "/data"))
    data = body["data"]
    if data.get("type") not in (None, "organizations"):
        raise jsonapi.abort(jsonapi.error(409, "conflict", "Type must be organizations", "/data/type"))
    return dict(data.get("attributes") or {})


@route("POST", r"/api/v2/organizations")
def create_organization(req):
    """201 with the entitlement set included; 404 when the user may not create organizations; 422."""
    user = jsonapi.require_user(req)
    state = req.state
    if req.config.get("limit_user_organization_creation", True) and not user.site_admin:
        return jsonapi.not_found()
    attrs = _attributes(req)
    name = attrs.pop("name", None)
    email = attrs.pop("email", None)
    if not isinstance(name, str) or not name:
        return jsonapi.error(422, "invalid attribute", "Name can't be blank", "/data/attributes/name")
    if not NAME_RE.match(name):
        return jsonapi.error(422, "invalid attribute",
                             "Name may only contain letters, numbers, '-' and '_'", "/data/attributes/name")
    if not isinstance(email, str) or not EMAIL_RE.match(email):
        return jsonapi.error(422, "invalid attribute", "Email is invalid", "/data/attributes/email")
    unknown = sorted(k for k in attrs if k not in OPTIONAL_ATTRIBUTES)
    if unknown:
        return jsonapi.error(422, "invalid attribute", "Unknown attribute %s" % unknown[0],
                             "/data/attributes/%s" % unknown[0])
    with state.lock:
        if any(existing.lower() == name.lower() for existing in state.organizations):
            return jsonapi.error(422, "invalid attribute", "Name has already been taken", "/data/attributes/name")
        org = state.add_organization(name, email, owner=user, attributes=attrs)
    return jsonapi.document(organization_resource(state, org, user), status=201,
                            included=[entitlement_resource(state, org)])


@route("GET", r"/api/v2/organizations")
def list_organizations(req):
    """The organizations the caller belongs to (site admins: all)."""
    user = jsonapi.require_user(req)
    state = req.state
    with state.lock:
        orgs = [o for o in sorted(state.organizations.values(), key=lambda o: o.name)
                if user.site_admin or user.id in o.owners]
    query = req.query.get("q") or req.query.get("search[name]")
    if query:
        orgs = [o for o in orgs if query.lower() in o.name.lower()]
    return jsonapi.paginated(req, orgs, lambda o: organization_resource(state, o, user))


@route("GET", r"/api/v2/organizations/(?P<name>[^/]+)")
def show_organization(req):
    """200 / 404."""
    org = visible_org(req, req.params["name"])
    return jsonapi.document(organization_resource(req.state, org, req.user))


@route("PATCH", r"/api/v2/organizations/(?P<name>[^/]+)")
def update_organization(req):
    """Update email and optional attributes (renaming is not emulated)."""
    org = visible_org(req, req.params["name"])
    user = req.user
    if user is None or not (user.site_admin or user.id in org.owners):
        return jsonapi.not_found()
    attrs = _attributes(req)
    with req.state.lock:
        if "email" in attrs:
            if not isinstance(attrs["email"], str) or not EMAIL_RE.match(attrs["email"]):
                return jsonapi.error(422, "invalid attribute", "Email is invalid", "/data/attributes/email")
            org.email = attrs.pop("email")
        if attrs.get("name", org.name) != org.name:
            return jsonapi.error(422, "invalid attribute", "Renaming is not supported here", "/data/attributes/name")
        attrs.pop("name", None)
        for key, value in attrs.items():
            if key in OPTIONAL_ATTRIBUTES:
                org.attributes[key] = value
    return jsonapi.document(organization_resource(req.state, org, user))


@route("DELETE", r"/api/v2/organizations/(?P<name>[^/]+)")
def delete_organization(req):
    """204; only owners and site admins."""
    org = visible_org(req, req.params["name"])
    user = req.user
    if user is None or not (user.site_admin or user.id in org.owners):
        return jsonapi.not_found()
    with req.state.lock:
        req.state.organizations.pop(org.name, None)
    return jsonapi.empty(204)


@route("GET", r"/api/v2/organizations/(?P<name>[^/]+)/entitlement-set")
def organization_entitlements(req):
    """The organization's entitlement set."""
    org = visible_org(req, req.params["name"])
    return jsonapi.document(entitlement_resource(req.state, org))


@route("GET", r"/api/v2/entitlement-sets/(?P<set_id>[^/]+)")
def show_entitlement_set(req):
    """An entitlement set by its id (the organization's external id)."""
    jsonapi.require_token(req)
    for org in list(req.state.organizations.values()):
        if org.external_id == req.params["set_id"]:
            visible_org(req, org.name)
            return jsonapi.document(entitlement_resource(req.state, org))
    return jsonapi.not_found()
