package responder.incident_response_test

import data.responder.incident_response

# An ordinary restart of a non-critical service in approve mode; each test changes only what it is about.
base := {
	"version": 1,
	"action": {
		"id": "restart-service",
		"type": "restart",
		"target": "nginx",
		"target_type": "service",
		"inputs": {"service": "nginx", "host": "web-1"},
		"risk": "medium",
		"read_only": false,
		"destructive": false,
	},
	"alert": {"name": "NginxDown", "severity": "warning", "instance": "web-1:9100", "labels": {}},
	"incident": {
		"id": "inc-1",
		"mode": "approve",
		"confidence": 0.9,
		"dry_run": {"ok": true, "skipped": false},
	},
	"history": {"target_remediations_last_hour": 0},
	"requester": "responder",
}

with_changes(patch) := object.union(base, patch)

auto_low := with_changes({"action": {"risk": "low"}, "incident": {"mode": "auto", "confidence": 0.8}})

read_only_check := with_changes({"action": {
	"id": "check-disk",
	"type": "inspect",
	"target": "web-1",
	"target_type": "host",
	"read_only": true,
	"risk": "low",
}})

decision_for(request) := d if {
	d := incident_response.decision with input as request
}

# --- restart ---

test_restart_of_non_critical_service_is_allowed_with_one_approval if {
	decision_for(base) == {
		"allow": true,
		"deny": [],
		"require_approval": true,
		"approvals_required": 1,
		"auto_execute": false,
		"reasons": ["approve mode: every change waits for a person"],
	}
}

test_restart_of_each_critical_service_needs_two_approvers if {
	every name in ["openbao", "step-ca", "keycloak", "postgresql", "monitoring-stack"] {
		d := decision_for(with_changes({"action": {"target": name}}))
		d.allow == true
		d.require_approval == true
		d.approvals_required == 2
		d.auto_execute == false
		sprintf("%s is a critical service: two different people must approve", [name]) in d.reasons
	}
}

test_restart_of_critical_service_matches_systemd_unit_names if {
	every unit in ["openbao.service", "OpenBao", "postgresql@16-main.service", "postgresql@16-main"] {
		d := decision_for(with_changes({"action": {"target": unit}}))
		d.allow == true
		d.approvals_required == 2
	}
}

test_a_critical_service_named_by_any_target_input_needs_two_approvers if {
	request := with_changes({"action": {
		"target": "web-1",
		"target_type": "host",
		"targets": [{"input": "host", "kind": "host", "value": "web-1"}, {"input": "service", "kind": "service", "value": "keycloak.service"}],
	}})
	d := decision_for(request)
	d.allow == true
	d.approvals_required == 2
	d.reasons == ["approve mode: every change waits for a person", "keycloak is a critical service: two different people must approve"]
}

test_restart_at_critical_severity_is_allowed_with_a_human if {
	d := decision_for(with_changes({"alert": {"severity": "critical"}}))
	d.allow == true
	d.require_approval == true
	d.approvals_required == 1
	d.auto_execute == false
	"the alert is critical: a person decides" in d.reasons
}

test_severity_match_ignores_case if {
	d := decision_for(with_changes({"alert": {"severity": "CRITICAL"}}))
	"the alert is critical: a person decides" in d.reasons
}

test_critical_service_at_critical_severity_gives_both_reasons_sorted if {
	d := decision_for(with_changes({"action": {"target": "keycloak"}, "alert": {"severity": "critical"}}))
	d.allow == true
	d.approvals_required == 2
	d.reasons == [
		"approve mode: every change waits for a person",
		"keycloak is a critical service: two different people must approve",
		"the alert is critical: a person decides",
	]
}

# --- other state-changing types ---

test_each_other_state_changing_type_is_allowed_with_approval if {
	every type in ["scale", "rollback", "clear-disk", "block-host"] {
		d := decision_for(with_changes({"action": {"type": type}}))
		d.allow == true
		d.require_approval == true
		d.approvals_required == 1
		d.auto_execute == false
	}
}

test_non_restart_change_on_critical_service_needs_two_approvals if {
	d := decision_for(with_changes({"action": {"type": "scale", "target": "keycloak"}}))
	d.allow == true
	d.require_approval == true
	d.approvals_required == 2
}

test_non_restart_change_is_not_blocked_by_critical_severity if {
	d := decision_for(with_changes({"action": {"type": "rollback"}, "alert": {"severity": "critical"}}))
	d.allow == true
	d.approvals_required == 1
}

# --- default deny ---

test_unknown_state_changing_type_is_denied if {
	d := decision_for(with_changes({"action": {"type": "reboot"}}))
	d.allow == false
	d.deny == ["action type reboot is not permitted by policy"]
}

test_missing_read_only_flag_counts_as_state_change if {
	request := json.remove(with_changes({"action": {"type": "reboot"}}), ["action/read_only"])
	d := decision_for(request)
	d.allow == false
	d.deny == ["action type reboot is not permitted by policy"]
}

test_missing_action_type_is_denied if {
	request := json.remove(base, ["action/type"])
	d := decision_for(request)
	d.allow == false
	d.deny == ["policy input has no action type"]
}

