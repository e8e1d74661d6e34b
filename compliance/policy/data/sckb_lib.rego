# sckb policy library: the Lambda functions of a CloudFormation/SAM template or of a Terraform plan, each with
# the provider-neutral properties the KB's design predicates name (README, "Design check"), derived the way
# `sckb design check` derives them: a SAM function under Globals.Function, its execution role's statements,
# and the log groups, alarms, URL, permissions, versions and on-failure destinations that name it.
# Every predicate package reads `functions`. Each record is built in one pass over the resources; what other
# resources add is grouped by function first (a lookup by a computed key scans its object in rego-cpp, so
# lookups go to the small grouped tables, never to the whole template).
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
else := [] if x == null
else := [x]

# a value as text, as the design reader prints it (Python spelling of booleans)
text(x) := x if is_string(x)
else := format_int(x, 10) if {
	is_number(x)
	x == floor(x)
}
else := sprintf("%v", [x]) if is_number(x)
else := "True" if x == true
else := "False" if x == false

num(x) := x if is_number(x)

num(x) := to_number(x) if is_string(x)

num_or_null(x) := y if {
	y := num(x)
} else := null

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
ref_target(v) := v.Ref if {
	is_string(v.Ref)
	not has(cfn_params, v.Ref)
}

ref_target(v) := v["Fn::GetAtt"][0] if is_array(v["Fn::GetAtt"])

ref_target(v) := split(v["Fn::GetAtt"], ".")[0] if is_string(v["Fn::GetAtt"])

ref_target(v) := regex.find_all_string_submatch_n(_ref_text, sub_template(v), 1)[0][1]

ref_target(v) := regex.find_all_string_submatch_n(_ref_text, v, 1)[0][1] if is_string(v)

sub_template(v) := v["Fn::Sub"] if is_string(v["Fn::Sub"])

sub_template(v) := v["Fn::Sub"][0] if is_array(v["Fn::Sub"])

pseudo := {
	"AWS::Region", "AWS::AccountId", "AWS::StackName", "AWS::StackId", "AWS::Partition",
	"AWS::URLSuffix", "AWS::NotificationARNs",
}

# a value with the intrinsics a template decides statically evaluated; undefined when it stays open (one
# chain, first match wins: most values are plain and leave at the first test)
val(v) := v if not is_object(v)
else := v if not intrinsic(v)
else := d if {
	d := cfn_params[v.Ref].Default
	not is_object(d)
}
else := null if v.Ref == "AWS::NoValue"
else := concat("", ["${", v.Ref, "}"]) if {
	is_string(v.Ref)
	not has(cfn_params, v.Ref)
}
else := concat("", ["${", concat(".", v["Fn::GetAtt"]), "}"]) if is_array(v["Fn::GetAtt"])
else := sub_template(v) if sub_template(v)
else := join_text(v["Fn::Join"])

# Rego has no recursion: the parts of a Join are evaluated one level deep (text, Ref, GetAtt, Sub)
join_text(j) := concat(j[0], parts) if {
	is_string(j[0])
	is_array(j[1])
	parts := [t | some x in j[1]; t := text(leaf(x))]
	count(parts) == count(j[1])
}

leaf(v) := v if not is_object(v)
else := d if {
	d := cfn_params[v.Ref].Default
	not is_object(d)
}
else := concat("", ["${", v.Ref, "}"]) if is_string(v.Ref)
else := concat("", ["${", concat(".", v["Fn::GetAtt"]), "}"]) if is_array(v["Fn::GetAtt"])
else := sub_template(v) if sub_template(v)

intrinsic(v) if {
	count(v) == 1
	some k, _ in v
	intrinsic_key(k)
}

intrinsic_key("Ref")

intrinsic_key(k) if startswith(k, "Fn::")

# the value at a path, evaluated; null when unset or open
get(o, path) := x if {
	x := val(object.get(o, path, null))
} else := null

# ------------------------------------------------------------------------------- the functions

cfn_types := {"AWS::Lambda::Function", "AWS::Serverless::Function"}

sam_type := "AWS::Serverless::Function"

_globals := g if {
	g := input.Globals.Function
	is_object(g)
} else := {}

# a function's properties; a SAM function's: Globals.Function under its own, environment variables merged
# name by name (as SAM merges them)
fn_raw(r) := object.get(r, "Properties", {}) if r.Type != sam_type

fn_raw(r) := object.union(own, {"Environment": env}) if {
	r.Type == sam_type
	props := object.get(r, "Properties", {})
	env := object.union(object.get(_globals, "Environment", {}), object.get(props, "Environment", {}))
	own := object.union(object.remove(_globals, object.keys(props)), props)
}

cfn_fn_ids contains n if {
	some n, r in cfn_resources
	r.Type in cfn_types
}

# physical names, for values that name a function by name or ARN
cfn_fn_names := {n: fname |
	some n, r in cfn_resources
	r.Type in cfn_types
	fname := r.Properties.FunctionName
	is_string(fname)
}

# data.sckb_tables.secret_name, data.sckb_tables.secret_pointer_name and data.sckb_tables.secret_reference are matched against lower-cased text (the tables
# below hold them lower-cased: rego-cpp's regular expressions take no (?i) flag)

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
	t := [x | some r in refs; count(split(r, ".")) == 2; x := r][0]
}

# the functions a CloudFormation value names: by reference, else by a physical name the value contains
cfn_fn_refs(v) := {t} if {
	t := ref_target(v)
	t in cfn_fn_ids
}

cfn_fn_refs(v) := {n |
	some n
	fname := cfn_fn_names[n]
	contains(val(v), fname)
} if not ref_target(v)

tf_fn_refs(addr, values, key) := {t} if {
	t := tf_target(addr, values, key)
	has(tf_fn, t)
}

tf_fn_refs(addr, values, key) := {a | some a; tf_fn[a].function_name == values[key]} if {
	not tf_target(addr, values, key)
}

# -------------------------------------------------------------------- what other resources add

