#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ptfe_iact
short_description: Retrieve the Initial Admin Creation Token (IACT) of a fresh PTFE installation
version_added: 0.1.0
author:
  - ptfe.ops contributors (@ptfe-ops)
description:
  - Retrieves the Initial Admin Creation Token (IACT) that M(ptfe.ops.ptfe_initial_admin) needs to create the
    first administrator of a Private Terraform Enterprise (PTFE) / Terraform Enterprise installation.
  - With O(method=api) the module runs where it can reach the installation over HTTPS (usually the
    controller), waits until C(/_health_check) answers 200, then calls C(GET /admin/retrieve-iact). PTFE only
    answers clients whose address is in the C(iact_subnet_list) setting, within C(iact_subnet_time_limit)
    minutes of the installation starting. When it refuses, the module fails and says which settings to
    change.
  - With O(method=host) the module runs on the PTFE host itself and runs the installer's command
    (C(replicated admin --tty=0 retrieve-iact), the older C(replicated admin --no-tty retrieve-iact), or
    C(tfectl admin token)), strips the trailing carriage return and retries while the command prints nothing
    (it does that while the application is still starting).
  - With O(preset_iact) (an installation started with a preset token, C(TFE_IACT_TOKEN)) nothing is
    retrieved; the module checks the token's form and waits for the health check (O(method=api)). It does not
    return the preset, because Ansible masks any returned value equal to a C(no_log) option; pass the preset
    itself to M(ptfe.ops.ptfe_initial_admin).
  - The module only reads, so it also runs in check mode.
  - The IACT is a secret. Use C(no_log=true) on the task that runs this module and on every task that
    uses RV(iact).
extends_documentation_fragment:
  - ptfe.ops.ptfe
  - ptfe.ops.attributes.read_only
options:
  method:
    description:
      - V(api) calls C(/admin/retrieve-iact) over HTTPS; needs O(address) (or E(TFE_ADDRESS)).
      - V(host) runs the installer's command on the host the module runs on (the PTFE host); O(address) and the
        other connection options are not used.
    type: str
    choices: [api, host]
    default: api
  address:
    # Described by ptfe.ops.ptfe; needed only with method=api.
    required: false
  token:
    description:
      - Not used. Retrieving the IACT needs no API token.
    type: str
  preset_iact:
    description:
      - An IACT that was set when the installation was configured (C(TFE_IACT_TOKEN)). Its form is checked and
        the installation is not called (except the health check with O(method=api)). RV(iact) is not returned;
        give the preset to M(ptfe.ops.ptfe_initial_admin) directly.
    type: str
  health_timeout:
    description:
      - With O(method=api), how many seconds to wait for C(/_health_check) to answer 200 before giving up.
      - V(0) skips the wait. At most V(3600).
    type: int
    default: 600
  health_interval:
    description:
      - Seconds between two health checks, from V(1) to V(300).
    type: int
    default: 5
  command:
    description:
      - With O(method=host), the command that prints the IACT, as a list of arguments.
      - By default the module uses C(replicated admin --tty=0 retrieve-iact) when C(replicated) is on the
        C(PATH) (falling back to C(--no-tty) for old Replicated versions), else C(tfectl admin token).
    type: list
    elements: str
  retries:
    description:
      - With O(method=host), how many more times to run the command while it prints nothing or fails, from V(0)
        to V(100).
    type: int
    default: 30
  delay:
    description:
      - Seconds between two runs of the command, from V(0) to V(300).
    type: int
    default: 10
notes:
  - The refusal of C(/admin/retrieve-iact) is not documented by HashiCorp; the installation answers HTTP 401
    with an HTML page and gives no reason. The module therefore lists every cause (address not in
    C(iact_subnet_list), C(iact_subnet_time_limit) passed, an untrusted proxy) and what to change for each.
  - Retrieving the IACT does not consume it; creating the first admin does.
seealso:
  - module: ptfe.ops.ptfe_initial_admin
  - name: Automating initial user creation
    description: HashiCorp's description of the IACT and the initial admin API.
    link: https://developer.hashicorp.com/terraform/enterprise/deploy/initial-admin-user
"""

EXAMPLES = r"""
- name: Retrieve the IACT over HTTPS from the controller
  ptfe.ops.ptfe_iact:
    address: https://ptfe.example.com
    ca_path: /etc/pki/ptfe-ca.pem
  delegate_to: localhost
  run_once: true
  no_log: true
  register: iact

