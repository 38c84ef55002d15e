package routing

// APIVersion is the only apiVersion this package reads and writes.
const APIVersion = "routekeeper/v1"

// Priority bounds of a worktype's defaultPriority (WorktypeUpdate: "valid range is between
// -25,000,000 and 25,000,000").
const (
	MinPriority = -25_000_000
	MaxPriority = 25_000_000
)

// MaxSkills is the most skills a worktype (defaultSkillIds: "Maximum of 20 IDs") or an
// assignment rule may name.
const MaxSkills = 20

// ACW wrap-up prompts that allow acwSettings.timeoutMs.
var timeoutPrompts = []string{"AGENT_REQUESTED", "MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT"}

// Config is one routing configuration: a file, or a directory of files merged. The zero
// value is empty and invalid (it lacks apiVersion).
type Config struct {
	// Format version; must be routekeeper/v1. Each file may carry it; at least one must.
	APIVersion string `json:"apiVersion,omitempty" jsonschema:"enum=routekeeper/v1"`
	// Environment this config describes, e.g. prod or dev. Files of one config must agree.
	Environment string `json:"environment,omitempty" jsonschema:"pattern=^[a-z0-9][a-z0-9-]*$,maxLength=64"`
	// Names of the divisions that queues and worktypes may reference. Optional: when
	// present, every division reference must be listed here; when absent, division
	// references are not checked offline.
	Divisions []string `json:"divisions,omitzero" jsonschema:"uniqueItems=true,minLength=1"`
	// Names of the workbins that worktypes may reference as defaultWorkbin. Optional: when
	// present, every defaultWorkbin must be listed here; when absent, workbin references
	// are not checked offline.
	Workbins []string `json:"workbins,omitzero" jsonschema:"uniqueItems=true,minLength=1"`
	// Routing skills (Genesys RoutingSkill).
	Skills []Skill `json:"skills,omitzero"`
	// Routing queues (Genesys Queue). Only declared fields are managed.
	Queues []Queue `json:"queues,omitzero"`
	// Task-management worktypes (Genesys WorktypeUpdate). Only declared fields are managed.
	Worktypes []Worktype `json:"worktypes,omitzero"`
	// Priority-scored rules that route a worktype's tasks to a queue with skills and
	// overflow to another queue when the backlog passes maxCapacity.
	AssignmentRules []AssignmentRule `json:"assignmentRules,omitzero"`

	src *source // where each entity came from; nil for configs built in code
}

// Skill is a routing skill. Genesys skills carry only a name that routekeeper manages.
type Skill struct {
	// Skill name, unique in the org.
	Name string `json:"name" jsonschema:"minLength=1,maxLength=256"`
}

// Queue is the routing-relevant part of a Genesys routing queue (Queue / QueueRequest).
type Queue struct {
	// Queue name, unique in the org.
	Name string `json:"name" jsonschema:"minLength=1,maxLength=256"`
	// Free-text description.
	Description *string `json:"description,omitempty"`
	// Division name, e.g. Home.
	Division *string `json:"division,omitempty" jsonschema:"minLength=1"`
	// How agent skills are matched: NONE, BEST or ALL.
	SkillEvaluationMethod *string `json:"skillEvaluationMethod,omitempty" jsonschema:"enum=NONE,enum=BEST,enum=ALL"`
	// Interaction ordering: TimestampAndPriority or PriorityOnly.
	ScoringMethod *string `json:"scoringMethod,omitempty" jsonschema:"enum=TimestampAndPriority,enum=PriorityOnly"`
	// Last-agent routing: Disabled, QueueMembersOnly or AnyAgent.
	LastAgentRoutingMode *string `json:"lastAgentRoutingMode,omitempty" jsonschema:"enum=Disabled,enum=QueueMembersOnly,enum=AnyAgent"`
	// After-call work settings.
	AcwSettings *AcwSettings `json:"acwSettings,omitempty"`
	// Per-media settings. Genesys has no workitem key here.
	MediaSettings *MediaSettings `json:"mediaSettings,omitempty"`
	// Ordered routing rules (evaluated in order). An empty list clears them.
	RoutingRules []RoutingRule `json:"routingRules,omitzero" jsonschema:"maxItems=6"`
	// Bullseye routing rings (used with skillEvaluationMethod and bullseye routing).
	Bullseye *Bullseye `json:"bullseye,omitempty"`
	// Conditional group routing rules.
	ConditionalGroupRouting *ConditionalGroupRouting `json:"conditionalGroupRouting,omitempty"`
	// Transcribe interactions in this queue.
	EnableTranscription *bool `json:"enableTranscription,omitempty"`
	// Allow agents to assign interactions of this queue manually.
	EnableManualAssignment *bool `json:"enableManualAssignment,omitempty"`
}