# on-failure destinations: an AWS::Lambda::EventInvokeConfig or event source mapping that names the function
on_failure_ext contains n if {
	some r in cfn_resources
	r.Type in {"AWS::Lambda::EventInvokeConfig", "AWS::Lambda::EventSourceMapping"}
	is_object(r.Properties.DestinationConfig.OnFailure)
	some n in cfn_fn_refs(r.Properties.FunctionName)
}

on_failure_ext contains n if {
	some t in ["aws_lambda_function_event_invoke_config", "aws_lambda_event_source_mapping"]
	some addr, v in tf_of(t)
	nonempty(v.destination_config[0].on_failure)
	some n in tf_fn_refs(addr, v, "function_name")
}

published_ext contains n if {
	some r in cfn_resources
	r.Type in {"AWS::Lambda::Version", "AWS::Lambda::Alias"}
	some n in cfn_fn_refs(r.Properties.FunctionName)
}

published_ext contains n if {
	some addr, v in tf_of("aws_lambda_alias")
	some n in tf_fn_refs(addr, v, "function_name")
}

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

alarms := {n: count(ids) | some n, ids in alarm_ids}

url_ext[n] := {"auth": object.get(p, "AuthType", "NONE"), "cors_origins": origins(object.get(p, "Cors", {}))} if {
	some r in cfn_resources
	r.Type == "AWS::Lambda::Url"
	p := r.Properties
	some n in cfn_fn_refs(p.TargetFunctionArn)
}

url_ext[n] := {"auth": v.authorization_type, "cors_origins": object.get(v, ["cors", 0, "allow_origins"], [])} if {
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

invoke_permissions := {n: [{"conditioned": c} | some [_, c] in perms] | some n, perms in invoke_permission}

cfn_log_groups[id] := {
	"name": text(val(object.get(p, "LogGroupName", ""))),
	"retention": val(object.get(p, "RetentionInDays", null)),
	"kms_key": val(object.get(p, "KmsKeyId", null)),
} if {
	some id, r in cfn_resources
	r.Type == "AWS::Logs::LogGroup"
	p := object.get(r, "Properties", {})
}

# log groups: /aws/lambda/<name> (or naming the function in a Sub), or the one LoggingConfig names
cfn_log_of(n, rp) := [g | some gid; g := cfn_log_groups[gid]; own_log(n, rp, gid, g)]

own_log(n, _, _, g) if endswith(g.name, concat("", ["/", n]))

own_log(n, _, _, g) if contains(g.name, concat("", ["${", n, "}"]))

own_log(_, rp, _, g) if {
	is_string(rp.FunctionName)
	endswith(g.name, concat("", ["/", rp.FunctionName]))
}

own_log(_, rp, gid, _) if ref_target(rp.LoggingConfig.LogGroup) == gid

own_log(_, rp, _, g) if g.name == rp.LoggingConfig.LogGroup

tf_log_of(v) := [{"retention": object.get(g, "retention_in_days", null), "kms_key": object.get(g, "kms_key_id", null)} |
	some g in tf_of("aws_cloudwatch_log_group")
	tf_log_name(v, g.name)
]

tf_log_name(v, name) if name == concat("", ["/aws/lambda/", v.function_name])

tf_log_name(v, name) if name == v.logging_config[0].log_group

# a property holds when any of the function's log groups sets it
log(groups) := {
	"retention": [r | some g in groups; r := g.retention; r != null],
	"kms_key": [k | some g in groups; k := g.kms_key; nonempty(k)],
} if count(groups) > 0
else := null

# ------------------------------------------------------------------------------------- execution roles

# a function's role: "generated" (SAM makes one from Policies), the logical id it refers to, or "" (a role
# outside the template)
cfn_role(r, rp) := "generated" if {
	r.Type == sam_type
	not has(rp, "Role")
} else := t if {
	t := ref_target(rp.Role)
} else := ""

role_user_set[t] contains n if {
	some n, r in cfn_resources
	r.Type in cfn_types
	t := cfn_role(r, fn_raw(r))
	not t in {"generated", ""}
}

role_user_set[t] contains a if {
	some a, v in tf_fn
	t := tf_target(a, v, "role")
}

role_users := {t: count(users) | some t, users in role_user_set}

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

# the role SAM generates: AWSLambdaBasicExecutionRole and the function's Policies (managed policy names,
# documents, policy templates). A template's actions, and those it grants on every resource (with a "*"
# parameter for the ones that name it), come precomputed in the data.sckb_tables.sam_policy_templates table.
generated_statements(rp) := [s | some item in as_list(object.get(rp, "Policies", [])); is_object(item); some s in statements(item)]

generated_templates(rp) := [[t.actions, star] |
	some item in as_list(object.get(rp, "Policies", []))
	is_object(item)
	not has(item, "Statement")
	some tname
	params := item[tname]
	t := data.sckb_tables.sam_policy_templates[tname]
	star := array.concat(t.star_actions, wildcard_star(t, params))
]

# a parameter "*" (written, or a template parameter's default) names every resource
wildcard_star(t, params) := t.star_if_wildcard if {
	some v in params
	v == "*"
} else := t.star_if_wildcard if {
	some v in params
	is_object(v)
	cfn_params[v.Ref].Default == "*"
} else := []

generated_managed(rp) := array.concat(["AWSLambdaBasicExecutionRole"], [m |
	some item in as_list(object.get(rp, "Policies", []))
	m := managed_name(val(item))
])

iam_roles := {id: object.get(r, "Properties", {}) | some id, r in cfn_resources; r.Type == "AWS::IAM::Role"}

# AWS::IAM::Policy / ManagedPolicy statements, per role they name
attached_statements[t] contains s if {
	some r in cfn_resources
	r.Type in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}
	some x in as_list(r.Properties.Roles)
	t := ref_target(x)
	some s in statements(r.Properties.PolicyDocument)
}

