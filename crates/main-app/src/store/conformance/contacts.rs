//! Conformance cases of [`ContactStore`](crate::contacts::store::ContactStore) and
//! [`DncStore`](crate::contacts::store::DncStore).

use chrono::Duration;
use std::collections::BTreeMap;

use crate::calls::model::Page;
use crate::contacts::model::{Contact, ContactFilter, ContactInsert, ContactUpdate, DncEntry};
use crate::store::Store;
use crate::store::conformance::fixtures::{phone, t0};
use common::ids::ContactId;

/// A contact with `number`, created `minutes` after [`t0`].
pub fn contact(number: &str, minutes: i64) -> Contact {
    let mut custom = BTreeMap::new();
    custom.insert("Company Name".to_owned(), "Zoë's \"Café\" $1.5".to_owned());
    Contact {
        id: ContactId::new(),
        phone: phone(number),
        first_name: Some("Zoë".into()),
        last_name: Some("O'Brien".into()),
        name: Some("Zoë O'Brien".into()),
        email: Some("zoe@example.com".into()),
        time_zone: Some("Australia/Sydney".into()),
        tags: vec!["vip".into(), "2025".into()],
        custom_fields: custom,
        notes: None,
        created_at: t0() + Duration::minutes(minutes),
        updated_at: t0() + Duration::minutes(minutes),
    }
}

fn page(offset: u64, limit: u64) -> Page {
    Page { offset, limit }
}

/// Contacts round-trip; a number belongs to one contact, on insert and on update.
pub async fn contacts_round_trip_with_unique_numbers(store: &dyn Store) {
    let a = contact("+61491570101", 0);
    assert_eq!(store.insert_contact(&a).await.expect("insert"), ContactInsert::New(Box::new(a.clone())));
    assert_eq!(store.get_contact(&a.id).await.expect("get"), Some(a.clone()));
    let twin = Contact { id: ContactId::new(), ..contact("+61491570101", 1) };
    assert_eq!(
        store.insert_contact(&twin).await.expect("insert twin"),
        ContactInsert::PhoneTaken(a.id.clone())
    );
    assert_eq!(store.get_contact(&twin.id).await.expect("get"), None, "nothing written");

    let b = Contact {
        name: None,
        email: None,
        tags: vec![],
        custom_fields: BTreeMap::new(),
        ..contact("+61491570102", 1)
    };
    store.insert_contact(&b).await.expect("insert b");
    assert_eq!(store.get_contact(&b.id).await.expect("get b"), Some(b.clone()), "minimal contact");
    let taken = Contact { phone: a.phone.clone(), ..b.clone() };
    assert_eq!(store.update_contact(&taken).await.expect("update"), ContactUpdate::PhoneTaken(a.id.clone()));
    let renamed = Contact { name: Some("Bea".into()), phone: phone("+61491570103"), ..b.clone() };
    assert_eq!(
        store.update_contact(&renamed).await.expect("update"),
        ContactUpdate::Updated(Box::new(renamed.clone()))
    );
    let ghost = contact("+61491570104", 2);
    assert_eq!(store.update_contact(&ghost).await.expect("update ghost"), ContactUpdate::NotFound);

    let mut many = store.get_contacts(&[a.id.clone(), b.id.clone(), ghost.id.clone()]).await.expect("many");
    many.sort_by_key(|x| x.created_at);
    assert_eq!(many, vec![a.clone(), renamed.clone()]);
    let by_phone =
        store.contacts_by_phones(&[phone("+61491570103"), phone("+61491570199")]).await.expect("phones");
    assert_eq!(by_phone, vec![renamed]);
    assert_eq!(store.delete_contacts(&[a.id.clone(), ghost.id.clone()]).await.expect("delete"), 1);
    assert_eq!(store.get_contact(&a.id).await.expect("get"), None);
}

