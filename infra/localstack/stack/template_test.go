package stack

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/routekeeper/routekeeper/infra/awslocal"
)

// readRepoTemplate reads the repository's template.yaml without local resources.
func readRepoTemplate(t *testing.T) (*awslocal.Template, string) {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := awslocal.ReadTemplate(filepath.Join(root, "template.yaml"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tpl, root
}

// functionDirs returns the folders under functions/ that hold a main.go.
func functionDirs(t *testing.T, root string) []string {
	t.Helper()
	mains, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, m := range mains {
		dirs = append(dirs, filepath.Base(filepath.Dir(m)))
	}
	slices.Sort(dirs)
	return dirs
}

// Every functions/<fn> folder is deployed by the template, and every function the template
// declares has code.
func TestTemplateDeclaresEveryFunction(t *testing.T) {
	tpl, root := readRepoTemplate(t)
	if diff := cmp.Diff(functionDirs(t, root), tpl.Dirs()); diff != "" {
		t.Errorf("functions/<fn>/main.go folders (-) vs AWS::Serverless::Function resources of template.yaml (+):\n%s"+
			"add a <Fn>Function resource to template.yaml (see the comment above ApplyFunction) or its code under functions/", diff)
	}
}

// Each function is built by the SAM makefile builder from the root Makefile: the target
// build-<LogicalId> exists and builds functions/<fn> for linux/arm64 with the Lambda flags
// into $(ARTIFACTS_DIR)/bootstrap.
func TestMakefileBuildsEveryFunction(t *testing.T) {
	tpl, root := readRepoTemplate(t)
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make is not on PATH: %v", err)
	}
	for _, f := range tpl.Functions {
		t.Run(f.LogicalID, func(t *testing.T) {
			if !f.BuildByMake {
				t.Errorf("%s: Metadata.BuildMethod is not makefile", f.LogicalID)
			}
			if f.CodeURI != "." {
				t.Errorf("%s: CodeUri = %q, want \".\" (the makefile builder runs the root Makefile)", f.LogicalID, f.CodeURI)
			}
			artifacts := t.TempDir()
			cmd := exec.Command("make", "-n", "build-"+f.LogicalID, "ARTIFACTS_DIR="+artifacts)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("make -n build-%s: %v\n%s\nadd the target to the Makefile: build-%s: LAMBDA_DIR := %s (and to SAM_BUILD_TARGETS)", f.LogicalID, err, out, f.LogicalID, f.Dir)
			}
			for _, want := range []string{
				"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "-tags lambda.norpc", "-trimpath", "-s -w",
				"-o " + filepath.Join(artifacts, "bootstrap"), "./functions/" + f.Dir,
			} {
				if !strings.Contains(string(out), want) {
					t.Errorf("make -n build-%s: output lacks %q:\n%s", f.LogicalID, want, out)
				}
			}
		})
	}
}

// Variables Lambda itself sets; a function may read them without the template setting them.
var lambdaReserved = regexp.MustCompile(`^(AWS_.*|_HANDLER|_X_AMZN_TRACE_ID|LAMBDA_TASK_ROOT|LAMBDA_RUNTIME_DIR|TZ)$`)

// localOnly are variables a function's code may read that the template must not set:
// they configure local runs only, and a deployed function works without them.
var localOnly = map[string]string{
	// A local override of the log level (shared/bootstrap); deployed, the level is
	// AWS_LAMBDA_LOG_LEVEL, which Lambda sets from LoggingConfig.ApplicationLogLevel.
	"LOG_LEVEL": "shared/bootstrap",
	// genesys.ConfigFromEnv, called only when GENESYS_CREDENTIALS_SECRET is unset: deployed,
	// the credentials come from the secret, and a client secret must never be in the
	// template.
	"GENESYS_CLIENT_ID":     "shared/genesys",
	"GENESYS_CLIENT_SECRET": "shared/genesys",
	// genesys.ConfigFromEnv's alternative to GENESYS_API_URL, which the template sets.
	"GENESYS_REGION": "shared/genesys",
	// genesys.ConfigFromEnv only: with the secret the client keeps its default budget.
	"GENESYS_REQUESTS_PER_MINUTE": "shared/genesys",
	// Read with GENESYS_CLIENT_* when there is no secret: deployed, the webhook token is
	// the secret's webhookToken, and a token must never be in the template.
	"WEBHOOK_TOKEN": "shared/bootstrap",
}

