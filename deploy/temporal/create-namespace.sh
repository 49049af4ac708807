#!/bin/sh
# One-shot job (temporalio/admin-tools): wait for Temporal's frontend, then create our namespace
# unless it exists. After temporalio/samples-server compose/scripts/create-namespace.sh, plus a
# retention period (how long closed orders stay visible in the UI).
#   TEMPORAL_ADDRESS, NAMESPACE, NAMESPACE_RETENTION (e.g. 720h)
set -eu
. "$(dirname "$0")/lib.sh"
: "${TEMPORAL_ADDRESS:?}" "${NAMESPACE:?}"
RETENTION=${NAMESPACE_RETENTION:-720h}
ADDRESS=$(temporal_address)

retry "Temporal at ${ADDRESS}" temporal operator cluster health --address "$ADDRESS"
if temporal operator namespace describe --namespace "$NAMESPACE" --address "$ADDRESS" >/dev/null 2>&1; then
  echo "Namespace ${NAMESPACE} exists"
else
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" --address "$ADDRESS"
  echo "Namespace ${NAMESPACE} created (retention ${RETENTION})"
fi
