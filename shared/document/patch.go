package document

import (
	"fmt"

	"github.com/wI2L/jsondiff"
)

// Patch returns the RFC 6902 JSON Patch that turns live into live with the
// managed fields of desired applied (Overlay(live, desired)), for machines:
// it touches only what desired declares, so fields routekeeper does not
// manage never appear in it. Numbers are compared by value, so 30 against
// 30.0 yields no operation, and values in the patch are in canonical number
// form. Inside an array that differs, operations address elements by index,
// as jsondiff produces them. opts are passed to jsondiff (for example
// jsondiff.Invertible() to precede each replace and remove with a test of
// the live value, which makes the patch fail on a concurrent edit).
func Patch(live, desired map[string]any, opts ...jsondiff.Option) (jsondiff.Patch, error) {
	l, err := normalize(mapOrEmpty(live))
	if err != nil {
		return nil, fmt.Errorf("patch: live document: %w", err)
	}
	d, err := normalize(mapOrEmpty(desired))
	if err != nil {
		return nil, fmt.Errorf("patch: desired document: %w", err)
	}
	target := Overlay(l.(map[string]any), d.(map[string]any))
	p, err := jsondiff.CompareWithoutMarshal(l, target, opts...)
	if err != nil {
		return nil, fmt.Errorf("patch: %w", err)
	}
	return p, nil
}

func mapOrEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
