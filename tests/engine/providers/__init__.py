"""Stand-ins for the resource plugins the Go module proxy refuses.

The real engine (scripts/engine/build.sh) needs a ``pulumi-resource-<name>``
plugin for every package the program uses. The Go proxy serves the
kubernetes provider but refuses pulumi-command, pulumi-tls and pulumi-random
(scripts/engine/versions.env). These modules implement the same resource
types, inputs, outputs, replacement rules and secret outputs as those
providers document, so the engine's own decisions (create, update, replace,
delete and their order, what lands in state) can be tested for real. They
are test code: the program never imports them.
"""
