"""OpenStack in Prometheus: the exporter's ServiceMonitor and the alerts.

OpenStack-Helm's prometheus-openstack-exporter queries the APIs with its
own Keystone user and serves ``openstack_check_<service>_api`` (1 up, 0
down) and ``openstack_services_<project>_<service>_down_total`` (agents
and services Nova, Neutron and Cinder report down), per the exporter's
README. Its chart annotates its Service for annotation-based scraping,
which kube-prometheus-stack does not do: the project adds a ServiceMonitor
(the monitoring add-on picks up every monitor and rule,
``*SelectorNilUsesHelmValues: false``). Seed 001: "savoir instantanément si
un service était Down sans avoir à se connecter en SSH".
"""

from __future__ import annotations

from typing import Any

from components.platform.model import Manifest
from components.platform.objects import custom

from .charts import NS

EXPORTER = "prometheus-openstack-exporter"
EXPORTER_PORT = 9103
# Alert when a hypervisor has less than this left for instances.
FREE_RAM_MB = 256


def exporter_monitor(spec) -> Manifest:
    # helm-toolkit labels every object of a release release_group=<release>.
    return custom("monitoring/servicemonitor", "monitoring.coreos.com/v1", "ServiceMonitor", "openstack-exporter", {
        "selector": {"matchLabels": {"release_group": EXPORTER}},
        "namespaceSelector": {"matchNames": [spec.openstack.namespace]},
        "endpoints": [{"targetPort": EXPORTER_PORT, "interval": "60s", "scrapeTimeout": "30s"}],
    }, namespace=spec.openstack.namespace, after=[EXPORTER, NS])


def rules(spec) -> list[dict[str, Any]]:
    services = spec.openstack.services
    down = ["nova_(conductor|scheduler|compute)", "neutron_.*_agent"] + (["cinder_(scheduler|volume)"] if services.cinder else [])
    return [
        {"alert": "OpenStackApiDown", "expr": '{__name__=~"openstack_check_.+_api"} == 0', "for": "5m",
         "labels": {"severity": "critical"},
         "annotations": {"summary": "the {{ $labels.service }} API does not answer ({{ $labels.url }})"}},
        {"alert": "OpenStackServiceDown",
         "expr": f'{{__name__=~"openstack_services_({"|".join(down)})_down_total"}} > 0', "for": "5m",
         "labels": {"severity": "critical"},
         "annotations": {"summary": "{{ $value }} {{ $labels.service }} service(s) report down"}},
        {"alert": "OpenStackExporterAbsent", "expr": "absent(openstack_exporter_cache_refresh_duration_seconds)",
         "for": "15m", "labels": {"severity": "warning"},
         "annotations": {"summary": "no metrics from prometheus-openstack-exporter: OpenStack is unobserved"}},
        {"alert": "OpenStackHypervisorMemoryLow", "expr": f"openstack_free_ram_MB < {FREE_RAM_MB}", "for": "15m",
         "labels": {"severity": "warning"},
         "annotations": {"summary": f"{{{{ $labels.host }}}} has less than {FREE_RAM_MB} MB left for instances "
                                    "(openstack.compute.vmMemory)"}},
    ]


def alert_rules(spec) -> Manifest:
    return custom("monitoring/rules", "monitoring.coreos.com/v1", "PrometheusRule", "openstack-alerts",
                  {"groups": [{"name": "sovereign-cloud-openstack", "rules": rules(spec)}]},
                  namespace=spec.openstack.namespace, after=[NS])
