"""Stand-in for the pulumi-random 4.21.4 plugin: ``RandomPassword``.

Drawn from the OS's CSPRNG (``secrets``) like the provider's crypto/rand,
honouring length, character classes, minimums and overrideSpecial; every
input forces a new password (ForceNew), ``result`` and ``bcryptHash`` are
secret outputs. The provider's validation (length >= 1 and >= the sum of
the minimums) is enforced.
"""

from __future__ import annotations

import secrets
import string

from tests.engine.providers.protocol import ResourceKind, StandInProvider, serve

VERSION = "4.21.4"
DEFAULT_SPECIAL = "!@#$%&*()-_=+[]{}<>:?"
INPUTS = frozenset({"length", "keepers", "lower", "upper", "numeric", "number", "special", "minLower",
                    "minUpper", "minNumeric", "minSpecial", "overrideSpecial"})


def _check(news: dict) -> tuple[dict, list[tuple[str, str]]]:
    checked = {"lower": True, "upper": True, "numeric": True, "special": True,
               "minLower": 0, "minUpper": 0, "minNumeric": 0, "minSpecial": 0, **news}
    failures = []
    length = checked.get("length")
    minimums = sum(int(checked[k]) for k in ("minLower", "minUpper", "minNumeric", "minSpecial"))
    if length is None:
        failures.append(("length", "Missing required argument: \"length\""))
    elif int(length) < 1 or int(length) < minimums:
        failures.append(("length", f"length ({int(length)}) must be >= 1 and >= the sum of the minimums ({minimums})"))
    return checked, failures


def _create(name: str, inputs: dict) -> tuple[str, dict]:
    classes = []
    for enabled, minimum, alphabet in (
            ("lower", "minLower", string.ascii_lowercase), ("upper", "minUpper", string.ascii_uppercase),
            ("numeric", "minNumeric", string.digits),
            ("special", "minSpecial", inputs.get("overrideSpecial") or DEFAULT_SPECIAL)):
        if inputs.get(enabled, True):
            classes.append((int(inputs.get(minimum, 0)), alphabet))
    chars = [secrets.choice(alphabet) for minimum, alphabet in classes for _ in range(minimum)]
    pool = "".join(alphabet for _, alphabet in classes)
    chars += [secrets.choice(pool) for _ in range(int(inputs["length"]) - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    result = "".join(chars)
    return "none", {**inputs, "result": result, "bcryptHash": "$2a$10$" + secrets.token_urlsafe(40)[:53]}


PROVIDER = StandInProvider("random", VERSION, {
    "random:index/randomPassword:RandomPassword": ResourceKind(
        inputs=INPUTS, create=_create, check=_check, replace_on=frozenset({"*"}),
        secret_outputs=frozenset({"result", "bcryptHash"}))})

if __name__ == "__main__":
    serve(PROVIDER)
