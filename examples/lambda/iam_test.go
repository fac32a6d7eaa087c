package lambda_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/babysitter-go/babysitter"
)

// The IAM check: every AWS action the functions' code can call is granted
// to that function's role, and nothing else is.
//
// The called actions are derived from the source, not listed by hand: a
// call graph over the Go files (non-test) follows each function from its
// entry points across the packages it goes through —
//
//	resolver: transport/appsync (c.svc.X) → the root package's Service
//	  methods (s.store.X, s.queue.X, s.blobs.X, and the Eraser's) →
//	  store/dynamodb, queue/sqs and blob/s3 (client.X, presigner.X, and
//	  the types.Put/Update/Delete/ConditionCheck of a transaction) → IAM
//	  actions;
//	declines: declines/main.go (decliner.HandleBatch) → the root
//	  package's Decliner (d.store.X, d.notifier.X) → the same chain, and
//	  notify/sns;
//	sweeper: sweeper/main.go (decliner.Sweep, eraser.Sweep) → the same.
//
// A presigned request is authorized as its signer's request: presigning
// a PUT needs s3:PutObject, a GET s3:GetObject, though no request is sent.
//
// Edges are by name (a method value counts as a call), so the graph can
// only over-approximate; a new SDK call or transaction action anywhere on a
// path fails this test until the template grants it, and a grant nothing
// needs fails it too. The DynamoDB-Local story (integration_test.go)
// cross-checks the derivation at run time with a middleware that records
// every operation the store sends.

// callGraph is a package's functions and methods by bare name.
type callGraph struct {
	dir   string
	funcs map[string][]*ast.FuncDecl
}

func loadGraph(t testing.TB, dir string) *callGraph {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	g := &callGraph{dir: dir, funcs: map[string][]*ast.FuncDecl{}}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				g.funcs[fd.Name.Name] = append(g.funcs[fd.Name.Name], fd)
			}
		}
	}
	if len(g.funcs) == 0 {
		t.Fatalf("%s: no Go functions", dir)
	}
	return g
}

// reach walks the functions reachable from roots and returns, per watched
// field name (the receiver of an outgoing call: "client", "store", ...),
// the names used on it, plus the transaction action types built
// (types.Put, ...) under the key "types".
func (g *callGraph) reach(t testing.TB, roots []string, watched ...string) map[string][]string {
	t.Helper()
	out := map[string]map[string]bool{}
	note := func(k, v string) {
		if out[k] == nil {
			out[k] = map[string]bool{}
		}
		out[k][v] = true
	}
	seen := map[string]bool{}
	queue := slices.Clone(roots)
	for _, r := range roots {
		if len(g.funcs[r]) == 0 {
			t.Fatalf("%s: no function or method %s", g.dir, r)
		}
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		for _, fd := range g.funcs[name] {
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.SelectorExpr:
					for _, w := range watched {
						if endsWith(n.X, w) {
							note(w, n.Sel.Name)
							return false
						}
					}
					if id, ok := n.X.(*ast.Ident); ok && id.Name == "types" {
						note("types", n.Sel.Name)
					}
					if len(g.funcs[n.Sel.Name]) > 0 {
						queue = append(queue, n.Sel.Name)
					}
				case *ast.Ident:
					// A builtin (delete, len, …) is not a call of a
					// method that shares its name (txn.delete).
					if len(g.funcs[n.Name]) > 0 && types.Universe.Lookup(n.Name) == nil {
						queue = append(queue, n.Name)
					}
				}
				return true
			})
		}
	}
	res := map[string][]string{}
	for k, set := range out {
		for v := range set {
			res[k] = append(res[k], v)
		}
		sort.Strings(res[k])
	}
	return res
}

// endsWith reports whether e is the identifier name or a selector x.name.
func endsWith(e ast.Expr, name string) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == name
	case *ast.SelectorExpr:
		return e.Sel.Name == name
	}
	return false
}

