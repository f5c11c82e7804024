log() {
  printf '%s\n' "$*"
}
