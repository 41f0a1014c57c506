//! The work moves the board: what a plan, an apply, a pipeline run and a deploy mean for the
//! cards. Each function changes a [`BoardState`] (only when the board's automation is on) and
//! returns the keys of the cards it touched; every move it makes is recorded as by
//! `automation`, with a note saying why. The service layer calls these at the right moments and
//! never lets them fail the work itself.
//!
//! - A plan (and the start of an apply) makes an epic "Provision <project>" with one card per
//!   resource group (network, compute, databases, Kubernetes, IAM), linked to its resources.
//! - Apply moves a group's card to In progress when one of its resources starts changing, and
//!   to Done when every one of them is ready.
//! - A failed pipeline stage creates a Bug card linked to the run, or reopens the stage's card
//!   (back to To do) if it was done; a later run where that stage passes closes it.
//! - A deploy makes (or reuses) "Deploy <project> to <environment>", In progress while it rolls
//!   out, Done when the revision succeeded.

use std::collections::{HashMap, HashSet};

use super::model::*;
use crate::deploy::{DeployOperation, Revision, RevisionStatus};
use crate::pipeline::run::{Run, StageName, Status};
use crate::provision::executor::{Operation, Phase, ResourceProgress};
use crate::provision::plan::{Action, Plan};
use crate::provision::{ResourceKind, ResourceSpec};

/// The groups provisioning cards are made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceGroup {
    Network,
    Compute,
    Databases,
    Kubernetes,
    Iam,
}

impl ResourceGroup {
    pub const ALL: [ResourceGroup; 5] = [Self::Network, Self::Compute, Self::Databases, Self::Kubernetes, Self::Iam];

    pub fn of(kind: ResourceKind) -> Self {
        match kind {
            ResourceKind::Vpc
            | ResourceKind::InternetGateway
            | ResourceKind::Subnet
            | ResourceKind::RouteTable
            | ResourceKind::SecurityGroup
            | ResourceKind::ElasticIp
            | ResourceKind::NatGateway => Self::Network,
            ResourceKind::Instance | ResourceKind::KeyPair => Self::Compute,
            ResourceKind::DbSubnetGroup | ResourceKind::DbInstance => Self::Databases,
            ResourceKind::EksCluster | ResourceKind::EksNodegroup | ResourceKind::LaunchTemplate | ResourceKind::EcrRepository => Self::Kubernetes,
            ResourceKind::IamRole => Self::Iam,
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Self::Network => "network",
            Self::Compute => "compute",
            Self::Databases => "databases",
            Self::Kubernetes => "kubernetes",
            Self::Iam => "iam",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Network => "Network: VPC, subnets, routes, NAT and security groups",
            Self::Compute => "Compute: CI and test VMs",
            Self::Databases => "Databases: MySQL test and live",
            Self::Kubernetes => "Kubernetes: EKS cluster, node group and image repositories",
            Self::Iam => "IAM roles",
        }
    }
}

pub fn provision_epic_key(project: &str) -> String {
    format!("provision:{project}")
}

pub fn provision_card_key(project: &str, group: ResourceGroup) -> String {
    format!("provision:{project}:{}", group.id())
}

pub fn pipeline_card_key(project: &str, stage: StageName) -> String {
    format!("pipeline:{project}:{}", stage.as_str())
}

pub fn deploy_card_key(project: &str, environment: &str) -> String {
    format!("deploy:{project}:{environment}")
}

fn stage_title(stage: StageName) -> &'static str {
    match stage {
        StageName::Checkout => "Checkout",
        StageName::Build => "Build",
        StageName::Test => "Test",
        StageName::Push => "Push",
        StageName::Deploy => "Deploy",
    }
}

fn action_word(a: Action) -> &'static str {
    match a {
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Delete => "delete",
        Action::NoChange => "no change",
    }
}

impl BoardState {
    /// The card automation made with this key.
    pub fn automated_card(&self, automation_key: &str) -> Option<&Card> {
        self.cards.iter().find(|c| c.automation_key.as_deref() == Some(automation_key))
    }

