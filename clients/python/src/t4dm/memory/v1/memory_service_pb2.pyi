import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from t4dm.memory.v1 import memory_pb2 as _memory_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AdmissionDecision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ADMISSION_DECISION_UNSPECIFIED: _ClassVar[AdmissionDecision]
    ADMISSION_DECISION_ADMITTED: _ClassVar[AdmissionDecision]
    ADMISSION_DECISION_REJECTED: _ClassVar[AdmissionDecision]
    ADMISSION_DECISION_MERGED: _ClassVar[AdmissionDecision]

class RecallMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECALL_MODE_UNSPECIFIED: _ClassVar[RecallMode]
    RECALL_MODE_HYBRID: _ClassVar[RecallMode]
    RECALL_MODE_SEMANTIC: _ClassVar[RecallMode]
    RECALL_MODE_KEYWORD: _ClassVar[RecallMode]

class ConsolidationMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONSOLIDATION_MODE_UNSPECIFIED: _ClassVar[ConsolidationMode]
    CONSOLIDATION_MODE_LIGHT: _ClassVar[ConsolidationMode]
    CONSOLIDATION_MODE_DEEP: _ClassVar[ConsolidationMode]
ADMISSION_DECISION_UNSPECIFIED: AdmissionDecision
ADMISSION_DECISION_ADMITTED: AdmissionDecision
ADMISSION_DECISION_REJECTED: AdmissionDecision
ADMISSION_DECISION_MERGED: AdmissionDecision
RECALL_MODE_UNSPECIFIED: RecallMode
RECALL_MODE_HYBRID: RecallMode
RECALL_MODE_SEMANTIC: RecallMode
RECALL_MODE_KEYWORD: RecallMode
CONSOLIDATION_MODE_UNSPECIFIED: ConsolidationMode
CONSOLIDATION_MODE_LIGHT: ConsolidationMode
CONSOLIDATION_MODE_DEEP: ConsolidationMode

class RememberRequest(_message.Message):
    __slots__ = ("namespace", "content", "type", "metadata", "importance", "embedding", "admission", "request_id", "ttl")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _struct_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    IMPORTANCE_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    ADMISSION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    content: str
    type: _memory_pb2.MemoryType
    metadata: _containers.MessageMap[str, _struct_pb2.Value]
    importance: float
    embedding: _containers.RepeatedScalarFieldContainer[float]
    admission: _memory_pb2.AdmissionMode
    request_id: str
    ttl: _duration_pb2.Duration
    def __init__(self, namespace: _Optional[str] = ..., content: _Optional[str] = ..., type: _Optional[_Union[_memory_pb2.MemoryType, str]] = ..., metadata: _Optional[_Mapping[str, _struct_pb2.Value]] = ..., importance: _Optional[float] = ..., embedding: _Optional[_Iterable[float]] = ..., admission: _Optional[_Union[_memory_pb2.AdmissionMode, str]] = ..., request_id: _Optional[str] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RememberResponse(_message.Message):
    __slots__ = ("memory", "decision", "admit_probability", "lsn")
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    ADMIT_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    LSN_FIELD_NUMBER: _ClassVar[int]
    memory: _memory_pb2.Memory
    decision: AdmissionDecision
    admit_probability: float
    lsn: int
    def __init__(self, memory: _Optional[_Union[_memory_pb2.Memory, _Mapping]] = ..., decision: _Optional[_Union[AdmissionDecision, str]] = ..., admit_probability: _Optional[float] = ..., lsn: _Optional[int] = ...) -> None: ...

class BatchRememberRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[RememberRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[RememberRequest, _Mapping]]] = ...) -> None: ...

class BatchRememberResponse(_message.Message):
    __slots__ = ("responses",)
    RESPONSES_FIELD_NUMBER: _ClassVar[int]
    responses: _containers.RepeatedCompositeFieldContainer[RememberResponse]
    def __init__(self, responses: _Optional[_Iterable[_Union[RememberResponse, _Mapping]]] = ...) -> None: ...

