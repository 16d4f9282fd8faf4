"""`cox create role|rolebinding|serviceaccount|token`, `cox auth can-i`, `cox config new-user` as users type them."""
import subprocess

from tests.support.control_plane import cox_command, cox_env


def test_a_user_gets_a_config_a_role_and_a_yes(cox, namespace, server, tmp_path):
    config = tmp_path / "alice.yaml"
    minted = subprocess.run(cox_command("config", "new-user", "alice", "--group", "devs", "--data-dir",
                                        str(server.data_dir), "-o", str(config)),
                            capture_output=True, text=True, env=cox_env(server.home), timeout=60)
    assert minted.returncode == 0, minted.stderr
    assert config.stat().st_mode & 0o777 == 0o600

    def as_alice(*args, ok=True):
        run = subprocess.run(cox_command(*args, "--config", str(config)), capture_output=True, text=True,
                             env=cox_env(server.home), timeout=60)
        assert (run.returncode == 0) == ok, run.stdout + run.stderr
        return run

    assert as_alice("auth", "can-i", "list", "pods", "-n", namespace, ok=False).stdout.strip() == "no"
    assert 'User "alice" cannot list resource "pods"' in as_alice("get", "pods", "-n", namespace, ok=False).stderr
    assert cox("create", "role", "pod-reader", "--verb=get,list", "--resource=pods,deployments.apps",
               "-n", namespace).stdout.strip() == "role.rbac.authorization.k8s.io/pod-reader created"
    cox("create", "rolebinding", "devs-read", "--role=pod-reader", "--group=devs", "-n", namespace)
    assert as_alice("auth", "can-i", "list", "pods", "-n", namespace).stdout.strip() == "yes"
    assert as_alice("auth", "can-i", "list", "deployments.apps", "-n", namespace).stdout.strip() == "yes"
    assert as_alice("auth", "can-i", "delete", "pods", "-n", namespace, ok=False).stdout.strip() == "no"
    as_alice("get", "pods", "-n", namespace)
    bob = cox("auth", "can-i", "list", "pods", "-n", namespace, "--as", "bob", ok=False)
    assert (bob.returncode, bob.stdout.strip()) == (1, "no")
    assert cox("auth", "can-i", "list", "pods", "-n", namespace, "--as", "bob", "--as-group", "devs"
               ).stdout.strip() == "yes"
    table = cox("get", "rolebindings", "-n", namespace, "-o", "wide").stdout.splitlines()
    assert table[0].split()[:3] == ["NAME", "ROLE", "AGE"] and "Role/pod-reader" in table[1] and "devs" in table[1]


def test_refused_names_and_bad_input(cox, server):
    for args, message in ((("config", "new-user", "system:node:n1", "--data-dir", str(server.data_dir)), "names a node"),
                          (("config", "new-user", "x", "--group", "system:nodes", "--data-dir", str(server.data_dir)),
                           "reserved"),
                          (("create", "role", "r", "--verb=get", "--resource=gizmos"), "not a resource"),
                          (("create", "rolebinding", "b", "--user=a"), "exactly one of --role or --clusterrole"),
                          (("create", "token", "robot", "--duration", "soon"), "not a duration")):
        run = cox(*args, ok=False)
        assert run.returncode != 0 and message in run.stderr, run.stderr
        assert "Traceback" not in run.stderr


def test_service_account_token_from_the_cli(cox, namespace, server):
    cox("create", "serviceaccount", "robot", "-n", namespace)
    cox("create", "rolebinding", "robot-view", "--clusterrole=view", f"--serviceaccount={namespace}:robot",
        "-n", namespace)
    token = cox("create", "token", "robot", "-n", namespace, "--duration", "10m").stdout.strip()
    assert token.startswith("cox-sat.")
    admin = server.config_path.read_text()
    config = server.home / "robot.yaml"
    config.write_text("\n".join(line if not line.startswith("token:") else f"token: {token}"
                                for line in admin.splitlines()) + "\n")
    run = subprocess.run(cox_command("auth", "can-i", "list", "pods", "-n", namespace, "--config", str(config)),
                         capture_output=True, text=True, env=cox_env(server.home), timeout=60)
    assert run.stdout.strip() == "yes"