    fn ensure_epic(&mut self, automation_key: &str, title: String, description: String, now: i64) -> String {
        if let Some(e) = self.epics.iter().find(|e| e.automation_key.as_deref() == Some(automation_key)) {
            return e.key.clone();
        }
        self.add_epic_as(EpicInput { title, description, color: None, done: false }, None, Some(automation_key.into()), Actor::Automation, now).expect("automation titles are valid")
    }

    /// The automation card with this key, made in the first column of `category` when missing.
    /// Returns its key and whether it was made now.
    fn ensure_card(&mut self, automation_key: &str, mut input: CardInput, category: ColumnCategory, note: &str, now: i64) -> (String, bool) {
        if let Some(c) = self.automated_card(automation_key) {
            return (c.key.clone(), false);
        }
        if input.epic.as_ref().is_some_and(|e| self.find_epic(e).is_none()) {
            input.epic = None;
        }
        input.column = self.first_column(category).map(|c| c.id.clone());
        let key = self.add_card_as(input, None, Some(automation_key.into()), Actor::Automation, Some(note.into()), now).expect("automation cards are valid");
        (key, true)
    }

    /// Moves a card to the first column of `category` unless it is in a column of that
    /// category already. True when it moved.
    pub fn automove(&mut self, key: &str, category: ColumnCategory, note: &str, now: i64) -> bool {
        let Some(card) = self.cards.iter().find(|c| c.key == key) else { return false };
        if self.category_of(&card.column) == Some(category) {
            return false;
        }
        let Some(to) = self.first_column(category).map(|c| c.id.clone()) else { return false };
        self.move_card_inner(key, &to, None, Actor::Automation, Some(note.into()), now, false).is_ok()
    }

    /// Adds a link unless the card has one to the same target. True when added.
    fn add_link(&mut self, key: &str, link: CardLink, now: i64) -> bool {
        let Some(c) = self.cards.iter_mut().find(|c| c.key == key) else { return false };
        if c.links.iter().any(|l| l.kind == link.kind && l.target == link.target) {
            return false;
        }
        c.links.push(link);
        c.updated_at = now;
        true
    }

    /// An automation epic is done when all its cards are.
    fn sync_epic(&mut self, automation_key: &str, now: i64) {
        let Some(i) = self.epics.iter().position(|e| e.automation_key.as_deref() == Some(automation_key)) else { return };
        let key = self.epics[i].key.clone();
        let cards: Vec<&Card> = self.cards.iter().filter(|c| c.epic.as_deref() == Some(key.as_str())).collect();
        let done = !cards.is_empty() && cards.iter().all(|c| self.is_done(c));
        if self.epics[i].done != done {
            self.epics[i].done = done;
            self.epics[i].updated_at = now;
        }
    }
}

/// Remembers touched keys in order, once each.
#[derive(Default)]
struct Touched(Vec<String>);

impl Touched {
    fn add(&mut self, k: &str) {
        if !self.0.iter().any(|x| x == k) {
            self.0.push(k.to_string());
        }
    }
}

