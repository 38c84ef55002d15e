package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/shared/entity"
	"github.com/routekeeper/routekeeper/shared/store"
)

// The apply function's use of change records: claim, apply, complete; a redelivery of the
// same request then gets the stored result instead of writing to Genesys again.
func ExampleStore_Claim() {
	ctx := context.Background()
	// A local table from template.yaml; in Lambda: dynamodb.NewFromConfig(cfg) and TABLE_NAME.
	moto, err := awslocal.StartMoto(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer moto.Stop()
	cfg, _ := moto.AWSConfig(ctx)
	tpl, _ := awslocal.TemplatePath()
	res, err := awslocal.CreateResources(ctx, cfg, tpl, "example")
	if err != nil {
		log.Fatal(err)
	}
	s := store.New(dynamodb.NewFromConfig(cfg), res.TableName)

	info := store.ChangeInfo{
		Entity:    entity.Key{Environment: "prod", Kind: entity.Queue, Name: "Support"},
		Operation: "update", RequestedBy: "ci",
	}
	apply := func() {
		// 7 days of replay protection; hold the request for the time the invocation has left.
		rec, err := s.Claim(ctx, "chg-42", "sha256:payload", 7*24*time.Hour, 55*time.Second, info)
		switch {
		case errors.Is(err, store.ErrAlreadyCompleted):
			fmt.Printf("replay: %s %s\n", rec.Status, rec.Result)
			return
		case err != nil:
			log.Fatal(err) // ErrInProgress: retry later; ErrPayloadMismatch: reject
		}
		// ... write to Genesys ...
		if err := s.Complete(ctx, rec.ID, store.StatusApplied, json.RawMessage(`{"etag":"sha256:abc"}`)); err != nil {
			log.Fatal(err)
		}
		fmt.Println("applied")
	}
	apply()
	apply() // the same message delivered again

	// Output:
	// applied
	// replay: APPLIED {"etag":"sha256:abc"}
}
