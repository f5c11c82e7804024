#!/bin/bash
# Day 1 kernel module loading (cdk8s-kmm-day1): before the network starts, run the KMM
# worker to unload the in-tree modules and load the out-of-tree module from the module
# image of the running kernel. Without both images in local storage the boot goes on with
# the in-tree driver; the pull unit fetches the images and reboots.
#
# Input, from the unit's Environment= lines:
#   MACHINE_CONFIG_NAME        the MachineConfig this unit belongs to; names the state
#                              directory, the worker config and the containers
#   KERNEL_MODULE_IMAGE        module image repository without tag; the tag is `uname -r`
#   KERNEL_MODULE_NAME         module to load
#   WORKER_IMAGE               KMM worker image reference
#   IN_TREE_MODULES_TO_REMOVE  space-separated in-tree modules to unload first (optional)
#   FIRMWARE_FILES_PATH        firmware directory inside the module image (optional)
#   MODULE_PARAMETERS          space-separated name=value modprobe parameters (optional)
#   KMM_DAY1_ROOT              prefix of every host path (empty; for tests)
set -euo pipefail

: "${MACHINE_CONFIG_NAME:?is not set by the unit}"
: "${KERNEL_MODULE_IMAGE:?is not set by the unit}"
: "${KERNEL_MODULE_NAME:?is not set by the unit}"
: "${WORKER_IMAGE:?is not set by the unit}"

root="${KMM_DAY1_ROOT:-}"
firmware_path="${FIRMWARE_FILES_PATH:-}"
read -r -a in_tree_modules <<<"${IN_TREE_MODULES_TO_REMOVE:-}"
read -r -a module_parameters <<<"${MODULE_PARAMETERS:-}"

state_dir="${root}/var/lib/kmm-day1/${MACHINE_CONFIG_NAME}"
worker_config="${state_dir}/worker-config.yaml"
# Everything the worker finds under /tmp: the image's /opt/lib/modules and firmware.
worker_tmp="${state_dir}/worker-tmp"
host_modules_dir="${root}/lib/modules"
host_firmware_dir="${root}/var/lib/firmware"
# Names derived from the MachineConfig, so two Day 1 modules on one node never collide.
copy_container="kmm-day1-${MACHINE_CONFIG_NAME}-copy"
worker_container="kmm-day1-${MACHINE_CONFIG_NAME}-worker"

log() {
  printf '%s\n' "$*"
}

kernel_release="$(uname -r)"
module_image="${KERNEL_MODULE_IMAGE}:${kernel_release}"

for image in "${WORKER_IMAGE}" "${module_image}"; do
  if ! podman image exists "${image}"; then
    log "${image} is not in local storage; ${KERNEL_MODULE_NAME} is not loaded on this boot (the pull unit fetches the image and reboots)"
    exit 0
  fi
done

# An in-tree module of the same name that udev loaded earlier must go too, but only a
# loadable one (a built-in has no initstate and cannot be removed).
module_sysfs_name="${KERNEL_MODULE_NAME//-/_}"
if [[ -e "${root}/sys/module/${module_sysfs_name}/initstate" ]]; then
  already_listed=false
  for name in "${in_tree_modules[@]}"; do
    if [[ "${name//-/_}" == "${module_sysfs_name}" ]]; then
      already_listed=true
    fi
  done
  if [[ "${already_listed}" == false ]]; then
    log "${KERNEL_MODULE_NAME} is already loaded (in-tree); it is unloaded before the out-of-tree module is loaded"
    in_tree_modules+=("${KERNEL_MODULE_NAME}")
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
  printf '  moduleName: %s\n' "$(yaml_quote "${KERNEL_MODULE_NAME}")"
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
    log "${module_image} has no usable ${dir}; ${KERNEL_MODULE_NAME} is not loaded on this boot"
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

log "loading ${KERNEL_MODULE_NAME} with ${WORKER_IMAGE}; in-tree modules to remove: ${in_tree_modules[*]:-none}"
if ! podman run --rm --pull=never --name "${worker_container}" --privileged --user root --network none \
  --volume "${worker_tmp}:/tmp" \
  --volume "${worker_config}:/etc/kmm-worker/config.yaml:ro" \
  --volume "${host_modules_dir}:/lib/modules:ro" \
  "${firmware_mount[@]}" \
  "${WORKER_IMAGE}" "${worker_args[@]}"; then
  log "the KMM worker failed to load ${KERNEL_MODULE_NAME}; the node keeps its in-tree driver on this boot"
  exit 1
fi
log "loaded ${KERNEL_MODULE_NAME} from ${module_image}"