/// After a plan (or, with no plan, when an apply starts): the provisioning epic and a card per
/// resource group of the blueprint. A new card of a group the plan leaves unchanged starts in
/// Done; a done card whose group the plan changes goes back to To do.
pub fn on_plan(s: &mut BoardState, project: &str, specs: &[ResourceSpec], plan: Option<&Plan>, now: i64) -> Vec<String> {
    let mut t = Touched::default();
    if !s.board.automation || specs.is_empty() {
        return t.0;
    }
    let epic = s.ensure_epic(
        &provision_epic_key(project),
        format!("Provision {project}"),
        format!("The AWS resources of the {project} blueprint, one card per group. Plan makes the cards; apply moves them as the resources come up."),
        now,
    );
    let action = |id: &str| plan.and_then(|p| p.changes.iter().find(|c| c.id == id)).map(|c| c.action);
    for group in ResourceGroup::ALL {
        let members: Vec<&ResourceSpec> = specs.iter().filter(|r| ResourceGroup::of(r.kind) == group).collect();
        if members.is_empty() {
            continue;
        }
        let changes: Vec<String> = members
            .iter()
            .filter_map(|r| action(&r.id).filter(|a| *a != Action::NoChange).map(|a| format!("{} {} ({})", action_word(a), r.name, r.kind.label())))
            .collect();
        let deleted = plan.map(|p| p.changes.iter().filter(|c| c.action == Action::Delete && ResourceGroup::of(c.kind) == group).count()).unwrap_or(0);
        let unchanged = plan.is_some() && changes.is_empty() && deleted == 0;
        let description = {
            let mut d = format!("Resources of this group in the {project} blueprint:\n\n");
            for r in &members {
                let a = action(&r.id).map(|a| format!(": {}", action_word(a))).unwrap_or_default();
                d.push_str(&format!("- {} `{}`{a}\n", r.kind.label(), r.name));
            }
            d
        };
        let links = members
            .iter()
            .map(|r| CardLink { kind: LinkKind::Resource, target: format!("{project}/{}", r.id), label: Some(format!("{} {}", r.kind.label(), r.name)) })
            .collect::<Vec<_>>();
        let input = CardInput { title: group.title().into(), description, kind: CardKind::Task, epic: Some(epic.clone()), links: links.clone(), ..Default::default() };
        let akey = provision_card_key(project, group);
        let (category, note) = if unchanged {
            (ColumnCategory::Done, format!("plan: the {} resources exist and need no change", members.len()))
        } else {
            (ColumnCategory::Todo, if plan.is_some() { format!("plan: {}", plural(changes.len() + deleted, "change")) } else { "apply started".into() })
        };
        let (key, made) = s.ensure_card(&akey, input, category, &note, now);
        if made {
            t.add(&key);
            continue;
        }
        for l in links {
            if s.add_link(&key, l, now) {
                t.add(&key);
            }
        }
        let done = s.find_card(&key).is_some_and(|c| s.is_done(c));
        if done && !unchanged && plan.is_some() && s.automove(&key, ColumnCategory::Todo, &format!("plan: {} again", plural(changes.len() + deleted, "change")), now) {
            t.add(&key);
        }
    }
    s.sync_epic(&provision_epic_key(project), now);
    t.0
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A move a group's card should make during an apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMove {
    pub group: ResourceGroup,
    pub to: ColumnCategory,
    pub note: String,
}

/// Follows an apply's `ResourceProgress` events and says when a group's card should move:
/// to In progress when one of its resources starts changing, to Done when all are ready.
#[derive(Debug, Clone)]
pub struct ApplyTracker {
    project: String,
    group_of: HashMap<String, ResourceGroup>,
    total: HashMap<ResourceGroup, usize>,
    ready: HashMap<ResourceGroup, HashSet<String>>,
    started: HashSet<ResourceGroup>,
    finished: HashSet<ResourceGroup>,
}

impl ApplyTracker {
    pub fn new(project: &str, specs: &[ResourceSpec]) -> Self {
        let group_of: HashMap<String, ResourceGroup> = specs.iter().map(|r| (r.id.clone(), ResourceGroup::of(r.kind))).collect();
        let mut total = HashMap::new();
        for g in group_of.values() {
            *total.entry(*g).or_insert(0) += 1;
        }
        Self { project: project.into(), group_of, total, ready: HashMap::new(), started: HashSet::new(), finished: HashSet::new() }
    }

    pub fn observe(&mut self, p: &ResourceProgress) -> Option<GroupMove> {
        if p.op != Operation::Apply || p.project != self.project {
            return None;
        }
        let group = *self.group_of.get(&p.id)?;
        match p.phase {
            Phase::Creating | Phase::Updating | Phase::Replacing | Phase::Waiting if self.started.insert(group) => {
                Some(GroupMove { group, to: ColumnCategory::InProgress, note: format!("apply: {} {} is {}", p.kind.label(), p.name, phase_word(p.phase)) })
            }
            Phase::Ready | Phase::Unchanged => {
                let ready = self.ready.entry(group).or_default();
                ready.insert(p.id.clone());
                let total = self.total[&group];
                (ready.len() == total && self.finished.insert(group))
                    .then(|| GroupMove { group, to: ColumnCategory::Done, note: format!("apply: {} ready", plural_of(total, "resource")) })
            }
            _ => None,
        }
    }

