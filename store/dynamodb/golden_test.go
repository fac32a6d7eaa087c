package dynamodb

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/babysitter-go/babysitter"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/items/*.golden.json from the current encoding")

// goldenCase is one item type (or one shape of it worth pinning): a value,
// how it is stored, and how a stored item is read back.
type goldenCase struct {
	name   string
	encode func() (map[string]types.AttributeValue, error)
	decode func(map[string]types.AttributeValue) (any, error)
	want   any
	// version is the schema version the item is written at: baseSchema,
	// or the version that introduced what it holds (v2).
	version int
}

// golden is the goldenCase of want, stored by encode and read by decode,
// at baseSchema.
func golden[T any](name string, want T, encode func(T) (map[string]types.AttributeValue, error), decode func(map[string]types.AttributeValue) (T, error)) goldenCase {
	return goldenCase{
		name:    name,
		encode:  func() (map[string]types.AttributeValue, error) { return encode(want) },
		decode:  func(item map[string]types.AttributeValue) (any, error) { return decode(item) },
		want:    want,
		version: baseSchema,
	}
}

// v2 marks a case written at version 2.
func v2(c goldenCase) goldenCase {
	c.version = 2
	return c
}

// v2Attrs are the attributes version 2 added to user items: an item
// without them is the version-1 item of the same user (TestVersion2).
var v2Attrs = []string{attrUploads, attrUploadsVersion, attrVerification, attrSubject}

// decodeAs reads an item into the item struct T: the markers, the email
// reservation and the tombstone are never read as domain values.
func decodeAs[T any](what string) func(map[string]types.AttributeValue) (T, error) {
	return func(item map[string]types.AttributeValue) (T, error) { return decodeItem[T](item, what) }
}

// goldenCases are every item type. An item type added to the table adds
// its case here (and its golden file, with -update).
func goldenCases() []goldenCase {
	u, r := fullUser(), fullReview()
	// An OPEN job has the byCell keys; its zero values pin how an empty
	// string, the number 0 and midnight are stored.
	open := fullJob()
	open.Status, open.AcceptedApplicationID, open.AcceptedNanny = babysitter.JobOpen, "", ""
	open.Description, open.NumberOfKids, open.EndTime = "", 0, 0
	minA := fullApplication()
	minA.Message, minA.Status = "", babysitter.ApplicationPending
	minR := fullReview()
	minR.Text, minR.Answers = "", map[string]bool{}
	return []goldenCase{
		golden("user", u, encodeUser, decodeUser),
		golden("user_minimal", minimalUser(), encodeUser, decodeUser),
		golden("job", fullJob(), encodeJob, decodeJob),
		golden("job_open", open, encodeJob, decodeJob),
		golden("application", fullApplication(), encodeApplication, decodeApplication),
		golden("application_minimal", minA, encodeApplication, decodeApplication),
		golden("review", r, encodeReview, decodeReview),
		golden("review_minimal", minR, encodeReview, decodeReview),
		golden("email", emailItem{Username: u.Username},
			func(e emailItem) (map[string]types.AttributeValue, error) { return encodeEmail(u.Email, e.Username) },
			decodeAs[emailItem]("email reservation")),
		golden("applicant", applicantItem{ApplicationID: fullApplication().ID, Username: fullApplication().NannyUsername},
			func(m applicantItem) (map[string]types.AttributeValue, error) {
				return encodeApplicant(babysitter.Application{ID: m.ApplicationID, JobID: fullApplication().JobID, NannyUsername: m.Username})
			},
			decodeAs[applicantItem]("applicant marker")),
		golden("review_marker", reviewMarkerItem{ReviewID: r.ID, Username: r.Reviewer},
			func(m reviewMarkerItem) (map[string]types.AttributeValue, error) {
				return encodeReviewMarker(babysitter.Review{ID: m.ReviewID, JobID: r.JobID, Direction: r.Direction, Reviewer: m.Username})
			},
			decodeAs[reviewMarkerItem]("review marker")),
		golden("tombstone", tombstoneItem{Username: u.Username, DeletedOn: u.UpdatedOn},
			func(ts tombstoneItem) (map[string]types.AttributeValue, error) {
				return encodeTombstone(ts.Username, ts.DeletedOn)
			},
			decodeAs[tombstoneItem]("username tombstone")),
		golden("outbox", outboxItem{JobID: fullJob().ID, Due: dueTime(u.UpdatedOn)},
			func(o outboxItem) (map[string]types.AttributeValue, error) {
				at, err := time.Parse(time.RFC3339Nano, o.Due)
				return encodeDue(o.JobID, at), err
			},
			decodeAs[outboxItem]("outbox item")),
		v2(golden("user_evidence", evidenceUser(), encodeUser, decodeUser)),
		v2(golden("user_bound", boundUser(), encodeUser, decodeUser)),
		v2(golden("erasure", babysitter.ErasureOf(evidenceUser(), u.UpdatedOn.UTC()),
			encodeErasure,
			func(item map[string]types.AttributeValue) (babysitter.Erasure, error) {
				return decodeValue[erasureItem](item)
			})),
	}
}

