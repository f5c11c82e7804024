  if [[ ! "${!setting}" =~ ^[1-9][0-9]{0,5}$ ]]; then
    printf '%s must be a positive integer, got %q\n' "${setting}" "${!setting}" >&2
    exit 2
  fi
