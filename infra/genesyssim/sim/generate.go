package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
)

// GenerateOptions sizes a generated org. Zero Queues/Skills/Worktypes generate none;
// Workbins 0 means one per five worktypes (at least one when there are worktypes);
// Divisions 0 means 4 (Home plus three); Languages 0 means 6 (English first), a negative
// value none.
type GenerateOptions struct {
	Queues, Skills, Worktypes, Workbins, Divisions, Languages int
	Seed                                                      int64
}

var (
	genDepartments = []string{"Claims", "Billing", "Sales", "Customer Care", "Technical Support", "Retentions",
		"Collections", "Onboarding", "Renewals", "Fraud", "Payments", "Returns", "Warranty", "Appointments",
		"Escalations", "Accounts", "Orders", "Shipping", "Loyalty", "Complaints"}
	genFunctions = []string{"Inbound", "Callbacks", "Chat", "Email", "Messaging", "Tasks", "VIP", "Priority",
		"Overflow", "Back Office", "Follow-ups", "Spanish", "French", "Tier 2", "After Hours"}
	genRegions = []string{"EMEA", "NA", "APAC", "LATAM", "UK", "DACH", "Nordics", "ANZ", "Iberia", "Benelux",
		"Canada", "India", "Japan", "Brazil", "Mexico", "France", "Italy"}
	genSkills = []string{"English", "Spanish", "French", "German", "Portuguese", "Italian", "Dutch", "Japanese",
		"Mandarin", "Hindi", "Auto Claims", "Home Claims", "Life Policies", "Credit Cards", "Mortgages",
		"Broadband", "Mobile Plans", "TV Packages", "Travel Insurance", "Pet Insurance", "Business Accounts",
		"Savings Accounts", "Loans", "Refunds", "Chargebacks", "Identity Verification", "Licensed Adjuster",
		"PCI Certified", "Supervisor", "Escalation Handler", "Retention Specialist", "Fraud Investigator",
		"Complaints Handling", "Vulnerable Customers", "Bereavement", "Field Scheduling", "Hardware Returns",
		"Router Setup", "Fiber Installs", "Roaming", "Porting", "Device Insurance", "Premium Support",
		"Enterprise Accounts", "Small Business", "Student Accounts", "Pensions", "Investments", "Tax Documents",
		"Direct Debits", "Overdrafts", "Card Replacement", "Travel Notices", "Disputes", "Subrogation",
		"Total Loss", "Glass Claims", "Storm Claims", "Flood Claims", "Medical Claims"}
	genSkillLevels   = []string{" - Level 1", " - Level 2", " - Level 3", " - Expert"}
	genWorktypeKinds = []string{"Tasks", "Follow-ups", "Reviews", "Requests", "Cases", "Escalations",
		"Back Office", "Approvals", "Callbacks", "Audits"}
	// genLanguages are routing language names as orgs name them; English is always the
	// first generated language.
	genLanguages = []string{"Spanish", "French", "German", "Portuguese", "Italian", "Dutch", "Japanese",
		"Mandarin", "Cantonese", "Hindi", "Arabic", "Polish", "Swedish", "Danish", "Norwegian", "Finnish",
		"Greek", "Turkish", "Korean", "Russian", "Czech", "Hungarian", "Romanian", "Hebrew", "Thai",
		"Vietnamese", "Tagalog", "Ukrainian", "Malay", "Indonesian"}
	genDivisions = []string{"Claims", "Billing", "Sales", "Customer Care", "Digital", "Back Office", "Partners",
		"Collections", "Retail", "Enterprise"}
	genEpoch = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
)

type generator struct {
	r      *rand.Rand
	admins []string
}

func (g *generator) id() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := g.r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return uuid.UUID(b).String()
}

func (g *generator) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

// dates returns a created/modified pair within the two years before the epoch.
func (g *generator) dates() (string, string) {
	created := genEpoch.Add(-time.Duration(30+g.r.IntN(700)) * 24 * time.Hour).Add(time.Duration(g.r.IntN(86400)) * time.Second)
	modified := created.Add(time.Duration(g.r.IntN(int(genEpoch.Sub(created)/time.Second))) * time.Second)
	return fmtTime(created), fmtTime(modified)
}