# role id -> {statements, managed, trust, boundary}
roles[t] := {
	"statements": array.concat(
		[s | some pol in as_list(object.get(p, "Policies", [])); some s in statements(pol.PolicyDocument)],
		[s | some s in object.get(attached_statements, t, [])],
	),
	"managed": [m | some x in as_list(object.get(p, "ManagedPolicyArns", [])); m := managed_name(val(x))],
	"trust": [text(val(x)) |
		some st in as_list(p.AssumeRolePolicyDocument.Statement)
		some x in principals(st.Principal)
	],
	"boundary": get(p, ["PermissionsBoundary"]),
} if some t, p in iam_roles

roles[t] := {
	"statements": array.concat(
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
	),
	"managed": array.concat([m | some x in as_list(object.get(rv, "managed_policy_arns", [])); m := managed_name(x)], [m |
		attachments := tf_of("aws_iam_role_policy_attachment")
		some addr
		v := attachments[addr]
		tf_target(addr, v, "role") == t
		not tf_target(addr, v, "policy_arn")
		m := managed_name(v.policy_arn)
	]),
	# the services, role ARNs and "*" the trust policy names (the design reader scans its JSON text)
	"trust": [x |
		some st in as_list(document(rv.assume_role_policy).Statement)
		some p in principals(st.Principal)
		some x in trust_names(p)
	],
	"boundary": object.get(rv, "permissions_boundary", null),
} if some t, rv in tf_of("aws_iam_role")

principals(p) := [x | some v in p; some x in as_list(v)] if is_object(p)

principals(p) := [p] if not is_object(p)

trust_names("*") := [`"*"`]

trust_names(p) := regex.find_n(`[a-z0-9.-]+\.amazonaws\.com|arn:aws:iam::[^"']+`, p, -1) if {
	is_string(p)
	p != "*"
}

# the role summary the predicates read (role.actions, role.admin_managed ...), from statements, precomputed
# [actions, actions on every resource] parts (policy templates) and managed policy names
role_summary(sts, parts, managed, shared_by, boundary, trust) := {
	"actions": array.concat(
		[a | some [acts, _] in sts; some a in acts],
		array.concat(
			[a | some [acts, _] in parts; some a in acts],
			[a | some m in managed; some a in object.get(data.sckb_tables.managed_policies, [m, "actions"], [])],
		),
	),
	"star_resource_actions": array.concat(
		[a |
			some [acts, res] in sts
			some r in res
			endswith(r, "*")
			regex.match(data.sckb_tables.star_resource, r)
			some a in acts
			not star_ok(a)
		],
		array.concat(
			[a | some [_, star] in parts; some a in star],
			[a | some m in managed; some a in object.get(data.sckb_tables.managed_policies, [m, "star_actions"], [])],
		),
	),
	"admin_managed": [m | some m in managed; object.get(data.sckb_tables.managed_policies, [m, "admin"], false)],
	"shared_by": shared_by,
	"boundary": boundary,
	"trust": trust,
}

star_ok(a) if {
	some p in data.sckb_tables.star_resource_ok
	regex.match(p, a)
}

# a role outside the template: nothing known but that it has no boundary or trust here
unknown_role := {"shared_by": null, "boundary": null, "trust": []}

cfn_role_props(_, rp, "generated") := role_summary(
	generated_statements(rp), generated_templates(rp), generated_managed(rp), 1,
	get(rp, ["PermissionsBoundary"]), ["lambda.amazonaws.com"],
)

cfn_role_props(_, _, t) := role_props(t) if not t in {"generated", ""}

cfn_role_props(_, _, "") := unknown_role

role_props(t) := role_summary(x.statements, [], x.managed, object.get(role_users, t, 1), x.boundary, x.trust) if {
	x := roles[t]
} else := object.union(unknown_role, {"shared_by": object.get(role_users, t, null)})

# ------------------------------------------------------------------------------- the function records

functions[n] := {"format": "cfn", "props": cfn_props(n, r, fn_raw(r))} if {
	some n, r in cfn_resources
	r.Type in cfn_types
}

functions[a] := {"format": "tf", "props": tf_props(a, v)} if some a, v in tf_fn

function_names contains n if some n, _ in functions

cfn_props(n, r, rp) := object.union(
	{
		"tracing": cfn_tracing(rp),
		"dlq": cfn_dlq(rp),
		"on_failure": cfn_on_failure_of(n, rp),
		"concurrency_limit": num_or_null(get(rp, ["ReservedConcurrentExecutions"])),
		"timeout": cfn_timeout(rp),
		"env_kms_key": get(rp, ["KmsKeyArn"]),
		"vpc": filled(get(rp, ["VpcConfig", "SubnetIds"])),
		"code_signing": get(rp, ["CodeSigningConfigArn"]),
		"layers": [t | some x in as_list(object.get(rp, "Layers", null)); t := val(x)],
		"runtime_deprecated": cfn_runtime_deprecated(rp),
		"published": cfn_published_of(n, r, rp),
		"url": cfn_url_of(n, rp),
		"log": log(cfn_log_of(n, rp)),
		"role": cfn_role_props(n, rp, cfn_role(r, rp)),
	},
	joined(n, env_of(object.get(rp, ["Environment", "Variables"], null))),
)

cfn_tracing(rp) := get(rp, ["Tracing"]) if has(rp, "Tracing")
else := get(rp, ["TracingConfig", "Mode"])

cfn_dlq(rp) := get(rp, ["DeadLetterQueue", "TargetArn"]) if has(rp, "DeadLetterQueue")
else := get(rp, ["DeadLetterConfig", "TargetArn"])

cfn_timeout(rp) := num_or_null(get(rp, ["Timeout"])) if has(rp, "Timeout")
else := 3

# the function's own EventInvokeConfig (SAM), a stream event's, or another resource's
cfn_on_failure(n, _) if n in on_failure_ext

cfn_on_failure(_, rp) if {
	oc := rp.EventInvokeConfig.DestinationConfig.OnFailure
	nonempty(object.get(oc, "Destination", object.get(oc, "Type", null)))
}

