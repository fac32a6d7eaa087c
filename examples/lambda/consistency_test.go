package lambda_test

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/examples/lambda/internal/lambdaenv"
	"github.com/babysitter-go/babysitter/store/dynamodb"
	"github.com/babysitter-go/babysitter/transport/appsync"
)

// appSyncPrelude declares what AppSync provides to every schema: its
// scalars and authorization directives. The deployed schema must not
// declare them; the parser needs them to validate it.
const appSyncPrelude = `
scalar AWSDate
scalar AWSTime
scalar AWSDateTime
scalar AWSTimestamp
scalar AWSEmail
scalar AWSJSON
scalar AWSURL
scalar AWSPhone
scalar AWSIPAddress
directive @aws_api_key on FIELD_DEFINITION | OBJECT
directive @aws_iam on FIELD_DEFINITION | OBJECT
directive @aws_oidc on FIELD_DEFINITION | OBJECT
directive @aws_lambda on FIELD_DEFINITION | OBJECT
directive @aws_cognito_user_pools(cognito_groups: [String]) on FIELD_DEFINITION | OBJECT
directive @aws_auth(cognito_groups: [String]) on FIELD_DEFINITION
directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION
`

func loadSchema(t testing.TB) *ast.Schema {
	t.Helper()
	b, err := os.ReadFile("schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	for _, scalar := range []string{"scalar AWS", "directive @aws"} {
		if strings.Contains(string(b), scalar) {
			t.Fatalf("schema.graphql declares AppSync's own %q…; AppSync rejects that", scalar)
		}
	}
	schema, err := gqlparser.LoadSchema(
		&ast.Source{Name: "appsync-prelude.graphql", Input: appSyncPrelude, BuiltIn: true},
		&ast.Source{Name: "schema.graphql", Input: string(b)},
	)
	if err != nil {
		t.Fatalf("schema.graphql: %v", err)
	}
	return schema
}

// operationFields are the schema's Query and Mutation fields.
func operationFields(s *ast.Schema) []appsync.Field {
	var fs []appsync.Field
	for _, typ := range []*ast.Definition{s.Query, s.Mutation} {
		if typ == nil {
			continue
		}
		for _, f := range typ.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue // introspection
			}
			fs = append(fs, appsync.Field{Parent: typ.Name, Name: f.Name})
		}
	}
	sortFields(fs)
	return fs
}

func sortFields(fs []appsync.Field) {
	sort.Slice(fs, func(i, j int) bool { return fs[i].String() < fs[j].String() })
}

func fieldNames(fs []appsync.Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.String()
	}
	return out
}

// The schema, the router's route table and the template's resolvers name
// the same fields, and every resolver is a direct Lambda resolver.
func TestSchemaRoutesResolvers(t *testing.T) {
	schema := loadSchema(t)
	tpl := loadTemplate(t)

	inSchema := fieldNames(operationFields(schema))
	routed := appsync.Routes()
	sortFields(routed)
	inRouter := fieldNames(routed)

	var resolvers []appsync.Field
	for _, name := range tpl.ofType("AWS::AppSync::Resolver") {
		p := tpl.Resources[name].Properties
		f := appsync.Field{Parent: str(p["TypeName"]), Name: str(p["FieldName"])}
		resolvers = append(resolvers, f)
		if p["Kind"] != "UNIT" {
			t.Errorf("%s: Kind %v, want UNIT", name, p["Kind"])
		}
		for _, k := range []string{"RequestMappingTemplate", "ResponseMappingTemplate", "RequestMappingTemplateS3Location",
			"ResponseMappingTemplateS3Location", "Code", "CodeS3Location", "Runtime", "PipelineConfig", "MaxBatchSize"} {
			if _, ok := p[k]; ok {
				t.Errorf("%s: has %s; a direct Lambda resolver has none", name, k)
			}
		}
		if !getAtt(p["DataSourceName"], "LambdaDataSource", "Name") || !getAtt(p["ApiId"], "GraphQLApi", "ApiId") {
			t.Errorf("%s: not on LambdaDataSource of GraphQLApi: %v", name, p)
		}
		if tpl.Resources[name].DependsOn != "Schema" {
			t.Errorf("%s: DependsOn %v, want Schema (a resolver needs its field)", name, tpl.Resources[name].DependsOn)
		}
	}
	sortFields(resolvers)
	inTemplate := fieldNames(resolvers)
	if len(slices.Compact(slices.Clone(inTemplate))) != len(inTemplate) {
		t.Errorf("duplicate resolvers: %v", inTemplate)
	}

	if !slices.Equal(inSchema, inRouter) {
		t.Errorf("schema fields and router routes differ:\nschema: %v\nrouter: %v", inSchema, inRouter)
	}
	if !slices.Equal(inSchema, inTemplate) {
		t.Errorf("schema fields and template resolvers differ:\nschema:   %v\ntemplate: %v", inSchema, inTemplate)
	}
	if len(inSchema) != 25 {
		t.Errorf("%d operations, want the 25 of the Service: %v", len(inSchema), inSchema)
	}
}