// names returns n unique names: each group in order (shuffled within), then numbered.
func (g *generator) names(n int, groups ...[]string) []string {
	out := make([]string, 0, n)
	for _, grp := range groups {
		if len(out) >= n {
			break
		}
		cp := append([]string(nil), grp...)
		g.r.Shuffle(len(cp), func(i, j int) { cp[i], cp[j] = cp[j], cp[i] })
		out = append(out, cp[:min(len(cp), n-len(out))]...)
	}
	base := len(out)
	if base == 0 && n > 0 {
		out, base = append(out, "Routing"), 1
	}
	for i := 0; len(out) < n; i++ {
		out = append(out, fmt.Sprintf("%s %d", out[i%base], 2+i/base))
	}
	return out
}

func cross(prefixes, suffixes []string, sep string) []string {
	out := make([]string, 0, len(prefixes)*len(suffixes))
	for _, p := range prefixes {
		for _, s := range suffixes {
			out = append(out, p+sep+s)
		}
	}
	return out
}

// Generate returns a deterministic, realistic org for o.Seed: divisions, skills, routing
// languages, queues (media settings, ACW, skill evaluation, bullseye rings on some),
// workbins and worktypes (default queue, skills, language, priority, statuses). 5,000
// queues take milliseconds.
//
// Languages and the worktypes' defaultLanguage draw from their own random stream, so
// every other entity is the same as before languages were generated: ids and values of a
// seed stay stable.
func Generate(o GenerateOptions) Fixture {
	g := &generator{r: rand.New(rand.NewPCG(uint64(o.Seed), 0x5eed5eed))}
	for range 6 {
		g.admins = append(g.admins, g.id())
	}
	var f Fixture

	nd := o.Divisions
	if nd <= 0 {
		nd = 4
	}
	divNames := append([]string{"Home"}, g.names(nd-1, genDivisions)...)
	for i, name := range divNames {
		d := map[string]any{"id": g.id(), "name": name, "description": name + " division", "homeDivision": i == 0}
		if i == 0 {
			d["description"] = "Home Division"
		}
		d["selfUri"] = "/api/v2/authorization/divisions/" + str(d, "id")
		f.Divisions = append(f.Divisions, d)
	}
	division := func() map[string]any {
		if g.r.IntN(2) == 0 {
			return divisionRef(f.Divisions[0])
		}
		return divisionRef(f.Divisions[g.r.IntN(len(f.Divisions))])
	}

	var regionSkills []string
	for _, r := range genRegions {
		regionSkills = append(regionSkills, cross([]string{r}, genSkills, " ")...)
	}
	for _, name := range g.names(o.Skills, genSkills, cross(genSkills, genSkillLevels, ""), regionSkills) {
		_, mod := g.dates()
		id := g.id()
		f.Skills = append(f.Skills, map[string]any{
			"id": id, "name": name, "dateModified": mod, "state": "active",
			"version": fmt.Sprint(1 + g.r.IntN(4)), "selfUri": "/api/v2/routing/skills/" + id,
		})
	}

	base := cross(genDepartments, genFunctions, " ")
	groups := [][]string{base}
	for _, r := range genRegions {
		groups = append(groups, cross([]string{r}, base, " "))
	}
	queueNames := g.names(o.Queues, groups...)
	queueByDept := map[string][]map[string]any{}
	for _, name := range queueNames {
		q := g.queue(name, division(), f.Skills)
		f.Queues = append(f.Queues, q)
		for _, d := range genDepartments {
			if containsWord(name, d) {
				queueByDept[d] = append(queueByDept[d], q)
				break
			}
		}
	}

	nb := o.Workbins
	if nb <= 0 && o.Worktypes > 0 {
		nb = max(1, (o.Worktypes+4)/5)
	}
	for _, name := range g.names(nb, cross(genDepartments, []string{"Work"}, " "), cross(genRegions, cross(genDepartments, []string{"Work"}, " "), " ")) {
		created, mod := g.dates()
		id := g.id()
		f.Workbins = append(f.Workbins, map[string]any{
			"id": id, "name": name, "division": division(), "description": "Workitems for " + name,
			"dateCreated": created, "dateModified": mod,
			"modifiedBy": map[string]any{"id": g.pick(g.admins), "selfUri": "/api/v2/users/" + g.pick(g.admins)},
			"selfUri":    "/api/v2/taskmanagement/workbins/" + id,
		})
	}

	wtBase := cross(genDepartments, genWorktypeKinds, " ")
	wtGroups := [][]string{wtBase}
	for _, r := range genRegions {
		wtGroups = append(wtGroups, cross([]string{r}, wtBase, " "))
	}
	for _, name := range g.names(o.Worktypes, wtGroups...) {
		var dept string
		for _, d := range genDepartments {
			if containsWord(name, d) {
				dept = d
				break
			}
		}
		f.Worktypes = append(f.Worktypes, g.worktype(name, division(), f.Workbins, queueByDept[dept], f.Queues, f.Skills))
	}
	generateLanguages(&f, o)
	return f
}

