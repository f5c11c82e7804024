#!/bin/bash
# Test double for the commands the boot scripts run on a node: podman, uname, systemctl,
# reboot, sync, sleep and ostree. The harness installs this file under each of those names; the
# name it was called by picks the behaviour.
#
# Every call is appended to $FAKE_STATE/calls.jsonl as {"tool":..., "argv":[...]}. The
# node's state lives in files under $FAKE_STATE so that it survives between script runs
# (several boots) and the harness can steer faults by writing them:
#   registry/<ref>/      root filesystem of each image the registry serves
#   store/<ref>          local podman storage: an image exists when this (empty) file does;
#                        its files are those the registry serves (a test never republishes
#                        an image it has stored), so a pull copies nothing
#   containers           one line `<name> <image>` per container that exists
#   runs/<n>.run         the n-th `podman run` of a worker (a run whose command is
#                        `/bin/sh -c ...` is a copy in a module image, see shell_copy): holds the unit command that made it (FAKE_PROCESS,
#                        empty without one); runs/<n>.tmp.jsonl (each file's path and
#                        contents) and runs/<n>.config.yaml are what it saw at /tmp and
#                        /etc/kmm-worker/config.yaml
#   knobs/kernel         what `uname -r` prints
#   knobs/pull-failures  how many pulls fail as if the registry were unreachable
#   knobs/pull-hangs     how many pulls hang until they are killed
#   knobs/pull-phantom   image references (or `*`) whose pull succeeds but stores nothing
#   knobs/worker-exit    exit status of `podman run` (the KMM worker)
#   knobs/worker-hangs   present: `podman run` hangs until it is killed
#   knobs/dispatcher     lines of `LoadState ActiveState Result`, one used per poll,
#                        the last one repeated
#   knobs/sleep-ms       milliseconds really slept per second asked for (absent: none), so
#                        that scripts running side by side make progress while one waits
#   knobs/pull-slow      lines of `<seconds> <image> [<command>]`: a pull of that image takes
#                        that long (slept like `sleep`, so scaled by sleep-ms); with a unit
#                        command (a FAKE_PROCESS), it ends early once that command has called
#                        `sleep`, i.e. is waiting for something
#   sleeper              a FIFO nobody writes (the harness makes it with knobs/sleep-ms): a
#                        read on it with a timeout sleeps without starting a process
#   units/<unit>         `ActiveState MainPID Job` of a unit the harness runs (Job: `waiting`
#                        or `running` for a start job, `-` for none); what `systemctl show`,
#                        `list-units` and `list-jobs` answer for units other than the dispatcher
#   reboot-requested     written by `reboot`, so the harness can stop the boot
#   knobs/ostree-status  what `ostree admin status` prints (the harness installs the `ostree`
#                        fake only on nodes that have deployments)
#   knobs/ostree-exit    present: `ostree admin status` prints an error and exits with this status
# <ref> is the image reference with "%", "/", ":" and "@" percent-encoded.
# With FAKE_PROCESS set (the harness names the unit command that runs), each call records it.
#
# The boot tests call these fakes thousands of times, and where they run a fork or an exec
# can cost 10 ms: so the fakes use bash builtins only and hand strings back in REPLY rather
# than through command substitutions (each a fork). The only processes they start copy image
# trees (cp, mkdir) or hang (sleep).
set -euo pipefail
export LC_ALL=C
PATH=/usr/bin:/bin

state="${FAKE_STATE:?the harness must set FAKE_STATE}"
tool="${0##*/}"
knobs="${state}/knobs"

