package t4dm

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"
)

// DefaultDeadline bounds a call, retries included, when its context has no deadline.
const DefaultDeadline = 10 * time.Second

// Options configure Dial. The zero value dials plaintext with no key, the
// default deadline and the default retries.
type Options struct {
	// APIKey is sent as "authorization: Bearer <key>" on every call; empty in development mode.
	APIKey string
	// TLS, when set, encrypts the channel (&tls.Config{} trusts the system roots).
	TLS *tls.Config
	// Deadline bounds a call whose context has none, retries included; 0 means DefaultDeadline.
	Deadline time.Duration
	// Retry is how UNAVAILABLE is retried; the zero value means DefaultRetryPolicy.
	Retry RetryPolicy
	// OnRetry, when set, is told before each retry's wait.
	OnRetry func(RetryEvent)
}

// RetryPolicy is how a call is retried when the service answers UNAVAILABLE.
type RetryPolicy struct {
	// MaxAttempts counts the first attempt too; 1 means never retry.
	MaxAttempts int
	// InitialBackoff caps the wait before the first retry; MaxBackoff caps any wait.
	InitialBackoff, MaxBackoff time.Duration
	// Multiplier is how much the cap grows per retry (>= 1).
	Multiplier float64
}

// DefaultRetryPolicy: up to 5 attempts, waits capped at 100 ms doubling to 2 s.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 5, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second, Multiplier: 2}

// RetryEvent describes a failed attempt about to be retried.
type RetryEvent struct {
	Method  string
	Attempt int // the attempt that failed, 1-based
	Delay   time.Duration
	Err     error
	// RequestID is what every attempt of this call sends; empty for calls that carry none.
	RequestID string
}

// OptionError is a bad option or argument, refused before anything is sent.
type OptionError struct {
	Option  string
	Problem string
}

func (e *OptionError) Error() string { return "t4dm: " + e.Option + " " + e.Problem }

func resolve(address string, opts Options) (Options, error) {
	if strings.TrimSpace(address) == "" || strings.ContainsAny(address, " \t\r\n") {
		return opts, &OptionError{"address", fmt.Sprintf("must be a non-empty host:port without spaces, got %q", address)}
	}
	if strings.ContainsAny(opts.APIKey, " \t\r\n") {
		return opts, &OptionError{"APIKey", "must not contain whitespace"}
	}
	if opts.Deadline < 0 {
		return opts, &OptionError{"Deadline", fmt.Sprintf("must be >= 0, got %v", opts.Deadline)}
	}
	if opts.Deadline == 0 {
		opts.Deadline = DefaultDeadline
	}
	if opts.Retry == (RetryPolicy{}) {
		opts.Retry = DefaultRetryPolicy
	}
	r := opts.Retry
	switch {
	case r.MaxAttempts < 1:
		return opts, &OptionError{"Retry.MaxAttempts", fmt.Sprintf("must be >= 1, got %d", r.MaxAttempts)}
	case r.InitialBackoff <= 0 || r.MaxBackoff <= 0:
		return opts, &OptionError{"Retry.InitialBackoff and Retry.MaxBackoff", "must be > 0"}
	case !(r.Multiplier >= 1):
		return opts, &OptionError{"Retry.Multiplier", fmt.Sprintf("must be >= 1, got %v", r.Multiplier)}
	}
	return opts, nil
}
