package dynamodb

import (
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
)

// TestSchemaVersion checks how each item type's decoding treats the
// attribute v: none (version 0), 1 and 2 read; a newer version is a
// *DecodeError wrapping ErrNewerSchema, so that this build never misreads
// an item written in a format it does not know; a malformed one is a
// *DecodeError too, but not ErrNewerSchema.
func TestSchemaVersion(t *testing.T) {
	t.Parallel()
	for _, c := range goldenCases() {
		item, err := c.encode()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []struct {
			name  string
			value types.AttributeValue // nil: no attribute
			err   error                // nil: reads; errAny: any *DecodeError
		}{
			{"none", nil, nil},
			{"1", number(1), nil},
			{"2", number(2), nil},
			{"3", number(3), ErrNewerSchema},
			{"1000000", number(1_000_000), ErrNewerSchema},
			{"0", number(0), errAny},
			{"-1", number(-1), errAny},
			{"1.5", &types.AttributeValueMemberN{Value: "1.5"}, errAny},
			{"S 1", strValue("1"), errAny},
			{"NULL", &types.AttributeValueMemberNULL{Value: true}, errAny},
		} {
			it := maps.Clone(item)
			delete(it, attrSchema)
			if v.value != nil {
				it[attrSchema] = v.value
			}
			got, err := c.decode(it)
			var de *DecodeError
			switch {
			case v.err == nil && err != nil:
				t.Errorf("%s with v %s: %v", c.name, v.name, err)
			case v.err == nil && !cmp.Equal(c.want, got, goldenOpts):
				t.Errorf("%s with v %s (-want +got):\n%s", c.name, v.name, cmp.Diff(c.want, got, goldenOpts))
			case v.err != nil && !errors.As(err, &de):
				t.Errorf("%s with v %s: %v, want a *DecodeError", c.name, v.name, err)
			case v.err == ErrNewerSchema && !errors.Is(err, ErrNewerSchema):
				t.Errorf("%s with v %s: %v, want ErrNewerSchema", c.name, v.name, err)
			case v.err == errAny && errors.Is(err, ErrNewerSchema):
				t.Errorf("%s with v %s: %v is not a newer version but a malformed one", c.name, v.name, err)
			case v.err != nil:
				if de.Key != itemName(item) || !strings.Contains(err.Error(), attrSchema) {
					t.Errorf("%s with v %s: %v does not name the item and the attribute", c.name, v.name, err)
				}
			}
		}
	}
}

// errAny stands for "any *DecodeError" in TestSchemaVersion.
var errAny = errors.New("any decode error")

// TestFixturesPopulated checks that the values the goldens are made of
// set every field (evidenceUser is fullUser and version 2's fields), so that a field the item structs forget to store fails
// their round trip instead of round-tripping as its zero value.
func TestFixturesPopulated(t *testing.T) {
	t.Parallel()
	for name, v := range map[string]any{
		"evidenceUser": evidenceUser(), "fullJob": fullJob(), "fullApplication": fullApplication(), "fullReview": fullReview(),
	} {
		for _, f := range zeroFields(reflect.ValueOf(v), name) {
			t.Errorf("%s is zero: set it, so that the goldens store it", f)
		}
	}
}

// zeroFields lists the zero-valued fields in v, walking into structs.
func zeroFields(v reflect.Value, path string) []string {
	if v.Kind() == reflect.Struct && !v.Type().Implements(reflect.TypeFor[interface{ IsZero() bool }]()) {
		var out []string
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				out = append(out, zeroFields(v.Field(i), path+"."+f.Name)...)
			}
		}
		return out
	}
	if v.IsZero() || (v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.Len() == 0 {
		return []string{path}
	}
	if v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct {
		return zeroFields(v.Elem(), path)
	}
	return nil // a set pointer to a zero value (Smokes: false) is a value
}