# Sets REPLY to $1 as a JSON string.
json_string() {
  local s="$1" out="" c i
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  s="${s//$'\n'/\\n}"
  s="${s//$'\t'/\\t}"
  if [[ "${s}" == *[$'\x01'-$'\x1f']* ]]; then
    for ((i = 0; i < ${#s}; i++)); do
      c="${s:i:1}"
      if [[ "${c}" == [$'\x01'-$'\x1f'] ]]; then
        printf -v c '\\u%04x' "'${c}"
      fi
      out+="${c}"
    done
    s="${out}"
  fi
  REPLY="\"${s}\""
}

record() {
  local line arg sep=""
  json_string "${tool}"
  line="{\"tool\":${REPLY},\"argv\":["
  for arg in "$@"; do
    json_string "${arg}"
    line+="${sep}${REPLY}"
    sep=","
  done
  line+="]"
  if [[ -n "${FAKE_PROCESS:-}" ]]; then
    json_string "${FAKE_PROCESS}"
    line+=",\"process\":${REPLY}"
  fi
  printf '%s}\n' "${line}" >>"${state}/calls.jsonl"
}

fail() {
  printf 'Error: %s\n' "$*" >&2
  exit 125
}

# Sets REPLY to the whole contents of file $1, as `cat` would print them.
slurp() {
  REPLY=""
  IFS= read -r -d '' REPLY <"$1" || true
}

# Sets REPLY to image reference $1 as a file name.
encode() {
  local s="${1//%/%25}"
  s="${s//\//%2F}"
  s="${s//:/%3A}"
  REPLY="${s//@/%40}"
}

# Sets REPLY to the file that marks image $1 as in local storage.
stored() {
  encode "$1"
  REPLY="${state}/store/${REPLY}"
}

# Really sleeps $1 milliseconds.
nap() {
  local seconds
  printf -v seconds '%d.%03d' "$(($1 / 1000))" "$(($1 % 1000))"
  [[ -p "${state}/sleeper" ]] || fail "fake sleep: ${state}/sleeper is not a FIFO"
  # Nobody writes the FIFO, so the read ends when its timeout does.
  read -r -t "${seconds}" <>"${state}/sleeper" || true
}

# Sets REPLY to what `sleep $1` is worth here, in milliseconds: knobs/sleep-ms per second.
scaled_ms() {
  local per_second=""
  read -r per_second <"${knobs}/sleep-ms" || true
  REPLY=$((10#$1 * per_second))
}

# Sleeps what `sleep N` is worth here.
real_sleep() {
  scaled_ms "$1"
  nap "${REPLY}"
}

record "$@"

# Bash reads a script one command at a time, so a call parses this file only down to the
# section that answers it: the calls made most often come first and need the least code.
case "${tool}" in
  uname)
    [[ "$*" == "-r" ]] || fail "fake uname: only -r is expected"
    slurp "${knobs}/kernel"
    printf '%s' "${REPLY}"
    exit 0
    ;;
  sleep)
    [[ $# -eq 1 && "$1" =~ ^[0-9]+$ ]] || fail "fake sleep: expected whole seconds"
    if [[ -f "${knobs}/sleep-ms" ]]; then
      real_sleep "$1"
    fi
    exit 0
    ;;
  reboot)
    printf '%s\n' "${FAKE_PROCESS:-reboot}" >>"${state}/reboot-requested"
    exit 0
    ;;
  sync) exit 0 ;;
  podman)
    if [[ "${1:-}" == image ]]; then
      [[ "${2:-}" == exists && $# -eq 3 ]] || fail "fake podman image: only 'exists IMAGE' is expected"
      stored "$3"
      if [[ -f "${REPLY}" ]]; then
        exit 0
      fi
      exit 1
    fi
    ;;
esac

# Consumes one unit of a counter knob; succeeds while the counter was positive.
take() {
  local file="${knobs}/$1" n=""
  [[ -f "${file}" ]] || return 1
  read -r n <"${file}" || true
  ((n > 0)) || return 1
  printf '%s\n' "$((n - 1))" >"${file}"
}

# Replaces this process, so that a signal sent to it (timeout, systemd) reaches the sleep.
hang() {
  exec sleep 3600
}

require_image() {
  stored "$1"
  [[ -f "${REPLY}" ]] || fail "$1: image not known"
}

# Sets REPLY to the image of container $1; fails when there is no such container.
container_image() {
  local name image
  [[ -f "${state}/containers" ]] || return 1
  while read -r name image; do
    if [[ "${name}" == "$1" ]]; then
      REPLY="${image}"
      return 0
    fi
  done <"${state}/containers"
  return 1
}

add_container() {
  printf '%s %s\n' "$1" "$2" >>"${state}/containers"
}

remove_container() {
  local name image kept=()
  while read -r name image; do
    if [[ "${name}" != "$1" ]]; then
      kept+=("${name} ${image}")
    fi
  done <"${state}/containers"
  if ((${#kept[@]} > 0)); then
    printf '%s\n' "${kept[@]}" >"${state}/containers"
  else
    : >"${state}/containers"
  fi
}

require_free_name() {
  ! container_image "$1" ||
    fail "creating container storage: the container name \"$1\" is already in use; you must remove that container to be able to reuse that name: that name is already in use"
}

# Succeeds when knobs/pull-phantom lists image $1 or `*`.
phantom() {
  local file="${knobs}/pull-phantom" line
  [[ -f "${file}" ]] || return 1
  while IFS= read -r line || [[ -n "${line}" ]]; do
    if [[ "${line}" == '*' || "${line}" == "$1" ]]; then
      return 0
    fi
  done <"${file}"
  return 1
}

# Sleeps what `sleep $1` is worth, or less: until unit command $2, if given, has called sleep.
slow_pull() {
  local left line label
  scaled_ms "$1"
  left="${REPLY}"
  if [[ -z "$2" ]]; then
    nap "${left}"
    return 0
  fi
  json_string "$2"
  label="${REPLY}"
  while ((left > 0)); do
    while IFS= read -r line; do
      if [[ "${line}" == '{"tool":"sleep",'*",\"process\":${label}}" ]]; then
        return 0
      fi
    done <"${state}/calls.jsonl"
    nap 10
    left=$((left - 10))
  done
}

podman_pull() {
  local image="" authfile=""
  while (($#)); do
    case "$1" in
      --quiet | -q) shift ;;
      --authfile) authfile="$2"; shift 2 ;;
      -*) fail "fake podman pull: unexpected option $1" ;;
      *) [[ -z "${image}" ]] || fail "fake podman pull: more than one image"; image="$1"; shift ;;
    esac
  done
  [[ -n "${image}" ]] || fail "fake podman pull: no image"
  if [[ -n "${authfile}" && ! -f "${authfile}" ]]; then
    fail "credential file is not accessible: stat ${authfile}: no such file or directory"
  fi
  if take pull-hangs; then
    hang
  fi
  local registry_host="${image%%/*}" seconds slow_image until
  if [[ -f "${knobs}/pull-slow" && -f "${knobs}/sleep-ms" ]]; then
    while read -r seconds slow_image until; do
      if [[ "${slow_image}" == "${image}" ]]; then
        slow_pull "${seconds}" "${until}"
      fi
    done <"${knobs}/pull-slow"
  fi
  if take pull-failures; then
    fail "initializing source docker://${image}: pinging container registry ${registry_host}: Get \"https://${registry_host}/v2/\": dial tcp: connect: connection refused"
  fi
  local source
  encode "${image}"
  source="${state}/registry/${REPLY}"
  [[ -d "${source}" ]] || fail "initializing source docker://${image}: reading manifest: manifest unknown"
  if phantom "${image}"; then
    printf 'sha256:%064d\n' 0
    return 0
  fi
  [[ -d "${state}/store" ]] || mkdir -p "${state}/store"
  stored "${image}"
  : >"${REPLY}"
  printf 'sha256:%064d\n' 1
}

podman_create() {
  local name="" image=""
  while (($#)); do
    case "$1" in
      --name) name="$2"; shift 2 ;;
      --network) shift 2 ;;
      --pull=never) shift ;;
      -*) fail "fake podman create: unexpected option $1" ;;
      *) image="$1"; shift; break ;;
    esac
  done
  [[ -n "${name}" && -n "${image}" ]] || fail "fake podman create: needs --name and an image"
  require_image "${image}"
  require_free_name "${name}"
  add_container "${name}" "${image}"
  printf '%064d\n' 2
}

podman_cp() {
  (($# == 2)) || fail "fake podman cp: expected SOURCE DEST"
  local source="$1" dest="$2"
  [[ "${source}" == *:/* ]] || fail "fake podman cp: only container-to-host copies are expected"
  local name="${source%%:*}" path="${source#*:}"
  container_image "${name}" || fail "no container with name or ID \"${name}\" found: no such container"
  local rootfs dir
  encode "${REPLY}"
  rootfs="${state}/registry/${REPLY}"
  # "dir/." copies the directory's contents, as podman cp does.
  [[ "${path}" == */. ]] || fail "fake podman cp: only DIR/. sources are expected"
  dir="${path%/.}"
  [[ -d "${rootfs}${dir}" ]] || fail "\"${dir}\" could not be found on container ${name}: no such file or directory"
  [[ -d "${dest}" ]] || fail "\"${dest}\" could not be found on the host: no such file or directory"
  cp -a "${rootfs}${dir}/." "${dest}/"
}

# Writes every file below directory $1 to file $2, one JSON line {"path":...,"contents":...}
# each (path relative to $1): what the harness shows of it, without a cp process. Text files
# only, which is all the test images hold (a bash string cannot hold a NUL byte).
snapshot_tree() {
  local dir="$1" file path lines=""
  shopt -s globstar dotglob nullglob
  for file in "${dir}"/**; do
    if [[ -f "${file}" ]]; then
      json_string "${file#"${dir}"/}"
      path="${REPLY}"
      slurp "${file}"
      json_string "${REPLY}"
      lines+="{\"path\":${path},\"contents\":${REPLY}}"$'\n'
    fi
  done
  shopt -u globstar dotglob nullglob
  printf '%s' "${lines}" >"$2"
}

# A `podman run IMAGE /bin/sh -c COMMAND`, the KMM operator's way of copying a module image's
# files: fails as podman does when the image has no /bin/sh (a FROM scratch image), else does
# what COMMAND says, which may only be `mkdir -p DIR` and `cp -R SRC/* DEST` joined by `&&`
# or `;`. Paths under a volume's container path are that volume's host path, others the image's.
shell_copy() {
  local image="$1" command="$2" rootfs step volume
  local -a steps words
  shift 2
  encode "${image}"
  rootfs="${state}/registry/${REPLY}"
  if [[ ! -f "${rootfs}/bin/sh" ]]; then
    # shellcheck disable=SC2016 # podman's message, backquotes and all
    printf 'Error: crun: executable file `/bin/sh` not found in $PATH: No such file or directory: OCI runtime attempted to invoke a command that was not found\n' >&2
    exit 127
  fi
  copy_path() {
    local path="$1" spec
    for spec in "${copy_volumes[@]}"; do
      local host="${spec%%:*}" inside="${spec#*:}"
      inside="${inside%%:*}"
      if [[ "${path}" == "${inside}" || "${path}" == "${inside}"/* ]]; then
        REPLY="${host}${path#"${inside}"}"
        return 0
      fi
    done
    REPLY="${rootfs}${path}"
  }
  command="${command//&&/;}"
  IFS=';' read -r -a steps <<<"${command}"
  for step in "${steps[@]}"; do
    read -r -a words <<<"${step}"
    ((${#words[@]} > 0)) || continue
    if [[ "${words[0]} ${words[1]:-}" == "mkdir -p" && ${#words[@]} -eq 3 ]]; then
      copy_path "${words[2]}"
      mkdir -p "${REPLY}"
    elif [[ "${words[0]} ${words[1]:-}" == "cp -R" && ${#words[@]} -eq 4 && "${words[2]}" == */\* ]]; then
      copy_path "${words[2]%/\*}"
      volume="${REPLY}"
      [[ -d "${volume}" ]] || { printf 'cp: cannot stat %s: No such file or directory\n' "${words[2]}" >&2; exit 1; }
      copy_path "${words[3]}"
      cp -R "${volume}/." "${REPLY}/"
    else
      fail "fake podman run: /bin/sh -c: unsupported step: ${step}"
    fi
  done
}

podman_run() {
  local name="" image="" remove=false volumes=()
  while (($#)); do
    case "$1" in
      --rm) remove=true; shift ;;
      --pull=never | --privileged) shift ;;
      --name) name="$2"; shift 2 ;;
      --user | --network) shift 2 ;;
      --volume) volumes+=("$2"); shift 2 ;;
      -*) fail "fake podman run: unexpected option $1" ;;
      *) image="$1"; shift; break ;;
    esac
  done
  [[ -n "${name}" && -n "${image}" ]] || fail "fake podman run: needs --name and an image"
  require_image "${image}"
  require_free_name "${name}"
  local volume host_path
  for volume in "${volumes[@]}"; do
    host_path="${volume%%:*}"
    [[ -e "${host_path}" ]] || fail "statfs ${host_path}: no such file or directory"
  done
  add_container "${name}" "${image}"
  if [[ "${1:-}" == /bin/sh && "${2:-}" == -c && $# -eq 3 ]]; then
    copy_volumes=("${volumes[@]}")
    shell_copy "${image}" "$3"
    if [[ "${remove}" == true ]]; then
      remove_container "${name}"
    fi
    return 0
  fi

  local runs="${state}/runs" n=1 container_path
  [[ -d "${runs}" ]] || mkdir -p "${runs}"
  while [[ -e "${runs}/${n}.run" ]]; do
    n=$((n + 1))
  done
  printf '%s\n' "${FAKE_PROCESS:-}" >"${runs}/${n}.run"
  for volume in "${volumes[@]}"; do
    host_path="${volume%%:*}"
    container_path="${volume#*:}"
    container_path="${container_path%%:*}"
    case "${container_path}" in
      /tmp) snapshot_tree "${host_path}" "${runs}/${n}.tmp.jsonl" ;;
      /etc/kmm-worker/config.yaml)
        slurp "${host_path}"
        printf '%s' "${REPLY}" >"${runs}/${n}.config.yaml"
        ;;
    esac
  done

  if [[ -f "${knobs}/worker-hangs" ]]; then
    hang
  fi
  local status=0
  if [[ -f "${knobs}/worker-exit" ]]; then
    read -r status <"${knobs}/worker-exit" || true
  fi
  printf 'kmm-worker: %s exits with %s\n' "$*" "${status}"
  if [[ "${remove}" == true ]]; then
    remove_container "${name}"
  fi
  return "${status}"
}

