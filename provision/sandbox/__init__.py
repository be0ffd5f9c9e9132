"""The local sandbox: cloud emulators on 127.0.0.1 for environment ``local``.

``Sandbox(home).up()`` starts them, ``status()`` reports them and their
endpoints, ``down()`` stops exactly what ``up`` started.
"""

from provision.sandbox.manager import ENV_HOME, Sandbox, default_home
from provision.sandbox.services import DEFAULT_SERVICES, ServiceSpec
from provision.sandbox.state import SandboxStatus, ServiceStatus
from provision.sandbox.tools import AZURITE_VERSION

__all__ = [
    "AZURITE_VERSION",
    "DEFAULT_SERVICES",
    "ENV_HOME",
    "Sandbox",
    "SandboxStatus",
    "ServiceSpec",
    "ServiceStatus",
    "default_home",
]
