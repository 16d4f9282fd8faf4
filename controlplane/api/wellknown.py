"""Names that several rooms must spell the same way: annotations, TLS names, identities."""

# The agent's serving certificate is self-signed; its SHA-256 (of the DER) is
# published on the Node under this annotation, and the API server pins it.
AGENT_CERT_ANNOTATION = "coxswain.io/agent-cert-sha256"
# The name the agent's certificate carries and the API server checks for.
AGENT_TLS_NAME = "coxswain-agent"
# The common name of the client certificate the API server presents to agents.
APISERVER_CLIENT_CN = "system:apiserver"
# A mirror pod (the API's view of a static pod) carries this annotation.
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
# The namespace of the Leases nodes renew to say they are alive.
NODE_LEASE_NAMESPACE = "kube-node-lease"
# Where the built-in local-path provisioner keeps a node's volumes (each a directory), published
# by the node's agent on its Node (as k3s's provisioner is told per node by its nodePathMap).
LOCAL_PATH_DIR_ANNOTATION = "coxswain.io/local-path-dir"
# The provisioner's name, in StorageClasses and on the PersistentVolumes it makes.
LOCAL_PATH_PROVISIONER = "coxswain.io/local-path"
PROVISIONED_BY_ANNOTATION = "pv.kubernetes.io/provisioned-by"
# The node the scheduler chose for a pod whose claim waits for its first consumer.
SELECTED_NODE_ANNOTATION = "volume.kubernetes.io/selected-node"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
# Finalizers that keep a claim while a pod uses it and a volume while it is bound.
PROTECTION_FINALIZERS = {"PersistentVolumeClaim": "kubernetes.io/pvc-protection",
                         "PersistentVolume": "kubernetes.io/pv-protection"}

# The loadBalancerClass coxswain's service controller answers for (as does a LoadBalancer Service with
# no class); a Service of any other class is left to its own implementation.
LOAD_BALANCER_CLASS = "coxswain.io/servicelb"
# The Service types that answer on node addresses (NodePorts): validation and the node's proxy agree.
EXTERNAL_SERVICE_TYPES = ("NodePort", "LoadBalancer")
