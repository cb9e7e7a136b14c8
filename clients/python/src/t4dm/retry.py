"""Retries of UNAVAILABLE: full-jitter exponential backoff within the call's deadline."""

import random
import time
from dataclasses import dataclass
from typing import Callable, Optional, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    #: Attempts in all, the first included; 1 means never retry.
    max_attempts: int = 5
    initial_backoff: float = 0.1
    max_backoff: float = 2.0
    multiplier: float = 2.0


def backoff(policy: RetryPolicy, retry: int, rand: Callable[[], float] = random.random) -> float:
    """The wait in seconds before retry number ``retry`` (1-based), uniform below a growing cap."""
    return rand() * min(policy.max_backoff, policy.initial_backoff * policy.multiplier ** (retry - 1))


def with_retries(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    deadline: float,
    is_retryable: Callable[[BaseException], bool],
    on_retry: Optional[Callable[[int, float, BaseException], None]] = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Runs ``attempt`` until it succeeds, fails with an error that is not
    retryable, uses up the attempts, or the next wait would pass ``deadline``
    (on ``clock``); then raises the last error. ``attempt`` must send the same
    request each time (its request_id fixed once), so a retry of an attempt
    that reached the service is answered, not applied twice."""
    number = 1
    while True:
        try:
            return attempt()
        except Exception as error:
            if not is_retryable(error) or number >= policy.max_attempts:
                raise
            delay = backoff(policy, number)
            if clock() + delay >= deadline:
                raise
            if on_retry:
                on_retry(number, delay, error)
            sleep(delay)
            number += 1
