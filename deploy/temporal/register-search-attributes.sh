#!/bin/sh
# One-shot of docker-compose.yml: waits for the Temporal server, creates the
# namespace when missing, then registers the search attributes the workflows
# set (the same list scripts/stack.sh passes to the local dev server). Safe to
# run again.
set -eu
ns=${TEMPORAL_NAMESPACE:-default}
attrs="EventId BuyerId CheckoutState QueueState"

i=0
until temporal operator cluster health >/dev/null 2>&1; do
  i=$((i + 1))
  [ "$i" -le 90 ] || { echo "Temporal on $TEMPORAL_ADDRESS did not become healthy" >&2; exit 1; }
  sleep 2
done
if ! temporal operator namespace describe --namespace "$ns" >/dev/null 2>&1; then
  temporal operator namespace create --namespace "$ns" --retention 72h
fi

existing=$(temporal operator search-attribute list --namespace "$ns")
for name in $attrs; do
  if echo "$existing" | grep -qw "$name"; then
    echo "search attribute $name already registered"
  else
    temporal operator search-attribute create --namespace "$ns" --name "$name" --type Keyword
  fi
done
temporal operator search-attribute list --namespace "$ns"
