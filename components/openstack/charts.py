"""The OpenStack-Helm charts in install order, and the values of each.

Order (``CHARTS``; each entry names what it waits for, so Pulumi resource
dependencies are the order): the infrastructure (rabbitmq, mariadb,
memcached, ceph-adapter-rook), keystone, glance and placement, cinder,
then the compute kit: openvswitch, libvirt, nova, neutron; horizon and the
exporter last. This is seed 001's list with libvirt and openvswitch moved
before nova and neutron: nova-compute waits (kubernetes-entrypoint) for
libvirt and the Neutron OVS agent on its node, and the OVS agent for
Open vSwitch on its node, so they must exist first.

Two charts are installed without waiting for their pods (``wait=False``),
as OpenStack-Helm's own guide does: libvirt (its pods wait for the OVS
agent of neutron, installed later) and nova (nova-compute needs neutron's
server and agents, and neutron's metadata agent needs nova's metadata
API: a cycle no wait order can break). Every other release waits (atomic).

Values the project sets for every chart: ``pod.resources.enabled`` with
the profile's requests (``profile.py``), replicas, the release's image
tags, random credentials for every endpoint (Pulumi secrets), the
StorageClass of the RBD pool for volumes, the Ceph pools and client of
each service, the ingress classes and public hosts. The spec's
``openstack.values.<chart>`` is merged last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from components.platform.profiles import replicas as platform_replicas
from components.platform.values import deep_merge, memory_mib

from . import sso
from .profile import MARIADB_BUFFER_POOL, MEMCACHED_MB, WORKERS, os_requests
from .releases import RELEASES

# The namespaced ingress controller OpenStack-Helm's charts expect: their
# "public" in-cluster Services select its pods (app: ingress-api).
INGRESS_CLASS = "nginx-openstack"
INGRESS_RELEASE = "openstack-ingress"
# libvirt's secret holding the cinder client key (the charts' default UUID,
# shared by nova, libvirt and cinder).
CEPH_SECRET_UUID = "457eb676-33da-42ec-9a8c-9293d545c337"
CEPH_CLIENT = "cinder"
# Ceph pools (CephBlockPool CRs written by the project, components/openstack/plan.py).
POOLS = {"glance": "images", "cinder": "volumes", "nova": "vms"}
VM_RESERVATION = "vm-memory-reservation"


@dataclass(frozen=True)
class Chart:
    name: str
    after: tuple[str, ...] = ()
    """Plan keys this release waits for (charts, pools, the namespace)."""
    wait: bool = True
    service: str | None = None
    """The ``openstack.services`` toggle that enables it (None: always)."""


NS = "ns"
ADAPTER = "ceph-adapter-rook"
CHARTS: tuple[Chart, ...] = (
    Chart(INGRESS_RELEASE, (NS,)),
    Chart("rabbitmq", (NS,)),
    Chart("mariadb", (NS,)),
    Chart("memcached", (NS,)),
    Chart(ADAPTER, (NS,)),
    Chart("keystone", ("rabbitmq", "mariadb", "memcached", INGRESS_RELEASE)),
    Chart("glance", ("keystone", ADAPTER, "pool/images")),
    Chart("placement", ("keystone",)),
    Chart("cinder", ("keystone", ADAPTER, "pool/volumes"), service="cinder"),
    Chart("openvswitch", (NS,)),
    Chart("libvirt", ("openvswitch", ADAPTER), wait=False),
    Chart("nova", ("placement", "glance", "libvirt", "pool/vms", VM_RESERVATION), wait=False),
    Chart("neutron", ("nova", "openvswitch")),
    Chart("horizon", ("keystone",), service="horizon"),
    Chart("prometheus-openstack-exporter", ("keystone",), service="exporter"),
)


def charts(spec) -> list[Chart]:
    """The enabled charts, in order, each waiting only for enabled items."""
    services = spec.openstack.services
    on = [c for c in CHARTS if c.service is None or getattr(services, c.service)]
    names = {c.name for c in on}
    return [Chart(c.name, tuple(a for a in c.after if a in names or "/" in a or a in (NS, VM_RESERVATION)),
                  c.wait, c.service) for c in on]


# -- the pods of every chart, where their requests sit ------------------------

@dataclass(frozen=True)
class Pod:
    chart: str
    name: str
    """Workload id (``profile.PROFILES``)."""
    kind: str
    path: tuple[str, ...]
    """Where ``resources`` sits in the chart's values."""
    role: str
    """Node role it runs on: control-plane, compute or openvswitch."""
    replicas_path: tuple[str, ...] | None = None


