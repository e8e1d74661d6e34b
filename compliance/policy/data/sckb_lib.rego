# sckb policy library: the Lambda functions of a CloudFormation/SAM template or of a Terraform plan, each with
# the provider-neutral properties the KB's design predicates name (README, "Design check"), derived the way
# `sckb design check` derives them: a SAM function under Globals.Function, its execution role's statements,
# the log group, alarms, URL, permissions, versions and on-failure destinations that name it.
# Every predicate package reads `functions`; each property is one partial object computed once per input.
package sckb.lib

# ------------------------------------------------------------------------------------------ helpers

has(o, k) if _ = o[k]

nonempty(x) if {
	x != null
	x != ""
	x != []
	x != {}
	x != false
}

as_list(x) := x if is_array(x)

as_list(x) := [x] if {
	not is_array(x)
	x != null
}

as_list(null) := []

# a value as text, as the design reader prints it (Python spelling of booleans)
text(x) := x if is_string(x)

text(x) := format_int(x, 10) if {
	is_number(x)
	x == floor(x)
}

text(x) := sprintf("%v", [x]) if {
	is_number(x)
	x != floor(x)
}

text(true) := "True"

text(false) := "False"

num(x) := x if is_number(x)

num(x) := to_number(x) if is_string(x)

# the date the checks compare deprecation dates with: data.sckb_clock.today ("YYYY-MM-DD") when given
# (`sckb policy test` passes --now), else the evaluation day
today := data.sckb_clock.today if is_string(data.sckb_clock.today)
else := sprintf("%04d-%02d-%02d", time.date(time.now_ns()))

# ----------------------------------------------------------------------------- CloudFormation values

cfn_resources := r if {
	r := input.Resources
	is_object(r)
} else := {}

cfn_params := p if {
	p := input.Parameters
	is_object(p)
} else := {}

_ref_text := `^\$\{([A-Za-z0-9]+)(\.[A-Za-z.]+)?\}$`

# the logical id a value refers to (Ref, GetAtt, a whole-string Sub or "${Id}" text)
ref_target(v) := t if {
	t := v.Ref
	is_string(t)
	has(cfn_resources, t)
}

ref_target(v) := t if {
	is_array(v["Fn::GetAtt"])
	t := v["Fn::GetAtt"][0]
	has(cfn_resources, t)
}

ref_target(v) := t if {
	is_string(v["Fn::GetAtt"])
	t := split(v["Fn::GetAtt"], ".")[0]
	has(cfn_resources, t)
}

ref_target(v) := t if {
	s := sub_template(v)
	t := regex.find_all_string_submatch_n(_ref_text, s, 1)[0][1]
	has(cfn_resources, t)
}

ref_target(v) := t if {
	is_string(v)
	t := regex.find_all_string_submatch_n(_ref_text, v, 1)[0][1]
	has(cfn_resources, t)
}

sub_template(v) := v["Fn::Sub"] if is_string(v["Fn::Sub"])

sub_template(v) := v["Fn::Sub"][0] if is_array(v["Fn::Sub"])

pseudo := {
	"AWS::Region", "AWS::AccountId", "AWS::StackName", "AWS::StackId", "AWS::Partition",
	"AWS::URLSuffix", "AWS::NotificationARNs",
}

# a value with the intrinsics a template decides statically evaluated; undefined when it stays open
val(v) := v if not is_object(v)

val(v) := v if {
	is_object(v)
	not intrinsic(v)
}

val(v) := d if {
	d := cfn_params[v.Ref].Default
	not is_object(d)
}

val(v) := null if v.Ref == "AWS::NoValue"

val(v) := sprintf("${%s}", [v.Ref]) if v.Ref in pseudo

val(v) := sprintf("${%s}", [v.Ref]) if has(cfn_resources, v.Ref)

val(v) := sprintf("${%s}", [concat(".", v["Fn::GetAtt"])]) if {
	is_array(v["Fn::GetAtt"])
	has(cfn_resources, v["Fn::GetAtt"][0])
}

val(v) := sub_template(v) if is_string(sub_template(v))

val(v) := concat(v["Fn::Join"][0], parts) if {
	is_string(v["Fn::Join"][0])
	is_array(v["Fn::Join"][1])
	parts := [t | some x in v["Fn::Join"][1]; t := text(val(x))]
	count(parts) == count(v["Fn::Join"][1])
}

intrinsic(v) if {
	count(v) == 1
	some k, _ in v
	k == "Ref"
}

