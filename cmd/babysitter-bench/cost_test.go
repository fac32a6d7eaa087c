package main

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestItemSize pins the item-size rules the cost scenario prices with
// (DynamoDB developer guide, "Item sizes and formats").
func TestItemSize(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	for _, tc := range []struct {
		name string
		item map[string]types.AttributeValue
		want int
	}{
		{"string: name + UTF-8 bytes", map[string]types.AttributeValue{"PK": s("USER#ü")}, 2 + 7},
		{"number: trailing zeros trimmed", map[string]types.AttributeValue{"cost": n("4500")}, 4 + 2},
		{"number: sign and point ignored", map[string]types.AttributeValue{"lat": n("-52.520")}, 3 + 3},
		{"number: leading zeros trimmed", map[string]types.AttributeValue{"x": n("0.001")}, 1 + 2},
		{"number: odd digits round up", map[string]types.AttributeValue{"v": n("123")}, 1 + 3},
		{"bool and null", map[string]types.AttributeValue{"a": &types.AttributeValueMemberBOOL{Value: true}, "b": &types.AttributeValueMemberNULL{Value: true}}, 1 + 1 + 1 + 1},
		{"map: 3 + per element 1 + key + value", map[string]types.AttributeValue{"cost": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"amount": n("4500"), "currency": s("EUR")}}}, 4 + 3 + (1 + 6 + 2) + (1 + 8 + 3)},
		{"list: 3 + per element 1 + value", map[string]types.AttributeValue{"langs": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("en"), s("de")}}}, 5 + 3 + 3 + 3},
		{"empty map", map[string]types.AttributeValue{"m": &types.AttributeValueMemberM{}}, 1 + 3},
		{"string set: no overhead", map[string]types.AttributeValue{"ss": &types.AttributeValueMemberSS{Value: []string{"ab", "c"}}}, 2 + 3},
		{"number set", map[string]types.AttributeValue{"ns": &types.AttributeValueMemberNS{Value: []string{"1", "22"}}}, 2 + 2 + 2},
	} {
		if got := itemSize(tc.item); got != tc.want {
			t.Errorf("%s: itemSize = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestUnits pins how the cost scenario turns item sizes into request units.
func TestUnits(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	item := func(kv ...string) map[string]types.AttributeValue {
		m := map[string]types.AttributeValue{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = s(kv[i+1])
		}
		return m
	}
	pad := string(make([]byte, 1500))
	idx := []gsi{{name: "byG", hash: "G", rang: "PK"}}
	for _, tc := range []struct {
		name          string
		before, after map[string]types.AttributeValue
		transactional bool
		table, index  float64
	}{
		{"transactional update to 1.5 KB, index key kept", item("PK", "a", "G", "x"), item("PK", "a", "G", "x", "D", pad), true, 4, 2},
		{"update changing the index key: delete + put", item("PK", "a", "G", "x"), item("PK", "a", "G", "y"), false, 1, 2},
		{"update leaving the index", item("PK", "a", "G", "x"), item("PK", "a"), false, 1, 1},
		{"put outside the index", nil, item("PK", "a"), true, 2, 0},
		{"delete of an indexed item", item("PK", "a", "G", "x", "D", pad), nil, false, 2, 2},
	} {
		var u units
		u.write(tc.before, tc.after, tc.transactional, idx)
		if u.wruTable != tc.table || u.wruIndex != tc.index {
			t.Errorf("%s: table %v, index %v write units; want %v, %v", tc.name, u.wruTable, u.wruIndex, tc.table, tc.index)
		}
	}

	var u units
	u.check(item("PK", "a", "D", pad)) // a ConditionCheck of a 1.5 KB item: 2 × 2
	if u.wruTable != 4 {
		t.Errorf("ConditionCheck: %v write units, want 4", u.wruTable)
	}
	big := item("PK", pad)
	u = units{}
	u.query(false, []map[string]types.AttributeValue{big, big, big}) // 4.5 KB, eventually consistent: 2 × 0.5
	u.batchGet(true, item("PK", "a"), big)                           // per item, consistent: 1 + 1
	if u.rru != 3 {
		t.Errorf("read units %v, want 3", u.rru)
	}
}
