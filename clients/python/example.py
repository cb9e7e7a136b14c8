#!/usr/bin/env python3
"""Remember, recall and reinforce against a T4DM memory service.

Remembers two memories in a namespace, recalls with a query that matches the
first, reinforces that recall with reward 1 and prints the three answers as
JSON (proto3 JSON mapping) on stdout. Exits 1 when a call fails or the recall
does not return what was remembered, 2 on bad arguments.

Run it where the t4dm package is installed (`pip install ./clients/python`),
e.g. the virtualenv `make clients` builds:

    build/clients/python/venv/bin/python clients/python/example.py --addr 127.0.0.1:50051

Without keys configured the service runs in development mode and needs no
key; otherwise pass one with --api-key or T4DM_API_KEY (the environment keeps
it out of the process list).
"""

import argparse
import json
import os
import sys
import uuid

from google.protobuf import json_format

import t4dm
from t4dm.memory.v1 import memory_pb2

MEMORIES = (
    "The staging deploy key rotates every Monday at 09:00 UTC.",
    "The coffee machine on the third floor only takes oat milk.",
)
QUERY = "When does the staging deploy key rotate?"


def to_json(message):
    # Unpopulated fields too, so a zero reward prediction error still shows up as a number.
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True)


def run(client, namespace):
    """Raises t4dm.CallError ("Remember failed: UNAUTHENTICATED: ...") when a call fails."""
    remembered = [
        # Bypass the learned gate: an example must not depend on what it decides.
        client.remember(namespace, content, admission=memory_pb2.ADMISSION_MODE_ALWAYS)
        for content in MEMORIES
    ]
    recall = client.recall(namespace, QUERY, top_k=2)
    ids = {r.memory.id for r in remembered}
    if not any(m.memory.id in ids for m in recall.memories):
        raise RecallMissed(f"Recall returned none of the remembered memories ({len(recall.memories)} results)")
    reinforce = client.reinforce(namespace, recall.recall_id, 1.0)
    return {
        "namespace": namespace,
        "remembered": [to_json(r) for r in remembered],
        "recall": to_json(recall),
        "reinforce": to_json(reinforce),
    }


class RecallMissed(Exception):
    pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addr", default="127.0.0.1:50051", help="the memory service's gRPC host:port")
    parser.add_argument("--api-key", default=os.environ.get("T4DM_API_KEY", ""), help="sent as authorization: Bearer <key> (default $T4DM_API_KEY)")
    parser.add_argument("--namespace", default=f"examples/python-{uuid.uuid4().hex[:12]}", help="where to remember")
    args = parser.parse_args(argv)

    try:
        client = t4dm.Client(args.addr, api_key=args.api_key or None)
    except t4dm.OptionError as error:
        print(f"example: {error}", file=sys.stderr)
        return 2
    with client:
        try:
            result = run(client, args.namespace)
        except (t4dm.CallError, RecallMissed) as error:
            print(f"example: {error}", file=sys.stderr)
            return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
