"""provision/spec/hcl_brackets.py, and the HCL syntax error it places: a bracket or
string left open is reported where it opened, not at the end of the file."""

from __future__ import annotations

import pytest

from provision.errors import SpecError
from provision.spec import loads
from provision.spec.hcl_brackets import unclosed

OPEN_BLOCK = '''name = "x"
environment "dev" {}

resource "a" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "a-${var.x}-{not-a-brace}"   # a { in a comment
  }

resource "b" {
  type = "aws:s3:Bucket"
  /* a [ in a comment */
  properties { bucket = "b" }
}
'''


def test_the_innermost_open_bracket_is_found_past_strings_and_comments() -> None:
    assert unclosed(OPEN_BLOCK) == ("{", 4, 14)
    assert unclosed('a = ["x", "y"\n\nb = 1\n') == ("[", 1, 5)
    assert unclosed('a = "never closed\nb = 1\n') == ('"', 1, 5)
    assert unclosed("a = <<EOT\nno end\n") == ("<<", 1, 5)
    assert unclosed('a = <<-EOT\n  { [ (\n  EOT\nb = {\n') == ("{", 4, 5)
    assert unclosed('a = { b = "\\"{" }\n') is None          # escaped quote, brace in string
    assert unclosed("a = [ }\n") is None                      # mismatched: the parser says where


def test_a_block_left_open_is_reported_where_it_opened() -> None:
    with pytest.raises(SpecError) as raised:
        loads(OPEN_BLOCK, "open.hcl", "hcl")
    [diag] = raised.value.diagnostics
    assert (diag.line, diag.column) == (4, 14)
    assert diag.message.startswith("HCL syntax error: the '{' opened here is not closed "
                                   "(noticed at the end of the file")
    assert diag.hint == "close it with '}'"
