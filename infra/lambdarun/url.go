package lambdarun

// The Function URL source. What a Function URL does, from "Invoking Lambda
// function URLs" (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html,
// its request and response payload sections), "Creating and managing Lambda
// function URLs" (https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html,
// CORS), the Lambda quotas (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)
// and aws-lambda-go's events/lambda_function_urls.go (the request, response
// and streaming-response types):
//
//   - the event is payload format 2.0: version "2.0", routeKey and
//     requestContext.routeKey and .stage "$default", rawPath,
//     rawQueryString, the Cookie header split into cookies, the other headers
//     lower-cased with repeated ones comma-joined, queryStringParameters with
//     repeated keys comma-joined, requestContext.time as
//     "02/Jan/2006:15:04:05 -0700" and timeEpoch in milliseconds;
//   - requestContext.accountId is "anonymous" for AuthType NONE (as in the
//     events AWS shows from real URLs) and the function owner's account for
//     AWS_IAM;
//   - the body is passed as it is for text/*, application/json,
//     application/xml and application/javascript, and base64-encoded
//     (isBase64Encoded) for every other content type, none included: the
//     split ministackorg/ministack PR #766 measured on API Gateway's 2.0
//     format, which function URLs share; AWS's own Function URL slides name
//     application/json and text/*;
//   - the answer: a JSON object with statusCode is an
//     events.LambdaFunctionURLResponse (cookies become Set-Cookie headers, a
//     base64 body is decoded); any other valid JSON is a 200 with
//     content-type application/json and the payload as its body; a function
//     error is a 502 "Internal Server Error";
//   - an event over 6 MiB (6,291,456 bytes, Lambda's synchronous request
//     limit) is refused with 413 before the function runs; a response over
//     6 MiB + 100 bytes is a 502.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/routekeeper/routekeeper/infra/awslocal"
)

// Limits of a synchronous invocation (Lambda quotas: 6 MB request and
// response; the response limit is 100 bytes larger, as Lambda's own error
// message "Exceeded maximum allowed payload size (6291556 bytes)" says).
const (
	MaxRequestPayload  = 6 << 20
	MaxResponsePayload = 6<<20 + 100
)

// URLOptions configure a URL; the zero value is an AuthType NONE, BUFFERED
// URL on a free 127.0.0.1 port.
type URLOptions struct {
	// AuthType is NONE (the default) or AWS_IAM. With AWS_IAM a request
	// without a SigV4 Authorization header is refused with 403; a signed one
	// is let through without checking the signature, its access key in
	// requestContext.authorizer.iam.
	AuthType string
	// InvokeMode is BUFFERED (the default) or RESPONSE_STREAM. A streamed
	// response (aws-lambda-go's LambdaFunctionURLStreamingResponse: a JSON
	// prelude, eight NUL bytes, the body) is understood but, the emulator
	// buffering every invocation, arrives in one piece.
	InvokeMode string
	// Cors, when set, adds the CORS headers to every response whose request
	// has an allowed Origin; they take precedence over the function's own.
	Cors *awslocal.Cors
	// Addr is the listening address; default 127.0.0.1:0 (a free port).
	Addr string
	// Region and AccountID default to the local stack's (awslocal).
	Region, AccountID string
	// Clock stamps requestContext.time; default SystemClock.
	Clock Clock
	// Logger receives a line per failed request; nil discards.
	Logger *slog.Logger
}

// URL is a function's Function URL: an HTTP server on loopback that turns
// each request into the Function URL event, invokes the function and turns
// its answer into the HTTP response, as Lambda does. It serves until ctx
// (of StartURL) ends or Close is called.
type URL struct {
	fn         Invoker
	opts       URLOptions
	urlID      string
	base       string
	srv        *http.Server
	done       chan struct{}
	serveErr   error
	stopOnce   sync.Once
	stopResult error
}