/// Search covers name, number and email case-insensitively (regex characters literal); tags
/// filter exactly; pages are newest first with the total.
pub async fn contacts_search_tags_and_pages(store: &dyn Store) {
    let mut all = Vec::new();
    for i in 0..5 {
        let mut c = contact(&format!("+6149157011{i}"), i);
        c.name = Some(format!("Person {i}"));
        c.email = Some(format!("p{i}@Example.com"));
        if i % 2 == 0 {
            c.tags = vec!["even".into()];
        }
        store.insert_contact(&c).await.expect("insert");
        all.push(c);
    }
    let search = |s: &str| ContactFilter { search: Some(s.into()), tag: None };
    let list = store.list_contacts(&search("PERSON 3"), page(0, 10)).await.expect("list");
    assert_eq!(list.items.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), vec![all[3].id.clone()]);
    assert_eq!(store.list_contacts(&search("p1@example"), page(0, 10)).await.expect("list").total, 1);
    assert_eq!(store.list_contacts(&search("570114"), page(0, 10)).await.expect("list").total, 1);
    assert_eq!(store.list_contacts(&search(".*"), page(0, 10)).await.expect("list").total, 0, "literal");
    let even = ContactFilter { search: None, tag: Some("even".into()) };
    assert_eq!(store.list_contacts(&even, page(0, 10)).await.expect("list").total, 3);
    let ids = store.contact_ids(&even, 2).await.expect("ids");
    assert_eq!(ids, vec![all[0].id.clone(), all[2].id.clone()], "oldest first, limited");
    let p = store.list_contacts(&ContactFilter::default(), page(1, 2)).await.expect("page");
    assert_eq!(p.total, 5);
    assert_eq!(
        p.items.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        vec![all[3].id.clone(), all[2].id.clone()]
    );
}

/// An import batch creates new numbers and merges existing ones.
pub async fn contacts_upsert_merges_by_number(store: &dyn Store) {
    let old = contact("+61491570101", 0);
    store.insert_contact(&old).await.expect("insert");
    let mut row = contact("+61491570101", 5);
    row.first_name = None;
    row.name = Some("Zoe Updated".into());
    row.tags = vec!["imported".into(), "vip".into()];
    row.custom_fields = BTreeMap::from([("plan".to_owned(), "gold".to_owned())]);
    let new = contact("+61491570102", 5);
    let out = store.upsert_contacts(&[row.clone(), new.clone()]).await.expect("upsert");
    assert_eq!(out.len(), 2);
    assert_eq!((out[0].id.clone(), out[0].created), (old.id.clone(), false));
    assert_eq!((out[1].id.clone(), out[1].created), (new.id.clone(), true));
    let merged = store.get_contact(&old.id).await.expect("get").expect("exists");
    assert_eq!(merged, old.merged_with(&row));
    assert_eq!(merged.first_name.as_deref(), Some("Zoë"), "an empty field keeps the stored value");
    assert_eq!(merged.tags, vec!["vip", "2025", "imported"]);
    assert_eq!(merged.custom_fields.len(), 2);
    assert_eq!(merged.created_at, old.created_at);
    assert_eq!(store.get_contact(&new.id).await.expect("get"), Some(new));
}

/// The DNC list: add once, look up singly and in bulk, search, remove.
pub async fn dnc_add_find_list_remove(store: &dyn Store) {
    let entry = |n: &str, reason: &str, m: i64| DncEntry {
        phone: phone(n),
        reason: Some(reason.into()),
        source: "manual".into(),
        created_at: t0() + Duration::minutes(m),
    };
    let a = entry("+61491570101", "asked not to be called", 0);
    let b = entry("+61491570102", "Complaint (legal)", 1);
    assert!(store.add_dnc(&a).await.expect("add"));
    assert!(store.add_dnc(&b).await.expect("add"));
    assert!(!store.add_dnc(&entry("+61491570101", "again", 2)).await.expect("add twice"));
    assert_eq!(store.get_dnc(&a.phone).await.expect("get"), Some(a.clone()), "the first entry is kept");
    let among = store.dnc_among(&[a.phone.clone(), phone("+61491570103")]).await.expect("among");
    assert_eq!(among, vec![a.clone()]);
    let listed = store.list_dnc(None, page(0, 10)).await.expect("list");
    assert_eq!(listed.items, vec![b.clone(), a.clone()]);
    assert_eq!(store.list_dnc(Some("complaint"), page(0, 10)).await.expect("search").items, vec![b.clone()]);
    assert_eq!(store.list_dnc(Some("570101"), page(0, 10)).await.expect("search").items, vec![a.clone()]);
    assert!(store.remove_dnc(&a.phone).await.expect("remove"));
    assert!(!store.remove_dnc(&a.phone).await.expect("remove twice"));
    assert_eq!(store.get_dnc(&a.phone).await.expect("get"), None);
}
