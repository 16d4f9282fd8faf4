"""`cox run`, `expose`, `delete --all`, `explain`, `api-resources` and `completion`, as kubectl users type them."""
import json
import subprocess


def test_run_makes_the_pod_kubectl_makes(cox, namespace):
    printed = cox("run", "web", "-n", namespace, "--image=busybox:local", "--port=8080", "--env", "A=b",
                  "--restart=Never", "--dry-run=client", "-o", "json", "--command", "--", "sleep", "-1").stdout
    pod = json.loads(printed)
    assert (pod["metadata"]["labels"], pod["spec"]["restartPolicy"]) == ({"run": "web"}, "Never")
    assert pod["spec"]["containers"] == [{"name": "web", "image": "busybox:local", "command": ["sleep", "-1"],
                                          "ports": [{"containerPort": 8080}], "env": [{"name": "A", "value": "b"}]}]
    assert cox("get", "pods", "-n", namespace, "-o", "name").stdout == ""  # a client dry run sends nothing
    assert cox("run", "web", "-n", namespace, "--image=busybox:local", "--port=8080", "--", "sleep", "9"
               ).stdout == "pod/web created\n"
    made = json.loads(cox("get", "pod", "web", "-n", namespace, "-o", "json").stdout)
    assert made["spec"]["containers"][0]["args"] == ["sleep", "9"]
    refused = cox("run", "x", "-it", "--image=busybox:local", "-n", namespace, ok=False)
    assert refused.returncode == 1 and "cox exec -it" in refused.stderr


def test_expose_a_pod_and_a_deployment(cox, namespace):
    cox("run", "web", "-n", namespace, "--image=busybox:local", "--port=8080")
    assert cox("expose", "pod/web", "-n", namespace).stdout == "service/web exposed\n"
    cox("expose", "pod", "web", "-n", namespace, "--port=80", "--target-port=8080", "--name=web80",
        "--type=NodePort")
    service = json.loads(cox("get", "svc", "web80", "-n", namespace, "-o", "json").stdout)
    assert service["spec"]["selector"] == {"run": "web"} and service["spec"]["type"] == "NodePort"
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(80, 8080)]
    assert json.loads(cox("get", "svc", "web", "-n", namespace, "-o", "json").stdout)["spec"]["ports"][0][
        "port"] == 8080  # from the container's declared port
    cox("apply", "-n", namespace, "-f", "-", stdin=json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app"},
        "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": {"metadata": {"labels": {"app": "a"}},
                 "spec": {"containers": [{"name": "c", "image": "busybox:local"}]}}}}))
    missing = cox("expose", "deploy/app", "-n", namespace, ok=False)
    assert missing.returncode == 1 and "couldn't find port" in missing.stderr
    cox("expose", "deploy/app", "-n", namespace, "--port=81")
    assert cox("get", "svc", "app", "-n", namespace, "-o", "jsonpath={.spec.selector.app}").stdout == "a"


def test_delete_all(cox, namespace):
    for name in ("a", "b"):
        cox("run", name, "-n", namespace, "--image=busybox:local")
    assert cox("delete", "pods", "--all", "-n", namespace, "--grace-period=0").stdout == \
        'pod "a" deleted\npod "b" deleted\n'
    bare = cox("delete", "pods", "-n", namespace, ok=False)
    assert bare.returncode == 1 and "--all" in bare.stderr


def test_explain_and_api_resources(cox):
    text = cox("explain", "pod.spec.containers").stdout
    assert text.startswith("KIND:       Pod\nVERSION:    v1\n\nFIELD: containers <[]Container>\n")
    assert "  image\t<string>" in text and "  env\t<[]EnvVar>" in text
    assert "FIELD: labels <map[string]string>" in cox("explain", "deployments.spec.template.metadata.labels").stdout
    missing = cox("explain", "deploy.spec.nope", ok=False)
    assert (missing.returncode, missing.stderr) == (1, 'error: field "nope" does not exist in deployment.spec\n')
    rows = [line.split() for line in cox("api-resources").stdout.splitlines()]
    assert rows[0] == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert ["deployments", "deploy", "apps/v1", "true", "Deployment"] in rows
    assert "namespaces\n" in cox("api-resources", "--namespaced=false", "-o", "name").stdout


def test_bash_completion_completes_commands_kinds_and_names(cox, namespace, tmp_path):
    (tmp_path / "complete.sh").write_text(cox("completion", "bash").stdout)
    cox("run", "pod-one", "-n", namespace, "--image=busybox:local")
    # `cox` in the script is this checkout's, with the test server's config.
    shim = f"cox() {{ {' '.join(cox.command())} \"$@\"; }}"

    def complete(*words: str) -> list[str]:
        script = (f"{shim}\nsource {tmp_path / 'complete.sh'}\nCOMP_WORDS=({' '.join(words)})\n"
                  f"COMP_CWORD={len(words) - 1}\n_cox\necho \"${{COMPREPLY[*]}}\"")
        return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=cox.env(),
                              timeout=60).stdout.split()
    assert "get" in complete("cox", "ge") and "label" in complete("cox", "la")
    assert complete("cox", "get", "deploym") == ["deployments"]
    assert complete("cox", "get", "--show-l") == ["--show-labels"]
    assert complete("cox", "get", "pods", "-n", namespace, "pod-") == ["pod-one"]
    assert complete("cox", "get", "pods", "pod-") == []  # the default namespace has none
    assert cox("completion", "zsh").stdout.startswith("autoload -U +X compinit")
