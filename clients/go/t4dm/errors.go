package t4dm

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// FieldViolation names a bad field of a request and what is wrong with it.
type FieldViolation struct {
	Field, Description string
}

// CallError is a call the service (or the channel) answered with an error:
// the gRPC code and what the service's google.rpc.Status details say.
// status.FromError and status.Code see through it.
type CallError struct {
	Method  string
	Code    codes.Code
	Message string
	// Reason is the ErrorInfo reason, e.g. "REQUEST_ID_REUSED"; empty when the service sent none.
	Reason          string
	Metadata        map[string]string
	FieldViolations []FieldViolation
	status          *status.Status
}

func (e *CallError) Error() string {
	var violations []string
	for _, v := range e.FieldViolations {
		violations = append(violations, v.Field+": "+v.Description)
	}
	text := fmt.Sprintf("%s failed: %s: %s", e.Method, code.Code(e.Code), e.Message)
	if joined := strings.Join(violations, "; "); joined != "" && !strings.Contains(e.Message, joined) {
		text += " (" + joined + ")"
	}
	return text
}

// GRPCStatus lets status.FromError and status.Code read the original status.
func (e *CallError) GRPCStatus() *status.Status { return e.status }

func newCallError(method string, err error) error {
	s, ok := status.FromError(err)
	if !ok {
		return err
	}
	e := &CallError{Method: method, Code: s.Code(), Message: s.Message(), status: s}
	for _, detail := range s.Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			e.Reason, e.Metadata = d.GetReason(), d.GetMetadata()
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				e.FieldViolations = append(e.FieldViolations, FieldViolation{v.GetField(), v.GetDescription()})
			}
		}
	}
	return e
}

func codeOf(err error) codes.Code {
	var callError *CallError
	if errors.As(err, &callError) {
		return callError.Code
	}
	return status.Code(err)
}
