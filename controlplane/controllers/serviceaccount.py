"""ServiceAccounts: a `default` account in every namespace, and a token for every account.

The token lives in a Secret the pods of that account get mounted (by the
kubelet) at /var/run/secrets/kubernetes.io/serviceaccount:

    Secret <account>-token, type kubernetes.io/service-account-token
      annotations: kubernetes.io/service-account.name: <account>
                   kubernetes.io/service-account.uid:  <account uid>
      data: token      cox-sa:<namespace>:<secret name>:<random>
            ca.crt     the cluster CA (to verify the API server)
            namespace  <namespace>
      ownerReferences: the ServiceAccount (so the token goes with it)

and the account lists it in `secrets`. The API server authenticates the token
by looking up the Secret it names and comparing the whole token in constant
time, and checks that the account still exists with the recorded uid; the
caller is then system:serviceaccount:<namespace>:<account>. Deleting the
Secret or the account revokes the token at once; this controller makes a new
one for an account that still exists.
"""
from google.protobuf.message import Message

from controlplane.api.kinds import KINDS
from controlplane.api.serviceaccounts import (DEFAULT_ACCOUNT, NAME_ANNOTATION, TOKEN_TYPE, UID_ANNOTATION,
                                              make_token, token_is_current, token_secret_name)
from controlplane.api.v1 import meta_pb2
from controlplane.client import errors
from controlplane.controllers.base import Context, Controller
from controlplane.controllers.ownership import clone
from controlplane.controllers.pods import owner_reference

class ServiceAccountController(Controller):
    """Keys: ("ns", namespace) ensures the default account; (namespace, name) an account's token."""

    name = "serviceaccount"
    workers = 2

    def __init__(self, ctx: Context):
        super().__init__(ctx)
        self.namespaces = ctx.informers.informer("Namespace")
        self.accounts = ctx.informers.informer("ServiceAccount")
        self.secrets = ctx.informers.informer("Secret")
        self.account_api = ctx.client.resource("ServiceAccount")
        self.secret_api = ctx.client.resource("Secret")
        self.ca = ctx.client.config.ca.encode()
        self.follow(self.namespaces, lambda ns: ("ns", ns.metadata.name))
        self.follow(self.accounts)
        self.accounts.add_handler(on_delete=lambda sa: self.queue.add(("ns", sa.metadata.namespace)))
        self.follow(self.secrets, self._account_key)

    @staticmethod
    def _account_key(secret: Message):
        if secret.type != TOKEN_TYPE or NAME_ANNOTATION not in secret.metadata.annotations:
            return None
        return secret.metadata.namespace, secret.metadata.annotations[NAME_ANNOTATION]

    async def sync(self, key) -> None:
        if key[0] == "ns":
            await self._ensure_default(key[1])
        else:
            await self._ensure_token(*key)

    async def _ensure_default(self, namespace: str) -> None:
        ns = self.namespaces.get(namespace)
        if ns is None or ns.metadata.HasField("deletion_timestamp") or \
                self.accounts.get(DEFAULT_ACCOUNT, namespace) is not None:
            return
        try:
            await self.account_api.create(KINDS["ServiceAccount"].new(
                metadata={"name": DEFAULT_ACCOUNT, "namespace": namespace}))
        except errors.AlreadyExists:
            pass
        except errors.Forbidden:
            pass  # the namespace began terminating meanwhile

    async def _ensure_token(self, namespace: str, name: str) -> None:
        account = self.accounts.get(name, namespace)
        if account is None or account.metadata.HasField("deletion_timestamp"):
            return
        secret_name = token_secret_name(name)
        secret = self.secrets.get(secret_name, namespace)
        if secret is not None and not token_is_current(secret, account):
            if secret.type == TOKEN_TYPE and secret.metadata.annotations.get(NAME_ANNOTATION) == name:
                await self._delete_stale(secret)  # left from an account of the same name
            return  # a user's own Secret of that name, or the stale one's deletion will requeue us
        if secret is None:
            secret = await self._create_token(account, secret_name)
        if not any(ref.name == secret_name for ref in account.secrets):
            new = clone(account)
            new.secrets.append(meta_pb2.ObjectReference(name=secret_name))
            await self.account_api.update(new)

    async def _delete_stale(self, secret: Message) -> None:
        try:
            await self.secret_api.delete(secret.metadata.name, namespace=secret.metadata.namespace,
                                         uid=secret.metadata.uid)
        except errors.NotFound:
            pass

    async def _create_token(self, account: Message, secret_name: str) -> Message:
        namespace = account.metadata.namespace
        secret = KINDS["Secret"].new(type=TOKEN_TYPE)
        secret.metadata.name = secret_name
        secret.metadata.namespace = namespace
        secret.metadata.annotations[NAME_ANNOTATION] = account.metadata.name
        secret.metadata.annotations[UID_ANNOTATION] = account.metadata.uid
        secret.metadata.owner_references.append(owner_reference(account))
        secret.data["token"] = make_token(namespace, secret_name).encode()
        secret.data["ca.crt"] = self.ca
        secret.data["namespace"] = namespace.encode()
        return await self.secret_api.create(secret)
