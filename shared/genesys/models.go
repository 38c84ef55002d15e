package genesys

// Models mirror the JSON of the Genesys Cloud Platform API with the SDK's
// member names (platformclientv2/*.go, docs/genesys-api.md §1-5). Only the members
// routekeeper reads are typed; every other member the server sends is kept
// and re-emitted by json.Marshal (see members).
//
// Read-only members (dateModified, memberCount, selfUri, ...) are typed so the
// drift engine can read them; callers building a request body should not set them.

// Ref is a reference to another entity (SDK DomainEntityRef / Writabledivision / AddressableEntityRef).
type Ref struct {
	ID      string `json:"id,omitempty"`
	Name    string `json:"name,omitempty"`
	SelfURI string `json:"selfUri,omitempty"`

	raw members
}

// Queue is a routing queue (SDK Queue / QueueRequest; docs/genesys-api.md §1).
// It has no version: a PUT is last-writer-wins and a full replace.
type Queue struct {
	ID                           string              `json:"id,omitempty"`
	Name                         string              `json:"name,omitempty"`
	Division                     *Ref                `json:"division,omitempty"`
	Description                  string              `json:"description,omitempty"`
	DateCreated                  string              `json:"dateCreated,omitempty"`
	DateModified                 string              `json:"dateModified,omitempty"`
	ModifiedBy                   string              `json:"modifiedBy,omitempty"` // user id
	CreatedBy                    string              `json:"createdBy,omitempty"`  // user id
	MemberCount                  int                 `json:"memberCount,omitempty"`
	UserMemberCount              int                 `json:"userMemberCount,omitempty"`
	JoinedMemberCount            int                 `json:"joinedMemberCount,omitempty"`
	MediaSettings                *QueueMediaSettings `json:"mediaSettings,omitempty"`
	RoutingRules                 []RoutingRule       `json:"routingRules,omitempty"`
	AcwSettings                  *AcwSettings        `json:"acwSettings,omitempty"`
	SkillEvaluationMethod        string              `json:"skillEvaluationMethod,omitempty"` // NONE | BEST | ALL
	ScoringMethod                string              `json:"scoringMethod,omitempty"`         // TimestampAndPriority | PriorityOnly
	LastAgentRoutingMode         string              `json:"lastAgentRoutingMode,omitempty"`  // Disabled | QueueMembersOnly | AnyAgent
	QueueFlow                    *Ref                `json:"queueFlow,omitempty"`
	EmailInQueueFlow             *Ref                `json:"emailInQueueFlow,omitempty"`
	MessageInQueueFlow           *Ref                `json:"messageInQueueFlow,omitempty"`
	WhisperPrompt                *Ref                `json:"whisperPrompt,omitempty"`
	OnHoldPrompt                 *Ref                `json:"onHoldPrompt,omitempty"`
	AutoAnswerOnly               bool                `json:"autoAnswerOnly,omitempty"`
	EnableTranscription          bool                `json:"enableTranscription,omitempty"`
	EnableAudioMonitoring        bool                `json:"enableAudioMonitoring,omitempty"`
	EnableManualAssignment       bool                `json:"enableManualAssignment,omitempty"`
	SuppressInQueueCallRecording bool                `json:"suppressInQueueCallRecording,omitempty"`
	CallingPartyName             string              `json:"callingPartyName,omitempty"`
	CallingPartyNumber           string              `json:"callingPartyNumber,omitempty"`
	PeerID                       string              `json:"peerId,omitempty"`
	SelfURI                      string              `json:"selfUri,omitempty"`

	raw members
}

// QueueMediaSettings is Queue.mediaSettings. The API has no workitem key
// (docs/genesys-api.md §1); anything new arrives in the unknown members.
type QueueMediaSettings struct {
	Call     *MediaSetting `json:"call,omitempty"`
	Callback *MediaSetting `json:"callback,omitempty"`
	Chat     *MediaSetting `json:"chat,omitempty"`
	Email    *MediaSetting `json:"email,omitempty"`
	Message  *MediaSetting `json:"message,omitempty"`

	raw members
}

// MediaSetting is the part common to every media type's settings (SDK MediaSettings);
// callback and message extras stay in the unknown members.
type MediaSetting struct {
	EnableAutoAnswer             bool          `json:"enableAutoAnswer,omitempty"`
	AlertingTimeoutSeconds       int           `json:"alertingTimeoutSeconds,omitempty"`
	ServiceLevel                 *ServiceLevel `json:"serviceLevel,omitempty"`
	AutoAnswerAlertToneSeconds   float64       `json:"autoAnswerAlertToneSeconds,omitempty"`
	ManualAnswerAlertToneSeconds float64       `json:"manualAnswerAlertToneSeconds,omitempty"`

	raw members
}

