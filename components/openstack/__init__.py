"""OpenStack on Kubernetes with OpenStack-Helm, on the cluster's Rook-Ceph.

- ``releases.py``: the pinned OpenStack-Helm releases (chart versions, images, Kubernetes range);
- ``labels.py``: which node groups carry the control plane, compute and Open vSwitch labels;
- ``profile.py``: the resource requests of every OpenStack pod (small, standard);
- ``memory.py``: the per-node memory table (everything the cluster runs, placed node by node);
- ``charts.py``: the charts in install order and the values of each;
- ``sso.py``: Keystone federated to Keycloak (mod_auth_openidc), Horizon WebSSO;
- ``monitoring.py``: the exporter's ServiceMonitor and the alert rules;
- ``plan.py``: everything to create, as data (releases, Ceph pools, objects, order);
- ``rules.py``: the spec checks (``components.spec.openstack.check_openstack``);
- ``component.py``: the ``OpenStackHelm`` ComponentResource.

Nothing is imported here, so spec validation reads these modules without the Pulumi SDK.
"""
