"""hooks.run's httpGet and sleep handlers against real loopback sockets (exec needs Docker:
tests/kubelet/test_hooks_sidecars.py). No runtime is passed: these handlers never touch it."""
import time

from agent.kubelet import hooks
from controlplane.api.v1 import core_pb2
from tests.kubelet.helpers import loopback_http


def handler(**fields) -> core_pb2.LifecycleHandler:
    return core_pb2.LifecycleHandler(**fields)


async def test_any_http_response_is_a_successful_hook_a_failed_request_is_not():
    get = handler(http_get=core_pb2.HTTPGetAction(path="/x", port={"string_value": "web"}))
    async with loopback_http(status=b"500 Internal Server Error") as port:
        assert await hooks.run(None, get, container_id="", host="127.0.0.1", named_ports={"web": port},
                               timeout=5) is None
    failed = await hooks.run(None, get, container_id="", host="127.0.0.1", named_ports={"web": port}, timeout=5)
    assert failed.startswith(f'Get "http://127.0.0.1:{port}/x"')
    unnamed = await hooks.run(None, get, container_id="", host="127.0.0.1", named_ports={}, timeout=5)
    assert unnamed == 'port "web" is not one of the container\'s named ports'


async def test_sleep_is_cut_at_the_timeout():
    began = time.monotonic()
    assert await hooks.run(None, handler(sleep=core_pb2.SleepAction(seconds=30)), container_id="", host="",
                           named_ports={}, timeout=0.3) is None
    assert 0.3 <= time.monotonic() - began < 5
    assert await hooks.run(None, handler(), container_id="", host="", named_ports={}, timeout=1) == \
        "the hook has no handler (exec, httpGet or sleep)"
