"""The record of when pods were programmed as ready backends (programmed.py), alone and through a proxier."""
import pytest

from agent.proxy.model import Endpoint, ProxyState, ServicePortInfo, ServicePortName
from agent.proxy.programmed import ProgrammedRecord
from agent.proxy.proxier import Proxier

WEB = ServicePortName("default", "web", "http")
DB = ServicePortName("default", "db")


def ep(i: int, *, ready: bool = True) -> Endpoint:
    return Endpoint(f"198.19.0.{i}", 8080, ready=ready, uid=f"uid-{i}")


def state(**endpoints) -> ProxyState:
    names = {"web": WEB, "db": DB}
    services = {WEB: ServicePortInfo("198.18.128.10", 80), DB: ServicePortInfo("198.18.128.11", 5432)}
    return ProxyState(services=services, endpoints={names[k]: tuple(v) for k, v in endpoints.items()})


def ports(record: ProgrammedRecord, uid: str) -> list[tuple[ServicePortName, float, int]]:
    return [tuple(p) for p in record.times([uid])[uid]]


def test_a_pod_is_programmed_when_it_first_becomes_a_ready_backend():
    record = ProgrammedRecord()
    record.note(state(web=[ep(1, ready=False)]), changed=None, at=100.0)
    assert ports(record, "uid-1") == []                       # not ready: no rules point at it
    record.note(state(web=[ep(1)]), changed=[WEB], at=101.5)
    assert ports(record, "uid-1") == [(WEB, 101.5, 80)]
    record.note(state(web=[ep(1), ep(2)]), changed=[WEB], at=102.0)
    assert ports(record, "uid-1") == [(WEB, 101.5, 80)]       # still its first time
    assert ports(record, "uid-2") == [(WEB, 102.0, 80)]
    assert record.times(["nobody"]) == {"nobody": []}


def test_only_the_changed_ports_are_compared():
    record = ProgrammedRecord()
    record.note(state(), changed=None, at=1.0)
    # The caller says only DB changed: WEB's new endpoint is not looked at (the proxier never says that
    # unless it is so; the point is that unchanged ports cost nothing).
    record.note(state(web=[ep(1)], db=[ep(2)]), changed=[DB], at=2.0)
    assert ports(record, "uid-1") == [] and ports(record, "uid-2") == [(DB, 2.0, 5432)]


def test_one_pod_behind_two_services_has_a_time_for_each():
    record = ProgrammedRecord()
    record.note(state(web=[ep(1)]), changed=None, at=1.0)
    record.note(state(web=[ep(1)], db=[ep(1)]), changed=[DB], at=2.0)
    assert ports(record, "uid-1") == [(WEB, 1.0, 80), (DB, 2.0, 5432)]


def test_a_pod_that_left_is_kept_for_the_retention_then_forgotten():
    record = ProgrammedRecord(retention=60.0)
    record.note(state(web=[ep(1)]), changed=None, at=1.0)
    record.note(state(web=[]), changed=[WEB], at=10.0)
    assert ports(record, "uid-1") == [(WEB, 1.0, 80)]         # a trace of a pod just gone still shows it
    record.note(state(web=[ep(1)]), changed=[WEB], at=20.0)  # back before it was forgotten: the first time stays
    record.note(state(web=[]), changed=[WEB], at=30.0)
    record.note(state(web=[]), changed=[], at=89.0)
    assert ports(record, "uid-1") == [(WEB, 1.0, 80)]
    record.note(state(web=[]), changed=[], at=90.0)
    assert ports(record, "uid-1") == [] and len(record) == 0


def test_a_deleted_service_counts_as_its_backends_leaving():
    record = ProgrammedRecord(retention=5.0)
    record.note(state(web=[ep(1)]), changed=None, at=1.0)
    gone = ProxyState(services={DB: ServicePortInfo("198.18.128.11", 5432)}, endpoints={WEB: (ep(1),)})
    record.note(gone, changed=[WEB], at=2.0)
    assert ports(record, "uid-1") == [(WEB, 1.0, 0)]          # its number is gone with it
    record.note(gone, changed=[], at=7.0)
    assert len(record) == 0


def test_the_record_is_bounded_dropping_gone_pairs_before_live_ones():
    record = ProgrammedRecord(retention=3600.0, limit=3)
    record.note(state(web=[ep(1), ep(2)]), changed=None, at=1.0)
    record.note(state(web=[ep(1), ep(2), ep(3)]), changed=[WEB], at=1.5)
    record.note(state(web=[ep(2), ep(3)]), changed=[WEB], at=2.0)       # uid-1 gone, kept (retention)
    record.note(state(web=[ep(2), ep(3)], db=[ep(4)]), changed=[DB], at=3.0)
    assert len(record) == 3
    assert ports(record, "uid-1") == []                                  # the gone one made room
    assert [bool(ports(record, f"uid-{i}")) for i in (2, 3, 4)] == [True, True, True]
    record.note(state(web=[ep(2), ep(3)], db=[ep(4), ep(5)]), changed=[DB], at=4.0)
    assert len(record) == 3 and ports(record, "uid-2") == []            # then the oldest live one


def test_endpoints_without_a_pod_uid_are_not_recorded():
    record = ProgrammedRecord()
    record.note(state(web=[Endpoint("198.19.0.9", 8080)]), changed=None, at=1.0)
    assert len(record) == 0


class _Kernel:
    """Takes transactions without a kernel (the proxier's bookkeeping is under test, not nftables);
    fails when told to."""

    def __init__(self):
        self.fail = False

    def apply(self, commands):
        if self.fail:
            raise OSError("refused")


def test_the_proxier_notes_each_successful_sync_and_compares_all_after_a_failure():
    kernel = _Kernel()
    proxier = Proxier(table="t", applier=kernel)
    proxier.update(state(web=[ep(1)]))
    proxier.sync()
    assert [p.service for p in proxier.programmed.times(["uid-1"])["uid-1"]] == [WEB]
    kernel.fail = True
    proxier.update(state(web=[ep(1)], db=[ep(2)]), changed=[DB])
    with pytest.raises(OSError):
        proxier.sync()
    assert proxier.programmed.times(["uid-2"])["uid-2"] == []            # not in the kernel: not recorded
    kernel.fail = False
    proxier.sync()                                                       # the full resync: nothing touched
    assert [p.service for p in proxier.programmed.times(["uid-2"])["uid-2"]] == [DB]
