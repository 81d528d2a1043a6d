//! The schema for other languages: an OpenAPI 3.1 document of Helix and an
//! AsyncAPI 3.0 document of EventSub, written from the model alone (no
//! hand-written spec), kept in the repository (`spec/`) by
//! `twitch-codegen sync` and checked for staleness by a test.
//!
//! Where the standards have no field, `x-twitch-*` extensions carry what
//! the schema knows (schema/README.md lists them): `x-twitch-tokens` (the
//! token kinds an operation takes), `x-twitch-token-user` (the parameter
//! naming the user the request acts as), `x-twitch-beta`,
//! `x-twitch-lifecycle` (dates from Twitch's changelog),
//! `x-twitch-decisions` (recorded differences from the docs and their
//! sources), `x-twitch-rules` (parameters that exclude or need each other),
//! `x-twitch-split` (a body list sent in parts), `x-twitch-id` (the kind of
//! id a string is), `x-twitch-unit` (the unit of a length of time),
//! `x-twitch-secret` (a value never to log) and, in AsyncAPI,
//! `x-twitch-transports` and `x-twitch-batched`.

use serde_json::{Map, Value, json};

use crate::model::{
    Endpoint, Field, Items, Lifecycle, Model, RuleKind, Schema, Shape, Subscription, TimeUnit, Ty, UInt,
};

/// Where the documents go, relative to the repository's root.
pub const OPENAPI_FILE: &str = "spec/helix.openapi.json";
pub const ASYNCAPI_FILE: &str = "spec/eventsub.asyncapi.json";

const TOKEN_URL: &str = "https://id.twitch.tv/oauth2/token";
const AUTHORIZE_URL: &str = "https://id.twitch.tv/oauth2/authorize";

