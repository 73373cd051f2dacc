"""Fake provider answers per area, registered into ``registry``.

Each module adds the resource types, invokes and script outputs of its
layer; importing this package loads them all. Only the plan and the tests
import it, never the program.
"""

from . import cluster, compute, platform  # noqa: F401  (registration side effects)
from . import pki  # noqa: F401  (etcd PKI: real keys and certificates)
from . import ssh  # noqa: F401  (host key scans where pulumi runs)
from . import constraints  # noqa: F401  (what the APIs refuse; wraps the compute fakes)
from . import state  # noqa: F401  (stacks' recorded outputs: the engine's readStackOutputs)
from . import kubernetes  # noqa: F401  (objects the API server completes: token Secrets)
from .registry import FAKE_STDOUT, INVOKE_FAKES, RESOURCE_FAKES

__all__ = ["FAKE_STDOUT", "INVOKE_FAKES", "RESOURCE_FAKES"]
