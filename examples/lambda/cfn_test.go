package lambda_test

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// This file reads template.yaml as CloudFormation does: YAML with the
// short-form intrinsic tags (!Ref, !GetAtt, !Sub, ...), turned into their
// long form ({"Ref": ...}, {"Fn::GetAtt": [...]}) so the checks can walk
// plain maps.

type template struct {
	Parameters obj
	Conditions obj
	Globals    obj
	Resources  map[string]resource
	Outputs    obj
}

type resource struct {
	Type       string
	Properties obj
	Metadata   obj
	DependsOn  any
}

func loadTemplate(t testing.TB) template {
	t.Helper()
	b, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	v, err := cfnValue(&root)
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	doc, ok := v.(obj)
	if !ok {
		t.Fatal("template.yaml is not a mapping")
	}
	tpl := template{Resources: map[string]resource{}}
	if doc["Transform"] != "AWS::Serverless-2016-10-31" {
		t.Errorf("Transform = %v, want AWS::Serverless-2016-10-31", doc["Transform"])
	}
	res, _ := doc["Resources"].(obj)
	for name, r := range res {
		m := r.(obj)
		props, _ := m["Properties"].(obj)
		meta, _ := m["Metadata"].(obj)
		tpl.Resources[name] = resource{Type: str(m["Type"]), Properties: props, Metadata: meta, DependsOn: m["DependsOn"]}
	}
	tpl.Outputs, _ = doc["Outputs"].(obj)
	tpl.Globals, _ = doc["Globals"].(obj)
	tpl.Parameters, _ = doc["Parameters"].(obj)
	tpl.Conditions, _ = doc["Conditions"].(obj)
	return tpl
}

// ofType returns the names of the resources of a type, sorted.
func (tpl template) ofType(typ string) []string {
	var names []string
	for name, r := range tpl.Resources {
		if r.Type == typ {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// cfnValue converts a YAML node to maps, slices and scalars, expanding the
// intrinsic function tags to their long form.
func cfnValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		return cfnValue(n.Content[0])
	case yaml.AliasNode:
		return cfnValue(n.Alias)
	}
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := obj{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			val, err := cfnValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			val, err := cfnValue(c)
			if err != nil {
				return nil, err
			}
			s[i] = val
		}
		v = s
	case yaml.ScalarNode:
		v = scalar(n)
	}
	tag := n.Tag
	if !strings.HasPrefix(tag, "!") || strings.HasPrefix(tag, "!!") {
		return v, nil
	}
	name := strings.TrimPrefix(tag, "!")
	switch name {
	case "Ref", "Condition":
		return obj{name: v}, nil
	case "GetAtt":
		// !GetAtt Resource.Attribute (the attribute may contain dots).
		if s, ok := v.(string); ok {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q lacks an attribute", n.Line, s)
			}
			return obj{"Fn::GetAtt": []any{res, attr}}, nil
		}
		return obj{"Fn::GetAtt": v}, nil
	case "Sub", "Join", "Select", "Split", "If", "Equals", "And", "Or", "Not", "FindInMap",
		"GetAZs", "ImportValue", "Base64", "Cidr", "Length", "ToJsonString", "Transform":
		return obj{"Fn::" + name: v}, nil
	}
	return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, tag)
}

func scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return float64(i)
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f
		}
	case "!!bool":
		return n.Value == "true"
	case "!!null":
		return nil
	}
	return n.Value
}

// list returns v as a slice: CloudFormation accepts a scalar where a list
// of one is meant (Action: x, Resource: x).
func list(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	}
	return []any{v}
}

// getAtt reports whether v is !GetAtt res.attr.
func getAtt(v any, res, attr string) bool {
	m, ok := v.(obj)
	if !ok {
		return false
	}
	parts, ok := m["Fn::GetAtt"].([]any)
	return ok && len(parts) == 2 && parts[0] == res && parts[1] == attr
}

// ref reports whether v is !Ref name.
func ref(v any, name string) bool {
	m, ok := v.(obj)
	return ok && m["Ref"] == name
}

// sub returns the string of a !Sub, or "".
func sub(v any) string {
	m, ok := v.(obj)
	if !ok {
		return ""
	}
	s, _ := m["Fn::Sub"].(string)
	return s
}
