package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/routekeeper/routekeeper/shared/entity"
)

// Status of a change request.
type Status string

const (
	// StatusInProgress: an invocation holds the request until InProgressExpiry.
	StatusInProgress Status = "INPROGRESS"
	// StatusFailed: the last attempt failed with a retryable error (LastError); the lock is
	// released so a redelivery can claim it. Final if the message went to the DLQ.
	StatusFailed Status = "FAILED"
	// Terminal statuses: the request is done and replays return Result.
	StatusApplied  Status = "APPLIED"
	StatusNoop     Status = "NOOP"
	StatusConflict Status = "CONFLICT"
	StatusRejected Status = "REJECTED"
	// StatusPossibleOverwrite: APPLIED, and then someone else's edit was seen inside the
	// change's write window (MarkPossibleOverwrite): it may have been overwritten.
	StatusPossibleOverwrite Status = "POSSIBLE_OVERWRITE"
)

// Terminal reports whether s ends a change request.
func (s Status) Terminal() bool {
	switch s {
	case StatusApplied, StatusNoop, StatusConflict, StatusRejected, StatusPossibleOverwrite:
		return true
	}
	return false
}

// ChangeInfo describes a change request for `routekeeper status`.
type ChangeInfo struct {
	// Entity is the target; its Environment lists the change under that environment.
	// Only a record of an invalid message (Operation OperationInvalid) may leave Kind and
	// Name empty: a message too broken to name its entity still has an environment.
	Entity      entity.Key
	Operation   string // create | update | delete, or OperationInvalid
	RequestedBy string
	RequestedAt time.Time // the request's createdAt; zero: the store's clock at first claim
}

// OperationInvalid is the operation of the record of a message that is not a valid change
// request (it ends REJECTED). Such a record may have no entity.
const OperationInvalid = "invalid"

// HasEntity reports whether the record names an entity (kind and name).
func (i ChangeInfo) HasEntity() bool { return i.Entity.Kind != "" || i.Entity.Name != "" }

func (i ChangeInfo) validate() error {
	if i.HasEntity() {
		return validKey(i.Entity)
	}
	if i.Operation != OperationInvalid {
		return fmt.Errorf("store: change of %s with operation %q has no entity kind and name: only the record of an invalid message (operation %q) may have none", i.Entity.Environment, i.Operation, OperationInvalid)
	}
	return validEnv(i.Entity.Environment)
}

// Change is the record of one change request.
type Change struct {
	ID          string
	Info        ChangeInfo
	PayloadHash string
	Status      Status
	Result      json.RawMessage // set by Complete
	Attempts    int             // failed attempts recorded by RecordAttempt
	// Claims counts the successful claims, the current one included. More claims than
	// recorded attempts plus one means an earlier holder ended without recording anything
	// (its invocation died, or Complete and RecordAttempt both failed): it may have
	// written to Genesys.
	Claims           int
	LastError        string
	ExpiresAt        time.Time // until then the id is remembered: replays return Result
	InProgressExpiry time.Time // while INPROGRESS, the lock holder's deadline
	UpdatedAt        time.Time
	// Overwrites are the other edits seen inside the change's write window
	// (POSSIBLE_OVERWRITE), in the order they were recorded.
	Overwrites []Overwrite
	// RevertOf is the change this one reverts, RevertedBy the changes requested to revert
	// this one (LinkRevert); GetChange and GetChanges read both.
	RevertOf   string
	RevertedBy []string
}

type changeItem struct {
	PK               string      `dynamodbav:"pk"`
	SK               string      `dynamodbav:"sk"`
	GSI1PK           string      `dynamodbav:"gsi1pk"`
	GSI1SK           string      `dynamodbav:"gsi1sk"`
	ChangeID         string      `dynamodbav:"changeId"`
	Environment      string      `dynamodbav:"environment"`
	Kind             entity.Kind `dynamodbav:"kind,omitempty"` // absent: an invalid message without entity
	Name             string      `dynamodbav:"name,omitempty"`
	Operation        string      `dynamodbav:"operation"`
	RequestedBy      string      `dynamodbav:"requestedBy"`
	RequestedAt      string      `dynamodbav:"requestedAt"`
	PayloadHash      string      `dynamodbav:"payloadHash"`
	Status           Status      `dynamodbav:"status"`
	Result           string      `dynamodbav:"result,omitempty"`
	Attempts         int         `dynamodbav:"attempts"`
	Claims           int         `dynamodbav:"claims"`
	LastError        string      `dynamodbav:"lastError,omitempty"`
	ExpiresAt        int64       `dynamodbav:"expiresAt"`                  // epoch seconds
	TTL              int64       `dynamodbav:"ttl"`                        // = ExpiresAt
	InProgressExpiry int64       `dynamodbav:"inProgressExpiry,omitempty"` // epoch milliseconds; absent once released
	UpdatedAt        string      `dynamodbav:"updatedAt"`
	Overwrites       []string    `dynamodbav:"overwrites,omitempty"` // JSON of each Overwrite
	RevertedBy       []string    `dynamodbav:"revertedBy,stringset,omitempty"`
}