    /// After a successful apply: Done for every group not reported done yet (events a slow
    /// listener missed).
    pub fn finish(&mut self) -> Vec<GroupMove> {
        let mut groups: Vec<ResourceGroup> = self.total.keys().copied().filter(|g| !self.finished.contains(g)).collect();
        groups.sort();
        groups
            .into_iter()
            .map(|group| {
                self.finished.insert(group);
                GroupMove { group, to: ColumnCategory::Done, note: format!("apply: {} ready", plural_of(self.total[&group], "resource")) }
            })
            .collect()
    }
}

fn plural_of(n: usize, word: &str) -> String {
    if n == 1 {
        format!("the {word}")
    } else {
        format!("all {n} {word}s")
    }
}

fn phase_word(p: Phase) -> &'static str {
    match p {
        Phase::Creating => "being created",
        Phase::Updating => "being updated",
        Phase::Replacing => "being replaced",
        _ => "coming up",
    }
}

/// Moves a group's card (made first if a plan never ran).
pub fn on_group_move(s: &mut BoardState, project: &str, specs: &[ResourceSpec], mv: &GroupMove, now: i64) -> Vec<String> {
    if !s.board.automation {
        return vec![];
    }
    let mut t = Touched(on_plan(s, project, specs, None, now));
    if let Some(key) = s.automated_card(&provision_card_key(project, mv.group)).map(|c| c.key.clone()) {
        if s.automove(&key, mv.to, &mv.note, now) {
            t.add(&key);
        }
    }
    s.sync_epic(&provision_epic_key(project), now);
    t.0
}

/// After a pipeline run: a card per failed stage (made, or reopened when done), closed again by
/// a later run where the stage passes. With `local_deploy` (the run deployed to the local
/// engine, where no revision is recorded), a passed Deploy stage closes "Deploy <project> to
/// local" too.
pub fn on_run_finished(s: &mut BoardState, run: &Run, local_deploy: bool, now: i64) -> Vec<String> {
    let mut t = Touched::default();
    if !s.board.automation || !run.status.is_final() || run.status == Status::Cancelled {
        return t.0;
    }
    let run_link = CardLink { kind: LinkKind::Run, target: run.id.clone(), label: Some(format!("run {}", run.id)) };
    for stage in &run.stages {
        let akey = pipeline_card_key(&run.project, stage.name);
        match stage.status {
            Status::Failed => {
                let mut description = format!("The {} stage of project {} failed in run {}.\n", stage_title(stage.name), run.project, run.id);
                if let Some(e) = &stage.error {
                    description.push_str(&format!("\n**{}**: {}\n\nNext: {}\n", e.what, e.why, e.fix));
                }
                let input = CardInput {
                    title: format!("{} stage fails on {}", stage_title(stage.name), run.project),
                    description,
                    kind: CardKind::Bug,
                    labels: vec!["pipeline".into()],
                    links: vec![run_link.clone()],
                    ..Default::default()
                };
                let note = format!("{} failed in run {}", stage.name.as_str(), run.id);
                let (key, made) = s.ensure_card(&akey, input, ColumnCategory::Todo, &note, now);
                if made {
                    t.add(&key);
                    continue;
                }
                if s.add_link(&key, run_link.clone(), now) {
                    t.add(&key);
                }
                let done = s.find_card(&key).is_some_and(|c| s.is_done(c));
                if done && s.automove(&key, ColumnCategory::Todo, &format!("reopened: {note}"), now) {
                    t.add(&key);
                }
            }
            Status::Succeeded => {
                let Some(key) = s.automated_card(&akey).map(|c| c.key.clone()) else { continue };
                if s.find_card(&key).is_some_and(|c| s.is_done(c)) {
                    continue;
                }
                s.add_link(&key, run_link.clone(), now);
                if s.automove(&key, ColumnCategory::Done, &format!("{} passed in run {}", stage.name.as_str(), run.id), now) {
                    t.add(&key);
                }
            }
            _ => {}
        }
    }
    if local_deploy && run.stage(StageName::Deploy).status == Status::Succeeded {
        let mut links = vec![run_link];
        if let Some(u) = run.artifacts.url.as_ref().filter(|u| u.starts_with("http://") || u.starts_with("https://")) {
            links.push(CardLink { kind: LinkKind::Url, target: u.clone(), label: Some("the deployed app".into()) });
        }
        for k in deploy_done(s, &run.project, "local", links, &format!("deployed by run {}", run.id), now) {
            t.add(&k);
        }
    }
    t.0
}

