#!/bin/bash
# Day 1 kernel module loading (cdk8s-kmm-day1): make sure the KMM worker image and the
# kernel module image for the running kernel are in local podman storage, and reboot once
# when they had to be pulled, so that the next boot loads the module before the network.
#
# Input, from the unit's Environment= lines:
#   MACHINE_CONFIG_NAME   the MachineConfig this unit belongs to (names the state directory)
#   KERNEL_MODULE_IMAGE   module image repository without tag; the tag is `uname -r`
#   WORKER_IMAGE          KMM worker image reference
# Tuning, with defaults that keep the worst case inside the unit's TimeoutStartSec:
#   KMM_DAY1_PULL_ATTEMPTS (5), KMM_DAY1_PULL_TIMEOUT seconds per attempt (300),
#   KMM_DAY1_RETRY_DELAY first back-off in seconds, doubled each time (10),
#   KMM_DAY1_MAX_REBOOTS (3), KMM_DAY1_ROOT prefix of every host path (empty; for tests).
set -euo pipefail

: "${MACHINE_CONFIG_NAME:?is not set by the unit}"
: "${KERNEL_MODULE_IMAGE:?is not set by the unit}"
: "${WORKER_IMAGE:?is not set by the unit}"

root="${KMM_DAY1_ROOT:-}"
pull_attempts="${KMM_DAY1_PULL_ATTEMPTS:-5}"
pull_timeout="${KMM_DAY1_PULL_TIMEOUT:-300}"
retry_delay="${KMM_DAY1_RETRY_DELAY:-10}"
max_reboots="${KMM_DAY1_MAX_REBOOTS:-3}"
# A pull that ignores SIGTERM gets SIGKILL this much later; counted in the unit's budget.
kill_after=5

# Bash evaluates names inside arithmetic, so a non-number here could run code as root.
for setting in pull_attempts pull_timeout retry_delay max_reboots; do
  if [[ ! "${!setting}" =~ ^[1-9][0-9]{0,5}$ ]]; then
    printf '%s must be a positive integer, got %q\n' "${setting}" "${!setting}" >&2
    exit 2
  fi
done

state_dir="${root}/var/lib/kmm-day1/${MACHINE_CONFIG_NAME}"
guard_file="${state_dir}/reboot-guard"
authfile="${root}/var/lib/kubelet/config.json"

log() {
  printf '%s\n' "$*"
}

kernel_release="$(uname -r)"
module_image="${KERNEL_MODULE_IMAGE}:${kernel_release}"
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
log "rebooting ($((reboots + 1))/${max_reboots}) so that the kernel module is loaded from ${module_image} before the network starts"
sync
reboot
