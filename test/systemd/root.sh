#!/bin/bash
# The node root of the real-systemd tier: a minimal Debian bookworm made with debootstrap,
# built once per machine and kept as a tarball under /var/cache, named after a hash of
# everything that decides its contents (suite, variant, architecture, package list, the
# recipe below). A second run finds the tarball and needs no network at all.
#
#   root.sh path     print the tarball's path (it may not exist yet)
#   root.sh ensure   install the host tools when missing, build the tarball when missing,
#                    print its path
#
# Outside CI, a machine that cannot build (not root, no apt) gets a loud notice and exit 0:
# the suite then skips its scenarios loudly. With CI=true that is an error.
set -euo pipefail

suite=bookworm
variant=minbase
# podman and crun: the node's real container engine; containernetworking-plugins is the
# container-network-stack that podman's common files depend on (debootstrap resolves no
# virtual packages). Their configuration for a guest of systemd-nspawn comes with each node
# (test/systemd/node/etc/containers).
packages=(systemd systemd-sysv dbus podman crun containernetworking-plugins)
# The host's side of the tier: nspawn and debootstrap; buildah and skopeo build the test images
# and copy them into a node's store, docker-registry serves them on the loopback (htpasswd from
# apache2-utils for its basic auth), busybox-static is the worker image's userland.
host_packages=(systemd-container debootstrap buildah skopeo docker-registry apache2-utils busybox-static)
# Bump when the recipe in build_root changes what the tarball holds.
recipe=3
cache_dir="${KMM_DAY1_ROOT_CACHE:-/var/cache/cdk8s-kmm-day1}"

in_ci() {
  [[ "${CI:-}" == true || "${CI:-}" == 1 ]]
}

notice() {
  printf '\n%s\n!! %s\n%s\n\n' "$(printf '!%.0s' {1..72})" "$*" "$(printf '!%.0s' {1..72})" >&2
}

cannot() {
  if in_ci; then
    printf 'CI=true but the real-systemd tier cannot run: %s\n' "$*" >&2
    exit 1
  fi
  notice "SKIPPING the real-systemd tier: $*"
  exit 0
}

arch() {
  if command -v dpkg >/dev/null; then
    dpkg --print-architecture
  else
    uname -m
  fi
}

tarball_path() {
  local key
  key="$(printf '%s\n' "suite=${suite}" "variant=${variant}" "arch=$(arch)" "recipe=${recipe}" "${packages[@]}" |
    sha256sum)"
  printf '%s/%s-%s-%s.tar.gz\n' "${cache_dir}" "${suite}" "${variant}" "${key:0:16}"
}

# The mirror apt already uses for the suite, so the tier needs no mirror of its own.
apt_mirror() {
  local targets uri release rest
  # shellcheck disable=SC2016 # $(...) is apt's own field syntax, not the shell's
  targets="$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages')"
  while read -r uri release rest; do
    if [[ "${release}" == "${suite}" ]]; then
      printf '%s\n' "${uri}"
      return 0
    fi
  done <<<"${targets}"
  return 1
}

install_host_tools() {
  local missing=()
  command -v systemd-nspawn >/dev/null || missing+=(systemd-container)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v buildah >/dev/null || missing+=(buildah)
  command -v skopeo >/dev/null || missing+=(skopeo)
  [[ -x /usr/bin/docker-registry ]] || missing+=(docker-registry)
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  [[ -x /bin/busybox ]] || missing+=(busybox-static)
  ((${#missing[@]} == 0)) && return 0
  command -v apt-get >/dev/null || cannot "missing ${missing[*]} and no apt-get to install them"
  printf 'installing %s\n' "${missing[*]}" >&2
  # A fresh machine may never have read its package lists.
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${host_packages[@]}" >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${host_packages[@]}" >&2; }
}

build_root() {
  local tarball="$1" work mirror list
  mirror="$(apt_mirror)" || { apt-get update >&2 && mirror="$(apt_mirror)"; } ||
    cannot "apt has no source for ${suite} to take a mirror from"
  mkdir -p "${cache_dir}/debs"
  work="$(mktemp -d "${cache_dir}/build.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: the trap must remove this build's directory
  trap "rm -rf '${work}'" EXIT
  list="$(IFS=,; printf '%s' "${packages[*]}")"
  printf 'building the %s root from %s (once per machine; cached as %s)\n' "${suite}" "${mirror}" "${tarball}" >&2
  debootstrap --variant="${variant}" --include="${list}" --arch="$(arch)" \
    --cache-dir="${cache_dir}/debs" "${suite}" "${work}/root" "${mirror}" >&2

  local r="${work}/root"
  # Nothing below is needed to boot; less to copy for every scenario.
  rm -rf "${r}"/usr/share/doc/* "${r}"/usr/share/man/* "${r}"/usr/share/info/* "${r}"/usr/share/locale/* \
    "${r}"/var/cache/apt/* "${r}"/var/lib/apt/lists/*
  # Each scenario writes its own machine id, so all its boots share one journal directory.
  : >"${r}/etc/machine-id"
  mkdir -p "${r}/var/log/journal" "${r}/etc/systemd/journald.conf.d"
  printf '[Journal]\nStorage=persistent\nRateLimitBurst=0\nForwardToConsole=no\n' \
    >"${r}/etc/systemd/journald.conf.d/50-kmm-day1-tier.conf"
  # A login prompt and apt's timers only add noise to the console and the journal. podman's
  # own units (its API socket, restart and auto-update at boot) do not run on a node; here they
  # would touch the container store at boot, unordered against the units under test.
  local unit
  for unit in console-getty.service getty@.service apt-daily.timer apt-daily-upgrade.timer \
    dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
    podman.service podman.socket podman-restart.service podman-auto-update.service podman-auto-update.timer; do
    ln -sfn /dev/null "${r}/etc/systemd/system/${unit}"
  done

  tar --numeric-owner --xattrs -C "${r}" -czf "${work}/root.tar.gz" .
  mv -f "${work}/root.tar.gz" "${tarball}"
  rm -rf "${work}"
  trap - EXIT
}

main() {
  local tarball
  tarball="$(tarball_path)"
  case "${1:-}" in
    path)
      printf '%s\n' "${tarball}"
      ;;
    ensure)
      ((EUID == 0)) || cannot "it needs root (debootstrap, systemd-nspawn), and runs as uid ${EUID}"
      install_host_tools
      mkdir -p "${cache_dir}"
      if [[ ! -f "${tarball}" ]]; then
        build_root "${tarball}"
      fi
      printf '%s\n' "${tarball}"
      ;;
    *)
      printf 'usage: %s path|ensure\n' "$0" >&2
      exit 2
      ;;
  esac
}

main "$@"