intrinsic(v) if {
	count(v) == 1
	some k, _ in v
	startswith(k, "Fn::")
}

# ------------------------------------------------------------------------------- the functions

cfn_types := {"AWS::Lambda::Function", "AWS::Serverless::Function"}

sam_type := "AWS::Serverless::Function"

_globals := g if {
	g := input.Globals.Function
	is_object(g)
} else := {}

# logical id -> properties (a SAM function's: Globals.Function under its own; environment variables merge
# name by name, as SAM merges them)
cfn_fn[name] := object.get(r, "Properties", {}) if {
	some name, r in cfn_resources
	r.Type == "AWS::Lambda::Function"
}

cfn_fn[name] := object.union(own, {"Environment": env}) if {
	some name, r in cfn_resources
	r.Type == sam_type
	props := object.get(r, "Properties", {})
	env := object.union(object.get(_globals, "Environment", {}), object.get(props, "Environment", {}))
	own := object.union(object.remove(_globals, object.keys(props)), props)
}

sam_fn contains name if {
	some name, r in cfn_resources
	r.Type == sam_type
}

# a Terraform plan's resources: the root module's and its child modules' (two levels, as module trees are
# shallow), planned values with the configuration's references
plan_resources contains r if some r in object.get(input, ["planned_values", "root_module", "resources"], [])

plan_resources contains r if {
	some m in object.get(input, ["planned_values", "root_module", "child_modules"], [])
	some r in object.get(m, "resources", [])
}

tf_by_type[t] := {r.address: object.get(r, "values", {}) | some r in plan_resources; r.type == t} if {
	some t in {x.type | some x in plan_resources}
}

tf_of(t) := object.get(tf_by_type, t, {})

tf_fn := tf_of("aws_lambda_function")

_tf_ref := `^\$\{((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+)(?:\.[A-Za-z0-9_.]+)?\}$`

tf_config_refs[a] := {k: e.references | some k, e in object.get(c, "expressions", {}); is_array(e.references)} if {
	some c in object.get(input, ["configuration", "root_module", "resources"], [])
	a := c.address
}

# the resource address an attribute refers to: "${aws_x.y.attr}" in the values, else the configuration's
# reference (a `terraform show -json` plan leaves values computed at apply time out)
tf_target(addr, values, key) := t if {
	is_string(values[key])
	t := regex.find_all_string_submatch_n(_tf_ref, values[key], 1)[0][1]
}

tf_target(addr, values, key) := t if {
	not is_string(values[key])
	refs := tf_config_refs[addr][key]
	t := [x | some r in refs; parts := split(r, "."); count(parts) == 2; x := r][0]
}

fn_names := object.keys(cfn_fn) | object.keys(tf_fn)

# the functions a CloudFormation value names: by reference, else by a physical name the value contains
cfn_fn_refs(v) := {t} if {
	t := ref_target(v)
	has(cfn_fn, t)
}

cfn_fn_refs(v) := {n |
	some n
	rp := cfn_fn[n]
	fname := rp.FunctionName
	is_string(fname)
	contains(val(v), fname)
} if not ref_target(v)

tf_fn_refs(addr, values, key) := {t} if {
	t := tf_target(addr, values, key)
	has(tf_fn, t)
}

tf_fn_refs(addr, values, key) := {a | some a; tf_fn[a].function_name == values[key]} if {
	not tf_target(addr, values, key)
}

# ------------------------------------------------------------------------- one-resource properties

tracing[n] := val(rp.Tracing) if some n, rp in cfn_fn

tracing[n] := val(rp.TracingConfig.Mode) if {
	some n, rp in cfn_fn
	not has(rp, "Tracing")
}

tracing[a] := v.tracing_config[0].mode if some a, v in tf_fn

dlq[n] := val(rp.DeadLetterQueue.TargetArn) if some n, rp in cfn_fn

dlq[n] := val(rp.DeadLetterConfig.TargetArn) if {
	some n, rp in cfn_fn
	not has(rp, "DeadLetterQueue")
}

dlq[a] := v.dead_letter_config[0].target_arn if some a, v in tf_fn

concurrency_limit[n] := num(val(rp.ReservedConcurrentExecutions)) if some n, rp in cfn_fn

concurrency_limit[a] := num(v.reserved_concurrent_executions) if {
	some a, v in tf_fn
	v.reserved_concurrent_executions != -1
}