func (it changeItem) change() *Change {
	c := &Change{
		ID: it.ChangeID,
		Info: ChangeInfo{
			Entity:    entity.Key{Environment: it.Environment, Kind: it.Kind, Name: it.Name},
			Operation: it.Operation, RequestedBy: it.RequestedBy, RequestedAt: parseTime(it.RequestedAt),
		},
		PayloadHash: it.PayloadHash, Status: it.Status, Attempts: it.Attempts, Claims: it.Claims, LastError: it.LastError,
		ExpiresAt: time.Unix(it.ExpiresAt, 0).UTC(), UpdatedAt: parseTime(it.UpdatedAt),
		Overwrites: decodeOverwrites(it.Overwrites), RevertedBy: slices.Sorted(slices.Values(it.RevertedBy)),
	}
	if it.Result != "" {
		c.Result = json.RawMessage(it.Result)
	}
	if it.InProgressExpiry > 0 {
		c.InProgressExpiry = time.UnixMilli(it.InProgressExpiry).UTC()
	}
	return c
}

// MaxResultBytes bounds the result JSON Complete stores. DynamoDB refuses items over
// 400 KB; the rest of a change record is small (names, ids, a last error of at most 2 KiB).
const MaxResultBytes = 300 * 1024

// maxErrorLen bounds LastError so a huge error message cannot push the item over
// DynamoDB's 400 KB limit.
const maxErrorLen = 2048

