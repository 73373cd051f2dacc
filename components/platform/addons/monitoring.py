"""Monitoring: kube-prometheus-stack (Prometheus, Alertmanager, Grafana,
node-exporter, kube-state-metrics), goldpinger, a WireGuard exporter on
every node and the project's alert rules."""

from __future__ import annotations

from typing import Any

from ...cluster.contract import ETCD_METRICS_PORT
from ...mesh.wireguard import INTERFACE
from ..chart_values import GoldpingerValues, KubePrometheusStackValues, typed
from ..charts import CHARTS
from ..model import AddonPlan, Manifest, PlatformContext, Release, Workload
from ..objects import custom, exposed, ingress_class, metadata, namespace, tls_annotations
from ..profiles import requests
from ..values import deep_merge

NAMESPACE = CHARTS["kube-prometheus-stack"].namespace
GRAFANA_SSO_SECRET = "grafana-sso"
GRAFANA_TLS_SECRET = "grafana-tls"
# The Prometheus ServiceAccount, named explicitly (the chart's own default,
# "<fullname>-prometheus") because other charts grant it rights (metallb).
PROMETHEUS_SERVICE_ACCOUNT = "kube-prometheus-stack-prometheus"
# The receiver of every alert when the spec names one; the chart's "null"
# receiver stays for its Watchdog route.
ALERT_RECEIVER = "sovereign"
WG_EXPORTER_IMAGE = "docker.io/mindflavor/prometheus-wireguard-exporter:3.6.6"
WG_EXPORTER_PORT = 9586
TOLERATE_ALL = [{"operator": "Exists"}]


def values(ctx: PlatformContext) -> dict[str, Any]:
    mon = ctx.addons.monitoring
    grafana: dict[str, Any] = {
        "resources": requests(ctx.profile, "grafana"),
        # The dashboards and datasources sidecars (grafana chart sidecar.resources).
        "sidecar": {"resources": requests(ctx.profile, "grafana-sidecar")},
    }
    kc = ctx.addons.keycloak
    if kc.grafana_host and exposed(ctx):
        # grafana chart ingress.* (hosts, path, tls list as in an Ingress).
        grafana["ingress"] = {
            "enabled": True, "ingressClassName": ingress_class(ctx), "annotations": tls_annotations(ctx),
            "hosts": [kc.grafana_host], "path": "/",
            "tls": [{"hosts": [kc.grafana_host], "secretName": GRAFANA_TLS_SECRET}],
        }
    if kc.enabled:
        # Client secret from a Secret the keycloak add-on writes (env var
        # GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET), never in the values.
        base = f"https://{kc.hostname}/realms/{kc.realm}/protocol/openid-connect"
        grafana["envFromSecret"] = GRAFANA_SSO_SECRET
        grafana["grafana.ini"] = {
            "server": {"root_url": f"https://{kc.grafana_host}" if kc.grafana_host else "%(protocol)s://%(domain)s/"},
            "auth.generic_oauth": {
                "enabled": True, "name": "Keycloak", "client_id": "grafana", "allow_sign_up": True,
                "scopes": "openid profile email", "auth_url": f"{base}/auth", "token_url": f"{base}/token",
                "api_url": f"{base}/userinfo",
            },
        }
    prom_spec: dict[str, Any] = {
        "retention": mon.retention,
        "resources": requests(ctx.profile, "prometheus"),
        # Pick up every rule/monitor, not only the chart's own.
        "ruleSelectorNilUsesHelmValues": False,
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "podMonitorSelectorNilUsesHelmValues": False,
    }
    if ctx.priority():
        prom_spec["priorityClassName"] = ctx.priority()
    alertmanager: dict[str, Any] = {"alertmanagerSpec": {"resources": requests(ctx.profile, "alertmanager")}}
    config = alertmanager_config(ctx)
    if config:
        alertmanager["config"] = config
    return typed(KubePrometheusStackValues, {
        "crds": {"enabled": True},
        "prometheus": {"prometheusSpec": prom_spec,
                       "serviceAccount": {"create": True, "name": PROMETHEUS_SERVICE_ACCOUNT}},
        "alertmanager": alertmanager,
        "grafana": grafana,
        "prometheusOperator": {
            "resources": requests(ctx.profile, "prometheus-operator"),
            # The config-reloader sidecar of the Prometheus and Alertmanager pods.
            "prometheusConfigReloader": {"resources": requests(ctx.profile, "prometheus-config-reloader")},
        },
        "kube-state-metrics": {"resources": requests(ctx.profile, "kube-state-metrics")},
        "prometheus-node-exporter": {"resources": requests(ctx.profile, "node-exporter"), "tolerations": TOLERATE_ALL},
        # Embedded etcd on k3s servers, stacked or external etcd on kubeadm:
        # scraped at the members' mesh IPs (no etcd pods to select on k3s or
        # dedicated etcd nodes), plain HTTP on the metrics port.
        "kubeEtcd": etcd_scrape(ctx),
        # Unreachable here, so their targets (and the chart's
        # KubeControllerManagerDown/KubeSchedulerDown/KubeProxyDown alerts)
        # would be down forever: kubeadm binds controller-manager and
        # scheduler metrics to 127.0.0.1 (and K3s runs them inside the k3s
        # process, no pods to select), kube-proxy serves metrics on
        # 127.0.0.1:10249 (K3s embeds it; kubeProxy: false runs none).
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeProxy": {"enabled": False},
    })


