"""Exporter: plain and secret outputs. Reader: what a StackReference to the
exporter sees (the program of tests/unit/test_environments.py read_reference)."""

import pulumi

config = pulumi.Config()
if config.require("role") == "exporter":
    pulumi.export("plain", "https://hub:6443")
    pulumi.export("secret", pulumi.Output.secret("token-1234"))
    pulumi.export("nested", {"server": "https://hub:6443", "token": pulumi.Output.secret("t-5678")})
elif config.require("role") == "invoker":
    # The engine's built-in invoke a program reads a stack's outputs with
    # synchronously: a stack the backend does not know is an error the
    # program can catch.
    try:
        pulumi.runtime.invoke("pulumi:pulumi:readStackOutputs", {"name": config.require("source")})
        pulumi.export("error", "")
    except Exception as err:  # noqa: BLE001 the test reads the message
        pulumi.export("error", str(err))
else:
    ref = pulumi.StackReference("hub", stack_name=config.require("source"))
    for name in ("plain", "secret", "nested", "missing"):
        pulumi.export(name, ref.get_output(name))
    pulumi.export("secretOutputNames", ref.secret_output_names)
    pulumi.export("outputs", ref.outputs)
