import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MemoryType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEMORY_TYPE_UNSPECIFIED: _ClassVar[MemoryType]
    MEMORY_TYPE_EPISODIC: _ClassVar[MemoryType]
    MEMORY_TYPE_WORKING: _ClassVar[MemoryType]
    MEMORY_TYPE_SEMANTIC: _ClassVar[MemoryType]
    MEMORY_TYPE_PROCEDURAL: _ClassVar[MemoryType]

class AdmissionMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ADMISSION_MODE_UNSPECIFIED: _ClassVar[AdmissionMode]
    ADMISSION_MODE_GATED: _ClassVar[AdmissionMode]
    ADMISSION_MODE_ALWAYS: _ClassVar[AdmissionMode]

class MemoryStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEMORY_STATUS_UNSPECIFIED: _ClassVar[MemoryStatus]
    MEMORY_STATUS_BUFFERED: _ClassVar[MemoryStatus]
    MEMORY_STATUS_PENDING_PROMOTION: _ClassVar[MemoryStatus]
    MEMORY_STATUS_STORED: _ClassVar[MemoryStatus]
    MEMORY_STATUS_EVICTED: _ClassVar[MemoryStatus]
    MEMORY_STATUS_MERGED: _ClassVar[MemoryStatus]

class EvictionReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVICTION_REASON_UNSPECIFIED: _ClassVar[EvictionReason]
    EVICTION_REASON_CAPACITY: _ClassVar[EvictionReason]
    EVICTION_REASON_AGE: _ClassVar[EvictionReason]
    EVICTION_REASON_TTL: _ClassVar[EvictionReason]
    EVICTION_REASON_DUPLICATE: _ClassVar[EvictionReason]
    EVICTION_REASON_FORGOTTEN: _ClassVar[EvictionReason]
    EVICTION_REASON_RETENTION: _ClassVar[EvictionReason]

class MemorySource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEMORY_SOURCE_UNSPECIFIED: _ClassVar[MemorySource]
    MEMORY_SOURCE_BUFFER: _ClassVar[MemorySource]
    MEMORY_SOURCE_STORE: _ClassVar[MemorySource]
MEMORY_TYPE_UNSPECIFIED: MemoryType
MEMORY_TYPE_EPISODIC: MemoryType
MEMORY_TYPE_WORKING: MemoryType
MEMORY_TYPE_SEMANTIC: MemoryType
MEMORY_TYPE_PROCEDURAL: MemoryType
ADMISSION_MODE_UNSPECIFIED: AdmissionMode
ADMISSION_MODE_GATED: AdmissionMode
ADMISSION_MODE_ALWAYS: AdmissionMode
MEMORY_STATUS_UNSPECIFIED: MemoryStatus
MEMORY_STATUS_BUFFERED: MemoryStatus
MEMORY_STATUS_PENDING_PROMOTION: MemoryStatus
MEMORY_STATUS_STORED: MemoryStatus
MEMORY_STATUS_EVICTED: MemoryStatus
MEMORY_STATUS_MERGED: MemoryStatus
EVICTION_REASON_UNSPECIFIED: EvictionReason
EVICTION_REASON_CAPACITY: EvictionReason
EVICTION_REASON_AGE: EvictionReason
EVICTION_REASON_TTL: EvictionReason
EVICTION_REASON_DUPLICATE: EvictionReason
EVICTION_REASON_FORGOTTEN: EvictionReason
EVICTION_REASON_RETENTION: EvictionReason
MEMORY_SOURCE_UNSPECIFIED: MemorySource
MEMORY_SOURCE_BUFFER: MemorySource
MEMORY_SOURCE_STORE: MemorySource

class Memory(_message.Message):
    __slots__ = ("id", "namespace", "type", "content", "metadata", "importance", "status", "eviction_reason", "create_time", "update_time", "expire_time", "access_count", "last_access_time", "evidence", "embedding", "merged_into_id")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _struct_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    IMPORTANCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EVICTION_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    ACCESS_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_ACCESS_TIME_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    MERGED_INTO_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    namespace: str
    type: MemoryType
    content: str
    metadata: _containers.MessageMap[str, _struct_pb2.Value]
    importance: float
    status: MemoryStatus
    eviction_reason: EvictionReason
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    access_count: int
    last_access_time: _timestamp_pb2.Timestamp
    evidence: float
    embedding: _containers.RepeatedScalarFieldContainer[float]
    merged_into_id: str
    def __init__(self, id: _Optional[str] = ..., namespace: _Optional[str] = ..., type: _Optional[_Union[MemoryType, str]] = ..., content: _Optional[str] = ..., metadata: _Optional[_Mapping[str, _struct_pb2.Value]] = ..., importance: _Optional[float] = ..., status: _Optional[_Union[MemoryStatus, str]] = ..., eviction_reason: _Optional[_Union[EvictionReason, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., access_count: _Optional[int] = ..., last_access_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., evidence: _Optional[float] = ..., embedding: _Optional[_Iterable[float]] = ..., merged_into_id: _Optional[str] = ...) -> None: ...

class MetadataFilter(_message.Message):
    __slots__ = ("key", "equals", "range")
    KEY_FIELD_NUMBER: _ClassVar[int]
    EQUALS_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    key: str
    equals: _struct_pb2.Value
    range: NumericRange
    def __init__(self, key: _Optional[str] = ..., equals: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., range: _Optional[_Union[NumericRange, _Mapping]] = ...) -> None: ...

class NumericRange(_message.Message):
    __slots__ = ("gte", "lte")
    GTE_FIELD_NUMBER: _ClassVar[int]
    LTE_FIELD_NUMBER: _ClassVar[int]
    gte: float
    lte: float
    def __init__(self, gte: _Optional[float] = ..., lte: _Optional[float] = ...) -> None: ...

class TimeRange(_message.Message):
    __slots__ = ("start_time", "end_time")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
