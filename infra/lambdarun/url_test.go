package lambdarun

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/routekeeper/routekeeper/infra/awslocal"
)

// startURL serves fn's Function URL on a free loopback port until the test
// ends.
func startURL(t *testing.T, fn Invoker, opts URLOptions) *URL {
	t.Helper()
	u, err := StartURL(context.Background(), fn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := u.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return u
}

// captureInvoker records the last event and answers with payload or err.
// The server calls it on its own goroutines; the test reads it after the
// response.
type captureInvoker struct {
	mu      sync.Mutex
	event   []byte
	calls   int
	payload string
	err     error
}

func (c *captureInvoker) Invoke(_ context.Context, event []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.event, c.calls = event, c.calls+1
	return []byte(c.payload), c.err
}

func (c *captureInvoker) seen() ([]byte, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.event, c.calls
}

func TestURLEvent(t *testing.T) {
	clock := NewStepClock(time.Date(2020, 3, 12, 19, 3, 58, 390_000_000, time.UTC))
	u, err := NewURL(&captureInvoker{}, URLOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"example": "test"}`
	r := httptest.NewRequest(http.MethodPost, "http://abc.lambda-url.test:8443/my/path?parameter1=value1&parameter1=value2&parameter2=value&q=a%20b", strings.NewReader(body))
	r.RemoteAddr = "123.123.123.123:4567"
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "agent")
	r.Header.Add("Header2", "value1")
	r.Header.Add("Header2", "value2")
	r.Header.Set("X-Forwarded-For", "10.1.1.1")
	r.Header.Add("Cookie", "cookie1=a; cookie2=b")
	r.Header.Add("Cookie", "cookie3=c")

	wire, err := json.Marshal(u.Event(r, []byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	var got events.LambdaFunctionURLRequest
	if err := json.Unmarshal(wire, &got); err != nil {
		t.Fatalf("the event does not decode into events.LambdaFunctionURLRequest: %v", err)
	}
	want := events.LambdaFunctionURLRequest{
		Version:        "2.0",
		RawPath:        "/my/path",
		RawQueryString: "parameter1=value1&parameter1=value2&parameter2=value&q=a%20b",
		Cookies:        []string{"cookie1=a", "cookie2=b", "cookie3=c"},
		Headers: map[string]string{
			"content-type": "application/json", "user-agent": "agent", "header2": "value1,value2",
			"host": "abc.lambda-url.test:8443", "x-forwarded-for": "10.1.1.1, 123.123.123.123",
			"x-forwarded-proto": "http", "x-forwarded-port": "8443",
		},
		QueryStringParameters: map[string]string{"parameter1": "value1,value2", "parameter2": "value", "q": "a b"},
		RequestContext: events.LambdaFunctionURLRequestContext{
			AccountID: "anonymous", APIID: u.urlID, DomainName: u.urlID + ".lambda-url.us-east-1.on.aws", DomainPrefix: u.urlID,
			Time: "12/Mar/2020:19:03:58 +0000", TimeEpoch: 1584039838390,
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{
				Method: "POST", Path: "/my/path", Protocol: "HTTP/1.1", SourceIP: "123.123.123.123", UserAgent: "agent",
			},
		},
		Body: body,
	}
	trace := got.Headers["x-amzn-trace-id"]
	delete(got.Headers, "x-amzn-trace-id")
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(events.LambdaFunctionURLRequestContext{}, "RequestID")); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(trace, "Root=1-5e6a879e-") || len(trace) != len("Root=1-5e6a879e-")+24 {
		t.Errorf("x-amzn-trace-id = %q, want Root=1-<epoch hex>-<24 hex>", trace)
	}
	if len(u.urlID) != 32 || strings.ToLower(u.urlID) != u.urlID {
		t.Errorf("url-id %q: want 32 lower-case characters", u.urlID)
	}
	if got.RequestContext.RequestID == "" {
		t.Error("requestContext.requestId is empty")
	}
	// Fields Lambda sends that events.LambdaFunctionURLRequest has no room for.
	var raw struct {
		RouteKey       string `json:"routeKey"`
		RequestContext struct {
			RouteKey string `json:"routeKey"`
			Stage    string `json:"stage"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(wire, &raw); err != nil {
		t.Fatal(err)
	}
	if raw.RouteKey != "$default" || raw.RequestContext.RouteKey != "$default" || raw.RequestContext.Stage != "$default" {
		t.Errorf("routeKey %q, requestContext.routeKey %q, stage %q: want $default for all three", raw.RouteKey, raw.RequestContext.RouteKey, raw.RequestContext.Stage)
	}
}

func TestURLEventLeavesOutWhatIsAbsent(t *testing.T) {
	u, err := NewURL(&captureInvoker{}, URLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wire, err := json.Marshal(u.Event(httptest.NewRequest(http.MethodGet, "/", nil), nil))
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(wire, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"body", "cookies", "queryStringParameters"} {
		if _, ok := keys[k]; ok {
			t.Errorf("a GET without body, cookies or query has %q: %s; Lambda leaves it out", k, keys[k])
		}
	}
	if string(keys["isBase64Encoded"]) != "false" || string(keys["rawQueryString"]) != `""` {
		t.Errorf("isBase64Encoded %s, rawQueryString %s: want false and \"\"", keys["isBase64Encoded"], keys["rawQueryString"])
	}
}

func TestURLEventBody(t *testing.T) {
	binary := []byte{0x89, 'P', 'N', 'G', 0, 0xff}
	tests := []struct {
		contentType string
		body        []byte
		wantBody    string
		wantBase64  bool
	}{
		{"text/plain", []byte("hello"), "hello", false},
		{"text/html; charset=utf-8", []byte("<p>hi</p>"), "<p>hi</p>", false},
		{"TEXT/CSV", []byte("a,b"), "a,b", false},
		{"application/json", []byte(`{"a":1}`), `{"a":1}`, false},
		{"application/json; charset=utf-8", []byte(`[1]`), `[1]`, false},
		{"application/xml", []byte("<a/>"), "<a/>", false},
		{"application/javascript", []byte("x()"), "x()", false},
		{"application/x-www-form-urlencoded", []byte("a=1&b=2"), base64.StdEncoding.EncodeToString([]byte("a=1&b=2")), true},
		{"application/octet-stream", binary, base64.StdEncoding.EncodeToString(binary), true},
		{"image/png", binary, base64.StdEncoding.EncodeToString(binary), true},
		{"application/vnd.api+json", []byte(`{}`), base64.StdEncoding.EncodeToString([]byte(`{}`)), true},
		{"", []byte("no type"), base64.StdEncoding.EncodeToString([]byte("no type")), true},
		{"not a media type;;", []byte("x"), base64.StdEncoding.EncodeToString([]byte("x")), true},
	}
	u, err := NewURL(&captureInvoker{}, URLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.contentType, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(tc.body))
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			ev := u.Event(r, tc.body)
			if ev.Body != tc.wantBody || ev.IsBase64Encoded != tc.wantBase64 {
				t.Errorf("content type %q: body %q base64 %v, want %q %v", tc.contentType, ev.Body, ev.IsBase64Encoded, tc.wantBody, tc.wantBase64)
			}
		})
	}
}

