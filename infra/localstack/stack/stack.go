package stack

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/routekeeper/routekeeper/infra/awslocal"
	"github.com/routekeeper/routekeeper/infra/genesyssim/sim"
	"github.com/routekeeper/routekeeper/shared/genesys"
)

// Options configure Start. The zero value starts everything from the repository's
// template.yaml.
type Options struct {
	// TemplatePath is the SAM template; "" means the repository's template.yaml.
	TemplatePath string
	// Prefix names the local AWS resources (prefix-Table, prefix-ChangeQueue.fifo, ...);
	// "" means "routekeeper-local".
	Prefix string
	// AWS and Resources reuse an AWS endpoint and resources created from the template
	// already (tests: awslocal.ForTest); both nil starts moto and creates them.
	AWS       *aws.Config
	Resources *awslocal.Resources
	// Org seeds the simulator; nil means the org of the example config (see SeedOrg).
	Org func(ctx context.Context, s *sim.Server, c *genesys.Client) error
	// WithoutSimulator starts no Genesys simulator (Sim, SimURL and Genesys stay empty):
	// the functions talk to a real org, given to each by FunctionOptions.Genesys
	// (`make invoke` with GENESYS_* set).
	WithoutSimulator bool
	// SimNow is the simulator's clock; nil means time.Now.
	SimNow func() time.Time
	// Params override the template's parameter defaults for the functions' environment
	// (sam's --parameter-overrides); Environment defaults to the example config's
	// environment, so the functions manage the environment the seeded org belongs to, and
	// GenesysEventBusName to GenesysBus, so the rules on the Genesys bus are enabled.
	Params map[string]string
}

// ParamGenesysBus is the template parameter naming the Genesys partner event bus.
const ParamGenesysBus = "GenesysEventBusName"

// IDSeed seeds the simulator's entity ids (sim.Options.IDSeed).
const IDSeed = "routekeeper-local"

// Stack is a running local stack: AWS on moto with the template's resources, and a Genesys
// simulator on loopback.
type Stack struct {
	AWS       aws.Config
	Resources *awslocal.Resources
	Template  *awslocal.Template
	// Environment is the routing environment the functions manage (template parameter
	// Environment).
	Environment string
	// Sim is the Genesys simulator, SimURL its http://127.0.0.1:PORT (GENESYS_API_URL and
	// GENESYS_LOGIN_URL); both empty with Options.WithoutSimulator.
	Sim    *sim.Server
	SimURL string
	// Genesys is a client of the simulator with the local credentials, for seeding,
	// assertions and out-of-band edits through the API; nil without the simulator.
	Genesys *genesys.Client

	// prefix names what the stack creates besides the template's resources (the
	// dead-letter queues SAM would create for rules), as awslocal names those.
	prefix      string
	awsEndpoint string
	moto        *awslocal.Moto
	srv         *http.Server
	srvDone     chan error
}

// Start starts the local stack: moto with the resources of the template (unless
// Options.AWS/Resources are given) and the Genesys simulator seeded with the org. Call Stop
// when done, also after an error (Start cleans up after itself, Stop after Start succeeded).
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	path := opts.TemplatePath
	if path == "" {
		if path, err = awslocal.TemplatePath(); err != nil {
			return nil, err
		}
	}
	if opts.Prefix == "" {
		opts.Prefix = "routekeeper-local"
	}
	s := &Stack{}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Stop())
		}
	}()

	s.prefix = opts.Prefix
	switch {
	case opts.AWS != nil && opts.Resources != nil:
		s.AWS, s.Resources = *opts.AWS, opts.Resources
		// awslocal names the resources <prefix>-<logical ID>: name the stack's own the
		// same way, under the prefix these were created with.
		if p, ok := strings.CutSuffix(s.Resources.TableName, "-"+awslocal.LogicalTable); ok && p != "" {
			s.prefix = p
		}
	case opts.AWS == nil && opts.Resources == nil:
		if s.moto, err = awslocal.StartMoto(ctx); err != nil {
			return nil, err
		}
		if s.AWS, err = s.moto.AWSConfig(ctx); err != nil {
			return nil, err
		}
		if s.Resources, err = awslocal.CreateResources(ctx, s.AWS, path, opts.Prefix); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("stack: set both Options.AWS and Options.Resources, or neither")
	}
	if s.AWS.BaseEndpoint == nil {
		return nil, errors.New("stack: the AWS configuration has no BaseEndpoint; the local stack never talks to real AWS")
	}
	s.awsEndpoint = *s.AWS.BaseEndpoint
	params := maps.Clone(opts.Params)
	if params == nil {
		params = map[string]string{}
	}
	if params["Environment"] == "" {
		params["Environment"] = ExampleEnvironment
	}
	if _, set := params[ParamGenesysBus]; !set {
		params[ParamGenesysBus] = GenesysBus
	}
	s.Environment = params["Environment"]
	if s.Template, err = awslocal.ReadTemplate(path, s.Resources, params); err != nil {
		return nil, err
	}

	if opts.WithoutSimulator {
		return s, nil
	}
	// Seeded ids: the same org every run, so sample events (events/webhook) can name its
	// entities.
	s.Sim = sim.New(sim.Options{Now: opts.SimNow, IDSeed: IDSeed})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("stack: listen for the Genesys simulator: %w", err)
	}
	s.SimURL = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s.Sim, ReadHeaderTimeout: 10 * time.Second}
	s.srvDone = make(chan error, 1)
	go func() { s.srvDone <- s.srv.Serve(ln) }()

	if s.Genesys, err = genesys.New(genesys.Config{
		APIURL: s.SimURL, LoginURL: s.SimURL,
		ClientID: awslocal.LocalClientID, ClientSecret: awslocal.LocalClientSecret,
	}); err != nil {
		return nil, fmt.Errorf("stack: Genesys client of the simulator: %w", err)
	}
	seed := opts.Org
	if seed == nil {
		seed = SeedOrg
	}
	if err := seed(ctx, s.Sim, s.Genesys); err != nil {
		return nil, fmt.Errorf("stack: seed the simulated org: %w", err)
	}
	return s, nil
}

