// A separate module's use of github.com/t4dm/t4dm/clients/go (copied as main.go into a
// temporary module with a replace directive by test/clients-installed.e2e.test.ts). Prints one
// JSON line per retry ({"retry": ...}) and, at the end, one with what each step answered: the
// same shape as typescript-consumer.mjs.
// Usage: consumer <address> <namespace>
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"google.golang.org/genproto/googleapis/rpc/code"

	memoryv1 "github.com/t4dm/t4dm/clients/go/gen/t4dm/memory/v1"
	"github.com/t4dm/t4dm/clients/go/t4dm"
)

func print(value any) {
	out, _ := json.Marshal(value)
	fmt.Println(string(out))
}

func describe(err error) map[string]any {
	var callError *t4dm.CallError
	var optionError *t4dm.OptionError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &callError):
		violations := []map[string]string{}
		for _, v := range callError.FieldViolations {
			violations = append(violations, map[string]string{"field": v.Field, "description": v.Description})
		}
		return map[string]any{"kind": "call", "code": code.Code(callError.Code).String(), "reason": callError.Reason, "fieldViolations": violations, "message": callError.Error()}
	case errors.As(err, &optionError):
		return map[string]any{"kind": "option", "option": optionError.Option, "message": optionError.Error()}
	}
	fmt.Fprintln(os.Stderr, "unexpected error:", err)
	os.Exit(1)
	return nil
}

func must[T any](value T, err error) T {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return value
}

func main() {
	address, namespace := os.Args[1], os.Args[2]
	retried := map[string]bool{}
	// Started before the pod listens: the first Remember is retried until it is up.
	client := must(t4dm.Dial(address, t4dm.Options{
		Deadline: 2 * time.Minute,
		Retry:    t4dm.RetryPolicy{MaxAttempts: 10_000, InitialBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, Multiplier: 2},
		OnRetry: func(r t4dm.RetryEvent) {
			if r.Method == "Remember" {
				retried[r.RequestID] = true
			}
			var callError *t4dm.CallError
			errors.As(r.Err, &callError)
			print(map[string]any{"retry": map[string]any{"method": r.Method, "attempt": r.Attempt, "requestId": r.RequestID, "code": code.Code(callError.Code).String()}})
		},
	}))
	defer client.Close()
	ctx := context.Background()
	content := "The staging deploy key rotates every Monday at 09:00 UTC."

	remembered := must(client.Remember(ctx, &memoryv1.RememberRequest{Namespace: namespace, Content: content}))
	recall := must(client.Recall(ctx, &memoryv1.RecallRequest{Namespace: namespace, Query: "when does the deploy key rotate?", TopK: 5}))
	reinforce := must(client.Reinforce(ctx, &memoryv1.ReinforceRequest{Namespace: namespace, RecallId: recall.GetRecallId(), Reward: 1}))

	// The request id every attempt sent is the one the service keyed the memory on: sent again
	// it answers the same memory, ADMITTED (a new request with this content would be MERGED).
	var requestIDs []string
	for id := range retried {
		requestIDs = append(requestIDs, id)
	}
	requestID := ""
	if len(requestIDs) > 0 {
		requestID = requestIDs[0]
	}
	again := must(client.Remember(ctx, &memoryv1.RememberRequest{Namespace: namespace, Content: content, RequestId: requestID}))
	_, reusedErr := client.Remember(ctx, &memoryv1.RememberRequest{Namespace: namespace, Content: "another body", RequestId: requestID})
	_, badArgument := client.Remember(ctx, &memoryv1.RememberRequest{Namespace: namespace, Content: ""})
	_, badOption := t4dm.Dial(address, t4dm.Options{Deadline: -time.Second})

	listed := []string{}
	for token := ""; ; {
		page := must(client.ListMemories(ctx, &memoryv1.ListMemoriesRequest{Namespace: namespace, PageSize: 1, PageToken: token}))
		for _, m := range page.GetMemories() {
			listed = append(listed, m.GetId())
		}
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	recalled := []string{}
	for _, m := range recall.GetMemories() {
		recalled = append(recalled, m.GetMemory().GetId())
	}
	print(map[string]any{"done": map[string]any{
		"remembered":        map[string]any{"id": remembered.GetMemory().GetId(), "decision": remembered.GetDecision().String(), "lsn": remembered.GetLsn()},
		"recall":            map[string]any{"recallId": recall.GetRecallId(), "ids": recalled},
		"reinforce":         map[string]any{"creditedMemories": reinforce.GetCreditedMemories(), "lsn": reinforce.GetLsn()},
		"again":             map[string]any{"id": again.GetMemory().GetId(), "decision": again.GetDecision().String()},
		"reused":            describe(reusedErr),
		"badArgument":       describe(badArgument),
		"badOption":         describe(badOption),
		"listed":            listed,
		"retriedRequestIds": requestIDs,
	}})
}
