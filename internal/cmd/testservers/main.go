// Command testservers starts DynamoDB Local and fauxqs once, on free
// loopback ports, for a whole `go test ./...` run (scripts/test.sh) or for a
// developer's shell (`make servers`), and stops them on SIGTERM or SIGINT.
//
// It exists so that every test package shares two servers instead of each
// test binary starting its own, and so that scripts/test.sh needs no
// port-picking or readiness loops in bash: it reuses internal/testenv's
// Start functions.
//
// Once both servers answer it prints, to stdout and to -env-file if given,
//
//	export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:PORT
//	export AWS_ENDPOINT_URL_SQS=http://127.0.0.1:PORT
//
// A server whose variable is already set is not started; its line repeats
// the existing value. The env file is written only once everything is
// ready (and atomically), so its existence means "ready".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/babysitter-go/babysitter/internal/testenv"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("testservers: ")
	envFile := flag.String("env-file", "", "also write the export lines to this file, once both servers are ready")
	flag.Parse()
	if err := run(*envFile); err != nil {
		log.Fatal(err)
	}
}

func run(envFile string) error {
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()

	root, err := testenv.ModuleRoot()
	if err != nil {
		return err
	}

	type server struct {
		name   string
		envVar string
		start  func(context.Context, string) (string, func() error, error)

		endpoint string
		stop     func() error
		err      error
		took     time.Duration
	}
	servers := []*server{
		{name: "DynamoDB Local", envVar: testenv.EnvDynamoDBEndpoint, start: testenv.StartDynamoDBLocal},
		{name: "fauxqs", envVar: testenv.EnvSQSEndpoint, start: testenv.StartFauxqs},
	}

	// Start both at once: DynamoDB Local's JVM start dominates.
	var wg sync.WaitGroup
	for _, s := range servers {
		if v := os.Getenv(s.envVar); v != "" {
			s.endpoint = v
			log.Printf("%s: using %s=%s", s.name, s.envVar, v)
			continue
		}
		wg.Go(func() {
			t0 := time.Now()
			s.endpoint, s.stop, s.err = s.start(ctx, root)
			s.took = time.Since(t0)
		})
	}
	wg.Wait()

	stopAll := func() error {
		var errs []error
		for _, s := range servers {
			if s.stop != nil {
				if err := s.stop(); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", s.name, err))
				}
			}
		}
		return errors.Join(errs...)
	}

	var startErrs []error
	for _, s := range servers {
		switch {
		case s.err != nil:
			startErrs = append(startErrs, fmt.Errorf("start %s: %w", s.name, s.err))
		case s.stop != nil:
			log.Printf("%s ready at %s after %v", s.name, s.endpoint, s.took.Round(time.Millisecond))
		}
	}
	if len(startErrs) > 0 {
		return errors.Join(append(startErrs, stopAll())...)
	}

	var exports strings.Builder
	for _, s := range servers {
		fmt.Fprintf(&exports, "export %s=%s\n", s.envVar, s.endpoint)
	}
	fmt.Print(exports.String())
	if envFile != "" {
		if err := writeFileAtomic(envFile, exports.String()); err != nil {
			return errors.Join(err, stopAll())
		}
	}

	<-ctx.Done()
	log.Printf("stopping")
	return stopAll()
}

// writeFileAtomic writes via a temporary file and a rename, so a reader that
// polls for the file never sees it half written.
func writeFileAtomic(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".testservers-*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