- name: Retrieve the IACT on the PTFE host with the installer's command
  ptfe.ops.ptfe_iact:
    method: host
  become: true
  no_log: true
  register: iact
"""

RETURN = r"""
iact:
  description:
    - The Initial Admin Creation Token. Secret; consume it only in tasks with C(no_log=true).
  returned: success, unless O(preset_iact) is set
  type: str
  sample: 5f4dcc3b5aa765d61d8327deb882cf99
method:
  description: How the IACT was obtained (V(api), V(host) or V(preset)).
  returned: success
  type: str
  sample: api
command:
  description: The command that printed the IACT (O(method=host)).
  returned: when O(method=host) and O(preset_iact) is not set
  type: list
  elements: str
  sample: [replicated, admin, --tty=0, retrieve-iact]
attempts:
  description: How many times the command or the API call ran before it returned a token.
  returned: success
  type: int
  sample: 1
"""

import re
import socket
import time
from urllib.parse import urlsplit

from ansible.module_utils.basic import env_fallback

from ansible_collections.ptfe.ops.plugins.module_utils._errors import OpsError
from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_client import PtfeError, PtfeHTTPError
from ansible_collections.ptfe.ops.plugins.module_utils._ptfe_module import PtfeModule
from ansible_collections.ptfe.ops.plugins.module_utils._validation import has_control

TOKEN_RE = re.compile(r"[A-Za-z0-9._~+/=-]+")
RETRIEVE_PATH = "/admin/retrieve-iact"


class IactError(OpsError):
    """A failure to retrieve the IACT, with the reason and what to change."""


def looks_like_token(text):
    """An IACT is one word of token characters: no spaces, no markup."""
    return bool(text) and bool(TOKEN_RE.fullmatch(text)) and len(text) <= 512


#: Bounds of the waiting options: a wait is always bounded, and never a busy loop.
MAX_HEALTH_TIMEOUT = 3600
MAX_INTERVAL = 300
MAX_RETRIES = 100


def validate(check):
    """Check the options with ``check`` (a ``_validation.Checker``), before anything is sent or run; every
    problem names its option."""
    check.whole("health_timeout", minimum=0, maximum=MAX_HEALTH_TIMEOUT)
    check.whole("health_interval", minimum=1, maximum=MAX_INTERVAL)
    check.whole("retries", minimum=0, maximum=MAX_RETRIES)
    check.whole("delay", minimum=0, maximum=MAX_INTERVAL)
    command = check.params.get("command")
    if command is not None:
        if not command or not str(command[0]).strip():
            check.add("command must be the command as a non-empty list of arguments")
        for index, argument in enumerate(command):
            if has_control(argument):
                check.add("command[%d] must not contain a newline or another control character" % index)
    preset = check.token("preset_iact")
    if preset is not None and not looks_like_token(preset):
        check.add("preset_iact must be one word of token characters")
    return check.problems


def source_address(address):
    """The local address this machine uses to reach ``address`` (no packet is sent), or None."""
    parts = urlsplit(address)
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        family, _type, _proto, _name, sockaddr = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0]
        probe = socket.socket(family, socket.SOCK_DGRAM)
        try:
            probe.connect(sockaddr)
            return probe.getsockname()[0]
        finally:
            probe.close()
    except (OSError, IndexError, TypeError):
        return None


def refusal_message(client, status, where_from):
    """Explain a refused IACT retrieval in the operator's terms."""
    me = "this machine (it reaches the installation from %s)" % where_from if where_from else "this machine"
    network = "%s/32" % where_from if where_from and ":" not in where_from else "its address or network"
    return (
        "Failed to retrieve the IACT: HTTP %s from GET %s: the installation at %s refused to hand out the "
        "Initial Admin Creation Token to %s. PTFE refuses, without saying why, when: "
        "(1) the client address is not in the iact_subnet_list setting (TFE_IACT_SUBNETS on newer installs): "
        "add %s to iact_subnet_list; "
        "(2) more than iact_subnet_time_limit minutes (default 60; TFE_IACT_TIME_LIMIT) have passed since the "
        "installation started: raise iact_subnet_time_limit or set it to unlimited, then restart the application; "
        "(3) the request went through a proxy that is not trusted (TFE_IACT_TRUSTED_PROXIES): add the proxy's "
        "address there or connect directly. "
        "Or retrieve the IACT on the PTFE host with method=host."
        % (status, RETRIEVE_PATH, client.address, me, network)
    )


