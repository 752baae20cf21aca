//! `{{variable}}` templates (agent prompt, first message) filled from a contact.
//!
//! A contact offers `first_name`, `last_name`, `name`, `phone`, `email` and each custom field.
//! Names are matched after normalisation (lower case, every run of other characters than letters
//! and digits becomes `_`), so a CSV column "Company Name" is `{{company_name}}`, and
//! `{{ First Name }}` works too. An empty value counts as missing: a campaign does not start
//! while a contact lacks a variable its templates use (the API lists who lacks what), and a
//! contact added later without it is skipped, never called with a literal `{{x}}`.

use std::collections::BTreeMap;

use crate::contacts::model::Contact;

/// A variable name in its normalised form.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.trim().chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_owned()
}

/// A template split into literal text and variable references.
enum Piece<'a> {
    Text(&'a str),
    Var(String),
}

fn pieces(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push(Piece::Text(&rest[..open]));
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or_else(|| "a {{ is never closed with }}".to_owned())?;
        let name = normalize(&after[..close]);
        if name.is_empty() {
            return Err("an empty {{}} placeholder".into());
        }
        out.push(Piece::Var(name));
        rest = &after[close + 2..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

/// Checks a template's syntax; returns the (normalised, unique, sorted) variables it uses.
pub fn variables(template: &str) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = pieces(template)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Var(v) => Some(v),
            Piece::Text(_) => None,
        })
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// Fills a template. `Err` lists the variables `vars` lacks (or a syntax error).
pub fn render(template: &str, vars: &BTreeMap<String, String>) -> Result<String, Vec<String>> {
    let parts = pieces(template).map_err(|e| vec![e])?;
    let mut out = String::with_capacity(template.len());
    let mut missing = Vec::new();
    for p in parts {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Var(v) => match vars.get(&v) {
                Some(value) => out.push_str(value),
                None => missing.push(v),
            },
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        missing.sort();
        missing.dedup();
        Err(missing)
    }
}

/// The variables a contact offers (normalised names, non-empty values only).
pub fn contact_variables(c: &Contact) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) {
            vars.insert(normalize(k), v.to_owned());
        }
    };
    for (k, v) in &c.custom_fields {
        put(k, Some(v));
    }
    put("first_name", c.first_name.as_deref());
    put("last_name", c.last_name.as_deref());
    put("name", c.name.as_deref());
    put("email", c.email.as_deref());
    put("phone", Some(c.phone.as_str()));
    vars
}

/// The variables of `templates` that `vars` lacks.
pub fn missing(templates: &[&str], vars: &BTreeMap<String, String>) -> Vec<String> {
    let mut out: Vec<String> = templates
        .iter()
        .filter_map(|t| variables(t).ok())
        .flatten()
        .filter(|v| !vars.contains_key(v))
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn contact() -> Contact {
        let mut custom = BTreeMap::new();
        custom.insert("Company Name".to_owned(), "Acme".to_owned());
        custom.insert("plan".to_owned(), "  ".to_owned());
        Contact {
            id: common::ids::ContactId::new(),
            phone: common::phone::PhoneNumber::parse_e164("+61491570101").expect("phone"),
            first_name: Some("Zoë".into()),
            last_name: None,
            name: Some("Zoë Smith".into()),
            email: None,
            time_zone: None,
            tags: vec![],
            custom_fields: custom,
            notes: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn fills_from_fields_and_custom_fields() {
        let vars = contact_variables(&contact());
        let out = render("Hi {{first_name}} from {{ Company Name }}, call {{phone}}.", &vars);
        assert_eq!(out.as_deref(), Ok("Hi Zoë from Acme, call +61491570101."));
        assert_eq!(render("no placeholders", &vars).as_deref(), Ok("no placeholders"));
    }

    #[test]
    fn missing_and_empty_values_are_reported_not_rendered() {
        let vars = contact_variables(&contact());
        assert_eq!(render("{{plan}} {{email}} {{plan}}", &vars), Err(vec!["email".into(), "plan".into()]));
        assert_eq!(missing(&["{{last_name}}", "{{first_name}} {{x}}"], &vars), vec!["last_name", "x"]);
    }

    #[test]
    fn syntax_errors_are_caught() {
        assert!(variables("Hello {{name").is_err());
        assert!(variables("Hello {{ }}").is_err());
        assert_eq!(variables("{{B}} {{a}} {{ b }}").expect("ok"), vec!["a", "b"]);
        assert_eq!(normalize("  First--Name "), "first_name");
    }
}