// Who may call what, as the library's README table says; AppSync enforces
// the groups, the library everything finer.
var wantAuth = map[string]struct {
	apiKey bool
	groups []string // nil: any signed-in user
}{
	"Query.getUser":                {true, nil},
	"Query.listUser":               {false, []string{"admin", "parent"}},
	"Query.getJob":                 {false, []string{"admin", "nanny", "parent"}},
	"Query.listAllJobs":            {false, []string{"admin", "nanny"}},
	"Query.listJobsPerParent":      {false, []string{"admin", "parent"}},
	"Query.listApplicationsPerJob": {false, []string{"admin", "parent"}},
	"Query.listJobsAppliedTo":      {false, []string{"admin", "nanny"}},
	"Query.listReviews":            {true, nil},
	"Query.listJobsNear":           {false, []string{"admin", "nanny"}},
	"Query.getDocument":            {false, []string{"admin"}},
	"Mutation.createUser":          {false, []string{"nanny", "parent"}},
	"Mutation.updateUser":          {false, []string{"admin", "nanny", "parent"}},
	"Mutation.updateUserStatus":    {false, []string{"admin"}},
	"Mutation.deleteUser":          {false, []string{"admin", "nanny", "parent"}},
	"Mutation.createJob":           {false, []string{"parent"}},
	"Mutation.updateJob":           {false, []string{"admin", "parent"}},
	"Mutation.cancelJob":           {false, []string{"admin", "parent"}},
	"Mutation.applyToJob":          {false, []string{"nanny"}},
	"Mutation.withdrawApplication": {false, []string{"nanny"}},
	"Mutation.bookNanny":           {false, []string{"parent"}},
	"Mutation.reconcileJob":        {false, []string{"admin", "parent"}},
	"Mutation.completeJob":         {false, []string{"parent"}},
	"Mutation.leaveReview":         {false, []string{"nanny", "parent"}},
	"Mutation.requestUpload":       {false, []string{"nanny", "parent"}},
	"Mutation.confirmUpload":       {false, []string{"nanny", "parent"}},
}

// Every operation carries the auth directives of the table, and every
// object type a field can return allows that field's auth modes (AppSync
// checks the types too: a type without @aws_cognito_user_pools is only
// readable with the default mode, the API key).
func TestSchemaAuth(t *testing.T) {
	schema := loadSchema(t)
	for _, typ := range []*ast.Definition{schema.Query, schema.Mutation} {
		for _, f := range typ.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			name := typ.Name + "." + f.Name
			want, ok := wantAuth[name]
			if !ok {
				t.Errorf("%s: not in the authorization table", name)
				continue
			}
			apiKey := f.Directives.ForName("aws_api_key") != nil
			pools := f.Directives.ForName("aws_cognito_user_pools")
			if apiKey != want.apiKey {
				t.Errorf("%s: @aws_api_key %v, want %v", name, apiKey, want.apiKey)
			}
			if pools == nil {
				t.Errorf("%s: no @aws_cognito_user_pools", name)
				continue
			}
			var groups []string
			if arg := pools.Arguments.ForName("cognito_groups"); arg != nil {
				for _, c := range arg.Value.Children {
					groups = append(groups, c.Value.Raw)
				}
				sort.Strings(groups)
			}
			if !slices.Equal(groups, want.groups) {
				t.Errorf("%s: cognito_groups %v, want %v", name, groups, want.groups)
			}
			modes := []string{"aws_cognito_user_pools"}
			if apiKey {
				modes = append(modes, "aws_api_key")
			}
			for _, obj := range reachableObjects(schema, f.Type) {
				for _, mode := range modes {
					if obj.Directives.ForName(mode) == nil {
						t.Errorf("%s returns %s, which lacks @%s", name, obj.Name, mode)
					}
				}
			}
		}
	}
}