// AcwSettings are a queue's after-call work settings.
type AcwSettings struct {
	// Wrap-up prompt: MANDATORY, OPTIONAL, MANDATORY_TIMEOUT, MANDATORY_FORCED_TIMEOUT or AGENT_REQUESTED.
	WrapupPrompt *string `json:"wrapupPrompt,omitempty" jsonschema:"enum=MANDATORY,enum=OPTIONAL,enum=MANDATORY_TIMEOUT,enum=MANDATORY_FORCED_TIMEOUT,enum=AGENT_REQUESTED"`
	// ACW timeout in milliseconds, 1000 (1 s) to 3600000 (60 min). Genesys uses it only with wrapupPrompt AGENT_REQUESTED, MANDATORY_TIMEOUT or MANDATORY_FORCED_TIMEOUT, so a declared other prompt with it is an error; without a declared prompt the live one decides.
	TimeoutMs *int `json:"timeoutMs,omitempty" jsonschema:"minimum=1000,maximum=3600000"`
}

// MediaSettings holds a queue's settings per media type.
type MediaSettings struct {
	// Voice calls.
	Call *MediaSetting `json:"call,omitempty"`
	// Callbacks.
	Callback *CallbackMediaSetting `json:"callback,omitempty"`
	// Chats.
	Chat *MediaSetting `json:"chat,omitempty"`
	// Emails.
	Email *MediaSetting `json:"email,omitempty"`
	// Messages.
	Message *MessageMediaSetting `json:"message,omitempty"`
}

// MediaSetting is the Genesys MediaSettings base shared by every media type.
type MediaSetting struct {
	// Answer automatically.
	EnableAutoAnswer *bool `json:"enableAutoAnswer,omitempty"`
	// Seconds an interaction alerts an agent before it is offered to another.
	AlertingTimeoutSeconds *int `json:"alertingTimeoutSeconds,omitempty" jsonschema:"minimum=0,maximum=2147483647"`
	// Service level target.
	ServiceLevel *ServiceLevel `json:"serviceLevel,omitempty"`
	// Seconds of alert tone before auto-answer.
	AutoAnswerAlertToneSeconds *float64 `json:"autoAnswerAlertToneSeconds,omitempty" jsonschema:"minimum=0,maximum=2147483647"`
	// Seconds of alert tone before a manual answer.
	ManualAnswerAlertToneSeconds *float64 `json:"manualAnswerAlertToneSeconds,omitempty" jsonschema:"minimum=0,maximum=2147483647"`
}

// CallbackMediaSetting is MediaSetting plus the callback-only fields.
type CallbackMediaSetting struct {
	MediaSetting
	// Who is dialled first: AgentFirst or CustomerFirst.
	Mode *string `json:"mode,omitempty" jsonschema:"enum=AgentFirst,enum=CustomerFirst"`
	// Seconds before a callback is dialled automatically, 0 to 1200.
	AutoDialDelaySeconds *int `json:"autoDialDelaySeconds,omitempty" jsonschema:"minimum=0,maximum=1200"`
	// Seconds before a callback ends automatically, 0 to 1200.
	AutoEndDelaySeconds *int `json:"autoEndDelaySeconds,omitempty" jsonschema:"minimum=0,maximum=1200"`
}

// MessageMediaSetting is MediaSetting plus the message-only fields routekeeper manages.
type MessageMediaSetting struct {
	MediaSetting
	// End idle message conversations after a timeout.
	EnableInactivityTimeout *bool `json:"enableInactivityTimeout,omitempty"`
}

// ServiceLevel is a media type's service level target.
type ServiceLevel struct {
	// Fraction of interactions answered within durationMs, 0 to 1.
	Percentage *float64 `json:"percentage,omitempty" jsonschema:"minimum=0,maximum=1"`
	// Target answer time in milliseconds.
	DurationMs *int `json:"durationMs,omitempty" jsonschema:"minimum=0,maximum=2147483647"`
}

// RoutingRule is one entry of a queue's routingRules.
type RoutingRule struct {
	// MEETS_THRESHOLD or ANY.
	Operator *string `json:"operator,omitempty" jsonschema:"enum=MEETS_THRESHOLD,enum=ANY"`
	// Threshold the operator compares with.
	Threshold *int `json:"threshold,omitempty" jsonschema:"minimum=0,maximum=2147483647"`
	// Seconds to wait before the rule applies.
	WaitSeconds *float64 `json:"waitSeconds,omitempty" jsonschema:"minimum=0,maximum=259200"`
}

