#!/usr/bin/env bash
# Build the Pulumi engine (CLI, language hosts, resource plugins, optionally
# etcd) from Go modules served by the Go module proxy, into a cache directory
# outside the repo keyed by scripts/engine/versions.env.
#
#   source "$(scripts/engine/build.sh)"                # default pieces
#   source "$(scripts/engine/build.sh cli kubernetes)" # a subset
#
# Pieces: cli python yaml kubernetes command random tls etcd
# Default: every piece whose module version is set in versions.env (pieces the
# proxy refuses are skipped with a warning; naming one explicitly is an error).
#
# stdout carries exactly one line: the path of <cache>/<key>/env.sh.
# Everything else goes to stderr and to <cache>/<key>/logs/<piece>.log.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=versions.env disable=SC1091
source "$HERE/versions.env"

ALL_PIECES=(cli python yaml kubernetes command random tls etcd)

log() { printf '[engine] %s\n' "$*" >&2; }
die() { printf '[engine] ERROR: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "go is not on PATH"

# ---------------------------------------------------------------- cache layout
CACHE_ROOT="${SOVEREIGN_ENGINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sovereign-cloud/engine}"
GO_VERSION="$(go env GOVERSION)"
KEY_HASH="$( { cat "$HERE/versions.env"; echo "$GO_VERSION"; } | sha256sum | cut -c1-12)"
KEY="pulumi-${PULUMI_CLI_VERSION}-${KEY_HASH}"
OUT="$CACHE_ROOT/$KEY"
BIN="$OUT/bin"
LOGS="$OUT/logs"
WORK="$OUT/work"
export PULUMI_HOME="$OUT/pulumi-home"

# Go state lives under the cache root (shared by all keys, so rebuilds reuse
# downloads and compiled packages) and never in the repo.
export GOPATH="$CACHE_ROOT/gopath"
export GOMODCACHE="$CACHE_ROOT/gomodcache"
export GOCACHE="$CACHE_ROOT/gocache"
export GOTOOLCHAIN=local
export GOFLAGS="-mod=mod"
export CGO_ENABLED=0
export GOWORK=off
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

# ---------------------------------------------------------------- piece list
module_of() {
  case "$1" in
    cli) echo "$PULUMI_CLI_VERSION" ;;
    python) echo "$PULUMI_LANGUAGE_PYTHON_SDK_VERSION" ;;
    yaml) echo "$PULUMI_YAML_VERSION" ;;
    kubernetes) echo "$KUBERNETES_PROVIDER_MODULE" ;;
    command) echo "$COMMAND_PROVIDER_MODULE" ;;
    random) echo "$RANDOM_PROVIDER_MODULE" ;;
    tls) echo "$TLS_PROVIDER_MODULE" ;;
    etcd) echo "$ETCD_VERSION" ;;
    *) die "unknown piece '$1' (known: ${ALL_PIECES[*]})" ;;
  esac
}