pub fn secrets_card_key(project: &str) -> String {
    format!("secrets:{project}")
}

/// A project's detection found secrets committed in its repository: a card listing each (file
/// and line) in To do; once they are moved to the keychain (`moved`), the card goes to Done.
pub fn on_committed_secrets(s: &mut BoardState, project: &str, secrets: &[crate::pipeline::project::CommittedSecret], moved: bool, now: i64) -> Vec<String> {
    let mut t = Touched::default();
    if !s.board.automation {
        return t.0;
    }
    let akey = secrets_card_key(project);
    if moved {
        if let Some(key) = s.automated_card(&akey).map(|c| c.key.clone()) {
            if s.automove(&key, ColumnCategory::Done, "the committed secrets were moved to the keychain", now) {
                t.add(&key);
            }
        }
        return t.0;
    }
    if secrets.is_empty() {
        return t.0;
    }
    let mut description = format!("Detection found secrets committed in the repository of {project}:\n\n");
    for c in secrets {
        description.push_str(&format!("- {}\n", c.message()));
    }
    description.push_str("\nMove them to the keychain (`slipway env config move-secrets`, or the Project page), then remove them from the repository and rotate them.\n");
    let input = CardInput {
        title: format!("Move the secrets {project} commits to the keychain"),
        description,
        kind: CardKind::Bug,
        labels: vec!["security".into()],
        ..Default::default()
    };
    let note = format!("{} committed secret{} found", secrets.len(), if secrets.len() == 1 { "" } else { "s" });
    let (key, made) = s.ensure_card(&akey, input, ColumnCategory::Todo, &note, now);
    if made {
        t.add(&key);
    }
    t.0
}

fn deploy_input(project: &str, environment: &str, links: Vec<CardLink>) -> CardInput {
    CardInput {
        title: format!("Deploy {project} to {environment}"),
        description: format!("Deploys of project {project} to environment {environment}: moved to Done when a deploy succeeds."),
        kind: CardKind::Task,
        labels: vec!["deploy".into()],
        links,
        ..Default::default()
    }
}

fn deploy_done(s: &mut BoardState, project: &str, environment: &str, links: Vec<CardLink>, note: &str, now: i64) -> Vec<String> {
    let mut t = Touched::default();
    let (key, made) = s.ensure_card(&deploy_card_key(project, environment), deploy_input(project, environment, links.clone()), ColumnCategory::Done, note, now);
    t.add(&key);
    if !made {
        for l in links {
            s.add_link(&key, l, now);
        }
        s.automove(&key, ColumnCategory::Done, note, now);
    }
    t.0
}

