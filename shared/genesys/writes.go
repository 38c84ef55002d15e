package genesys

import (
	"context"
	"sync"
)

// Writes and the read-to-write window. A PUT is a full replace of the copy read before it:
// resending it after a 429's Retry-After or a 5xx's backoff would write that old copy over
// whatever an admin saved meanwhile. A caller that read before writing marks the write
// SendOnce: the client sends it at most once (a 401 still refreshes the token and resends
// at once: the server refused it unread) and returns the failure, with the wait Genesys
// asked for, so the caller can read again and decide again. Prepay keeps the budget from
// stretching the window: the read pays for the write too.

type sendOnceKey struct{}

// SendOnce returns a context whose requests the client sends at most once: a 429, a 5xx or
// a transport failure is returned at once (*APIError carries RetryAfter when Genesys sent
// one, else the backoff the client would have waited), never retried in place.
func SendOnce(ctx context.Context) context.Context {
	return context.WithValue(ctx, sendOnceKey{}, true)
}

func sendOnce(ctx context.Context) bool {
	once, _ := ctx.Value(sendOnceKey{}).(bool)
	return once
}

type prepaidKey struct{}

// prepaid is the budget Prepay bought: n requests, paid for by the first one sent.
type prepaid struct {
	mu   sync.Mutex
	n    int
	paid bool
	left int
}

// Prepay returns a context whose first request waits for the budget of n requests at
// once, so the next n-1 requests sent with it (or a context derived from it) do not wait
// for the budget: a read then its write go out back to back. A pause a 429 imposed is
// still honoured: a prepaid request meeting one returns a *BudgetError instead of waiting.
func Prepay(ctx context.Context, n int) context.Context {
	if n < 1 {
		n = 1
	}
	return context.WithValue(ctx, prepaidKey{}, &prepaid{n: n})
}

// takePrepaid reports how many budget tokens the request must reserve: 0 when it was paid
// for by an earlier request of its Prepay context, n for the first one, 1 otherwise.
func takePrepaid(ctx context.Context) int {
	p, _ := ctx.Value(prepaidKey{}).(*prepaid)
	if p == nil {
		return 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case !p.paid:
		p.paid, p.left = true, p.n-1
		return p.n
	case p.left > 0:
		p.left--
		return 0
	}
	return 1
}