def retrieve_api(client):
    """GET /admin/retrieve-iact; return the token or raise IactError explaining the refusal."""
    where_from = source_address(client.address)
    try:
        resp = client.request("GET", RETRIEVE_PATH, expected=(200,), authenticated=False,
                              headers={"Accept": "text/plain, */*"}, action="retrieve the IACT")
    except PtfeHTTPError as exc:
        if exc.status in (401, 403, 404):
            raise IactError(refusal_message(client, exc.status, where_from))
        raise IactError(str(exc))
    except PtfeError as exc:
        raise IactError(str(exc))
    text = (resp.text or "").replace("\r", "").strip()
    if not looks_like_token(text):
        raise IactError(refusal_message(client, "%s (but no token in the answer)" % resp.status, where_from))
    return text


def default_commands(module):
    """The installer commands to try, in order."""
    if module.get_bin_path("replicated"):
        return [["replicated", "admin", "--tty=0", "retrieve-iact"],
                ["replicated", "admin", "--no-tty", "retrieve-iact"]]
    if module.get_bin_path("tfectl"):
        return [["tfectl", "admin", "token"]]
    raise IactError("Failed to retrieve the IACT on the host: neither replicated nor tfectl is on the PATH. "
                    "Set command to the installer's IACT command (for example the container's retrieve-iact), "
                    "or use method=api.")


def retrieve_host(module, retries, delay):
    """Run the installer command until it prints a token. Returns (token, command, attempts)."""
    commands = [module.params["command"]] if module.params["command"] else default_commands(module)
    cmd = commands[0]
    last = ""
    attempts = 0
    for attempt in range(retries + 1):
        attempts = attempt + 1
        rc, out, err = module.run_command(cmd)
        flag_problem = rc != 0 and re.search(r"unknown flag|flag provided but not defined|unknown shorthand",
                                             (err or "") + (out or ""))
        if flag_problem and len(commands) > 1 and cmd is commands[0]:
            cmd = commands[1]
            rc, out, err = module.run_command(cmd)
        text = (out or "").replace("\r", "").strip()
        if rc == 0 and text:
            if not looks_like_token(text):
                raise IactError("Failed to retrieve the IACT on the host: %s printed something that is not a "
                                "token (%d characters, more than one word). Check the command." % (" ".join(cmd),
                                                                                                   len(text)))
            return text, cmd, attempts
        if rc != 0:
            last = "exit code %d: %s" % (rc, (err or "").strip()[:300] or "no error output")
        else:
            last = "it printed nothing (the application may still be starting)"
        if attempt < retries:
            time.sleep(max(0, delay))
    raise IactError("Failed to retrieve the IACT on the host: %s gave no token after %d attempts %d seconds "
                    "apart; last: %s" % (" ".join(cmd), attempts, delay, last))


def main():
    module = PtfeModule(
        argument_spec=dict(
            address=dict(type="str", fallback=(env_fallback, ["TFE_ADDRESS"])),
            method=dict(type="str", choices=["api", "host"], default="api"),
            preset_iact=dict(type="str", no_log=True),
            health_timeout=dict(type="int", default=600),
            health_interval=dict(type="int", default=5),
            command=dict(type="list", elements="str"),
            retries=dict(type="int", default=30),
            delay=dict(type="int", default=10),
        ),
        required_if=[("method", "api", ("address",))],
    )
    params = module.params
    module.fail_on_invalid(validate(module.checker()), "ptfe_iact")

    result = dict(changed=False, method=params["method"], attempts=0)
    with module.errors("retrieve the IACT", result):
        client = None
        if params["method"] == "api":
            client = module.client()
            if params["health_timeout"]:
                client.wait_until_healthy(params["health_timeout"], params["health_interval"])
        if params["preset_iact"]:
            # Not returned: Ansible would mask it (it equals a no_log option) and hand on the mask.
            result.update(method="preset", attempts=0)
        elif params["method"] == "api":
            result.update(iact=retrieve_api(client), attempts=1)
        else:
            token, cmd, attempts = retrieve_host(module, params["retries"], params["delay"])
            result.update(iact=token, command=cmd, attempts=attempts)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
