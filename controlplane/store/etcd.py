"""EtcdStore: the store over a real etcd v3 cluster (etcd 3.4 or later), for HA.

Client. We talk to etcd through `aetcd` (PyPI, release 1.0.0 of 2026): it is
maintained, asyncio-native (built on grpc.aio, so no threads and no second
event loop), and its generated etcd v3 API works with the grpcio 1.85 /
protobuf 7 we pin (the older `etcd3` and `aioetcd3` do not: unmaintained since
2020, generated for protobuf 3). We use its API layer, `aetcd.rpc` (the etcd
messages and KV/Watch/Lease stubs), on a channel of our own rather than its
high-level `Client`, because that one gives no way to read at a revision with
a limit and a count, to see a watch's progress notifications, or to spread one
client over several endpoints, all of which the store contract needs.

Mapping. Conditional writes are etcd transactions comparing the key's
mod_revision (etcd compares an absent key's mod_revision as 0, which is our
"create only"), with a range on the failure branch to return the current value.
Watches ask for prev_kv. Lease, compaction and revision errors map onto the
store's exceptions. Several endpoints (etcd://h1:2379,h2:2379) become one gRPC
channel over all their addresses with gRPC's pick-first balancing: it
connects to the first member that answers and moves on when it fails; an RPC
in flight on a broken connection fails with UnavailableError and is not
retried for the caller.

Watch progress. etcd can send a watch a progress notification on request
(WatchProgressRequest) or on its own timer (progress_notify). Before etcd
3.4.31 / 3.5.13 (Debian 12 ships 3.4.23) a requested notification is unsound:
it travels on a control channel that can overtake events still queued for the
watch, and it is sent even while the watch is catching up, so it can claim a
revision whose events have not arrived (etcd issues 15220 and 17507). The
timed notification goes through the watch's own event queue and only to a
watch that is caught up, so it is sound on every version. We therefore open
every watch with progress_notify and turn those into PROGRESS events, and
request_progress() does not send etcd a request: it notes the store's current
revision R and answers with the first in-order proof that the watch has seen
R: a timed notification, or an event batch at R or later, after which we add a
PROGRESS ourselves. The operator sets the timer with etcd's
--experimental-watch-progress-notify-interval (the default is 10 minutes; our
test etcd uses 200 ms), which bounds how long an idle watch waits for its
PROGRESS.

Compaction boundary. The contract says a watch from start_revision fails if
start_revision <= the compacted revision (its first event's previous value is
gone), while etcd only refuses start_revision < compacted. So a watch asks
etcd for start_revision - 1 and drops that revision's events.
"""
from __future__ import annotations

import asyncio
import collections
import dataclasses
from typing import AsyncIterator

import grpc
from aetcd import rpc

from controlplane.client import targets
from controlplane.store import (CompactedError, Event, FutureRevisionError, KeyValue,
                                LeaseNotFoundError, RangeResult, Store, StoreError,
                                UnavailableError, Watch, WriteResult, prefix_end)

RPC_TIMEOUT = 30.0
_UNAVAILABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def _kv(kv) -> KeyValue:
    return KeyValue(kv.key.decode(), kv.value, kv.create_revision, kv.mod_revision, kv.version, kv.lease)


def _event(ev) -> Event:
    prev = _kv(ev.prev_kv) if ev.HasField("prev_kv") else None
    kind = Event.DELETE if ev.type == rpc.Event.DELETE else Event.PUT
    return Event(kind, ev.kv.mod_revision, _kv(ev.kv), prev)


def _key_range(prefix: str) -> tuple[bytes, bytes]:
    """etcd's [key, range_end) for a prefix; range_end b"\\0" means "to the end"."""
    key = prefix.encode() or b"\0"
    return key, prefix_end(prefix.encode()) or b"\0"


def _error(e: grpc.aio.AioRpcError) -> StoreError:
    """The store's exception for an etcd error (CompactedError is the caller's, it needs revisions)."""
    details = e.details() or ""
    if e.code() in _UNAVAILABLE:
        return UnavailableError(f"etcd: {details}")
    if "database space exceeded" in details:  # etcd's NOSPACE alarm: it takes no writes until defragmented
        return _NoSpaceError(f"disk full: etcd: {details}")
    if "future revision" in details:
        return FutureRevisionError(details)
    if "lease not found" in details:
        return LeaseNotFoundError(details)
    return StoreError(f"etcd: {e.code().name}: {details}")


class _NoSpaceError(UnavailableError):
    """etcd's NOSPACE answer, which the one write that crosses the quota also gets although it is stored."""


def _is_compacted(e: grpc.aio.AioRpcError) -> bool:
    return "required revision has been compacted" in (e.details() or "")


async def _grpc_target(endpoints: list[str]) -> str:
    return await asyncio.to_thread(targets.grpc_target, endpoints)


