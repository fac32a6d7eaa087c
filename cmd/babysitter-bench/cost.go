package main

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// The cost of a booking in DynamoDB request units and SQS requests,
// computed from the items as the stores wrote them: the scenario books a
// job of N other applications on each side with no consumer running,
// reads every item the booking and the declines touch before, between and
// after (consistent reads of the bench's own, outside the counted spans),
// sizes them by DynamoDB's item-size rules and applies DynamoDB's
// on-demand pricing rules to the requests each side sent — requests it
// counts and checks against the design.
//
// The rules (DynamoDB developer guide, "Item sizes and formats",
// "Capacity unit consumption", "Global secondary indexes: provisioned
// throughput considerations"):
//   - item size = Σ (attribute name bytes + value size); a string its
//     UTF-8 bytes, a number 1 byte per two significant digits + 1, a
//     boolean or null 1, a list or map 3 + Σ (element + 1) (+ the key
//     bytes for a map);
//   - a write costs ⌈size/1 KB⌉ write units (an update: the larger of the
//     item before and after; a delete: the item deleted), twice that in a
//     transaction (prepare + commit); a ConditionCheck in a transaction is
//     taken to cost like a transactional write of the item it checks (the
//     guide: "two underlying reads or writes of every item");
//   - each index the item is in before or after costs ⌈entry/1 KB⌉ more
//     (index projections are ALL here, so an entry is the item): a put or
//     a delete of the entry one write, a change of the index key two (delete
//     + put), a change of other attributes one; index writes are not
//     transactional, so they are not doubled;
//   - a read costs ⌈size/4 KB⌉ read units strongly consistent, half that
//     eventually consistent (a GSI Query always is); BatchGetItem rounds
//     each item, a Query the sum of the items it reads (per 1 MB page);
//   - an SQS request is one request per 64 KB of payload; every message
//     here is far smaller, so a request is a request.

// Prices of the cost table's last column: us-east-1, on demand, standard
// table class (DynamoDB since November 2024), standard queue; free tiers
// ignored.
const (
	pricePerMWRU    = 0.625
	pricePerMRRU    = 0.125
	pricePerMSQSReq = 0.40
)

// itemSize is an item's size by DynamoDB's rules.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberL:
		n := 3
		for _, x := range v.Value {
			n += 1 + valueSize(x)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, x := range v.Value {
			n += 1 + len(k) + valueSize(x)
		}
		return n
	case *types.AttributeValueMemberSS:
		return sum(v.Value, func(x string) int { return len(x) })
	case *types.AttributeValueMemberNS:
		return sum(v.Value, numberSize)
	case *types.AttributeValueMemberBS:
		return sum(v.Value, func(x []byte) int { return len(x) })
	}
	return 0
}

// sum adds up the sizes of a set's elements: a set has no overhead.
func sum[T any](xs []T, size func(T) int) int {
	n := 0
	for _, x := range xs {
		n += size(x)
	}
	return n
}

// numberSize is 1 byte per two significant digits (leading and trailing
// zeros trimmed), plus 1.
func numberSize(s string) int {
	mant, _, _ := strings.Cut(strings.ToLower(s), "e")
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, mant)
	digits = strings.Trim(digits, "0")
	return (len(digits)+1)/2 + 1
}

// kb is ⌈size/unit⌉, at least 1.
func kb(size, unit int) float64 { return max(1, math.Ceil(float64(size)/float64(unit))) }

// gsi is an index's key attributes.
type gsi struct{ name, hash, rang string }

func (g gsi) holds(item map[string]types.AttributeValue) bool {
	if item == nil {
		return false
	}
	_, h := item[g.hash]
	_, r := item[g.rang]
	return h && (g.rang == "" || r)
}

// indexes reads a table's global secondary indexes.
func (e *env) indexes(ctx context.Context, table string) ([]gsi, error) {
	out, err := e.ddb.DescribeTable(ctx, &awsddb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, err
	}
	var gs []gsi
	for _, g := range out.Table.GlobalSecondaryIndexes {
		x := gsi{name: aws.ToString(g.IndexName)}
		for _, k := range g.KeySchema {
			if k.KeyType == types.KeyTypeHash {
				x.hash = aws.ToString(k.AttributeName)
			} else {
				x.rang = aws.ToString(k.AttributeName)
			}
		}
		gs = append(gs, x)
	}
	return gs, nil
}

