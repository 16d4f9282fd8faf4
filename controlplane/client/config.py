"""The client config file: where the API server is, its CA, and a token.

    server: 127.0.0.1:6443
    ca: |
      -----BEGIN CERTIFICATE-----
      ...
    token: 3f1c...

`cox server` writes one for the admin (DATA/admin.yaml, and ~/.cox/config).
Every client command reads --config, else $COX_CONFIG, else ~/.cox/config.
"""
import dataclasses
import os
import pathlib

import yaml


class ConfigError(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class ClientConfig:
    server: str    # host:port
    ca: str        # PEM of the CA that signed the server's certificate
    token: str

    def write(self, path: pathlib.Path) -> None:
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump({"server": self.server, "ca": self.ca, "token": self.token},
                              default_style=None, sort_keys=False)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("# coxswain client config\n" + text)


def default_path() -> pathlib.Path:
    return pathlib.Path(os.environ.get("COX_CONFIG") or pathlib.Path.home() / ".cox" / "config")


def load(path: str | os.PathLike | None = None) -> ClientConfig:
    path = pathlib.Path(path) if path else default_path()
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"no client config at {path}: start `cox server`, or pass --config") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with server, ca and token")
    missing = [k for k in ("server", "ca", "token") if not data.get(k)]
    if missing:
        raise ConfigError(f"{path}: missing {', '.join(missing)}")
    return ClientConfig(server=str(data["server"]), ca=str(data["ca"]), token=str(data["token"]))