test_unsupported_input_version_is_denied if {
	d := decision_for(with_changes({"version": 2}))
	d.allow == false
	d.deny == ["policy input version 2 is not supported (expected 1)"]
}

test_unknown_mode_is_denied if {
	d := decision_for(with_changes({"incident": {"mode": "yolo"}}))
	d.allow == false
	d.deny == ["mode yolo is not known to policy"]
}

test_empty_input_is_a_full_deny_decision if {
	d := decision_for({})
	d.allow == false
	d.auto_execute == false
	d.require_approval == true
	"policy input has no action type" in d.deny
	"policy input version missing is not supported (expected 1)" in d.deny
	"mode missing is not known to policy" in d.deny
}

test_no_input_still_answers_deny if {
	d := incident_response.decision
	d.allow == false
	count(d.deny) > 0
}

# --- read-only ---

test_read_only_action_is_allowed_without_approval if {
	decision_for(read_only_check) == {
		"allow": true,
		"deny": [],
		"require_approval": false,
		"approvals_required": 0,
		"auto_execute": true,
		"reasons": [],
	}
}

test_read_only_action_on_critical_service_needs_no_approval if {
	d := decision_for(object.union(read_only_check, {"action": {"target": "openbao"}, "alert": {"severity": "critical"}}))
	d.allow == true
	d.approvals_required == 0
}

test_read_only_action_is_not_rate_limited if {
	d := decision_for(object.union(read_only_check, {"history": {"target_remediations_last_hour": 50}}))
	d.allow == true
}

test_read_only_claim_is_ignored_for_state_changing_types if {
	d := decision_for(with_changes({"action": {"read_only": true}}))
	d.allow == true
	d.require_approval == true
	d.approvals_required == 1
	d.auto_execute == false
}

test_read_only_claim_does_not_skip_approvals_for_a_critical_service if {
	d := decision_for(with_changes({"action": {"read_only": true, "target": "openbao"}}))
	d.allow == true
	d.require_approval == true
	d.approvals_required == 2
}

# --- destructive on vm ---

test_destructive_action_on_vm_is_denied if {
	d := decision_for(with_changes({"action": {"type": "rollback", "target": "vm-7", "target_type": "vm", "destructive": true}}))
	d.allow == false
	d.deny == ["destructive action rollback on vm vm-7 is not allowed"]
}

test_non_destructive_action_on_vm_is_allowed if {
	d := decision_for(with_changes({"action": {"type": "rollback", "target": "vm-7", "target_type": "vm", "destructive": false}}))
	d.allow == true
}

test_destructive_action_on_non_vm_is_allowed if {
	d := decision_for(with_changes({"action": {"type": "clear-disk", "target": "web-1", "target_type": "host", "destructive": true}}))
	d.allow == true
}

# --- rate limit ---

test_rate_limit_denies_at_five_remediations if {
	d := decision_for(with_changes({"history": {"target_remediations_last_hour": 5}}))
	d.allow == false
	d.deny == ["target nginx had 5 remediations in the last hour (limit 5)"]
}

test_rate_limit_reason_carries_the_count if {
	d := decision_for(with_changes({"history": {"target_remediations_last_hour": 12}}))
	d.deny == ["target nginx had 12 remediations in the last hour (limit 5)"]
}

test_four_remediations_are_still_allowed if {
	d := decision_for(with_changes({"history": {"target_remediations_last_hour": 4}}))
	d.allow == true
}

# --- dry run ---

test_failed_dry_run_is_denied if {
	d := decision_for(with_changes({"incident": {"dry_run": {"ok": false, "skipped": false}}}))
	d.allow == false
	d.deny == ["dry run failed"]
}

test_skipped_dry_run_is_not_a_failure if {
	d := decision_for(with_changes({"incident": {"dry_run": {"ok": false, "skipped": true}}}))
	d.allow == true
}

test_failed_dry_run_denies_read_only_action_too if {
	d := decision_for(object.union(read_only_check, {"incident": {"dry_run": {"ok": false, "skipped": false}}}))
	d.allow == false
	d.auto_execute == false
}

# --- modes ---

test_diagnose_only_mode_never_executes if {
	d := decision_for(with_changes({"incident": {"mode": "diagnose-only"}}))
	d.allow == false
	d.auto_execute == false
	d.deny == ["diagnose-only mode never executes"]
}

test_diagnose_only_mode_denies_read_only_action_too if {
	d := decision_for(object.union(read_only_check, {"incident": {"mode": "diagnose-only"}}))
	d.allow == false
	d.auto_execute == false
	d.deny == ["diagnose-only mode never executes"]
}

# --- auto path ---

test_auto_mode_low_risk_confident_change_executes_without_approval if {
	decision_for(auto_low) == {
		"allow": true,
		"deny": [],
		"require_approval": false,
		"approvals_required": 0,
		"auto_execute": true,
		"reasons": [],
	}
}

test_auto_mode_says_why_a_change_still_waits if {
	d := decision_for(object.union(auto_low, {"action": {"risk": "medium"}}))
	d.reasons == ["auto mode runs only low-risk, confident changes to non-critical targets"]
}

