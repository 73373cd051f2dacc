"""Stand-in for the pulumi-tls 5.6.2 plugin (bridged terraform-provider-tls).

Real keys and certificates from ``stacks/plan/fakes/pki.py`` (cryptography),
honouring algorithm, curve, subject, SANs, usages, validity and CA flag.
As in the bridged provider, every input forces a new resource (ForceNew in
terraform-provider-tls) and the private key outputs are secret. Required
inputs and enums are checked like the provider's schema does.
"""

from __future__ import annotations

import hashlib
import json
import secrets

from stacks.plan.fakes.pki import _EXTENDED, _KEY_USAGE, RESOURCE_FAKES
from tests.engine.providers.protocol import ResourceFailed, ResourceKind, StandInProvider, serve

VERSION = "5.6.2"
ALGORITHMS = {"RSA", "ECDSA", "ED25519"}
CURVES = {"P224", "P256", "P384", "P521"}
USES = set(_KEY_USAGE) | set(_EXTENDED)
CERT_INPUTS = {"subject", "validityPeriodHours", "allowedUses", "dnsNames", "ipAddresses", "uris",
               "isCaCertificate", "earlyRenewalHours", "setSubjectKeyId", "setAuthorityKeyId", "maxPathLength"}


def _required(*names: str):
    def check(news: dict) -> tuple[dict, list[tuple[str, str]]]:
        failures = [(n, f"Missing required argument: The argument \"{n}\" is required, but no definition was found.")
                    for n in names if news.get(n) in (None, "")]
        if news.get("algorithm") is not None and news["algorithm"] not in ALGORITHMS:
            failures.append(("algorithm", f"expected algorithm to be one of {sorted(ALGORITHMS)}, got {news['algorithm']}"))
        if news.get("ecdsaCurve") is not None and news["ecdsaCurve"] not in CURVES:
            failures.append(("ecdsaCurve", f"expected ecdsa_curve to be one of {sorted(CURVES)}, got {news['ecdsaCurve']}"))
        for use in news.get("allowedUses") or []:
            if use not in USES:
                failures.append(("allowedUses", f"expected allowed_uses to be one of {sorted(USES)}, got {use}"))
        checked = dict(news)
        if "algorithm" in names or "algorithm" in news:
            checked.setdefault("ecdsaCurve", "P224")
            checked.setdefault("rsaBits", 2048)
        return checked, failures
    return check


def _create_with(token: str):
    fake = RESOURCE_FAKES[token]

    def create(name: str, inputs: dict) -> tuple[str, dict]:
        try:
            # The plan's fakes derive keys from the name (stable plans); a
            # nonce makes each creation new, as the provider's crypto/rand does.
            _, outputs = fake(None, f"{name}/{secrets.token_hex(8)}", inputs, dict(inputs))
        except (ValueError, KeyError) as error:
            raise ResourceFailed(f"{token} {name}: {error}") from error
        return hashlib.sha1(json.dumps(outputs, sort_keys=True).encode()).hexdigest(), outputs
    return create


KINDS = {
    "tls:index/privateKey:PrivateKey": ResourceKind(
        inputs=frozenset({"algorithm", "ecdsaCurve", "rsaBits"}), replace_on=frozenset({"*"}),
        create=_create_with("tls:index/privateKey:PrivateKey"), check=_required("algorithm"),
        secret_outputs=frozenset({"privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"})),
    "tls:index/selfSignedCert:SelfSignedCert": ResourceKind(
        inputs=frozenset(CERT_INPUTS | {"privateKeyPem"}), replace_on=frozenset({"*"}),
        create=_create_with("tls:index/selfSignedCert:SelfSignedCert"),
        check=_required("privateKeyPem", "validityPeriodHours", "allowedUses"),
        secret_outputs=frozenset({"privateKeyPem"})),
    "tls:index/certRequest:CertRequest": ResourceKind(
        inputs=frozenset({"privateKeyPem", "subject", "dnsNames", "ipAddresses", "uris"}), replace_on=frozenset({"*"}),
        create=_create_with("tls:index/certRequest:CertRequest"), check=_required("privateKeyPem"),
        secret_outputs=frozenset({"privateKeyPem"})),
    "tls:index/locallySignedCert:LocallySignedCert": ResourceKind(
        inputs=frozenset((CERT_INPUTS - {"subject", "dnsNames", "ipAddresses", "uris", "setAuthorityKeyId"})
                         | {"certRequestPem", "caPrivateKeyPem", "caCertPem"}),
        replace_on=frozenset({"*"}), create=_create_with("tls:index/locallySignedCert:LocallySignedCert"),
        check=_required("certRequestPem", "caPrivateKeyPem", "caCertPem", "validityPeriodHours", "allowedUses"),
        secret_outputs=frozenset({"caPrivateKeyPem"})),
}

PROVIDER = StandInProvider("tls", VERSION, KINDS)

if __name__ == "__main__":
    serve(PROVIDER)
