"""The ergonomic client: one method per MemoryService call, with deadline, API key and safe retries."""

import time
import uuid
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence, Union

import grpc
from google.protobuf import struct_pb2

from t4dm.admin.v1 import admin_service_pb2, admin_service_pb2_grpc
from t4dm.errors import CallError, OptionError
from t4dm.memory.v1 import memory_pb2, memory_service_pb2, memory_service_pb2_grpc
from t4dm.retry import RetryPolicy, with_retries

DEFAULT_TIMEOUT = 10.0

#: Told before each retry's wait: (method, attempt, delay seconds, error, request_id).
OnRetry = Callable[[str, int, float, BaseException, str], None]


class Client:
    """A client of the T4DM memory service.

    ``tls``: None or False for plaintext, True for the system's roots, or
    grpc.ChannelCredentials (e.g. ``grpc.ssl_channel_credentials(root_pem)``).
    ``timeout`` bounds each call in seconds, retries included. ``retry``:
    a RetryPolicy, or False to never retry. Only UNAVAILABLE is retried;
    remember, reinforce and forget get a request_id (a UUID) unless given one,
    and every attempt sends the same, so the service applies a retried call
    once. Failures raise CallError (the service said no) or OptionError
    (refused before sending). Keyword arguments of each call are the fields
    of its request message. ``memory`` and ``admin`` are the generated stubs.
    """

    def __init__(
        self,
        address: str,
        *,
        api_key: Optional[str] = None,
        tls: Union[None, bool, grpc.ChannelCredentials] = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry: Union[RetryPolicy, bool] = True,
        on_retry: Optional[OnRetry] = None,
    ):
        if not isinstance(address, str) or not address.strip() or any(c.isspace() for c in address):
            raise OptionError("address", f'must be a non-empty "host:port" without spaces, got {address!r}')
        if api_key is not None and (not isinstance(api_key, str) or not api_key or any(c.isspace() for c in api_key)):
            raise OptionError("api_key", "must be a non-empty string without whitespace")
        _check_timeout(timeout)
        if retry is True:
            retry = RetryPolicy()
        elif retry is False:
            retry = RetryPolicy(max_attempts=1)
        if not isinstance(retry, RetryPolicy) or retry.max_attempts < 1 or retry.initial_backoff <= 0 or retry.max_backoff <= 0 or retry.multiplier < 1:
            raise OptionError("retry", "must be True, False or a RetryPolicy with max_attempts >= 1, positive backoffs and multiplier >= 1")
        options = [
            # gRPC waits up to 2 minutes between reconnects by default; keep it near our own backoff.
            ("grpc.initial_reconnect_backoff_ms", int(retry.initial_backoff * 1000)),
            ("grpc.max_reconnect_backoff_ms", int(retry.max_backoff * 1000)),
        ]
        if tls is None or tls is False:
            self._channel = grpc.insecure_channel(address, options=options)
        elif tls is True or isinstance(tls, grpc.ChannelCredentials):
            creds = grpc.ssl_channel_credentials() if tls is True else tls
            self._channel = grpc.secure_channel(address, creds, options=options)
        else:
            raise OptionError("tls", "must be None, a bool or grpc.ChannelCredentials")
        self._metadata = (("authorization", f"Bearer {api_key}"),) if api_key else ()
        self._timeout = timeout
        self._retry = retry
        self._on_retry = on_retry
        self.memory = memory_service_pb2_grpc.MemoryServiceStub(self._channel)
        self.admin = admin_service_pb2_grpc.AdminServiceStub(self._channel)

    def remember(self, namespace: str, content: str, *, metadata: Optional[Mapping[str, Any]] = None, timeout: Optional[float] = None, **fields: Any) -> memory_service_pb2.RememberResponse:
        request = _message(memory_service_pb2.RememberRequest, namespace=namespace, content=content, **fields)
        _set_metadata(request, metadata)
        request.request_id = request.request_id or str(uuid.uuid4())
        return self._call("Remember", self.memory.Remember, request, timeout, request.request_id)

    def recall(self, namespace: str, query: str = "", *, timeout: Optional[float] = None, **fields: Any) -> memory_service_pb2.RecallResponse:
        return self._call("Recall", self.memory.Recall, _message(memory_service_pb2.RecallRequest, namespace=namespace, query=query, **fields), timeout)

    def reinforce(self, namespace: str, recall_id: str, reward: float, *, timeout: Optional[float] = None, **fields: Any) -> memory_service_pb2.ReinforceResponse:
        request = _message(memory_service_pb2.ReinforceRequest, namespace=namespace, recall_id=recall_id, reward=reward, **fields)
        request.request_id = request.request_id or str(uuid.uuid4())
        return self._call("Reinforce", self.memory.Reinforce, request, timeout, request.request_id)

    def forget(self, namespace: str, ids: Sequence[str] = (), *, timeout: Optional[float] = None, **fields: Any) -> memory_service_pb2.ForgetResponse:
        request = _message(memory_service_pb2.ForgetRequest, namespace=namespace, ids=list(ids), **fields)
        request.request_id = request.request_id or str(uuid.uuid4())
        return self._call("Forget", self.memory.Forget, request, timeout, request.request_id)

    def get_memory(self, namespace: str, id: str, *, timeout: Optional[float] = None, **fields: Any) -> memory_pb2.Memory:
        request = _message(memory_service_pb2.GetMemoryRequest, namespace=namespace, id=id, **fields)
        return self._call("GetMemory", self.memory.GetMemory, request, timeout).memory

    def list_memories(self, namespace: str, *, timeout: Optional[float] = None, **fields: Any) -> memory_service_pb2.ListMemoriesResponse:
        request = _message(memory_service_pb2.ListMemoriesRequest, namespace=namespace, **fields)
        return self._call("ListMemories", self.memory.ListMemories, request, timeout)

    def all_memories(self, namespace: str, **fields: Any) -> Iterator[memory_pb2.Memory]:
        """Every memory the listing matches, page after page."""
        while True:
            page = self.list_memories(namespace, **fields)
            yield from page.memories
            if not page.next_page_token:
                return
            fields["page_token"] = page.next_page_token

    def consolidate(self, namespace: str, *, timeout: Optional[float] = None, **fields: Any) -> memory_service_pb2.ConsolidateResponse:
        return self._call("Consolidate", self.memory.Consolidate, _message(memory_service_pb2.ConsolidateRequest, namespace=namespace, **fields), timeout)

    def get_status(self, *, timeout: Optional[float] = None) -> admin_service_pb2.GetStatusResponse:
        return self._call("GetStatus", self.admin.GetStatus, admin_service_pb2.GetStatusRequest(), timeout)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, stub: Callable[..., Any], request: Any, timeout: Optional[float], request_id: str = "") -> Any:
        timeout = self._timeout if timeout is None else timeout
        _check_timeout(timeout)
        deadline = time.monotonic() + timeout

        def attempt() -> Any:
            try:
                return stub(request, timeout=max(deadline - time.monotonic(), 0.001), metadata=self._metadata)
            except grpc.RpcError as error:
                raise CallError(method, error) from error

        on_retry = self._on_retry
        return with_retries(
            attempt,
            self._retry,
            deadline,
            is_retryable=lambda error: isinstance(error, CallError) and error.code == grpc.StatusCode.UNAVAILABLE,
            on_retry=(lambda n, delay, error: on_retry(method, n, delay, error, request_id)) if on_retry else None,
        )


def _message(cls: Any, **fields: Any) -> Any:
    try:
        return cls(**fields)
    except (TypeError, ValueError) as error:
        raise OptionError(cls.DESCRIPTOR.name, f"refused its fields: {error}") from error


def _set_metadata(request: Any, metadata: Optional[Mapping[str, Any]]) -> None:
    if metadata is None:
        return
    if not isinstance(metadata, Mapping):
        raise OptionError("metadata", "must be a mapping of str to JSON values")
    struct = struct_pb2.Struct()
    try:
        struct.update(metadata)
    except (TypeError, ValueError) as error:
        raise OptionError("metadata", f"must hold JSON values: {error}") from error
    for key, value in struct.fields.items():
        request.metadata[key].CopyFrom(value)


def _check_timeout(timeout: Any) -> None:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0 or timeout == float("inf"):
        raise OptionError("timeout", f"must be a finite number of seconds > 0, got {timeout!r}")
