#!/bin/bash
# Day 1 kernel module loading (cdk8s-kmm-day1): before the network starts, run the KMM
# worker to unload the in-tree modules and load the out-of-tree module from the module
# image of the running kernel. Without both images in local storage the boot goes on with
# the in-tree driver; the pull unit fetches the images and reboots.
#
# A node runs ONE copy of this file, from whichever MachineConfig of the pool sorts last, and
# the replace unit of every Day 1 MachineConfig of the pool calls it: units of this release
# (interface 3), of earlier releases (interfaces 1 and 2) and of the KMM operator or KMM's
# day1-utility ("kmm"). So it reads what each of them sets:
#
#   variable                   set by                        since  read here
#   KMM_DAY1_INTERFACE         our units (2, 3)              v2     picks the interface: when
#                                                                   unset, 1 if MACHINE_CONFIG_NAME
#                                                                   is set, else kmm; above 3 is
#                                                                   read as 3 (interfaces only add;
#                                                                   3 adds nothing the replace
#                                                                   unit sets)
#   MACHINE_CONFIG_NAME        our units                     v1     ours: names the state
#                                                                   directory and the containers
#   KERNEL_MODULE_NAME         our units                     v1     ours: module to load
#   KERNEL_MODULE              our units (v2), kmm units     v2     module to load (kmm; ours when
#                                                                   KERNEL_MODULE_NAME is unset)
#   KERNEL_MODULE_IMAGE        all units                     v1     module image without tag
#   WORKER_IMAGE               all units                     v1     KMM worker image reference
#   IN_TREE_MODULES_TO_REMOVE  all units (v1: only if set)   v1     space-separated, may be empty
#   FIRMWARE_FILES_PATH        all units (v1: only if set)   v1     firmware directory inside the
#                                                                   module image, may be empty
#   MODULE_PARAMETERS          our units, when there are any v1     ours: space-separated
#                                                                   name=value (kmm units have none)
#   WORKER_CONFIG_FILEPATH     our units (v2), kmm units     v2     NEVER: it is for the KMM
#                                                                   operator's script, and kmm
#                                                                   units give every module the
#                                                                   same file
#   KMM_DAY1_ROOT              tests                                prefix of every host path
#
# Every module keeps its own state directory /var/lib/kmm-day1/<id> (worker config, scratch
# files) and containers kmm-day1-<id>-copy and -worker: <id> is MACHINE_CONFIG_NAME for our
# units and kmm-module-<KERNEL_MODULE> (characters outside [A-Za-z0-9._-] as "_") for kmm
# units, so two modules never share a file or a container name. The image tag is KMM's
# ${KERNEL_FULL_VERSION}: `uname -r` without one trailing "+", characters outside
# [A-Za-z0-9._-] as "_". The normal case takes seconds, inside the kmm units' TimeoutSec=60.
set -euo pipefail

# @fragment settings

# @fragment log

# KMM's character rule, written out: a range such as A-Z follows the locale's collation order.
sanitize() {
  printf '%s' "${1//[^ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-]/_}"
}

if [[ -n "${KMM_DAY1_INTERFACE:-}" ]]; then
  # Bash evaluates names inside arithmetic, so a non-number here could run code as root.
  # @fragment interface (KMM_DAY1_INTERFACE checked and capped, else 1 or kmm; ends this if; both images required)
module_parameters=()
if [[ "${interface}" == kmm ]]; then
  : "${KERNEL_MODULE:?is not set by the unit (nor MACHINE_CONFIG_NAME, so the units are those of the KMM operator)}"
  module_name="${KERNEL_MODULE}"
  id="kmm-module-$(sanitize "${KERNEL_MODULE}")"
  log "units of the KMM operator (no MACHINE_CONFIG_NAME, no module parameters): the state of ${module_name} is in /var/lib/kmm-day1/${id}"
else
  : "${MACHINE_CONFIG_NAME:?is not set by the unit}"
  module_name="${KERNEL_MODULE_NAME:-${KERNEL_MODULE:-}}"
  : "${module_name:?KERNEL_MODULE_NAME is not set by the unit}"
  id="${MACHINE_CONFIG_NAME}"
  read -r -a module_parameters <<<"${MODULE_PARAMETERS:-}"
fi
firmware_path="${FIRMWARE_FILES_PATH:-}"
read -r -a in_tree_modules <<<"${IN_TREE_MODULES_TO_REMOVE:-}"

state_dir="${root}/var/lib/kmm-day1/${id}"
worker_config="${state_dir}/worker-config.yaml"
# Everything the worker finds under /tmp: the image's /opt/lib/modules and firmware.
worker_tmp="${state_dir}/worker-tmp"
host_modules_dir="${root}/lib/modules"
host_firmware_dir="${root}/var/lib/firmware"
copy_container="kmm-day1-${id}-copy"
worker_container="kmm-day1-${id}-worker"

