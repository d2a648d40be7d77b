#!/bin/sh
# One-shot of docker-compose.yml: waits for the Temporal server and its
# namespace, then registers the search attributes the workflows set (the same
# list scripts/stack.sh passes to the local dev server). Safe to run again.
set -eu
ns=${TEMPORAL_NAMESPACE:-default}
attrs="EventId BuyerId CheckoutState QueueState"

i=0
until temporal operator namespace describe --namespace "$ns" >/dev/null 2>&1; do
  i=$((i + 1))
  [ "$i" -le 90 ] || { echo "namespace $ns did not appear on $TEMPORAL_ADDRESS" >&2; exit 1; }
  sleep 2
done

existing=$(temporal operator search-attribute list --namespace "$ns")
for name in $attrs; do
  if echo "$existing" | grep -qw "$name"; then
    echo "search attribute $name already registered"
  else
    temporal operator search-attribute create --namespace "$ns" --name "$name" --type Keyword
  fi
done
temporal operator search-attribute list --namespace "$ns"
