# Decides whether Responder may run one proposed remediation, and how many humans must agree.
#
# Input: PolicyInputSchema (src/domain/decision.ts), version 1.
# Output: data.responder.incident_response.decision, parsed by PolicyDecisionSchema.
#
# Everything is denied unless a rule below permits it; every deny carries a sentence a human
# can act on, because the reasons are shown on the incident page and in chat.
package responder.incident_response

# Services whose restart or change can lock everyone out (secrets, PKI, SSO, the database,
# the monitoring that would tell us it went wrong). A human handles these.
critical_services := {"openbao", "step-ca", "keycloak", "postgresql", "monitoring-stack"}

# Namespaces whose workloads keep the cluster itself running (DNS, networking, storage).
critical_namespaces := {"kube-system"}

# Types that change state. A catalog entry of one of these types cannot opt out of approval by
# claiming read_only, so the claim is only trusted for other types.
state_changing_types := {"restart", "scale", "rollback", "clear-disk", "block-host"}

known_modes := {"diagnose-only", "approve", "auto"}

max_remediations_per_target_per_hour := 5

auto_min_confidence := 0.8

# Systemd unit names arrive as "openbao.service" or templated as "postgresql@16-main.service";
# both must still match the critical set.
unit_name(value) := split(trim_suffix(lower(value), ".service"), "@")[0]

# The primary target and every input the catalog says names a service: a change that touches a
# critical service anywhere in its inputs is a change to that service.
service_names contains unit_name(input.action.target) if is_string(input.action.target)

service_names contains unit_name(t.value) if {
	some t in input.action.targets
	t.kind == "service"
}

# A deployment is the service it runs: scaling the keycloak deployment is a change to keycloak.
service_names contains lower(t.value) if {
	some t in input.action.targets
	t.kind == "deployment"
}

critical_services_touched contains name if {
	some name in service_names
	name in critical_services
}

critical_namespaces_touched contains name if {
	some t in input.action.targets
	t.kind == "namespace"
	name := lower(t.value)
	name in critical_namespaces
}

critical_target if count(critical_services_touched) > 0

critical_target if count(critical_namespaces_touched) > 0

severity_critical if lower(input.alert.severity) == "critical"

# Missing or non-true read_only counts as a state change: fail closed.
state_change if not input.action.read_only == true

state_change if input.action.type in state_changing_types

action_permitted if not state_change

action_permitted if input.action.type in state_changing_types

# --- deny reasons ---

deny contains msg if {
	not input.version == 1
	msg := sprintf("policy input version %v is not supported (expected 1)", [object.get(input, "version", "missing")])
}

deny contains "policy input has no action type" if not input.action.type

deny contains msg if {
	input.action.type
	not action_permitted
	msg := sprintf("action type %v is not permitted by policy", [input.action.type])
}

deny contains "diagnose-only mode never executes" if input.incident.mode == "diagnose-only"

mode_known if input.incident.mode in known_modes

deny contains msg if {
	not mode_known
	msg := sprintf("mode %v is not known to policy", [object.get(input, ["incident", "mode"], "missing")])
}

deny contains msg if {
	input.action.destructive == true
	input.action.target_type == "vm"
	msg := sprintf("destructive action %v on vm %v is not allowed", [input.action.type, input.action.target])
}

# Repeated fixes on one target mean the fix is not working; stop and let a human look.
# Read-only actions are not remediations and are not limited.
deny contains msg if {
	state_change
	recent := input.history.target_remediations_last_hour
	recent >= max_remediations_per_target_per_hour
	msg := sprintf(
		"target %v had %d remediations in the last hour (limit %d)",
		[input.action.target, recent, max_remediations_per_target_per_hour],
	)
}

deny contains "dry run failed" if {
	input.incident.dry_run.ok == false
	input.incident.dry_run.skipped == false
}

# --- approval ---

# Critical services and critical alerts always get humans, even when every other auto condition holds:
# they need approval (two distinct people for a critical service), never a blanket deny, because the
# most important incidents are the ones most worth fixing.
auto_eligible if {
	state_change
	input.incident.mode == "auto"
	input.action.risk == "low"
	not severity_critical
	not critical_target
	input.incident.confidence >= auto_min_confidence
}

default require_approval := true

require_approval := false if not state_change

require_approval := false if auto_eligible

approvals_required := 0 if {
	not require_approval
} else := 2 if {
	critical_target
} else := 1

default allow := false

allow if {
	count(deny) == 0
	action_permitted
}

# Why people are asked, in words shown to them beside the request.
reasons contains msg if {
	require_approval
	some name in critical_services_touched
	msg := sprintf("%v is a critical service: two different people must approve", [name])
}

reasons contains msg if {
	require_approval
	some name in critical_namespaces_touched
	msg := sprintf("%v is a critical namespace: two different people must approve", [name])
}

reasons contains "the alert is critical: a person decides" if {
	require_approval
	severity_critical
}

reasons contains msg if {
	require_approval
	input.incident.mode == "approve"
	msg := "approve mode: every change waits for a person"
}

reasons contains msg if {
	require_approval
	input.incident.mode == "auto"
	not auto_eligible
	msg := "auto mode runs only low-risk, confident changes to non-critical targets"
}

decision := {
	"allow": allow,
	"deny": sort(deny),
	"require_approval": require_approval,
	"approvals_required": approvals_required,
	"auto_execute": auto_execute,
	"reasons": sort(reasons),
}

default auto_execute := false

auto_execute if {
	allow
	not require_approval
}