podman_rm() {
  local ignore=false name
  while (($#)) && [[ "$1" == -* ]]; do
    case "$1" in
      --force | -f) shift ;;
      --ignore | -i) ignore=true; shift ;;
      *) fail "fake podman rm: unexpected option $1" ;;
    esac
  done
  for name in "$@"; do
    if container_image "${name}"; then
      remove_container "${name}"
    elif [[ "${ignore}" == false ]]; then
      fail "no container with name or ID \"${name}\" found: no such container"
    fi
  done
}

# Sets REPLY to the image reference of store file name $1.
decode() {
  local s="${1//%2F//}"
  s="${s//%3A/:}"
  s="${s//%40/@}"
  REPLY="${s//%25/%}"
}

podman_images() {
  [[ "$*" == "--noheading --format {{.Repository}}:{{.Tag}}" ]] ||
    fail "fake podman images: only --noheading --format '{{.Repository}}:{{.Tag}}' is expected"
  local file
  for file in "${state}/store"/*; do
    if [[ -f "${file}" ]]; then
      decode "${file##*/}"
      printf '%s\n' "${REPLY}"
    fi
  done
}

podman_rmi() {
  (($# == 1)) || fail "fake podman rmi: expected one image"
  local name image
  require_image "$1"
  if [[ -f "${state}/containers" ]]; then
    while read -r name image; do
      if [[ "${image}" == "$1" ]]; then
        fail "image used by container ${name}: image is in use by a container"
      fi
    done <"${state}/containers"
  fi
  stored "$1"
  rm -f "${REPLY}"
  printf 'Untagged: %s\n' "$1"
}

fake_podman() {
  local command="${1:-}"
  shift || true
  case "${command}" in
    images) podman_images "$@" ;;
    rmi) podman_rmi "$@" ;;
    pull) podman_pull "$@" ;;
    create) podman_create "$@" ;;
    cp) podman_cp "$@" ;;
    run) podman_run "$@" ;;
    rm) podman_rm "$@" ;;
    *) fail "fake podman: unexpected command ${command}" ;;
  esac
}