class RecallRequest(_message.Message):
    __slots__ = ("namespace", "query", "query_embedding", "top_k", "min_score", "types", "filters", "create_time_range", "include_embeddings", "mode", "explain", "read_only")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    QUERY_EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    EXPLAIN_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    query: str
    query_embedding: _containers.RepeatedScalarFieldContainer[float]
    top_k: int
    min_score: float
    types: _containers.RepeatedScalarFieldContainer[_memory_pb2.MemoryType]
    filters: _containers.RepeatedCompositeFieldContainer[_memory_pb2.MetadataFilter]
    create_time_range: _memory_pb2.TimeRange
    include_embeddings: bool
    mode: RecallMode
    explain: bool
    read_only: bool
    def __init__(self, namespace: _Optional[str] = ..., query: _Optional[str] = ..., query_embedding: _Optional[_Iterable[float]] = ..., top_k: _Optional[int] = ..., min_score: _Optional[float] = ..., types: _Optional[_Iterable[_Union[_memory_pb2.MemoryType, str]]] = ..., filters: _Optional[_Iterable[_Union[_memory_pb2.MetadataFilter, _Mapping]]] = ..., create_time_range: _Optional[_Union[_memory_pb2.TimeRange, _Mapping]] = ..., include_embeddings: _Optional[bool] = ..., mode: _Optional[_Union[RecallMode, str]] = ..., explain: _Optional[bool] = ..., read_only: _Optional[bool] = ...) -> None: ...

class RecallExplanation(_message.Message):
    __slots__ = ("cosine", "bm25", "vector_rank", "lexical_rank", "fused", "recency", "importance", "feedback", "correction")
    COSINE_FIELD_NUMBER: _ClassVar[int]
    BM25_FIELD_NUMBER: _ClassVar[int]
    VECTOR_RANK_FIELD_NUMBER: _ClassVar[int]
    LEXICAL_RANK_FIELD_NUMBER: _ClassVar[int]
    FUSED_FIELD_NUMBER: _ClassVar[int]
    RECENCY_FIELD_NUMBER: _ClassVar[int]
    IMPORTANCE_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    CORRECTION_FIELD_NUMBER: _ClassVar[int]
    cosine: float
    bm25: float
    vector_rank: int
    lexical_rank: int
    fused: float
    recency: float
    importance: float
    feedback: float
    correction: float
    def __init__(self, cosine: _Optional[float] = ..., bm25: _Optional[float] = ..., vector_rank: _Optional[int] = ..., lexical_rank: _Optional[int] = ..., fused: _Optional[float] = ..., recency: _Optional[float] = ..., importance: _Optional[float] = ..., feedback: _Optional[float] = ..., correction: _Optional[float] = ...) -> None: ...

class RecalledMemory(_message.Message):
    __slots__ = ("memory", "score", "similarity", "source", "explanation")
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    memory: _memory_pb2.Memory
    score: float
    similarity: float
    source: _memory_pb2.MemorySource
    explanation: RecallExplanation
    def __init__(self, memory: _Optional[_Union[_memory_pb2.Memory, _Mapping]] = ..., score: _Optional[float] = ..., similarity: _Optional[float] = ..., source: _Optional[_Union[_memory_pb2.MemorySource, str]] = ..., explanation: _Optional[_Union[RecallExplanation, _Mapping]] = ...) -> None: ...

class RecallResponse(_message.Message):
    __slots__ = ("recall_id", "memories", "query_truncated")
    RECALL_ID_FIELD_NUMBER: _ClassVar[int]
    MEMORIES_FIELD_NUMBER: _ClassVar[int]
    QUERY_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    recall_id: str
    memories: _containers.RepeatedCompositeFieldContainer[RecalledMemory]
    query_truncated: bool
    def __init__(self, recall_id: _Optional[str] = ..., memories: _Optional[_Iterable[_Union[RecalledMemory, _Mapping]]] = ..., query_truncated: _Optional[bool] = ...) -> None: ...