// boundUser is fullUser bound to a subject, and nothing else of version
// 2: the subject alone makes a user item version 2.
func boundUser() babysitter.User {
	u := fullUser()
	u.Subject = "0b1e2c3d-1111-4000-8000-0000000000ad"
	return u
}

// evidenceUser is boundUser with every other attribute of version 2:
// documents, requested and discarded uploads, the picture (its URL is
// fullUser's), the verification record.
func evidenceUser() babysitter.User {
	u := boundUser()
	at := time.Date(2026, 3, 4, 5, 0, 0, 123456789, time.UTC)
	up := func(id string, kind babysitter.UploadKind, contentType string, size int64, minute int, uploaded bool) babysitter.Upload {
		x := babysitter.Upload{ID: id, Kind: kind, ContentType: contentType, Size: size, RequestedOn: at.Add(time.Duration(minute) * time.Minute)}
		if uploaded {
			x.UploadedOn = x.RequestedOn.Add(time.Minute)
		}
		return x
	}
	u.Documents = []babysitter.Upload{
		up("0123456789abcdef0123456789abcdef", babysitter.UploadDocument, "application/pdf", 123456, 0, true),
		up("1123456789abcdef0123456789abcdef", babysitter.UploadDocument, "image/jpeg", 2345678, 2, true),
	}
	pic := up("2123456789abcdef0123456789abcdef", babysitter.UploadPicture, "image/png", 34567, 4, true)
	u.Uploads = babysitter.UserUploads{
		Requested: []babysitter.Upload{up("3123456789abcdef0123456789abcdef", babysitter.UploadDocument, "image/png", 4567, 6, false)},
		Picture:   &pic,
		Discarded: []babysitter.Upload{up("4123456789abcdef0123456789abcdef", babysitter.UploadPicture, "image/jpeg", 5678, 1, true)},
		Version:   6,
	}
	u.Verification = &babysitter.Verification{By: "root", At: at.Add(time.Hour), UploadID: u.Documents[1].ID}
	return u
}

// erasureItem is read as a domain value (DueErasures).
func (i erasureItem) missing() string { return missingIf(i.Username == "", attrUsername) }

// minimalUser has only the fields CreateUser requires: every optional
// attribute's absence is pinned too.
func minimalUser() babysitter.User {
	t := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	return babysitter.User{
		ID: "0190a1b2-0000-7000-8000-000000000004", Username: "grace", Email: "grace@example.com",
		Type: babysitter.UserParent, Status: babysitter.StatusUnverified,
		Profile: babysitter.Profile{
			FirstName: "Grace", LastName: "Hopper", DateOfBirth: babysitter.Date{Year: 1986, Month: 12, Day: 9},
		},
		CreatedOn: t, UpdatedOn: t, Version: 1,
	}
}

func fullApplication() babysitter.Application {
	return babysitter.Application{
		ID: "0190a1b2-0000-7000-8000-000000000005", JobID: "0190a1b2-0000-7000-8000-000000000002",
		NannyUsername: "ada", Message: "I'd love to", Status: babysitter.ApplicationAccepted,
		CreatedOn: time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC), UpdatedOn: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
	}
}

