# Sourced by the one-shot jobs' scripts (they run with `set -eu`).

# retry WHAT COMMAND...: run COMMAND until it succeeds, at most 30 times, 2 s apart.
retry() {
  what=$1
  shift
  attempt=0
  until "$@"; do
    attempt=$((attempt + 1))
    if [ "$attempt" -ge 30 ]; then
      echo "${what}: gave up after ${attempt} attempts" >&2
      exit 1
    fi
    echo "${what}: not yet (attempt ${attempt}), again in 2 s"
    sleep 2
  done
}

# temporal_address: TEMPORAL_ADDRESS with its host resolved to IPv4, as upstream's
# create-namespace.sh does (the CLI may otherwise try an IPv6 address nothing serves).
temporal_address() {
  host=${TEMPORAL_ADDRESS%:*}
  ip=$(getent ahosts "$host" | grep STREAM | head -1 | awk '{print $1}')
  echo "${ip:-$host}:${TEMPORAL_ADDRESS##*:}"
}