// ServiceLevel is a media type's service-level target: Percentage in 0..1 within DurationMs.
type ServiceLevel struct {
	Percentage float64 `json:"percentage,omitempty"`
	DurationMs int64   `json:"durationMs,omitempty"`

	raw members
}

// AcwSettings is Queue.acwSettings (after-call work).
type AcwSettings struct {
	WrapupPrompt string `json:"wrapupPrompt,omitempty"` // MANDATORY | OPTIONAL | MANDATORY_TIMEOUT | MANDATORY_FORCED_TIMEOUT | AGENT_REQUESTED
	TimeoutMs    int    `json:"timeoutMs,omitempty"`

	raw members
}

// RoutingRule is one entry of Queue.routingRules.
type RoutingRule struct {
	Operator    string  `json:"operator,omitempty"` // MEETS_THRESHOLD | ANY
	Threshold   int     `json:"threshold,omitempty"`
	WaitSeconds float64 `json:"waitSeconds,omitempty"`

	raw members
}

// Skill is a routing skill (SDK RoutingSkill; docs/genesys-api.md §3). Version is
// the server's concurrency token ("Version must be the current version").
type Skill struct {
	ID           string `json:"id,omitempty"`
	Name         string `json:"name,omitempty"`
	DateModified string `json:"dateModified,omitempty"`
	State        string `json:"state,omitempty"` // active | inactive | deleted
	Version      string `json:"version,omitempty"`
	SelfURI      string `json:"selfUri,omitempty"`

	raw members
}

// Language is a routing language (SDK Language; GET /api/v2/routing/languages).
// Worktypes reference one as defaultLanguage {id, selfUri} (SDK
// Languagereference, no name), so the list is the only way to name it.
// State's values are not enumerated in the SDK model; skills use
// active|inactive|deleted and languages are assumed to match (UNVERIFIED).
type Language struct {
	ID           string `json:"id,omitempty"`
	Name         string `json:"name,omitempty"`
	State        string `json:"state,omitempty"`
	Version      string `json:"version,omitempty"`
	DateModified string `json:"dateModified,omitempty"`
	SelfURI      string `json:"selfUri,omitempty"`

	raw members
}

// Division is an authorization division (SDK AuthzDivision).
type Division struct {
	ID           string `json:"id,omitempty"`
	Name         string `json:"name,omitempty"`
	Description  string `json:"description,omitempty"`
	HomeDivision bool   `json:"homeDivision,omitempty"`
	SelfURI      string `json:"selfUri,omitempty"`

	raw members
}

// Worktype is a task-management worktype (SDK Worktype; docs/genesys-api.md §4).
// Members whose zero value is meaningful are pointers, so "absent" and "0"/"false" differ.
type Worktype struct {
	ID                        string `json:"id,omitempty"`
	Name                      string `json:"name,omitempty"`
	Division                  *Ref   `json:"division,omitempty"`
	Description               string `json:"description,omitempty"`
	DateCreated               string `json:"dateCreated,omitempty"`
	DateModified              string `json:"dateModified,omitempty"`
	ModifiedBy                *Ref   `json:"modifiedBy,omitempty"`
	DefaultWorkbin            *Ref   `json:"defaultWorkbin,omitempty"`
	DefaultStatus             *Ref   `json:"defaultStatus,omitempty"`
	DefaultDurationSeconds    *int   `json:"defaultDurationSeconds,omitempty"`
	DefaultExpirationSeconds  *int   `json:"defaultExpirationSeconds,omitempty"`
	DefaultDueDurationSeconds *int   `json:"defaultDueDurationSeconds,omitempty"`
	DefaultTTLSeconds         *int   `json:"defaultTtlSeconds,omitempty"`
	DefaultPriority           *int   `json:"defaultPriority,omitempty"` // -25,000,000..25,000,000
	DefaultLanguage           *Ref   `json:"defaultLanguage,omitempty"`
	DefaultQueue              *Ref   `json:"defaultQueue,omitempty"`
	DefaultSkills             []Ref  `json:"defaultSkills,omitempty"`
	AssignmentEnabled         *bool  `json:"assignmentEnabled,omitempty"`
	ServiceLevelTarget        *int   `json:"serviceLevelTarget,omitempty"`
	SelfURI                   string `json:"selfUri,omitempty"`

	raw members
}

