"""Resource requests of every OpenStack pod the project installs.

OpenStack-Helm ships ``pod.resources.enabled: false``: no requests, so the
scheduler would stack every API on one node and the first busy hour would
end with the OOM killer. The project turns requests on with these figures.

``small`` is for 4 GB nodes (seed 001): one API worker per service
(``conf.*.workers``/``processes`` set to 1 in ``charts.py``), MariaDB with a
64 MiB buffer pool, memcached with 64 MiB, RabbitMQ idle; each figure is
the steady state of one such process (RSS of a one-worker OpenStack
Python service: 110-250 MiB) rounded up, not a chart default. ``standard``
follows OpenStack-Helm's usual sizing (several workers, 1 GiB buffer
pool). Memory limits stay the charts' (above the requests); jobs keep the
charts' requests and are not in the per-node table (they end before the
steady state, like the platform's).

These are estimates for the release's images, not measurements on this
machine (no images can be pulled offline): docs/openstack-helm.md says so.
"""

from __future__ import annotations

# workload id -> (cpu, memory) requests.
PROFILES: dict[str, dict[str, tuple[str, str]]] = {
    "small": {
        "mariadb-server": ("100m", "320Mi"),
        "mariadb-ingress": ("10m", "48Mi"),
        "rabbitmq": ("100m", "224Mi"),
        "memcached": ("10m", "80Mi"),
        "keystone-api": ("50m", "192Mi"),
        "glance-api": ("50m", "192Mi"),
        "placement-api": ("25m", "128Mi"),
        "nova-api-osapi": ("50m", "192Mi"),
        "nova-api-metadata": ("25m", "144Mi"),
        "nova-conductor": ("25m", "144Mi"),
        "nova-scheduler": ("25m", "144Mi"),
        "nova-novncproxy": ("10m", "80Mi"),
        "nova-compute": ("50m", "192Mi"),
        "libvirt": ("50m", "96Mi"),
        "neutron-server": ("50m", "256Mi"),
        "neutron-dhcp-agent": ("25m", "112Mi"),
        "neutron-l3-agent": ("25m", "128Mi"),
        "neutron-metadata-agent": ("25m", "112Mi"),
        "neutron-ovs-agent": ("25m", "128Mi"),
        "openvswitch-db": ("10m", "24Mi"),
        "openvswitch-vswitchd": ("50m", "96Mi"),
        "cinder-api": ("25m", "160Mi"),
        "cinder-scheduler": ("25m", "112Mi"),
        "cinder-volume": ("25m", "128Mi"),
        "horizon": ("50m", "192Mi"),
        "openstack-exporter": ("10m", "48Mi"),
        "openstack-ingress": ("25m", "80Mi"),
        "ceph-toolbox": ("10m", "32Mi"),
    },
    "standard": {
        "mariadb-server": ("250m", "1536Mi"),
        "mariadb-ingress": ("50m", "128Mi"),
        "rabbitmq": ("250m", "512Mi"),
        "memcached": ("50m", "1Gi"),
        "keystone-api": ("250m", "512Mi"),
        "glance-api": ("250m", "512Mi"),
        "placement-api": ("100m", "256Mi"),
        "nova-api-osapi": ("250m", "512Mi"),
        "nova-api-metadata": ("100m", "256Mi"),
        "nova-conductor": ("250m", "384Mi"),
        "nova-scheduler": ("100m", "256Mi"),
        "nova-novncproxy": ("50m", "128Mi"),
        "nova-compute": ("250m", "512Mi"),
        "libvirt": ("100m", "256Mi"),
        "neutron-server": ("250m", "768Mi"),
        "neutron-dhcp-agent": ("100m", "256Mi"),
        "neutron-l3-agent": ("100m", "256Mi"),
        "neutron-metadata-agent": ("100m", "256Mi"),
        "neutron-ovs-agent": ("100m", "256Mi"),
        "openvswitch-db": ("50m", "64Mi"),
        "openvswitch-vswitchd": ("250m", "256Mi"),
        "cinder-api": ("100m", "384Mi"),
        "cinder-scheduler": ("100m", "256Mi"),
        "cinder-volume": ("100m", "384Mi"),
        "horizon": ("250m", "512Mi"),
        "openstack-exporter": ("50m", "128Mi"),
        "openstack-ingress": ("100m", "128Mi"),
        "ceph-toolbox": ("50m", "128Mi"),
    },
}

# API workers per service process (conf.<service>.*workers, wsgi processes).
WORKERS = {"small": 1, "standard": 2}
# MariaDB's InnoDB buffer pool and memcached's cache (the charts: 1024M and 1024 MB).
MARIADB_BUFFER_POOL = {"small": "64M", "standard": "1024M"}
MEMCACHED_MB = {"small": 64, "standard": 1024}


def os_requests(profile: str, workload: str) -> dict[str, dict[str, str]]:
    """The ``resources`` block (requests) of an OpenStack workload."""
    cpu, memory = PROFILES[profile][workload]
    return {"requests": {"cpu": cpu, "memory": memory}}
