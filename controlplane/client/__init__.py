"""The client library (client-go's room): typed async client, config, informers.

Every component — scheduler, controllers, kubelet, proxy, CLI — reaches data
only through this package, never the store.
"""
from controlplane.client.client import Client, Resource
from controlplane.client.config import ClientConfig, load as load_config
from controlplane.client.informer import Informer, InformerFactory

__all__ = ["Client", "Resource", "ClientConfig", "load_config", "Informer", "InformerFactory"]
