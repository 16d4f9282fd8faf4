"""The configuration file's checks and the value format, with no server: text and bytes in, out."""
import base64

import pytest

from controlplane.apiserver.encryption import names
from controlplane.apiserver.encryption.config import ConfigError, parse, render_default
from controlplane.apiserver.encryption.transformer import DecryptError, Transformer, value_prefix

KEY_A, KEY_B = b"a" * 32, b"b" * 32
RESOURCES = ("secrets", "configmaps")


def config_text(*providers: str) -> str:
    return ("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n"
            "- resources: [secrets]\n  providers:\n" + "".join(f"  - {p}\n" for p in providers))


def aesgcm(*keys: tuple[str, bytes]) -> str:
    listed = ", ".join(f"{{name: {n}, secret: {base64.b64encode(s).decode()}}}" for n, s in keys)
    return f"aesgcm: {{keys: [{listed}]}}"


def transformer(text: str) -> Transformer:
    return Transformer(parse(text, known_resources=RESOURCES).providers_for("secrets"))


@pytest.mark.parametrize("text, message", [
    (config_text("aescbc: {keys: [{name: k, secret: YQ==}]}"),
     'resources[0].providers[0]: unknown provider "aescbc" (supported: aesgcm, chacha20poly1305, identity)'),
    (config_text("aesgcm: {keys: [{name: k, secret: 'not base64!'}]}"),
     "resources[0].providers[0].aesgcm.keys[0].secret: not base64"),
    (config_text(f"aesgcm: {{keys: [{{name: k, secret: {base64.b64encode(b'x' * 10).decode()}}}]}}"),
     "resources[0].providers[0].aesgcm.keys[0].secret: 10 bytes, must be 16 or 24 or 32 bytes (base64-encoded)"),
    (config_text("aesgcm: {keys: [{secret: YQ==}]}"), "resources[0].providers[0].aesgcm.keys[0].name: required"),
    (config_text("aesgcm: {keys: [{name: 'a:b', secret: YQ==}]}"),
     'resources[0].providers[0].aesgcm.keys[0].name: "a:b" must not contain ":" (it ends the stored prefix)'),
    (config_text(aesgcm(("k", KEY_A), ("k", KEY_B))), "resources[0].providers[0].aesgcm.keys: key names must be unique"),
    (config_text("identity: {}", "aesgcm: {keys: []}"),
     "resources[0].providers[1].aesgcm.keys: required, a non-empty list"),
    (config_text("identity: {cache: 1}"), "resources[0].providers[0].identity: takes no settings"),
    (config_text("{identity: {}, aesgcm: {}}"),
     "resources[0].providers[0]: must name exactly one provider (aesgcm, chacha20poly1305, identity)"),
    (config_text("identity: {}").replace("[secrets]", "[sekrets]"),
     'resources[0].resources[0]: unknown resource "sekrets" (a plural such as "secrets"; '
     'group wildcards are not supported)'),
    (config_text("identity: {}").replace("kind: EncryptionConfiguration", "kind: Secret"),
     'kind: must be "EncryptionConfiguration", not "Secret"'),
    (config_text("identity: {}").replace("/v1", "/v2"),
     'apiVersion: must be "apiserver.config.k8s.io/v1", not "apiserver.config.k8s.io/v2"'),
    (config_text("identity: {}") + "extra: 1\n", "extra: unknown field"),
])
def test_a_bad_configuration_is_refused_naming_the_field(text, message):
    with pytest.raises(ConfigError) as e:
        parse(text, known_resources=RESOURCES)
    assert str(e.value) == message


def test_a_chacha20poly1305_key_must_be_32_bytes():
    text = config_text(f"chacha20poly1305: {{keys: [{{name: k, secret: {base64.b64encode(b'x' * 16).decode()}}}]}}")
    with pytest.raises(ConfigError, match=r"chacha20poly1305.keys\[0\].secret: 16 bytes, must be 32 bytes"):
        parse(text, known_resources=RESOURCES)


def test_the_default_configuration_encrypts_secrets_and_still_reads_plain_text():
    config = parse(render_default(KEY_A), known_resources=RESOURCES)
    providers = config.providers_for("secrets")
    assert [p.type for p in providers] == [names.AESGCM, names.IDENTITY]
    assert providers[0].keys[0].secret == KEY_A
    assert config.providers_for("configmaps") is None


@pytest.mark.parametrize("provider", [aesgcm(("k1", KEY_A)),
                                      f"chacha20poly1305: {{keys: [{{name: k1, secret: "
                                      f"{base64.b64encode(KEY_A).decode()}}}]}}"])
def test_a_value_is_prefixed_sealed_under_a_fresh_nonce_and_bound_to_its_key(provider):
    t = transformer(config_text(provider))
    kind = provider.split(":")[0]
    one, two = t.encrypt("/registry/secrets/ns/a", b"hunter2"), t.encrypt("/registry/secrets/ns/a", b"hunter2")
    assert one.startswith(value_prefix(kind, "k1")) and one.startswith(f"k8s:enc:{kind}:v1:k1:".encode())
    assert one != two and b"hunter2" not in one
    assert t.decrypt("/registry/secrets/ns/a", one) == (b"hunter2", False)
    with pytest.raises(DecryptError, match=r"/registry/secrets/ns/b: fails authentication .* key \"k1\""):
        t.decrypt("/registry/secrets/ns/b", one)
    tampered = one[:-1] + bytes([one[-1] ^ 1])
    with pytest.raises(DecryptError, match="altered"):
        t.decrypt("/registry/secrets/ns/a", tampered)


def test_old_keys_and_plain_text_read_as_stale_and_unknown_keys_fail_naming_the_key():
    old = transformer(config_text(aesgcm(("old", KEY_A)), "identity: {}"))
    both = transformer(config_text(aesgcm(("new", KEY_B), ("old", KEY_A)), "identity: {}"))
    new_only = transformer(config_text(aesgcm(("new", KEY_B))))
    key = "/registry/secrets/ns/s"
    under_old = old.encrypt(key, b"v")
    assert both.decrypt(key, under_old) == (b"v", True)
    assert both.decrypt(key, b"\x0aplain") == (b"\x0aplain", True)
    assert both.encrypt(key, b"v").startswith(b"k8s:enc:aesgcm:v1:new:")
    with pytest.raises(DecryptError, match='encrypted by aesgcm v1 with key "old", which the encryption '
                                           'configuration does not have'):
        new_only.decrypt(key, under_old)
    with pytest.raises(DecryptError, match="plain text, and the encryption configuration lists no identity"):
        new_only.decrypt(key, b"\x0aplain")
    identity_first = transformer(config_text("identity: {}", aesgcm(("old", KEY_A))))
    assert identity_first.encrypt(key, b"v") == b"v"
    assert identity_first.decrypt(key, under_old) == (b"v", True)
    assert identity_first.decrypt(key, b"v") == (b"v", False)
