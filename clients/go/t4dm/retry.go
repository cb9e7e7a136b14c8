package t4dm

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc/codes"
)

// backoffDelay is the wait before retry number n (1-based): full-jitter exponential
// backoff, uniform in [0, cap), so clients that failed together do not return together.
func backoffDelay(p RetryPolicy, n int, random func() float64) time.Duration {
	limit := math.Min(float64(p.MaxBackoff), float64(p.InitialBackoff)*math.Pow(p.Multiplier, float64(n-1)))
	return time.Duration(random() * limit)
}

// withRetries runs attempt until it succeeds, fails with anything but
// UNAVAILABLE, uses up the attempts, or the next wait would pass ctx's
// deadline; then returns the last error. attempt must send the same request
// each time (its request_id fixed once by the caller), so a retry of an
// attempt that did reach the service is answered, not applied twice.
func withRetries[T any](ctx context.Context, p RetryPolicy, onRetry func(attempt int, delay time.Duration, err error), attempt func() (T, error)) (T, error) {
	for n := 1; ; n++ {
		result, err := attempt()
		if err == nil || codeOf(err) != codes.Unavailable || n >= p.MaxAttempts {
			return result, err
		}
		delay := backoffDelay(p, n, rand.Float64)
		if deadline, ok := ctx.Deadline(); ok && time.Now().Add(delay).After(deadline) {
			return result, err
		}
		if onRetry != nil {
			onRetry(n, delay, err)
		}
		select {
		case <-ctx.Done():
			return result, err
		case <-time.After(delay):
		}
	}
}
