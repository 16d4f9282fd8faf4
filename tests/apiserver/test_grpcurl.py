"""The API is usable with plain grpcurl and no .proto files: reflection, TLS, bearer token."""
import asyncio
import json
import pathlib
import sys

import pytest

GRPCURL = str(pathlib.Path(sys.executable).parent / "grpcurl")


@pytest.fixture
def grpcurl(apiserver, tmp_path):
    ca = tmp_path / "ca.crt"
    ca.write_bytes(apiserver.credentials.ca_pem)

    async def run(*words, flags=(), data=None, token=apiserver.credentials.admin_token, check=True):
        """grpcurl [flags] ADDRESS words..., as its usage line has it."""
        argv = [GRPCURL, "-cacert", str(ca), *flags]
        if token:
            argv += ["-H", f"authorization: Bearer {token}"]
        if data is not None:
            argv += ["-d", json.dumps(data)]
        argv += [apiserver.address, *words]
        proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        if check and proc.returncode != 0:
            raise AssertionError(f"{argv} exited {proc.returncode}: {err.decode()}")
        return proc.returncode, out.decode(), err.decode()
    return run


async def test_list_and_describe_services(grpcurl):
    _, out, _ = await grpcurl("list")
    services = out.split()
    assert {"coxswain.v1.PodService", "coxswain.v1.DeploymentService", "grpc.health.v1.Health",
            "coxswain.v1.Cluster"} <= set(services)
    _, out, _ = await grpcurl("describe", "coxswain.v1.PodService")
    for method in ("Create", "Get", "List", "Watch", "Update", "UpdateStatus", "Delete", "Bind"):
        assert f"rpc {method}" in out
    _, out, _ = await grpcurl("describe", "coxswain.v1.PodSpec")
    assert "repeated .coxswain.v1.Container containers" in out


async def test_create_get_list_watch_pod_by_json(grpcurl):
    pod = {"metadata": {"name": "hello"},
           "spec": {"containers": [{"name": "main", "image": "busybox", "command": ["sleep", "60"]}]}}
    _, out, _ = await grpcurl("coxswain.v1.PodService/Create", data=pod)
    created = json.loads(out)
    assert created["metadata"]["namespace"] == "default" and created["status"]["phase"] == "Pending"
    _, out, _ = await grpcurl("coxswain.v1.PodService/Get", data={"namespace": "default", "name": "hello"})
    assert json.loads(out)["metadata"]["uid"] == created["metadata"]["uid"]
    _, out, _ = await grpcurl("coxswain.v1.PodService/List", data={"namespace": "default"})
    assert [p["metadata"]["name"] for p in json.loads(out)["items"]] == ["hello"]
    # A watch runs until -max-time cuts it; what it printed first is the current pod.
    _, out, _ = await grpcurl("coxswain.v1.PodService/Watch", flags=["-max-time", "2"],
                              data={"namespace": "default"}, check=False)
    first = json.loads(out[: out.index("\n}") + 2])
    assert first["type"] == "ADDED" and first["object"]["metadata"]["name"] == "hello"


async def test_anonymous_calls_are_refused_but_health_answers(grpcurl, apiserver):
    code, _, err = await grpcurl("list", token=None, check=False)
    assert code != 0 and "Unauthenticated" in err
    code, _, err = await grpcurl("coxswain.v1.PodService/List", data={}, token=None, check=False,
                                 flags=["-reflect-header", f"authorization: Bearer {apiserver.credentials.admin_token}"])
    assert code != 0 and "Unauthenticated" in err
    # The token goes to reflection (to learn the schema) but not to the health call itself.
    _, out, _ = await grpcurl("grpc.health.v1.Health/Check", token=None,
                              flags=["-reflect-header", f"authorization: Bearer {apiserver.credentials.admin_token}"])
    assert json.loads(out)["status"] == "SERVING"


async def test_invalid_object_names_the_field(grpcurl):
    code, _, err = await grpcurl("coxswain.v1.PodService/Create",
                                 data={"metadata": {"name": "x"}, "spec": {"containers": [{"name": "c"}]}},
                                 check=False)
    assert code != 0 and "InvalidArgument" in err and "spec.containers[0].image" in err
