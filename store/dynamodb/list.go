package dynamodb

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// list describes one paginated access pattern: a Query of one partition
// (pkAttr = pk) of the table or an index, over the sort keys lo…hi
// (begins_with lo when hi is empty), whose items of interest have sort keys
// starting with prefix.
//
// Cursors are built from the last item returned — its table key and its
// index key — and bound to scope; a decoded cursor must name an item of
// this very partition and range (and pass valid), or it is invalid input.
// So a cursor can never make a Query read another partition.
type list struct {
	scope                 string
	index, pkAttr, skAttr string
	pk                    string
	lo, hi                string
	prefix                string
	forward, consistent   bool
	valid                 func(map[string]string) bool
}

// keyAttrs are the attributes of a cursor: the table key, and the index key
// when querying an index.
func (l list) keyAttrs() []string {
	if l.index == "" {
		return []string{attrPK, attrSK}
	}
	return []string{attrPK, attrSK, l.pkAttr, l.skAttr}
}

// start decodes a cursor into the ExclusiveStartKey (nil for "").
func (l list) start(cursor string) (map[string]types.AttributeValue, error) {
	if cursor == "" {
		return nil, nil
	}
	key, err := babysitter.DecodeCursor(l.scope, cursor)
	if err != nil {
		return nil, err
	}
	bad := &babysitter.InvalidInputError{Fields: []babysitter.FieldError{{Field: "cursor", Message: "is not a cursor of this list"}}}
	attrs := l.keyAttrs()
	if len(key) != len(attrs) {
		return nil, bad
	}
	start := make(map[string]types.AttributeValue, len(attrs))
	for _, a := range attrs {
		v, ok := key[a]
		if !ok {
			return nil, bad
		}
		start[a] = strValue(v)
	}
	sk := key[l.skAttr]
	switch {
	case key[l.pkAttr] != l.pk,
		len(sk) <= len(l.prefix) || !strings.HasPrefix(sk, l.prefix),
		l.hi != "" && (sk < l.lo || sk > l.hi),
		l.valid != nil && !l.valid(key):
		return nil, bad
	}
	return start, nil
}

// cursor is the cursor after item.
func (l list) cursor(item map[string]types.AttributeValue) string {
	key := make(map[string]string, 4)
	for _, a := range l.keyAttrs() {
		key[a] = str(item, a)
	}
	return babysitter.EncodeCursor(l.scope, key)
}

// query is the Query for one page of at most limit items from start.
func (l list) query(table string, start map[string]types.AttributeValue, limit int) *dynamodb.QueryInput {
	e := newExpr()
	cond := e.eq(l.pkAttr, strValue(l.pk)) + " AND "
	if l.hi == "" {
		cond += "begins_with(" + e.n(l.skAttr) + ", " + e.sv(l.lo) + ")"
	} else {
		cond += e.n(l.skAttr) + " BETWEEN " + e.sv(l.lo) + " AND " + e.sv(l.hi)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String(cond),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
		ScanIndexForward:          aws.Bool(l.forward),
		ExclusiveStartKey:         start,
		Limit:                     aws.Int32(int32(limit)),
	}
	if l.index != "" {
		in.IndexName = aws.String(l.index)
	} else {
		in.ConsistentRead = aws.Bool(l.consistent)
	}
	return in
}

// pageOf decodes up to n items of interest from a Query's items (the
// caller has removed a header item) into a page. The Query asked for one
// item more than the page holds, so NextCursor is set only when another
// item does follow — or DynamoDB stopped early (1 MB), and more may.
func pageOf[T any](l list, items []map[string]types.AttributeValue, more bool, n int, decode func(map[string]types.AttributeValue) (T, error)) (babysitter.Page[T], error) {
	page := babysitter.Page[T]{Items: make([]T, 0, min(n, len(items)))}
	var last map[string]types.AttributeValue
	for _, item := range items {
		if !strings.HasPrefix(str(item, l.skAttr), l.prefix) {
			continue // another kind of item in the range
		}
		if len(page.Items) == n {
			more = true
			break
		}
		v, err := decode(item)
		if err != nil {
			return babysitter.Page[T]{}, err
		}
		page.Items = append(page.Items, v)
		last = item
	}
	if more && last != nil {
		page.NextCursor = l.cursor(last)
	}
	return page, nil
}

// guardedPage reads one page of an index list that is not headed by the
// actor's own item: the Query and, beside it (one round trip), the Guard's
// user item for a non-admin actor.
func guardedPage[T any](ctx context.Context, s *Store, op string, g babysitter.Guard, l list, p babysitter.PageRequest, decode func(map[string]types.AttributeValue) (T, error)) (babysitter.Page[T], error) {
	if err := guardable(g); err != nil {
		return babysitter.Page[T]{}, err
	}
	start, err := l.start(p.Cursor)
	if err != nil {
		return babysitter.Page[T]{}, err
	}
	var extra []map[string]types.AttributeValue
	if k, ok := actorKey(g); ok {
		extra = append(extra, k)
	}
	n := p.Size()
	out, got, err := s.queryWith(ctx, l.query(s.table, start, n+1), extra...)
	if err != nil {
		return babysitter.Page[T]{}, s.mapError(op, err)
	}
	if !g.Admin() {
		if err := g.Check(accountOf(got[0])); err != nil {
			return babysitter.Page[T]{}, err
		}
	}
	page, err := pageOf(l, out.Items, out.LastEvaluatedKey != nil, n, decode)
	return page, s.mapError(op, err)
}
