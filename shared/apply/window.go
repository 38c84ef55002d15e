package apply

import (
	"context"
	"net/http/httptrace"
	"sync"
	"time"
)

// wireWindow measures an update's read-to-write window where it is exposed: from the
// first byte of the read's answer to the moment the write's request has been sent whole
// (net/http/httptrace, on the engine's clock). Everything the engine does in between
// (decoding and canonicalising the read, the merge, the request budget, the token, the
// write's body) is inside it; an admin's save that Genesys applies in this span is one
// the write's full replace can overwrite unseen.
//
// A transport that does not report to httptrace leaves the ends the engine saw: the read
// returned, the write about to be sent.
type wireWindow struct {
	now func() time.Time

	mu          sync.Mutex
	read, wrote time.Time
}

// reading returns ctx traced as the read: the last answer's first byte is the start.
func (w *wireWindow) reading(ctx context.Context) context.Context {
	w.mu.Lock()
	w.read = time.Time{}
	w.mu.Unlock()
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotFirstResponseByte: func() {
		t := w.now()
		w.mu.Lock()
		w.read = t
		w.mu.Unlock()
	}})
}

// writing returns ctx traced as the write: the last request sent whole is the end.
func (w *wireWindow) writing(ctx context.Context) context.Context {
	w.mu.Lock()
	w.wrote = time.Time{}
	w.mu.Unlock()
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err != nil {
			return
		}
		t := w.now()
		w.mu.Lock()
		w.wrote = t
		w.mu.Unlock()
	}})
}

// length is the window; readReturned and writeCalled are the engine's own ends, used
// where the transport reported none.
func (w *wireWindow) length(readReturned, writeCalled time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	from, to := w.read, w.wrote
	if from.IsZero() {
		from = readReturned
	}
	if to.IsZero() {
		to = writeCalled
	}
	return max(to.Sub(from), 0)
}