cfn_on_failure(_, rp) if {
	some ev in object.get(rp, "Events", {})
	ev.Type in {"DynamoDB", "Kinesis"}
	nonempty(ev.Properties.DestinationConfig.OnFailure)
}

cfn_published(n, _, _) if n in published_ext

cfn_published(_, r, rp) if {
	r.Type == sam_type
	nonempty(get(rp, ["AutoPublishAlias"]))
}

cfn_url(n, _) := url_ext[n]

cfn_url(n, rp) := {"auth": object.get(u, "AuthType", "NONE"), "cors_origins": origins(object.get(u, "Cors", {}))} if {
	not url_ext[n]
	u := rp.FunctionUrlConfig
	is_object(u)
}

image(rp) if rp.PackageType == "Image"

image(rp) if nonempty(rp.ImageUri)

# container images carry no managed runtime: never deprecated; an unset runtime stays open (null)
cfn_runtime_deprecated(rp) := false if image(rp)
else := deprecated(get(rp, ["Runtime"]))

deprecated(rt) := object.get(data.sckb_tables.runtime_deprecation, lower(trim_space(rt)), "9999-12-31") <= today if is_string(rt)
else := null

env_of(vars) := vars if is_object(vars)
else := {}

# the properties every format shares: environment, and what other resources add
joined(n, env) := {
	"has_environment": count(env) > 0,
	"secret_env_names": secret_env_names(env),
	"alarms": object.get(alarms, n, 0),
	"invoke_permissions": object.get(invoke_permissions, n, []),
}

secret_env_names(vars) := sort([k |
	some k
	raw := vars[k]
	t := text(val(raw))
	t != ""
	not contains(t, "${")
	secret_like(lower(k), t)
	not regex.match(data.sckb_tables.secret_reference, lower(t))
])

secret_like(_, t) if regex.match(data.sckb_tables.secret_value, t)

secret_like(k, t) if {
	regex.match(data.sckb_tables.secret_name, k)
	not regex.match(data.sckb_tables.secret_pointer_name, k)
	count(t) >= 6
	not startswith(lower(t), "arn:")
	not startswith(lower(t), "http")
}

tf_props(a, v) := object.union(
	{
		"tracing": object.get(v, ["tracing_config", 0, "mode"], null),
		"dlq": object.get(v, ["dead_letter_config", 0, "target_arn"], null),
		"on_failure": a in on_failure_ext,
		"concurrency_limit": tf_concurrency(v),
		"timeout": num_or_null(object.get(v, "timeout", 3)),
		"env_kms_key": object.get(v, "kms_key_arn", null),
		"vpc": filled(object.get(v, ["vpc_config", 0, "subnet_ids"], null)),
		"code_signing": object.get(v, "code_signing_config_arn", null),
		"layers": as_list(object.get(v, "layers", null)),
		"runtime_deprecated": tf_runtime_deprecated(v),
		"published": tf_published_of(a, v),
		"url": object.get(url_ext, a, null),
		"log": log(tf_log_of(v)),
		"role": tf_role_props(a, v),
	},
	joined(a, env_of(object.get(v, ["environment", 0, "variables"], null))),
)

tf_concurrency(v) := null if v.reserved_concurrent_executions == -1
else := num_or_null(object.get(v, "reserved_concurrent_executions", null))

tf_runtime_deprecated(v) := false if v.package_type == "Image"
else := deprecated(object.get(v, "runtime", null))

tf_published(a, _) if a in published_ext

tf_published(_, v) if v.publish == true

tf_role_props(a, v) := role_props(t) if t := tf_target(a, v, "role")
else := unknown_role

# the outcomes of the tests above as values (a failed rule body is undefined, not false)
filled(x) := true if nonempty(x)
else := false

cfn_on_failure_of(n, rp) := true if cfn_on_failure(n, rp)
else := false

cfn_published_of(n, r, rp) := true if cfn_published(n, r, rp)
else := false

cfn_url_of(n, rp) := u if u := cfn_url(n, rp)
else := null

tf_published_of(a, v) := true if tf_published(a, v)
else := false

# ----------------------------------------------------------------------------------- data store records

# tables, buckets, queues, topics, secrets and streams with the properties the store predicates read
# (design/cfn.py and design/tf.py): encryption (none | default | kms | cmk), explicit or not, backup, public
# (false | "read" | "write", from resource policies), TLS enforced, rotation, PHI (from tags: sckb.yaml's
# classification is not in a template) and whether a store triggers a function
cfn_store_types := {
	"AWS::DynamoDB::Table": "table", "AWS::Serverless::SimpleTable": "table", "AWS::S3::Bucket": "bucket",
	"AWS::SQS::Queue": "queue", "AWS::SNS::Topic": "topic", "AWS::SecretsManager::Secret": "secret",
	"AWS::Kinesis::Stream": "stream",
}

stores[id] := {"format": "cfn", "props": object.union(cfn_store(typ, id, p), {"phi": phi(object.get(p, "Tags", {})), "emits_events": id in emitting})} if {
	some id, r in cfn_resources
	typ := cfn_store_types[r.Type]
	p := object.get(r, "Properties", {})
}

stores[a] := {"format": "tf", "props": object.union(tf_store(t, a, v), {"phi": phi(object.get(v, "tags", {})), "emits_events": a in emitting})} if {
	some t in object.keys(tf_store_types)
	some a, v in tf_of(t)
}

store_names contains n if some n, _ in stores

is_true(x) := true if x == true
else := false

cfn_store("table", _, p) := {
	"type": "table",
	"encryption": table_encryption(sse),
	"encryption_explicit": is_true(object.get(sse, "SSEEnabled", null)),
	"backup": is_true(object.get(p, ["PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"], null)),
	"public": false,
} if sse := object.get(p, "SSESpecification", {})

table_encryption(sse) := "cmk" if {
	sse.SSEEnabled == true
	nonempty(get(sse, ["KMSMasterKeyId"]))
}
else := "kms" if sse.SSEEnabled == true
else := "default"

