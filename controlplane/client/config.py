"""The client config file: where the API server is, its CA, and a token.

    server: 127.0.0.1:6443   # or several, for a client that moves on when its server is gone:
                             # 10.0.0.1:6443,10.0.0.2:6443 or a YAML list of them
    ca: |
      -----BEGIN CERTIFICATE-----
      ...
    token: 3f1c...
    expires: 1767225600      # optional: when the token stops working (a node's credential)

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
    server: str    # host:port, or several comma-separated (client/targets.py)
    ca: str        # PEM of the CA that signed the server's certificate
    token: str
    expires: int = 0   # when the token stops working, in Unix seconds; 0: it does not expire

    def render(self) -> str:
        fields = {"server": self.server, "ca": self.ca, "token": self.token}
        if self.expires:
            fields["expires"] = self.expires
        return "# coxswain client config\n" + yaml.safe_dump(fields, default_style=None, sort_keys=False)

    def write(self, path: pathlib.Path) -> None:
        """Write the file whole or not at all (a reader never sees half of a renewed credential)."""
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.tmp")
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.render())
        os.replace(scratch, path)


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
    server = data["server"]
    if isinstance(server, list):
        server = ",".join(str(s) for s in server)
    try:
        expires = int(data.get("expires") or 0)
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: expires: not a number of seconds") from None
    return ClientConfig(server=str(server), ca=str(data["ca"]), token=str(data["token"]),
                        expires=expires)
