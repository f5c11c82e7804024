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