kernel_release="$(uname -r)"
kernel_tag="$(sanitize "${kernel_release%+}")"
module_image="${KERNEL_MODULE_IMAGE}:${kernel_tag}"
for image in "${WORKER_IMAGE}" "${module_image}"; do
  if ! podman image exists "${image}"; then
    log "${image} is not in local storage; ${module_name} is not loaded on this boot (the pull unit fetches the image and reboots)"
    exit 0
  fi
done

# An in-tree module of the same name that udev loaded earlier must go too, but only a
# loadable one (a built-in has no initstate and cannot be removed).
module_sysfs_name="${module_name//-/_}"
if [[ -e "${root}/sys/module/${module_sysfs_name}/initstate" ]]; then
  already_listed=false
  for name in "${in_tree_modules[@]}"; do
    if [[ "${name//-/_}" == "${module_sysfs_name}" ]]; then
      already_listed=true
    fi
  done
  if [[ "${already_listed}" == false ]]; then
    log "${module_name} is already loaded (in-tree); it is unloaded before the out-of-tree module is loaded"
    in_tree_modules+=("${module_name}")
  fi
fi

cleanup() {
  podman rm --force --ignore "${copy_container}" "${worker_container}" >/dev/null 2>&1 || true
  rm -rf "${worker_tmp}"
}
trap cleanup EXIT
# Leftovers of a boot that was cut short would make the container names clash.
cleanup

# Single-quoted YAML scalar: the only character to escape is the quote itself.
yaml_quote() {
  local escaped="${1//\'/\'\'}"
  printf "'%s'" "${escaped}"
}

mkdir -p "${state_dir}"
{
  printf 'containerImage: %s\n' "$(yaml_quote "${module_image}")"
  printf 'modprobe:\n'
  printf '  dirName: /opt\n'
  printf '  moduleName: %s\n' "$(yaml_quote "${module_name}")"
  if [[ -n "${firmware_path}" ]]; then
    printf '  firmwarePath: %s\n' "$(yaml_quote "${firmware_path}")"
  fi
  if [[ ${#module_parameters[@]} -gt 0 ]]; then
    printf '  parameters:\n'
    for parameter in "${module_parameters[@]}"; do
      printf '  - %s\n' "$(yaml_quote "${parameter}")"
    done
  fi
  if [[ ${#in_tree_modules[@]} -gt 0 ]]; then
    printf 'inTreeModulesToRemove:\n'
    for name in "${in_tree_modules[@]}"; do
      printf -- '- %s\n' "$(yaml_quote "${name}")"
    done
  fi
} >"${worker_config}.tmp"
mv -f "${worker_config}.tmp" "${worker_config}"
log "wrote ${worker_config} for ${module_image}"

# Copies a directory of the module image into the worker's /tmp, or says what is wrong.
copy_from_module_image() {
  local dir="$1"
  mkdir -p "${worker_tmp}${dir}"
  if ! podman cp "${copy_container}:${dir}/." "${worker_tmp}${dir}"; then
    log "${module_image} has no usable ${dir}; ${module_name} is not loaded on this boot"
    exit 1
  fi
  log "copied ${dir} from ${module_image}"
}

# The copy container is never started: podman cp reads its image layers, so the module
# image needs no shell or coreutils. Nothing may reach for a registry before the network.
podman create --pull=never --name "${copy_container}" --network none "${module_image}" /bin/true >/dev/null
copy_from_module_image /opt/lib/modules

worker_args=(kmod load /etc/kmm-worker/config.yaml)
firmware_mount=()
if [[ -n "${firmware_path}" ]]; then
  copy_from_module_image "${firmware_path}"
  mkdir -p "${host_firmware_dir}"
  firmware_mount=(--volume "${host_firmware_dir}:/var/lib/firmware")
  worker_args+=(--firmware-path /var/lib/firmware)
fi

log "loading ${module_name} with ${WORKER_IMAGE}; in-tree modules to remove: ${in_tree_modules[*]:-none}"
if ! podman run --rm --pull=never --name "${worker_container}" --privileged --user root --network none \
  --volume "${worker_tmp}:/tmp" \
  --volume "${worker_config}:/etc/kmm-worker/config.yaml:ro" \
  --volume "${host_modules_dir}:/lib/modules:ro" \
  "${firmware_mount[@]}" \
  "${WORKER_IMAGE}" "${worker_args[@]}"; then
  log "the KMM worker failed to load ${module_name}; the node keeps its in-tree driver on this boot"
  exit 1
fi
log "loaded ${module_name} from ${module_image}"