_R = ("pod", "resources")
_N = ("pod", "replicas")
PODS: tuple[Pod, ...] = (
    Pod(INGRESS_RELEASE, "openstack-ingress", "Deployment", ("controller", "resources"), "control-plane",
        ("controller", "replicaCount")),
    Pod("rabbitmq", "rabbitmq", "StatefulSet", (*_R, "server"), "control-plane", (*_N, "server")),
    Pod("mariadb", "mariadb-server", "StatefulSet", (*_R, "server"), "control-plane", (*_N, "server")),
    Pod("mariadb", "mariadb-ingress", "Deployment", (*_R, "ingress"), "control-plane", (*_N, "ingress")),
    Pod("memcached", "memcached", "Deployment", (*_R, "memcached"), "control-plane", (*_N, "server")),
    Pod("keystone", "keystone-api", "Deployment", (*_R, "api"), "control-plane", (*_N, "api")),
    Pod("glance", "glance-api", "Deployment", (*_R, "api"), "control-plane", (*_N, "api")),
    Pod("placement", "placement-api", "Deployment", (*_R, "api"), "control-plane", (*_N, "api")),
    Pod("cinder", "cinder-api", "Deployment", (*_R, "api"), "control-plane", (*_N, "api")),
    Pod("cinder", "cinder-scheduler", "Deployment", (*_R, "scheduler"), "control-plane", (*_N, "scheduler")),
    Pod("cinder", "cinder-volume", "Deployment", (*_R, "volume"), "control-plane", (*_N, "volume")),
    Pod("openvswitch", "openvswitch-db", "DaemonSet", (*_R, "ovs", "db"), "openvswitch"),
    Pod("openvswitch", "openvswitch-vswitchd", "DaemonSet", (*_R, "ovs", "vswitchd"), "openvswitch"),
    Pod("libvirt", "libvirt", "DaemonSet", (*_R, "libvirt"), "compute"),
    Pod("nova", "nova-api-osapi", "Deployment", (*_R, "api"), "control-plane", (*_N, "osapi")),
    Pod("nova", "nova-api-metadata", "Deployment", (*_R, "api_metadata"), "control-plane", (*_N, "api_metadata")),
    Pod("nova", "nova-conductor", "Deployment", (*_R, "conductor"), "control-plane", (*_N, "conductor")),
    Pod("nova", "nova-scheduler", "Deployment", (*_R, "scheduler"), "control-plane", (*_N, "scheduler")),
    Pod("nova", "nova-novncproxy", "Deployment", (*_R, "novncproxy"), "control-plane", (*_N, "novncproxy")),
    Pod("nova", "nova-compute", "DaemonSet", (*_R, "compute"), "compute"),
    Pod("neutron", "neutron-server", "Deployment", (*_R, "server"), "control-plane", (*_N, "server")),
    Pod("neutron", "neutron-dhcp-agent", "DaemonSet", (*_R, "agent", "dhcp"), "control-plane"),
    Pod("neutron", "neutron-l3-agent", "DaemonSet", (*_R, "agent", "l3"), "control-plane"),
    Pod("neutron", "neutron-metadata-agent", "DaemonSet", (*_R, "agent", "metadata"), "control-plane"),
    Pod("neutron", "neutron-ovs-agent", "DaemonSet", (*_R, "agent", "ovs"), "openvswitch"),
    Pod("horizon", "horizon", "Deployment", (*_R, "server"), "control-plane", (*_N, "server")),
    Pod("prometheus-openstack-exporter", "openstack-exporter", "Deployment",
        (*_R, "prometheus_openstack_exporter"), "control-plane", (*_N, "prometheus_openstack_exporter")),
)


def pods(spec) -> list[Pod]:
    enabled = {c.name for c in charts(spec)}
    return [p for p in PODS if p.chart in enabled]


# -- credentials --------------------------------------------------------------