func TestURLResponse(t *testing.T) {
	big := `"` + strings.Repeat("x", MaxResponsePayload) + `"`
	tests := []struct {
		name       string
		mode       string
		payload    string
		err        error
		wantStatus int
		wantHeader map[string]string
		wantCookie []string
		wantBody   string
	}{
		{
			name:       "statusCode response",
			payload:    `{"statusCode": 201, "headers": {"Content-Type": "application/json", "My-Custom-Header": "Custom Value"}, "body": "{ \"message\": \"Hello, world!\" }", "cookies": ["Cookie_1=Value1; Expires=21 Oct 2021 07:48 GMT", "Cookie_2=Value2; Max-Age=78000"], "isBase64Encoded": false}`,
			wantStatus: 201, wantHeader: map[string]string{"Content-Type": "application/json", "My-Custom-Header": "Custom Value"},
			wantCookie: []string{"Cookie_1=Value1; Expires=21 Oct 2021 07:48 GMT", "Cookie_2=Value2; Max-Age=78000"},
			wantBody:   `{ "message": "Hello, world!" }`,
		},
		{
			name: "base64 body is decoded", payload: `{"statusCode": 200, "headers": {"Content-Type": "image/png"}, "body": "iVBORw==", "isBase64Encoded": true}`,
			wantStatus: 200, wantHeader: map[string]string{"Content-Type": "image/png"}, wantBody: "\x89PNG",
		},
		{
			name: "statusCode without headers", payload: `{"statusCode": 204}`,
			wantStatus: 204, wantHeader: map[string]string{"Content-Type": "application/json"}, wantBody: "",
		},
		{
			name: "JSON object without statusCode", payload: `{"message": "Hello, world!"}`,
			wantStatus: 200, wantHeader: map[string]string{"Content-Type": "application/json"}, wantBody: `{"message": "Hello, world!"}`,
		},
		{
			name: "string response", payload: `"Hello, world!"`,
			wantStatus: 200, wantHeader: map[string]string{"Content-Type": "application/json"}, wantBody: `"Hello, world!"`,
		},
		{
			name: "null response", payload: `null`,
			wantStatus: 200, wantHeader: map[string]string{"Content-Type": "application/json"}, wantBody: `null`,
		},
		{
			name: "array response", payload: `[{"statusCode": 500}]`,
			wantStatus: 200, wantHeader: map[string]string{"Content-Type": "application/json"}, wantBody: `[{"statusCode": 500}]`,
		},
		{name: "function error", err: errFunction, wantStatus: 502, wantBody: "Internal Server Error"},
		{name: "invocation failed", err: errConnRefused, wantStatus: 502, wantBody: "Internal Server Error"},
		{name: "not JSON", payload: `Hello`, wantStatus: 502, wantBody: "Internal Server Error"},
		{name: "statusCode not a number", payload: `{"statusCode": "200"}`, wantStatus: 502, wantBody: "Internal Server Error"},
		{name: "statusCode out of range", payload: `{"statusCode": 99}`, wantStatus: 502, wantBody: "Internal Server Error"},
		{name: "bad base64", payload: `{"statusCode": 200, "body": "%%%", "isBase64Encoded": true}`, wantStatus: 502, wantBody: "Internal Server Error"},
		{name: "response over the limit", payload: big, wantStatus: 502, wantBody: "Internal Server Error"},
		{
			name: "streamed response", mode: "RESPONSE_STREAM",
			payload:    `{"statusCode":202,"headers":{"Content-Type":"text/plain"},"cookies":["a=b"]}` + "\x00\x00\x00\x00\x00\x00\x00\x00" + "streamed body",
			wantStatus: 202, wantHeader: map[string]string{"Content-Type": "text/plain"}, wantCookie: []string{"a=b"}, wantBody: "streamed body",
		},
		{
			name: "streaming URL, buffered answer", mode: "RESPONSE_STREAM", payload: `{"statusCode": 200, "body": "b"}`,
			wantStatus: 200, wantHeader: map[string]string{"Content-Type": "application/json"}, wantBody: "b",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := startURL(t, &captureInvoker{payload: tc.payload, err: tc.err}, URLOptions{InvokeMode: tc.mode})
			resp, err := http.Get(u.URL() + "/x")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus || string(body) != tc.wantBody {
				t.Errorf("payload %s: got %d %q, want %d %q", truncate(tc.payload, 80), resp.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
			for k, v := range tc.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if diff := cmp.Diff(tc.wantCookie, resp.Header.Values("Set-Cookie"), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Set-Cookie (-want +got):\n%s", diff)
			}
		})
	}
}

func TestURLRequestLimit(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		size        int
		wantStatus  int
	}{
		{"text under the limit", "text/plain", 5 << 20, http.StatusOK},
		{"body over the limit", "text/plain", MaxRequestPayload + 1, http.StatusRequestEntityTooLarge},
		// 5 MiB of binary is 6.7 MiB once base64-encoded in the event.
		{"event over the limit", "application/octet-stream", 5 << 20, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fn := &captureInvoker{payload: `"ok"`}
			u := startURL(t, fn, URLOptions{})
			resp, err := http.Post(u.URL()+"/upload", tc.contentType, bytes.NewReader(bytes.Repeat([]byte("a"), tc.size)))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("POST %d bytes of %s: status %d (%s), want %d", tc.size, tc.contentType, resp.StatusCode, body, tc.wantStatus)
			}
			if _, calls := fn.seen(); calls != map[bool]int{true: 1, false: 0}[tc.wantStatus == http.StatusOK] {
				t.Errorf("function invoked %d times for status %d", calls, tc.wantStatus)
			}
			if tc.wantStatus == http.StatusRequestEntityTooLarge && !strings.Contains(string(body), "6291456 bytes") {
				t.Errorf("413 body %s should name the limit", body)
			}
		})
	}
}