// Workbin is a task-management workbin (SDK Workbin).
type Workbin struct {
	ID           string `json:"id,omitempty"`
	Name         string `json:"name,omitempty"`
	Division     *Ref   `json:"division,omitempty"`
	Description  string `json:"description,omitempty"`
	DateCreated  string `json:"dateCreated,omitempty"`
	DateModified string `json:"dateModified,omitempty"`
	ModifiedBy   *Ref   `json:"modifiedBy,omitempty"`
	SelfURI      string `json:"selfUri,omitempty"`

	raw members
}

// Utilization is the organization's utilization (SDK UtilizationRequest /
// UtilizationResponse; docs/genesys-api.md §5). A PUT sets every omitted media type
// to the system default.
type Utilization struct {
	Utilization       map[string]MediaUtilization `json:"utilization,omitempty"` // media type -> settings
	LabelUtilizations map[string]LabelUtilization `json:"labelUtilizations,omitempty"`

	raw members
}

// MediaUtilization is one media type's utilization.
type MediaUtilization struct {
	MaximumCapacity         int      `json:"maximumCapacity"`
	InterruptableMediaTypes []string `json:"interruptableMediaTypes,omitempty"`
	IncludeNonAcd           bool     `json:"includeNonAcd,omitempty"`

	raw members
}

// LabelUtilization is one utilization label's settings.
type LabelUtilization struct {
	MaximumCapacity      int      `json:"maximumCapacity"`
	InterruptingLabelIDs []string `json:"interruptingLabelIds,omitempty"`

	raw members
}

// Code below: the same two small methods per model. The repetition is what Go
// requires, not an oversight: json.Marshaler/Unmarshaler must be methods of
// each type, a generic type cannot carry them for a named struct, and a method
// promoted from an embedded helper would see only the helper, not the model's
// fields. Each body is one call into decodeObject or encodeObject,
// where the logic lives once.

// UnmarshalJSON decodes leniently and keeps every member (see decodeObject).
func (r *Ref) UnmarshalJSON(b []byte) error {
	type plain Ref
	return decodeObject(b, (*plain)(r), &r.raw)
}

// MarshalJSON re-emits every member received, with the caller's edits (see encodeObject).
func (r Ref) MarshalJSON() ([]byte, error) {
	type plain Ref
	return encodeObject(plain(r), r.raw)
}

// UnmarshalJSON decodes leniently and keeps every member (see decodeObject).
func (q *Queue) UnmarshalJSON(b []byte) error {
	type plain Queue
	return decodeObject(b, (*plain)(q), &q.raw)
}

// MarshalJSON re-emits every member received, with the caller's edits (see encodeObject).
func (q Queue) MarshalJSON() ([]byte, error) {
	type plain Queue
	return encodeObject(plain(q), q.raw)
}

// UnmarshalJSON decodes leniently and keeps every member (see decodeObject).
func (q *QueueMediaSettings) UnmarshalJSON(b []byte) error {
	type plain QueueMediaSettings
	return decodeObject(b, (*plain)(q), &q.raw)
}

// MarshalJSON re-emits every member received, with the caller's edits (see encodeObject).
func (q QueueMediaSettings) MarshalJSON() ([]byte, error) {
	type plain QueueMediaSettings
	return encodeObject(plain(q), q.raw)
}

// UnmarshalJSON decodes leniently and keeps every member (see decodeObject).
func (m *MediaSetting) UnmarshalJSON(b []byte) error {
	type plain MediaSetting
	return decodeObject(b, (*plain)(m), &m.raw)
}

// MarshalJSON re-emits every member received, with the caller's edits (see encodeObject).
func (m MediaSetting) MarshalJSON() ([]byte, error) {
	type plain MediaSetting
	return encodeObject(plain(m), m.raw)
}

// UnmarshalJSON decodes leniently and keeps every member (see decodeObject).
func (s *ServiceLevel) UnmarshalJSON(b []byte) error {
	type plain ServiceLevel
	return decodeObject(b, (*plain)(s), &s.raw)
}

// MarshalJSON re-emits every member received, with the caller's edits (see encodeObject).
func (s ServiceLevel) MarshalJSON() ([]byte, error) {
	type plain ServiceLevel
	return encodeObject(plain(s), s.raw)
}

// UnmarshalJSON decodes leniently and keeps every member (see decodeObject).
func (a *AcwSettings) UnmarshalJSON(b []byte) error {
	type plain AcwSettings
	return decodeObject(b, (*plain)(a), &a.raw)
}

