package t4dm

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var fast = RetryPolicy{MaxAttempts: 4, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Multiplier: 2}

func TestRetriesUnavailableUntilSuccess(t *testing.T) {
	attempts, retries := 0, 0
	got, err := withRetries(context.Background(), fast, func(int, time.Duration, error) { retries++ }, func() (string, error) {
		attempts++
		if attempts < 3 {
			return "", newCallError("Remember", status.Error(codes.Unavailable, "down"))
		}
		return "ok", nil
	})
	if err != nil || got != "ok" || attempts != 3 || retries != 2 {
		t.Fatalf("got %q, %v after %d attempts, %d retries; want ok after 3, 2", got, err, attempts, retries)
	}
}

func TestNeverRetriesOtherCodes(t *testing.T) {
	attempts := 0
	_, err := withRetries(context.Background(), fast, nil, func() (string, error) {
		attempts++
		return "", newCallError("Remember", status.Error(codes.InvalidArgument, "bad"))
	})
	var callError *CallError
	if attempts != 1 || !errors.As(err, &callError) || callError.Code != codes.InvalidArgument || status.Code(err) != codes.InvalidArgument {
		t.Fatalf("got %v after %d attempts; want one INVALID_ARGUMENT", err, attempts)
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	attempts := 0
	_, err := withRetries(context.Background(), fast, nil, func() (string, error) {
		attempts++
		return "", newCallError("Recall", status.Error(codes.Unavailable, "down"))
	})
	if attempts != fast.MaxAttempts || status.Code(err) != codes.Unavailable {
		t.Fatalf("got %v after %d attempts; want UNAVAILABLE after %d", err, attempts, fast.MaxAttempts)
	}
}

func TestBackoffGrowsToTheCap(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 9, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 250 * time.Millisecond, Multiplier: 2}
	for n, want := range map[int]time.Duration{1: 50 * time.Millisecond, 2: 100 * time.Millisecond, 3: 125 * time.Millisecond, 5: 125 * time.Millisecond} {
		if got := backoffDelay(p, n, func() float64 { return 0.5 }); got != want {
			t.Errorf("retry %d: %v, want %v", n, got, want)
		}
	}
}

func TestDialRefusesBadOptions(t *testing.T) {
	for name, opts := range map[string]Options{
		"Deadline":          {Deadline: -time.Second},
		"Retry.MaxAttempts": {Retry: RetryPolicy{MaxAttempts: 0, InitialBackoff: 1, MaxBackoff: 1, Multiplier: 1}},
		"APIKey":            {APIKey: "a key"},
	} {
		var optionError *OptionError
		if _, err := Dial("127.0.0.1:1", opts); !errors.As(err, &optionError) || optionError.Option != name {
			t.Errorf("%s: got %v, want an OptionError naming it", name, err)
		}
	}
	if _, err := Dial(" ", Options{}); err == nil {
		t.Error("an empty address was accepted")
	}
}