// goldenOpts compares decoded values: times by instant and by offset (the
// stored string keeps the offset, so a round trip must too).
var goldenOpts = cmp.Options{cmp.Comparer(func(a, b time.Time) bool {
	return a.Equal(b) && a.Format(time.RFC3339Nano) == b.Format(time.RFC3339Nano)
})}

func readItemFile(t *testing.T, path string) map[string]types.AttributeValue {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	item, err := parseItemJSON(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return item
}

// TestGoldenItems pins the stored shape of every item type: the
// attribute map of a fully populated value, names, types and values,
// against testdata/items/<name>.golden.json, and reads the golden back as
// the value. The stored names are a contract with every table already
// deployed: a change here is a new schema version, not a refactoring.
// go test -run TestGoldenItems -update rewrites the files.
func TestGoldenItems(t *testing.T) {
	t.Parallel()
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			item, err := c.encode()
			if err != nil {
				t.Fatal(err)
			}
			got, err := itemJSON(item)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "items", c.name+".golden.json")
			if *updateGolden {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -run TestGoldenItems -update writes it)", err)
			}
			if d := cmp.Diff(string(want), string(got)); d != "" {
				t.Errorf("item %s differs from %s (-golden +encoded):\n%s", c.name, path, d)
			}
			if n := num(item, attrSchema); n != int64(c.version) {
				t.Errorf("item %s has %s = %d, want %d", c.name, attrSchema, n, c.version)
			}

			stored := readItemFile(t, path)
			v, err := c.decode(stored)
			if err != nil {
				t.Fatalf("decode %s: %v", path, err)
			}
			if d := cmp.Diff(c.want, v, goldenOpts); d != "" {
				t.Errorf("decode %s (-want +got):\n%s", path, d)
			}
		})
	}
}

// TestDecodeStoredItems reads items as deployed tables hold them: each
// golden without its schema version (version 0: written before items had
// one), and the items captured in testdata/items/v0 from the encoders of
// earlier commits. Each reads as the golden case's value. It also checks
// that version 1 is version 0 plus the attribute v, which is what lets a
// build from before versions read the items this one writes.
func TestDecodeStoredItems(t *testing.T) {
	t.Parallel()
	cases := map[string]goldenCase{}
	for _, c := range goldenCases() {
		cases[c.name] = c
		if c.version > baseSchema {
			continue // no table held it before it had a version: TestVersion2
		}
		t.Run(c.name, func(t *testing.T) {
			v0 := readItemFile(t, filepath.Join("testdata", "items", c.name+".golden.json"))
			delete(v0, attrSchema)
			captured := readItemFile(t, filepath.Join("testdata", "items", "v0", c.name+".json"))
			if c.name == "job_open" {
				// The fixture lies at -89.999999°: since the polar bands of
				// the byCell index its partition is the whole row's, not its
				// own cell's — an index key ReindexNearby moves, not an
				// attribute of the job (see doc.go, "byCell").
				if got, want := str(v0, attrGSI3PK), cellKey(babysitter.GeoCell(fullJob().Latitude, fullJob().Longitude)); got != want {
					t.Errorf("job_open's %s = %q, want %q", attrGSI3PK, got, want)
				}
				delete(v0, attrGSI3PK)
				delete(captured, attrGSI3PK)
			}
			if d := cmp.Diff(itemString(t, captured), itemString(t, v0)); d != "" {
				t.Errorf("version 1 is not version 0 plus %s (-v0 +golden without %s):\n%s", attrSchema, attrSchema, d)
			}
			for what, item := range map[string]map[string]types.AttributeValue{"golden without v": v0, "captured v0": captured} {
				v, err := c.decode(item)
				if err != nil {
					t.Fatalf("decode the %s: %v", what, err)
				}
				if d := cmp.Diff(c.want, v, goldenOpts); d != "" {
					t.Errorf("decode the %s (-want +got):\n%s", what, d)
				}
			}
		})
	}
	// A user item from before the rating was two top-level numbers: the
	// map "rating" and the retired counter pendingApplications.
	t.Run("user_before_reviews", func(t *testing.T) {
		item := readItemFile(t, filepath.Join("testdata", "items", "v0", "user_before_reviews.json"))
		got, err := decodeUser(item)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(fullUser(), got, goldenOpts); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	// Every file in testdata/items is some case's: none is left untested.
	for _, glob := range []string{"*.golden.json", "v0/*.json"} {
		files, err := filepath.Glob(filepath.Join("testdata", "items", glob))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".json"), ".golden")
			if _, ok := cases[name]; !ok && name != "user_before_reviews" {
				t.Errorf("%s belongs to no golden case", f)
			}
		}
	}
}

