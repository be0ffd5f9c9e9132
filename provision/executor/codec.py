"""Workflow payloads encrypted with the state passphrase.

Everything the temporal executors send through Temporal (workflow inputs and
results, activity inputs and results) passes this codec, so nothing a stage
returns (its summary, an error message that may quote a value) enters the
workflow history in clear. Payloads are sealed with AES-256-GCM (the
``cryptography`` package, as in ``provision.engine.passphrase``) under a key
derived from the state passphrase with scrypt; the workers and the client of
one environment share that passphrase already.
"""

from __future__ import annotations

import os
from typing import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from provision.errors import PassphraseError

ENCODING = b"binary/provision-aes256gcm"
# Fixed: the key must be the same on every worker and client; the passphrase is the secret.
_SALT = b"provision/temporal-payloads/v1"
_NONCE = 12


def payload_key(passphrase: str) -> bytes:
    """The 32-byte payload key of ``passphrase`` (scrypt, n=2**14: tens of milliseconds)."""
    return Scrypt(salt=_SALT, length=32, n=2 ** 14, r=8, p=1).derive(passphrase.encode("utf-8"))


class PassphraseCodec(PayloadCodec):
    """Seals every payload with AES-256-GCM; opens only payloads it sealed."""

    def __init__(self, passphrase: str) -> None:
        self._aead = AESGCM(payload_key(passphrase))

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        sealed = []
        for payload in payloads:
            nonce = os.urandom(_NONCE)
            data = self._aead.encrypt(nonce, payload.SerializeToString(), ENCODING)
            sealed.append(Payload(metadata={"encoding": ENCODING}, data=nonce + data))
        return sealed

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        opened = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                opened.append(payload)     # not ours (e.g. a server-side failure payload)
                continue
            try:
                plain = self._aead.decrypt(payload.data[:_NONCE], payload.data[_NONCE:], ENCODING)
            except InvalidTag:
                raise PassphraseError(
                    "a workflow payload does not open with this state passphrase",
                    hint="every worker and client of an environment needs the same "
                         "PROVISION_PASSPHRASE") from None
            inner = Payload()
            inner.ParseFromString(plain)
            opened.append(inner)
        return opened
