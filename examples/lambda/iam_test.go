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
//	  methods (s.store.X, s.queue.X) → store/dynamodb and queue/sqs
//	  (client.X, and the types.Put/Update/Delete/ConditionCheck of a
//	  transaction) → IAM actions;
//	declines: declines/main.go (decliner.HandleBatch) → the root
//	  package's Decliner (d.store.X) → the same chain.
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
// store and queue packages and returns the IAM actions they call.
func derivedActions(t testing.TB, serviceMethods []string) (dynamo, sqs []string) {
	t.Helper()
	root := loadGraph(t, "../..")
	svc := root.reach(t, serviceMethods, "store", "queue")

	// Only the Store and Queue interface methods are outgoing edges.
	storeIface := interfaceMethods(reflect.TypeFor[babysitter.Store]())
	queueIface := interfaceMethods(reflect.TypeFor[babysitter.Queue]())
	storeMethods := intersect(svc["store"], storeIface)
	queueMethods := intersect(svc["queue"], queueIface)

	var d, q map[string]bool = map[string]bool{}, map[string]bool{}
	if len(storeMethods) > 0 {
		st := loadGraph(t, "../../store/dynamodb").reach(t, storeMethods, "client")
		for _, call := range st["client"] {
			acts, ok := dynamoDBActions[call]
			if !ok {
				t.Errorf("store/dynamodb calls client.%s: add its IAM action to dynamoDBActions and the template", call)
			}
			for _, a := range acts {
				d[a] = true
			}
		}
		for _, typ := range st["types"] {
			if a, ok := txActions[typ]; ok {
				d[a] = true
			}
		}
	}
	if len(queueMethods) > 0 {
		qu := loadGraph(t, "../../queue/sqs").reach(t, queueMethods, "client")
		for _, call := range qu["client"] {
			a, ok := sqsActions[call]
			if !ok {
				t.Errorf("queue/sqs calls client.%s: add its IAM action to sqsActions and the template", call)
			}
			q[a] = true
		}
	}
	return sortedKeys(d), sortedKeys(q)
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

func TestIAMLeastPrivilege(t *testing.T) {
	tpl := loadTemplate(t)

	// Entry points: every route of the resolver; the consumer's main.
	resolverSvc := serviceCalls(t, "../../transport/appsync", "svc")
	declinesSvc := serviceCalls(t, "declines", "decliner", "main", "newDecliner")
	sweeperSvc := serviceCalls(t, "sweeper", "decliner", "main", "newDecliner")
	if !slices.Contains(declinesSvc, "HandleBatch") || slices.Contains(resolverSvc, "HandleBatch") || !slices.Equal(sweeperSvc, []string{"Sweep"}) {
		t.Fatalf("entry points: resolver %v, declines %v, sweeper %v", resolverSvc, declinesSvc, sweeperSvc)
	}
	t.Logf("resolver uses Service.%v", resolverSvc)
	t.Logf("declines uses Service.%v", declinesSvc)

	resolverDDB, resolverSQS := derivedActions(t, resolverSvc)
	declinesDDB, declinesSQS := derivedActions(t, declinesSvc)
	t.Logf("resolver calls %v %v", resolverDDB, resolverSQS)
	t.Logf("declines calls %v %v", declinesDDB, declinesSQS)
	if len(resolverDDB) == 0 || len(declinesDDB) == 0 || !slices.Equal(resolverSQS, []string{"sqs:SendMessage"}) || len(declinesSQS) != 0 {
		t.Fatalf("implausible derivation: resolver %v %v, declines %v %v", resolverDDB, resolverSQS, declinesDDB, declinesSQS)
	}

	// indexes says whether the role's Query reads the table's indexes too
	// (the resolver's lists do; the decline functions read the table only).
	// A function with active tracing needs X-Ray's actions, and only then.
	check := func(role, fn, logGroup string, indexes bool, wantDDB, wantSQS []string) {
		g := roleGrants(t, tpl, role)
		for ns := range g.actions {
			if !slices.Contains([]string{"dynamodb", "sqs", "logs", "xray"}, ns) {
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
		if !slices.Equal(g.actions["dynamodb"], wantDDB) {
			t.Errorf("%s DynamoDB actions:\n got  %v\n want %v (derived from the code)", role, g.actions["dynamodb"], wantDDB)
		}
		if !slices.Equal(g.actions["sqs"], wantSQS) {
			t.Errorf("%s SQS actions:\n got  %v\n want %v", role, g.actions["sqs"], wantSQS)
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
		for _, a := range g.actions["logs"] {
			for _, r := range g.resources[a] {
				if !getAtt(r, logGroup, "Arn") {
					t.Errorf("%s: %s on %v, want its own log group", role, a, r)
				}
			}
		}
	}
	check("ResolverRole", "ResolverFunction", "ResolverLogGroup", true, resolverDDB, resolverSQS)
	check("DeclinesRole", "DeclinesFunction", "DeclinesLogGroup", false, declinesDDB, eventSourceMappingSQS)
	sweeperDDB, sweeperSQS := derivedActions(t, sweeperSvc)
	t.Logf("sweeper calls %v %v", sweeperDDB, sweeperSQS)
	if len(sweeperDDB) == 0 || len(sweeperSQS) != 0 {
		t.Fatalf("implausible derivation: sweeper %v %v", sweeperDDB, sweeperSQS)
	}
	check("SweeperRole", "SweeperFunction", "SweeperLogGroup", false, sweeperDDB, nil)

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