/// JSON text as written: two-space indents and a final newline.
pub fn to_text(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// A reference to a named model or enum.
fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The JSON Schema of a type expression.
fn ty_schema(ty: &Ty) -> Value {
    match ty {
        Ty::String => json!({"type": "string"}),
        Ty::Secret => json!({"type": "string", "x-twitch-secret": true}),
        Ty::UserId => json!({"type": "string", "x-twitch-id": "user"}),
        Ty::UserLogin => json!({"type": "string", "x-twitch-login": true}),
        Ty::Id(kind) => json!({"type": "string", "x-twitch-id": kind}),
        Ty::Integer => json!({"type": "integer", "format": "int64"}),
        Ty::Unsigned(u) => {
            let max: u64 = match u {
                UInt::U8 => u8::MAX.into(),
                UInt::U16 => u16::MAX.into(),
                UInt::U32 => u32::MAX.into(),
                UInt::U64 => u64::MAX,
            };
            json!({"type": "integer", "minimum": 0, "maximum": max})
        }
        Ty::Number => json!({"type": "number"}),
        Ty::Boolean => json!({"type": "boolean"}),
        Ty::Timestamp => json!({"type": "string", "format": "date-time"}),
        Ty::Json => json!({}),
        Ty::Vec(inner) => json!({"type": "array", "items": ty_schema(inner)}),
        Ty::Named(name) => reference(name),
        Ty::Duration(unit) => {
            let (ty, unit) = match unit {
                TimeUnit::Seconds => ("integer", "seconds"),
                TimeUnit::Minutes => ("integer", "minutes"),
                TimeUnit::DecimalSeconds => ("number", "seconds"),
            };
            json!({"type": ty, "minimum": 0, "x-twitch-unit": unit})
        }
    }
}

/// A field's schema with its documented limits and description.
fn field_schema(f: &Field) -> Value {
    let mut s = ty_schema(&f.ty);
    if let Value::Object(o) = &mut s {
        let (num, text) = (matches!(o.get("type"), Some(t) if t == "integer" || t == "number"), o.contains_key("type"));
        if num {
            if let Some(min) = f.min {
                o.insert("minimum".into(), json!(min));
            }
            if let Some(max) = f.max {
                o.insert("maximum".into(), json!(max));
            }
        }
        if let Some(len) = f.max_len
            && text
        {
            o.insert("maxLength".into(), json!(len));
        }
    }
    let mut s = match f.repeat {
        Some(max) => json!({"type": "array", "items": s, "maxItems": max}),
        None => s,
    };
    let Value::Object(o) = &mut s else { return s };
    // A `$ref` takes no siblings in older tools: wrap it.
    if o.contains_key("$ref") {
        s = json!({"allOf": [s]});
    }
    let Value::Object(o) = &mut s else { return s };
    if !f.doc.is_empty() {
        o.insert("description".into(), json!(f.doc));
    }
    if f.deprecated.is_some() || f.lifecycle.deprecated.is_some() {
        o.insert("deprecated".into(), json!(true));
    }
    lifecycle(o, &f.lifecycle);
    s
}

/// A query parameter's schema: a required id or login is never empty
/// (Twitch answers an empty one as a missing parameter; an empty optional
/// one is ignored), while a response may carry an empty one
/// (`game_id: ""`), so only required query parameters say so.
fn param_schema(f: &Field) -> Value {
    fn non_empty(s: &mut Value) {
        let Value::Object(o) = s else { return };
        if o.contains_key("x-twitch-id") || o.contains_key("x-twitch-login") {
            o.insert("minLength".into(), json!(1));
        }
        if let Some(items) = o.get_mut("items") {
            non_empty(items);
        }
    }
    let mut s = field_schema(f);
    if f.required && f.repeat.is_none() {
        non_empty(&mut s);
    }
    s
}

/// A model field's schema: nullable where the model says it may be absent.
fn property(f: &Field) -> Value {
    let s = field_schema(f);
    if !f.option {
        return s;
    }
    json!({"anyOf": [s, {"type": "null"}]})
}

fn lifecycle(o: &mut Map<String, Value>, l: &Lifecycle) {
    let mut m = Map::new();
    for (k, v) in [
        ("beta", &l.beta),
        ("ga", &l.ga),
        ("added", &l.added),
        ("deprecated", &l.deprecated),
        ("withdrawn", &l.withdrawn),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    }
    if !m.is_empty() {
        o.insert("x-twitch-lifecycle".into(), Value::Object(m));
    }
}

/// An object schema of these fields (`required`: the ones that must be there).
fn object(fields: &[Field], doc: &str, required: impl Fn(&Field) -> bool) -> Value {
    let mut props = Map::new();
    let mut req = Vec::new();
    for f in fields {
        props.insert(f.wire.clone(), property(f));
        if required(f) {
            req.push(json!(f.wire));
        }
    }
    let mut o = Map::new();
    o.insert("type".into(), json!("object"));
    if !doc.is_empty() {
        o.insert("description".into(), json!(doc));
    }
    o.insert("properties".into(), Value::Object(props));
    if !req.is_empty() {
        o.insert("required".into(), Value::Array(req));
    }
    Value::Object(o)
}

fn model_schema(m: &Model) -> Value {
    object(&m.fields, &m.doc, |f| !f.option)
}

/// The named types a type expression refers to.
fn named(ty: &Ty, out: &mut Vec<String>) {
    match ty {
        Ty::Named(n) => out.push(n.clone()),
        Ty::Vec(inner) => named(inner, out),
        _ => {}
    }
}

/// The models and enums `roots` refer to, and what those refer to, as
/// component schemas.
fn schemas(schema: &Schema, roots: Vec<String>) -> Map<String, Value> {
    let models: std::collections::BTreeMap<&str, &Model> =
        schema.modules.iter().flat_map(|m| &m.models).map(|m| (m.name.as_str(), m)).collect();
    let enums: std::collections::BTreeMap<&str, &crate::model::Enum> =
        schema.modules.iter().flat_map(|m| &m.enums).map(|e| (e.name.as_str(), e)).collect();
    let mut out = Map::new();
    let mut todo = roots;
    while let Some(name) = todo.pop() {
        if out.contains_key(&name) {
            continue;
        }
        if let Some(model) = models.get(name.as_str()) {
            for f in &model.fields {
                named(&f.ty, &mut todo);
            }
            out.insert(name, model_schema(model));
        } else if let Some(e) = enums.get(name.as_str()) {
            let values: Vec<Value> = e.values.iter().map(|v| json!(v.wire)).collect();
            let mut o = json!({"type": "string", "enum": values});
            if !e.doc.is_empty() {
                o["description"] = json!(e.doc);
            }
            out.insert(name, o);
        }
    }
    out
}

/// The named types a list of fields refers to.
fn refs(fields: &[Field]) -> Vec<String> {
    let mut out = Vec::new();
    for f in fields {
        named(&f.ty, &mut out);
    }
    out
}

/// All of one's alternatives for each group: a group is a list of scopes
/// any one of which does; every group is needed. OpenAPI wants the
/// combinations, each a list needed together.
fn combinations(groups: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![Vec::new()];
    for g in groups {
        let mut next = Vec::new();
        for partial in &out {
            for alt in g {
                let mut c = partial.clone();
                if !c.contains(alt) {
                    c.push(alt.clone());
                }
                next.push(c);
            }
        }
        out = next;
    }
    out
}

fn security(ep: &Endpoint) -> Value {
    let mut reqs = Vec::new();
    for t in &ep.tokens {
        match t.as_str() {
            "app" => {
                // An app token acts within a user's grant of the scopes.
                reqs.push(json!({"appAccessToken": [], "clientId": []}));
            }
            "extension_jwt" => reqs.push(json!({"extensionJwt": [], "clientId": []})),
            "none" => reqs.push(json!({})),
            _ => {
                for scopes in combinations(&ep.scopes) {
                    reqs.push(json!({"userAccessToken": scopes, "clientId": []}));
                }
            }
        }
    }
    Value::Array(reqs)
}

fn envelope(schema: &Schema, ep: &Endpoint) -> Option<Value> {
    let r = &ep.response;
    let item = || r.model.as_deref().map(reference).unwrap_or_else(|| json!({}));
    let mut body = match r.shape {
        Shape::None | Shape::Text => return None,
        Shape::Data => {
            let data = match r.items {
                Items::Many => json!({"type": "array", "items": item()}),
                Items::One => json!({"type": "array", "items": item(), "minItems": 1, "maxItems": 1}),
                Items::ZeroOrOne => json!({"type": "array", "items": item(), "maxItems": 1}),
            };
            json!({"type": "object", "properties": {"data": data}, "required": ["data"]})
        }
        Shape::DataObject => json!({"type": "object", "properties": {"data": item()}, "required": ["data"]}),
        Shape::Object => item(),
    };
    if let Some(props) = body.get_mut("properties").and_then(Value::as_object_mut) {
        if r.paginated {
            props.insert("pagination".into(), reference("Pagination"));
        }
        for f in &r.extra {
            props.insert(f.wire.clone(), property(f));
        }
    }
    let _ = schema;
    Some(body)
}

fn operation(schema: &Schema, ep: &Endpoint, tag: &str) -> Value {
    let mut op = Map::new();
    op.insert("operationId".into(), json!(ep.id));
    op.insert("summary".into(), json!(ep.name));
    let mut description = ep.summary.clone();
    if let Some(d) = &ep.docs {
        description.push_str("\n\n");
        description.push_str(d);
    }
    op.insert("description".into(), json!(description));
    op.insert("tags".into(), json!([tag]));
    op.insert("externalDocs".into(), json!({"url": ep.reference_url}));
    if ep.deprecated.is_some() || ep.lifecycle.deprecated.is_some() {
        op.insert("deprecated".into(), json!(true));
    }
    let params: Vec<Value> = ep
        .query
        .iter()
        .map(|f| {
            let mut p = json!({
                "name": f.wire,
                "in": "query",
                "required": f.required,
                "schema": param_schema(f),
            });
            if !f.doc.is_empty() {
                p["description"] = json!(f.doc);
            }
            if f.repeat.is_some() {
                p["style"] = json!("form");
                p["explode"] = json!(true);
            }
            p
        })
        .collect();
    if !params.is_empty() {
        op.insert("parameters".into(), Value::Array(params));
    }
    if !ep.body.is_empty() {
        let body = object(&ep.body, "", |f| f.required);
        op.insert("requestBody".into(), json!({"required": true, "content": {"application/json": {"schema": body}}}));
    }
    let mut responses = Map::new();
    let status = ep.response.status.to_string();
    let mut ok = json!({"description": "Success"});
    if let Some(body) = envelope(schema, ep) {
        let mut media = json!({"schema": body});
        if let Some(example) = ep.example_response.as_deref().and_then(|e| serde_json::from_str::<Value>(e).ok()) {
            media["example"] = example;
        }
        ok["content"] = json!({"application/json": media});
    } else if ep.response.shape == Shape::Text {
        ok["content"] = json!({"text/plain": {"schema": {"type": "string"}}});
    }
    responses.insert(status, ok);
    for e in &ep.errors {
        let body = if e.fields.is_empty() {
            reference("Error")
        } else {
            json!({"allOf": [reference("Error"), object(&e.fields, "", |_| false)]})
        };
        let mut answer = json!({"description": e.when, "content": {"application/json": {"schema": body}}});
        if !e.documented {
            answer["x-twitch-documented"] = json!(false);
        }
        responses.insert(e.status.to_string(), answer);
    }
    for (status, when) in
        [("400", "The request is not valid"), ("401", "The token is missing, invalid or lacks a scope")]
    {
        responses.entry(status).or_insert_with(
            || json!({"description": when, "content": {"application/json": {"schema": reference("Error")}}}),
        );
    }
    responses.insert(
        "429".into(),
        json!({"description": "Rate limited: wait for `Ratelimit-Reset`", "content": {"application/json": {"schema": reference("Error")}}}),
    );
    op.insert("responses".into(), Value::Object(responses));
    op.insert("security".into(), security(ep));
    op.insert("x-twitch-tokens".into(), json!(ep.tokens));
    if let Some(u) = &ep.token_user {
        op.insert("x-twitch-token-user".into(), json!(u));
    }
    if ep.beta {
        op.insert("x-twitch-beta".into(), json!(true));
    }
    if !ep.rules.is_empty() {
        let rules: Vec<Value> = ep
            .rules
            .iter()
            .map(|r| {
                let kind = match r.kind {
                    RuleKind::Exclusive => json!("exclusive"),
                    RuleKind::OneOf => json!("one_of"),
                    RuleKind::AtLeastOne => json!("at_least_one"),
                    RuleKind::MaxTotal(n) => json!({"max_total": n}),
                };
                json!({"kind": kind, "params": r.params})
            })
            .collect();
        op.insert("x-twitch-rules".into(), Value::Array(rules));
    }
    if let Some((param, max)) = &ep.split {
        op.insert("x-twitch-split".into(), json!({"param": param, "max": max}));
    }
    if !ep.decisions.is_empty() {
        op.insert("x-twitch-decisions".into(), json!(ep.decisions));
    }
    lifecycle(&mut op, &ep.lifecycle);
    Value::Object(op)
}

/// The OpenAPI 3.1 document of every Helix endpoint.
pub fn openapi(schema: &Schema) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    let mut tags = Vec::new();
    for m in &schema.modules {
        // One tag per schema file: `users`, `chat`, ...
        let tag = m.path.last().cloned().unwrap_or_default();
        if let Some(first) = m.endpoints.first() {
            tags.push(json!({"name": tag, "description": first.category}));
        }
        for ep in &m.endpoints {
            let entry = paths.entry(ep.path.clone()).or_insert_with(|| json!({}));
            entry[ep.method.to_ascii_lowercase()] = operation(schema, ep, &tag);
        }
    }
    let mut roots = Vec::new();
    for ep in schema.modules.iter().flat_map(|m| &m.endpoints) {
        roots.extend(refs(&ep.query));
        roots.extend(refs(&ep.body));
        roots.extend(refs(&ep.response.extra));
        roots.extend(ep.response.model.clone());
        for e in &ep.errors {
            roots.extend(refs(&e.fields));
        }
    }
    let mut schemas = schemas(schema, roots);
    schemas.insert(
        "Pagination".into(),
        json!({"type": "object", "description": "Where the next page starts.", "properties": {"cursor": {"type": "string"}}}),
    );
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "description": "Twitch's error body.",
            "properties": {"error": {"type": "string"}, "status": {"type": "integer"}, "message": {"type": "string"}},
            "required": ["status", "message"]
        }),
    );
    let scopes: Map<String, Value> = schema.scopes.iter().map(|s| (s.name.clone(), json!(s.doc))).collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Twitch Helix API",
            "version": version(),
            "description": "Every Helix endpoint, generated from the schema of the `twitch` Rust crate (schema/ in its repository): types, limits, tokens, scopes, Twitch's examples and the recorded differences between Twitch's docs and live Twitch (`x-twitch-decisions`).",
            "license": {"name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0"}
        },
        "servers": [{"url": "https://api.twitch.tv/helix"}],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "appAccessToken": {
                    "type": "oauth2",
                    "description": "An app access token (client credentials).",
                    "flows": {"clientCredentials": {"tokenUrl": TOKEN_URL, "scopes": {}}}
                },
                "userAccessToken": {
                    "type": "oauth2",
                    "description": "A user access token (authorization code, device code or implicit grant).",
                    "flows": {"authorizationCode": {"authorizationUrl": AUTHORIZE_URL, "tokenUrl": TOKEN_URL, "scopes": scopes}}
                },
                "extensionJwt": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A JWT the extension's backend signs with its shared secret (role external)."
                },
                "clientId": {"type": "apiKey", "in": "header", "name": "Client-Id", "description": "The application's client id, sent with every request."}
            }
        }
    })
}

