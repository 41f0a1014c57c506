//! Plans: desired resources (the blueprint) against actual ones (found by tags), as create,
//! update, replace, delete or no change, each with its monthly cost.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::cost::{PriceSource, PriceTable};
use super::model::{Observed, ResourceKind, ResourceSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum Action {
    Create,
    Update,
    Replace,
    Delete,
    NoChange,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Change {
    pub id: String,
    pub kind: ResourceKind,
    pub name: String,
    pub action: Action,
    /// Why (for update, replace, delete): "instanceType t3.small -> t3.medium".
    pub reason: Option<String>,
    pub physical_id: Option<String>,
    /// Monthly cost after the change (0 for a delete); None when the type has no price.
    pub monthly_cost: Option<f64>,
    /// What the cost assumes, where it depends on use (NAT traffic, image storage).
    pub cost_note: Option<String>,
    pub expected_secs: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Plan {
    pub project: String,
    pub region: String,
    pub changes: Vec<Change>,
    pub monthly_total: f64,
    pub prices: PriceSource,
    /// The blueprint's opt-in parts (on or off) with their purpose, so the plan says why an
    /// optional resource is there and how to add one that is not.
    #[serde(default)]
    pub opt_ins: Vec<super::blueprint::OptIn>,
}

impl Plan {
    pub fn count(&self, a: Action) -> usize {
        self.changes.iter().filter(|c| c.action == a).count()
    }

    /// True when applying it would change nothing.
    pub fn is_empty(&self) -> bool {
        self.changes.iter().all(|c| c.action == Action::NoChange)
    }

    /// "3 to create, 1 to update, 0 to replace, 2 to delete, 15 unchanged".
    pub fn summary(&self) -> String {
        format!(
            "{} to create, {} to update, {} to replace, {} to delete, {} unchanged",
            self.count(Action::Create),
            self.count(Action::Update),
            self.count(Action::Replace),
            self.count(Action::Delete),
            self.count(Action::NoChange)
        )
    }
}

/// Which props a change to means an in-place update, and which a replace.
fn comparable(kind: ResourceKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        ResourceKind::Vpc => (&[], &["cidr"]),
        ResourceKind::Subnet => (&[], &["cidr", "az"]),
        ResourceKind::Instance => (&["instanceType"], &[]),
        ResourceKind::DbInstance => (&["instanceClass", "allocatedStorage", "engineVersion"], &[]),
        ResourceKind::EksCluster => (&["version"], &[]),
        ResourceKind::EksNodegroup => (&["desiredSize"], &["instanceType"]),
        ResourceKind::EcrRepository => (&["scanOnPush", "lifecyclePolicy"], &[]),
        _ => (&[], &[]),
    }
}

fn same(desired: &serde_json::Value, actual: &serde_json::Value) -> bool {
    if actual.is_null() {
        return true; // the cloud did not report it: nothing to compare
    }
    match (desired, actual) {
        (serde_json::Value::String(d), serde_json::Value::String(a)) => a == d || a.starts_with(&format!("{d}.")),
        (d, a) if d.is_number() && a.is_number() => d.as_f64() == a.as_f64(),
        (d, a) => d == a,
    }
}

fn show(v: &serde_json::Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

/// The differences of one resource, as "key actual -> desired" lines, for updates and replaces.
pub fn differences(spec: &ResourceSpec, obs: &Observed) -> (Vec<String>, Vec<String>) {
    let (upd, rep) = comparable(spec.kind);
    let diff = |keys: &[&str]| -> Vec<String> {
        keys.iter()
            .filter(|k| !same(&spec.props[**k], &obs.attrs[**k]))
            .map(|k| format!("{k} {} -> {}", show(&obs.attrs[*k]), show(&spec.props[*k])))
            .collect()
    };
    (diff(upd), diff(rep))
}

/// The plan for `specs` given what the cloud has.
pub fn diff(project: &str, region: &str, specs: &[ResourceSpec], actual: &[Observed], prices: &PriceTable) -> Plan {
    let mut changes = Vec::new();
    let mut claimed = std::collections::HashSet::new();
    for spec in specs {
        let found = actual.iter().find(|o| o.logical_id.as_deref() == Some(spec.id.as_str()) && o.kind == spec.kind && !o.failed);
        let (action, reason, physical_id) = match found {
            None => (Action::Create, None, None),
            Some(obs) => {
                claimed.insert(obs.physical_id.clone());
                let (upd, rep) = differences(spec, obs);
                if !rep.is_empty() {
                    (Action::Replace, Some(rep.join(", ")), Some(obs.physical_id.clone()))
                } else if !upd.is_empty() {
                    (Action::Update, Some(upd.join(", ")), Some(obs.physical_id.clone()))
                } else {
                    (Action::NoChange, None, Some(obs.physical_id.clone()))
                }
            }
        };
        changes.push(Change {
            id: spec.id.clone(),
            kind: spec.kind,
            name: spec.name.clone(),
            action,
            reason,
            physical_id,
            monthly_cost: prices.monthly(spec),
            cost_note: prices.note(spec),
            expected_secs: spec.expected_secs,
        });
    }
    for obs in actual.iter().filter(|o| !claimed.contains(&o.physical_id)) {
        let reason = match &obs.logical_id {
            Some(id) if specs.iter().any(|s| &s.id == id) => {
                if obs.failed {
                    format!("{} failed in the cloud ({})", id, obs.state)
                } else {
                    format!("a second copy of {id}")
                }
            }
            Some(id) => format!("{id} is no longer in the blueprint"),
            None => "tagged for this project without a resource id".into(),
        };
        changes.push(Change {
            id: obs.logical_id.clone().unwrap_or_else(|| obs.physical_id.clone()),
            kind: obs.kind,
            name: obs.physical_id.clone(),
            action: Action::Delete,
            reason: Some(reason),
            physical_id: Some(obs.physical_id.clone()),
            monthly_cost: Some(0.0),
            cost_note: None,
            expected_secs: 5,
        });
    }
    let monthly_total = changes.iter().filter(|c| c.action != Action::Delete).filter_map(|c| c.monthly_cost).sum();
    Plan { project: project.into(), region: region.into(), changes, monthly_total, prices: prices.source(region), opt_ins: vec![] }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::blueprint::Blueprint;
    use serde_json::json;

    fn observed(spec: &ResourceSpec, n: usize) -> Observed {
        let mut attrs = json!({});
        for k in ["cidr", "az", "instanceType", "instanceClass", "allocatedStorage", "version", "desiredSize", "scanOnPush", "lifecyclePolicy"] {
            if !spec.props[k].is_null() {
                attrs[k] = spec.props[k].clone();
            }
        }
        if spec.kind == ResourceKind::DbInstance {
            attrs["engineVersion"] = json!("8.0.35");
        }
        Observed { kind: spec.kind, logical_id: Some(spec.id.clone()), physical_id: format!("p-{n}"), state: "available".into(), ready: true, failed: false, attrs }
    }

    #[test]
    fn empty_account_creates_everything_and_a_matching_one_changes_nothing() {
        let b = Blueprint { ci_vm: true, test_vm: true, ..Blueprint::default() };
        let specs = b.resources();
        let t = PriceTable::bundled();
        let p = diff("slipway", "us-east-1", &specs, &[], &t);
        assert_eq!(p.count(Action::Create), specs.len());
        assert!(p.monthly_total > 200.0);
        let actual: Vec<_> = specs.iter().enumerate().map(|(i, s)| observed(s, i)).collect();
        let p = diff("slipway", "us-east-1", &specs, &actual, &t);
        assert!(p.is_empty(), "{}", p.summary());
    }

    #[test]
    fn updates_replaces_and_deletes_are_explained() {
        let specs = Blueprint { ci_vm: true, test_vm: true, ..Blueprint::default() }.resources();
        let mut actual: Vec<_> = specs.iter().enumerate().map(|(i, s)| observed(s, i)).collect();
        let t = PriceTable::bundled();
        actual.iter_mut().find(|o| o.logical_id.as_deref() == Some("nodes")).unwrap().attrs["desiredSize"] = json!(5);
        actual.iter_mut().find(|o| o.logical_id.as_deref() == Some("subnet-public-a")).unwrap().attrs["cidr"] = json!("10.20.50.0/24");
        let mut dup = actual[0].clone();
        dup.physical_id = "vpc-dup".into();
        actual.push(dup);
        actual.push(Observed { kind: ResourceKind::Instance, logical_id: Some("vm-old".into()), physical_id: "i-old".into(), state: "running".into(), ready: true, failed: false, attrs: json!({}) });
        let p = diff("slipway", "us-east-1", &specs, &actual, &t);
        let by = |id: &str| p.changes.iter().find(|c| c.id == id || c.physical_id.as_deref() == Some(id)).unwrap().clone();
        assert_eq!(by("nodes").action, Action::Update);
        assert_eq!(by("nodes").reason.as_deref(), Some("desiredSize 5 -> 2"));
        assert_eq!(by("subnet-public-a").action, Action::Replace);
        assert_eq!(by("vpc-dup").action, Action::Delete);
        assert_eq!(by("vpc-dup").reason.as_deref(), Some("a second copy of vpc"));
        assert_eq!(by("vm-old").reason.as_deref(), Some("vm-old is no longer in the blueprint"));
        assert_eq!(p.summary(), "0 to create, 1 to update, 1 to replace, 2 to delete, 20 unchanged");
    }
}