// units adds up a booking's request units.
type units struct {
	rru, wruTable, wruIndex float64
}

func (u *units) wru() float64 { return u.wruTable + u.wruIndex }

// write accounts one write of an item from before to after (nil: absent),
// transactional or not, with its index writes.
func (u *units) write(before, after map[string]types.AttributeValue, transactional bool, idx []gsi) {
	mult := 1.0
	if transactional {
		mult = 2
	}
	u.wruTable += mult * kb(max(itemSize(before), itemSize(after)), 1024)
	for _, g := range idx {
		inB, inA := g.holds(before), g.holds(after)
		switch {
		case !inB && !inA:
		case inB && !inA:
			u.wruIndex += kb(itemSize(before), 1024)
		case !inB && inA:
			u.wruIndex += kb(itemSize(after), 1024)
		case !sameValue(before[g.hash], after[g.hash]) || !sameValue(before[g.rang], after[g.rang]):
			u.wruIndex += kb(itemSize(before), 1024) + kb(itemSize(after), 1024)
		default:
			u.wruIndex += kb(max(itemSize(before), itemSize(after)), 1024)
		}
	}
}

// check accounts a ConditionCheck of item in a transaction.
func (u *units) check(item map[string]types.AttributeValue) {
	u.wruTable += 2 * kb(itemSize(item), 1024)
}

// batchGet accounts a BatchGetItem (or GetItem) of the items.
func (u *units) batchGet(consistent bool, items ...map[string]types.AttributeValue) {
	for _, it := range items {
		u.rru += readFactor(consistent) * kb(itemSize(it), 4096)
	}
}

// query accounts a Query reading the items, paged at 1 MB.
func (u *units) query(consistent bool, items []map[string]types.AttributeValue) {
	page := 0
	for _, it := range items {
		s := itemSize(it)
		if page > 0 && page+s > 1<<20 {
			u.rru += readFactor(consistent) * kb(page, 4096)
			page = 0
		}
		page += s
	}
	u.rru += readFactor(consistent) * kb(page, 4096)
}

func readFactor(consistent bool) float64 {
	if consistent {
		return 1
	}
	return 0.5
}

func sameValue(a, b types.AttributeValue) bool {
	sa, okA := a.(*types.AttributeValueMemberS)
	sb, okB := b.(*types.AttributeValueMemberS)
	return okA && okB && sa.Value == sb.Value
}

// snapshotItems reads the items at keys, strongly consistent, in
// BatchGetItems of 100; a key without an item maps to nil.
func (e *env) snapshotItems(ctx context.Context, table string, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	found := map[[2]string]map[string]types.AttributeValue{}
	for start := 0; start < len(keys); start += 100 {
		pending := keys[start:min(start+100, len(keys))]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 10 {
				return nil, fmt.Errorf("BatchGetItem: %d keys unprocessed", len(pending))
			}
			out, err := e.ddb.BatchGetItem(ctx, &awsddb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				table: {Keys: pending, ConsistentRead: aws.Bool(true)},
			}})
			if err != nil {
				return nil, err
			}
			for _, it := range out.Responses[table] {
				found[keyPair(it)] = it
			}
			pending = out.UnprocessedKeys[table].Keys
		}
	}
	items := make([]map[string]types.AttributeValue, len(keys))
	for i, k := range keys {
		items[i] = found[keyPair(k)]
	}
	return items, nil
}

