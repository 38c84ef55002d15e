package store

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// storedJSON is a JSON document as an item attribute: gzip-compressed in a binary
// attribute (B), about a sixth of its size for an entity's canonical JSON, so a query of a
// whole environment's entities reads fewer pages; a string attribute (S, as items written
// before compression hold it) reads as the JSON itself. nil marshals to nothing
// (omitempty).
type storedJSON []byte

// maxStoredJSON bounds what one attribute may expand to: DynamoDB's item limit is
// 400 KB, and canonical JSON does not compress a thousandfold.
const maxStoredJSON = 64 << 20

var gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}

func (j storedJSON) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(j); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return &types.AttributeValueMemberB{Value: buf.Bytes()}, nil
}

func (j *storedJSON) UnmarshalDynamoDBAttributeValue(av types.AttributeValue) error {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		*j = storedJSON(v.Value)
	case *types.AttributeValueMemberB:
		zr, err := gzip.NewReader(bytes.NewReader(v.Value))
		if err != nil {
			return fmt.Errorf("stored JSON: %w", err)
		}
		b, err := io.ReadAll(io.LimitReader(zr, maxStoredJSON+1))
		if err != nil {
			return fmt.Errorf("stored JSON: %w", err)
		}
		if len(b) > maxStoredJSON {
			return errors.New("stored JSON: expands beyond 64 MiB")
		}
		*j = b
	case *types.AttributeValueMemberNULL:
		*j = nil
		return nil
	default:
		return fmt.Errorf("stored JSON: attribute of type %T, want B or S", av)
	}
	if !json.Valid(*j) {
		return errors.New("stored JSON: not valid JSON")
	}
	return nil
}
