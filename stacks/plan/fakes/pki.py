"""Fake pulumi_tls answers that are REAL keys and certificates.

Made with ``cryptography`` and honouring the inputs (algorithm, curve, RSA
size, subject, SANs, usages, validity, CA flag), so that a program run under
mocks yields a PKI that etcd accepts on the test hosts. ECDSA keys are
derived from the resource name and signatures are deterministic (RFC 6979),
so the same program gives byte-identical certificates run after run (a
re-run must not look like a certificate rotation). RSA keys cannot be
derived; they are cached per process.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress


from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .registry import RESOURCE_FAKES

_CURVES = {"P224": ec.SECP224R1(), "P256": ec.SECP256R1(), "P384": ec.SECP384R1(), "P521": ec.SECP521R1()}
_CURVE_ORDER = {
    "P224": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFF16A2E0B8F03E13DD29455C5C2A3D,
    "P256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "P384": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
    "P521": 0x01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409,
}
_SUBJECT_FIELDS = {
    "commonName": NameOID.COMMON_NAME, "organization": NameOID.ORGANIZATION_NAME,
    "organizationalUnit": NameOID.ORGANIZATIONAL_UNIT_NAME, "country": NameOID.COUNTRY_NAME,
    "province": NameOID.STATE_OR_PROVINCE_NAME, "locality": NameOID.LOCALITY_NAME,
    "postalCode": NameOID.POSTAL_CODE, "serialNumber": NameOID.SERIAL_NUMBER,
    "emailAddress": NameOID.EMAIL_ADDRESS,
}
_EXTENDED = {
    "server_auth": ExtendedKeyUsageOID.SERVER_AUTH, "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code_signing": ExtendedKeyUsageOID.CODE_SIGNING, "email_protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "timestamping": ExtendedKeyUsageOID.TIME_STAMPING, "ocsp_signing": ExtendedKeyUsageOID.OCSP_SIGNING,
    "any_extended": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
}
_KEY_USAGE = {
    "digital_signature": "digital_signature", "content_commitment": "content_commitment",
    "key_encipherment": "key_encipherment", "data_encipherment": "data_encipherment",
    "key_agreement": "key_agreement", "cert_signing": "key_cert_sign", "crl_signing": "crl_sign",
    "encipher_only": "encipher_only", "decipher_only": "decipher_only",
}
# A fixed start keeps certificates identical between runs; the validity
# period from the inputs counts from it.
NOT_BEFORE = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
_RSA_CACHE: dict[tuple[str, int], rsa.RSAPrivateKey] = {}


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("/".join(parts).encode()).digest(), "big")


def make_private_key(name: str, algorithm: str = "RSA", curve: str = "P224", rsa_bits: int = 2048):
    if algorithm == "ECDSA":
        if curve not in _CURVES:
            raise ValueError(f"tls.PrivateKey {name}: unsupported ecdsa_curve {curve!r}")
        scalar = _seed("tls-fake-key", name) % (_CURVE_ORDER[curve] - 1) + 1
        return ec.derive_private_key(scalar, _CURVES[curve])
    if algorithm == "ED25519":
        return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"tls-fake-key/{name}".encode()).digest())
    if algorithm == "RSA":
        key = (name, rsa_bits)
        if key not in _RSA_CACHE:
            _RSA_CACHE[key] = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
        return _RSA_CACHE[key]
    raise ValueError(f"tls.PrivateKey {name}: unsupported algorithm {algorithm!r}")


def _algorithm_of(key) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "ECDSA"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ED25519"
    return "RSA"


def _load_key(pem: str):
    return serialization.load_pem_private_key(pem.encode(), password=None)


def _private_key(cloud, name, inputs, raw):
    key = make_private_key(name, inputs.get("algorithm", "RSA"), inputs.get("ecdsaCurve") or "P224",
                           int(inputs.get("rsaBits") or 2048))
    public = key.public_key()
    # The provider writes traditional PEM ("EC PRIVATE KEY"/"RSA PRIVATE KEY"),
    # PKCS#8 as a separate output.
    traditional = serialization.PrivateFormat.PKCS8 if isinstance(key, ed25519.Ed25519PrivateKey) \
        else serialization.PrivateFormat.TraditionalOpenSSL
    pem = key.private_bytes(serialization.Encoding.PEM, traditional, serialization.NoEncryption()).decode()
    openssh_pub = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    raw_blob = base64.b64decode(openssh_pub.split()[1])
    state = {
        **raw,
        "privateKeyPem": pem,
        "privateKeyPemPkcs8": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()).decode(),
        "privateKeyOpenssh": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                               serialization.NoEncryption()).decode(),
        "publicKeyPem": public.public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        "publicKeyOpenssh": openssh_pub + "\n",
        "publicKeyFingerprintMd5": ":".join(f"{b:02x}" for b in hashlib.md5(raw_blob).digest()),
        "publicKeyFingerprintSha256": "SHA256:" + base64.b64encode(hashlib.sha256(raw_blob).digest()).decode().rstrip("="),
    }
    return f"{name}-id", state


def _subject(inputs) -> x509.Name:
    subject = inputs.get("subject") or {}
    if isinstance(subject, list):  # older SDKs: a one-element list
        subject = subject[0] if subject else {}
    attributes = []
    for field_name, oid in _SUBJECT_FIELDS.items():
        if subject.get(field_name):
            attributes.append(x509.NameAttribute(oid, str(subject[field_name])))
    for street in subject.get("streetAddresses") or []:
        attributes.append(x509.NameAttribute(NameOID.STREET_ADDRESS, street))
    return x509.Name(attributes)


def _sans(inputs) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in inputs.get("dnsNames") or []]
    names += [x509.IPAddress(ipaddress.ip_address(i)) for i in inputs.get("ipAddresses") or []]
    names += [x509.UniformResourceIdentifier(u) for u in inputs.get("uris") or []]
    return names


def _build_cert(name: str, *, subject: x509.Name, sans, public_key, issuer: x509.Name, issuer_key,
                inputs: dict, issuer_public=None) -> x509.Certificate:
    uses = list(inputs.get("allowedUses") or [])
    unknown = [u for u in uses if u not in _KEY_USAGE and u not in _EXTENDED]
    if unknown:
        raise ValueError(f"tls certificate {name}: unsupported allowed_uses {unknown}")
    hours = int(inputs.get("validityPeriodHours") or 0)
    if hours <= 0:
        raise ValueError(f"tls certificate {name}: validity_period_hours must be positive")
    is_ca = bool(inputs.get("isCaCertificate"))
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(_seed("tls-fake-serial", name) >> 130)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_BEFORE + datetime.timedelta(hours=hours))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    flags = {v: False for v in _KEY_USAGE.values()}
    for use in uses:
        if use in _KEY_USAGE:
            flags[_KEY_USAGE[use]] = True
    if any(flags.values()):
        builder = builder.add_extension(x509.KeyUsage(**flags), critical=True)
    extended = [_EXTENDED[u] for u in uses if u in _EXTENDED]
    if extended:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    if issuer_public is not None:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public), critical=False)
    digest = None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    deterministic = True if isinstance(issuer_key, ec.EllipticCurvePrivateKey) else None
    return builder.sign(issuer_key, digest, ecdsa_deterministic=deterministic)


def _validity(cert: x509.Certificate) -> dict:
    return {
        "validityStartTime": cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "validityEndTime": cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "readyForRenewal": False,
    }


def _self_signed_cert(cloud, name, inputs, raw):
    key = _load_key(inputs["privateKeyPem"])
    subject = _subject(inputs)
    cert = _build_cert(name, subject=subject, sans=_sans(inputs), public_key=key.public_key(), issuer=subject,
                       issuer_key=key, inputs=inputs)
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return f"{name}-id", {**raw, "certPem": pem, "keyAlgorithm": _algorithm_of(key), **_validity(cert)}


def _cert_request(cloud, name, inputs, raw):
    key = _load_key(inputs["privateKeyPem"])
    builder = x509.CertificateSigningRequestBuilder().subject_name(_subject(inputs))
    sans = _sans(inputs)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    digest = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    deterministic = True if isinstance(key, ec.EllipticCurvePrivateKey) else None
    csr = builder.sign(key, digest, ecdsa_deterministic=deterministic)
    return f"{name}-id", {**raw, "certRequestPem": csr.public_bytes(serialization.Encoding.PEM).decode(),
                          "keyAlgorithm": _algorithm_of(key)}


def _locally_signed_cert(cloud, name, inputs, raw):
    csr = x509.load_pem_x509_csr(inputs["certRequestPem"].encode())
    if not csr.is_signature_valid:
        raise ValueError(f"tls.LocallySignedCert {name}: the certificate request's signature is invalid")
    ca_cert = x509.load_pem_x509_certificate(inputs["caCertPem"].encode())
    ca_key = _load_key(inputs["caPrivateKeyPem"])
    try:
        sans = list(csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        sans = []
    cert = _build_cert(name, subject=csr.subject, sans=sans, public_key=csr.public_key(), issuer=ca_cert.subject,
                       issuer_key=ca_key, inputs=inputs, issuer_public=ca_cert.public_key())
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return f"{name}-id", {**raw, "certPem": pem, "caKeyAlgorithm": _algorithm_of(ca_key), **_validity(cert)}


RESOURCE_FAKES["tls:index/privateKey:PrivateKey"] = _private_key
RESOURCE_FAKES["tls:index/selfSignedCert:SelfSignedCert"] = _self_signed_cert
RESOURCE_FAKES["tls:index/certRequest:CertRequest"] = _cert_request
RESOURCE_FAKES["tls:index/locallySignedCert:LocallySignedCert"] = _locally_signed_cert
