//! Jobs whose document comes from S3 and whose result goes to S3, against a real
//! S3-compatible server (moto) on 127.0.0.1, with signed requests and the bucket allow-list.

mod common;
#[path = "support/s3.rs"]
mod s3;

use std::time::Duration;

use common::*;
use folio_server::{ObjectStorage, S3Credentials};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(120);

fn storage(endpoint: &str, buckets: &[&str]) -> ObjectStorage {
    ObjectStorage {
        buckets: buckets.iter().map(|b| b.to_string()).collect(),
        endpoint: Some(endpoint.to_string()),
        region: s3::REGION.to_string(),
        timeout: Duration::from_secs(30),
        credentials: Some(S3Credentials {
            key: s3::KEY.to_string(),
            secret: s3::SECRET.to_string(),
            token: None,
        }),
    }
}

fn wait_end(s: &TestServer, id: &str) -> Value {
    let mut last = Value::Null;
    wait_until(LIMIT, &format!("job {id} to end"), || {
        last = get(&s.url(&format!("/v1/jobs/{id}")), &[]).json();
        matches!(last["status"].as_str(), Some("succeeded" | "failed"))
    });
    last
}

mod needs_s3 {
    use super::*;

    #[test]
    #[ignore = "needs moto_server (pip install 'moto[server]'); scripts/test.sh runs needs_s3::"]
    fn a_job_reads_its_document_from_s3_and_writes_its_result_there() {
        let server = s3::S3Server::start().expect("moto_server is not installed");
        server.create_bucket("inbox");
        server.create_bucket("private");
        let pdf = fixture("two-columns.pdf");
        server.put("inbox", "in/two-columns.pdf", &pdf);
        server.put("private", "secret.pdf", &pdf);

        let dir = tempfile::tempdir().unwrap();
        let mut c = config(dir.path());
        c.objects = storage(&server.endpoint, &["inbox"]);
        c.limits.max_input_bytes = pdf.len() as u64 + 10;
        let s = TestServer::start(c);

        let r = post_form(
            &s.url("/v1/jobs"),
            &[],
            &[
                Part::Field("source", "s3://inbox/in/two-columns.pdf"),
                Part::Field("output", "s3://inbox/results/"),
                Part::Field("format", "markdown"),
            ],
        );
        assert_eq!(r.status, 202, "{}", r.text());
        let id = r.json()["id"].as_str().unwrap().to_string();
        let done = wait_end(&s, &id);
        assert_eq!(done["status"], "succeeded", "{done}");
        assert_eq!(done["output"], "s3://inbox/results/");
        let result = get(&s.url(&format!("/v1/jobs/{id}/result")), &[]).json();
        let written = server
            .get("inbox", &format!("results/{id}.json"))
            .expect("the result was not written to the bucket");
        let written: Value = serde_json::from_slice(&written).unwrap();
        assert_eq!(written, result);
        assert!(!result["content"].as_str().unwrap().is_empty());

        // Buckets off the operator's list, malformed addresses, and a file and a source at once
        // are refused when the job is created.
        for (field, value) in [
            ("source", "s3://private/secret.pdf"),
            ("output", "s3://private/out/"),
            ("source", "s3://inbox"),
            ("source", "https://inbox/in/two-columns.pdf"),
        ] {
            let mut parts = vec![Part::Field(field, value)];
            if field == "output" {
                parts.push(Part::File("a.pdf", &pdf));
            }
            post_form(&s.url("/v1/jobs"), &[], &parts).assert_error(400, "bad_object_address");
        }
        post_form(
            &s.url("/v1/jobs"),
            &[],
            &[
                Part::File("a.pdf", &pdf),
                Part::Field("source", "s3://inbox/in/two-columns.pdf"),
            ],
        )
        .assert_error(400, "bad_request");

        // The upload size limit holds for objects too; a missing object fails the job clearly.
        let mut big = pdf.clone();
        big.extend(std::iter::repeat_n(b' ', 64));
        server.put("inbox", "big.pdf", &big);
        for (key, code) in [
            ("big.pdf", "too_large"),
            ("nowhere.pdf", "input_unavailable"),
        ] {
            let r = post_form(
                &s.url("/v1/jobs"),
                &[],
                &[Part::Field("source", &format!("s3://inbox/{key}"))],
            );
            assert_eq!(r.status, 202, "{}", r.text());
            let id = r.json()["id"].as_str().unwrap().to_string();
            let v = wait_end(&s, &id);
            assert_eq!(v["status"], "failed", "{v}");
            assert_eq!(v["error"]["code"], code, "{v}");
        }
    }
}

#[test]
fn object_storage_is_closed_unless_the_operator_opens_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(config(dir.path()));
    let m = post_form(
        &s.url("/v1/jobs"),
        &[],
        &[Part::Field("source", "s3://any/doc.pdf")],
    )
    .assert_error(400, "bad_object_address");
    assert!(m.contains("turned off"), "{m}");
}
