package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/routekeeper/routekeeper/shared/entity"
)

// TestStoredJSON: configuration is stored compressed in a binary attribute and reads back
// byte for byte (its ETag is the hash of those bytes); a string attribute, as items written
// before compression hold it, still reads; damaged bytes are an error, never a document.
func TestStoredJSON(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"name":"Claims","memberGroups":[`)
	for i := range 200 {
		fmt.Fprintf(&b, `{"id":"group-%04d","type":"GROUP"},`, i)
	}
	b.WriteString(`{}],"n":1.0,"e":{}}`)
	doc := b.String()

	item, err := attributevalue.MarshalMap(desiredItem{PK: "p", SK: "s", Config: storedJSON(doc)})
	if err != nil {
		t.Fatal(err)
	}
	bin, ok := item["config"].(*types.AttributeValueMemberB)
	if !ok {
		t.Fatalf("config stored as %T, want a binary attribute", item["config"])
	}
	if len(bin.Value)*4 > len(doc) {
		t.Errorf("config stored in %d bytes for %d bytes of JSON, want under a quarter", len(bin.Value), len(doc))
	}
	var back desiredItem
	if err := attributevalue.UnmarshalMap(item, &back); err != nil {
		t.Fatal(err)
	}
	if string(back.Config) != doc {
		t.Errorf("read back %q, want the stored bytes exactly", back.Config)
	}

	legacy := map[string]types.AttributeValue{"config": &types.AttributeValueMemberS{Value: `{"a":1}`}}
	if err := attributevalue.UnmarshalMap(legacy, &back); err != nil || string(back.Config) != `{"a":1}` {
		t.Errorf("string attribute read as %q, %v; want the JSON", back.Config, err)
	}

	for name, av := range map[string]types.AttributeValue{
		"not gzip":   &types.AttributeValueMemberB{Value: []byte("{}")},
		"truncated":  &types.AttributeValueMemberB{Value: bin.Value[:len(bin.Value)/2]},
		"not JSON":   &types.AttributeValueMemberS{Value: "{"},
		"wrong type": &types.AttributeValueMemberN{Value: "1"},
	} {
		if err := attributevalue.UnmarshalMap(map[string]types.AttributeValue{"config": av}, &back); err == nil {
			t.Errorf("%s: read as %q, want an error", name, back.Config)
		}
	}

	// An observation without configuration (a deletion) stores no attribute.
	item, err = attributevalue.MarshalMap(observationItem{PK: "p", SK: "s", Deleted: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := item["config"]; ok {
		t.Errorf("a deletion's item has a config attribute: %v", item["config"])
	}
}

// TestListsReadKeysFromSK: the scan's lists (ListDesired[Configs], ListObservedETags) read an
// entity's key from its sort key, also for a name holding '#', and its configuration in
// full from the compressed attribute.
func TestListsReadKeysFromSK(t *testing.T) {
	f := newFixture(t)
	doc := json.RawMessage(`{"description":"a # in the value","name":"Claims # Tasks"}`)
	k := entity.Key{Environment: "dev", Kind: entity.Queue, Name: "Claims # Tasks"}
	if _, err := f.s.PublishDesired(ctx, "dev", "v1", []Desired{{Key: k, Config: doc}}); err != nil {
		t.Fatal(err)
	}
	o := Observation{Key: k, ETag: etag('a'), Config: doc, GenesysID: "q-1", ObservedAt: t0, Source: SourceScan}
	if err := f.s.PutObservation(ctx, o); err != nil {
		t.Fatal(err)
	}
	desired, err := f.s.ListDesired(ctx, "dev")
	if err != nil || len(desired) != 1 || desired[0].Key != k || string(desired[0].Config) != string(doc) || desired[0].Version != "v1" {
		t.Errorf("ListDesired = %+v, %v; want %s with its config at v1", desired, err, k)
	}
	configs, err := f.s.ListDesiredConfigs(ctx, "dev")
	if err != nil || !cmp.Equal(configs, []Desired{{Key: k, Config: doc}}) {
		t.Errorf("ListDesiredConfigs = %+v, %v; want %s with its config only", configs, err, k)
	}
	etags, err := f.s.ListObservedETags(ctx, "dev")
	want := o
	want.Config = nil
	if err != nil || len(etags) != 1 || !cmp.Equal(etags[0], want) {
		t.Errorf("ListObservedETags = %+v, %v; want %+v", etags, err, want)
	}
	got, err := f.s.GetObservation(ctx, k)
	if err != nil || string(got.Config) != string(doc) {
		t.Errorf("GetObservation = %+v, %v; want the config as put", got, err)
	}
}