// Bullseye is a queue's bullseye routing configuration.
type Bullseye struct {
	// Rings from the centre outwards: 1 to 6. (The Genesys Terraform provider asks for at
	// least 2; the API stores and returns a single ring, so an export must be able to say so.)
	Rings []BullseyeRing `json:"rings" jsonschema:"minItems=1,maxItems=6"`
}

// BullseyeRing is one bullseye ring.
type BullseyeRing struct {
	// When the interaction expands to the next ring.
	ExpansionCriteria []ExpansionCriterion `json:"expansionCriteria,omitzero"`
	// What happens when the interaction reaches this ring.
	Actions *RingActions `json:"actions,omitempty"`
}

// ExpansionCriterion says when an interaction leaves a bullseye ring.
type ExpansionCriterion struct {
	// Only TIMEOUT_SECONDS.
	Type string `json:"type" jsonschema:"enum=TIMEOUT_SECONDS"`
	// Seconds in this ring, 0 to 259200 (3 days).
	Threshold *float64 `json:"threshold,omitempty" jsonschema:"minimum=0,maximum=259200"`
}

// RingActions are the actions of a bullseye ring.
type RingActions struct {
	// Names of the skills dropped from the requirement in this ring.
	SkillsToRemove []string `json:"skillsToRemove,omitzero" jsonschema:"uniqueItems=true,minLength=1"`
}

// ConditionalGroupRouting is a queue's conditional group routing configuration.
type ConditionalGroupRouting struct {
	// Rules in evaluation order.
	Rules []ConditionalGroupRoutingRule `json:"rules"`
}

// ConditionalGroupRoutingRule adds member groups when a queue metric crosses a value.
type ConditionalGroupRoutingRule struct {
	// Name of the queue whose metric is evaluated; absent means this queue.
	Queue *string `json:"queue,omitempty" jsonschema:"minLength=1"`
	// EstimatedWaitTime or ServiceLevel.
	Metric *string `json:"metric,omitempty" jsonschema:"enum=EstimatedWaitTime,enum=ServiceLevel"`
	// GreaterThan, GreaterThanOrEqualTo, LessThan or LessThanOrEqualTo.
	Operator *string `json:"operator,omitempty" jsonschema:"enum=GreaterThan,enum=GreaterThanOrEqualTo,enum=LessThan,enum=LessThanOrEqualTo"`
	// Value the metric is compared with.
	ConditionValue *float64 `json:"conditionValue,omitempty"`
	// Member groups added when the condition holds.
	Groups []MemberGroup `json:"groups,omitzero"`
	// Seconds to wait before evaluating the rule.
	WaitSeconds *int `json:"waitSeconds,omitempty" jsonschema:"minimum=0,maximum=259200"`
}

// MemberGroup references a Genesys team, group or skill group by name and type.
type MemberGroup struct {
	// Group name.
	Name string `json:"name" jsonschema:"minLength=1"`
	// TEAM, GROUP or SKILLGROUP. Absent only for a group Genesys returns without a type;
	// apply then finds the group by name among the live queue's groups (or by id, written "id:<id>").
	Type string `json:"type,omitempty" jsonschema:"enum=TEAM,enum=GROUP,enum=SKILLGROUP"`
}

