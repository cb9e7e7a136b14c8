"""A separate project's use of the t4dm package, pip-installed into a fresh virtualenv by
test/clients-installed.e2e.test.ts. Prints one JSON line per retry ({"retry": ...}) and, at the
end, one with what each step answered: the same shape as typescript-consumer.mjs.
Usage: python python-consumer.py <address> <namespace>
"""

import json
import sys

import t4dm
from t4dm.memory.v1 import memory_service_pb2


def emit(value):
    print(json.dumps(value), flush=True)


def describe(call):
    try:
        call()
        return None
    except t4dm.CallError as error:
        violations = [{"field": v.field, "description": v.description} for v in error.field_violations]
        return {"kind": "call", "code": error.code.name, "reason": error.reason, "fieldViolations": violations, "message": str(error)}
    except t4dm.OptionError as error:
        return {"kind": "option", "option": error.option, "message": str(error)}


def main(address, namespace):
    retried = []

    def on_retry(method, attempt, delay, error, request_id):
        if method == "Remember" and request_id not in retried:
            retried.append(request_id)
        emit({"retry": {"method": method, "attempt": attempt, "requestId": request_id, "code": error.code.name}})

    # Started before the pod listens: the first Remember is retried until it is up.
    client = t4dm.Client(address, timeout=120, retry=t4dm.RetryPolicy(max_attempts=10_000, initial_backoff=0.05, max_backoff=0.5), on_retry=on_retry)
    content = "The staging deploy key rotates every Monday at 09:00 UTC."
    with client:
        remembered = client.remember(namespace, content, metadata={"source": "python-consumer"})
        recall = client.recall(namespace, "when does the deploy key rotate?", top_k=5)
        reinforce = client.reinforce(namespace, recall.recall_id, 1.0)
        # The request id every attempt sent is the one the service keyed the memory on: sent again
        # it answers the same memory, ADMITTED (a new request with this content would be MERGED).
        request_id = retried[0] if retried else ""
        again = client.remember(namespace, content, metadata={"source": "python-consumer"}, request_id=request_id)
        reused = describe(lambda: client.remember(namespace, "another body", request_id=request_id))
        bad_argument = describe(lambda: client.remember(namespace, ""))
        bad_option = describe(lambda: t4dm.Client(address, timeout=-1))
        listed = [m.id for m in client.all_memories(namespace, page_size=1)]
    decision = memory_service_pb2.AdmissionDecision.Name
    emit({"done": {
        "remembered": {"id": remembered.memory.id, "decision": decision(remembered.decision), "lsn": remembered.lsn},
        "recall": {"recallId": recall.recall_id, "ids": [m.memory.id for m in recall.memories]},
        "reinforce": {"creditedMemories": reinforce.credited_memories, "lsn": reinforce.lsn},
        "again": {"id": again.memory.id, "decision": decision(again.decision)},
        "reused": reused,
        "badArgument": bad_argument,
        "badOption": bad_option,
        "listed": listed,
        "retriedRequestIds": retried,
    }})


if __name__ == "__main__":
    main(*sys.argv[1:3])
