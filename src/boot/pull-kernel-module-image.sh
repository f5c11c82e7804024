#!/bin/bash
# Day 1 kernel module loading (cdk8s-kmm-day1): make sure the KMM worker image and the
# kernel module image for the running kernel are in local podman storage, and reboot once
# when they had to be pulled, so that the next boot loads the module before the network.
#
# A node runs ONE copy of this file, from whichever MachineConfig of the pool sorts last, and
# the pull unit of every Day 1 MachineConfig of the pool calls it: units of this release
# (interface 3), of earlier releases (interfaces 1 and 2) and of the KMM operator or KMM's
# day1-utility ("kmm"). So it reads what each of them sets:
#
#   variable                      set by                     since  read here
#   KMM_DAY1_INTERFACE            our units (2, 3)           v2     picks the interface: when
#                                                                   unset, 1 if MACHINE_CONFIG_NAME
#                                                                   is set, else kmm; above 3 is
#                                                                   read as 3 (interfaces only add)
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

# @fragment settings
mode=pull
if (($# > 0)); then
  if [[ $# -eq 1 && "$1" == --next-kernel ]]; then
    mode=next-kernel
  else
    printf 'usage: %s [--next-kernel]\n' "${0##*/}" >&2
    exit 2
  fi
fi
pull_attempts="${KMM_DAY1_PULL_ATTEMPTS:-5}"
pull_timeout="${KMM_DAY1_PULL_TIMEOUT:-300}"
retry_delay="${KMM_DAY1_RETRY_DELAY:-10}"
max_reboots="${KMM_DAY1_MAX_REBOOTS:-3}"
reboot_wait="${KMM_DAY1_REBOOT_WAIT:-600}"
reboot_interval="${KMM_DAY1_REBOOT_INTERVAL:-5}"
prepull_deadline="${KMM_DAY1_PREPULL_DEADLINE:-200}"
prepull_timeout="${KMM_DAY1_PREPULL_TIMEOUT:-90}"
prepull_attempts="${KMM_DAY1_PREPULL_ATTEMPTS:-2}"
prepull_retry_delay="${KMM_DAY1_PREPULL_RETRY_DELAY:-5}"
# ostree admin status reads local files; a hung one must not eat the pre-pull's budget.
ostree_timeout=20
# A pull that ignores SIGTERM gets SIGKILL this much later; counted in the unit's budget.
kill_after=5
# The start timeouts of the units that call this script, the dispatcher wait of their
# ExecStartPre, and room for what runs after the wait (sync, reboot).
ours_budget=3600
kmm_budget=900
dispatcher_wait=120
margin=30

# @fragment log

# Bash evaluates names inside arithmetic, so a non-number here could run code as root.
for setting in pull_attempts pull_timeout retry_delay max_reboots reboot_wait reboot_interval \
  prepull_deadline prepull_timeout prepull_attempts prepull_retry_delay; do
  # @fragment positive-integer
done

if [[ -n "${KMM_DAY1_INTERFACE:-}" ]]; then
  # @fragment interface (KMM_DAY1_INTERFACE checked and capped, else 1 or kmm; ends this if; both images required)
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

# Sets REPLY to the image tag of kernel release $1 (KMM's ${KERNEL_FULL_VERSION}). The
# character rule is written out: a range such as A-Z follows the locale's collation order.
tag_of() {
  local tag="${1%+}"
  REPLY="${tag//[^ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-]/_}"
}

kernel_release="$(uname -r)"
tag_of "${kernel_release}"
kernel_tag="${REPLY}"
module_image="${KERNEL_MODULE_IMAGE}:${kernel_tag}"
# The guard only counts reboots for this exact combination; a new kernel or image starts over.
guard_key="kernel=${kernel_release} module=${module_image} worker=${WORKER_IMAGE}"

# Sets REPLY to the kernel release of the deployment tree $1: the one directory of
# usr/lib/modules that holds a vmlinuz, as ostree itself finds a deployment's kernel.
tree_kernel() {
  local dir releases=()
  for dir in "$1"/usr/lib/modules/*/; do
    if [[ -f "${dir}vmlinuz" ]]; then
      dir="${dir%/}"
      releases+=("${dir##*/}")
    fi
  done
  if ((${#releases[@]} != 1)); then
    REPLY="$1/usr/lib/modules holds ${#releases[@]} kernels with a vmlinuz, not one"
    return 1
  fi
  REPLY="${releases[0]}"
}

# Reads `ostree admin status` (no daemon: a plain read of the sysroot, fine at shutdown). Its
# deployment lines are "%c %s %s.%d%s": "*" for the booted one, osname, checksum.serial, and
# " (staged)", " (pending)" or " (rollback)". Sets deployment_kernels (the kernel of every
# deployment whose tree could be read), unreadable (what could not be read), next_deployment and
# next_kernel (the staged or pending one, empty when there is none or its tree is unreadable).
# Fails, with the reason in REPLY, when ostree is missing or fails.
read_deployments() {
  local output status=0 line tree kernel flags
  local line_re='^([* ]) ([^ ]+) ([0-9a-f]{64})\.([0-9]+)(.*)$'
  deployment_kernels=()
  unreadable=""
  next_deployment=""
  next_kernel=""
  if ! command -v ostree >/dev/null; then
    REPLY="ostree is not installed"
    return 1
  fi
  output="$(timeout --kill-after="${kill_after}" "${ostree_timeout}" ostree admin status 2>&1)" || status=$?
  if ((status != 0)); then
    REPLY="ostree admin status failed with status ${status}: ${output##*$'\n'}"
    return 1
  fi
  while IFS= read -r line; do
    if [[ ! "${line}" =~ ${line_re} ]]; then
      continue
    fi
    tree="${root}/ostree/deploy/${BASH_REMATCH[2]}/deploy/${BASH_REMATCH[3]}.${BASH_REMATCH[4]}"
    flags="${BASH_REMATCH[5]}"
    kernel=""
    if tree_kernel "${tree}"; then
      kernel="${REPLY}"
      deployment_kernels+=("${kernel}")
    else
      unreadable+="${unreadable:+; }${REPLY}"
    fi
    if [[ -z "${next_deployment}" && ("${flags}" == *"(staged)"* || "${flags}" == *"(pending)"*) ]]; then
      next_deployment="${tree##*/deploy/}${flags}"
      next_kernel="${kernel}"
    fi
  done <<<"${output}"
}

# --next-kernel: one module's images for the next kernel. Arguments: the module's id, its
# interface, its module image (no tag), its worker image. Claims the module first, so that of the
# stop commands running side by side exactly one handles it; a module whose images could not be
# pulled is released again.
prepull_module() {
  local id="$1" label="$1" image="$3:${next_tag}" worker="$4" ref pulled=()
  if [[ "$2" == kmm ]]; then
    label="$1 (KMM operator's units)"
  fi
  # This unit's own module is also among the records: once per run, whatever came of it.
  if [[ "${prepull_seen}" == *" ${id} "* ]]; then
    return 0
  fi
  prepull_seen+="${id} "
  if ! mkdir "${run_dir}/prepull.${id}" 2>/dev/null; then
    return 0
  fi
  local outcome="the first boot of ${next_kernel} starts without this module, and its pull unit pulls the image"
  for ref in "${worker}" "${image}"; do
    if podman image exists "${ref}"; then
      continue
    fi
    if prepull_image "${ref}"; then
      pulled+=("${ref}")
    elif [[ "${REPLY}" == "does not exist" ]]; then
      log "pre-pull ${label}: ${ref} does not exist; nothing else changes: ${outcome} once it exists and reboots once, as without a pre-pull"
      rm -rf "${run_dir}/prepull.${id}"
      return 0
    else
      log "pre-pull ${label}: ${ref} not pulled (${REPLY}); ${outcome} and reboots once, as without a pre-pull"
      # A later stop in this boot (the shutdown after a restart of the unit) may try again.
      rm -rf "${run_dir}/prepull.${id}"
      return 0
    fi
  done
  if ((${#pulled[@]} == 0)); then
    log "pre-pull ${label}: ${image} and ${worker} are already in local storage; the first boot of ${next_kernel} loads the module before the network"
  else
    log "pre-pull ${label}: pulled ${pulled[*]}; the first boot of ${next_kernel} loads the module from ${image} before the network, without a reboot"
  fi
}

# Pulls image $1 within what is left of the pre-pull budget. Fails with REPLY "does not exist"
# when the registry says so (no retry), else with the reason of the last attempt.
prepull_image() {
  local image="$1" attempt=1 left output status
  while true; do
    left=$((prepull_deadline - SECONDS - kill_after))
    if ((left < 1)); then
      REPLY="no time left of the ${prepull_deadline}s budget"
      return 1
    fi
    if ((left > prepull_timeout)); then
      left="${prepull_timeout}"
    fi
    status=0
    output="$(timeout --kill-after="${kill_after}" "${left}" podman pull --quiet "${auth_args[@]}" "${image}" 2>&1)" || status=$?
    if ((status == 0)) && podman image exists "${image}"; then
      return 0
    elif ((status == 0)); then
      REPLY="the pull reported success but the image is not in local storage"
    elif ((status == 124 || status == 137)); then
      REPLY="no answer within ${left}s"
    else
      REPLY="${output##*$'\n'}"
      case "${REPLY}" in
        *"manifest unknown"* | *"name unknown"*)
          REPLY="does not exist"
          return 1
          ;;
      esac
    fi
    if ((attempt >= prepull_attempts || prepull_deadline - SECONDS - kill_after - prepull_retry_delay < 1)); then
      return 1
    fi
    attempt=$((attempt + 1))
    sleep "${prepull_retry_delay}"
  done
}

# --next-kernel: this unit's module first, then every recorded module that nobody claimed yet.
prepull_for_next_kernel() {
  local record fields
  if ! read_deployments; then
    log "no pre-pull for the next kernel: ${REPLY}"
    return 0
  fi
  if [[ -z "${next_deployment}" ]]; then
    log "no staged or pending deployment: nothing to pre-pull"
    return 0
  fi
  if [[ -z "${next_kernel}" ]]; then
    log "no pre-pull: the kernel of the next deployment (${next_deployment}) cannot be read: ${unreadable}; the next boot behaves as without a pre-pull"
    return 0
  fi
  if [[ "${next_kernel}" == "${kernel_release}" ]]; then
    log "the next deployment (${next_deployment}) boots the running kernel ${kernel_release}: nothing to pre-pull"
    return 0
  fi
  tag_of "${next_kernel}"
  next_tag="${REPLY}"
  auth_args=()
  if [[ -f "${authfile}" ]]; then
    auth_args=(--authfile "${authfile}")
  fi
  log "the next deployment (${next_deployment}) boots kernel ${next_kernel}, not the running ${kernel_release}: pre-pulling the images tagged ${next_tag}, within ${prepull_deadline}s"
  mkdir -p "${run_dir}"
  prepull_seen=" "
  prepull_module "${id}" "${interface}" "${KERNEL_MODULE_IMAGE}" "${WORKER_IMAGE}"
  for record in "${run_dir}"/modules/*; do
    if [[ -f "${record}" ]]; then
      mapfile -t -d '' fields <"${record}"
      if ((${#fields[@]} == 4)); then
        prepull_module "${fields[@]}"
      fi
    fi
  done
}

if [[ "${mode}" == next-kernel ]]; then
  prepull_for_next_kernel
  exit 0
fi

# What the pre-pull at shutdown needs of each module whose pull unit called this script on this
# boot; /run is empty again after the reboot. NUL-separated: the values come from unit files.
mkdir -p "${run_dir}/modules"
printf '%s\0' "${id}" "${interface}" "${KERNEL_MODULE_IMAGE}" "${WORKER_IMAGE}" >"${run_dir}/modules/${id}.tmp"
mv -f "${run_dir}/modules/${id}.tmp" "${run_dir}/modules/${id}"

# Removes this module's images that no kernel of this node boots any more: their tag is neither
# the running kernel's nor that of a deployment's kernel. Keeps everything when in doubt.
remove_stale_images() {
  local keep=" ${kernel_tag} " kernel ref images
  if ! read_deployments; then
    # A node without ostree has no deployments to tell which kernels it boots next.
    if [[ "${REPLY}" != "ostree is not installed" ]]; then
      log "keeping every image of ${KERNEL_MODULE_IMAGE}: ${REPLY}"
    fi
    return 0
  fi
  if [[ -n "${unreadable}" ]]; then
    log "keeping every image of ${KERNEL_MODULE_IMAGE}: ${unreadable}"
    return 0
  fi
  for kernel in "${deployment_kernels[@]}"; do
    tag_of "${kernel}"
    keep+="${REPLY} "
  done
  if ! images="$(podman images --noheading --format '{{.Repository}}:{{.Tag}}')"; then
    log "keeping every image of ${KERNEL_MODULE_IMAGE}: podman images failed"
    return 0
  fi
  while IFS= read -r ref; do
    # podman matches a name given as an argument by prefix; compare the repository exactly.
    if [[ "${ref%:*}" == "${KERNEL_MODULE_IMAGE}" && "${keep}" != *" ${ref##*:} "* ]]; then
      if podman rmi "${ref}" >/dev/null 2>&1; then
        log "removed ${ref}: no deployment of this node boots kernel tag ${ref##*:}"
      else
        log "could not remove ${ref} (in use?); the next boot tries again"
      fi
    fi
  done <<<"${images}"
}

missing=()
for image in "${WORKER_IMAGE}" "${module_image}"; do
  if ! podman image exists "${image}"; then
    missing+=("${image}")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  rm -f "${guard_file}"
  log "images ${WORKER_IMAGE} and ${module_image} are present; nothing to pull"
  remove_stale_images
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