# Per chart: the services whose database, RabbitMQ and Keystone users it
# configures (its own, and the ones it calls). Every password is a random
# Pulumi secret named openstack-<kind>-<service>.
AUTH: dict[str, dict[str, tuple[str, ...]]] = {
    "keystone": {"db": ("keystone",), "mq": ("keystone",), "ks": ()},
    "glance": {"db": ("glance",), "mq": ("glance",), "ks": ("glance",)},
    "placement": {"db": ("placement",), "mq": (), "ks": ("placement",)},
    "cinder": {"db": ("cinder",), "mq": ("cinder",), "ks": ("cinder",)},
    "nova": {"db": ("nova",), "mq": ("nova",), "ks": ("nova", "neutron", "placement", "cinder")},
    "neutron": {"db": ("neutron",), "mq": ("neutron",), "ks": ("neutron", "nova", "placement")},
    "horizon": {"db": ("horizon",), "mq": (), "ks": ()},
}
SHARED_SECRETS = ("openstack-db-root", "openstack-db-sst", "openstack-db-audit", "openstack-db-exporter",
                  "openstack-mq-admin", "openstack-mq-cookie", "openstack-ks-admin", "openstack-memcache-key",
                  "openstack-metadata-secret", "openstack-ks-exporter")


# Values hold secrets as tokens (plain data, merged and tested as such); the
# component swaps each for its Pulumi secret (``resolve_secrets``).
_TOKEN = re.compile(r"<secret:([a-z0-9-]+)>")


def secret_token(name: str) -> str:
    return f"<secret:{name}>"


