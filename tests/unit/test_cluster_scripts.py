"""Node scripts of the cluster layer: the logic that can run here (no k3s,
kubeadm or root changes) exercised with stub tools. Shellcheck and strict
mode of every script: test_script_hygiene.py."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from components.remote.script import render_script

ROOT = Path(__file__).resolve().parents[2] / "components" / "cluster"
SCRIPTS = sorted(p for d in ("k3s", "kubeadm", "common") for p in (ROOT / d / "scripts").glob("*.sh"))


def test_there_are_scripts_to_check():
    names = {p.name for p in SCRIPTS}
    assert {"api-lb.sh", "k3s-node.sh", "kubeadm-init.sh", "kubeadm-join.sh", "k3s-member-remove.sh"} <= names


# Shebang, strict mode and shellcheck of these (and of every other
# component's scripts): tests/unit/test_script_hygiene.py


def run_bash(text: str, *, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", text], input=stdin, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def secrets_line(**values) -> str:
    return "".join(f"{k}={base64.b64encode(v.encode()).decode()}\n" for k, v in values.items())


def test_k3s_node_reads_its_token_from_stdin_and_validates_the_role():
    script = render_script(ROOT / "k3s/scripts/k3s-node.sh",
                           {"K3S_ROLE": "bogus", "K3S_CONFIG": "x: 1", "JOIN_SERVER": "https://127.0.0.1:7445"})
    missing = run_bash(script, stdin="")
    assert missing.returncode == 1 and "K3S_TOKEN missing on stdin" in missing.stderr
    # A token with '=' padding and a trailing newline survives the protocol.
    given = run_bash(script, stdin=secrets_line(K3S_TOKEN="tok=en"))
    assert given.returncode == 1 and "K3S_ROLE must be server or agent, got bogus" in given.stderr


def test_read_kubeconfig_prints_the_file_only(tmp_path):
    path = tmp_path / "admin.conf"
    path.write_text("apiVersion: v1\nkind: Config\n")
    out = run_bash(render_script(ROOT / "common/scripts/read-kubeconfig.sh", {"KUBECONFIG_PATH": path}))
    assert out.returncode == 0 and out.stdout == "apiVersion: v1\nkind: Config\n"
    gone = run_bash(render_script(ROOT / "common/scripts/read-kubeconfig.sh",
                                  {"KUBECONFIG_PATH": tmp_path / "none", "WAIT_SECONDS": 0}))
    assert gone.returncode == 1 and gone.stdout == "" and "no kubeconfig" in gone.stderr


# -- removal with stub kubectl/curl ------------------------------------------------

FAKE_CURL = r"""#!/usr/bin/env bash
url="${*: -1}"
echo "curl $*" >> "$FAKE_LOG"
# FAKE_ETCD_DOWN=yes: the local etcd does not answer (curl: connection refused).
if [ "${FAKE_ETCD_DOWN:-}" = yes ]; then exit 7; fi
case "$*" in
  *member/list*)
    list=""
    for ip in $FAKE_MEMBERS; do
      if [ "$ip" = "$FAKE_LEAVING" ] && [ -f "$FAKE_DIR/removed" ]; then continue; fi
      id="1${ip//./}"
      list="${list:+$list,}{\"ID\":\"${id}\",\"name\":\"m-${ip}\",\"peerURLs\":[\"https://${ip}:2380\"],\"clientURLs\":[\"https://${ip}:2379\"]}"
    done
    echo "{\"header\":{},\"members\":[${list}]}" ;;
  *member/remove*) touch "$FAKE_DIR/removed"; echo '{}' ;;
  */health)
    for bad in $FAKE_UNHEALTHY; do
      if [ "$url" = "https://${bad}:2379/health" ]; then echo '{"health":"false"}'; exit 0; fi
    done
    echo '{"health":"true"}' ;;
esac
"""

FAKE_KUBECTL = r"""#!/usr/bin/env bash
if [ "$1" = "kubectl" ]; then shift; fi
echo "kubectl $*" >> "$FAKE_LOG"
# FAKE_API_DOWN=yes: the API does not answer (what a mesh outage looks like).
if [ "${FAKE_API_DOWN:-}" = yes ] || { [ -n "${FAKE_FAIL_ON:-}" ] && [[ "$*" == *"$FAKE_FAIL_ON"* ]]; }; then
  echo "The connection to the server was refused" >&2; exit 1