// generateLanguages adds o.Languages routing languages (English first) and gives about
// two worktypes in three a defaultLanguage, English for half of those, as a
// Languagereference {id, selfUri} (no name, as the API returns it).
func generateLanguages(f *Fixture, o GenerateOptions) {
	n := o.Languages
	if n == 0 {
		n = 6
	}
	if n < 0 {
		return
	}
	g := &generator{r: rand.New(rand.NewPCG(uint64(o.Seed), 0x1a9c0de5))}
	names := append([]string{"English"}, g.names(n-1, genLanguages)...)
	for _, name := range names[:n] {
		_, mod := g.dates()
		id := g.id()
		f.Languages = append(f.Languages, map[string]any{
			"id": id, "name": name, "dateModified": mod, "state": "active",
			"version": fmt.Sprint(1 + g.r.IntN(3)), "selfUri": "/api/v2/routing/languages/" + id,
		})
	}
	for _, wt := range f.Worktypes {
		if g.r.IntN(3) == 0 {
			continue
		}
		l := f.Languages[0]
		if g.r.IntN(2) == 0 {
			l = f.Languages[g.r.IntN(len(f.Languages))]
		}
		wt["defaultLanguage"] = map[string]any{"id": str(l, "id"), "selfUri": str(l, "selfUri")}
	}
}

func containsWord(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i:i+len(w)] == w && (i == 0 || s[i-1] == ' ') && (i+len(w) == len(s) || s[i+len(w)] == ' ') {
			return true
		}
	}
	return false
}

func (g *generator) queue(name string, div map[string]any, skills []map[string]any) map[string]any {
	created, mod := g.dates()
	id := g.id()
	sl := []float64{0.7, 0.8, 0.8, 0.9}
	media := func(alert float64, durMs float64) map[string]any {
		return map[string]any{
			"enableAutoAnswer":             g.r.IntN(10) == 0,
			"alertingTimeoutSeconds":       alert,
			"serviceLevel":                 map[string]any{"percentage": sl[g.r.IntN(len(sl))], "durationMs": durMs},
			"autoAnswerAlertToneSeconds":   0.0,
			"manualAnswerAlertToneSeconds": 0.0,
		}
	}
	call := media(float64([]int{8, 10, 12, 15, 20}[g.r.IntN(5)]), float64([]int{20, 30, 45, 60}[g.r.IntN(4)])*1000)
	callback := media(30, 3600000)
	callback["mode"] = []string{"AgentFirst", "CustomerFirst"}[g.r.IntN(2)]
	callback["enableAutoDialAndEnd"] = g.r.IntN(3) == 0
	callback["autoDialDelaySeconds"] = 300.0
	callback["autoEndDelaySeconds"] = 300.0
	message := media(30, 60000)
	message["enableInactivityTimeout"] = false
	message["subTypeSettings"] = map[string]any{}
	members := float64(g.r.IntN(80))
	q := map[string]any{
		"id":          id,
		"name":        name,
		"division":    div,
		"description": fmt.Sprintf("%s queue. Owner: contact centre operations.", name),
		"dateCreated": created, "dateModified": mod,
		"createdBy": g.pick(g.admins), "modifiedBy": g.pick(g.admins),
		"memberCount": members, "userMemberCount": members, "joinedMemberCount": float64(g.r.IntN(int(members) + 1)),
		"mediaSettings": map[string]any{
			"call": call, "callback": callback, "chat": media(30, 20000),
			"email": media(300, 86400000), "message": message,
		},
		"routingRules":                 []any{},
		"skillEvaluationMethod":        []string{"ALL", "ALL", "BEST", "BEST", "NONE"}[g.r.IntN(5)],
		"scoringMethod":                []string{"TimestampAndPriority", "TimestampAndPriority", "PriorityOnly"}[g.r.IntN(3)],
		"lastAgentRoutingMode":         []string{"Disabled", "Disabled", "QueueMembersOnly", "AnyAgent"}[g.r.IntN(4)],
		"autoAnswerOnly":               false,
		"enableTranscription":          g.r.IntN(2) == 0,
		"enableAudioMonitoring":        g.r.IntN(4) == 0,
		"enableManualAssignment":       g.r.IntN(3) == 0,
		"suppressInQueueCallRecording": true,
		"selfUri":                      "/api/v2/routing/queues/" + id,
	}
	prompt := wrapupValues[g.r.IntN(len(wrapupValues))]
	acw := map[string]any{"wrapupPrompt": prompt}
	if prompt == "MANDATORY_TIMEOUT" || prompt == "MANDATORY_FORCED_TIMEOUT" || prompt == "AGENT_REQUESTED" {
		acw["timeoutMs"] = float64([]int{30, 60, 120, 300}[g.r.IntN(4)]) * 1000
	}
	q["acwSettings"] = acw
	if g.r.IntN(4) == 0 {
		q["routingRules"] = []any{
			map[string]any{"operator": "MEETS_THRESHOLD", "threshold": 9.0, "waitSeconds": 10.0},
			map[string]any{"operator": "ANY", "waitSeconds": 30.0},
		}
	}
	if g.r.IntN(5) == 0 && len(skills) > 0 {
		rings := []any{}
		n := 2 + g.r.IntN(3)
		for i := range n {
			ring := map[string]any{"expansionCriteria": []any{map[string]any{"type": "TIMEOUT_SECONDS", "threshold": float64(15 * (i + 1))}}}
			sk := skills[g.r.IntN(len(skills))]
			ring["actions"] = map[string]any{"skillsToRemove": []any{map[string]any{"id": str(sk, "id"), "name": str(sk, "name"), "selfUri": str(sk, "selfUri")}}}
			rings = append(rings, ring)
		}
		q["bullseye"] = map[string]any{"rings": rings}
	}
	if g.r.IntN(3) == 0 {
		q["callingPartyName"] = "Acme Mutual"
		q["callingPartyNumber"] = fmt.Sprintf("+1317555%04d", g.r.IntN(10000))
	}
	return q
}