cfn_store("bucket", id, p) := {
	"type": "bucket",
	"encryption": bucket_encryption(p),
	"encryption_explicit": is_object(object.get(p, "BucketEncryption", null)),
	"backup": object.get(p, ["VersioningConfiguration", "Status"], null) == "Enabled",
	"public": policy_public(docs),
	"tls_enforced": policy_tls(docs),
} if {
	docs := array.concat(object.get(bucket_policies, concat("", ["${", id, "}"]), []), object.get(bucket_policies, bucket_name(p, id), []))
}

# the bucket's physical name, its logical id when unnamed
bucket_name(p, id) := t if t := text(get(p, ["BucketName"]))
else := id

bucket_encryption(p) := "cmk" if {
	d := p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault
	contains(val(d.SSEAlgorithm), "kms")
	nonempty(get(d, ["KMSMasterKeyID"]))
}
else := "kms" if contains(val(p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm), "kms")
else := "default"

cfn_store("queue", id, p) := {
	"type": "queue",
	"encryption": queue_encryption(kms, object.get(p, "SqsManagedSseEnabled", null)),
	"encryption_explicit": any_true([filled(kms), is_true(object.get(p, "SqsManagedSseEnabled", null))]),
	"public": policy_public(object.get(queue_policies, concat("", ["${", id, "}"]), [])),
} if kms := get(p, ["KmsMasterKeyId"])

any_true(xs) := true if true in xs
else := false

queue_encryption(kms, managed) := "kms" if contains(text(kms), "alias/aws/sqs")
else := "cmk" if nonempty(kms)
else := "none" if managed == false
else := "default"

cfn_store("topic", id, p) := {
	"type": "topic",
	"encryption": topic_encryption(kms),
	"encryption_explicit": filled(kms),
	"public": policy_public(object.get(topic_policies, concat("", ["${", id, "}"]), [])),
} if kms := get(p, ["KmsMasterKeyId"])

topic_encryption(kms) := "kms" if contains(text(kms), "alias/aws/sns")
else := "cmk" if nonempty(kms)
else := "none"

cfn_store("secret", id, p) := {
	"type": "secret",
	"encryption": key_or_kms(get(p, ["KmsKeyId"])),
	"encryption_explicit": true,
	"public": false,
	"rotation": id in rotated_secrets,
}

key_or_kms(k) := "cmk" if nonempty(k)
else := "kms"

cfn_store("stream", _, p) := {
	"type": "stream",
	"encryption": stream_encryption(p),
	"encryption_explicit": is_object(object.get(p, "StreamEncryption", null)),
	"public": false,
}

stream_encryption(p) := "cmk" if is_object(p.StreamEncryption)
else := "none"

# resource policies, by the text of the store they name ("${LogicalId}" or a physical name)
bucket_policies[k] := [d | some r in cfn_resources; r.Type == "AWS::S3::BucketPolicy"; text(val(r.Properties.Bucket)) == k; d := r.Properties.PolicyDocument] if {
	some r in cfn_resources
	r.Type == "AWS::S3::BucketPolicy"
	k := text(val(r.Properties.Bucket))
}

queue_policies[k] := [r.Properties.PolicyDocument | some r in cfn_resources; r.Type == "AWS::SQS::QueuePolicy"; some q in r.Properties.Queues; text(val(q)) == k] if {
	some r in cfn_resources
	r.Type == "AWS::SQS::QueuePolicy"
	some q in r.Properties.Queues
	k := text(val(q))
}

topic_policies[k] := [r.Properties.PolicyDocument | some r in cfn_resources; r.Type == "AWS::SNS::TopicPolicy"; some t in r.Properties.Topics; text(val(t)) == k] if {
	some r in cfn_resources
	r.Type == "AWS::SNS::TopicPolicy"
	some t in r.Properties.Topics
	k := text(val(t))
}

rotated_secrets contains t if {
	some r in cfn_resources
	r.Type == "AWS::SecretsManager::RotationSchedule"
	t := ref_target(r.Properties.SecretId)
}

rotated_secrets contains t if {
	some addr, v in tf_of("aws_secretsmanager_secret_rotation")
	t := tf_target(addr, v, "secret_id")
}

# public: "write" when an Allow statement for any principal without a condition writes, "read" when one only reads
policy_public(docs) := "write" if {
	some st in open_statements(docs)
	some a in as_list(st.Action)
	writes(a)
}
else := "read" if count(open_statements(docs)) > 0
else := false

open_statements(docs) := [st |
	some d in docs
	some st in as_list(d.Statement)
	st.Effect == "Allow"
	star_principal(st.Principal)
	not nonempty(object.get(st, "Condition", null))
]

star_principal("*")

star_principal(p) if p.AWS == "*"

star_principal(p) if p.AWS == ["*"]

writes(a) if endswith(a, "*")

writes(a) if contains(a, ":Put")

writes(a) if contains(a, ":Delete")

writes(a) if contains(a, ":Send")

writes(a) if contains(a, ":Publish")

policy_tls(docs) := true if {
	some d in docs
	some st in as_list(d.Statement)
	st.Effect == "Deny"
	some _, c in st.Condition
	some k, _ in c
	k == "aws:SecureTransport"
}
else := false

phi(tags) := true if {
	some k, v in tag_map(tags)
	lower(k) == "phi"
	lower(text(v)) in {"true", "yes", "1"}
}
else := true if {
	some k, v in tag_map(tags)
	lower(k) in {"dataclassification", "data-classification", "data_classification", "classification"}
	lower(text(v)) == "phi"
}
else := false

tag_map(tags) := tags if is_object(tags)
else := {t.Key: t.Value | some t in tags; is_string(t.Key)} if is_array(tags)
else := {}