fi
case "$*" in
  *"get node "*"--ignore-not-found -o name"*)
    # FAKE_NODE_GONE=yes: the leaving node is not in the cluster (any more).
    rest="${*#*get node }"
    [ "${FAKE_NODE_GONE:-}" = yes ] || echo "node/${rest%% *}" ;;
  *annotate*) touch "$FAKE_DIR/removed" ;;
  *"get nodes -l"*"-o name"*) for cp in $FAKE_CPS; do echo "node/${cp%%:*}"; done ;;
  *"get nodes -l"*) for cp in $FAKE_CPS; do ready="${cp#*:}"; [ "$ready" = "$cp" ] && ready=True; echo "${cp%%:*} $ready"; done ;;
esac
exit 0
"""


@pytest.fixture
def stubs(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("curl", FAKE_CURL), ("kubectl", FAKE_KUBECTL), ("k3s", FAKE_KUBECTL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "log"
    log.touch()
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_LOG": str(log), "FAKE_DIR": str(tmp_path),
           "K3S_BIN": str(bin_dir / "k3s")}
    return env, log


def k3s_remove(env, *, members, unhealthy="", leaving="10.6.6.3", role="server", self_=False, **fake):
    script = render_script(ROOT / "k3s/scripts/k3s-member-remove.sh",
                           {"NODE_NAME": "vps-3", "NODE_IP": leaving, "K3S_ROLE": role, "SELF": self_})
    return run_bash(script, env={**env, "FAKE_MEMBERS": members, "FAKE_UNHEALTHY": unhealthy, "FAKE_LEAVING": leaving,
                                 **fake})


def test_k3s_server_removal_refuses_to_break_quorum(stubs):
    env, log = stubs
    out = k3s_remove(env, members="10.6.6.1 10.6.6.2 10.6.6.3", unhealthy="10.6.6.2")
    assert out.returncode == 1
    assert "1 healthy member(s) would stay of 2, quorum needs 2" in out.stderr
    assert "drain" not in log.read_text() and "delete node" not in log.read_text()


def test_k3s_server_removal_removes_the_etcd_member_before_the_node(stubs):
    env, log = stubs
    out = k3s_remove(env, members="10.6.6.1 10.6.6.2 10.6.6.3")
    assert out.returncode == 0, out.stderr
    calls = [line for line in log.read_text().splitlines() if line.startswith("kubectl")]
    verbs = [c.split()[3] for c in calls]  # kubectl --kubeconfig <path> <verb> ...
    assert verbs == ["get", "cordon", "drain", "annotate", "delete"]
    assert "etcd.k3s.cattle.io/remove=true" in calls[3]


def test_first_server_leaving_by_itself_keeps_quorum_rules(stubs):
    """The first server has no member command: its own uninstall runs the
    removal (SELF) and is held to the same quorum rule."""
    env, log = stubs
    out = k3s_remove(env, members="10.6.6.3 10.6.6.1 10.6.6.2", unhealthy="10.6.6.2", self_=True)
    assert out.returncode == 1 and "quorum needs 2" in out.stderr
    assert "drain" not in log.read_text()
    log.write_text("")
    out = k3s_remove(env, members="10.6.6.3 10.6.6.1 10.6.6.2", self_=True)
    assert out.returncode == 0, out.stderr
    assert "etcd.k3s.cattle.io/remove=true" in log.read_text()


def test_last_etcd_member_leaving_hands_nothing_over(stubs):
    """Destroying the whole cluster: the last server just goes."""
    env, log = stubs
    out = k3s_remove(env, members="10.6.6.3", self_=True)
    assert out.returncode == 0 and "last etcd member" in out.stdout
    assert "drain" not in log.read_text() and "annotate" not in log.read_text()


def test_uninstall_wipes_nothing_when_leaving_the_cluster_fails(stubs, tmp_path):
    env, log = stubs
    marker = tmp_path / "left"
    script = render_script(ROOT / "k3s/scripts/k3s-uninstall.sh", {
        "K3S_ROLE": "server", "LEAVE_SCRIPT": f"echo refused >&2; touch {marker}; exit 1"})
    out = run_bash(script, env=env)
    assert out.returncode == 1 and "refused" in out.stderr and marker.exists()
    assert "removed" not in out.stdout


def test_k3s_agent_removal_skips_etcd(stubs):
    env, log = stubs
    out = k3s_remove(env, members="10.6.6.1", role="agent", leaving="10.6.7.1")
    assert out.returncode == 0, out.stderr
    assert "curl" not in log.read_text()


def kubeadm_remove(env, *, members, unhealthy="", cps="cp-1 cp-2 cp-3", stacked=True, self_=False, **fake):
    """``cps``: control planes, ``name`` (Ready) or ``name:False``."""
    script = render_script(ROOT / "kubeadm/scripts/kubeadm-member-remove.sh",
                           {"NODE_NAME": "cp-3", "NODE_IP": "10.42.3.1", "ROLE": "control-plane",
                            "STACKED_ETCD": stacked, "SELF": self_})
    return run_bash(script, env={**env, "FAKE_MEMBERS": members, "FAKE_UNHEALTHY": unhealthy,
                                 "FAKE_LEAVING": "10.42.3.1", "FAKE_CPS": cps, **fake})


def test_kubeadm_stacked_removal_checks_quorum_then_removes_the_member_first(stubs):
    env, log = stubs
    refused = kubeadm_remove(env, members="10.42.1.1 10.42.2.1 10.42.3.1", unhealthy="10.42.1.1")
    assert refused.returncode == 1 and "quorum needs 2" in refused.stderr
    assert "member/remove" not in log.read_text()
    log.write_text("")
    ok = kubeadm_remove(env, members="10.42.1.1 10.42.2.1 10.42.3.1")
    assert ok.returncode == 0, ok.stderr
    text = log.read_text()
    assert '"ID":"1104231"' in text  # the leaving node's member id
    assert text.index("member/remove") < text.index("kubectl drain") < text.index("kubectl delete node")


def test_kubeadm_refuses_to_remove_the_last_control_plane(stubs):
    env, log = stubs
    out = kubeadm_remove(env, members="10.42.3.1", cps="cp-3", stacked=False)
    assert out.returncode == 1 and "last Ready control plane" in out.stderr


def test_kubeadm_refuses_when_the_other_control_planes_are_not_ready(stubs):
    env, log = stubs
    out = kubeadm_remove(env, members="10.42.1.1 10.42.2.1 10.42.3.1", cps="cp-1:False cp-2:Unknown cp-3")
    assert out.returncode == 1 and "last Ready control plane" in out.stderr
    assert "member/remove" not in log.read_text() and "drain" not in log.read_text()


def test_first_control_plane_leaving_by_itself(stubs):
    env, log = stubs
    last = kubeadm_remove(env, members="10.42.3.1", cps="cp-3", self_=True)
    assert last.returncode == 0 and "last control plane: nothing to hand over" in last.stdout
    assert "member/remove" not in log.read_text()
    ok = kubeadm_remove(env, members="10.42.1.1 10.42.2.1 10.42.3.1", self_=True)
    assert ok.returncode == 0, ok.stderr
    assert log.read_text().index("member/remove") < log.read_text().index("kubectl drain")



# -- an outage is never "already gone" nor "last member" (issue 11, item 7) ----

def _touched(log) -> bool:
    text = log.read_text()
    return any(verb in text for verb in ("cordon", "drain", "delete node", "annotate", "member/remove"))


def test_k3s_removal_with_the_api_down_changes_nothing(stubs):
    env, log = stubs
    out = k3s_remove(env, members="10.6.6.1 10.6.6.2 10.6.6.3", FAKE_API_DOWN="yes")
    assert out.returncode == 1 and "nothing changed" in out.stderr and "mesh back" in out.stderr
    assert not _touched(log)


def test_k3s_first_server_with_etcd_down_is_not_the_last_member(stubs):
    """Its own uninstall wipes /var/lib/rancher/k3s after this: an etcd that
    does not answer must not pass for a one-member cluster."""
    env, log = stubs
    out = k3s_remove(env, members="10.6.6.3 10.6.6.1 10.6.6.2", self_=True, FAKE_ETCD_DOWN="yes")
    assert out.returncode == 1 and "does not answer" in out.stderr
    assert "last etcd member" not in out.stdout and not _touched(log)


def test_a_node_already_gone_is_nothing_to_do(stubs):
    env, log = stubs
    out = k3s_remove(env, members="10.6.6.1 10.6.6.2", FAKE_NODE_GONE="yes")
    assert out.returncode == 0 and "not in the cluster: nothing to do" in out.stdout
    out = kubeadm_remove(env, members="10.42.1.1 10.42.2.1", FAKE_NODE_GONE="yes")
    assert out.returncode == 0 and "not in the cluster: nothing to do" in out.stdout
    assert not _touched(log)


def test_kubeadm_removal_with_the_api_down_changes_nothing(stubs):
    env, log = stubs
    out = kubeadm_remove(env, members="10.42.1.1 10.42.2.1 10.42.3.1", FAKE_API_DOWN="yes")
    assert out.returncode == 1 and "nothing changed" in out.stderr
    assert not _touched(log)


def test_first_control_plane_is_not_the_last_when_the_api_cannot_list_them(stubs):
    """kubeadm reset (which wipes stacked etcd) follows a SELF success."""
    env, log = stubs
    out = kubeadm_remove(env, members="10.42.1.1 10.42.2.1 10.42.3.1", self_=True, FAKE_FAIL_ON="get nodes -l")
    assert out.returncode != 0 and "nothing to hand over" not in out.stdout
    assert not _touched(log)


# -- dedicated etcd members: wipe only on a whole-cluster destroy ------------------

FAKE_ETCDCTL = r"""#!/usr/bin/env bash
# A stand-in etcdctl: FAKE_ETCD_UP lists the client URLs that answer.
echo "etcdctl $*" >> "$FAKE_LOG"
ep=""; args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --endpoints) ep="$2"; shift 2 ;;
    --*=*) shift ;;
    --*) shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