class EtcdWatch(Watch):
    """One etcd watch on its own gRPC stream, read as the caller iterates."""

    def __init__(self, store: "EtcdStore", call, start_revision: int):
        self._store = store
        self._call = call
        self._start = start_revision
        self._pending: collections.deque[Event] = collections.deque()
        self._progress_wanted = 0    # a request_progress waiting for proof of this revision
        self._closed = False

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        while not self._pending:
            if self._closed:
                raise StopAsyncIteration
            try:
                response = await self._call.read()
            except asyncio.CancelledError:
                if self._closed:
                    raise StopAsyncIteration from None
                raise
            except grpc.aio.AioRpcError as e:
                raise _error(e) from e
            if response is grpc.aio.EOF:
                raise UnavailableError("etcd ended the watch stream")
            self._receive(response)
        return self._pending.popleft()

    def _receive(self, response) -> None:
        if response.compact_revision:
            raise CompactedError(self._start, response.compact_revision)
        if response.canceled:
            raise StoreError(f"etcd cancelled the watch: {response.cancel_reason}")
        if response.created:
            return
        if response.events:
            events = [_event(ev) for ev in response.events if ev.kv.mod_revision >= self._start]
            self._pending.extend(events)
            reached = response.events[-1].kv.mod_revision
        else:  # a timed progress notification
            reached = response.header.revision
            if reached >= self._start - 1:
                self._pending.append(Event(Event.PROGRESS, reached))
        if self._progress_wanted and reached >= self._progress_wanted:
            if response.events:
                self._pending.append(Event(Event.PROGRESS, reached))
            self._progress_wanted = 0

    async def request_progress(self) -> None:
        self._progress_wanted = await self._store.current_revision()

    async def close(self) -> None:
        self._closed = True
        self._call.cancel()


@dataclasses.dataclass(frozen=True)
class EtcdTLS:
    """PEMs of the CA members' certificates chain to, and of this client's certificate and key; every
    member's certificate names `server_name`, whichever of their addresses the channel dialed."""
    ca: bytes
    cert: bytes
    key: bytes
    server_name: str


@dataclasses.dataclass(frozen=True)
class Member:
    id: int
    name: str            # empty until the member has started
    peer_urls: list[str]
    client_urls: list[str]


def _member(m) -> Member:
    return Member(m.ID, m.name, list(m.peerURLs), list(m.clientURLs))


