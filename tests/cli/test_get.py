"""`cox get`: tables, selectors, namespaces, output formats and -w."""
import json
import queue
import threading
import time

import yaml


def config_map(name: str, **labels) -> str:
    label_lines = "".join(f"\n    {k}: {v}" for k, v in labels.items())
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  labels:{label_lines or ' {}'}\ndata:\n  a: '1'\n"


def test_selectors_names_and_formats(cox, namespace):
    cox("apply", "-n", namespace, "-f", "-", stdin="---\n".join(
        [config_map("one", app="web"), config_map("two", app="db"), config_map("three", app="web")]))
    table = cox("get", "cm", "-n", namespace, "-l", "app=web").stdout.splitlines()
    assert table[0].split() == ["NAME", "DATA", "AGE"]
    assert [line.split()[0] for line in table[1:]] == ["one", "three"]
    assert cox("get", "configmaps", "-n", namespace, "--field-selector", "metadata.name=two",
               "-o", "name").stdout == "configmap/two\n"
    assert cox("get", "cm/one", "cm/two", "-n", namespace, "-o", "name").stdout == \
        "configmap/one\nconfigmap/two\n"
    listed = json.loads(cox("get", "cm", "-n", namespace, "-o", "json").stdout)
    assert listed["kind"] == "List" and len(listed["items"]) == 3
    single = yaml.safe_load(cox("get", "cm", "one", "-n", namespace, "-o", "yaml").stdout)
    assert (single["kind"], single["data"]) == ("ConfigMap", {"a": "1"})


def test_all_namespaces_adds_the_namespace_column(cox, namespace):
    cox("apply", "-n", namespace, "-f", "-", stdin=config_map("here"))
    lines = cox("get", "cm", "-A").stdout.splitlines()
    assert lines[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert [namespace, "here", "1"] in [line.split()[:3] for line in lines]


def test_empty_and_missing(cox, namespace):
    empty = cox("get", "pods", "-n", namespace)
    assert (empty.stdout, empty.stderr) == ("", f"No resources found in {namespace} namespace.\n")
    missing = cox("get", "pod", "nope", "-n", namespace, ok=False)
    assert missing.returncode == 1 and missing.stderr == 'error: pods "nope" not found\n'


def test_errors_are_one_line(cox, server, tmp_path):
    unknown = cox("get", "widgets", ok=False)
    assert unknown.returncode == 1
    assert unknown.stderr == 'error: the server doesn\'t have a resource type "widgets"\n'
    selector = cox("get", "pods", "-l", "app in (", ok=False)
    assert selector.returncode == 1 and len(selector.stderr.splitlines()) == 1
    assert selector.stderr.startswith("error: ")


async def test_nodes_table(cox, api):
    node = api.resource("Node").kind.new(
        metadata={"name": "cli-node", "labels": {"node-role.kubernetes.io/worker": ""}},
        status={"conditions": [{"type": "Ready", "status": "True"}], "node_info": {"kubelet_version": "v9.9"},
                "addresses": [{"type": "InternalIP", "address": "192.0.2.7"}]})
    await api.resource("Node").create(node)
    lines = cox("get", "nodes", "cli-node", "-o", "wide").stdout.splitlines()
    assert lines[0].split()[:6] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP"]
    name, status, roles, _age, version, address = lines[1].split()[:6]
    assert (name, status, roles, version, address) == ("cli-node", "Ready", "worker", "v9.9", "192.0.2.7")


def test_watch_prints_a_row_per_change(cox, namespace):
    cox("apply", "-n", namespace, "-f", "-", stdin=config_map("watched"))
    watcher = cox.popen("get", "cm", "-n", namespace, "-w")
    try:
        lines = _read_lines(watcher, 2)
        assert lines[0].split() == ["NAME", "DATA", "AGE"] and lines[1].split()[:2] == ["watched", "1"]
        changed = config_map("watched").replace("data:\n  a: '1'\n", "data:\n  a: '1'\n  b: '2'\n")
        cox("apply", "-n", namespace, "-f", "-", stdin=changed)
        assert _read_lines(watcher, 1)[0].split()[:2] == ["watched", "2"]
        cox("delete", "cm", "watched", "-n", namespace)
        assert _read_lines(watcher, 1)[0].split()[:2] == ["watched", "2"]
    finally:
        watcher.terminate()
        watcher.wait(10)


def _read_lines(process, count: int, timeout: float = 20) -> list[str]:
    """The next `count` lines the process prints, waiting at most `timeout` seconds."""
    if not hasattr(process, "lines"):
        process.lines = queue.Queue()
        threading.Thread(target=lambda: [process.lines.put(line) for line in process.stdout],
                         daemon=True).start()
    deadline = time.monotonic() + timeout
    lines = []
    while len(lines) < count:
        try:
            lines.append(process.lines.get(timeout=max(0.0, deadline - time.monotonic())).rstrip("\n"))
        except queue.Empty:
            raise AssertionError(f"no more output after {lines}") from None
    return lines


def test_several_kinds_at_once(cox, namespace):
    cox("apply", "-n", namespace, "-f", "-", stdin=config_map("settings") + "---\n" + (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: key\nstringData:\n  k: v\n"))
    blocks = cox("get", "cm,secret", "-n", namespace).stdout.split("\n\n")
    assert [b.splitlines()[0].split()[0] for b in blocks] == ["NAME", "NAME"]
    assert "configmap/settings" in blocks[0].split() and "secret/key" in blocks[1].split()
    names = cox("get", "secrets,configmaps", "-n", namespace, "-o", "name").stdout.splitlines()
    assert names.index("secret/key") < names.index("configmap/settings")
    listed = json.loads(cox("get", "cm,secret", "-n", namespace, "-o", "json").stdout)
    assert {(i["kind"], i["metadata"]["name"]) for i in listed["items"]} >= {("ConfigMap", "settings"),
                                                                            ("Secret", "key")}
    empty = cox("get", "all", "-n", namespace)
    assert (empty.stdout, empty.stderr) == ("", "No resources found\n")
    watching = cox("get", "cm,secret", "-w", ok=False)
    assert watching.returncode == 1 and "single resource type" in watching.stderr
