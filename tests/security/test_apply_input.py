"""`cox apply` given bytes that are no manifest: one line naming the input and where, exit 1, nothing stored."""
import asyncio

import pytest

from controlplane.apiserver import bootstrap
from tests.support.control_plane import cox_command, cox_env

CONFIG_MAP = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: '1'\n"


@pytest.fixture
def cox(apiserver, tmp_path):
    """Run `cox ARGS` against the in-process server; (exit code, stdout, stderr)."""
    config = tmp_path / "admin.yaml"
    bootstrap.write_admin_config(tmp_path, apiserver.credentials, apiserver.address)

    async def run(*args: str, stdin: bytes = b"") -> tuple[int, str, str]:
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        proc = await asyncio.create_subprocess_exec(
            *cox_command(*args, "--config", str(config)), env=cox_env(home), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate(stdin)
        return proc.returncode, out.decode(), err.decode()
    return run


async def assert_nothing_stored(client):
    assert (await client.resource("ConfigMap").list(namespace="default")).items == []


async def test_invalid_utf8_on_stdin(cox, client):
    code, out, err = await cox("apply", "-f", "-", stdin=CONFIG_MAP.replace(b"'1'", b"'\xff\xfe'"))
    offset = CONFIG_MAP.index(b"'1'") + 1
    assert (code, out) == (1, "")
    assert err.splitlines() == [f"error: standard input: not UTF-8 text: invalid byte 0xff at offset {offset}"]
    await assert_nothing_stored(client)


async def test_invalid_utf8_in_a_file(cox, client, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"\xc3" + CONFIG_MAP)
    code, out, err = await cox("apply", "-f", str(path))
    assert (code, out) == (1, "")
    assert err.splitlines() == [f"error: {path}: not UTF-8 text: invalid byte 0xc3 at offset 0"]
    await assert_nothing_stored(client)


@pytest.mark.parametrize("text, problem", [
    (CONFIG_MAP.replace(b"  a: '1'", b"\ta: '1'"), "found a tab, which YAML does not allow for indentation (use spaces) at line 6, column 1"),
    (CONFIG_MAP + b"  b: [unclosed\n", "expected ',' or ']'"),
])
async def test_yaml_that_does_not_parse_is_one_line(cox, client, text, problem):
    code, out, err = await cox("apply", "-f", "-", stdin=text)
    assert (code, out) == (1, "")
    assert len(err.splitlines()) == 1 and err.startswith("error: standard input: document 1: ") and problem in err, err
    assert " at line " in err
    await assert_nothing_stored(client)
