"""The kubeconfig `cox server` writes, and the one `cox config kubeconfig` prints, both work with kubectl."""
import stat
import subprocess

import yaml

from controlplane.apiserver.rest import kubeconfig
from tests.rest.conftest import Kubectl
from tests.support.control_plane import cox_command, cox_env


def test_server_writes_an_owner_only_kubeconfig(server, kubectl):
    path = server.data_dir / "kubeconfig.yaml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "default" in kubectl("get", "ns", "-o", "name").stdout


def test_cox_config_kubeconfig_prints_one_kubectl_uses(server, tmp_path):
    rest_url = yaml.safe_load((server.data_dir / "kubeconfig.yaml").read_text())["clusters"][0]["cluster"]["server"]
    printed = subprocess.run(cox_command("config", "kubeconfig", "--server", rest_url,
                                         "--config", str(server.config_path)),
                             capture_output=True, text=True, env=cox_env(server.home), check=True).stdout
    (tmp_path / "kubeconfig").write_text(printed)
    assert "namespace/default" in Kubectl(tmp_path / "kubeconfig", tmp_path)("get", "ns", "-o", "name").stdout


def test_the_default_rest_address_is_the_grpc_port_plus_one():
    assert kubeconfig.rest_server_for("10.0.0.1:6443") == "https://10.0.0.1:6444"
    assert kubeconfig.rest_server_for("[::1]:6443") == "https://[::1]:6444"
