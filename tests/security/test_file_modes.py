"""The server's credentials on disk: loosened modes are put back to private on the next start."""
import logging
import stat

from tests.support.control_plane import admin_client, running_apiserver

SECRETS = ["admin.yaml", "tokens", "node-token", "state.db", "tls/ca.key", "tls/server.key"]


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_first_start_makes_everything_private(tmp_path):
    data = tmp_path / "data"
    async with running_apiserver(data):
        assert mode(data) == 0o700 and mode(data / "tls") == 0o700
        assert {name: mode(data / name) for name in SECRETS} == {name: 0o600 for name in SECRETS}


async def test_a_restart_re_tightens_loosened_modes(tmp_path, caplog):
    data = tmp_path / "data"
    async with running_apiserver(data):
        pass
    data.chmod(0o755)
    (data / "tls").chmod(0o777)
    for name in SECRETS:
        (data / name).chmod(0o644)
    caplog.set_level(logging.WARNING)
    async with running_apiserver(data) as server:
        assert mode(data) == 0o700 and mode(data / "tls") == 0o700
        assert {name: mode(data / name) for name in SECRETS} == {name: 0o600 for name in SECRETS}
        assert "re-tightened the modes of" in caplog.text and "tls/ca.key" in caplog.text
        async with admin_client(server) as client:  # and the server works with them as before
            assert (await client.version()).user == "admin"


async def test_a_clean_restart_says_nothing(tmp_path, caplog):
    data = tmp_path / "data"
    async with running_apiserver(data):
        pass
    caplog.set_level(logging.WARNING)
    async with running_apiserver(data):
        assert "re-tightened" not in caplog.text
