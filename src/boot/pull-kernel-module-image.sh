#!/bin/bash
# Day 1 kernel module loading (cdk8s-kmm-day1): make sure the KMM worker image and the
# kernel module image for the running kernel are in local podman storage, and reboot once
# when they had to be pulled, so that the next boot loads the module before the network.
#
# A node runs ONE copy of this file, from whichever MachineConfig of the pool sorts last, and
# the pull unit of every Day 1 MachineConfig of the pool calls it: units of this release
# (interface 2), of earlier releases (interface 1) and of the KMM operator or KMM's
# day1-utility ("kmm"). So it reads what each of them sets:
#
#   variable                      set by                     since  read here
#   KMM_DAY1_INTERFACE            our units (2)              v2     picks the interface: when
#                                                                   unset, 1 if MACHINE_CONFIG_NAME
#                                                                   is set, else kmm; above 2 is
#                                                                   read as 2 (interfaces only add)
#   MACHINE_CONFIG_NAME           our units                  v1     ours: names the state directory
#   KERNEL_MODULE_IMAGE           all units                  v1     module image without tag
#   WORKER_IMAGE                  all units                  v1     KMM worker image reference
#   KERNEL_MODULE_IMAGE_FILEPATH  our units (v2), kmm units  v2     NEVER: it is for the KMM
#                                                                   operator's script
#
# State (the reboot guard) lives in /var/lib/kmm-day1/<id>: <id> is MACHINE_CONFIG_NAME for our
# units and kmm-image-<first 16 hex digits of the sha256 of KERNEL_MODULE_IMAGE> for kmm units,
# which name no module. The image tag is KMM's ${KERNEL_FULL_VERSION}: `uname -r` without one
# trailing "+", characters outside [A-Za-z0-9._-] as "_".
#
# One reboot per node and boot: a unit that pulled what it missed records "reboot wanted" in
# /run/kmm-day1 (gone after the reboot), then waits, bounded, while another Day 1 pull unit of
# the node is still to start or still running without having recorded the same; then it
# reboots. The bound is KMM_DAY1_REBOOT_WAIT or what is left of the unit's time budget (ours:
# TimeoutStartSec=3600, kmm: TimeoutSec=900, each less the dispatcher wait and a margin).
#
# Tuning, with defaults that keep the worst case inside the unit's budget:
#   KMM_DAY1_PULL_ATTEMPTS (5), KMM_DAY1_PULL_TIMEOUT seconds per attempt (300),
#   KMM_DAY1_RETRY_DELAY first back-off in seconds, doubled each time (10),
#   KMM_DAY1_MAX_REBOOTS (3), KMM_DAY1_REBOOT_WAIT seconds (600), KMM_DAY1_REBOOT_INTERVAL
#   seconds between looks at the other pull units (5), KMM_DAY1_ROOT prefix of every host
#   path (empty; for tests).
set -euo pipefail

script_interface=2
root="${KMM_DAY1_ROOT:-}"
pull_attempts="${KMM_DAY1_PULL_ATTEMPTS:-5}"
pull_timeout="${KMM_DAY1_PULL_TIMEOUT:-300}"
retry_delay="${KMM_DAY1_RETRY_DELAY:-10}"
max_reboots="${KMM_DAY1_MAX_REBOOTS:-3}"
reboot_wait="${KMM_DAY1_REBOOT_WAIT:-600}"
reboot_interval="${KMM_DAY1_REBOOT_INTERVAL:-5}"
# A pull that ignores SIGTERM gets SIGKILL this much later; counted in the unit's budget.
kill_after=5
# The start timeouts of the units that call this script, the dispatcher wait of their
# ExecStartPre, and room for what runs after the wait (sync, reboot).
ours_budget=3600
kmm_budget=900
dispatcher_wait=120
margin=30

log() {
  printf '%s\n' "$*"
}

# Bash evaluates names inside arithmetic, so a non-number here could run code as root.
for setting in pull_attempts pull_timeout retry_delay max_reboots reboot_wait reboot_interval; do
  if [[ ! "${!setting}" =~ ^[1-9][0-9]{0,5}$ ]]; then
    printf '%s must be a positive integer, got %q\n' "${setting}" "${!setting}" >&2
    exit 2
  fi
