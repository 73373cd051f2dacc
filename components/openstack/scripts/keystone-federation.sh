#!/usr/bin/env bash
# Keystone's side of the Keycloak SSO: a domain, group and project for the
# federated users, the identity provider (Keycloak's issuer), the mapping of
# OIDC claims to users of that group, and the "openid" protocol.
#
# Runs as OpenStack-Helm keystone's bootstrap script (the bootstrap job,
# with the admin credentials in OS_* variables) after every install or
# upgrade of the chart, so it is idempotent: it creates what is missing and
# updates the mapping in place.
#
# Parameters (environment):
#   IDP          identity provider id in Keystone ("keycloak")
#   ISSUER       Keycloak's issuer URL (https://<host>/realms/<realm>)
#   SSO_DOMAIN   Keystone domain of the federated users
#   SSO_GROUP    group of the federated users in that domain
#   SSO_PROJECT  project the group gets SSO_ROLE on
#   SSO_ROLE     role of the group on the project
set -euo pipefail

IDP="${IDP:?IDP is required}"
ISSUER="${ISSUER:?ISSUER is required}"
SSO_DOMAIN="${SSO_DOMAIN:?SSO_DOMAIN is required}"
SSO_GROUP="${SSO_GROUP:?SSO_GROUP is required}"
SSO_PROJECT="${SSO_PROJECT:?SSO_PROJECT is required}"
SSO_ROLE="${SSO_ROLE:?SSO_ROLE is required}"
MAPPING="${IDP}-mapping"

exists() { openstack "$@" > /dev/null 2>&1; }

exists domain show "$SSO_DOMAIN" || openstack domain create --description "Users signing in through ${IDP}" "$SSO_DOMAIN"
exists group show --domain "$SSO_DOMAIN" "$SSO_GROUP" || openstack group create --domain "$SSO_DOMAIN" "$SSO_GROUP"
exists project show --domain "$SSO_DOMAIN" "$SSO_PROJECT" || openstack project create --domain "$SSO_DOMAIN" "$SSO_PROJECT"
openstack role add --group "$SSO_GROUP" --group-domain "$SSO_DOMAIN" \
  --project "$SSO_PROJECT" --project-domain "$SSO_DOMAIN" "$SSO_ROLE"

exists identity provider show "$IDP" || openstack identity provider create --remote-id "$ISSUER" --domain "$SSO_DOMAIN" "$IDP"

# OIDC claims arrive as OIDC-<claim> (OIDCClaimPrefix in the keystone vhost).
rules="$(mktemp)"
trap 'rm -f "$rules"' EXIT
cat > "$rules" <<JSON
[{"local": [{"user": {"name": "{0}", "email": "{1}", "domain": {"name": "${SSO_DOMAIN}"}},
             "group": {"name": "${SSO_GROUP}", "domain": {"name": "${SSO_DOMAIN}"}}}],
  "remote": [{"type": "OIDC-preferred_username"}, {"type": "OIDC-email"}]}]
JSON
if exists mapping show "$MAPPING"; then
  openstack mapping set --rules "$rules" "$MAPPING"
else
  openstack mapping create --rules "$rules" "$MAPPING"
fi
exists federation protocol show --identity-provider "$IDP" openid \
  || openstack federation protocol create --identity-provider "$IDP" --mapping "$MAPPING" openid
echo "keystone federation with ${IDP} (${ISSUER}) in place"
