package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// AWS access for the CLI (plan and apply with a table, publish, status): the standard
// configuration chain, with its failures said in the user's terms.

// credentialsTimeout bounds finding credentials: the chain ends at the EC2 instance
// metadata service, which off EC2 only times out.
const credentialsTimeout = 10 * time.Second

// awsConfig loads the AWS configuration and makes sure it holds credentials, so that a
// missing one is said at once and plainly rather than as the SDK's last provider's error
// (instance metadata) on the first call.
func awsConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws configuration: %w (check AWS_PROFILE and ~/.aws/config)", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region: set AWS_REGION (e.g. eu-west-1), or a region in the AWS_PROFILE profile")
	}
	cctx, cancel := context.WithTimeout(ctx, credentialsTimeout)
	defer cancel()
	if cfg.Credentials == nil {
		return aws.Config{}, noCredentials(nil)
	}
	if _, err := cfg.Credentials.Retrieve(cctx); err != nil {
		if ctx.Err() != nil {
			return aws.Config{}, ctx.Err()
		}
		if getenv("AWS_PROFILE") == "" && getenv("AWS_ACCESS_KEY_ID") == "" {
			// Nothing was configured: the SDK's words are its last provider's
			// (instance metadata), which say nothing to someone off EC2.
			return aws.Config{}, noCredentials(nil)
		}
		return aws.Config{}, noCredentials(err)
	}
	return cfg, nil
}

// noCredentials says that there are no usable AWS credentials and how to give some; cause
// is what the SDK said of the ones configured (nil: none were).
func noCredentials(cause error) error {
	msg := "no AWS credentials: set AWS_PROFILE (a profile of ~/.aws/config), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role provides them (EC2, ECS, Lambda, CI with OIDC)"
	if cause == nil {
		return errors.New(msg)
	}
	return fmt.Errorf("%s (the SDK said: %w)", msg, cause)
}

// awsError says an AWS call's failure in the user's terms: an endpoint that does not
// answer is named by its URL. Other errors are returned as they are.
func awsError(err error) error {
	if err == nil {
		return nil
	}
	ue, ok := errors.AsType[*url.Error](err)
	if !ok {
		return err
	}
	if _, dial := errors.AsType[*net.OpError](err); !dial {
		if _, dns := errors.AsType[*net.DNSError](err); !dns {
			return err
		}
	}
	where := ue.URL
	if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
		where = u.Scheme + "://" + u.Host
	}
	hint := "check AWS_REGION and the network"
	if e := getenv("AWS_ENDPOINT_URL"); e != "" {
		hint = "AWS_ENDPOINT_URL is " + e + ": is the endpoint (moto, a VPC endpoint) running?"
	}
	return fmt.Errorf("cannot reach AWS at %s (%v): %s", where, ue.Err, hint)
}