// MarshalJSON re-emits every member received, with the caller's edits (see encodeObject).
func (a AcwSettings) MarshalJSON() ([]byte, error) {
	type plain AcwSettings
	return encodeObject(plain(a), a.raw)
}

// UnmarshalJSON decodes leniently and keeps every member (see decodeObject).
func (r *RoutingRule) UnmarshalJSON(b []byte) error {
	type plain RoutingRule
	return decodeObject(b, (*plain)(r), &r.raw)
}

// MarshalJSON re-emits every member received, with the caller's edits (see encodeObject).
func (r RoutingRule) MarshalJSON() ([]byte, error) {
	type plain RoutingRule
	return encodeObject(plain(r), r.raw)
}

// UnmarshalJSON decodes leniently and keeps every member (see decodeObject).
func (s *Skill) UnmarshalJSON(b []byte) error {
	type plain Skill
	return decodeObject(b, (*plain)(s), &s.raw)
}

// MarshalJSON re-emits every member received, with the caller's edits (see encodeObject).
func (s Skill) MarshalJSON() ([]byte, error) {
	type plain Skill
	return encodeObject(plain(s), s.raw)
}

// UnmarshalJSON decodes leniently and keeps every member (see decodeObject).
func (l *Language) UnmarshalJSON(b []byte) error {
	type plain Language
	return decodeObject(b, (*plain)(l), &l.raw)
}

// MarshalJSON re-emits every member received, with the caller's edits (see encodeObject).
func (l Language) MarshalJSON() ([]byte, error) {
	type plain Language
	return encodeObject(plain(l), l.raw)
}

// UnmarshalJSON decodes leniently and keeps every member (see decodeObject).
func (d *Division) UnmarshalJSON(b []byte) error {
	type plain Division
	return decodeObject(b, (*plain)(d), &d.raw)
}

// MarshalJSON re-emits every member received, with the caller's edits (see encodeObject).
func (d Division) MarshalJSON() ([]byte, error) {
	type plain Division
	return encodeObject(plain(d), d.raw)
}

// UnmarshalJSON decodes leniently and keeps every member (see decodeObject).
func (w *Worktype) UnmarshalJSON(b []byte) error {
	type plain Worktype
	return decodeObject(b, (*plain)(w), &w.raw)
}

// MarshalJSON re-emits every member received, with the caller's edits (see encodeObject).
func (w Worktype) MarshalJSON() ([]byte, error) {
	type plain Worktype
	return encodeObject(plain(w), w.raw)
}

// UnmarshalJSON decodes leniently and keeps every member (see decodeObject).
func (w *Workbin) UnmarshalJSON(b []byte) error {
	type plain Workbin
	return decodeObject(b, (*plain)(w), &w.raw)
}

// MarshalJSON re-emits every member received, with the caller's edits (see encodeObject).
func (w Workbin) MarshalJSON() ([]byte, error) {
	type plain Workbin
	return encodeObject(plain(w), w.raw)
}

// UnmarshalJSON decodes leniently and keeps every member (see decodeObject).
func (u *Utilization) UnmarshalJSON(b []byte) error {
	type plain Utilization
	return decodeObject(b, (*plain)(u), &u.raw)
}

// MarshalJSON re-emits every member received, with the caller's edits (see encodeObject).
func (u Utilization) MarshalJSON() ([]byte, error) {
	type plain Utilization
	return encodeObject(plain(u), u.raw)
}

// UnmarshalJSON decodes leniently and keeps every member (see decodeObject).
func (m *MediaUtilization) UnmarshalJSON(b []byte) error {
	type plain MediaUtilization
	return decodeObject(b, (*plain)(m), &m.raw)
}

// MarshalJSON re-emits every member received, with the caller's edits (see encodeObject).
func (m MediaUtilization) MarshalJSON() ([]byte, error) {
	type plain MediaUtilization
	return encodeObject(plain(m), m.raw)
}

// UnmarshalJSON decodes leniently and keeps every member (see decodeObject).
func (l *LabelUtilization) UnmarshalJSON(b []byte) error {
	type plain LabelUtilization
	return decodeObject(b, (*plain)(l), &l.raw)
}

// MarshalJSON re-emits every member received, with the caller's edits (see encodeObject).
func (l LabelUtilization) MarshalJSON() ([]byte, error) {
	type plain LabelUtilization
	return encodeObject(plain(l), l.raw)
}