if [[ "${tool}" == podman ]]; then
  fake_podman "$@"
  exit 0
fi

# `show` of NetworkManager-dispatcher.service, steered by knobs/dispatcher.
show_dispatcher() {
  local properties=("$@")
  local file="${knobs}/dispatcher" lines=() load active result
  [[ -f "${file}" ]] || fail "fake systemctl: the test did not set the dispatcher state"
  mapfile -t lines <"${file}"
  if ((${#lines[@]} > 1)); then
    printf '%s\n' "${lines[@]:1}" >"${file}"
  fi
  read -r load active result <<<"${lines[0]:-}"
  # systemctl prints properties in its own order, not in the order they were asked for.
  local property
  for property in Result ActiveState LoadState; do
    if [[ " ${properties[*]} " == *" ${property} "* ]]; then
      case "${property}" in
        LoadState) printf 'LoadState=%s\n' "${load}" ;;
        ActiveState) printf 'ActiveState=%s\n' "${active}" ;;
        Result) printf 'Result=%s\n' "${result}" ;;
      esac
    fi
  done
}

# Reads units/<unit>: sets unit_active, unit_pid, unit_job; a unit the harness does not run
# is not loaded, as systemd says of a unit it does not know.
read_unit() {
  local file="${state}/units/$1"
  unit_active=inactive
  unit_pid=0
  unit_job=-
  if [[ -f "${file}" ]]; then
    read -r unit_active unit_pid unit_job <"${file}"
  fi
}

