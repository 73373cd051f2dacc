"""Keystone and Horizon behind the Keycloak add-on (seed 001: one identity
drives Horizon, Grafana and the APIs).

Keystone is the OpenID Connect relying party: Apache's mod_auth_openidc in
its vhost (``templates/wsgi-keystone-oidc.conf`` as the chart's
``conf.wsgi_keystone``) authenticates against Keycloak's realm, the
``openid`` auth method maps the claims to federated users
(``scripts/keystone-federation.sh``, the chart's bootstrap script), and
Horizon offers "Keycloak" beside Keystone credentials (WebSSO; Keystone
trusts Horizon's ``/auth/websso/`` as dashboard). The Keycloak client
``keystone`` is one more client of the add-on's realm; its secret is the
add-on's random Pulumi secret ``keycloak-keystone``, handed to this chart as
a Pulumi secret (it ends in the keystone-etc Secret, never in plain text).

mod_auth_openidc is not in the published quay.io/airshipit/keystone images,
hence ``openstack.sso.keystoneImage`` (docs/openstack-helm.md has the
two-line Dockerfile).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.remote.script import render_script

TEMPLATES = Path(__file__).parent / "templates"
SCRIPTS = Path(__file__).parent / "scripts"
IDP = "keycloak"
CLIENT_ID = "keystone"
# Secret names: the Keycloak add-on's client secret (keycloak.secret_names)
# and this component's OIDC session passphrase.
CLIENT_SECRET = f"keycloak-{CLIENT_ID}"
CRYPTO_PASSPHRASE = "keystone-oidc-passphrase"
SSO_GROUP = "sso-users"


def enabled(spec) -> bool:
    openstack = getattr(spec, "openstack", None)
    return bool(openstack is not None and openstack.enabled and openstack.sso.enabled)


def issuer(spec) -> str:
    kc = spec.addons.keycloak
    return f"https://{kc.hostname}/realms/{kc.realm}"


def redirect_uri(spec) -> str:
    return f"https://{spec.openstack.public_host('keystone')}/redirect_uri"


def keycloak_clients(spec) -> dict[str, list[str]]:
    """The Keycloak clients OpenStack needs (read by the Keycloak add-on)."""
    return {CLIENT_ID: [redirect_uri(spec)]} if enabled(spec) else {}


def wsgi_keystone(spec) -> str:
    """The vhost text, its two secrets as tokens (``charts.resolve_secrets``)."""
    from .charts import secret_token

    text = (TEMPLATES / "wsgi-keystone-oidc.conf").read_text()
    for token, value in {"@KEYSTONE_HOST@": spec.openstack.public_host("keystone"), "@IDP@": IDP,
                         "@CLIENT_ID@": CLIENT_ID,
                         "@METADATA_URL@": f"{issuer(spec)}/.well-known/openid-configuration",
                         "@CLIENT_SECRET@": secret_token(CLIENT_SECRET),
                         "@CRYPTO_PASSPHRASE@": secret_token(CRYPTO_PASSPHRASE)}.items():
        text = text.replace(token, value)
    return text


def federation_script(spec) -> str:
    sso = spec.openstack.sso
    return render_script(SCRIPTS / "keystone-federation.sh", {
        "IDP": IDP, "ISSUER": issuer(spec), "SSO_DOMAIN": sso.domain, "SSO_GROUP": SSO_GROUP,
        "SSO_PROJECT": sso.project, "SSO_ROLE": sso.role,
    })


def keystone_values(spec) -> dict[str, Any]:
    """keystone chart values of the federation (empty without SSO)."""
    if not enabled(spec):
        return {}
    horizon = spec.openstack.public_host("horizon")
    return {
        "images": {"tags": {"keystone_api": spec.openstack.sso.keystone_image}},
        "bootstrap": {"enabled": True, "script": federation_script(spec)},
        "conf": {
            "software": {"apache2": {"a2enmod": ["auth_openidc"]}},
            "keystone": {
                "auth": {"methods": "password,token,openid,application_credential"},
                "openid": {"remote_id_attribute": "HTTP_OIDC_ISS"},
                "federation": {"trusted_dashboard": {"type": "multistring",
                                                     "values": [f"https://{horizon}/auth/websso/"]}},
            },
            "wsgi_keystone": wsgi_keystone(spec),
        },
    }


def horizon_values(spec) -> dict[str, Any]:
    """horizon chart values of WebSSO (empty without SSO)."""
    if not enabled(spec):
        return {}
    return {"conf": {"horizon": {"local_settings": {"config": {
        "auth": {
            "sso": {"enabled": True, "initial_choice": "credentials"},
            "idp_mapping": [{"name": IDP, "label": "Keycloak", "idp": IDP, "protocol": "openid"}],
        },
        # The browser goes to Keystone's public URL for the WebSSO dance.
        "raw": {"WEBSSO_KEYSTONE_URL": f"https://{spec.openstack.public_host('keystone')}/v3"},
    }}}}}
