package main

import "strconv"

// exitError carries a command's exit code to main. A nil err means the command already
// printed everything it had to say (for example `plan` exiting 2 because there are changes).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return "exit status " + strconv.Itoa(e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// exitCode returns an error that makes routekeeper exit with code, printing err if non-nil.
func exitCode(code int, err error) error { return &exitError{code: code, err: err} }
