//! The LLM path against a loopback server that speaks OpenAI's chat completions wire format:
//! JSON request bodies with `response_format: json_schema` and `stream: false`, completions
//! with `choices[0].message.content`, errors as `{"error": {...}}`, 429 with `Retry-After`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::ocr_page;
use folio_doc::{BBox, Document, FieldSource, Status};
use folio_fields::{extract, FieldRequest, LlmClient, LlmConfig, LlmError};
use serde_json::{json, Value};

/// One scripted answer: status, extra headers, body, delay before answering.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

fn completion(content: &str) -> Reply {
    Reply {
        status: 200,
        headers: vec![],
        body: json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "test-model",
            "choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": content, "refusal": null}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
        })
        .to_string(),
        delay: Duration::ZERO,
    }
}

fn error(status: u16, kind: &str, message: &str) -> Reply {
    Reply {
        status,
        headers: vec![],
        body: json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
            .to_string(),
        delay: Duration::ZERO,
    }
}

/// One request as the fake server saw it: its path, its headers and its JSON body.
type Seen = (String, Vec<(String, String)>, Value);

struct Fake {
    url: String,
    requests: Arc<Mutex<Vec<Seen>>>,
}

/// A server on 127.0.0.1 answering each request with the next reply.
fn serve(replies: Vec<Reply>) -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    std::thread::spawn(move || {
        for reply in replies {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (k, v) = line.split_once(':').unwrap();
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
            let len: usize = headers
                .iter()
                .find(|h| h.0 == "content-length")
                .map_or(0, |h| h.1.parse().unwrap());
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            seen.lock()
                .unwrap()
                .push((request_line.trim().to_string(), headers, body));
            std::thread::sleep(reply.delay);
            let mut out = stream;
            let reason = match reply.status {
                200 => "OK",
                429 => "Too Many Requests",
                500 => "Internal Server Error",
                503 => "Service Unavailable",
                _ => "Error",
            };
            let mut head = format!(
                "HTTP/1.1 {} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                reply.status,
                reply.body.len()
            );
            for (k, v) in &reply.headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = out.write_all(head.as_bytes());
            let _ = out.write_all(reply.body.as_bytes());
        }
    });
    Fake { url, requests }
}

/// A one-page receipt built from text boxes.
fn receipt() -> Document {
    let rows = [
        ("ACME TRADING SDN BHD", 50.0, 20.0),
        ("12 JALAN BESAR, 81100 JOHOR BAHRU", 30.0, 45.0),
        ("DATE: 09/01/2019", 10.0, 90.0),
        ("TOTAL: RM31.00", 10.0, 200.0),
    ];
    let boxes: Vec<(&str, BBox)> = rows
        .iter()
        .map(|&(text, x, y)| (text, BBox::new(x, y, x + 8.0 * text.len() as f32, y + 14.0)))
        .collect();
    ocr_page(&boxes, 400.0, 300.0)
}

fn client(url: &str, timeout: Duration, retries: usize) -> LlmClient {
    let mut c = LlmConfig::new(url, "test-model");
    c.api_key = Some("sk-test".into());
    c.timeout = timeout;
    c.max_retries = retries;
    LlmClient::new(c).unwrap()
}

#[test]
fn the_request_is_a_structured_output_chat_completion() {
    let fake = serve(vec![completion(
        r#"{"company":"ACME TRADING SDN BHD","total":31.0,"colour":null}"#,
    )]);
    let request = FieldRequest::from_names("company,total,colour").unwrap();
    let answer = client(&fake.url, Duration::from_secs(10), 0)
        .ask(&receipt(), &request)
        .unwrap();
    assert_eq!(answer["company"], "ACME TRADING SDN BHD");
    let reqs = fake.requests.lock().unwrap();
    let (line, headers, body) = &reqs[0];
    assert_eq!(line, "POST /v1/chat/completions HTTP/1.1");
    assert!(
        headers.contains(&("authorization".into(), "Bearer sk-test".into())),
        "{headers:?}"
    );
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], false);
    assert_eq!(body["response_format"]["type"], "json_schema");
    let schema = &body["response_format"]["json_schema"]["schema"];
    assert_eq!(schema["required"], json!(["company", "total", "colour"]));
    assert_eq!(schema["additionalProperties"], false);
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    let user = messages[1]["content"].as_str().unwrap();
    assert!(
        user.contains("<!-- page 1 -->") && user.contains("TOTAL: RM31.00"),
        "{user}"
    );
}