fn channel_key(s: &Subscription) -> String {
    format!("{}.v{}", s.ty, s.version)
}

fn message(s: &Subscription) -> Value {
    let condition = object(&s.condition, "The subscription's condition.", |f| f.required);
    let subscription = json!({
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "type": {"const": s.ty},
            "version": {"const": s.version},
            "status": {"type": "string"},
            "cost": {"type": "integer"},
            "condition": condition,
            "transport": {"$ref": "#/components/schemas/Transport"},
            "created_at": {"type": "string", "format": "date-time"}
        },
        "required": ["id", "type", "version", "condition", "transport"]
    });
    let event = if s.batched {
        json!({"events": {"type": "array", "items": reference(&s.event)}})
    } else {
        json!({"event": reference(&s.event)})
    };
    let mut props = Map::new();
    props.insert("subscription".into(), subscription);
    for (k, v) in event.as_object().into_iter().flatten() {
        props.insert(k.clone(), v.clone());
    }
    let required = if s.batched { json!(["subscription", "events"]) } else { json!(["subscription", "event"]) };
    let mut m = Map::new();
    m.insert("name".into(), json!(s.ty));
    m.insert("title".into(), json!(s.name));
    m.insert("summary".into(), json!(s.summary));
    m.insert("contentType".into(), json!("application/json"));
    m.insert("payload".into(), json!({"type": "object", "properties": props, "required": required}));
    m.insert("externalDocs".into(), json!({"url": s.reference_url}));
    if let Some(example) = s.example.as_deref().and_then(|e| serde_json::from_str::<Value>(e).ok()) {
        m.insert("examples".into(), json!([{"name": "twitch", "payload": example}]));
    }
    m.insert("x-twitch-transports".into(), json!(s.transports));
    m.insert("x-twitch-scopes".into(), json!(s.scopes));
    if s.batched {
        m.insert("x-twitch-batched".into(), json!(true));
    }
    if s.beta {
        m.insert("x-twitch-beta".into(), json!(true));
    }
    if !s.decisions.is_empty() {
        m.insert("x-twitch-decisions".into(), json!(s.decisions));
    }
    lifecycle(&mut m, &s.lifecycle);
    Value::Object(m)
}

