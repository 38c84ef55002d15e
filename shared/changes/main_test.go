package changes

import (
	"os"
	"testing"

	"github.com/routekeeper/routekeeper/infra/awslocal"
)

func TestMain(m *testing.M) { os.Exit(awslocal.RunTests(m)) }