// Claim takes the change request changeID for the caller, as AWS Lambda Powertools'
// idempotency does. The record is remembered for expiry; the caller holds it for
// inProgressExpiry (typically the time left before the Lambda deadline), after which
// another invocation may take it over. A conditional write decides:
//
//	attribute_not_exists(pk)                                 new request
//	OR expiresAt < :now                                      remembered too long: a new request
//	OR (status = INPROGRESS AND inProgressExpiry < :nowMillis)  holder died or timed out
//	OR (status = FAILED AND payloadHash = :hash)             a failed attempt released it
//
// Every successful claim counts itself in Change.Claims, so the holder can tell that an
// earlier attempt of the same request ran (and perhaps wrote) without recording how it
// ended. On success Claim returns the record, INPROGRESS, and a nil error: apply the change, then
// call Complete (or RecordAttempt on a retryable failure). Otherwise it returns the stored
// record (ReturnValuesOnConditionCheckFailure ALL_OLD) with an error wrapping:
//
//   - ErrPayloadMismatch: same id, different payload hash: reject the request;
//   - ErrAlreadyCompleted: terminal: return the record's Result without calling Genesys;
//   - ErrInProgress: someone else holds it: retry later (leave the message on the queue).
//
// Unlike Powertools, which deletes the record of a failed attempt, routekeeper keeps it
// (status FAILED, attempts, last error) so the reason survives for `routekeeper status`
// and a request that ends in the DLQ; a later claim keeps that history. A record past
// its expiry that DynamoDB has not deleted yet is replaced by a new one (claims,
// attempts, last error and requestedAt start again), as if TTL had already removed it:
// its history must not pass for earlier attempts of the new request.
func (s *Store) Claim(ctx context.Context, changeID, payloadHash string, expiry, inProgressExpiry time.Duration, info ChangeInfo) (*Change, error) {
	if err := validClaim(changeID, payloadHash, expiry, inProgressExpiry, info); err != nil {
		return nil, err
	}
	if s.err != nil {
		return nil, s.err // the outcome could not be recorded with its history
	}
	now := s.now()
	requestedAt := info.RequestedAt
	if requestedAt.IsZero() {
		requestedAt = now
	}
	name := expression.Name
	val := expression.Value
	// New or released, and not expired: one update that keeps the history. An expired
	// record fails this condition and is replaced below.
	cond := expression.Or(
		expression.AttributeNotExists(name(attrPK)),
		expression.And(
			name("expiresAt").GreaterThanEqual(val(now.Unix())),
			expression.Or(
				expression.And(name("status").Equal(val(StatusInProgress)), name("inProgressExpiry").LessThan(val(now.UnixMilli()))),
				expression.And(name("status").Equal(val(StatusFailed)), name("payloadHash").Equal(val(payloadHash))),
			),
		),
	)
	expiresAt := now.Add(expiry).Unix()
	upd := expression.
		Set(name("changeId"), val(changeID)).
		Set(name("payloadHash"), val(payloadHash)).
		Set(name("status"), val(StatusInProgress)).
		Set(name("expiresAt"), val(expiresAt)).
		Set(name(attrTTL), val(expiresAt)).
		Set(name("inProgressExpiry"), val(now.Add(inProgressExpiry).UnixMilli())).
		Set(name("environment"), val(info.Entity.Environment)).
		Set(name("operation"), val(info.Operation)).
		Set(name("requestedBy"), val(info.RequestedBy)).
		Set(name("requestedAt"), name("requestedAt").IfNotExists(val(formatTime(requestedAt)))).
		Set(name(attrGSI1PK), val(changesGSI1PK(info.Entity.Environment))).
		Set(name(attrGSI1SK), name(attrGSI1SK).IfNotExists(val(changesGSI1SK(requestedAt, changeID)))).
		Set(name("attempts"), name("attempts").IfNotExists(val(0))).
		Set(name("updatedAt"), val(formatTime(now))).
		Add(name("claims"), val(1)).
		Remove(name("result"))
	if info.HasEntity() {
		upd = upd.Set(name("kind"), val(info.Entity.Kind)).Set(name("name"), val(info.Entity.Name))
	} else {
		upd = upd.Remove(name("kind")).Remove(name("name"))
	}
	expr, err := expression.NewBuilder().WithCondition(cond).WithUpdate(upd).Build()
	if err != nil {
		return nil, err
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(changePK(changeID), skChange),
		ConditionExpression:                 expr.Condition(),
		UpdateExpression:                    expr.Update(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, ok := conditionFailed(err); ok {
		stored, err := s.storedChange(ctx, changeID, old)
		if err != nil {
			return nil, err
		}
		if stored.ExpiresAt < now.Unix() {
			return s.renew(ctx, changeItem{
				PK: changePK(changeID), SK: skChange,
				GSI1PK: changesGSI1PK(info.Entity.Environment), GSI1SK: changesGSI1SK(requestedAt, changeID),
				ChangeID: changeID, Environment: info.Entity.Environment, Kind: info.Entity.Kind, Name: info.Entity.Name,
				Operation: info.Operation, RequestedBy: info.RequestedBy, RequestedAt: formatTime(requestedAt),
				PayloadHash: payloadHash, Status: StatusInProgress, Claims: 1,
				ExpiresAt: expiresAt, TTL: expiresAt, InProgressExpiry: now.Add(inProgressExpiry).UnixMilli(),
				UpdatedAt: formatTime(now),
			}, now)
		}
		c := stored.change()
		refused := claimRefused(changeID, payloadHash, c)
		if errors.Is(refused, ErrAlreadyCompleted) {
			// A replay: the redelivery of a request whose Complete may have stored the
			// outcome but not its history step. Writing it again is idempotent; failing
			// to must not fail the replay.
			_ = s.changeHistory(ctx, stored)
		}
		return c, refused
	}
	if err != nil {
		return nil, fmt.Errorf("store: claim change %s: %w", changeID, err)
	}
	var it changeItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return nil, fmt.Errorf("store: claim change %s: decode: %w", changeID, err)
	}
	return it.change(), nil
}

// renew replaces a record past its expiry with it, the record of a new claim, unless
// another claim replaced it first (then that claim's record refuses this one).
func (s *Store) renew(ctx context.Context, it changeItem, now time.Time) (*Change, error) {
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("store: claim change %s: %w", it.ChangeID, err)
	}
	// Not exists: TTL deleted the expired record in the meantime.
	cond := expression.AttributeNotExists(expression.Name(attrPK)).Or(expression.Name("expiresAt").LessThan(expression.Value(now.Unix())))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return nil, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, ok := conditionFailed(err); ok {
		stored, err := s.storedChange(ctx, it.ChangeID, old)
		if err != nil {
			return nil, err
		}
		c := stored.change()
		return c, claimRefused(it.ChangeID, it.PayloadHash, c)
	}
	if err != nil {
		return nil, fmt.Errorf("store: claim change %s: renew expired record: %w", it.ChangeID, err)
	}
	return it.change(), nil
}

