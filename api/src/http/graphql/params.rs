//! The GraphQL-over-HTTP parameters of a `POST /graphql` body, checked one by one so a client learns which
//! is wrong.
//!
//! Rules (GraphQL over HTTP, "Request Parameters"): the body is one JSON object; `query` is a string;
//! `variables` and `extensions`, when present and not null, are objects; `operationName`, when present and
//! not null, is a string. Anything else is refused, naming the parameter; other keys are ignored.

use serde_json::{Map, Value};

/// A parameter at fault and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> Invalid {
    Invalid {
        field,
        message: message.into(),
    }
}

/// The request a body carries.
pub fn parse(body: &[u8]) -> Result<async_graphql::Request, Invalid> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| invalid("body", format!("the body is not valid JSON: {error}")))?;
    let Value::Object(mut params) = value else {
        return Err(invalid(
            "body",
            "the body must be one JSON object with a query (batches are not supported)",
        ));
    };
    let query = match params.remove("query") {
        Some(Value::String(query)) => query,
        Some(_) => return Err(invalid("query", "query must be a string")),
        None => return Err(invalid("query", "query is required")),
    };
    let variables = object(&mut params, "variables")?;
    let extensions = object(&mut params, "extensions")?;
    let operation_name = match params.remove("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name),
        Some(_) => return Err(invalid("operationName", "operationName must be a string")),
    };
    let mut request =
        async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(Value::Object(variables)));
    if let Some(name) = operation_name {
        request = request.operation_name(name);
    }
    for (name, value) in extensions {
        let value = async_graphql::Value::from_json(value)
            .map_err(|_| invalid("extensions", "extensions must hold JSON values"))?;
        request.extensions.insert(name, value);
    }
    Ok(request)
}

/// The object under `name`: empty when absent or null, refused when another kind of value.
fn object(params: &mut Map<String, Value>, name: &'static str) -> Result<Map<String, Value>, Invalid> {
    match params.remove(name) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(object)) => Ok(object),
        Some(_) => Err(invalid(name, format!("{name} must be an object"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(body: &str) -> Option<&'static str> {
        parse(body.as_bytes()).err().map(|invalid| invalid.field)
    }

    #[test]
    fn a_well_formed_body_becomes_a_request() {
        let request = parse(br#"{"query":"{ a }","variables":{"x":1},"operationName":null,"extensions":{}}"#)
            .unwrap_or_else(|invalid| panic!("{invalid:?}"));
        assert_eq!(request.query, "{ a }");
        assert_eq!(request.operation_name, None);
        assert!(parse(br#"{"query":"{ a }","variables":null}"#).is_ok());
        assert!(parse(br#"{"query":"query A { a }","operationName":"A"}"#).is_ok());
    }

    #[test]
    fn each_invalid_parameter_is_named() {
        assert_eq!(field_of("nope"), Some("body"));
        assert_eq!(field_of("[]"), Some("body"));
        assert_eq!(field_of(r#"[{"query":"{ a }"}]"#), Some("body"));
        assert_eq!(field_of("{}"), Some("query"));
        assert_eq!(field_of(r#"{"query":1}"#), Some("query"));
        assert_eq!(field_of(r#"{"query":null}"#), Some("query"));
        assert_eq!(field_of(r#"{"query":"{ a }","variables":"{}"}"#), Some("variables"));
        assert_eq!(field_of(r#"{"query":"{ a }","variables":[1]}"#), Some("variables"));
        assert_eq!(
            field_of(r#"{"query":"{ a }","operationName":3}"#),
            Some("operationName")
        );
        assert_eq!(field_of(r#"{"query":"{ a }","extensions":"x"}"#), Some("extensions"));
    }
}