/// A deploy revision began or ended: its environment's deploy card goes to In progress, then
/// to Done when the revision succeeded (redeploys and rollbacks move nothing).
pub fn on_revision(s: &mut BoardState, rev: &Revision, now: i64) -> Vec<String> {
    let mut t = Touched::default();
    if !s.board.automation || rev.operation != DeployOperation::Deploy {
        return t.0;
    }
    let mut links = vec![CardLink {
        kind: LinkKind::Revision,
        target: format!("{}/{}/{}", rev.project, rev.environment, rev.number),
        label: Some(format!("revision {} of {}", rev.number, rev.environment)),
    }];
    if let Some(r) = &rev.run {
        links.push(CardLink { kind: LinkKind::Run, target: r.clone(), label: Some(format!("run {r}")) });
    }
    let akey = deploy_card_key(&rev.project, &rev.environment);
    match rev.status {
        RevisionStatus::InProgress => {
            let note = format!("revision {} started", rev.number);
            let (key, made) = s.ensure_card(&akey, deploy_input(&rev.project, &rev.environment, links.clone()), ColumnCategory::InProgress, &note, now);
            t.add(&key);
            if !made {
                for l in links {
                    s.add_link(&key, l, now);
                }
                if s.find_card(&key).is_some_and(|c| s.category_of(&c.column) == Some(ColumnCategory::Todo)) {
                    s.automove(&key, ColumnCategory::InProgress, &note, now);
                }
            }
        }
        RevisionStatus::Succeeded => {
            if let Some(u) = rev.url.as_ref().filter(|u| u.starts_with("http://") || u.starts_with("https://")) {
                links.push(CardLink { kind: LinkKind::Url, target: u.clone(), label: Some("the deployed app".into()) });
            }
            let note = format!("revision {} succeeded", rev.number);
            return deploy_done(s, &rev.project, &rev.environment, links, &note, now);
        }
        RevisionStatus::Failed => {
            if let Some(key) = s.automated_card(&akey).map(|c| c.key.clone()) {
                for l in links {
                    s.add_link(&key, l, now);
                }
                t.add(&key);
            }
        }
    }
    t.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::run::Trigger;
    use crate::provision::plan::Change;
    use crate::provision::Blueprint;
    use crate::UserError;

    fn specs() -> Vec<ResourceSpec> {
        // With the opt-in VMs: every group of resources.
        Blueprint { project: "shop".into(), region: "us-east-1".into(), azs: vec!["us-east-1a".into(), "us-east-1b".into()], ci_vm: true, test_vm: true, ..Blueprint::default() }.resources()
    }

    fn plan(specs: &[ResourceSpec], action: impl Fn(&ResourceSpec) -> Action) -> Plan {
        Plan {
            project: "shop".into(),
            region: "us-east-1".into(),
            changes: specs
                .iter()
                .map(|r| Change { id: r.id.clone(), kind: r.kind, name: r.name.clone(), action: action(r), reason: None, physical_id: None, monthly_cost: None, cost_note: None, expected_secs: 1 })
                .collect(),
            monthly_total: 0.0,
            prices: crate::provision::cost::PriceTable::bundled().source("us-east-1"),
            opt_ins: vec![],
        }
    }

    fn progress(r: &ResourceSpec, phase: Phase) -> ResourceProgress {
        ResourceProgress {
            op: Operation::Apply,
            project: "shop".into(),
            id: r.id.clone(),
            kind: r.kind,
            name: r.name.clone(),
            phase,
            cloud_state: None,
            physical_id: None,
            elapsed_ms: 0,
            expected_ms: 0,
            done: 0,
            total: 0,
            error: None,
        }
    }

    fn column_of(s: &BoardState, akey: &str) -> String {
        s.automated_card(akey).unwrap().column.clone()
    }

    #[test]
    fn a_plan_makes_the_epic_and_a_card_per_group_and_apply_moves_them() {
        let specs = specs();
        let mut s = BoardState::new("shop", 1);
        let p = plan(&specs, |r| if r.kind == ResourceKind::IamRole { Action::NoChange } else { Action::Create });
        let touched = on_plan(&mut s, "shop", &specs, Some(&p), 10);
        assert_eq!(touched.len(), 5);
        assert_eq!(s.epics.len(), 1);
        assert_eq!(s.epics[0].title, "Provision shop");
        let net = s.automated_card(&provision_card_key("shop", ResourceGroup::Network)).unwrap();
        assert_eq!((net.column.as_str(), net.created_by, net.epic.as_deref()), ("todo", Actor::Automation, Some(s.epics[0].key.as_str())));
        assert!(net.links.iter().any(|l| l.kind == LinkKind::Resource && l.target == "shop/vpc"), "{:?}", net.links);
        assert!(net.description.contains("`shop-vpc`: create"), "{}", net.description);
        assert_eq!(column_of(&s, &provision_card_key("shop", ResourceGroup::Iam)), "done", "nothing to do for IAM");
        assert_eq!(s.moves.iter().find(|m| m.card == net.key).unwrap().note.as_deref(), Some("plan: 11 changes"));
        // The same plan again changes nothing.
        let before = s.clone();
        assert!(on_plan(&mut s, "shop", &specs, Some(&p), 11).is_empty());
        assert_eq!(s, before);

        let mut tr = ApplyTracker::new("shop", &specs);
        let mut moves = vec![];
        let db: Vec<&ResourceSpec> = specs.iter().filter(|r| ResourceGroup::of(r.kind) == ResourceGroup::Databases).collect();
        for r in &db {
            moves.extend(tr.observe(&progress(r, Phase::Pending)));
            moves.extend(tr.observe(&progress(r, Phase::Looking)));
            moves.extend(tr.observe(&progress(r, Phase::Creating)));
        }
        moves.extend(tr.observe(&ResourceProgress { project: "other".into(), ..progress(db[0], Phase::Creating) }));
        assert_eq!(moves.len(), 1, "{moves:?}");
        assert_eq!(moves[0].to, ColumnCategory::InProgress);
        for (i, r) in db.iter().enumerate() {
            let m = tr.observe(&progress(r, Phase::Ready));
            assert_eq!(m.is_some(), i == db.len() - 1);
            moves.extend(m);
        }
        assert_eq!(moves[1], GroupMove { group: ResourceGroup::Databases, to: ColumnCategory::Done, note: format!("apply: all {} resources ready", db.len()) });
        for m in &moves {
            on_group_move(&mut s, "shop", &specs, m, 20);
        }
        let dbkey = provision_card_key("shop", ResourceGroup::Databases);
        assert_eq!(column_of(&s, &dbkey), "done");
        let hist: Vec<(Option<&str>, Actor, Option<&str>)> =
            s.moves.iter().filter(|m| Some(&m.card) == s.automated_card(&dbkey).map(|c| &c.key)).map(|m| (m.to.as_deref(), m.by, m.note.as_deref())).collect();
        assert_eq!(hist[1], (Some("in-progress"), Actor::Automation, Some("apply: DB subnet group shop-db is being created")), "{hist:?}");
        assert_eq!(hist[2].0, Some("done"));
        let rest = tr.finish();
        assert_eq!(rest.iter().map(|m| m.group).collect::<Vec<_>>(), [ResourceGroup::Network, ResourceGroup::Compute, ResourceGroup::Kubernetes, ResourceGroup::Iam]);
        for m in &rest {
            on_group_move(&mut s, "shop", &specs, m, 30);
        }
        assert!(s.cards.iter().all(|c| c.column == "done"));
        assert!(s.epics[0].done, "the epic is done with its cards");

        // A later plan with changes reopens the group's card.
        let p = plan(&specs, |r| if r.kind == ResourceKind::EksNodegroup { Action::Update } else { Action::NoChange });
        let t = on_plan(&mut s, "shop", &specs, Some(&p), 40);
        assert_eq!(t.len(), 1);
        assert_eq!(column_of(&s, &provision_card_key("shop", ResourceGroup::Kubernetes)), "todo");
        assert!(!s.epics[0].done);
    }

    #[test]
    fn automation_off_moves_nothing() {
        let specs = specs();
        let mut s = BoardState::new("shop", 1);
        s.set_automation(false, 2);
        let before = s.clone();
        assert!(on_plan(&mut s, "shop", &specs, None, 3).is_empty());
        assert!(on_group_move(&mut s, "shop", &specs, &GroupMove { group: ResourceGroup::Network, to: ColumnCategory::Done, note: "x".into() }, 3).is_empty());
        let mut run = Run::new("shop", 1, Trigger::Manual, "main", None);
        run.status = Status::Failed;
        run.stage_mut(StageName::Test).status = Status::Failed;
        assert!(on_run_finished(&mut s, &run, true, 3).is_empty());
        assert_eq!(s, before);
    }

    fn finished_run(n: u32, failed: Option<StageName>) -> Run {
        let mut run = Run::new("shop", n, Trigger::Manual, "main", None);
        let mut failing = false;
        for st in &mut run.stages {
            st.status = if failing {
                Status::Skipped
            } else if Some(st.name) == failed {
                failing = true;
                st.error = Some(UserError::new("2 tests failed", "test_checkout failed", "Fix the tests"));
                Status::Failed
            } else {
                Status::Succeeded
            };
        }
        run.status = if failed.is_some() { Status::Failed } else { Status::Succeeded };
        run
    }

    #[test]
    fn a_failed_stage_makes_or_reopens_its_card_and_a_pass_closes_it() {
        let mut s = BoardState::new("shop", 1);
        let t = on_run_finished(&mut s, &finished_run(1, Some(StageName::Test)), false, 10);
        assert_eq!(t.len(), 1);
        let c = s.find_card(&t[0]).unwrap().clone();
        assert_eq!((c.kind, c.title.as_str(), c.column.as_str()), (CardKind::Bug, "Test stage fails on shop", "todo"));
        assert!(c.description.contains("**2 tests failed**: test_checkout failed"), "{}", c.description);
        assert_eq!(c.links, [CardLink { kind: LinkKind::Run, target: "shop-1".into(), label: Some("run shop-1".into()) }]);
        // A person works on it; it fails again: still theirs, one more link.
        s.move_card(&c.key, "in-progress", None, Actor::User, None, 11).unwrap();
        on_run_finished(&mut s, &finished_run(2, Some(StageName::Test)), false, 12);
        let c2 = s.find_card(&c.key).unwrap();
        assert_eq!((c2.column.as_str(), c2.links.len()), ("in-progress", 2));
        // It passes: done. It fails once more: reopened, back to To do.
        on_run_finished(&mut s, &finished_run(3, None), false, 13);
        assert_eq!(s.find_card(&c.key).unwrap().column, "done");
        assert_eq!(s.moves.last().unwrap().note.as_deref(), Some("test passed in run shop-3"));
        on_run_finished(&mut s, &finished_run(4, Some(StageName::Test)), false, 14);
        assert_eq!(s.find_card(&c.key).unwrap().column, "todo");
        let m = s.moves.last().unwrap();
        assert_eq!((m.by, m.note.as_deref()), (Actor::Automation, Some("reopened: test failed in run shop-4")));
        assert_eq!(s.cards.len(), 1, "one card per project and stage");
        // A cancelled run moves nothing; a local deploy closes the local deploy card.
        let mut cancelled = finished_run(5, Some(StageName::Build));
        cancelled.status = Status::Cancelled;
        assert!(on_run_finished(&mut s, &cancelled, false, 15).is_empty());
        let mut ok = finished_run(6, None);
        ok.artifacts.url = Some("http://127.0.0.1:8080".into());
        on_run_finished(&mut s, &ok, true, 16);
        let d = s.automated_card(&deploy_card_key("shop", "local")).unwrap();
        assert_eq!((d.title.as_str(), d.column.as_str(), d.links.len()), ("Deploy shop to local", "done", 2));
    }

    #[test]
    fn a_deploy_moves_its_card_through_to_done() {
        let mut s = BoardState::new("shop", 1);
        let mut rev = Revision {
            project: "shop".into(),
            environment: "staging".into(),
            number: 3,
            operation: DeployOperation::Deploy,
            run: Some("shop-9".into()),
            commit: None,
            rollback_to: None,
            reason: "run shop-9".into(),
            images: vec![],
            context: None,
            namespace: None,
            status: RevisionStatus::InProgress,
            started_at: 1,
            finished_at: None,
            error: None,
            url: None,
            note: None,
        };
        on_revision(&mut s, &rev, 10);
        let akey = deploy_card_key("shop", "staging");
        assert_eq!(column_of(&s, &akey), "in-progress");
        rev.status = RevisionStatus::Succeeded;
        rev.url = Some("http://shop.local".into());
        on_revision(&mut s, &rev, 20);
        let c = s.automated_card(&akey).unwrap();
        assert_eq!(c.column, "done");
        assert_eq!(c.links.iter().map(|l| l.kind).collect::<Vec<_>>(), [LinkKind::Revision, LinkKind::Run, LinkKind::Url]);
        assert_eq!(s.moves.last().unwrap().note.as_deref(), Some("revision 3 succeeded"));
        // The next deploy reuses the card; a redeploy moves nothing.
        rev.number = 4;
        rev.status = RevisionStatus::InProgress;
        on_revision(&mut s, &rev, 30);
        assert_eq!(column_of(&s, &akey), "done", "a done card stays done while the next deploy rolls out");
        rev.operation = DeployOperation::Redeploy;
        assert!(on_revision(&mut s, &rev, 40).is_empty());
        assert_eq!(s.cards.len(), 1);
    }
}
