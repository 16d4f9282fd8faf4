"""The API server: coxswain's kube-apiserver room.

gRPC services over the store, one per kind (generated from proto/), plus
server reflection and health. Each request is authenticated (bearer token over
TLS), authorized, defaulted, validated and written to the store in a single
conditional write, so a rejected request changes nothing. List and Watch are
served from a per-kind watch cache fed by one store watch. Each server also
keeps Service default/kubernetes and its own address in its Endpoints
(kubernetesservice.py, advertise.py), so pods can find the API.
"""