done

if [[ -n "${KMM_DAY1_INTERFACE:-}" ]]; then
  if [[ ! "${KMM_DAY1_INTERFACE}" =~ ^[1-9][0-9]{0,5}$ ]]; then
    printf 'KMM_DAY1_INTERFACE must be a positive integer, got %q\n' "${KMM_DAY1_INTERFACE}" >&2
    exit 2
  fi
  interface="${KMM_DAY1_INTERFACE}"
  if ((interface > script_interface)); then
    log "the unit speaks interface ${interface}; this script knows interfaces up to ${script_interface} and reads the unit as ${script_interface} (later interfaces only add variables)"
    interface="${script_interface}"
  fi
elif [[ -n "${MACHINE_CONFIG_NAME:-}" ]]; then
  interface=1
else
  interface=kmm
fi

: "${KERNEL_MODULE_IMAGE:?is not set by the unit}"
: "${WORKER_IMAGE:?is not set by the unit}"
if [[ "${interface}" == kmm ]]; then
  image_hash="$(printf '%s' "${KERNEL_MODULE_IMAGE}" | sha256sum)"
  id="kmm-image-${image_hash:0:16}"
  budget="${kmm_budget}"
else
  : "${MACHINE_CONFIG_NAME:?is not set by the unit}"
  id="${MACHINE_CONFIG_NAME}"
  budget="${ours_budget}"
fi

state_dir="${root}/var/lib/kmm-day1/${id}"
guard_file="${state_dir}/reboot-guard"
authfile="${root}/var/lib/kubelet/config.json"
run_dir="${root}/run/kmm-day1"
pull_units='*-pull-kernel-module-image.service'

kernel_release="$(uname -r)"
# KMM's character rule, written out: a range such as A-Z follows the locale's collation order.
kernel_tag="${kernel_release%+}"
kernel_tag="${kernel_tag//[^ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-]/_}"
module_image="${KERNEL_MODULE_IMAGE}:${kernel_tag}"
# The guard only counts reboots for this exact combination; a new kernel or image starts over.
guard_key="kernel=${kernel_release} module=${module_image} worker=${WORKER_IMAGE}"

missing=()
for image in "${WORKER_IMAGE}" "${module_image}"; do
  if ! podman image exists "${image}"; then
    missing+=("${image}")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  rm -f "${guard_file}"
  log "images ${WORKER_IMAGE} and ${module_image} are present; nothing to pull"
  exit 0
fi

reboots=0
if [[ -f "${guard_file}" ]]; then
  saved_key=""
  saved_count=""
  { IFS= read -r saved_key || true; IFS= read -r saved_count || true; } <"${guard_file}"
  if [[ "${saved_key}" == "${guard_key}" && "${saved_count}" =~ ^[0-9]{1,6}$ ]]; then
    reboots="$((10#${saved_count}))"
  fi
fi

if ((reboots >= max_reboots)); then
  log "not rebooting: ${reboots} reboots after pulling did not leave ${missing[*]} in local storage (${guard_key});" \
    "check that nothing wipes /var/lib/containers at boot, then remove ${guard_file} to try again"
  exit 1
fi

log "not in local storage: ${missing[*]}; pulling them, then rebooting (${reboots} reboots so far for ${guard_key})"

auth_args=()
if [[ -f "${authfile}" ]]; then
  auth_args=(--authfile "${authfile}")
else
  log "pull secret ${authfile} not found; pulling without credentials"
fi

# Pulls one image, retrying with doubling back-off; succeeds only once the image is in storage.
pull_image() {
  local image="$1"
  local attempt=1
  local delay="${retry_delay}"
  local output status reason
  while true; do
    status=0
    output="$(timeout --kill-after="${kill_after}" "${pull_timeout}" podman pull --quiet "${auth_args[@]}" "${image}" 2>&1)" || status=$?
    if ((status == 0)); then
      if podman image exists "${image}"; then
        log "pulled ${image} (attempt ${attempt}/${pull_attempts})"
        return 0
      fi
      reason="the pull reported success but the image is not in local storage"
    elif ((status == 124 || status == 137)); then
      reason="no answer within ${pull_timeout}s"
    else
      reason="${output##*$'\n'}"
    fi
    log "pull of ${image} failed (attempt ${attempt}/${pull_attempts}): ${reason:-podman exited with status ${status}}"
    if ((attempt >= pull_attempts)); then
      return 1
    fi
    log "retrying ${image} in ${delay}s"
    sleep "${delay}"
    attempt=$((attempt + 1))
    delay=$((delay * 2))
  done
}

