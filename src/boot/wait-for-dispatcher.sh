#!/bin/bash
# Day 1 kernel module loading (cdk8s-kmm-day1): return once NetworkManager-dispatcher has
# finished its work for this boot, so the image pull does not race the dispatcher scripts
# that finish network configuration. Gives up after a bounded time instead of spinning, and
# then lets the pull go ahead: its retries cover a network that is not quite ready, whereas
# failing here would skip the pull on every boot where the dispatcher stays busy.
#
# Tuning: KMM_DAY1_DISPATCHER_TIMEOUT seconds (120), KMM_DAY1_DISPATCHER_INTERVAL seconds
# between polls (2).
set -euo pipefail

timeout_seconds="${KMM_DAY1_DISPATCHER_TIMEOUT:-120}"
interval="${KMM_DAY1_DISPATCHER_INTERVAL:-2}"
unit=NetworkManager-dispatcher.service

# Bash evaluates names inside arithmetic, so a non-number here could run code as root.
for setting in timeout_seconds interval; do
  # @fragment positive-integer
done

# @fragment log

# Counting polls instead of reading the clock keeps the bound exact however long each poll takes.
max_polls=$(((timeout_seconds + interval - 1) / interval))
poll=0
while true; do
  load_state=""
  active_state=""
  result=""
  # A command substitution is waited for; a process substitution is not, and a systemctl
  # still exiting when this script ends is found by systemd in the unit's control group as a
  # left-over process. A failing systemctl reads as an unknown state: polled again, bounded.
  properties="$(systemctl show --property=LoadState --property=ActiveState --property=Result "${unit}")" || properties=""
  while IFS='=' read -r key value; do
    case "${key}" in
      LoadState) load_state="${value}" ;;
      ActiveState) active_state="${value}" ;;
      Result) result="${value}" ;;
    esac
  done <<<"${properties}"

  if [[ "${load_state}" == "not-found" ]]; then
    log "${unit} is not installed; nothing to wait for"
    exit 0
  fi
  if [[ "${active_state}" == "inactive" || "${active_state}" == "failed" ]]; then
    if [[ "${result}" == "success" ]]; then
      log "${unit} has finished"
    else
      log "${unit} has finished with result ${result:-unknown}; continuing"
    fi
    exit 0
  fi
  if ((poll >= max_polls)); then
    log "gave up waiting for ${unit} after ${max_polls} polls ${interval}s apart: it is still ${active_state:-in an unknown state} (load state ${load_state:-unknown}); pulling anyway"
    exit 0
  fi
  poll=$((poll + 1))
  sleep "${interval}"
done