# stores that trigger a function: SAM events, event source mappings, S3 notifications, SNS subscriptions
emitting contains t if {
	some r in cfn_resources
	r.Type == sam_type
	some ev in object.get(r.Properties, "Events", {})
	key := {"S3": "Bucket", "SQS": "Queue", "SNS": "Topic", "DynamoDB": "Stream", "Kinesis": "Stream"}[ev.Type]
	t := ref_target(ev.Properties[key])
}

emitting contains t if {
	some r in cfn_resources
	r.Type == "AWS::Lambda::EventSourceMapping"
	count(cfn_fn_refs(r.Properties.FunctionName)) > 0
	t := ref_target(r.Properties.EventSourceArn)
}

emitting contains t if {
	some addr, v in tf_of("aws_lambda_event_source_mapping")
	count(tf_fn_refs(addr, v, "function_name")) > 0
	t := tf_target(addr, v, "event_source_arn")
}

emitting contains t if {
	some addr, v in tf_of("aws_s3_bucket_notification")
	some lf in object.get(v, "lambda_function", [])
	count(tf_fn_refs(addr, object.union(v, {"_fn": lf.lambda_function_arn}), "_fn")) > 0
	t := tf_target(addr, v, "bucket")
}

emitting contains t if {
	some addr, v in tf_of("aws_sns_topic_subscription")
	count(tf_fn_refs(addr, v, "endpoint")) > 0
	t := tf_target(addr, v, "topic_arn")
}

tf_store_types := {
	"aws_dynamodb_table": "table", "aws_s3_bucket": "bucket", "aws_sqs_queue": "queue", "aws_sns_topic": "topic",
	"aws_secretsmanager_secret": "secret",
}

tf_store("aws_dynamodb_table", _, v) := {
	"type": "table",
	"encryption": tf_table_encryption(sse),
	"encryption_explicit": is_true(object.get(sse, "enabled", null)),
	"backup": is_true(object.get(v, ["point_in_time_recovery", 0, "enabled"], null)),
	"public": false,
} if sse := object.get(v, ["server_side_encryption", 0], {})

tf_table_encryption(sse) := "cmk" if {
	sse.enabled == true
	nonempty(object.get(sse, "kms_key_arn", null))
}
else := "kms" if sse.enabled == true
else := "default"

tf_store("aws_s3_bucket", a, v) := {
	"type": "bucket",
	"encryption": tf_bucket_encryption(enc),
	"encryption_explicit": any_true([enc != null, filled(object.get(v, "server_side_encryption_configuration", null))]),
	"backup": object.get(tf_s3_versioning, a, null) == "Enabled",
	"public": tf_bucket_public(object.get(tf_s3_policies, a, null)),
	"tls_enforced": false,
} if enc := object.get(tf_s3_encryption, a, null)

tf_s3_encryption[t] := object.get(v, ["rule", 0, "apply_server_side_encryption_by_default", 0], {}) if {
	some addr, v in tf_of("aws_s3_bucket_server_side_encryption_configuration")
	t := tf_target(addr, v, "bucket")
}

tf_bucket_encryption(d) := "cmk" if {
	contains(d.sse_algorithm, "kms")
	nonempty(object.get(d, "kms_master_key_id", null))
}
else := "kms" if contains(d.sse_algorithm, "kms")
else := "default"

tf_s3_versioning[t] := object.get(v, ["versioning_configuration", 0, "status"], null) if {
	some addr, v in tf_of("aws_s3_bucket_versioning")
	t := tf_target(addr, v, "bucket")
}

tf_s3_policies[t] := v.policy if {
	some addr, v in tf_of("aws_s3_bucket_policy")
	t := tf_target(addr, v, "bucket")
}

# as the design reader reads a Terraform bucket policy: from its JSON text
tf_bucket_public(pol) := "write" if {
	is_string(pol)
	contains(replace(pol, "'", `"`), `"Principal": "*"`)
	some [acts, _] in statements(pol)
	some a in acts
	contains(a, ":Put")
}
else := "read" if {
	is_string(pol)
	contains(replace(pol, "'", `"`), `"Principal": "*"`)
}
else := false

tf_store("aws_sqs_queue", _, v) := {
	"type": "queue",
	"encryption": tf_queue_encryption(kms, object.get(v, "sqs_managed_sse_enabled", null)),
	"encryption_explicit": any_true([filled(kms), is_true(object.get(v, "sqs_managed_sse_enabled", null))]),
	"public": false,
} if kms := object.get(v, "kms_master_key_id", null)

tf_queue_encryption(kms, managed) := "cmk" if nonempty(kms)
else := "none" if managed == false
else := "default"

tf_store("aws_sns_topic", _, v) := {
	"type": "topic",
	"encryption": key_or_none(kms),
	"encryption_explicit": filled(kms),
	"public": false,
} if kms := object.get(v, "kms_master_key_id", null)

key_or_none(k) := "cmk" if nonempty(k)
else := "none"

tf_store("aws_secretsmanager_secret", a, v) := {
	"type": "secret",
	"encryption": key_or_kms(object.get(v, "kms_key_id", null)),
	"encryption_explicit": true,
	"public": false,
	"rotation": a in rotated_secrets,
}

# ------------------------------------------------------------------------------------------ API routes

# the routes that invoke a function, with what they inherit from their API (design/cfn.py: SAM Api/HttpApi
# events first, then OpenAPI bodies, API Gateway methods and HTTP API routes; the first to name a route wins)
api_kinds := {
	"AWS::Serverless::Api": "rest", "AWS::Serverless::HttpApi": "http",
	"AWS::ApiGateway::RestApi": "rest", "AWS::ApiGatewayV2::Api": "http",
}

api_globals := {"AWS::Serverless::Api": "Api", "AWS::Serverless::HttpApi": "HttpApi"}

global_api(key) := g if {
	g := input.Globals[key]
	is_object(g)
} else := {}

apis[name] := api_settings(name, kind, merged, body) if {
	some name, r in cfn_resources
	kind := api_kinds[r.Type]
	p := object.get(r, "Properties", {})
	merged := object.union(global_api(object.get(api_globals, r.Type, "")), p)
	body := api_body(r.Type, p, merged)
}

