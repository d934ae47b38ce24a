"""The tfe_fdo_input_problems filter: the tfe_fdo role's first decision on its variables."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ptfe.ops.plugins.filter.tfe_fdo_input_problems import FilterModule, tfe_fdo_input_problems

PASSWORD = "correct-horse-battery-staple"
GOOD = {
    "tfe_fdo_image": "images.releases.hashicorp.com/hashicorp/terraform-enterprise:1.2.1",
    "tfe_fdo_hostname": "tfe.example.com",
    "tfe_fdo_encryption_password": PASSWORD,
    "tfe_fdo_license": "02MV4UU43BK5HGYYTOJZWFQMTMNNEWU33J",
    "tfe_fdo_tls_cert_file": "/etc/pki/tfe/cert.pem",
    "tfe_fdo_tls_key_file": "/etc/pki/tfe/key.pem",
    "tfe_fdo_tls_ca_bundle_file": "/etc/pki/tfe/bundle.pem",
    "tfe_fdo_config_dir": "/etc/terraform-enterprise",
    "tfe_fdo_container_name": "terraform-enterprise",
    "tfe_fdo_operational_mode": "disk",
    "tfe_fdo_iact_subnets": ["10.0.0.0/24", "2001:db8::/64"],
    "tfe_fdo_iact_time_limit": 15,
    "tfe_fdo_iact_token": "",
    "tfe_fdo_iact_trusted_proxies": [],
    "tfe_fdo_http_port": 80,
    "tfe_fdo_https_port": 443,
    "tfe_fdo_admin_https_port": 8443,
    "tfe_fdo_admin_port_open": False,
    "tfe_fdo_admin_allowed_cidrs": [],
    "tfe_fdo_database_host": "",
    "tfe_fdo_s3_bucket": "",
    "tfe_fdo_redis_host": "",
}


def problems(**overrides):
    return tfe_fdo_input_problems(dict(GOOD, **overrides))


def test_good_settings_have_no_problem():
    assert problems() == []
    assert problems(tfe_fdo_admin_port_open=True, tfe_fdo_admin_allowed_cidrs=["192.0.2.0/28"]) == []
    assert problems(tfe_fdo_iact_token="preset_iact-0123456789") == []


@pytest.mark.parametrize("overrides, expected", [
    ({"tfe_fdo_iact_subnets": ["0.0.0.0/0"]}, "tfe_fdo_iact_subnets must not hold 0.0.0.0/0: anyone"),
    ({"tfe_fdo_iact_subnets": ["::/0"]}, "tfe_fdo_iact_subnets must not hold ::/0"),
    ({"tfe_fdo_iact_subnets": ["10.0.0.1/24"]}, "tfe_fdo_iact_subnets: '10.0.0.1/24' is not a CIDR block"),
    ({"tfe_fdo_iact_subnets": "10.0.0.0/24"}, "tfe_fdo_iact_subnets must be a list of CIDR blocks"),
    ({"tfe_fdo_iact_time_limit": 0}, "tfe_fdo_iact_time_limit must be"),
    ({"tfe_fdo_iact_time_limit": 1441}, "tfe_fdo_iact_time_limit must be"),
    ({"tfe_fdo_encryption_password": "short"}, "tfe_fdo_encryption_password must be at least 16 characters, got 5"),
    ({"tfe_fdo_encryption_password": PASSWORD + "\n"}, "tfe_fdo_encryption_password must not contain a newline"),
    ({"tfe_fdo_license": "two words"}, "tfe_fdo_license must not contain white space"),
    ({"tfe_fdo_iact_token": "short"}, "tfe_fdo_iact_token must be 16 to 256 letters"),
    ({"tfe_fdo_hostname": "tfe example"}, "tfe_fdo_hostname must be a DNS name"),
    ({"tfe_fdo_https_port": 80}, "tfe_fdo_http_port and tfe_fdo_https_port must be different ports, both are 80"),
    ({"tfe_fdo_admin_https_port": 70000}, "tfe_fdo_admin_https_port must be"),
    ({"tfe_fdo_admin_port_open": True}, "tfe_fdo_admin_allowed_cidrs must name at least one network"),
    ({"tfe_fdo_admin_port_open": True, "tfe_fdo_admin_allowed_cidrs": ["0.0.0.0/0"]},
     "tfe_fdo_admin_allowed_cidrs must not hold 0.0.0.0/0: the System API"),
    ({"tfe_fdo_tls_key_file": "/etc/pki/../key.pem"}, "tfe_fdo_tls_key_file must name a file"),
    ({"tfe_fdo_config_dir": "etc/terraform-enterprise"}, "tfe_fdo_config_dir must be an absolute path"),
    ({"tfe_fdo_container_name": "-bad"}, "tfe_fdo_container_name must be a container name"),
    ({"tfe_fdo_operational_mode": "cluster"}, "tfe_fdo_operational_mode must be one of disk, external, active-active"),
    ({"tfe_fdo_operational_mode": "external"}, "tfe_fdo_database_host must be set: tfe_fdo_operational_mode is external"),
    ({"tfe_fdo_operational_mode": "active-active"}, "tfe_fdo_redis_host must be set"),
    ({"tfe_fdo_database_host": "db.example:70000"}, "tfe_fdo_database_host: port 70000 is not 1 to 65535"),
    ({"tfe_fdo_database_host": "[db.example]:5432"}, "tfe_fdo_database_host: '[db.example]:5432' is not a host"),
    # each value is one line of the env file: a newline must never add a setting of its own
    ({"tfe_fdo_database_host": "db.example\nTFE_IACT_SUBNETS=0.0.0.0/0"},
     "tfe_fdo_database_host must not contain a newline"),
    ({"tfe_fdo_s3_region": "eu-west-1\rX"}, "tfe_fdo_s3_region must not contain a newline"),
    ({"tfe_fdo_extra_settings": {"TFE_LOG_FORWARDING_ENABLED": "true\nTFE_IACT_SUBNETS=0.0.0.0/0"}},
     "tfe_fdo_extra_settings.TFE_LOG_FORWARDING_ENABLED must not contain a newline"),
    ({"tfe_fdo_extra_settings": {"TFE_IACT_SUBNETS": "0.0.0.0/0"}},
     "tfe_fdo_extra_settings: TFE_IACT_SUBNETS is set by the role's own variable"),
    ({"tfe_fdo_extra_settings": {"tfe_lowercase": "x"}}, "tfe_fdo_extra_settings: 'tfe_lowercase' is not a setting name"),
    ({"tfe_fdo_extra_settings": {"TFE_X\nTFE_IACT_SUBNETS": "x"}}, "is not a setting name"),
    ({"tfe_fdo_extra_settings": {"TFE_X": ["a"]}}, "tfe_fdo_extra_settings.TFE_X must be a string, a number or a boolean"),
    ({"tfe_fdo_extra_settings": "TFE_X=1"}, "tfe_fdo_extra_settings must be a mapping"),
], ids=lambda value: str(value)[:40])
def test_each_problem_names_its_variable(overrides, expected):
    found = problems(**overrides)
    assert any(expected in problem for problem in found), found


def test_extra_settings_that_the_role_does_not_manage_are_accepted():
    assert problems(tfe_fdo_extra_settings={"TFE_LOG_FORWARDING_ENABLED": True, "TFE_CAPACITY_CONCURRENCY": 10}) == []


def test_a_value_refused_by_two_rules_is_reported_once():
    found = problems(tfe_fdo_encryption_password=PASSWORD + "\n")
    assert found == ["tfe_fdo_encryption_password must not contain a newline or another control character"]


def test_a_secret_is_never_quoted():
    for bad in ("short", "x" * 5 + " y", "tab\there"):
        for name in ("tfe_fdo_encryption_password", "tfe_fdo_license", "tfe_fdo_iact_token"):
            assert all(bad not in problem for problem in problems(**{name: bad}))


def test_not_a_dict_is_an_error():
    with pytest.raises(AnsibleFilterError):
        tfe_fdo_input_problems(["tfe_fdo_hostname"])
    assert FilterModule().filters()["tfe_fdo_input_problems"] is tfe_fdo_input_problems