timeout[n] := num(val(object.get(rp, "Timeout", 3))) if some n, rp in cfn_fn

timeout[a] := num(object.get(v, "timeout", 3)) if some a, v in tf_fn

env_vars[n] := rp.Environment.Variables if {
	some n, rp in cfn_fn
	is_object(rp.Environment.Variables)
}

env_vars[a] := v.environment[0].variables if {
	some a, v in tf_fn
	is_object(v.environment[0].variables)
}

env_kms_key[n] := val(rp.KmsKeyArn) if some n, rp in cfn_fn

env_kms_key[a] := v.kms_key_arn if some a, v in tf_fn

vpc[n] := true if {
	some n, rp in cfn_fn
	nonempty(val(rp.VpcConfig.SubnetIds))
}

vpc[a] := true if {
	some a, v in tf_fn
	nonempty(v.vpc_config[0].subnet_ids)
}

code_signing[n] := val(rp.CodeSigningConfigArn) if some n, rp in cfn_fn

code_signing[a] := v.code_signing_config_arn if some a, v in tf_fn

layers[n] := [t | some x in as_list(rp.Layers); t := val(x)] if some n, rp in cfn_fn

layers[a] := as_list(v.layers) if some a, v in tf_fn

runtime[n] := val(rp.Runtime) if {
	some n, rp in cfn_fn
	not image(rp)
}

runtime[a] := v.runtime if {
	some a, v in tf_fn
	object.get(v, "package_type", "Zip") != "Image"
}

image(rp) if rp.PackageType == "Image"

image(rp) if nonempty(rp.ImageUri)

# container images carry no managed runtime: never deprecated
runtime_deprecated[n] := false if {
	some n, rp in cfn_fn
	image(rp)
}

runtime_deprecated[a] := false if {
	some a, v in tf_fn
	v.package_type == "Image"
}

runtime_deprecated[n] := object.get(runtime_deprecation, lower(trim_space(rt)), "9999-12-31") <= today if {
	some n, rt in runtime
	is_string(rt)
}

secret_env_names[n] := sort([k |
	some k
	raw := vars[k]
	t := text(val(raw))
	t != ""
	not regex.match(secret_reference, t)
	not contains(t, "${")
	secret_like(k, t)
]) if some n, vars in env_vars

secret_like(_, t) if regex.match(secret_value, t)

secret_like(k, t) if {
	regex.match(secret_name, k)
	not regex.match(secret_pointer_name, k)
	count(t) >= 6
	not startswith(lower(t), "arn:")
	not startswith(lower(t), "http")
}

# -------------------------------------------------------------------- what other resources add

# on-failure destinations: the function's own EventInvokeConfig (SAM), a stream event's, an
# AWS::Lambda::EventInvokeConfig or an event source mapping that names the function
on_failure contains n if {
	some n, rp in cfn_fn
	oc := rp.EventInvokeConfig.DestinationConfig.OnFailure
	nonempty(object.get(oc, "Destination", object.get(oc, "Type", null)))
}

on_failure contains n if {
	some n, rp in cfn_fn
	some ev in object.get(rp, "Events", {})
	ev.Type in {"DynamoDB", "Kinesis"}
	nonempty(ev.Properties.DestinationConfig.OnFailure)
}

on_failure contains n if {
	some r in cfn_resources
	r.Type in {"AWS::Lambda::EventInvokeConfig", "AWS::Lambda::EventSourceMapping"}
	is_object(r.Properties.DestinationConfig.OnFailure)
	some n in cfn_fn_refs(r.Properties.FunctionName)
}

on_failure contains n if {
	some t in ["aws_lambda_function_event_invoke_config", "aws_lambda_event_source_mapping"]
	some addr, v in tf_of(t)
	nonempty(v.destination_config[0].on_failure)
	some n in tf_fn_refs(addr, v, "function_name")
}

published contains n if {
	some n, rp in cfn_fn
	n in sam_fn
	nonempty(val(rp.AutoPublishAlias))
}

published contains n if {
	some r in cfn_resources
	r.Type in {"AWS::Lambda::Version", "AWS::Lambda::Alias"}
	some n in cfn_fn_refs(r.Properties.FunctionName)
}

published contains a if {
	some a, v in tf_fn
	v.publish == true
}

published contains n if {
	some addr, v in tf_of("aws_lambda_alias")
	some n in tf_fn_refs(addr, v, "function_name")
}

