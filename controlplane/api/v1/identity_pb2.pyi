import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from controlplane.api.v1 import meta_pb2 as _meta_pb2
from controlplane.api.v1 import options_pb2 as _options_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NodeCredentialRequest(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "spec", "status")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ObjectMeta
    spec: NodeCredentialRequestSpec
    status: NodeCredentialRequestStatus
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., spec: _Optional[_Union[NodeCredentialRequestSpec, _Mapping]] = ..., status: _Optional[_Union[NodeCredentialRequestStatus, _Mapping]] = ...) -> None: ...

class NodeCredentialRequestSpec(_message.Message):
    __slots__ = ("node_name", "expiration_seconds", "username", "groups")
    NODE_NAME_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    node_name: str
    expiration_seconds: int
    username: str
    groups: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, node_name: _Optional[str] = ..., expiration_seconds: _Optional[int] = ..., username: _Optional[str] = ..., groups: _Optional[_Iterable[str]] = ...) -> None: ...

class NodeCredentialCondition(_message.Message):
    __slots__ = ("type", "status", "reason", "message", "last_update_time")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    type: str
    status: str
    reason: str
    message: str
    last_update_time: _timestamp_pb2.Timestamp
    def __init__(self, type: _Optional[str] = ..., status: _Optional[str] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., last_update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class NodeCredentialRequestStatus(_message.Message):
    __slots__ = ("conditions", "expiration_timestamp", "token_hash", "token")
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    TOKEN_HASH_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    conditions: _containers.RepeatedCompositeFieldContainer[NodeCredentialCondition]
    expiration_timestamp: _timestamp_pb2.Timestamp
    token_hash: str
    token: str
    def __init__(self, conditions: _Optional[_Iterable[_Union[NodeCredentialCondition, _Mapping]]] = ..., expiration_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., token_hash: _Optional[str] = ..., token: _Optional[str] = ...) -> None: ...
