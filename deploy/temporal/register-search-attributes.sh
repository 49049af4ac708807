#!/bin/sh
# One-shot job (temporalio/admin-tools): register the orders' search attributes in our namespace,
# skipping those already there, so it can run on every start. The list is the job's
# SEARCH_ATTRIBUTES ("Name=Type ..."), kept equal to orders/visibility.py by tests/deployment.
#   TEMPORAL_ADDRESS, NAMESPACE, SEARCH_ATTRIBUTES
set -eu
. "$(dirname "$0")/lib.sh"
: "${TEMPORAL_ADDRESS:?}" "${NAMESPACE:?}" "${SEARCH_ATTRIBUTES:?}"
ADDRESS=$(temporal_address)

list_existing() {
  existing=$(temporal operator search-attribute list --namespace "$NAMESPACE" --address "$ADDRESS")
}
# A namespace just created takes a few seconds to be known to every part of the server.
retry "Search attributes of ${NAMESPACE}" list_existing

for pair in $SEARCH_ATTRIBUTES; do
  name=${pair%%=*}
  type=${pair#*=}
  if printf '%s\n' "$existing" | grep -qw -- "$name"; then
    echo "Search attribute ${name} exists"
  else
    temporal operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type" --address "$ADDRESS"
    echo "Search attribute ${name} (${type}) registered"
  fi
done