apis["ServerlessRestApi"] := api_settings("ServerlessRestApi", "rest", global_api("Api"), object.get(global_api("Api"), "DefinitionBody", null))

apis["ServerlessHttpApi"] := api_settings("ServerlessHttpApi", "http", global_api("HttpApi"), object.get(global_api("HttpApi"), "DefinitionBody", null))

api_body("AWS::ApiGateway::RestApi", p, _) := object.get(p, "Body", null)

api_body(t, _, merged) := object.get(merged, "DefinitionBody", null) if t != "AWS::ApiGateway::RestApi"

api_settings(name, kind, merged, body) := {
	"kind": kind,
	"default_auth": object.get(auth, "DefaultAuthorizer", null),
	"api_key": object.get(auth, "ApiKeyRequired", null) == true,
	"throttled": api_throttled(name, merged, auth),
	"waf": api_waf(name),
	"public": not_private(object.get(merged, "EndpointConfiguration", null)),
	"cors_origins": cors_origins(object.get(merged, "Cors", object.get(merged, "CorsConfiguration", null))),
	"body": body_routes(body),
} if auth := object.get(merged, "Auth", {})

api_throttled(name, merged, auth) := true if name in usage_plan_apis
else := true if name in stage_throttled_apis
else := true if is_object(auth.UsagePlan)
else := true if {
	some m in as_list(object.get(merged, "MethodSettings", []))
	throttles(m)
}
else := true if throttles(merged.DefaultRouteSettings)
else := false

usage_plan_apis contains t if {
	some r in cfn_resources
	r.Type == "AWS::ApiGateway::UsagePlan"
	any_set(r.Properties, ["Throttle", "Quota"])
	some st in as_list(object.get(r.Properties, "ApiStages", []))
	t := ref_target(st.ApiId)
}

stage_throttled_apis contains t if {
	some r in cfn_resources
	r.Type in {"AWS::ApiGateway::Stage", "AWS::ApiGatewayV2::Stage"}
	stage_throttles(r.Properties)
	t := ref_target(object.get(r.Properties, "RestApiId", object.get(r.Properties, "ApiId", null)))
}

stage_throttles(p) if {
	some m in as_list(object.get(p, "MethodSettings", []))
	throttles(m)
}

stage_throttles(p) if throttles(p.DefaultRouteSettings)

throttles(s) if has(s, "ThrottlingRateLimit")

throttles(s) if has(s, "ThrottlingBurstLimit")

waf_arns := [val(r.Properties.ResourceArn) | some r in cfn_resources; r.Type == "AWS::WAFv2::WebACLAssociation"]

api_waf(name) := true if {
	some a in waf_arns
	ref_target(a) == name
}
else := true if {
	some a in waf_arns
	contains(text(a), concat("", ["${", name]))
}
else := false

not_private(e) := false if e.Type == "PRIVATE"
else := false if e == "PRIVATE"
else := true

cors_origins(v) := [] if v == null
else := [trim(v, "'\"")] if is_string(v)
else := [trim(text(val(o)), "'\"") | some o in as_list(object.get(v, "AllowOrigin", object.get(v, "AllowOrigins", null)))] if is_object(v)
else := []

# an OpenAPI body's routes: path, method, the function its integration names, auth, validation, mock
body_routes(body) := [{"path": path, "method": upper(method), "function": fn_in_uri(integ), "auth": op_auth(body, op), "validated": op_validated(body, op), "mock": object.get(integ, "type", "") == "mock"} |
	some path
	ops := body.paths[path]
	some method
	op := ops[method]
	is_object(op)
	lower(method) != "parameters"
	integ := object.get(op, "x-amazon-apigateway-integration", {})
] if is_object(body.paths)
else := []

fn_in_uri(integ) := f if f := regex.find_all_string_submatch_n(`functions/\$\{([A-Za-z0-9]+)(\.Arn)?\}`, text(val(integ.uri)), 1)[0][1]
else := null

op_auth(body, op) := "AUTHORIZER" if nonempty(object.get(op, "security", object.get(body, "security", null)))
else := "NONE" if op.security == []
else := null

op_validated(body, op) := true if {
	vname := object.get(op, "x-amazon-apigateway-request-validator", body["x-amazon-apigateway-request-validator"])
	v := body["x-amazon-apigateway-request-validators"][vname]
	any_set(v, ["validateRequestBody", "validateRequestParameters"])
}
else := false

norm_auth(a) := upper(a) if {
	is_string(a)
	upper(a) in {"NONE", "AWS_IAM"}
}
else := "NONE" if a == ""
else := "NONE" if a == null
else := a

route_props(api, auth, validated) := {
	"api_kind": object.get(api, "kind", "rest"),
	"auth": norm_auth(auth),
	"validated": validated,
	"throttled": object.get(api, "throttled", false),
	"waf": object.get(api, "waf", false),
	"cors_origins": object.get(api, "cors_origins", []),
	"public": object.get(api, "public", true),
}

# candidates: route name -> [order, props]; the lowest order wins
route_candidates[name] contains [1, fname, route_props(api, auth, validated)] if {
	some fname, r in cfn_resources
	r.Type == sam_type
	some ev in object.get(object.get(r, "Properties", {}), "Events", {})
	ev.Type in {"Api", "HttpApi"}
	p := object.get(ev, "Properties", {})
	default_api := {"Api": "ServerlessRestApi", "HttpApi": "ServerlessHttpApi"}[ev.Type]
	api_name := event_api(p, default_api)
	api := object.get(apis, api_name, apis[default_api])
	path := text(val(object.get(p, "Path", "/")))
	method := upper(text(val(object.get(p, "Method", "ANY"))))
	name := concat(" ", [api_name, method, path])
	hits := [b | some b in api.body; b.path == path; b.method == method]
	auth := event_auth(object.get(p, "Auth", {}), hits, api)
	validated := event_validated(p, hits)
}

event_api(p, default_api) := t if t := ref_target(object.get(p, "RestApiId", object.get(p, "ApiId", null)))
else := default_api

