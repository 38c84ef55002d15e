package sim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
)

// A test starts the simulator, seeds an org, takes a token and lists queues as the client
// would.
func Example() {
	s := sim.New(sim.Options{})
	if err := s.Load(sim.Generate(sim.GenerateOptions{Queues: 30, Skills: 10, Worktypes: 4, Seed: 7})); err != nil {
		panic(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()

	req, _ := http.NewRequest("POST", ts.URL+"/oauth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(sim.DefaultClientID, sim.DefaultClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	req, _ = http.NewRequest("GET", ts.URL+"/api/v2/routing/queues?pageSize=25", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	var page struct {
		Total     int    `json:"total"`
		PageCount int    `json:"pageCount"`
		NextURI   string `json:"nextUri"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()

	fmt.Println("expires_in:", tok.ExpiresIn)
	fmt.Println("queues:", page.Total, "pages:", page.PageCount, "next:", page.NextURI)
	fmt.Println("calls:", s.Calls())
	// Output:
	// expires_in: 86400
	// queues: 30 pages: 2 next: /api/v2/routing/queues?pageNumber=2&pageSize=25
	// calls: map[GET /api/v2/routing/queues:1]
}

// Tests drive occupancy and overflow by setting what the analytics and workitem queries
// return, and simulate an admin's hand edit that emits an audit event.
func ExampleServer_EditQueue() {
	f := sim.Generate(sim.GenerateOptions{Queues: 3, Seed: 1})
	s := sim.New(sim.Options{})
	if err := s.Load(f); err != nil {
		panic(err)
	}
	id := f.Queues[0]["id"].(string)
	s.SetObservation(id, "oWaiting", 12)
	s.SetWorkitemCount(id, 40)
	err := s.EditQueue(id, func(q map[string]any) { q["skillEvaluationMethod"] = "BEST" })
	q, _ := s.Queue(id)
	fmt.Println(err, q["skillEvaluationMethod"])
	// Output: <nil> BEST
}
