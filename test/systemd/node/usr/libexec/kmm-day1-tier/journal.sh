# shellcheck shell=bash
# Sourced by the tier's fakes: one journal entry per event, with an identifier of the fake's
# own and the unit whose control group the caller runs in (KMM_TIER_UNIT). Journald's own
# _SYSTEMD_UNIT is not enough: it reads the sender's cgroup from /proc after the fact, and a
# short-lived sender may be gone by then.

tier_unit() {
  local line cgroup=""
  while IFS= read -r line; do
    case "${line}" in
      0::*) cgroup="${line#0::}" ;;
      *:name=systemd:*) [[ -n "${cgroup}" ]] || cgroup="${line#*:name=systemd:}" ;;
    esac
  done </proc/self/cgroup
  printf '%s' "${cgroup##*/}"
}

# journal IDENTIFIER MESSAGE...
journal() {
  local identifier="$1" message
  shift
  message="$*"
  printf 'MESSAGE=%s\nSYSLOG_IDENTIFIER=%s\nKMM_TIER_UNIT=%s\n' \
    "${message//$'\n'/ }" "${identifier}" "$(tier_unit)" | logger --journald
}