event_auth(a, hits, api) := a.Authorizer if has(a, "Authorizer")
else := hits[0].auth if nonempty(hits[0].auth)
else := api.default_auth if nonempty(api.default_auth)
else := "API_KEY" if a.ApiKeyRequired == true
else := "API_KEY" if api.api_key == true
else := "NONE"

event_validated(p, hits) := true if any_set(object.get(p, "RequestModel", {}), ["ValidateBody", "Required"])
else := true if hits[0].validated == true
else := true if {
	some x in as_list(object.get(p, "RequestParameters", []))
	some v in x
	v.Required == true
}
else := false

route_candidates[name] contains [2, b.function, route_props(api, auth, b.validated)] if {
	some api_name, api in apis
	some b in api.body
	b.function in cfn_fn_ids
	not b.mock
	name := concat(" ", [api_name, b.method, b.path])
	auth := first_set([b.auth, api.default_auth, "NONE"])
}

first_set(xs) := [x | some x in xs; nonempty(x)][0]

route_candidates[name] contains [3, fname, route_props(object.get(apis, api_name, {}), object.get(p, "AuthorizationType", "NONE"), filled(object.get(p, "RequestValidatorId", null)))] if {
	some r in cfn_resources
	r.Type == "AWS::ApiGateway::Method"
	p := object.get(r, "Properties", {})
	fname := regex.find_all_string_submatch_n(`\$\{([A-Za-z0-9]+)(\.Arn)?\}`, text(val(p.Integration.Uri)), 1)[0][1]
	fname in cfn_fn_ids
	api_name := ref_or(p.RestApiId, "?")
	part := [x | rid := ref_target(p.ResourceId); rr := cfn_resources[rid]; rr.Type == "AWS::ApiGateway::Resource"; x := text(val(object.get(rr.Properties, "PathPart", "")))]
	path := concat("", ["/", concat("", part)])
	name := concat(" ", [api_name, text(val(object.get(p, "HttpMethod", "ANY"))), path])
}

route_candidates[name] contains [4, fname, route_props(object.get(apis, api_name, {}), object.get(p, "AuthorizationType", "NONE"), false)] if {
	some r in cfn_resources
	r.Type == "AWS::ApiGatewayV2::Route"
	p := object.get(r, "Properties", {})
	integ := regex.find_all_string_submatch_n(`\$\{([A-Za-z0-9]+)\}`, text(val(p.Target)), 1)[0][1]
	uri := text(val(cfn_resources[integ].Properties.IntegrationUri))
	fname := regex.find_all_string_submatch_n(`\$\{([A-Za-z0-9]+)(\.Arn)?\}`, uri, 1)[0][1]
	fname in cfn_fn_ids
	api_name := ref_or(p.ApiId, "?")
	rk := text(val(object.get(p, "RouteKey", "$default")))
	name := route_key_name(api_name, rk)
}

route_key_name(api, rk) := concat(" ", [api, parts[0], parts[1]]) if {
	parts := split(rk, " ")
	count(parts) == 2
}
else := concat(" ", [api, "ANY", rk])

ref_or(v, d) := t if t := ref_target(v)
else := d

routes[name] := {"format": "cfn", "props": first[2]} if {
	some name, cands in route_candidates
	best := min({c[0] | some c in cands})
	first := [c | some c in cands; c[0] == best][0]
}

# Terraform: HTTP API routes and REST API methods whose integration invokes a function
routes[addr] := {"format": "tf", "props": {
	"api_kind": "http",
	"auth": object.get(v, "authorization_type", "NONE"),
	"validated": false,
	"throttled": api in tf_throttled_http_apis,
	"waf": contains(tf_waf_text, api),
	"cors_origins": object.get(tf_of(split(api, ".")[0])[api], ["cors_configuration", 0, "allow_origins"], []),
	"public": true,
}} if {
	some addr, v in tf_of("aws_apigatewayv2_route")
	integ := regex.find_all_string_submatch_n(`\$\{?(aws_apigatewayv2_integration\.[A-Za-z0-9_-]+)`, text(v.target), 1)[0][1]
	iv := tf_of("aws_apigatewayv2_integration")[integ]
	count(tf_fn_refs(integ, iv, "integration_uri")) > 0
	api := tf_target(addr, v, "api_id")
}

routes[addr] := {"format": "tf", "props": {
	"api_kind": "rest",
	"auth": object.get(v, "authorization", null),
	"validated": any_true([filled(object.get(v, "request_validator_id", null)), count(tf_of("aws_api_gateway_request_validator")) > 0]) == true,
	"throttled": contains(tf_usage_plans_text, api),
	"waf": contains(tf_waf_text, api),
	"cors_origins": [],
	"public": true,
}} if {
	some addr, v in tf_of("aws_api_gateway_method")
	api := tf_target(addr, v, "rest_api_id")
	res := tf_target(addr, v, "resource_id")
	some iaddr, iv in tf_of("aws_api_gateway_integration")
	tf_target(iaddr, iv, "rest_api_id") == api
	tf_target(iaddr, iv, "resource_id") == res
	iv.http_method == v.http_method
	count(tf_fn_refs(iaddr, iv, "uri")) > 0
}

tf_throttled_http_apis contains t if {
	some addr, v in tf_of("aws_apigatewayv2_stage")
	drs := object.get(v, ["default_route_settings", 0], {})
	any_set(drs, ["throttling_rate_limit", "throttling_burst_limit"])
	t := tf_target(addr, v, "api_id")
}

tf_waf_text := concat(" ", [text(v.resource_arn) | some v in tf_of("aws_wafv2_web_acl_association")])

tf_usage_plans_text := concat(" ", [text(st.api_id) |
	some v in tf_of("aws_api_gateway_usage_plan")
	any_set(v, ["throttle_settings", "quota_settings"])
	some st in as_list(object.get(v, "api_stages", []))
])

route_names contains n if some n, _ in routes