test_auto_needs_auto_mode if {
	d := decision_for(object.union(auto_low, {"incident": {"mode": "approve"}}))
	d.require_approval == true
	d.approvals_required == 1
	d.auto_execute == false
}

test_auto_needs_low_risk if {
	every risk in ["medium", "high"] {
		d := decision_for(object.union(auto_low, {"action": {"risk": risk}}))
		d.require_approval == true
		d.auto_execute == false
	}
}

test_auto_needs_confidence_of_at_least_0_8 if {
	d := decision_for(object.union(auto_low, {"incident": {"confidence": 0.79}}))
	d.allow == true
	d.require_approval == true
	d.approvals_required == 1
	d.auto_execute == false
}

test_auto_needs_non_critical_severity if {
	d := decision_for(object.union(auto_low, {"action": {"type": "scale"}, "alert": {"severity": "critical"}}))
	d.allow == true
	d.require_approval == true
	d.auto_execute == false
}

test_auto_never_applies_to_critical_services if {
	d := decision_for(object.union(auto_low, {"action": {"type": "scale", "target": "postgresql"}}))
	d.allow == true
	d.require_approval == true
	d.approvals_required == 2
	d.auto_execute == false
}

test_auto_eligible_but_denied_does_not_auto_execute if {
	d := decision_for(object.union(auto_low, {"history": {"target_remediations_last_hour": 5}}))
	d.allow == false
	d.require_approval == false
	d.auto_execute == false
}

# --- the shipped catalog's actions, as the catalog describes them to policy ---

rollback_caddy_config := with_changes({"action": {
	"id": "rollback-config",
	"type": "rollback",
	"target": "/etc/caddy/Caddyfile",
	"target_type": "config",
	"inputs": {"host": "gateway-stack", "config_path": "/etc/caddy/Caddyfile", "service": "caddy"},
	"targets": [
		{"input": "config_path", "kind": "path", "value": "/etc/caddy/Caddyfile"},
		{"input": "service", "kind": "service", "value": "caddy"},
		{"input": "host", "kind": "host", "value": "gateway-stack"},
	],
	"risk": "medium",
}})

test_rollback_config_needs_one_approval_and_two_for_a_critical_service if {
	d := decision_for(rollback_caddy_config)
	d.allow == true
	d.approvals_required == 1
	d.auto_execute == false
	critical := json.patch(rollback_caddy_config, [{"op": "replace", "path": "/action/targets/1/value", "value": "keycloak.service"}])
	decision_for(critical).approvals_required == 2
}

clear_old_logs := with_changes({
	"action": {
		"id": "clear-disk-space",
		"type": "clear-disk",
		"target": "media-stack",
		"target_type": "host",
		"inputs": {"host": "media-stack", "paths": ["/var/log/app"], "min_age_days": 7},
		"targets": [
			{"input": "host", "kind": "host", "value": "media-stack"},
			{"input": "paths", "kind": "path", "value": "/var/log/app"},
		],
		"risk": "medium",
		"destructive": true,
	},
	"incident": {"mode": "auto", "confidence": 0.95},
})

test_clear_disk_space_deletes_files_so_a_person_decides_even_in_auto_mode if {
	d := decision_for(clear_old_logs)
	d.allow == true
	d.require_approval == true
	d.auto_execute == false
}

block_one_address := with_changes({
	"action": {
		"id": "block-host",
		"type": "block-host",
		"target": "10.0.4.15",
		"target_type": "network",
		"inputs": {"ip": "10.0.4.15", "reason": "Suspected compromised IoT device", "duration": "24h"},
		"targets": [{"input": "ip", "kind": "ip", "value": "10.0.4.15"}],
		"risk": "high",
	},
	"incident": {"mode": "auto", "confidence": 0.99},
})

test_block_host_is_high_risk_and_never_runs_without_a_person if {
	d := decision_for(block_one_address)
	d.allow == true
	d.require_approval == true
	d.approvals_required == 1
	"auto mode runs only low-risk, confident changes to non-critical targets" in d.reasons
}

scale_jellyfin := with_changes({
	"action": {
		"id": "scale-deployment",
		"type": "scale",
		"target": "jellyfin",
		"target_type": "deployment",
		"inputs": {"namespace": "media", "deployment": "jellyfin", "replicas": 3},
		"targets": [
			{"input": "deployment", "kind": "deployment", "value": "jellyfin"},
			{"input": "namespace", "kind": "namespace", "value": "media"},
		],
		"risk": "low",
	},
	"incident": {"mode": "auto", "confidence": 0.9},
})

test_scale_deployment_is_low_risk_and_may_run_automatically_except_on_critical_targets if {
	decision_for(scale_jellyfin).auto_execute == true
	keycloak := json.patch(scale_jellyfin, [{"op": "replace", "path": "/action/targets/0/value", "value": "keycloak"}])
	decision_for(keycloak).approvals_required == 2
	system := decision_for(json.patch(scale_jellyfin, [{"op": "replace", "path": "/action/targets/1/value", "value": "kube-system"}]))
	system.auto_execute == false
	system.approvals_required == 2
	"kube-system is a critical namespace: two different people must approve" in system.reasons
}