// Every environment variable a function's code reads (os.Getenv / os.LookupEnv, or an
// injected getenv, with a string literal or constant in the non-test files of
// functions/<fn> and of every package of this module it imports, such as shared/bootstrap)
// is set by the template, in the Globals or on the function, unless Lambda sets it or it
// is local-only (localOnly, and read only in the package localOnly names).
func TestTemplateSetsEveryVariableTheCodeReads(t *testing.T) {
	tpl, root := readRepoTemplate(t)
	readLocal := map[string]bool{}
	for _, f := range tpl.Functions {
		t.Run(f.LogicalID, func(t *testing.T) {
			reads, err := packageEnvReads(root, "./functions/"+f.Dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range reads {
				if lambdaReserved.MatchString(r.name) {
					continue
				}
				if pkg, ok := localOnly[r.name]; ok {
					if rel, _ := filepath.Rel(root, filepath.Dir(r.pos.Filename)); filepath.ToSlash(rel) != pkg {
						t.Errorf("%s reads %s, a local-only variable expected only in %s: set it in template.yaml or read it there", r.pos, r.name, pkg)
					}
					readLocal[r.name] = true
					continue
				}
				_, global := tpl.GlobalEnv[r.name]
				_, own := f.Env[r.name]
				if !global && !own {
					t.Errorf("%s reads %s, which template.yaml sets neither in Globals.Function.Environment nor on %s", r.pos, r.name, f.LogicalID)
				}
			}
		})
	}
	for name := range localOnly {
		if !t.Failed() && !readLocal[name] {
			t.Errorf("localOnly lists %s, which no function reads any more: remove it", name)
		}
	}
}

// packageEnvReads returns the variables read (see envReads) by the package pattern (e.g.
// ./functions/apply) of the module in moduleDir and by every package of that module it
// imports, directly or not. Other modules' packages (the AWS SDK, the standard library)
// are not scanned: what they read is theirs to document.
func packageEnvReads(moduleDir, pattern string) ([]envRead, error) {
	// The build the Makefile makes: the same files are listed.
	cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc",
		"-f", "{{with .Module}}{{if .Main}}{{$.Dir}}{{end}}{{end}}", pattern)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps %s: %v\n%s", pattern, err, stderr.String())
	}
	var reads []envRead
	for dir := range strings.FieldsSeq(string(out)) {
		r, err := envReads(dir)
		if err != nil {
			return nil, err
		}
		reads = append(reads, r...)
	}
	return reads, nil
}

// packageEnvReads scans the packages of the module a function imports, not only its own
// folder, and no other module's.
func TestPackageEnvReads(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":                    "module example.com/m\n\ngo 1.26\n",
		"functions/fn/main.go":      "package main\n\nimport (\n\t\"os\"\n\n\t\"example.com/m/shared/lib\"\n)\n\nfunc main() { _ = os.Getenv(\"FN_VAR\"); lib.Load(os.Getenv) }\n",
		"functions/fn/main_test.go": "package main\n\nimport \"os\"\n\nvar _ = os.Getenv(\"TEST_ONLY\")\n",
		"shared/lib/lib.go":         "package lib\n\nimport \"example.com/m/shared/deep\"\n\nconst name = \"LIB_VAR\"\n\nfunc Load(getenv func(string) string) { _ = getenv(name); deep.Load(getenv) }\n",
		"shared/deep/deep.go":       "package deep\n\nfunc Load(getenv func(string) string) { _ = getenv(\"DEEP_VAR\") }\n",
		"shared/unused/unused.go":   "package unused\n\nimport \"os\"\n\nvar _ = os.Getenv(\"NOT_IMPORTED\")\n",
	}
	for name, src := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reads, err := packageEnvReads(dir, "./functions/fn")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range reads {
		rel, _ := filepath.Rel(dir, r.pos.Filename)
		got[r.name] = filepath.ToSlash(rel)
	}
	want := map[string]string{"FN_VAR": "functions/fn/main.go", "LIB_VAR": "shared/lib/lib.go", "DEEP_VAR": "shared/deep/deep.go"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("packageEnvReads(./functions/fn): variable -> file (-want +got):\n%s", diff)
	}
}

