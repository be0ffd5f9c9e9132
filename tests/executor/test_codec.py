"""The payload codec: what enters a workflow history is sealed with the state passphrase."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.api.common.v1 import Payload

from provision.errors import PassphraseError
from provision.executor.codec import ENCODING, PassphraseCodec


def _payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


def test_a_sealed_payload_hides_its_value_and_opens_with_the_same_passphrase() -> None:
    codec = PassphraseCodec("state-passphrase")
    original = _payload('{"db_password": "hunter2-do-not-leak"}')
    [sealed] = asyncio.run(codec.encode([original]))
    assert sealed.metadata["encoding"] == ENCODING
    assert b"hunter2" not in sealed.SerializeToString()
    [again] = asyncio.run(codec.encode([original]))
    assert again.data != sealed.data                  # a fresh nonce each time
    assert asyncio.run(PassphraseCodec("state-passphrase").decode([sealed])) == [original]


def test_another_passphrase_cannot_open_it_and_says_so() -> None:
    [sealed] = asyncio.run(PassphraseCodec("one").encode([_payload("{}")]))
    with pytest.raises(PassphraseError, match="does not open"):
        asyncio.run(PassphraseCodec("another").decode([sealed]))


def test_payloads_it_did_not_seal_pass_through() -> None:
    plain = _payload("null")
    assert asyncio.run(PassphraseCodec("x").decode([plain])) == [plain]
