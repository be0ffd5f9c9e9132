"""Reference parsing and substitution."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provision.spec.model import Reference, Template
from provision.spec.refs import RefParser, RefSyntaxError, parse_string, substitute

PLAIN = st.text(st.characters(exclude_characters="${}", exclude_categories=("Cs",)))
REFS = st.sampled_from(["${var.owner}", "${env.name}", "${env.gcp.project}", "${logs.arn}",
                        "${rg.tags.owner}"])


@given(PLAIN)
def test_text_without_references_is_unchanged(text: str) -> None:
    assert parse_string(text) == text


@given(st.lists(st.one_of(PLAIN, REFS), min_size=1, max_size=6))
def test_parsed_parts_reassemble_the_original(pieces: list[str]) -> None:
    text = "".join(pieces)
    parsed = parse_string(text)
    if isinstance(parsed, Template):
        assert "".join(str(p) for p in parsed.parts) == text
        assert not any(isinstance(a, str) and isinstance(b, str)
                       for a, b in zip(parsed.parts, parsed.parts[1:]))
    else:
        assert str(parsed) == text


def test_kinds() -> None:
    assert parse_string("${ var.owner }") == Reference("var", "owner", "", "${ var.owner }")
    assert parse_string("${env.name}") == Reference("env", "name", "", "${env.name}")
    assert parse_string("${env.aws.region}") == Reference("env", "aws", "region",
                                                          "${env.aws.region}")
    assert parse_string("${rg.tags.owner}") == Reference("resource", "rg", "tags.owner",
                                                         "${rg.tags.owner}")
    assert parse_string("a $${b} c") == "a ${b} c"


@pytest.mark.parametrize("text, message", [
    ("${var.a.b}", "bad variable reference"),
    ("${env.aws}", "bad environment reference"),
    ("${logs}", "names no output"),
    ("${logs[0].arn}", "unsupported expression"),
    ("${a.${b.c}}", "unterminated or nested reference"),
    ("x-${var.owner", "unterminated or nested reference"),
    ('${jsonencode({deadLetterTargetArn = "x"})}', r"function call \(jsonencode"),
])
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(RefSyntaxError, match=message.replace("[", r"\[")):
        parse_string(text)


def test_substitute_merges_text_and_keeps_resource_references() -> None:
    value = {"a": parse_string("x-${var.v}-${logs.arn}-${env.name}"), "b": [parse_string("${var.n}")]}
    values = {"v": "V", "n": 7}

    def lookup(ref: Reference) -> tuple[bool, object]:
        if ref.kind == "var":
            return True, values[ref.target]
        if ref.kind == "env":
            return True, "dev"
        return False, None

    out = substitute(value, lookup)
    assert out == {"a": Template(("x-V-", Reference("resource", "logs", "arn", "${logs.arn}"),
                                  "-dev")),
                   "b": [7]}
    assert substitute(parse_string("${var.v}${var.n}"), lookup) == "V7"


def test_a_parser_parses_nested_values_reports_errors_by_path_and_remembers_texts() -> None:
    parser = RefParser(limit=2)
    errors: list[tuple[str, tuple[object, ...]]] = []
    value = {"a": ["x-${var.v}", "${logs.arn}"], "b": "${bad", "c": 3, "d": "plain"}
    out = parser.value(value, lambda exc, path: errors.append((str(exc), path)))
    assert out == {"a": [parse_string("x-${var.v}"), parse_string("${logs.arn}")],
                   "b": "${bad", "c": 3, "d": "plain"}
    assert [path for _, path in errors] == [("b",)]
    assert "unterminated" in errors[0][0]
    # Remembered: the same text gives the same object, up to the limit (two texts here).
    assert parser.text("x-${var.v}") is out["a"][0]
    assert parser.text("y-${env.name}") is not parser.text("y-${env.name}")
    # Another parser remembers nothing of this one's.
    assert RefParser().text("x-${var.v}") is not out["a"][0]