// Stop stops the simulator and, when Start started it, moto. It is safe to call more than
// once.
func (s *Stack) Stop() error {
	var errs []error
	if s.srv != nil {
		// Graceful first; a connection still busy after the grace period (a function's
		// client mid-request on a loaded machine) is cut: the stack is going away either way.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.srv.Shutdown(ctx); err != nil {
			if cerr := s.srv.Close(); cerr != nil {
				errs = append(errs, fmt.Errorf("stop Genesys simulator: %w (graceful shutdown: %v)", cerr, err))
			}
		}
		cancel()
		if err := <-s.srvDone; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
		s.srv = nil
	}
	if s.moto != nil {
		if err := s.moto.Stop(); err != nil {
			errs = append(errs, err)
		}
		s.moto = nil
	}
	return errors.Join(errs...)
}

// AWSEnv returns the environment that points an AWS SDK in another process at the local
// AWS endpoint with test credentials.
func (s *Stack) AWSEnv() map[string]string { return awslocal.EndpointEnv(s.awsEndpoint) }

// FunctionEnv returns the environment f gets in AWS, pointed at the local stack: the
// template's Globals, f's own variables, the simulator as
// GENESYS_API_URL and GENESYS_LOGIN_URL (the credentials come from the local secret, as
// in AWS), and the local AWS endpoint. Without the simulator the template's GENESYS_*
// stay as they are (StartFunction replaces them with FunctionOptions.Genesys).
func (s *Stack) FunctionEnv(f *awslocal.Function) map[string]string {
	env := maps.Clone(s.Template.GlobalEnv)
	maps.Copy(env, f.Env)
	if s.SimURL != "" {
		env["GENESYS_API_URL"] = s.SimURL
		env["GENESYS_LOGIN_URL"] = s.SimURL
	}
	maps.Copy(env, s.AWSEnv())
	return env
}

// orgEnv points a function at the Genesys org of cfg instead of the simulator: the
// variables genesys.ConfigFromEnv reads (GENESYS_API_URL, GENESYS_LOGIN_URL,
// GENESYS_CLIENT_ID, GENESYS_CLIENT_SECRET, GENESYS_REQUESTS_PER_MINUTE when set), and no
// GENESYS_CREDENTIALS_SECRET, so shared/bootstrap takes the credentials from them rather
// than from the local secret (which holds the simulator's client).
func orgEnv(env map[string]string, cfg genesys.Config) error {
	if cfg.APIURL == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return errors.New("the Genesys org needs an API URL, a client id and a client secret (genesys.ConfigFromEnv reads them from GENESYS_*)")
	}
	delete(env, "GENESYS_CREDENTIALS_SECRET")
	delete(env, "GENESYS_REGION")
	env["GENESYS_API_URL"] = cfg.APIURL
	env["GENESYS_LOGIN_URL"] = cfg.LoginURL // "" => derived from the API URL
	env["GENESYS_CLIENT_ID"] = cfg.ClientID
	env["GENESYS_CLIENT_SECRET"] = cfg.ClientSecret
	delete(env, "GENESYS_REQUESTS_PER_MINUTE")
	if cfg.RequestsPerMinute != 0 {
		env["GENESYS_REQUESTS_PER_MINUTE"] = strconv.Itoa(cfg.RequestsPerMinute)
	}
	return nil
}

// CLIEnv returns the environment the routekeeper CLI needs to work against the local stack:
// the functions' resource variables (TABLE_NAME, CHANGE_QUEUE_URL, ...), the simulator with
// the local OAuth client, and the local AWS endpoint.
func (s *Stack) CLIEnv() map[string]string {
	env := maps.Clone(s.Template.GlobalEnv)
	delete(env, "GENESYS_CREDENTIALS_SECRET") // the CLI uses its own client, as a person would
	env["GENESYS_API_URL"] = s.SimURL
	env["GENESYS_LOGIN_URL"] = s.SimURL
	env["GENESYS_CLIENT_ID"] = awslocal.LocalClientID
	env["GENESYS_CLIENT_SECRET"] = awslocal.LocalClientSecret
	maps.Copy(env, s.AWSEnv())
	return env
}
