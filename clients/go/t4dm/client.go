// Package t4dm is the ergonomic Go client of the T4DM memory service: one
// method per call of t4dm.memory.v1.MemoryService (and the admin calls an
// agent needs), each with a deadline, the API key, and retries of
// UNAVAILABLE that resend the same request_id, so a retried Remember,
// Reinforce or Forget is applied once. The generated stubs live in
// github.com/t4dm/t4dm/clients/go/gen/t4dm/{memory,admin}/v1; Memory() and
// Admin() return them for anything not wrapped here.
package t4dm

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/t4dm/t4dm/clients/go/gen/t4dm/admin/v1"
	memoryv1 "github.com/t4dm/t4dm/clients/go/gen/t4dm/memory/v1"
)

// Client is safe for concurrent use. Close it when done.
type Client struct {
	conn   *grpc.ClientConn
	memory memoryv1.MemoryServiceClient
	admin  adminv1.AdminServiceClient
	opts   Options
}

// Dial checks the options and makes a client. The connection is lazy: a
// service that is not up yet answers UNAVAILABLE, which is retried.
func Dial(address string, opts Options) (*Client, error) {
	opts, err := resolve(address, opts)
	if err != nil {
		return nil, err
	}
	transport := insecure.NewCredentials()
	if opts.TLS != nil {
		transport = credentials.NewTLS(opts.TLS)
	}
	// grpc-go waits up to 2 minutes between reconnects by default; keep it near our own backoff.
	reconnect := backoff.DefaultConfig
	reconnect.BaseDelay, reconnect.MaxDelay = opts.Retry.InitialBackoff, opts.Retry.MaxBackoff
	conn, err := grpc.NewClient(address,
		grpc.WithTransportCredentials(transport),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: reconnect, MinConnectTimeout: opts.Deadline}))
	if err != nil {
		return nil, &OptionError{"address", err.Error()}
	}
	return &Client{conn: conn, memory: memoryv1.NewMemoryServiceClient(conn), admin: adminv1.NewAdminServiceClient(conn), opts: opts}, nil
}

// Close releases the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Memory is the generated MemoryService stub on this client's connection (no retries, no key).
func (c *Client) Memory() memoryv1.MemoryServiceClient { return c.memory }

// Admin is the generated AdminService stub on this client's connection (no retries, no key).
func (c *Client) Admin() adminv1.AdminServiceClient { return c.admin }

// Remember remembers one memory. Without a RequestId it gets one (a UUID);
// every attempt sends the same. The caller's request is not modified.
func (c *Client) Remember(ctx context.Context, req *memoryv1.RememberRequest) (*memoryv1.RememberResponse, error) {
	if req == nil {
		return nil, &OptionError{"request", "must not be nil"}
	}
	req = withRequestID(req, req.GetRequestId(), func(r *memoryv1.RememberRequest, id string) { r.RequestId = id })
	return unary(ctx, c, "Remember", req.GetRequestId(), c.memory.Remember, req)
}

// BatchRemember remembers many; each request without a RequestId gets its own.
func (c *Client) BatchRemember(ctx context.Context, req *memoryv1.BatchRememberRequest) (*memoryv1.BatchRememberResponse, error) {
	if req == nil {
		return nil, &OptionError{"request", "must not be nil"}
	}
	req = proto.Clone(req).(*memoryv1.BatchRememberRequest)
	for i, r := range req.GetRequests() {
		if r == nil {
			return nil, &OptionError{fmt.Sprintf("requests[%d]", i), "must not be nil"}
		}
		if r.GetRequestId() == "" {
			r.RequestId = newUUID()
		}
	}
	return unary(ctx, c, "BatchRemember", "", c.memory.BatchRemember, req)
}

// Recall finds the memories most relevant to a query.
func (c *Client) Recall(ctx context.Context, req *memoryv1.RecallRequest) (*memoryv1.RecallResponse, error) {
	return unary(ctx, c, "Recall", "", c.memory.Recall, req)
}

// Reinforce rewards what a recall returned; a retry resends the same request_id, so it counts once.
func (c *Client) Reinforce(ctx context.Context, req *memoryv1.ReinforceRequest) (*memoryv1.ReinforceResponse, error) {
	if req == nil {
		return nil, &OptionError{"request", "must not be nil"}
	}
	req = withRequestID(req, req.GetRequestId(), func(r *memoryv1.ReinforceRequest, id string) { r.RequestId = id })
	return unary(ctx, c, "Reinforce", req.GetRequestId(), c.memory.Reinforce, req)
}

// Forget deletes memories by id or filter; a retry resends the same request_id.
func (c *Client) Forget(ctx context.Context, req *memoryv1.ForgetRequest) (*memoryv1.ForgetResponse, error) {
	if req == nil {
		return nil, &OptionError{"request", "must not be nil"}
	}
	req = withRequestID(req, req.GetRequestId(), func(r *memoryv1.ForgetRequest, id string) { r.RequestId = id })
	return unary(ctx, c, "Forget", req.GetRequestId(), c.memory.Forget, req)
}

// GetMemory returns one memory and its life-cycle status.
func (c *Client) GetMemory(ctx context.Context, req *memoryv1.GetMemoryRequest) (*memoryv1.Memory, error) {
	res, err := unary(ctx, c, "GetMemory", "", c.memory.GetMemory, req)
	return res.GetMemory(), err
}

// ListMemories returns one page; pass NextPageToken back for the next.
func (c *Client) ListMemories(ctx context.Context, req *memoryv1.ListMemoriesRequest) (*memoryv1.ListMemoriesResponse, error) {
	return unary(ctx, c, "ListMemories", "", c.memory.ListMemories, req)
}

// Consolidate moves buffered memories to long-term storage now.
func (c *Client) Consolidate(ctx context.Context, req *memoryv1.ConsolidateRequest) (*memoryv1.ConsolidateResponse, error) {
	return unary(ctx, c, "Consolidate", "", c.memory.Consolidate, req)
}

// GetStatus reports the service's state (an admin key when keys are configured).
func (c *Client) GetStatus(ctx context.Context) (*adminv1.GetStatusResponse, error) {
	return unary(ctx, c, "GetStatus", "", c.admin.GetStatus, &adminv1.GetStatusRequest{})
}

// unary runs one call with the key, the deadline and the retries.
func unary[Req interface {
	proto.Message
	comparable
}, Res any](ctx context.Context, c *Client, method, requestID string, stub func(context.Context, Req, ...grpc.CallOption) (Res, error), req Req) (Res, error) {
	var zero Req
	if req == zero {
		var none Res
		return none, &OptionError{"request", "must not be nil"}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.Deadline)
		defer cancel()
	}
	if c.opts.APIKey != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.opts.APIKey)
	}
	var onRetry func(int, time.Duration, error)
	if c.opts.OnRetry != nil {
		onRetry = func(attempt int, delay time.Duration, err error) {
			c.opts.OnRetry(RetryEvent{Method: method, Attempt: attempt, Delay: delay, Err: err, RequestID: requestID})
		}
	}
	return withRetries(ctx, c.opts.Retry, onRetry, func() (Res, error) {
		res, err := stub(ctx, req)
		if err != nil {
			return res, newCallError(method, err)
		}
		return res, nil
	})
}

// withRequestID returns req with a request id: its own, or a copy with a new one.
func withRequestID[Req proto.Message](req Req, id string, set func(Req, string)) Req {
	if id != "" {
		return req
	}
	req = proto.Clone(req).(Req)
	set(req, newUUID())
	return req
}

// newUUID is a random (version 4) UUID.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
