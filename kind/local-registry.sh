#!/usr/bin/env bash
# Once per laptop, after `kind create cluster --config kind/cluster.yaml`: a registry container
# on localhost:5001 that kind's nodes reach as kind-registry:5000, so `localhost:5001/...` works
# for pushing from the laptop and pulling on the nodes (kind's "local registry" set-up).
set -euo pipefail
cluster=imqcam-dagster
name=kind-registry
port=5001

if [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null || true)" != 'true' ]; then
  docker run -d --restart=always -p "127.0.0.1:${port}:5000" --network bridge --name "$name" registry:2.8.3
fi

# Tell each node's containerd that localhost:5001 is the registry container.
for node in $(kind get nodes --name "$cluster"); do
  docker exec "$node" mkdir -p "/etc/containerd/certs.d/localhost:${port}"
  printf '[host."http://%s:5000"]\n' "$name" | docker exec -i "$node" cp /dev/stdin "/etc/containerd/certs.d/localhost:${port}/hosts.toml"
done

if [ "$(docker inspect -f '{{json .NetworkSettings.Networks.kind}}' "$name")" = 'null' ]; then
  docker network connect kind "$name"
fi

# Let cluster tools discover the registry (KEP-1755).
kubectl --context "kind-${cluster}" apply -f - <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-registry-hosting
  namespace: kube-public
data:
  localRegistryHosting.v1: |
    host: "localhost:${port}"
    help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
YAML