# the alarms that watch each function
alarm_ids[n] contains id if {
	some id, r in cfn_resources
	r.Type == "AWS::CloudWatch::Alarm"
	some d in as_list(r.Properties.Dimensions)
	d.Name == "FunctionName"
	some n in cfn_fn_refs(d.Value)
}

alarm_ids[n] contains addr if {
	some addr, v in tf_of("aws_cloudwatch_metric_alarm")
	some n in tf_fn_refs(addr, object.union(v, {"_fn": v.dimensions.FunctionName}), "_fn")
}

alarms[n] := count(ids) if some n, ids in alarm_ids

url[n] := {"auth": object.get(u, "AuthType", "NONE"), "cors_origins": origins(object.get(u, "Cors", {}))} if {
	some n, rp in cfn_fn
	u := rp.FunctionUrlConfig
	is_object(u)
	not url_resource[n]
}

url[n] := u if some n, u in url_resource

url_resource[n] := {"auth": object.get(p, "AuthType", "NONE"), "cors_origins": origins(object.get(p, "Cors", {}))} if {
	some r in cfn_resources
	r.Type == "AWS::Lambda::Url"
	p := r.Properties
	some n in cfn_fn_refs(p.TargetFunctionArn)
}

url_resource[n] := {"auth": v.authorization_type, "cors_origins": object.get(v, ["cors", 0, "allow_origins"], [])} if {
	some addr, v in tf_of("aws_lambda_function_url")
	some n in tf_fn_refs(addr, v, "function_name")
}

origins(cors) := [trim(text(val(o)), "'\"") | some o in as_list(object.get(cors, "AllowOrigins", null))]

invoke_permission[n] contains [id, c] if {
	some id, r in cfn_resources
	r.Type == "AWS::Lambda::Permission"
	p := r.Properties
	c := any_set(p, ["SourceArn", "SourceAccount", "PrincipalOrgID"])
	some n in cfn_fn_refs(p.FunctionName)
}

invoke_permission[n] contains [addr, c] if {
	some addr, v in tf_of("aws_lambda_permission")
	c := any_set(v, ["source_arn", "source_account", "principal_org_id"])
	some n in tf_fn_refs(addr, v, "function_name")
}

any_set(o, keys) := true if {
	some k in keys
	nonempty(o[k])
} else := false

invoke_permissions[n] := [{"conditioned": c} | some [_, c] in perms] if some n, perms in invoke_permission

# log groups: /aws/lambda/<name> (or naming the function in a Sub), or the one LoggingConfig names
cfn_log_groups[id] := {
	"name": text(val(object.get(p, "LogGroupName", ""))),
	"retention": val(object.get(p, "RetentionInDays", null)),
	"kms_key": val(object.get(p, "KmsKeyId", null)),
} if {
	some id, r in cfn_resources
	r.Type == "AWS::Logs::LogGroup"
	p := object.get(r, "Properties", {})
}

log_groups_of[n] contains g if {
	some n, rp in cfn_fn
	some gid, g in cfn_log_groups
	own_log(n, rp, gid, g)
}

own_log(n, _, _, g) if endswith(g.name, concat("", ["/", n]))

own_log(n, _, _, g) if contains(g.name, sprintf("${%s}", [n]))

own_log(_, rp, _, g) if {
	is_string(rp.FunctionName)
	endswith(g.name, concat("", ["/", rp.FunctionName]))
}

own_log(_, rp, gid, _) if ref_target(rp.LoggingConfig.LogGroup) == gid

own_log(_, rp, _, g) if g.name == rp.LoggingConfig.LogGroup

log_groups_of[a] contains {"retention": object.get(g, "retention_in_days", null), "kms_key": object.get(g, "kms_key_id", null)} if {
	some a, v in tf_fn
	some g in tf_of("aws_cloudwatch_log_group")
	tf_log_name(v, g.name)
}

tf_log_name(v, name) if name == sprintf("/aws/lambda/%s", [v.function_name])

tf_log_name(v, name) if name == v.logging_config[0].log_group

# a property holds when any of the function's log groups sets it
log[n] := {
	"retention": [r | some g in groups; r := g.retention; r != null],
	"kms_key": [k | some g in groups; k := g.kms_key; nonempty(k)],
} if some n, groups in log_groups_of

# ------------------------------------------------------------------------------------- execution roles