// reachableObjects returns the object types a field of type typ can return,
// directly or nested.
func reachableObjects(s *ast.Schema, typ *ast.Type) []*ast.Definition {
	seen := map[string]bool{}
	var out []*ast.Definition
	var walk func(*ast.Type)
	walk = func(t *ast.Type) {
		for t.Elem != nil {
			t = t.Elem
		}
		def := s.Types[t.NamedType]
		if def == nil || def.Kind != ast.Object || seen[def.Name] {
			return
		}
		seen[def.Name] = true
		out = append(out, def)
		for _, f := range def.Fields {
			walk(f.Type)
		}
	}
	walk(typ)
	return out
}

// Every argument and input field of the schema is one the router decodes:
// a field called with all its arguments (and all input fields) present,
// as null, never fails on unknown arguments.
func TestSchemaArgumentsDecode(t *testing.T) {
	schema := loadSchema(t)
	h := memoryHarness(t)
	k := newEventKit(t)
	for _, typ := range []*ast.Definition{schema.Query, schema.Mutation} {
		for _, f := range typ.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			args := obj{}
			for _, a := range f.Arguments {
				args[a.Name] = nullInput(schema, a.Type)
			}
			r := h.invoke(k.as("root", adminGroups, typ.Name, f.Name, args))
			if r.ErrorType == appsync.TypeInvalidInput && strings.Contains(r.Message, "arguments:") {
				t.Errorf("%s.%s: the router does not decode the schema's arguments: %s", typ.Name, f.Name, r.Message)
			}
			if r.ErrorType == appsync.TypeInternalError {
				t.Errorf("%s.%s: %s", typ.Name, f.Name, r.Message)
			}
		}
	}
}

// nullInput is null for a scalar, or an input object with every field null.
func nullInput(s *ast.Schema, t *ast.Type) any {
	if t.Elem != nil {
		return nil
	}
	def := s.Types[t.NamedType]
	if def == nil || def.Kind != ast.InputObject {
		return nil
	}
	m := obj{}
	for _, f := range def.Fields {
		m[f.Name] = nil
	}
	return m
}

// captureClient records the request body a DynamoDB client sends, and
// answers with a ValidationException so the call ends there.
type captureClient struct{ body []byte }

func (c *captureClient) Do(req *http.Request) (*http.Response, error) {
	c.body, _ = io.ReadAll(req.Body)
	return &http.Response{
		StatusCode: http.StatusBadRequest,
		Header:     http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body:       io.NopCloser(strings.NewReader(`{"__type":"com.amazon.coral.validate#ValidationException","message":"captured by the test"}`)),
		Request:    req,
	}, nil
}

// tableDef is the part of a table definition both sides must agree on.
type tableDef struct {
	AttributeDefinitions []struct {
		AttributeName string
		AttributeType string
	}
	KeySchema              []keyElem
	GlobalSecondaryIndexes []struct {
		IndexName  string
		KeySchema  []keyElem
		Projection struct{ ProjectionType string }
	}
	BillingMode string
}

type keyElem struct {
	AttributeName string
	KeyType       string
}

