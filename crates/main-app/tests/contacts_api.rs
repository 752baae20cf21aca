//! Contacts, the do-not-call list and CSV import over real HTTP: validation naming the field,
//! numbers stored in E.164, one contact per number, zones explicit or inferred, tags, search,
//! bulk delete, export, and the import's preview (invalid rows with the reason, duplicates, DNC
//! hits, existing contacts) followed by the commit of exactly the previewed file.
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::TestApp;

async fn send(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = app.api(method, path);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn upload(app: &TestApp, path: &str, csv: impl Into<reqwest::Body>) -> (StatusCode, Value) {
    let r = app.api(Method::POST, path).header("content-type", "text/csv").body(csv).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn contacts_are_validated_unique_by_number_and_searchable() {
    let app = TestApp::spawn().await;
    for (body, field) in [
        (json!({}), "phone"),
        (json!({"phone": "hello"}), "phone"),
        (json!({"phone": "0412345678", "email": "nope"}), "email"),
        (json!({"phone": "0412345678", "timeZone": "Mars/Base"}), "timeZone"),
        (json!({"phone": "0412345678", "tags": ["x".repeat(65)]}), "tags"),
    ] {
        let (status, err) = send(&app, Method::POST, "/api/contacts", Some(body.clone())).await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}"
        );
    }
    let body = json!({"phone": "0412 345 678", "firstName": "Zoë", "lastName": "Ng", "email": "Zoe@Example.COM",
                      "tags": ["vip", " vip ", "2025"], "customFields": {"Company": "Acme"}});
    let (status, zoe) = send(&app, Method::POST, "/api/contacts", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{zoe}");
    assert_eq!(
        (zoe["phone"].as_str(), zoe["name"].as_str(), zoe["email"].as_str()),
        (Some("+61412345678"), Some("Zoë Ng"), Some("zoe@example.com"))
    );
    assert_eq!(zoe["tags"], json!(["vip", "2025"]));
    assert_eq!(
        (zoe["timeZoneSource"].as_str(), zoe["effectiveTimeZone"].clone()),
        (Some("campaign"), Value::Null),
        "AU mobile: no zone"
    );
    let (status, err) =
        send(&app, Method::POST, "/api/contacts", Some(json!({"phone": "+61412345678"}))).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("CONTACT_EXISTS")));

    let (_, london) =
        send(&app, Method::POST, "/api/contacts", Some(json!({"phone": "+44 20 7946 0958", "name": "Lon"})))
            .await;
    assert_eq!(
        (london["effectiveTimeZone"].as_str(), london["timeZoneSource"].as_str()),
        (Some("Europe/London"), Some("number"))
    );
    let id = zoe["id"].as_str().unwrap();
    let (status, edited) = send(
        &app,
        Method::PUT,
        &format!("/api/contacts/{id}"),
        Some(json!({"phone": "+61412345678", "name": "Zoe N", "timeZone": "Australia/Perth"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(
        (edited["timeZoneSource"].as_str(), edited["effectiveTimeZone"].as_str()),
        (Some("contact"), Some("Australia/Perth"))
    );
    assert_eq!(edited["tags"], json!([]), "PUT replaces every field");
    let (_, tagged) = send(
        &app,
        Method::POST,
        &format!("/api/contacts/{id}/tags"),
        Some(json!({"add": ["a", "b"], "remove": ["x"]})),
    )
    .await;
    assert_eq!(tagged["tags"], json!(["a", "b"]));

    let (_, found) = send(&app, Method::GET, "/api/contacts?search=zoe", None).await;
    assert_eq!(found["total"], 1);
    let (_, found) = send(&app, Method::GET, "/api/contacts?tag=b", None).await;
    assert_eq!(found["items"][0]["id"], zoe["id"]);
    let (_, all) = send(&app, Method::GET, "/api/contacts", None).await;
    assert_eq!(all["total"], 2);
    let ids = json!({"contactIds": [id, london["id"], "01a20c60-b989-72ea-90e8-35a8c171102a"]});
    let (_, deleted) = send(&app, Method::POST, "/api/contacts/bulk-delete", Some(ids)).await;
    assert_eq!(deleted["deleted"], 2);
    let (status, _) = send(&app, Method::GET, &format!("/api/contacts/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_do_not_call_list_marks_contacts_and_can_be_managed() {
    let app = TestApp::spawn().await;
    let (_, c) = send(&app, Method::POST, "/api/contacts", Some(json!({"phone": "0491570101"}))).await;
    let id = c["id"].as_str().unwrap();
    let (status, e) =
        send(&app, Method::POST, &format!("/api/contacts/{id}/dnc"), Some(json!({"reason": "asked"}))).await;
    assert_eq!(
        (status, e["reason"].as_str(), e["source"].as_str()),
        (StatusCode::CREATED, Some("asked"), Some("contact"))
    );
    let (_, c) = send(&app, Method::GET, &format!("/api/contacts/{id}"), None).await;
    assert_eq!(c["dnc"]["reason"], "asked");
    let (status, _) =
        send(&app, Method::POST, "/api/dnc", Some(json!({"phone": "+61491570101", "reason": "again"}))).await;
    assert_eq!(status, StatusCode::OK, "already listed: the first entry stays");
    let (status, _) =
        send(&app, Method::POST, "/api/dnc", Some(json!({"phone": "0491570102", "reason": "complaint"})))
            .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, list) = send(&app, Method::GET, "/api/dnc?search=complaint", None).await;
    assert_eq!((list["total"].clone(), list["items"][0]["phone"].as_str()), (json!(1), Some("+61491570102")));
    let (status, _) = send(&app, Method::DELETE, "/api/dnc/%2B61491570102", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(&app, Method::DELETE, &format!("/api/contacts/{id}/dnc"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = send(&app, Method::GET, "/api/dnc", None).await;
    assert_eq!(list["total"], 0);
}

const CSV: &str = "First Name,Last Name,Phone Number,Email,Company,Plan\n\
    Ann,Lee,0491 570 101,ann@example.com,Acme,gold\n\
    Bob,,+61491570102,,Beta,\n\
    Cat,,not a number,,Gamma,\n\
    Dan,,0491570101,,Delta,\n\
    Eve,,'0491570103',,Eps,silver\n\
    Fay,,,,,\n";

#[tokio::test]
async fn an_import_is_previewed_then_committed_exactly_as_reviewed() {
    let app = TestApp::spawn().await;
    send(
        &app,
        Method::POST,
        "/api/contacts",
        Some(json!({"phone": "0491570102", "name": "Bobby", "tags": ["old"]})),
    )
    .await;
    send(&app, Method::POST, "/api/dnc", Some(json!({"phone": "0491570103", "reason": "opted out"}))).await;

    let (status, p) = upload(&app, "/api/contacts/import/preview?tags=spring", CSV).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["mapping"]["phone"], "Phone Number");
    assert_eq!(p["mapping"]["customFields"], json!(["Company", "Plan"]));
    assert_eq!(
        (p["rows"].clone(), p["valid"].clone(), p["newContacts"].clone(), p["existingContacts"].clone()),
        (json!(6), json!(3), json!(2), json!(1))
    );
    assert_eq!(
        p["invalid"],
        json!([
            {"line": 4, "value": "not a number", "reason": "not a phone number"},
            {"line": 7, "value": "", "reason": "no phone number"},
        ])
    );
    assert_eq!(p["duplicates"], json!([{"line": 5, "phone": "+61491570101", "firstLine": 2}]));
    assert_eq!(p["dnc"], json!([{"line": 6, "phone": "+61491570103", "reason": "opted out"}]));
    let (_, list) = send(&app, Method::GET, "/api/contacts", None).await;
    assert_eq!(list["total"], 1, "a preview writes nothing");

    let sha = p["fileSha256"].as_str().unwrap();
    let changed = CSV.replace("Acme", "Acme Ltd");
    let (status, err) = upload(&app, &format!("/api/contacts/import?expectSha256={sha}"), changed).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("IMPORT_CHANGED")));
    let (status, done) =
        upload(&app, &format!("/api/contacts/import?tags=spring&expectSha256={sha}"), CSV).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!((done["created"].clone(), done["updated"].clone()), (json!(2), json!(1)));

    let (_, bob) = send(&app, Method::GET, "/api/contacts?search=%2B61491570102", None).await;
    let bob = &bob["items"][0];
    assert_eq!(bob["name"], "Bob", "the file's name replaces the stored one");
    assert_eq!(bob["tags"], json!(["old", "spring"]));
    assert_eq!(bob["customFields"], json!({"Company": "Beta"}));
    let (_, ann) = send(&app, Method::GET, "/api/contacts?search=ann%40example", None).await;
    assert_eq!(ann["items"][0]["customFields"], json!({"Company": "Acme", "Plan": "gold"}));

    let export = app.api(Method::GET, "/api/contacts/export.csv").send().await.unwrap().text().await.unwrap();
    let mut lines = export.lines();
    assert_eq!(
        lines.next(),
        Some("Phone,First Name,Last Name,Name,Email,Time Zone,Tags,Do Not Call,Created At,Company,Plan")
    );
    assert_eq!(export.lines().count(), 4);
    assert!(export.contains("+61491570103,Eve,,Eve,,,spring,yes,"), "{export}");
}

#[tokio::test]
async fn imports_refuse_files_without_a_phone_column_and_files_too_large() {
    let app = TestApp::spawn_with(&[("CONTACT_IMPORT_MAX_MB", "1")]).await;
    let (status, err) = upload(&app, "/api/contacts/import/preview", "Tel,Who\n0491570101,A\n").await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("phoneColumn"))
    );
    let (status, p) = upload(
        &app,
        "/api/contacts/import/preview?phoneColumn=Tel&nameColumn=Who",
        "Tel,Who\n0491570101,A\n",
    )
    .await;
    assert_eq!((status, p["valid"].clone()), (StatusCode::OK, json!(1)));
    let big = format!(
        "phone,note\n{}",
        "0491570101,xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n".repeat(30_000)
    );
    let (status, err) = upload(&app, "/api/contacts/import/preview", big).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("FILE_TOO_LARGE"))
    );
}