PIECES=()
if [[ $# -eq 0 || "${1:-}" == all ]]; then
  for p in "${ALL_PIECES[@]}"; do
    if [[ -n "$(module_of "$p")" ]]; then
      PIECES+=("$p")
    else
      log "skipping '$p': no module version in versions.env (refused by the Go proxy)"
    fi
  done
else
  for p in "$@"; do
    [[ -n "$(module_of "$p")" ]] ||
      die "piece '$p' cannot be built: its module version is empty in versions.env (refused by the Go proxy)"
    PIECES+=("$p")
  done
fi
# Every plugin needs the CLI to be installed into PULUMI_HOME.
if [[ " ${PIECES[*]} " != *" cli "* ]]; then
  PIECES=(cli "${PIECES[@]}")
fi

# ---------------------------------------------------------------- helpers
mod_dir() { # MODULE VERSION -> extracted (read-only) module dir
  go mod download -json "$1@$2" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'
}

# Fresh writable copy of a module's source (for modules that //go:embed
# generated files absent from the module zip).
copy_module() { # MODULE VERSION DEST
  local src
  src="$(mod_dir "$1" "$2")"
  [[ -n "$src" && -d "$src" ]] || { echo "cannot download $1@$2" >&2; return 1; }
  rm -rf "$3"
  mkdir -p "$(dirname "$3")"
  cp -R "$src" "$3"
  chmod -R u+w "$3"
}

# Wrapper module that builds main packages of dependency modules through
# `tool` directives. Args: DIR GO_MOD_BODY
wrapper() {
  rm -rf "$1"
  mkdir -p "$1"
  printf '%s\n' "$2" >"$1/go.mod"
}

CLI_LDFLAGS="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${PULUMI_CLI_VERSION}"

# replace lines of pkg/v3's go.mod that point at other modules (not ../sdk),
# so the wrapper resolves exactly what the release build resolves.
pkg_replaces() {
  local dir
  dir="$(mod_dir github.com/pulumi/pulumi/pkg/v3 "v$PULUMI_CLI_VERSION")"
  (cd "$dir" && go mod edit -json) | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    new = r["New"]
    if "Version" not in new:
        continue  # local path replace (../sdk): satisfied by requiring sdk/v3
    old = r["Old"]["Path"] + ("@" + r["Old"]["Version"] if r["Old"].get("Version") else "")
    print("replace %s => %s %s" % (old, new["Path"], new["Version"]))
'
}

install_plugin() { # KIND NAME VERSION FILE
  "$BIN/pulumi" plugin install "$1" "$2" "$3" --file "$4" --non-interactive
}

# ---------------------------------------------------------------- pieces
# pkg_tool NAME PACKAGE OUTPUT [EXTRA_REQUIRE]: build one Go tool in a wrapper
# module beside pkg/v3 and sdk/v3 at the CLI's version, with pkg's replaces.
pkg_tool() {
  local w="$WORK/$1"
  wrapper "$w" "module sovereign.local/engine/$1

go 1.26

require (
	github.com/pulumi/pulumi/pkg/v3 v$PULUMI_CLI_VERSION
	github.com/pulumi/pulumi/sdk/v3 v$PULUMI_CLI_VERSION
${4:+	$4}
)

$(pkg_replaces)

tool $2"
  (cd "$w" && go mod tidy && go build -trimpath -ldflags "$CLI_LDFLAGS" -o "$BIN/$3" "$2")
}

build_cli() {
  pkg_tool cli github.com/pulumi/pulumi/pkg/v3/cmd/pulumi pulumi
  "$BIN/pulumi" version
}

copy_python_exec() {
  local dir
  dir="$(mod_dir github.com/pulumi/pulumi/sdk/v3 "v$PULUMI_PYTHON_EXEC_SDK_VERSION")"
  install -m 0755 "$dir/python/cmd/pulumi-language-python-exec" "$BIN/pulumi-language-python-exec"
}

build_python() {
  # The host is a package of sdk/v3 up to v3.79.0 (see versions.env); its
  # go.mod carries a replace, so it is built with that module as main module.
  local src="$WORK/python/sdk"
  copy_module github.com/pulumi/pulumi/sdk/v3 "v$PULUMI_LANGUAGE_PYTHON_SDK_VERSION" "$src"
  (cd "$src" && go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_LANGUAGE_PYTHON_SDK_VERSION" \
    -o "$BIN/pulumi-language-python" ./python/cmd/pulumi-language-python)
  copy_python_exec
}

build_yaml() {
  # Built against the pkg/sdk versions pulumi-yaml itself requires: its code
  # does not compile against pkg/v3 v3.274.0 (plugin.NewContextWithRoot changed).
  local w="$WORK/yaml"
  wrapper "$w" "module sovereign.local/engine/yaml

go 1.26

require github.com/pulumi/pulumi-yaml v$PULUMI_YAML_VERSION

$(pkg_replaces)

tool github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
  (cd "$w" && go mod tidy &&
    go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=v$PULUMI_YAML_VERSION" \
      -o "$BIN/pulumi-language-yaml" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml)
}

build_kubernetes() {
  local src="$WORK/kubernetes/provider"
  copy_module github.com/pulumi/pulumi-kubernetes/provider/v4 "$KUBERNETES_PROVIDER_MODULE" "$src"
  (
    cd "$src"
    # ../sdk is not part of the module zip: use the served sdk/v4 release.
    go mod edit -dropreplace github.com/pulumi/pulumi-kubernetes/sdk/v4 \
      -require "github.com/pulumi/pulumi-kubernetes/sdk/v4@$KUBERNETES_SDK_MODULE"
    # What the repo's Makefile does: `VERSION=... go generate cmd/pulumi-resource-kubernetes`
    # writes schema-embed.json and terraform-mapping-embed.json from the checked-in JSON.
    (cd cmd/pulumi-resource-kubernetes && VERSION="$KUBERNETES_PLUGIN_VERSION" go run generate.go)
    go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_PLUGIN_VERSION" \
      -o "$BIN/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes
  )
  install_plugin resource kubernetes "$KUBERNETES_PLUGIN_VERSION" "$BIN/pulumi-resource-kubernetes"
}

build_command() {
  # Native (pulumi-go-provider) provider; the schema is generated at run time.
  # UNTESTED: the proxy refused every version tried (see versions.env).
  local src="$WORK/command/provider"
  copy_module github.com/pulumi/pulumi-command/provider "$COMMAND_PROVIDER_MODULE" "$src"
  (cd "$src" && go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$COMMAND_PLUGIN_VERSION" \
    -o "$BIN/pulumi-resource-command" ./cmd/pulumi-resource-command)
  install_plugin resource command "$COMMAND_PLUGIN_VERSION" "$BIN/pulumi-resource-command"
}

# Terraform-bridged providers embed a schema generated by their tfgen binary.
# UNTESTED: the proxy refused every version tried (see versions.env).
build_bridged() { # NAME MODULE_PATH MODULE_VERSION PLUGIN_VERSION
  local name="$1" path="$2" modver="$3" version="$4" src="$WORK/$1/provider"
  copy_module "$path" "$modver" "$src"
  (
    cd "$src"
    local ldflags="-s -w -X $path/version.Version=$version"
    go build -trimpath -ldflags "$ldflags" -o "$WORK/$name/pulumi-tfgen-$name" "./cmd/pulumi-tfgen-$name"
    PATH="$BIN:$PATH" "$WORK/$name/pulumi-tfgen-$name" schema --out "cmd/pulumi-resource-$name"
    if [[ -f "cmd/pulumi-resource-$name/generate.go" ]]; then
      (cd "cmd/pulumi-resource-$name" && VERSION="$version" go run generate.go)
    fi
    go build -trimpath -ldflags "$ldflags" -o "$BIN/pulumi-resource-$name" "./cmd/pulumi-resource-$name"
  )
  install_plugin resource "$name" "$version" "$BIN/pulumi-resource-$name"
}
build_random() { build_bridged random github.com/pulumi/pulumi-random/provider/v4 "$RANDOM_PROVIDER_MODULE" "$RANDOM_PLUGIN_VERSION"; }
build_tls() { build_bridged tls github.com/pulumi/pulumi-tls/provider/v5 "$TLS_PROVIDER_MODULE" "$TLS_PLUGIN_VERSION"; }

build_etcd() {
  local w="$WORK/etcd" ldflags
  ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=v$ETCD_VERSION"
  wrapper "$w" "module sovereign.local/engine/etcd

go 1.26

require (
	go.etcd.io/etcd/server/v3 v$ETCD_VERSION
	go.etcd.io/etcd/etcdctl/v3 v$ETCD_VERSION
)

tool (
	go.etcd.io/etcd/server/v3
	go.etcd.io/etcd/etcdctl/v3
)"
  (cd "$w" && go mod tidy &&
    go build -trimpath -ldflags "$ldflags" -o "$BIN/etcd" go.etcd.io/etcd/server/v3 &&
    go build -trimpath -ldflags "$ldflags" -o "$BIN/etcdctl" go.etcd.io/etcd/etcdctl/v3)
  "$BIN/etcd" --version
}

# ---------------------------------------------------------------- driver
write_env() {
  local env="$OUT/env.sh"
  cat >"$env.tmp" <<EOF
# Generated by scripts/engine/build.sh (key $KEY); source this file.
export PATH="$BIN:\$PATH"
export PULUMI_HOME="$PULUMI_HOME"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_CONFIG_PASSPHRASE="\${PULUMI_CONFIG_PASSPHRASE-sovereign-test-passphrase}"
export SOVEREIGN_ENGINE_DIR="$OUT"
EOF
  mv "$env.tmp" "$env"
}

mkdir -p "$BIN" "$LOGS" "$PULUMI_HOME"
built_any=false
for piece in "${PIECES[@]}"; do
  stamp="$OUT/.done-$piece"
  if [[ -f "$stamp" ]]; then
    log "$piece: cached ($(cat "$stamp"))"
    continue
  fi
  built_any=true
  rm -f "$OUT/.complete"
  log "$piece: building (log: $LOGS/$piece.log)"
  start=$SECONDS
  if "build_$piece" >"$LOGS/$piece.log" 2>&1; then
    secs=$((SECONDS - start))
    echo "built in ${secs}s with $GO_VERSION on $(date -u +%FT%TZ)" >"$stamp"
    echo "$piece $secs" >>"$OUT/timings.txt"
    log "$piece: done in ${secs}s"
  else
    log "$piece: FAILED after $((SECONDS - start))s; last lines of $LOGS/$piece.log:"
    tail -n 30 "$LOGS/$piece.log" >&2
    die "build of piece '$piece' failed (cache $OUT is incomplete)"
  fi
done
if [[ " ${PIECES[*]} " == *" cli "* && ! -x "$BIN/pulumi-language-python-exec" ]]; then
  copy_python_exec >>"$LOGS/cli.log" 2>&1 || die "copying pulumi-language-python-exec failed"
fi

write_env
if $built_any || [[ ! -f "$OUT/.complete" ]]; then
  # .complete lists every piece built in this key so far; written last.
  for f in "$OUT"/.done-*; do echo "${f##*/.done-}"; done | sort >"$OUT/.complete.tmp"
  mv "$OUT/.complete.tmp" "$OUT/.complete"
fi
echo "$OUT/env.sh"