// The template's table is the table store/dynamodb creates: the request
// of its exported CreateTable, captured on the wire, against the
// template's Table properties.
func TestTableMatchesStore(t *testing.T) {
	capture := &captureClient{}
	client := awsdynamodb.New(awsdynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://capture.invalid"),
		HTTPClient:   capture,
	})
	if err := dynamodb.CreateTable(context.Background(), client, "captured"); err == nil {
		t.Fatal("CreateTable succeeded against the capturing client")
	}
	var fromStore tableDef
	if err := json.Unmarshal(capture.body, &fromStore); err != nil || len(fromStore.KeySchema) == 0 {
		t.Fatalf("no CreateTable request captured (%v): %s", err, capture.body)
	}

	tpl := loadTemplate(t)
	props := tpl.Resources["Table"].Properties
	if props == nil {
		t.Fatal("template has no Table")
	}
	b, _ := json.Marshal(props)
	var fromTemplate tableDef
	if err := json.Unmarshal(b, &fromTemplate); err != nil {
		t.Fatal(err)
	}
	norm := func(d *tableDef) {
		sort.Slice(d.AttributeDefinitions, func(i, j int) bool {
			return d.AttributeDefinitions[i].AttributeName < d.AttributeDefinitions[j].AttributeName
		})
		sort.Slice(d.GlobalSecondaryIndexes, func(i, j int) bool {
			return d.GlobalSecondaryIndexes[i].IndexName < d.GlobalSecondaryIndexes[j].IndexName
		})
	}
	norm(&fromStore)
	norm(&fromTemplate)
	sb, _ := json.MarshalIndent(fromStore, "", "  ")
	tb, _ := json.MarshalIndent(fromTemplate, "", "  ")
	if string(sb) != string(tb) {
		t.Errorf("template Table differs from store/dynamodb's CreateTable:\nstore:\n%s\ntemplate:\n%s", sb, tb)
	}
	for _, idx := range []string{dynamodb.IndexByUser, dynamodb.IndexByStatus, dynamodb.IndexByCell} {
		if !strings.Contains(string(tb), `"IndexName": "`+idx+`"`) {
			t.Errorf("template lacks the store's index %s", idx)
		}
	}
	if pitr, _ := props["PointInTimeRecoverySpecification"].(obj); pitr["PointInTimeRecoveryEnabled"] != true {
		t.Error("point-in-time recovery is off")
	}
}

