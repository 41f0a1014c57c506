//! An in-memory cloud for the executor's unit tests: resources become ready after a number of
//! polls, faults can be injected, and every mutating call is counted. (The AWS driver itself
//! is tested against the real emulator in slipway-aws.)

use super::model::*;
use serde_json::json;
use std::sync::Mutex;

#[derive(Default)]
pub struct FakeState {
    pub resources: Vec<(Observed, u32 /* polls left until ready */, String /* project */)>,
    pub mutating_calls: u32,
    pub calls: u32,
    pub next_id: u32,
    /// Every n-th call fails with a retryable error (0 = never).
    pub throttle_every: u32,
    /// Creating this logical id fails for good.
    pub fail_create: Option<String>,
    /// Creating this logical id is refused for a quota.
    pub quota_create: Option<String>,
    /// Polls a new resource stays "creating".
    pub polls_until_ready: u32,
    /// Order in which resources were created (logical ids), and the ready set at each create.
    pub created: Vec<String>,
    pub violations: Vec<String>,
    /// Logical ids whose create stopped half-way: listed, but `find` does not call them
    /// finished, and `create` finishes them.
    pub half_made: Vec<String>,
}

#[derive(Default)]
pub struct FakeCloud {
    pub state: Mutex<FakeState>,
}

impl FakeCloud {
    fn call(&self, mutating: bool) -> Result<std::sync::MutexGuard<'_, FakeState>, ProvisionError> {
        let mut st = self.state.lock().unwrap();
        st.calls += 1;
        if st.throttle_every > 0 && st.calls.is_multiple_of(st.throttle_every) {
            return Err(ProvisionError::Retryable("Throttling: Rate exceeded".into()));
        }
        if mutating {
            st.mutating_calls += 1;
        }
        Ok(st)
    }

    pub fn count(&self, project: &str, id: &str) -> usize {
        self.state.lock().unwrap().resources.iter().filter(|(o, _, p)| p == project && o.logical_id.as_deref() == Some(id)).count()
    }

    pub fn total(&self, project: &str) -> usize {
        self.state.lock().unwrap().resources.iter().filter(|(_, _, p)| p == project).count()
    }

    /// Adds a resource Slipway did not create (no tags).
    pub fn add_untagged(&self, kind: ResourceKind, physical_id: &str) {
        let o = Observed { kind, logical_id: None, physical_id: physical_id.into(), state: "available".into(), ready: true, failed: false, attrs: json!({}) };
        self.state.lock().unwrap().resources.push((o, 0, String::new()));
    }

    pub fn remove(&self, project: &str, id: &str) {
        self.state.lock().unwrap().resources.retain(|(o, _, p)| !(p == project && o.logical_id.as_deref() == Some(id)));
    }

    pub fn set_attr(&self, project: &str, id: &str, key: &str, v: serde_json::Value) {
        for (o, _, p) in self.state.lock().unwrap().resources.iter_mut() {
            if p == project && o.logical_id.as_deref() == Some(id) {
                o.attrs[key] = v.clone();
            }
        }
    }
}

fn attrs_of(spec: &ResourceSpec) -> serde_json::Value {
    let mut a = json!({});
    for k in ["cidr", "az", "instanceType", "instanceClass", "allocatedStorage", "engineVersion", "version", "desiredSize", "scanOnPush", "lifecyclePolicy"] {
        if !spec.props[k].is_null() {
            a[k] = spec.props[k].clone();
        }
    }
    a["arn"] = json!(format!("arn:fake:{}", spec.id));
    a
}

#[async_trait::async_trait]
impl CloudDriver for FakeCloud {
    async fn availability_zones(&self) -> Result<Vec<String>, ProvisionError> {
        let _guard = self.call(false)?;
        Ok(vec!["us-east-1a".into(), "us-east-1b".into(), "us-east-1c".into()])
    }