#[test]
fn rate_limits_are_retried_after_the_time_the_server_asks() {
    let mut limited = error(429, "rate_limit_exceeded", "Rate limit reached");
    limited.headers.push(("Retry-After", "1".into()));
    let fake = serve(vec![
        limited,
        error(503, "server_error", "overloaded"),
        completion(r#"{"total":31.0}"#),
    ]);
    let request = FieldRequest::from_names("total").unwrap();
    let started = Instant::now();
    let answer = client(&fake.url, Duration::from_secs(20), 3)
        .ask(&receipt(), &request)
        .unwrap();
    assert_eq!(answer["total"], 31.0);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(fake.requests.lock().unwrap().len(), 3);
}

#[test]
fn client_errors_are_final_and_carry_the_servers_message() {
    let fake = serve(vec![error(
        401,
        "invalid_request_error",
        "Incorrect API key provided",
    )]);
    let request = FieldRequest::from_names("total").unwrap();
    let e = client(&fake.url, Duration::from_secs(10), 3)
        .ask(&receipt(), &request)
        .unwrap_err();
    match &e {
        LlmError::Status {
            status: 401,
            message,
            ..
        } => assert!(message.contains("Incorrect API key"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.requests.lock().unwrap().len(), 1);
}

#[test]
fn a_retry_after_past_the_budget_gives_up_at_once() {
    let mut limited = error(429, "rate_limit_exceeded", "Rate limit reached");
    limited.headers.push(("Retry-After", "30".into()));
    let fake = serve(vec![limited]);
    let started = Instant::now();
    let e = client(&fake.url, Duration::from_secs(5), 3)
        .ask(&receipt(), &FieldRequest::from_names("total").unwrap())
        .unwrap_err();
    assert!(
        matches!(
            e,
            LlmError::Status {
                status: 429,
                retry_after: Some(_),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn invalid_json_and_schema_violations_are_errors() {
    let fake = serve(vec![
        completion("The total is 31."),
        completion(r#"{"total":"thirty-one"}"#),
    ]);
    let request = FieldRequest::from_names("total").unwrap();
    let c = client(&fake.url, Duration::from_secs(10), 0);
    assert!(matches!(
        c.ask(&receipt(), &request),
        Err(LlmError::InvalidJson(_))
    ));
    let e = c.ask(&receipt(), &request).unwrap_err();
    assert!(matches!(e, LlmError::SchemaViolation(_)), "{e:?}");
}

#[test]
fn a_slow_answer_ends_at_the_timeout() {
    let mut slow = completion(r#"{"total":31.0}"#);
    slow.delay = Duration::from_secs(5);
    let fake = serve(vec![slow]);
    let started = Instant::now();
    let e = client(&fake.url, Duration::from_millis(800), 0)
        .ask(&receipt(), &FieldRequest::from_names("total").unwrap())
        .unwrap_err();
    assert!(matches!(e, LlmError::Timeout(_)), "{e:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn answers_are_verified_against_the_text_and_merged_with_the_rules() {
    // The model agrees on the total, invents an invoice number, and finds a field the rules
    // do not know.
    let fake = serve(vec![completion(
        r#"{"total":31.0,"invoice_number":"INV-999","colour":"ACME TRADING SDN BHD","date":"09/01/2019"}"#,
    )]);
    let request = FieldRequest::from_names("total,invoice_number,colour,date").unwrap();
    let mut doc = receipt();
    extract(
        &mut doc,
        &request,
        Some(&client(&fake.url, Duration::from_secs(10), 0)),
    );
    let f = |n: &str| doc.fields.get(n).unwrap().unwrap().clone();
    assert_eq!(f("total").source, FieldSource::Rules);
    assert!(f("total").confidence > 0.85);
    let inv = f("invoice_number");
    assert!(
        inv.unverified && inv.confidence < 0.5 && inv.source == FieldSource::Llm,
        "{inv:?}"
    );
    let colour = f("colour");
    assert!(
        !colour.unverified && colour.page == Some(1) && colour.bbox.is_some(),
        "{colour:?}"
    );
    assert_eq!(f("date").normalized, Some(json!("2019-01-09")));
    assert_eq!(doc.status, Status::Success);
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
}

#[test]
fn a_failing_endpoint_leaves_the_rules_answer_and_a_warning() {
    let fake = serve(vec![error(500, "server_error", "boom")]);
    let request = FieldRequest::from_names("total").unwrap();
    let mut doc = receipt();
    extract(
        &mut doc,
        &request,
        Some(&client(&fake.url, Duration::from_secs(10), 0)),
    );
    assert_eq!(doc.fields.get("total").unwrap().unwrap().value, json!(31.0));
    assert!(
        doc.warnings.iter().any(|w| w.message.contains("boom")),
        "{:?}",
        doc.warnings
    );
}
