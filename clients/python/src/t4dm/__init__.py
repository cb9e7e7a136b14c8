"""Client for the T4DM memory service.

    import t4dm
    with t4dm.Client("127.0.0.1:50051", api_key=key) as client:
        remembered = client.remember("agent-1", "The deploy script is tools/deploy.sh")
        recall = client.recall("agent-1", "where is the deploy script?", top_k=5)
        client.reinforce("agent-1", recall.recall_id, 1.0)

The generated messages and stubs are t4dm.memory.v1 and t4dm.admin.v1.
"""

from t4dm.client import DEFAULT_TIMEOUT, Client
from t4dm.errors import CallError, FieldViolation, OptionError
from t4dm.retry import RetryPolicy

__all__ = ["Client", "CallError", "FieldViolation", "OptionError", "RetryPolicy", "DEFAULT_TIMEOUT"]