for image in "${missing[@]}"; do
  if ! pull_image "${image}"; then
    log "giving up on ${image} after ${pull_attempts} attempts; not rebooting, the next boot tries again"
    exit 1
  fi
done

mkdir -p "${state_dir}"
printf '%s\n%s\n' "${guard_key}" "$((reboots + 1))" >"${guard_file}.tmp"
mv -f "${guard_file}.tmp" "${guard_file}"

# Every systemctl call is read through a command substitution, which bash waits for: a process
# substitution is not waited for, and systemd reports its still-running child as a left-over
# process of the unit.
#
# The other Day 1 pull units of this node that have yet to finish and have not asked for a
# reboot themselves: queued, or running (a oneshot is "activating" until its command ends)
# without a marker for its main process. A unit's main process is the shell running its
# ExecStart, i.e. that shell's $$; during ExecStartPre it has none yet.
pending_pull_units() {
  local unit job_id job_unit job_type key value active_state main_pid
  local -a units=()
  local queued=" "
  while read -r unit _; do
    if [[ -n "${unit}" ]]; then
      units+=("${unit}")
    fi
  done <<<"$(systemctl list-units --all --plain --no-legend "${pull_units}")"
  while read -r job_id job_unit job_type _; do
    if [[ -n "${job_id}" && "${job_type}" == start ]]; then
      queued+="${job_unit} "
    fi
  done <<<"$(systemctl list-jobs --no-legend "${pull_units}")"
  for unit in "${units[@]}"; do
    active_state=""
    main_pid=""
    while IFS='=' read -r key value; do
      case "${key}" in
        ActiveState) active_state="${value}" ;;
        MainPID) main_pid="${value}" ;;
      esac
    done <<<"$(systemctl show --property=ActiveState --property=MainPID "${unit}")"
    if [[ "${main_pid}" == "$$" ]]; then
      continue
    fi
    if [[ "${main_pid}" =~ ^[1-9][0-9]*$ && -f "${run_dir}/reboot-wanted.${main_pid}" ]]; then
      continue
    fi
    # A unit without Type=oneshot is "active" while its command runs, with that main process.
    if [[ "${active_state}" == activating || ("${active_state}" == active && "${main_pid}" =~ ^[1-9][0-9]*$) ]]; then
      printf '%s\n' "${unit}"
    elif [[ "${queued}" == *" ${unit} "* ]]; then
      printf '%s\n' "${unit}"
    fi
  done
}

mkdir -p "${run_dir}"
printf '%s\n' "${id}" >"${run_dir}/reboot-wanted.$$"
wait_limit=$((budget - dispatcher_wait - margin - SECONDS))
if ((wait_limit > reboot_wait)); then
  wait_limit="${reboot_wait}"
elif ((wait_limit < 0)); then
  wait_limit=0
fi
# Counting looks instead of reading the clock keeps the bound exact however long each takes.
max_looks=$(((wait_limit + reboot_interval - 1) / reboot_interval))
look=0
while true; do
  pending_list="$(pending_pull_units)"
  pending=()
  if [[ -n "${pending_list}" ]]; then
    mapfile -t pending <<<"${pending_list}"
  fi
  if [[ ${#pending[@]} -eq 0 ]]; then
    break
  fi
  if ((look >= max_looks)); then
    log "stopped waiting after ${wait_limit}s; still running: ${pending[*]}"
    break
  fi
  if ((look == 0)); then
    log "waiting up to ${wait_limit}s for the other Day 1 pull units of this node, so that it reboots once: ${pending[*]}"
  fi
  look=$((look + 1))
  sleep "${reboot_interval}"
done

log "rebooting ($((reboots + 1))/${max_reboots}) so that the kernel module is loaded from ${module_image} before the network starts"
sync
reboot
