"""A stage's state before its update, for a rollback activity: sealed, by reference.

A stage rolled back after a violation returns to its stack's recorded inputs before
the update. The rollback may run on another worker than the update, so the gate-before
activity writes those inputs (which may hold secrets) and the resources' types to the
plan directory, sealed with AES-256-GCM under the payload key of the state passphrase
(``codec.payload_key``), and passes only the checkpoint's id on: no value enters the
workflow history. The stage's last phase removes the file.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from provision.engine.protocol import META_OUTPUT, StackSnapshot
from provision.errors import ExecutorError, PassphraseError
from provision.executor.codec import payload_key

_ID = re.compile(r"^[0-9a-f]{32}$")
_NONCE = 12
_AAD = b"provision/stage-checkpoint/v1"


class CheckpointStore:
    """Sealed pre-update states under ``root`` (``<id>.sealed`` files)."""

    def __init__(self, root: Path, passphrase: str) -> None:
        self.root = root
        self._aead = AESGCM(payload_key(passphrase))

    def put(self, before: StackSnapshot | None) -> str:
        """Seal what :meth:`get` returns for ``before``; its id ("" for no stack)."""
        if before is None:
            return ""
        meta = before.outputs.get(META_OUTPUT) or {}
        types = dict(meta.get("types", {})) if isinstance(meta, dict) else {}
        data = json.dumps({"inputs": before.inputs, "types": types}, sort_keys=True)
        nonce = os.urandom(_NONCE)
        cid = os.urandom(16).hex()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / f"{cid}.sealed").write_bytes(
            nonce + self._aead.encrypt(nonce, data.encode("utf-8"), _AAD))
        return cid

    def get(self, cid: str) -> StackSnapshot | None:
        """The stack before the update as a snapshot (recorded inputs, and the types in
        its meta output), None for "" (there was no stack).

        Raises :class:`ExecutorError` when the checkpoint is missing, and
        :class:`PassphraseError` when it does not open with this passphrase."""
        if not cid:
            return None
        path = self._path(cid)
        try:
            blob = path.read_bytes()
        except OSError:
            raise ExecutorError(f"the stage checkpoint {cid} is not in {self.root}",
                                hint="workers on other machines need the same plan directory "
                                     "(PROVISION_PLAN_DIR on a shared file system)") from None
        try:
            data = json.loads(self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], _AAD))
        except InvalidTag:
            raise PassphraseError(f"the stage checkpoint {cid} does not open with this state "
                                  "passphrase", hint="every worker of an environment needs "
                                                     "the same PROVISION_PASSPHRASE") from None
        return StackSnapshot(outputs={META_OUTPUT: {"types": data["types"]}}, digest="",
                             inputs=data["inputs"])

    def discard(self, cid: str) -> None:
        """Remove the checkpoint (no error when it is gone already)."""
        if cid:
            self._path(cid).unlink(missing_ok=True)

    def _path(self, cid: str) -> Path:
        if not _ID.match(cid):
            raise ExecutorError(f"'{cid}' is not a stage checkpoint id")
        return self.root / f"{cid}.sealed"