// StartURL listens and serves the Function URL of fn in the background. It
// stops when ctx ends or Close is called; Wait blocks until then.
func StartURL(ctx context.Context, fn Invoker, opts URLOptions) (*URL, error) {
	u, err := NewURL(fn, opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", u.opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("lambdarun: function URL: listen on %s: %w", u.opts.Addr, err)
	}
	u.base = "http://" + ln.Addr().String()
	u.srv = &http.Server{Handler: u, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		err := u.srv.Serve(ln)
		if !errors.Is(err, http.ErrServerClosed) {
			u.serveErr = err
		}
		close(u.done)
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = u.Close()
		case <-u.done:
		}
	}()
	return u, nil
}

// NewURL returns the Function URL of fn as an http.Handler, for a server of
// the caller's (StartURL serves one itself).
func NewURL(fn Invoker, opts URLOptions) (*URL, error) {
	if opts.AuthType == "" {
		opts.AuthType = "NONE"
	}
	if opts.AuthType != "NONE" && opts.AuthType != "AWS_IAM" {
		return nil, fmt.Errorf("lambdarun: function URL: AuthType %q: want NONE or AWS_IAM", opts.AuthType)
	}
	if opts.InvokeMode == "" {
		opts.InvokeMode = "BUFFERED"
	}
	if opts.InvokeMode != "BUFFERED" && opts.InvokeMode != "RESPONSE_STREAM" {
		return nil, fmt.Errorf("lambdarun: function URL: InvokeMode %q: want BUFFERED or RESPONSE_STREAM", opts.InvokeMode)
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	localDefaults(&opts.Region, &opts.AccountID, &opts.Clock, &opts.Logger)
	// A url-id is 32 lower-case letters and digits.
	id := make([]byte, 20)
	_, _ = rand.Read(id)
	return &URL{fn: fn, opts: opts, done: make(chan struct{}),
		urlID: strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(id))}, nil
}

// URL is the base URL, such as http://127.0.0.1:41234 ("" for a URL made by
// NewURL).
func (u *URL) URL() string { return u.base }

// DomainName is requestContext.domainName: <url-id>.lambda-url.<region>.on.aws.
func (u *URL) DomainName() string { return u.urlID + ".lambda-url." + u.opts.Region + ".on.aws" }

// Close stops the server: it stops accepting, lets requests in flight finish
// for up to 10 s, then closes what is left. Safe to call more than once.
func (u *URL) Close() error {
	if u.srv == nil {
		return nil
	}
	u.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := u.srv.Shutdown(ctx); err != nil {
			u.stopResult = errors.Join(fmt.Errorf("lambdarun: function URL %s: shutdown: %w", u.base, err), u.srv.Close())
		}
		<-u.done
	})
	return u.stopResult
}

// Wait blocks until the server has stopped and returns why it stopped, if
// not by Close or its context.
func (u *URL) Wait() error {
	if u.srv == nil {
		return nil
	}
	<-u.done
	return u.serveErr
}

