//! Recorded DescribeServices responses, served over real HTTP to the real SDK: the SDK's
//! deserializer, deckhand's conversion (`service_snapshot`) and the verdict state machine
//! together must call the captured circuit-breaker rollback what it was. The fixture's source is
//! named inside it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use aws_config::{BehaviorVersion, Region};
use deckhand_aws::{AwsContext, EcsAdapter};
use deckhand_core::ecs::rollout::{Outcome, RolloutWatch, WatchSpec};
use serde_json::Value;

/// Serves `bodies` one per request, in order (the last one again when they run out).
fn serve(bodies: Vec<String>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let queue = Arc::new(Mutex::new(bodies));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut request = vec![0; length];
            reader.read_exact(&mut request).unwrap();
            let body = {
                let mut q = queue.lock().unwrap();
                if q.len() > 1 {
                    q.remove(0)
                } else {
                    q[0].clone()
                }
            };
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
        }
    });
    format!("http://{addr}")
}

fn adapter(endpoint: &str) -> EcsAdapter {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("ap-southeast-2"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_ecs::config::SharedCredentialsProvider::new(
            aws_sdk_ecs::config::Credentials::new(
                "AKIDTEST",
                "test-secret",
                None,
                None,
                "recorded",
            ),
        ))
        .build();
    EcsAdapter::new(&AwsContext {
        sdk,
        calls: deckhand_aws::ApiCalls::default(),
    })
}

#[tokio::test]
async fn captured_circuit_breaker_rollback_is_rolled_back_not_green() {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/circuit-breaker-rollback.json")).unwrap();
    let responses: Vec<String> = fixture["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(Value::to_string)
        .collect();
    let steps = responses.len();
    let ecs = adapter(&serve(responses));
    let mut watch = RolloutWatch::new(WatchSpec {
        deployment_id: fixture["deployment_id"].as_str().unwrap().into(),
        task_definition: fixture["task_definition"].as_str().unwrap().into(),
        started_at_ms: 1_619_150_151_000, // 2021-04-23T12:55:51+08:00, our deployment's createdAt
        max_task_failures: 3,
        scale_only: false,
    });
    let mut outcomes = Vec::new();
    for _ in 0..steps {
        let snapshot = ecs
            .observe_service("cluster", "service")
            .await
            .unwrap()
            .expect("service");
        outcomes.push(watch.observe(&snapshot, None).outcome);
    }
    // Before the breaker: in progress. The capture of the rollback in flight: still no verdict
    // (ECS is rolling back). The capture after it: rolled back, with the old deployment's id.
    assert_eq!(outcomes[0], None);
    assert_eq!(outcomes[1], None);
    assert_eq!(
        outcomes[2],
        Some(Outcome::RolledBackByEcs {
            deployment_id: "ecs-svc/6405940160831029548".into(),
            task_definition: "arn:aws:ecs:ap-southeast-2:291971919224:task-definition/news-thewest-pr713-web-app-task-definition:2".into(),
        })
    );
    // The events the report shows are the ones since our deployment began, oldest first, and
    // include ECS's own words for why.
    let messages: Vec<&str> = watch.events().iter().map(|e| e.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.ends_with("deployment failed: tasks failed to start.")),
        "{messages:#?}"
    );
    let times: Vec<i64> = watch.events().iter().map(|e| e.created_at_ms).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {times:?}"
    );
    // Timestamps survive the conversion: the wire carries float epoch seconds, which the SDK
    // truncates to whole milliseconds (…962.787 may read as …962786).
    assert!(
        times.iter().any(|t| (t - 1_619_153_962_787).abs() <= 1),
        "{times:?}"
    );
}
