"""Entry point the Pulumi CLI runs: builds the pack and serves it.

Never import this module from tests: ``PolicyPack(...)`` starts a gRPC
server and blocks forever. The policies live in ``sovereign_policies``.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from sovereign_policies import PACK_NAME, POLICIES

PolicyPack(
    name=PACK_NAME,
    policies=POLICIES,
    # Each policy sets its own level; this only covers a policy that would not.
    enforcement_level=EnforcementLevel.MANDATORY,
)
