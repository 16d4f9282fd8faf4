"""The Kubernetes REST API over the gRPC services, for kubectl and the Kubernetes client libraries.

README.md in this folder has the contract: which paths, which content
types, how errors map, and where authentication and authorization happen.
"""
