import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from t4dm.memory.v1 import knowledge_pb2 as _knowledge_pb2
from t4dm.memory.v1 import memory_pb2 as _memory_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RetentionMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETENTION_MODE_UNSPECIFIED: _ClassVar[RetentionMode]
    RETENTION_MODE_KEEP: _ClassVar[RetentionMode]
    RETENTION_MODE_LEARNED: _ClassVar[RetentionMode]

class RecoveryMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECOVERY_MODE_UNSPECIFIED: _ClassVar[RecoveryMode]
    RECOVERY_MODE_WARM: _ClassVar[RecoveryMode]
    RECOVERY_MODE_COLD: _ClassVar[RecoveryMode]
RETENTION_MODE_UNSPECIFIED: RetentionMode
RETENTION_MODE_KEEP: RetentionMode
RETENTION_MODE_LEARNED: RetentionMode
RECOVERY_MODE_UNSPECIFIED: RecoveryMode
RECOVERY_MODE_WARM: RecoveryMode
RECOVERY_MODE_COLD: RecoveryMode

class RetentionPolicy(_message.Message):
    __slots__ = ("mode", "max_memories", "max_age_seconds")
    MODE_FIELD_NUMBER: _ClassVar[int]
    MAX_MEMORIES_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    mode: RetentionMode
    max_memories: int
    max_age_seconds: int
    def __init__(self, mode: _Optional[_Union[RetentionMode, str]] = ..., max_memories: _Optional[int] = ..., max_age_seconds: _Optional[int] = ...) -> None: ...

class SetRetentionPolicyRequest(_message.Message):
    __slots__ = ("namespace", "policy")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    policy: RetentionPolicy
    def __init__(self, namespace: _Optional[str] = ..., policy: _Optional[_Union[RetentionPolicy, _Mapping]] = ...) -> None: ...

class SetRetentionPolicyResponse(_message.Message):
    __slots__ = ("policy", "lsn")
    POLICY_FIELD_NUMBER: _ClassVar[int]
    LSN_FIELD_NUMBER: _ClassVar[int]
    policy: RetentionPolicy
    lsn: int
    def __init__(self, policy: _Optional[_Union[RetentionPolicy, _Mapping]] = ..., lsn: _Optional[int] = ...) -> None: ...

class GetRetentionPolicyRequest(_message.Message):
    __slots__ = ("namespace",)
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    def __init__(self, namespace: _Optional[str] = ...) -> None: ...

class GetRetentionPolicyResponse(_message.Message):
    __slots__ = ("policy", "is_default")
    POLICY_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    policy: RetentionPolicy
    is_default: bool
    def __init__(self, policy: _Optional[_Union[RetentionPolicy, _Mapping]] = ..., is_default: _Optional[bool] = ...) -> None: ...

class CheckpointRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CheckpointResponse(_message.Message):
    __slots__ = ("lsn", "file_name", "size_bytes")
    LSN_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    lsn: int
    file_name: str
    size_bytes: int
    def __init__(self, lsn: _Optional[int] = ..., file_name: _Optional[str] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class ResetRequest(_message.Message):
    __slots__ = ("confirm", "namespace", "delete_memories")
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    DELETE_MEMORIES_FIELD_NUMBER: _ClassVar[int]
    confirm: bool
    namespace: str
    delete_memories: bool
    def __init__(self, confirm: _Optional[bool] = ..., namespace: _Optional[str] = ..., delete_memories: _Optional[bool] = ...) -> None: ...

class ResetResponse(_message.Message):
    __slots__ = ("lsn", "forgotten_count")
    LSN_FIELD_NUMBER: _ClassVar[int]
    FORGOTTEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    lsn: int
    forgotten_count: int
    def __init__(self, lsn: _Optional[int] = ..., forgotten_count: _Optional[int] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NeuromodulatorLevels(_message.Message):
    __slots__ = ("dopamine", "serotonin", "norepinephrine", "acetylcholine")
    DOPAMINE_FIELD_NUMBER: _ClassVar[int]
    SEROTONIN_FIELD_NUMBER: _ClassVar[int]
    NOREPINEPHRINE_FIELD_NUMBER: _ClassVar[int]
    ACETYLCHOLINE_FIELD_NUMBER: _ClassVar[int]
    dopamine: float
    serotonin: float
    norepinephrine: float
    acetylcholine: float
    def __init__(self, dopamine: _Optional[float] = ..., serotonin: _Optional[float] = ..., norepinephrine: _Optional[float] = ..., acetylcholine: _Optional[float] = ...) -> None: ...

class StorageHealth(_message.Message):
    __slots__ = ("store", "backend", "healthy", "detail")
    STORE_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    store: str
    backend: str
    healthy: bool
    detail: str
    def __init__(self, store: _Optional[str] = ..., backend: _Optional[str] = ..., healthy: _Optional[bool] = ..., detail: _Optional[str] = ...) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ("ready", "recovery_mode", "applied_lsn", "durable_lsn", "checkpoint_lsn", "checkpoint_time", "buffer_size", "buffer_capacity", "in_flight_ops", "neuromodulators", "storage", "sidecar_connected", "version", "start_time", "state_hash", "degraded")
    READY_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_MODE_FIELD_NUMBER: _ClassVar[int]
    APPLIED_LSN_FIELD_NUMBER: _ClassVar[int]
    DURABLE_LSN_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_LSN_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_TIME_FIELD_NUMBER: _ClassVar[int]
    BUFFER_SIZE_FIELD_NUMBER: _ClassVar[int]
    BUFFER_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_OPS_FIELD_NUMBER: _ClassVar[int]
    NEUROMODULATORS_FIELD_NUMBER: _ClassVar[int]
    STORAGE_FIELD_NUMBER: _ClassVar[int]
    SIDECAR_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_HASH_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_FIELD_NUMBER: _ClassVar[int]
    ready: bool
    recovery_mode: RecoveryMode
    applied_lsn: int
    durable_lsn: int
    checkpoint_lsn: int
    checkpoint_time: _timestamp_pb2.Timestamp
    buffer_size: int
    buffer_capacity: int
    in_flight_ops: int
    neuromodulators: NeuromodulatorLevels
    storage: _containers.RepeatedCompositeFieldContainer[StorageHealth]
    sidecar_connected: bool
    version: str
    start_time: _timestamp_pb2.Timestamp
    state_hash: bytes
    degraded: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ready: _Optional[bool] = ..., recovery_mode: _Optional[_Union[RecoveryMode, str]] = ..., applied_lsn: _Optional[int] = ..., durable_lsn: _Optional[int] = ..., checkpoint_lsn: _Optional[int] = ..., checkpoint_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., buffer_size: _Optional[int] = ..., buffer_capacity: _Optional[int] = ..., in_flight_ops: _Optional[int] = ..., neuromodulators: _Optional[_Union[NeuromodulatorLevels, _Mapping]] = ..., storage: _Optional[_Iterable[_Union[StorageHealth, _Mapping]]] = ..., sidecar_connected: _Optional[bool] = ..., version: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state_hash: _Optional[bytes] = ..., degraded: _Optional[_Iterable[str]] = ...) -> None: ...

class ExportedMemory(_message.Message):
    __slots__ = ("id", "namespace", "kind", "content", "metadata", "importance", "status", "create_time", "expire_time", "embedding", "evidence", "access_count", "last_access_time", "reward_sum", "reward_count")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _struct_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    IMPORTANCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    ACCESS_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_ACCESS_TIME_FIELD_NUMBER: _ClassVar[int]
    REWARD_SUM_FIELD_NUMBER: _ClassVar[int]
    REWARD_COUNT_FIELD_NUMBER: _ClassVar[int]
    id: str
    namespace: str
    kind: _memory_pb2.MemoryType
    content: str
    metadata: _containers.MessageMap[str, _struct_pb2.Value]
    importance: float
    status: _memory_pb2.MemoryStatus
    create_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    embedding: _containers.RepeatedScalarFieldContainer[float]
    evidence: float
    access_count: int
    last_access_time: _timestamp_pb2.Timestamp
    reward_sum: float
    reward_count: int
    def __init__(self, id: _Optional[str] = ..., namespace: _Optional[str] = ..., kind: _Optional[_Union[_memory_pb2.MemoryType, str]] = ..., content: _Optional[str] = ..., metadata: _Optional[_Mapping[str, _struct_pb2.Value]] = ..., importance: _Optional[float] = ..., status: _Optional[_Union[_memory_pb2.MemoryStatus, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., embedding: _Optional[_Iterable[float]] = ..., evidence: _Optional[float] = ..., access_count: _Optional[int] = ..., last_access_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reward_sum: _Optional[float] = ..., reward_count: _Optional[int] = ...) -> None: ...

class ExportedProcedure(_message.Message):
    __slots__ = ("id", "namespace", "name", "trigger", "trigger_embedding", "steps", "metadata", "success_count", "execution_count", "create_time", "update_time")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _struct_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_COUNT_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    namespace: str
    name: str
    trigger: str
    trigger_embedding: _containers.RepeatedScalarFieldContainer[float]
    steps: _containers.RepeatedCompositeFieldContainer[_knowledge_pb2.ProcedureStep]
    metadata: _containers.MessageMap[str, _struct_pb2.Value]
    success_count: int
    execution_count: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., namespace: _Optional[str] = ..., name: _Optional[str] = ..., trigger: _Optional[str] = ..., trigger_embedding: _Optional[_Iterable[float]] = ..., steps: _Optional[_Iterable[_Union[_knowledge_pb2.ProcedureStep, _Mapping]]] = ..., metadata: _Optional[_Mapping[str, _struct_pb2.Value]] = ..., success_count: _Optional[int] = ..., execution_count: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExportItem(_message.Message):
    __slots__ = ("memory", "fact", "procedure", "retention_policy", "learned_scorer")
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    FACT_FIELD_NUMBER: _ClassVar[int]
    PROCEDURE_FIELD_NUMBER: _ClassVar[int]
    RETENTION_POLICY_FIELD_NUMBER: _ClassVar[int]
    LEARNED_SCORER_FIELD_NUMBER: _ClassVar[int]
    memory: ExportedMemory
    fact: _knowledge_pb2.Fact
    procedure: ExportedProcedure
    retention_policy: ExportedRetentionPolicy
    learned_scorer: ExportedScorer
    def __init__(self, memory: _Optional[_Union[ExportedMemory, _Mapping]] = ..., fact: _Optional[_Union[_knowledge_pb2.Fact, _Mapping]] = ..., procedure: _Optional[_Union[ExportedProcedure, _Mapping]] = ..., retention_policy: _Optional[_Union[ExportedRetentionPolicy, _Mapping]] = ..., learned_scorer: _Optional[_Union[ExportedScorer, _Mapping]] = ...) -> None: ...

class ExportedScorer(_message.Message):
    __slots__ = ("namespace", "adaptation")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    ADAPTATION_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    adaptation: bytes
    def __init__(self, namespace: _Optional[str] = ..., adaptation: _Optional[bytes] = ...) -> None: ...

class ExportedRetentionPolicy(_message.Message):
    __slots__ = ("namespace", "policy")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    policy: RetentionPolicy
    def __init__(self, namespace: _Optional[str] = ..., policy: _Optional[_Union[RetentionPolicy, _Mapping]] = ...) -> None: ...

class EmbedderIdentity(_message.Message):
    __slots__ = ("embedder", "model", "dimensions")
    EMBEDDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    embedder: str
    model: str
    dimensions: int
    def __init__(self, embedder: _Optional[str] = ..., model: _Optional[str] = ..., dimensions: _Optional[int] = ...) -> None: ...

class ExportMemoriesRequest(_message.Message):
    __slots__ = ("namespace", "page_size", "page_token", "include_learning_state")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_LEARNING_STATE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    page_size: int
    page_token: str
    include_learning_state: bool
    def __init__(self, namespace: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., include_learning_state: _Optional[bool] = ...) -> None: ...

class ExportMemoriesResponse(_message.Message):
    __slots__ = ("items", "next_page_token", "embedder")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EMBEDDER_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ExportItem]
    next_page_token: str
    embedder: EmbedderIdentity
    def __init__(self, items: _Optional[_Iterable[_Union[ExportItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., embedder: _Optional[_Union[EmbedderIdentity, _Mapping]] = ...) -> None: ...

class ImportMemoriesRequest(_message.Message):
    __slots__ = ("namespace", "items", "embedder")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    EMBEDDER_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    items: _containers.RepeatedCompositeFieldContainer[ExportItem]
    embedder: EmbedderIdentity
    def __init__(self, namespace: _Optional[str] = ..., items: _Optional[_Iterable[_Union[ExportItem, _Mapping]]] = ..., embedder: _Optional[_Union[EmbedderIdentity, _Mapping]] = ...) -> None: ...

class ImportMemoriesResponse(_message.Message):
    __slots__ = ("imported", "skipped", "lsn")
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    LSN_FIELD_NUMBER: _ClassVar[int]
    imported: int
    skipped: int
    lsn: int
    def __init__(self, imported: _Optional[int] = ..., skipped: _Optional[int] = ..., lsn: _Optional[int] = ...) -> None: ...

class ListNamespacesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListNamespacesResponse(_message.Message):
    __slots__ = ("namespaces",)
    NAMESPACES_FIELD_NUMBER: _ClassVar[int]
    namespaces: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, namespaces: _Optional[_Iterable[str]] = ...) -> None: ...