func itemString(t *testing.T, item map[string]types.AttributeValue) string {
	t.Helper()
	b, err := itemJSON(item)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// itemJSON is an item in DynamoDB's JSON form ({"name": {"S": "…"}}),
// one attribute a line, sorted by name (map keys sorted too): a stable,
// readable file whose diffs show what changed.
func itemJSON(item map[string]types.AttributeValue) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, k := range slices.Sorted(maps.Keys(item)) {
		j, err := avJSON(item[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		name, err := compactJSON(k)
		if err != nil {
			return nil, err
		}
		value, err := compactJSON(j)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "  %s: %s", name, value)
		if i < len(item)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}

// compactJSON is v as one line of JSON, '<', '>' and '&' as they are.
func compactJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func avJSON(av types.AttributeValue) (any, error) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}, nil
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}, nil
	case *types.AttributeValueMemberB:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(v.Value)}, nil
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}, nil
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": v.Value}, nil
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}, nil
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}, nil
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			j, err := avJSON(e)
			if err != nil {
				return nil, err
			}
			l[i] = j
		}
		return map[string]any{"L": l}, nil
	case *types.AttributeValueMemberM:
		m := make(map[string]any, len(v.Value))
		for k, e := range v.Value {
			j, err := avJSON(e)
			if err != nil {
				return nil, err
			}
			m[k] = j
		}
		return map[string]any{"M": m}, nil
	}
	return nil, fmt.Errorf("attribute value %T has no JSON form here", av)
}

