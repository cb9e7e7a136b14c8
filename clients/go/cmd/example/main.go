// Command example remembers, recalls and reinforces against a T4DM memory
// service through the Go client (package t4dm).
//
// It remembers two memories in a namespace, recalls with a query that matches
// the first, reinforces that recall with reward 1 and prints the three answers
// as JSON (proto3 JSON mapping) on stdout. It exits 1 when a call fails or the
// recall does not return what was remembered, 2 on bad arguments.
//
//	example --addr 127.0.0.1:50051 [--api-key K] [--namespace NS]
//
// Without keys configured the service runs in development mode and needs no
// key; otherwise pass one with --api-key or T4DM_API_KEY (the environment keeps
// it out of the process list).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	memoryv1 "github.com/t4dm/t4dm/clients/go/gen/t4dm/memory/v1"
	"github.com/t4dm/t4dm/clients/go/t4dm"
)

var memories = []string{
	"The staging deploy key rotates every Monday at 09:00 UTC.",
	"The coffee machine on the third floor only takes oat milk.",
}

const query = "When does the staging deploy key rotate?"

func main() {
	os.Exit(realMain())
}

func realMain() int {
	addr := flag.String("addr", "127.0.0.1:50051", "the memory service's gRPC host:port")
	apiKey := flag.String("api-key", "", "sent as authorization: Bearer <key> (default $T4DM_API_KEY)")
	namespace := flag.String("namespace", "examples/go-"+randomSuffix(), "where to remember")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "example: unexpected arguments %q\n", flag.Args())
		return 2
	}

	if *apiKey == "" {
		// Read here, not as the flag's default, so -h never prints the key.
		*apiKey = os.Getenv("T4DM_API_KEY")
	}
	client, err := t4dm.Dial(*addr, t4dm.Options{APIKey: *apiKey})
	if err != nil {
		fmt.Fprintf(os.Stderr, "example: %v\n", err)
		return 2
	}
	defer client.Close()

	result, err := run(context.Background(), client, *namespace)
	if err != nil {
		fmt.Fprintf(os.Stderr, "example: %v\n", err)
		return 1
	}
	out, err := json.MarshalIndent(result, "", "  ")
	if err != nil {
		fmt.Fprintf(os.Stderr, "example: %v\n", err)
		return 1
	}
	fmt.Println(string(out))
	return 0
}

// output is what the example prints; the same shape as the Python example's.
type output struct {
	Namespace  string            `json:"namespace"`
	Remembered []json.RawMessage `json:"remembered"`
	Recall     json.RawMessage   `json:"recall"`
	Reinforce  json.RawMessage   `json:"reinforce"`
}

// run's errors are t4dm.CallErrors: "Remember failed: UNAUTHENTICATED: ...".
func run(ctx context.Context, client *t4dm.Client, namespace string) (*output, error) {
	result := &output{Namespace: namespace}
	ids := map[string]bool{}
	for _, content := range memories {
		remembered, err := client.Remember(ctx, &memoryv1.RememberRequest{
			Namespace: namespace,
			Content:   content,
			// Bypass the learned gate: an example must not depend on what it decides.
			Admission: memoryv1.AdmissionMode_ADMISSION_MODE_ALWAYS,
		})
		if err != nil {
			return nil, err
		}
		ids[remembered.GetMemory().GetId()] = true
		result.Remembered = append(result.Remembered, toJSON(remembered))
	}

	recall, err := client.Recall(ctx, &memoryv1.RecallRequest{Namespace: namespace, Query: query, TopK: 2})
	if err != nil {
		return nil, err
	}
	found := false
	for _, m := range recall.GetMemories() {
		found = found || ids[m.GetMemory().GetId()]
	}
	if !found {
		return nil, fmt.Errorf("Recall returned none of the remembered memories (%d results)", len(recall.GetMemories()))
	}
	result.Recall = toJSON(recall)

	reinforce, err := client.Reinforce(ctx, &memoryv1.ReinforceRequest{
		Namespace: namespace,
		RecallId:  recall.GetRecallId(),
		Reward:    1,
	})
	if err != nil {
		return nil, err
	}
	result.Reinforce = toJSON(reinforce)
	return result, nil
}

// toJSON renders unpopulated fields too, so a zero reward prediction error still shows up as a number.
func toJSON(message proto.Message) json.RawMessage {
	out, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(message)
	if err != nil {
		panic(errors.Join(errors.New("protojson cannot render a message it generated"), err))
	}
	return out
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