def secrets_in(value: Any) -> set[str]:
    """Names of the secret tokens anywhere in ``value``."""
    if isinstance(value, dict):
        return set().union(*(secrets_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(secrets_in(v) for v in value)) if value else set()
    return set(_TOKEN.findall(value)) if isinstance(value, str) else set()


def resolve_secrets(value: Any, secrets: dict[str, Any]) -> Any:
    """``value`` with every token replaced by its secret (an Output: the
    string holding it becomes one, secret)."""
    import pulumi

    if isinstance(value, dict):
        return {k: resolve_secrets(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_secrets(v, secrets) for v in value]
    if not isinstance(value, str) or not _TOKEN.search(value):
        return value
    whole = _TOKEN.fullmatch(value)
    if whole:
        return secrets[whole.group(1)]
    names = sorted(set(_TOKEN.findall(value)))
    return pulumi.Output.all(*(secrets[n] for n in names)).apply(
        lambda resolved: _TOKEN.sub(lambda m: dict(zip(names, resolved))[m.group(1)], value))


def secret_names(spec) -> list[str]:
    names = list(SHARED_SECRETS)
    enabled = {c.name for c in charts(spec)}
    for chart, kinds in AUTH.items():
        if chart in enabled:
            names += [f"openstack-{kind}-{svc}" for kind, svcs in kinds.items() for svc in svcs]
    if sso.enabled(spec):
        names.append(sso.CRYPTO_PASSPHRASE)
    return sorted(set(names))


# -- what the values read --------------------------------------------------------

@dataclass(frozen=True)
class OpenStackInputs:
    spec: Any
    mesh_mtu: int
    pool_size: int
    """Replicas of the Ceph pools (the RookCeph layout's)."""
    compute_memory_mib: float
    """Memory of the smallest compute node (nova's reserved_host_memory_mb)."""
    cluster_ingress_class: str = "nginx"
    priority_class: str | None = None

    @property
    def profile(self) -> str:
        return self.spec.addons.profile

    @staticmethod
    def secret(name: str) -> str:
        return secret_token(name)


def _resources(inp: OpenStackInputs, chart: str) -> dict[str, Any]:
    """``pod.resources`` (enabled, each pod's requests) and ``pod.replicas``."""
    out: dict[str, Any] = {}
    for pod in PODS:
        if pod.chart != chart:
            continue
        _put(out, pod.path, os_requests(inp.profile, pod.name))
        if pod.replicas_path is not None:
            _put(out, pod.replicas_path, platform_replicas(inp.profile, 3 if pod.name == "mariadb-server" else 2))
    if chart != INGRESS_RELEASE:
        _put(out, (*_R, "enabled"), True)
    return out


def _put(target: dict, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value


def _endpoints(inp: OpenStackInputs, chart: str) -> dict[str, Any]:
    auth = AUTH.get(chart, {"db": (), "mq": (), "ks": ()})
    out: dict[str, Any] = {}
    if auth["db"]:
        db = {"admin": {"password": inp.secret("openstack-db-root")},
              **{s: {"password": inp.secret(f"openstack-db-{s}")} for s in auth["db"]}}
        out["oslo_db"] = {"auth": db}
        if chart == "nova":
            # nova's API and cell0 databases (same user).
            out["oslo_db_api"] = out["oslo_db_cell0"] = {"auth": db}
    if auth["mq"]:
        out["oslo_messaging"] = {"auth": {"admin": {"password": inp.secret("openstack-mq-admin")},
                                          **{s: {"password": inp.secret(f"openstack-mq-{s}")} for s in auth["mq"]}}}
    if chart in AUTH:
        out["identity"] = {"auth": {"admin": {"password": inp.secret("openstack-ks-admin"),
                                              "region_name": inp.spec.openstack.region},
                                    **{s: {"password": inp.secret(f"openstack-ks-{s}"),
                                           "region_name": inp.spec.openstack.region} for s in auth["ks"]}}}
        out["oslo_cache"] = {"auth": {"memcache_secret_key": inp.secret("openstack-memcache-key")}}
    # The service catalog's public URLs: the OpenStack services' charts only.
    return deep_merge(out, _public_endpoints(inp)) if chart in AUTH else out


# Public endpoints: endpoint type -> (host prefix, port name, the chart
# exposing it, its network.<backend> key).
PUBLIC = {
    "identity": ("keystone", "api", "keystone", "api"),
    "image": ("glance", "api", "glance", "api"),
    "placement": ("placement", "api", "placement", "api"),
    "compute": ("nova", "api", "nova", "osapi"),
    "compute_novnc_proxy": ("novnc", "novnc_proxy", "nova", "novncproxy"),
    "network": ("neutron", "api", "neutron", "server"),
    "volumev3": ("cinder", "api", "cinder", "api"),
    "dashboard": ("horizon", "web", "horizon", "dashboard"),
}


def tls_secret(host_prefix: str) -> str:
    return f"{host_prefix}-tls-public"


def public_hosts(spec) -> dict[str, str]:
    """endpoint type -> public FQDN of the enabled services (empty: nothing exposed)."""
    if not spec.openstack.domain:
        return {}
    enabled = {c.name for c in charts(spec)}
    return {ep: spec.openstack.public_host(prefix) for ep, (prefix, _, chart, _) in PUBLIC.items() if chart in enabled}


def _public_endpoints(inp: OpenStackInputs) -> dict[str, Any]:
    """Every public endpoint at https://<service>.<domain> (the service
    catalog and Horizon's links), the same in every chart."""
    out = {}
    for ep, host in public_hosts(inp.spec).items():
        _, port, _, _ = PUBLIC[ep]
        out[ep] = {"host_fqdn_override": {"public": {"host": host, "tls": {}}},
                   "scheme": {"public": "https"}, "port": {port: {"public": 443}}}
    return out


def _ingress(inp: OpenStackInputs, chart: str) -> dict[str, Any]:
    """The chart's Ingress classes (its namespaced and FQDN Ingresses) and
    the TLS Secret of its public host (issued by cert-manager, plan.py)."""
    out: dict[str, Any] = {}
    for ep, (prefix, _, owner, backend) in PUBLIC.items():
        if owner != chart:
            continue
        _put(out, ("network", backend, "ingress", "classes"),
             {"namespace": INGRESS_CLASS, "cluster": inp.cluster_ingress_class})
        _put(out, ("secrets", "tls", ep, backend, "public"), tls_secret(prefix))
    return out


def _images(inp: OpenStackInputs, chart: str) -> dict[str, Any]:
    tags = RELEASES[inp.spec.openstack.release].images(chart)
    return {"images": {"tags": tags}} if tags else {}


def _no_tests() -> dict[str, Any]:
    # Rally/helm test pods: not on 4 GB nodes, and never part of an install.
    return {"manifests": {"pod_rally_test": False, "pod_test": False}}


# -- per chart ----------------------------------------------------------------------

def _storage_class(inp: OpenStackInputs) -> str:
    return inp.spec.storage.class_name


def _rabbitmq(inp: OpenStackInputs) -> dict[str, Any]:
    return {
        "volume": {"class_name": _storage_class(inp), "size": "1Gi"},
        "endpoints": {"oslo_messaging": {"auth": {"user": {"password": inp.secret("openstack-mq-admin")},
                                                  "erlang_cookie": inp.secret("openstack-mq-cookie")}}},
        # The management UI stays inside the cluster.
        "manifests": {"ingress_management": False, "service_ingress_management": False},
    }


def _mariadb(inp: OpenStackInputs) -> dict[str, Any]:
    # The chart's 1024M buffer pool alone would fill a 4 GB node.
    override = (f"[mysqld]\ninnodb_buffer_pool_size={MARIADB_BUFFER_POOL[inp.profile]}\n"
                "performance_schema=OFF\nmax_connections=1024\n")
    return {
        "volume": {"class_name": _storage_class(inp), "size": "5Gi", "backup": {"enabled": False}},
        "conf": {"database": {"config_override": override}},
        "endpoints": {"oslo_db": {"auth": {u: {"password": inp.secret(f"openstack-db-{s}")} for u, s in (
            ("admin", "root"), ("sst", "sst"), ("audit", "audit"), ("exporter", "exporter"))}}},
    }


def _memcached(inp: OpenStackInputs) -> dict[str, Any]:
    return {"conf": {"memcached": {"memory": MEMCACHED_MB[inp.profile]}}}


def _adapter(inp: OpenStackInputs) -> dict[str, Any]:
    # Where Rook's cluster lives (its admin key, read through the toolbox,
    # and its monitors): components/storage/values.py NAMESPACE.
    from components.storage.values import NAMESPACE as ROOK_NAMESPACE

    return {"ceph_cluster_namespace": ROOK_NAMESPACE, "endpoints": {"ceph_mon": {"namespace": ROOK_NAMESPACE}}}


def _keystone(inp: OpenStackInputs) -> dict[str, Any]:
    out = {"conf": {"keystone_api_wsgi": {"wsgi": {"processes": WORKERS[inp.profile], "threads": 1}}},
           "endpoints": {"identity": {"auth": {"admin": {"password": inp.secret("openstack-ks-admin")}}}}}
    return deep_merge(out, sso.keystone_values(inp.spec))


def _glance(inp: OpenStackInputs) -> dict[str, Any]:
    return {
        "storage": "rbd",
        "conf": {
            "ceph": {"enabled": True},
            "glance": {
                "DEFAULT": {"enabled_backends": "rbd:rbd", "workers": WORKERS[inp.profile]},
                "glance_store": {"default_backend": "rbd"},
                "rbd": {"rbd_store_pool": POOLS["glance"], "rbd_store_user": "glance",
                        "rbd_store_ceph_conf": "/etc/ceph/ceph.conf", "rbd_store_replication": inp.pool_size},
            },
        },
    }


def _placement(inp: OpenStackInputs) -> dict[str, Any]:
    return {"conf": {"placement_api_uwsgi": {"uwsgi": {"processes": WORKERS[inp.profile]}}}}


def _cinder(inp: OpenStackInputs) -> dict[str, Any]:
    backend = {"volume_driver": "cinder.volume.drivers.rbd.RBDDriver", "volume_backend_name": "rbd1",
               "rbd_pool": POOLS["cinder"], "rbd_ceph_conf": "/etc/ceph/ceph.conf", "rbd_user": CEPH_CLIENT,
               "rbd_secret_uuid": CEPH_SECRET_UUID}
    return {
        "storage": "ceph",
        "conf": {
            "cinder": {"DEFAULT": {"enabled_backends": "rbd1", "default_volume_type": "rbd1",
                                   "osapi_volume_workers": WORKERS[inp.profile]}},
            "backends": {"rbd1": backend},
            "ceph": {"pools": {POOLS["cinder"]: {"replication": inp.pool_size, "crush_rule": "replicated_rule",
                                                  "chunk_size": 8, "app_name": "cinder-volume"}}},
        },
        # No backup service: nowhere to send backups on this layout.
        "manifests": {"deployment_backup": False, "job_backup_storage_init": False},
    }


def _openvswitch(inp: OpenStackInputs) -> dict[str, Any]:
    return {}


def _libvirt(inp: OpenStackInputs) -> dict[str, Any]:
    return {"conf": {"ceph": {"enabled": True, "cinder": {"user": CEPH_CLIENT, "secret_uuid": CEPH_SECRET_UUID}}}}


def vm_memory_mib(spec) -> float:
    return memory_mib(spec.openstack.compute.vm_memory)


def _nova(inp: OpenStackInputs) -> dict[str, Any]:
    workers = WORKERS[inp.profile]
    # Nova places at most vmMemory of instances per node (no overcommit):
    # the rest is the host's, the pods' and the kubelet's.
    reserved = int(inp.compute_memory_mib - vm_memory_mib(inp.spec))
    return {
        "console": {"console_kind": "novnc"},
        "rbd_pool": {"replication": inp.pool_size},
        "conf": {
            "ceph": {"enabled": True, "cinder": {"user": CEPH_CLIENT, "secret_uuid": CEPH_SECRET_UUID}},
            "nova": {
                "DEFAULT": {"osapi_compute_workers": workers, "metadata_workers": workers,
                            "reserved_host_memory_mb": reserved, "ram_allocation_ratio": 1.0},
                "conductor": {"workers": workers},
                "scheduler": {"workers": workers},
                "libvirt": {"images_type": "rbd", "images_rbd_pool": POOLS["nova"], "rbd_user": CEPH_CLIENT,
                            "rbd_secret_uuid": CEPH_SECRET_UUID},
                "neutron": {"metadata_proxy_shared_secret": inp.secret("openstack-metadata-secret")},
            },
        },
        # noVNC only: no SPICE proxy pods.
        "manifests": {"deployment_spiceproxy": False, "ingress_spiceproxy": False,
                      "service_ingress_spiceproxy": False, "service_spiceproxy": False},
    }


def _neutron(inp: OpenStackInputs) -> dict[str, Any]:
    from components.mesh.wireguard import INTERFACE

    workers = WORKERS[inp.profile]
    return {
        # VXLAN between the nodes' mesh addresses: tenant traffic crosses the
        # network inside WireGuard (seed 001), and its MTU is the mesh's.
        "network": {"interface": {"tunnel": INTERFACE}},
        "conf": {
            "neutron": {"DEFAULT": {"global_physnet_mtu": inp.mesh_mtu, "api_workers": workers,
                                    "rpc_workers": workers}},
            "plugins": {"ml2_conf": {"ml2": {"path_mtu": inp.mesh_mtu}}},
            "metadata_agent": {"DEFAULT": {"metadata_workers": workers,
                                           "metadata_proxy_shared_secret": inp.secret("openstack-metadata-secret")}},
        },
    }


def _horizon(inp: OpenStackInputs) -> dict[str, Any]:
    return sso.horizon_values(inp.spec)


def _exporter(inp: OpenStackInputs) -> dict[str, Any]:
    return {
        "endpoints": {"identity": {"auth": {
            "admin": {"password": inp.secret("openstack-ks-admin"), "region_name": inp.spec.openstack.region},
            "user": {"password": inp.secret("openstack-ks-exporter"), "region_name": inp.spec.openstack.region}}}},
        "monitoring": {"prometheus": {"enabled": True}},
    }


def _ingress_controller(inp: OpenStackInputs) -> dict[str, Any]:
    """ingress-nginx in the OpenStack namespace, as OpenStack-Helm's guide
    installs it: namespace-scoped, pods labelled app=ingress-api (the charts'
    "public" Services select them), no Service of its own. External traffic
    comes through the cluster's ingress-nginx (the charts' FQDN Ingresses)."""
    from .labels import CONTROL_PLANE, ENABLED

    controller: dict[str, Any] = {
        "kind": "Deployment",
        "ingressClassResource": {"name": INGRESS_CLASS, "enabled": True, "default": False,
                                 "controllerValue": f"k8s.io/{INGRESS_CLASS}"},
        "ingressClass": INGRESS_CLASS,
        "scope": {"enabled": True},
        "labels": {"app": "ingress-api"},
        "podLabels": {"app": "ingress-api"},
        "service": {"enabled": False},
        "admissionWebhooks": {"enabled": False},
        "nodeSelector": {CONTROL_PLANE: ENABLED},
    }
    if inp.priority_class:
        controller["priorityClassName"] = inp.priority_class
    return {"controller": controller}


BUILDERS = {
    INGRESS_RELEASE: _ingress_controller, "rabbitmq": _rabbitmq, "mariadb": _mariadb, "memcached": _memcached,
    ADAPTER: _adapter, "keystone": _keystone, "glance": _glance, "placement": _placement, "cinder": _cinder,
    "openvswitch": _openvswitch, "libvirt": _libvirt, "nova": _nova, "neutron": _neutron, "horizon": _horizon,
    "prometheus-openstack-exporter": _exporter,
}


def chart_values(inp: OpenStackInputs, chart: str) -> dict[str, Any]:
    """The final values of one chart: the project's, then ``openstack.values.<chart>``."""
    out = _resources(inp, chart)
    if chart != INGRESS_RELEASE:
        out = deep_merge(out, _images(inp, chart))
        out = deep_merge(out, {"endpoints": _endpoints(inp, chart)})
        out = deep_merge(out, _ingress(inp, chart))
        out = deep_merge(out, _no_tests())
    out = deep_merge(out, BUILDERS[chart](inp))
    return deep_merge(out, inp.spec.openstack.values.get(chart, {}))
