"""In-memory state of the PTFE emulator.

Route modules share one :class:`State` (``req.state``). Take ``state.lock`` (an RLock) around any
read-modify-write. Other areas keep their resources in ``state.collections[<name>]`` (a dict they own, for
example ``state.collections.setdefault("terraform-versions", {})``); the control API serialises them with
``to_dict()`` when the items have one, else as they are.
"""
from __future__ import annotations

import copy
import secrets
import string
import threading
import time
from datetime import datetime, timezone

_ALNUM = string.ascii_letters + string.digits

DEFAULT_ENTITLEMENTS = {
    "agents": True, "audit-logging": True, "configuration-designer": True, "cost-estimation": True,
    "global-run-tasks": True, "module-tests-generation": False, "operations": True,
    "policy-enforcement": True, "policy-limit": None, "policy-mandatory-enforcement-limit": None,
    "policy-set-limit": None, "private-module-registry": True, "private-policy-agents": True,
    "private-run-tasks": True, "private-vcs": True, "run-task-limit": None,
    "run-task-mandatory-enforcement-limit": None, "run-task-workspace-limit": None, "run-tasks": True,
    "self-serve-billing": False, "sentinel": True, "sso": True, "state-storage": True, "teams": True,
    "usage-reporting": False, "user-limit": None, "vcs-integrations": True, "versioned-policy-set-limit": None,
}