func (g *generator) worktype(name string, div map[string]any, bins, deptQueues, queues, skills []map[string]any) map[string]any {
	created, mod := g.dates()
	id := g.id()
	wt := map[string]any{
		"id": id, "name": name, "division": div,
		"description": fmt.Sprintf("%s handled by the back office.", name),
		"dateCreated": created, "dateModified": mod,
		"modifiedBy":                        map[string]any{"id": g.pick(g.admins), "selfUri": "/api/v2/users/" + g.pick(g.admins)},
		"defaultDurationSeconds":            float64([]int{3600, 14400, 86400}[g.r.IntN(3)]),
		"defaultExpirationSeconds":          float64(30 * 86400),
		"defaultDueDurationSeconds":         float64([]int{86400, 172800, 604800}[g.r.IntN(3)]),
		"defaultTtlSeconds":                 float64(90 * 86400),
		"defaultPriority":                   float64(g.r.IntN(11) * 2_500_000),
		"assignmentEnabled":                 g.r.IntN(4) != 0,
		"serviceLevelTarget":                float64([]int{80, 90, 100}[g.r.IntN(3)]),
		"unassignedDivisionContactsEnabled": false,
		"selfUri":                           "/api/v2/taskmanagement/worktypes/" + id,
	}
	if len(bins) > 0 {
		b := bins[g.r.IntN(len(bins))]
		wt["defaultWorkbin"] = map[string]any{"id": str(b, "id"), "selfUri": "/api/v2/taskmanagement/workbins/" + str(b, "id")}
	}
	statuses := []any{}
	for _, st := range []struct{ name, cat string }{{"Open", "Open"}, {"In Progress", "InProgress"}, {"Waiting on Customer", "Waiting"}, {"Closed", "Closed"}} {
		sid := g.id()
		statuses = append(statuses, map[string]any{
			"id": sid, "name": st.name, "category": st.cat,
			"selfUri": "/api/v2/taskmanagement/worktypes/" + id + "/statuses/" + sid,
		})
	}
	wt["statuses"] = statuses
	open := statuses[0].(map[string]any)
	wt["defaultStatus"] = map[string]any{"id": str(open, "id"), "selfUri": str(open, "selfUri")}
	pool := deptQueues
	if len(pool) == 0 {
		pool = queues
	}
	if len(pool) > 0 {
		wt["defaultQueue"] = queueRef(pool[g.r.IntN(len(pool))])
	}
	if n := g.r.IntN(4); n > 0 && len(skills) > 0 {
		refs := []any{}
		seen := map[string]bool{}
		for range n {
			sk := skills[g.r.IntN(len(skills))]
			if seen[str(sk, "id")] {
				continue
			}
			seen[str(sk, "id")] = true
			refs = append(refs, map[string]any{"id": str(sk, "id"), "selfUri": "/api/v2/routing/skills/" + str(sk, "id")})
		}
		wt["defaultSkills"] = refs
	}
	return wt
}
