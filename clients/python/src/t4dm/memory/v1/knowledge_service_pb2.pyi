import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from t4dm.memory.v1 import knowledge_pb2 as _knowledge_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UpsertFactRequest(_message.Message):
    __slots__ = ("namespace", "subject", "predicate", "object", "confidence", "valid_start_time", "metadata", "request_id")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _struct_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    PREDICATE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    VALID_START_TIME_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    subject: str
    predicate: str
    object: str
    confidence: float
    valid_start_time: _timestamp_pb2.Timestamp
    metadata: _containers.MessageMap[str, _struct_pb2.Value]
    request_id: str
    def __init__(self, namespace: _Optional[str] = ..., subject: _Optional[str] = ..., predicate: _Optional[str] = ..., object: _Optional[str] = ..., confidence: _Optional[float] = ..., valid_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metadata: _Optional[_Mapping[str, _struct_pb2.Value]] = ..., request_id: _Optional[str] = ...) -> None: ...

class UpsertFactResponse(_message.Message):
    __slots__ = ("fact", "closed_facts")
    FACT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FACTS_FIELD_NUMBER: _ClassVar[int]
    fact: _knowledge_pb2.Fact
    closed_facts: _containers.RepeatedCompositeFieldContainer[_knowledge_pb2.Fact]
    def __init__(self, fact: _Optional[_Union[_knowledge_pb2.Fact, _Mapping]] = ..., closed_facts: _Optional[_Iterable[_Union[_knowledge_pb2.Fact, _Mapping]]] = ...) -> None: ...

class QueryFactsRequest(_message.Message):
    __slots__ = ("namespace", "subject", "predicate", "object", "as_of_time", "include_history", "page_size", "page_token")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    PREDICATE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_TIME_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_HISTORY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    subject: str
    predicate: str
    object: str
    as_of_time: _timestamp_pb2.Timestamp
    include_history: bool
    page_size: int
    page_token: str
    def __init__(self, namespace: _Optional[str] = ..., subject: _Optional[str] = ..., predicate: _Optional[str] = ..., object: _Optional[str] = ..., as_of_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., include_history: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class QueryFactsResponse(_message.Message):
    __slots__ = ("facts", "next_page_token")
    FACTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    facts: _containers.RepeatedCompositeFieldContainer[_knowledge_pb2.Fact]
    next_page_token: str
    def __init__(self, facts: _Optional[_Iterable[_Union[_knowledge_pb2.Fact, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpsertProcedureRequest(_message.Message):
    __slots__ = ("namespace", "name", "trigger", "steps", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _struct_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    trigger: str
    steps: _containers.RepeatedCompositeFieldContainer[_knowledge_pb2.ProcedureStep]
    metadata: _containers.MessageMap[str, _struct_pb2.Value]
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., trigger: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[_knowledge_pb2.ProcedureStep, _Mapping]]] = ..., metadata: _Optional[_Mapping[str, _struct_pb2.Value]] = ...) -> None: ...

class UpsertProcedureResponse(_message.Message):
    __slots__ = ("procedure",)
    PROCEDURE_FIELD_NUMBER: _ClassVar[int]
    procedure: _knowledge_pb2.Procedure
    def __init__(self, procedure: _Optional[_Union[_knowledge_pb2.Procedure, _Mapping]] = ...) -> None: ...

class MatchProceduresRequest(_message.Message):
    __slots__ = ("namespace", "situation", "top_k")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SITUATION_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    situation: str
    top_k: int
    def __init__(self, namespace: _Optional[str] = ..., situation: _Optional[str] = ..., top_k: _Optional[int] = ...) -> None: ...

class MatchedProcedure(_message.Message):
    __slots__ = ("procedure", "score")
    PROCEDURE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    procedure: _knowledge_pb2.Procedure
    score: float
    def __init__(self, procedure: _Optional[_Union[_knowledge_pb2.Procedure, _Mapping]] = ..., score: _Optional[float] = ...) -> None: ...

class MatchProceduresResponse(_message.Message):
    __slots__ = ("procedures", "recall_id")
    PROCEDURES_FIELD_NUMBER: _ClassVar[int]
    RECALL_ID_FIELD_NUMBER: _ClassVar[int]
    procedures: _containers.RepeatedCompositeFieldContainer[MatchedProcedure]
    recall_id: str
    def __init__(self, procedures: _Optional[_Iterable[_Union[MatchedProcedure, _Mapping]]] = ..., recall_id: _Optional[str] = ...) -> None: ...

class RecordProcedureOutcomeRequest(_message.Message):
    __slots__ = ("namespace", "procedure_id", "success")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PROCEDURE_ID_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    procedure_id: str
    success: bool
    def __init__(self, namespace: _Optional[str] = ..., procedure_id: _Optional[str] = ..., success: _Optional[bool] = ...) -> None: ...

class RecordProcedureOutcomeResponse(_message.Message):
    __slots__ = ("procedure",)
    PROCEDURE_FIELD_NUMBER: _ClassVar[int]
    procedure: _knowledge_pb2.Procedure
    def __init__(self, procedure: _Optional[_Union[_knowledge_pb2.Procedure, _Mapping]] = ...) -> None: ...