// storedChange decodes the record a failed condition returned, or reads it from an
// endpoint that does not return ALL_OLD.
func (s *Store) storedChange(ctx context.Context, changeID string, old map[string]types.AttributeValue) (changeItem, error) {
	var it changeItem
	if len(old) > 0 {
		if err := attributevalue.UnmarshalMap(old, &it); err != nil {
			return it, fmt.Errorf("store: claim change %s: decode stored record: %w", changeID, err)
		}
		return it, nil
	}
	if err := s.getItem(ctx, changePK(changeID), skChange, &it); err != nil {
		return it, fmt.Errorf("store: claim change %s: read stored record: %w", changeID, err)
	}
	return it, nil
}

// validClaim checks Claim's arguments; Store and Memory share it.
func validClaim(changeID, payloadHash string, expiry, inProgressExpiry time.Duration, info ChangeInfo) error {
	if changeID == "" || payloadHash == "" {
		return fmt.Errorf("store: claim change %q: change id and payload hash are required", changeID)
	}
	if expiry <= 0 || inProgressExpiry <= 0 {
		return fmt.Errorf("store: claim change %s: expiry %v and in-progress expiry %v must be positive", changeID, expiry, inProgressExpiry)
	}
	if err := info.validate(); err != nil {
		return fmt.Errorf("store: claim change %s: %w", changeID, err)
	}
	return nil
}

// claimRefused explains why stored record c refuses a claim with payloadHash.
func claimRefused(changeID, payloadHash string, c *Change) error {
	switch {
	case c.PayloadHash != payloadHash:
		return fmt.Errorf("store: claim change %s: stored payload hash %s, request has %s: %w", changeID, c.PayloadHash, payloadHash, ErrPayloadMismatch)
	case c.Status.Terminal():
		return fmt.Errorf("store: claim change %s: %s at %s: %w", changeID, c.Status, formatTime(c.UpdatedAt), ErrAlreadyCompleted)
	default:
		return fmt.Errorf("store: claim change %s: held until %s: %w", changeID, formatTime(c.InProgressExpiry), ErrInProgress)
	}
}

// Complete ends a change request with a terminal status (APPLIED, NOOP, CONFLICT,
// REJECTED) and its result JSON, which later claims of the same id return. A result over
// MaxResultBytes is refused with ErrTooLarge.
func (s *Store) Complete(ctx context.Context, changeID string, status Status, result json.RawMessage) error {
	if err := validCompletion(changeID, status, result); err != nil {
		return err
	}
	upd := expression.
		Set(expression.Name("status"), expression.Value(status)).
		Set(expression.Name("updatedAt"), expression.Value(formatTime(s.now()))).
		Remove(expression.Name("inProgressExpiry"))
	if len(result) > 0 {
		upd = upd.Set(expression.Name("result"), expression.Value(string(result)))
	}
	if s.err != nil {
		return s.err
	}
	rec, err := s.updateChange(ctx, "complete", changeID, expression.AttributeExists(expression.Name(attrPK)), upd, types.ReturnValueAllNew)
	if err != nil {
		return err
	}
	var it changeItem
	if err := attributevalue.UnmarshalMap(rec, &it); err != nil {
		return fmt.Errorf("store: complete change %s: decode the record: %w: %w", changeID, ErrHistoryNotRecorded, err)
	}
	return s.changeHistory(ctx, it)
}

// validCompletion checks Complete's arguments; Store and Memory share it.
func validCompletion(changeID string, status Status, result json.RawMessage) error {
	if !status.Terminal() {
		return fmt.Errorf("store: complete change %s: status %q is not terminal (APPLIED, NOOP, CONFLICT, REJECTED)", changeID, status)
	}
	if len(result) > 0 && !json.Valid(result) {
		return fmt.Errorf("store: complete change %s: result is not valid JSON", changeID)
	}
	if len(result) > MaxResultBytes {
		return fmt.Errorf("store: complete change %s: result is %d bytes, the limit is %d: %w", changeID, len(result), MaxResultBytes, ErrTooLarge)
	}
	return nil
}