func TestEnvReads(t *testing.T) {
	dir := t.TempDir()
	src := `package main

import "os"

const tableEnv = "TABLE_NAME"

func newHandler(getenv func(string) string) { _ = getenv("ROUTEKEEPER_ENVIRONMENT") }

func main() {
	newHandler(os.Getenv)
	_ = os.Getenv(tableEnv)
	_, _ = os.LookupEnv("EVENT_BUS_NAME")
	_ = os.Getenv("AWS_REGION")
	key := "DYNAMIC"
	_ = os.Getenv(key)
	_, _ = duration(os.Getenv, "MARGIN", 0)
	_ = configFromEnv(os.Getenv)
	_ = pass(os.Getenv, key)
}

func run(ctx context.Context, getenv func(string) string) {
	_, _ = bootstrap.Duration(getenv, tableEnv, time.Second)
	_, _ = newHandler2(ctx, getenv, log)
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main_test.go"), []byte("package main\nimport \"os\"\nvar _ = os.Getenv(\"TEST_ONLY\")\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reads, err := envReads(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range reads {
		got = append(got, r.name)
	}
	want := []string{"ROUTEKEEPER_ENVIRONMENT", "TABLE_NAME", "EVENT_BUS_NAME", "AWS_REGION", "MARGIN", "TABLE_NAME"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("envReads (-want +got):\n%s", diff)
	}
}

// isEnvRead reports whether fun is os.Getenv, os.LookupEnv, or an identifier or field
// named getenv / lookupEnv (any case).
func isEnvRead(fun ast.Expr) bool {
	switch f := fun.(type) {
	case *ast.SelectorExpr:
		if pkg, ok := f.X.(*ast.Ident); ok && pkg.Name == "os" {
			return f.Sel.Name == "Getenv" || f.Sel.Name == "LookupEnv"
		}
		return isEnvFuncName(f.Sel.Name)
	case *ast.Ident:
		return isEnvFuncName(f.Name)
	}
	return false
}

func isEnvFuncName(name string) bool {
	n := strings.ToLower(name)
	return n == "getenv" || n == "lookupenv"
}

type envRead struct {
	name string
	pos  token.Position
}

// envReads returns the variables the non-test Go files in dir read with os.Getenv or
// os.LookupEnv, or with an injected getenv/lookupEnv function (the testable form of a main:
// newHandler(ctx, os.Getenv)), given as a string literal or a string constant of the package;
// also the name passed right after such a function to a helper (Duration(getenv, "NAME", d)).
func envReads(dir string) ([]envRead, error) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var parsed []*ast.File
	consts := map[string]string{}
	for _, p := range files {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return nil, err
		}
		parsed = append(parsed, f)
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							if s, err := strconv.Unquote(lit.Value); err == nil {
								consts[n.Name] = s
							}
						}
					}
				}
			}
		}
	}
	var out []envRead
	for _, f := range parsed {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			read := func(arg ast.Expr) {
				var name string
				switch a := arg.(type) {
				case *ast.BasicLit:
					if a.Kind == token.STRING {
						name, _ = strconv.Unquote(a.Value)
					}
				case *ast.Ident:
					name = consts[a.Name]
				}
				if name != "" {
					out = append(out, envRead{name: name, pos: fset.Position(arg.Pos())})
				}
			}
			if isEnvRead(call.Fun) && len(call.Args) == 1 {
				read(call.Args[0])
			}
			// A helper handed getenv and a name reads that variable:
			// bootstrap.Duration(getenv, "APPLY_DEADLINE_MARGIN", DefaultMargin).
			for i := 0; i+1 < len(call.Args); i++ {
				if isEnvRead(call.Args[i]) {
					read(call.Args[i+1])
				}
			}
			return true
		})
	}
	return out, nil
}

// Every function has sample events in events/<fn>/ (valid JSON), usable with
// `sam local invoke -e` and `make invoke`.
func TestEveryFunctionHasEvents(t *testing.T) {
	tpl, root := readRepoTemplate(t)
	for _, f := range tpl.Functions {
		t.Run(f.LogicalID, func(t *testing.T) {
			files, err := filepath.Glob(filepath.Join(root, "events", f.Dir, "*.json"))
			if err != nil {
				t.Fatal(err)
			}
			if len(files) == 0 {
				t.Fatalf("events/%s/ has no *.json events; add events/%s/<scenario>.json", f.Dir, f.Dir)
			}
			for _, p := range files {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if !json.Valid(b) {
					t.Errorf("%s: not valid JSON", p)
				}
			}
		})
	}
}

// SQS event sources keep the settings routekeeper's functions rely on.
func TestSQSEventSettings(t *testing.T) {
	tpl, _ := readRepoTemplate(t)
	n := 0
	for _, f := range tpl.Functions {
		for _, e := range f.SQSEvents {
			n++
			where := f.LogicalID + ".Events." + e.Name
			if !e.ReportBatchItemFailures {
				t.Errorf("%s: FunctionResponseTypes lacks ReportBatchItemFailures: a failed change would make the whole batch retry", where)
			}
			q, ok := tpl.QueueByARN(e.QueueARN)
			if !ok {
				t.Errorf("%s: Queue = %q, want !GetAtt <Queue>.Arn of an AWS::SQS::Queue in the template", where, e.QueueARN)
				continue
			}
			if q.FIFO && (e.BatchSize < 1 || e.BatchSize > 10) {
				t.Errorf("%s: BatchSize %d, want 1..10 for a FIFO queue", where, e.BatchSize)
			}
			if min := 6 * f.Timeout; q.VisibilityTimeout < min {
				t.Errorf("%s: %s.VisibilityTimeout = %s, want at least 6 x the function timeout %s = %s", where, q.LogicalID, q.VisibilityTimeout, f.Timeout, min)
			}
		}
	}
	if n == 0 {
		t.Error("template declares no SQS event source; want the apply function's ChangeQueue event")
	}
}

// ReadTemplate resolves intrinsic functions against local resources and parameter
// overrides.
func TestReadTemplateResolves(t *testing.T) {
	s := startStack(t)
	f, ok := s.Template.Function("apply")
	if !ok {
		t.Fatalf("template has no function for functions/apply: %v", s.Template.Dirs())
	}
	if len(f.SQSEvents) != 1 || f.SQSEvents[0].QueueARN != s.Resources.ChangeQueueARN {
		t.Errorf("apply SQS events = %+v, want one on %s", f.SQSEvents, s.Resources.ChangeQueueARN)
	}
	if got, want := f.Timeout, 60*time.Second; got != want {
		t.Errorf("apply timeout = %s, want %s", got, want)
	}
	env := s.FunctionEnv(f)
	for k, want := range map[string]string{
		"TABLE_NAME":                 s.Resources.TableName,
		"CHANGE_QUEUE_URL":           s.Resources.ChangeQueueURL,
		"EVENT_BUS_NAME":             s.Resources.BusName,
		"GENESYS_CREDENTIALS_SECRET": s.Resources.SecretARN,
		"GENESYS_API_URL":            s.SimURL,
		"ROUTEKEEPER_ENVIRONMENT":    ExampleEnvironment,
		"AWS_ENDPOINT_URL":           *s.AWS.BaseEndpoint,
	} {
		if got := env[k]; got != want {
			t.Errorf("FunctionEnv(apply)[%s] = %q, want %q", k, got, want)
		}
	}
}

// The SQS events in events/ are what Lambda delivers from a FIFO queue, field for field, so
// `sam local invoke -e` and the local stack feed functions the real shape: every system
// attribute Lambda passes on, "md5OfMessageAttributes": null without message attributes,
// and the source fields of a FIFO queue.
func TestSQSEventsAsLambdaSendsThem(t *testing.T) {
	tpl, root := readRepoTemplate(t)
	wantAttrs := []string{"ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount", "MessageDeduplicationId",
		"MessageGroupId", "SenderId", "SentTimestamp", "SequenceNumber"}
	for _, f := range tpl.Functions {
		if len(f.SQSEvents) == 0 {
			continue
		}
		files, err := filepath.Glob(filepath.Join(root, "events", f.Dir, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range files {
			raw, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var ev struct{ Records []map[string]json.RawMessage }
			if err := json.Unmarshal(raw, &ev); err != nil || len(ev.Records) == 0 {
				t.Errorf("%s: want {\"Records\": [...]} with records: %v", p, err)
				continue
			}
			for i, rec := range ev.Records {
				where := fmt.Sprintf("%s: Records[%d]", filepath.Base(p), i)
				var attrs map[string]string
				_ = json.Unmarshal(rec["attributes"], &attrs)
				var got []string
				for k := range attrs {
					got = append(got, k)
				}
				slices.Sort(got)
				if diff := cmp.Diff(wantAttrs, got); diff != "" {
					t.Errorf("%s: attribute names (-want +got):\n%s", where, diff)
				}
				var mattrs map[string]json.RawMessage
				_ = json.Unmarshal(rec["messageAttributes"], &mattrs)
				if md5 := string(rec["md5OfMessageAttributes"]); mattrs == nil || (len(mattrs) == 0 && md5 != "null") {
					t.Errorf("%s: messageAttributes %s, md5OfMessageAttributes %s: want {} and null (as Lambda sends a message without attributes)", where, rec["messageAttributes"], md5)
				}
				for k, want := range map[string]string{"eventSource": `"aws:sqs"`, "awsRegion": `"us-east-1"`} {
					if got := string(rec[k]); got != want {
						t.Errorf("%s: %s = %s, want %s", where, k, got, want)
					}
				}
				var arn string
				_ = json.Unmarshal(rec["eventSourceARN"], &arn)
				if !strings.HasPrefix(arn, "arn:aws:sqs:us-east-1:") || !strings.HasSuffix(arn, ".fifo") {
					t.Errorf("%s: eventSourceARN %q, want the ARN of a FIFO queue", where, arn)
				}
			}
		}
	}
}