class ReinforceRequest(_message.Message):
    __slots__ = ("namespace", "recall_id", "reward", "memory_rewards", "request_id")
    class MemoryRewardsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    RECALL_ID_FIELD_NUMBER: _ClassVar[int]
    REWARD_FIELD_NUMBER: _ClassVar[int]
    MEMORY_REWARDS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    recall_id: str
    reward: float
    memory_rewards: _containers.ScalarMap[str, float]
    request_id: str
    def __init__(self, namespace: _Optional[str] = ..., recall_id: _Optional[str] = ..., reward: _Optional[float] = ..., memory_rewards: _Optional[_Mapping[str, float]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ReinforceResponse(_message.Message):
    __slots__ = ("reward_prediction_error", "credited_memories", "lsn")
    REWARD_PREDICTION_ERROR_FIELD_NUMBER: _ClassVar[int]
    CREDITED_MEMORIES_FIELD_NUMBER: _ClassVar[int]
    LSN_FIELD_NUMBER: _ClassVar[int]
    reward_prediction_error: float
    credited_memories: int
    lsn: int
    def __init__(self, reward_prediction_error: _Optional[float] = ..., credited_memories: _Optional[int] = ..., lsn: _Optional[int] = ...) -> None: ...

class ForgetRequest(_message.Message):
    __slots__ = ("namespace", "ids", "filters", "types", "request_id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    ids: _containers.RepeatedScalarFieldContainer[str]
    filters: _containers.RepeatedCompositeFieldContainer[_memory_pb2.MetadataFilter]
    types: _containers.RepeatedScalarFieldContainer[_memory_pb2.MemoryType]
    request_id: str
    def __init__(self, namespace: _Optional[str] = ..., ids: _Optional[_Iterable[str]] = ..., filters: _Optional[_Iterable[_Union[_memory_pb2.MetadataFilter, _Mapping]]] = ..., types: _Optional[_Iterable[_Union[_memory_pb2.MemoryType, str]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ForgetResponse(_message.Message):
    __slots__ = ("forgotten_count", "lsn")
    FORGOTTEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    LSN_FIELD_NUMBER: _ClassVar[int]
    forgotten_count: int
    lsn: int
    def __init__(self, forgotten_count: _Optional[int] = ..., lsn: _Optional[int] = ...) -> None: ...

class GetMemoryRequest(_message.Message):
    __slots__ = ("namespace", "id", "include_embedding")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    id: str
    include_embedding: bool
    def __init__(self, namespace: _Optional[str] = ..., id: _Optional[str] = ..., include_embedding: _Optional[bool] = ...) -> None: ...

class GetMemoryResponse(_message.Message):
    __slots__ = ("memory",)
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    memory: _memory_pb2.Memory
    def __init__(self, memory: _Optional[_Union[_memory_pb2.Memory, _Mapping]] = ...) -> None: ...

class ListMemoriesRequest(_message.Message):
    __slots__ = ("namespace", "page_size", "page_token", "types", "statuses", "filters")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    page_size: int
    page_token: str
    types: _containers.RepeatedScalarFieldContainer[_memory_pb2.MemoryType]
    statuses: _containers.RepeatedScalarFieldContainer[_memory_pb2.MemoryStatus]
    filters: _containers.RepeatedCompositeFieldContainer[_memory_pb2.MetadataFilter]
    def __init__(self, namespace: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., types: _Optional[_Iterable[_Union[_memory_pb2.MemoryType, str]]] = ..., statuses: _Optional[_Iterable[_Union[_memory_pb2.MemoryStatus, str]]] = ..., filters: _Optional[_Iterable[_Union[_memory_pb2.MetadataFilter, _Mapping]]] = ...) -> None: ...

class ListMemoriesResponse(_message.Message):
    __slots__ = ("memories", "next_page_token")
    MEMORIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    memories: _containers.RepeatedCompositeFieldContainer[_memory_pb2.Memory]
    next_page_token: str
    def __init__(self, memories: _Optional[_Iterable[_Union[_memory_pb2.Memory, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ConsolidateRequest(_message.Message):
    __slots__ = ("namespace", "mode")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    mode: ConsolidationMode
    def __init__(self, namespace: _Optional[str] = ..., mode: _Optional[_Union[ConsolidationMode, str]] = ...) -> None: ...

class ConsolidateResponse(_message.Message):
    __slots__ = ("promoted_count", "evicted_count", "concepts_created", "duplicates_merged", "lsn", "retention_ended_count")
    PROMOTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    EVICTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    CONCEPTS_CREATED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_MERGED_FIELD_NUMBER: _ClassVar[int]
    LSN_FIELD_NUMBER: _ClassVar[int]
    RETENTION_ENDED_COUNT_FIELD_NUMBER: _ClassVar[int]
    promoted_count: int
    evicted_count: int
    concepts_created: int
    duplicates_merged: int
    lsn: int
    retention_ended_count: int
    def __init__(self, promoted_count: _Optional[int] = ..., evicted_count: _Optional[int] = ..., concepts_created: _Optional[int] = ..., duplicates_merged: _Optional[int] = ..., lsn: _Optional[int] = ..., retention_ended_count: _Optional[int] = ...) -> None: ...