def alertmanager_config(ctx: PlatformContext) -> dict[str, Any] | None:
    """Alertmanager's receiver from ``addons.monitoring.alertmanager``; None
    keeps the chart's ``null`` receiver (no notification). Helm merges this
    into the chart's ``alertmanager.config``: its route (grouping, the
    Watchdog route to "null") and inhibit rules stay, ``receivers`` (a
    list) is replaced, so "null" is listed again."""
    am = ctx.addons.monitoring.alertmanager
    if am.webhook_url is None and am.email is None:
        return None
    receiver: dict[str, Any] = {"name": ALERT_RECEIVER}
    if am.webhook_url is not None:
        receiver["webhook_configs"] = [{"url": am.webhook_url, "send_resolved": True}]
    if am.email is not None:
        receiver["email_configs"] = [{"to": am.email.to, "from": am.email.sender, "smarthost": am.email.smarthost,
                                      "require_tls": am.email.require_tls, "send_resolved": True}]
    return {"route": {"receiver": ALERT_RECEIVER}, "receivers": [{"name": "null"}, receiver]}


def etcd_scrape(ctx: PlatformContext) -> dict[str, Any]:
    return {
        "enabled": True,
        "endpoints": list(ctx.etcd_metrics),
        "service": {"enabled": True, "port": ETCD_METRICS_PORT, "targetPort": ETCD_METRICS_PORT},
        "serviceMonitor": {"enabled": True, "scheme": "http"},
    }


def goldpinger_values(ctx: PlatformContext) -> dict[str, Any]:
    return typed(GoldpingerValues, {"resources": requests(ctx.profile, "goldpinger"), "tolerations": TOLERATE_ALL,
                                    "serviceMonitor": {"enabled": True}})


def alert_rules(ctx: PlatformContext) -> dict[str, Any]:
    mon = ctx.addons.monitoring
    return {"groups": [{"name": "sovereign-cloud", "rules": [
        {"alert": "NodeAvailableMemoryLow",
         "expr": f"node_memory_MemAvailable_bytes < {mon.memory_alert_mb} * 1024 * 1024",
         "for": "2m", "labels": {"severity": "critical"},
         "annotations": {"summary": f"{{{{ $labels.instance }}}} has less than {mon.memory_alert_mb} MiB available; "
                                    "the OOM killer is next"}},
        {"alert": "WireGuardPeerNoHandshake",
         "expr": f"time() - wireguard_latest_handshake_seconds{{interface=\"{INTERFACE}\"}} "
                 f"> {mon.wireguard_handshake_minutes * 60}",
         "for": "1m", "labels": {"severity": "warning"},
         "annotations": {"summary": f"{{{{ $labels.instance }}}}: mesh peer {{{{ $labels.public_key }}}} without a "
                                    f"handshake for {mon.wireguard_handshake_minutes} minutes"}},
        {"alert": "EtcdMemberDown", "expr": 'up{job="kube-etcd"} == 0', "for": "3m",
         "labels": {"severity": "critical"},
         "annotations": {"summary": "etcd member {{ $labels.instance }} is not answering its metrics endpoint"}},
        {"alert": "EtcdNoLeader", "expr": "etcd_server_has_leader == 0", "for": "1m",
         "labels": {"severity": "critical"},
         "annotations": {"summary": "etcd member {{ $labels.instance }} has no leader"}},
        {"alert": "CertificateExpiringSoon",
         "expr": f"certmanager_certificate_expiration_timestamp_seconds - time() < {mon.cert_expiry_days} * 24 * 3600",
         "for": "1h", "labels": {"severity": "warning"},
         "annotations": {"summary": f"certificate {{{{ $labels.namespace }}}}/{{{{ $labels.name }}}} expires within "
                                    f"{mon.cert_expiry_days} days"}},
    ]}, *ceph_rules(ctx)]}


# Ceph's mgr prometheus module (scraped through the ServiceMonitor the
# rook-ceph-cluster chart writes): ceph_health_status 0 OK, 1 WARN, 2 ERR.
CEPH_NEAR_FULL = 0.75