// The queue, the functions and the event source mapping are wired as the
// handlers need.
func TestTemplateWiring(t *testing.T) {
	tpl := loadTemplate(t)
	fn := func(name string) obj {
		r := tpl.Resources[name]
		if r.Type != "AWS::Serverless::Function" {
			t.Fatalf("%s is %q, want AWS::Serverless::Function", name, r.Type)
		}
		return r.Properties
	}
	g, _ := get(tpl.Globals, "Function").(obj)
	if g["Runtime"] != "provided.al2023" || g["Handler"] != "bootstrap" || !slices.Equal(list(g["Architectures"]), []any{"arm64"}) {
		t.Errorf("Globals.Function %v: want provided.al2023, bootstrap, arm64", g)
	}
	resolver, declines := fn("ResolverFunction"), fn("DeclinesFunction")
	for name, p := range map[string]obj{"ResolverFunction": resolver, "DeclinesFunction": declines} {
		if m := tpl.Resources[name].Metadata; m["BuildMethod"] != "go1.x" {
			t.Errorf("%s: BuildMethod %v", name, m["BuildMethod"])
		}
		env, _ := get(p, "Environment", "Variables").(obj)
		if !ref(env["TABLE_NAME"], "Table") {
			t.Errorf("%s: TABLE_NAME is %v", name, env["TABLE_NAME"])
		}
		if _, err := os.Stat(str(p["CodeUri"]) + "main.go"); err != nil {
			t.Errorf("%s: CodeUri %v has no main.go", name, p["CodeUri"])
		}
	}
	if env, _ := get(resolver, "Environment", "Variables").(obj); !ref(env["QUEUE_URL"], "DeclineQueue") {
		t.Errorf("resolver QUEUE_URL is %v", env["QUEUE_URL"])
	}
	if env, _ := get(declines, "Environment", "Variables").(obj); env["QUEUE_URL"] != nil {
		t.Error("the consumer needs no QUEUE_URL: it never sends")
	}

	// The event source mapping reports partial failures.
	events, _ := declines["Events"].(obj)
	if len(events) != 1 {
		t.Fatalf("DeclinesFunction events: %v", events)
	}
	for _, e := range events {
		e := e.(obj)
		p := e["Properties"].(obj)
		if e["Type"] != "SQS" || !getAtt(p["Queue"], "DeclineQueue", "Arn") {
			t.Errorf("event %v is not the decline queue", e)
		}
		if !slices.Contains(list(p["FunctionResponseTypes"]), any("ReportBatchItemFailures")) {
			t.Error("the event source mapping lacks ReportBatchItemFailures")
		}
		if bs, _ := p["BatchSize"].(float64); bs < 1 || bs > 10 {
			t.Errorf("BatchSize %v", p["BatchSize"])
		}
	}

	// Visibility timeout ≥ 6 × the consumer's timeout; redrive after the
	// consumer's MaxReceiveCount (declines/main_test.go checks it uses it).
	q := tpl.Resources["DeclineQueue"].Properties
	timeout, _ := declines["Timeout"].(float64)
	if vis, _ := q["VisibilityTimeout"].(float64); timeout == 0 || vis < 6*timeout {
		t.Errorf("queue VisibilityTimeout %v < 6 × function Timeout %v", q["VisibilityTimeout"], declines["Timeout"])
	}
	redrive, _ := q["RedrivePolicy"].(obj)
	if redrive["maxReceiveCount"] != float64(lambdaenv.MaxReceiveCount) || !getAtt(redrive["deadLetterTargetArn"], "DeclineDeadLetterQueue", "Arn") {
		t.Errorf("RedrivePolicy %v", redrive)
	}

	// The API: API key first, Cognito user pools as the additional mode.
	api := tpl.Resources["GraphQLApi"].Properties
	if api["AuthenticationType"] != "API_KEY" {
		t.Errorf("default auth %v", api["AuthenticationType"])
	}
	extra := list(api["AdditionalAuthenticationProviders"])
	if len(extra) != 1 || get(extra[0].(obj), "AuthenticationType") != "AMAZON_COGNITO_USER_POOLS" ||
		!ref(get(extra[0].(obj), "UserPoolConfig", "UserPoolId"), "UserPool") {
		t.Errorf("additional auth %v", extra)
	}
	if s := tpl.Resources["Schema"].Properties; s["DefinitionS3Location"] != "schema.graphql" {
		t.Errorf("schema location %v", s["DefinitionS3Location"])
	}
	ds := tpl.Resources["LambdaDataSource"].Properties
	if ds["Type"] != "AWS_LAMBDA" || !getAtt(get(ds, "LambdaConfig", "LambdaFunctionArn"), "ResolverFunction", "Arn") ||
		!getAtt(ds["ServiceRoleArn"], "AppSyncLambdaRole", "Arn") {
		t.Errorf("data source %v", ds)
	}

	// The Cognito groups are the roles.
	var groups []string
	for _, name := range tpl.ofType("AWS::Cognito::UserPoolGroup") {
		groups = append(groups, str(tpl.Resources[name].Properties["GroupName"]))
	}
	sort.Strings(groups)
	if !slices.Equal(groups, []string{"admin", "nanny", "parent"}) {
		t.Errorf("groups %v", groups)
	}

	for _, out := range []string{"GraphQLUrl", "ApiKey", "UserPoolId", "UserPoolClientId", "QueueUrl"} {
		if tpl.Outputs[out] == nil {
			t.Errorf("no output %s", out)
		}
	}
}

// jsonNames returns the JSON object keys of a Go type's values: its
// struct tags (embedded structs included), or for a type with its own
// MarshalJSON the keys of its zero value.
func jsonNames(t testing.TB, typ reflect.Type) []string {
	t.Helper()
	if typ.Implements(reflect.TypeFor[json.Marshaler]()) {
		b, err := json.Marshal(reflect.Zero(typ).Interface())
		if err != nil {
			t.Fatalf("%v: %v", typ, err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%v marshals to %s, not an object", typ, b)
		}
		return slices.Sorted(maps.Keys(m))
	}
	var names []string
	for f := range typ.Fields() {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case tag == "-":
		case f.Anonymous && tag == "":
			names = append(names, jsonNames(t, f.Type)...)
		case tag != "":
			names = append(names, tag)
		case f.IsExported():
			names = append(names, f.Name)
		}
	}
	slices.Sort(names)
	return names
}