/// The AsyncAPI 3.0 document of every EventSub subscription type.
pub fn asyncapi(schema: &Schema) -> Value {
    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    for m in &schema.modules {
        for s in &m.subscriptions {
            let key = channel_key(s);
            messages.insert(s.type_name.clone(), message(s));
            channels.insert(
                key.clone(),
                json!({
                    "address": null,
                    "title": s.name,
                    "description": format!("Notifications of `{}` version {}.", s.ty, s.version),
                    "messages": {s.type_name.clone(): {"$ref": format!("#/components/messages/{}", s.type_name)}},
                }),
            );
            operations.insert(
                format!("receive{}", s.type_name),
                json!({
                    "action": "receive",
                    "channel": {"$ref": format!("#/channels/{key}")},
                    "messages": [{"$ref": format!("#/channels/{key}/messages/{}", s.type_name)}],
                }),
            );
        }
    }
    let mut roots = Vec::new();
    for s in schema.modules.iter().flat_map(|m| &m.subscriptions) {
        roots.extend(refs(&s.condition));
        roots.push(s.event.clone());
    }
    let mut schemas = schemas(schema, roots);
    schemas.insert(
        "Transport".into(),
        json!({
            "type": "object",
            "properties": {
                "method": {"type": "string", "enum": ["webhook", "websocket", "conduit"]},
                "callback": {"type": "string"},
                "session_id": {"type": "string"},
                "conduit_id": {"type": "string"},
                "connected_at": {"type": "string", "format": "date-time"},
                "disconnected_at": {"type": "string", "format": "date-time"}
            },
            "required": ["method"]
        }),
    );
    schemas.insert(
        "WebSocketMetadata".into(),
        json!({
            "type": "object",
            "description": "The `metadata` of a WebSocket message; a notification's `payload` is the message's payload.",
            "properties": {
                "message_id": {"type": "string"},
                "message_type": {"type": "string", "enum": ["session_welcome", "session_keepalive", "session_reconnect", "notification", "revocation"]},
                "message_timestamp": {"type": "string", "format": "date-time"},
                "subscription_type": {"type": "string"},
                "subscription_version": {"type": "string"}
            },
            "required": ["message_id", "message_type", "message_timestamp"]
        }),
    );
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Twitch EventSub",
            "version": version(),
            "description": "Every EventSub subscription type and version, generated from the schema of the `twitch` Rust crate (schema/ in its repository): each message is a notification's payload (`subscription` and `event`), as a WebSocket message's `payload` (its `metadata` is `WebSocketMetadata`) or a webhook's body. `x-twitch-transports` says which transports a type takes.",
            "license": {"name": "MIT OR Apache-2.0"}
        },
        "servers": {
            "websocket": {
                "host": "eventsub.wss.twitch.tv",
                "pathname": "/ws",
                "protocol": "wss",
                "description": "EventSub over WebSocket (user tokens; conduit shards)."
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas}
    })
}

#[cfg(test)]
mod tests {
    use super::combinations;

    #[test]
    fn scope_groups_become_combinations() {
        let g = |v: &[&[&str]]| v.iter().map(|g| g.iter().map(|s| s.to_string()).collect()).collect::<Vec<Vec<_>>>();
        assert_eq!(combinations(&[]), vec![Vec::<String>::new()]);
        assert_eq!(combinations(&g(&[&["a", "b"], &["c"]])), g(&[&["a", "c"], &["b", "c"]]));
    }
}