// dynamoDBActions maps DynamoDB API calls to the IAM actions that
// authorize them. A transaction is authorized per action, by the action
// types it contains (see txActions).
var dynamoDBActions = map[string][]string{
	"GetItem":            {"dynamodb:GetItem"},
	"BatchGetItem":       {"dynamodb:BatchGetItem"},
	"Query":              {"dynamodb:Query"},
	"Scan":               {"dynamodb:Scan"},
	"PutItem":            {"dynamodb:PutItem"},
	"UpdateItem":         {"dynamodb:UpdateItem"},
	"DeleteItem":         {"dynamodb:DeleteItem"},
	"BatchWriteItem":     {"dynamodb:BatchWriteItem"},
	"TransactWriteItems": nil, // per action type
	"TransactGetItems":   nil, // per action type
	"DescribeTable":      {"dynamodb:DescribeTable"},
}

// txActions maps the action types of a transaction to IAM actions
// ("Using IAM with DynamoDB transactions" in the DynamoDB guide).
var txActions = map[string]string{
	"Put":            "dynamodb:PutItem",
	"Update":         "dynamodb:UpdateItem",
	"Delete":         "dynamodb:DeleteItem",
	"ConditionCheck": "dynamodb:ConditionCheckItem",
	"Get":            "dynamodb:GetItem",
}

// sqsActions maps SQS API calls to IAM actions; a batch call is
// authorized by its single-message action.
var sqsActions = map[string]string{
	"SendMessage":                  "sqs:SendMessage",
	"SendMessageBatch":             "sqs:SendMessage",
	"ReceiveMessage":               "sqs:ReceiveMessage",
	"DeleteMessage":                "sqs:DeleteMessage",
	"DeleteMessageBatch":           "sqs:DeleteMessage",
	"ChangeMessageVisibility":      "sqs:ChangeMessageVisibility",
	"ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
	"GetQueueAttributes":           "sqs:GetQueueAttributes",
	"GetQueueUrl":                  "sqs:GetQueueUrl",
}

// s3Actions maps the calls blob/s3 makes — on its client and its
// presigner — to IAM actions. HeadObject also needs s3:ListBucket: without
// it S3 answers a missing key 403 instead of 404, and ConfirmUpload before
// the PUT would fail as an internal error instead of a Conflict.
var s3Actions = map[string][]string{
	"HeadObject":       {"s3:GetObject", "s3:ListBucket"},
	"GetObject":        {"s3:GetObject"},
	"PutObject":        {"s3:PutObject"},
	"DeleteObject":     {"s3:DeleteObject"},
	"DeleteObjects":    {"s3:DeleteObject"},
	"PresignPutObject": {"s3:PutObject"},
	"PresignGetObject": {"s3:GetObject"},
}

// snsActions maps SNS API calls to IAM actions; PublishBatch is authorized
// by sns:Publish.
var snsActions = map[string]string{
	"Publish":      "sns:Publish",
	"PublishBatch": "sns:Publish",
}

// eventSourceMappingSQS is what Lambda's SQS poller needs from the
// consumer's role (the Lambda developer guide; it is also what
// AWSLambdaSQSQueueExecutionRole grants on every queue).
var eventSourceMappingSQS = []string{"sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"}

// activeTracingXRay is what Lambda needs from a function's role to send
// the function's X-Ray segments when its Tracing is Active (the Lambda
// developer guide, "Execution role permissions" for X-Ray): a role that
// SAM creates gets AWSXRayDaemonWriteAccess, ours state the two actions.
var activeTracingXRay = []string{"xray:PutTelemetryRecords", "xray:PutTraceSegments"}

// resourceless are the granted actions that support no resource-level
// permissions (the Service Authorization Reference lists X-Ray's with no
// resource type), so "*" is their only resource.
var resourceless = activeTracingXRay

// tracingActive reports whether the function's Tracing, its own or the
// Globals', is Active.
func tracingActive(tpl template, fn string) bool {
	tracing := tpl.Resources[fn].Properties["Tracing"]
	if tracing == nil {
		tracing = get(tpl.Globals, "Function", "Tracing")
	}
	return tracing == "Active"
}

