"""A default ServiceAccount in every namespace, with a token Secret."""
from controlplane.api import serviceaccounts as sa
from tests.controllers.support import eventually
from tests.support.objects import namespace


async def token_of(client, ns, name="default"):
    account = await client.resource("ServiceAccount").get(name, namespace=ns)
    if not account.secrets:
        return None
    return account, await client.resource("Secret").get(account.secrets[0].name, namespace=ns)


async def test_every_namespace_gets_a_default_account_with_a_token(client, manager, apiserver):
    await client.resource("Namespace").create(namespace("team"))
    for ns in ("default", "kube-system", "team"):
        account, secret = await eventually(lambda: _maybe(token_of(client, ns)))
        assert secret.metadata.name == "default-token" and secret.type == sa.TOKEN_TYPE
        assert secret.metadata.annotations[sa.UID_ANNOTATION] == account.metadata.uid
        assert secret.data["namespace"] == ns.encode()
        assert secret.data["ca.crt"] == apiserver.credentials.ca_pem
        assert sa.parse_token(secret.data["token"].decode()) == (ns, "default-token")
        assert secret.metadata.owner_references[0].uid == account.metadata.uid


async def test_a_deleted_token_or_account_is_replaced(client, manager):
    first_account, first = await eventually(lambda: _maybe(token_of(client, "default")))
    await client.resource("Secret").delete(first.metadata.name)

    async def new_token():
        found = await _maybe(token_of(client, "default"))
        return found and found[1].metadata.uid != first.metadata.uid and found
    _, second = await eventually(new_token)
    assert second.data["token"] != first.data["token"]
    await client.resource("ServiceAccount").delete("default")

    async def new_account():
        found = await _maybe(token_of(client, "default"))
        return found and found[0].metadata.uid != first_account.metadata.uid and \
            found[1].metadata.annotations[sa.UID_ANNOTATION] == found[0].metadata.uid and found
    await eventually(new_account)


def test_tokens_name_their_secret():
    token = sa.make_token("ns1", "builder-token")
    assert sa.parse_token(token) == ("ns1", "builder-token")
    assert len(token.rsplit(":", 1)[1]) >= 43
    assert sa.parse_token("cox-sa:ns::x") is None and sa.parse_token("abc") is None


async def _maybe(coroutine):
    try:
        return await coroutine
    except Exception:
        return None