# function -> its role: "generated" (SAM makes one from Policies), a logical id / address, or "external"
role_of[n] := "generated" if {
	some n, rp in cfn_fn
	n in sam_fn
	not has(rp, "Role")
}

role_of[n] := t if {
	some n, rp in cfn_fn
	has(rp, "Role")
	t := ref_target(rp.Role)
}

role_of[a] := t if {
	some a, v in tf_fn
	t := tf_target(a, v, "role")
}

role_user_set[t] contains n if {
	some n, t in role_of
	t != "generated"
}

role_users[t] := count(users) if some t, users in role_user_set

role_ids := {t | some t; role_user_set[t]}

# statements: [actions (NotAction: "*"), resources] of each Allow statement of a policy document
statements(doc) := [[acts, res] |
	some st in as_list(document(doc).Statement)
	lower(text(object.get(st, "Effect", "Allow"))) == "allow"
	acts := statement_actions(st)
	res := [text(val(r)) | some r in as_list(object.get(st, "Resource", object.get(st, "NotResource", "*")))]
]

statement_actions(st) := ["*"] if has(st, "NotAction")

statement_actions(st) := [text(val(a)) | some a in as_list(st.Action)] if not has(st, "NotAction")

document(doc) := doc if is_object(doc)

document(doc) := json.unmarshal(doc) if {
	is_string(doc)
	json.is_valid(doc)
}

# a SAM policy template's parameters as {"{Name}": value} replacements
sam_params(params) := {sprintf("{%s}", [k]): text(val(v)) | some k, v in params} if is_object(params)

sam_params(params) := {} if not is_object(params)

managed_name(x) := n if {
	is_string(x)
	startswith(x, "arn:")
	parts := split(x, "/")
	n := parts[count(parts) - 1]
}

managed_name(x) := x if {
	is_string(x)
	not startswith(x, "arn:")
}

# role -> list of [actions, resources] statements, and its managed policy names
role_statements[n] := array.concat(
	[s | some item in as_list(object.get(rp, "Policies", [])); is_object(item); some s in statements(item)],
	[[t.actions, [strings.replace_n(sam_params(item[tname]), r) | some r in t.resources]] |
		some item in as_list(object.get(rp, "Policies", []))
		is_object(item)
		not has(item, "Statement")
		some tname
		_ = item[tname]
		some t in sam_policy_templates[tname]
	],
) if {
	some n, u in role_of
	u == "generated"
	rp := cfn_fn[n]
}

role_managed[n] := array.concat(["AWSLambdaBasicExecutionRole"], [m |
	some item in as_list(object.get(rp, "Policies", []))
	m := managed_name(val(item))
]) if {
	some n, u in role_of
	u == "generated"
	rp := cfn_fn[n]
}

role_statements[t] := array.concat(
	[s | some pol in as_list(object.get(p, "Policies", [])); some s in statements(pol.PolicyDocument)],
	[s | some s in object.get(attached_statements, t, [])],
) if {
	some t in role_ids
	cfn_resources[t].Type == "AWS::IAM::Role"
	p := object.get(cfn_resources[t], "Properties", {})
}

# AWS::IAM::Policy / ManagedPolicy statements, per role they name
attached_statements[t] contains s if {
	some r in cfn_resources
	r.Type in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}
	some x in as_list(r.Properties.Roles)
	t := ref_target(x)
	some s in statements(r.Properties.PolicyDocument)
}

role_managed[t] := [m | some x in as_list(object.get(p, "ManagedPolicyArns", [])); m := managed_name(val(x))] if {
	some t in role_ids
	cfn_resources[t].Type == "AWS::IAM::Role"
	p := object.get(cfn_resources[t], "Properties", {})
}

role_statements[t] := array.concat(
	[s | some ip in as_list(object.get(rv, "inline_policy", [])); some s in statements(ip.policy)],
	array.concat(
		[s |
			policies := tf_of("aws_iam_role_policy")
			some addr
			v := policies[addr]
			tf_target(addr, v, "role") == t
			some s in statements(v.policy)
		],
		[s |
			attachments := tf_of("aws_iam_role_policy_attachment")
			some addr
			v := attachments[addr]
			tf_target(addr, v, "role") == t
			pol := tf_of("aws_iam_policy")[tf_target(addr, v, "policy_arn")]
			some s in statements(pol.policy)
		],
	),
) if {
	some t in role_ids
	rv := tf_of("aws_iam_role")[t]
}