// derivedActions follows entry points through the root package into the
// store, queue, object storage and notifier packages and returns the IAM
// actions they call, by namespace ("dynamodb", "sqs", "s3", "sns").
func derivedActions(t testing.TB, serviceMethods []string) map[string][]string {
	t.Helper()
	root := loadGraph(t, "../..")
	svc := root.reach(t, serviceMethods, "store", "queue", "blobs", "notifier")

	// Only the interface methods of the ports are outgoing edges.
	port := func(field string, iface reflect.Type) []string {
		return intersect(svc[field], interfaceMethods(iface))
	}
	found := map[string]map[string]bool{}
	add := func(a string) {
		ns, _, _ := strings.Cut(a, ":")
		if found[ns] == nil {
			found[ns] = map[string]bool{}
		}
		found[ns][a] = true
	}
	if ms := port("store", reflect.TypeFor[babysitter.Store]()); len(ms) > 0 {
		st := loadGraph(t, "../../store/dynamodb").reach(t, ms, "client")
		for _, call := range st["client"] {
			acts, ok := dynamoDBActions[call]
			if !ok {
				t.Errorf("store/dynamodb calls client.%s: add its IAM action to dynamoDBActions and the template", call)
			}
			for _, a := range acts {
				add(a)
			}
		}
		for _, typ := range st["types"] {
			if a, ok := txActions[typ]; ok {
				add(a)
			}
		}
	}
	if ms := port("queue", reflect.TypeFor[babysitter.Queue]()); len(ms) > 0 {
		qu := loadGraph(t, "../../queue/sqs").reach(t, ms, "client")
		for _, call := range qu["client"] {
			a, ok := sqsActions[call]
			if !ok {
				t.Errorf("queue/sqs calls client.%s: add its IAM action to sqsActions and the template", call)
			}
			add(a)
		}
	}
	if ms := port("blobs", reflect.TypeFor[babysitter.Blobs]()); len(ms) > 0 {
		bl := loadGraph(t, "../../blob/s3").reach(t, ms, "client", "presigner")
		for _, call := range append(bl["client"], bl["presigner"]...) {
			acts, ok := s3Actions[call]
			if !ok {
				t.Errorf("blob/s3 calls %s: add its IAM actions to s3Actions and the template", call)
			}
			for _, a := range acts {
				add(a)
			}
		}
	}
	if ms := port("notifier", reflect.TypeFor[babysitter.Notifier]()); len(ms) > 0 {
		no := loadGraph(t, "../../notify/sns").reach(t, ms, "client")
		for _, call := range no["client"] {
			a, ok := snsActions[call]
			if !ok {
				t.Errorf("notify/sns calls client.%s: add its IAM action to snsActions and the template", call)
			}
			add(a)
		}
	}
	out := map[string][]string{}
	for ns, set := range found {
		out[ns] = sortedKeys(set)
	}
	return out
}