# Sets matching to the units the harness runs whose names match a `*suffix` pattern, sorted.
matching_units() {
  local pattern="$1" file name
  [[ "${pattern}" == \** ]] || fail "fake systemctl: only *SUFFIX patterns are expected, got ${pattern}"
  matching=()
  [[ -d "${state}/units" ]] || return 0
  for file in "${state}/units"/*; do
    [[ -f "${file}" ]] || continue
    name="${file##*/}"
    if [[ "${name}" == *"${pattern#\*}" ]]; then
      matching+=("${name}")
    fi
  done
}

show_unit() {
  local unit="$1" property
  shift
  read_unit "${unit}"
  for property in MainPID ActiveState; do
    if [[ " $* " == *" ${property} "* ]]; then
      case "${property}" in
        MainPID) printf 'MainPID=%s\n' "${unit_pid}" ;;
        ActiveState) printf 'ActiveState=%s\n' "${unit_active}" ;;
      esac
    fi
  done
}

fake_systemctl() {
  local command="${1:-}"
  shift || true
  local properties=() options=() args=() more=()
  while (($#)); do
    case "$1" in
      --property=*) IFS=, read -r -a more <<<"${1#--property=}"; properties+=("${more[@]}"); shift ;;
      -p) IFS=, read -r -a more <<<"$2"; properties+=("${more[@]}"); shift 2 ;;
      -*) options+=("$1"); shift ;;
      *) args+=("$1"); shift ;;
    esac
  done
  local unit sub job=0 matching=()
  case "${command}" in
    show)
      ((${#options[@]} == 0 && ${#args[@]} == 1)) || fail "fake systemctl show: expected one unit and --property options"
      if [[ "${args[0]}" == NetworkManager-dispatcher.service ]]; then
        show_dispatcher "${properties[@]}"
      else
        show_unit "${args[0]}" "${properties[@]}"
      fi
      ;;
    list-units)
      [[ "${options[*]}" == "--all --plain --no-legend" && ${#args[@]} -eq 1 ]] ||
        fail "fake systemctl list-units: expected --all --plain --no-legend PATTERN"
      matching_units "${args[0]}"
      for unit in "${matching[@]}"; do
        read_unit "${unit}"
        case "${unit_active}" in
          activating) sub=start ;;
          active) sub=running ;;
          failed) sub=failed ;;
          *) sub=dead ;;
        esac
        printf '%s loaded %s %s %s\n' "${unit}" "${unit_active}" "${sub}" "Day 1 unit run by the test harness"
      done
      ;;
    list-jobs)
      [[ "${options[*]}" == "--no-legend" && ${#args[@]} -eq 1 ]] || fail "fake systemctl list-jobs: expected --no-legend PATTERN"
      matching_units "${args[0]}"
      for unit in "${matching[@]}"; do
        read_unit "${unit}"
        job=$((job + 1))
        if [[ "${unit_job}" != - ]]; then
          printf '%s %s start %s\n' "${job}" "${unit}" "${unit_job}"
        fi
      done
      ;;
    *) fail "fake systemctl: unexpected command ${command}" ;;
  esac
}

if [[ "${tool}" == systemctl ]]; then
  fake_systemctl "$@"
  exit 0
fi

if [[ "${tool}" == ostree ]]; then
  [[ "$*" == "admin status" ]] || fail "fake ostree: only 'admin status' is expected"
  if [[ -f "${knobs}/ostree-exit" ]]; then
    read -r status <"${knobs}/ostree-exit" || true
    printf 'error: opening sysroot: fake failure\n' >&2
    exit "${status}"
  fi
  slurp "${knobs}/ostree-status"
  printf '%s' "${REPLY}"
  exit 0
fi

fail "fakebin.sh called as ${tool}"
