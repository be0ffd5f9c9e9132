"""Verify the state passphrase against each stack's stored salt, before any operation.

Pulumi's passphrase secrets provider keeps, in each stack's deployment
(``secrets_providers.state.salt``), the value ``v1:<salt>:v1:<nonce>:<ciphertext>``:
the word ``pulumi`` encrypted with AES-256-GCM under a key derived from the
passphrase by PBKDF2-HMAC-SHA256, 1,000,000 iterations, 32 bytes (Pulumi
``pkg/secrets/passphrase/manager.go`` and ``sdk/go/common/resource/config/crypt.go``).
Decrypting it proves the passphrase without touching any secret or any cloud.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from provision.errors import PassphraseError

_ITERATIONS = 1_000_000
_CHECK_WORD = b"pulumi"


def matches(passphrase: str, salt_state: str) -> bool:
    """True when ``passphrase`` opens the stored salt state (about a second of PBKDF2)."""
    version, _, rest = salt_state.partition(":")
    salt_b64, _, check = rest.partition(":")
    parts = check.split(":")
    if version != "v1" or len(parts) != 3 or parts[0] != "v1":
        raise PassphraseError("the stack's secrets-provider salt is malformed")
    try:
        salt, nonce, cipher = (base64.b64decode(x) for x in (salt_b64, parts[1], parts[2]))
    except (binascii.Error, ValueError):
        raise PassphraseError("the stack's secrets-provider salt is malformed") from None
    key = hashlib.pbkdf2_hmac("sha256", passphrase.encode("utf-8"), salt, _ITERATIONS, 32)
    try:
        return AESGCM(key).decrypt(nonce, cipher, None) == _CHECK_WORD
    except (InvalidTag, ValueError):
        return False


def verify(passphrase: str, salts: Mapping[str, str]) -> None:
    """Check ``passphrase`` against every stack's salt (``{stack: salt state}``), in
    parallel. Raises PassphraseError "incorrect passphrase for stack X"."""
    if not salts:
        return
    names = sorted(salts)
    with ThreadPoolExecutor(max_workers=min(4, len(names))) as pool:
        results = list(pool.map(lambda n: matches(passphrase, salts[n]), names))
    wrong = [n for n, ok in zip(names, results) if not ok]
    if wrong:
        raise PassphraseError(
            f"incorrect passphrase for stack {wrong[0]}"
            + (f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""),
            hint="set PROVISION_PASSPHRASE to the passphrase the state was created with "
                 "(for 'local': restore .provision/passphrase)")