// TestOneVocabulary: the schema's types have the fields of the library's
// types, under the same names — the names of the Go types' JSON, which is
// also the HTTP API's (transport/httpapi checks its OpenAPI document the
// same way). The few differences are listed with their reason.
func TestOneVocabulary(t *testing.T) {
	schema := loadSchema(t)
	page := jsonNames(t, reflect.TypeFor[babysitter.Page[babysitter.User]]())
	for _, c := range []struct {
		graphql string
		goType  reflect.Type
		// onlyGraphQL are the schema's fields the Go type has not, and why.
		onlyGraphQL map[string]string
	}{
		{"User", reflect.TypeFor[babysitter.User](), map[string]string{"age": "derived from dateOfBirth when read, never stored"}},
		{"Job", reflect.TypeFor[babysitter.Job](), nil},
		{"JobApplication", reflect.TypeFor[babysitter.Application](), nil},
		{"Review", reflect.TypeFor[babysitter.Review](), nil},
		{"Rating", reflect.TypeFor[babysitter.Rating](), nil},
		{"Money", reflect.TypeFor[babysitter.Money](), nil},
		{"NearbyJob", reflect.TypeFor[babysitter.NearbyJob](), nil},
		{"ParentJobs", reflect.TypeFor[babysitter.ParentJobs](), nil},
		{"JobApplications", reflect.TypeFor[babysitter.JobApplications](), nil},
		{"NannyApplications", reflect.TypeFor[babysitter.NannyApplications](), nil},
		{"Booking", reflect.TypeFor[babysitter.Booking](), nil},
		{"MoneyInput", reflect.TypeFor[babysitter.Money](), nil},
		{"CreateUserInput", reflect.TypeFor[babysitter.NewUser](), nil},
		{"UpdateUserInput", reflect.TypeFor[babysitter.UserPatch](), map[string]string{"username": "the user to change; a path parameter over HTTP"}},
		{"CreateJobInput", reflect.TypeFor[babysitter.JobDetails](), nil},
		{"UpdateJobInput", reflect.TypeFor[babysitter.JobPatch](), nil},
		{"CreateJobApplicationInput", reflect.TypeFor[babysitter.NewApplication](), map[string]string{"jobId": "the job applied to; a path parameter over HTTP"}},
		{"LeaveReviewInput", reflect.TypeFor[babysitter.NewReview](), nil},
		{"Upload", reflect.TypeFor[babysitter.Upload](), nil},
		{"Verification", reflect.TypeFor[babysitter.Verification](), nil},
		{"PresignedRequest", reflect.TypeFor[babysitter.PresignedRequest](), nil},
		{"UploadTicket", reflect.TypeFor[babysitter.UploadTicket](), nil},
		{"RequestUploadInput", reflect.TypeFor[babysitter.UploadRequest](), nil},
	} {
		def := schema.Types[c.graphql]
		if def == nil {
			t.Errorf("schema has no type %s", c.graphql)
			continue
		}
		var fields []string
		for _, f := range def.Fields {
			if _, ok := c.onlyGraphQL[f.Name]; !ok {
				fields = append(fields, f.Name)
			}
		}
		slices.Sort(fields)
		if want := jsonNames(t, c.goType); !slices.Equal(fields, want) {
			t.Errorf("%s has fields %v;\n the JSON of %v has %v", c.graphql, fields, c.goType, want)
		}
	}
	// Every *Connection is a page.
	for name, def := range schema.Types {
		if !strings.HasSuffix(name, "Connection") {
			continue
		}
		var fields []string
		for _, f := range def.Fields {
			fields = append(fields, f.Name)
		}
		slices.Sort(fields)
		if !slices.Equal(fields, page) {
			t.Errorf("%s has fields %v, a page has %v", name, fields, page)
		}
	}
}
