"""The official Kubernetes Python client (`kubernetes` from PyPI) lists, watches and creates through the façade."""
import threading

import kubernetes



def _api_client(server) -> kubernetes.client.ApiClient:
    return kubernetes.config.new_client_from_config(config_file=str(server.data_dir / "kubeconfig.yaml"))


def test_list_pods_create_a_deployment_and_watch_it(server, namespace):
    api = _api_client(server)
    try:
        core, apps = kubernetes.client.CoreV1Api(api), kubernetes.client.AppsV1Api(api)
        assert core.list_namespaced_pod(namespace).items == []
        assert "kube-system" in [n.metadata.name for n in core.list_namespace().items]
        events, started = [], threading.Event()

        def watch():
            w = kubernetes.watch.Watch()
            started.set()
            for event in w.stream(apps.list_namespaced_deployment, namespace, timeout_seconds=10):
                events.append((event["type"], event["object"].metadata.name))
                if event["type"] == "ADDED":
                    w.stop()

        watcher = threading.Thread(target=watch)
        watcher.start()
        started.wait()
        body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "py"},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "py"}},
                         "template": {"metadata": {"labels": {"app": "py"}},
                                      "spec": {"containers": [{"name": "c", "image": "busybox:local"}]}}}}
        created = apps.create_namespaced_deployment(namespace, body)
        assert created.metadata.uid and created.spec.replicas == 1
        watcher.join(15)
        assert ("ADDED", "py") in events
        assert apps.read_namespaced_deployment("py", namespace).spec.template.spec.containers[0].image == \
            "busybox:local"
        try:
            apps.create_namespaced_deployment(namespace, body)
            raise AssertionError("created twice")
        except kubernetes.client.ApiException as e:
            assert e.status == 409 and "already exists" in e.body
    finally:
        api.close()
