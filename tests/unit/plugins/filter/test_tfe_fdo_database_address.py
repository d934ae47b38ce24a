# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tfe_fdo_database_address filter: TFE_DATABASE_HOST split into the host and port TFE connects to."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.tfe_fdo_database_address import FilterModule, \
    tfe_fdo_database_address


def test_the_filter_is_exposed():
    assert FilterModule().filters() == {"tfe_fdo_database_address": tfe_fdo_database_address}


@pytest.mark.parametrize("value, host, port", [
    ("db.internal", "db.internal", 5432),
    ("db.internal:6432", "db.internal", 6432),
    ("10.0.0.5", "10.0.0.5", 5432),
    ("10.0.0.5:5433", "10.0.0.5", 5433),
    ("2001:db8::5", "2001:db8::5", 5432),
    ("[2001:db8::5]", "2001:db8::5", 5432),
    ("[2001:db8::5]:6432", "2001:db8::5", 6432),
    (" db.internal:5432 ", "db.internal", 5432),
])
def test_host_and_port(value, host, port):
    assert tfe_fdo_database_address(value) == {"host": host, "port": port}


@pytest.mark.parametrize("value", ["", "  ", None, 5432, "db:0", "db:70000", "db:port", "[db.internal]:5432",
                                   "db:5432:1", "[2001:db8::5"])
def test_what_is_no_address_is_refused(value):
    with pytest.raises(AnsibleFilterError):
        tfe_fdo_database_address(value)