// parseItemJSON reads itemJSON's form back.
func parseItemJSON(b []byte) (map[string]types.AttributeValue, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	item := make(map[string]types.AttributeValue, len(raw))
	for k, r := range raw {
		v, err := parseAV(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		item[k] = v
	}
	return item, nil
}

func parseAV(b json.RawMessage) (types.AttributeValue, error) {
	var one map[string]json.RawMessage
	if err := json.Unmarshal(b, &one); err != nil {
		return nil, err
	}
	if len(one) != 1 {
		return nil, fmt.Errorf("want one type key, got %d in %s", len(one), b)
	}
	for typ, r := range one {
		switch typ {
		case "S":
			var s string
			err := json.Unmarshal(r, &s)
			return &types.AttributeValueMemberS{Value: s}, err
		case "N":
			var s string
			err := json.Unmarshal(r, &s)
			return &types.AttributeValueMemberN{Value: s}, err
		case "B":
			var s string
			if err := json.Unmarshal(r, &s); err != nil {
				return nil, err
			}
			d, err := base64.StdEncoding.DecodeString(s)
			return &types.AttributeValueMemberB{Value: d}, err
		case "BOOL":
			var v bool
			err := json.Unmarshal(r, &v)
			return &types.AttributeValueMemberBOOL{Value: v}, err
		case "NULL":
			var v bool
			err := json.Unmarshal(r, &v)
			return &types.AttributeValueMemberNULL{Value: v}, err
		case "SS", "NS":
			var v []string
			if err := json.Unmarshal(r, &v); err != nil {
				return nil, err
			}
			if typ == "SS" {
				return &types.AttributeValueMemberSS{Value: v}, nil
			}
			return &types.AttributeValueMemberNS{Value: v}, nil
		case "L":
			var rs []json.RawMessage
			if err := json.Unmarshal(r, &rs); err != nil {
				return nil, err
			}
			l := make([]types.AttributeValue, len(rs))
			for i, e := range rs {
				v, err := parseAV(e)
				if err != nil {
					return nil, err
				}
				l[i] = v
			}
			return &types.AttributeValueMemberL{Value: l}, nil
		case "M":
			m, err := parseItemJSON(r)
			return &types.AttributeValueMemberM{Value: m}, err
		}
		return nil, fmt.Errorf("unknown attribute type %q", typ)
	}
	panic("unreachable")
}

// TestItemJSON checks that the golden form reads back as the same item.
func TestItemJSON(t *testing.T) {
	t.Parallel()
	item := map[string]types.AttributeValue{
		"s": strValue("x<&>"), "n": number(-3), "b": &types.AttributeValueMemberB{Value: []byte{0, 1, 255}},
		"t": &types.AttributeValueMemberBOOL{Value: true}, "null": &types.AttributeValueMemberNULL{Value: true},
		"ss": &types.AttributeValueMemberSS{Value: []string{"a", "b"}}, "ns": &types.AttributeValueMemberNS{Value: []string{"1"}},
		"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{strValue(""), number(0)}},
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": strValue("v")}},
	}
	b, err := itemJSON(item)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseItemJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(item, got, cmp.Exporter(func(reflect.Type) bool { return true })); d != "" {
		t.Errorf("round trip (-want +got):\n%s\n%s", d, b)
	}
	if _, err := parseItemJSON([]byte(`{"a": {"S": "x", "N": "1"}}`)); err == nil {
		t.Error("two types in one value: no error")
	}
	if _, err := parseItemJSON([]byte(`{"a": {"X": "x"}}`)); err == nil {
		t.Error("unknown type: no error")
	}
}

// TestVersion2 pins what version 2 is: a user item with uploads or a
// verification record — the attributes v2Attrs — is written at v = 2,
// which a build of version 1 refuses (ErrNewerSchema: it would delete the
// account and leave its objects, or verify without a document, were it to
// read it); the same user without them is written at v = 1, exactly the
// version-1 item; and the erasure item, new with version 2, is v = 2.
func TestVersion2(t *testing.T) {
	t.Parallel()
	evidence := readItemFile(t, filepath.Join("testdata", "items", "user_evidence.golden.json"))
	plain := readItemFile(t, filepath.Join("testdata", "items", "user.golden.json"))
	if n := num(evidence, attrSchema); n != 2 {
		t.Errorf("user_evidence: v = %d, want 2", n)
	}
	for _, a := range v2Attrs {
		if _, ok := evidence[a]; !ok {
			t.Errorf("user_evidence lacks %s: the golden does not pin it", a)
		}
		delete(evidence, a)
	}
	evidence[attrSchema] = number(baseSchema)
	if d := cmp.Diff(itemString(t, plain), itemString(t, evidence)); d != "" {
		t.Errorf("version 2 is not version 1 plus %v (-user +user_evidence without them):\n%s", v2Attrs, d)
	}
	// A build that reads versions 0 and 1 refuses the version-2 items.
	for _, name := range []string{"user_evidence", "user_bound", "erasure"} {
		item := readItemFile(t, filepath.Join("testdata", "items", name+".golden.json"))
		if v, err := itemVersion(item); err != nil || v <= baseSchema {
			t.Errorf("%s: version %d (%v); a version-1 build would read it", name, v, err)
		}
	}
	// Clearing the verification (REMOVE) and forgetting every upload
	// leaves an item that a version-1 build still refuses, by its v, and
	// this build reads.
	u := fullUser()
	u.Uploads.Version = 3
	item, err := encodeUser(u)
	if err != nil {
		t.Fatal(err)
	}
	if num(item, attrSchema) != 2 {
		t.Errorf("a user with an uploads version but no uploads: v = %d, want 2", num(item, attrSchema))
	}
	if got, err := decodeUser(item); err != nil || got.Uploads.Version != 3 {
		t.Errorf("decode: %+v, %v", got.Uploads, err)
	}
}
