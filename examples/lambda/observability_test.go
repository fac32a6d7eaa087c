package lambda_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTemplateObservability: what the tutorial's Powertools setup had, in
// the template: X-Ray on every function and on the API, AppSync's
// field-level error logs through a role that may write to the API's log
// group alone, an alarm as soon as a decline message is dead-lettered,
// the API key's expiry a parameter, and the functions' OpenTelemetry
// configured by the OTEL_* variables (iam_test.go checks the X-Ray
// grants that active tracing needs).
func TestTemplateObservability(t *testing.T) {
	tpl := loadTemplate(t)

	// Every function traces; the OTLP endpoint is a parameter.
	for _, fn := range tpl.ofType("AWS::Serverless::Function") {
		if !tracingActive(tpl, fn) {
			t.Errorf("%s: Tracing is not Active", fn)
		}
	}
	env, _ := get(tpl.Globals, "Function", "Environment", "Variables").(obj)
	wantEnv := obj{
		"OTEL_EXPORTER_OTLP_ENDPOINT": obj{"Fn::If": []any{"HasOtlpEndpoint", obj{"Ref": "OtlpEndpoint"}, obj{"Ref": "AWS::NoValue"}}},
		"OTEL_PROPAGATORS":            "tracecontext,baggage,xray",
	}
	if diff := cmp.Diff(wantEnv, env); diff != "" {
		t.Errorf("Globals.Function.Environment.Variables (-want +got):\n%s", diff)
	}

	// AppSync: X-Ray, and the failing fields logged without their bodies.
	api := tpl.Resources["GraphQLApi"].Properties
	wantLog := obj{
		"CloudWatchLogsRoleArn": obj{"Fn::GetAtt": []any{"AppSyncLogsRole", "Arn"}},
		"FieldLogLevel":         "ERROR",
		"ExcludeVerboseContent": true,
	}
	if api["XrayEnabled"] != true {
		t.Errorf("GraphQLApi XrayEnabled %v", api["XrayEnabled"])
	}
	if diff := cmp.Diff(wantLog, api["LogConfig"]); diff != "" {
		t.Errorf("GraphQLApi LogConfig (-want +got):\n%s", diff)
	}
	group := tpl.Resources["AppSyncLogGroup"]
	if group.Type != "AWS::Logs::LogGroup" || sub(group.Properties["LogGroupName"]) != "/aws/appsync/apis/${GraphQLApi.ApiId}" ||
		!ref(group.Properties["RetentionInDays"], "LogRetentionInDays") {
		t.Errorf("AppSyncLogGroup %+v: want AppSync's log group of the API, with the stack's retention", group)
	}
	role := tpl.Resources["AppSyncLogsRole"].Properties
	if role["Policies"] != nil || role["ManagedPolicyArns"] != nil {
		t.Errorf("AppSyncLogsRole grants more than AppSyncLogsPolicy: %v %v", role["Policies"], role["ManagedPolicyArns"])
	}
	trust := list(get(role, "AssumeRolePolicyDocument", "Statement"))
	if len(trust) != 1 || get(trust[0].(obj), "Principal", "Service") != "appsync.amazonaws.com" {
		t.Errorf("AppSyncLogsRole trust %v", trust)
	}
	// The policies attached to the role, and what they grant.
	type grant struct{ Action, Resource any }
	var grants []grant
	for _, name := range tpl.ofType("AWS::IAM::Policy") {
		p := tpl.Resources[name].Properties
		if !slices.ContainsFunc(list(p["Roles"]), func(r any) bool { return ref(r, "AppSyncLogsRole") }) {
			continue
		}
		for _, st := range list(get(p, "PolicyDocument", "Statement")) {
			st := st.(obj)
			if st["Effect"] != "Allow" {
				continue
			}
			grants = append(grants, grant{st["Action"], st["Resource"]})
		}
	}
	wantGrants := []grant{{
		Action:   []any{"logs:CreateLogStream", "logs:PutLogEvents"},
		Resource: obj{"Fn::GetAtt": []any{"AppSyncLogGroup", "Arn"}},
	}}
	if diff := cmp.Diff(wantGrants, grants); diff != "" {
		t.Errorf("AppSyncLogsRole's grants (-want +got):\n%s", diff)
	}

	// An alarm as soon as one message is in the dead-letter queue.
	var alarms []string
	for _, name := range tpl.ofType("AWS::CloudWatch::Alarm") {
		p := tpl.Resources[name].Properties
		dims := list(p["Dimensions"])
		if p["Namespace"] == "AWS/SQS" && p["MetricName"] == "ApproximateNumberOfMessagesVisible" &&
			len(dims) == 1 && get(dims[0].(obj), "Name") == "QueueName" &&
			getAtt(get(dims[0].(obj), "Value"), "DeclineDeadLetterQueue", "QueueName") &&
			p["Threshold"] == float64(0) && p["ComparisonOperator"] == "GreaterThanThreshold" &&
			p["Statistic"] == "Maximum" && p["EvaluationPeriods"] == float64(1) {
			alarms = append(alarms, name)
		}
	}
	if len(alarms) != 1 {
		t.Errorf("alarms on the dead-letter queue's visible messages > 0: %v, want one", alarms)
	}

	// The API key's expiry: a parameter, AppSync's 7 days by default,
	// said in the key's description and output.
	key := tpl.Resources["ApiKey"].Properties
	wantExpires := obj{"Fn::If": []any{"HasApiKeyExpiry", obj{"Ref": "ApiKeyExpires"}, obj{"Ref": "AWS::NoValue"}}}
	if diff := cmp.Diff(wantExpires, key["Expires"]); diff != "" {
		t.Errorf("ApiKey Expires (-want +got):\n%s", diff)
	}
	if p, _ := tpl.Parameters["ApiKeyExpires"].(obj); p["Type"] != "Number" || p["Default"] != float64(0) {
		t.Errorf("parameter ApiKeyExpires %v", p)
	}
	for what, text := range map[string]any{"ApiKey's description": key["Description"], "output ApiKey": get(tpl.Outputs, "ApiKey", "Description")} {
		if s, _ := text.(string); !strings.Contains(s, "ApiKeyExpires") || !strings.Contains(s, "7 days") {
			t.Errorf("%s %q does not state the expiry", what, s)
		}
	}
	for _, c := range []string{"HasApiKeyExpiry", "HasOtlpEndpoint", "HasAlarmTopic"} {
		if tpl.Conditions[c] == nil {
			t.Errorf("no condition %s", c)
		}
	}
}