// Worktype is the routing-relevant part of a task-management worktype (WorktypeUpdate).
type Worktype struct {
	// Worktype name, 3 to 256 characters.
	Name string `json:"name" jsonschema:"minLength=3,maxLength=256"`
	// Description, at most 512 characters.
	Description *string `json:"description,omitempty" jsonschema:"maxLength=512"`
	// Division name.
	Division *string `json:"division,omitempty" jsonschema:"minLength=1"`
	// Name of the workbin new workitems go to.
	DefaultWorkbin *string `json:"defaultWorkbin,omitempty" jsonschema:"minLength=1"`
	// Name of the queue new workitems are routed to.
	DefaultQueue *string `json:"defaultQueue,omitempty" jsonschema:"minLength=1"`
	// Names of the skills new workitems require, at most 20.
	DefaultSkills []string `json:"defaultSkills,omitzero" jsonschema:"maxItems=20,uniqueItems=true,minLength=1"`
	// Priority of new workitems, -25000000 to 25000000 (higher is served first).
	DefaultPriority *int `json:"defaultPriority,omitempty" jsonschema:"minimum=-25000000,maximum=25000000"`
	// Name of the routing language new workitems require.
	DefaultLanguage *string `json:"defaultLanguage,omitempty" jsonschema:"minLength=1"`
	// Default workitem duration in seconds, at most 365 days.
	DefaultDurationSeconds *int `json:"defaultDurationSeconds,omitempty" jsonschema:"minimum=1,maximum=31536000"`
	// Default seconds until a workitem expires, at most 365 days.
	DefaultExpirationSeconds *int `json:"defaultExpirationSeconds,omitempty" jsonschema:"minimum=1,maximum=31536000"`
	// Default seconds until a workitem is due, at most 365 days.
	DefaultDueDurationSeconds *int `json:"defaultDueDurationSeconds,omitempty" jsonschema:"minimum=1,maximum=31536000"`
	// Default seconds a workitem lives after it is closed, 1 to 365 days.
	DefaultTtlSeconds *int `json:"defaultTtlSeconds,omitempty" jsonschema:"minimum=86400,maximum=31536000"`
	// Send new workitems to the default queue as they are created.
	AssignmentEnabled *bool `json:"assignmentEnabled,omitempty"`
	// Target service level of the worktype's workitems (Genesys default 100).
	ServiceLevelTarget *int `json:"serviceLevelTarget,omitempty" jsonschema:"minimum=0,maximum=2147483647"`
}

// AssignmentRule routes a worktype's tasks: it sets the worktype's default queue, skills
// and priority, and names an overflow queue for when the queue's backlog passes
// maxCapacity.
type AssignmentRule struct {
	// Rule name, unique in the config.
	Name string `json:"name" jsonschema:"minLength=1,maxLength=256"`
	// Name of the worktype whose tasks the rule routes; at most one rule per worktype.
	Worktype string `json:"worktype" jsonschema:"minLength=1"`
	// Name of the queue tasks go to (worktype defaultQueue).
	Queue string `json:"queue" jsonschema:"minLength=1"`
	// Names of the skills tasks require (worktype defaultSkills), at most 20.
	Skills []string `json:"skills,omitzero" jsonschema:"maxItems=20,uniqueItems=true,minLength=1"`
	// Priority score 0 to 100, mapped linearly onto worktype defaultPriority -25000000..25000000.
	PriorityScore *int `json:"priorityScore,omitempty" jsonschema:"minimum=0,maximum=100"`
	// Backlog (waiting tasks) the queue may hold before new tasks overflow, at least 1; requires overflowQueue.
	MaxCapacity *int `json:"maxCapacity,omitempty" jsonschema:"minimum=1,maximum=1000000"`
	// Name of the queue new tasks go to while the backlog is above maxCapacity; requires maxCapacity.
	OverflowQueue *string `json:"overflowQueue,omitempty" jsonschema:"minLength=1"`
	// Consecutive samples (one a minute) with the backlog at or above maxCapacity before new tasks overflow, 1 to 1440; default 2. Requires overflowQueue.
	OverflowAfter *int `json:"overflowAfter,omitempty" jsonschema:"minimum=1,maximum=1440"`
	// Backlog at or below which new tasks go back to the queue, 0 to maxCapacity - 1; default 80 % of maxCapacity, rounded down. Requires overflowQueue.
	ResumeBelow *int `json:"resumeBelow,omitempty" jsonschema:"minimum=0,maximum=999999"`
	// Consecutive samples with the backlog at or below resumeBelow before new tasks go back to the queue, 1 to 1440; default 3. Requires overflowQueue.
	ResumeAfter *int `json:"resumeAfter,omitempty" jsonschema:"minimum=1,maximum=1440"`
	// Seconds the overflow stays as it is after switching either way, 0 to 86400 (1 day); default 300. Requires overflowQueue.
	MinDwellSeconds *int `json:"minDwellSeconds,omitempty" jsonschema:"minimum=0,maximum=86400"`
}

// Defaults of an assignment rule's overflow hysteresis (Overflow carries them resolved).
const (
	DefaultOverflowAfter   = 2
	DefaultResumeAfter     = 3
	DefaultMinDwellSeconds = 300
	// DefaultResumePercent: without resumeBelow, tasks go back to the queue once the
	// backlog is at or below this share of maxCapacity (rounded down).
	DefaultResumePercent = 80
)

// ResumeBelowDefault is resumeBelow when a rule does not declare it: DefaultResumePercent
// of maxCapacity, rounded down (maxCapacity 1 gives 0, an empty queue).
func ResumeBelowDefault(maxCapacity int) int { return maxCapacity * DefaultResumePercent / 100 }
