"""First start of a server: the data directory and its credentials.

DATA/
  state.db        the SQLite store (when no --datastore is given)
  tls/            ca.crt, ca.key, server.crt, server.key, the client
                  certificate the server shows agents (system-apiserver.crt/key),
                  and signing.key for the tokens it signs (signedtokens.py)
  tokens          static bearer tokens (auth.TokenFile)
  admin.yaml      client config for the admin
  node-token      the join token agents present: K10<ca sha256>::node:<secret>;
                  its secret only lets them ask for a node credential

The join token pins the CA by hash (client/join.py), and the server presents
the CA with its certificate so that a joining agent can fetch it.
"""
import dataclasses
import pathlib

from controlplane.api.wellknown import APISERVER_CLIENT_CN
from controlplane.apiserver import auth, filemodes, signedtokens, tls
from controlplane.client.config import ClientConfig
from controlplane.client.join import make_join_token

ADMIN_USER = auth.User("admin", (auth.ADMIN_GROUP,))
# Who the join token's secret is: it may only ask for a node credential (apiserver/nodecredentials.py).
BOOTSTRAP_USER = auth.User("system:bootstrap:join-token", (auth.BOOTSTRAP_GROUP,))
# Before node credentials the same secret was every node at once; a server upgraded in place demotes it.
LEGACY_NODE_USER = "system:node"
# The control plane's own components, each with its own identity and only the rights RBAC's default
# policy binds to it (authz/policy.py), as kube-scheduler and kube-controller-manager have.
COMPONENT_USERS = [auth.User(name) for name in ("system:kube-controller-manager", "system:kube-scheduler")]


@dataclasses.dataclass(frozen=True)
class Credentials:
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes
    tokens: auth.TokenFile
    admin_token: str
    join_token: str
    agent_client_cert: tuple[bytes, bytes]  # (cert, key) presented to node agents
    component_tokens: dict[str, str]         # user name -> token, for COMPONENT_USERS
    signing_key: bytes                        # signs people's credentials and service account tokens


def prepare(data_dir: pathlib.Path, *, names: list[str]) -> Credentials:
    filemodes.tighten(data_dir)
    ca_pem, cert_pem, key_pem = tls.ensure_serving_cert(data_dir / "tls", names)
    tokens = auth.TokenFile(data_dir / "tokens")
    admin_token = tokens.token_for(ADMIN_USER.name) or tokens.add(ADMIN_USER)
    node_secret = (tokens.token_for(BOOTSTRAP_USER.name) or tokens.rename(LEGACY_NODE_USER, BOOTSTRAP_USER)
                   or tokens.add(BOOTSTRAP_USER))
    token = make_join_token(tls.ca_hash(ca_pem), node_secret)
    (data_dir / "node-token").write_text(token + "\n")
    (data_dir / "node-token").chmod(0o600)
    # rename: a component's token keeps working; only its groups change (no longer system:masters).
    components = {u.name: tokens.rename(u.name, u) or tokens.add(u) for u in COMPONENT_USERS}
    return Credentials(ca_pem, cert_pem, key_pem, tokens, admin_token, token,
                       tls.ensure_client_cert(data_dir / "tls", APISERVER_CLIENT_CN), components,
                       signedtokens.ensure_key(data_dir / "tls"))


def write_admin_config(data_dir: pathlib.Path, creds: Credentials, server: str,
                       extra_paths: list[pathlib.Path] = ()) -> None:
    config = ClientConfig(server=server, ca=creds.ca_pem.decode(), token=creds.admin_token)
    for path in (data_dir / "admin.yaml", *extra_paths):
        config.write(path)