#[tokio::test]
async fn a_twenty_megabyte_file_is_streamed_through_the_preview() {
    let app = TestApp::spawn().await;
    let note = "x".repeat(10_000);
    let csv: String = std::iter::once("phone,note\n".to_owned())
        .chain((0..2_100).map(|i| format!("+614{:08},{note}\n", 12_000_000 + i)))
        .collect();
    assert!(csv.len() > 21_000_000, "{} bytes", csv.len());
    // Sent in 64 KiB pieces, as a browser streams a file.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        csv.as_bytes().chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let (status, p) = upload(&app, "/api/contacts/import/preview", body).await;
    assert_eq!(
        (status, p["valid"].clone(), p["bytes"].as_u64()),
        (StatusCode::OK, json!(2_100), Some(csv.len() as u64)),
        "{p}"
    );
    let note_kept = p["sample"][0]["contact"]["customFields"]["note"].as_str().unwrap().len();
    assert_eq!(note_kept, 2_000, "custom values are capped at 2,000 characters");
}

#[tokio::test]
async fn a_contact_lists_its_calls_and_can_be_deleted() {
    // Nothing listens at TWILIO_API_BASE: each call is stored (failed) with its contact.
    let app = TestApp::spawn().await;
    let (_, ann) = send(&app, Method::POST, "/api/contacts", Some(json!({"phone": "+61491570101"}))).await;
    let id = ann["id"].as_str().unwrap().to_owned();
    let (_, other) = send(&app, Method::POST, "/api/contacts", Some(json!({"phone": "+61491570102"}))).await;
    let mine = json!({"to": "+61491570101", "contactId": id});
    let (status, _) = send(&app, Method::POST, "/api/calls", Some(mine)).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let theirs = json!({"to": "+61491570102", "contactId": other["id"]});
    send(&app, Method::POST, "/api/calls", Some(theirs)).await;

    let (status, calls) = send(&app, Method::GET, &format!("/api/contacts/{id}/calls"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(calls["total"], 1, "{calls}");
    assert_eq!(
        (calls["items"][0]["contactId"].as_str(), calls["items"][0]["to"].as_str()),
        (Some(id.as_str()), Some("+61491570101"))
    );

    let (status, _) = send(&app, Method::DELETE, &format!("/api/contacts/{id}"), None).await;
    assert!(status.is_success(), "{status}");
    let (status, err) = send(&app, Method::GET, &format!("/api/contacts/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
    let (status, _) = send(&app, Method::DELETE, &format!("/api/contacts/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "deleting twice");
    let (_, list) = send(&app, Method::GET, "/api/contacts", None).await;
    assert_eq!(list["total"], 1, "the other contact stays");
}