def ceph_rules(ctx: PlatformContext) -> list[dict[str, Any]]:
    """The project's own Ceph alerts (beside the chart's rule set), when
    storage.class is rook-ceph: health warning/error, an OSD down, an OSD
    near full (Ceph's own nearfull ratio is 0.85: warn earlier)."""
    from components.storage.plan import enabled

    if not enabled(ctx.spec):
        return []
    return [{"name": "sovereign-cloud-ceph", "rules": [
        {"alert": "CephHealthWarning", "expr": "ceph_health_status == 1", "for": "15m",
         "labels": {"severity": "warning"},
         "annotations": {"summary": "Ceph reports HEALTH_WARN for 15 minutes (ceph health detail says why)"}},
        {"alert": "CephHealthError", "expr": "ceph_health_status == 2", "for": "5m",
         "labels": {"severity": "critical"},
         "annotations": {"summary": "Ceph reports HEALTH_ERR: data may be unavailable"}},
        {"alert": "CephOSDDown", "expr": "ceph_osd_up == 0", "for": "5m", "labels": {"severity": "critical"},
         "annotations": {"summary": "{{ $labels.ceph_daemon }} is down: its placement groups are degraded"}},
        {"alert": "CephOSDNearFull",
         "expr": f"ceph_osd_stat_bytes_used / ceph_osd_stat_bytes > {CEPH_NEAR_FULL}", "for": "10m",
         "labels": {"severity": "warning"},
         "annotations": {"summary": f"{{{{ $labels.ceph_daemon }}}} is over {CEPH_NEAR_FULL:.0%} full; "
                                    "at 95% Ceph stops writes"}},
    ]}]


def wireguard_exporter(ctx: PlatformContext) -> list[Manifest]:
    """Handshake ages of the mesh (wg0) on every node, for the alert above."""
    labels = {"app.kubernetes.io/name": "wireguard-exporter"}
    ds = Manifest("monitoring/wireguard-exporter", {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": metadata("wireguard-exporter", NAMESPACE, labels),
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "hostNetwork": True,
                    "tolerations": TOLERATE_ALL,
                    **({"priorityClassName": ctx.priority()} if ctx.priority() else {}),
                    "containers": [{
                        "name": "exporter",
                        "image": WG_EXPORTER_IMAGE,
                        "args": ["-i", INTERFACE, "-p", str(WG_EXPORTER_PORT)],
                        "ports": [{"name": "metrics", "containerPort": WG_EXPORTER_PORT}],
                        "resources": requests(ctx.profile, "wireguard-exporter"),
                        "securityContext": {"capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}},
                    }],
                },
            },
        },
    }, after=[f"ns/{NAMESPACE}"])
    monitor = custom("monitoring/wireguard-podmonitor", "monitoring.coreos.com/v1", "PodMonitor", "wireguard-exporter", {
        "selector": {"matchLabels": labels},
        "podMetricsEndpoints": [{"port": "metrics", "interval": "30s"}],
    }, namespace=NAMESPACE, after=["kube-prometheus-stack"])
    return [ds, monitor]


RELOADER = ("prometheusOperator", "prometheusConfigReloader", "resources")


def plan(ctx: PlatformContext) -> AddonPlan:
    mon = ctx.addons.monitoring
    ns = namespace(NAMESPACE, labels={"pod-security.kubernetes.io/enforce": "privileged"})
    v = deep_merge(values(ctx), mon.values)
    releases = [Release("kube-prometheus-stack", CHARTS["kube-prometheus-stack"], v,
                        after=[ns.key] + (["keycloak/grafana-secret"] if ctx.addons.keycloak.enabled else []))]
    workloads = [
        Workload("kube-prometheus-stack", "prometheus", "StatefulSet", ("prometheus", "prometheusSpec", "resources")),
        Workload("kube-prometheus-stack", "prometheus-config-reloader", "StatefulSet", RELOADER),
        Workload("kube-prometheus-stack", "alertmanager", "StatefulSet", ("alertmanager", "alertmanagerSpec", "resources")),
        Workload("kube-prometheus-stack", "alertmanager-config-reloader", "StatefulSet", RELOADER),
        Workload("kube-prometheus-stack", "grafana", "Deployment", ("grafana", "resources")),
        Workload("kube-prometheus-stack", "grafana-sc-dashboard", "Deployment", ("grafana", "sidecar", "resources")),
        Workload("kube-prometheus-stack", "grafana-sc-datasources", "Deployment", ("grafana", "sidecar", "resources")),
        Workload("kube-prometheus-stack", "prometheus-operator", "Deployment", ("prometheusOperator", "resources")),
        Workload("kube-prometheus-stack", "kube-state-metrics", "Deployment", ("kube-state-metrics", "resources")),
        Workload("kube-prometheus-stack", "node-exporter", "DaemonSet", ("prometheus-node-exporter", "resources"),
                 placement="all"),
        Workload("monitoring/wireguard-exporter", "wireguard-exporter", "DaemonSet",
                 ("spec", "template", "spec", "containers", 0, "resources"), placement="all"),
    ]
    if mon.goldpinger:
        releases.append(Release("goldpinger", CHARTS["goldpinger"], goldpinger_values(ctx),
                                 after=[ns.key, "kube-prometheus-stack"]))
        workloads.append(Workload("goldpinger", "goldpinger", "DaemonSet", ("resources",), placement="all"))
    rule = custom("monitoring/rules", "monitoring.coreos.com/v1", "PrometheusRule", "sovereign-cloud-alerts",
                  alert_rules(ctx), namespace=NAMESPACE, after=["kube-prometheus-stack"])
    return AddonPlan("monitoring", releases=releases, manifests=[ns, *wireguard_exporter(ctx), rule],
                     workloads=workloads)
