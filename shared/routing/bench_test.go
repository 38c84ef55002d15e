package routing

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// largeConfig is an org-sized config: queues with media settings, routing rules and
// bullseye rings, skills and worktypes, like an export of a 5,000-queue org.
func largeConfig(queues, skills, worktypes int) *Config {
	cfg := &Config{APIVersion: APIVersion, Environment: "bench", Divisions: []string{"Home"}, Workbins: []string{"Bin"}}
	for i := range skills {
		cfg.Skills = append(cfg.Skills, Skill{Name: fmt.Sprintf("Skill %04d", i)})
	}
	for i := range queues {
		ms := MediaSetting{EnableAutoAnswer: ptr(false), AlertingTimeoutSeconds: ptr(8 + i%30),
			ServiceLevel: &ServiceLevel{Percentage: ptr(0.8), DurationMs: ptr(20000)}}
		cfg.Queues = append(cfg.Queues, Queue{
			Name: fmt.Sprintf("Queue %05d", i), Description: ptr("queue number " + fmt.Sprint(i)), Division: ptr("Home"),
			SkillEvaluationMethod: ptr("ALL"), ScoringMethod: ptr("TimestampAndPriority"),
			AcwSettings: &AcwSettings{WrapupPrompt: ptr("MANDATORY_TIMEOUT"), TimeoutMs: ptr(30000)},
			MediaSettings: &MediaSettings{Call: &ms, Chat: &ms, Email: &ms,
				Callback: &CallbackMediaSetting{MediaSetting: ms, Mode: ptr("AgentFirst")},
				Message:  &MessageMediaSetting{MediaSetting: ms, EnableInactivityTimeout: ptr(false)}},
			RoutingRules: []RoutingRule{{Operator: ptr("MEETS_THRESHOLD"), Threshold: ptr(9), WaitSeconds: ptr(2.5)}},
			Bullseye: &Bullseye{Rings: []BullseyeRing{
				{ExpansionCriteria: []ExpansionCriterion{{Type: "TIMEOUT_SECONDS", Threshold: ptr(15.0)}},
					Actions: &RingActions{SkillsToRemove: []string{fmt.Sprintf("Skill %04d", i%max(skills, 1))}}},
				{ExpansionCriteria: []ExpansionCriterion{{Type: "TIMEOUT_SECONDS", Threshold: ptr(30.0)}}}}},
			EnableTranscription: ptr(false), EnableManualAssignment: ptr(false),
		})
	}
	for i := range worktypes {
		cfg.Worktypes = append(cfg.Worktypes, Worktype{Name: fmt.Sprintf("Worktype %03d", i), Division: ptr("Home"),
			DefaultWorkbin: ptr("Bin"), DefaultQueue: ptr(fmt.Sprintf("Queue %05d", i%max(queues, 1))),
			DefaultSkills: []string{fmt.Sprintf("Skill %04d", i%max(skills, 1))}, DefaultPriority: ptr(0),
			AssignmentEnabled: ptr(true), ServiceLevelTarget: ptr(100)})
	}
	return cfg
}

// BenchmarkMarshalYAML and BenchmarkParseLarge measure export and load of an org of
// 5,000 queues, 1,000 skills and 200 worktypes (see B/op and allocs/op).
func BenchmarkMarshalYAML(b *testing.B) {
	cfg := largeConfig(5000, 1000, 200)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := MarshalYAML(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseLarge(b *testing.B) {
	data, err := MarshalYAML(largeConfig(5000, 1000, 200))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("large.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompile compiles a loaded org-sized config (5,000 queues), as plan and apply
// do after Load; BenchmarkCompileBuilt compiles the same config built in code, which
// Compile must validate in full.
func BenchmarkCompile(b *testing.B) {
	data, err := MarshalYAML(largeConfig(5000, 1000, 200))
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := Parse("large.yaml", data)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompileBuilt(b *testing.B) {
	cfg := largeConfig(5000, 1000, 200)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadCompile is what plan and apply pay for an org-sized config file: Load
// then Compile.
func BenchmarkLoadCompile(b *testing.B) {
	data, err := MarshalYAML(largeConfig(5000, 1000, 200))
	if err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(b.TempDir(), "large.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := Load(file)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Compile(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