// ServeHTTP serves one request as Lambda's Function URL does.
func (u *URL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u.opts.AuthType == "AWS_IAM" && !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		writeMessage(w, http.StatusForbidden, "Forbidden")
		return
	}
	if r.ContentLength > MaxRequestPayload {
		writeTooLarge(w)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestPayload+1))
	if err != nil {
		u.opts.Logger.Warn("function URL: read request body", "error", err)
		writeMessage(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(body) > MaxRequestPayload {
		writeTooLarge(w)
		return
	}
	event, err := json.Marshal(u.Event(r, body))
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if len(event) > MaxRequestPayload {
		writeTooLarge(w)
		return
	}
	payload, err := u.fn.Invoke(r.Context(), event)
	if err != nil {
		u.opts.Logger.Warn("function URL: invocation failed", "path", r.URL.Path, "error", err)
		u.writeBadGateway(w, r)
		return
	}
	resp, err := u.response(payload)
	if err != nil {
		u.opts.Logger.Warn("function URL: unusable function response", "path", r.URL.Path, "error", err)
		u.writeBadGateway(w, r)
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	u.cors(w, r)
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(resp.Body)
}

// URLRequest is the Function URL event as Lambda sends it:
// events.LambdaFunctionURLRequest with the routeKey and the requestContext's
// routeKey and stage, which that type lacks. Encoded, it decodes into
// events.LambdaFunctionURLRequest.
type URLRequest struct {
	events.LambdaFunctionURLRequest
	RouteKey       string            `json:"routeKey"`
	RequestContext URLRequestContext `json:"requestContext"` // shadows the embedded one
}

// URLRequestContext is events.LambdaFunctionURLRequestContext with routeKey
// and stage.
type URLRequestContext struct {
	events.LambdaFunctionURLRequestContext
	RouteKey string `json:"routeKey"`
	Stage    string `json:"stage"`
}

// Event builds the Function URL event Lambda would send for r with body
// (already read from r.Body).
func (u *URL) Event(r *http.Request, body []byte) URLRequest {
	now := u.opts.Clock.Now().UTC()
	sourceIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = host
	}
	headers := map[string]string{}
	var cookies []string
	for k, vs := range r.Header {
		if strings.EqualFold(k, "Cookie") {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	headers["host"] = r.Host
	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	headers["x-forwarded-proto"] = "http"
	if r.TLS != nil {
		headers["x-forwarded-proto"] = "https"
	}
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		headers["x-forwarded-port"] = port
	}
	if _, ok := headers["x-amzn-trace-id"]; !ok {
		headers["x-amzn-trace-id"] = traceID(now)
	}

	ev := URLRequest{
		LambdaFunctionURLRequest: events.LambdaFunctionURLRequest{
			Version:               "2.0",
			RawPath:               r.URL.EscapedPath(),
			RawQueryString:        r.URL.RawQuery,
			Cookies:               cookies,
			Headers:               headers,
			QueryStringParameters: queryParameters(r.URL.RawQuery),
		},
		RouteKey: "$default",
		RequestContext: URLRequestContext{
			LambdaFunctionURLRequestContext: events.LambdaFunctionURLRequestContext{
				AccountID:    "anonymous",
				RequestID:    uuid.NewString(),
				APIID:        u.urlID,
				DomainName:   u.DomainName(),
				DomainPrefix: u.urlID,
				Time:         now.Format("02/Jan/2006:15:04:05 -0700"),
				TimeEpoch:    now.UnixMilli(),
				HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{
					Method:    r.Method,
					Path:      r.URL.EscapedPath(),
					Protocol:  r.Proto,
					SourceIP:  sourceIP,
					UserAgent: r.UserAgent(),
				},
			},
			RouteKey: "$default",
			Stage:    "$default",
		},
	}
	if u.opts.AuthType == "AWS_IAM" {
		ev.RequestContext.AccountID = u.opts.AccountID
		ev.RequestContext.Authorizer = &events.LambdaFunctionURLRequestContextAuthorizerDescription{
			IAM: &events.LambdaFunctionURLRequestContextAuthorizerIAMDescription{
				AccessKey: sigV4AccessKey(r.Header.Get("Authorization")),
				AccountID: u.opts.AccountID,
			},
		}
	}
	if len(body) > 0 {
		if isTextContent(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// queryParameters decodes a raw query string, repeated keys comma-joined in
// their order; nil when there is none (Lambda then leaves the field out).
func queryParameters(raw string) map[string]string {
	if raw == "" {
		return nil
	}
	out := map[string]string{}
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, v = unescapeQuery(k), unescapeQuery(v)
		if prev, ok := out[k]; ok {
			out[k] = prev + "," + v
		} else {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func unescapeQuery(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// isTextContent reports whether Lambda passes a body of this content type
// as it is rather than base64-encoded.
func isTextContent(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"):
		return true
	case mt == "application/json", mt == "application/xml", mt == "application/javascript":
		return true
	}
	return false
}

// traceID makes an X-Ray trace header: Root=1-<epoch seconds, hex>-<96 random bits, hex>.
func traceID(now time.Time) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return fmt.Sprintf("Root=1-%08x-%s", now.Unix(), hex.EncodeToString(b))
}

// sigV4AccessKey is the access key id in a SigV4 Authorization header
// (Credential=AKID/date/region/service/aws4_request).
func sigV4AccessKey(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(cred, "/")
	return key
}

// urlResponse is the HTTP answer to write.
type urlResponse struct {
	StatusCode int
	Headers    map[string]string
	Cookies    []string
	Body       []byte
}

// streamDelimiter separates the JSON prelude of a streamed response from
// its body (aws-lambda-go's LambdaFunctionURLStreamingResponse).
var streamDelimiter = make([]byte, 8)

// response turns the function's payload into the HTTP answer, as Lambda
// infers it.
func (u *URL) response(payload []byte) (urlResponse, error) {
	if len(payload) > MaxResponsePayload {
		return urlResponse{}, fmt.Errorf("response of %d bytes is over the %d-byte limit", len(payload), MaxResponsePayload)
	}
	if u.opts.InvokeMode == "RESPONSE_STREAM" {
		if prelude, body, ok := bytes.Cut(payload, streamDelimiter); ok && json.Valid(prelude) {
			var p struct {
				StatusCode int               `json:"statusCode"`
				Headers    map[string]string `json:"headers"`
				Cookies    []string          `json:"cookies"`
			}
			if err := json.Unmarshal(prelude, &p); err != nil {
				return urlResponse{}, fmt.Errorf("streamed response prelude: %w", err)
			}
			if p.StatusCode == 0 {
				p.StatusCode = http.StatusOK
			}
			return urlResponse{StatusCode: p.StatusCode, Headers: p.Headers, Cookies: p.Cookies, Body: body}, nil
		}
	}
	if !json.Valid(payload) {
		return urlResponse{}, fmt.Errorf("the function's response is not JSON: %s", truncate(string(payload), 100))
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(payload, &probe) == nil {
		if _, ok := probe["statusCode"]; ok {
			var r events.LambdaFunctionURLResponse
			if err := json.Unmarshal(payload, &r); err != nil {
				return urlResponse{}, fmt.Errorf("the function's response has a statusCode but is not a Function URL response: %w", err)
			}
			if r.StatusCode < 100 || r.StatusCode > 599 {
				return urlResponse{}, fmt.Errorf("the function's response has statusCode %d, not an HTTP status", r.StatusCode)
			}
			body := []byte(r.Body)
			if r.IsBase64Encoded {
				var err error
				if body, err = base64.StdEncoding.DecodeString(r.Body); err != nil {
					return urlResponse{}, fmt.Errorf("the function's response has isBase64Encoded but its body is not base64: %w", err)
				}
			}
			return urlResponse{StatusCode: r.StatusCode, Headers: r.Headers, Cookies: r.Cookies, Body: body}, nil
		}
	}
	return urlResponse{StatusCode: http.StatusOK, Headers: map[string]string{"Content-Type": "application/json"}, Body: payload}, nil
}

// cors adds the configured CORS headers when the request's Origin is allowed.
func (u *URL) cors(w http.ResponseWriter, r *http.Request) {
	c := u.opts.Cors
	origin := r.Header.Get("Origin")
	if c == nil || origin == "" {
		return
	}
	allow := ""
	for _, o := range c.AllowOrigins {
		if o == "*" {
			allow = "*"
			break
		}
		if strings.EqualFold(o, origin) {
			allow = origin
		}
	}
	if allow == "" {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", allow)
	if allow != "*" {
		h.Add("Vary", "Origin")
	}
	if c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if len(c.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ","))
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		if len(c.AllowMethods) > 0 {
			h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
		}
		if len(c.AllowHeaders) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
		}
		if c.MaxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAge))
		}
	}
}

func (u *URL) writeBadGateway(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	u.cors(w, r)
	w.WriteHeader(http.StatusBadGateway)
	_, _ = io.WriteString(w, "Internal Server Error")
}

func writeTooLarge(w http.ResponseWriter) {
	writeMessage(w, http.StatusRequestEntityTooLarge,
		fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", MaxRequestPayload))
}

// writeMessage writes an error as Lambda's front end does: {"Message": "..."}.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"Message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