up=false
for u in $FAKE_ETCD_UP; do [ "$u" = "$ep" ] && up=true; done
[ "$up" = true ] || { echo "context deadline exceeded" >&2; exit 1; }
case "${args[*]}" in
  "member list")
    for ip in $FAKE_MEMBERS; do
      [ -f "$FAKE_DIR/removed-$ip" ] && continue
      echo "1${ip//./}, started, m-${ip}, https://${ip}:2380, https://${ip}:2379, false"
    done ;;
  "member remove"*) touch "$FAKE_DIR/removed-${FAKE_LEAVING}"; echo "Member removed" ;;
  "endpoint health") echo "$ep is healthy" ;;
esac
"""

ETCD_CLUSTER = ["etcd-a 10.42.1.1", "etcd-b 10.42.2.1", "etcd-c 10.42.3.1"]


@pytest.fixture
def etcd_member(tmp_path, stubs):
    """A configured etcd member etcd-a (10.42.1.1) with data, in a sandbox."""
    env, log = stubs
    etcdctl = Path(env["PATH"].split(":")[0]) / "etcdctl"
    etcdctl.write_text(FAKE_ETCDCTL)
    etcdctl.chmod(0o755)
    conf, data = tmp_path / "etc-etcd", tmp_path / "data"
    (conf / "pki").mkdir(parents=True)
    (conf / "pki" / "healthcheck-client.crt").write_text("CERT\n")
    (data / "member" / "snap").mkdir(parents=True)
    (data / "member" / "snap" / "db").write_text("the cluster's data\n")
    sandbox = {**env, "CONF_DIR": str(conf), "RUN_DIR": str(tmp_path / "run"),
               "SYSTEMD_DIR": str(tmp_path / "no-systemd"), "FAKE_LEAVING": "10.42.1.1",
               "FAKE_MEMBERS": "10.42.1.1 10.42.2.1 10.42.3.1"}
    return sandbox, log, conf, data


def etcd_remove(env, **fake):
    script = render_script(ROOT / "etcd/scripts/etcd-member-remove.sh", {
        "ETCD_NAME": "etcd-a", "MESH_IP": "10.42.1.1", "CLUSTER": ETCD_CLUSTER, "DATA_DIR": env["DATA"]})
    return run_bash(script, env={**env, **fake})


def test_an_etcd_member_cut_off_from_its_peers_keeps_its_data(etcd_member):
    env, log, conf, data = etcd_member
    out = etcd_remove({**env, "DATA": str(data)}, FAKE_ETCD_UP="")
    assert out.returncode == 1
    assert "refusing to remove etcd-a: no other member answers" in out.stderr
    assert "https://10.42.2.1:2379 https://10.42.3.1:2379" in out.stderr  # who was asked
    assert "section Removing members" in out.stderr
    assert (data / "member" / "snap" / "db").read_text() == "the cluster's data\n" and (conf / "pki").is_dir()


def test_the_last_member_of_a_destroyed_cluster_is_wiped(etcd_member):
    """The health gate's delete (etcd-teardown.sh) marks the first member;
    with the mark, a member nobody answers is the end of the cluster."""
    env, log, conf, data = etcd_member
    mark = run_bash(render_script(ROOT / "etcd/scripts/etcd-teardown.sh"), env=env)
    assert mark.returncode == 0 and (conf / "teardown").exists()
    out = etcd_remove({**env, "DATA": str(data)}, FAKE_ETCD_UP="")
    assert out.returncode == 0, out.stderr
    assert "teardown mark present" in out.stdout and not data.exists() and not conf.exists()


def test_the_health_gate_clears_an_old_teardown_mark(etcd_member):
    env, log, conf, data = etcd_member
    (conf / "teardown").write_text("old\n")
    health = render_script(ROOT / "etcd/scripts/etcd-health.sh", {"ENDPOINTS": ["https://10.42.1.1:2379"], "TIMEOUT": 5})
    out = run_bash(health, env={**env, "FAKE_ETCD_UP": "https://10.42.1.1:2379"})
    assert out.returncode == 0, out.stderr
    assert not (conf / "teardown").exists()
    refused = etcd_remove({**env, "DATA": str(data)}, FAKE_ETCD_UP="")
    assert refused.returncode == 1 and data.exists()


def test_an_etcd_member_with_healthy_peers_is_removed_then_wiped(etcd_member):
    env, log, conf, data = etcd_member
    up = "https://10.42.2.1:2379 https://10.42.3.1:2379"
    out = etcd_remove({**env, "DATA": str(data)}, FAKE_ETCD_UP=up)
    assert out.returncode == 0, out.stderr
    assert "member remove 1104211" in log.read_text() and not data.exists()


def test_k3s_restore_procedure():
    text = (ROOT / "k3s/scripts/k3s-restore.sh").read_text()
    # reset on the first server from the snapshot (S3 settings from config.yaml), then rejoin the others
    assert '"$K3S_BIN" server --cluster-reset --cluster-reset-restore-path="$SNAPSHOT"' in text
    assert 'mv "$data" "${data}.before-restore.' in text
    bad = run_bash(render_script(ROOT / "k3s/scripts/k3s-restore.sh", {"STEP": "oops"}))
    assert bad.returncode == 1 and "STEP must be reset or rejoin" in bad.stderr


# -- the first server's bootstrap guard, in a sandbox ----------------------------

FIRST_CONFIG = "node-name: vps-1\ncluster-init: true\ntoken-file: /etc/rancher/k3s/cluster-token\n"


def first_server(tmp_path, env, *, peer_serves: bool, **extra_secrets):
    bin_dir = tmp_path / "bin"
    (bin_dir / "curl").write_text("#!/usr/bin/env bash\n" + ("exit 0\n" if peer_serves else "exit 7\n"))
    (bin_dir / "curl").chmod(0o755)
    for d in ("etc", "data", "run", "logs"):
        (tmp_path / d).mkdir(exist_ok=True)
    script = render_script(ROOT / "k3s/scripts/k3s-node.sh", {
        "K3S_ROLE": "server", "K3S_CONFIG": FIRST_CONFIG, "FIRST_SERVER": True, "OTHER_SERVERS": ["10.6.6.2", "10.6.6.3"],
        "JOIN_SERVER": "https://127.0.0.1:7445", "WAIT_SECONDS": 5,
    })
    sandbox = {**env, "K3S_ETC": str(tmp_path / "etc"), "K3S_DATA": str(tmp_path / "data"),
               "RUN_DIR": str(tmp_path / "run"), "LOG_DIR": str(tmp_path / "logs")}
    return run_bash(script, stdin=secrets_line(K3S_TOKEN="s3cret", **extra_secrets), env=sandbox)


needs_no_systemd = pytest.mark.usefixtures("no_systemd")  # tests/conftest.py: a failure in CI


@needs_no_systemd
def test_first_server_bootstraps_when_nobody_serves_a_cluster_and_reruns_change_nothing(tmp_path, stubs):
    env, _ = stubs
    out = first_server(tmp_path, env, peer_serves=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "k3s server ready (changed=true)"
    assert (tmp_path / "etc/config.yaml").read_text() == FIRST_CONFIG
    token = tmp_path / "etc/cluster-token"
    assert token.read_text() == "s3cret\n" and oct(token.stat().st_mode & 0o777) == "0o600"
    again = first_server(tmp_path, env, peer_serves=False)
    assert again.stdout.strip() == "k3s server ready (changed=false)"


@needs_no_systemd
def test_a_replaced_first_server_joins_the_running_cluster_instead_of_creating_one(tmp_path, stubs):
    env, _ = stubs
    out = first_server(tmp_path, env, peer_serves=True)
    assert out.returncode == 0, out.stderr
    assert "a cluster already runs on 10.6.6.2: joining it instead of --cluster-init" in out.stderr
    config = (tmp_path / "etc/config.yaml").read_text()
    assert "cluster-init" not in config and "server: https://127.0.0.1:7445" in config
    # Once it has etcd data it stays a joiner, even when the peers are unreachable.
    (tmp_path / "data/server/db/etcd").mkdir(parents=True)
    again = first_server(tmp_path, env, peer_serves=False)
    assert again.stdout.strip() == "k3s server ready (changed=false)"


@needs_no_systemd
def test_s3_credentials_go_to_a_private_drop_in_file(tmp_path, stubs):
    env, _ = stubs
    out = first_server(tmp_path, env, peer_serves=False, ETCD_S3_ACCESS_KEY="AK'1\"x", ETCD_S3_SECRET_KEY="s:e#c")
    assert out.returncode == 0, out.stderr
    drop_in = tmp_path / "etc/config.yaml.d/90-etcd-s3-credentials.yaml"
    assert yaml.safe_load(drop_in.read_text()) == {"etcd-s3-access-key": "AK'1\"x", "etcd-s3-secret-key": "s:e#c"}
    assert oct(drop_in.stat().st_mode & 0o777) == "0o600"
    assert "AK'1" not in (tmp_path / "etc/config.yaml").read_text()


# -- kubeadm init in a sandbox: secrets substituted, CA hash, init once ----------

FAKE_KUBEADM = r"""#!/usr/bin/env bash
echo "kubeadm $*" >> "$FAKE_LOG"
if [ "$1" = "init" ]; then
  cp "$3" "$FAKE_DIR/init-config.yaml"
  mkdir -p "$KUBE_DIR/pki" "$KUBE_DIR/manifests"
  cp "$FAKE_DIR/ca.crt" "$KUBE_DIR/pki/ca.crt"
  touch "$KUBE_DIR/admin.conf" "$KUBE_DIR/manifests/kube-apiserver.yaml"