DEFAULT_IACT_REFUSAL_BODY = (
    "<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n"
    "<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)

DEFAULT_CONFIG = {
    # /_health_check (and every other non-control route) answers boot_status for boot_seconds after start.
    "boot_seconds": 0.0,
    "boot_status": 503,
    "boot_from_first_request": False,   # True: the boot period starts with the first non-control request
    # IACT retrieval (/admin/retrieve-iact). Names follow the Replicated settings (FDO: TFE_IACT_*).
    "iact_token": None,                 # preset IACT (TFE_IACT_TOKEN); random when None
    "iact_subnet_list": "",             # comma-separated CIDRs (or a list); "" = nobody
    "iact_subnet_time_limit": "60",     # minutes after installation start, or "unlimited"
    "iact_trusted_proxies": [],         # peers whose X-Forwarded-For is believed
    "install_started_seconds_ago": 0.0,  # move the installation start into the past
    "iact_refusal_status": 401,
    "iact_refusal_content_type": "text/html; charset=utf-8",
    "iact_refusal_body": DEFAULT_IACT_REFUSAL_BODY,
    # POST /admin/initial-admin-user
    "initial_admin_min_password": 10,
    "initial_admin_when_users_exist_status": 404,   # [inferred] undocumented; configurable
    "initial_admin_when_users_exist_error": "Unauthorized to perform action",
    "initial_admin_fail": False,        # True -> 500 {"status":"error",...}, nothing created
    # rate limiting (per user, team or organization whose token it is, or per IP without a token), sliding window
    "rate_limit_enabled": True,
    "rate_limit": 30,
    "rate_limit_window": 1.0,
    # The origin the server builds absolute links from, as TFE does from its host name (TFE_HOSTNAME, default
    # port dropped); None: the address it listens on.
    "public_url": None,
    # faults: list of dicts, see server.Faults
    "faults": [],
    "delay": 0.0,
    # organizations
    "limit_user_organization_creation": True,
    "entitlements": {},
    # identity headers on /api/v2/ping
    "tfp_api_version": "34.21.9",
    "tfp_app_name": "Terraform Enterprise",
    "tfe_version": "v202205-1",
    "tfe_current_version": "1.1.0",
    # The product version the emulator plays (§8), which decides the health paths it serves: None serves
    # every one; a calendar version ("v202309-1", Replicated) and FDO before 1.2.1 ("1.0.3", "1.1.2") have
    # /_health_check only; FDO from 1.2.1 adds /api/v1/health/readiness. The System API (/api/v1/ping,
    # /api/v1/nodes/readiness) exists on FDO only. /api/v2/ping reports the version in its headers.
    "product_version": None,
    # /api/v1/health/readiness: the checks it reports [inferred names], the ones that fail (status ERROR,
    # HTTP 503; while booting every check fails), the node name and whether the node is draining.
    "readiness_checks": ["postgres", "redis", "vault", "object-storage", "archivist", "task-worker"],
    "readiness_failing_checks": [],
    "readiness_node": "tfe-node-0",
    "readiness_draining": False,
    # System API tokens (tfectl admin api-token generate) accepted on /api/v1/ping and /api/v1/nodes/*, and
    # the documented 1 request/second limit of /api/v1/ping.
    "system_api_tokens": [],
    "system_ping_rate_limit": 1,
    # seeded at start: [{"username","email","password","site_admin","token"}]
    "users": [],
    "organizations": [],
    # workspaces and state versions (routes_workspaces.py, routes_state_versions.py): whether a state version
    # created without ``state`` is pending with one-shot upload URLs (False: 422 "param is missing ... state")
    "state_version_upload_urls": True,
}


def random_string(length, alphabet=_ALNUM):
    """A random string from ``alphabet``."""
    return "".join(secrets.choice(alphabet) for _index in range(length))


def new_token_value():
    """A token shaped like a real TFE token: ``<14>.atlasv1.<67>``."""
    return "%s.atlasv1.%s" % (random_string(14), random_string(67))


def utcnow():
    """Aware UTC now."""
    return datetime.now(timezone.utc)


class User:
    """A TFE user."""

    def __init__(self, user_id, username, email, password, site_admin=False):
        self.id = user_id
        self.username = username
        self.email = email
        self.password = password
        self.site_admin = bool(site_admin)
        self.created_at = utcnow()

    def to_dict(self):
        """Control-API view (no password)."""
        return {"id": self.id, "username": self.username, "email": self.email, "site_admin": self.site_admin,
                "created_at": self.created_at.isoformat()}


class Token:
    """An API token. ``kind`` is user / team / organization; ``owner_id`` the user id, team id or org name."""

    def __init__(self, token_id, value, kind, owner_id, description=None, created_by=None, expired_at=None):
        self.id = token_id
        self.value = value
        self.kind = kind
        self.owner_id = owner_id
        self.description = description
        self.created_by = created_by
        self.created_at = utcnow()
        self.last_used_at = None
        self.expired_at = expired_at

    def to_dict(self):
        """Control-API view: the token value is never shown, only its last four characters."""
        return {"id": self.id, "kind": self.kind, "owner_id": self.owner_id, "description": self.description,
                "created_at": self.created_at.isoformat(),
                "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
                "value_suffix": self.value[-4:]}


class Organization:
    """A TFE organization. ``name`` is the JSON:API id; ``external_id`` (org-...) the entitlement-set id."""

    def __init__(self, name, email, external_id, attributes=None, owners=None, entitlements=None):
        self.name = name
        self.email = email
        self.external_id = external_id
        self.attributes = dict(attributes or {})
        self.owners = set(owners or ())
        self.entitlements = dict(entitlements or {})
        self.created_at = utcnow()

    def to_dict(self):
        """Control-API view."""
        return {"name": self.name, "email": self.email, "external_id": self.external_id,
                "attributes": self.attributes, "owners": sorted(self.owners),
                "entitlements": self.entitlements, "created_at": self.created_at.isoformat()}


def _merge(base, extra):
    for key, value in (extra or {}).items():
        base[key] = copy.deepcopy(value)
    return base


class State:
    """Everything the emulator knows. Guard read-modify-write sequences with ``with state.lock:``."""

    def __init__(self, config=None):
        self.lock = threading.RLock()
        self.config = _merge(copy.deepcopy(DEFAULT_CONFIG), config)
        self.started_monotonic = time.monotonic()
        self.started_at = time.time()
        self.users = {}           # id -> User
        self.tokens = {}          # token value -> Token
        self.organizations = {}   # name -> Organization
        self.collections = {}     # free for other route modules: name -> dict
        self.workspaces = {}      # ws id -> routes_workspaces.Workspace (locks, variables)
        self.state_versions = {}  # sv id -> routes_state_versions.StateVersion (oldest first)
        self.blobs = {}           # secret archivist object key -> routes_state_versions blob slot
        self.iact = None
        self.iact_used = False
        self.installed_at = self.started_at
        self.boot_anchor = None
        self.apply_config(config or {}, initial=True)

    # -- configuration ---------------------------------------------------------------------------------

    def apply_config(self, changes, initial=False):
        """Merge ``changes`` into the config and apply side effects (IACT, install start, seeds)."""
        with self.lock:
            if not initial:
                _merge(self.config, changes)
            if initial or "iact_token" in changes:
                self.iact = self.config.get("iact_token") or random_string(32)
            if initial or "install_started_seconds_ago" in changes:
                self.installed_at = time.time() - float(self.config.get("install_started_seconds_ago") or 0)
            if ("boot_seconds" in changes or "boot_from_first_request" in changes) and not initial:
                self.started_monotonic = time.monotonic()
                self.boot_anchor = None
            for seed in changes.get("users") or []:
                self.add_user(seed["username"], seed.get("email") or "%s@example.com" % seed["username"],
                              seed.get("password") or random_string(16), seed.get("site_admin", False),
                              token=seed.get("token"))
            for seed in changes.get("organizations") or []:
                owner = self.user_by_name(seed.get("owner")) if seed.get("owner") else None
                self.add_organization(seed["name"], seed.get("email") or "%s@example.com" % seed["name"],
                                      owner=owner, entitlements=seed.get("entitlements"))
            return self.config

    def booting(self):
        """True while the configured boot period lasts (called for every non-control request)."""
        with self.lock:
            anchor = self.started_monotonic
            if self.config.get("boot_from_first_request"):
                if self.boot_anchor is None:
                    self.boot_anchor = time.monotonic()
                anchor = self.boot_anchor
            return time.monotonic() - anchor < float(self.config.get("boot_seconds") or 0)

    def entitlements_for(self, org):
        """The effective entitlement set of an organization."""
        ent = dict(DEFAULT_ENTITLEMENTS)
        ent.update(self.config.get("entitlements") or {})
        ent.update(org.entitlements)
        return ent

    # -- helpers -----------------------------------------------------------------------------------------

    @staticmethod
    def new_id(prefix):
        """``<prefix>-<16 random alphanumerics>``, e.g. ``user-V3R563qtJNcExAkN``."""
        return "%s-%s" % (prefix, random_string(16))

    def add_token(self, kind, owner_id, description=None, value=None, created_by=None, expired_at=None):
        """Create a token and return the Token object (its ``value`` is the secret)."""
        with self.lock:
            token = Token(self.new_id("at"), value or new_token_value(), kind, owner_id, description=description,
                          created_by=created_by, expired_at=expired_at)
            self.tokens[token.value] = token
            return token

    def add_user(self, username, email, password, site_admin=False, token=None):
        """Create a user and a user token for it; return (user, token_string)."""
        with self.lock:
            user = User(self.new_id("user"), username, email, password, site_admin)
            self.users[user.id] = user
            tok = self.add_token("user", user.id, value=token, created_by=user.id)
            return user, tok.value

    def add_organization(self, name, email, owner=None, attributes=None, entitlements=None):
        """Create an organization (``owner``: a User who becomes a member of its owners team)."""
        with self.lock:
            org = Organization(name, email, self.new_id("org"), attributes=attributes,
                               owners=[owner.id] if owner else [], entitlements=entitlements)
            self.organizations[name] = org
            return org

    def user_by_name(self, username):
        """The User called ``username`` or None."""
        with self.lock:
            for user in self.users.values():
                if user.username == username:
                    return user
        return None

    def token_object(self, value):
        """The Token for a bearer string (expired tokens count as invalid), or None."""
        with self.lock:
            token = self.tokens.get(value)
            if token is None:
                return None
            if token.expired_at is not None and token.expired_at <= utcnow():
                return None
            token.last_used_at = utcnow()
            return token

    def user_for_token(self, value):
        """The User a user token belongs to, or None."""
        token = self.token_object(value)
        if token is None or token.kind != "user":
            return None
        return self.users.get(token.owner_id)

    def snapshot(self):
        """Everything, as JSON-serialisable data (token values are not included)."""
        def ser(item):
            if hasattr(item, "to_dict"):
                return item.to_dict()
            return item
        with self.lock:
            return {
                "users": [u.to_dict() for u in self.users.values()],
                "tokens": [t.to_dict() for t in self.tokens.values()],
                "organizations": [o.to_dict() for o in self.organizations.values()],
                "collections": {name: ({k: ser(v) for k, v in coll.items()} if isinstance(coll, dict)
                                       else [ser(v) for v in coll])
                                for name, coll in self.collections.items()},
                "iact_used": self.iact_used,
                "installed_at": self.installed_at,
                "started_at": self.started_at,
            }