func keyPair(item map[string]types.AttributeValue) [2]string {
	s := func(name string) string {
		if v, ok := item[name].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	return [2]string{s("PK"), s("SK")}
}

// costSide is one side's cost of one booking of N.
type costSide struct {
	u        units
	requests counts // the booking and the declines, as counted
	asDesign bool   // the requests are the design's
	why      string // when not
	sizes    map[string]int
}

// costLibrary books a job of n other applications through the Service,
// then consumes its one message as a Poller would (Receive,
// Decliner.HandleBatch, Delete), and accounts every request.
func costLibrary(ctx context.Context, e *env, w *world, parent babysitter.Actor, nannies []babysitter.Actor, idx []gsi) (costSide, error) {
	n := len(nannies) - 1
	var side costSide
	j, err := w.job(ctx, parent)
	if err != nil {
		return side, err
	}
	apps, err := w.applyAll(ctx, j.ID, nannies, 4)
	if err != nil {
		return side, err
	}
	// The items, in this order: the job, the applications (apps[0] is
	// booked), the parent, the applicant, the outbox item.
	keys := []map[string]types.AttributeValue{jobItemKey(j.ID)}
	for _, a := range apps {
		keys = append(keys, applicationItemKey(j.ID, a.ID))
	}
	keys = append(keys, userItemKey(parent.Username), userItemKey(apps[0].NannyUsername), dueItemKey(j.ID))
	iApp, iParent, iNanny, iDue := 1, n+2, n+3, n+4
	read := func() ([]map[string]types.AttributeValue, error) { return e.snapshotItems(ctx, w.table, keys) }

	s0, err := read()
	if err != nil {
		return side, err
	}
	before := e.snapshot()
	b, err := w.svc.BookNanny(ctx, parent, j.ID, apps[0].ID)
	if err != nil {
		return side, err
	}
	book := e.snapshot().sub(before)
	if b.DeclinesQueued != 1 {
		return side, fmt.Errorf("BookNanny sent %d decline messages, want 1", b.DeclinesQueued)
	}
	s1, err := read()
	if err != nil {
		return side, err
	}
	if s1[iDue] == nil {
		return side, fmt.Errorf("no outbox item at %v after BookNanny (the bench's mirror of its key is stale?)", keyPair(keys[iDue]))
	}

	// The consumer, as a Poller runs it.
	done, _ := w.store.arm(n)
	before = e.snapshot()
	var msgs []babysitter.Message
	for attempt := 0; len(msgs) == 0; attempt++ {
		if attempt == 5 {
			return side, fmt.Errorf("the decline message did not arrive")
		}
		if msgs, err = w.src.Receive(ctx, 10); err != nil {
			return side, err
		}
	}
	if failed := w.decliner.HandleBatch(ctx, msgs); len(failed) > 0 {
		return side, fmt.Errorf("HandleBatch failed %d messages", len(failed))
	}
	if err := w.src.Delete(ctx, msgs); err != nil {
		return side, err
	}
	decline := e.snapshot().sub(before)
	if err := w.store.waitFor(ctx, done, time.Second); err != nil {
		return side, err
	}
	s2, err := read()
	if err != nil {
		return side, err
	}
	if s2[iDue] != nil {
		return side, fmt.Errorf("the outbox item is still there after the declines")
	}

	u := &side.u
	// BookNanny: the consistent BatchGetItem, the five-action transaction.
	u.batchGet(true, s0[0], s0[iApp], s0[iParent])
	u.write(s0[0], s1[0], true, idx)
	u.write(s0[iApp], s1[iApp], true, idx)
	u.write(s0[iParent], s1[iParent], true, idx)
	u.check(s0[iNanny])
	u.write(nil, s1[iDue], true, idx)
	// DeclinePending: the consistent Query of the job and its
	// applications, one transactional Update per declined application,
	// the outbox DeleteItem.
	u.query(true, s1[:n+2])
	for i := iApp + 1; i < iParent; i++ {
		u.write(s1[i], s2[i], true, idx)
	}
	u.write(s1[iDue], nil, false, idx)

	pages := 1 // the job and n+1 applications: far below 1 MB for the N here
	side.requests = book.add(decline)
	side.asDesign, side.why = matches(side.requests,
		map[string]int{"BatchGetItem": 1, "TransactWriteItems": 1 + (n+99)/100, "Query": pages, "DeleteItem": 1},
		map[string]int{"SendMessageBatch": 1, "ReceiveMessage": 1, "DeleteMessageBatch": 1})
	side.sizes = map[string]int{
		"job (OPEN)": itemSize(s0[0]), "job (CLOSED)": itemSize(s2[0]),
		"application (PENDING)": medianSize(s0[iApp+1 : iParent]), "application (DECLINED)": medianSize(s2[iApp+1 : iParent]),
		"parent's user item": itemSize(s0[iParent]), "nanny's user item": itemSize(s0[iNanny]), "outbox item": itemSize(s1[iDue]),
	}
	return side, nil
}

// costTutorial books a job of n other applications the tutorial's way,
// then runs its consumer until every message is handled, and accounts
// every request.
func costTutorial(ctx context.Context, e *env, tut *tutorialAWS, parent string, nannies []babysitter.Actor, idx []gsi) (costSide, error) {
	n := len(nannies) - 1
	var side costSide
	tapps := newTutApps(nannies)
	jobID, err := tut.seed(ctx, parent, tapps)
	if err != nil {
		return side, err
	}
	keys := []map[string]types.AttributeValue{tableKey("USER#"+parent, "JOB#"+jobID)}
	for _, a := range tapps {
		k := "JOB#" + jobID + "#APPLICATION#" + a.id
		keys = append(keys, tableKey(k, k))
	}
	read := func() ([]map[string]types.AttributeValue, error) { return e.snapshotItems(ctx, tut.table, keys) }
	s0, err := read()
	if err != nil {
		return side, err
	}
	before := e.snapshot()
	if err := tut.book(ctx, parent, jobID, tapps[0].id); err != nil {
		return side, err
	}
	book := e.snapshot().sub(before)
	s1, err := read()
	if err != nil {
		return side, err
	}
	before = e.snapshot()
	deadline := time.Now().Add(time.Minute + time.Duration(n)*100*time.Millisecond)
	for declined := 0; declined < n; {
		if time.Now().After(deadline) {
			return side, fmt.Errorf("tutorial consumer: %d of %d declined", declined, n)
		}
		ok, err := tut.consumeOne(ctx)
		if err != nil {
			return side, err
		}
		if ok {
			declined++
		}
	}
	consume := e.snapshot().sub(before)
	s2, err := read()
	if err != nil {
		return side, err
	}

	u := &side.u
	// book_nanny: the GSI Query (eventually consistent) of the job and the
	// applications, the two-Update transaction.
	u.query(false, s0)
	u.write(s0[0], s1[0], true, idx)
	u.write(s0[1], s1[1], true, idx)
	// The consumer: one UpdateItem per application.
	for i := 2; i < len(keys); i++ {
		u.write(s1[i], s2[i], false, idx)
	}
	side.requests = book.add(consume)
	side.asDesign, side.why = matches(side.requests,
		map[string]int{"Query": 1, "TransactWriteItems": 1, "UpdateItem": n},
		map[string]int{"SendMessage": n, "ReceiveMessage": n, "DeleteMessage": n})
	side.sizes = map[string]int{
		"job (OPEN)": itemSize(s0[0]), "job (CLOSED)": itemSize(s2[0]),
		"application (PENDING)": medianSize(s0[2:]), "application (DECLINED)": medianSize(s2[2:]),
	}
	return side, nil
}

// matches compares the counted requests with the design's. Receives may
// exceed it (an empty long poll is a request too); everything else must
// be equal.
func matches(got counts, store, queue map[string]int) (bool, string) {
	var diffs []string
	for _, c := range []struct{ got, want map[string]int }{{nonZero(got.store), store}, {nonZero(got.queue), queue}} {
		for _, api := range slices.Sorted(maps.Keys(unionKeys(c.got, c.want))) {
			g, w := c.got[api], c.want[api]
			if g == w || api == "ReceiveMessage" && g > w {
				continue
			}
			diffs = append(diffs, fmt.Sprintf("%s %d, designed %d", api, g, w))
		}
	}
	return len(diffs) == 0, strings.Join(diffs, "; ")
}

func unionKeys(a, b map[string]int) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func medianSize(items []map[string]types.AttributeValue) int {
	if len(items) == 0 {
		return 0
	}
	s := make([]int, len(items))
	for i, it := range items {
		s[i] = itemSize(it)
	}
	slices.Sort(s)
	return s[len(s)/2]
}

// cost is the cost scenario: one booking of each N on each side, no
// timing.
func cost(ctx context.Context, e *env, rep *report) error {
	sec := section{title: "6. Cost per booking: request units and SQS requests"}
	if e.backend == backendMemory {
		sec.text = []string{"Needs -backend aws: the cost is computed from the DynamoDB items and the requests sent."}
		rep.add(sec)
		return nil
	}
	e.prog.phase("6 cost: fixtures")
	// The world's queue has no consumer but the scenario's own.
	nannies, _, w, err := e.bookingFixtures(ctx, "cost")
	if err != nil {
		return err
	}
	parent, err := w.user(ctx, babysitter.RoleParent)
	if err != nil {
		return err
	}
	tut, err := newTutorialAWS(ctx, e)
	if err != nil {
		return err
	}
	libIdx, err := e.indexes(ctx, w.table)
	if err != nil {
		return err
	}
	tutIdx, err := e.indexes(ctx, tut.table)
	if err != nil {
		return err
	}

	t := &table{head: []string{"N", "side", "DynamoDB requests", "read units", "write units: table", "write units: indexes",
		"write units", "SQS requests", "$ per million bookings", "requests as designed"}}
	sizeT := &table{head: []string{"item", "library bytes", "tutorial bytes"}}
	var sizes [2]map[string]int
	allMet := true
	for _, n := range e.sz.bookNs {
		e.prog.phase("6 cost: N=%d, library", n)
		lib, err := costLibrary(ctx, e, w, parent, nannies[:n+1], libIdx)
		if err != nil {
			return fmt.Errorf("library, N=%d: %w", n, err)
		}
		e.prog.phase("6 cost: N=%d, tutorial", n)
		tu, err := costTutorial(ctx, e, tut, parent.Username, nannies[:n+1], tutIdx)
		if err != nil {
			return fmt.Errorf("tutorial, N=%d: %w", n, err)
		}
		for _, s := range []struct {
			name string
			c    costSide
		}{{"library", lib}, {"tutorial", tu}} {
			ok := "yes"
			if !s.c.asDesign {
				ok, allMet = "**NO**: "+s.c.why, false
			}
			t.add(fmt.Sprint(n), s.name, format(s.c.requests.store), fmtUnits(s.c.u.rru), fmtUnits(s.c.u.wruTable),
				fmtUnits(s.c.u.wruIndex), fmtUnits(s.c.u.wru()), format(s.c.requests.queue), fmt.Sprintf("%.2f", dollarsPerM(s.c)), ok)
		}
		libD, tuD := dollarsPerM(lib), dollarsPerM(tu)
		rep.target(fmt.Sprintf("N=%d: cost per booking (request units + SQS requests, priced), library ÷ tutorial", n),
			ratio(libD/tuD), "≤ 1", libD <= tuD)
		sizes = [2]map[string]int{lib.sizes, tu.sizes}
	}
	for _, name := range []string{"job (OPEN)", "job (CLOSED)", "application (PENDING)", "application (DECLINED)",
		"parent's user item", "nanny's user item", "outbox item"} {
		cell := func(m map[string]int) string {
			if v, ok := m[name]; ok {
				return fmt.Sprint(v)
			}
			return "–"
		}
		sizeT.add(name, cell(sizes[0]), cell(sizes[1]))
	}
	rep.target("cost: requests as designed, both sides, every N", map[bool]string{true: "yes", false: "no"}[allMet], "yes", allMet)
	sec.text = []string{
		"One booking of a job with N other applications on each side, no consumer running but the scenario's own: " +
			"library = BookNanny, then its one message received, handled by Decliner.HandleBatch and deleted (what a " +
			"Poller does); tutorial = book_nanny, then its consumer until all N messages are handled. The requests are " +
			"counted; the units are computed from the items as read back before, between and after (consistent " +
			"BatchGetItems of the bench's own, not counted) with DynamoDB's item-size and capacity rules: writes ⌈size/1 KB⌉ " +
			"(an update the larger of before and after), doubled in a transaction, a ConditionCheck counted as a " +
			"transactional write of its item; every index the item is in before or after one more ⌈entry/1 KB⌉ (two " +
			"when its key changes), not doubled; reads ⌈size/4 KB⌉ strongly consistent, half eventually consistent, " +
			"BatchGetItem per item, Query per 1 MB page of the items it reads. Indexes as the tables declare them " +
			"(DescribeTable), all projecting ALL.",
		fmt.Sprintf("$ per million bookings: on-demand us-east-1 prices, $%.3f per million write units, $%.3f per million "+
			"read units, $%.2f per million SQS requests (standard queue); storage and free tiers left out.",
			pricePerMWRU, pricePerMRRU, pricePerMSQSReq),
		"The second table: item sizes by DynamoDB's rules (medians for applications), as the stores wrote them at the largest N.",
	}
	sec.tables = []*table{t, sizeT}
	rep.add(sec)
	return nil
}

// dollarsPerM is what a million such bookings cost at the prices above.
func dollarsPerM(c costSide) float64 {
	return c.u.wru()*pricePerMWRU + c.u.rru*pricePerMRRU + float64(total(c.requests.queue))*pricePerMSQSReq
}

// fmtUnits formats request units: whole or half units, exactly.
func fmtUnits(u float64) string { return strconv.FormatFloat(u, 'f', -1, 64) }