class EtcdStore(Store):
    name = "etcd"

    def __init__(self, channel: grpc.aio.Channel):
        self._channel = channel
        self._kv = rpc.KVStub(channel)
        self._watch = rpc.WatchStub(channel)
        self._lease = rpc.LeaseStub(channel)
        self._cluster = rpc.ClusterStub(channel)

    @classmethod
    async def open(cls, url: str, *, tls: EtcdTLS | None = None) -> "EtcdStore":
        """Connect to etcd://host:port[,host:port...] and check that it answers.

        With `tls`, over TLS with a client certificate (the embedded etcd's way)."""
        target = await _grpc_target(url.removeprefix("etcd://").strip("/").split(","))
        if tls is None:
            channel = grpc.aio.insecure_channel(target)
        else:
            credentials = grpc.ssl_channel_credentials(tls.ca, tls.key, tls.cert)
            channel = grpc.aio.secure_channel(target, credentials,
                                              options=[("grpc.ssl_target_name_override", tls.server_name)])
        store = cls(channel)
        try:
            await store.current_revision()
        except BaseException:
            await store.close()
            raise
        return store

    # -- membership: etcd's own, not part of the store contract (the embedded etcd uses it)

    async def members(self) -> list[Member]:
        return [_member(m) for m in (await self._rpc(self._cluster.MemberList, rpc.MemberListRequest())).members]

    async def add_member(self, peer_url: str) -> tuple[Member, list[Member]]:
        """Add a member that will listen at `peer_url`: (it, every member now)."""
        response = await self._rpc(self._cluster.MemberAdd, rpc.MemberAddRequest(peerURLs=[peer_url]))
        return _member(response.member), [_member(m) for m in response.members]

    async def _rpc(self, method, request, *, revision: int = 0):
        try:
            return await method(request, timeout=RPC_TIMEOUT)
        except grpc.aio.AioRpcError as e:
            if _is_compacted(e):
                raise CompactedError(revision, await self._compacted_revision()) from e
            raise _error(e) from e

    async def _compacted_revision(self) -> int:
        """etcd tells the compacted revision only to a watch that starts below it."""
        call = self._watch.Watch()
        try:
            await call.write(rpc.WatchRequest(create_request=rpc.WatchCreateRequest(
                key=b"\0", start_revision=1)))
            while True:
                response = await asyncio.wait_for(call.read(), RPC_TIMEOUT)
                if response is grpc.aio.EOF:
                    return 0
                if response.compact_revision or response.canceled:
                    return response.compact_revision
        finally:
            call.cancel()

    # -- reads

    async def get(self, key: str, *, revision: int = 0) -> KeyValue | None:
        response = await self._rpc(self._kv.Range, rpc.RangeRequest(key=key.encode(), revision=revision),
                                   revision=revision)
        return _kv(response.kvs[0]) if response.kvs else None

    async def range(self, prefix: str, *, revision: int = 0, limit: int = 0,
                    start_after: str = "") -> RangeResult:
        key, range_end = _key_range(prefix)
        if start_after:
            key = max(key, start_after.encode() + b"\0")
        response = await self._rpc(self._kv.Range, rpc.RangeRequest(
            key=key, range_end=range_end, limit=limit, revision=revision), revision=revision)
        return RangeResult([_kv(kv) for kv in response.kvs], revision or response.header.revision,
                           response.more, response.count)

    async def current_revision(self) -> int:
        response = await self._rpc(self._kv.Range, rpc.RangeRequest(key=b"\0", count_only=True))
        return response.header.revision

    # -- writes

    async def put(self, key: str, value: bytes, *, expect_mod_revision: int | None,
                  lease: int = 0) -> WriteResult:
        put = rpc.PutRequest(key=key.encode(), value=value, lease=lease)
        try:
            if expect_mod_revision is None:
                return WriteResult(True, (await self._rpc(self._kv.Put, put)).header.revision)
            response = await self._txn(key, expect_mod_revision, rpc.RequestOp(request_put=put))
        except _NoSpaceError:
            stored = await self._stored_anyway(key, value, expect_mod_revision)
            if stored is None:
                raise
            return WriteResult(True, stored.mod_revision)
        return self._txn_result(response)

    async def _stored_anyway(self, key: str, value: bytes, expect_mod_revision: int | None) -> KeyValue | None:
        """The key as our write left it, if etcd stored it before answering NOSPACE.

        etcd's quota applier applies a write first and checks the quota after,
        so the write that crosses it is kept yet reported failed; reporting it
        failed would let a caller retry into a conflict or believe a stored
        object absent. Reads still work while the alarm is raised.
        """
        current = await self.get(key)
        if current is None or current.value != value:
            return None
        if expect_mod_revision is not None and current.mod_revision == expect_mod_revision:
            return None  # our write did not replace what the condition named
        return current

    async def delete(self, key: str, *, expect_mod_revision: int | None = None) -> WriteResult:
        delete = rpc.DeleteRangeRequest(key=key.encode())
        if expect_mod_revision is None:
            response = await self._rpc(self._kv.DeleteRange, delete)
            return WriteResult(response.deleted > 0, response.header.revision)
        response = await self._txn(key, expect_mod_revision, rpc.RequestOp(request_delete_range=delete))
        if response.succeeded and response.responses[0].response_delete_range.deleted == 0:
            return WriteResult(False, response.header.revision)  # "delete if absent": nothing to delete
        return self._txn_result(response)

    async def _txn(self, key: str, expect_mod_revision: int, op):
        compare = rpc.Compare(result=rpc.Compare.EQUAL, target=rpc.Compare.MOD, key=key.encode(),
                              mod_revision=expect_mod_revision)
        current = rpc.RequestOp(request_range=rpc.RangeRequest(key=key.encode()))
        return await self._rpc(self._kv.Txn, rpc.TxnRequest(compare=[compare], success=[op],
                                                           failure=[current]))

    @staticmethod
    def _txn_result(response) -> WriteResult:
        if response.succeeded:
            return WriteResult(True, response.header.revision)
        kvs = response.responses[0].response_range.kvs
        return WriteResult(False, response.header.revision, _kv(kvs[0]) if kvs else None)

    async def compact(self, revision: int) -> None:
        await self._rpc(self._kv.Compact, rpc.CompactionRequest(revision=revision), revision=revision)

    # -- watches

    async def watch(self, prefix: str, *, start_revision: int) -> EtcdWatch:
        key, range_end = _key_range(prefix)
        call = self._watch.Watch()
        watch = EtcdWatch(self, call, start_revision)
        try:
            await call.write(rpc.WatchRequest(create_request=rpc.WatchCreateRequest(
                key=key, range_end=range_end, start_revision=max(start_revision - 1, 1),
                prev_kv=True, progress_notify=True)))
            first = await asyncio.wait_for(call.read(), RPC_TIMEOUT)
            if first is grpc.aio.EOF:
                raise UnavailableError("etcd ended the watch stream")
            watch._receive(first)
        except grpc.aio.AioRpcError as e:
            call.cancel()
            raise _error(e) from e
        except BaseException:
            call.cancel()
            raise
        return watch

    # -- leases

    async def grant_lease(self, ttl_seconds: int) -> int:
        response = await self._rpc(self._lease.LeaseGrant, rpc.LeaseGrantRequest(TTL=ttl_seconds))
        if response.error:
            raise StoreError(f"etcd: {response.error}")
        return response.ID

    async def keep_alive(self, lease: int) -> None:
        call = self._lease.LeaseKeepAlive(timeout=RPC_TIMEOUT)
        try:
            await call.write(rpc.LeaseKeepAliveRequest(ID=lease))
            response = await call.read()
        except grpc.aio.AioRpcError as e:
            raise _error(e) from e
        finally:
            call.cancel()
        if response is grpc.aio.EOF:
            raise UnavailableError("etcd ended the keep-alive stream")
        if response.TTL <= 0:
            raise LeaseNotFoundError(f"lease {lease} not found")

    async def revoke_lease(self, lease: int) -> None:
        await self._rpc(self._lease.LeaseRevoke, rpc.LeaseRevokeRequest(ID=lease))

    async def close(self) -> None:
        await self._channel.close()