role_managed[t] := array.concat([m | some x in as_list(object.get(rv, "managed_policy_arns", [])); m := managed_name(x)], [m |
	attachments := tf_of("aws_iam_role_policy_attachment")
	some addr
	v := attachments[addr]
	tf_target(addr, v, "role") == t
	not tf_target(addr, v, "policy_arn")
	m := managed_name(v.policy_arn)
]) if {
	some t in role_ids
	rv := tf_of("aws_iam_role")[t]
}

role_trust[t] := [text(val(x)) |
	some st in as_list(p.AssumeRolePolicyDocument.Statement)
	some x in principals(st.Principal)
] if {
	some t in role_ids
	cfn_resources[t].Type == "AWS::IAM::Role"
	p := object.get(cfn_resources[t], "Properties", {})
}

# Terraform: the services, role ARNs and "*" its trust policy names (the design reader scans the JSON text)
role_trust[t] := [x |
	some st in as_list(document(rv.assume_role_policy).Statement)
	some p in principals(st.Principal)
	some x in trust_names(p)
] if {
	some t in role_ids
	rv := tf_of("aws_iam_role")[t]
}

principals(p) := [x | some v in p; some x in as_list(v)] if is_object(p)

principals(p) := [p] if not is_object(p)

trust_names("*") := [`"*"`]

trust_names(p) := regex.find_n(`[a-z0-9.-]+\.amazonaws\.com|arn:aws:iam::[^"']+`, p, -1) if {
	is_string(p)
	p != "*"
}

role_boundary[t] := val(object.get(cfn_resources[t], ["Properties", "PermissionsBoundary"], null)) if {
	some t in role_ids
	cfn_resources[t].Type == "AWS::IAM::Role"
}

role_boundary[t] := object.get(tf_of("aws_iam_role")[t], "permissions_boundary", null) if some t in role_ids

role[n] := {
	"actions": array.concat([a | some [acts, _] in sts; some a in acts], [a | some m in managed; some a in object.get(managed_policies, [m, "actions"], [])]),
	"star_resource_actions": array.concat([a |
		some [acts, res] in sts
		some r in res
		regex.match(star_resource, r)
		some a in acts
		not star_ok(a)
	], [a | some m in managed; some a in object.get(managed_policies, [m, "star_actions"], [])]),
	"admin_managed": [m | some m in managed; object.get(managed_policies, [m, "admin"], false)],
	"shared_by": object.get(role_users, t, 1),
	"boundary": boundary,
	"trust": trust,
} if {
	some n, t in role_of
	key := role_key(n, t)
	sts := object.get(role_statements, key, [])
	managed := object.get(role_managed, key, [])
	boundary := role_boundary_of(n, t)
	trust := role_trust_of(t)
}

role_key(n, "generated") := n

role_key(_, t) := t if t != "generated"

role_boundary_of(n, "generated") := val(object.get(cfn_fn[n], "PermissionsBoundary", null))

role_boundary_of(_, t) := object.get(role_boundary, t, null) if t != "generated"

role_trust_of("generated") := ["lambda.amazonaws.com"]

role_trust_of(t) := object.get(role_trust, t, []) if t != "generated"

star_ok(a) if {
	some p in star_resource_ok
	regex.match(p, a)
}

# ------------------------------------------------------------------------------- the function records

functions[n] := {"format": "cfn", "props": fn_props(n)} if some n, _ in cfn_fn

functions[a] := {"format": "tf", "props": fn_props(a)} if some a, _ in tf_fn

fn_props(n) := {
	"tracing": object.get(tracing, n, null),
	"dlq": object.get(dlq, n, null),
	"on_failure": n in on_failure,
	"concurrency_limit": object.get(concurrency_limit, n, null),
	"timeout": object.get(timeout, n, null),
	"has_environment": count(object.get(env_vars, n, {})) > 0,
	"env_kms_key": object.get(env_kms_key, n, null),
	"vpc": object.get(vpc, n, null),
	"code_signing": object.get(code_signing, n, null),
	"layers": object.get(layers, n, []),
	"runtime_deprecated": object.get(runtime_deprecated, n, null),
	"secret_env_names": object.get(secret_env_names, n, []),
	"published": n in published,
	"alarms": object.get(alarms, n, 0),
	"url": object.get(url, n, null),
	"invoke_permissions": object.get(invoke_permissions, n, []),
	"log": object.get(log, n, null),
	"role": object.get(role, n, {"shared_by": null, "boundary": null, "trust": []}),
}
