# shellcheck shell=bash
# Shared environment for the scripts in scripts/ and .ci/.
#
# Source it, don't run it:   . "$(dirname "$0")/lib/env.sh"
#
# It sets TOLLGATE_ROOT to the repository root and puts the repo-local toolchain
# (.tools/node_modules/.bin: node 24 and pnpm 10, installed by scripts/setup when
# the machine's own are unsuitable) first on PATH. Sourcing it twice is harmless.

if [ -z "${BASH_VERSION:-}" ]; then
  echo "scripts/lib/env.sh: needs bash" >&2
  # shellcheck disable=SC2317 # exit is reached when this file is run, not sourced
  return 1 2>/dev/null || exit 1
fi

TOLLGATE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
export TOLLGATE_ROOT

TOLLGATE_TOOLS_BIN="$TOLLGATE_ROOT/.tools/node_modules/.bin"
export TOLLGATE_TOOLS_BIN

# Node ignores the OS trust store and uses its own CA list. On machines whose TLS
# path needs a CA that only the OS store has (curl works, npm/pnpm fail with
# SELF_SIGNED_CERT_IN_CHAIN), point Node at the OS bundle too, unless set already.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

case ":$PATH:" in
  *":$TOLLGATE_TOOLS_BIN:"*) ;;
  *) PATH="$TOLLGATE_TOOLS_BIN:$PATH" ;;
esac
export PATH

# Versions the toolchain must satisfy (kept in one place; used by scripts/setup).
# shellcheck disable=SC2034
{
  TOLLGATE_NODE_MIN_MAJOR=22
  TOLLGATE_NODE_INSTALL_SPEC="node@24"
  TOLLGATE_PNPM_MAJOR=10
  TOLLGATE_PNPM_INSTALL_SPEC="pnpm@10.34.9"
}

# Short progress line on stderr, unless TOLLGATE_QUIET=1.
tg_say() {
  if [ "${TOLLGATE_QUIET:-0}" != "1" ]; then
    printf '%s\n' "-- $*" >&2
  fi
}

# Error line on stderr, always shown.
tg_err() {
  printf '%s\n' "!! $*" >&2
}

# tg_quiet LABEL CMD...: run CMD with its output captured; show it only if CMD fails.
tg_quiet() {
  local label="$1"
  shift
  local log rc
  log="$(mktemp "${TMPDIR:-/tmp}/tollgate-setup.XXXXXX")"
  if "$@" >"$log" 2>&1; then
    rm -f "$log"
    return 0
  else
    rc=$?
  fi
  tg_err "$label failed (exit $rc): $*"
  cat "$log" >&2
  rm -f "$log"
  return "$rc"
}

# Major version of the `node` on PATH, or empty if there is none / it does not run.
tg_node_major() {
  command -v node >/dev/null 2>&1 || return 0
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true
}

# Version printed by the `pnpm` on PATH, or empty.
tg_pnpm_version() {
  command -v pnpm >/dev/null 2>&1 || return 0
  # COREPACK_ENABLE_DOWNLOAD_PROMPT=0: a corepack shim must not sit waiting for a prompt.
  # timeout: a shim that tries to download must not hang setup either.
  COREPACK_ENABLE_DOWNLOAD_PROMPT=0 timeout 60 pnpm --version 2>/dev/null </dev/null || true
}