// RecordAttempt records a failed, retryable attempt: it counts it, stores errMsg as the
// last error and releases the lock (status FAILED) so a redelivery can claim the request
// at once. The error text is stored as given: never pass a secret in it.
func (s *Store) RecordAttempt(ctx context.Context, changeID, errMsg string) error {
	upd := expression.
		Add(expression.Name("attempts"), expression.Value(1)).
		Set(expression.Name("lastError"), expression.Value(truncateError(errMsg))).
		Set(expression.Name("status"), expression.Value(StatusFailed)).
		Set(expression.Name("updatedAt"), expression.Value(formatTime(s.now()))).
		Remove(expression.Name("inProgressExpiry"))
	// A finished request stays finished: a late failure report must not reopen it.
	cond := expression.AttributeExists(expression.Name(attrPK)).And(expression.Or(
		expression.Name("status").Equal(expression.Value(StatusInProgress)),
		expression.Name("status").Equal(expression.Value(StatusFailed)),
	))
	_, err := s.updateChange(ctx, "record attempt of", changeID, cond, upd, types.ReturnValueNone)
	return err
}

// truncateError cuts an error message to maxErrorLen bytes (and an ellipsis).
func truncateError(msg string) string {
	if len(msg) > maxErrorLen {
		n := maxErrorLen
		for n > 0 && !utf8.RuneStart(msg[n]) {
			n--
		}
		return msg[:n] + "…"
	}
	return msg
}

// updateChange updates the record of changeID on condition cond and returns the
// attributes ret asks for.
func (s *Store) updateChange(ctx context.Context, what, changeID string, cond expression.ConditionBuilder, upd expression.UpdateBuilder, ret types.ReturnValue) (map[string]types.AttributeValue, error) {
	expr, err := expression.NewBuilder().WithCondition(cond).WithUpdate(upd).Build()
	if err != nil {
		return nil, err
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(changePK(changeID), skChange),
		ConditionExpression:                 expr.Condition(),
		UpdateExpression:                    expr.Update(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValues:                        ret,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, ok := conditionFailed(err); ok {
		if len(old) == 0 {
			return nil, fmt.Errorf("store: %s change %s: %w", what, changeID, ErrNotFound)
		}
		var it changeItem
		_ = attributevalue.UnmarshalMap(old, &it)
		return nil, fmt.Errorf("store: %s change %s: already %s: %w", what, changeID, it.Status, ErrAlreadyCompleted)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %s change %s: %w", what, changeID, err)
	}
	return out.Attributes, nil
}

// GetChange returns the record of a change request with its revert links, or
// ErrNotFound: one query of the change's partition (its record and, for a revert, the
// link LinkRevert left beside it).
func (s *Store) GetChange(ctx context.Context, changeID string) (*Change, error) {
	if changeID == "" {
		return nil, fmt.Errorf("store: get change: empty change id: %w", ErrNotFound)
	}
	kc := expression.Key(attrPK).Equal(expression.Value(changePK(changeID)))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, err
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.table), KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("store: get change %s: %w", changeID, err)
	}
	var rec *Change
	var of string
	for _, item := range out.Items {
		c, link, err := decodeChangeItem(item)
		if err != nil {
			return nil, fmt.Errorf("store: get change %s: %w", changeID, err)
		}
		if c != nil {
			rec = c
		} else {
			of = link.of
		}
	}
	if rec == nil {
		return nil, fmt.Errorf("store: get change %s: %w", changeID, ErrNotFound)
	}
	rec.RevertOf = of
	return rec, nil
}

// ListChanges returns up to limit change requests of env, newest (by requestedAt) first.
// The index is eventually consistent: a change claimed a moment ago may be missing.
func (s *Store) ListChanges(ctx context.Context, env string, limit int) ([]*Change, error) {
	if err := validListChanges(env, limit); err != nil {
		return nil, err
	}
	kc := expression.Key(attrGSI1PK).Equal(expression.Value(changesGSI1PK(env)))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, err
	}
	items, err := query[changeItem](ctx, s, &dynamodb.QueryInput{
		IndexName:                 aws.String(indexGSI1),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(min(limit, 1000))),
	}, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list changes of %s: %w", env, err)
	}
	out := make([]*Change, len(items))
	for i, it := range items {
		out[i] = it.change()
	}
	return out, nil
}

// validListChanges checks ListChanges' arguments; Store and Memory share it.
func validListChanges(env string, limit int) error {
	if err := validEnv(env); err != nil {
		return err
	}
	if limit <= 0 {
		return fmt.Errorf("store: list changes of %s: limit %d: want a positive number", env, limit)
	}
	return nil
}