    async fn find(&self, project: &str, spec: &ResourceSpec) -> Result<Option<Observed>, ProvisionError> {
        let st = self.call(false)?;
        if st.half_made.contains(&spec.id) {
            return Ok(None);
        }
        Ok(st.resources.iter().find(|(o, _, p)| p == project && o.logical_id.as_deref() == Some(spec.id.as_str())).map(|(o, _, _)| o.clone()))
    }

    async fn create(&self, spec: &ResourceSpec, ctx: &CreateCtx<'_>) -> Result<Created, ProvisionError> {
        let mut st = self.call(true)?;
        if let Some(i) = st.half_made.iter().position(|h| h == &spec.id) {
            st.half_made.remove(i);
            let o = st.resources.iter().find(|(o, _, p)| p == ctx.project && o.logical_id.as_deref() == Some(spec.id.as_str())).map(|(o, _, _)| o.clone());
            if let Some(o) = o {
                return Ok(Created { observed: o, secret: None });
            }
        }
        if st.quota_create.as_deref() == Some(spec.id.as_str()) {
            return Err(ProvisionError::Quota {
                why: format!("{} {}: NatGatewayLimitExceeded: too many NAT gateways", spec.kind.label(), spec.name),
                fix: "Delete an unused NAT gateway, or ask for more".into(),
            });
        }
        if st.fail_create.as_deref() == Some(spec.id.as_str()) {
            return Err(ProvisionError::Fatal(format!("{} {}: InsufficientInstanceCapacity: no capacity", spec.kind.label(), spec.name)));
        }
        for d in &spec.depends_on {
            match ctx.deps.get(d) {
                Some(o) if o.ready => {}
                _ => st.violations.push(format!("{} created before {d} was ready", spec.id)),
            }
        }
        if spec.kind == ResourceKind::DbInstance && ctx.secret.is_none() {
            st.violations.push(format!("{} created without a password", spec.id));
        }
        st.next_id += 1;
        let polls = st.polls_until_ready;
        let o = Observed {
            kind: spec.kind,
            logical_id: Some(spec.id.clone()),
            physical_id: format!("{}-{:04}", spec.id, st.next_id),
            state: if polls == 0 { "available".into() } else { "creating".into() },
            ready: polls == 0,
            failed: false,
            attrs: attrs_of(spec),
        };
        st.created.push(spec.id.clone());
        st.resources.push((o.clone(), polls, ctx.project.to_string()));
        let secret = (spec.kind == ResourceKind::KeyPair).then(|| crate::secrets::Secret::new("-----BEGIN RSA PRIVATE KEY-----fake"));
        Ok(Created { observed: o, secret })
    }

    async fn update(&self, spec: &ResourceSpec, current: &Observed, _ctx: &CreateCtx<'_>) -> Result<Observed, ProvisionError> {
        let mut st = self.call(true)?;
        for (o, _, _) in st.resources.iter_mut() {
            if o.physical_id == current.physical_id {
                o.attrs = attrs_of(spec);
                return Ok(o.clone());
            }
        }
        Err(ProvisionError::Fatal("gone".into()))
    }

    async fn describe(&self, _kind: ResourceKind, physical_id: &str) -> Result<Option<Observed>, ProvisionError> {
        let mut st = self.call(false)?;
        let mut out = None;
        for (o, polls, _) in st.resources.iter_mut() {
            if o.physical_id == physical_id {
                if *polls > 0 {
                    *polls -= 1;
                }
                if *polls == 0 {
                    o.state = "available".into();
                    o.ready = true;
                }
                out = Some(o.clone());
            }
        }
        Ok(out)
    }

    async fn delete(&self, observed: &Observed) -> Result<(), ProvisionError> {
        let mut st = self.call(true)?;
        st.resources.retain(|(o, _, _)| o.physical_id != observed.physical_id);
        Ok(())
    }

    async fn list_tagged(&self, project: &str) -> Result<Vec<Observed>, ProvisionError> {
        let st = self.call(false)?;
        Ok(st.resources.iter().filter(|(o, _, p)| p == project && o.logical_id.is_some()).map(|(o, _, _)| o.clone()).collect())
    }
}