fi
"""


def _ca(tmp_path) -> str:
    import datetime
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    (tmp_path / "ca.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(spki).hexdigest()


def kubeadm_init(tmp_path, env, *, others=""):
    from components.cluster.kubeadm.config import CERTIFICATE_KEY_PLACEHOLDER, TOKEN_PLACEHOLDER

    config = f"kind: InitConfiguration\nbootstrapTokens:\n- token: '{TOKEN_PLACEHOLDER}'\ncertificateKey: '{CERTIFICATE_KEY_PLACEHOLDER}'\n"
    script = render_script(ROOT / "kubeadm/scripts/kubeadm-init.sh",
                           {"KUBEADM_CONFIG": config, "OTHER_CONTROL_PLANES": others, "EXTERNAL_ETCD": True})
    stdin = secrets_line(BOOTSTRAP_TOKEN="abcdef.0123456789abcdef", CERTIFICATE_KEY="f" * 64,
                         ENCRYPTION_CONFIG="kind: EncryptionConfiguration\n", ETCD_CA="CA\n", ETCD_CERT="CERT\n", ETCD_KEY="KEY\n")
    return run_bash(script, stdin=stdin, env={**env, "KUBE_DIR": str(tmp_path / "k")})


def test_kubeadm_init_substitutes_secrets_prints_the_ca_hash_and_runs_once(tmp_path, stubs):
    env, log = stubs
    (Path(env["PATH"].split(":")[0]) / "kubeadm").write_text(FAKE_KUBEADM)
    (Path(env["PATH"].split(":")[0]) / "kubeadm").chmod(0o755)
    expected = _ca(tmp_path)
    out = kubeadm_init(tmp_path, env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == expected + "\n"  # stdout: the discovery hash only
    init = yaml.safe_load((tmp_path / "init-config.yaml").read_text())
    assert init["bootstrapTokens"][0]["token"] == "abcdef.0123456789abcdef"
    assert init["certificateKey"] == "f" * 64
    key = tmp_path / "k/pki/apiserver-etcd-client.key"
    assert key.read_text() == "KEY\n" and oct(key.stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "k/kubeadm-init.yaml").stat().st_mode & 0o777) == "0o600"
    again = kubeadm_init(tmp_path, env)
    assert again.stdout == expected + "\n" and "already initialised" in again.stderr
    assert log.read_text().count("kubeadm init") == 1


def test_kubeadm_init_refuses_a_second_cluster(tmp_path, stubs):
    env, log = stubs
    (Path(env["PATH"].split(":")[0]) / "kubeadm").write_text(FAKE_KUBEADM)
    (Path(env["PATH"].split(":")[0]) / "kubeadm").chmod(0o755)
    # The stub curl answers: another control plane already serves a cluster.
    out = kubeadm_init(tmp_path, {**env, "FAKE_MEMBERS": ""}, others="10.42.241.1")
    assert out.returncode == 1
    assert "refusing kubeadm init: control plane 10.42.241.1 already serves a cluster" in out.stderr
    assert "kubeadm init" not in log.read_text()


# -- labels and taints of joined nodes, set in place (issue 11) --------------------

def place(env, labels, taints, **extra):
    script = render_script(ROOT / "common/scripts/node-placement.sh", {
        "NODE_NAME": "gpu-1", "LABELS": labels, "TAINTS": taints, "KUBECTL": "kubectl",
        "KUBECONFIG": "/etc/kubernetes/admin.conf", "WAIT_SECONDS": 2})
    return run_bash(script, env={**env, **extra})


def test_placement_sets_labels_and_taints_and_removes_only_its_own(node_api):
    env, node = node_api
    first = place(env, ["sovereign.cloud/gpu=true", "zone=a"], ["nvidia.com/gpu=present:NoSchedule", "spot:NoExecute"])
    assert first.returncode == 0, first.stderr
    state = node()
    assert state["labels"] == {"kubernetes.io/hostname": "gpu-1", "team": "theirs",
                               "sovereign.cloud/gpu": "true", "zone": "a"}
    assert {(t["key"], t["value"], t["effect"]) for t in state["taints"]} == {
        ("nvidia.com/gpu", "present", "NoSchedule"), ("spot", "", "NoExecute")}
    # The spec changes: a label leaves, a value changes, a taint leaves, one changes effect.
    second = place(env, ["zone=b"], ["nvidia.com/gpu=present:NoExecute"])
    assert second.returncode == 0, second.stderr
    state = node()
    assert state["labels"] == {"kubernetes.io/hostname": "gpu-1", "team": "theirs", "zone": "b"}
    assert [(t["key"], t["effect"]) for t in state["taints"]] == [("nvidia.com/gpu", "NoExecute")]
    assert "removed: sovereign.cloud/gpu nvidia.com/gpu:NoSchedule spot:NoExecute" in second.stdout
    # Everything left the spec: what it set goes, the rest stays.
    third = place(env, [], [])
    assert third.returncode == 0, third.stderr
    assert node()["labels"] == {"kubernetes.io/hostname": "gpu-1", "team": "theirs"} and node()["taints"] == []


def test_placement_skips_a_recorded_taint_somebody_already_removed(node_api):
    env, node = node_api
    assert place(env, [], ["maintenance:NoSchedule"]).returncode == 0
    state = node()
    state["taints"] = []
    import json

    (Path(env["FAKE_NODE"])).write_text(json.dumps(state))
    again = place(env, [], [])
    assert again.returncode == 0, again.stderr


def test_placement_fails_when_the_api_does_not_answer(node_api):
    env, node = node_api
    out = place(env, ["zone=a"], [], FAKE_API_DOWN="yes")
    assert out.returncode == 1 and "not registered after 2s" in out.stderr
    assert "zone" not in node()["labels"]