func TestURLAuthIAM(t *testing.T) {
	fn := &captureInvoker{payload: `"ok"`}
	u := startURL(t, fn, URLOptions{AuthType: "AWS_IAM", AccountID: "111122223333"})

	resp, err := http.Get(u.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if _, calls := fn.seen(); resp.StatusCode != http.StatusForbidden || calls != 0 {
		t.Fatalf("unsigned request: %d %s after %d invocations; want 403 and none", resp.StatusCode, body, calls)
	}

	req, _ := http.NewRequest(http.MethodGet, u.URL()+"/", nil)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260307/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=abc")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("signed request: %d, want 200", resp.StatusCode)
	}
	var ev events.LambdaFunctionURLRequest
	event, _ := fn.seen()
	if err := json.Unmarshal(event, &ev); err != nil {
		t.Fatal(err)
	}
	want := &events.LambdaFunctionURLRequestContextAuthorizerDescription{IAM: &events.LambdaFunctionURLRequestContextAuthorizerIAMDescription{
		AccessKey: "AKIDEXAMPLE", AccountID: "111122223333"}}
	if diff := cmp.Diff(want, ev.RequestContext.Authorizer); diff != "" || ev.RequestContext.AccountID != "111122223333" {
		t.Errorf("accountId %q, authorizer (-want +got):\n%s", ev.RequestContext.AccountID, diff)
	}
}

