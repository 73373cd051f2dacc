"""Exports the outputs given in config, the named ones as secrets: what a
stack holds after its `pulumi up` (here: a fleet hub's, planned offline)."""

import json

import pulumi

config = pulumi.Config()
secret = set(config.get_object("secretOutputs") or [])
for name, value in json.loads(config.require("outputs")).items():
    pulumi.export(name, pulumi.Output.secret(value) if name in secret else value)
