package retry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/routekeeper/routekeeper/shared/genesys"
	"github.com/routekeeper/routekeeper/shared/retry"
)

// selfPermanent is an error type that says itself it is permanent, as changes.InvalidError
// and live.ShapeError do.
type selfPermanent struct{ permanent bool }

func (e selfPermanent) Error() string   { return "self" }
func (e selfPermanent) Permanent() bool { return e.permanent }

type waiting struct{ d time.Duration }

func (e waiting) Error() string       { return "waiting" }
func (e waiting) Wait() time.Duration { return e.d }

func TestClassify(t *testing.T) {
	api := func(status int, after time.Duration) error {
		return &genesys.APIError{Method: "PUT", Path: "/api/v2/routing/queues/q", StatusCode: status, RetryAfter: after}
	}
	tests := []struct {
		name string
		err  error
		want retry.Decision
	}{
		{"nil", nil, retry.Decision{}},
		{"marked permanent", retry.Permanent(errors.New("bad")), retry.Decision{}},
		{"marked permanent, wrapped", fmt.Errorf("apply x: %w", retry.Permanent(api(503, 0))), retry.Decision{}},
		{"self-declared permanent", fmt.Errorf("decode: %w", selfPermanent{true}), retry.Decision{}},
		{"self-declared not permanent", selfPermanent{false}, retry.Decision{Retry: true}},
		{"permanent inside errors.Join", errors.Join(errors.New("a"), selfPermanent{true}), retry.Decision{}},
		{"429 with Retry-After", fmt.Errorf("update: %w", api(429, 7*time.Second)), retry.Decision{Retry: true, After: 7 * time.Second}},
		{"503", api(503, 0), retry.Decision{Retry: true}},
		{"500", api(500, 0), retry.Decision{Retry: true}},
		{"401 credentials", api(401, 0), retry.Decision{Retry: true}},
		{"403 role", api(403, 0), retry.Decision{Retry: true}},
		{"408", api(408, 0), retry.Decision{Retry: true}},
		{"409 transient conflict", api(409, 0), retry.Decision{Retry: true}},
		{"400", api(400, 0), retry.Decision{}},
		{"404", api(404, 0), retry.Decision{}},
		{"413", api(413, 0), retry.Decision{}},
		{"budget", &genesys.BudgetError{Method: "GET", Path: "/x", Wait: 3 * time.Second}, retry.Decision{Retry: true, After: 3 * time.Second}},
		{"deadline", fmt.Errorf("read: %w", context.DeadlineExceeded), retry.Decision{Retry: true}},
		{"unknown", errors.New("connection reset"), retry.Decision{Retry: true}},
		{"explicit wait wins", fmt.Errorf("x: %w", waiting{2 * time.Second}), retry.Decision{Retry: true, After: 2 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := retry.Classify(tc.err); got != tc.want {
				t.Errorf("Classify(%v) = %+v, want %+v", tc.err, got, tc.want)
			}
		})
	}
	if retry.Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
	base := errors.New("base")
	if !errors.Is(retry.Permanent(base), base) {
		t.Error("Permanent(err) does not unwrap to err")
	}
}