func TestURLCors(t *testing.T) {
	cors := &awslocal.Cors{AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "POST"},
		AllowHeaders: []string{"X-Custom"}, ExposeHeaders: []string{"X-Urlfn"}, AllowCredentials: true, MaxAge: 300}
	tests := []struct {
		name, method, origin string
		preflight            bool
		cors                 *awslocal.Cors
		want                 map[string]string
	}{
		{"allowed origin", http.MethodGet, "https://app.example.com", false, cors, map[string]string{
			"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
			"Access-Control-Expose-Headers": "X-Urlfn", "Access-Control-Allow-Methods": "", "Access-Control-Max-Age": ""}},
		{"preflight", http.MethodOptions, "https://app.example.com", true, cors, map[string]string{
			"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Methods": "GET,POST",
			"Access-Control-Allow-Headers": "X-Custom", "Access-Control-Max-Age": "300"}},
		// An origin that is not allowed gets no configured header (the function's own is left alone).
		{"other origin", http.MethodGet, "https://evil.example.com", false, cors, map[string]string{
			"Access-Control-Allow-Origin": "https://fn.test", "Access-Control-Allow-Credentials": ""}},
		{"no origin", http.MethodGet, "", false, cors, map[string]string{
			"Access-Control-Allow-Origin": "https://fn.test", "Access-Control-Expose-Headers": ""}},
		{"any origin", http.MethodGet, "https://x.test", false, &awslocal.Cors{AllowOrigins: []string{"*"}}, map[string]string{
			"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": ""}},
		{"no CORS configured: the function's own headers", http.MethodGet, "https://x.test", false, nil, map[string]string{
			"Access-Control-Allow-Origin": "https://fn.test"}},
		{"configured CORS takes precedence", http.MethodGet, "https://x.test", false, &awslocal.Cors{AllowOrigins: []string{"*"}}, map[string]string{
			"Access-Control-Allow-Origin": "*"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fn := &captureInvoker{payload: `{"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "https://fn.test"}}`}
			u := startURL(t, fn, URLOptions{Cors: tc.cors})
			req, _ := http.NewRequest(tc.method, u.URL()+"/", nil)
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if tc.preflight {
				req.Header.Set("Access-Control-Request-Method", "POST")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			for k, v := range tc.want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestURLLifecycle(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	u, err := StartURL(ctx, &captureInvoker{payload: `"ok"`}, URLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.URL(), "http://127.0.0.1:") {
		t.Errorf("URL() = %q, want a 127.0.0.1 address", u.URL())
	}
	resp, err := http.Get(u.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel() // as a command does on SIGINT
	if err := u.Wait(); err != nil {
		t.Errorf("Wait after the context ended: %v, want nil", err)
	}
	if _, err := http.Get(u.URL() + "/"); err == nil {
		t.Error("the server still answers after its context ended")
	}
	if err := u.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}

func TestNewURLRejects(t *testing.T) {
	for _, tc := range []struct {
		opts    URLOptions
		wantErr string
	}{
		{URLOptions{AuthType: "COGNITO"}, `AuthType "COGNITO"`},
		{URLOptions{InvokeMode: "STREAM"}, `InvokeMode "STREAM"`},
	} {
		if _, err := NewURL(&captureInvoker{}, tc.opts); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("NewURL(%+v): got %v, want an error containing %q", tc.opts, err, tc.wantErr)
		}
	}
	if _, err := StartURL(context.Background(), &captureInvoker{}, URLOptions{Addr: "256.0.0.1:0"}); err == nil {
		t.Error("StartURL on an impossible address: no error")
	}
}

// TestURLWithFunction runs urlfn's real bootstrap (an aws-lambda-go Function
// URL handler) under the RIE behind the URL.
func TestURLWithFunction(t *testing.T) {
	requireRIE(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	boot, err := Build(ctx, "./testdata/urlfn", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f, err := Start(ctx, Options{Bootstrap: boot, FunctionName: "urlfn"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	u := startURL(t, f, URLOptions{})

	req, _ := http.NewRequest(http.MethodPut, u.URL()+"/items/7?tag=a&tag=b", strings.NewReader(`{"n":1}`))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: "sid", Value: "42"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || resp.Header.Get("X-Urlfn") != "yes" || resp.Header.Get("Set-Cookie") != "session=abc; Path=/; HttpOnly" {
		t.Fatalf("PUT: %d, headers %v, body %s; want urlfn's 201 with its header and cookie", resp.StatusCode, resp.Header, body)
	}
	var echo events.LambdaFunctionURLRequest
	if err := json.Unmarshal(body, &echo); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ field, got, want string }{
		{"method", echo.RequestContext.HTTP.Method, "PUT"},
		{"rawPath", echo.RawPath, "/items/7"},
		{"query tag", echo.QueryStringParameters["tag"], "a,b"},
		{"cookie", strings.Join(echo.Cookies, ";"), "sid=42"},
		{"body", echo.Body, `{"n":1}`},
	} {
		if c.got != c.want {
			t.Errorf("the function saw %s %q, want %q", c.field, c.got, c.want)
		}
	}

	for _, c := range []struct {
		path, wantType, wantBody string
		wantStatus               int
	}{
		{"/plain", "application/json", `{"hello":"world"}`, 200},
		{"/binary", "image/png", "\x89PNG\x00", 200},
		{"/error", "", "Internal Server Error", 502},
	} {
		resp, err := http.Get(u.URL() + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.wantStatus || string(body) != c.wantBody || c.wantType != "" && resp.Header.Get("Content-Type") != c.wantType {
			t.Errorf("GET %s: %d %s %q, want %d %s %q", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), body, c.wantStatus, c.wantType, c.wantBody)
		}
	}
}