func interfaceMethods(t reflect.Type) []string {
	out := make([]string, t.NumMethod())
	for i := range out {
		out[i] = t.Method(i).Name
	}
	return out
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// serviceCalls returns the root package methods a package's code calls on
// a value named receiver (svc: the Service; decliner: the Decliner).
func serviceCalls(t testing.TB, dir, receiver string, roots ...string) []string {
	t.Helper()
	g := loadGraph(t, dir)
	if len(roots) == 0 {
		for name := range g.funcs {
			roots = append(roots, name)
		}
	}
	return g.reach(t, roots, receiver)[receiver]
}

// grants is what a role allows, by action namespace.
type grants struct {
	actions   map[string][]string // "dynamodb" → sorted actions
	resources map[string][]any    // action → resources
}

func roleGrants(t testing.TB, tpl template, role string) grants {
	t.Helper()
	r, ok := tpl.Resources[role]
	if !ok || r.Type != "AWS::IAM::Role" {
		t.Fatalf("no AWS::IAM::Role %s", role)
	}
	if r.Properties["ManagedPolicyArns"] != nil {
		t.Errorf("%s: managed policies grant more than the code needs: %v", role, r.Properties["ManagedPolicyArns"])
	}
	g := grants{actions: map[string][]string{}, resources: map[string][]any{}}
	for _, p := range list(r.Properties["Policies"]) {
		for _, s := range list(get(p.(obj), "PolicyDocument", "Statement")) {
			st := s.(obj)
			if st["Effect"] != "Allow" {
				continue
			}
			if st["NotAction"] != nil || st["NotResource"] != nil {
				t.Errorf("%s: NotAction/NotResource grant too much", role)
			}
			for _, a := range list(st["Action"]) {
				action := str(a)
				if strings.Contains(action, "*") {
					t.Errorf("%s: wildcard action %s", role, action)
				}
				ns, _, _ := strings.Cut(action, ":")
				if !slices.Contains(g.actions[ns], action) {
					g.actions[ns] = append(g.actions[ns], action)
				}
				for _, res := range list(st["Resource"]) {
					if (res == "*") != slices.Contains(resourceless, action) {
						t.Errorf("%s: %s on %v: want \"*\" exactly for the actions without resource-level permissions %v", role, action, res, resourceless)
					}
					g.resources[action] = append(g.resources[action], res)
				}
			}
		}
	}
	for ns := range g.actions {
		sort.Strings(g.actions[ns])
	}
	return g
}

// objectPrefixes are the key prefixes of the bucket's objects, where the
// object actions are granted, each on both: documents (read by admins
// through presigned GETs) and pictures (checked with HeadObject).
var objectPrefixes = []string{"${EvidenceBucket.Arn}/" + babysitter.DocumentKeyPrefix + "*", "${EvidenceBucket.Arn}/" + babysitter.PictureKeyPrefix + "*"}

func TestIAMLeastPrivilege(t *testing.T) {
	tpl := loadTemplate(t)

	// Entry points: every route of the resolver; the consumer's main; the
	// sweeper's main (the Decliner's and the Eraser's Sweep).
	resolverSvc := serviceCalls(t, "../../transport/appsync", "svc")
	declinesSvc := serviceCalls(t, "declines", "decliner", "main", "newDecliner")
	sweeperSvc := append(serviceCalls(t, "sweeper", "decliner", "main", "newSweepers"), serviceCalls(t, "sweeper", "eraser", "main", "newSweepers")...)
	if !slices.Contains(declinesSvc, "HandleBatch") || slices.Contains(resolverSvc, "HandleBatch") || !slices.Equal(sweeperSvc, []string{"Sweep", "Sweep"}) {
		t.Fatalf("entry points: resolver %v, declines %v, sweeper %v", resolverSvc, declinesSvc, sweeperSvc)
	}
	t.Logf("resolver uses Service.%v", resolverSvc)
	t.Logf("declines uses Service.%v", declinesSvc)

	resolver, declines, sweeper := derivedActions(t, resolverSvc), derivedActions(t, declinesSvc), derivedActions(t, sweeperSvc[:1])
	t.Logf("resolver calls %v", resolver)
	t.Logf("declines calls %v", declines)
	t.Logf("sweeper calls %v", sweeper)
	switch {
	case len(resolver["dynamodb"]) == 0 || !slices.Equal(resolver["sqs"], []string{"sqs:SendMessage"}) ||
		!slices.Equal(resolver["s3"], []string{"s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject"}) || len(resolver["sns"]) != 0:
		t.Fatalf("implausible derivation: resolver %v", resolver)
	case len(declines["dynamodb"]) == 0 || len(declines["sqs"]) != 0 || len(declines["s3"]) != 0 || !slices.Equal(declines["sns"], []string{"sns:Publish"}):
		t.Fatalf("implausible derivation: declines %v", declines)
	case len(sweeper["dynamodb"]) == 0 || len(sweeper["sqs"]) != 0 || !slices.Equal(sweeper["s3"], []string{"s3:DeleteObject"}) || !slices.Equal(sweeper["sns"], []string{"sns:Publish"}):
		t.Fatalf("implausible derivation: sweeper %v", sweeper)
	}

	// indexes says whether the role's Query reads the table's indexes too
	// (the resolver's lists do; the decline functions read the table only).
	// A function with active tracing needs X-Ray's actions, and only then.
	check := func(role, fn, logGroup string, indexes bool, want map[string][]string) {
		g := roleGrants(t, tpl, role)
		for ns := range g.actions {
			if !slices.Contains([]string{"dynamodb", "sqs", "s3", "sns", "logs", "xray"}, ns) {
				t.Errorf("%s: grants %v, which the function never calls", role, g.actions[ns])
			}
		}
		var wantXRay []string
		if tracingActive(tpl, fn) {
			wantXRay = activeTracingXRay
		}
		if !slices.Equal(g.actions["xray"], wantXRay) {
			t.Errorf("%s X-Ray actions %v, want %v (%s's Tracing Active: %v)", role, g.actions["xray"], wantXRay, fn, tracingActive(tpl, fn))
		}
		for _, ns := range []string{"dynamodb", "sqs", "s3", "sns"} {
			if !slices.Equal(g.actions[ns], want[ns]) {
				t.Errorf("%s %s actions:\n got  %v\n want %v (derived from the code)", role, ns, g.actions[ns], want[ns])
			}
		}
		if !slices.Equal(g.actions["logs"], []string{"logs:CreateLogStream", "logs:PutLogEvents"}) {
			t.Errorf("%s logs actions %v", role, g.actions["logs"])
		}
		for _, a := range g.actions["dynamodb"] {
			res := g.resources[a]
			table, index := false, false
			for _, r := range res {
				switch {
				case getAtt(r, "Table", "Arn"):
					table = true
				case sub(r) == "${Table.Arn}/index/*":
					index = true
				default:
					t.Errorf("%s: %s on %v", role, a, r)
				}
			}
			// Only Query reads an index, and only where the function does.
			if wantIndex := indexes && a == "dynamodb:Query"; !table || index != wantIndex {
				t.Errorf("%s: %s on %v: want the table%s", role, a, res, map[bool]string{true: " and its indexes"}[wantIndex])
			}
		}
		for _, a := range g.actions["sqs"] {
			for _, r := range g.resources[a] {
				if !getAtt(r, "DeclineQueue", "Arn") {
					t.Errorf("%s: %s on %v, want the decline queue", role, a, r)
				}
			}
		}
		for _, a := range g.actions["sns"] {
			for _, r := range g.resources[a] {
				if !ref(r, "NotificationTopic") {
					t.Errorf("%s: %s on %v, want the notification topic", role, a, r)
				}
			}
		}
		for _, a := range g.actions["s3"] {
			var got []string
			for _, r := range g.resources[a] {
				if getAtt(r, "EvidenceBucket", "Arn") {
					got = append(got, "bucket")
				} else {
					got = append(got, sub(r))
				}
			}
			slices.Sort(got)
			want := objectPrefixes
			if a == "s3:ListBucket" {
				want = []string{"bucket"} // a bucket action; the objects' keys are random
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: %s on %v, want %v", role, a, got, want)
			}
		}
		for _, a := range g.actions["logs"] {
			for _, r := range g.resources[a] {
				if !getAtt(r, logGroup, "Arn") {
					t.Errorf("%s: %s on %v, want its own log group", role, a, r)
				}
			}
		}
	}
	check("ResolverRole", "ResolverFunction", "ResolverLogGroup", true, resolver)
	declines["sqs"] = eventSourceMappingSQS
	check("DeclinesRole", "DeclinesFunction", "DeclinesLogGroup", false, declines)
	check("SweeperRole", "SweeperFunction", "SweeperLogGroup", false, sweeper)

	// The functions run with exactly these roles.
	for fn, role := range map[string]string{"ResolverFunction": "ResolverRole", "DeclinesFunction": "DeclinesRole", "SweeperFunction": "SweeperRole"} {
		p := tpl.Resources[fn].Properties
		if !getAtt(p["Role"], role, "Arn") || p["Policies"] != nil {
			t.Errorf("%s: Role %v, Policies %v: want exactly %s", fn, p["Role"], p["Policies"], role)
		}
	}

	// AppSync may invoke the resolver and nothing else.
	g := roleGrants(t, tpl, "AppSyncLambdaRole")
	if len(g.actions) != 1 || !slices.Equal(g.actions["lambda"], []string{"lambda:InvokeFunction"}) {
		t.Errorf("AppSyncLambdaRole grants %v", g.actions)
	}
	for _, r := range g.resources["lambda:InvokeFunction"] {
		if !getAtt(r, "ResolverFunction", "Arn") {
			t.Errorf("AppSyncLambdaRole invokes %v", r)
		}
	}
	trust := list(get(tpl.Resources["AppSyncLambdaRole"].Properties, "AssumeRolePolicyDocument", "Statement"))
	if len(trust) != 1 || get(trust[0].(obj), "Principal", "Service") != "appsync.amazonaws.com" {
		t.Errorf("AppSyncLambdaRole trust %v", trust)
	}
}

// TestBucketAndTopic: the bucket is encrypted, owner-enforced, refuses
// plain HTTP, blocks public ACLs and allows public reads by its policy of
// exactly the picture prefix — nothing else is public — and keeps no old
// versions of deleted objects; the topic is encrypted; the functions get
// their names from the template.
func TestBucketAndTopic(t *testing.T) {
	tpl := loadTemplate(t)
	b := tpl.Resources["EvidenceBucket"].Properties
	if get(b, "BucketEncryption", "ServerSideEncryptionConfiguration") == nil {
		t.Error("EvidenceBucket: no default encryption")
	}
	if rules := list(get(b, "OwnershipControls", "Rules")); len(rules) != 1 || get(rules[0].(obj), "ObjectOwnership") != "BucketOwnerEnforced" {
		t.Errorf("EvidenceBucket: ownership %v, want BucketOwnerEnforced (no ACLs)", rules)
	}
	pab := get(b, "PublicAccessBlockConfiguration").(obj)
	if pab["BlockPublicAcls"] != true || pab["IgnorePublicAcls"] != true {
		t.Errorf("EvidenceBucket: public ACLs not blocked: %v", pab)
	}
	if b["VersioningConfiguration"] != nil {
		t.Error("EvidenceBucket: versioning keeps deleted objects as old versions")
	}
	var public []string
	var tlsOnly bool
	for _, st := range list(get(tpl.Resources["EvidenceBucketPolicy"].Properties, "PolicyDocument", "Statement")) {
		st := st.(obj)
		switch {
		case st["Effect"] == "Allow":
			if st["Principal"] != "*" || !slices.Equal(list(st["Action"]), []any{"s3:GetObject"}) {
				t.Errorf("EvidenceBucketPolicy: allows %v to %v", st["Action"], st["Principal"])
			}
			for _, r := range list(st["Resource"]) {
				public = append(public, sub(r))
			}
		case st["Effect"] == "Deny" && get(st, "Condition", "Bool", "aws:SecureTransport") == "false":
			tlsOnly = true
		}
	}
	if want := []string{"${EvidenceBucket.Arn}/" + babysitter.PictureKeyPrefix + "*"}; !slices.Equal(public, want) {
		t.Errorf("EvidenceBucketPolicy: public reads of %v, want exactly %v", public, want)
	}
	if !tlsOnly {
		t.Error("EvidenceBucketPolicy: no deny of requests without TLS")
	}
	if tpl.Resources["NotificationTopic"].Properties["KmsMasterKeyId"] == nil {
		t.Error("NotificationTopic: not encrypted")
	}
	for fn, vars := range map[string][]string{
		"ResolverFunction": {"BUCKET", "PUBLIC_BASE_URL"},
		"DeclinesFunction": {"TOPIC_ARN"},
		"SweeperFunction":  {"BUCKET", "PUBLIC_BASE_URL", "TOPIC_ARN"},
	} {
		env := get(tpl.Resources[fn].Properties, "Environment", "Variables").(obj)
		for _, v := range vars {
			if env[v] == nil {
				t.Errorf("%s: no %s", fn, v)
			}
		}
	}
}
