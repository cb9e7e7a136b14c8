"""The two ways a call fails: the service said no (CallError), or the client refused first (OptionError)."""

from dataclasses import dataclass
from typing import Dict, List, Optional

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class CallError(Exception):
    """A call the service (or the channel) answered with an error.

    ``code`` is the grpc.StatusCode; ``reason``, ``metadata`` and
    ``field_violations`` are what the service's google.rpc.Status details say
    (ErrorInfo, and BadRequest for bad input).
    """

    def __init__(self, method: str, error: grpc.RpcError):
        self.method = method
        self.code: grpc.StatusCode = error.code()
        self.message: str = error.details() or ""
        self.reason = ""
        self.metadata: Dict[str, str] = {}
        self.field_violations: List[FieldViolation] = []
        status = _status(error)
        for detail in status.details if status else []:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                self.reason, self.metadata = info.reason, dict(info.metadata)
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                self.field_violations += [FieldViolation(v.field, v.description) for v in bad.field_violations]
        text = f"{method} failed: {self.code.name}: {self.message}"
        violations = "; ".join(f"{v.field}: {v.description}" for v in self.field_violations)
        if violations and violations not in self.message:
            text += f" ({violations})"
        super().__init__(text)


class OptionError(ValueError):
    """A bad option or argument, refused before anything is sent; ``option`` names it."""

    def __init__(self, option: str, problem: str):
        self.option = option
        super().__init__(f"{option} {problem}")


def _status(error: grpc.RpcError) -> Optional[object]:
    try:
        return rpc_status.from_call(error)  # type: ignore[arg-type]
    except Exception:  # details that do not decode add nothing; the code and message still say what failed
        return None
